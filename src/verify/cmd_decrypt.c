/* cmd_decrypt.c - ctlverify decrypt: open an .enc.sgn without a trust store. */
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "tool.h"
#include "verify.h"

static const char usage[] =
	"usage: ctlverify decrypt --key DEVICE-KEY [--cert SIGNER-CERT] [-o OUT] [--json]\n"
	"                         FILE.enc.sgn\n"
	"\n"
	"Decrypts an encrypted configuration (.enc.sgn) with the device's RSA private key. With\n"
	"--cert the signature is verified with that certificate first, and nothing is decrypted\n"
	"if it does not verify; without it a warning says the signature was not checked. No\n"
	"trust store is used. The plaintext goes to OUT (atomically) or, without -o, to stdout.\n";

enum { O_KEY = V_O_OWN };
static const struct tool_opt decrypt_opts[] = {
	{O_KEY, "key", "KEY", "the device's private key (PEM or DER)"},
	{O_KEY, "device-key", "KEY", "the same as --key (the name config and boot give it)"},
	V_OPT_CERT("CERT", "the signer's certificate (PEM or DER)"),
	V_OPT_OUTPUT("OUT", "where to write the plaintext"),
	V_OPT_JSON("machine-readable decision (needs -o)"),
	TOOL_OPT_END,
};
static const struct tool_opt *const opts[] = {decrypt_opts, NULL};

int cmd_decrypt(int argc, char **argv)
{
	struct tool_args g = {.argc = argc, .argv = argv, .usage = usage, .opts = opts};
	const char *key = NULL, *outpath;
	struct verify_args va;
	struct ctl_buf buf = {0};
	struct dev_out out;
	ctlv_store *s = NULL;
	uint8_t *plain = NULL;
	size_t plen = 0;
	int c, rc;

	verify_args_init(&va);
	while ((c = tool_opt_next(&g)) != -1) {
		if (c == O_KEY)
			key = optarg;
		else if (verify_opt(c, "decrypt", &va) <= 0)
			return CTL_E_USAGE;
	}
	outpath = va.output;
	if (g.help_shown)
		return CTL_OK;
	if (!tool_one_operand(&g, "FILE"))
		return CTL_E_USAGE;
	if (!key)
		return tool_fail(CTL_E_USAGE, "decrypt: give the device's private key with --key FILE");
	if (va.json && (!outpath || !strcmp(outpath, "-")))
		return tool_fail(CTL_E_USAGE, "decrypt: --json needs -o OUT (the plaintext cannot share stdout)");
	if (!outpath)
		outpath = "-";
	s = ctlv_store_new();
	if (!s)
		return tool_fail(CTL_E_INTERNAL, "out of memory");
	dev_out_init(&out, va.json, false);
	if (dev_read(&out, argv[optind], &buf) != CTL_OK)
		goto finish;
	rc = ctlv_decrypt_file(s, buf.data, buf.len, va.cert, key, &plain, &plen);
	if (rc == CTLV_OK && dev_write_output(&out, argv[optind], outpath, plain, plen) != CTL_OK)
		goto finish;
	if (strcmp(outpath, "-") != 0 || rc != CTLV_OK)
		dev_decide(&out, s, argv[optind], rc);
	else if (ctlv_last_warning(s)[0])
		tool_fail(0, "WARNING: %s: %s", argv[optind], ctlv_last_warning(s));
finish:
	rc = dev_out_finish(&out);
	ctlv_free(plain, plen);
	ctl_buf_clear(&buf);
	ctlv_store_free(s);
	return rc;
}
