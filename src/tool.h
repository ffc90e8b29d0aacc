/*
 * tool.h - what every ctlsign/ctlverify subcommand shares: dispatch, uniform option
 * parsing (getopt_long, --help everywhere), one-line errors, --json output.
 *
 * A subcommand is `int cmd_NAME(int argc, char **argv)` (argv[0] is the subcommand name)
 * and returns an exit code from enum ctl_status.
 */
#ifndef CTL_TOOL_H
#define CTL_TOOL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

#include "ctl.h"

struct tool_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

/* Program name for messages ("ctlsign", "ctlverify"). */
extern const char *tool_prog;

/* Runs argv[1] from cmds; handles --help/-h/help/--version and unknown commands. */
int tool_dispatch(const char *prog, const struct tool_cmd *cmds, int argc, char **argv);

/* ---- options: declared once, parsed and listed in --help from the same table ----
 *
 * A command declares each option once, as a struct tool_opt: the value tool_opt_next
 * returns for it, the long name, the argument's name (NULL for a flag) and the help line.
 * tool_opt_next builds getopt_long's table and the short-option string from those tables,
 * and --help prints the command's hand-written `usage` (usage lines and paragraph), then
 * "options:" and one line per option, generated, then the optional `footer`.
 *
 * Values, the one convention in both programs: an option with a short form has that
 * letter as its value ('o' is -o and --output); a long-only option has a value from
 * TOOL_OPT_BASE up (a command's own enum starts there, or at SIGN_O_OWN in ctlsign,
 * after the shared fragments' values, sign.h). Two entries with one value are aliases;
 * an entry whose help is NULL is accepted but not listed (an old spelling).
 *
 * Options shared by several commands are declared once: as a fragment (an array ending
 * with TOOL_OPT_END: ctlsign's sign_opts_signer, sign_opts_cluster, sign_opts_ceremony in
 * sign.h) or as one entry (SIGN_OPT_MODULE, V_OPT_STORE(help) in verify.h), with a
 * function that takes their values (sign_opt, verify_opt). A command lists the tables
 * it takes, its own among them, in help order:
 *
 *	enum { O_CTL = SIGN_O_OWN, O_ALL };
 *	static const struct tool_opt own[] = {
 *		{'o', "out", "DIR", "write the .sgn files into DIR"},
 *		{O_CTL, "ctl", "FILE", "the cluster's CTL"},
 *		{O_ALL, "all", NULL, "re-sign unchanged files too"},
 *		SIGN_OPT_JSON("summary as JSON on stdout"),
 *		TOOL_OPT_END,
 *	};
 *	static const struct tool_opt *const opts[] = {sign_opts_signer, own, NULL};
 *	static const char usage[] = "usage: ctlsign thing [options] FILE\n\nWhat it does.\n";
 *
 *	struct tool_args a = {.argc = argc, .argv = argv, .usage = usage, .opts = opts};
 *	struct sign_args sa;
 *
 *	sign_args_init(&sa);
 *	while ((c = tool_opt_next(&a)) != -1) {
 *		int took = sign_opt(c, "thing", &sa); // the shared options, handled once
 *		if (took < 0)
 *			return CTL_E_USAGE;           // a bad value: its line is printed
 *		if (took > 0)
 *			continue;
 *		switch (c) {
 *		case 'o': out = optarg; break;
 *		case O_CTL: ...
 *		default: return CTL_E_USAGE;          // '?': the one-line error is printed
 *		}
 *	}
 *	if (a.help_shown)
 *		return CTL_OK;
 *	// operands: argv[optind] .. argv[argc - 1]; sa.key, sa.module, sa.hash ...
 *
 * An option the command does not declare is refused: "CMD: option '--x' is not known;
 * see 'PROG CMD --help'" on stderr, exit 2 (getopt_long still takes a unique prefix of a
 * declared one: --out for --output). tool_opt_next resets getopt (optind) on its first
 * call for a struct tool_args: commands never touch optind. --help is added to every
 * command. The help's width is 90 columns; a help line is wrapped to fit. */
#define TOOL_OPT_BASE 0x100
#define TOOL_OPT_MAX 64 /* options (with aliases) one command may have */

struct tool_opt {
	int val;          /* what tool_opt_next returns; a letter is also the short option */
	const char *name; /* long name without "--" */
	const char *arg;  /* argument name in the help ("FILE"); NULL: a flag without value */
	const char *help; /* the help line (wrapped to the terminal-friendly width when
			   * printed; "\n" forces a line break); NULL: an unlisted alias */
};
#define TOOL_OPT_END {0, NULL, NULL, NULL}

/* Option parsing for a command declared with tool_opt tables. Fill argc, argv, usage,
 * opts (and footer); leave the rest zero. Returns the option's val, -1 at the end (or
 * after --help was printed to stdout: help_shown, the command returns CTL_OK), or '?'
 * after printing a one-line error (the command then returns CTL_E_USAGE). The operands
 * are argv[optind] .. argv[argc - 1] afterwards. */
struct tool_args {
	int argc;
	char **argv;
	const char *usage;		    /* hand-written: usage line(s), blank line, paragraph */
	const struct tool_opt *const *opts; /* NULL-terminated list of option tables */
	const char *footer;		    /* printed after the option list (exit codes), or NULL */
	bool help_shown;
	bool started;			    /* private: getopt was reset for this parse */
};
int tool_opt_next(struct tool_args *a);
/* After the options, for a command that takes exactly one operand: that operand, or NULL
 * after the one-line "CMD: give exactly one WHAT; see 'PROG CMD --help'" (the command
 * returns CTL_E_USAGE). */
const char *tool_one_operand(const struct tool_args *a, const char *what);

/* The help text of a command: usage, "options:" and the generated list (one line per
 * listed option, "-o, --output OUT" or "--name ARG", the help wrapped in a column),
 * footer. tool_opt_next prints it to stdout for --help; unit tests read it. */
void tool_print_help(FILE *fp, const struct tool_args *a);

/* Prints "prog: message" to stderr and returns err->code (CTL_E_INTERNAL if 0). */
int tool_report(const struct ctl_err *err);
/* printf-style one-line error to stderr; returns code. */
int tool_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints a json-c object as one pretty line-terminated document to stdout, then frees it. */
void tool_json_print(struct json_object *obj);
/* Hex string of bytes as a json string. */
struct json_object *tool_json_hex(const uint8_t *data, size_t len);

/* Parses an unsigned decimal with bounds; 0 on error (sets err CTL_E_USAGE). */
int tool_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out,
		    const char *what, struct ctl_err *err);

/* ---- signals (ctlsign) ----
 *
 * tool_signals_init ignores SIGPIPE (a closed stdout, `ctlsign ctl update ... | head`,
 * ends the report quietly: writes fail with EPIPE, the operation goes on and keeps its exit
 * code) and makes SIGINT, SIGTERM and SIGHUP cancel the run with exit 12, at once: the
 * lock files registered with tool_cancel_lock are removed and a line says so. (The no-echo
 * PIN prompt restores the terminal first: tokens/token_pin.c.)
 *
 * Inside a deferred section (tool_defer_begin/end, nested; any thread) a signal is only
 * recorded: publishing (audit intent, renames, audit outcome) is never cut in half. The
 * outermost tool_defer_end acts on a recorded signal (exit 12), unless the code inside
 * took it over with tool_cancel_handled (it stops on tool_cancelled() and returns 12
 * itself, e.g. after printing what was done). */
void tool_signals_init(void);
/* DIR/NAME (a lock file, removed only while it holds this process's PID) and DIR/TMP (the
 * name it has while it is being taken, ours by its name; may be NULL) are removed when a
 * signal cancels the run. The locker registers them before it takes the lock (publish.c
 * does for every .ctlsign.lock). 0 when out of memory or registrations. */
int tool_cancel_lock(const char *dir, const char *name, const char *tmp);
void tool_defer_begin(void);
void tool_defer_end(void);
/* The signal that asked to cancel (SIGINT...), 0 if none. */
int tool_cancelled(void);
/* The code in a deferred section acted on the signal itself: the outermost
 * tool_defer_end does not. */
void tool_cancel_handled(void);
/* "SIGINT", "SIGTERM", "SIGHUP", else "a signal". */
const char *tool_signal_name(int sig);

#endif
