/* verify.h - ctlverify's subcommands. */
#ifndef CTL_VERIFY_H
#define CTL_VERIFY_H

#include <stdio.h>

#include <json-c/json.h>

#include "ctl.h"
#include "tool.h"

/* Options several ctlverify commands take: one value and one spelling each (tool.h); the
 * command gives the help line, which says what the option means there. A command's own
 * options take values from V_O_OWN up. */
enum verify_opt {
	V_O_STORE = TOOL_OPT_BASE, V_O_JSON, V_O_CERT, V_O_DEVICE_KEY, V_O_EXPECT_SAST, V_O_WAIT,
	V_O_TIMEOUT, V_O_OWN
};
#define V_OPT_STORE(help) {V_O_STORE, "store", "DIR", help}
#define V_OPT_JSON(help) {V_O_JSON, "json", NULL, help}
#define V_OPT_CERT(arg, help) {V_O_CERT, "cert", arg, help}
#define V_OPT_DEVICE_KEY(help) {V_O_DEVICE_KEY, "device-key", "KEY", help}
#define V_OPT_OUTPUT(arg, help) {'o', "output", arg, help}
#define V_OPT_TIMEOUT(help) {V_O_TIMEOUT, "timeout", "SECONDS", help}
/* install and boot: the first CTL's pin and the store's lock */
#define V_OPT_EXPECT_SAST(help) {V_O_EXPECT_SAST, "expect-sast", "FP", help}
#define V_OPT_WAIT {V_O_WAIT, "wait", "SECONDS", "how long to wait for the store's lock (0-3600, default 10)"}

struct ctlv_store;

/* What the shared options gave (ctlverify.c). */
#define V_MAX_EXPECT_SAST 16
struct verify_args {
	const char *store, *cert, *device_key, *output;
	bool json;
	long timeout; /* --timeout (1-300); 0 when not given */
	long wait_s;  /* --wait (0-3600); -1 when not given */
	const char *pins[V_MAX_EXPECT_SAST]; /* --expect-sast, in order */
	size_t npins;
};
void verify_args_init(struct verify_args *va);
/* c, a value from tool_opt_next: 1 when it is one of the V_O_* options or -o (stored in
 * va), 0 when it is not, -1 after a one-line error (a bad value; the command returns
 * CTL_E_USAGE). cmd names the command in messages ("install"). */
int verify_opt(int c, const char *cmd, struct verify_args *va);
/* The whole option loop of a command that takes only the shared options: CTL_OK (check
 * g->help_shown) or CTL_E_USAGE after the one-line error. */
int verify_parse(struct tool_args *g, struct verify_args *va);
/* install, boot: the store (--store, waiting --wait for its lock) with the --expect-sast
 * pins set; an error is reported ("CMD: ...") and returned. */
int verify_store_open(const struct verify_args *va, const char *cmd, struct ctlv_store **out);

int cmd_show(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_strip(int argc, char **argv);
int cmd_certhash(int argc, char **argv);

/* device side (trust store, boot, CTI check) */
int cmd_install(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_decrypt(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_boot(int argc, char **argv);
int cmd_tls(int argc, char **argv);

/* The walk behind `show` (src/show.c, shared with ctlsign; also driven by the fuzz target). */
#include "show.h"

#endif
