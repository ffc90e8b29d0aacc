/* ctlverify - the device side: read, check and trust CTLs and signed files (SPEC §5). */
#include "tool.h"
#include "verify.h"

static const struct tool_cmd commands[] = {
	{"show", cmd_show, "print every header field and record of a file (--json)"},
	{"check", cmd_check, "check a file's signature (CTL/ITL: its own SAST; .sgn: --cert)"},
	{"strip", cmd_strip, "write a signed file's payload without its header (.sgn, signed firmware)"},
	{"certhash", cmd_certhash, "base64 SHA-1/SHA-256/SHA-512 hash of a certificate (as 'certhash')"},
	{"install", cmd_install, "install a CTL or ITL into the trust store (TOFU or --expect-sast)"},
	{"config", cmd_config, "accept a .sgn/.enc.sgn signed by a TFTP record of the held CTL/ITL"},
	{"decrypt", cmd_decrypt, "decrypt an .enc.sgn with the device key (verify with --cert first)"},
	{"status", cmd_status, "what the trust store holds, since when, signed by whom"},
	{"boot", cmd_boot, "boot like a phone over TFTP: CTL, ITL, SEP<MAC>.cnf.xml[.enc].sgn"},
	{"tls", cmd_tls, "CTI/JTAPI: check a CTI manager's TLS certificate against the CTL"},
	{NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return tool_dispatch("ctlverify", commands, argc, argv);
}
