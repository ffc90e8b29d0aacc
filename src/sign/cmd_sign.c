/* cmd_sign.c - `ctlsign sign`: .sgn files for TFTP, one by one or a whole directory
 * (SPEC §3.3, §4.4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bulk.h"
#include "publish.h"
#include "session.h"
#include "sign.h"
#include "tool.h"

static const char usage[] =
	"usage: ctlsign sign [options] FILE...\n"
	"       ctlsign sign [options] --dir TFTPDIR\n"
	"\n"
	"Signs TFTP files: writes FILE.sgn (SPEC 3.3) next to each input, or into -o DIR.\n"
	"The header file name is the output's base name. Explicit FILEs are always signed.\n"
	"With --dir, every eligible file in TFTPDIR is signed in one token session, skipping\n"
	"files whose .sgn already holds the same content, signer and digest (unless --all).\n"
	"A config whose phone is encrypted (NAME.enc.sgn beside it) is skipped with a warning:\n"
	"its clear full config is never published as NAME.sgn over the minimal one (name the\n"
	"file to sign it anyway).\n"
;

enum { O_CTL = SIGN_O_OWN, O_DIR, O_INCLUDE, O_EXCLUDE, O_ALL, O_PRUNE };

static const struct tool_opt sign_opts[] = {
	{'o', "out", "DIR", "write the .sgn files into DIR"},
	{O_CTL, "ctl", "FILE",
	 "the cluster's CTL (default: CTLFile.tlv in TFTPDIR / DIR / the first file's directory); "
	 "the signer must be in it with a TFTP or CCM+TFTP role, and nothing is signed if the CTL "
	 "is non-secure"},
	{O_DIR, "dir", "TFTPDIR",
	 "sign the eligible files of a TFTP directory (not recursive; symbolic links are never "
	 "followed)"},
	{O_INCLUDE, "include", "PAT",
	 "fnmatch pattern of eligible names; repeatable; replaces the default set: *.cnf.xml "
	 "RingList*.xml DistinctiveRingList*.xml *dictionary*.xml *-tones.xml g3-tones.xml "
	 "*dialplan*.xml"},
	{O_EXCLUDE, "exclude", "PAT", "names never signed; repeatable (always excluded: *.sgn *.tlv .*)"},
	{O_ALL, "all", NULL, "re-sign unchanged files too"},
	{O_PRUNE, "prune", NULL,
	 "with --dir: remove stale .sgn files (audited). Stale: X.sgn where X is eligible "
	 "(--include/--exclude) but gone, signed by this run's key, and no X.enc.sgn beside it "
	 "(an encrypted phone's minimal config is not stale; firmware and other vendor-signed "
	 "files never are). Without --prune they are only reported"},
	{'j', "jobs", "N",
	 "signing threads (default: number of cores; 1 for tokens that serialise anyway)"},
	SIGN_OPT_WAIT_DIR,
	{'q', "quiet", NULL, "no progress bar, no per-file messages (errors still set the exit code)"},
	SIGN_OPT_JSON("summary as JSON on stdout"),
	TOOL_OPT_END,
};
static const struct tool_opt *const opts[] = {sign_opts_signer, sign_opts, NULL};

static const char footer[] =
	"Exit: 0 all done, 13 some files failed (the others are signed), 11 the token failed\n"
	"or was removed (what was signed before stays; run again to finish), 9 refused by the\n"
	"CTL check or a token rule, 3 the audit log cannot be written (what was not audited\n"
	"is not published), 12 another run held the directory's lock for --wait seconds.\n";

static int add_pat(const char ***v, size_t *n, const char *p)
{
	const char **nv = realloc(*v, (*n + 2) * sizeof(*nv));

	if (!nv)
		return 0;
	nv[(*n)++] = p;
	nv[*n] = NULL;
	*v = nv;
	return 1;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	return strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

/* One run of `ctlsign sign`: its options, then what each phase leaves to the next. */
struct sign_run {
	struct sign_args sa;
	const char *outdir, *ctl, *dir, **inc, **exc;
	size_t ninc, nexc;
	bool all, quiet, prune, help;
	unsigned long jobs;
	char **files; /* the FILE operands (without --dir) */
	size_t nfiles;
	char *ctl_path, *first_dir, **orphans;
	size_t norphans;
	unsigned long pruned;
	struct publish_lock *lock;
	struct session s;
	struct bulk_opts bo;
	struct bulk_stats st;
	struct ctl_err err;
};

/* The options and operands into r; CTL_OK to go on (r->help: --help was shown). */
static int parse_options(int argc, char **argv, struct sign_run *r)
{
	struct tool_args g = {.argc = argc, .argv = argv, .usage = usage, .opts = opts,
			      .footer = footer};
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int c, took;

	r->jobs = ncpu > 0 ? (unsigned long)ncpu : 1;
	sign_args_init(&r->sa);
	while ((c = tool_opt_next(&g)) != -1) {
		if ((took = sign_opt(c, "sign", &r->sa)) != 0) {
			if (took > 0)
				continue;
			c = '?';
		}
		switch (c) {
		case 'o': r->outdir = optarg; break;
		case O_CTL: r->ctl = optarg; break;
		case O_DIR: r->dir = optarg; break;
		case O_INCLUDE:
			if (!add_pat(&r->inc, &r->ninc, optarg))
				return tool_fail(CTL_E_INTERNAL, "out of memory");
			break;
		case O_EXCLUDE:
			if (!add_pat(&r->exc, &r->nexc, optarg))
				return tool_fail(CTL_E_INTERNAL, "out of memory");
			break;
		case O_ALL: r->all = true; break;
		case 'j':
			if (!tool_parse_uint(optarg, 1, 256, &r->jobs, "--jobs", &r->err))
				return tool_report(&r->err);
			break;
		case 'q': r->quiet = true; break;
		case O_PRUNE: r->prune = true; break;
		default:
			return CTL_E_USAGE;
		}
	}
	if (g.help_shown) {
		r->help = true;
		return CTL_OK;
	}
	if ((r->dir && optind < argc) || (!r->dir && optind >= argc))
		return tool_fail(CTL_E_USAGE, "sign: give either FILE... or --dir TFTPDIR; see 'ctlsign sign --help'");
	if (r->prune && !r->dir)
		return tool_fail(CTL_E_USAGE, "sign: --prune works on a directory: give --dir TFTPDIR");
	r->files = argv + optind;
	r->nfiles = (size_t)(argc - optind);
	return CTL_OK;
}

/* Finds the CTL, takes the directory's lock, reports an earlier unfinished batch. */
static int prepare(struct sign_run *r)
{
	int rc;

	if (!r->dir)
		r->first_dir = dir_of(r->files[0]);
	{
		const char *dirs[] = {r->dir, r->outdir, r->first_dir};
		r->ctl_path = session_find_ctl(r->ctl, dirs, 3);
	}
	/* The CTL found in a TFTP directory is read only if it is a regular file there, not
	 * a link someone planted. */
	if (r->ctl_path && !r->ctl && (rc = publish_check_path(r->ctl_path, &r->err)) != CTL_OK)
		return rc;

	/* One run at a time in a directory: the lock where the outputs go. Then an earlier
	 * run's announced but unfinished batch is reported (this run re-checks those files). */
	if (r->dir) {
		char *ldir[] = {(char *)(r->outdir ? r->outdir : r->dir)};

		if ((rc = publish_lock(ldir, 1, (unsigned)r->sa.wait_s, NULL, &r->lock, &r->err)) != CTL_OK ||
		    (rc = audit_report_interrupted(audit_path(r->sa.audit_log), ldir, 1,
						   "signs again every file whose .sgn is not in place",
						   stderr, NULL, &r->err)) != CTL_OK)
			return rc;
	}
	return CTL_OK;
}

/* Opens the token session and checks the signer against the CTL; on failure the session
 * is closed again. */
static int open_signer(struct sign_run *r)
{
	int rc;

	if ((rc = session_open(&r->s, r->sa.module, r->sa.key, r->sa.pin, r->sa.final_try,
			       r->sa.audit_log, &r->err)) != CTL_OK)
		return rc;
	if (r->ctl_path) {
		if ((rc = session_check_ctl(r->ctl_path, r->s.cert, &r->err)) != CTL_OK) {
			session_close(&r->s);
			return rc;
		}
	} else if (!r->quiet) {
		fprintf(stderr, "ctlsign: note: no CTL found (give --ctl): not checking that phones trust this signer\n");
	}
	return CTL_OK;
}

/* Signs the files (or the directory) in the open session. */
static int sign_all(struct sign_run *r)
{
	struct bulk_opts *bo = &r->bo;

	memset(bo, 0, sizeof(*bo));
	bo->signer = r->s.signer;
	bo->hash_alg = r->sa.hash ? r->sa.hash : CTL_HASH_SHA512;
	bo->all = r->all;
	bo->jobs = (unsigned)r->jobs;
	bo->progress = !r->quiet && isatty(STDERR_FILENO);
	bo->quiet = r->quiet;
	bo->patterns.include = r->inc;
	bo->patterns.exclude = r->exc;
	bo->outdir = r->outdir;
	bo->intent = session_audit_intent;
	bo->outcome = session_audit_outcome;
	bo->audit_ctx = &r->s;
	/* From here a Ctrl-C or SIGTERM stops the run between files: what is being published
	 * is finished and audited, the summary says what was done, then exit 12. */
	bo->cancelled = tool_cancelled;
	tool_defer_begin();
	if (r->dir)
		return bulk_sign_dir(r->dir, bo, &r->st, &r->err);
	return bulk_sign_files(r->files, r->nfiles, true, bo, &r->st, &r->err);
}

/* Stale .sgn files: their config is gone but phones are still served them. Reported,
 * and with --prune removed (audited); returns rc, or the error that came up. */
static int find_orphans(struct sign_run *r, int rc)
{
	struct ctl_err oe;
	int orc;

	memset(&oe, 0, sizeof(oe));
	orc = bulk_find_orphans(r->dir, r->outdir, &r->bo.patterns, r->s.cert, &r->orphans,
				&r->norphans, &oe);
	if (orc == CTL_OK && r->prune && r->norphans && !r->s.audit_failed)
		orc = bulk_prune_orphans(r->dir, r->outdir, &r->bo.patterns, r->s.cert, r->orphans,
					 r->norphans, session_audit_intent_prune,
					 session_audit_outcome_prune, &r->s, &r->pruned, &oe);
	if (orc != CTL_OK) {
		tool_report(&oe);
		if (rc == CTL_OK)
			rc = orc == CTL_E_PARTIAL ? CTL_E_IO : orc;
	}
	return rc;
}

/* The summary as JSON on stdout. */
static void print_json(const struct sign_run *r)
{
	struct json_object *o = bulk_stats_json(&r->st);

	if (o && r->dir) {
		struct json_object *a = json_object_new_array();
		for (size_t i = 0; a && i < r->norphans && i < 100; i++) {
			char *dn = bulk_display_name(r->orphans[i]);
			json_object_array_add(a, json_object_new_string(dn ? dn : "?"));
			free(dn);
		}
		json_object_object_add(o, "dir", json_object_new_string(r->dir));
		json_object_object_add(o, "orphans", a ? a : json_object_new_array());
		json_object_object_add(o, "orphans_count", json_object_new_int64((int64_t)r->norphans));
		json_object_object_add(o, "pruned", json_object_new_int64((int64_t)r->pruned));
	}
	if (o)
		tool_json_print(o);
}

/* The stale .sgn files, on stderr. */
static void note_orphans(const struct sign_run *r)
{
	size_t norphans = r->norphans, n = r->prune ? (size_t)r->pruned : norphans;

	fprintf(stderr, "ctlsign: %s %zu stale .sgn file%s whose config is gone (signed by this key, no .enc.sgn beside %s):",
		r->prune ? "removed" : "note:", n, n == 1 ? "" : "s", norphans == 1 ? "it" : "them");
	for (size_t i = 0; i < norphans && i < 5; i++) {
		char *dn = bulk_display_name(r->orphans[i]);
		fprintf(stderr, "%s %s", i ? "," : "", dn ? dn : "?");
		free(dn);
	}
	fprintf(stderr, "%s%s\n", norphans > 5 ? ", ..." : "",
		r->prune ? "" : "; phones are still served them: --prune removes them");
}

/* The run happened (fully or partly): the bulk-summary audit record, then the summary. */
static void summarize(struct sign_run *r, int rc)
{
	const struct bulk_stats *st = &r->st;
	struct ctl_err ae;
	char detail[256];

	snprintf(detail, sizeof(detail),
		 "signed=%lu unchanged=%lu failed=%lu skipped=%lu not_done=%lu unsynced=%lu",
		 st->signed_files, st->unchanged, st->failed, st->skipped, st->not_done, st->unsynced);
	if (r->dir && session_audit(&r->s, "bulk-summary", r->dir, NULL, 0,
				    rc == CTL_OK ? "ok" : (st->stopped ? st->stop.msg : "partial"),
				    detail, &ae) != CTL_OK && !r->s.audit_failed) {
		r->s.audit_failed = true;
		r->s.audit_err = ae;
	}
	if (r->sa.json) {
		print_json(r);
	} else {
		printf("signed %lu, unchanged %lu, failed %lu, skipped %lu", st->signed_files,
		       st->unchanged, st->failed, st->skipped);
		if (st->not_done)
			printf(", not done %lu", st->not_done);
		if (r->norphans)
			printf(", %s %lu", r->prune ? "pruned" : "orphaned",
			       r->prune ? r->pruned : (unsigned long)r->norphans);
		putchar('\n');
	}
	if (r->norphans && !r->quiet)
		note_orphans(r);
	if (st->stopped)
		fprintf(stderr, "ctlsign: stopped: %s; %lu files were signed before that; run the same command again to finish (unchanged files are skipped)\n",
			st->stop.msg, st->signed_files);
}

/* After the run: closes the session, reports what went wrong, frees. */
static int finish(struct sign_run *r, int rc)
{
	session_close(&r->s);
	if (rc != CTL_OK && rc != CTL_E_PARTIAL && !r->st.stopped && r->err.msg[0])
		tool_report(&r->err);
	if (r->st.unsynced) {
		fprintf(stderr, "ctlsign: %lu signed file%s in place but %s directory could not be synced: %s may not survive a power loss; run again\n",
			r->st.unsynced, r->st.unsynced == 1 ? " is" : "s are",
			r->st.unsynced == 1 ? "its" : "their", r->st.unsynced == 1 ? "it" : "they");
		if (rc == CTL_OK)
			rc = CTL_E_IO;
	}
	if (r->s.audit_failed) {
		tool_report(&r->s.audit_err);
		if (rc == CTL_OK)
			rc = CTL_E_IO;
	}
	if (r->st.stopped && r->st.stop.code == CTL_E_CANCELLED)
		tool_cancel_handled(); /* said above, with what was signed before */
	bulk_names_free(r->orphans, r->norphans);
	bulk_stats_clear(&r->st);
	return rc;
}

int cmd_sign(int argc, char **argv)
{
	struct sign_run r;
	int rc;

	memset(&r, 0, sizeof(r));
	if ((rc = parse_options(argc, argv, &r)) != CTL_OK || r.help)
		goto out;
	if ((rc = prepare(&r)) != CTL_OK || (rc = open_signer(&r)) != CTL_OK) {
		tool_report(&r.err);
		goto out;
	}
	rc = sign_all(&r);
	if (r.dir && r.st.failures && !r.st.stopped && (rc == CTL_OK || rc == CTL_E_PARTIAL))
		rc = find_orphans(&r, rc);
	if (r.st.failures) /* the run happened (fully or partly) */
		summarize(&r, rc);
	rc = finish(&r, rc);
	publish_unlock(r.lock);
	free(r.ctl_path);
	free(r.first_dir);
	free(r.inc);
	free(r.exc);
	tool_defer_end(); /* a signal that came after the run: exit 12 now */
	return rc;
out:
	publish_unlock(r.lock);
	free(r.ctl_path);
	free(r.first_dir);
	free(r.inc);
	free(r.exc);
	return rc;
}
