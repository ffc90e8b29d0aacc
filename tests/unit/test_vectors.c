/* test_vectors.c - the interop vectors: parse, verify, rebuild byte for byte, decrypt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl.h"

#define V CTL_TEST_DATA "/vectors/"

static struct ctl_file *parse_ok(const char *path)
{
	struct ctl_err err = {0};
	struct ctl_file *f = NULL;
	int rc = ctl_parse_file(path, &f, &err);

	if (rc)
		fail_msg("%s: %s", path, err.msg);
	assert_non_null(f);
	return f;
}

static X509 *cert(const char *name)
{
	char path[512];
	struct ctl_err err = {0};
	X509 *x;

	snprintf(path, sizeof(path), V "%s.crt", name);
	x = ctl_cert_load(path, &err);
	if (!x)
		fail_msg("%s", err.msg);
	return x;
}

static EVP_PKEY *key(const char *name)
{
	char path[512];
	struct ctl_err err = {0};
	EVP_PKEY *k;

	snprintf(path, sizeof(path), V "%s.key", name);
	k = ctl_pkey_load(path, &err);
	if (!k)
		fail_msg("%s", err.msg);
	return k;
}

static void test_name_string(void **state)
{
	X509 *x = cert("sast1");
	char *s = ctl_name_string(X509_get_subject_name(x));

	(void)state;
	assert_string_equal(s, "CN=SAST-ADN0001,O=Example Corp,OU=Voice");
	free(s);
	X509_free(x);
}

struct vec {
	const char *file;
	int kind;
	const char *signer;
	int hash;
	const char *hdr_name;
	size_t nrecords;
};

static const struct vec vecs[] = {
	{"CTLFile.tlv", CTL_KIND_CTL, "sast1", CTL_HASH_SHA1, "CTLFile.tlv", 5},
	{"CTLFile-sha512.tlv", CTL_KIND_CTL, "sast2", CTL_HASH_SHA512, "CTLFile.tlv", 4},
	{"ITLFile.tlv", CTL_KIND_ITL, "ccm", CTL_HASH_SHA1, "ITLFile.tlv", 3},
	{"SEP001122334455.cnf.xml.sgn", CTL_KIND_SGN, "ccm", CTL_HASH_SHA1,
	 "SEP001122334455.cnf.xml.sgn", 0},
	{"SEP001122334455.cnf.xml.sha512.sgn", CTL_KIND_SGN, "ccm", CTL_HASH_SHA512,
	 "SEP001122334455.cnf.xml.sgn", 0},
	{"enc/SEP001122334455.cnf.xml.enc.sgn", CTL_KIND_ENC_SGN, "ccm", CTL_HASH_SHA512,
	 "SEP001122334455.cnf.xml.enc.sgn", 0},
	{"enc/SEP001122334455.cnf.xml.sgn", CTL_KIND_SGN, "ccm", CTL_HASH_SHA512,
	 "SEP001122334455.cnf.xml.sgn", 0},
};

/* Every vector parses, has the expected shape and verifies with its signer's cert. */
static void test_parse_verify(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		const struct vec *v = &vecs[i];
		char path[512];
		struct ctl_err err = {0};
		struct ctl_file *f;
		X509 *x, *other;

		snprintf(path, sizeof(path), V "%s", v->file);
		f = parse_ok(path);
		assert_int_equal(f->kind, v->kind);
		assert_int_equal(f->hdr.hash_alg, v->hash);
		assert_string_equal(f->hdr.file_name, v->hdr_name);
		assert_int_equal(f->nrecords, v->nrecords);
		assert_int_equal(f->hdr.header_len % 4, 0);
		assert_int_equal(f->body_offset, f->hdr.header_len);
		assert_int_equal(f->hdr.modulus_code, 2);
		assert_int_equal(f->hdr.signature.len, 256);
		x = cert(v->signer);
		if (ctl_verify_cert(f, x, &err))
			fail_msg("%s: %s", v->file, err.msg);
		/* A different key must not verify. */
		other = cert("capf");
		assert_int_equal(ctl_verify_cert(f, other, &err), CTL_E_SIGNATURE);
		X509_free(other);
		X509_free(x);
		if (v->kind == CTL_KIND_CTL || v->kind == CTL_KIND_ITL) {
			if (ctl_verify_self(f, &err))
				fail_msg("%s: verify_self: %s", v->file, err.msg);
			assert_non_null(ctl_find_signer(f, -1));
		} else {
			assert_int_equal(ctl_verify_self(f, &err), CTL_E_SIGNER);
		}
		ctl_file_free(f);
	}
}

/* One flipped bit anywhere outside the signature makes verification fail. */
static void test_tamper(void **state)
{
	struct ctl_buf b = {0};
	struct ctl_err err = {0};
	struct ctl_file *f = NULL;

	(void)state;
	assert_int_equal(ctl_read_file(V "CTLFile.tlv", 1 << 20, &b, &err), 0);
	b.data[b.len - 10] ^= 1; /* inside the last certificate */
	assert_int_equal(ctl_parse(b.data, b.len, &f, &err), 0);
	assert_int_equal(ctl_verify_self(f, &err), CTL_E_SIGNATURE);
	ctl_file_free(f);
	ctl_buf_clear(&b);
}

static void test_records_from_certs(void **state)
{
	static const char *const names[] = {"sast1", "sast2", "ccm", "capf", "tftp2"};
	struct ctl_file *f = parse_ok(V "CTLFile.tlv");

	(void)state;
	assert_int_equal(f->records[0].role, CTL_ROLE_SAST);
	assert_int_equal(f->records[2].role, CTL_ROLE_CCM_TFTP);
	assert_int_equal(f->records[3].role, CTL_ROLE_CAPF);
	assert_int_equal(f->records[4].role, CTL_ROLE_TFTP);
	for (size_t i = 0; i < 5; i++) {
		const struct ctl_record *p = &f->records[i];
		struct ctl_record r;
		struct ctl_err err = {0};
		X509 *x = cert(names[i]);

		assert_int_equal(ctl_record_from_cert(x, p->role, NULL, NULL, true, &r, &err), 0);
		assert_string_equal(r.subject, p->subject);
		assert_string_equal(r.issuer, p->issuer);
		assert_memory_equal(r.serial.data, p->serial.data, p->serial.len);
		assert_int_equal(r.pubkey.len, 270);
		assert_int_equal(r.pubkey.len, p->pubkey.len);
		assert_memory_equal(r.pubkey.data, p->pubkey.data, p->pubkey.len);
		assert_int_equal(r.cert_sig.len, p->cert_sig.len);
		assert_memory_equal(r.cert_sig.data, p->cert_sig.data, p->cert_sig.len);
		assert_int_equal(r.cert.len, p->cert.len);
		assert_memory_equal(r.cert.data, p->cert.data, p->cert.len);
		ctl_record_clear(&r);
		X509_free(x);
	}
	ctl_file_free(f);
}

static void opts_from(const struct ctl_file *f, struct ctl_build_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->hash_alg = f->hdr.hash_alg;
	o->timestamp = f->hdr.timestamp;
	o->file_name = f->hdr.file_name;
	o->signer_version_minor = f->hdr.has_signer_version ? f->hdr.signer_version_minor : -1;
}

static void assert_same_file(const struct ctl_buf *b, const struct ctl_file *f)
{
	assert_int_equal(b->len, f->raw.len);
	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] != f->raw.data[i])
			fail_msg("first difference at offset %zu: %02x, vector %02x", i, b->data[i],
				 f->raw.data[i]);
}

/* Rebuilding a vector from its own parts and the signer's key gives the same bytes. */
static void test_rebuild(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		const struct vec *v = &vecs[i];
		char path[512];
		struct ctl_err err = {0};
		struct ctl_build_opts o;
		struct ctl_signer s;
		struct ctl_buf out = {0};
		struct ctl_file *f;
		X509 *x = cert(v->signer);
		EVP_PKEY *k = key(v->signer);
		const uint8_t *body;
		size_t blen;
		int rc;

		if (v->kind == CTL_KIND_ENC_SGN) {
			X509_free(x);
			EVP_PKEY_free(k);
			continue; /* test_enc_rebuild */
		}
		snprintf(path, sizeof(path), V "%s", v->file);
		f = parse_ok(path);
		opts_from(f, &o);
		ctl_signer_from_pkey(&s, k, x);
		ctl_body(f, &body, &blen);
		if (v->kind == CTL_KIND_SGN)
			rc = ctl_build_sgn(body, blen, &s, &o, &out, &err);
		else
			rc = ctl_build_tlv(f->kind, f->records, f->nrecords, &s, &o, &out, &err);
		if (rc)
			fail_msg("%s: %s", v->file, err.msg);
		assert_same_file(&out, f);
		ctl_buf_clear(&out);
		ctl_file_free(f);
		X509_free(x);
		EVP_PKEY_free(k);
	}
}

static void test_enc(void **state)
{
	struct ctl_file *f = parse_ok(V "enc/SEP001122334455.cnf.xml.enc.sgn");
	struct ctl_buf plain = {0}, want = {0}, out = {0};
	struct ctl_err err = {0};
	struct ctl_build_opts o;
	struct ctl_signer s;
	struct ctl_file *g;
	X509 *ccm = cert("ccm"), *phone = cert("phone");
	EVP_PKEY *ccm_key = key("ccm"), *phone_key = key("phone"), *wrong = key("capf");
	uint8_t aes[16];

	(void)state;
	assert_int_equal(ctl_read_file(V "SEP001122334455.cnf.xml", 1 << 20, &want, &err), 0);
	assert_int_equal(ctl_verify_cert(f, ccm, &err), 0);
	if (ctl_decrypt(f, phone_key, &plain, &err))
		fail_msg("decrypt: %s", err.msg);
	assert_int_equal(plain.len, want.len);
	assert_memory_equal(plain.data, want.data, want.len);
	ctl_buf_clear(&plain);
	assert_int_equal(ctl_decrypt(f, wrong, &plain, &err), CTL_E_DECRYPT);

	/* Byte-exact rebuild from the unwrapped key, the IV and the wrapped key. */
	assert_int_equal(ctl_unwrap_key(f, phone_key, aes, &err), 0);
	opts_from(f, &o);
	ctl_signer_from_pkey(&s, ccm_key, ccm);
	if (ctl_build_enc_sgn_wrapped(want.data, want.len, aes, f->hdr.enc.iv.data,
				      f->hdr.enc.wrapped_key.data, f->hdr.enc.wrapped_key.len, &s,
				      &o, &out, &err))
		fail_msg("%s", err.msg);
	assert_same_file(&out, f);
	ctl_buf_clear(&out);

	/* With a fresh wrap (PKCS#1 v1.5 is randomised) everything but the wrapped key and
	 * the signature is identical, and the result verifies and decrypts. */
	if (ctl_build_enc_sgn_with(want.data, want.len, phone, aes, f->hdr.enc.iv.data, &s, &o,
				   &out, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(ctl_parse(out.data, out.len, &g, &err), 0);
	assert_int_equal(g->kind, CTL_KIND_ENC_SGN);
	assert_int_equal(out.len, f->raw.len);
	assert_int_equal(g->hdr.header_len, f->hdr.header_len);
	assert_int_equal(g->hdr.enc.pad_count, f->hdr.enc.pad_count);
	assert_memory_equal(g->hdr.enc.content_hash.data, f->hdr.enc.content_hash.data,
			    f->hdr.enc.content_hash.len);
	assert_memory_equal(out.data + g->body_offset, f->raw.data + f->body_offset,
			    f->raw.len - f->body_offset);
	assert_int_equal(ctl_verify_cert(g, ccm, &err), 0);
	assert_int_equal(ctl_decrypt(g, phone_key, &plain, &err), 0);
	assert_memory_equal(plain.data, want.data, want.len);
	ctl_buf_clear(&plain);
	ctl_file_free(g);
	ctl_buf_clear(&out);

	/* Random key and IV: still round-trips; block-multiple input gets no padding. */
	o.hash_alg = CTL_HASH_SHA256;
	assert_int_equal(ctl_build_enc_sgn(want.data, 32, phone, &s, &o, &out, &err), 0);
	assert_int_equal(ctl_parse(out.data, out.len, &g, &err), 0);
	assert_int_equal(g->hdr.enc.pad_count, 0);
	assert_int_equal(ctl_verify_cert(g, ccm, &err), 0);
	assert_int_equal(ctl_decrypt(g, phone_key, &plain, &err), 0);
	assert_int_equal(plain.len, 32);
	assert_memory_equal(plain.data, want.data, 32);
	ctl_buf_clear(&plain);
	ctl_file_free(g);
	ctl_buf_clear(&out);

	ctl_buf_clear(&want);
	ctl_file_free(f);
	X509_free(ccm);
	X509_free(phone);
	EVP_PKEY_free(ccm_key);
	EVP_PKEY_free(phone_key);
	EVP_PKEY_free(wrong);
}

/* A new CTL built from certificates (DNS name, IP, other hash) parses and self-verifies. */
static void test_build_new(void **state)
{
	static const char *const names[] = {"sast1", "sast2", "ccm", "tftp2"};
	static const int roles[] = {CTL_ROLE_SAST, CTL_ROLE_SAST, CTL_ROLE_CCM_TFTP, CTL_ROLE_TFTP};
	const uint8_t ip[4] = {10, 0, 0, 5};
	struct ctl_record recs[4];
	struct ctl_err err = {0};
	struct ctl_build_opts o = {CTL_HASH_SHA256, 1700000000u, "CTLFile.tlv", -1};
	struct ctl_signer s;
	struct ctl_buf out = {0};
	struct ctl_file *f;
	X509 *sc = cert("sast2");
	EVP_PKEY *sk = key("sast2");

	(void)state;
	for (int i = 0; i < 4; i++) {
		X509 *x = cert(names[i]);
		assert_int_equal(ctl_record_from_cert(x, roles[i], i >= 2 ? "cucm1.example.com" : NULL,
						      i >= 2 ? ip : NULL, i != 3, &recs[i], &err),
				 0);
		X509_free(x);
	}
	ctl_signer_from_pkey(&s, sk, sc);
	assert_int_equal(ctl_build_tlv(CTL_KIND_CTL, recs, 4, &s, &o, &out, &err), 0);
	assert_int_equal(ctl_parse(out.data, out.len, &f, &err), 0);
	assert_int_equal(f->nrecords, 4);
	assert_int_equal(f->hdr.signer_version_minor, 0);
	assert_string_equal(f->records[2].dns_name, "cucm1.example.com");
	assert_true(f->records[2].has_ip);
	assert_memory_equal(f->records[2].ip, ip, 4);
	assert_int_equal(f->records[3].cert.len, 0);
	assert_int_equal(f->hdr.timestamp, 1700000000u);
	if (ctl_verify_self(f, &err))
		fail_msg("%s", err.msg);
	assert_ptr_equal(ctl_find_signer(f, CTL_ROLE_SAST), &f->records[1]);
	assert_null(ctl_find_signer(f, CTL_ROLE_CCM));
	ctl_file_free(f);
	ctl_buf_clear(&out);
	for (int i = 0; i < 4; i++)
		ctl_record_clear(&recs[i]);
	X509_free(sc);
	EVP_PKEY_free(sk);
}

/* A CTL signed by a key whose certificate is not a SAST record: signer not found. */
static void test_signer_not_in_ctl(void **state)
{
	struct ctl_record rec;
	struct ctl_err err = {0};
	struct ctl_build_opts o = {CTL_HASH_SHA1, 1, "CTLFile.tlv", -1};
	struct ctl_signer s;
	struct ctl_buf out = {0};
	struct ctl_file *f;
	X509 *sc = cert("sast1"), *cc = cert("ccm");
	EVP_PKEY *ck = key("ccm");

	(void)state;
	assert_int_equal(ctl_record_from_cert(sc, CTL_ROLE_SAST, NULL, NULL, true, &rec, &err), 0);
	ctl_signer_from_pkey(&s, ck, cc);
	assert_int_equal(ctl_build_tlv(CTL_KIND_CTL, &rec, 1, &s, &o, &out, &err), 0);
	assert_int_equal(ctl_parse(out.data, out.len, &f, &err), 0);
	assert_int_equal(ctl_verify_self(f, &err), CTL_E_SIGNER);
	assert_non_null(strstr(err.msg, "no SAST record"));
	ctl_file_free(f);
	ctl_buf_clear(&out);
	ctl_record_clear(&rec);
	X509_free(sc);
	X509_free(cc);
	EVP_PKEY_free(ck);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(ctl_role_name(CTL_ROLE_CCM_TFTP), "CCM+TFTP");
	assert_null(ctl_role_name(5));
	{
		char b[16];

		assert_string_equal(ctl_role_label(CTL_ROLE_TFTP, NULL, 0), "TFTP");
		assert_string_equal(ctl_role_label(5, NULL, 0), "unknown role");
		assert_string_equal(ctl_role_label(-1, NULL, 0), "unknown role");
		assert_string_equal(ctl_role_label(CTL_ROLE_SAST, b, sizeof(b)), "SAST");
		assert_string_equal(ctl_role_label(5, b, sizeof(b)), "unknown-5");
		assert_string_equal(ctl_role_label(-1, b, sizeof(b)), "none");
	}
	assert_int_equal(ctl_role_from_name("app-server"), CTL_ROLE_APP_SERVER);
	assert_int_equal(ctl_role_from_name("nope"), -1);
	assert_true(ctl_role_is_tftp(CTL_ROLE_TFTP));
	assert_false(ctl_role_is_tftp(CTL_ROLE_CCM));
	assert_int_equal(ctl_hash_from_name("SHA512"), CTL_HASH_SHA512);
	assert_int_equal(ctl_hash_from_name("md5"), 0);
	assert_string_equal(ctl_status_name(CTL_E_MALFORMED), "malformed");
	assert_string_equal(ctl_kind_name(CTL_KIND_ENC_SGN), "ENC-SGN");
	assert_int_equal(ctl_modulus_code(4096), 3);
	assert_int_equal(ctl_modulus_code(3072), -1);
}

static void test_fingerprint(void **state)
{
	X509 *x = cert("sast1");
	char *fp1 = ctl_cert_fingerprint(x, CTL_HASH_SHA1);
	char *fp2 = ctl_cert_fingerprint(x, CTL_HASH_SHA256);

	(void)state;
	assert_int_equal(strlen(fp1), 40);
	assert_int_equal(strlen(fp2), 64);
	for (const char *p = fp2; *p; p++)
		assert_non_null(strchr("0123456789abcdef", *p));
	free(fp1);
	free(fp2);
	X509_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_string),   cmocka_unit_test(test_parse_verify),
		cmocka_unit_test(test_tamper),        cmocka_unit_test(test_records_from_certs),
		cmocka_unit_test(test_rebuild),       cmocka_unit_test(test_enc),
		cmocka_unit_test(test_build_new),     cmocka_unit_test(test_signer_not_in_ctl),
		cmocka_unit_test(test_names),         cmocka_unit_test(test_fingerprint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
