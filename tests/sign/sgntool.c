/* sgntool.c - test helper for the sign/encrypt integration tests, for what the real
 * verifier (ctlverify) cannot do:
 *   sgntool nonsecure-ctl OUT SAST_CERT CCM_CERT SAST_KEY
 *       a CTL (signed by the SAST) whose server record carries no certificate
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
	struct ctl_err e = {0, ""};

	if (argc == 6 && !strcmp(argv[1], "nonsecure-ctl")) {
		struct ctl_record r[2];
		struct ctl_signer s;
		struct ctl_build_opts o = {CTL_HASH_SHA256, 0, "CTLFile.tlv", -1};
		struct ctl_buf out = {NULL, 0};
		X509 *sast = ctl_cert_load(argv[3], &e);
		X509 *ccm = ctl_cert_load(argv[4], &e);
		EVP_PKEY *k = ctl_pkey_load(argv[5], &e);
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
	fprintf(stderr, "usage: sgntool nonsecure-ctl OUT SAST_CERT CCM_CERT SAST_KEY\n");
	return 2;
}
