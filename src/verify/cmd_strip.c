/* cmd_strip.c - `ctlverify strip FILE [--cert CERT] [-o OUT]`: the payload of a signed
 * file (.sgn, or signed firmware and other vendor-signed files) without its header. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "verify.h"

static const char usage[] =
	"usage: ctlverify strip FILE [--cert CERT] [-o OUT]\n"
	"\n"
	"Writes the payload of a signed file without its signed header: the original bytes of\n"
	"a .sgn, or the image or load list of signed firmware and other vendor-signed files\n"
	"(.loads, .sbn, .sbin, .zz.sgn, .bin.sgn). With --cert the signature is verified with\n"
	"that certificate first and nothing is written if it does not verify; without it a\n"
	"note on stderr says the signature was not checked. No trust store is used: stripping\n"
	"never makes a file trusted.\n";

static const struct tool_opt strip_opts[] = {
	V_OPT_CERT("CERT", "verify with this certificate (PEM or DER) first"),
	V_OPT_OUTPUT("OUT", "write the payload to OUT (atomically); without it, to stdout"),
	TOOL_OPT_END,
};
static const struct tool_opt *const opts[] = {strip_opts, NULL};

static const char footer[] =
	"exit codes: 0 written, 2 usage, 3 I/O, 4 malformed or not a signed file with a\n"
	"  payload (CTL/ITL, .enc.sgn), 5 bad signature, 7 unsupported algorithm or version\n";

int cmd_strip(int argc, char **argv)
{
	struct tool_args g = {.argc = argc, .argv = argv, .usage = usage, .opts = opts,
				.footer = footer};
	const char *cert_path, *outpath, *path;
	struct verify_args va;
	struct ctl_err err = {0};
	struct ctl_file *f = NULL;
	const uint8_t *body;
	size_t blen;
	int rc;

	if ((rc = verify_parse(&g, &va)) != CTL_OK)
		return rc;
	cert_path = va.cert;
	outpath = va.output;
	if (g.help_shown)
		return CTL_OK;
	if (!(path = tool_one_operand(&g, "FILE")))
		return CTL_E_USAGE;
	if (outpath && !strcmp(outpath, "-"))
		outpath = NULL;

	if ((rc = ctl_parse_file(path, &f, &err)) != CTL_OK)
		return tool_report(&err);
	if (f->kind == CTL_KIND_ENC_SGN) {
		rc = tool_fail(CTL_E_MALFORMED, "%s is encrypted (.enc.sgn): its payload is ciphertext; use 'ctlverify decrypt'", path);
		goto out;
	}
	if (f->kind != CTL_KIND_SGN && f->kind != CTL_KIND_FIRMWARE) {
		rc = tool_fail(CTL_E_MALFORMED, "%s is a %s, whose records are its content, not a signed payload; nothing to strip (see 'ctlverify show')",
			       path, ctl_kind_name(f->kind));
		goto out;
	}
	if (cert_path) {
		X509 *x = ctl_cert_load(cert_path, &err);

		if (!x) {
			ctl_fail_prefix(&err, "--cert");
			rc = tool_report(&err);
			goto out;
		}
		rc = ctl_verify_cert(f, x, &err);
		X509_free(x);
		if (rc != CTL_OK) {
			ctl_fail_prefix(&err, "%s: nothing written", path);
			rc = tool_report(&err);
			goto out;
		}
	}
	ctl_body(f, &body, &blen);
	if (outpath) {
		rc = ctl_write_atomic(outpath, body, blen, 0644, &err);
		if (rc != CTL_OK) {
			rc = tool_report(&err);
			goto out;
		}
	} else if (fwrite(body, 1, blen, stdout) != blen || fflush(stdout) != 0) {
		rc = tool_fail(CTL_E_IO, "strip: cannot write to stdout: %s", strerror(errno));
		goto out;
	}
	if (!cert_path)
		fprintf(stderr, "ctlverify: note: %s: signature NOT verified (give --cert CERT to verify it first)\n",
			path);
	if (outpath)
		printf("wrote %s: %zu bytes, the payload of %s (%s, header %u bytes)%s\n", outpath, blen,
		       path, ctl_kind_name(f->kind), f->hdr.header_len,
		       cert_path ? ", signature verified with --cert" : "");
	rc = CTL_OK;
out:
	ctl_file_free(f);
	return rc;
}
