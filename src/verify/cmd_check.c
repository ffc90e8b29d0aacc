/* cmd_check.c - `ctlverify check FILE [--cert CERT] [--json]`: does the file's signature
 * verify? CTL/ITL against their own signer record, .sgn/.enc.sgn against --cert. */
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "verify.h"

static const char usage[] =
	"usage: ctlverify check FILE [--cert CERT] [--json]\n"
	"\n"
	"Checks the signature of a CTL/ITL (.tlv), signed (.sgn) or encrypted (.enc.sgn) file.\n"
	"A CTL is checked against its own SAST record that matches the header's signer, an\n"
	"ITL against its own record of the signer. .sgn and .enc.sgn files need --cert, and so\n"
	"does signed firmware (.loads, .sbn, .sbin, .zz.sgn, .bin.sgn: header version 1.1),\n"
	"which the vendor's firmware key signs and no CTL lists.\n"
	"Prints one line, 'valid: ...' or 'invalid: <reason>'; exits 0 only when valid.\n";

static const struct tool_opt check_opts[] = {
	V_OPT_CERT("CERT", "verify with this certificate (PEM or DER) instead of the file's own signer record"),
	V_OPT_JSON("print the result as JSON"),
	TOOL_OPT_END,
};
static const struct tool_opt *const opts[] = {check_opts, NULL};

static const char footer[] =
	"exit codes: 0 valid, 2 usage, 3 I/O, 4 malformed, 5 bad signature, 6 signer not found,\n"
	"  7 unsupported algorithm or version\n";

static int result(bool json, const char *path, const struct ctl_file *f, const char *signer,
		  const struct ctl_err *err)
{
	int code = err ? (err->code ? err->code : CTL_E_INTERNAL) : CTL_OK;

	if (json) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "file", json_object_new_string(path));
		json_object_object_add(o, "valid", json_object_new_boolean(code == CTL_OK));
		json_object_object_add(o, "code", json_object_new_int(code));
		json_object_object_add(o, "status", json_object_new_string(ctl_status_name(code)));
		if (f) {
			json_object_object_add(o, "kind", json_object_new_string(ctl_kind_name(f->kind)));
			json_object_object_add(o, "hash", json_object_new_string(ctl_hash_name(f->hdr.hash_alg)));
			json_object_object_add(o, "signer_name",
					       json_object_new_string(f->hdr.signer_name));
		}
		if (signer)
			json_object_object_add(o, "verified_with", json_object_new_string(signer));
		if (err)
			json_object_object_add(o, "reason", json_object_new_string(err->msg));
		tool_json_print(o);
	} else if (code == CTL_OK) {
		printf("valid: %s %s signed by %s (%s), verified with %s\n", path,
		       ctl_kind_name(f->kind), f->hdr.signer_name, ctl_hash_name(f->hdr.hash_alg),
		       signer);
	} else {
		printf("invalid: %s\n", err->msg);
	}
	return code;
}

int cmd_check(int argc, char **argv)
{
	struct tool_args g = {.argc = argc, .argv = argv, .usage = usage, .opts = opts,
				.footer = footer};
	const char *cert_path, *path;
	struct verify_args va;
	struct ctl_err err = {0};
	struct ctl_file *f = NULL;
	char signer[600];
	bool json;
	int rc;

	if ((rc = verify_parse(&g, &va)) != CTL_OK)
		return rc;
	cert_path = va.cert;
	json = va.json;
	if (g.help_shown)
		return CTL_OK;
	if (!(path = tool_one_operand(&g, "FILE")))
		return CTL_E_USAGE;

	if (ctl_parse_file(path, &f, &err))
		return result(json, path, NULL, NULL, &err);
	if (cert_path) {
		X509 *x = ctl_cert_load(cert_path, &err);
		char *subj;
		if (!x) {
			ctl_fail_prefix(&err, "--cert");
			rc = result(json, path, f, NULL, &err);
			goto out;
		}
		subj = ctl_name_string(X509_get_subject_name(x));
		snprintf(signer, sizeof(signer), "--cert %s", subj ? subj : cert_path);
		free(subj);
		rc = ctl_verify_cert(f, x, &err);
		X509_free(x);
	} else if (f->kind == CTL_KIND_CTL || f->kind == CTL_KIND_ITL) {
		rc = ctl_verify_self(f, &err);
		if (rc == CTL_OK) {
			const struct ctl_record *r = ctl_find_signer(f, f->kind == CTL_KIND_CTL ? CTL_ROLE_SAST : -1);
			const char *role = r ? ctl_role_name(r->role) : NULL;
			snprintf(signer, sizeof(signer), "its own %s record at offset %zu",
				 role ? role : "signer", r ? r->offset : 0);
		}
	} else if (f->kind == CTL_KIND_FIRMWARE) {
		ctl_fail(&err, CTL_E_SIGNER,
			 "%s is signed firmware or another vendor-signed file: such files are signed by the vendor's firmware key, which no CTL lists; give that key's certificate with --cert CERT",
			 path);
		rc = result(json, path, f, NULL, &err);
		goto out;
	} else {
		ctl_fail(&err, CTL_E_USAGE,
			 "%s is a %s file, which does not carry its signer's certificate; give --cert CERT",
			 path, ctl_kind_name(f->kind));
		rc = result(json, path, f, NULL, &err);
		goto out;
	}
	rc = result(json, path, f, signer, rc ? &err : NULL);
out:
	ctl_file_free(f);
	return rc;
}
