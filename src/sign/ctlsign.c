/* ctlsign - the officer side: tokens, the CTL ceremony, signing TFTP files (SPEC §4). */
#include "tool.h"
#include "sign.h"

static const struct tool_cmd commands[] = {
	{"token", cmd_token, "tokens: list, passwd, provision, sign, wait"},
	{"ctl", cmd_ctl, "create, update, delete tokens from, or show the CTL"},
	{"audit", cmd_audit, "print the signing audit log"},
	{"sign", cmd_sign, "sign TFTP files (.sgn), one by one or a whole directory"},
	{"encrypt", cmd_encrypt, "encrypt device configs to a phone (.enc.sgn + minimal .sgn)"},
	{NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return tool_dispatch("ctlsign", commands, argc, argv);
}
