/* test_realfiles.c - files laid out as real clusters and vendor TFTP directories lay them
 * out (tests/data/vendor, made by tests/tools/gen_vendor.py): records that leave fields
 * out, and signed firmware (header version 1.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl.h"

#define D CTL_TEST_DATA "/vendor/"
#define V CTL_TEST_DATA "/vectors/"

static struct ctl_file *parse_ok(const char *path)
{
	struct ctl_err err = {0};
	struct ctl_file *f = NULL;

	if (ctl_parse_file(path, &f, &err))
		fail_msg("%s: %s", path, err.msg);
	assert_non_null(f);
	return f;
}

static X509 *cert(const char *path)
{
	struct ctl_err err = {0};
	X509 *x = ctl_cert_load(path, &err);

	if (!x)
		fail_msg("%s", err.msg);
	return x;
}

static void test_sast_empty_dns(void **state)
{
	struct ctl_file *f = parse_ok(D "ctl-sast-empty-dns.tlv");
	struct ctl_err err = {0};

	(void)state;
	assert_int_equal(f->kind, CTL_KIND_CTL);
	assert_false(f->hdr.has_signer_version);
	assert_true(f->hdr.has_timestamp);
	assert_int_equal(f->nrecords, 4);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(f->records[i].role, CTL_ROLE_SAST);
		assert_non_null(f->records[i].dns_name); /* one NUL byte: empty, not absent */
		assert_string_equal(f->records[i].dns_name, "");
		assert_int_equal(f->records[i].cert_sig.len, 0); /* no tag 8 */
		assert_true(f->records[i].cert.len > 0);
	}
	assert_string_equal(f->records[2].dns_name, "cucm1.example.com");
	assert_int_equal(ctl_verify_self(f, &err), CTL_OK);
	assert_ptr_equal(ctl_find_signer(f, CTL_ROLE_SAST), &f->records[0]);
	ctl_file_free(f);
}

static void test_nonsecure_records(void **state)
{
	struct ctl_file *f = parse_ok(D "ctl-nonsecure.tlv");
	const struct ctl_record *r;
	struct ctl_err err = {0};
	static const uint8_t ip[4] = {10, 0, 0, 12};

	(void)state;
	assert_int_equal(f->nrecords, 4);
	r = &f->records[2];
	assert_int_equal(f->records[3].offset - r->offset, 33);
	assert_int_equal(r->role, CTL_ROLE_CCM_TFTP);
	assert_string_equal(r->dns_name, "cucm-pub-001");
	assert_true(r->has_ip);
	assert_memory_equal(r->ip, ip, 4);
	assert_null(r->subject);
	assert_null(r->issuer);
	assert_int_equal(r->serial.len, 0);
	assert_int_equal(r->pubkey.len, 0);
	assert_int_equal(r->cert.len, 0);
	assert_null(ctl_record_x509(r, NULL));
	assert_int_equal(ctl_verify_self(f, &err), CTL_OK);
	assert_ptr_equal(ctl_find_signer(f, -1), &f->records[1]);
	ctl_file_free(f);
}

/* A record that names the signer but carries no certificate is never the signer. */
static void test_certless_record_never_signer(void **state)
{
	struct ctl_file *f = parse_ok(D "ctl-certless-sast-first.tlv");
	struct ctl_err err = {0};

	(void)state;
	assert_int_equal(f->records[0].role, CTL_ROLE_SAST);
	assert_int_equal(f->records[0].cert.len, 0);
	assert_non_null(f->records[0].issuer);
	assert_ptr_equal(ctl_find_signer(f, CTL_ROLE_SAST), &f->records[1]);
	assert_ptr_equal(ctl_find_signer(f, -1), &f->records[1]);
	assert_int_equal(ctl_verify_self(f, &err), CTL_OK);
	ctl_file_free(f);
}

static void test_firmware(void **state)
{
	static const char *files[] = {"SIP-example.loads", "cp-example.sbn",
				      "term-example.zz.sgn"};
	X509 *fw = cert(D "firmware.crt"), *ccm = cert(V "ccm.crt");

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[512];
		struct ctl_file *f;
		struct ctl_err err = {0};
		const uint8_t *body;
		size_t blen;

		snprintf(path, sizeof(path), D "%s", files[i]);
		f = parse_ok(path);
		assert_int_equal(f->kind, CTL_KIND_FIRMWARE);
		assert_string_equal(ctl_kind_name(f->kind), "FIRMWARE");
		assert_int_equal(f->hdr.version_major, 1);
		assert_int_equal(f->hdr.version_minor, 1);
		assert_false(f->hdr.has_timestamp);
		assert_int_equal(f->hdr.timestamp, 0);
		assert_false(f->hdr.has_signer_version);
		assert_int_equal(f->hdr.signer_serial.len, 8);
		assert_string_equal(f->hdr.signer_name, "CN=fw-signer;OU=Voice;O=Example Corp");
		assert_int_equal(f->nrecords, 0);
		assert_int_equal(ctl_verify_cert(f, fw, &err), CTL_OK);
		assert_int_equal(ctl_verify_cert(f, ccm, &err), CTL_E_SIGNATURE);
		/* No certificate of its own to check against. */
		assert_int_equal(ctl_verify_self(f, &err), CTL_E_SIGNER);
		assert_null(ctl_find_signer(f, -1));
		ctl_body(f, &body, &blen);
		assert_int_equal(f->body_offset + blen, f->raw.len);
		ctl_file_free(f);
	}
	X509_free(fw);
	X509_free(ccm);
}

/* Only version 1.1 may leave the timestamp out; the vectors keep theirs. */
static void test_timestamp_flag(void **state)
{
	struct ctl_file *f = parse_ok(V "SEP001122334455.cnf.xml.sgn");

	(void)state;
	assert_int_equal(f->kind, CTL_KIND_SGN);
	assert_true(f->hdr.has_timestamp);
	assert_true(f->hdr.timestamp > 0);
	ctl_file_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sast_empty_dns),
		cmocka_unit_test(test_nonsecure_records),
		cmocka_unit_test(test_certless_record_never_signer),
		cmocka_unit_test(test_firmware),
		cmocka_unit_test(test_timestamp_flag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
