/* cmd_ctl.c - `ctlsign ctl create|update|delete-token|show`: the CTL ceremony (SPEC §4.2, §4.3). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "ceremony.h"
#include "cluster.h"
#include "ctldiff.h"
#include "ctlmake.h"
#include "ctlrun.h"
#include "publish.h"
#include "sign.h"
#include "state.h"
#include "p11_uri.h"
#include "token.h"
#include "show.h"
#include "tool.h"

#define MAX_URIS 16
/* ctl diff --exit-code: the CTL would change (README's exit code table: 14) */
#define CTL_EXIT_DIFFERENCES 14

static const char usage_ctl[] =
	"usage: ctlsign ctl <create|update|delete-token|diff|show> [options]\n"
	"\n"
	"  create        make the first CTL of a cluster from two or more security tokens\n"
	"  update        re-read the cluster file, add tokens, switch mode; re-sign\n"
	"  delete-token  remove a token's SAST record (at least two always remain)\n"
	"  diff          what an update would change (no token needed)\n"
	"  show          print a CTL (--json for machines)\n"
	"\n"
	"Run 'ctlsign ctl <command> --help' for each command's options.\n";

static const char usage_create[] =
	"usage: ctlsign ctl create --cluster FILE [--token URI [--pin SRC]]... [options]\n"
	"\n"
	"Makes the cluster's first CTL and publishes it to every output directory.\n"
	"Without --token: the ceremony on this terminal (insert one token at a time; at least\n"
	"two; the token inserted when you finish signs). With --token (CI): each URI names a\n"
	"token, at least two different ones; the LAST one signs and is the only one logged in\n"
	"to (its PIN from the --pin right after it, else the URI's pin-source). The others are\n"
	"not logged in to: a PIN given for one is only compared with the factory PIN.\n"
	"\n"
	"  --cluster FILE     the cluster description (INI)\n"
	"  --strict           refuse (exit 9) a server certificate that is expired or not yet\n"
	"                     valid, or that names neither the host as CN nor in its SAN\n"
	"                     (without: a warning)\n"
	"  --token URI        a token (RFC 7512 PKCS#11 URI), repeatable\n"
	"  --pin SRC          env:VAR, file:PATH or fd:N: the PIN of the --token right before it\n"
	"                     (a --pin before any --token is an error; without --token: the PIN\n"
	"                     of the token that signs)\n"
	"  --module PATH      PKCS#11 module (default $" TOKEN_MODULE_ENV ", else p11-kit)\n"
	"  --yes              do not ask for confirmation (needed without a terminal)\n"
	"  --force            replace an existing CTL, when every token of its SAST records is\n"
	"                     lost: phones holding the old CTL refuse the new one, so the CTL\n"
	"                     must then be erased on every phone (Settings > Security > CTL >\n"
	"                     Erase, or a factory reset)\n"
	"  --audit-log FILE   audit log (default $" AUDIT_ENV ", else " AUDIT_DEFAULT_NAME " in the\n"
	"                     state directory, $CTLSIGN_STATE_DIR or ~/.local/state/ctlsign)\n"
	"  --timeout SEC      give up waiting for a token after SEC seconds\n"
	"  --wait SEC         wait up to SEC seconds (default 10) for another run's lock\n"
	"                     (.ctlsign.lock in each output directory), then exit 12\n"
	"  --final-try        allow a login on the token's last PIN try\n";

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
	"\n"
	"  --cluster FILE     the cluster description (INI)\n"
	"  --strict           refuse (exit 9) a server certificate that is expired or not yet\n"
	"                     valid, or that names neither the host as CN nor in its SAN\n"
	"                     (without: a warning)\n"
	"  --token URI        the token that authorizes and signs (must be in the current CTL)\n"
	"  --pin SRC          the PIN of the --token or --add-token right before it: env:VAR,\n"
	"                     file:PATH or fd:N (an added token is not logged in to; its PIN is\n"
	"                     only compared with the factory PIN)\n"
	"  --add-token URI    a token to add as a SAST (no login needed), repeatable\n"
	"  --mode MODE        switch to mixed or non-secure. Without it the update keeps the\n"
	"                     current CTL's mode, and a cluster file whose mode differs from\n"
	"                     it is refused (exit 9): pass --mode, or edit the file\n"
	"  --current FILE     the current CTL (default: first output directory's CTLFile.tlv)\n"
	"  --trust-current SHA256  trust the current CTL with this SHA-256 (64 hex digits),\n"
	"                     after comparing it out of band (anchor (c) above)\n"
	"  --module PATH      PKCS#11 module\n"
	"  --yes              do not ask for confirmation\n"
	"  --force            sign even when nothing changed\n"
	"  --audit-log FILE   audit log\n"
	"  --timeout SEC      give up waiting for a token after SEC seconds\n"
	"  --wait SEC         wait up to SEC seconds (default 10) for another run's lock\n"
	"  --final-try        allow a login on the token's last PIN try\n";

static const char usage_delete[] =
	"usage: ctlsign ctl delete-token --cluster FILE [--token URI [--pin SRC]] [options] SELECTOR\n"
	"\n"
	"Removes the SAST record SELECTOR names (certificate serial, SHA-1 or SHA-256\n"
	"fingerprint, subject or its CN) from the current CTL, after the same checks as\n"
	"'update' (the current CTL must be anchored, see 'ctlsign ctl update --help'). At\n"
	"least two SAST records always remain. Server records cannot be deleted this way: they\n"
	"follow the cluster file.\n"
	"\n"
	"  --cluster FILE     the cluster description (INI)\n"
	"  --token URI        the token that authorizes and signs (must be in the current CTL)\n"
	"  --pin SRC          its PIN (right after --token)\n"
	"  --current FILE     the current CTL\n"
	"  --trust-current SHA256  trust the current CTL with this SHA-256, after comparing\n"
	"                     it out of band\n"
	"  --module PATH      PKCS#11 module\n"
	"  --yes              do not ask for confirmation\n"
	"  --audit-log FILE   audit log\n"
	"  --timeout SEC      give up waiting for a token after SEC seconds\n"
	"  --wait SEC         wait up to SEC seconds (default 10) for another run's lock\n"
	"  --final-try        allow a login on the token's last PIN try\n";

static const char usage_show[] =
	"usage: ctlsign ctl show [--json] [--cluster FILE] [FILE]\n"
	"\n"
	"Prints a CTL: header, signer, every record, the security mode, and whether it verifies\n"
	"against its own SAST record. FILE defaults to the cluster's first output directory's\n"
	"CTLFile.tlv with --cluster, else ./CTLFile.tlv.\n"
	"\n"
	"  --cluster FILE     the cluster description (INI): show its first output's CTL\n"
	"  --json             the document of 'ctlverify show --json' (schemas/ctl.schema.json,\n"
	"                     itl.schema.json) plus \"verification\": {\"verified\", \"error\",\n"
	"                     \"signer_record\"}\n";

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
	"\n"
	"  --cluster FILE     the cluster description (INI)\n"
	"  --strict           refuse (exit 9) a server certificate that is expired or not yet\n"
	"                     valid, or that names neither the host as CN nor in its SAN\n"
	"                     (without: a warning)\n"
	"  --current FILE     the current CTL (default: first output directory's CTLFile.tlv)\n"
	"  --mode MODE        as for 'ctl update' (without it: the current CTL's mode, and a\n"
	"                     cluster file whose mode differs is refused, exit 9)\n"
	"  --trust-current SHA256  as for 'ctl update'\n"
	"  --json             {\"changes\": [...], \"old_mode\", \"new_mode\", \"old_digest\",\n"
	"                     \"new_digest\", \"differs\", \"unchanged\", \"current_sha256\",\n"
	"                     \"current_signer\", \"anchor\", \"sast\": [...]}\n"
	"  --exit-code        exit 14 when the CTL would change (differences found)\n";

enum op { OP_CREATE = 1, OP_UPDATE, OP_DELETE, OP_DIFF };

struct ctl_opts {
	int op;
	const char *cluster, *module, *current, *audit_log, *selector;
	/* --pin belongs to the nearest --token / --add-token before it (issue 12) */
	const char *tokens[MAX_URIS], *token_pins[MAX_URIS], *adds[MAX_URIS], *add_pins[MAX_URIS];
	size_t ntokens, npins, nadds;
	const char *ceremony_pin;  /* a --pin with no --token/--add-token at all: the signer's */
	char trust_current[65];  /* --trust-current, lowercase; "" if not given */
	int mode;            /* -1: the cluster file's */
	bool yes, force, final_try, json, exit_code;
	int timeout_ms;
	unsigned wait_s;     /* --wait: for another run's lock */
	bool strict;         /* --strict: server certificate doubts refuse (issue 12 §4) */
};

/* Why the current CTL may be changed (issue 10, attack 1): a CTL in a TFTP directory is
 * trusted only against what ctlsign itself recorded (state.h), a token of the run, or the
 * officer's out-of-band check; never against the signer record inside the file. */
enum anchor_by {
	ANCHOR_NONE = 0, /* not (yet) anchored */
	ANCHOR_RECORD,   /* (a) byte-identical to the last CTL ctlsign published there */
	ANCHOR_TOKEN,    /* (b) no record; verifies with a token presented in this run */
	ANCHOR_TRUST,    /* (c) its SHA-256 is the one given with --trust-current */
};

struct anchor {
	int by;                     /* enum anchor_by */
	bool have_record;           /* the state directory has a record for the directory */
	long long rec_when;
	char sha[65];               /* the current file's SHA-256 */
	char rec_sha[65];           /* the recorded one */
	bool have_pending;          /* a CTL recorded as being published there */
	char pending_sha[65];
	long long pending_when;
	bool via_pending;           /* (a) through the record of an interrupted publication */
	char signer_fp[65];         /* SHA-256 of the file's signer certificate */
	char token[300];            /* (b): which token verified it */
};

/* Everything a run holds, freed in one place. */
struct ctl_state {
	struct anchor anchor;
	bool reported;                /* the error was already printed */
	struct token_info known[MAX_URIS]; /* --add-token tokens already in the current CTL */
	size_t nknown;
	struct cluster *c;
	struct publish_lock *lock;
	struct ctl_file *cur;         /* current CTL (update, delete) */
	struct token_module *m;
	struct token *tok;
	struct ceremony cer;
	struct token_info signer_info;
	bool have_signer_info;
	struct ctlmake_list recs;
	struct ctldiff diff;
};

/* --- the officer's terminal --- */

struct tty_ctx {
	struct token_module *m;
	int timeout_ms;
	const struct ctl_file *cur;
};

/* While a token is being pulled out or pushed in, reading the slots can fail once
 * (seen with SoftHSM when a token directory moves): such a token error is retried a few
 * times before it ends the ceremony. */
#define TTY_WAIT_RETRIES 3

static int tty_wait_one(void *ctx, struct token_info *out, struct ctl_err *err)
{
	struct tty_ctx *t = ctx;
	int rc = CTL_E_TOKEN;

	for (int i = 0; i <= TTY_WAIT_RETRIES && rc == CTL_E_TOKEN; i++) {
		if (i)
			usleep(200 * 1000);
		rc = token_wait_one(t->m, t->timeout_ms, out, err);
	}
	return rc;
}

static int tty_wait_removed(void *ctx, const struct token_info *ti, struct ctl_err *err)
{
	struct tty_ctx *t = ctx;
	int rc = CTL_E_TOKEN;

	for (int i = 0; i <= TTY_WAIT_RETRIES && rc == CTL_E_TOKEN; i++) {
		if (i)
			usleep(200 * 1000);
		rc = token_wait_removed(t->m, ti, t->timeout_ms, err);
	}
	return rc;
}

static int ask_yes_no(const char *q)
{
	char line[64];

	fprintf(stderr, "%s [y/N] ", q);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return -1;
	for (char *p = line; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	line[strcspn(line, "\r\n")] = 0;
	return !strcmp(line, "y") || !strcmp(line, "yes");
}

static int tty_ask(void *ctx, const char *q)
{
	(void)ctx;
	return ask_yes_no(q);
}

static void tty_say(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "%s\n", line);
}

static int tty_is_known(void *ctx, const struct token_info *ti)
{
	struct tty_ctx *t = ctx;
	return t->cur && ti->cert &&
	       ctlmake_find_sast(t->cur->records, t->cur->nrecords, ti->cert) >= 0;
}

/* --- helpers --- */

/* The URI without its query (which may name a PIN file): safe to print. */
static void uri_for_print(const char *uri, char *buf, size_t n)
{
	snprintf(buf, n, "%.*s", (int)strcspn(uri, "?"), uri);
}

static int info_for_uri(struct token_module *m, const char *uri, struct token_info *out,
			struct ctl_err *err)
{
	struct token_info *v = NULL;
	size_t n = 0, hits = 0, at = 0;
	char shown[256];
	int rc;

	uri_for_print(uri, shown, sizeof(shown));
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

static void state_free(struct ctl_state *s)
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
}

static int parse_opts(int argc, char **argv, struct ctl_opts *o, const char *usage, bool *help)
{
	static const struct option opts[] = {
		{"cluster", required_argument, NULL, 'c'},
		{"token", required_argument, NULL, 't'},
		{"pin", required_argument, NULL, 'p'},
		{"add-token", required_argument, NULL, 'a'},
		{"module", required_argument, NULL, 'M'},
		{"current", required_argument, NULL, 'C'},
		{"mode", required_argument, NULL, 'm'},
		{"audit-log", required_argument, NULL, 'L'},
		{"timeout", required_argument, NULL, 'T'},
		{"wait", required_argument, NULL, 'W'},
		{"yes", no_argument, NULL, 'y'},
		{"force", no_argument, NULL, 'f'},
		{"final-try", no_argument, NULL, 'F'},
		{"json", no_argument, NULL, 'j'},
		{"trust-current", required_argument, NULL, 'H'},
		{"exit-code", no_argument, NULL, 'X'},
		{"strict", no_argument, NULL, 'S'},
		{NULL, 0, NULL, 0},
	};
	struct tool_getopt g = {argc, argv, opts, NULL, usage, false};
	struct ctl_err err = {0};
	unsigned long secs;
	int ch, last = 0; /* 't' or 'a': the option a --pin belongs to */

	o->mode = -1;
	o->timeout_ms = -1;
	o->wait_s = PUBLISH_WAIT_DEFAULT;
	optind = 1;
	while ((ch = tool_getopt(&g)) != -1) {
		switch (ch) {
		case 'c': o->cluster = optarg; break;
		case 'M': o->module = optarg; break;
		case 'C': o->current = optarg; break;
		case 'L': o->audit_log = optarg; break;
		case 'y': o->yes = true; break;
		case 'f': o->force = true; break;
		case 'F': o->final_try = true; break;
		case 'S': o->strict = true; break;
		case 'H': {
			size_t k = strlen(optarg);

			if (k != 64 || strspn(optarg, "0123456789abcdefABCDEF") != 64)
				return tool_fail(CTL_E_USAGE, "--trust-current takes the current CTL's SHA-256 (64 hex digits, e.g. from 'sha256sum')");
			for (size_t i = 0; i < k; i++)
				o->trust_current[i] = (char)tolower((unsigned char)optarg[i]);
			o->trust_current[k] = 0;
			break;
		}
		case 'X':
			if (o->op != OP_DIFF)
				return tool_fail(CTL_E_USAGE, "ctl: --exit-code is for 'ctl diff'");
			o->exit_code = true;
			break;
		case 'j':
			if (o->op != OP_DIFF)
				return tool_fail(CTL_E_USAGE, "ctl: --json is for 'ctl diff' and 'ctl show'");
			o->json = true;
			break;
		case 't':
		case 'a': {
			const char **v = ch == 't' ? o->tokens : o->adds;
			size_t *n = ch == 't' ? &o->ntokens : &o->nadds;

			if (*n >= MAX_URIS)
				return tool_fail(CTL_E_USAGE, "ctl: at most %d of each of --token and --add-token",
						 MAX_URIS);
			v[(*n)++] = optarg;
			last = ch;
			break;
		}
		case 'p': {
			const char **slot = last == 't' ? &o->token_pins[o->ntokens - 1] :
					    last == 'a' ? &o->add_pins[o->nadds - 1] : &o->ceremony_pin;

			o->npins++;
			if (!last && o->ceremony_pin)
				return tool_fail(CTL_E_USAGE, "ctl: --pin given twice before any --token; a --pin goes right after the --token or --add-token it belongs to");
			if (last && *slot) {
				char shown[256];

				uri_for_print(last == 't' ? o->tokens[o->ntokens - 1] : o->adds[o->nadds - 1],
					      shown, sizeof(shown));
				return tool_fail(CTL_E_USAGE, "ctl: two --pin for %s %s; a --pin goes right after the --token or --add-token it belongs to",
						 last == 't' ? "--token" : "--add-token", shown);
			}
			*slot = optarg;
			break;
		}
		case 'm':
			if (!strcasecmp(optarg, "mixed"))
				o->mode = CLUSTER_MIXED;
			else if (!strcasecmp(optarg, "non-secure") || !strcasecmp(optarg, "nonsecure"))
				o->mode = CLUSTER_NONSECURE;
			else
				return tool_fail(CTL_E_USAGE, "--mode must be mixed or non-secure (got '%s')",
						 optarg);
			break;
		case 'T':
			if (!tool_parse_uint(optarg, 1, 86400, &secs, "--timeout", &err))
				return tool_report(&err);
			o->timeout_ms = (int)secs * 1000;
			break;
		case 'W':
			if (!tool_parse_uint(optarg, 0, 86400, &secs, "--wait", &err))
				return tool_report(&err);
			o->wait_s = (unsigned)secs;
			break;
		default:
			return CTL_E_USAGE;
		}
	}
	*help = g.help_shown;
	if (*help)
		return CTL_OK;
	if (o->op == OP_DELETE) {
		if (argc - optind != 1)
			return tool_fail(CTL_E_USAGE, "ctl delete-token needs one SELECTOR (serial, fingerprint or subject); see --help");
		o->selector = argv[optind];
	} else if (optind != argc) {
		return tool_fail(CTL_E_USAGE, "ctl: unexpected argument '%s'; see --help", argv[optind]);
	}
	if (!o->cluster)
		return tool_fail(CTL_E_USAGE, "ctl: --cluster FILE is required; see --help");
	if (o->op == OP_CREATE && (o->nadds || o->current || o->mode >= 0 || o->trust_current[0]))
		return tool_fail(CTL_E_USAGE, "ctl create: --add-token, --current, --mode and --trust-current are for 'ctl update'");
	if (o->op == OP_DIFF && (o->ntokens || o->npins || o->nadds || o->yes))
		return tool_fail(CTL_E_USAGE, "ctl diff uses no token; see --help");
	if (o->op == OP_DELETE && o->nadds)
		return tool_fail(CTL_E_USAGE, "ctl delete-token: --add-token is for 'ctl update'");
	if (o->op != OP_CREATE && o->ntokens > 1)
		return tool_fail(CTL_E_USAGE, "ctl: give one --token (the one that signs); add tokens with --add-token");
	/* A --pin belongs to the --token or --add-token before it. Only without any (the
	 * ceremony on the terminal) may one --pin stand alone: the signing token's. */
	if (o->ceremony_pin && (o->ntokens || o->nadds))
		return tool_fail(CTL_E_USAGE, "ctl: --pin before any --token: a --pin belongs to the --token or --add-token right before it (--token URI --pin SRC)");
	return CTL_OK;
}

/* Reads and checks the current CTL: it must parse and verify against its own SAST. */
static int load_current(const char *path, struct ctl_file **out, struct ctl_err *err)
{
	int rc = publish_parse(path, out, err); /* never through a planted link */

	if (rc != CTL_OK) {
		if (faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
			return ctl_fail(err, CTL_E_IO,
					"there is no current CTL at %s; make the first one with 'ctlsign ctl create'",
					path);
		return ctl_fail_prefix(err, "current CTL %s is unusable; nothing was written", path);
	}
	if ((*out)->kind != CTL_KIND_CTL)
		return ctl_fail(err, CTL_E_MALFORMED, "%s is a %s, not a CTL; nothing was written", path,
				ctl_kind_name((*out)->kind));
	rc = ctl_verify_self(*out, err);
	if (rc != CTL_OK)
		return ctl_fail_prefix(err,
				       "current CTL %s does not verify, so it cannot authorize an update; nothing was written",
				       path);
	return CTL_OK;
}

/* --- anchoring the current CTL (issue 10, attack 1) --- */

static void when_str(long long t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, n, "time unknown");
}

static const char *cur_signer_name(const struct ctl_state *s)
{
	return s->cur && s->cur->hdr.signer_name ? s->cur->hdr.signer_name : "?";
}

/* The current CTL's SHA-256, its signer certificate's, and what ctlsign recorded for the
 * first output directory. Decides (a) and (c); (b) needs the run's tokens
 * (anchor_by_token). A file that is not anchored is not refused here: see anchor_refusal. */
static int anchor_load(struct ctl_state *s, const struct ctl_opts *o, struct ctl_err *err)
{
	struct anchor *a = &s->anchor;
	const struct ctl_record *r = ctl_find_signer(s->cur, CTL_ROLE_SAST);
	int rc;

	if (!state_sha256_hex(s->cur->raw.data, s->cur->raw.len, a->sha))
		return ctl_fail(err, CTL_E_INTERNAL, "SHA-256 failed");
	if (!r || !r->cert.len || !state_sha256_hex(r->cert.data, r->cert.len, a->signer_fp))
		snprintf(a->signer_fp, sizeof(a->signer_fp), "?");
	rc = state_published_get(s->c->outputs[0], CTLRUN_FILE_NAME, &a->have_record, a->rec_sha,
				 &a->rec_when, err);
	if (rc != CTL_OK)
		return ctl_fail_prefix(err, "cannot tell which CTL ctlsign last published to %s; nothing was written",
				       s->c->outputs[0]);
	rc = state_published_get(s->c->outputs[0], CTLRUN_PUBLISHING_NAME, &a->have_pending,
				 a->pending_sha, &a->pending_when, err);
	if (rc != CTL_OK)
		return ctl_fail_prefix(err, "cannot tell which CTL ctlsign last published to %s; nothing was written",
				       s->c->outputs[0]);
	a->by = ANCHOR_NONE;
	if (o->trust_current[0]) {
		/* The officer's word decides, also against a record: a wrong hash is refused. */
		if (!strcasecmp(o->trust_current, a->sha))
			a->by = ANCHOR_TRUST;
	} else if (a->have_record && !strcasecmp(a->rec_sha, a->sha)) {
		a->by = ANCHOR_RECORD;
	} else if (a->have_pending && !strcasecmp(a->pending_sha, a->sha)) {
		/* A run was killed after putting its CTL in place and before recording it:
		 * still the newest CTL ctlsign signed for this directory, never an older one. */
		a->by = ANCHOR_RECORD;
		a->via_pending = true;
	}
	return CTL_OK;
}

/* (b): no record and no --trust-current, and the current CTL's signature verifies with
 * the certificate of a token presented in this run (the one that signs, or one added):
 * a CTL made by another tool is adopted. */
static void anchor_by_token(struct ctl_state *s, const struct ctl_opts *o)
{
	struct anchor *a = &s->anchor;
	const struct token_info *cand[1 + MAX_URIS + 64];
	size_t n = 0;

	if (a->by != ANCHOR_NONE || a->have_record || o->trust_current[0])
		return;
	if (s->have_signer_info)
		cand[n++] = &s->signer_info;
	for (size_t i = 0; i < s->cer.nadded && n < 1 + 64; i++)
		cand[n++] = &s->cer.added[i];
	for (size_t i = 0; i < s->nknown; i++)
		cand[n++] = &s->known[i];
	for (size_t i = 0; i < n; i++) {
		struct ctl_err ignored = {0};

		if (cand[i]->cert && ctl_verify_cert(s->cur, cand[i]->cert, &ignored) == CTL_OK) {
			a->by = ANCHOR_TOKEN;
			snprintf(a->token, sizeof(a->token), "'%s' (serial %s)", cand[i]->label,
				 cand[i]->serial);
			return;
		}
	}
}

/* Why the current CTL may not be changed, as one line into buf; false when it is
 * anchored, or when it may still be adopted by a token of the run (tokens_checked false). */
static bool anchor_refusal(const struct ctl_state *s, const struct ctl_opts *o,
			   const char *curpath, bool tokens_checked, char *buf, size_t n)
{
	const struct anchor *a = &s->anchor;
	const char *dir = s->c->outputs[0];
	char when[64];

	if (a->by != ANCHOR_NONE)
		return false;
	if (o->trust_current[0]) {
		snprintf(buf, n, "current CTL %s (SHA-256 %s) signed by %s (certificate SHA-256 %s) does not match --trust-current %s: (c) holds only for the file whose SHA-256 you compared out of band; nothing was written",
			 curpath, a->sha, cur_signer_name(s), a->signer_fp, o->trust_current);
		return true;
	}
	if (a->have_record) {
		when_str(a->rec_when, when, sizeof(when));
		snprintf(buf, n, "current CTL %s (SHA-256 %s) signed by %s (certificate SHA-256 %s) is not the CTL ctlsign last published to %s (SHA-256 %s, %s), so (a) fails: it may be planted or an older CTL put back; only if it is genuine, compare its SHA-256 out of band and pass --trust-current SHA256 (c); nothing was written",
			 curpath, a->sha, cur_signer_name(s), a->signer_fp, dir, a->rec_sha, when);
		return true;
	}
	if (!tokens_checked)
		return false;
	snprintf(buf, n, "current CTL %s (SHA-256 %s) signed by %s (certificate SHA-256 %s): ctlsign has no record of publishing to %s (a) and no token presented in this run verifies it (b); present the token that signed it, or compare its SHA-256 out of band and pass --trust-current SHA256 (c); nothing was written",
		 curpath, a->sha, cur_signer_name(s), a->signer_fp, dir);
	return true;
}

/* Refuses (exit 6) a current CTL that is not anchored. The line is longer than a
 * struct ctl_err holds (three hashes and a path), so it is printed here. */
static int anchor_check(struct ctl_state *s, const struct ctl_opts *o, const char *curpath,
			bool tokens_checked, struct ctl_err *err)
{
	char line[8192 + 1024];

	if (!anchor_refusal(s, o, curpath, tokens_checked, line, sizeof(line)))
		return CTL_OK;
	fprintf(stderr, "%s: %s\n", tool_prog, line);
	s->reported = true;
	return ctl_fail(err, CTL_E_SIGNER, "the current CTL is not anchored");
}

/* The anchor as the plan shows it. */
static void anchor_status(const struct ctl_state *s, const struct ctl_opts *o, char *buf,
			  size_t n)
{
	const struct anchor *a = &s->anchor;
	char when[64];

	switch (a->by) {
	case ANCHOR_RECORD:
		when_str(a->via_pending ? a->pending_when : a->rec_when, when, sizeof(when));
		snprintf(buf, n, "anchored (a): the last CTL ctlsign published to %s (%s)%s",
			 s->c->outputs[0], when,
			 a->via_pending ? ", by a run interrupted before it recorded it" : "");
		return;
	case ANCHOR_TOKEN:
		snprintf(buf, n, "anchored (b): no record for %s; it verifies with token %s of this run, so it is adopted",
			 s->c->outputs[0], a->token);
		return;
	case ANCHOR_TRUST:
		snprintf(buf, n, "anchored (c): its SHA-256 is the one given with --trust-current");
		return;
	default:
		break;
	}
	if (o->trust_current[0])
		snprintf(buf, n, "NOT ANCHORED: its SHA-256 does not match --trust-current %s",
			 o->trust_current);
	else if (a->have_record)
		snprintf(buf, n, "NOT ANCHORED: not the last CTL ctlsign published to %s (that was SHA-256 %s); an update refuses it unless --trust-current",
			 s->c->outputs[0], a->rec_sha);
	else
		snprintf(buf, n, "not anchored: no record; an update will adopt it only if a presented token verifies it, or with --trust-current");
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
	uri_for_print(uri, shown, sizeof(shown));
	if (rc != CTL_OK)
		return ctl_fail_prefix(err, "%s (%s); nothing was written", what, shown);
	return CTL_OK;
}

/* Non-interactive: which tokens take part (and the signer). */
static int tokens_from_uris(struct ctl_state *s, const struct ctl_opts *o, struct ctl_err *err)
{
	int rc;

	if (o->op == OP_CREATE) {
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
	/* update / delete-token: the one --token authorizes and signs. */
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
	struct tty_ctx t = {s->m, o->timeout_ms, s->cur};
	struct ceremony_ops ops = {
		.ctx = &t,
		.wait_one = tty_wait_one,
		.wait_removed = tty_wait_removed,
		.ask = tty_ask,
		.say = tty_say,
		.is_known = tty_is_known,
	};
	int rc;

	if (!isatty(STDIN_FILENO))
		return ctl_fail(err, CTL_E_USAGE,
				"no --token given and no terminal for the token ceremony; pass --token URI for each token");
	if (s->cur) /* which tokens will do, before the officer starts inserting them */
		print_sasts_of_current(stderr, s->cur);
	s->cer.ops = &ops;
	rc = ceremony_run(&s->cer, err);
	s->cer.ops = NULL;
	if (rc != CTL_OK)
		return rc;
	ceremony_info_copy(&s->signer_info, &s->cer.signer);
	s->have_signer_info = true;
	return CTL_OK;
}

static int build_records(struct ctl_state *s, const struct ctl_opts *o, int mode,
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

static int confirm(const struct ctl_opts *o, size_t ndirs, struct ctl_err *err)
{
	char q[128];
	int ans;

	if (o->yes)
		return CTL_OK;
	if (!isatty(STDIN_FILENO))
		return ctl_fail(err, CTL_E_USAGE,
				"no terminal to confirm on; check the changes above and pass --yes");
	snprintf(q, sizeof(q), "Sign this CTL and publish it to %zu director%s?", ndirs,
		 ndirs == 1 ? "y" : "ies");
	ans = ask_yes_no(q);
	if (ans != 1)
		return ctl_fail(err, CTL_E_CANCELLED, "not confirmed; nothing was signed or written");
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
	rc = publish_catch_up(c->outputs, c->noutputs, CTLRUN_FILE_NAME, audit_log, res, &n, err);
	for (size_t i = 0; i < n; i++) {
		if (res[i].leftovers)
			printf("removed    %zu temporary file%s left in %s by an interrupted run\n",
			       res[i].leftovers, res[i].leftovers == 1 ? "" : "s", res[i].dir);
		if (res[i].rc == CTL_OK)
			printf("published  %s/%s (it differed from %s/%s: an interrupted run?)\n",
			       res[i].dir, CTLRUN_FILE_NAME, c->outputs[0], CTLRUN_FILE_NAME);
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
static void print_plan(FILE *fp, const struct ctl_state *s, const struct ctl_opts *o,
		       const char *curpath, const char *title)
{
	if (s->cur) {
		char st[8192];

		anchor_status(s, o, st, sizeof(st));
		fprintf(fp, "Current CTL %s\n  SHA-256  %s\n  signer   %s (certificate SHA-256 %s)\n  %s\n",
			curpath, s->anchor.sha, cur_signer_name(s), s->anchor.signer_fp, st);
	}
	fputs(title, fp);
	ctldiff_print(fp, &s->diff);
	ctldiff_print_sasts(fp, s->recs.recs, s->recs.n, s->cur ? s->cur->records : NULL,
			    s->cur ? s->cur->nrecords : 0);
}

/* The output directories hold different CTLs at the start (issue 12, item 11): a run was
 * interrupted, or someone changed one. Listed on stdout. Bringing the others level to the
 * first directory's CTL (the update publishes to all; an up-to-date run copies it) is
 * right only when that CTL is anchored (a, b or c) and no other directory holds a newer
 * one (by the CTL's own timestamp: an older CTL adopted by (b) must not roll the others
 * back); otherwise refused (exit 9), nothing written. tokens_checked false (ctl diff): a
 * CTL that a token of the update may still adopt is not refused. A directory without a
 * CTL (a new output) only lags. */
static int check_outputs_level(struct ctl_state *s, const struct ctl_opts *o,
			       bool tokens_checked, struct ctl_err *err)
{
	const struct cluster *c = s->c;
	bool differ = false, newer = false;
	char shown[8192];
	size_t used = 0;
	FILE *fp = o->json ? stderr : stdout; /* ctl diff --json: stdout is JSON */

	if (o->op == OP_CREATE || o->current || c->noutputs < 2 || !s->cur)
		return CTL_OK;
	for (size_t i = 1; i < c->noutputs; i++) {
		struct ctl_buf b = {0};
		struct ctl_err ignored = {0};
		struct ctl_file *f = NULL;
		bool missing = false;
		char sha[65] = "", line[1200];
		int k;

		if (publish_read(c->outputs[i], CTLRUN_FILE_NAME, CTL_MAX_FILE_SIZE, &b, &missing,
				 &ignored) == CTL_OK) {
			if (b.len == s->cur->raw.len && !memcmp(b.data, s->cur->raw.data, b.len)) {
				ctl_buf_clear(&b);
				continue;
			}
			state_sha256_hex(b.data, b.len, sha);
			/* A newer CTL that ctlsign itself published there (recorded for that
			 * directory, or the one a run was publishing) is a run that did not reach
			 * the first directory: the first one's anchored CTL stays the base. */
			bool ours = false, rec = false;
			char rsha[65];
			if (state_published_get(c->outputs[i], CTLRUN_FILE_NAME, &rec, rsha, NULL,
						&ignored) == CTL_OK && rec && !strcasecmp(rsha, sha))
				ours = true;
			if (s->anchor.have_pending && !strcasecmp(s->anchor.pending_sha, sha))
				ours = true;
			bool is_newer = ctl_parse(b.data, b.len, &f, &ignored) == CTL_OK &&
					f->hdr.timestamp > s->cur->hdr.timestamp;
			if (is_newer && !ours)
				newer = true;
			snprintf(line, sizeof(line), "  %s/%s  SHA-256 %s%s\n", c->outputs[i],
				 CTLRUN_FILE_NAME, sha, !f ? " (not a CTL)" :
				 is_newer && ours ? " (newer: published there by a ctlsign run that did not finish)" :
				 is_newer ? " (NEWER than the first)" : "");
			ctl_file_free(f);
			differ = true;
		} else {
			snprintf(line, sizeof(line), "  %s/%s  %s\n", c->outputs[i], CTLRUN_FILE_NAME,
				 missing ? "missing" : ignored.msg);
			differ = differ || !missing;
		}
		ctl_buf_clear(&b);
		k = snprintf(shown + used, sizeof(shown) - used, "%s", line);
		if (k > 0 && used + (size_t)k < sizeof(shown))
			used += (size_t)k;
	}
	if (!used)
		return CTL_OK;
	fprintf(fp, "The output directories do not hold the same CTL:\n  %s/%s  SHA-256 %s (first: the current CTL)\n%s",
	       c->outputs[0], CTLRUN_FILE_NAME, s->anchor.sha, shown);
	if (!differ) {
		fprintf(fp, "  (the missing ones get the CTL with this run)\n");
		return CTL_OK;
	}
	if (newer)
		return ctl_fail(err, CTL_E_POLICY, "another output directory holds a newer CTL than %s/%s (listed above); find out which is right and make every directory hold it before changing the CTL; nothing was written",
				c->outputs[0], CTLRUN_FILE_NAME);
	if (s->anchor.by == ANCHOR_NONE && tokens_checked)
		return ctl_fail(err, CTL_E_POLICY, "the output directories hold different CTLs (listed above) and %s/%s is not anchored; find out which is right and make every directory hold it (or fix the cluster file's output list); nothing was written",
				c->outputs[0], CTLRUN_FILE_NAME);
	if (s->anchor.by == ANCHOR_NONE)
		fprintf(fp, "  (brought level by an update only if a token of it anchors %s/%s, (b))\n",
			c->outputs[0], CTLRUN_FILE_NAME);
	else
		fprintf(fp, "  (%s/%s is anchored: the others are brought level with this run)\n",
			c->outputs[0], CTLRUN_FILE_NAME);
	return CTL_OK;
}

/* The security mode of the result (issue 12, item 3): --mode when given; else a create
 * takes the cluster file's and a change keeps the current CTL's. A cluster file whose mode
 * differs from the current CTL's is refused without --mode: a routine update must not
 * switch mixed mode on or off by surprise. */
static int decide_mode(struct ctl_state *s, const struct ctl_opts *o, const char *curpath,
		       int *mode, struct ctl_err *err)
{
	int cur;

	if (o->mode >= 0 || !s->cur) {
		*mode = o->mode >= 0 ? o->mode : s->c->mode;
		return CTL_OK;
	}
	cur = ctlmake_mode_of(s->cur->records, s->cur->nrecords);
	if (cur != s->c->mode) {
		/* two paths: may be longer than a struct ctl_err holds, so printed here */
		fprintf(stderr, "%s: the current CTL %s is %s but %s says mode = %s; pass --mode %s to switch it (or --mode %s to keep it), or edit the file; nothing was written\n",
			tool_prog, curpath, cluster_mode_name(cur), o->cluster,
			cluster_mode_name(s->c->mode), cluster_mode_name(s->c->mode),
			cluster_mode_name(cur));
		s->reported = true;
		return ctl_fail(err, CTL_E_POLICY, "the cluster file's mode differs from the current CTL's");
	}
	*mode = cur;
	return CTL_OK;
}

static int run(const struct ctl_opts *o)
{
	static const char *opnames[] = {"", "ctl-create", "ctl-update", "ctl-delete-token"};
	struct ctl_state s;
	struct ctl_err err = {0};
	char curpath[4096];
	long deleted = -1;
	int rc, mode;
	bool replacing = false;  /* create over an existing CTL (--force) */
	const struct ctl_signer *signer;
	struct ctlrun_opts ro;
	struct publish_result *results = NULL;

	memset(&s, 0, sizeof(s));
	ceremony_init(&s.cer, o->op == OP_CREATE ? CEREMONY_CREATE : CEREMONY_UPDATE, NULL);
	s.cer.authorize_only = o->op == OP_DELETE;

	if ((rc = cluster_load_opts(o->cluster, &(struct cluster_load_opts){.strict = o->strict},
				    &s.c, &err)) != CTL_OK)
		goto fail;
	if (s.c->hash_alg == CTL_HASH_SHA1)
		fprintf(stderr, "ctlsign: warning: digest sha1 is weak; use it only while older phones that cannot check SHA-512 are in the cluster\n");

	/* One run at a time: a lock in every output directory, and nothing planted there
	 * (a CTLFile.tlv, .bak or lock that is a link, FIFO or directory stops the run). */
	{
		static const char *const planted[] = {CTLRUN_FILE_NAME, CTLRUN_FILE_NAME ".bak",
						     CTLRUN_FILE_NAME ".bak.1",
						     CTLRUN_FILE_NAME ".bak.2", NULL};

		if ((rc = publish_lock(s.c->outputs, s.c->noutputs, o->wait_s, planted, &s.lock,
				       &err)) != CTL_OK ||
		    (rc = audit_report_interrupted(audit_path(o->audit_log), s.c->outputs,
						   s.c->noutputs, "brings every output directory to one CTL",
						   stderr, NULL, &err)) != CTL_OK)
			goto fail;
	}

	snprintf(curpath, sizeof(curpath), "%s/%s", s.c->outputs[0], CTLRUN_FILE_NAME);
	if (o->current)
		snprintf(curpath, sizeof(curpath), "%s", o->current);
	if (o->op == OP_CREATE) {
		for (size_t i = 0; i < s.c->noutputs && !replacing; i++) {
			char p[4200];

			snprintf(p, sizeof(p), "%s/%s", s.c->outputs[i], CTLRUN_FILE_NAME);
			replacing = access(p, F_OK) == 0;
		}
		if (!o->force && access(curpath, F_OK) == 0) {
			rc = ctl_fail(&err, CTL_E_POLICY,
				      "a CTL already exists at %s; change it with 'ctlsign ctl update' and a token of its SAST records ('ctlsign ctl show' lists them); only if all of them are lost, --force replaces it, and then every phone must have its CTL erased",
				      curpath);
			goto fail;
		}
		if (replacing)
			fprintf(stderr, "ctlsign: warning: --force replaces the existing CTL. Phones holding the old CTL refuse the new one (none of the SAST tokens they trust signed it), so after publishing, the CTL must be erased on every phone (Settings > Security > CTL > Erase, or a factory reset) before it takes the new one.\n");
	} else {
		/* Trusted as the base of the change only when anchored: (a) or (c) now, (b) once
		 * the tokens of the run are known. */
		if ((rc = load_current(curpath, &s.cur, &err)) != CTL_OK ||
		    (rc = anchor_load(&s, o, &err)) != CTL_OK ||
		    (rc = anchor_check(&s, o, curpath, false, &err)) != CTL_OK)
			goto fail;
	}
	/* Every output directory must exist and be writable before anything is signed
	 * (issue 12, item 11): exit 3 here, not after the first one was published. */
	if ((rc = publish_check_dirs(s.c->outputs, s.c->noutputs, &err)) != CTL_OK ||
	    (rc = decide_mode(&s, o, curpath, &mode, &err)) != CTL_OK)
		goto fail;
	if (o->op == OP_DELETE) {
		size_t idx[4], k = ctlmake_select(s.cur->records, s.cur->nrecords, o->selector, idx, 4);

		if (!k) {
			rc = ctl_fail(&err, CTL_E_USAGE, "no record of %s matches '%s' (give a serial, fingerprint or subject; 'ctlsign ctl show' lists them)",
				      curpath, o->selector);
			goto fail;
		}
		if (k > 1) {
			rc = ctl_fail(&err, CTL_E_USAGE, "'%s' matches %zu records; give the certificate serial or fingerprint",
				      o->selector, k);
			goto fail;
		}
		if (s.cur->records[idx[0]].role != CTL_ROLE_SAST) {
			rc = ctl_fail(&err, CTL_E_POLICY, "'%s' is a %s record: server records follow the cluster file; edit it and run 'ctlsign ctl update'",
				      o->selector, ctl_role_name(s.cur->records[idx[0]].role));
			goto fail;
		}
		if (ctlmake_count_role(s.cur->records, s.cur->nrecords, CTL_ROLE_SAST) < 3) {
			rc = ctl_fail(&err, CTL_E_POLICY, "deleting it would leave fewer than two SAST records; add another token first (ctlsign ctl update --add-token)");
			goto fail;
		}
		deleted = (long)idx[0];
	}

	if ((rc = cluster_check_mode(s.c, mode, &err)) != CTL_OK || /* before any token */
	    (rc = token_module_open(o->module, &s.m, &err)) != CTL_OK)
		goto fail;
	rc = o->ntokens ? tokens_from_uris(&s, o, &err) : tokens_from_ceremony(&s, o, &err);
	if (rc != CTL_OK)
		goto fail;
	if (o->op != OP_CREATE) {
		char shown[256];

		anchor_by_token(&s, o);
		if ((rc = anchor_check(&s, o, curpath, true, &err)) != CTL_OK ||
		    (rc = check_outputs_level(&s, o, true, &err)) != CTL_OK)
			goto fail;
		uri_for_print(o->ntokens ? o->tokens[0] : "", shown, sizeof(shown));
		if (!s.signer_info.cert ||
		    ctlmake_find_sast(s.cur->records, s.cur->nrecords, s.signer_info.cert) < 0) {
			fprintf(stderr, "%s: token '%s' (serial %s) is not a SAST of the current CTL %s, so it cannot authorize a change; present one that is (nothing was written)\n",
				tool_prog, s.signer_info.label, s.signer_info.serial, curpath);
			print_sasts_of_current(stderr, s.cur);
			s.reported = true;
			rc = ctl_fail(&err, CTL_E_SIGNER, "token not in the current CTL");
			goto fail;
		}
		if (deleted >= 0 && ctl_record_is_cert(&s.cur->records[deleted], s.signer_info.cert)) {
			rc = ctl_fail(&err, CTL_E_POLICY,
				      "'%s' is the token signing this change; sign with another token of the CTL",
				      o->selector);
			goto fail;
		}
	}
	if ((rc = build_records(&s, o, mode, deleted, &err)) != CTL_OK)
		goto fail;

	/* What changes, before anything is signed. */
	if ((rc = ctldiff_compute(s.cur ? s.cur->records : NULL, s.cur ? s.cur->nrecords : 0,
				  s.cur ? ctlmake_mode_of(s.cur->records, s.cur->nrecords) : -1,
				  s.recs.recs, s.recs.n, mode, &s.diff, &err)) != CTL_OK)
		goto fail;
	if (s.cur)
		ctldiff_set_digest(&s.diff, s.cur->hdr.hash_alg, s.c->hash_alg);
	{
		char title[4200];

		snprintf(title, sizeof(title), "%s CTL for %s (%s, %s):\n",
			 o->op == OP_CREATE ? "New" : "Changes to the", o->cluster,
			 cluster_mode_name(mode), ctl_hash_name(s.c->hash_alg));
		print_plan(stdout, &s, o, curpath, title);
	}
	fflush(stdout);
	if (o->op != OP_CREATE && ctldiff_is_empty(&s.diff) && !o->force) {
		printf("The CTL is up to date; nothing to sign (--force signs it again).\n");
		tool_defer_begin(); /* a signal waits for the catch-up's outcome (tool.h) */
		rc = o->current ? CTL_OK : catch_up(s.c, &s.cur->raw, audit_path(o->audit_log), &err);
		tool_defer_end();
		/* An interrupted run's CTL, now known to be in place: record it. */
		if (rc == CTL_OK && !o->current && s.anchor.via_pending &&
		    (rc = state_published_put(s.c->outputs[0], CTLRUN_FILE_NAME, s.cur->raw.data,
					      s.cur->raw.len, &err)) != CTL_OK)
			ctl_fail_prefix(&err, "cannot record %s as what ctlsign published", curpath);
		if (rc != CTL_OK)
			goto fail;
		goto out;
	}
	if ((rc = confirm(o, s.c->noutputs, &err)) != CTL_OK)
		goto fail;

	/* Log in to the signer only now. */
	{
		char uri[128];
		struct token_opts to = {
			.uri = o->ntokens ? o->tokens[o->ntokens - 1] : uri,
			/* the --pin right after the signing --token (create: the last one) */
			.pin = o->ntokens ? o->token_pins[o->op == OP_CREATE ? o->ntokens - 1 : 0] :
			       o->ceremony_pin,
			.final_try = o->final_try,
		};
		serial_uri(&s.signer_info, uri, sizeof(uri));
		if ((rc = token_open(s.m, &to, &s.tok, &err)) != CTL_OK)
			goto fail;
		if (!token_cert(s.tok) || X509_cmp(token_cert(s.tok), s.signer_info.cert)) {
			rc = ctl_fail(&err, CTL_E_TOKEN,
				      "the token logged in to is not the one presented (certificate differs); nothing was written");
			goto fail;
		}
	}
	signer = token_signer(s.tok);
	memset(&ro, 0, sizeof(ro));
	ro.dirs = s.c->outputs;
	ro.ndirs = s.c->noutputs;
	ro.hash_alg = s.c->hash_alg;
	ro.audit_log = audit_path(o->audit_log);
	ro.operation = opnames[o->op];
	ro.token_label = token_get_info(s.tok)->label;
	ro.token_serial = token_get_info(s.tok)->serial;
	ro.cluster = o->cluster;
	ro.out = stdout;
	if (!(results = calloc(s.c->noutputs, sizeof(*results)))) {
		rc = ctl_fail(&err, CTL_E_INTERNAL, "out of memory");
		goto fail;
	}
	ro.results = results;
	tool_defer_begin(); /* a signal waits for the publication and its outcome (tool.h) */
	rc = ctlrun_finish(s.recs.recs, s.recs.n, signer, &ro, &err);
	if (rc == CTL_OK || rc == CTL_E_PARTIAL) {
		struct ctlrun_next nx = {
			.diff = &s.diff, .replaced = replacing,
			.res = results, .nres = s.c->noutputs,
		};
		ctlrun_print_next(stdout, s.c, &nx);
	}
	tool_defer_end();
	if (rc != CTL_OK)
		goto fail;
	goto out;
fail:
	if (!s.reported)
		tool_report(&err);
	if (!rc)
		rc = CTL_E_INTERNAL;
out:
	fflush(stdout);
	free(results);
	state_free(&s);
	return rc;
}

/* ctl diff: the update's plan from the cluster file alone. */
static int run_diff(const struct ctl_opts *o)
{
	struct ctl_state s;
	struct ctl_err err = {0};
	char curpath[4096];
	int rc, mode;

	memset(&s, 0, sizeof(s));
	if ((rc = cluster_load_opts(o->cluster, &(struct cluster_load_opts){.strict = o->strict},
				    &s.c, &err)) != CTL_OK)
		goto fail;
	snprintf(curpath, sizeof(curpath), "%s/%s", s.c->outputs[0], CTLRUN_FILE_NAME);
	if (o->current)
		snprintf(curpath, sizeof(curpath), "%s", o->current);
	if ((rc = load_current(curpath, &s.cur, &err)) != CTL_OK ||
	    (rc = anchor_load(&s, o, &err)) != CTL_OK ||
	    (rc = decide_mode(&s, o, curpath, &mode, &err)) != CTL_OK ||
	    (rc = build_records(&s, o, mode, -1, &err)) != CTL_OK ||
	    (rc = ctldiff_compute(s.cur->records, s.cur->nrecords,
				  ctlmake_mode_of(s.cur->records, s.cur->nrecords), s.recs.recs,
				  s.recs.n, mode, &s.diff, &err)) != CTL_OK)
		goto fail;
	ctldiff_set_digest(&s.diff, s.cur->hdr.hash_alg, s.c->hash_alg);
	if (o->json) {
		struct json_object *j = ctldiff_json(&s.diff), *an = json_object_new_object();
		struct json_object *sg = json_object_new_object();
		static const char *by[] = {NULL, "a", "b", "c"};
		char st[8192];

		anchor_status(&s, o, st, sizeof(st));
		json_object_object_add(j, "current", json_object_new_string(curpath));
		json_object_object_add(j, "current_sha256", json_object_new_string(s.anchor.sha));
		json_object_object_add(sg, "subject", json_object_new_string(cur_signer_name(&s)));
		json_object_object_add(sg, "sha256", json_object_new_string(s.anchor.signer_fp));
		json_object_object_add(j, "current_signer", sg);
		json_object_object_add(an, "anchored", json_object_new_boolean(s.anchor.by != ANCHOR_NONE));
		json_object_object_add(an, "by", by[s.anchor.by] ? json_object_new_string(by[s.anchor.by]) : NULL);
		if (s.anchor.have_record)
			json_object_object_add(an, "recorded_sha256", json_object_new_string(s.anchor.rec_sha));
		json_object_object_add(an, "status", json_object_new_string(st));
		json_object_object_add(j, "anchor", an);
		json_object_object_add(j, "sast", ctldiff_sasts_json(s.recs.recs, s.recs.n,
								     s.cur->records, s.cur->nrecords));
		tool_json_print(j);
	} else {
		char title[4200];

		snprintf(title, sizeof(title), "Changes 'ctlsign ctl update' would make to %s (%s, %s):\n",
			 curpath, cluster_mode_name(mode), ctl_hash_name(s.c->hash_alg));
		print_plan(stdout, &s, o, curpath, title);
	}
	fflush(stdout);
	/* An update would refuse it whatever token is presented: say so, exit 6. */
	rc = anchor_check(&s, o, curpath, false, &err);
	/* Output directories holding different CTLs: listed; exit 9 when an update would
	 * refuse to bring them level. */
	if (rc == CTL_OK)
		rc = check_outputs_level(&s, o, false, &err);
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
	state_free(&s);
	return rc;
}

/* --- show --- */

static int cmd_ctl_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"cluster", required_argument, NULL, 'c'},
		{NULL, 0, NULL, 0},
	};
	struct tool_getopt g = {argc, argv, opts, NULL, usage_show, false};
	const char *cluster_path = NULL;
	char path[4096] = CTLRUN_FILE_NAME;
	struct ctl_file *f = NULL;
	struct ctl_err err = {0}, verr = {0};
	const struct ctl_record *signer;
	bool json = false;
	int ch, rc, vrc, mode;

	optind = 1;
	while ((ch = tool_getopt(&g)) != -1) {
		switch (ch) {
		case 'j': json = true; break;
		case 'c': cluster_path = optarg; break;
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
	if (json) {
		/* The document of `ctlverify show --json` (schemas/ctl.schema.json, itl.schema.json),
		 * plus what only ctlsign checks here: the signature against the file's own record. */
		struct json_object *o = show_json(path, f), *v = json_object_new_object();

		json_object_object_add(v, "verified", json_object_new_boolean(vrc == CTL_OK));
		if (vrc != CTL_OK)
			json_object_object_add(v, "error", json_object_new_string(verr.msg));
		json_object_object_add(v, "signer_record",
				       signer ? json_object_new_int64((int64_t)(signer - f->records)) : NULL);
		json_object_object_add(o, "verification", v);
		tool_json_print(o);
	} else {
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
		       vrc == CTL_OK ? "" : verr.msg);
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
	ctl_file_free(f);
	if (vrc != CTL_OK && !json)
		fprintf(stderr, "%s: %s\n", tool_prog, verr.msg);
	return vrc;
}

static int cmd_ctl_sub(int argc, char **argv, struct ctl_opts *op);

int cmd_ctl(int argc, char **argv)
{
	struct ctl_opts o;
	int rc;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_ctl, argc < 2 ? stderr : stdout);
		return argc < 2 ? CTL_E_USAGE : CTL_OK;
	}
	memset(&o, 0, sizeof(o));
	/* The subcommand's arguments, named "ctl SUB" so that a bad option's hint reads
	 * "see 'ctlsign ctl SUB --help'" (tool_getopt names argv[0]). */
	{
		char name[64];
		char **av = calloc((size_t)argc, sizeof(*av));

		if (!av)
			return tool_fail(CTL_E_INTERNAL, "out of memory");
		snprintf(name, sizeof(name), "ctl %s", argv[1]);
		av[0] = name;
		for (int i = 2; i < argc; i++)
			av[i - 1] = argv[i];
		rc = cmd_ctl_sub(argc - 1, av, &o);
		free(av);
		return rc;
	}
}

static int cmd_ctl_sub(int argc, char **argv, struct ctl_opts *op)
{
	struct ctl_opts o = *op;
	const char *usage, *sub = argv[0] + 4;
	bool help = false;
	int rc;

	if (!strcmp(sub, "show"))
		return cmd_ctl_show(argc, argv);
	if (!strcmp(sub, "create")) {
		o.op = OP_CREATE;
		usage = usage_create;
	} else if (!strcmp(sub, "update")) {
		o.op = OP_UPDATE;
		usage = usage_update;
	} else if (!strcmp(sub, "delete-token")) {
		o.op = OP_DELETE;
		usage = usage_delete;
	} else if (!strcmp(sub, "diff")) {
		o.op = OP_DIFF;
		usage = usage_diff;
	} else {
		return tool_fail(CTL_E_USAGE, "ctl: unknown command '%s'; see 'ctlsign ctl --help'",
				 sub);
	}
	if ((rc = parse_opts(argc, argv, &o, usage, &help)) != CTL_OK || help)
		return rc;
	return o.op == OP_DIFF ? run_diff(&o) : run(&o);
}
