/* ctlverify - the device side: read, check and trust CTLs and signed files (SPEC §5). */
#include "tool.h"
#include "verify.h"

static const struct tool_cmd commands[] = {
	{"show", cmd_show, "print every header field and record of a file (--json)"},
	{"check", cmd_check, "check a file's signature (CTL/ITL: its own SAST; .sgn: --cert)"},
	{NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	return tool_dispatch("ctlverify", commands, argc, argv);
}
