/* cmd_install.c - ctlverify install: put a CTL or ITL into the device's trust store. */
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "tool.h"
#include "verify.h"

static const char usage[] =
	"usage: ctlverify install --store DIR [--expect-sast FP]... [--wait SECONDS] [--json] FILE\n"
	"\n"
	"Installs a CTL (CTLFile.tlv) or ITL (ITLFile.tlv) into the trust store DIR the way a\n"
	"phone does:\n"
	"  - the first CTL is trusted on first use (a loud warning says so), or pinned: with\n"
	"    --expect-sast its signer's certificate must have one of the given SHA-256 or SHA-1\n"
	"    fingerprints (hex, colons allowed; repeat the option for several);\n"
	"  - a later CTL only if signed by a SAST listed in the held CTL, and not older;\n"
	"  - an ITL, when no CTL is held, on first sight (verified against its own signer\n"
	"    record) - never while --expect-sast is given; otherwise its signer must be a TFTP\n"
	"    or CCM+TFTP record of the held CTL;\n"
	"  - a CTL or ITL dated more than 24 hours ahead of this device's clock is refused;\n"
	"  - a new CTL judges the held ITL again: unless the new CTL lists its signer as TFTP\n"
	"    or CCM+TFTP, the ITL is dropped (a warning says so; 'ctlverify status' shows it).\n"
	"A refused file leaves the store unchanged. Prints one decision line (or --json).\n"
	"Another process installing into the same store at the same moment is waited for\n"
	"(--wait, default 10 seconds), then exit code 12 names its PID.\n";

static const struct tool_opt install_opts[] = {
	V_OPT_STORE("the trust store (the device's flash); created if missing"),
	V_OPT_EXPECT_SAST("pin the first CTL's signer (SHA-256 or SHA-1 fingerprint)"),
	V_OPT_WAIT,
	V_OPT_JSON("machine-readable decision"),
	TOOL_OPT_END,
};
static const struct tool_opt *const opts[] = {install_opts, NULL};

int cmd_install(int argc, char **argv)
{
	struct tool_args g = {.argc = argc, .argv = argv, .usage = usage, .opts = opts};
	struct verify_args va;
	struct ctl_buf buf = {0};
	struct dev_out out;
	ctlv_store *s = NULL;
	int rc;

	if ((rc = verify_parse(&g, &va)) != CTL_OK)
		return rc;
	if (g.help_shown)
		return CTL_OK;
	if (!tool_one_operand(&g, "FILE"))
		return CTL_E_USAGE;
	rc = verify_store_open(&va, "install", &s);
	if (rc != CTL_OK)
		return rc;
	dev_out_init(&out, va.json, false);
	if (dev_read(&out, argv[optind], &buf) == CTL_OK)
		dev_decide(&out, s, argv[optind], ctlv_install(s, buf.data, buf.len, 0));
	rc = dev_out_finish(&out);
	ctl_buf_clear(&buf);
	ctlv_store_free(s);
	return rc;
}
