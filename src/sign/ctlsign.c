/* ctlsign - the officer side: tokens, the CTL ceremony, signing TFTP files (SPEC §4). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "ctl.h"
#include "publish.h"
#include "sign.h"
#include "tool.h"

static const struct tool_cmd commands[] = {
	{"token", cmd_token, "tokens: list, passwd, provision, sign, wait"},
	{"ctl", cmd_ctl, "create, update, delete tokens from, or show the CTL"},
	{"itl", cmd_itl, "create the ITL, signed by the TFTP server's token"},
	{"audit", cmd_audit, "print the signing audit log"},
	{"sign", cmd_sign, "sign TFTP files (.sgn), one by one or a whole directory"},
	{"encrypt", cmd_encrypt, "encrypt device configs to a phone (.enc.sgn + minimal .sgn)"},
	{NULL, NULL, NULL},
};

/* ---- the options several commands share (sign.h) ---- */

const struct tool_opt sign_opts_signer[] = {
	{SIGN_O_KEY, "key", "URI", "PKCS#11 URI of the token/key (default: the only token)"},
	SIGN_OPT_MODULE,
	{SIGN_O_PIN, "pin", "SOURCE", "env:VAR, file:PATH or fd:N (default: URI pin-source, else prompt)"},
	SIGN_OPT_FINAL_TRY,
	{SIGN_O_DIGEST, "digest", "ALG", "sha512 (default), sha256 or sha1"},
	SIGN_OPT_AUDIT_LOG,
	TOOL_OPT_END,
};

const struct tool_opt sign_opts_cluster[] = {
	{SIGN_O_CLUSTER, "cluster", "FILE", "the cluster description (INI)"},
	{SIGN_O_STRICT, "strict", NULL,
	 "refuse (exit 9) a server certificate that is expired or not yet valid, or that "
	 "names neither the host as CN nor in its SAN (without: a warning)"},
	TOOL_OPT_END,
};

const struct tool_opt sign_opts_ceremony[] = {
	SIGN_OPT_MODULE,
	{SIGN_O_YES, "yes", NULL, "do not ask for confirmation (needed without a terminal)"},
	SIGN_OPT_AUDIT_LOG,
	{SIGN_O_WAIT, "wait", "SEC",
	 "wait up to SEC seconds (default 10) for another run's lock (.ctlsign.lock in each "
	 "output directory), then exit 12"},
	SIGN_OPT_FINAL_TRY,
	TOOL_OPT_END,
};

void sign_args_init(struct sign_args *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->wait_s = PUBLISH_WAIT_DEFAULT;
}

int sign_opt(int c, const char *cmd, struct sign_args *sa)
{
	struct ctl_err err = {0};

	switch (c) {
	case SIGN_O_KEY: sa->key = optarg; return 1;
	case SIGN_O_TOKEN: sa->token = optarg; return 1;
	case SIGN_O_MODULE: sa->module = optarg; return 1;
	case SIGN_O_PIN: sa->pin = optarg; return 1;
	case SIGN_O_FINAL_TRY: sa->final_try = true; return 1;
	case SIGN_O_AUDIT_LOG: sa->audit_log = optarg; return 1;
	case SIGN_O_CLUSTER: sa->cluster = optarg; return 1;
	case SIGN_O_STRICT: sa->strict = true; return 1;
	case SIGN_O_YES: sa->yes = true; return 1;
	case SIGN_O_JSON: sa->json = true; return 1;
	case SIGN_O_DIGEST:
		if (!(sa->hash = ctl_hash_from_name(optarg))) {
			tool_fail(CTL_E_USAGE, "%s: --digest must be sha512, sha256 or sha1 (got '%s')",
				  cmd, optarg);
			return -1;
		}
		if (sa->hash == CTL_HASH_SHA256)
			fprintf(stderr, "ctlsign: warning: --digest sha256 (hash code 2) may be refused by phones and other tools (the vendor's files use sha1 or sha512); prefer sha512\n");
		return 1;
	case SIGN_O_WAIT:
		if (!tool_parse_uint(optarg, 0, 86400, &sa->wait_s, "--wait", &err)) {
			tool_report(&err);
			return -1;
		}
		return 1;
	default: return 0;
	}
}

int main(int argc, char **argv)
{
	/* PINs pass through this process: no core dump
	 * of it, and no ptrace or /proc/PID/mem by other processes of the same user, for the
	 * whole run (tests/ctl/ctl-dumpable.sh checks it while PINs are held). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		fprintf(stderr, "ctlsign: cannot make the process non-dumpable (prctl: %s); "
				"not handling PINs in a process that can be dumped\n",
			strerror(errno));
		return 1;
	}
	/* Ctrl-C, SIGTERM, SIGHUP: exit 12 at once (locks removed), but never in the middle
	 * of publishing; a closed stdout ends the report, not the run (tool.h). */
	tool_signals_init();
	return tool_dispatch("ctlsign", commands, argc, argv);
}
