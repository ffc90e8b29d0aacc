/* session.c - see session.h */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "token.h"

static int check_audit_writable(const char *path, struct ctl_err *err)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0640);

	if (fd < 0)
		return ctl_fail(err, CTL_E_IO,
				"cannot open audit log %s: %s (set --audit-log or %s); nothing signed",
				path, strerror(errno), AUDIT_ENV);
	close(fd);
	return CTL_OK;
}

int session_open(struct session *s, const char *module, const char *uri, const char *pin,
		 bool final_try, const char *audit_log, struct ctl_err *err)
{
	struct token_opts to;
	const struct token_info *ti;
	int rc;

	memset(s, 0, sizeof(*s));
	s->audit_log = audit_path(audit_log);
	if ((rc = check_audit_writable(s->audit_log, err)) != CTL_OK)
		return rc;
	if ((rc = token_module_open(module, &s->mod, err)) != CTL_OK)
		return rc;
	memset(&to, 0, sizeof(to));
	to.uri = uri;
	to.pin = pin;
	to.final_try = final_try;
	if ((rc = token_open(s->mod, &to, &s->tok, err)) != CTL_OK) {
		session_close(s);
		return rc;
	}
	s->signer = token_signer(s->tok);
	s->cert = token_cert(s->tok);
	ti = token_get_info(s->tok);
	s->label = ti ? ti->label : NULL;
	s->serial = ti ? ti->serial : NULL;
	if (!s->signer || !s->cert) {
		session_close(s);
		return ctl_fail(err, CTL_E_TOKEN, "the token has no certificate for its signing key");
	}
	if (X509_get0_pubkey(s->cert) == NULL ||
	    EVP_PKEY_get_base_id(X509_get0_pubkey(s->cert)) != EVP_PKEY_RSA) {
		session_close(s);
		return ctl_fail(err, CTL_E_UNSUPPORTED,
				"the token's signing key is not RSA: phones only accept RSA PKCS#1 v1.5 signatures on TFTP files");
	}
	return CTL_OK;
}

void session_close(struct session *s)
{
	if (s->tok)
		token_close(s->tok);
	if (s->mod)
		token_module_close(s->mod);
	s->tok = NULL;
	s->mod = NULL;
}

int session_check_ctl(const char *ctl_path, X509 *cert, struct ctl_err *err)
{
	struct ctl_file *f = NULL;
	bool servers = false, server_certs = false, found = false;
	int rc;

	if ((rc = ctl_parse_file(ctl_path, &f, err)) != CTL_OK)
		return ctl_fail_prefix(err, "CTL %s", ctl_path), rc;
	if (f->kind != CTL_KIND_CTL) {
		rc = ctl_fail(err, CTL_E_MALFORMED, "%s is not a CTL (it is a %s file)", ctl_path,
			      ctl_kind_name(f->kind));
		goto out;
	}
	if ((rc = ctl_verify_self(f, err)) != CTL_OK) {
		ctl_fail_prefix(err, "CTL %s does not verify", ctl_path);
		goto out;
	}
	for (size_t i = 0; i < f->nrecords; i++) {
		if (f->records[i].role == CTL_ROLE_SAST)
			continue;
		servers = true;
		if (f->records[i].cert.len)
			server_certs = true;
	}
	if (servers && !server_certs) {
		rc = ctl_fail(err, CTL_E_POLICY,
			      "the cluster is non-secure (CTL %s lists its servers without certificates): phones take unsigned configs, so nothing is signed",
			      ctl_path);
		goto out;
	}
	for (size_t i = 0; i < f->nrecords && !found; i++)
		found = ctl_role_is_tftp(f->records[i].role) &&
			ctl_record_is_cert(&f->records[i], cert);
	if (!found)
		rc = ctl_fail(err, CTL_E_POLICY,
			      "phones would reject these files: the signing certificate is not in the CTL with a TFTP role (%s); sign with the TFTP key or update the CTL",
			      ctl_path);
	else
		rc = CTL_OK;
out:
	ctl_file_free(f);
	return rc;
}

char *session_find_ctl(const char *explicit_path, const char *const *dirs, size_t ndirs)
{
	struct stat sb;

	if (explicit_path)
		return strdup(explicit_path);
	for (size_t i = 0; i < ndirs; i++) {
		size_t n;
		char *p;
		if (!dirs[i])
			continue;
		n = strlen(dirs[i]) + sizeof("/CTLFile.tlv");
		if (!(p = malloc(n)))
			return NULL;
		snprintf(p, n, "%s/CTLFile.tlv", dirs[i]);
		if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode))
			return p;
		free(p);
	}
	return NULL;
}

static int intent_op(void *ctx, const char *op, const char *detail, const struct bulk_done *d,
		     size_t n, char *id, struct ctl_err *err)
{
	struct session *s = ctx;
	struct audit_rec *recs = calloc(n ? n : 1, sizeof(*recs));
	int rc;

	if (!recs)
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory writing the audit log");
	audit_new_id(id);
	for (size_t i = 0; i < n; i++)
		recs[i] = (struct audit_rec){.operation = op, .output = d[i].path,
					     .data = d[i].data, .len = d[i].len,
					     .token_label = s->label, .token_serial = s->serial,
					     .signer_cert = s->cert, .result = d[i].result,
					     .detail = detail, .phase = "intent", .intent = id};
	rc = audit_append_batch(s->audit_log, recs, n, err);
	free(recs);
	return rc;
}

int session_audit_intent(void *ctx, const struct bulk_done *d, size_t n, char *id,
			 struct ctl_err *err)
{
	return intent_op(ctx, "sign", NULL, d, n, id, err);
}

int session_audit_intent_prune(void *ctx, const struct bulk_done *d, size_t n, char *id,
			       struct ctl_err *err)
{
	return intent_op(ctx, "prune",
			 "stale .sgn: its config is gone, signed by this key, no .enc.sgn beside it",
			 d, n, id, err);
}

int session_audit_intent2(struct session *s, const struct bulk_done d[2], char *id,
			  struct ctl_err *err)
{
	struct audit_rec recs[2];

	audit_new_id(id);
	for (size_t i = 0; i < 2; i++)
		recs[i] = (struct audit_rec){.operation = i ? "sign" : "encrypt", .output = d[i].path,
					     .data = d[i].data, .len = d[i].len,
					     .token_label = s->label, .token_serial = s->serial,
					     .signer_cert = s->cert, .result = d[i].result,
					     .detail = i ? "minimal config for an encrypted device" : NULL,
					     .phase = "intent", .intent = id};
	return audit_append_batch(s->audit_log, recs, 2, err);
}

static void outcome_verb(void *ctx, const char *id, const struct bulk_done *d, size_t n,
			 const char *verb)
{
	struct session *s = ctx;
	struct audit_rec r = {.operation = "publish", .phase = "outcome", .intent = id};
	char detail[1024];
	size_t nok = 0, nunsynced = 0, used = 0;
	struct ctl_err e;

	memset(&e, 0, sizeof(e));
	detail[0] = 0;
	for (size_t i = 0; i < n; i++) {
		int k;

		if (!strcmp(d[i].result, "ok")) {
			nok++;
			continue;
		}
		/* in place, but its directory could not be synced: published, not durable */
		if (!strcmp(d[i].result, BULK_UNSYNCED)) {
			nunsynced++;
			k = snprintf(detail + used, sizeof(detail) - used, "%s%s %s, directory not synced",
				     used ? "; " : "", d[i].path, verb);
		} else {
			k = snprintf(detail + used, sizeof(detail) - used, "%s%s", used ? "; " : "",
				     d[i].result);
		}
		if (k > 0 && used + (size_t)k < sizeof(detail))
			used += (size_t)k;
	}
	r.result = nok == n ? "ok" : nok + nunsynced == n ? BULK_UNSYNCED : nok + nunsynced ? "partial" : "failed";
	if (used) {
		r.detail = detail;
	} else {
		snprintf(detail, sizeof(detail), "%zu file%s %s", nok, nok == 1 ? "" : "s", verb);
		r.detail = detail;
	}
	if (audit_append(s->audit_log, &r, &e) == CTL_OK)
		return;
	/* Called from the committer thread only: no lock needed for these fields. */
	if (!s->audit_failed) {
		s->audit_failed = true;
		s->audit_err = e;
	}
}

void session_audit_outcome(void *ctx, const char *id, const struct bulk_done *d, size_t n)
{
	outcome_verb(ctx, id, d, n, "in place");
}

void session_audit_outcome_prune(void *ctx, const char *id, const struct bulk_done *d, size_t n)
{
	outcome_verb(ctx, id, d, n, "removed");
}

int session_audit(struct session *s, const char *operation, const char *output,
		  const uint8_t *data, size_t len, const char *result, const char *detail,
		  struct ctl_err *err)
{
	struct audit_rec r = {.operation = operation, .output = output, .data = data, .len = len,
			      .token_label = s->label, .token_serial = s->serial,
			      .signer_cert = s->cert, .result = result, .detail = detail};

	return audit_append(s->audit_log, &r, err);
}
