/* sgntool.c - test helper for the sign/encrypt integration tests, through the library:
 *   sgntool verify FILE CERT NAME [BODY_OUT]   signature, header file name, kind SGN
 *   sgntool decrypt FILE CERT DEVKEY OUT       verify, then decrypt with the device key
 *   sgntool hash FILE                          prints the header hash algorithm name
 *   sgntool nonsecure-ctl OUT                  a CTL (signed by sast1) whose servers carry no cert
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static int die(const struct ctl_err *e)
{
	fprintf(stderr, "sgntool: %s\n", e->msg);
	return e->code ? e->code : 1;
}

static int write_out(const char *path, const uint8_t *d, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(d, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "sgntool: cannot write %s\n", path);
		return 3;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ctl_file *f = NULL;
	struct ctl_err e = {0, ""};
	X509 *cert;

	if (argc >= 3 && !strcmp(argv[1], "hash")) {
		if (ctl_parse_file(argv[2], &f, &e))
			return die(&e);
		printf("%s %s\n", ctl_kind_name(f->kind), ctl_hash_name(f->hdr.hash_alg));
		ctl_file_free(f);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "nonsecure-ctl")) {
		struct ctl_record r[2];
		struct ctl_signer s;
		struct ctl_build_opts o = {CTL_HASH_SHA256, 0, "CTLFile.tlv", -1};
		struct ctl_buf out = {NULL, 0};
		X509 *sast = ctl_cert_load(argc > 3 ? argv[3] : "sast1.crt", &e);
		X509 *ccm = ctl_cert_load(argc > 4 ? argv[4] : "ccm.crt", &e);
		EVP_PKEY *k = ctl_pkey_load(argc > 5 ? argv[5] : "sast1.key", &e);
		if (!sast || !ccm || !k)
			return die(&e);
		memset(r, 0, sizeof(r));
		if (ctl_record_from_cert(sast, CTL_ROLE_SAST, NULL, NULL, true, &r[0], &e) ||
		    ctl_record_from_cert(ccm, CTL_ROLE_CCM_TFTP, NULL, NULL, false, &r[1], &e))
			return die(&e);
		ctl_signer_from_pkey(&s, k, sast);
		if (ctl_build_tlv(CTL_KIND_CTL, r, 2, &s, &o, &out, &e))
			return die(&e);
		return write_out(argv[2], out.data, out.len);
	}
	if (argc < 5 || (strcmp(argv[1], "verify") && strcmp(argv[1], "decrypt"))) {
		fprintf(stderr, "usage: see the comment in sgntool.c\n");
		return 2;
	}
	if (ctl_parse_file(argv[2], &f, &e))
		return die(&e);
	if (!(cert = ctl_cert_load(argv[3], &e)) || ctl_verify_cert(f, cert, &e))
		return die(&e);
	if (!strcmp(argv[1], "verify")) {
		const uint8_t *body;
		size_t n;
		if (f->kind != CTL_KIND_SGN) {
			fprintf(stderr, "sgntool: not a .sgn\n");
			return 4;
		}
		if (!f->hdr.file_name || strcmp(f->hdr.file_name, argv[4])) {
			fprintf(stderr, "sgntool: header file name %s, expected %s\n",
				f->hdr.file_name ? f->hdr.file_name : "(none)", argv[4]);
			return 9;
		}
		ctl_body(f, &body, &n);
		if (argc > 5)
			return write_out(argv[5], body, n);
		return 0;
	} else {
		EVP_PKEY *k = ctl_pkey_load(argv[4], &e);
		struct ctl_buf plain = {NULL, 0};
		if (argc < 6)
			return 2;
		if (!k || f->kind != CTL_KIND_ENC_SGN || ctl_decrypt(f, k, &plain, &e))
			return die(&e);
		return write_out(argv[5], plain.data, plain.len);
	}
}
