/* cmd_ctl_anchor.c - may the current CTL be the base of a change? It must parse and verify,
 * and be anchored (issue 10, attack 1): (a) the CTL ctlsign last published there, (b) one
 * that a token of the run verifies, (c) the one whose SHA-256 the officer compared out of
 * band (--trust-current). And do the output directories hold the same CTL? */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cmd_ctl.h"
#include "ctlrun.h"
#include "state.h"
#include "tool.h"

/* Reads and checks the current CTL: it must parse and verify against its own SAST. */
int ctlcmd_load_current(const char *path, struct ctl_file **out, struct ctl_err *err)
{
	int rc = publish_parse(path, out, err); /* never through a planted link */

	if (rc != CTL_OK) {
		if (faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
			return ctl_fail(err, CTL_E_IO,
					"there is no current CTL at %s; make the first one with 'ctlsign ctl create'",
					path);
		return ctl_fail_prefix(err, "current CTL %s is unusable; nothing was written", path);
	}
	if ((*out)->kind != CTL_KIND_CTL)
		return ctl_fail(err, CTL_E_MALFORMED, "%s is a %s, not a CTL; nothing was written", path,
				ctl_kind_name((*out)->kind));
	rc = ctl_verify_self(*out, err);
	if (rc != CTL_OK)
		return ctl_fail_prefix(err,
				       "current CTL %s does not verify, so it cannot authorize an update; nothing was written",
				       path);
	return CTL_OK;
}

static void when_str(long long t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, n, "time unknown");
}

const char *ctlcmd_cur_signer_name(const struct ctl_state *s)
{
	return s->cur && s->cur->hdr.signer_name ? s->cur->hdr.signer_name : "?";
}

/* The current CTL's SHA-256, its signer certificate's, and what ctlsign recorded for the
 * first output directory. Decides (a) and (c); (b) needs the run's tokens
 * (ctlcmd_anchor_by_token). A file that is not anchored is not refused here: see anchor_refusal. */
int ctlcmd_anchor_load(struct ctl_state *s, const struct ctl_opts *o, struct ctl_err *err)
{
	struct anchor *a = &s->anchor;
	const struct ctl_record *r = ctl_find_signer(s->cur, CTL_ROLE_SAST);
	int rc;

	if (!state_sha256_hex(s->cur->raw.data, s->cur->raw.len, a->sha))
		return ctl_fail(err, CTL_E_INTERNAL, "SHA-256 failed");
	if (!r || !r->cert.len || !state_sha256_hex(r->cert.data, r->cert.len, a->signer_fp))
		snprintf(a->signer_fp, sizeof(a->signer_fp), "?");
	rc = state_published_get(s->c->outputs[0], CTLRUN_FILE_NAME, &a->have_record, a->rec_sha,
				 &a->rec_when, err);
	if (rc != CTL_OK)
		return ctl_fail_prefix(err, "cannot tell which CTL ctlsign last published to %s; nothing was written",
				       s->c->outputs[0]);
	rc = state_published_get(s->c->outputs[0], CTLRUN_PUBLISHING_NAME, &a->have_pending,
				 a->pending_sha, &a->pending_when, err);
	if (rc != CTL_OK)
		return ctl_fail_prefix(err, "cannot tell which CTL ctlsign last published to %s; nothing was written",
				       s->c->outputs[0]);
	a->by = ANCHOR_NONE;
	if (o->trust_current[0]) {
		/* The officer's word decides, also against a record: a wrong hash is refused. */
		if (!strcasecmp(o->trust_current, a->sha))
			a->by = ANCHOR_TRUST;
	} else if (a->have_record && !strcasecmp(a->rec_sha, a->sha)) {
		a->by = ANCHOR_RECORD;
	} else if (a->have_pending && !strcasecmp(a->pending_sha, a->sha)) {
		/* A run was killed after putting its CTL in place and before recording it:
		 * still the newest CTL ctlsign signed for this directory, never an older one. */
		a->by = ANCHOR_RECORD;
		a->via_pending = true;
	}
	return CTL_OK;
}

/* (b): no record and no --trust-current, and the current CTL's signature verifies with
 * the certificate of a token presented in this run (the one that signs, or one added):
 * a CTL made by another tool is adopted. */
void ctlcmd_anchor_by_token(struct ctl_state *s, const struct ctl_opts *o)
{
	struct anchor *a = &s->anchor;
	const struct token_info *cand[1 + MAX_URIS + 64];
	size_t n = 0;

	if (a->by != ANCHOR_NONE || a->have_record || o->trust_current[0])
		return;
	if (s->have_signer_info)
		cand[n++] = &s->signer_info;
	for (size_t i = 0; i < s->cer.nadded && n < 1 + 64; i++)
		cand[n++] = &s->cer.added[i];
	for (size_t i = 0; i < s->nknown; i++)
		cand[n++] = &s->known[i];
	for (size_t i = 0; i < n; i++) {
		struct ctl_err ignored = {0};

		if (cand[i]->cert && ctl_verify_cert(s->cur, cand[i]->cert, &ignored) == CTL_OK) {
			a->by = ANCHOR_TOKEN;
			snprintf(a->token, sizeof(a->token), "'%s' (serial %s)", cand[i]->label,
				 cand[i]->serial);
			return;
		}
	}
}

/* Why the current CTL may not be changed, as one line into buf; false when it is
 * anchored, or when it may still be adopted by a token of the run (tokens_checked false). */
static bool anchor_refusal(const struct ctl_state *s, const struct ctl_opts *o,
			   const char *curpath, bool tokens_checked, char *buf, size_t n)
{
	const struct anchor *a = &s->anchor;
	const char *dir = s->c->outputs[0];
	char when[64];

	if (a->by != ANCHOR_NONE)
		return false;
	if (o->trust_current[0]) {
		snprintf(buf, n, "current CTL %s (SHA-256 %s) signed by %s (certificate SHA-256 %s) does not match --trust-current %s: (c) holds only for the file whose SHA-256 you compared out of band; nothing was written",
			 curpath, a->sha, ctlcmd_cur_signer_name(s), a->signer_fp, o->trust_current);
		return true;
	}
	if (a->have_record) {
		when_str(a->rec_when, when, sizeof(when));
		snprintf(buf, n, "current CTL %s (SHA-256 %s) signed by %s (certificate SHA-256 %s) is not the CTL ctlsign last published to %s (SHA-256 %s, %s), so (a) fails: it may be planted or an older CTL put back; only if it is genuine, compare its SHA-256 out of band and pass --trust-current SHA256 (c); nothing was written",
			 curpath, a->sha, ctlcmd_cur_signer_name(s), a->signer_fp, dir, a->rec_sha, when);
		return true;
	}
	if (!tokens_checked)
		return false;
	snprintf(buf, n, "current CTL %s (SHA-256 %s) signed by %s (certificate SHA-256 %s): ctlsign has no record of publishing to %s (a) and no token presented in this run verifies it (b); present the token that signed it, or compare its SHA-256 out of band and pass --trust-current SHA256 (c); nothing was written",
		 curpath, a->sha, ctlcmd_cur_signer_name(s), a->signer_fp, dir);
	return true;
}

/* Refuses (exit 6) a current CTL that is not anchored. The line is longer than a
 * struct ctl_err holds (three hashes and a path), so it is printed here. */
int ctlcmd_anchor_check(struct ctl_state *s, const struct ctl_opts *o, const char *curpath,
			bool tokens_checked, struct ctl_err *err)
{
	char line[8192 + 1024];

	if (!anchor_refusal(s, o, curpath, tokens_checked, line, sizeof(line)))
		return CTL_OK;
	fprintf(stderr, "%s: %s\n", tool_prog, line);
	s->reported = true;
	return ctl_fail(err, CTL_E_SIGNER, "the current CTL is not anchored");
}

/* The anchor as the plan shows it. */
void ctlcmd_anchor_status(const struct ctl_state *s, const struct ctl_opts *o, char *buf,
			  size_t n)
{
	const struct anchor *a = &s->anchor;
	char when[64];

	switch (a->by) {
	case ANCHOR_RECORD:
		when_str(a->via_pending ? a->pending_when : a->rec_when, when, sizeof(when));
		snprintf(buf, n, "anchored (a): the last CTL ctlsign published to %s (%s)%s",
			 s->c->outputs[0], when,
			 a->via_pending ? ", by a run interrupted before it recorded it" : "");
		return;
	case ANCHOR_TOKEN:
		snprintf(buf, n, "anchored (b): no record for %s; it verifies with token %s of this run, so it is adopted",
			 s->c->outputs[0], a->token);
		return;
	case ANCHOR_TRUST:
		snprintf(buf, n, "anchored (c): its SHA-256 is the one given with --trust-current");
		return;
	default:
		break;
	}
	if (o->trust_current[0])
		snprintf(buf, n, "NOT ANCHORED: its SHA-256 does not match --trust-current %s",
			 o->trust_current);
	else if (a->have_record)
		snprintf(buf, n, "NOT ANCHORED: not the last CTL ctlsign published to %s (that was SHA-256 %s); an update refuses it unless --trust-current",
			 s->c->outputs[0], a->rec_sha);
	else
		snprintf(buf, n, "not anchored: no record; an update will adopt it only if a presented token verifies it, or with --trust-current");
}

/* One line on output directory i when it does not hold the current CTL byte for byte;
 * false when it does. *differ: it holds something else (a directory without a CTL only
 * lags); *newer: a newer CTL that ctlsign did not publish there. */
static bool other_output(const struct ctl_state *s, size_t i, char *line, size_t n,
			 bool *differ, bool *newer)
{
	const struct cluster *c = s->c;
	struct ctl_buf b = {0};
	struct ctl_err ignored = {0};
	struct ctl_file *f = NULL;
	bool missing = false;
	char sha[65] = "";

	if (publish_read(c->outputs[i], CTLRUN_FILE_NAME, CTL_MAX_FILE_SIZE, &b, &missing,
			 &ignored) == CTL_OK) {
		if (b.len == s->cur->raw.len && !memcmp(b.data, s->cur->raw.data, b.len)) {
			ctl_buf_clear(&b);
			return false;
		}
		state_sha256_hex(b.data, b.len, sha);
		/* A newer CTL that ctlsign itself published there (recorded for that
		 * directory, or the one a run was publishing) is a run that did not reach
		 * the first directory: the first one's anchored CTL stays the base. */
		bool ours = false, rec = false;
		char rsha[65];
		if (state_published_get(c->outputs[i], CTLRUN_FILE_NAME, &rec, rsha, NULL,
					&ignored) == CTL_OK && rec && !strcasecmp(rsha, sha))
			ours = true;
		if (s->anchor.have_pending && !strcasecmp(s->anchor.pending_sha, sha))
			ours = true;
		bool is_newer = ctl_parse(b.data, b.len, &f, &ignored) == CTL_OK &&
				f->hdr.timestamp > s->cur->hdr.timestamp;
		if (is_newer && !ours)
			*newer = true;
		snprintf(line, n, "  %s/%s  SHA-256 %s%s\n", c->outputs[i],
			 CTLRUN_FILE_NAME, sha, !f ? " (not a CTL)" :
			 is_newer && ours ? " (newer: published there by a ctlsign run that did not finish)" :
			 is_newer ? " (NEWER than the first)" : "");
		ctl_file_free(f);
		*differ = true;
	} else {
		snprintf(line, n, "  %s/%s  %.600s\n", c->outputs[i], CTLRUN_FILE_NAME,
			 missing ? "missing" : ignored.msg);
		*differ = *differ || !missing;
	}
	ctl_buf_clear(&b);
	return true;
}

/* The output directories hold different CTLs at the start (issue 12, item 11): a run was
 * interrupted, or someone changed one. Listed on stdout. Bringing the others level to the
 * first directory's CTL (the update publishes to all; an up-to-date run copies it) is
 * right only when that CTL is anchored (a, b or c) and no other directory holds a newer
 * one (by the CTL's own timestamp: an older CTL adopted by (b) must not roll the others
 * back); otherwise refused (exit 9), nothing written. tokens_checked false (ctl diff): a
 * CTL that a token of the update may still adopt is not refused. A directory without a
 * CTL (a new output) only lags. */
int ctlcmd_check_outputs_level(struct ctl_state *s, const struct ctl_opts *o,
			       bool tokens_checked, struct ctl_err *err)
{
	const struct cluster *c = s->c;
	bool differ = false, newer = false;
	char shown[8192];
	size_t used = 0;
	FILE *fp = o->sa.json ? stderr : stdout; /* ctl diff --json: stdout is JSON */

	if (o->op == OP_CREATE || o->current || c->noutputs < 2 || !s->cur)
		return CTL_OK;
	for (size_t i = 1; i < c->noutputs; i++) {
		char line[1200];
		int k;

		if (!other_output(s, i, line, sizeof(line), &differ, &newer))
			continue;
		k = snprintf(shown + used, sizeof(shown) - used, "%s", line);
		if (k > 0 && used + (size_t)k < sizeof(shown))
			used += (size_t)k;
	}
	if (!used)
		return CTL_OK;
	fprintf(fp, "The output directories do not hold the same CTL:\n  %s/%s  SHA-256 %s (first: the current CTL)\n%s",
	       c->outputs[0], CTLRUN_FILE_NAME, s->anchor.sha, shown);
	if (!differ) {
		fprintf(fp, "  (the missing ones get the CTL with this run)\n");
		return CTL_OK;
	}
	if (newer)
		return ctl_fail(err, CTL_E_POLICY, "another output directory holds a newer CTL than %s/%s (listed above); find out which is right and make every directory hold it before changing the CTL; nothing was written",
				c->outputs[0], CTLRUN_FILE_NAME);
	if (s->anchor.by == ANCHOR_NONE && tokens_checked)
		return ctl_fail(err, CTL_E_POLICY, "the output directories hold different CTLs (listed above) and %s/%s is not anchored; find out which is right and make every directory hold it (or fix the cluster file's output list); nothing was written",
				c->outputs[0], CTLRUN_FILE_NAME);
	if (s->anchor.by == ANCHOR_NONE)
		fprintf(fp, "  (brought level by an update only if a token of it anchors %s/%s, (b))\n",
			c->outputs[0], CTLRUN_FILE_NAME);
	else
		fprintf(fp, "  (%s/%s is anchored: the others are brought level with this run)\n",
			c->outputs[0], CTLRUN_FILE_NAME);
	return CTL_OK;
}
