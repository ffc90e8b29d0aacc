/* cmd_ctl.c - `ctlsign ctl create|update|delete-token|diff|show`: the CTL ceremony (SPEC
 * §4.2, §4.3). This file: the table of operations (ctl_cmds: add an operation there), each
 * operation's options and help, and the checks of its options. The run itself: cmd_ctl_run.c;
 * diff and show: cmd_ctl_diff.c, cmd_ctl_show.c; the rest: cmd_ctl.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "cmd_ctl.h"
#include "p11_uri.h"
#include "sign.h"
#include "state.h"
#include "tool.h"

static const char usage_create[] =
	"usage: ctlsign ctl create --cluster FILE [--token URI [--pin SRC]]... [options]\n"
	"\n"
	"Makes the cluster's first CTL and publishes it to every output directory.\n"
	"Without --token: the ceremony on this terminal (insert one token at a time; at least\n"
	"two; the token inserted when you finish signs). With --token (CI): each URI names a\n"
	"token, at least two different ones; the LAST one signs and is the only one logged in\n"
	"to (its PIN from the --pin right after it, else the URI's pin-source). The others are\n"
	"not logged in to: a PIN given for one is only compared with the factory PIN.\n"
;

/* The anchoring rule, shared by the help texts. */
#define ANCHOR_HELP \
	"The current CTL is the base of the change only when it is anchored; a CTL in a TFTP\n" \
	"directory is never trusted for its own signer record. It is anchored when\n" \
	"  (a) it is byte for byte the last CTL ctlsign published to the first output\n" \
	"      directory, as recorded in ctlsign's state directory ($" STATE_ENV ", else\n" \
	"      $XDG_STATE_HOME/ctlsign, else ~/.local/state/ctlsign), or\n" \
	"  (b) nothing is recorded for that directory and its signature verifies with the\n" \
	"      certificate of a token presented in this run (--token or --add-token): a CTL\n" \
	"      made by another tool is adopted, or\n" \
	"  (c) --trust-current gives its SHA-256, compared out of band (sha256sum).\n" \
	"Anything else, an older CTL put back included, is refused (exit 6) with its\n" \
	"SHA-256 and its signer. Every CTL published is recorded.\n"

static const char usage_update[] =
	"usage: ctlsign ctl update --cluster FILE [--token URI [--pin SRC]] [--add-token URI]...\n"
	"                          [--trust-current SHA256] [options]\n"
	"\n"
	"Changes the current CTL (the first output directory's CTLFile.tlv, or --current):\n"
	"first a token whose SAST record is in it must be presented and the current CTL must\n"
	"verify; then the servers follow the cluster file, new tokens may be added, the mode may\n"
	"change. The new CTL is signed by a token of the current CTL (phones accept nothing\n"
	"else). Shows the plan (the current file's SHA-256, signer and anchor, what changes,\n"
	"every SAST record of the result) and asks before signing.\n"
	"\n"
	ANCHOR_HELP
;

static const char usage_delete[] =
	"usage: ctlsign ctl delete-token --cluster FILE [--token URI [--pin SRC]] [options] SELECTOR\n"
	"\n"
	"Removes the SAST record SELECTOR names (certificate serial, SHA-1 or SHA-256\n"
	"fingerprint, subject or its CN) from the current CTL, after the same checks as\n"
	"'update' (the current CTL must be anchored, see 'ctlsign ctl update --help'). At\n"
	"least two SAST records always remain. Server records cannot be deleted this way: they\n"
	"follow the cluster file.\n"
;

/* Each operation's options; the shared ones (sign.h) are declared once in ctlsign.c. */
#define CTL_OPT_TRUST_CURRENT(help) {CTL_O_TRUST_CURRENT, "trust-current", "SHA256", help}

static const struct tool_opt create_own[] = {
	{SIGN_O_TOKEN, "token", "URI", "a token (RFC 7512 PKCS#11 URI), repeatable"},
	{SIGN_O_PIN, "pin", "SRC",
	 "env:VAR, file:PATH or fd:N: the PIN of the --token right before it (a --pin before "
	 "any --token is an error; without --token: the PIN of the token that signs)"},
	{CTL_O_FORCE, "force", NULL,
	 "replace an existing CTL, when every token of its SAST records is lost: phones "
	 "holding the old CTL refuse the new one, so the CTL must then be erased on every "
	 "phone (Settings > Security > CTL > Erase, or a factory reset)"},
	CTL_OPT_TIMEOUT,
	TOOL_OPT_END,
};
static const struct tool_opt *const create_opts[] = {sign_opts_cluster, create_own,
						     sign_opts_ceremony, NULL};

static const struct tool_opt update_own[] = {
	{SIGN_O_TOKEN, "token", "URI", "the token that authorizes and signs (must be in the current CTL)"},
	{SIGN_O_PIN, "pin", "SRC",
	 "the PIN of the --token or --add-token right before it: env:VAR, file:PATH or fd:N "
	 "(an added token is not logged in to; its PIN is only compared with the factory PIN)"},
	{CTL_O_ADD_TOKEN, "add-token", "URI", "a token to add as a SAST (no login needed), repeatable"},
	{CTL_O_MODE, "mode", "MODE",
	 "switch to mixed or non-secure. Without it the update keeps the current CTL's mode, "
	 "and a cluster file whose mode differs from it is refused (exit 9): pass --mode, or "
	 "edit the file"},
	CTL_OPT_CURRENT,
	CTL_OPT_TRUST_CURRENT("trust the current CTL with this SHA-256 (64 hex digits), after "
			      "comparing it out of band (anchor (c) above)"),
	{CTL_O_FORCE, "force", NULL, "sign even when nothing changed"},
	CTL_OPT_TIMEOUT,
	TOOL_OPT_END,
};
static const struct tool_opt *const update_opts[] = {sign_opts_cluster, update_own,
						     sign_opts_ceremony, NULL};

static const struct tool_opt delete_own[] = {
	{SIGN_O_TOKEN, "token", "URI", "the token that authorizes and signs (must be in the current CTL)"},
	{SIGN_O_PIN, "pin", "SRC", "its PIN (right after --token)"},
	CTL_OPT_CURRENT,
	CTL_OPT_TRUST_CURRENT("trust the current CTL with this SHA-256, after comparing it out "
			      "of band"),
	CTL_OPT_TIMEOUT,
	TOOL_OPT_END,
};
static const struct tool_opt *const delete_opts[] = {sign_opts_cluster, delete_own,
						     sign_opts_ceremony, NULL};

static const struct tool_opt diff_own[] = {
	CTL_OPT_CURRENT,
	{CTL_O_MODE, "mode", "MODE",
	 "as for 'ctl update' (without it: the current CTL's mode, and a cluster file whose "
	 "mode differs is refused, exit 9)"},
	CTL_OPT_TRUST_CURRENT("as for 'ctl update'"),
	SIGN_OPT_JSON("{\"changes\": [...], \"old_mode\", \"new_mode\", \"old_digest\", "
		      "\"new_digest\", \"differs\", \"unchanged\", \"current_sha256\", "
		      "\"current_signer\", \"anchor\", \"sast\": [...]}"),
	{CTL_O_EXIT_CODE, "exit-code", NULL, "exit 14 when the CTL would change (differences found)"},
	TOOL_OPT_END,
};
const struct tool_opt *const ctlcmd_diff_opts[] = {sign_opts_cluster, diff_own, NULL};

/* --trust-current SHA256: 64 hex digits, kept lowercase. */
static int opt_trust_current(struct ctl_opts *o)
{
	size_t k = strlen(optarg);

	if (k != 64 || strspn(optarg, "0123456789abcdefABCDEF") != 64)
		return tool_fail(CTL_E_USAGE, "--trust-current takes the current CTL's SHA-256 (64 hex digits, e.g. from 'sha256sum')");
	for (size_t i = 0; i < k; i++)
		o->trust_current[i] = (char)tolower((unsigned char)optarg[i]);
	o->trust_current[k] = 0;
	return CTL_OK;
}

/* --token, --add-token (ch 't', 'a'): *last is then the one a --pin belongs to. */
static int opt_token(int ch, struct ctl_opts *o, int *last)
{
	const char **v = ch == 't' ? o->tokens : o->adds;
	size_t *n = ch == 't' ? &o->ntokens : &o->nadds;

	if (*n >= MAX_URIS)
		return tool_fail(CTL_E_USAGE, "ctl: at most %d of each of --token and --add-token",
				 MAX_URIS);
	v[(*n)++] = optarg;
	*last = ch;
	return CTL_OK;
}

/* --pin: for the --token or --add-token last given, else (none yet) the signer's. */
static int opt_pin(struct ctl_opts *o, int last)
{
	const char **slot = last == 't' ? &o->token_pins[o->ntokens - 1] :
			    last == 'a' ? &o->add_pins[o->nadds - 1] : &o->ceremony_pin;

	if (!last && o->ceremony_pin)
		return tool_fail(CTL_E_USAGE, "ctl: --pin given twice before any --token; a --pin goes right after the --token or --add-token it belongs to");
	if (last && *slot) {
		char shown[256];

		p11_uri_for_print(last == 't' ? o->tokens[o->ntokens - 1] : o->adds[o->nadds - 1],
				     shown, sizeof(shown));
		return tool_fail(CTL_E_USAGE, "ctl: two --pin for %s %s; a --pin goes right after the --token or --add-token it belongs to",
				 last == 't' ? "--token" : "--add-token", shown);
	}
	*slot = optarg;
	return CTL_OK;
}

/* One of the ctl options (not the shared ones); CTL_OK or the exit code after printing
 * why. *last is the --token ('t') or --add-token ('a') a --pin belongs to. */
static int ctl_opt(int ch, struct ctl_opts *o, int *last)
{
	struct ctl_err err = {0};
	unsigned long secs;

	switch (ch) {
	case SIGN_O_TOKEN:
		return opt_token('t', o, last);
	case CTL_O_ADD_TOKEN:
		return opt_token('a', o, last);
	case SIGN_O_PIN:
		return opt_pin(o, *last);
	case CTL_O_CURRENT: o->current = optarg; break;
	case CTL_O_FORCE: o->force = true; break;
	case CTL_O_EXIT_CODE: o->exit_code = true; break;
	case CTL_O_TRUST_CURRENT:
		return opt_trust_current(o);
	case CTL_O_MODE:
		if (!strcasecmp(optarg, "mixed"))
			o->mode = CLUSTER_MIXED;
		else if (!strcasecmp(optarg, "non-secure") || !strcasecmp(optarg, "nonsecure"))
			o->mode = CLUSTER_NONSECURE;
		else
			return tool_fail(CTL_E_USAGE, "--mode must be mixed or non-secure (got '%s')",
					 optarg);
		break;
	case CTL_O_TIMEOUT:
		if (!tool_parse_uint(optarg, 1, 86400, &secs, "--timeout", &err))
			return tool_report(&err);
		o->timeout_ms = (int)secs * 1000;
		break;
	default:
		return CTL_E_USAGE; /* '?': tool_opt_next printed why */
	}
	return CTL_OK;
}

int ctlcmd_parse(int argc, char **argv, const struct tool_opt *const *opts, const char *usage,
		 struct ctl_opts *o, bool *help)
{
	struct tool_args g = {.argc = argc, .argv = argv, .usage = usage, .opts = opts};
	int ch, rc, took, last = 0; /* 't' or 'a': the option a --pin belongs to */

	o->mode = -1;
	o->timeout_ms = -1;
	sign_args_init(&o->sa);
	while ((ch = tool_opt_next(&g)) != -1) {
		if (ch != SIGN_O_TOKEN && ch != SIGN_O_PIN && (took = sign_opt(ch, argv[0], &o->sa))) {
			if (took < 0)
				return CTL_E_USAGE;
			continue;
		}
		if ((rc = ctl_opt(ch, o, &last)) != CTL_OK)
			return rc;
	}
	*help = g.help_shown;
	return CTL_OK;
}

int ctlcmd_no_args(int argc, char **argv)
{
	if (optind != argc)
		return tool_fail(CTL_E_USAGE, "ctl: unexpected argument '%s'; see --help", argv[optind]);
	return CTL_OK;
}

int ctlcmd_need_cluster(const struct ctl_opts *o)
{
	if (!o->sa.cluster)
		return tool_fail(CTL_E_USAGE, "ctl: --cluster FILE is required; see --help");
	return CTL_OK;
}

/* A --pin belongs to the --token or --add-token before it. Only without any (the
 * ceremony on the terminal) may one --pin stand alone: the signing token's. */
static int pins_placed(const struct ctl_opts *o)
{
	if (o->ceremony_pin && (o->ntokens || o->nadds))
		return tool_fail(CTL_E_USAGE, "ctl: --pin before any --token: a --pin belongs to the --token or --add-token right before it (--token URI --pin SRC)");
	return CTL_OK;
}

/* update, delete-token: one --token, the one that signs. */
static int one_token(const struct ctl_opts *o)
{
	if (o->ntokens > 1)
		return tool_fail(CTL_E_USAGE, "ctl: give one --token (the one that signs); add tokens with --add-token");
	return CTL_OK;
}

static int parse_create(int argc, char **argv, struct ctl_opts *o, bool *help)
{
	int rc;

	if ((rc = ctlcmd_parse(argc, argv, create_opts, usage_create, o, help)) != CTL_OK || *help ||
	    (rc = ctlcmd_no_args(argc, argv)) != CTL_OK || (rc = ctlcmd_need_cluster(o)) != CTL_OK)
		return rc;
	return pins_placed(o);
}

static int parse_update(int argc, char **argv, struct ctl_opts *o, bool *help)
{
	int rc;

	if ((rc = ctlcmd_parse(argc, argv, update_opts, usage_update, o, help)) != CTL_OK || *help ||
	    (rc = ctlcmd_no_args(argc, argv)) != CTL_OK || (rc = ctlcmd_need_cluster(o)) != CTL_OK ||
	    (rc = one_token(o)) != CTL_OK)
		return rc;
	return pins_placed(o);
}

static int parse_delete(int argc, char **argv, struct ctl_opts *o, bool *help)
{
	int rc;

	if ((rc = ctlcmd_parse(argc, argv, delete_opts, usage_delete, o, help)) != CTL_OK || *help)
		return rc;
	if (argc - optind != 1)
		return tool_fail(CTL_E_USAGE, "ctl delete-token needs one SELECTOR (serial, fingerprint or subject); see --help");
	o->selector = argv[optind];
	if ((rc = ctlcmd_need_cluster(o)) != CTL_OK)
		return rc;
	if ((rc = one_token(o)) != CTL_OK)
		return rc;
	return pins_placed(o);
}

/* The operations that sign: options, then the run (cmd_ctl_run.c). */
static int run_op(int op, int (*parse)(int, char **, struct ctl_opts *, bool *), int argc,
		  char **argv)
{
	struct ctl_opts o;
	bool help = false;
	int rc;

	memset(&o, 0, sizeof(o));
	o.op = op;
	if ((rc = parse(argc, argv, &o, &help)) != CTL_OK || help)
		return rc;
	return ctlcmd_run(&o);
}

static int cmd_ctl_create(int argc, char **argv)
{
	return run_op(OP_CREATE, parse_create, argc, argv);
}

static int cmd_ctl_update(int argc, char **argv)
{
	return run_op(OP_UPDATE, parse_update, argc, argv);
}

static int cmd_ctl_delete(int argc, char **argv)
{
	return run_op(OP_DELETE, parse_delete, argc, argv);
}

/* The operations of `ctlsign ctl`, in the order of its --help. */
static const struct tool_cmd ctl_cmds[] = {
	{"create", cmd_ctl_create, "make the first CTL of a cluster from two or more security tokens"},
	{"update", cmd_ctl_update, "re-read the cluster file, add tokens, switch mode; re-sign"},
	{"delete-token", cmd_ctl_delete, "remove a token's SAST record (at least two always remain)"},
	{"diff", cmd_ctl_diff, "what an update would change (no token needed)"},
	{"show", cmd_ctl_show, "print a CTL (--json for machines)"},
	{NULL, NULL, NULL},
};

static void print_usage(FILE *fp)
{
	fputs("usage: ctlsign ctl <", fp);
	for (const struct tool_cmd *c = ctl_cmds; c->name; c++)
		fprintf(fp, "%s%s", c == ctl_cmds ? "" : "|", c->name);
	fputs("> [options]\n\n", fp);
	for (const struct tool_cmd *c = ctl_cmds; c->name; c++)
		fprintf(fp, "  %-14s%s\n", c->name, c->summary);
	fputs("\nRun 'ctlsign ctl <command> --help' for each command's options.\n", fp);
}

/* Like tool_dispatch (src/tool.c) over ctl_cmds, but messages keep saying "ctlsign:" and
 * each operation sees its name as "ctl NAME", so that a bad option's hint reads "see
 * 'ctlsign ctl NAME --help'" (tool_opt_next names argv[0]). */
int cmd_ctl(int argc, char **argv)
{
	const struct tool_cmd *c;
	char name[64];
	char **av;
	int rc;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CTL_E_USAGE : CTL_OK;
	}
	for (c = ctl_cmds; c->name && strcmp(c->name, argv[1]); c++)
		;
	if (!c->name)
		return tool_fail(CTL_E_USAGE, "ctl: unknown command '%s'; see 'ctlsign ctl --help'",
				 argv[1]);
	if (!(av = calloc((size_t)argc, sizeof(*av))))
		return tool_fail(CTL_E_INTERNAL, "out of memory");
	snprintf(name, sizeof(name), "ctl %s", argv[1]);
	av[0] = name;
	for (int i = 2; i < argc; i++)
		av[i - 1] = argv[i];
	rc = c->fn(argc - 1, av);
	free(av);
	return rc;
}
