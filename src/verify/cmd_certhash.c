/* cmd_certhash.c - `ctlverify certhash [--digest sha1|sha256|sha512] [--json] CERT`: the
 * base64 hash of a certificate's DER, as the independent implementation's `certhash`
 * prints it (issue 11 §7). Not the <certHash> of the minimal config, which is the MD5 of
 * the phone's certificate in hex (SPEC §3.4) and is written by ctlsign. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tool.h"
#include "verify.h"

static const char usage[] =
	"usage: ctlverify certhash [--digest sha1|sha256|sha512] [--json] CERT\n"
	"\n"
	"Prints the base64 of the hash of CERT's DER encoding (PEM or DER file; of a PEM\n"
	"file with several certificates, the first): the value the independent\n"
	"implementation's 'certhash' prints, SHA-1 unless --digest says otherwise. It is\n"
	"not the <certHash> of an encrypted phone's minimal config (MD5, hex, written by\n"
	"'ctlsign encrypt'). Hex fingerprints are in 'ctlverify show' and 'ctlsign token list'.\n"
	;

static const struct tool_opt certhash_opts[] = {
	{'d', "digest", "ALG", "sha1 (default), sha256 or sha512"},
	V_OPT_JSON("print {\"file\", \"digest\", \"base64\", \"hex\"}"),
	TOOL_OPT_END,
};
static const struct tool_opt *const opts[] = {certhash_opts, NULL};

static const char footer[] =
	"exit codes: 0 printed, 2 usage, 3 I/O, 4 not a certificate\n";

int cmd_certhash(int argc, char **argv)
{
	struct tool_args g = {.argc = argc, .argv = argv, .usage = usage, .opts = opts,
				.footer = footer};
	const char *alg = "sha1", *path;
	const EVP_MD *md;
	struct ctl_err err = {0};
	uint8_t *der = NULL, d[EVP_MAX_MD_SIZE];
	unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	unsigned dl = 0;
	bool json = false;
	X509 *x;
	int c, n;

	while ((c = tool_opt_next(&g)) != -1) {
		switch (c) {
		case 'd': alg = optarg; break;
		case V_O_JSON: json = true; break;
		default: return CTL_E_USAGE;
		}
	}
	if (g.help_shown)
		return CTL_OK;
	if (!strcmp(alg, "sha1"))
		md = EVP_sha1();
	else if (!strcmp(alg, "sha256"))
		md = EVP_sha256();
	else if (!strcmp(alg, "sha512"))
		md = EVP_sha512();
	else
		return tool_fail(CTL_E_USAGE, "certhash: --digest '%s' is not known; give sha1, sha256 or sha512",
				 alg);
	if (!tool_one_operand(&g, "CERT"))
		return CTL_E_USAGE;
	path = argv[optind];

	if (!(x = ctl_cert_load(path, &err)))
		return tool_report(&err);
	n = i2d_X509(x, &der);
	X509_free(x);
	if (n <= 0 || !EVP_Digest(der, (size_t)n, d, &dl, md, NULL)) {
		OPENSSL_free(der);
		return tool_fail(CTL_E_INTERNAL, "certhash: cannot hash %s", path);
	}
	OPENSSL_free(der);
	EVP_EncodeBlock(b64, d, (int)dl);
	if (json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "file", json_object_new_string(path));
		json_object_object_add(o, "digest", json_object_new_string(alg));
		json_object_object_add(o, "base64", json_object_new_string((const char *)b64));
		json_object_object_add(o, "hex", tool_json_hex(d, dl));
		tool_json_print(o);
	} else {
		printf("%s\n", b64);
	}
	if (fflush(stdout) != 0)
		return tool_fail(CTL_E_IO, "certhash: cannot write to stdout");
	return CTL_OK;
}
