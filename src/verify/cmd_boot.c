/* cmd_boot.c - ctlverify boot: a phone's boot sequence over TFTP (SPEC §5). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "tool.h"
#include "verify.h"

static const char usage[] =
	"usage: ctlverify boot --server HOST[:PORT] --mac MAC --store DIR [--device-key KEY]\n"
	"                      [--expect-sast FP]... [-o CONFIG-OUT] [--timeout SECONDS]\n"
	"                      [--max-size BYTES] [--wait SECONDS] [--json]\n"
	"\n"
	"Boots like a phone: downloads over TFTP (UDP, default port 69) CTLFile.tlv, ITLFile.tlv,\n"
	"then SEP<MAC>.cnf.xml.enc.sgn, falling back to SEP<MAC>.cnf.xml.sgn when the server\n"
	"answers file-not-found, and applies the trust rules of 'ctlverify install' and\n"
	"'ctlverify config' to each. Prints one decision line per file (or --json). A CTL or ITL\n"
	"the server lacks leaves the held one in place. With --expect-sast and no CTL held, no ITL\n"
	"and no config is trusted (nothing is written to -o). A server that does not answer stops\n"
	"the boot with exit code 10 and the store unchanged. Exit code: the first failure's.\n";

enum { O_SERVER = V_O_OWN, O_MAC, O_MAX_SIZE };
static const struct tool_opt boot_opts[] = {
	{O_SERVER, "server", "HOST[:PORT]", "the TFTP server"},
	{O_MAC, "mac", "MAC", "the phone's MAC (001122334455, 00:11:22:33:44:55 or 00-11-...)"},
	V_OPT_STORE("the trust store (the phone's flash)"),
	V_OPT_DEVICE_KEY("the phone's private key, to decrypt an .enc.sgn config"),
	V_OPT_EXPECT_SAST("pin the first CTL's signer (see 'ctlverify install')"),
	V_OPT_OUTPUT("FILE", "write the accepted configuration (plaintext) to FILE"),
	V_OPT_TIMEOUT("per-download time limit (default 5)"),
	{O_MAX_SIZE, "max-size", "BYTES", "refuse any download larger than this (default 1048576)"},
	V_OPT_WAIT,
	V_OPT_JSON("machine-readable decisions"),
	TOOL_OPT_END,
};
static const struct tool_opt *const opts[] = {boot_opts, NULL};

static int mac_normalize(const char *in, char out[13])
{
	size_t n = 0;

	for (const char *p = in; *p; p++) {
		if ((*p == ':' || *p == '-' || *p == '.') && n && n % 2 == 0)
			continue;
		if (!isxdigit((unsigned char)*p) || n >= 12)
			return 0;
		out[n++] = (char)toupper((unsigned char)*p);
	}
	out[n] = 0;
	return n == 12;
}

struct boot {
	const char *server;
	long timeout;
	size_t max;
	struct dev_out out;
	ctlv_store *s;
};

/* 1 = got it, 0 = not on server, -1 = network failure (decision already printed). */
static int fetch(struct boot *b, const char *name, struct ctl_buf *buf, bool report_missing)
{
	struct ctl_err err = {0};
	bool not_found = false;
	int rc = tftp_get(b->server, name, b->max, b->timeout, buf, &not_found, &err);

	if (rc == CTL_OK)
		return 1;
	if (not_found) {
		if (report_missing)
			dev_decide_msg(&b->out, name, "not on server", 0, "held one kept");
		return 0;
	}
	dev_decide_msg(&b->out, name, rc == CTL_E_NETWORK ? "failed" : "rejected", rc, err.msg);
	return rc == CTL_E_NETWORK ? -1 : -2;
}

int cmd_boot(int argc, char **argv)
{
	struct tool_args g = {.argc = argc, .argv = argv, .usage = usage, .opts = opts};
	const char *mac_in = NULL;
	struct verify_args va;
	unsigned long v;
	struct ctl_err err = {0};
	struct boot b = {.timeout = 5, .max = DEV_DEFAULT_MAX_SIZE};
	char mac[13], enc_name[64], sgn_name[64];
	struct ctl_buf buf = {0};
	uint8_t *payload = NULL;
	size_t plen = 0;
	int c, rc, got, took;

	verify_args_init(&va);
	while ((c = tool_opt_next(&g)) != -1) {
		if ((took = verify_opt(c, "boot", &va)) != 0) {
			if (took < 0)
				return CTL_E_USAGE;
			continue;
		}
		switch (c) {
		case O_SERVER: b.server = optarg; break;
		case O_MAC: mac_in = optarg; break;
		case O_MAX_SIZE:
			if (!tool_parse_uint(optarg, 1024, CTL_MAX_FILE_SIZE, &v, "--max-size", &err))
				return tool_report(&err);
			b.max = v;
			break;
		default: return CTL_E_USAGE;
		}
	}
	if (va.timeout)
		b.timeout = va.timeout;
	if (g.help_shown)
		return CTL_OK;
	if (optind != argc)
		return tool_fail(CTL_E_USAGE, "boot: unexpected argument '%s'; see 'ctlverify boot --help'", argv[optind]);
	if (!b.server || !mac_in)
		return tool_fail(CTL_E_USAGE, "boot: --server and --mac are required; see 'ctlverify boot --help'");
	{
		char *host = NULL;
		int port;

		if (!dev_split_hostport(b.server, 69, &host, &port))
			return tool_fail(CTL_E_USAGE, "boot: bad --server '%s': expected HOST or HOST:PORT (port 1-65535)", b.server);
		free(host);
	}
	if (!mac_normalize(mac_in, mac))
		return tool_fail(CTL_E_USAGE, "boot: bad MAC '%s': expected 12 hex digits, e.g. 001122334455", mac_in);
	snprintf(enc_name, sizeof(enc_name), "SEP%s.cnf.xml.enc.sgn", mac);
	snprintf(sgn_name, sizeof(sgn_name), "SEP%s.cnf.xml.sgn", mac);
	rc = verify_store_open(&va, "boot", &b.s);
	if (rc != CTL_OK)
		return rc;
	tftp_global_init();
	dev_out_init(&b.out, va.json, true);
	dev_out_add(&b.out, "mac", json_object_new_string(mac));
	dev_out_add(&b.out, "server", json_object_new_string(b.server));

	for (int kind = CTLV_KIND_CTL; kind <= CTLV_KIND_ITL; kind++) {
		const char *name = kind == CTLV_KIND_CTL ? "CTLFile.tlv" : "ITLFile.tlv";

		got = fetch(&b, name, &buf, true);
		if (got == -1)
			goto finish; /* server down: nothing more to try */
		if (got == 1)
			dev_decide(&b.out, b.s, name, ctlv_install(b.s, buf.data, buf.len, kind));
		ctl_buf_clear(&buf);
	}

	const char *cfg = enc_name;
	got = fetch(&b, enc_name, &buf, false);
	if (got == 0) {
		cfg = sgn_name;
		got = fetch(&b, sgn_name, &buf, false);
		if (got == 0) {
			snprintf(err.msg, sizeof(err.msg), "TFTP server %s has neither %s nor %s", b.server,
				 enc_name, sgn_name);
			dev_decide_msg(&b.out, sgn_name, "missing", CTL_E_NETWORK, err.msg);
		}
	}
	if (got == 1) {
		rc = ctlv_verify_file(b.s, buf.data, buf.len, cfg, va.device_key, &payload, &plen);
		if (rc == CTLV_OK && va.output &&
		    dev_write_output(&b.out, cfg, va.output, payload, plen) != CTL_OK)
			goto finish;
		dev_decide(&b.out, b.s, cfg, rc);
	}
finish:
	rc = dev_out_finish(&b.out);
	ctlv_free(payload, plen);
	ctl_buf_clear(&buf);
	ctlv_store_free(b.s);
	tftp_global_cleanup();
	return rc;
}
