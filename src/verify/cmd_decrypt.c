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
	"trust store is used. The plaintext goes to OUT (atomically) or, without -o, to stdout.\n"
	"\n"
	"  --key KEY            the device's private key (PEM or DER)\n"
	"  --cert CERT          the signer's certificate (PEM or DER)\n"
	"  -o, --output OUT     where to write the plaintext\n"
	"  --json               machine-readable decision (needs -o)\n";

int cmd_decrypt(int argc, char **argv)
{
	static const struct option opts[] = {
		{"key", required_argument, NULL, 'k'},
		{"device-key", required_argument, NULL, 'k'},
		{"cert", required_argument, NULL, 'c'},
		{"output", required_argument, NULL, 'o'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	struct tool_getopt g = {.argc = argc, .argv = argv, .longopts = opts, .shortopts = "o:",
				.usage = usage};
	const char *key = NULL, *cert = NULL, *outpath = NULL;
	bool json = false;
	struct ctl_buf buf = {0};
	struct dev_out out;
	ctlv_store *s = NULL;
	uint8_t *plain = NULL;
	size_t plen = 0;
	int c, rc;

	optind = 1;
	while ((c = tool_getopt(&g)) != -1) {
		switch (c) {
		case 'k': key = optarg; break;
		case 'c': cert = optarg; break;
		case 'o': outpath = optarg; break;
		case 'j': json = true; break;
		default: return CTL_E_USAGE;
		}
	}
	if (g.help_shown)
		return CTL_OK;
	if (optind != argc - 1)
		return tool_fail(CTL_E_USAGE, "decrypt: give exactly one FILE; see 'ctlverify decrypt --help'");
	if (!key)
		return tool_fail(CTL_E_USAGE, "decrypt: give the device's private key with --key FILE");
	if (json && (!outpath || !strcmp(outpath, "-")))
		return tool_fail(CTL_E_USAGE, "decrypt: --json needs -o OUT (the plaintext cannot share stdout)");
	if (!outpath)
		outpath = "-";
	s = ctlv_store_new();
	if (!s)
		return tool_fail(CTL_E_INTERNAL, "out of memory");
	dev_out_init(&out, json, false);
	if (dev_read(&out, argv[optind], &buf) != CTL_OK)
		goto finish;
	rc = ctlv_decrypt_file(s, buf.data, buf.len, cert, key, &plain, &plen);
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
