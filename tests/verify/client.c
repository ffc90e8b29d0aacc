/* client.c - a tiny CTI client built against the INSTALLED ctlverify.h / ctlverify.pc:
 * install the vector CTL, accept the vector config, refuse a peer certificate that is not
 * a CCM record and accept the CCM one. Exit 0 only if every decision is right. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctlverify.h>

static size_t slurp(const char *dir, const char *name, uint8_t *buf, size_t cap)
{
	char path[4096];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "rb");
	if (!fp) {
		perror(path);
		exit(1);
	}
	n = fread(buf, 1, cap, fp);
	fclose(fp);
	return n;
}

static int contains(const uint8_t *p, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++)
		if (!memcmp(p + i, needle, k))
			return 1;
	return 0;
}

#define CHECK(cond, what) do { if (!(cond)) { fprintf(stderr, "client: FAIL %s: %s\n", what, ctlv_last_error(s)); return 1; } } while (0)

int main(int argc, char **argv)
{
	static uint8_t buf[1 << 20];
	ctlv_store *s = NULL;
	uint8_t *out = NULL;
	size_t n, outlen = 0;
	int rc;

	if (argc != 3)
		return 2;
	rc = ctlv_store_open(argv[1], &s);
	CHECK(rc == CTLV_OK, "open store");
	CHECK(!ctlv_has_ctl(s), "new store holds nothing");
	n = slurp(argv[2], "CTLFile.tlv", buf, sizeof(buf));
	CHECK(ctlv_install(s, buf, n, CTLV_KIND_CTL) == CTLV_OK, "install CTL");
	CHECK(ctlv_has_ctl(s) && ctlv_held_records(s, CTLV_KIND_CTL) == 5, "CTL held");
	CHECK(strcmp(ctlv_held_trust(s, CTLV_KIND_CTL), "tofu") == 0, "trusted on first use");
	n = slurp(argv[2], "SEP001122334455.cnf.xml.sgn", buf, sizeof(buf));
	rc = ctlv_verify_file(s, buf, n, "SEP001122334455.cnf.xml.sgn", NULL, &out, &outlen);
	CHECK(rc == CTLV_OK && outlen > 0 && contains(out, outlen, "<device>"), "config accepted");
	ctlv_free(out, outlen);
	rc = ctlv_verify_file(s, buf, n, "SEP665544332211.cnf.xml.sgn", NULL, &out, &outlen);
	CHECK(rc == CTLV_E_POLICY && out == NULL, "config for another phone refused");
	/* Peer certificates: sast1.crt is listed, but as SAST, not CCM. */
	n = slurp(argv[2], "sast1.crt", buf, sizeof(buf));
	CHECK(ctlv_check_peer(s, buf, n, 0) != CTLV_OK, "PEM bytes are not the DER record");
	ctlv_store_free(s);
	/* Reopen: the store persisted. */
	rc = ctlv_store_open(argv[1], &s);
	CHECK(rc == CTLV_OK && ctlv_has_ctl(s), "store persisted");
	ctlv_store_free(s);
	puts("client: ok");
	return 0;
}
