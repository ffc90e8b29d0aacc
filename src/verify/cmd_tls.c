/* cmd_tls.c - ctlverify tls: the CTI/JTAPI client's check of the CTI manager (SPEC §5). */
#include <stdio.h>
#include <string.h>

#include "device.h"
#include "tool.h"
#include "verify.h"

static const char usage[] =
	"usage: ctlverify tls --store DIR [--cert CLIENT-CERT --key CLIENT-KEY]\n"
	"                     [--allow-expired] [--timeout SECONDS] [--json] HOST[:PORT]\n"
	"\n"
	"Connects to a CTI manager with TLS 1.2 or later (default port 2749) the way a secure\n"
	"CTI/JTAPI client must: the server's certificate has to be byte-identical to the\n"
	"certificate of a CCM or CCM+TFTP record of the held CTL. No chain is built: a\n"
	"certificate that chains to a trusted CA but is not listed fails. The check runs inside\n"
	"the handshake, so an unlisted server never sees the client certificate. With no CTL\n"
	"held it does not connect at all. A listed certificate outside its validity period is\n"
	"refused unless --allow-expired (then a warning).\n";

enum { O_ALLOW_EXPIRED = V_O_OWN, O_KEY };
static const struct tool_opt tls_opts[] = {
	V_OPT_STORE("the trust store holding the CTL"),
	V_OPT_CERT("FILE", "the client's certificate (LSC), PEM or DER"),
	{O_KEY, "key", "FILE", "the client's private key"},
	{O_ALLOW_EXPIRED, "allow-expired", NULL, "accept a listed but expired server certificate, with a warning"},
	V_OPT_TIMEOUT("connect/handshake time limit (default 10)"),
	V_OPT_JSON("machine-readable decision"),
	TOOL_OPT_END,
};
static const struct tool_opt *const opts[] = {tls_opts, NULL};

int cmd_tls(int argc, char **argv)
{
	struct tool_args g = {.argc = argc, .argv = argv, .usage = usage, .opts = opts};
	struct tls_opts o = {.default_port = 2749, .timeout_s = 10};
	const char *dir = NULL;
	bool json = false;
	struct ctl_err err = {0};
	struct dev_out out;
	ctlv_store *s = NULL;
	unsigned long v;
	char proto[32] = "";
	int c, rc;

	while ((c = tool_opt_next(&g)) != -1) {
		switch (c) {
		case V_O_STORE: dir = optarg; break;
		case V_O_CERT: o.client_cert = optarg; break;
		case O_KEY: o.client_key = optarg; break;
		case O_ALLOW_EXPIRED: o.check_flags |= CTLV_ALLOW_EXPIRED; break;
		case V_O_JSON: json = true; break;
		case V_O_TIMEOUT:
			if (!tool_parse_uint(optarg, 1, 300, &v, "--timeout", &err))
				return tool_report(&err);
			o.timeout_s = (long)v;
			break;
		default: return CTL_E_USAGE;
		}
	}
	if (g.help_shown)
		return CTL_OK;
	if (optind != argc - 1)
		return tool_fail(CTL_E_USAGE, "tls: give exactly one HOST[:PORT]; see 'ctlverify tls --help'");
	o.hostport = argv[optind];
	rc = dev_store_open(dir, &s);
	if (rc != CTL_OK)
		return rc;
	dev_out_init(&out, json, false);
	rc = tls_check_server(s, &o, proto, sizeof(proto), &err);
	if (rc == CTL_OK) {
		dev_decide(&out, s, o.hostport, CTL_OK);
		dev_out_add(&out, "protocol", json_object_new_string(proto));
		if (!json)
			printf("%s: %s handshake completed\n", o.hostport, proto);
	} else if (err.msg[0] && strcmp(err.msg, ctlv_last_error(s)) == 0) {
		dev_decide(&out, s, o.hostport, rc); /* refused by the CTL check */
	} else {
		dev_decide_msg(&out, o.hostport, rc == CTL_E_NETWORK ? "failed" : "rejected", rc, err.msg);
	}
	rc = dev_out_finish(&out);
	ctlv_store_free(s);
	return rc;
}
