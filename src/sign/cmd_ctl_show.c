/* cmd_ctl_show.c - `ctlsign ctl show`: a CTL (or ITL) and whether it verifies against its own
 * SAST record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "cmd_ctl.h"
#include "ctlrun.h"
#include "show.h"
#include "sign.h"
#include "tool.h"

static const char usage_show[] =
	"usage: ctlsign ctl show [--json] [--cluster FILE] [FILE]\n"
	"\n"
	"Prints a CTL: header, signer, every record, the security mode, and whether it verifies\n"
	"against its own SAST record. FILE defaults to the cluster's first output directory's\n"
	"CTLFile.tlv with --cluster, else ./CTLFile.tlv.\n"
;

static const struct tool_opt show_own[] = {
	SIGN_OPT_JSON("the document of 'ctlverify show --json' (schemas/ctl.schema.json, "
		      "itl.schema.json) plus \"verification\": {\"verified\", \"error\", "
		      "\"signer_record\"}"),
	{SIGN_O_CLUSTER, "cluster", "FILE", "the cluster description (INI): show its first output's CTL"},
	TOOL_OPT_END,
};
static const struct tool_opt *const show_opts[] = {show_own, NULL};

/* --json: the document of `ctlverify show --json` (schemas/ctl.schema.json, itl.schema.json),
 * plus what only ctlsign checks here: the signature against the file's own record. */
static void print_json(const struct ctl_file *f, const char *path, const struct ctl_record *signer,
		       int vrc, const struct ctl_err *verr)
{
	struct json_object *o = show_json(path, f), *v = json_object_new_object();

	json_object_object_add(v, "verified", json_object_new_boolean(vrc == CTL_OK));
	if (vrc != CTL_OK)
		json_object_object_add(v, "error", json_object_new_string(verr->msg));
	json_object_object_add(v, "signer_record",
			       signer ? json_object_new_int64((int64_t)(signer - f->records)) : NULL);
	json_object_object_add(o, "verification", v);
	tool_json_print(o);
}

/* The text form: header, signer, signature, every record with its SHA-1. */
static void print_text(const struct ctl_file *f, const char *path, const struct ctl_record *signer,
		       int vrc, const struct ctl_err *verr, int mode)
{
	char when[64] = "?";
	time_t t = (time_t)f->hdr.timestamp;
	struct tm tm;

	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s %s  version %u.%u", ctl_kind_name(f->kind), path, f->hdr.version_major,
	       f->hdr.version_minor);
	if (f->hdr.has_signer_version)
		printf(", signer version %u.%u", f->hdr.signer_version_major,
		       f->hdr.signer_version_minor);
	printf("\n  file name  %s\n  signed     %s with %s\n  mode       %s\n",
	       f->hdr.file_name ? f->hdr.file_name : "?", when, ctl_hash_name(f->hdr.hash_alg),
	       cluster_mode_name(mode));
	printf("  signer     %s (issuer %s)%s%s\n", f->hdr.signer_name ? f->hdr.signer_name : "?",
	       f->hdr.issuer_name ? f->hdr.issuer_name : "?",
	       signer ? "" : " - NOT among the records", "");
	printf("  signature  %s%s\n", vrc == CTL_OK ? "verifies" : "DOES NOT VERIFY: ",
	       vrc == CTL_OK ? "" : verr->msg);
	printf("  records    %zu\n", f->nrecords);
	for (size_t i = 0; i < f->nrecords; i++) {
		const struct ctl_record *r = &f->records[i];
		char desc[700];

		ctldiff_describe(r, desc, sizeof(desc));
		printf("  %2zu  %s\n", i + 1, desc);
		if (r->cert.len) {
			uint8_t md[EVP_MAX_MD_SIZE];
			unsigned ml = 0;
			char *h = NULL;

			if (EVP_Digest(r->cert.data, r->cert.len, md, &ml, EVP_sha1(), NULL))
				h = ctl_hex(md, ml);
			printf("      SHA-1 %s%s\n", h ? h : "?",
			       r == signer ? "  (signer)" : "");
			free(h);
		}
	}
}

int cmd_ctl_show(int argc, char **argv)
{
	struct tool_args g = {.argc = argc, .argv = argv, .usage = usage_show, .opts = show_opts};
	const char *cluster_path = NULL;
	char path[4096] = CTLRUN_FILE_NAME;
	struct ctl_file *f = NULL;
	struct ctl_err err = {0}, verr = {0};
	const struct ctl_record *signer;
	bool json = false;
	int ch, rc, vrc, mode;

	while ((ch = tool_opt_next(&g)) != -1) {
		switch (ch) {
		case SIGN_O_JSON: json = true; break;
		case SIGN_O_CLUSTER: cluster_path = optarg; break;
		default: return CTL_E_USAGE;
		}
	}
	if (g.help_shown)
		return CTL_OK;
	if (argc - optind > 1)
		return tool_fail(CTL_E_USAGE, "ctl show: one file at most; see --help");
	if (argc - optind == 1) {
		snprintf(path, sizeof(path), "%s", argv[optind]);
	} else if (cluster_path) {
		struct cluster *c = NULL;

		if ((rc = cluster_load(cluster_path, &c, &err)) != CTL_OK)
			return tool_report(&err);
		snprintf(path, sizeof(path), "%s/%s", c->outputs[0], CTLRUN_FILE_NAME);
		cluster_free(c);
	}
	if ((rc = ctl_parse_file(path, &f, &err)) != CTL_OK)
		return tool_report(&err);
	if (f->kind != CTL_KIND_CTL && f->kind != CTL_KIND_ITL) {
		ctl_file_free(f);
		return tool_fail(CTL_E_MALFORMED, "%s is not a CTL or ITL", path);
	}
	vrc = ctl_verify_self(f, &verr);
	signer = ctl_find_signer(f, -1);
	mode = ctlmake_mode_of(f->records, f->nrecords);
	if (json)
		print_json(f, path, signer, vrc, &verr);
	else
		print_text(f, path, signer, vrc, &verr, mode);
	ctl_file_free(f);
	if (vrc != CTL_OK && !json)
		fprintf(stderr, "%s: %s\n", tool_prog, verr.msg);
	return vrc;
}
