/* cmd_token.c - `ctlsign token list|passwd|provision|import|sign|wait` (SPEC §4.1). */
#include "cmd_token.h"
#include "sign.h"
#include "tool.h"
#include "p11_uri.h"
#include "token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bytes.h"

/* The token subcommands' own options (their shared ones are SIGN_O_*, sign.h). */
enum { O_LOGIN = SIGN_O_OWN, O_NEW_PIN, O_FACTORY, O_MINLEN, O_SUBJECT, O_BITS, O_YEARS,
       O_LABEL, O_FORCE, O_IN, O_OUT, O_HASH, O_REMOVED, O_TIMEOUT, O_CERT_OUT, O_KEY, O_CERT,
       O_CTL };

/* Options every token subcommand but wait takes: which token, its login. */
static const struct tool_opt session_opts[] = {
	SIGN_OPT_MODULE,
	{SIGN_O_TOKEN, "token", "URI",
	 "RFC 7512 URI: pkcs11:token=SAST1;object=sast?pin-source=file:P\n"
	 "(default: the only token present)"},
	{SIGN_O_PIN, "pin", "SRC",
	 "PIN from env:VAR, file:PATH or fd:N (default: URI pin-source, else a no-echo prompt). "
	 "Never the PIN itself."},
	SIGN_OPT_FINAL_TRY,
	TOOL_OPT_END,
};
static const struct tool_opt factory_opts[] = {
	{O_FACTORY, "factory-pin", "P", "the factory default PIN to refuse (default Cisco123; not secret)"},
	TOOL_OPT_END,
};
#define FORCE_OPT {O_FORCE, "force", NULL, "replace existing objects with that label"}

struct common {
	const char *module;
	struct token_opts o;
};

/* LABEL_FORCE_OPTS: true when c was one of them. */
static bool label_force_opt(int c, const char **label, bool *force)
{
	if (c == O_LABEL)
		*label = optarg;
	else if (c == O_FORCE)
		*force = true;
	else
		return false;
	return true;
}

/* After the options of "token CMD": true when the command ends here with *rc, because
 * --help was shown (CTL_OK) or an argument is left over (usage). */
static bool args_end(const struct tool_args *g, int argc, char **argv, const char *cmd,
		     int *rc)
{
	if (g->help_shown)
		*rc = CTL_OK;
	else if (optind < argc)
		*rc = tool_fail(CTL_E_USAGE, "token %s: unexpected argument '%s'", cmd, argv[optind]);
	else
		return false;
	return true;
}

/* "SUBJECT (SHA-1 FINGERPRINT)" of a certificate just put on a token, "?" for a part that
 * cannot be had; NULL only when out of memory. Caller frees. */
static char *cert_desc(X509 *cert)
{
	char *sha1 = ctl_cert_fingerprint(cert, CTL_HASH_SHA1);
	char *subj = ctl_name_string(X509_get_subject_name(cert));
	const char *a = subj ? subj : "?", *b = sha1 ? sha1 : "?";
	size_t n = strlen(a) + strlen(b) + sizeof(" (SHA-1 )");
	char *d = malloc(n);

	if (d)
		snprintf(d, n, "%s (SHA-1 %s)", a, b);
	free(sha1);
	free(subj);
	return d;
}

static bool common_opt(int c, struct common *co)
{
	switch (c) {
	case SIGN_O_MODULE: co->module = optarg; return true;
	case SIGN_O_TOKEN: co->o.uri = optarg; return true;
	case SIGN_O_PIN: co->o.pin = optarg; return true;
	case SIGN_O_FINAL_TRY: co->o.final_try = true; return true;
	default: return false;
	}
}

/* --module, else the URI's module-path, else $CTLSIGN_PKCS11_MODULE / p11-kit proxy. */
static int open_module(const struct common *co, struct token_module **m)
{
	struct ctl_err err = {0};
	char *uri_module = NULL;
	int rc;

	if (!co->module && co->o.uri) {
		struct p11_uri u;
		if (p11_uri_parse(co->o.uri, &u, &err) != CTL_OK)
			return tool_report(&err);
		if (u.module_path && !(uri_module = strdup(u.module_path))) {
			p11_uri_clear(&u);
			return tool_fail(CTL_E_INTERNAL, "out of memory");
		}
		p11_uri_clear(&u);
	}
	rc = token_module_open(co->module ? co->module : uri_module, m, &err);
	free(uri_module);
	return rc == CTL_OK ? CTL_OK : tool_report(&err);
}

/* ---- list ---- */

static const char list_usage[] =
	"usage: ctlsign token list [--json] [--login] [options]\n"
	"Lists every slot holding a token: label, manufacturer, model, serial, PIN flags,\n"
	"and each key/certificate pair (label, id, key type and size, certificate subject,\n"
	"serial, SHA-1 fingerprint, validity). Works without a PIN; --login also shows\n"
	"private objects (asks each token's PIN, or --pin for all). With --ctl, each\n"
	"certificate is marked with the record it has in that CTL (e.g. SAST), or as not in it.\n";
static const struct tool_opt list_own[] = {
	{O_CTL, "ctl", "FILE", "the current CTL (e.g. tftp/CTLFile.tlv): is each certificate in it?"},
	{O_LOGIN, "login", NULL, "also show private objects (asks each token's PIN, or --pin for all)"},
	SIGN_OPT_JSON("machine-readable output"),
	TOOL_OPT_END,
};
static const struct tool_opt *const list_opts[] = {session_opts, list_own, NULL};

/* --ctl: the CTL whose records mark the certificates (*ctl stays NULL without it). */
static int load_list_ctl(const char *ctl_path, struct ctl_file **ctl)
{
	struct ctl_err err = {0};

	if (!ctl_path)
		return CTL_OK;
	if (ctl_parse_file(ctl_path, ctl, &err) != CTL_OK)
		return tool_report(&err);
	if ((*ctl)->kind != CTL_KIND_CTL) {
		ctl_file_free(*ctl);
		*ctl = NULL;
		return tool_fail(CTL_E_MALFORMED, "token list: %s is not a CTL", ctl_path);
	}
	return CTL_OK;
}

/* The tokens to list: the one --token names, else every one present. */
static int find_tokens(struct token_module *m, const char *uri, struct token_info **v,
		       size_t *n)
{
	struct ctl_err err = {0};

	if (uri) {
		*v = calloc(1, sizeof(**v));
		if (!*v || token_select(m, uri, *v, &err) != CTL_OK) {
			free(*v);
			*v = NULL;
			return tool_report(&err);
		}
		*n = 1;
	} else if (token_module_list(m, v, n, &err) != CTL_OK) {
		return tool_report(&err);
	}
	return CTL_OK;
}

static int cmd_list(int argc, char **argv)
{
	struct tool_args g = {.argc = argc, .argv = argv, .usage = list_usage, .opts = list_opts};
	const char *ctl_path = NULL, *env_module = getenv(TOKEN_MODULE_ENV);
	struct ctl_file *ctl = NULL;
	struct common co = {0};
	bool json = false, login = false;
	struct token_module *m;
	struct token_info *v = NULL;
	size_t n = 0;
	int c, rc = CTL_OK;

	while ((c = tool_opt_next(&g)) != -1) {
		if (common_opt(c, &co))
			continue;
		if (c == SIGN_O_JSON)
			json = true;
		else if (c == O_LOGIN)
			login = true;
		else if (c == O_CTL)
			ctl_path = optarg;
		else
			return CTL_E_USAGE;
	}
	if (args_end(&g, argc, argv, "list", &rc))
		return rc;
	if ((rc = load_list_ctl(ctl_path, &ctl)) != CTL_OK)
		return rc;
	if ((rc = open_module(&co, &m)) != CTL_OK) {
		ctl_file_free(ctl);
		return rc;
	}
	if ((rc = find_tokens(m, co.o.uri, &v, &n)) != CTL_OK) {
		token_module_close(m);
		ctl_file_free(ctl);
		return rc;
	}
	if (!json)
		printf("module %s%s: %zu token%s\n",
		       co.module ? co.module : env_module && *env_module ? env_module
									 : "p11-kit's proxy",
		       co.module ? "" : env_module && *env_module ? " (from $" TOKEN_MODULE_ENV ")"
								  : " (the default)",
		       n, n == 1 ? "" : "s");
	rc = token_list_print(m, v, n, login ? &co.o : NULL, ctl, json);
	token_infos_free(v, n);
	token_module_close(m);
	ctl_file_free(ctl);
	return rc;
}

/* ---- passwd ---- */

static const char passwd_usage[] =
	"usage: ctlsign token passwd [options]\n"
	"Changes the token's user PIN (C_SetPIN). Asks the current PIN, then the new one\n"
	"twice. The new PIN must differ from the current one and from the factory default,\n"
	"be at least --min-length (default 8) and within the token's own limits, and not be\n"
	"trivial: one character repeated (aaaaaaaa), an ascending or descending run\n"
	"(12345678, 87654321), or the token's label. At the prompt a refused PIN or a\n"
	"confirmation that differs asks again, three times in all (then exit 12).\n";
static const struct tool_opt passwd_own[] = {
	{O_NEW_PIN, "new-pin", "SRC", "new PIN from env:VAR, file:PATH or fd:N (automation)"},
	{O_MINLEN, "min-length", "N", "minimum new PIN length (default 8)"},
	TOOL_OPT_END,
};
static const struct tool_opt *const passwd_opts[] = {session_opts, passwd_own, factory_opts, NULL};

static int cmd_passwd(int argc, char **argv)
{
	struct tool_args g = {.argc = argc, .argv = argv, .usage = passwd_usage, .opts = passwd_opts};
	struct common co = {0};
	const char *new_pin = NULL;
	unsigned long min_len = TOKEN_DEFAULT_MIN_PIN_LEN;
	struct token_module *m;
	struct ctl_err err = {0};
	int c, rc;

	while ((c = tool_opt_next(&g)) != -1) {
		if (common_opt(c, &co))
			continue;
		if (c == O_NEW_PIN)
			new_pin = optarg;
		else if (c == O_FACTORY)
			co.o.factory_pin = optarg;
		else if (c == O_MINLEN) {
			if (!tool_parse_uint(optarg, 4, 255, &min_len, "--min-length", &err))
				return tool_report(&err);
		} else
			return CTL_E_USAGE;
	}
	if (g.help_shown)
		return CTL_OK;
	if (optind < argc)
		return tool_fail(CTL_E_USAGE, "token passwd: unexpected argument (not shown: it may "
					      "be a PIN); PINs never go on the command line: use "
					      "--pin/--new-pin env:VAR, file:PATH or fd:N, or the prompt");
	if ((rc = open_module(&co, &m)) != CTL_OK)
		return rc;
	rc = token_passwd(m, &co.o, new_pin, min_len, &err);
	token_module_close(m);
	if (rc != CTL_OK)
		return tool_report(&err);
	fprintf(stderr, "%s: PIN changed\n", tool_prog);
	return CTL_OK;
}

/* ---- provision ---- */

static const char provision_usage[] =
	"usage: ctlsign token provision --subject DN [options]\n"
	"Labs and CI: generates an RSA key pair ON the token (private key sensitive, not\n"
	"extractable) and stores a self-signed certificate next to it (same CKA_ID and label,\n"
	"keyUsage digitalSignature, SHA-256, signed by the token key). Refuses to replace\n"
	"existing objects with the label unless --force.\n";
static const struct tool_opt provision_own[] = {
	{O_SUBJECT, "subject", "DN",
	 "certificate subject in certificate order, e.g.\n'CN=SAST-1,O=Example Corp,OU=Voice'"},
	{O_BITS, "bits", "N", "RSA key size 1024..4096 (default 2048)"},
	{O_YEARS, "years", "N", "validity in years (default 10)"},
	{O_LABEL, "label", "L", "object label (default: the URI's object=, else 'sast')"},
	FORCE_OPT,
	{O_CERT_OUT, "cert-out", "FILE",
	 "also write the new certificate there (PEM), e.g. for the cluster description of a lab "
	 "TFTP server whose key lives on this token"},
	TOOL_OPT_END,
};
static const struct tool_opt *const provision_opts[] = {session_opts, provision_own, NULL};

/* Writes cert as PEM to path, atomically. */
static int write_cert_pem(X509 *cert, const char *path, struct ctl_err *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem = NULL;
	long len;
	int rc;

	if (!bio || !PEM_write_bio_X509(bio, cert) || (len = BIO_get_mem_data(bio, &pem)) <= 0) {
		BIO_free(bio);
		return ctl_fail(err, CTL_E_INTERNAL, "cannot encode the certificate as PEM");
	}
	rc = ctl_write_atomic(path, (const uint8_t *)pem, (size_t)len, 0644, err);
	BIO_free(bio);
	return rc;
}

static int cmd_provision(int argc, char **argv)
{
	struct tool_args g = {.argc = argc, .argv = argv, .usage = provision_usage,
			      .opts = provision_opts};
	const char *cert_out = NULL;
	struct common co = {0};
	struct token_provision_opts p = {0};
	struct token_module *m;
	struct ctl_err err = {0};
	unsigned long v;
	X509 *cert = NULL;
	int c, rc;

	while ((c = tool_opt_next(&g)) != -1) {
		if (common_opt(c, &co) || label_force_opt(c, &p.label, &p.force))
			continue;
		switch (c) {
		case O_SUBJECT: p.subject = optarg; break;
		case O_CERT_OUT: cert_out = optarg; break;
		case O_BITS:
			if (!tool_parse_uint(optarg, 1024, 4096, &v, "--bits", &err))
				return tool_report(&err);
			p.bits = (unsigned)v;
			break;
		case O_YEARS:
			if (!tool_parse_uint(optarg, 1, 50, &v, "--years", &err))
				return tool_report(&err);
			p.years = (unsigned)v;
			break;
		default: return CTL_E_USAGE;
		}
	}
	if (args_end(&g, argc, argv, "provision", &rc))
		return rc;
	if (!p.subject)
		return tool_fail(CTL_E_USAGE, "token provision: --subject is required");
	if ((rc = open_module(&co, &m)) != CTL_OK)
		return rc;
	rc = token_provision(m, &co.o, &p, &cert, &err);
	token_module_close(m);
	if (rc != CTL_OK)
		return tool_report(&err);
	{
		char *desc = cert_desc(cert);

		fprintf(stderr, "%s: provisioned RSA-%u key and certificate %s\n", tool_prog,
			p.bits ? p.bits : 2048, desc ? desc : "? (SHA-1 ?)");
		free(desc);
	}
	if (cert_out && (rc = write_cert_pem(cert, cert_out, &err)) != CTL_OK) {
		X509_free(cert);
		return tool_report(&err);
	}
	X509_free(cert);
	return CTL_OK;
}

/* ---- import: an existing server key and certificate onto a token ---- */

static const char import_usage[] =
	"usage: ctlsign token import --token URI --key KEY.pem --cert CERT.pem [options]\n"
	"Brings an existing key (e.g. the TFTP server's, from its disk) onto a token: the\n"
	"private key is stored sensitive and not extractable (it can sign, never be read\n"
	"back), the certificate beside it with the same CKA_ID and label. A key and\n"
	"certificate that do not belong together are refused (exit 9) before the token is\n"
	"touched. RSA keys only, unencrypted PEM or DER. The token must not be on its\n"
	"factory PIN. Afterwards destroy every file copy of the key (e.g. shred -u KEY).\n";
static const struct tool_opt import_own[] = {
	{O_KEY, "key", "FILE", "the private key (PEM or DER, unencrypted)"},
	{O_CERT, "cert", "FILE", "its certificate (PEM or DER)"},
	{O_LABEL, "label", "L", "object label (default: the URI's object=, else the certificate's CN)"},
	FORCE_OPT,
	TOOL_OPT_END,
};
static const struct tool_opt *const import_opts[] = {session_opts, import_own, factory_opts, NULL};

static int cmd_import(int argc, char **argv)
{
	struct tool_args g = {.argc = argc, .argv = argv, .usage = import_usage, .opts = import_opts};
	struct common co = {0};
	struct token_import_opts p = {0};
	struct token_import_result res;
	struct token_module *m;
	struct ctl_err err = {0};
	int c, rc;

	while ((c = tool_opt_next(&g)) != -1) {
		if (common_opt(c, &co) || label_force_opt(c, &p.label, &p.force))
			continue;
		switch (c) {
		case O_KEY: p.key_path = optarg; break;
		case O_CERT: p.cert_path = optarg; break;
		case O_FACTORY: co.o.factory_pin = optarg; break;
		default: return CTL_E_USAGE;
		}
	}
	if (args_end(&g, argc, argv, "import", &rc))
		return rc;
	if (!p.key_path || !p.cert_path)
		return tool_fail(CTL_E_USAGE, "token import: --key and --cert are required");
	if (!co.o.uri)
		return tool_fail(CTL_E_USAGE, "token import: --token URI is required (the token "
					      "the key goes onto)");
	if ((rc = open_module(&co, &m)) != CTL_OK)
		return rc;
	rc = token_import(m, &co.o, &p, &res, &err);
	token_module_close(m);
	if (rc != CTL_OK)
		return tool_report(&err);
	{
		char *desc = cert_desc(res.cert);

		fprintf(stderr,
			"%s: imported RSA-%d key and certificate %s onto token '%s' as '%s': "
			"sensitive, not extractable\n"
			"%s: sign with --key 'pkcs11:token=%s;object=%s'\n"
			"%s: now destroy every file copy of the key: shred -u %s (and its backups); "
			"it is safe only on the token\n",
			tool_prog, res.bits, desc ? desc : "? (SHA-1 ?)", res.token_label,
			res.object_label, tool_prog, res.token_label, res.object_label, tool_prog,
			p.key_path);
		free(desc);
	}
	X509_free(res.cert);
	return CTL_OK;
}

/* ---- sign: a raw signature with the token signer (diagnostics, tests) ---- */

static const char sign_usage[] =
	"usage: ctlsign token sign --in FILE --out SIG [--hash sha1|sha256|sha512] [options]\n"
	"Signs FILE with the token key (RSA PKCS#1 v1.5, default SHA-256) and writes the raw\n"
	"signature, as `openssl dgst -verify` checks it. Applies every token rule (default\n"
	"password, retry counter). The certificate is printed to stdout in PEM.\n";
static const struct tool_opt sign_own[] = {
	{O_IN, "in", "FILE", "the file to sign"},
	{O_OUT, "out", "SIG", "where to write the raw signature"},
	{O_HASH, "hash", "ALG", "sha1, sha256 (default) or sha512"},
	TOOL_OPT_END,
};
static const struct tool_opt *const sign_opts[] = {session_opts, sign_own, factory_opts, NULL};

/* `token sign`'s options. */
struct token_sign_opts {
	struct common co;
	const char *in, *out;
	int alg;
	const EVP_MD *evp;
};

static int token_sign_options(int argc, char **argv, struct token_sign_opts *so, bool *help)
{
	struct tool_args g = {.argc = argc, .argv = argv, .usage = sign_usage, .opts = sign_opts};
	const char *hash = "sha256";
	int c, alg;

	while ((c = tool_opt_next(&g)) != -1) {
		if (common_opt(c, &so->co))
			continue;
		if (c == O_IN)
			so->in = optarg;
		else if (c == O_OUT)
			so->out = optarg;
		else if (c == O_HASH)
			hash = optarg;
		else if (c == O_FACTORY)
			so->co.o.factory_pin = optarg;
		else
			return CTL_E_USAGE;
	}
	if ((*help = g.help_shown))
		return CTL_OK;
	if (!so->in || !so->out)
		return tool_fail(CTL_E_USAGE, "token sign: --in and --out are required");
	alg = !strcmp(hash, "sha1") ? CTL_HASH_SHA1 : !strcmp(hash, "sha256") ? CTL_HASH_SHA256
				  : !strcmp(hash, "sha512") ? CTL_HASH_SHA512 : 0;
	so->evp = alg == CTL_HASH_SHA1 ? EVP_sha1() : alg == CTL_HASH_SHA512 ? EVP_sha512() : EVP_sha256();
	if (!alg)
		return tool_fail(CTL_E_USAGE, "token sign: --hash must be sha1, sha256 or sha512");
	so->alg = alg;
	return CTL_OK;
}

/* Signs the digest md with the token's key into sig, after every token rule. */
static int token_sign_digest(struct token_sign_opts *so, struct token_module **m,
			     struct token **t, const unsigned char *md, unsigned int mdlen,
			     struct cbb *sig)
{
	const struct ctl_signer *s;
	struct ctl_err err = {0};
	int rc;

	if ((rc = open_module(&so->co, m)) != CTL_OK)
		return rc;
	if ((rc = token_open(*m, &so->co.o, t, &err)) != CTL_OK)
		return tool_report(&err);
	s = token_signer(*t);
	if ((rc = s->sign(s->ctx, so->alg, md, mdlen, sig, &err)) != CTL_OK)
		return tool_report(&err);
	return CTL_OK;
}

static int cmd_token_sign(int argc, char **argv)
{
	struct token_sign_opts so;
	struct token_module *m = NULL;
	struct token *t = NULL;
	struct ctl_err err = {0};
	struct ctl_buf data = {0};
	struct cbb sig;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	uint8_t *sb = NULL;
	size_t sl = 0;
	bool help = false;
	int rc;

	memset(&so, 0, sizeof(so));
	cbb_init(&sig);
	if ((rc = token_sign_options(argc, argv, &so, &help)) != CTL_OK || help)
		return rc;
	if ((rc = ctl_read_file(so.in, CTL_MAX_FILE_SIZE, &data, &err)) != CTL_OK)
		return tool_report(&err);
	if (!EVP_Digest(data.data, data.len, md, &mdlen, so.evp, NULL)) {
		rc = tool_fail(CTL_E_INTERNAL, "digest failed");
		goto out;
	}
	if ((rc = token_sign_digest(&so, &m, &t, md, mdlen, &sig)) != CTL_OK)
		goto out;
	if (!cbb_finish(&sig, &sb, &sl)) {
		rc = tool_fail(CTL_E_INTERNAL, "out of memory");
		goto out;
	}
	if ((rc = ctl_write_atomic(so.out, sb, sl, 0644, &err)) != CTL_OK) {
		rc = tool_report(&err);
		goto out;
	}
	if (!PEM_write_X509(stdout, token_cert(t)))
		rc = tool_fail(CTL_E_IO, "cannot write the certificate to stdout");
out:
	free(sb);
	cbb_cleanup(&sig);
	ctl_buf_clear(&data);
	token_close(t);
	token_module_close(m);
	return rc;
}

/* ---- wait: the ceremony's building blocks ---- */

static const char wait_usage[] =
	"usage: ctlsign token wait [--removed] [--timeout SECONDS] [--module PATH]\n"
	"Waits until exactly one token is present and prints its label and serial (two or\n"
	"more: asks to remove one, exit 9), or with --removed until the token present now\n"
	"is removed. Timeout (default 60 s): exit 12.\n";
static const struct tool_opt wait_own[] = {
	{O_REMOVED, "removed", NULL, "wait until the token present now is removed"},
	{O_TIMEOUT, "timeout", "SECONDS", "give up after SECONDS (default 60): exit 12"},
	SIGN_OPT_MODULE,
	TOOL_OPT_END,
};
static const struct tool_opt *const wait_opts[] = {wait_own, NULL};

static int cmd_wait(int argc, char **argv)
{
	struct tool_args g = {.argc = argc, .argv = argv, .usage = wait_usage, .opts = wait_opts};
	struct common co = {0};
	bool removed = false;
	unsigned long secs = 60;
	struct token_module *m;
	struct token_info ti;
	struct ctl_err err = {0};
	int c, rc;

	while ((c = tool_opt_next(&g)) != -1) {
		if (c == SIGN_O_MODULE)
			co.module = optarg;
		else if (c == O_REMOVED)
			removed = true;
		else if (c == O_TIMEOUT) {
			if (!tool_parse_uint(optarg, 0, 86400, &secs, "--timeout", &err))
				return tool_report(&err);
		} else
			return CTL_E_USAGE;
	}
	if (g.help_shown)
		return CTL_OK;
	if ((rc = open_module(&co, &m)) != CTL_OK)
		return rc;
	rc = token_wait_one(m, removed ? 0 : (int)secs * 1000, &ti, &err);
	if (rc == CTL_OK && removed) {
		fprintf(stderr, "%s: remove token '%s'\n", tool_prog, ti.label);
		rc = token_wait_removed(m, &ti, (int)secs * 1000, &err);
		if (rc == CTL_OK)
			printf("removed %s %s\n", ti.label, ti.serial);
	} else if (rc == CTL_OK) {
		printf("present %s %s\n", ti.label, ti.serial);
	}
	token_info_clear(&ti);
	token_module_close(m);
	return rc == CTL_OK ? CTL_OK : tool_report(&err);
}

static const struct tool_cmd token_cmds[] = {
	{"list", cmd_list, "list tokens, their PIN flags, keys and certificates (--json)"},
	{"passwd", cmd_passwd, "change a token's PIN"},
	{"provision", cmd_provision, "labs/CI: generate a key pair and self-signed cert on a token"},
	{"import", cmd_import, "store an existing key (not extractable) and its cert on a token"},
	{"sign", cmd_token_sign, "sign a file's digest with the token key (raw signature)"},
	{"wait", cmd_wait, "wait for one token to be inserted, or removed"},
	{NULL, NULL, NULL},
};

int cmd_token(int argc, char **argv)
{
	const char *saved = tool_prog;
	int rc;

	/* "ctlsign token SUB ...": dispatch again, messages still say "ctlsign". */
	rc = tool_dispatch("ctlsign token", token_cmds, argc, argv);
	tool_prog = saved;
	return rc;
}
