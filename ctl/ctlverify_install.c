/* ctlverify_install.c - ctlv_install: whether a device takes a CTL or ITL (SPEC §5): its
 * signer among the held records or pins, the replay and future-date rules, the held ITL
 * judged again; the commit through store.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "ctlverify_int.h"

/* A CTL or ITL dated more than FUTURE_LIMIT ahead of this device's clock is refused,
 * saying whose clock is wrong. f's signature has been verified (signer: its subject). */
static int check_not_ahead(ctlv_store *s, const struct ctl_file *f, const char *signer)
{
	long long now = (long long)time(NULL);
	char when[32], clock[32];

	if ((long long)f->hdr.timestamp <= now + FUTURE_LIMIT)
		return CTL_OK;
	cv_fmt_utc((long long)f->hdr.timestamp, when, sizeof(when));
	cv_fmt_utc(now, clock, sizeof(clock));
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
		cv_fmt_utc((long long)f->hdr.timestamp, a, sizeof(a));
		cv_fmt_utc(h->installed, b, sizeof(b));
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
	cv_set_str(fp256, cap, f256);
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
			cv_set_str(s->note, sizeof(s->note), "first CTL, signer matches a pinned SAST fingerprint");
		} else {
			*trust = "tofu";
			cv_set_str(s->note, sizeof(s->note), "first CTL, TRUSTED ON FIRST USE");
			cv_warn(s, "no CTL was held: this CTL is TRUSTED ON FIRST USE, signed by '%.200s' (SHA-256 %s); pin it with --expect-sast to be sure",
			     r->subject ? r->subject : "?", fp);
		}
		return check_not_ahead(s, f, r->subject);
	}
	r = cv_find_signer_in(held, &f->hdr, cv_role_sast, NULL);
	if (!r)
		return cv_fail_unknown_signer(s, f, "a SAST of the held CTL; held CTL kept");
	rc = cv_verify_with_record(s, f, r, "held SAST");
	if (rc != CTL_OK)
		return ctl_fail_prefix(&s->err, "held CTL kept");
	rc = check_not_ahead(s, f, r->subject);
	if (rc == CTL_OK)
		rc = check_replay(s, f, &s->st.ctl);
	if (rc != CTL_OK)
		return rc;
	*trust = "signed-by-held-sast";
	*signer = r->subject;
	cv_set_str(s->note, sizeof(s->note), "signed by a SAST of the held CTL");
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
		r = cv_find_signer_in(ctl, &f->hdr, cv_role_tftp, &other);
		if (!r && other)
			return ctl_fail(&s->err, CTL_E_POLICY, "ITL is signed by '%.200s', which the held CTL lists as %s, not TFTP or CCM+TFTP; held ITL kept",
					other->subject ? other->subject : "?", ctl_role_label(other->role, NULL, 0));
		if (!r)
			return cv_fail_unknown_signer(s, f, "a TFTP or CCM+TFTP record of the held CTL; ITL refused");
		rc = cv_verify_with_record(s, f, r, "the held CTL's TFTP record");
		if (rc != CTL_OK)
			return ctl_fail_prefix(&s->err, "ITL refused");
		*trust = "signed-by-ctl";
		cv_set_str(s->note, sizeof(s->note), "signed by a TFTP record of the held CTL");
	} else if (itl) {
		r = cv_find_signer_in(itl, &f->hdr, cv_role_itl_signer, NULL);
		if (!r)
			return cv_fail_unknown_signer(s, f, "listed in the held ITL; held ITL kept");
		rc = cv_verify_with_record(s, f, r, "the held ITL's record");
		if (rc != CTL_OK)
			return ctl_fail_prefix(&s->err, "held ITL kept");
		*trust = "signed-by-held-itl";
		cv_set_str(s->note, sizeof(s->note), "signed by a record of the held ITL");
	} else {
		rc = ctl_verify_self(f, &s->err);
		if (rc != CTL_OK)
			return ctl_fail_prefix(&s->err, "first ITL refused");
		r = ctl_find_signer(f, -1);
		if (!r)
			return ctl_fail(&s->err, CTL_E_SIGNER, "first ITL refused: its signer is not one of its records");
		*trust = "first-sight";
		cv_set_str(s->note, sizeof(s->note), "first ITL, no CTL held: trusted on first sight");
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
	r = cv_find_signer_in(ctl, &itl->hdr, cv_role_tftp, &other);
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
		cv_warn(s, "the held ITL (signed by '%.200s') is DROPPED: %s; configs are trusted only through the new CTL until an ITL it signs is installed",
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

	rc = cv_begin_kind(s, data, len, CTL_KIND_CTL, CTL_KIND_ITL, "a CTL or ITL",
			" file, not a CTL or ITL", &f);
	if (rc != CTL_OK)
		return rc;
	if (expect_kind && f->kind != expect_kind) {
		rc = ctl_fail(&s->err, CTL_E_POLICY, "expected %s %s but this is %s %s (header file name '%.100s')",
			      cv_article(expect_kind), ctl_kind_name(expect_kind), cv_article(f->kind),
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
		cv_set_str(s->note, sizeof(s->note), "identical to the held one, unchanged");
		cv_set_str(s->signer, sizeof(s->signer), h->signer);
		rc = CTL_OK;
		goto out;
	}
	rc = f->kind == CTL_KIND_CTL ? accept_ctl(s, f, &trust, &signer)
				     : accept_itl(s, f, &trust, &signer);
	if (rc == CTL_OK)
		rc = check_list(s, f);
	if (rc != CTL_OK)
		goto out;
	cv_check_future(s, f);
	if (f->kind == CTL_KIND_CTL)
		rejudge_itl(s, f, &itl_trust, drop_why, sizeof(drop_why));
	cv_set_str(s->signer, sizeof(s->signer), signer);
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
