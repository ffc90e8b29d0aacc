/* cmd_audit.c - `ctlsign audit [--json] [FILE]`: the signing audit log, readable. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "audit.h"
#include "sign.h"
#include "tool.h"

#include <unistd.h>

static const char usage[] =
	"usage: ctlsign audit [--json] [--audit-log FILE] [FILE]\n"
	"       ctlsign audit --verify [--audit-log FILE] [FILE]\n"
	"\n"
	"Prints the signing audit log (one JSON object per line; SPEC 4.5): time, operation,\n"
	"result, output file and its SHA-256, token, signer certificate.\n"
	"FILE defaults to --audit-log, $" AUDIT_ENV ", then " AUDIT_DEFAULT_NAME " in the state\n"
	"directory ($CTLSIGN_STATE_DIR, else $XDG_STATE_HOME/ctlsign, else ~/.local/state/ctlsign).\n"
	"A corrupt line is reported with its line number; the others are still shown\n"
	"(exit 4 when any line was corrupt).\n"
;

enum { O_VERIFY = SIGN_O_OWN };
static const struct tool_opt audit_opts[] = {
	{O_VERIFY, "verify", NULL,
	 "check the chain: each record holds the SHA-256 of the one before, so a record deleted "
	 "or edited is found (exit 9, naming the first bad line); lines written before the chain "
	 "existed are reported as \"unchained up to line N\""},
	SIGN_OPT_JSON("one JSON document: {\"records\": [...], \"errors\": [...]}"),
	{SIGN_O_AUDIT_LOG, "audit-log", "FILE", "the log to read"},
	TOOL_OPT_END,
};
static const struct tool_opt *const opts[] = {audit_opts, NULL};

static const char *get(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static void print_rec(struct json_object *o)
{
	const char *t = get(o, "time"), *op = get(o, "operation"), *res = get(o, "result");
	const char *out = get(o, "output"), *sha = get(o, "output_sha256");
	const char *label = get(o, "token_label"), *tser = get(o, "token_serial");
	const char *subj = get(o, "signer_subject"), *sser = get(o, "signer_serial");
	const char *detail = get(o, "detail"), *phase = get(o, "phase"), *id = get(o, "intent");

	printf("%s  %-18s %s", t ? t : "?", op ? op : "?", res ? res : "?");
	if (phase)
		printf("  (%s%s%s)", phase, id ? " " : "", id ? id : "");
	putchar('\n');
	if (out)
		printf("    output  %s%s%.16s%s\n", out, sha ? "  sha256 " : "", sha ? sha : "",
		       sha ? "..." : "");
	if (label || tser)
		printf("    token   %s%s%s%s\n", label ? "'" : "", label ? label : "",
		       label ? "' " : "", tser ? tser : "");
	if (subj || sser)
		printf("    signer  %s%s%s\n", subj ? subj : "", sser ? " serial " : "",
		       sser ? sser : "");
	if (detail)
		printf("    detail  %s\n", detail);
}

static int verify_chain(const char *path, bool json)
{
	struct audit_verify v;
	struct ctl_err err = {0};

	if (audit_verify(path, &v, &err) != CTL_OK)
		return tool_report(&err);
	if (json) {
		struct json_object *doc = json_object_new_object();

		json_object_object_add(doc, "file", json_object_new_string(path));
		json_object_object_add(doc, "lines", json_object_new_int64(v.lines));
		json_object_object_add(doc, "unchained_lines", json_object_new_int64(v.unchained));
		json_object_object_add(doc, "intact", json_object_new_boolean(!v.first_bad));
		if (v.first_bad) {
			json_object_object_add(doc, "first_bad_line", json_object_new_int64(v.first_bad));
			json_object_object_add(doc, "error", json_object_new_string(v.why));
		}
		tool_json_print(doc);
	}
	if (v.first_bad)
		return tool_fail(CTL_E_POLICY, "audit log %s is broken at line %ld: %s", path,
				 v.first_bad, v.why);
	if (!json) {
		if (v.unchained)
			printf("%s: unchained up to line %ld (written before the chain existed); lines %ld to %ld chained, intact\n",
			       path, v.unchained, v.unchained + 1, v.lines);
		else
			printf("%s: %ld line%s, chain intact\n", path, v.lines, v.lines == 1 ? "" : "s");
	}
	return CTL_OK;
}

/* Reading a log: where, how, and what was found. */
struct audit_read {
	const char *path;
	bool json;
	struct json_object *records, *errors; /* with --json */
	size_t nrec, nbad;
	long lineno;
};

/* One line (without its end) as a JSON object: CTL_OK and *out, or CTL_E_MALFORMED and
 * *why, or CTL_E_INTERNAL (out of memory). */
static int parse_record(const char *line, ssize_t n, struct json_object **out, const char **why)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;
	enum json_tokener_error jerr;

	*out = NULL;
	if (!tok)
		return CTL_E_INTERNAL;
	o = json_tokener_parse_ex(tok, line, (int)n);
	jerr = json_tokener_get_error(tok);
	if (o && jerr == json_tokener_success && (size_t)json_tokener_get_parse_end(tok) != (size_t)n)
		jerr = json_tokener_error_parse_unexpected;
	json_tokener_free(tok);
	if (!o || jerr != json_tokener_success || !json_object_is_type(o, json_type_object)) {
		*why = jerr == json_tokener_continue ? "truncated JSON" :
		       jerr != json_tokener_success ? json_tokener_error_desc(jerr)
						    : "not a JSON object";
		json_object_put(o);
		return CTL_E_MALFORMED;
	}
	*out = o;
	return CTL_OK;
}

/* A corrupt line: said on stderr, and listed with --json. */
static void note_corrupt(struct audit_read *ar, const char *why)
{
	ar->nbad++;
	fprintf(stderr, "%s: %s:%ld: corrupt audit record (%s); skipped\n", tool_prog,
		ar->path, ar->lineno, why);
	if (ar->json) {
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "line", json_object_new_int64(ar->lineno));
		json_object_object_add(e, "error", json_object_new_string(why));
		json_object_array_add(ar->errors, e);
	}
}

/* Every record of the open log: printed, or collected with --json. */
static int read_records(struct audit_read *ar, struct ctl_lines *lr)
{
	struct ctl_err err = {0};
	char *line;
	size_t n;
	bool nl;
	int k;

	while ((k = ctl_lines_next(lr, AUDIT_LINE_MAX, &line, &n, &nl, &err)) == 1) {
		struct json_object *o;
		const char *why = NULL;
		int rc;

		ar->lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (!n)
			continue;
		if ((rc = parse_record(line, n, &o, &why)) == CTL_E_INTERNAL)
			return tool_fail(CTL_E_INTERNAL, "out of memory");
		if (rc != CTL_OK) {
			note_corrupt(ar, why);
			continue;
		}
		ar->nrec++;
		if (ar->json) {
			json_object_object_add(o, "line", json_object_new_int64(ar->lineno));
			json_object_array_add(ar->records, o);
		} else {
			print_rec(o);
			json_object_put(o);
		}
	}
	if (k < 0)
		return tool_report(&err);
	return CTL_OK;
}

/* Prints the log at ar->path; CTL_E_MALFORMED when a line was corrupt. */
static int show_log(struct audit_read *ar)
{
	char what[PATH_MAX + 16];
	struct ctl_lines lr;
	int fd, rc;

	if ((fd = open(ar->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) < 0)
		return tool_fail(CTL_E_IO, "cannot read audit log %s: %s", ar->path, strerror(errno));
	if (ar->json) {
		ar->records = json_object_new_array();
		ar->errors = json_object_new_array();
	}
	snprintf(what, sizeof(what), "audit log %s", ar->path);
	ctl_lines_init(&lr, fd, what);
	rc = read_records(ar, &lr);
	ctl_lines_free(&lr);
	close(fd);
	if (rc != CTL_OK) {
		json_object_put(ar->records);
		json_object_put(ar->errors);
		return rc;
	}
	if (ar->json) {
		struct json_object *doc = json_object_new_object();

		json_object_object_add(doc, "file", json_object_new_string(ar->path));
		json_object_object_add(doc, "records", ar->records);
		json_object_object_add(doc, "errors", ar->errors);
		tool_json_print(doc);
	} else {
		printf("%zu record%s%s", ar->nrec, ar->nrec == 1 ? "" : "s", ar->nbad ? ", " : "\n");
		if (ar->nbad)
			printf("%zu corrupt line%s\n", ar->nbad, ar->nbad == 1 ? "" : "s");
	}
	return ar->nbad ? CTL_E_MALFORMED : CTL_OK;
}

int cmd_audit(int argc, char **argv)
{
	struct tool_args g = {.argc = argc, .argv = argv, .usage = usage, .opts = opts};
	const char *explicit_path = NULL;
	struct audit_read ar;
	bool verify = false;
	int c;

	memset(&ar, 0, sizeof(ar));
	while ((c = tool_opt_next(&g)) != -1) {
		switch (c) {
		case SIGN_O_JSON: ar.json = true; break;
		case SIGN_O_AUDIT_LOG: explicit_path = optarg; break;
		case O_VERIFY: verify = true; break;
		default: return CTL_E_USAGE;
		}
	}
	if (g.help_shown)
		return CTL_OK;
	if (argc - optind > 1)
		return tool_fail(CTL_E_USAGE, "audit: one log file at most; see 'ctlsign audit --help'");
	ar.path = argc - optind == 1 ? argv[optind] : audit_path(explicit_path);
	if (verify)
		return verify_chain(ar.path, ar.json);
	return show_log(&ar);
}
