/* test_match.c - the one rule for "this certificate is that record / that signer"
 * (ctl/match.c): serials as integers, issuer names as parsed X.509 names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "ctl.h"
#include "ctlverify.h"

#define V CTL_TEST_DATA "/vectors/"

static EVP_PKEY *key;

static int setup(void **state)
{
	(void)state;
	key = EVP_EC_gen("P-256");
	return key ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(key);
	return 0;
}

/* A certificate issued by `issuer` with the given serial (big-endian magnitude). */
static X509 *make_cert(X509_NAME *issuer, const uint8_t *sn, size_t sn_len)
{
	X509 *x = X509_new();
	BIGNUM *bn = BN_bin2bn(sn, (int)sn_len, NULL);
	ASN1_INTEGER *ai = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	X509_NAME *subj = X509_NAME_new();

	assert_non_null(x);
	assert_non_null(ai);
	assert_non_null(subj);
	assert_true(X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const uint8_t *)"leaf",
					       -1, -1, 0));
	assert_true(X509_set_version(x, 2));
	assert_true(X509_set_serialNumber(x, ai));
	assert_true(X509_set_issuer_name(x, issuer));
	assert_true(X509_set_subject_name(x, subj));
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_true(X509_set_pubkey(x, key));
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	X509_NAME_free(subj);
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return x;
}

/* Name from "TYPE:VALUE" items added in order; "+" before an item joins the last RDN;
 * VALUE is UTF-8 unless the item says otherwise via type. */
static void add(X509_NAME *n, const char *field, int type, const char *value, int set)
{
	assert_true(X509_NAME_add_entry_by_txt(n, field, type, (const uint8_t *)value, -1, -1,
					       set));
}

static X509_NAME *sast_issuer(void)
{
	X509_NAME *n = X509_NAME_new();

	assert_non_null(n);
	add(n, "CN", MBSTRING_UTF8, "SAST-ADN0001", 0);
	add(n, "O", MBSTRING_UTF8, "Example Corp", 0);
	add(n, "OU", MBSTRING_UTF8, "Voice", 0);
	return n;
}

static const uint8_t sn1[] = {0x1c, 0x80};

static bool names(X509 *x, const char *s)
{
	struct ctl_buf b = {(uint8_t *)sn1, sizeof(sn1)};

	return ctl_cert_is(x, s, &b);
}

static void test_serial_integers(void **state)
{
	X509_NAME *n = sast_issuer();
	static const uint8_t hi[] = {0x80, 0x01};  /* DER needs a sign byte: 00 80 01 */
	static const uint8_t hi0[] = {0x00, 0x80, 0x01};
	static const uint8_t hi00[] = {0x00, 0x00, 0x80, 0x01};
	static const uint8_t other[] = {0x80, 0x02};
	static const uint8_t zero[] = {0x00};
	X509 *x = make_cert(n, hi, sizeof(hi));
	X509 *z = make_cert(n, zero, sizeof(zero));
	const char *s = "CN=SAST-ADN0001,O=Example Corp,OU=Voice";
	struct ctl_buf b;

	(void)state;
	b = (struct ctl_buf){(uint8_t *)hi, sizeof(hi)};
	assert_true(ctl_cert_is(x, s, &b));
	b = (struct ctl_buf){(uint8_t *)hi0, sizeof(hi0)};
	assert_true(ctl_cert_is(x, s, &b));
	b = (struct ctl_buf){(uint8_t *)hi00, sizeof(hi00)};
	assert_true(ctl_cert_is(x, s, &b));
	b = (struct ctl_buf){(uint8_t *)other, sizeof(other)};
	assert_false(ctl_cert_is(x, s, &b));
	b = (struct ctl_buf){(uint8_t *)hi, 1}; /* 80 */
	assert_false(ctl_cert_is(x, s, &b));
	/* serial 0 is one zero byte; no bytes at all name nothing */
	b = (struct ctl_buf){(uint8_t *)zero, 1};
	assert_true(ctl_cert_is(z, s, &b));
	b = (struct ctl_buf){(uint8_t *)zero, 0};
	assert_false(ctl_cert_is(z, s, &b));
	assert_false(ctl_cert_is(z, s, NULL));
	X509_free(x);
	X509_free(z);
	X509_NAME_free(n);
}

static void test_name_forms(void **state)
{
	X509_NAME *n = sast_issuer();
	X509 *x = make_cert(n, sn1, sizeof(sn1));
	char *ours = ctl_name_string(X509_get_issuer_name(x));

	(void)state;
	assert_string_equal(ours, "CN=SAST-ADN0001,O=Example Corp,OU=Voice");
	assert_true(names(x, ours));
	/* RFC 4514 order (reversed) */
	assert_true(names(x, "OU=Voice,O=Example Corp,CN=SAST-ADN0001"));
	/* spacing around separators, '=' and types */
	assert_true(names(x, " CN = SAST-ADN0001 , O=Example Corp,  OU=Voice "));
	/* long names, a dotted OID, quoting */
	assert_true(names(x, "commonName=SAST-ADN0001,organizationName=\"Example Corp\",2.5.4.11=Voice"));
	/* the vendor's syntax: ';', lowercase types, quotes */
	assert_true(names(x, "cn=\"SAST-ADN0001\";o=\"Example Corp\";ou=Voice"));
	assert_true(names(x, "ou=Voice; o=\"Example Corp\"; cn=SAST-ADN0001"));
	/* different names */
	assert_false(names(x, "CN=SAST-ADN0002,O=Example Corp,OU=Voice"));
	assert_false(names(x, "CN=SAST-ADN0001,O=Example Corp"));
	assert_false(names(x, "CN=SAST-ADN0001,O=Example Corp,OU=Voice,OU=Voice"));
	assert_false(names(x, "CN=SAST-ADN0001,OU=Example Corp,O=Voice"));
	/* a different order that is not the reverse */
	assert_false(names(x, "O=Example Corp,CN=SAST-ADN0001,OU=Voice"));
	/* The chosen rule is X509_NAME_cmp's canonical form (RFC 5280 §7.1): ASCII case and
	 * runs of spaces do not matter. */
	assert_true(names(x, "cn=sast-adn0001,o=EXAMPLE CORP,ou=voice"));
	assert_true(names(x, "CN=SAST-ADN0001,O=Example   Corp,OU=Voice"));
	assert_true(names(x, "CN=SAST-ADN0001,O=\"  Example Corp  \",OU=Voice"));
	/* but not letters that differ */
	assert_false(names(x, "CN=SAST-ADN0001,O=Example Corp.,OU=Voice"));
	free(ours);
	X509_free(x);
	X509_NAME_free(n);
}

static void test_multi_valued_rdn(void **state)
{
	X509_NAME *n = X509_NAME_new();
	X509 *x;
	char *ours;

	(void)state;
	add(n, "CN", MBSTRING_UTF8, "SAST-ADN0001", 0);
	add(n, "O", MBSTRING_UTF8, "Example Corp", -1); /* same RDN */
	add(n, "C", MBSTRING_UTF8, "US", 0);
	x = make_cert(n, sn1, sizeof(sn1));
	ours = ctl_name_string(X509_get_issuer_name(x));
	assert_string_equal(ours, "CN=SAST-ADN0001+O=Example Corp,C=US");
	assert_true(names(x, ours));
	assert_true(names(x, "O=Example Corp+CN=SAST-ADN0001,C=US")); /* order inside an RDN */
	assert_true(names(x, "C=US,CN=SAST-ADN0001+O=Example Corp")); /* RFC 4514 order */
	assert_false(names(x, "CN=SAST-ADN0001,O=Example Corp,C=US")); /* other RDN grouping */
	assert_false(names(x, "CN=SAST-ADN0001+O=Example Corp+C=US"));
	free(ours);
	X509_free(x);
	X509_NAME_free(n);
}

static void test_escapes_and_utf8(void **state)
{
	X509_NAME *n = X509_NAME_new();
	X509 *x;
	char *ours;

	(void)state;
	add(n, "CN", MBSTRING_UTF8, "Doe, John", 0);
	add(n, "O", MBSTRING_UTF8, "J\xc3\xb6rg \xe2\x82\xac \"q\" a+b;c<d>e\\f=g", 0);
	add(n, "OU", MBSTRING_UTF8, "#1 ", 0);
	x = make_cert(n, sn1, sizeof(sn1));
	ours = ctl_name_string(X509_get_issuer_name(x));
	/* our writer escapes the specials and writes UTF-8 as \XX */
	assert_non_null(strstr(ours, "CN=Doe\\, John,"));
	assert_non_null(strstr(ours, "J\\C3\\B6rg"));
	assert_true(names(x, ours));
	assert_true(names(x, "CN=Doe\\, John,O=J\xc3\xb6rg \xe2\x82\xac \\\"q\\\" a\\+b\\;c\\<d\\>e\\\\f=g,OU=\\#1\\20"));
	assert_true(names(x, "CN=\"Doe, John\",O=\"J\xc3\xb6rg \xe2\x82\xac \\\"q\\\" a+b;c<d>e\\\\f=g\",OU=\"#1 \""));
	assert_true(names(x, "CN=Doe\\2C John,O=J\\c3\\b6rg \\E2\\82\\AC \\22q\\22 a\\2Bb\\3Bc<d>e\\5Cf=g,OU=\\231"));
	/* unescaped comma: a different name (and "John" is no attribute) */
	assert_false(names(x, "CN=Doe, John,O=x,OU=#1"));
	assert_false(names(x, "CN=Doe\\, Jon,O=J\xc3\xb6rg \xe2\x82\xac \\\"q\\\" a\\+b\\;c\\<d\\>e\\\\f=g,OU=\\#1"));
	/* UTF-8 is compared as UTF-8: the same letter in another case is not folded */
	assert_false(names(x, "CN=Doe\\, John,O=J\xc3\x96rg \xe2\x82\xac \\\"q\\\" a\\+b\\;c\\<d\\>e\\\\f=g,OU=\\#1"));
	free(ours);
	X509_free(x);
	X509_NAME_free(n);
}

/* parse(ctl_name_string(name)) is name, for the vectors and for awkward string types. */
static void roundtrip(const X509_NAME *name)
{
	char *s = ctl_name_string(name);
	X509_NAME *p = NULL;
	struct ctl_cert_id a, b;
	struct ctl_buf sb = {(uint8_t *)sn1, sizeof(sn1)};
	X509 *x = make_cert((X509_NAME *)name, sn1, sizeof(sn1));

	assert_non_null(s);
	assert_int_equal(ctl_name_parse(s, &p), CTL_OK);
	assert_int_equal(X509_NAME_entry_count(p), X509_NAME_entry_count(name));
	assert_int_equal(ctl_cert_id_from_cert(x, &a), CTL_OK);
	assert_int_equal(ctl_cert_id_from_fields(s, &sb, &b), CTL_OK);
	if (!ctl_cert_id_equal(&a, &b))
		fail_msg("'%s' does not name its own certificate's issuer", s);
	ctl_cert_id_clear(&a);
	ctl_cert_id_clear(&b);
	X509_NAME_free(p);
	X509_free(x);
	free(s);
}

static void test_roundtrip(void **state)
{
	static const char *const vec[] = {"sast1.crt", "sast2.crt", "ccm.crt", "capf.crt",
					  "phone.crt", "tftp2.crt"};
	static const uint8_t bmp[] = {0x00, 'B', 0x00, 0xe9, 0x20, 0xac};
	X509_NAME *n = X509_NAME_new();
	ASN1_OBJECT *odd = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1);
	struct ctl_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		char path[256];
		X509 *x;

		snprintf(path, sizeof(path), "%s%s", V, vec[i]);
		x = ctl_cert_load(path, &err);
		assert_non_null(x);
		roundtrip(X509_get_issuer_name(x));
		roundtrip(X509_get_subject_name(x));
		X509_free(x);
	}
	add(n, "C", V_ASN1_PRINTABLESTRING, "DE", 0);
	add(n, "L", V_ASN1_T61STRING, "M\xfcnchen", 0);
	assert_true(X509_NAME_add_entry_by_txt(n, "O", V_ASN1_BMPSTRING, bmp, sizeof(bmp), -1, 0));
	add(n, "serialNumber", V_ASN1_NUMERICSTRING, "0123 456", 0);
	add(n, "CN", V_ASN1_IA5STRING, " lead,trail ", 0);
	add(n, "emailAddress", V_ASN1_IA5STRING, "a@b.example", -1);
	assert_non_null(odd);
	assert_true(X509_NAME_add_entry_by_OBJ(n, odd, V_ASN1_UTF8STRING, (const uint8_t *)"x y",
					       -1, -1, 0));
	assert_true(X509_NAME_add_entry_by_OBJ(n, odd, V_ASN1_NUMERICSTRING,
					       (const uint8_t *)"42", -1, -1, 0));
	roundtrip(n);
	ASN1_OBJECT_free(odd);
	X509_NAME_free(n);
}

/* A NumericString with bytes above 0x7f (what a hostile file's #hex value or a sloppy CA
 * writes): each byte is one character, as the printer shows it, so the printed name still
 * names the certificate (found by fuzz.name: the bytes were retyped as invalid UTF-8). */
static void test_numeric_high_bytes(void **state)
{
	X509_NAME *n = X509_NAME_new();

	(void)state;
	assert_non_null(n);
	assert_true(X509_NAME_add_entry_by_txt(n, "CN", V_ASN1_NUMERICSTRING,
					       (const uint8_t *)"1\x81\xff", -1, -1, 0));
	add(n, "O", MBSTRING_UTF8, "Example Corp", 0);
	roundtrip(n);
	X509_NAME_free(n);
}

/* Every attribute type OpenSSL knows by an OID: the writer's form of a name holding it
 * (its short name, whatever characters that uses) names the same name again. */
static void test_every_attribute_type(void **state)
{
	static const uint8_t one[] = {1};
	struct ctl_buf sb = {(uint8_t *)one, sizeof(one)};
	int last = OBJ_new_nid(0), checked = 0;

	(void)state;
	for (int nid = 1; nid < last; nid++) {
		ASN1_OBJECT *o = OBJ_nid2obj(nid);
		X509_NAME *n;
		struct ctl_cert_id a, b;
		char *s;

		ERR_clear_error();
		if (!o || OBJ_length(o) == 0)
			continue;
		n = X509_NAME_new();
		assert_non_null(n);
		if (!X509_NAME_add_entry_by_OBJ(n, o, MBSTRING_UTF8, (const uint8_t *)"xy", -1, -1,
						0)) { /* a type whose string table refuses "xy" */
			ERR_clear_error();
			X509_NAME_free(n);
			continue;
		}
		add(n, "CN", MBSTRING_UTF8, "y", 0);
		s = ctl_name_string(n);
		assert_non_null(s);
		if (ctl_cert_id_from_fields(s, &sb, &a) != CTL_OK)
			fail_msg("'%s' (nid %d) does not parse", s, nid);
		assert_int_equal(X509_NAME_entry_count(a.name), 2);
		if (OBJ_cmp(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(a.name, 0)), o) != 0)
			fail_msg("'%s' (nid %d) reads back as another attribute type", s, nid);
		assert_int_equal(ctl_cert_id_from_fields(s, &sb, &b), CTL_OK);
		assert_true(ctl_cert_id_equal(&a, &b));
		ctl_cert_id_clear(&a);
		ctl_cert_id_clear(&b);
		free(s);
		X509_NAME_free(n);
		checked++;
	}
	assert_true(checked > 1000);
}

static void test_vendor_syntax(void **state)
{
	X509_NAME *n = X509_NAME_new();
	X509 *x;

	(void)state;
	add(n, "O", MBSTRING_UTF8, "Cisco Systems", 0);
	add(n, "OU", MBSTRING_UTF8, "IPCBU", 0);
	add(n, "CN", MBSTRING_UTF8, "SAST-ADN0054f509        ", 0);
	x = make_cert(n, sn1, sizeof(sn1));
	assert_true(names(x, "cn=\"SAST-ADN0054f509        \";ou=IPCBU;o=\"Cisco Systems\""));
	assert_true(names(x, "CN=\"SAST-ADN0054f509        \";OU=IPCBU;O=\"Cisco Systems\""));
	assert_true(names(x, "o=\"Cisco Systems\";ou=IPCBU;cn=\"SAST-ADN0054f509        \""));
	assert_true(names(x, "cn=SAST-ADN0054f509,ou=IPCBU,o=Cisco Systems")); /* trailing spaces */
	assert_false(names(x, "cn=\"SAST-ADN0054f50\";ou=IPCBU;o=\"Cisco Systems\""));
	X509_free(x);
	X509_NAME_free(n);
}

static void test_unparseable(void **state)
{
	static const char *const bad[] = {
		"", " ", "CN", "CN=a,", "CN=a;;O=b", "=a", "CN=a,=b", "CN=\"abc", "CN=\"a\"b",
		"CN=a\"b", "CN=a\\", "NoSuchType=1", "CN=\xff\xfe", "CN=\\C3", "CN=# x", "CN=#zz",
		"CN=#0C03616263FF", "CN=#0500", "CN a", "C N=a", "CN=a+", "+CN=a", ",CN=a",
	};
	X509_NAME *n = sast_issuer();
	X509 *x = make_cert(n, sn1, sizeof(sn1));
	struct ctl_buf b = {(uint8_t *)sn1, sizeof(sn1)};
	struct ctl_cert_id id;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		X509_NAME *p = (X509_NAME *)1;

		if (ctl_name_parse(bad[i], &p) != CTL_E_MALFORMED)
			fail_msg("'%s' parsed", bad[i]);
		assert_null(p);
		assert_false(names(x, bad[i]));
		assert_int_equal(ctl_cert_id_from_fields(bad[i], &b, &id), CTL_E_MALFORMED);
		assert_false(ctl_cert_id_equal(&id, &id));
		ctl_cert_id_clear(&id);
	}
	assert_false(names(x, NULL));
	/* a lone '#' is text (OpenSSL prints a one-character "#" so) */
	{
		X509_NAME *p = NULL;
		assert_int_equal(ctl_name_parse("CN=#", &p), CTL_OK);
		assert_int_equal(X509_NAME_entry_count(p), 1);
		X509_NAME_free(p);
	}
	/* the hex form of a value parses */
	assert_true(names(x, "CN=#0C0C534153542D41444E30303031,O=Example Corp,OU=Voice"));
	X509_free(x);
	X509_NAME_free(n);
}

static void test_records(void **state)
{
	X509_NAME *n = sast_issuer();
	X509 *x = make_cert(n, sn1, sizeof(sn1));
	static const uint8_t sn2[] = {0x1c, 0x81};
	X509 *y = make_cert(n, sn2, sizeof(sn2));
	X509 *twin = make_cert(n, sn1, sizeof(sn1)); /* same issuer and serial, other DER */
	struct ctl_record r, r2, rn;
	struct ctl_err err;

	(void)state;
	assert_int_equal(ctl_record_from_cert(x, CTL_ROLE_SAST, NULL, NULL, true, &r, &err), 0);
	assert_int_equal(ctl_record_from_cert(x, CTL_ROLE_SAST, NULL, NULL, false, &rn, &err), 0);
	assert_int_equal(ctl_record_from_cert(y, CTL_ROLE_SAST, NULL, NULL, true, &r2, &err), 0);
	assert_true(ctl_record_is_cert(&r, x));
	assert_true(ctl_record_is_cert(&rn, x));
	assert_false(ctl_record_is_cert(&r, y));
	assert_false(ctl_record_is_cert(&r2, x));
	/* a record with a certificate is the record of that certificate only */
	assert_false(ctl_record_is_cert(&r, twin));
	assert_true(ctl_record_is_cert(&rn, twin));
	assert_true(ctl_record_is(&r, "OU=Voice,O=Example Corp,CN=SAST-ADN0001", &rn.serial));
	assert_false(ctl_record_is(&r, "OU=Voice,O=Example Corp,CN=SAST-ADN0001", &r2.serial));
	assert_true(ctl_records_same_cert(&r, &rn));
	assert_false(ctl_records_same_cert(&r, &r2));
	/* the record's issuer written in another, equivalent form; serial with a zero byte */
	free(rn.issuer);
	rn.issuer = strdup("ou=Voice; o=\"Example Corp\"; cn=SAST-ADN0001");
	assert_non_null(rn.issuer);
	{
		static const uint8_t padded[] = {0x00, 0x1c, 0x80};
		assert_true(ctl_buf_set(&rn.serial, padded, sizeof(padded)));
	}
	assert_true(ctl_record_is_cert(&rn, x));
	assert_true(ctl_records_same_cert(&r, &rn));
	free(rn.issuer);
	rn.issuer = strdup("CN=SAST-ADN0001,O=Example Corp,OU=Voice,");
	assert_false(ctl_record_is_cert(&rn, x));
	assert_false(ctl_records_same_cert(&r, &rn));
	ctl_record_clear(&r);
	ctl_record_clear(&r2);
	ctl_record_clear(&rn);
	X509_free(x);
	X509_free(y);
	X509_free(twin);
	X509_NAME_free(n);
}

/* The tools' lookups use the rule: a CTL whose records write the issuer in another,
 * equivalent form (and the serial with a zero byte) still verifies against its SAST
 * record (ctl_verify_self), installs, and finds the CCM+TFTP signer of a .sgn
 * (ctlv_verify_file); the same certificate written twice in two forms is a duplicate. */
static void rebuild(const struct ctl_file *f, struct ctl_record *recs, size_t n,
		    struct ctl_buf *out)
{
	struct ctl_err err = {0};
	EVP_PKEY *k = ctl_pkey_load(V "sast1.key", &err);
	X509 *c = ctl_cert_load(V "sast1.crt", &err);
	struct ctl_signer sg;
	struct ctl_build_opts o = {.hash_alg = CTL_HASH_SHA256, .timestamp = f->hdr.timestamp,
				   .file_name = "CTLFile.tlv", .signer_version_minor = -1};

	assert_non_null(k);
	assert_non_null(c);
	ctl_signer_from_pkey(&sg, k, c);
	if (ctl_build_tlv(CTL_KIND_CTL, recs, n, &sg, &o, out, &err) != CTL_OK)
		fail_msg("%s", err.msg);
	EVP_PKEY_free(k);
	X509_free(c);
}

static char *vendor_form(const char *ours)
{
	X509_NAME *n = NULL;
	char buf[512] = "";

	assert_int_equal(ctl_name_parse(ours, &n), CTL_OK);
	for (int i = X509_NAME_entry_count(n) - 1; i >= 0; i--) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(n, i);
		const ASN1_STRING *d = X509_NAME_ENTRY_get_data(e);
		char typ[64];
		size_t k;

		snprintf(typ, sizeof(typ), "%s", OBJ_nid2sn(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e))));
		for (k = 0; typ[k]; k++)
			typ[k] = (char)tolower((unsigned char)typ[k]);
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s=\"%.*s\"",
			 buf[0] ? ";" : "", typ, ASN1_STRING_length(d),
			 (const char *)ASN1_STRING_get0_data(d));
	}
	X509_NAME_free(n);
	return strdup(buf);
}

static void test_lookups_use_the_rule(void **state)
{
	struct ctl_buf in = {0}, built = {0}, dup = {0}, sgn = {0};
	struct ctl_err err = {0};
	struct ctl_file *f = NULL, *g = NULL;
	struct ctl_record *recs;
	ctlv_store *st;
	uint8_t *out = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(ctl_read_file(V "CTLFile.tlv", CTL_MAX_FILE_SIZE, &in, &err), CTL_OK);
	assert_int_equal(ctl_read_file(V "SEP001122334455.cnf.xml.sgn", CTL_MAX_FILE_SIZE, &sgn, &err), CTL_OK);
	assert_int_equal(ctl_parse(in.data, in.len, &f, &err), CTL_OK);
	recs = calloc(f->nrecords + 1, sizeof(*recs));
	assert_non_null(recs);
	for (size_t i = 0; i < f->nrecords; i++) {
		struct ctl_record *r = &recs[i];
		uint8_t padded[64] = {0};

		*r = f->records[i];
		r->issuer = vendor_form(f->records[i].issuer);
		assert_non_null(r->issuer);
		assert_true(r->serial.len + 1 <= sizeof(padded));
		memcpy(padded + 1, f->records[i].serial.data, f->records[i].serial.len);
		r->serial = (struct ctl_buf){NULL, 0};
		assert_true(ctl_buf_set(&r->serial, padded, f->records[i].serial.len + 1));
	}
	assert_string_equal(recs[0].issuer, "ou=\"Voice\";o=\"Example Corp\";cn=\"SAST-ADN0001\"");
	rebuild(f, recs, f->nrecords, &built);
	assert_int_equal(ctl_parse(built.data, built.len, &g, &err), CTL_OK);
	/* the header names its signer with the signer record's own strings (a phone that
	 * compares strings finds it); the .sgn below names it in our form, so the lookups
	 * still need the rule */
	assert_string_equal(g->hdr.issuer_name, recs[0].issuer);
	assert_int_equal(g->hdr.signer_serial.len, recs[0].serial.len);
	assert_ptr_equal(ctl_find_signer(g, CTL_ROLE_SAST), &g->records[0]);
	if (ctl_verify_self(g, &err) != CTL_OK)
		fail_msg("%s", err.msg);
	st = ctlv_store_new();
	assert_non_null(st);
	if (ctlv_install(st, built.data, built.len, 0) != CTLV_OK)
		fail_msg("install: %s", ctlv_last_error(st));
	if (ctlv_verify_file(st, sgn.data, sgn.len, "SEP001122334455.cnf.xml.sgn", NULL, &out, &n) != CTLV_OK)
		fail_msg("verify: %s", ctlv_last_error(st));
	ctlv_free(out, n);
	ctlv_store_free(st);
	/* SAST-2 once in our form and once in the vendor's: the same certificate twice */
	{
		struct ctl_record two[6];

		assert_true(f->nrecords <= 5);
		memcpy(two, recs, f->nrecords * sizeof(*recs));
		two[f->nrecords] = f->records[1];
		rebuild(f, two, f->nrecords + 1, &dup);
	}
	st = ctlv_store_new();
	assert_int_equal(ctlv_install(st, dup.data, dup.len, 0), CTLV_E_MALFORMED);
	assert_non_null(strstr(ctlv_last_error(st), "listed twice"));
	ctlv_store_free(st);
	for (size_t i = 0; i < f->nrecords; i++) {
		free(recs[i].issuer);
		ctl_buf_clear(&recs[i].serial);
	}
	free(recs);
	ctl_file_free(f);
	ctl_file_free(g);
	ctl_buf_clear(&in);
	ctl_buf_clear(&built);
	ctl_buf_clear(&dup);
	ctl_buf_clear(&sgn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serial_integers),
		cmocka_unit_test(test_name_forms),
		cmocka_unit_test(test_multi_valued_rdn),
		cmocka_unit_test(test_escapes_and_utf8),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_numeric_high_bytes),
		cmocka_unit_test(test_every_attribute_type),
		cmocka_unit_test(test_vendor_syntax),
		cmocka_unit_test(test_unparseable),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_lookups_use_the_rule),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
