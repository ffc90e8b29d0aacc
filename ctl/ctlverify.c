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
#include "ctlverify_int.h"

static void reset_last(ctlv_store *s)
{
	memset(&s->err, 0, sizeof(s->err));
	s->warning[0] = s->note[0] = s->signer[0] = 0;
	s->kind = 0;
}

void cv_set_str(char *dst, size_t cap, const char *src)
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
	cv_set_str(s->signer, sizeof(s->signer), (*f)->hdr.signer_name);
	return CTL_OK;
}

void cv_warn(ctlv_store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cv_warn(ctlv_store *s, const char *fmt, ...)
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

int cv_role_sast(int role) { return role == CTL_ROLE_SAST; }
int cv_role_tftp(int role) { return ctl_role_is_tftp(role); }
int cv_role_itl_signer(int role) { return role == CTL_ROLE_SAST || ctl_role_is_tftp(role); }
static int role_ccm(int role) { return role == CTL_ROLE_CCM || role == CTL_ROLE_CCM_TFTP; }

/* The record of `list` (a held CTL/ITL) that names the signer of header h, has a
 * certificate and a role accepted by role_ok. *other gets a matching record of any
 * other role (to tell "unknown" from "wrong role"). */
const struct ctl_record *cv_find_signer_in(const struct ctl_file *list,
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

const char *cv_article(int kind)
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
int cv_begin_kind(ctlv_store *s, const uint8_t *data, size_t len, int k1, int k2,
		      const char *fw_what, const char *what, struct ctl_file **f)
{
	int rc = begin_file(s, data, len, f);

	if (rc != CTL_OK)
		return rc;
	if ((*f)->kind == CTL_KIND_FIRMWARE)
		rc = ctl_fail(&s->err, CTL_E_POLICY, FIRMWARE_REFUSED ", not %s; refused", fw_what);
	else if ((*f)->kind != k1 && (*f)->kind != k2)
		rc = ctl_fail(&s->err, CTL_E_POLICY, "this is %s %s%s", cv_article((*f)->kind),
			      ctl_kind_name((*f)->kind), what);
	if (rc != CTL_OK) {
		ctl_file_free(*f);
		*f = NULL;
	}
	return rc;
}

/* "unknown signer" error naming the header's signer. */
int cv_fail_unknown_signer(ctlv_store *s, const struct ctl_file *f, const char *what)
{
	char *ser = serial_hex(&f->hdr.signer_serial);
	int rc = ctl_fail(&s->err, CTL_E_SIGNER, "%s is signed by '%.200s' (issuer '%.120s', serial %s), which is not %s",
			  ctl_kind_name(f->kind), f->hdr.signer_name ? f->hdr.signer_name : "?",
			  f->hdr.issuer_name ? f->hdr.issuer_name : "?", ser ? ser : "?", what);
	free(ser);
	return rc;
}

int cv_verify_with_record(ctlv_store *s, const struct ctl_file *f, const struct ctl_record *r,
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

void cv_fmt_utc(long long t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, cap, "%lld", t);
}

void cv_check_future(ctlv_store *s, const struct ctl_file *f)
{
	time_t now = time(NULL);

	if ((long long)f->hdr.timestamp > (long long)now + FUTURE_SLACK) {
		char when[32];

		cv_fmt_utc((long long)f->hdr.timestamp, when, sizeof(when));
		cv_warn(s, "%s header timestamp %s is in the future (this clock or the signer's is wrong); accepted anyway",
		     ctl_kind_name(f->kind), when);
	}
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
	rc = cv_begin_kind(s, data, len, CTL_KIND_SGN, CTL_KIND_ENC_SGN,
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
	r = cv_find_signer_in(ctl, &f->hdr, cv_role_tftp, &other);
	if (!r) {
		r = cv_find_signer_in(itl, &f->hdr, cv_role_tftp, &other);
		from_itl = r != NULL;
	}
	if (!r && other) {
		rc = ctl_fail(&s->err, CTL_E_POLICY, "signed by '%.200s', which is listed as %s, not TFTP or CCM+TFTP; refused",
			      other->subject ? other->subject : "?", ctl_role_label(other->role, NULL, 0));
		goto out;
	}
	if (!r) {
		rc = cv_fail_unknown_signer(s, f, "a TFTP or CCM+TFTP record of the held CTL or ITL; refused");
		goto out;
	}
	rc = cv_verify_with_record(s, f, r, "TFTP record");
	if (rc != CTL_OK)
		goto out;
	cv_set_str(s->signer, sizeof(s->signer), r->subject);
	if (requested_name && (!f->hdr.file_name || strcmp(f->hdr.file_name, requested_name) != 0)) {
		rc = ctl_fail(&s->err, CTL_E_POLICY, "the signed header names '%.120s' but '%.120s' was requested (a file for another device?); refused",
			      f->hdr.file_name ? f->hdr.file_name : "", requested_name);
		goto out;
	}
	cv_check_future(s, f);
	cv_set_str(s->note, sizeof(s->note), from_itl ? "signed by a TFTP record of the held ITL"
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
		rc = ctl_fail(&s->err, CTL_E_MALFORMED, "this is %s %s, not an encrypted file (.enc.sgn)", cv_article(f->kind), ctl_kind_name(f->kind));
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
		cv_set_str(s->note, sizeof(s->note), "signature verified with the given certificate");
	} else {
		cv_set_str(s->note, sizeof(s->note), "signature NOT verified (no signer certificate given)");
		cv_warn(s, "the signature was not verified (give --cert SIGNER-CERT to verify it first)");
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

		cv_set_str(s->signer, sizeof(s->signer), name);
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
		cv_warn(s, "server certificate %s (accepted because expired certificates are allowed)", why);
	}
	cv_set_str(s->note, sizeof(s->note), hit->role == CTL_ROLE_CCM ? "matches a CCM record of the held CTL" : "matches a CCM+TFTP record of the held CTL");
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
