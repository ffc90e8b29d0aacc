/* cmd_itl.c - `ctlsign itl create`: the cluster's ITL (SPEC §3.2, §4.5), signed by the
 * token that holds the TFTP key, published like the CTL (ctlrun.c, publish.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "cluster.h"
#include "cmd_ctl.h"
#include "p11_uri.h"
#include "ctldiff.h"
#include "ctlmake.h"
#include "ctlrun.h"
#include "publish.h"
#include "sign.h"
#include "state.h"
#include "token.h"
#include "tool.h"

static const char usage_itl[] =
	"usage: ctlsign itl <create> [options]\n"
	"\n"
	"  create        build the cluster's ITL, sign it with the TFTP key's token, publish it\n"
	"\n"
	"Run 'ctlsign itl create --help' for its options.\n";

static const char usage_create[] =
	"usage: ctlsign itl create --cluster FILE --token URI [--pin SRC] [options]\n"
	"\n"
	"Builds ITLFile.tlv for the cluster (the Initial Trust List that phones without a CTL\n"
	"trust on first sight, SPEC 4.5) and publishes it to every output directory, replacing\n"
	"the ITL there (kept as ITLFile.tlv.bak). It is signed by the token that holds the TFTP\n"
	"key: the token's certificate must be that of a [server] of the cluster with role tftp\n"
	"or ccm+tftp (else exit 9). Records: that certificate as a SAST record (where readers\n"
	"find an ITL's signer), then every [server] of the cluster (ccm, ccm+tftp, tftp, capf,\n"
	"tvs, app-server) with its certificate, in mixed and in non-secure mode alike.\n"
	"Alternate TFTP servers and firewalls belong to the CTL only. Shows the plan and asks\n"
	"before signing.\n"
;

static const struct tool_opt create_opts[] = {
	{SIGN_O_TOKEN, "token", "URI",
	 "the token holding the TFTP server's key (RFC 7512 PKCS#11 URI)"},
	{SIGN_O_PIN, "pin", "SRC",
	 "its PIN, right after --token: env:VAR, file:PATH or fd:N (without: the URI's "
	 "pin-source, else a prompt)"},
	{SIGN_O_DIGEST, "digest", "ALG", "sha512, sha256 or sha1 (default: the cluster file's digest)"},
	TOOL_OPT_END,
};
static const struct tool_opt *const opts[] = {sign_opts_cluster, create_opts, sign_opts_ceremony,
					      NULL};

/* The options are the shared ones (struct sign_args; hash 0: the cluster file's). */
static int parse_opts(int argc, char **argv, struct sign_args *o, bool *help)
{
	struct tool_args g = {.argc = argc, .argv = argv, .usage = usage_create, .opts = opts};
	int ch;

	sign_args_init(o);
	while ((ch = tool_opt_next(&g)) != -1) {
		switch (ch) {
		case SIGN_O_TOKEN:
			if (o->token)
				return tool_fail(CTL_E_USAGE, "itl create: give one --token (the one holding the TFTP key)");
			o->token = optarg;
			break;
		case SIGN_O_PIN:
			if (!o->token)
				return tool_fail(CTL_E_USAGE, "itl create: --pin before --token: a --pin belongs to the --token right before it (--token URI --pin SRC)");
			if (o->pin)
				return tool_fail(CTL_E_USAGE, "itl create: two --pin for the --token");
			o->pin = optarg;
			break;
		default:
			if (sign_opt(ch, "itl create", o) <= 0)
				return CTL_E_USAGE;
		}
	}
	*help = g.help_shown;
	if (*help)
		return CTL_OK;
	if (optind != argc)
		return tool_fail(CTL_E_USAGE, "itl create: unexpected argument '%s'; see --help", argv[optind]);
	if (!o->cluster)
		return tool_fail(CTL_E_USAGE, "itl create: --cluster FILE is required; see --help");
	if (!o->token)
		return tool_fail(CTL_E_USAGE, "itl create: --token URI is required: the token holding the TFTP server's key; see --help");
	if (strncmp(o->token, "pkcs11:", 7))
		return tool_fail(CTL_E_USAGE, "itl create: --token takes a PKCS#11 URI (pkcs11:token=...)");
	return CTL_OK;
}

/* One line naming the cluster's TFTP servers (what the token should hold). */
static void tftp_servers(const struct cluster *c, char *buf, size_t n)
{
	size_t used = 0;

	buf[0] = 0;
	for (size_t i = 0; i < c->nservers; i++) {
		const struct cluster_server *s = &c->servers[i];
		char *subj;
		int k;

		if (s->kind != CLUSTER_SERVER || !ctl_role_is_tftp(s->role))
			continue;
		subj = ctl_name_string(X509_get_subject_name(s->cert));
		k = snprintf(buf + used, n - used, "%s[server %s] %s (%s)", used ? ", " : "", s->name,
			     ctl_role_name(s->role), subj ? subj : "?");
		free(subj);
		if (k < 0 || used + (size_t)k >= n)
			break;
		used += (size_t)k;
	}
	if (!used)
		snprintf(buf, n, "none: add a [server NAME] with role = tftp or ccm+tftp");
}

/* The token's certificate must be a TFTP or CCM+TFTP server's of the cluster. */
static int check_signer(const struct cluster *c, X509 *cert, const struct token_info *ti,
			const char *uri, struct ctl_err *err)
{
	char shown[256], servers[2048], *subj;

	if (cert && ctlmake_itl_signer_server(c, cert))
		return CTL_OK;
	p11_uri_for_print(uri, shown, sizeof(shown));
	tftp_servers(c, servers, sizeof(servers));
	subj = cert ? ctl_name_string(X509_get_subject_name(cert)) : NULL;
	fprintf(stderr, "%s: token '%s' (serial %s, %s) holds %s%s, which is not the certificate of a TFTP or CCM+TFTP server of %s; the ITL must be signed with the TFTP server's key (the cluster's TFTP servers: %s); nothing was signed\n",
		tool_prog, ti->label, ti->serial, shown, cert ? "the certificate " : "no certificate",
		subj ? subj : "", c->path, servers);
	free(subj);
	return ctl_fail(err, CTL_E_POLICY, "the token's certificate is not a TFTP server's of the cluster");
}

/* Does the current ITL list cert as a signer record (SAST or TFTP role)? Phones that
 * hold it (and no CTL) take a new ITL only from such a signer. */
static bool itl_lists_signer(const struct ctl_file *f, X509 *cert)
{
	for (size_t i = 0; i < f->nrecords; i++) {
		const struct ctl_record *r = &f->records[i];

		if ((r->role == CTL_ROLE_SAST || ctl_role_is_tftp(r->role)) && r->cert.len &&
		    ctl_record_is_cert(r, cert))
			return true;
	}
	return false;
}

/* A phone holding the CTL of the first output directory installs the ITL only if that
 * CTL lists its signer as TFTP or CCM+TFTP with the certificate (SPEC §5): said in the
 * plan when it does not (the CTL is read for this note only, never trusted). */
static void note_ctl(const struct cluster *c, X509 *cert)
{
	struct ctl_file *f = NULL;
	struct ctl_err ignored = {0};
	char path[4200];
	bool listed = false;

	snprintf(path, sizeof(path), "%s/%s", c->outputs[0], CTLRUN_FILE_NAME);
	if (access(path, F_OK) != 0 || publish_parse(path, &f, &ignored) != CTL_OK)
		return;
	for (size_t i = 0; f->kind == CTL_KIND_CTL && i < f->nrecords && !listed; i++) {
		const struct ctl_record *r = &f->records[i];

		listed = ctl_role_is_tftp(r->role) && r->cert.len && ctl_record_is_cert(r, cert);
	}
	if (f->kind == CTL_KIND_CTL && !listed)
		printf("  NOTE: the CTL %s does not list this token's certificate as TFTP or CCM+TFTP: phones holding it refuse this ITL until 'ctlsign ctl update' with this cluster file (mixed mode) publishes a CTL that does\n",
		       path);
	ctl_file_free(f);
}

static void print_next(FILE *fp, const struct cluster *c, const struct publish_result *res,
		       size_t nres, bool signer_changed)
{
	bool any = false;

	fprintf(fp, "\nNext steps (the new ITL takes effect only after these):\n");
	for (size_t i = 0; res && i < nres; i++)
		if (res[i].rc != CTL_OK)
			fprintf(fp, "  - NOT DONE: %s still holds the previous ITL (publishing there failed): fix it and run 'ctlsign itl create' again\n",
				res[i].dir);
	for (size_t i = 0; i < c->nservers; i++) {
		const struct cluster_server *s = &c->servers[i];

		if (s->kind != CLUSTER_SERVER || !ctl_role_is_tftp(s->role))
			continue;
		fprintf(fp, "  - restart the Cisco TFTP service on %s (%s)\n", s->name, s->host);
		any = true;
	}
	if (!any)
		fprintf(fp, "  - restart the Cisco TFTP service on every TFTP server\n");
	fprintf(fp, "  - phones holding a CTL accept this ITL only if that CTL lists its signer with a TFTP or CCM+TFTP role ('ctlsign ctl diff' / 'ctlsign ctl update' with this cluster file)\n");
	if (signer_changed)
		fprintf(fp, "  - phones without a CTL that hold the previous ITL refuse this one (none of its records signed it): erase their ITL (Settings > Security > Trust List > ITL > Erase, or a factory reset)\n");
	fprintf(fp, "  - then reset the phones so that they download the new ITL\n");
}

/* What the phases of `itl create` leave to the next ones; all freed by run_create. */
struct itl_run {
	struct cluster *c;
	struct publish_lock *lock;
	struct token_module *m;
	struct token *tok;
	struct token_info ti;
	struct ctl_file *cur; /* the ITL it replaces */
	struct ctlmake_list recs;
	struct ctldiff diff;
	struct publish_result *results;
	struct ctl_err err;
	char curpath[4200], shown[256];
	bool have_ti, reported, signer_changed;
	int hash_alg;
};

/* The cluster file, then the lock of its output directories: one run at a time, nothing
 * planted (as for the CTL). */
static int load_and_lock(const struct sign_args *o, struct itl_run *r)
{
	static const char *const planted[] = {CTLRUN_ITL_FILE_NAME, CTLRUN_ITL_FILE_NAME ".bak",
					     CTLRUN_ITL_FILE_NAME ".bak.1",
					     CTLRUN_ITL_FILE_NAME ".bak.2", NULL};
	struct cluster *c;
	int rc;

	if ((rc = cluster_load_opts(o->cluster, &(struct cluster_load_opts){.strict = o->strict},
				    &r->c, &r->err)) != CTL_OK)
		return rc;
	c = r->c;
	r->hash_alg = o->hash ? o->hash : c->hash_alg;
	if (r->hash_alg == CTL_HASH_SHA1)
		fprintf(stderr, "ctlsign: warning: digest sha1 is weak; use it only while older phones that cannot check SHA-512 are in the cluster\n");

	if ((rc = publish_lock(c->outputs, c->noutputs, (unsigned)o->wait_s, planted, &r->lock, &r->err)) != CTL_OK ||
	    (rc = audit_report_interrupted(audit_path(o->audit_log), c->outputs, c->noutputs,
					   "publishes the ITL to every output directory", stderr,
					   NULL, &r->err)) != CTL_OK ||
	    (rc = publish_check_dirs(c->outputs, c->noutputs, &r->err)) != CTL_OK)
		return rc;
	return CTL_OK;
}

/* The token, before any PIN: its certificate must be a TFTP server's. Then the records. */
static int select_token(const struct sign_args *o, struct itl_run *r)
{
	int rc;

	if ((rc = token_module_open(o->module, &r->m, &r->err)) != CTL_OK ||
	    (rc = token_select(r->m, o->token, &r->ti, &r->err)) != CTL_OK)
		return rc;
	r->have_ti = true;
	if ((rc = check_signer(r->c, r->ti.cert, &r->ti, o->token, &r->err)) != CTL_OK) {
		r->reported = true;
		return rc;
	}
	return ctlmake_itl_records(&r->recs, r->c, r->ti.cert, &r->err);
}

/* The ITL it replaces (the first output directory's), for the plan: r->cur, or none. */
static void read_current(struct itl_run *r)
{
	struct ctl_err cerr = {0};

	snprintf(r->curpath, sizeof(r->curpath), "%s/%s", r->c->outputs[0], CTLRUN_ITL_FILE_NAME);
	if (access(r->curpath, F_OK) != 0)
		return;
	if (publish_parse(r->curpath, &r->cur, &cerr) != CTL_OK || r->cur->kind != CTL_KIND_ITL) {
		fprintf(stdout, "Current ITL %s cannot be read (%s); it is replaced\n", r->curpath,
			r->cur ? "not an ITL" : cerr.msg);
		ctl_file_free(r->cur);
		r->cur = NULL;
		r->signer_changed = true;
	}
}

/* The plan on stdout: the current ITL, the changes, the new ITL's records. */
static int show_plan(const struct sign_args *o, struct itl_run *r)
{
	const struct ctl_file *cur = r->cur;
	int rc;

	if ((rc = ctldiff_compute(cur ? cur->records : NULL, cur ? cur->nrecords : 0,
				  cur ? CLUSTER_MIXED : -1, r->recs.recs, r->recs.n, CLUSTER_MIXED,
				  &r->diff, &r->err)) != CTL_OK)
		return rc;
	if (cur) {
		char sha[65] = "?";

		ctldiff_set_digest(&r->diff, cur->hdr.hash_alg, r->hash_alg);
		state_sha256_hex(cur->raw.data, cur->raw.len, sha);
		r->signer_changed = !itl_lists_signer(cur, r->ti.cert);
		printf("Current ITL %s\n  SHA-256  %s\n  signer   %s\n", r->curpath, sha,
		       cur->hdr.signer_name ? cur->hdr.signer_name : "?");
		if (r->signer_changed)
			printf("  NOTE: it does not list this token's certificate as a signer: phones that hold it and no CTL refuse the new ITL until their ITL is erased\n");
	}
	printf("%s ITL for %s (cluster mode %s, %s), signed by token '%s' (serial %s):\n",
	       cur ? "Changes to the" : "New", o->cluster, cluster_mode_name(r->c->mode),
	       ctl_hash_name(r->hash_alg), r->ti.label, r->ti.serial);
	ctldiff_print(stdout, &r->diff);
	note_ctl(r->c, r->ti.cert);
	printf("Records of the new ITL:\n");
	for (size_t i = 0; i < r->recs.n; i++) {
		char desc[700];

		ctldiff_describe(&r->recs.recs[i], desc, sizeof(desc));
		printf("  %2zu  %s%s\n", i + 1, desc, i == 0 ? "  (signer)" : "");
	}
	fflush(stdout);
	return CTL_OK;
}

/* Log in only now; the key that signs must be the certificate checked before. */
static int log_in(const struct sign_args *o, struct itl_run *r)
{
	struct token_opts to = {.uri = o->token, .pin = o->pin, .final_try = o->final_try};
	int rc;

	if ((rc = token_open(r->m, &to, &r->tok, &r->err)) != CTL_OK)
		return rc;
	if (!token_cert(r->tok) || X509_cmp(token_cert(r->tok), r->ti.cert)) {
		if ((rc = check_signer(r->c, token_cert(r->tok), token_get_info(r->tok), o->token,
				       &r->err)) != CTL_OK) {
			r->reported = true;
			return rc;
		}
		return ctl_fail(&r->err, CTL_E_TOKEN,
				"the key logged in to on %s is not the one whose certificate was checked; name it with object=... in the URI; nothing was written",
				r->shown);
	}
	return CTL_OK;
}

/* Signs the ITL and publishes it to every output directory (audited), then the next
 * steps. */
static int sign_and_publish(const struct sign_args *o, struct itl_run *r)
{
	const struct ctl_signer *signer = token_signer(r->tok);
	struct cluster *c = r->c;
	struct ctlrun_opts ro;
	int rc;

	memset(&ro, 0, sizeof(ro));
	ro.dirs = c->outputs;
	ro.ndirs = c->noutputs;
	ro.hash_alg = r->hash_alg;
	ro.kind = CTL_KIND_ITL;
	ro.audit_log = audit_path(o->audit_log);
	ro.operation = "itl-create";
	ro.cluster = o->cluster;
	ro.token_label = token_get_info(r->tok)->label;
	ro.token_serial = token_get_info(r->tok)->serial;
	ro.out = stdout;
	if (!(r->results = calloc(c->noutputs, sizeof(*r->results))))
		return ctl_fail(&r->err, CTL_E_INTERNAL, "out of memory");
	ro.results = r->results;
	tool_defer_begin(); /* a signal waits for the publication and its outcome (tool.h) */
	rc = ctlrun_finish(r->recs.recs, r->recs.n, signer, &ro, &r->err);
	if (rc == CTL_OK || rc == CTL_E_PARTIAL)
		print_next(stdout, c, r->results, c->noutputs, r->signer_changed);
	tool_defer_end();
	return rc;
}

static int run_create(const struct sign_args *o)
{
	struct itl_run r;
	int rc;

	memset(&r, 0, sizeof(r));
	p11_uri_for_print(o->token, r.shown, sizeof(r.shown));
	if ((rc = load_and_lock(o, &r)) != CTL_OK || (rc = select_token(o, &r)) != CTL_OK)
		goto fail;
	read_current(&r);
	if ((rc = show_plan(o, &r)) != CTL_OK ||
	    (rc = ctlcmd_confirm_publish(o->yes, "ITL", "the ITL", r.c->noutputs, &r.err)) != CTL_OK ||
	    (rc = log_in(o, &r)) != CTL_OK ||
	    (rc = sign_and_publish(o, &r)) != CTL_OK)
		goto fail;
	goto out;
fail:
	if (!r.reported)
		tool_report(&r.err);
	if (!rc)
		rc = CTL_E_INTERNAL;
out:
	fflush(stdout);
	free(r.results);
	ctldiff_free(&r.diff);
	ctlmake_list_free(&r.recs);
	ctl_file_free(r.cur);
	if (r.have_ti)
		token_info_clear(&r.ti);
	token_close(r.tok);
	token_module_close(r.m);
	publish_unlock(r.lock);
	cluster_free(r.c);
	return rc;
}

int cmd_itl(int argc, char **argv)
{
	struct sign_args o;
	bool help = false;
	int rc;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_itl, argc < 2 ? stderr : stdout);
		return argc < 2 ? CTL_E_USAGE : CTL_OK;
	}
	if (strcmp(argv[1], "create"))
		return tool_fail(CTL_E_USAGE, "itl: unknown command '%s'; see 'ctlsign itl --help'",
				 argv[1]);
	/* The subcommand's arguments, named "itl create" so that a bad option's hint reads
	 * "see 'ctlsign itl create --help'" (tool_opt_next names argv[0]). */
	{
		char name[] = "itl create";
		char **av = calloc((size_t)argc, sizeof(*av));

		if (!av)
			return tool_fail(CTL_E_INTERNAL, "out of memory");
		av[0] = name;
		for (int i = 2; i < argc; i++)
			av[i - 1] = argv[i];
		rc = parse_opts(argc - 1, av, &o, &help);
		free(av);
	}
	if (rc != CTL_OK || help)
		return rc;
	return run_create(&o);
}
