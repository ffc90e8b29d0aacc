/* cmd_ctl_diff.c - `ctlsign ctl diff`: what an update would change, from the cluster file
 * alone (no token; nothing is signed or written). */
#include <stdio.h>
#include <string.h>

#include "cmd_ctl.h"
#include "ctlrun.h"
#include "tool.h"

static const char usage_diff[] =
	"usage: ctlsign ctl diff --cluster FILE [--current FILE] [--mode MODE] [--trust-current SHA256]\n"
	"                        [--strict] [--json] [--exit-code]\n"
	"\n"
	"Shows what 'ctlsign ctl update' would change in the current CTL after the cluster\n"
	"file was edited (servers added, removed, renamed, re-certified; the mode; the digest),\n"
	"without any token: nothing is signed or written. The current CTL must verify. Also\n"
	"shows the current file's SHA-256 and signer, whether it is anchored (see 'ctlsign ctl update\n"
	"--help'; (b) needs a token, so a CTL with no record is reported as adoptable only by\n"
	"a token of the update or --trust-current), and every SAST record of the result.\n"
	"Exit 6 when an update would refuse the current CTL whatever token is presented; with\n"
	"--exit-code, exit 14 when the CTL would change (else 0, as without it).\n"
;

/* --json: the diff, the current file, its signer and anchor, the SAST records. */
static void print_json(struct ctl_state *s, const struct ctl_opts *o, const char *curpath)
{
	struct json_object *j = ctldiff_json(&s->diff), *an = json_object_new_object();
	struct json_object *sg = json_object_new_object();
	static const char *by[] = {NULL, "a", "b", "c"};
	char st[8192];

	ctlcmd_anchor_status(s, o, st, sizeof(st));
	json_object_object_add(j, "current", json_object_new_string(curpath));
	json_object_object_add(j, "current_sha256", json_object_new_string(s->anchor.sha));
	json_object_object_add(sg, "subject", json_object_new_string(ctlcmd_cur_signer_name(s)));
	json_object_object_add(sg, "sha256", json_object_new_string(s->anchor.signer_fp));
	json_object_object_add(j, "current_signer", sg);
	json_object_object_add(an, "anchored", json_object_new_boolean(s->anchor.by != ANCHOR_NONE));
	json_object_object_add(an, "by", by[s->anchor.by] ? json_object_new_string(by[s->anchor.by]) : NULL);
	if (s->anchor.have_record)
		json_object_object_add(an, "recorded_sha256", json_object_new_string(s->anchor.rec_sha));
	json_object_object_add(an, "status", json_object_new_string(st));
	json_object_object_add(j, "anchor", an);
	json_object_object_add(j, "sast", ctldiff_sasts_json(s->recs.recs, s->recs.n,
							     s->cur->records, s->cur->nrecords));
	tool_json_print(j);
}

/* ctl diff: the update's plan from the cluster file alone. */
static int run_diff(const struct ctl_opts *o)
{
	struct ctl_state s;
	struct ctl_err err = {0};
	char curpath[4096];
	int rc, mode;

	memset(&s, 0, sizeof(s));
	if ((rc = cluster_load_opts(o->sa.cluster, &(struct cluster_load_opts){.strict = o->sa.strict},
				    &s.c, &err)) != CTL_OK)
		goto fail;
	snprintf(curpath, sizeof(curpath), "%s/%s", s.c->outputs[0], CTLRUN_FILE_NAME);
	if (o->current)
		snprintf(curpath, sizeof(curpath), "%s", o->current);
	if ((rc = ctlcmd_load_current(curpath, &s.cur, &err)) != CTL_OK ||
	    (rc = ctlcmd_anchor_load(&s, o, &err)) != CTL_OK ||
	    (rc = ctlcmd_decide_mode(&s, o, curpath, &mode, &err)) != CTL_OK ||
	    (rc = ctlcmd_build_records(&s, o, mode, -1, &err)) != CTL_OK ||
	    (rc = ctldiff_compute(s.cur->records, s.cur->nrecords,
				  ctlmake_mode_of(s.cur->records, s.cur->nrecords), s.recs.recs,
				  s.recs.n, mode, &s.diff, &err)) != CTL_OK)
		goto fail;
	ctldiff_set_digest(&s.diff, s.cur->hdr.hash_alg, s.c->hash_alg);
	if (o->sa.json) {
		print_json(&s, o, curpath);
	} else {
		char title[4200];

		snprintf(title, sizeof(title), "Changes 'ctlsign ctl update' would make to %s (%s, %s):\n",
			 curpath, cluster_mode_name(mode), ctl_hash_name(s.c->hash_alg));
		ctlcmd_print_plan(stdout, &s, o, curpath, title);
	}
	fflush(stdout);
	/* An update would refuse it whatever token is presented: say so, exit 6. */
	rc = ctlcmd_anchor_check(&s, o, curpath, false, &err);
	/* Output directories holding different CTLs: listed; exit 9 when an update would
	 * refuse to bring them level. */
	if (rc == CTL_OK)
		rc = ctlcmd_check_outputs_level(&s, o, false, &err);
	if (rc != CTL_OK)
		goto fail;
	/* --exit-code: like diff(1), say by the exit code whether the CTL would change */
	if (o->exit_code && !ctldiff_is_empty(&s.diff))
		rc = CTL_EXIT_DIFFERENCES;
	goto out;
fail:
	if (!s.reported)
		tool_report(&err);
out:
	ctlcmd_state_free(&s);
	return rc;
}

int cmd_ctl_diff(int argc, char **argv)
{
	struct ctl_opts o = {.op = OP_DIFF};
	bool help = false;
	int rc;

	if ((rc = ctlcmd_parse(argc, argv, ctlcmd_diff_opts, usage_diff, &o, &help)) != CTL_OK || help)
		return rc;
	if ((rc = ctlcmd_no_args(argc, argv)) != CTL_OK || (rc = ctlcmd_need_cluster(&o)) != CTL_OK)
		return rc;
	return run_diff(&o);
}
