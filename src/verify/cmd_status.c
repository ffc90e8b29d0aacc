/* cmd_status.c - ctlverify status: what the trust store holds. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "device.h"
#include "tool.h"
#include "verify.h"

static const char usage[] =
	"usage: ctlverify status --store DIR [--json]\n"
	"\n"
	"Shows what the trust store holds: for the CTL and the ITL, since when (install time),\n"
	"the file's own timestamp, who signed it, how it came to be trusted (tofu = trusted on\n"
	"first use, pinned = first CTL matched --expect-sast, signed-by-held-sast, first-sight,\n"
	"signed-by-ctl, signed-by-held-itl), its SHA-256 and its records. When a CTL install\n"
	"dropped the held ITL (its signer is not a TFTP record of the new CTL), says when and why.\n";

static const struct tool_opt status_opts[] = {
	V_OPT_STORE("the trust store"),
	V_OPT_JSON("machine-readable"),
	TOOL_OPT_END,
};
static const struct tool_opt *const opts[] = {status_opts, NULL};

static void fmt_time(long long t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, cap, "%lld", t);
}

static struct json_object *held_json(ctlv_store *s, int kind)
{
	struct json_object *o = json_object_new_object(), *recs = json_object_new_array();
	char t[32];

	json_object_object_add(o, "held", json_object_new_boolean(1));
	fmt_time(ctlv_held_installed(s, kind), t, sizeof(t));
	json_object_object_add(o, "installed", json_object_new_string(t));
	/* the header's fields under the names of `ctlverify show --json`'s header */
	json_object_object_add(o, "timestamp", json_object_new_int64(ctlv_held_timestamp(s, kind)));
	fmt_time(ctlv_held_timestamp(s, kind), t, sizeof(t));
	json_object_object_add(o, "time", json_object_new_string(t));
	json_object_object_add(o, "signer_name", json_object_new_string(ctlv_held_signer(s, kind)));
	json_object_object_add(o, "trust", json_object_new_string(ctlv_held_trust(s, kind)));
	json_object_object_add(o, "sha256", json_object_new_string(ctlv_held_sha256(s, kind)));
	for (size_t i = 0; i < ctlv_held_records(s, kind); i++) {
		struct json_object *r = json_object_new_object();

		json_object_object_add(r, "role", json_object_new_string(ctlv_held_record_role(s, kind, i)));
		json_object_object_add(r, "subject", json_object_new_string(ctlv_held_record_subject(s, kind, i)));
		json_object_array_add(recs, r);
	}
	json_object_object_add(o, "records", recs);
	return o;
}

static struct json_object *dropped_json(ctlv_store *s, int kind)
{
	long long when = 0;
	const char *why = ctlv_held_dropped(s, kind, &when);
	struct json_object *o;
	char t[32];

	if (!why[0])
		return NULL;
	o = json_object_new_object();
	fmt_time(when, t, sizeof(t));
	json_object_object_add(o, "at", json_object_new_string(t));
	json_object_object_add(o, "reason", json_object_new_string(why));
	return o;
}

static void held_print(ctlv_store *s, int kind, const char *name)
{
	char inst[32], ts[32];
	long long when = 0;
	const char *why = ctlv_held_dropped(s, kind, &when);

	if (!ctlv_held(s, kind)) {
		if (why[0]) {
			fmt_time(when, inst, sizeof(inst));
			printf("%s: none held (the held %s was DROPPED at %s by a CTL install: %s)\n",
			       name, name, inst, why);
			return;
		}
		printf("%s: none held\n", name);
		return;
	}
	fmt_time(ctlv_held_installed(s, kind), inst, sizeof(inst));
	fmt_time(ctlv_held_timestamp(s, kind), ts, sizeof(ts));
	printf("%s: held since %s (file timestamp %s), signed by %s, trust %s, %zu records, sha256 %s\n",
	       name, inst, ts, ctlv_held_signer(s, kind), ctlv_held_trust(s, kind),
	       ctlv_held_records(s, kind), ctlv_held_sha256(s, kind));
	for (size_t i = 0; i < ctlv_held_records(s, kind); i++)
		printf("  %-10s %s\n", ctlv_held_record_role(s, kind, i),
		       ctlv_held_record_subject(s, kind, i));
}

int cmd_status(int argc, char **argv)
{
	struct tool_args g = {.argc = argc, .argv = argv, .usage = usage, .opts = opts};
	struct verify_args va;
	ctlv_store *s = NULL;
	int rc;

	if ((rc = verify_parse(&g, &va)) != CTL_OK)
		return rc;
	if (g.help_shown)
		return CTL_OK;
	if (optind != argc)
		return tool_fail(CTL_E_USAGE, "status: no arguments expected; see 'ctlverify status --help'");
	if (va.store) {
		struct stat sb;

		if (stat(va.store, &sb) != 0) /* nothing installed yet; do not create it here */
			s = ctlv_store_new();
	}
	if (!s) {
		rc = dev_store_open(va.store, &s);
		if (rc != CTL_OK)
			return rc;
	}
	if (va.json) {
		struct json_object *o = json_object_new_object();
		struct json_object *none;

		json_object_object_add(o, "store", json_object_new_string(va.store));
		for (int kind = CTLV_KIND_CTL; kind <= CTLV_KIND_ITL; kind++) {
			const char *key = kind == CTLV_KIND_CTL ? "ctl" : "itl";
			struct json_object *dropped = dropped_json(s, kind);

			if (ctlv_held(s, kind)) {
				none = held_json(s, kind);
			} else {
				none = json_object_new_object();
				json_object_object_add(none, "held", json_object_new_boolean(0));
			}
			if (dropped)
				json_object_object_add(none, "dropped", dropped);
			json_object_object_add(o, key, none);
		}
		tool_json_print(o);
	} else {
		held_print(s, CTLV_KIND_CTL, "CTL");
		held_print(s, CTLV_KIND_ITL, "ITL");
	}
	ctlv_store_free(s);
	return CTL_OK;
}
