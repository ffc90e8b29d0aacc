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
	struct verify_args va;
	struct ctl_err err = {0};
	struct dev_out out;
	ctlv_store *s = NULL;
	char proto[32] = "";
	int c, rc;

	verify_args_init(&va);
	while ((c = tool_opt_next(&g)) != -1) {
		if (c == O_KEY)
			o.client_key = optarg;
		else if (c == O_ALLOW_EXPIRED)
			o.check_flags |= CTLV_ALLOW_EXPIRED;
		else if (verify_opt(c, "tls", &va) <= 0)
			return CTL_E_USAGE;
	}
	o.client_cert = va.cert;
	if (va.timeout)
		o.timeout_s = va.timeout;
	if (g.help_shown)
		return CTL_OK;
	if (!tool_one_operand(&g, "HOST[:PORT]"))
		return CTL_E_USAGE;
	o.hostport = argv[optind];
	rc = dev_store_open(va.store, &s);
	if (rc != CTL_OK)
		return rc;
	dev_out_init(&out, va.json, false);
	rc = tls_check_server(s, &o, proto, sizeof(proto), &err);
	if (rc == CTL_OK) {
		dev_decide(&out, s, o.hostport, CTL_OK);
		dev_out_add(&out, "protocol", json_object_new_string(proto));
		if (!va.json)
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
