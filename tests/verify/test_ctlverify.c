/* test_ctlverify.c - libctlverify's API on in-memory stores and the interop vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl.h"
#include "ctlverify.h"

#define VEC CTL_TEST_DATA "/vectors/"

static struct ctl_buf vec(const char *name)
{
	struct ctl_buf b = {0};
	struct ctl_err err = {0};
	char path[512];

	snprintf(path, sizeof(path), VEC "%s", name);
	assert_int_equal(ctl_read_file(path, CTL_MAX_FILE_SIZE, &b, &err), CTL_OK);
	return b;
}

static int install_vec(ctlv_store *s, const char *name, int kind)
{
	struct ctl_buf b = vec(name);
	int rc = ctlv_install(s, b.data, b.len, kind);

	ctl_buf_clear(&b);
	return rc;
}

static struct ctl_buf cert_der(const char *name)
{
	struct ctl_buf b = {0};
	struct ctl_err err = {0};
	char path[512];
	unsigned char *der = NULL;
	X509 *x;
	int len;

	snprintf(path, sizeof(path), VEC "%s", name);
	x = ctl_cert_load(path, &err);
	assert_non_null(x);
	len = i2d_X509(x, &der);
	assert_true(len > 0);
	assert_true(ctl_buf_set(&b, der, (size_t)len));
	OPENSSL_free(der);
	X509_free(x);
	return b;
}

static char *fingerprint(const char *name, int alg)
{
	struct ctl_err err = {0};
	char path[512];
	X509 *x;
	char *fp;

	snprintf(path, sizeof(path), VEC "%s", name);
	x = ctl_cert_load(path, &err);
	assert_non_null(x);
	fp = ctl_cert_fingerprint(x, alg);
	X509_free(x);
	assert_non_null(fp);
	return fp;
}

static void test_expect_sast_syntax(void **state)
{
	ctlv_store *s = ctlv_store_new();
	char *fp = fingerprint("sast1.crt", CTL_HASH_SHA256);
	char colons[200] = "";

	(void)state;
	for (size_t i = 0; fp[i]; i += 2) {
		strncat(colons, fp + i, 2);
		if (fp[i + 2])
			strcat(colons, ":");
	}
	assert_int_equal(ctlv_expect_sast(s, colons), CTLV_OK);
	assert_int_equal(ctlv_expect_sast(s, "0123456789abcdef0123456789ABCDEF01234567"), CTLV_OK);
	assert_int_equal(ctlv_expect_sast(s, "12:34"), CTLV_E_USAGE);
	assert_non_null(strstr(ctlv_last_error(s), "hex digits"));
	assert_int_equal(ctlv_expect_sast(s, "zz23456789abcdef0123456789abcdef01234567"), CTLV_E_USAGE);
	assert_int_equal(ctlv_expect_sast(s, NULL), CTLV_E_USAGE);
	free(fp);
	ctlv_store_free(s);
}

static void test_tofu_then_update(void **state)
{
	ctlv_store *s = ctlv_store_new();

	(void)state;
	assert_false(ctlv_has_ctl(s));
	assert_int_equal(install_vec(s, "CTLFile.tlv", CTLV_KIND_CTL), CTLV_OK);
	assert_true(ctlv_has_ctl(s));
	assert_string_equal(ctlv_held_trust(s, CTLV_KIND_CTL), "tofu");
	assert_non_null(strstr(ctlv_last_warning(s), "TRUSTED ON FIRST USE"));
	assert_int_equal(ctlv_last_kind(s), CTLV_KIND_CTL);
	assert_int_equal(ctlv_held_records(s, CTLV_KIND_CTL), 5);
	assert_string_equal(ctlv_held_record_role(s, CTLV_KIND_CTL, 2), "CCM+TFTP");
	assert_null(ctlv_held_record_role(s, CTLV_KIND_CTL, 5));
	/* the same file again: accepted, unchanged */
	assert_int_equal(install_vec(s, "CTLFile.tlv", 0), CTLV_OK);
	assert_non_null(strstr(ctlv_last_note(s), "unchanged"));
	/* a CTL where an ITL is expected */
	assert_int_equal(install_vec(s, "CTLFile.tlv", CTLV_KIND_ITL), CTLV_E_POLICY);
	/* the update vector is signed by sast2, a SAST of the held CTL */
	assert_int_equal(install_vec(s, "CTLFile-sha512.tlv", CTLV_KIND_CTL), CTLV_OK);
	assert_string_equal(ctlv_held_trust(s, CTLV_KIND_CTL), "signed-by-held-sast");
	assert_int_equal(strncmp(ctlv_held_signer(s, CTLV_KIND_CTL), "CN=SAST-ADN0002", 15), 0);
	assert_int_equal(ctlv_held_records(s, CTLV_KIND_CTL), 4);
	/* not a CTL at all */
	assert_int_equal(install_vec(s, "SEP001122334455.cnf.xml.sgn", 0), CTLV_E_POLICY);
	assert_int_equal(ctlv_install(s, (const uint8_t *)"\x01\x00", 2, 0), CTLV_E_MALFORMED);
	ctlv_store_free(s);
}

static void test_pinned(void **state)
{
	ctlv_store *s = ctlv_store_new();
	char *fp2 = fingerprint("sast2.crt", CTL_HASH_SHA256);
	char *fp1 = fingerprint("sast1.crt", CTL_HASH_SHA1);

	(void)state;
	assert_int_equal(ctlv_expect_sast(s, fp2), CTLV_OK);
	assert_int_equal(install_vec(s, "CTLFile.tlv", 0), CTLV_E_POLICY);
	assert_false(ctlv_has_ctl(s));
	assert_int_equal(ctlv_expect_sast(s, fp1), CTLV_OK);
	assert_int_equal(install_vec(s, "CTLFile.tlv", 0), CTLV_OK);
	assert_string_equal(ctlv_held_trust(s, CTLV_KIND_CTL), "pinned");
	assert_string_equal(ctlv_last_warning(s), "");
	free(fp1);
	free(fp2);
	ctlv_store_free(s);
}

static void test_signed_files(void **state)
{
	ctlv_store *s = ctlv_store_new();
	struct ctl_buf sgn = vec("SEP001122334455.cnf.xml.sgn");
	struct ctl_buf enc = vec("enc/SEP001122334455.cnf.xml.enc.sgn");
	struct ctl_buf plain = vec("SEP001122334455.cnf.xml");
	uint8_t *out = (uint8_t *)"x";
	size_t n = 1;

	(void)state;
	/* no CTL/ITL: nothing can be trusted */
	assert_int_equal(ctlv_verify_file(s, sgn.data, sgn.len, NULL, NULL, &out, &n), CTLV_E_POLICY);
	assert_null(out);
	assert_int_equal(install_vec(s, "CTLFile.tlv", 0), CTLV_OK);
	assert_int_equal(ctlv_verify_file(s, sgn.data, sgn.len, "SEP001122334455.cnf.xml.sgn", NULL, &out, &n), CTLV_OK);
	assert_int_equal(n, plain.len);
	assert_memory_equal(out, plain.data, n);
	assert_non_null(strstr(ctlv_last_signer(s), "cucm1"));
	ctlv_free(out, n);
	assert_int_equal(ctlv_verify_file(s, sgn.data, sgn.len, "SEPAABBCCDDEEFF.cnf.xml.sgn", NULL, &out, &n), CTLV_E_POLICY);
	assert_null(out);
	/* encrypted: key required, then verified and decrypted */
	assert_int_equal(ctlv_verify_file(s, enc.data, enc.len, NULL, NULL, &out, &n), CTLV_E_USAGE);
	assert_int_equal(ctlv_verify_file(s, enc.data, enc.len, "SEP001122334455.cnf.xml.enc.sgn", VEC "phone.key", &out, &n), CTLV_OK);
	assert_int_equal(n, plain.len);
	assert_memory_equal(out, plain.data, n);
	ctlv_free(out, n);
	assert_int_equal(ctlv_verify_file(s, enc.data, enc.len, NULL, VEC "sast1.key", &out, &n), CTLV_E_DECRYPT);
	assert_null(out);
	/* a damaged signature */
	sgn.data[200] ^= 1;
	assert_int_equal(ctlv_verify_file(s, sgn.data, sgn.len, NULL, NULL, &out, &n), CTLV_E_SIGNATURE);
	/* storeless decrypt: right signer, wrong signer, none */
	assert_int_equal(ctlv_decrypt_file(s, enc.data, enc.len, VEC "ccm.crt", VEC "phone.key", &out, &n), CTLV_OK);
	ctlv_free(out, n);
	assert_int_equal(ctlv_decrypt_file(s, enc.data, enc.len, VEC "sast1.crt", VEC "phone.key", &out, &n), CTLV_E_SIGNATURE);
	assert_null(out);
	assert_int_equal(ctlv_decrypt_file(s, enc.data, enc.len, NULL, VEC "phone.key", &out, &n), CTLV_OK);
	assert_non_null(strstr(ctlv_last_warning(s), "not verified"));
	ctlv_free(out, n);
	ctl_buf_clear(&sgn);
	ctl_buf_clear(&enc);
	ctl_buf_clear(&plain);
	ctlv_store_free(s);
}

static void test_itl(void **state)
{
	ctlv_store *s = ctlv_store_new();

	(void)state;
	assert_int_equal(install_vec(s, "ITLFile.tlv", CTLV_KIND_ITL), CTLV_OK);
	assert_string_equal(ctlv_held_trust(s, CTLV_KIND_ITL), "first-sight");
	assert_false(ctlv_has_ctl(s));
	/* the ITL's CCM+TFTP record makes the config trusted */
	{
		struct ctl_buf sgn = vec("SEP001122334455.cnf.xml.sgn");
		uint8_t *out;
		size_t n;

		assert_int_equal(ctlv_verify_file(s, sgn.data, sgn.len, NULL, NULL, &out, &n), CTLV_OK);
		assert_non_null(strstr(ctlv_last_note(s), "ITL"));
		ctlv_free(out, n);
		ctl_buf_clear(&sgn);
	}
	ctlv_store_free(s);
	s = ctlv_store_new();
	assert_int_equal(install_vec(s, "CTLFile.tlv", 0), CTLV_OK);
	assert_int_equal(install_vec(s, "ITLFile.tlv", 0), CTLV_OK);
	assert_string_equal(ctlv_held_trust(s, CTLV_KIND_ITL), "signed-by-ctl");
	ctlv_store_free(s);
}

static void test_peer(void **state)
{
	ctlv_store *s = ctlv_store_new();
	struct ctl_buf ccm = cert_der("ccm.crt"), sast = cert_der("sast1.crt");
	struct ctl_buf phone = cert_der("phone.crt");

	(void)state;
	assert_int_equal(ctlv_check_peer(s, ccm.data, ccm.len, 0), CTLV_E_POLICY);
	assert_non_null(strstr(ctlv_last_error(s), "must not connect"));
	assert_int_equal(install_vec(s, "CTLFile.tlv", 0), CTLV_OK);
	assert_int_equal(ctlv_check_peer(s, ccm.data, ccm.len, 0), CTLV_OK);
	assert_int_equal(ctlv_check_peer(s, sast.data, sast.len, 0), CTLV_E_POLICY);
	assert_int_equal(ctlv_check_peer(s, phone.data, phone.len, 0), CTLV_E_SIGNER);
	/* one byte different: not the listed certificate */
	ccm.data[ccm.len - 1] ^= 1;
	assert_int_equal(ctlv_check_peer(s, ccm.data, ccm.len, 0), CTLV_E_SIGNER);
	assert_int_equal(ctlv_check_peer(s, ccm.data, 0, 0), CTLV_E_SIGNER);
	ctl_buf_clear(&ccm);
	ctl_buf_clear(&sast);
	ctl_buf_clear(&phone);
	ctlv_store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expect_sast_syntax),
		cmocka_unit_test(test_tofu_then_update),
		cmocka_unit_test(test_pinned),
		cmocka_unit_test(test_signed_files),
		cmocka_unit_test(test_itl),
		cmocka_unit_test(test_peer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
