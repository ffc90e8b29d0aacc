/* fuzz_parse.c - libFuzzer target: parse any bytes, then do what `check` and `show` do
 * with a file that parsed (self-verify, signed bytes, text and JSON walk, decrypt). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"
#include "verify.h"

static FILE *devnull;
static EVP_PKEY *phone_key;
static X509 *ccm_cert;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct ctl_err err;

	(void)argc, (void)argv;
	devnull = fopen("/dev/null", "w");
	phone_key = ctl_pkey_load(CTL_TEST_DATA "/vectors/phone.key", &err);
	ccm_cert = ctl_cert_load(CTL_TEST_DATA "/vectors/ccm.crt", &err);
	if (!devnull || !phone_key || !ccm_cert)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_err err = {0};
	struct ctl_file *f = NULL;
	struct ctl_buf b = {0};
	const uint8_t *body;
	size_t blen;

	if (ctl_parse(data, size, &f, &err)) {
		if (!err.msg[0] || err.code == CTL_OK)
			abort(); /* every failure must say why */
		return 0;
	}
	ctl_verify_self(f, &err);
	ctl_verify_cert(f, ccm_cert, &err);
	ctl_find_signer(f, -1);
	if (ctl_signed_bytes(f, &b, &err) == CTL_OK && b.len + f->hdr.sig_elem_len != size)
		abort();
	ctl_buf_clear(&b);
	ctl_body(f, &body, &blen);
	if (f->body_offset + blen != size)
		abort();
	show_text(devnull, "fuzz", f);
	json_object_put(show_json("fuzz", f));
	if (f->kind == CTL_KIND_ENC_SGN) {
		ctl_decrypt(f, phone_key, &b, &err);
		ctl_buf_clear(&b);
	}
	ctl_file_free(f);
	return 0;
}
