/* test_ctlverify.c - libctlverify's API on in-memory stores and the interop vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

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


/* A CTL or ITL signed by vector key `who` (e.g. "sast1"), dated ts (0: now), with the
 * records "role:vector" (e.g. "tftp:tftp2"), NULL-terminated. */
static struct ctl_buf build_as(int kind, const char *keyname, const char *who, uint32_t ts,
			       const char *const *recs);

static struct ctl_buf build(int kind, const char *who, uint32_t ts, const char *const *recs)
{
	return build_as(kind, who, who, ts, recs);
}

/* Header and certificate of `who`, signature made with `keyname`'s key. */
static struct ctl_buf build_as(int kind, const char *keyname, const char *who, uint32_t ts,
			       const char *const *recs)
{
	struct ctl_build_opts opts = {.hash_alg = CTL_HASH_SHA256, .signer_version_minor = -1,
				      .timestamp = ts,
				      .file_name = kind == CTL_KIND_ITL ? "ITLFile.tlv" : "CTLFile.tlv"};
	struct ctl_record r[8];
	struct ctl_signer signer;
	struct ctl_err err = {0};
	struct ctl_buf out = {0};
	char path[512];
	EVP_PKEY *key;
	X509 *cert;
	size_t n = 0;

	memset(r, 0, sizeof(r));
	snprintf(path, sizeof(path), VEC "%s.key", keyname);
	key = ctl_pkey_load(path, &err);
	assert_non_null(key);
	snprintf(path, sizeof(path), VEC "%s.crt", who);
	cert = ctl_cert_load(path, &err);
	assert_non_null(cert);
	ctl_signer_from_pkey(&signer, key, cert);
	for (; recs[n]; n++) {
		char spec[64], *colon;
		X509 *x;
		int role;

		assert_true(n < 8);
		snprintf(spec, sizeof(spec), "%s", recs[n]);
		colon = strchr(spec, ':');
		assert_non_null(colon);
		*colon = 0;
		role = ctl_role_from_name(spec);
		assert_true(role >= 0);
		snprintf(path, sizeof(path), VEC "%s.crt", colon + 1);
		x = ctl_cert_load(path, &err);
		assert_non_null(x);
		assert_int_equal(ctl_record_from_cert(x, role, NULL, NULL, true, &r[n], &err), CTL_OK);
		X509_free(x);
	}
	assert_int_equal(ctl_build_tlv(kind, r, n, &signer, &opts, &out, &err), CTL_OK);
	for (size_t i = 0; i < n; i++)
		ctl_record_clear(&r[i]);
	EVP_PKEY_free(key);
	X509_free(cert);
	return out;
}

static int install_buf(ctlv_store *s, struct ctl_buf b)
{
	int rc = ctlv_install(s, b.data, b.len, 0);

	ctl_buf_clear(&b);
	return rc;
}

static const char *const CTL_RECS[] = {"sast:sast1", "sast:sast2", "ccm+tftp:ccm", "tftp:tftp2", NULL};
static const char *const ROGUE_ITL_RECS[] = {"sast:phone", "tftp:phone", NULL};
#define Y2106 4294967295u

/* A fresh store directory under $TMPDIR (or /tmp). */
static char *temp_store(void)
{
	const char *t = getenv("TMPDIR");
	char *d = malloc(512);

	assert_non_null(d);
	snprintf(d, 512, "%s/ctlv-test-XXXXXX", t && *t ? t : "/tmp");
	assert_non_null(mkdtemp(d));
	return d;
}

static void rm_store(char *d)
{
	static const char *const names[] = {"CTLFile.tlv", "ITLFile.tlv", "state", "lock"};
	char p[600];

	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/%s", d, names[i]);
		unlink(p);
	}
	assert_int_equal(rmdir(d), 0);
	free(d);
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	struct ctl_err err = {0};
	char p[600];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(ctl_write_atomic(p, data, len, 0600, &err), CTL_OK);
}

static int file_present(const char *dir, const char *name)
{
	char p[600];
	struct stat sb;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &sb) == 0;
}

static void sha256_hex(const struct ctl_buf *b, char out[65])
{
	unsigned char md[32];
	unsigned n = 0;

	assert_true(EVP_Digest(b->data, b->len, md, &n, EVP_sha256(), NULL));
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Attack 2: with pins set and no CTL held, no ITL is trusted (install refuses it,
 * verify_file refuses what an ITL held from before vouches for); the pinned CTL then
 * makes its ITL acceptable. */
static void test_itl_refused_with_pins(void **state)
{
	ctlv_store *s = ctlv_store_new();
	char *fp1 = fingerprint("sast1.crt", CTL_HASH_SHA256);
	struct ctl_buf sgn = vec("SEP001122334455.cnf.xml.sgn");
	uint8_t *out = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(ctlv_expect_sast(s, fp1), CTLV_OK);
	assert_int_equal(install_buf(s, build(CTL_KIND_ITL, "phone", 0, ROGUE_ITL_RECS)), CTLV_E_POLICY);
	assert_non_null(strstr(ctlv_last_error(s), "pinned but no CTL is held"));
	assert_int_equal(install_vec(s, "ITLFile.tlv", CTLV_KIND_ITL), CTLV_E_POLICY);
	assert_false(ctlv_held(s, CTLV_KIND_ITL));
	ctlv_store_free(s);
	/* an ITL held from a boot without pins does not count once pins are set */
	s = ctlv_store_new();
	assert_int_equal(install_vec(s, "ITLFile.tlv", CTLV_KIND_ITL), CTLV_OK);
	assert_int_equal(ctlv_expect_sast(s, fp1), CTLV_OK);
	assert_int_equal(ctlv_verify_file(s, sgn.data, sgn.len, NULL, NULL, &out, &n), CTLV_E_POLICY);
	assert_null(out);
	assert_non_null(strstr(ctlv_last_error(s), "pinned but no CTL is held"));
	/* the pinned CTL: the ITL is judged by it (kept: signed by its CCM+TFTP record) */
	assert_int_equal(install_vec(s, "CTLFile.tlv", 0), CTLV_OK);
	assert_string_equal(ctlv_held_trust(s, CTLV_KIND_CTL), "pinned");
	assert_string_equal(ctlv_held_trust(s, CTLV_KIND_ITL), "signed-by-ctl");
	assert_int_equal(ctlv_verify_file(s, sgn.data, sgn.len, NULL, NULL, &out, &n), CTLV_OK);
	ctlv_free(out, n);
	ctlv_store_free(s);
	s = ctlv_store_new();
	assert_int_equal(ctlv_expect_sast(s, fp1), CTLV_OK);
	assert_int_equal(install_vec(s, "CTLFile.tlv", 0), CTLV_OK);
	assert_int_equal(install_vec(s, "ITLFile.tlv", CTLV_KIND_ITL), CTLV_OK);
	ctlv_store_free(s);
	ctl_buf_clear(&sgn);
	free(fp1);
}

/* Attack 3: a CTL install judges the held ITL again; one whose signer is no TFTP record
 * of the new CTL is dropped and takes no part in the replay rule. */
static void test_itl_dropped_on_ctl(void **state)
{
	static const char *const ctl2_recs[] = {"sast:sast1", "sast:sast2", "ccm+tftp:ccm", NULL};
	static const char *const itl_recs[] = {"tftp:tftp2", "ccm+tftp:ccm", NULL};
	ctlv_store *s = ctlv_store_new();
	uint32_t now = (uint32_t)time(NULL);
	long long when = -1;

	(void)state;
	/* (a) a first-sight ITL, then a CTL that does not list its signer */
	assert_int_equal(install_buf(s, build(CTL_KIND_ITL, "phone", 0, ROGUE_ITL_RECS)), CTLV_OK);
	assert_string_equal(ctlv_held_dropped(s, CTLV_KIND_ITL, &when), "");
	assert_int_equal(when, 0);
	assert_int_equal(install_buf(s, build(CTL_KIND_CTL, "sast1", now - 3600, CTL_RECS)), CTLV_OK);
	assert_false(ctlv_held(s, CTLV_KIND_ITL));
	assert_non_null(strstr(ctlv_last_warning(s), "DROPPED"));
	assert_non_null(strstr(ctlv_last_warning(s), "TRUSTED ON FIRST USE")); /* both said */
	assert_non_null(strstr(ctlv_held_dropped(s, CTLV_KIND_ITL, &when), "not a TFTP or CCM+TFTP record of the new CTL"));
	assert_true(when > 0);
	/* (c) an ITL signed by the CTL's TFTP record, then a CTL without that record */
	assert_int_equal(install_buf(s, build(CTL_KIND_ITL, "tftp2", now - 1800, itl_recs)), CTLV_OK);
	assert_string_equal(ctlv_held_trust(s, CTLV_KIND_ITL), "signed-by-ctl");
	assert_string_equal(ctlv_held_dropped(s, CTLV_KIND_ITL, NULL), ""); /* a new ITL clears it */
	assert_int_equal(install_buf(s, build(CTL_KIND_CTL, "sast1", now - 1200, CTL_RECS)), CTLV_OK);
	assert_true(ctlv_held(s, CTLV_KIND_ITL)); /* still a TFTP record: kept */
	assert_string_equal(ctlv_last_warning(s), "");
	assert_int_equal(install_buf(s, build(CTL_KIND_CTL, "sast2", now - 600, ctl2_recs)), CTLV_OK);
	assert_false(ctlv_held(s, CTLV_KIND_ITL));
	assert_non_null(strstr(ctlv_last_note(s), "held ITL dropped"));
	/* a dropped ITL takes no part in the replay rule: an older ITL is judged by the CTL
	 * alone (signed by its CCM+TFTP record) */
	assert_int_equal(install_vec(s, "ITLFile.tlv", CTLV_KIND_ITL), CTLV_OK);
	ctlv_store_free(s);
	/* a TFTP record listed with another role (CAPF) does not vouch either */
	s = ctlv_store_new();
	{
		static const char *const capf_itl[] = {"tftp:capf", NULL};
		static const char *const c1[] = {"sast:sast1", "sast:sast2", "tftp:capf", NULL};
		static const char *const c2[] = {"sast:sast1", "sast:sast2", "capf:capf", NULL};

		assert_int_equal(install_buf(s, build(CTL_KIND_CTL, "sast1", now - 60, c1)), CTLV_OK);
		assert_int_equal(install_buf(s, build(CTL_KIND_ITL, "capf", now - 60, capf_itl)), CTLV_OK);
		assert_int_equal(install_buf(s, build(CTL_KIND_CTL, "sast1", now - 30, c2)), CTLV_OK);
		assert_false(ctlv_held(s, CTLV_KIND_ITL));
		assert_non_null(strstr(ctlv_held_dropped(s, CTLV_KIND_ITL, NULL), "as CAPF"));
	}
	ctlv_store_free(s);
}

/* Future dates: a CTL or ITL more than 24 hours ahead is refused (saying whose clock);
 * a few hours ahead only warns. */
static void test_future_dates(void **state)
{
	ctlv_store *s = ctlv_store_new();
	uint32_t now = (uint32_t)time(NULL);

	(void)state;
	assert_int_equal(install_buf(s, build(CTL_KIND_CTL, "sast1", Y2106, CTL_RECS)), CTLV_E_POLICY);
	assert_non_null(strstr(ctlv_last_error(s), "more than 24 hours ahead"));
	assert_non_null(strstr(ctlv_last_error(s), "the clock of its signer 'CN=SAST-ADN0001"));
	assert_false(ctlv_has_ctl(s));
	assert_int_equal(install_buf(s, build(CTL_KIND_ITL, "phone", now + 25 * 3600, ROGUE_ITL_RECS)), CTLV_E_POLICY);
	assert_int_equal(install_buf(s, build(CTL_KIND_CTL, "sast1", now + 3600, CTL_RECS)), CTLV_OK);
	assert_non_null(strstr(ctlv_last_warning(s), "in the future"));
	/* later CTL and ITL: the same */
	assert_int_equal(install_buf(s, build(CTL_KIND_CTL, "sast2", now + 2 * 86400, CTL_RECS)), CTLV_E_POLICY);
	assert_non_null(strstr(ctlv_last_error(s), "CN=SAST-ADN0002"));
	{
		static const char *const itl_recs[] = {"tftp:tftp2", NULL};

		assert_int_equal(install_buf(s, build(CTL_KIND_ITL, "tftp2", now + 2 * 86400, itl_recs)), CTLV_E_POLICY);
		assert_false(ctlv_held(s, CTLV_KIND_ITL));
		assert_int_equal(install_buf(s, build(CTL_KIND_ITL, "tftp2", now, itl_recs)), CTLV_OK);
	}
	ctlv_store_free(s);
}

/* A held file already dated beyond the clock (by an older version) does not block a
 * later one; the replay rule then uses its install time. Written by hand into a store
 * directory, as such a version left it. */
static void test_held_future_not_blocking(void **state)
{
	static const char *const itl_recs[] = {"tftp:tftp2", NULL};
	char *d = temp_store();
	struct ctl_buf ctl2106 = build(CTL_KIND_CTL, "sast1", Y2106, CTL_RECS);
	char hex[65], st[512];
	long long now = (long long)time(NULL);
	ctlv_store *s = NULL;

	(void)state;
	sha256_hex(&ctl2106, hex);
	write_file(d, "CTLFile.tlv", ctl2106.data, ctl2106.len);
	snprintf(st, sizeof(st), "ctlverify-store 1\nctl.sha256=%s\nctl.installed=%lld\nctl.trust=tofu\nctl.signer=CN=SAST-ADN0001\n",
		 hex, now - 3600);
	write_file(d, "state", st, strlen(st));
	assert_int_equal(ctlv_store_open(d, &s), CTLV_OK);
	assert_int_equal(ctlv_held_timestamp(s, CTLV_KIND_CTL), (long long)Y2106);
	/* older than the install time: still a replay */
	assert_int_equal(install_buf(s, build(CTL_KIND_CTL, "sast2", (uint32_t)(now - 7200), CTL_RECS)), CTLV_E_POLICY);
	assert_non_null(strstr(ctlv_last_error(s), "before the held CTL was installed"));
	assert_int_equal(install_buf(s, build(CTL_KIND_CTL, "sast2", (uint32_t)now, CTL_RECS)), CTLV_OK);
	assert_int_equal(install_buf(s, build(CTL_KIND_ITL, "tftp2", (uint32_t)now, itl_recs)), CTLV_OK);
	ctlv_store_free(s);
	ctl_buf_clear(&ctl2106);
	rm_store(d);
}

/* Writes a store directory by hand (as an older version, or a damaged flash, left it):
 * the CTL ctl and the ITL itl (either may have a NULL data) installed an hour ago. */
static void hand_store(const char *d, const struct ctl_buf *ctl, const struct ctl_buf *itl)
{
	char st[1024] = "ctlverify-store 1\n", hex[65], line[256];
	long long t = (long long)time(NULL) - 3600;

	if (ctl->data) {
		sha256_hex(ctl, hex);
		write_file(d, "CTLFile.tlv", ctl->data, ctl->len);
		snprintf(line, sizeof(line), "ctl.sha256=%s\nctl.installed=%lld\nctl.trust=tofu\nctl.signer=CN=SAST-ADN0001\n", hex, t);
		strcat(st, line);
	}
	if (itl->data) {
		sha256_hex(itl, hex);
		write_file(d, "ITLFile.tlv", itl->data, itl->len);
		snprintf(line, sizeof(line), "itl.sha256=%s\nitl.installed=%lld\nitl.trust=signed-by-ctl\nitl.signer=CN=tftp2\n", hex, t);
		strcat(st, line);
	}
	write_file(d, "state", st, strlen(st));
}

/* Re-judging a held ITL checks its signature with the new CTL's record and its date, not
 * only its signer's name: a held ITL (opening a store does not verify signatures) whose
 * signature does not verify, or dated beyond the clock, is dropped. */
static void test_rejudge_checks_signature_and_date(void **state)
{
	static const char *const itl_recs[] = {"tftp:tftp2", NULL};
	struct ctl_buf ctl1 = build(CTL_KIND_CTL, "sast1", (uint32_t)time(NULL) - 7200, CTL_RECS);
	struct ctl_buf bad = build_as(CTL_KIND_ITL, "phone", "tftp2", (uint32_t)time(NULL) - 7200, itl_recs);
	struct ctl_buf future = build(CTL_KIND_ITL, "tftp2", Y2106, itl_recs);
	ctlv_store *s = NULL;
	char *d = temp_store();

	(void)state;
	hand_store(d, &ctl1, &bad);
	assert_int_equal(ctlv_store_open(d, &s), CTLV_OK);
	assert_true(ctlv_held(s, CTLV_KIND_ITL));
	assert_int_equal(install_buf(s, build(CTL_KIND_CTL, "sast2", 0, CTL_RECS)), CTLV_OK);
	assert_false(ctlv_held(s, CTLV_KIND_ITL));
	assert_non_null(strstr(ctlv_held_dropped(s, CTLV_KIND_ITL, NULL), "signature does not verify"));
	ctlv_store_free(s);
	rm_store(d);
	d = temp_store();
	hand_store(d, &ctl1, &future);
	assert_int_equal(ctlv_store_open(d, &s), CTLV_OK);
	assert_int_equal(install_buf(s, build(CTL_KIND_CTL, "sast2", 0, CTL_RECS)), CTLV_OK);
	assert_false(ctlv_held(s, CTLV_KIND_ITL));
	assert_non_null(strstr(ctlv_held_dropped(s, CTLV_KIND_ITL, NULL), "24 hours ahead"));
	ctlv_store_free(s);
	rm_store(d);
	ctl_buf_clear(&ctl1);
	ctl_buf_clear(&bad);
	ctl_buf_clear(&future);
}

/* A store where an older version kept a first-sight ITL after a CTL arrived: with the CTL
 * held, that ITL vouches for nothing until a CTL install judges it. */
static void test_unjudged_itl_ignored(void **state)
{
	static const char *const ctl_recs[] = {"sast:sast1", "sast:sast2", "tftp:tftp2", NULL};
	static const char *const itl_recs[] = {"ccm+tftp:ccm", NULL};
	struct ctl_buf ctl1 = build(CTL_KIND_CTL, "sast1", (uint32_t)time(NULL) - 7200, ctl_recs);
	struct ctl_buf itl = build(CTL_KIND_ITL, "ccm", (uint32_t)time(NULL) - 7200, itl_recs);
	struct ctl_buf sgn = vec("SEP001122334455.cnf.xml.sgn"); /* signed by ccm */
	char *d = temp_store(), st[1024], hc[65], hi[65];
	ctlv_store *s = NULL;
	uint8_t *out = NULL;
	size_t n = 0;

	(void)state;
	sha256_hex(&ctl1, hc);
	sha256_hex(&itl, hi);
	write_file(d, "CTLFile.tlv", ctl1.data, ctl1.len);
	write_file(d, "ITLFile.tlv", itl.data, itl.len);
	snprintf(st, sizeof(st), "ctlverify-store 1\nctl.sha256=%s\nctl.installed=1\nctl.trust=tofu\nctl.signer=x\n"
		 "itl.sha256=%s\nitl.installed=1\nitl.trust=first-sight\nitl.signer=y\n", hc, hi);
	write_file(d, "state", st, strlen(st));
	assert_int_equal(ctlv_store_open(d, &s), CTLV_OK);
	assert_int_equal(ctlv_verify_file(s, sgn.data, sgn.len, NULL, NULL, &out, &n), CTLV_E_SIGNER);
	assert_null(out);
	ctlv_store_free(s);
	/* the same ITL installed after the CTL is vouched for only if the CTL lists ccm */
	assert_int_equal(ctlv_store_open(d, &s), CTLV_OK);
	assert_int_equal(install_buf(s, build(CTL_KIND_CTL, "sast1", 0, CTL_RECS)), CTLV_OK);
	assert_string_equal(ctlv_held_trust(s, CTLV_KIND_ITL), "signed-by-ctl");
	assert_int_equal(ctlv_verify_file(s, sgn.data, sgn.len, NULL, NULL, &out, &n), CTLV_OK);
	ctlv_free(out, n);
	ctlv_store_free(s);
	rm_store(d);
	ctl_buf_clear(&ctl1);
	ctl_buf_clear(&itl);
	ctl_buf_clear(&sgn);
}

/* The drop is one commit with the CTL: a crash after the commit point (state names the
 * ITL as dropped, ITLFile.tlv still there) is finished when the store is opened. */
static void test_drop_crash(void **state)
{
	char *d = temp_store();
	struct ctl_buf ctl = build(CTL_KIND_CTL, "sast1", 0, CTL_RECS);
	struct ctl_buf itl = build(CTL_KIND_ITL, "phone", 0, ROGUE_ITL_RECS);
	char hc[65], hi[65], st[1024];
	ctlv_store *s = NULL;
	long long when = 0;

	(void)state;
	sha256_hex(&ctl, hc);
	sha256_hex(&itl, hi);
	write_file(d, "CTLFile.tlv", ctl.data, ctl.len);
	write_file(d, "ITLFile.tlv", itl.data, itl.len);
	snprintf(st, sizeof(st), "ctlverify-store 1\nctl.sha256=%s\nctl.installed=100\nctl.trust=tofu\nctl.signer=x\n"
		 "itl.dropped=%s\nitl.dropped_at=100\nitl.dropped_why=its signer is gone\n", hc, hi);
	write_file(d, "state", st, strlen(st));
	assert_int_equal(ctlv_store_open(d, &s), CTLV_OK);
	assert_false(ctlv_held(s, CTLV_KIND_ITL));
	assert_false(file_present(d, "ITLFile.tlv"));
	assert_string_equal(ctlv_held_dropped(s, CTLV_KIND_ITL, &when), "its signer is gone");
	assert_int_equal(when, 100);
	ctlv_store_free(s);
	/* another ITLFile.tlv (not the dropped one) is still refused as not recorded */
	write_file(d, "ITLFile.tlv", ctl.data, ctl.len);
	assert_int_equal(ctlv_store_open(d, &s), CTLV_E_IO);
	assert_non_null(strstr(ctlv_last_error(s), "not recorded"));
	ctlv_store_free(s);
	ctl_buf_clear(&ctl);
	ctl_buf_clear(&itl);
	rm_store(d);
}

static void read_byte(int fd)
{
	char c;
	ssize_t n;

	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	assert_int_equal(n, 1);
}

/* In a child: waits for the parent's byte, or its exit (EOF: the parent failed). */
static void child_wait(int up_r, int down_r, int down_w)
{
	char c;

	close(up_r);
	close(down_w);
	while (read(down_r, &c, 1) < 0 && errno == EINTR)
		;
}

static void write_byte(int fd)
{
	assert_int_equal(write(fd, "x", 1), 1);
}

/* The store's lock: a process holding the store open blocks nobody; an install that
 * another process keeps locked ends with CTLV_E_BUSY naming its PID; an install judges
 * against what was committed after its store was opened. */
static void test_store_lock(void **state)
{
	static const char *const itl_recs[] = {"tftp:tftp2", NULL};
	char *d = temp_store();
	int up[2], down[2];
	ctlv_store *s = NULL, *s2 = NULL, *st = NULL;
	char lockp[600], pid[32];
	pid_t child;
	int status;

	(void)state;
	/* a child (a CTI client) opens the store and keeps it open */
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		ctlv_store *c = NULL;
		int rc = ctlv_store_open(d, &c);

		if (write(up[1], rc == CTLV_OK ? "o" : "e", 1) != 1)
			_exit(2);
		child_wait(up[0], down[0], down[1]); /* until the parent is done */
		ctlv_store_free(c);
		_exit(0);
	}
	read_byte(up[0]);
	/* meanwhile: status (open) and an install from this process */
	assert_int_equal(ctlv_store_open(d, &s), CTLV_OK);
	assert_int_equal(ctlv_store_set_wait(s, 1), CTLV_OK);
	assert_int_equal(ctlv_store_set_wait(s, -1), CTLV_E_USAGE);
	assert_int_equal(install_buf(s, build(CTL_KIND_CTL, "sast1", 0, CTL_RECS)), CTLV_OK);
	assert_int_equal(ctlv_store_open(d, &st), CTLV_OK);
	assert_true(ctlv_has_ctl(st));
	ctlv_store_free(st);
	write_byte(down[1]);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* s2 opened before s installs an ITL no TFTP record of the CTL signs... */
	ctlv_store_free(s);
	assert_int_equal(ctlv_store_open(d, &s2), CTLV_OK);
	assert_int_equal(ctlv_store_open(d, &s), CTLV_OK);
	assert_int_equal(install_buf(s, build(CTL_KIND_CTL, "sast2", 0, (const char *const[]){"sast:sast1", "sast:sast2", NULL})), CTLV_OK);
	/* ...s2 still sees the old CTL (listing tftp2) but judges against the new one */
	assert_int_equal(install_buf(s2, build(CTL_KIND_ITL, "tftp2", 0, itl_recs)), CTLV_E_SIGNER);
	assert_int_equal(ctlv_held_records(s2, CTLV_KIND_CTL), 2);
	ctlv_store_free(s2);

	/* another process in the middle of a commit (the exclusive lock, its PID written as
	 * ctlv_install does) keeps it longer than our wait: CTLV_E_BUSY with its PID */
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int fd;
		char buf[32];
		int n;

		snprintf(lockp, sizeof(lockp), "%s/lock", d);
		fd = open(lockp, O_RDWR);
		if (fd < 0 || flock(fd, LOCK_EX) != 0)
			_exit(2);
		n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
		if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n)
			_exit(3);
		if (write(up[1], "l", 1) != 1)
			_exit(4);
		child_wait(up[0], down[0], down[1]);
		_exit(0);
	}
	read_byte(up[0]);
	assert_int_equal(ctlv_store_set_wait(s, 1), CTLV_OK);
	assert_int_equal(install_buf(s, build(CTL_KIND_ITL, "tftp2", 0, itl_recs)), CTLV_E_BUSY);
	snprintf(pid, sizeof(pid), "process %ld holds", (long)child);
	assert_non_null(strstr(ctlv_last_error(s), pid));
	assert_false(ctlv_held(s, CTLV_KIND_ITL));
	/* opening waits for the shared lock the same way */
	assert_int_equal(ctlv_store_open_wait(d, 0, &st), CTLV_E_BUSY);
	assert_non_null(strstr(ctlv_last_error(st), pid));
	ctlv_store_free(st);
	assert_int_equal(ctlv_store_open_wait(d, -1, &st), CTLV_E_USAGE);
	ctlv_store_free(st);
	write_byte(down[1]);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* released: the install goes through (the CTL lists no TFTP: refused on the merits) */
	assert_int_equal(install_buf(s, build(CTL_KIND_ITL, "tftp2", 0, itl_recs)), CTLV_E_SIGNER);
	ctlv_store_free(s);
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
	rm_store(d);
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
		cmocka_unit_test(test_itl_refused_with_pins),
		cmocka_unit_test(test_itl_dropped_on_ctl),
		cmocka_unit_test(test_future_dates),
		cmocka_unit_test(test_held_future_not_blocking),
		cmocka_unit_test(test_rejudge_checks_signature_and_date),
		cmocka_unit_test(test_unjudged_itl_ignored),
		cmocka_unit_test(test_drop_crash),
		cmocka_unit_test(test_store_lock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
