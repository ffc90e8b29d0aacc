/* ctlverify - the device side: read, check and trust CTLs and signed files (SPEC §5). */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "device.h"
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

void verify_args_init(struct verify_args *va)
{
	memset(va, 0, sizeof(*va));
	va->wait_s = -1;
}

int verify_opt(int c, const char *cmd, struct verify_args *va)
{
	struct ctl_err err = {0};
	unsigned long v;

	switch (c) {
	case V_O_STORE: va->store = optarg; return 1;
	case V_O_CERT: va->cert = optarg; return 1;
	case V_O_DEVICE_KEY: va->device_key = optarg; return 1;
	case 'o': va->output = optarg; return 1;
	case V_O_JSON: va->json = true; return 1;
	case V_O_EXPECT_SAST:
		if (va->npins >= V_MAX_EXPECT_SAST) {
			tool_fail(CTL_E_USAGE, "%s: at most %d --expect-sast", cmd, V_MAX_EXPECT_SAST);
			return -1;
		}
		va->pins[va->npins++] = optarg;
		return 1;
	case V_O_TIMEOUT:
	case V_O_WAIT:
		if (!tool_parse_uint(optarg, c == V_O_WAIT ? 0 : 1, c == V_O_WAIT ? 3600 : 300, &v,
				     c == V_O_WAIT ? "--wait" : "--timeout", &err)) {
			tool_report(&err);
			return -1;
		}
		*(c == V_O_WAIT ? &va->wait_s : &va->timeout) = (long)v;
		return 1;
	default: return 0;
	}
}

int verify_parse(struct tool_args *g, struct verify_args *va)
{
	int c;

	verify_args_init(va);
	while ((c = tool_opt_next(g)) != -1)
		if (verify_opt(c, g->argv[0], va) <= 0)
			return CTL_E_USAGE;
	return CTL_OK;
}

int verify_store_open(const struct verify_args *va, const char *cmd, ctlv_store **out)
{
	int rc = dev_store_open_wait(va->store, va->wait_s, out);

	for (size_t i = 0; rc == CTL_OK && i < va->npins; i++) {
		rc = ctlv_expect_sast(*out, va->pins[i]);
		if (rc != CTLV_OK) {
			tool_fail(rc, "%s: %s", cmd, ctlv_last_error(*out));
			ctlv_store_free(*out);
			*out = NULL;
		}
	}
	return rc;
}

int main(int argc, char **argv)
{
	/* A reader that went away (`ctlverify show | head`, a closed TLS peer) ends the
	 * report quietly with the command's own code (tool_dispatch), not a kill. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return tool_fail(CTL_E_INTERNAL, "cannot ignore SIGPIPE: %s", strerror(errno));
	return tool_dispatch("ctlverify", commands, argc, argv);
}
