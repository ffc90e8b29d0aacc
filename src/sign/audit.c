/* audit.c - see audit.h */
#include "audit.h"

#include "bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

const char *audit_path(const char *explicit_path)
{
	const char *env;

	if (explicit_path && *explicit_path)
		return explicit_path;
	env = getenv(AUDIT_ENV);
	if (env && *env)
		return env;
	return AUDIT_DEFAULT_PATH;
}

static void add_str(struct json_object *o, const char *key, const char *val)
{
	if (val)
		json_object_object_add(o, key, json_object_new_string(val));
}

static int add_signer(struct json_object *o, X509 *cert)
{
	const ASN1_INTEGER *sn;
	BIGNUM *bn;
	char *serial, *subject;

	sn = X509_get0_serialNumber(cert);
	bn = sn ? ASN1_INTEGER_to_BN(sn, NULL) : NULL;
	serial = bn ? BN_bn2hex(bn) : NULL;
	BN_free(bn);
	subject = ctl_name_string(X509_get_subject_name(cert));
	if (!serial || !subject) {
		OPENSSL_free(serial);
		free(subject);
		return 0;
	}
	add_str(o, "signer_serial", serial);
	add_str(o, "signer_subject", subject);
	OPENSSL_free(serial);
	free(subject);
	return 1;
}

/* Builds one record as a JSON line (with '\n') appended to out. */
static int audit_line(const struct audit_rec *r, struct cbb *out)
{
	struct json_object *o = json_object_new_object();
	char when[32];
	const char *s;
	time_t now = time(NULL);
	struct tm tm;
	int ok = 0;

	if (!o || !gmtime_r(&now, &tm) || !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
		goto out;
	add_str(o, "time", when);
	add_str(o, "operation", r->operation);
	add_str(o, "output", r->output);
	if (r->data) {
		uint8_t md[32];
		unsigned mdlen = 0;
		char *h;

		if (!EVP_Digest(r->data, r->len, md, &mdlen, EVP_sha256(), NULL))
			goto out;
		if (!(h = ctl_hex(md, mdlen)))
			goto out;
		add_str(o, "output_sha256", h);
		free(h);
	}
	add_str(o, "token_label", r->token_label);
	add_str(o, "token_serial", r->token_serial);
	if (r->signer_cert && !add_signer(o, r->signer_cert))
		goto out;
	add_str(o, "result", r->result ? r->result : "ok");
	add_str(o, "detail", r->detail);

	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		goto out;
	ok = cbb_add_bytes(out, s, strlen(s)) && cbb_add_u8(out, '\n');
out:
	json_object_put(o);
	return ok;
}

int audit_append(const char *path, const struct audit_rec *r, struct ctl_err *err)
{
	return audit_append_batch(path, r, 1, err);
}

int audit_append_batch(const char *path, const struct audit_rec *recs, size_t n,
		       struct ctl_err *err)
{
	struct cbb b;
	uint8_t *line = NULL;
	size_t len = 0;
	ssize_t w;
	int fd = -1, rc = CTL_E_INTERNAL;

	cbb_init(&b);
	for (size_t i = 0; i < n; i++)
		if (!audit_line(&recs[i], &b))
			goto nomem;
	if (!cbb_finish(&b, &line, &len))
		goto nomem;
	if (!n) {
		rc = CTL_OK;
		goto out;
	}

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0) {
		rc = ctl_fail(err, CTL_E_IO, "cannot open audit log %s: %s (set --audit-log or %s)",
			      path, strerror(errno), AUDIT_ENV);
		goto out;
	}
	/* One write: O_APPEND makes the lines land whole at the end. */
	w = write(fd, line, len);
	if (w < 0 || (size_t)w != len || fsync(fd) != 0) {
		rc = ctl_fail(err, CTL_E_IO, "cannot append to audit log %s: %s", path,
			      w < 0 || (size_t)w == len ? strerror(errno) : "short write");
		goto out;
	}
	rc = CTL_OK;
	goto out;
nomem:
	cbb_cleanup(&b);
	rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory writing the audit record");
out:
	if (fd >= 0 && close(fd) != 0 && rc == CTL_OK)
		rc = ctl_fail(err, CTL_E_IO, "cannot close audit log %s: %s", path, strerror(errno));
	free(line);
	return rc;
}
