/* test_bulk.c - the bulk signer (walk, incremental check, pool) and the device-config
 * helpers, with a software signer over the vectors' CCM key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bulk.h"
#include "bytes.h"
#include "ctl.h"
#include "devcfg.h"

static char data_dir[1024];
static X509 *ccm_cert, *phone_cert, *ec_cert;
static EVP_PKEY *ccm_key, *phone_key;
static struct ctl_signer soft;

static char *datapath(const char *rel)
{
	static char buf[4][2048];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", data_dir, rel);
	return buf[i];
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char p[4096];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int read_path(const char *dir, const char *name, struct ctl_buf *out)
{
	char p[4096];
	struct ctl_err e;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return ctl_read_file(p, CTL_MAX_FILE_SIZE, out, &e);
}

static char *mktmp(void)
{
	char tmpl[] = "/tmp/ctl-bulk-XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

static void rm_rf(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* The .sgn for name in dir verifies with ccm, names itself, and carries content. */
static void assert_sgn_ok(const char *dir, const char *name, const void *content, size_t len)
{
	char sgn[600];
	struct ctl_buf b = {NULL, 0};
	struct ctl_file *f = NULL;
	struct ctl_err e;
	const uint8_t *body;
	size_t blen;

	snprintf(sgn, sizeof(sgn), "%s.sgn", name);
	assert_int_equal(read_path(dir, sgn, &b), CTL_OK);
	assert_int_equal(ctl_parse(b.data, b.len, &f, &e), CTL_OK);
	assert_int_equal(f->kind, CTL_KIND_SGN);
	assert_int_equal(ctl_verify_cert(f, ccm_cert, &e), CTL_OK);
	assert_string_equal(f->hdr.file_name, sgn);
	ctl_body(f, &body, &blen);
	assert_int_equal(blen, len);
	assert_memory_equal(body, content, len);
	ctl_file_free(f);
	ctl_buf_clear(&b);
}

static size_t count_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, ".ctlsign-", 9))
			n++;
	closedir(d);
	return n;
}

struct audit_count {
	atomic_ulong n, outcomes;
	long fail_after;           /* intents accepted before the "log" fails; -1 never */
};

static int count_intent(void *ctx, const struct bulk_done *d, size_t n, char *id,
			struct ctl_err *err)
{
	struct audit_count *c = ctx;

	for (size_t i = 0; i < n; i++) {
		assert_string_equal(d[i].result, "ok");
	}
	if (c->fail_after >= 0 && (long)atomic_load(&c->n) + (long)n > c->fail_after)
		return ctl_fail(err, CTL_E_IO, "cannot append to audit log: No space left on device");
	snprintf(id, BULK_ID_MAX, "id-%lu", (unsigned long)atomic_load(&c->n));
	atomic_fetch_add(&c->n, n);
	return CTL_OK;
}

static void count_outcome(void *ctx, const char *id, const struct bulk_done *d, size_t n)
{
	struct audit_count *c = ctx;

	assert_int_equal(strncmp(id, "id-", 3), 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(d[i].result, "ok"))
			continue; /* announced, but its rename failed */
		if (!strchr(d[i].path, '\\')) /* a display form with escapes is no path */
			assert_int_equal(access(d[i].path, F_OK), 0);
		atomic_fetch_add(&c->outcomes, 1);
	}
}

static struct bulk_opts opts(unsigned jobs)
{
	struct bulk_opts o;
	memset(&o, 0, sizeof(o));
	o.signer = &soft;
	o.jobs = jobs;
	o.quiet = true;
	return o;
}

static void test_patterns(void **state)
{
	static const char *const yes[] = {
		"SEP001122334455.cnf.xml", "XMLDefault.cnf.xml", "RingList.xml",
		"DistinctiveRingList.xml", "RingListWideband.xml",
		"English_United_States-dictionary.xml", "g3-tones.xml", "United_States-tones.xml",
		"acme-dialplan.xml", "with space.cnf.xml", NULL,
	};
	static const char *const no[] = {
		"SEP001122334455.cnf.xml.sgn", "SEP001122334455.cnf.xml.enc.sgn", "CTLFile.tlv",
		"ITLFile.tlv", ".hidden.cnf.xml", ".ctlsign-1-2.tmp", "readme.txt", "sip88xx.loads",
		"SEP001122334455.cnf", "", NULL,
	};
	const char *inc[] = {"*.txt", NULL}, *exc[] = {"XMLDefault*", NULL};
	struct bulk_patterns p = {NULL, exc};
	struct bulk_patterns q = {inc, NULL};
	(void)state;

	for (int i = 0; yes[i]; i++)
		assert_true(bulk_name_eligible(NULL, yes[i]));
	for (int i = 0; no[i]; i++)
		assert_false(bulk_name_eligible(NULL, no[i]));
	assert_false(bulk_name_eligible(&p, "XMLDefault.cnf.xml"));
	assert_true(bulk_name_eligible(&p, "SEP001122334455.cnf.xml"));
	assert_true(bulk_name_eligible(&q, "readme.txt"));
	assert_false(bulk_name_eligible(&q, "SEP001122334455.cnf.xml"));
	assert_false(bulk_name_eligible(&q, "x.txt.sgn"));
}

static void test_display_name(void **state)
{
	char *s;
	(void)state;

	s = bulk_display_name("a b\xff\n\\c");
	assert_string_equal(s, "a b\\xff\\x0a\\x5cc");
	free(s);
}

static void test_mac(void **state)
{
	char mac[13];
	(void)state;

	assert_true(devcfg_mac_from_name("SEP001122aabbCC.cnf.xml", mac));
	assert_string_equal(mac, "001122AABBCC");
	assert_false(devcfg_mac_from_name("SEP00112233445.cnf.xml", mac));
	assert_false(devcfg_mac_from_name("SEP0011223344GG.cnf.xml", mac));
	assert_false(devcfg_mac_from_name("SEP001122334455.cnf.xml.sgn", mac));
	assert_false(devcfg_mac_from_name("ATA001122334455.cnf.xml", mac));
}

static void test_device_check(void **state)
{
	static const char *const bad[] = {"notxml.bad", "otherroot.bad", "unclosed.bad",
					  "tworoots.bad", NULL};
	struct ctl_buf b = {NULL, 0};
	struct ctl_err e;
	(void)state;

	for (int i = 0; bad[i]; i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "sign/configs/%s", bad[i]);
		assert_int_equal(ctl_read_file(datapath(rel), 1 << 20, &b, &e), CTL_OK);
		memset(&e, 0, sizeof(e));
		assert_int_equal(devcfg_check_device(b.data, b.len, &e), CTL_E_MALFORMED);
		assert_non_null(strstr(e.msg, "device"));
		ctl_buf_clear(&b);
	}
	assert_int_equal(ctl_read_file(datapath("sign/configs/otherroot.bad"), 1 << 20, &b, &e), CTL_OK);
	devcfg_check_device(b.data, b.len, &e);
	assert_non_null(strstr(e.msg, "<config>"));
	ctl_buf_clear(&b);
}

/* Our minimal config for the vector's device config equals the independent one. */
static void test_minimal_matches_vector(void **state)
{
	struct ctl_buf full = {NULL, 0}, ref = {NULL, 0}, mini = {NULL, 0};
	struct ctl_file *f = NULL;
	struct ctl_err e;
	const uint8_t *body;
	size_t blen;
	(void)state;

	assert_int_equal(ctl_read_file(datapath("vectors/SEP001122334455.cnf.xml"), 1 << 20, &full, &e), CTL_OK);
	assert_int_equal(ctl_read_file(datapath("vectors/enc/SEP001122334455.cnf.xml.sgn"), 1 << 20, &ref, &e), CTL_OK);
	assert_int_equal(ctl_parse(ref.data, ref.len, &f, &e), CTL_OK);
	ctl_body(f, &body, &blen);
	assert_int_equal(devcfg_minimal(full.data, full.len, phone_cert, &mini, &e), CTL_OK);
	assert_int_equal(mini.len, blen);
	assert_memory_equal(mini.data, body, blen);
	ctl_file_free(f);
	ctl_buf_clear(&full);
	ctl_buf_clear(&ref);
	ctl_buf_clear(&mini);
}

static void test_minimal_boot_elements(void **state)
{
	struct ctl_buf full = {NULL, 0}, exp = {NULL, 0}, mini = {NULL, 0};
	struct ctl_err e;
	char *want, *at;
	(void)state;

	assert_int_equal(ctl_read_file(datapath("sign/configs/capf.cnf.xml"), 1 << 20, &full, &e), CTL_OK);
	assert_int_equal(ctl_read_file(datapath("sign/configs/capf.expected"), 1 << 20, &exp, &e), CTL_OK);
	assert_int_equal(devcfg_minimal(full.data, full.len, phone_cert, &mini, &e), CTL_OK);
	/* The expected text has HASH where the MD5 of phone.crt goes. */
	{
		uint8_t *der = NULL, md[16];
		unsigned mdlen = 0;
		int n = i2d_X509(phone_cert, &der);
		char hex[33];
		assert_true(n > 0);
		assert_true(EVP_Digest(der, (size_t)n, md, &mdlen, EVP_md5(), NULL));
		OPENSSL_free(der);
		for (int i = 0; i < 16; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		want = calloc(1, exp.len + 64);
		assert_non_null(want);
		memcpy(want, exp.data, exp.len);
		at = strstr(want, "HASH");
		assert_non_null(at);
		memmove(at + 32, at + 4, strlen(at + 4) + 1);
		memcpy(at, hex, 32);
	}
	assert_int_equal(mini.len, strlen(want));
	assert_memory_equal(mini.data, want, mini.len);
	free(want);
	ctl_buf_clear(&full);
	ctl_buf_clear(&exp);
	ctl_buf_clear(&mini);
}

static void test_cert_check(void **state)
{
	struct ctl_err e;
	(void)state;

	assert_int_equal(devcfg_check_cert(phone_cert, "phone", &e), CTL_OK);
	assert_int_equal(devcfg_check_cert(ec_cert, "phone", &e), CTL_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "EC"));
}

/* Issue 12 §8: the MAC a device certificate names (CN=SEP<MAC>, or a MIC's
 * CN=<model>-SEP<MAC>) must be the file's; one naming no MAC is taken. */
static void test_cert_mac(void **state)
{
	char mac[13];
	struct ctl_err e;
	X509 *c = X509_new();
	X509_NAME *n = X509_NAME_new();
	(void)state;

	assert_true(devcfg_cert_mac(phone_cert, mac));
	assert_string_equal(mac, "001122334455");
	assert_int_equal(devcfg_check_cert_mac(phone_cert, "001122334455", &e), CTL_OK);
	memset(&e, 0, sizeof(e));
	assert_int_equal(devcfg_check_cert_mac(phone_cert, "0011223344AA", &e), CTL_E_POLICY);
	assert_non_null(strstr(e.msg, "SEP001122334455"));
	/* a MIC: the model first, the MAC in lower case */
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
						    (const unsigned char *)"CP-7975G-SEP001e7ac4f5b6", -1, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(c, n), 1);
	assert_true(devcfg_cert_mac(c, mac));
	assert_string_equal(mac, "001E7AC4F5B6");
	assert_int_equal(devcfg_check_cert_mac(c, "001E7AC4F5B6", &e), CTL_OK);
	assert_int_equal(devcfg_check_cert_mac(c, "001E7AC4F5B7", &e), CTL_E_POLICY);
	/* 13 hex digits are not a MAC; a subject without one is taken */
	X509_NAME_free(n);
	n = X509_NAME_new();
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
						    (const unsigned char *)"SEP001E7AC4F5B61", -1, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(c, n), 1);
	assert_false(devcfg_cert_mac(c, mac));
	assert_int_equal(devcfg_check_cert_mac(c, "001E7AC4F5B6", &e), CTL_OK);
	X509_NAME_free(n);
	X509_free(c);
}

static void test_find_cert(void **state)
{
	char *d = mktmp(), p[4200];
	struct ctl_err e;
	X509 *c;
	bool missing = true;
	(void)state;

	snprintf(p, sizeof(p), "cp '%s' '%s/SEP001122334455.der'", datapath("vectors/phone.crt"), d);
	assert_int_equal(system(p), 0);
	c = devcfg_find_cert(d, "001122334455", &missing, &e);
	assert_non_null(c);
	assert_false(missing);
	assert_int_equal(X509_cmp(c, phone_cert), 0);
	X509_free(c);
	assert_null(devcfg_find_cert(d, "001122334466", &missing, &e));
	assert_true(missing);
	assert_non_null(strstr(e.msg, "SEP001122334466.pem"));
	rm_rf(d);
	free(d);
}

/* The incremental check names the signer by the rule of ctl/match.c: a .sgn whose header
 * writes the issuer in RFC 4514 order (reversed) is still the CCM key's. */
static void test_sgn_current_name_forms(void **state)
{
	static const char ours[] = "CN=cucm1.example.com,O=Example Corp,OU=Voice";
	static const char rfc[] = "OU=Voice,O=Example Corp,CN=cucm1.example.com";
	static const char other[] = "CN=cucm2.example.com,O=Example Corp,OU=Voice";
	struct ctl_buf xml = {0}, sgn = {0};
	struct ctl_file *f = NULL;
	struct ctl_err e;
	char *name;
	int alg, n = 0;
	(void)state;

	assert_int_equal(ctl_read_file(datapath("vectors/SEP001122334455.cnf.xml"), 1 << 20, &xml, &e), CTL_OK);
	assert_int_equal(ctl_read_file(datapath("vectors/SEP001122334455.cnf.xml.sgn"), 1 << 20, &sgn, &e), CTL_OK);
	assert_int_equal(ctl_parse(sgn.data, sgn.len, &f, &e), CTL_OK);
	assert_string_equal(f->hdr.issuer_name, ours);
	assert_non_null(name = strdup(f->hdr.file_name));
	alg = f->hdr.hash_alg;
	ctl_file_free(f);
	assert_true(bulk_sgn_current(xml.data, xml.len, sgn.data, sgn.len, name, alg, ccm_cert));
	for (size_t i = 0; i + sizeof(ours) - 1 <= 400; i++)
		if (!memcmp(sgn.data + i, ours, sizeof(ours) - 1)) {
			memcpy(sgn.data + i, rfc, sizeof(rfc) - 1);
			n++;
		}
	assert_true(n >= 1);
	assert_true(bulk_sgn_current(xml.data, xml.len, sgn.data, sgn.len, name, alg, ccm_cert));
	for (size_t i = 0; i + sizeof(rfc) - 1 <= 400; i++)
		if (!memcmp(sgn.data + i, rfc, sizeof(rfc) - 1))
			memcpy(sgn.data + i, other, sizeof(other) - 1);
	assert_false(bulk_sgn_current(xml.data, xml.len, sgn.data, sgn.len, name, alg, ccm_cert));
	free(name);
	ctl_buf_clear(&xml);
	ctl_buf_clear(&sgn);
}

/* A TFTP directory with odd entries: what is signed, skipped, failed; then incremental. */
static void test_dir_odd_names(void **state)
{
	char *d = mktmp(), *outside = mktmp(), p[4200], longname[256], toolong[256];
	struct bulk_opts o = opts(2);
	struct bulk_stats st;
	struct ctl_err e;
	struct audit_count ac;
	const char *xml = "<device><fullConfig>true</fullConfig></device>\n";
	const char *notxml = "\x00\x01 binary, not XML \xff";
	struct ctl_buf b = {NULL, 0};
	int rc;
	(void)state;

	atomic_init(&ac.n, 0);
	atomic_init(&ac.outcomes, 0);
	ac.fail_after = -1;
	o.intent = count_intent;
	o.outcome = count_outcome;
	o.audit_ctx = &ac;
	memset(longname, 'L', sizeof(longname));
	memcpy(longname + 251 - 8, ".cnf.xml", 9); /* 251 chars: .sgn makes 255 */
	memset(toolong, 'T', sizeof(toolong));
	memcpy(toolong + 253 - 8, ".cnf.xml", 9); /* 253 chars: .sgn would be 257 */
	write_file(d, "SEP001122334455.cnf.xml", xml, strlen(xml));
	write_file(d, "with space.cnf.xml", xml, strlen(xml));
	write_file(d, "bytes\xff\xfe.cnf.xml", xml, strlen(xml));
	write_file(d, longname, xml, strlen(xml));
	write_file(d, toolong, xml, strlen(xml));
	write_file(d, "binary.cnf.xml", notxml, 20);
	write_file(d, "RingList.xml", "<CiscoIPPhoneRingList/>", 23);
	write_file(d, "readme.txt", "not eligible", 12);
	write_file(outside, "secret.cnf.xml", xml, strlen(xml));
	snprintf(p, sizeof(p), "%s/secret.cnf.xml", outside);
	{
		char lp[4200];
		snprintf(lp, sizeof(lp), "%s/evil.cnf.xml", d);
		assert_int_equal(symlink(p, lp), 0);
		snprintf(lp, sizeof(lp), "%s/adir.cnf.xml", d);
		assert_int_equal(mkdir(lp, 0755), 0);
		snprintf(lp, sizeof(lp), "%s/huge.cnf.xml", d);
		{
			int fd = open(lp, O_WRONLY | O_CREAT, 0644);
			assert_true(fd >= 0);
			assert_int_equal(ftruncate(fd, 17 * 1024 * 1024), 0);
			close(fd);
		}
		/* a symlink named like our output must be replaced, not written through */
		snprintf(lp, sizeof(lp), "%s/RingList.xml.sgn", d);
		assert_int_equal(symlink(p, lp), 0);
	}

	memset(&st, 0, sizeof(st));
	rc = bulk_sign_dir(d, &o, &st, &e);
	assert_int_equal(rc, CTL_E_PARTIAL);
	assert_int_equal(st.signed_files, 6);
	assert_int_equal(st.failed, 2);   /* too long a name, too large a file */
	assert_int_equal(st.skipped, 2);  /* the symlink and the directory */
	assert_int_equal(st.unchanged, 0);
	assert_int_equal(atomic_load(&ac.n), 7); /* the too-long name fails only at its rename */
	assert_int_equal(atomic_load(&ac.outcomes), 6);
	assert_int_equal(json_object_array_length(st.failures), 2);
	bulk_stats_clear(&st);
	assert_sgn_ok(d, "SEP001122334455.cnf.xml", xml, strlen(xml));
	assert_sgn_ok(d, "with space.cnf.xml", xml, strlen(xml));
	assert_sgn_ok(d, "bytes\xff\xfe.cnf.xml", xml, strlen(xml));
	assert_sgn_ok(d, longname, xml, strlen(xml));
	assert_sgn_ok(d, "binary.cnf.xml", notxml, 20);
	assert_sgn_ok(d, "RingList.xml", "<CiscoIPPhoneRingList/>", 23);
	assert_int_not_equal(read_path(d, "evil.cnf.xml.sgn", &b), CTL_OK);
	assert_int_not_equal(read_path(d, "readme.txt.sgn", &b), CTL_OK);
	/* the symlink target outside was not touched; the link itself was replaced */
	assert_int_equal(read_path(outside, "secret.cnf.xml", &b), CTL_OK);
	assert_int_equal(b.len, strlen(xml));
	ctl_buf_clear(&b);
	{
		struct stat sb;
		char lp[4200];
		snprintf(lp, sizeof(lp), "%s/RingList.xml.sgn", d);
		assert_int_equal(lstat(lp, &sb), 0);
		assert_true(S_ISREG(sb.st_mode));
	}
	assert_int_equal(count_tmp(d), 0);

	/* Nothing changed: nothing signed. */
	memset(&st, 0, sizeof(st));
	rc = bulk_sign_dir(d, &o, &st, &e);
	assert_int_equal(rc, CTL_E_PARTIAL);
	assert_int_equal(st.signed_files, 0);
	assert_int_equal(st.unchanged, 6);
	bulk_stats_clear(&st);

	/* Same size, different content: re-signed (content compared, not size or time). */
	write_file(d, "with space.cnf.xml", "<device><fullConfig>TRUE</fullConfig></device>\n",
		   strlen(xml));
	/* A different digest makes the old .sgn stale too. */
	memset(&st, 0, sizeof(st));
	rc = bulk_sign_dir(d, &o, &st, &e);
	assert_int_equal(st.signed_files, 1);
	assert_int_equal(st.unchanged, 5);
	bulk_stats_clear(&st);
	assert_sgn_ok(d, "with space.cnf.xml", "<device><fullConfig>TRUE</fullConfig></device>\n",
		      strlen(xml));

	o.hash_alg = CTL_HASH_SHA1;
	memset(&st, 0, sizeof(st));
	rc = bulk_sign_dir(d, &o, &st, &e);
	assert_int_equal(st.signed_files, 6);
	bulk_stats_clear(&st);
	o.hash_alg = CTL_HASH_SHA1;
	o.all = true;
	memset(&st, 0, sizeof(st));
	rc = bulk_sign_dir(d, &o, &st, &e);
	assert_int_equal(st.signed_files, 6);
	assert_int_equal(st.unchanged, 0);
	bulk_stats_clear(&st);
	(void)rc;
	rm_rf(d);
	rm_rf(outside);
	free(d);
	free(outside);
}

/* Thousands of entries, most not eligible; outputs into another directory. */
static void test_dir_thousands(void **state)
{
	char *d = mktmp(), *out = mktmp(), name[64];
	struct bulk_opts o = opts(3);
	struct bulk_stats st;
	struct ctl_err e;
	(void)state;

	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), i % 3 ? "SEP%012X.cnf.xml" : "junk%05d.bin", i);
		write_file(d, name, name, strlen(name));
	}
	o.outdir = out;
	memset(&st, 0, sizeof(st));
	assert_int_equal(bulk_sign_dir(d, &o, &st, &e), CTL_OK);
	assert_int_equal(st.signed_files, 2000);
	assert_int_equal(st.considered, 2000);
	bulk_stats_clear(&st);
	snprintf(name, sizeof(name), "SEP%012X.cnf.xml", 1);
	assert_sgn_ok(out, name, name, strlen(name));
	memset(&st, 0, sizeof(st));
	assert_int_equal(bulk_sign_dir(d, &o, &st, &e), CTL_OK);
	assert_int_equal(st.unchanged, 2000);
	assert_int_equal(st.signed_files, 0);
	bulk_stats_clear(&st);
	rm_rf(d);
	rm_rf(out);
	free(d);
	free(out);
}

/* Attack 5: the audit log fails (disk full) once 3 intents are in: the batch that could
 * not be announced is not published, the run stops with CTL_E_IO, no temp files stay,
 * and the rerun signs (and announces) exactly the files that are not in place. */
static void test_audit_fails(void **state)
{
	char *d = mktmp(), name[64];
	struct bulk_opts o = opts(1);
	struct bulk_stats st;
	struct ctl_err e;
	struct audit_count ac;
	DIR *dir;
	struct dirent *de;
	unsigned long sgn = 0;
	(void)state;

	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "SEP%012d.cnf.xml", i);
		write_file(d, name, name, strlen(name));
	}
	atomic_init(&ac.n, 0);
	atomic_init(&ac.outcomes, 0);
	ac.fail_after = 0;
	o.intent = count_intent;
	o.outcome = count_outcome;
	o.audit_ctx = &ac;
	memset(&st, 0, sizeof(st));
	assert_int_equal(bulk_sign_dir(d, &o, &st, &e), CTL_E_IO);
	assert_true(st.stopped);
	assert_non_null(strstr(st.stop.msg, "No space left"));
	assert_int_equal(st.signed_files, 0);
	assert_int_equal(st.not_done, 40);
	bulk_stats_clear(&st);
	dir = opendir(d);
	assert_non_null(dir);
	while ((de = readdir(dir))) {
		size_t n = strlen(de->d_name);
		sgn += n > 4 && !strcmp(de->d_name + n - 4, ".sgn");
	}
	closedir(dir);
	assert_int_equal(sgn, 0);
	assert_int_equal(count_tmp(d), 0);
	assert_int_equal(atomic_load(&ac.outcomes), 0);

	/* the log works again: every file is signed and announced (none is "unchanged") */
	ac.fail_after = -1;
	memset(&st, 0, sizeof(st));
	assert_int_equal(bulk_sign_dir(d, &o, &st, &e), CTL_OK);
	assert_int_equal(st.signed_files, 40);
	assert_int_equal(st.unchanged, 0);
	assert_int_equal(atomic_load(&ac.n), 40);
	assert_int_equal(atomic_load(&ac.outcomes), 40);
	bulk_stats_clear(&st);
	rm_rf(d);
	free(d);
}

/* A signer that fails like a pulled token after `left` signatures. */
struct gone {
	atomic_long left;
};

static int gone_sign(void *ctx, int hash_alg, const uint8_t *digest, size_t digest_len,
		     struct cbb *sig, struct ctl_err *err)
{
	struct gone *g = ctx;
	if (atomic_fetch_sub(&g->left, 1) <= 0)
		return ctl_fail(err, CTL_E_TOKEN, "the token was removed");
	return soft.sign(soft.ctx, hash_alg, digest, digest_len, sig, err);
}

static void test_token_removed(void **state)
{
	char *d = mktmp(), name[64];
	struct gone g;
	struct ctl_signer s = soft;
	struct bulk_opts o = opts(1);
	struct bulk_stats st;
	struct ctl_err e;
	DIR *dir;
	struct dirent *de;
	unsigned long sgn = 0;
	(void)state;

	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "SEP%012d.cnf.xml", i);
		write_file(d, name, name, strlen(name));
	}
	atomic_init(&g.left, 7);
	s.sign = gone_sign;
	s.ctx = &g;
	o.signer = &s;
	memset(&st, 0, sizeof(st));
	assert_int_equal(bulk_sign_dir(d, &o, &st, &e), CTL_E_TOKEN);
	assert_true(st.stopped);
	assert_non_null(strstr(st.stop.msg, "removed"));
	assert_int_equal(st.signed_files, 7);
	assert_int_equal(st.failed, 0);
	assert_true(st.not_done >= 1);
	bulk_stats_clear(&st);
	/* every .sgn there is whole and valid; no temp files */
	dir = opendir(d);
	assert_non_null(dir);
	while ((de = readdir(dir))) {
		size_t n = strlen(de->d_name);
		if (n > 4 && !strcmp(de->d_name + n - 4, ".sgn")) {
			char base[256];
			snprintf(base, sizeof(base), "%.*s", (int)(n - 4), de->d_name);
			assert_sgn_ok(d, base, base, strlen(base));
			sgn++;
		}
	}
	closedir(dir);
	assert_int_equal(sgn, 7);
	assert_int_equal(count_tmp(d), 0);

	/* Token back: the re-run finishes the job, signing only what is missing. */
	o.signer = &soft;
	o.jobs = 2;
	memset(&st, 0, sizeof(st));
	assert_int_equal(bulk_sign_dir(d, &o, &st, &e), CTL_OK);
	assert_int_equal(st.signed_files, 43);
	assert_int_equal(st.unchanged, 7);
	bulk_stats_clear(&st);
	rm_rf(d);
	free(d);
}

static void test_files_mode(void **state)
{
	char *d = mktmp(), p1[4200], p2[4200], p3[4200];
	char *files[3] = {p1, p2, p3};
	struct bulk_opts o = opts(2);
	struct bulk_stats st;
	struct ctl_err e;
	(void)state;

	write_file(d, "a.txt", "hello", 5);
	write_file(d, "b", "", 0);
	snprintf(p1, sizeof(p1), "%s/a.txt", d);
	snprintf(p2, sizeof(p2), "%s/b", d);
	snprintf(p3, sizeof(p3), "%s/missing", d);
	memset(&st, 0, sizeof(st));
	assert_int_equal(bulk_sign_files(files, 3, true, &o, &st, &e), CTL_E_PARTIAL);
	assert_int_equal(st.signed_files, 2);
	assert_int_equal(st.failed, 1);
	bulk_stats_clear(&st);
	assert_sgn_ok(d, "a.txt", "hello", 5);
	assert_sgn_ok(d, "b", "", 0);
	/* explicit files are always signed */
	memset(&st, 0, sizeof(st));
	assert_int_equal(bulk_sign_files(files, 2, true, &o, &st, &e), CTL_OK);
	assert_int_equal(st.signed_files, 2);
	bulk_stats_clear(&st);
	rm_rf(d);
	free(d);
}

/* The encrypted output round-trips through the library with the device key. */
static void test_enc_roundtrip(void **state)
{
	struct ctl_buf full = {NULL, 0}, enc = {NULL, 0}, plain = {NULL, 0};
	struct ctl_build_opts bo = {0, 0, "SEP001122334455.cnf.xml.enc.sgn", -1};
	struct ctl_file *f = NULL;
	struct ctl_err e;
	(void)state;

	assert_int_equal(ctl_read_file(datapath("vectors/SEP001122334455.cnf.xml"), 1 << 20, &full, &e), CTL_OK);
	assert_int_equal(ctl_build_enc_sgn(full.data, full.len, phone_cert, &soft, &bo, &enc, &e), CTL_OK);
	assert_int_equal(ctl_parse(enc.data, enc.len, &f, &e), CTL_OK);
	assert_int_equal(f->kind, CTL_KIND_ENC_SGN);
	assert_int_equal(ctl_verify_cert(f, ccm_cert, &e), CTL_OK);
	assert_int_equal(ctl_decrypt(f, phone_key, &plain, &e), CTL_OK);
	assert_int_equal(plain.len, full.len);
	assert_memory_equal(plain.data, full.data, full.len);
	ctl_file_free(f);
	memset(&e, 0, sizeof(e));
	assert_int_equal(ctl_build_enc_sgn(full.data, full.len, ec_cert, &soft, &bo, &enc, &e),
			 CTL_E_UNSUPPORTED);
	ctl_buf_clear(&full);
	ctl_buf_clear(&enc);
	ctl_buf_clear(&plain);
}

static int setup(void **state)
{
	struct ctl_err e;
	(void)state;

	ccm_cert = ctl_cert_load(datapath("vectors/ccm.crt"), &e);
	ccm_key = ctl_pkey_load(datapath("vectors/ccm.key"), &e);
	phone_cert = ctl_cert_load(datapath("vectors/phone.crt"), &e);
	phone_key = ctl_pkey_load(datapath("vectors/phone.key"), &e);
	ec_cert = ctl_cert_load(datapath("sign/SEP00AABBCCDDEE-ec.crt"), &e);
	if (!ccm_cert || !ccm_key || !phone_cert || !phone_key || !ec_cert)
		return -1;
	ctl_signer_from_pkey(&soft, ccm_key, ccm_cert);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	X509_free(ccm_cert);
	X509_free(phone_cert);
	X509_free(ec_cert);
	EVP_PKEY_free(ccm_key);
	EVP_PKEY_free(phone_key);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_display_name),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_device_check),
		cmocka_unit_test(test_minimal_matches_vector),
		cmocka_unit_test(test_minimal_boot_elements),
		cmocka_unit_test(test_cert_check),
		cmocka_unit_test(test_cert_mac),
		cmocka_unit_test(test_find_cert),
		cmocka_unit_test(test_sgn_current_name_forms),
		cmocka_unit_test(test_dir_odd_names),
		cmocka_unit_test(test_dir_thousands),
		cmocka_unit_test(test_token_removed),
		cmocka_unit_test(test_audit_fails),
		cmocka_unit_test(test_files_mode),
		cmocka_unit_test(test_enc_roundtrip),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s TEST_DATA_DIR\n", argv[0]);
		return 2;
	}
	snprintf(data_dir, sizeof(data_dir), "%s", argv[1]);
	return cmocka_run_group_tests(tests, setup, teardown);
}
