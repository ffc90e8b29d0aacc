/* sign.h - ctlsign's subcommands and the options they share. */
#ifndef CTL_SIGN_H
#define CTL_SIGN_H

#include <stdbool.h>

#include "tool.h"

int cmd_sign(int argc, char **argv);
int cmd_encrypt(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_ctl(int argc, char **argv);
int cmd_itl(int argc, char **argv);
int cmd_audit(int argc, char **argv);

/* ---- options several commands take (tool.h explains the tables) ----
 *
 * Each is declared once here, with one value, spelling and help line; a command includes
 * the fragments (arrays, defined in ctlsign.c) that fit it, or single entries
 * (SIGN_OPT_*) where it takes only some, and puts its own options, values from
 * SIGN_O_OWN up, in a table of its own:
 *
 *	enum { O_SELECTOR = SIGN_O_OWN };
 *	static const struct tool_opt own[] = {
 *		{SIGN_O_TOKEN, "token", "URI", "the token that signs"},  // its own wording
 *		{O_SELECTOR, "selector", "S", "..."},
 *		TOOL_OPT_END,
 *	};
 *	static const struct tool_opt *const opts[] = {sign_opts_cluster, own,
 *						      sign_opts_ceremony, NULL};
 *	...
 *	struct sign_args sa;
 *	sign_args_init(&sa);
 *	while ((c = tool_opt_next(&a)) != -1) {
 *		int took = sign_opt(c, "ctl delete-token", &sa);
 *		if (took < 0)
 *			return CTL_E_USAGE;
 *		if (took)
 *			continue;
 *		switch (c) { case O_SELECTOR: ...; default: return CTL_E_USAGE; }
 *	}
 *
 * --token and --pin are not taken by sign_opt when their order matters to the command
 * (ctl: a --pin belongs to the --token before it): the command handles SIGN_O_TOKEN and
 * SIGN_O_PIN first. */
enum sign_opt {
	SIGN_O_KEY = TOOL_OPT_BASE, /* --key: the signing token and key (URI) */
	SIGN_O_TOKEN,		    /* --token: a token (URI) */
	SIGN_O_MODULE,
	SIGN_O_PIN,
	SIGN_O_FINAL_TRY,
	SIGN_O_DIGEST,
	SIGN_O_AUDIT_LOG,
	SIGN_O_WAIT,
	SIGN_O_CLUSTER,
	SIGN_O_STRICT,
	SIGN_O_YES,
	SIGN_O_JSON,
	SIGN_O_OWN = TOOL_OPT_BASE + 0x40 /* a command's own options count from here */
};

#define SIGN_OPT_MODULE                                                                    \
	{SIGN_O_MODULE, "module", "PATH",                                                  \
	 "PKCS#11 module (default: $CTLSIGN_PKCS11_MODULE, else p11-kit's proxy)"}
#define SIGN_OPT_FINAL_TRY                                                                 \
	{SIGN_O_FINAL_TRY, "final-try", NULL, "allow a login on the token's last PIN try"}
#define SIGN_OPT_AUDIT_LOG                                                                 \
	{SIGN_O_AUDIT_LOG, "audit-log", "FILE",                                            \
	 "audit log (default: $CTLSIGN_AUDIT_LOG, else audit.log in the state directory, "  \
	 "$CTLSIGN_STATE_DIR or ~/.local/state/ctlsign)"}
/* sign, encrypt: the lock of the directory they work in */
#define SIGN_OPT_WAIT_DIR                                                                  \
	{SIGN_O_WAIT, "wait", "SEC",                                                       \
	 "with --dir: wait up to SEC seconds (default 10) for another run working in the "  \
	 "directory (.ctlsign.lock), then exit 12"}
#define SIGN_OPT_JSON(help) {SIGN_O_JSON, "json", NULL, help}

/* sign, encrypt: the signing token and key, its login, the digest, the audit log:
 * --key --module --pin --final-try --digest --audit-log */
extern const struct tool_opt sign_opts_signer[];
/* itl create, ctl create/update/diff: --cluster --strict */
extern const struct tool_opt sign_opts_cluster[];
/* itl create, ctl create/update/delete-token (after their --token/--pin):
 * --module --yes --audit-log --wait --final-try */
extern const struct tool_opt sign_opts_ceremony[];

/* What the shared options gave. */
struct sign_args {
	const char *key, *token, *module, *pin, *audit_log, *cluster;
	bool final_try, strict, yes, json;
	int hash;	       /* --digest: CTL_HASH_*; 0 when not given */
	unsigned long wait_s;  /* --wait: PUBLISH_WAIT_DEFAULT when not given */
};
void sign_args_init(struct sign_args *sa);
/* c, a value from tool_opt_next: 1 when it is one of the SIGN_O_* options above (stored
 * in sa), 0 when it is not, -1 after a one-line error (a bad --digest or --wait; the
 * command returns CTL_E_USAGE). cmd names the command in messages ("sign"). */
int sign_opt(int c, const char *cmd, struct sign_args *sa);

#endif
