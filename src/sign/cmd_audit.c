/* cmd_audit.c - `ctlsign audit [--json] [FILE]`: the signing audit log, readable. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "audit.h"
#include "sign.h"
#include "tool.h"

static const char usage[] =
	"usage: ctlsign audit [--json] [--audit-log FILE] [FILE]\n"
	"\n"
	"Prints the signing audit log (one JSON object per line; SPEC 4.5): time, operation,\n"
	"result, output file and its SHA-256, token, signer certificate.\n"
	"FILE defaults to --audit-log, $" AUDIT_ENV ", then ./" AUDIT_DEFAULT_PATH ".\n"
	"A corrupt line is reported with its line number; the others are still shown\n"
	"(exit 4 when any line was corrupt).\n"
	"\n"
	"  --json             one JSON document: {\"records\": [...], \"errors\": [...]}\n"
	"  --audit-log FILE   the log to read\n";

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
	const char *detail = get(o, "detail");

	printf("%s  %-18s %s\n", t ? t : "?", op ? op : "?", res ? res : "?");
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

int cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"audit-log", required_argument, NULL, 'a'},
		{NULL, 0, NULL, 0},
	};
	struct tool_getopt g = {argc, argv, opts, NULL, usage, false};
	const char *explicit_path = NULL, *path;
	struct json_object *records = NULL, *errors = NULL;
	bool json = false;
	char *line = NULL;
	size_t cap = 0, nrec = 0, nbad = 0;
	long lineno = 0;
	ssize_t n;
	FILE *fp;
	int c;

	optind = 1;
	while ((c = tool_getopt(&g)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'a': explicit_path = optarg; break;
		default: return CTL_E_USAGE;
		}
	}
	if (g.help_shown)
		return CTL_OK;
	if (argc - optind > 1)
		return tool_fail(CTL_E_USAGE, "audit: one log file at most; see 'ctlsign audit --help'");
	path = argc - optind == 1 ? argv[optind] : audit_path(explicit_path);
	if (!(fp = fopen(path, "r")))
		return tool_fail(CTL_E_IO, "cannot read audit log %s: %s", path, strerror(errno));
	if (json) {
		records = json_object_new_array();
		errors = json_object_new_array();
	}
	while ((n = getline(&line, &cap, fp)) != -1) {
		struct json_tokener *tok;
		struct json_object *o;
		enum json_tokener_error jerr;

		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (!n)
			continue;
		tok = json_tokener_new();
		if (!tok) {
			fclose(fp);
			free(line);
			json_object_put(records);
			json_object_put(errors);
			return tool_fail(CTL_E_INTERNAL, "out of memory");
		}
		o = json_tokener_parse_ex(tok, line, (int)n);
		jerr = json_tokener_get_error(tok);
		if (o && jerr == json_tokener_success && (size_t)json_tokener_get_parse_end(tok) != (size_t)n)
			jerr = json_tokener_error_parse_unexpected;
		json_tokener_free(tok);
		if (!o || jerr != json_tokener_success || !json_object_is_type(o, json_type_object)) {
			const char *why = jerr == json_tokener_continue ? "truncated JSON" :
					  jerr != json_tokener_success ? json_tokener_error_desc(jerr)
								       : "not a JSON object";
			nbad++;
			fprintf(stderr, "%s: %s:%ld: corrupt audit record (%s); skipped\n", tool_prog,
				path, lineno, why);
			if (json) {
				struct json_object *e = json_object_new_object();

				json_object_object_add(e, "line", json_object_new_int64(lineno));
				json_object_object_add(e, "error", json_object_new_string(why));
				json_object_array_add(errors, e);
			}
			json_object_put(o);
			continue;
		}
		nrec++;
		if (json) {
			json_object_object_add(o, "line", json_object_new_int64(lineno));
			json_object_array_add(records, o);
		} else {
			print_rec(o);
			json_object_put(o);
		}
	}
	free(line);
	if (ferror(fp)) {
		fclose(fp);
		json_object_put(records);
		json_object_put(errors);
		return tool_fail(CTL_E_IO, "error reading audit log %s", path);
	}
	fclose(fp);
	if (json) {
		struct json_object *doc = json_object_new_object();

		json_object_object_add(doc, "file", json_object_new_string(path));
		json_object_object_add(doc, "records", records);
		json_object_object_add(doc, "errors", errors);
		tool_json_print(doc);
	} else {
		printf("%zu record%s%s", nrec, nrec == 1 ? "" : "s", nbad ? ", " : "\n");
		if (nbad)
			printf("%zu corrupt line%s\n", nbad, nbad == 1 ? "" : "s");
	}
	return nbad ? CTL_E_MALFORMED : CTL_OK;
}
