/* ctlsign - the officer side: tokens, the CTL ceremony, signing TFTP files (SPEC §4). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "tool.h"
#include "sign.h"

static const struct tool_cmd commands[] = {
	{"token", cmd_token, "tokens: list, passwd, provision, sign, wait"},
	{"ctl", cmd_ctl, "create, update, delete tokens from, or show the CTL"},
	{"itl", cmd_itl, "create the ITL, signed by the TFTP server's token"},
	{"audit", cmd_audit, "print the signing audit log"},
	{"sign", cmd_sign, "sign TFTP files (.sgn), one by one or a whole directory"},
	{"encrypt", cmd_encrypt, "encrypt device configs to a phone (.enc.sgn + minimal .sgn)"},
	{NULL, NULL, NULL},
};

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
