/*
 * mkfixture - builds the device-side tests' files at test time from the vector keys, so
 * that no test binaries are committed. Linked with the ctl library (test helper only).
 *
 *   mkfixture tlv -K ctl|itl -k KEY -c CERT -o OUT [-H HASH] [-t TIME] [-n NAME] ROLE:CERT...
 *   mkfixture sgn -k KEY -c CERT -o OUT [-H HASH] [-t TIME] [-n NAME] INPUT
 *   mkfixture enc -k KEY -c CERT -T DEVICE-CERT -o OUT [-H HASH] [-t TIME] [-n NAME] INPUT
 *   mkfixture hugerec IN OUT     first record's length set to 0xffff (hostile CTL)
 *   mkfixture flip IN OUT OFFSET one byte at OFFSET (negative: from the end) inverted
 *   mkfixture expired KEY OUT CN self-signed certificate for KEY that expired yesterday
 *
 * TIME: seconds since the epoch, or +N / -N seconds from now (default now).
 * ROLE: sast ccm ccm+tftp tftp capf app-server tvs.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

static int die(const struct ctl_err *err)
{
	fprintf(stderr, "mkfixture: %s\n", err->msg);
	return err->code ? err->code : 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: mkfixture tlv|sgn|enc|hugerec|flip ... (see mkfixture.c)\n");
	return 2;
}

static uint32_t parse_time(const char *s)
{
	long long now = (long long)time(NULL);

	if (s[0] == '+' || s[0] == '-')
		return (uint32_t)(now + strtoll(s, NULL, 10));
	return (uint32_t)strtoull(s, NULL, 10);
}

static int cmd_patch(int argc, char **argv, int hugerec)
{
	struct ctl_buf b = {0};
	struct ctl_err err = {0};
	struct ctl_file *f = NULL;
	size_t off;
	int rc;

	if (argc != (hugerec ? 3 : 4))
		return usage();
	rc = ctl_read_file(argv[1], CTL_MAX_FILE_SIZE, &b, &err);
	if (rc)
		return die(&err);
	if (hugerec) {
		rc = ctl_parse(b.data, b.len, &f, &err);
		if (rc)
			return die(&err);
		if (!f->nrecords) {
			fprintf(stderr, "mkfixture: %s has no records\n", argv[1]);
			return 1;
		}
		off = f->records[0].offset + 3; /* 01 00 02 <u16 record length> */
		ctl_file_free(f);
		if (off + 2 > b.len)
			return 1;
		b.data[off] = 0xff;
		b.data[off + 1] = 0xff;
	} else {
		long long o = strtoll(argv[3], NULL, 10);

		off = o < 0 ? (size_t)((long long)b.len + o) : (size_t)o;
		if (off >= b.len)
			return 1;
		b.data[off] ^= 0xff;
	}
	rc = ctl_write_atomic(argv[2], b.data, b.len, 0644, &err);
	ctl_buf_clear(&b);
	return rc ? die(&err) : 0;
}

static int cmd_expired(int argc, char **argv)
{
	struct ctl_err err = {0};
	EVP_PKEY *key;
	X509 *x;
	X509_NAME *name;
	unsigned char *der = NULL;
	int len, rc;

	if (argc != 4)
		return usage();
	key = ctl_pkey_load(argv[1], &err);
	if (!key)
		return die(&err);
	x = X509_new();
	name = X509_NAME_new();
	if (!x || !name || !X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), 4242) ||
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Test", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)argv[3], -1, -1, 0) ||
	    !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -2L * 86400) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), -1L * 86400) || !X509_set_pubkey(x, key) ||
	    !X509_sign(x, key, EVP_sha256()) || (len = i2d_X509(x, &der)) <= 0) {
		fprintf(stderr, "mkfixture: cannot make the expired certificate\n");
		return 1;
	}
	rc = ctl_write_atomic(argv[2], der, (size_t)len, 0644, &err);
	OPENSSL_free(der);
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc ? die(&err) : 0;
}

int main(int argc, char **argv)
{
	const char *mode, *keyp = NULL, *certp = NULL, *out = NULL, *to = NULL;
	struct ctl_build_opts opts = {.hash_alg = CTL_HASH_SHA256, .signer_version_minor = -1};
	struct ctl_err err = {0};
	struct ctl_buf res = {0}, in = {0};
	struct ctl_signer signer;
	EVP_PKEY *key;
	X509 *cert;
	int c, rc, kind = CTL_KIND_CTL;

	if (argc < 2)
		return usage();
	mode = argv[1];
	if (!strcmp(mode, "hugerec"))
		return cmd_patch(argc - 1, argv + 1, 1);
	if (!strcmp(mode, "flip"))
		return cmd_patch(argc - 1, argv + 1, 0);
	if (!strcmp(mode, "expired"))
		return cmd_expired(argc - 1, argv + 1);
	optind = 2;
	while ((c = getopt(argc, argv, "K:k:c:o:H:t:n:T:")) != -1) {
		switch (c) {
		case 'K': kind = !strcmp(optarg, "itl") ? CTL_KIND_ITL : CTL_KIND_CTL; break;
		case 'k': keyp = optarg; break;
		case 'c': certp = optarg; break;
		case 'o': out = optarg; break;
		case 'H': opts.hash_alg = ctl_hash_from_name(optarg); break;
		case 't': opts.timestamp = parse_time(optarg); break;
		case 'n': opts.file_name = optarg; break;
		case 'T': to = optarg; break;
		default: return usage();
		}
	}
	if (!keyp || !certp || !out || !opts.hash_alg)
		return usage();
	key = ctl_pkey_load(keyp, &err);
	cert = key ? ctl_cert_load(certp, &err) : NULL;
	if (!cert)
		return die(&err);
	ctl_signer_from_pkey(&signer, key, cert);

	if (!strcmp(mode, "tlv")) {
		size_t n = (size_t)(argc - optind);
		struct ctl_record *recs = calloc(n ? n : 1, sizeof(*recs));

		if (!opts.file_name)
			opts.file_name = kind == CTL_KIND_ITL ? "ITLFile.tlv" : "CTLFile.tlv";
		for (size_t i = 0; i < n; i++) {
			char *spec = argv[optind + i], *colon = strchr(spec, ':');
			X509 *rc_cert;
			int role;

			if (!colon)
				return usage();
			*colon = 0;
			role = ctl_role_from_name(spec);
			rc_cert = role >= 0 ? ctl_cert_load(colon + 1, &err) : NULL;
			if (!rc_cert)
				return role < 0 ? usage() : die(&err);
			if (ctl_record_from_cert(rc_cert, role, NULL, NULL, true, &recs[i], &err))
				return die(&err);
			X509_free(rc_cert);
		}
		rc = ctl_build_tlv(kind, recs, n, &signer, &opts, &res, &err);
		for (size_t i = 0; i < n; i++)
			ctl_record_clear(&recs[i]);
		free(recs);
	} else if (!strcmp(mode, "sgn") || !strcmp(mode, "enc")) {
		if (optind != argc - 1)
			return usage();
		rc = ctl_read_file(argv[optind], CTL_MAX_FILE_SIZE, &in, &err);
		if (rc)
			return die(&err);
		if (!strcmp(mode, "sgn")) {
			rc = ctl_build_sgn(in.data, in.len, &signer, &opts, &res, &err);
		} else {
			X509 *dev = to ? ctl_cert_load(to, &err) : NULL;

			if (!dev)
				return to ? die(&err) : usage();
			rc = ctl_build_enc_sgn(in.data, in.len, dev, &signer, &opts, &res, &err);
			X509_free(dev);
		}
		ctl_buf_clear(&in);
	} else {
		return usage();
	}
	if (rc)
		return die(&err);
	rc = ctl_write_atomic(out, res.data, res.len, 0644, &err);
	ctl_buf_clear(&res);
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc ? die(&err) : 0;
}
