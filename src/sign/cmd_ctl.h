/*
 * cmd_ctl.h - what the files of `ctlsign ctl` share (not a library interface):
 *   cmd_ctl.c           the entry point, the table of operations, each operation's options
 *   cmd_ctl_run.c       create, update and delete-token: one run, phase by phase
 *   cmd_ctl_anchor.c    whether the current CTL may be the base of a change (anchors a-c),
 *                       and whether the output directories hold the same CTL
 *   cmd_ctl_diff.c      ctl diff
 *   cmd_ctl_show.c      ctl show
 *   cmd_ctl_ceremony.c  the token ceremony on the officer's terminal (prompts, waiting)
 */
#ifndef CTL_SIGN_CMD_CTL_H
#define CTL_SIGN_CMD_CTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "ceremony.h"
#include "cluster.h"
#include "ctldiff.h"
#include "ctlmake.h"
#include "publish.h"
#include "sign.h"
#include "token.h"

#define MAX_URIS 16
/* ctl diff --exit-code: the CTL would change (README's exit code table: 14) */
#define CTL_EXIT_DIFFERENCES 14

/* The operations that sign (create, update, delete-token) and diff, which shares their
 * options and checks. */
enum op { OP_CREATE = 1, OP_UPDATE, OP_DELETE, OP_DIFF };

struct ctl_opts {
	int op;
	/* the shared options: cluster, module, audit_log, yes, json, final_try, strict,
	 * wait_s (--token and --pin are ctl's own, below; key and hash are not taken) */
	struct sign_args sa;
	const char *current, *selector;
	/* --pin belongs to the nearest --token / --add-token before it (issue 12) */
	const char *tokens[MAX_URIS], *token_pins[MAX_URIS], *adds[MAX_URIS], *add_pins[MAX_URIS];
	size_t ntokens, nadds;
	const char *ceremony_pin;  /* a --pin with no --token/--add-token at all: the signer's */
	char trust_current[65];  /* --trust-current, lowercase; "" if not given */
	int mode;            /* -1: the cluster file's */
	bool force, exit_code;
	int timeout_ms;
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
	/* the phases of a run (cmd_ctl_run.c) */
	char curpath[4096];           /* the current CTL: --current, else the first output's */
	long deleted;                 /* delete-token: the index of the record removed, else -1 */
	int mode;                     /* the security mode of the result */
	bool replacing;               /* create over an existing CTL (--force) */
	struct publish_result *results;
};

/* The ctl operations' own options (values after ctlsign's shared ones, sign.h); each
 * operation lists those it takes in its table, the shared fragments beside them. */
enum ctl_opt {
	CTL_O_ADD_TOKEN = SIGN_O_OWN,
	CTL_O_CURRENT,
	CTL_O_MODE,
	CTL_O_TRUST_CURRENT,
	CTL_O_TIMEOUT,
	CTL_O_FORCE,
	CTL_O_EXIT_CODE,
};
#define CTL_OPT_CURRENT                                                                    \
	{CTL_O_CURRENT, "current", "FILE",                                                 \
	 "the current CTL (default: first output directory's CTLFile.tlv)"}
#define CTL_OPT_TIMEOUT                                                                    \
	{CTL_O_TIMEOUT, "timeout", "SEC", "give up waiting for a token after SEC seconds"}

/* cmd_ctl.c: the options of one operation (o->op set): opts its tables, usage its
 * hand-written help (usage lines, paragraph); --token, --add-token and --pin in their
 * order (a --pin belongs to the one before it), the shared options through sign_opt.
 * CTL_OK or the exit code after printing why; *help: --help was shown. */
/* ctl diff's option tables (cmd_ctl.c, beside the other operations'). */
extern const struct tool_opt *const ctlcmd_diff_opts[];
int ctlcmd_parse(int argc, char **argv, const struct tool_opt *const *opts, const char *usage,
		 struct ctl_opts *o, bool *help);
/* No argument after the options (else exit 2, "unexpected argument"). */
int ctlcmd_no_args(int argc, char **argv);
/* --cluster was given (else exit 2). */
int ctlcmd_need_cluster(const struct ctl_opts *o);

/* cmd_ctl_run.c */
int ctlcmd_run(const struct ctl_opts *o);
void ctlcmd_state_free(struct ctl_state *s);
/* The security mode of the result (--mode, the cluster file's, or the current CTL's). */
int ctlcmd_decide_mode(struct ctl_state *s, const struct ctl_opts *o, const char *curpath,
		       int *mode, struct ctl_err *err);
/* The records of the result: the current CTL's SAST records (but `deleted`), the tokens
 * added, the cluster file's servers. */
int ctlcmd_build_records(struct ctl_state *s, const struct ctl_opts *o, int mode,
			 long deleted, struct ctl_err *err);
/* The plan before signing (also ctl diff's). */
void ctlcmd_print_plan(FILE *fp, const struct ctl_state *s, const struct ctl_opts *o,
		       const char *curpath, const char *title);

/* cmd_ctl_anchor.c */
int ctlcmd_load_current(const char *path, struct ctl_file **out, struct ctl_err *err);
const char *ctlcmd_cur_signer_name(const struct ctl_state *s);
int ctlcmd_anchor_load(struct ctl_state *s, const struct ctl_opts *o, struct ctl_err *err);
void ctlcmd_anchor_by_token(struct ctl_state *s, const struct ctl_opts *o);
int ctlcmd_anchor_check(struct ctl_state *s, const struct ctl_opts *o, const char *curpath,
			bool tokens_checked, struct ctl_err *err);
void ctlcmd_anchor_status(const struct ctl_state *s, const struct ctl_opts *o, char *buf,
			  size_t n);
int ctlcmd_check_outputs_level(struct ctl_state *s, const struct ctl_opts *o,
			       bool tokens_checked, struct ctl_err *err);

/* cmd_ctl_ceremony.c: the ceremony on this terminal (stdin must be one); the tokens of the
 * current CTL cur (NULL for create) are the known ones. */
int ctlcmd_ceremony_tty(struct ceremony *cer, struct token_module *m, int timeout_ms,
			const struct ctl_file *cur, struct ctl_err *err);
/* A yes/no question on the terminal: 1 yes, 0 no, -1 no answer. */
int ctlcmd_ask_yes_no(const char *q);
/* Before publishing: CTL_OK with --yes (yes) or a "y" on the terminal; no terminal:
 * CTL_E_USAGE (check SHOWN above, pass --yes); anything else: CTL_E_CANCELLED. kind:
 * "CTL" or "ITL". */
int ctlcmd_confirm_publish(bool yes, const char *kind, const char *shown, size_t ndirs,
			   struct ctl_err *err);

/* cmd_ctl_diff.c, cmd_ctl_show.c: the operations that do not sign */
int cmd_ctl_diff(int argc, char **argv);
int cmd_ctl_show(int argc, char **argv);

#endif
