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

/* Uniform option parsing for subcommands. `usage` is the whole help text (printed on
 * --help to stdout, exit 0). Options are getopt_long long options; --help is added
 * automatically. Returns the option's val, -1 at the end, or '?' after printing a
 * one-line error (the caller then returns CTL_E_USAGE). */
struct tool_getopt {
	int argc;
	char **argv;
	const struct option *longopts;
	const char *shortopts;
	const char *usage;
	bool help_shown;
};
int tool_getopt(struct tool_getopt *g);

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
