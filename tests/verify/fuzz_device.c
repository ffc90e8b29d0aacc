/* fuzz_device.c - libFuzzer target for the device-side decisions (libctlverify): an
 * in-memory store holding the vector CTL and ITL is offered the input as a CTL/ITL
 * update, as a signed config (with a requested name), as an encrypted config (with the
 * phone key) and as a TLS peer certificate. Nothing may crash, leak or read out of
 * bounds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlverify.h"

static uint8_t *slurp(const char *name, size_t *len)
{
	char path[4096];
	static uint8_t buf[1 << 20];
	FILE *fp;
	uint8_t *p;

	snprintf(path, sizeof(path), "%s/vectors/%s", CTL_TEST_DATA, name);
	fp = fopen(path, "rb");
	if (!fp)
		abort();
	*len = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	p = malloc(*len);
	if (!p)
		abort();
	memcpy(p, buf, *len);
	return p;
}

static ctlv_store *fresh_store(void)
{
	static uint8_t *ctl, *itl;
	static size_t ctl_len, itl_len;
	ctlv_store *s = ctlv_store_new();

	if (!ctl) {
		ctl = slurp("CTLFile.tlv", &ctl_len);
		itl = slurp("ITLFile.tlv", &itl_len);
	}
	if (!s || ctlv_install(s, ctl, ctl_len, CTLV_KIND_CTL) != CTLV_OK ||
	    ctlv_install(s, itl, itl_len, CTLV_KIND_ITL) != CTLV_OK)
		abort();
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ctlv_store *s = fresh_store();
	uint8_t *out = NULL;
	size_t out_len = 0;

	ctlv_install(s, data, size, 0);
	if (ctlv_verify_file(s, data, size, "SEP001122334455.cnf.xml.sgn", NULL, &out, &out_len) == CTLV_OK)
		ctlv_free(out, out_len);
	if (ctlv_verify_file(s, data, size, "SEP001122334455.cnf.xml.enc.sgn",
			     CTL_TEST_DATA "/vectors/phone.key", &out, &out_len) == CTLV_OK)
		ctlv_free(out, out_len);
	ctlv_check_peer(s, data, size, 0);
	ctlv_store_free(s);
	return 0;
}
