/* cmd_config.c - ctlverify config: accept a signed (.sgn) or encrypted (.enc.sgn) file. */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "tool.h"
#include "verify.h"

static const char usage[] =
	"usage: ctlverify config --store DIR [--name REQUESTED] [--device-key KEY] [-o OUT]\n"
	"                        [--json] FILE.sgn|FILE.enc.sgn\n"
	"\n"
	"Accepts a signed device file the way a phone does: the signer must be a TFTP or\n"
	"CCM+TFTP record of the held CTL or ITL, and the file name in the signed header must be\n"
	"the requested name (default: FILE's base name). An .enc.sgn is verified first, then\n"
	"decrypted with the device's private key. The payload is written only when accepted.\n";

enum { O_NAME = V_O_OWN };
static const struct tool_opt config_opts[] = {
	V_OPT_STORE("the trust store (see 'ctlverify install')"),
	{O_NAME, "name", "REQUESTED", "the name the device asked for (e.g. SEP001122334455.cnf.xml.sgn)"},
	V_OPT_DEVICE_KEY("the device's RSA private key (PEM/DER), for .enc.sgn"),
	V_OPT_OUTPUT("OUT", "write the accepted payload to OUT (atomically; '-' = stdout)"),
	V_OPT_JSON("machine-readable decision"),
	TOOL_OPT_END,
};
static const struct tool_opt *const opts[] = {config_opts, NULL};

int cmd_config(int argc, char **argv)
{
	struct tool_args g = {.argc = argc, .argv = argv, .usage = usage, .opts = opts};
	const char *name = NULL;
	struct verify_args va;
	struct ctl_buf buf = {0};
	struct dev_out out;
	ctlv_store *s = NULL;
	uint8_t *payload = NULL;
	size_t plen = 0;
	char *copy = NULL;
	int c, rc;

	verify_args_init(&va);
	while ((c = tool_opt_next(&g)) != -1) {
		if (c == O_NAME)
			name = optarg;
		else if (verify_opt(c, "config", &va) <= 0)
			return CTL_E_USAGE;
	}
	if (g.help_shown)
		return CTL_OK;
	if (!tool_one_operand(&g, "FILE"))
		return CTL_E_USAGE;
	if (va.json && va.output && !strcmp(va.output, "-"))
		return tool_fail(CTL_E_USAGE, "config: --json and -o - both want stdout; pick one");
	if (!name) {
		copy = strdup(argv[optind]);
		if (!copy)
			return tool_fail(CTL_E_INTERNAL, "out of memory");
		name = basename(copy);
	}
	rc = dev_store_open(va.store, &s);
	if (rc != CTL_OK)
		goto done;
	dev_out_init(&out, va.json, false);
	if (dev_read(&out, argv[optind], &buf) != CTL_OK)
		goto finish;
	rc = ctlv_verify_file(s, buf.data, buf.len, name, va.device_key, &payload, &plen);
	if (rc == CTLV_OK && va.output &&
	    dev_write_output(&out, argv[optind], va.output, payload, plen) != CTL_OK)
		goto finish;
	dev_decide(&out, s, argv[optind], rc);
finish:
	rc = dev_out_finish(&out);
done:
	ctlv_free(payload, plen);
	ctl_buf_clear(&buf);
	ctlv_store_free(s);
	free(copy);
	return rc;
}
