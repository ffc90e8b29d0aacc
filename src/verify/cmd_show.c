/* cmd_show.c - `ctlverify show FILE [--json]`: what the file is, every header field and
 * every record, readable or as JSON. Nothing is verified here (see `check`). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>

#include "tool.h"
#include "verify.h"

static const char usage[] =
	"usage: ctlverify show FILE [--json]\n"
	"\n"
	"Prints what FILE is (CTL, ITL, .sgn, .enc.sgn, signed firmware), every header field\n"
	"and, for CTL/ITL, every record: role, subject, issuer, serial, DNS name, IP,\n"
	"certificate SHA-1 and SHA-256 fingerprints, key type and size, validity and whether\n"
	"it has expired; for a CTL also its security mode (mixed when a server record carries\n"
	"a certificate, else non-secure). Records of real clusters may leave fields out.\n"
	"Does not check the signature: use 'ctlverify check'.\n";

static const struct tool_opt show_opts[] = {
	V_OPT_JSON("print one JSON document instead"),
	TOOL_OPT_END,
};
static const struct tool_opt *const opts[] = {show_opts, NULL};

int cmd_show(int argc, char **argv)
{
	struct tool_args g = {.argc = argc, .argv = argv, .usage = usage, .opts = opts};
	struct ctl_err err = {0};
	struct ctl_file *f = NULL;
	struct verify_args va;
	int rc;

	if ((rc = verify_parse(&g, &va)) != CTL_OK)
		return rc;
	if (g.help_shown)
		return CTL_OK;
	if (!tool_one_operand(&g, "FILE"))
		return CTL_E_USAGE;
	if (ctl_parse_file(argv[optind], &f, &err))
		return tool_report(&err);
	if (va.json)
		tool_json_print(show_json(argv[optind], f));
	else
		show_text(stdout, argv[optind], f);
	ctl_file_free(f);
	return CTL_OK;
}
