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

int cmd_sign(int argc, char **argv)
{
	struct tool_args g = {.argc = argc, .argv = argv, .usage = usage, .opts = opts,
			      .footer = footer};
	const char *outdir = NULL, *ctl = NULL, *dir = NULL, **inc = NULL, **exc = NULL;
	size_t ninc = 0, nexc = 0;
	bool all = false, quiet = false;
	int c, rc, took;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned long jobs = ncpu > 0 ? (unsigned long)ncpu : 1;
	struct sign_args sa;
	struct publish_lock *lock = NULL;
	struct ctl_err err;
	struct session s;
	struct bulk_opts bo;
	struct bulk_stats st;
	char *ctl_path = NULL, *first_dir = NULL, **orphans = NULL;
	size_t norphans = 0;
	unsigned long pruned = 0;
	bool prune = false;
	char detail[256];

	memset(&err, 0, sizeof(err));
	memset(&st, 0, sizeof(st));
	sign_args_init(&sa);
	while ((c = tool_opt_next(&g)) != -1) {
		if ((took = sign_opt(c, "sign", &sa)) != 0) {
			if (took > 0)
				continue;
			c = '?';
		}
		switch (c) {
		case 'o': outdir = optarg; break;
		case O_CTL: ctl = optarg; break;
		case O_DIR: dir = optarg; break;
		case O_INCLUDE:
			if (!add_pat(&inc, &ninc, optarg))
				return tool_fail(CTL_E_INTERNAL, "out of memory");
			break;
		case O_EXCLUDE:
			if (!add_pat(&exc, &nexc, optarg))
				return tool_fail(CTL_E_INTERNAL, "out of memory");
			break;
		case O_ALL: all = true; break;
		case 'j':
			if (!tool_parse_uint(optarg, 1, 256, &jobs, "--jobs", &err))
				return tool_report(&err);
			break;
		case 'q': quiet = true; break;
		case O_PRUNE: prune = true; break;
		default:
			free(inc);
			free(exc);
			return CTL_E_USAGE;
		}
	}
	if (g.help_shown) {
		free(inc);
		free(exc);
		return CTL_OK;
	}
	if ((dir && optind < argc) || (!dir && optind >= argc)) {
		free(inc);
		free(exc);
		return tool_fail(CTL_E_USAGE, "sign: give either FILE... or --dir TFTPDIR; see 'ctlsign sign --help'");
	}
	if (prune && !dir) {
		free(inc);
		free(exc);
		return tool_fail(CTL_E_USAGE, "sign: --prune works on a directory: give --dir TFTPDIR");
	}
	if (!dir)
		first_dir = dir_of(argv[optind]);
	{
		const char *dirs[] = {dir, outdir, first_dir};
		ctl_path = session_find_ctl(ctl, dirs, 3);
	}
	/* The CTL found in a TFTP directory is read only if it is a regular file there, not
	 * a link someone planted. */
	if (ctl_path && !ctl && (rc = publish_check_path(ctl_path, &err)) != CTL_OK)
		goto fail;

	/* One run at a time in a directory: the lock where the outputs go. Then an earlier
	 * run's announced but unfinished batch is reported (this run re-checks those files). */
	if (dir) {
		char *ldir[] = {(char *)(outdir ? outdir : dir)};

		if ((rc = publish_lock(ldir, 1, (unsigned)sa.wait_s, NULL, &lock, &err)) != CTL_OK ||
		    (rc = audit_report_interrupted(audit_path(sa.audit_log), ldir, 1,
						   "signs again every file whose .sgn is not in place",
						   stderr, NULL, &err)) != CTL_OK)
			goto fail;
	}
	if ((rc = session_open(&s, sa.module, sa.key, sa.pin, sa.final_try, sa.audit_log, &err)) != CTL_OK)
		goto fail;
	if (ctl_path) {
		if ((rc = session_check_ctl(ctl_path, s.cert, &err)) != CTL_OK) {
			session_close(&s);
			goto fail;
		}
	} else if (!quiet) {
		fprintf(stderr, "ctlsign: note: no CTL found (give --ctl): not checking that phones trust this signer\n");
	}

	memset(&bo, 0, sizeof(bo));
	bo.signer = s.signer;
	bo.hash_alg = sa.hash ? sa.hash : CTL_HASH_SHA512;
	bo.all = all;
	bo.jobs = (unsigned)jobs;
	bo.progress = !quiet && isatty(STDERR_FILENO);
	bo.quiet = quiet;
	bo.patterns.include = inc;
	bo.patterns.exclude = exc;
	bo.outdir = outdir;
	bo.intent = session_audit_intent;
	bo.outcome = session_audit_outcome;
	bo.audit_ctx = &s;
	/* From here a Ctrl-C or SIGTERM stops the run between files: what is being published
	 * is finished and audited, the summary says what was done, then exit 12. */
	bo.cancelled = tool_cancelled;
	tool_defer_begin();
	if (dir)
		rc = bulk_sign_dir(dir, &bo, &st, &err);
	else
		rc = bulk_sign_files(argv + optind, (size_t)(argc - optind), true, &bo, &st, &err);

	/* Stale .sgn files: their config is gone but phones are still served them. */
	if (dir && st.failures && !st.stopped && (rc == CTL_OK || rc == CTL_E_PARTIAL)) {
		struct ctl_err oe;
		int orc;

		memset(&oe, 0, sizeof(oe));
		orc = bulk_find_orphans(dir, outdir, &bo.patterns, s.cert, &orphans, &norphans, &oe);
		if (orc == CTL_OK && prune && norphans && !s.audit_failed)
			orc = bulk_prune_orphans(dir, outdir, &bo.patterns, s.cert, orphans, norphans,
						 session_audit_intent_prune, session_audit_outcome_prune,
						 &s, &pruned, &oe);
		if (orc != CTL_OK) {
			tool_report(&oe);
			if (rc == CTL_OK)
				rc = orc == CTL_E_PARTIAL ? CTL_E_IO : orc;
		}
	}
	if (st.failures) { /* the run happened (fully or partly) */
		struct ctl_err ae;
		snprintf(detail, sizeof(detail),
			 "signed=%lu unchanged=%lu failed=%lu skipped=%lu not_done=%lu",
			 st.signed_files, st.unchanged, st.failed, st.skipped, st.not_done);
		if (dir && session_audit(&s, "bulk-summary", dir, NULL, 0,
					 rc == CTL_OK ? "ok" : (st.stopped ? st.stop.msg : "partial"),
					 detail, &ae) != CTL_OK && !s.audit_failed) {
			s.audit_failed = true;
			s.audit_err = ae;
		}
		if (sa.json) {
			struct json_object *o = bulk_stats_json(&st);
			if (o && dir) {
				struct json_object *a = json_object_new_array();
				for (size_t i = 0; a && i < norphans && i < 100; i++) {
					char *dn = bulk_display_name(orphans[i]);
					json_object_array_add(a, json_object_new_string(dn ? dn : "?"));
					free(dn);
				}
				json_object_object_add(o, "dir", json_object_new_string(dir));
				json_object_object_add(o, "orphans", a ? a : json_object_new_array());
				json_object_object_add(o, "orphans_count", json_object_new_int64((int64_t)norphans));
				json_object_object_add(o, "pruned", json_object_new_int64((int64_t)pruned));
			}
			if (o)
				tool_json_print(o);
		} else {
			printf("signed %lu, unchanged %lu, failed %lu, skipped %lu", st.signed_files,
			       st.unchanged, st.failed, st.skipped);
			if (st.not_done)
				printf(", not done %lu", st.not_done);
			if (norphans)
				printf(", %s %lu", prune ? "pruned" : "orphaned",
				       prune ? pruned : (unsigned long)norphans);
			putchar('\n');
		}
		if (norphans && !quiet) {
			fprintf(stderr, "ctlsign: %s %zu stale .sgn file%s whose config is gone (signed by this key, no .enc.sgn beside %s):",
				prune ? "removed" : "note:", prune ? (size_t)pruned : norphans,
				(prune ? (size_t)pruned : norphans) == 1 ? "" : "s",
				norphans == 1 ? "it" : "them");
			for (size_t i = 0; i < norphans && i < 5; i++) {
				char *dn = bulk_display_name(orphans[i]);
				fprintf(stderr, "%s %s", i ? "," : "", dn ? dn : "?");
				free(dn);
			}
			fprintf(stderr, "%s%s\n", norphans > 5 ? ", ..." : "",
				prune ? "" : "; phones are still served them: --prune removes them");
		}
		if (st.stopped)
			fprintf(stderr, "ctlsign: stopped: %s; %lu files were signed before that; run the same command again to finish (unchanged files are skipped)\n",
				st.stop.msg, st.signed_files);
	}
	session_close(&s);
	if (rc != CTL_OK && rc != CTL_E_PARTIAL && !st.stopped && err.msg[0])
		tool_report(&err);
	if (s.audit_failed) {
		tool_report(&s.audit_err);
		if (rc == CTL_OK)
			rc = CTL_E_IO;
	}
	if (st.stopped && st.stop.code == CTL_E_CANCELLED)
		tool_cancel_handled(); /* said above, with what was signed before */
	bulk_names_free(orphans, norphans);
	bulk_stats_clear(&st);
	publish_unlock(lock);
	free(ctl_path);
	free(first_dir);
	free(inc);
	free(exc);
	tool_defer_end(); /* a signal that came after the run: exit 12 now */
	return rc;
fail:
	tool_report(&err);
	publish_unlock(lock);
	free(ctl_path);
	free(first_dir);
	free(inc);
	free(exc);
	return rc;
}
