/* cmd_ctl_run.c - `ctlsign ctl create|update|delete-token`: one run, phase by phase
 * (ctlcmd_run): load and lock, select (the current CTL, the mode, the record deleted), authorize (the
 * tokens), plan and confirm, sign and publish. Everything the run holds is in one struct
 * ctl_state, freed in one place. */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "cmd_ctl.h"
#include "ctlrun.h"
#include "p11_uri.h"
#include "state.h"
#include "tool.h"

static int info_for_uri(struct token_module *m, const char *uri, struct token_info *out,
			struct ctl_err *err)
{
	struct token_info *v = NULL;
	size_t n = 0, hits = 0, at = 0;
	char shown[256];
	int rc;

	p11_uri_for_print(uri, shown, sizeof(shown));
	if (strncmp(uri, "pkcs11:", 7))
		return ctl_fail(err, CTL_E_USAGE, "'%s' is not a PKCS#11 URI (pkcs11:token=...)", shown);
	if ((rc = token_module_list(m, &v, &n, err)) != CTL_OK)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (ceremony_uri_matches(uri, &v[i])) {
			hits++;
			at = i;
		}
	if (hits == 1)
		ceremony_info_copy(out, &v[at]);
	token_infos_free(v, n);
	if (!hits)
		return ctl_fail(err, CTL_E_TOKEN,
				"no token matches %s; is it inserted? ('ctlsign token list' shows what is present)",
				shown);
	if (hits > 1)
		return ctl_fail(err, CTL_E_USAGE, "%s matches %zu tokens; add serial=... to the URI",
				shown, hits);
	return CTL_OK;
}

static void serial_uri(const struct token_info *ti, char *buf, size_t n)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t k = (size_t)snprintf(buf, n, "pkcs11:serial=");

	for (const char *p = ti->serial; *p && k + 4 < n; p++) {
		unsigned char ch = (unsigned char)*p;

		if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_') {
			buf[k++] = (char)ch;
		} else {
			buf[k++] = '%';
			buf[k++] = hx[ch >> 4];
			buf[k++] = hx[ch & 15];
		}
	}
	buf[k] = 0;
}

void ctlcmd_state_free(struct ctl_state *s)
{
	ctldiff_free(&s->diff);
	ctlmake_list_free(&s->recs);
	for (size_t i = 0; i < s->nknown; i++)
		ceremony_info_clear(&s->known[i]);
	if (s->have_signer_info)
		ceremony_info_clear(&s->signer_info);
	ceremony_free(&s->cer);
	token_close(s->tok);
	token_module_close(s->m);
	ctl_file_free(s->cur);
	publish_unlock(s->lock);
	cluster_free(s->c);
	free(s->results);
}

/* A token that does not sign is never logged in to (a wrong PIN would burn one of its few
 * tries for nothing), but it is still held to the default-password rule as far as that
 * needs no login: its "PIN to be changed" flag (ceremony_add) and, when a PIN is given for
 * it (its --pin, else the URI's pin-source), that PIN compared with the factory PIN. */
static int check_member_pin(const struct token_info *ti, const char *uri, const char *pin_src,
			    const char *what, struct ctl_err *err)
{
	struct p11_uri u;
	char *pin = NULL, shown[256];
	bool uri_style = false;
	int rc;

	memset(&u, 0, sizeof(u));
	if (!pin_src) {
		if ((rc = p11_uri_parse(uri, &u, err)) != CTL_OK)
			return rc;
		pin_src = u.pin_source;
		uri_style = true;
	}
	rc = CTL_OK;
	if (pin_src && (rc = token_pin_read(pin_src, uri_style, NULL, &pin, err)) == CTL_OK)
		rc = token_check_not_default(ti, pin, NULL, err);
	token_pin_free(pin);
	p11_uri_clear(&u);
	p11_uri_for_print(uri, shown, sizeof(shown));
	if (rc != CTL_OK)
		return ctl_fail_prefix(err, "%s (%s); nothing was written", what, shown);
	return CTL_OK;
}

/* create, non-interactive: the --token tokens, the last one signs. */
static int tokens_for_create(struct ctl_state *s, const struct ctl_opts *o, struct ctl_err *err)
{
	int rc;

	for (size_t i = 0; i < o->ntokens; i++) {
		struct token_info ti = {0};
		bool dup;

		if ((rc = info_for_uri(s->m, o->tokens[i], &ti, err)) != CTL_OK)
			return rc;
		rc = ceremony_add(&s->cer, &ti, &dup, err);
		if (rc == CTL_OK && !dup && i + 1 < o->ntokens) {
			char what[64];

			snprintf(what, sizeof(what), "token %zu of the CTL", i + 1);
			rc = check_member_pin(&ti, o->tokens[i], o->token_pins[i], what, err);
		}
		if (rc == CTL_OK && dup)
			fprintf(stderr, "ctlsign: note: token '%s' (serial %s) was given twice; it counts once\n",
				ti.label, ti.serial);
		if (i + 1 == o->ntokens && rc == CTL_OK) {
			ceremony_info_copy(&s->signer_info, &ti);
			s->have_signer_info = true;
		}
		ceremony_info_clear(&ti);
		if (rc != CTL_OK)
			return rc;
	}
	return ceremony_check_count(&s->cer, err);
}

/* update / delete-token, non-interactive: the one --token authorizes and signs;
 * --add-token adds tokens. */
static int tokens_for_change(struct ctl_state *s, const struct ctl_opts *o, struct ctl_err *err)
{
	int rc;

	if ((rc = info_for_uri(s->m, o->tokens[0], &s->signer_info, err)) != CTL_OK)
		return rc;
	s->have_signer_info = true;
	for (size_t i = 0; i < o->nadds; i++) {
		struct token_info ti = {0};
		bool dup;

		if ((rc = info_for_uri(s->m, o->adds[i], &ti, err)) != CTL_OK)
			return rc;
		if (ti.cert && ctlmake_find_sast(s->cur->records, s->cur->nrecords, ti.cert) >= 0) {
			fprintf(stderr, "ctlsign: note: token '%s' (serial %s) is already in the current CTL\n",
				ti.label, ti.serial);
			if (s->nknown < MAX_URIS) /* still presented: it may anchor the CTL (b) */
				s->known[s->nknown++] = ti;
			else
				ceremony_info_clear(&ti);
			continue;
		}
		rc = ceremony_add(&s->cer, &ti, &dup, err);
		if (rc == CTL_OK && !dup)
			rc = check_member_pin(&ti, o->adds[i], o->add_pins[i], "--add-token", err);
		if (rc == CTL_OK && dup)
			fprintf(stderr, "ctlsign: note: token '%s' (serial %s) was given twice; it counts once\n",
				ti.label, ti.serial);
		ceremony_info_clear(&ti);
		if (rc != CTL_OK)
			return rc;
	}
	return CTL_OK;
}

/* Non-interactive: which tokens take part (and the signer). */
static int tokens_from_uris(struct ctl_state *s, const struct ctl_opts *o, struct ctl_err *err)
{
	return o->op == OP_CREATE ? tokens_for_create(s, o, err) : tokens_for_change(s, o, err);
}

/* The tokens that can authorize a change: the current CTL's SAST records by subject,
 * serial and certificate SHA-256 (issue 12, item 6), and what to do when all are lost. */
static void print_sasts_of_current(FILE *fp, const struct ctl_file *cur)
{
	fprintf(fp, "The tokens that can authorize a change are those of the current CTL's SAST records:\n");
	for (size_t i = 0; i < cur->nrecords; i++) {
		const struct ctl_record *r = &cur->records[i];
		char sha[65] = "(no certificate)", *sn;

		if (r->role != CTL_ROLE_SAST)
			continue;
		if (r->cert.len)
			state_sha256_hex(r->cert.data, r->cert.len, sha);
		sn = ctl_hex(r->serial.data, r->serial.len);
		fprintf(fp, "  SAST  %s  serial %s  SHA-256 %s\n", r->subject ? r->subject : "?",
			sn ? sn : "?", sha);
		free(sn);
	}
	fprintf(fp, "'ctlsign token list' shows each token's certificate. If every one of these tokens is lost, only 'ctlsign ctl create --force' makes a new CTL, and then the CTL must be erased on every phone (Settings > Security > CTL > Erase, or a factory reset).\n");
}

static int tokens_from_ceremony(struct ctl_state *s, const struct ctl_opts *o, struct ctl_err *err)
{
	int rc;

	if (!isatty(STDIN_FILENO))
		return ctl_fail(err, CTL_E_USAGE,
				"no --token given and no terminal for the token ceremony; pass --token URI for each token");
	if (s->cur) /* which tokens will do, before the officer starts inserting them */
		print_sasts_of_current(stderr, s->cur);
	rc = ctlcmd_ceremony_tty(&s->cer, s->m, o->timeout_ms, s->cur, err);
	if (rc != CTL_OK)
		return rc;
	ceremony_info_copy(&s->signer_info, &s->cer.signer);
	s->have_signer_info = true;
	return CTL_OK;
}

int ctlcmd_build_records(struct ctl_state *s, const struct ctl_opts *o, int mode,
			 long deleted, struct ctl_err *err)
{
	int rc;

	if (o->op != OP_CREATE)
		for (size_t i = 0; i < s->cur->nrecords; i++) {
			const struct ctl_record *r = &s->cur->records[i];

			if (r->role != CTL_ROLE_SAST || (long)i == deleted)
				continue;
			if ((rc = ctlmake_append_copy(&s->recs, r, err)) != CTL_OK)
				return rc;
		}
	for (size_t i = 0; i < s->cer.nadded; i++)
		if ((rc = ctlmake_append_sast(&s->recs, s->cer.added[i].cert, err)) != CTL_OK)
			return rc;
	if ((rc = ctlmake_append_servers(&s->recs, s->c, mode, err)) != CTL_OK ||
	    (rc = cluster_check_mode(s->c, mode, err)) != CTL_OK)
		return rc;
	if (ctlmake_count_role(s->recs.recs, s->recs.n, CTL_ROLE_SAST) < 2)
		return ctl_fail(err, CTL_E_POLICY,
				"the CTL must keep at least two SAST (token) records; add a token first");
	return CTL_OK;
}

/* Up to date in the first directory: a run killed while publishing may have left the
 * others with the previous CTL (and temporary files). Bring them level, byte for byte. */
static int catch_up(const struct cluster *c, const struct ctl_buf *cur, const char *audit_log,
		    struct ctl_err *err)
{
	struct publish_result *res;
	size_t n = 0;
	int rc;

	if (c->noutputs < 2)
		return CTL_OK;
	if (!(res = calloc(c->noutputs - 1, sizeof(*res))))
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	rc = publish_catch_up(c->outputs, c->noutputs, CTLRUN_FILE_NAME, c->path, audit_log, res,
			      &n, err);
	for (size_t i = 0; i < n; i++) {
		if (res[i].leftovers)
			printf("removed    %zu temporary file%s left in %s by an interrupted run\n",
			       res[i].leftovers, res[i].leftovers == 1 ? "" : "s", res[i].dir);
		if (res[i].rc == CTL_OK)
			printf("published  %s/%s (it differed from %s/%s: an interrupted run?)\n",
			       res[i].dir, CTLRUN_FILE_NAME, c->outputs[0], CTLRUN_FILE_NAME);
		else if (res[i].unsynced)
			printf("UNSYNCED   %s: %s\n", res[i].dir, res[i].msg);
		else
			printf("FAILED     %s: %s\n", res[i].dir, res[i].msg);
	}
	if (rc != CTL_OK)
		ctl_fail_prefix(err, "copying %s/%s to the other directories", c->outputs[0],
				CTLRUN_FILE_NAME);
	/* The copies are the current CTL, byte for byte (read under the same lock). */
	ctlrun_record(res, n, cur->data, cur->len, &rc, err);
	free(res);
	return rc;
}

/* The plan, before anything is signed (also ctl diff's): the current file, its signer and
 * whether it is anchored, what changes, and every SAST record of the result, changed or
 * not (a SAST hidden among "unchanged" is visible here). */
void ctlcmd_print_plan(FILE *fp, const struct ctl_state *s, const struct ctl_opts *o,
		       const char *curpath, const char *title)
{
	if (s->cur) {
		char st[8192];

		ctlcmd_anchor_status(s, o, st, sizeof(st));
		fprintf(fp, "Current CTL %s\n  SHA-256  %s\n  signer   %s (certificate SHA-256 %s)\n  %s\n",
			curpath, s->anchor.sha, ctlcmd_cur_signer_name(s), s->anchor.signer_fp, st);
	}
	fputs(title, fp);
	ctldiff_print(fp, &s->diff);
	ctldiff_print_sasts(fp, s->recs.recs, s->recs.n, s->cur ? s->cur->records : NULL,
			    s->cur ? s->cur->nrecords : 0);
}

/* The security mode of the result (issue 12, item 3): --mode when given; else a create
 * takes the cluster file's and a change keeps the current CTL's. A cluster file whose mode
 * differs from the current CTL's is refused without --mode: a routine update must not
 * switch mixed mode on or off by surprise. */
int ctlcmd_decide_mode(struct ctl_state *s, const struct ctl_opts *o, const char *curpath,
		       int *mode, struct ctl_err *err)
{
	int cur;

	if (o->mode >= 0 || !s->cur) {
		*mode = o->mode >= 0 ? o->mode : s->c->mode;
		return CTL_OK;
	}
	cur = ctlmake_mode_of(s->cur->records, s->cur->nrecords);
	if (cur != s->c->mode) {
		/* two paths: may be longer than a struct ctl_err holds, so printed here;
		 * delete-token takes no --mode (a mode change is an update of its own) */
		if (o->op == OP_DELETE)
			fprintf(stderr, "%s: the current CTL %s is %s but %s says mode = %s; set mode = %s in the file to keep it (or switch first with 'ctlsign ctl update --mode %s'); nothing was written\n",
				tool_prog, curpath, cluster_mode_name(cur), o->sa.cluster,
				cluster_mode_name(s->c->mode), cluster_mode_name(cur),
				cluster_mode_name(s->c->mode));
		else
			fprintf(stderr, "%s: the current CTL %s is %s but %s says mode = %s; pass --mode %s to switch it (or --mode %s to keep it), or edit the file; nothing was written\n",
				tool_prog, curpath, cluster_mode_name(cur), o->sa.cluster,
				cluster_mode_name(s->c->mode), cluster_mode_name(s->c->mode),
				cluster_mode_name(cur));
		s->reported = true;
		return ctl_fail(err, CTL_E_POLICY, "the cluster file's mode differs from the current CTL's");
	}
	*mode = cur;
	return CTL_OK;
}

/* --- the run, phase by phase: each returns CTL_OK or the exit code, with err set or the
 * line already printed (s->reported) --- */

/* Load and lock: the cluster file; one run at a time, a lock in every output directory
 * and nothing planted there (a CTLFile.tlv, .bak or lock that is a link, FIFO or
 * directory stops the run); a run interrupted before is reported. */
static int run_load_lock(struct ctl_state *s, const struct ctl_opts *o, struct ctl_err *err)
{
	static const char *const planted[] = {CTLRUN_FILE_NAME, CTLRUN_FILE_NAME ".bak",
					     CTLRUN_FILE_NAME ".bak.1",
					     CTLRUN_FILE_NAME ".bak.2", NULL};
	int rc;

	if ((rc = cluster_load_opts(o->sa.cluster, &(struct cluster_load_opts){.strict = o->sa.strict},
				    &s->c, err)) != CTL_OK)
		return rc;
	if (s->c->hash_alg == CTL_HASH_SHA1)
		fprintf(stderr, "ctlsign: warning: digest sha1 is weak; use it only while older phones that cannot check SHA-512 are in the cluster\n");
	if ((rc = publish_lock(s->c->outputs, s->c->noutputs, (unsigned)o->sa.wait_s, planted, &s->lock,
			       err)) != CTL_OK ||
	    (rc = audit_report_interrupted(audit_path(o->sa.audit_log), s->c->outputs,
					   s->c->noutputs, "brings every output directory to one CTL",
					   stderr, NULL, err)) != CTL_OK)
		return rc;
	snprintf(s->curpath, sizeof(s->curpath), "%s/%s", s->c->outputs[0], CTLRUN_FILE_NAME);
	if (o->current)
		snprintf(s->curpath, sizeof(s->curpath), "%s", o->current);
	return CTL_OK;
}

/* create: no CTL in the first output directory, unless --force (then warned). */
static int select_create(struct ctl_state *s, const struct ctl_opts *o, struct ctl_err *err)
{
	for (size_t i = 0; i < s->c->noutputs && !s->replacing; i++) {
		char p[4200];

		snprintf(p, sizeof(p), "%s/%s", s->c->outputs[i], CTLRUN_FILE_NAME);
		s->replacing = access(p, F_OK) == 0;
	}
	if (!o->force && access(s->curpath, F_OK) == 0)
		return ctl_fail(err, CTL_E_POLICY,
				"a CTL already exists at %s; change it with 'ctlsign ctl update' and a token of its SAST records ('ctlsign ctl show' lists them); only if all of them are lost, --force replaces it, and then every phone must have its CTL erased",
				s->curpath);
	if (s->replacing)
		fprintf(stderr, "ctlsign: warning: --force replaces the existing CTL. Phones holding the old CTL refuse the new one (none of the SAST tokens they trust signed it), so after publishing, the CTL must be erased on every phone (Settings > Security > CTL > Erase, or a factory reset) before it takes the new one.\n");
	return CTL_OK;
}

/* delete-token: the one SAST record SELECTOR names; at least two remain. */
static int select_deleted(struct ctl_state *s, const struct ctl_opts *o, struct ctl_err *err)
{
	size_t idx[4], k = ctlmake_select(s->cur->records, s->cur->nrecords, o->selector, idx, 4);

	if (!k)
		return ctl_fail(err, CTL_E_USAGE, "no record of %s matches '%s' (give a serial, fingerprint or subject; 'ctlsign ctl show' lists them)",
				s->curpath, o->selector);
	if (k > 1)
		return ctl_fail(err, CTL_E_USAGE, "'%s' matches %zu records; give the certificate serial or fingerprint",
				o->selector, k);
	if (s->cur->records[idx[0]].role != CTL_ROLE_SAST)
		return ctl_fail(err, CTL_E_POLICY, "'%s' is a %s record: server records follow the cluster file; edit it and run 'ctlsign ctl update'",
				o->selector, ctl_role_name(s->cur->records[idx[0]].role));
	if (ctlmake_count_role(s->cur->records, s->cur->nrecords, CTL_ROLE_SAST) < 3)
		return ctl_fail(err, CTL_E_POLICY, "deleting it would leave fewer than two SAST records; add another token first (ctlsign ctl update --add-token)");
	s->deleted = (long)idx[0];
	return CTL_OK;
}

/* Select: what the change starts from (create: nothing, or --force; update and
 * delete-token: the current CTL, trusted as the base only when anchored: (a) or (c) now,
 * (b) once the tokens of the run are known), the mode, the record deleted. Every output
 * directory must exist and be writable before anything is signed (issue 12, item 11):
 * exit 3 here, not after the first one was published. */
static int run_select(struct ctl_state *s, const struct ctl_opts *o, struct ctl_err *err)
{
	int rc;

	if (o->op == OP_CREATE)
		rc = select_create(s, o, err);
	else if ((rc = ctlcmd_load_current(s->curpath, &s->cur, err)) == CTL_OK &&
		 (rc = ctlcmd_anchor_load(s, o, err)) == CTL_OK)
		rc = ctlcmd_anchor_check(s, o, s->curpath, false, err);
	if (rc != CTL_OK ||
	    (rc = publish_check_dirs(s->c->outputs, s->c->noutputs, err)) != CTL_OK ||
	    (rc = ctlcmd_decide_mode(s, o, s->curpath, &s->mode, err)) != CTL_OK)
		return rc;
	return o->op == OP_DELETE ? select_deleted(s, o, err) : CTL_OK;
}

/* update / delete-token: the token that signs must be a SAST of the current CTL, and not
 * the one deleted. */
static int signer_in_current(struct ctl_state *s, const struct ctl_opts *o, struct ctl_err *err)
{
	if (!s->signer_info.cert ||
	    ctlmake_find_sast(s->cur->records, s->cur->nrecords, s->signer_info.cert) < 0) {
		fprintf(stderr, "%s: token '%s' (serial %s) is not a SAST of the current CTL %s, so it cannot authorize a change; present one that is (nothing was written)\n",
			tool_prog, s->signer_info.label, s->signer_info.serial, s->curpath);
		print_sasts_of_current(stderr, s->cur);
		s->reported = true;
		return ctl_fail(err, CTL_E_SIGNER, "token not in the current CTL");
	}
	if (s->deleted >= 0 && ctl_record_is_cert(&s->cur->records[s->deleted], s->signer_info.cert))
		return ctl_fail(err, CTL_E_POLICY,
				"'%s' is the token signing this change; sign with another token of the CTL",
				o->selector);
	return CTL_OK;
}

/* Authorize: the tokens of the run (--token URIs, or the ceremony on the terminal); for
 * a change, the current CTL anchored now that they are known, the output directories
 * level, and the signer one of the current CTL's. */
static int run_authorize(struct ctl_state *s, const struct ctl_opts *o, struct ctl_err *err)
{
	int rc;

	if ((rc = cluster_check_mode(s->c, s->mode, err)) != CTL_OK || /* before any token */
	    (rc = token_module_open(o->sa.module, &s->m, err)) != CTL_OK)
		return rc;
	rc = o->ntokens ? tokens_from_uris(s, o, err) : tokens_from_ceremony(s, o, err);
	if (rc != CTL_OK || o->op == OP_CREATE)
		return rc;
	ctlcmd_anchor_by_token(s, o);
	if ((rc = ctlcmd_anchor_check(s, o, s->curpath, true, err)) != CTL_OK ||
	    (rc = ctlcmd_check_outputs_level(s, o, true, err)) != CTL_OK)
		return rc;
	return signer_in_current(s, o, err);
}

/* Plan: the records of the result and what changes, printed before anything is signed.
 * *up_to_date: a change that changes nothing (and no --force). */
static int run_plan(struct ctl_state *s, const struct ctl_opts *o, bool *up_to_date,
		    struct ctl_err *err)
{
	char title[4200];
	int rc;

	if ((rc = ctlcmd_build_records(s, o, s->mode, s->deleted, err)) != CTL_OK ||
	    (rc = ctldiff_compute(s->cur ? s->cur->records : NULL, s->cur ? s->cur->nrecords : 0,
				  s->cur ? ctlmake_mode_of(s->cur->records, s->cur->nrecords) : -1,
				  s->recs.recs, s->recs.n, s->mode, &s->diff, err)) != CTL_OK)
		return rc;
	if (s->cur)
		ctldiff_set_digest(&s->diff, s->cur->hdr.hash_alg, s->c->hash_alg);
	snprintf(title, sizeof(title), "%s CTL for %s (%s, %s):\n",
		 o->op == OP_CREATE ? "New" : "Changes to the", o->sa.cluster,
		 cluster_mode_name(s->mode), ctl_hash_name(s->c->hash_alg));
	ctlcmd_print_plan(stdout, s, o, s->curpath, title);
	fflush(stdout);
	*up_to_date = o->op != OP_CREATE && ctldiff_is_empty(&s->diff) && !o->force;
	return CTL_OK;
}

/* Nothing to sign: the other directories are brought level with the first, and an
 * interrupted run's CTL, now known to be in place, is recorded. */
static int run_up_to_date(struct ctl_state *s, const struct ctl_opts *o, struct ctl_err *err)
{
	int rc;

	printf("The CTL is up to date; nothing to sign (--force signs it again).\n");
	tool_defer_begin(); /* a signal waits for the catch-up's outcome (tool.h) */
	rc = o->current ? CTL_OK : catch_up(s->c, &s->cur->raw, audit_path(o->sa.audit_log), err);
	tool_defer_end();
	if (rc == CTL_OK && !o->current && s->anchor.via_pending &&
	    (rc = state_published_put(s->c->outputs[0], CTLRUN_FILE_NAME, s->cur->raw.data,
				      s->cur->raw.len, err)) != CTL_OK)
		ctl_fail_prefix(err, "cannot record %s as what ctlsign published", s->curpath);
	return rc;
}

/* Log in to the signer only now, and only to the token presented. */
static int login_signer(struct ctl_state *s, const struct ctl_opts *o, struct ctl_err *err)
{
	char uri[128];
	struct token_opts to = {
		.uri = o->ntokens ? o->tokens[o->ntokens - 1] : uri,
		/* the --pin right after the signing --token (create: the last one) */
		.pin = o->ntokens ? o->token_pins[o->op == OP_CREATE ? o->ntokens - 1 : 0] :
		       o->ceremony_pin,
		.final_try = o->sa.final_try,
	};
	int rc;

	serial_uri(&s->signer_info, uri, sizeof(uri));
	if ((rc = token_open(s->m, &to, &s->tok, err)) != CTL_OK)
		return rc;
	if (!token_cert(s->tok) || X509_cmp(token_cert(s->tok), s->signer_info.cert))
		return ctl_fail(err, CTL_E_TOKEN,
				"the token logged in to is not the one presented (certificate differs); nothing was written");
	return CTL_OK;
}

/* Sign and publish: to every output directory, with the audit records and the state
 * directory's record (ctlrun_finish), then what to do next. */
static int run_sign_publish(struct ctl_state *s, const struct ctl_opts *o, struct ctl_err *err)
{
	static const char *opnames[] = {"", "ctl-create", "ctl-update", "ctl-delete-token"};
	const struct ctl_signer *signer;
	struct ctlrun_opts ro;
	int rc;

	if ((rc = login_signer(s, o, err)) != CTL_OK)
		return rc;
	signer = token_signer(s->tok);
	memset(&ro, 0, sizeof(ro));
	ro.dirs = s->c->outputs;
	ro.ndirs = s->c->noutputs;
	ro.hash_alg = s->c->hash_alg;
	ro.audit_log = audit_path(o->sa.audit_log);
	ro.operation = opnames[o->op];
	ro.token_label = token_get_info(s->tok)->label;
	ro.token_serial = token_get_info(s->tok)->serial;
	ro.cluster = o->sa.cluster;
	ro.out = stdout;
	if (!(s->results = calloc(s->c->noutputs, sizeof(*s->results))))
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	ro.results = s->results;
	tool_defer_begin(); /* a signal waits for the publication and its outcome (tool.h) */
	rc = ctlrun_finish(s->recs.recs, s->recs.n, signer, &ro, err);
	if (rc == CTL_OK || rc == CTL_E_PARTIAL) {
		struct ctlrun_next nx = {
			.diff = &s->diff, .replaced = s->replacing,
			.res = s->results, .nres = s->c->noutputs,
		};
		ctlrun_print_next(stdout, s->c, &nx);
	}
	tool_defer_end();
	return rc;
}

int ctlcmd_run(const struct ctl_opts *o)
{
	struct ctl_state s;
	struct ctl_err err = {0};
	bool up_to_date = false;
	int rc;

	memset(&s, 0, sizeof(s));
	s.deleted = -1;
	ceremony_init(&s.cer, o->op == OP_CREATE ? CEREMONY_CREATE : CEREMONY_UPDATE, NULL);
	s.cer.authorize_only = o->op == OP_DELETE;
	if ((rc = run_load_lock(&s, o, &err)) == CTL_OK &&
	    (rc = run_select(&s, o, &err)) == CTL_OK &&
	    (rc = run_authorize(&s, o, &err)) == CTL_OK &&
	    (rc = run_plan(&s, o, &up_to_date, &err)) == CTL_OK) {
		if (up_to_date)
			rc = run_up_to_date(&s, o, &err);
		else if ((rc = ctlcmd_confirm_publish(o->sa.yes, "CTL", "the changes",
							    s.c->noutputs, &err)) == CTL_OK)
			rc = run_sign_publish(&s, o, &err);
	}
	if (rc != CTL_OK && !s.reported)
		tool_report(&err);
	fflush(stdout);
	ctlcmd_state_free(&s);
	return rc;
}
