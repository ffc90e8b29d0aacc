/*
 * audit.h - the signing audit log (SPEC §4.5): one JSON object per line, appended under
 * an exclusive flock on the log, each line carrying the SHA-256 of the line before it
 * ("prev"; 64 zeros on the first line of a log): a chain that `ctlsign audit --verify`
 * checks, so that a record deleted or edited in the middle of the log is found.
 *
 * Path: --audit-log option, else $CTLSIGN_AUDIT_LOG, else audit.log in ctlsign's state
 * directory (state.h), never a file in the current directory.
 *
 * Publishing (audit first, publish second): every publication writes an "intent" record
 * per output (operation, absolute output path, SHA-256, signer; "phase":"intent" and an
 * "intent" id) before the first rename that makes an output visible, and one "outcome"
 * record after ("operation":"publish", the same id, result "ok", "partial" or "failed").
 * An intent without an outcome is a run that was interrupted while publishing; the next
 * run over the same directory reports it (audit_report_interrupted).
 *
 * Paths in records ("output", "cluster") are absolute: a relative one is joined to the
 * current directory when the record is written. The intent records of ctl create, update
 * and delete-token name the cluster file they were made from ("cluster").
 */
#ifndef CTL_AUDIT_H
#define CTL_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/x509.h>

#include "ctl.h"

#define AUDIT_ENV "CTLSIGN_AUDIT_LOG"
#define AUDIT_DEFAULT_NAME "audit.log" /* in the state directory */
#define AUDIT_ID_MAX 48

/* The longest line a reader of the log takes: no record comes near it, and a longer line
 * is not ours (reading stops with an I/O error, exit 3). */
#define AUDIT_LINE_MAX (16u << 20)

struct audit_rec {
	const char *operation;    /* "ctl-create", "ctl-update", "ctl-delete-token", "sign", "encrypt", "bulk-summary", "publish", ... */
	const char *output;       /* the output file's path (made absolute in the record), or NULL */
	const uint8_t *data;      /* the output bytes (SHA-256 is logged), or NULL */
	size_t len;
	const char *token_label;  /* or NULL */
	const char *token_serial; /* or NULL */
	X509 *signer_cert;        /* serial and subject are logged; or NULL */
	const char *result;       /* "ok", or a one-line error */
	const char *detail;       /* optional free text (bulk summaries), or NULL */
	const char *phase;        /* "intent", "outcome" or NULL */
	const char *intent;       /* the id pairing an intent with its outcome, or NULL */
	const char *cluster;      /* the cluster file the record was made from (made absolute
				   * in the record, "cluster"), or NULL */
};

/* Resolves the path: explicit (option) if non-NULL, else env, else the state directory's
 * audit.log (the directory is created when missing). Never NULL: the empty string when
 * no default can be named (no HOME); appending then fails saying what to set. */
const char *audit_path(const char *explicit_path);

/* Appends one line with O_APPEND in a single write under the log's flock, then fsyncs.
 * The time is now (UTC, RFC 3339). */
int audit_append(const char *path, const struct audit_rec *r, struct ctl_err *err);
/* n records in one write and one fsync (bulk signing). */
int audit_append_batch(const char *path, const struct audit_rec *recs, size_t n,
		       struct ctl_err *err);

/* A fresh id for an intent and its outcome ("PID-EPOCH-SEQ"). */
void audit_new_id(char id[AUDIT_ID_MAX]);

/* Finds intents in the log without an outcome whose outputs are in one of dirs (compared
 * as absolute paths). Each is reported on fp as "an earlier run was interrupted after
 * announcing ...; this run <this_run>" and closed with an outcome record
 * ("result":"interrupted"), so that it is reported once. *found (may be NULL) counts them.
 * A missing log is no error. */
int audit_report_interrupted(const char *path, char *const *dirs, size_t ndirs,
			     const char *this_run, FILE *fp, size_t *found, struct ctl_err *err);

/* The chain check of `ctlsign audit --verify`. */
struct audit_verify {
	long lines;            /* lines read */
	long unchained;        /* the first `unchained` lines predate the chain (no "prev") */
	long first_bad;        /* 0, or the first line that does not chain to the one before */
	char why[256];         /* what is wrong at first_bad */
};
int audit_verify(const char *path, struct audit_verify *v, struct ctl_err *err);

#endif
