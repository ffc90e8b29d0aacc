/*
 * audit.h - the signing audit log (SPEC §4.5): one JSON object per line, appended.
 *
 * Path: --audit-log option, else $CTLSIGN_AUDIT_LOG, else ./ctlsign-audit.log.
 */
#ifndef CTL_AUDIT_H
#define CTL_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "ctl.h"

#define AUDIT_ENV "CTLSIGN_AUDIT_LOG"
#define AUDIT_DEFAULT_PATH "ctlsign-audit.log"

struct audit_rec {
	const char *operation;    /* "ctl-create", "ctl-update", "ctl-delete-token", "sign", "encrypt", "bulk-summary", ... */
	const char *output;       /* the output file's path, or NULL */
	const uint8_t *data;      /* the output bytes (SHA-256 is logged), or NULL */
	size_t len;
	const char *token_label;  /* or NULL */
	const char *token_serial; /* or NULL */
	X509 *signer_cert;        /* serial and subject are logged; or NULL */
	const char *result;       /* "ok", or a one-line error */
	const char *detail;       /* optional free text (bulk summaries), or NULL */
};

/* Resolves the path: explicit (option) if non-NULL, else env, else the default. */
const char *audit_path(const char *explicit_path);

/* Appends one line with O_APPEND in a single write, then fsyncs. The time is now (UTC,
 * RFC 3339). */
int audit_append(const char *path, const struct audit_rec *r, struct ctl_err *err);
/* n records in one write and one fsync (bulk signing). */
int audit_append_batch(const char *path, const struct audit_rec *recs, size_t n,
		       struct ctl_err *err);

#endif
