/* ctlverify.c - the device side's trust rules (SPEC §5); see ctlverify.h */
#include "ctlverify.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "ctl.h"
#include "store.h"

_Static_assert(CTLV_E_INTERNAL == CTL_E_INTERNAL && CTLV_E_USAGE == CTL_E_USAGE &&
		       CTLV_E_IO == CTL_E_IO && CTLV_E_MALFORMED == CTL_E_MALFORMED &&
		       CTLV_E_SIGNATURE == CTL_E_SIGNATURE && CTLV_E_SIGNER == CTL_E_SIGNER &&
		       CTLV_E_UNSUPPORTED == CTL_E_UNSUPPORTED &&
		       CTLV_E_DECRYPT == CTL_E_DECRYPT && CTLV_E_POLICY == CTL_E_POLICY &&
		       CTLV_E_NETWORK == CTL_E_NETWORK && CTLV_E_BUSY == CTL_E_CANCELLED,
	       "ctlverify.h codes must equal enum ctl_status");
_Static_assert(CTLV_KIND_CTL == CTL_KIND_CTL && CTLV_KIND_ITL == CTL_KIND_ITL &&
		       CTLV_KIND_SGN == CTL_KIND_SGN && CTLV_KIND_ENC_SGN == CTL_KIND_ENC_SGN &&
		       CTLV_KIND_FIRMWARE == CTL_KIND_FIRMWARE,
	       "ctlverify.h kinds must equal enum ctl_kind");

/* Signed firmware (header version 1.1) is never trusted: no CTL lists the vendor's key. */
#define FIRMWARE_REFUSED                                                                    \
	"this is signed firmware or another vendor-signed file (header version 1.1), signed " \
	"by the vendor's firmware key, which no CTL lists"

/* A timestamp this far ahead of our clock earns a warning (clock skew allowance). */
#define FUTURE_SLACK 300
/* A CTL or ITL dated further ahead than this is refused (SPEC §5: the signer's or the
 * device's clock is wrong, and a file from the future would make every real one look
 * like a replay). */
#define FUTURE_LIMIT (24 * 3600)
/* A device clock before this (2025-01-01) is certainly wrong: no file is judged by it
 * without saying so. */
#define CLOCK_FLOOR 1735689600LL

#define MAX_PINS 16

struct ctlv_store {
	struct store st;
	struct ctl_err err;
	char warning[1024];
	char note[256];
	char signer[512];
	int kind;
	char pins[MAX_PINS][65]; /* lowercase hex, no colons: SHA-1 (40) or SHA-256 (64) */
	size_t npins;
};

static void reset_last(ctlv_store *s)
{
	memset(&s->err, 0, sizeof(s->err));
	s->warning[0] = s->note[0] = s->signer[0] = 0;
	s->kind = 0;
}

static void set_str(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

/* Starts a decision about a file: clears the last one, parses data into *f and records
 * its kind and the header's signer name. */
static int begin_file(ctlv_store *s, const uint8_t *data, size_t len, struct ctl_file **f)
{
	int rc;

	reset_last(s);
	rc = ctl_parse(data, len, f, &s->err);
	if (rc != CTL_OK)
		return rc;
	s->kind = (*f)->kind;
	set_str(s->signer, sizeof(s->signer), (*f)->hdr.signer_name);
	return CTL_OK;
}

static void warn(ctlv_store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(ctlv_store *s, const char *fmt, ...)
{
	va_list ap;
	size_t n = strlen(s->warning);

	if (n && n + 2 < sizeof(s->warning)) { /* several: one line, in order */
		memcpy(s->warning + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(s->warning + n, sizeof(s->warning) - n, fmt, ap);
	va_end(ap);
}

/* --- the store object --- */

ctlv_store *ctlv_store_new(void)
{
	ctlv_store *s = calloc(1, sizeof(*s));

	if (s)
		store_open(&s->st, NULL, STORE_DEFAULT_WAIT, NULL);
	return s;
}

int ctlv_store_open_wait(const char *dir, int wait_seconds, ctlv_store **out)
{
	ctlv_store *s = calloc(1, sizeof(*s));

	*out = s;
	if (!s)
		return CTLV_E_INTERNAL;
	s->st.lock_fd = -1;
	if (!dir)
		return ctl_fail(&s->err, CTL_E_USAGE, "no store directory given");
	if (wait_seconds < 0 || wait_seconds > 3600)
		return ctl_fail(&s->err, CTL_E_USAGE, "lock wait %d s out of range (0 to 3600)", wait_seconds);
	return store_open(&s->st, dir, wait_seconds, &s->err);
}

int ctlv_store_open(const char *dir, ctlv_store **out)
{
	return ctlv_store_open_wait(dir, STORE_DEFAULT_WAIT, out);
}

int ctlv_store_set_wait(ctlv_store *s, int seconds)
{
	reset_last(s);
	if (seconds < 0 || seconds > 3600)
		return ctl_fail(&s->err, CTL_E_USAGE, "lock wait %d s out of range (0 to 3600)", seconds);
	s->st.wait_s = seconds;
	return CTL_OK;
}

void ctlv_store_free(ctlv_store *s)
{
	if (!s)
		return;
	store_close(&s->st);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

const char *ctlv_last_error(const ctlv_store *s)
{
	return s ? s->err.msg : "out of memory";
}
const char *ctlv_last_warning(const ctlv_store *s) { return s->warning; }
const char *ctlv_last_note(const ctlv_store *s) { return s->note; }
int ctlv_last_kind(const ctlv_store *s) { return s->kind; }
const char *ctlv_last_signer(const ctlv_store *s) { return s->signer; }

void ctlv_free(uint8_t *p, size_t len)
{
	if (!p)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}

int ctlv_expect_sast(ctlv_store *s, const char *fingerprint)
{
	char hex[65];
	size_t n = 0;

	reset_last(s);
	if (!fingerprint)
		return ctl_fail(&s->err, CTL_E_USAGE, "no fingerprint given");
	for (const char *p = fingerprint; *p; p++) {
		if (*p == ':')
			continue;
		if (!isxdigit((unsigned char)*p) || n >= 64)
			return ctl_fail(&s->err, CTL_E_USAGE, "SAST fingerprint '%.100s' is not the hex of a SHA-256 (64 digits) or SHA-1 (40 digits)", fingerprint);
		hex[n++] = (char)tolower((unsigned char)*p);
	}
	hex[n] = 0;
	if (n != 40 && n != 64)
		return ctl_fail(&s->err, CTL_E_USAGE, "SAST fingerprint '%.100s' has %zu hex digits; expected 64 (SHA-256) or 40 (SHA-1)", fingerprint, n);
	if (s->npins >= MAX_PINS)
		return ctl_fail(&s->err, CTL_E_USAGE, "at most %d SAST fingerprints", MAX_PINS);
	memcpy(s->pins[s->npins++], hex, n + 1);
	return CTL_OK;
}

/* --- matching signers against held records --- */

static int role_sast(int role) { return role == CTL_ROLE_SAST; }
static int role_tftp(int role) { return ctl_role_is_tftp(role); }
static int role_itl_signer(int role) { return role == CTL_ROLE_SAST || ctl_role_is_tftp(role); }
static int role_ccm(int role) { return role == CTL_ROLE_CCM || role == CTL_ROLE_CCM_TFTP; }

/* The record of `list` (a held CTL/ITL) that names the signer of header h, has a
 * certificate and a role accepted by role_ok. *other gets a matching record of any
 * other role (to tell "unknown" from "wrong role"). */
static const struct ctl_record *find_signer_in(const struct ctl_file *list,
					       const struct ctl_header *h, int (*role_ok)(int),
					       const struct ctl_record **other)
{
	if (!list || !h->issuer_name)
		return NULL;
	for (size_t i = 0; i < list->nrecords; i++) {
		const struct ctl_record *r = &list->records[i];

		if (!r->cert.len || !ctl_record_is(r, h->issuer_name, &h->signer_serial))
			continue;
		if (role_ok(r->role))
			return r;
		if (other && !*other)
			*other = r;
	}
	return NULL;
}

static const char *article(int kind)
{
	return kind == CTL_KIND_CTL ? "a" : "an"; /* a CTL, an ITL, an SGN, an ENC-SGN */
}

static char *serial_hex(const struct ctl_buf *b)
{
	return ctl_hex(b->data, b->len > 32 ? 32 : b->len);
}

/* begin_file for a decision about kinds k1 and k2 only: signed firmware ("..., not
 * FW_WHAT; refused") and any other kind ("this is a KIND" WHAT) are refused, CTL_E_POLICY,
 * and *f is freed. */
static int begin_kind(ctlv_store *s, const uint8_t *data, size_t len, int k1, int k2,
		      const char *fw_what, const char *what, struct ctl_file **f)
{
	int rc = begin_file(s, data, len, f);

	if (rc != CTL_OK)
		return rc;
	if ((*f)->kind == CTL_KIND_FIRMWARE)
		rc = ctl_fail(&s->err, CTL_E_POLICY, FIRMWARE_REFUSED ", not %s; refused", fw_what);
	else if ((*f)->kind != k1 && (*f)->kind != k2)
		rc = ctl_fail(&s->err, CTL_E_POLICY, "this is %s %s%s", article((*f)->kind),
			      ctl_kind_name((*f)->kind), what);
	if (rc != CTL_OK) {
		ctl_file_free(*f);
		*f = NULL;
	}
	return rc;
}

/* "unknown signer" error naming the header's signer. */
static int fail_unknown_signer(ctlv_store *s, const struct ctl_file *f, const char *what)
{
	char *ser = serial_hex(&f->hdr.signer_serial);
	int rc = ctl_fail(&s->err, CTL_E_SIGNER, "%s is signed by '%.200s' (issuer '%.120s', serial %s), which is not %s",
			  ctl_kind_name(f->kind), f->hdr.signer_name ? f->hdr.signer_name : "?",
			  f->hdr.issuer_name ? f->hdr.issuer_name : "?", ser ? ser : "?", what);
	free(ser);
	return rc;
}

static int verify_with_record(ctlv_store *s, const struct ctl_file *f, const struct ctl_record *r,
			      const char *whose)
{
	X509 *x = ctl_record_x509(r, &s->err);
	int rc;

	if (!x)
		return s->err.code ? s->err.code : CTL_E_MALFORMED;
	rc = ctl_verify_cert(f, x, &s->err);
	X509_free(x);
	if (rc != CTL_OK)
		ctl_fail_prefix(&s->err, "%s signature does not verify with %s '%.200s'",
				ctl_kind_name(f->kind), whose, r->subject ? r->subject : "?");
	return rc;
}

static void fmt_utc(long long t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, cap, "%lld", t);
}

static void check_future(ctlv_store *s, const struct ctl_file *f)
{
	time_t now = time(NULL);

	if ((long long)f->hdr.timestamp > (long long)now + FUTURE_SLACK) {
		char when[32];

		fmt_utc((long long)f->hdr.timestamp, when, sizeof(when));
		warn(s, "%s header timestamp %s is in the future (this clock or the signer's is wrong); accepted anyway",
		     ctl_kind_name(f->kind), when);
	}
}

/* A CTL or ITL dated more than FUTURE_LIMIT ahead of this device's clock is refused,
 * saying whose clock is wrong. f's signature has been verified (signer: its subject). */
static int check_not_ahead(ctlv_store *s, const struct ctl_file *f, const char *signer)
{
	long long now = (long long)time(NULL);
	char when[32], clock[32];

	if ((long long)f->hdr.timestamp <= now + FUTURE_LIMIT)
		return CTL_OK;
	fmt_utc((long long)f->hdr.timestamp, when, sizeof(when));
	fmt_utc(now, clock, sizeof(clock));
	if (now < CLOCK_FLOOR)
		return ctl_fail(&s->err, CTL_E_POLICY, "%s is dated %s, more than 24 hours ahead of this device's clock (%s), and it is this device's clock that is wrong: set it (NTP) and try again; refused",
				ctl_kind_name(f->kind), when, clock);
	return ctl_fail(&s->err, CTL_E_POLICY, "%s is dated %s, more than 24 hours ahead of this device's clock (%s): the clock of its signer '%.200s' was wrong when it signed (or the file is forged); have it signed again with the right date; refused",
			ctl_kind_name(f->kind), when, clock, signer ? signer : "?");
}

/* The replay rule: a new file must not be older than the held one. When the held file
 * is itself dated beyond this device's clock (held from before that was refused, or the
 * clock went back), its date proves nothing and would block every real file: the time
 * this device installed it (by its own clock) counts instead. */
static int check_replay(ctlv_store *s, const struct ctl_file *f, const struct store_held *h)
{
	long long now = (long long)time(NULL), held_ts = (long long)h->file->hdr.timestamp;
	const char *name = ctl_kind_name(f->kind);
	char a[32], b[32];

	if (held_ts <= now + FUTURE_LIMIT) {
		if ((long long)f->hdr.timestamp < held_ts)
			return ctl_fail(&s->err, CTL_E_POLICY, "%s is older than the held one (timestamp %u < %lld): a replay? held %s kept",
					name, f->hdr.timestamp, held_ts, name);
		return CTL_OK;
	}
	if ((long long)f->hdr.timestamp < (h->installed < now ? h->installed : now)) {
		fmt_utc((long long)f->hdr.timestamp, a, sizeof(a));
		fmt_utc(h->installed, b, sizeof(b));
		return ctl_fail(&s->err, CTL_E_POLICY, "%s is dated %s, before the held %s was installed (%s by this device's clock; the held one's own date is beyond this clock, so it does not count): a replay? held %s kept",
				name, a, name, b, name);
	}
	return CTL_OK;
}

/* Structural rules for a list we are about to hold. */
static int check_list(ctlv_store *s, const struct ctl_file *f)
{
	size_t nsast = 0;
	struct ctl_cert_id *ids;

	if (ctl_cert_ids_of_records(f->records, f->nrecords, &ids) != CTL_OK)
		return ctl_fail(&s->err, CTL_E_INTERNAL, "out of memory");
	for (size_t i = 0; i < f->nrecords; i++) {
		const struct ctl_record *a = &f->records[i];

		if (a->role == CTL_ROLE_SAST && a->cert.len)
			nsast++;
		for (size_t j = i + 1; j < f->nrecords; j++) {
			const struct ctl_record *b = &f->records[j];

			if (a->role == b->role && ctl_cert_id_equal(&ids[i], &ids[j])) {
				ctl_cert_ids_free(ids, f->nrecords);
				return ctl_fail(&s->err, CTL_E_MALFORMED, "%s records %zu and %zu are the same %s certificate ('%.200s') listed twice",
						ctl_kind_name(f->kind), i + 1, j + 1, ctl_role_label(a->role, NULL, 0),
						a->subject ? a->subject : "?");
			}
		}
	}
	ctl_cert_ids_free(ids, f->nrecords);
	if (f->kind == CTL_KIND_CTL && nsast == 0)
		return ctl_fail(&s->err, CTL_E_POLICY, "CTL has no SAST record with a certificate, so no later CTL could ever be accepted; refused");
	return CTL_OK;
}

static int pin_matches(ctlv_store *s, const struct ctl_record *r, char *fp256, size_t cap)
{
	X509 *x = ctl_record_x509(r, &s->err);
	char *f256, *f1;
	int ok = 0;

	if (!x)
		return -1;
	f256 = ctl_cert_fingerprint(x, CTL_HASH_SHA256);
	f1 = ctl_cert_fingerprint(x, CTL_HASH_SHA1);
	X509_free(x);
	if (!f256 || !f1) {
		free(f256);
		free(f1);
		ctl_fail(&s->err, CTL_E_INTERNAL, "cannot compute a fingerprint");
		return -1;
	}
	for (size_t i = 0; i < s->npins; i++)
		if (!strcmp(s->pins[i], f256) || !strcmp(s->pins[i], f1))
			ok = 1;
	set_str(fp256, cap, f256);
	free(f256);
	free(f1);
	return ok;
}

static int accept_ctl(ctlv_store *s, const struct ctl_file *f, const char **trust,
		      const char **signer)
{
	const struct ctl_file *held = s->st.ctl.file;
	const struct ctl_record *r;
	int rc;

	if (!held) {
		char fp[65] = "";
		int m;

		rc = ctl_verify_self(f, &s->err);
		if (rc != CTL_OK)
			return ctl_fail_prefix(&s->err, "first CTL refused");
		r = ctl_find_signer(f, CTL_ROLE_SAST);
		if (!r)
			return ctl_fail(&s->err, CTL_E_SIGNER, "first CTL refused: its signer is not one of its SAST records");
		m = pin_matches(s, r, fp, sizeof(fp));
		if (m < 0)
			return s->err.code;
		*signer = r->subject;
		if (s->npins) {
			if (!m)
				return ctl_fail(&s->err, CTL_E_POLICY, "first CTL refused: its signer '%.200s' (SHA-256 %s) is none of the expected SAST fingerprints",
						r->subject ? r->subject : "?", fp);
			*trust = "pinned";
			set_str(s->note, sizeof(s->note), "first CTL, signer matches a pinned SAST fingerprint");
		} else {
			*trust = "tofu";
			set_str(s->note, sizeof(s->note), "first CTL, TRUSTED ON FIRST USE");
			warn(s, "no CTL was held: this CTL is TRUSTED ON FIRST USE, signed by '%.200s' (SHA-256 %s); pin it with --expect-sast to be sure",
			     r->subject ? r->subject : "?", fp);
		}
		return check_not_ahead(s, f, r->subject);
	}
	r = find_signer_in(held, &f->hdr, role_sast, NULL);
	if (!r)
		return fail_unknown_signer(s, f, "a SAST of the held CTL; held CTL kept");
	rc = verify_with_record(s, f, r, "held SAST");
	if (rc != CTL_OK)
		return ctl_fail_prefix(&s->err, "held CTL kept");
	rc = check_not_ahead(s, f, r->subject);
	if (rc == CTL_OK)
		rc = check_replay(s, f, &s->st.ctl);
	if (rc != CTL_OK)
		return rc;
	*trust = "signed-by-held-sast";
	*signer = r->subject;
	set_str(s->note, sizeof(s->note), "signed by a SAST of the held CTL");
	return CTL_OK;
}

static int accept_itl(ctlv_store *s, const struct ctl_file *f, const char **trust,
		      const char **signer)
{
	const struct ctl_file *ctl = s->st.ctl.file, *itl = s->st.itl.file;
	const struct ctl_record *r, *other = NULL;
	int rc;

	if (!ctl && s->npins)
		return ctl_fail(&s->err, CTL_E_POLICY, "ITL refused: SAST fingerprints are pinned but no CTL is held, so no ITL can be trusted (an ITL is trusted only through a CTL signed by a pinned SAST); install that CTL first");
	if (ctl) {
		r = find_signer_in(ctl, &f->hdr, role_tftp, &other);
		if (!r && other)
			return ctl_fail(&s->err, CTL_E_POLICY, "ITL is signed by '%.200s', which the held CTL lists as %s, not TFTP or CCM+TFTP; held ITL kept",
					other->subject ? other->subject : "?", ctl_role_label(other->role, NULL, 0));
		if (!r)
			return fail_unknown_signer(s, f, "a TFTP or CCM+TFTP record of the held CTL; ITL refused");
		rc = verify_with_record(s, f, r, "the held CTL's TFTP record");
		if (rc != CTL_OK)
			return ctl_fail_prefix(&s->err, "ITL refused");
		*trust = "signed-by-ctl";
		set_str(s->note, sizeof(s->note), "signed by a TFTP record of the held CTL");
	} else if (itl) {
		r = find_signer_in(itl, &f->hdr, role_itl_signer, NULL);
		if (!r)
			return fail_unknown_signer(s, f, "listed in the held ITL; held ITL kept");
		rc = verify_with_record(s, f, r, "the held ITL's record");
		if (rc != CTL_OK)
			return ctl_fail_prefix(&s->err, "held ITL kept");
		*trust = "signed-by-held-itl";
		set_str(s->note, sizeof(s->note), "signed by a record of the held ITL");
	} else {
		rc = ctl_verify_self(f, &s->err);
		if (rc != CTL_OK)
			return ctl_fail_prefix(&s->err, "first ITL refused");
		r = ctl_find_signer(f, -1);
		if (!r)
			return ctl_fail(&s->err, CTL_E_SIGNER, "first ITL refused: its signer is not one of its records");
		*trust = "first-sight";
		set_str(s->note, sizeof(s->note), "first ITL, no CTL held: trusted on first sight");
	}
	rc = check_not_ahead(s, f, r->subject);
	if (rc == CTL_OK && itl)
		rc = check_replay(s, f, &s->st.itl);
	if (rc != CTL_OK)
		return rc;
	*signer = r->subject;
	return CTL_OK;
}

/* A new CTL judges the held ITL again: it stays only if its signer is a TFTP or
 * CCM+TFTP record of the new CTL whose certificate verifies it, and it is not dated
 * beyond this device's clock. Otherwise *why says why it is dropped (with the CTL, in
 * one commit). */
static void rejudge_itl(ctlv_store *s, const struct ctl_file *ctl, const char **itl_trust,
			char *why, size_t cap)
{
	const struct ctl_file *itl = s->st.itl.file;
	const struct ctl_record *r, *other = NULL;
	const char *subj = s->st.itl.signer;

	why[0] = 0;
	if (!itl)
		return;
	r = find_signer_in(ctl, &itl->hdr, role_tftp, &other);
	if (!r && other) {
		snprintf(why, cap, "the new CTL lists its signer '%.200s' as %s, not TFTP or CCM+TFTP", subj, ctl_role_label(other->role, NULL, 0));
	} else if (!r) {
		snprintf(why, cap, "its signer '%.200s' is not a TFTP or CCM+TFTP record of the new CTL", subj);
	} else {
		struct ctl_err e = {0};
		X509 *x = ctl_record_x509(r, &e);

		if (!x || ctl_verify_cert(itl, x, &e) != CTL_OK)
			snprintf(why, cap, "its signature does not verify with the new CTL's record '%.200s'", r->subject ? r->subject : "?");
		else if ((long long)itl->hdr.timestamp > (long long)time(NULL) + FUTURE_LIMIT)
			snprintf(why, cap, "it is dated more than 24 hours ahead of this device's clock");
		X509_free(x);
	}
	if (why[0]) {
		warn(s, "the held ITL (signed by '%.200s') is DROPPED: %s; configs are trusted only through the new CTL until an ITL it signs is installed",
		     subj, why);
		return;
	}
	*itl_trust = "signed-by-ctl";
}

int ctlv_install(ctlv_store *s, const uint8_t *data, size_t len, int expect_kind)
{
	struct ctl_file *f = NULL;
	const char *trust = NULL, *signer = NULL, *itl_trust = NULL;
	char drop_why[400] = "";
	struct store_held *h;
	char hex[65];
	int locked = 0;
	int rc;

	rc = begin_kind(s, data, len, CTL_KIND_CTL, CTL_KIND_ITL, "a CTL or ITL",
			" file, not a CTL or ITL", &f);
	if (rc != CTL_OK)
		return rc;
	if (expect_kind && f->kind != expect_kind) {
		rc = ctl_fail(&s->err, CTL_E_POLICY, "expected %s %s but this is %s %s (header file name '%.100s')",
			      article(expect_kind), ctl_kind_name(expect_kind), article(f->kind),
			      ctl_kind_name(f->kind),
			      f->hdr.file_name ? f->hdr.file_name : "");
		goto out;
	}
	if (!store_sha256_hex(data, len, hex)) {
		rc = ctl_fail(&s->err, CTL_E_INTERNAL, "SHA-256 failed");
		goto out;
	}
	/* Judged against the store as it is now, under the lock (re-read: another process
	 * may have installed since this one was opened). */
	rc = store_lock(&s->st, &s->err);
	if (rc != CTL_OK)
		goto out;
	locked = 1;
	h = store_held(&s->st, f->kind);
	if (h->file && !strcmp(hex, h->sha256)) {
		set_str(s->note, sizeof(s->note), "identical to the held one, unchanged");
		set_str(s->signer, sizeof(s->signer), h->signer);
		rc = CTL_OK;
		goto out;
	}
	rc = f->kind == CTL_KIND_CTL ? accept_ctl(s, f, &trust, &signer)
				     : accept_itl(s, f, &trust, &signer);
	if (rc == CTL_OK)
		rc = check_list(s, f);
	if (rc != CTL_OK)
		goto out;
	check_future(s, f);
	if (f->kind == CTL_KIND_CTL)
		rejudge_itl(s, f, &itl_trust, drop_why, sizeof(drop_why));
	set_str(s->signer, sizeof(s->signer), signer);
	rc = store_commit(&s->st, f, signer, trust, itl_trust, drop_why[0] ? drop_why : NULL,
			  &s->err);
	if (s->st.ctl.file == f || s->st.itl.file == f)
		f = NULL; /* held now (also when the commit's last steps failed) */
	if (rc == CTL_OK) {
		if (drop_why[0]) {
			size_t n = strlen(s->note);

			snprintf(s->note + n, sizeof(s->note) - n, "; held ITL dropped");
		}
	}
out:
	if (locked)
		store_unlock(&s->st);
	ctl_file_free(f);
	return rc;
}

static int copy_out(ctlv_store *s, const uint8_t *p, size_t n, uint8_t **out, size_t *out_len)
{
	*out = malloc(n ? n : 1);
	if (!*out)
		return ctl_fail(&s->err, CTL_E_INTERNAL, "out of memory");
	if (n)
		memcpy(*out, p, n);
	*out_len = n;
	return CTL_OK;
}

static int decrypt_with(ctlv_store *s, const struct ctl_file *f, const char *device_key,
			uint8_t **out, size_t *out_len)
{
	struct ctl_buf plain = {0};
	EVP_PKEY *k;
	int rc;

	if (!device_key)
		return ctl_fail(&s->err, CTL_E_USAGE, "the file is encrypted (.enc.sgn): give the device's private key (--device-key FILE)");
	k = ctl_pkey_load(device_key, &s->err);
	if (!k)
		return s->err.code ? s->err.code : CTL_E_IO;
	rc = ctl_decrypt(f, k, &plain, &s->err);
	EVP_PKEY_free(k);
	if (rc != CTL_OK)
		return rc;
	rc = copy_out(s, plain.data, plain.len, out, out_len);
	ctl_buf_clear(&plain);
	return rc;
}

int ctlv_verify_file(ctlv_store *s, const uint8_t *data, size_t len, const char *requested_name,
		     const char *device_key, uint8_t **out, size_t *out_len)
{
	const struct ctl_file *ctl = s->st.ctl.file, *itl = s->st.itl.file;
	const struct ctl_record *r, *other = NULL;
	struct ctl_file *f = NULL;
	const uint8_t *body;
	size_t blen;
	int from_itl = 0;
	int rc;

	*out = NULL;
	*out_len = 0;
	rc = begin_kind(s, data, len, CTL_KIND_SGN, CTL_KIND_ENC_SGN,
			"a configuration file (.sgn or .enc.sgn)", ", not a signed file (.sgn or .enc.sgn)",
			&f);
	if (rc != CTL_OK)
		return rc;
	if (!ctl && !itl) {
		rc = ctl_fail(&s->err, CTL_E_POLICY, "no CTL or ITL is held, so no signer can be trusted; install a CTL first");
		goto out;
	}
	if (!ctl && s->npins) {
		rc = ctl_fail(&s->err, CTL_E_POLICY, "SAST fingerprints are pinned but no CTL is held: a file is trusted only through a CTL signed by a pinned SAST (a held ITL does not count); refused");
		goto out;
	}
	/* With a CTL held, an ITL counts only if that CTL vouched for it: one held from
	 * before the CTL by a version that did not judge it again is ignored. */
	if (ctl && itl && strcmp(s->st.itl.trust, "signed-by-ctl") != 0)
		itl = NULL;
	r = find_signer_in(ctl, &f->hdr, role_tftp, &other);
	if (!r) {
		r = find_signer_in(itl, &f->hdr, role_tftp, &other);
		from_itl = r != NULL;
	}
	if (!r && other) {
		rc = ctl_fail(&s->err, CTL_E_POLICY, "signed by '%.200s', which is listed as %s, not TFTP or CCM+TFTP; refused",
			      other->subject ? other->subject : "?", ctl_role_label(other->role, NULL, 0));
		goto out;
	}
	if (!r) {
		rc = fail_unknown_signer(s, f, "a TFTP or CCM+TFTP record of the held CTL or ITL; refused");
		goto out;
	}
	rc = verify_with_record(s, f, r, "TFTP record");
	if (rc != CTL_OK)
		goto out;
	set_str(s->signer, sizeof(s->signer), r->subject);
	if (requested_name && (!f->hdr.file_name || strcmp(f->hdr.file_name, requested_name) != 0)) {
		rc = ctl_fail(&s->err, CTL_E_POLICY, "the signed header names '%.120s' but '%.120s' was requested (a file for another device?); refused",
			      f->hdr.file_name ? f->hdr.file_name : "", requested_name);
		goto out;
	}
	check_future(s, f);
	set_str(s->note, sizeof(s->note), from_itl ? "signed by a TFTP record of the held ITL"
						   : "signed by a TFTP record of the held CTL");
	if (f->kind == CTL_KIND_ENC_SGN) {
		rc = decrypt_with(s, f, device_key, out, out_len);
	} else {
		ctl_body(f, &body, &blen);
		rc = copy_out(s, body, blen, out, out_len);
	}
out:
	ctl_file_free(f);
	return rc;
}

int ctlv_decrypt_file(ctlv_store *s, const uint8_t *data, size_t len, const char *signer_cert,
		      const char *device_key, uint8_t **out, size_t *out_len)
{
	struct ctl_file *f = NULL;
	int rc;

	*out = NULL;
	*out_len = 0;
	rc = begin_file(s, data, len, &f);
	if (rc != CTL_OK)
		return rc;
	if (f->kind != CTL_KIND_ENC_SGN) {
		rc = ctl_fail(&s->err, CTL_E_MALFORMED, "this is %s %s, not an encrypted file (.enc.sgn)", article(f->kind), ctl_kind_name(f->kind));
		goto out;
	}
	if (signer_cert) {
		X509 *x = ctl_cert_load(signer_cert, &s->err);

		if (!x) {
			rc = s->err.code ? s->err.code : CTL_E_IO;
			goto out;
		}
		rc = ctl_verify_cert(f, x, &s->err);
		X509_free(x);
		if (rc != CTL_OK) {
			ctl_fail_prefix(&s->err, "not decrypted: signature does not verify with %s", signer_cert);
			goto out;
		}
		set_str(s->note, sizeof(s->note), "signature verified with the given certificate");
	} else {
		set_str(s->note, sizeof(s->note), "signature NOT verified (no signer certificate given)");
		warn(s, "the signature was not verified (give --cert SIGNER-CERT to verify it first)");
	}
	rc = decrypt_with(s, f, device_key, out, out_len);
out:
	ctl_file_free(f);
	return rc;
}

int ctlv_has_ctl(const ctlv_store *s) { return s->st.ctl.file != NULL; }

int ctlv_check_peer(ctlv_store *s, const uint8_t *der, size_t len, unsigned flags)
{
	const struct ctl_file *ctl = s->st.ctl.file;
	const struct ctl_record *hit = NULL, *other = NULL;
	X509 *x;
	int rc = CTL_OK;

	reset_last(s);
	if (!ctl)
		return ctl_fail(&s->err, CTL_E_POLICY, "no CTL is held: a secure client must not connect; install the cluster's CTL first");
	for (size_t i = 0; i < ctl->nrecords && !hit; i++) {
		const struct ctl_record *r = &ctl->records[i];

		if (r->cert.len != len || !len || memcmp(r->cert.data, der, len) != 0)
			continue;
		if (role_ccm(r->role))
			hit = r;
		else if (!other)
			other = r;
	}
	x = ctl_cert_from_der(der, len, NULL);
	if (x) {
		char *name = ctl_name_string(X509_get_subject_name(x));

		set_str(s->signer, sizeof(s->signer), name);
		free(name);
	}
	if (!hit) {
		char hex[65] = "?";

		store_sha256_hex(der, len, hex);
		if (other)
			rc = ctl_fail(&s->err, CTL_E_POLICY, "server certificate '%.200s' is listed in the CTL as %s, not CCM or CCM+TFTP; not trusted",
				      s->signer, ctl_role_label(other->role, NULL, 0));
		else
			rc = ctl_fail(&s->err, CTL_E_SIGNER, "server certificate '%.200s' (SHA-256 %s) is not in the held CTL; not trusted",
				      s->signer[0] ? s->signer : "(unparsable)", hex);
		goto out;
	}
	if (!x) {
		rc = ctl_fail(&s->err, CTL_E_MALFORMED, "the listed server certificate cannot be parsed");
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0 ||
	    X509_cmp_current_time(X509_get0_notBefore(x)) > 0) {
		const char *why = X509_cmp_current_time(X509_get0_notAfter(x)) < 0 ? "has expired" : "is not yet valid";

		if (!(flags & CTLV_ALLOW_EXPIRED)) {
			rc = ctl_fail(&s->err, CTL_E_POLICY, "server certificate '%.200s' is listed in the CTL but %s; refused (ask the cluster admin to renew it and update the CTL)",
				      s->signer, why);
			goto out;
		}
		warn(s, "server certificate %s (accepted because expired certificates are allowed)", why);
	}
	set_str(s->note, sizeof(s->note), hit->role == CTL_ROLE_CCM ? "matches a CCM record of the held CTL" : "matches a CCM+TFTP record of the held CTL");
out:
	X509_free(x);
	return rc;
}

/* --- what is held --- */

static const struct store_held *held_of(const ctlv_store *s, int kind)
{
	if (kind == CTLV_KIND_CTL)
		return &s->st.ctl;
	if (kind == CTLV_KIND_ITL)
		return &s->st.itl;
	return NULL;
}

int ctlv_held(const ctlv_store *s, int kind)
{
	const struct store_held *h = held_of(s, kind);

	return h && h->file;
}

long long ctlv_held_installed(const ctlv_store *s, int kind)
{
	return ctlv_held(s, kind) ? held_of(s, kind)->installed : 0;
}

long long ctlv_held_timestamp(const ctlv_store *s, int kind)
{
	return ctlv_held(s, kind) ? (long long)held_of(s, kind)->file->hdr.timestamp : 0;
}

const char *ctlv_held_signer(const ctlv_store *s, int kind)
{
	return ctlv_held(s, kind) ? held_of(s, kind)->signer : "";
}

const char *ctlv_held_trust(const ctlv_store *s, int kind)
{
	return ctlv_held(s, kind) ? held_of(s, kind)->trust : "";
}

const char *ctlv_held_dropped(const ctlv_store *s, int kind, long long *when)
{
	const struct store_held *h = held_of(s, kind);

	if (when)
		*when = h && h->dropped_sha256[0] ? h->dropped_at : 0;
	return h && h->dropped_sha256[0] ? h->dropped_why : "";
}

const char *ctlv_held_sha256(const ctlv_store *s, int kind)
{
	return ctlv_held(s, kind) ? held_of(s, kind)->sha256 : "";
}

size_t ctlv_held_records(const ctlv_store *s, int kind)
{
	return ctlv_held(s, kind) ? held_of(s, kind)->file->nrecords : 0;
}

const char *ctlv_held_record_role(const ctlv_store *s, int kind, size_t i)
{
	if (i >= ctlv_held_records(s, kind))
		return NULL;
	return ctl_role_label(held_of(s, kind)->file->records[i].role, NULL, 0);
}

const char *ctlv_held_record_subject(const ctlv_store *s, int kind, size_t i)
{
	const char *subj;

	if (i >= ctlv_held_records(s, kind))
		return NULL;
	subj = held_of(s, kind)->file->records[i].subject;
	return subj ? subj : "";
}
