/*
 * ctlrun.h - the last steps of every CTL change, after the records are decided and the
 * officer agreed: sign, check what was signed, audit, publish, say what to restart.
 * Separate from the command so that tests can drive it with any signer (a failing one
 * stands for a token pulled out during signing).
 */
#ifndef CTL_CTLRUN_H
#define CTL_CTLRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cluster.h"
#include "ctl.h"

#define CTLRUN_FILE_NAME "CTLFile.tlv"

struct ctlrun_opts {
	char *const *dirs;          /* TFTP directories */
	size_t ndirs;
	int hash_alg;
	const char *audit_log;      /* resolved path */
	const char *operation;      /* "ctl-create", "ctl-update", "ctl-delete-token" */
	const char *token_label;    /* for the audit record; may be NULL */
	const char *token_serial;
	FILE *out;                  /* per-directory report (stdout) */
};

/* Builds and signs the CTL, parses it back and verifies it against its own SAST record,
 * appends the audit record (also for a failed signature), and publishes it to every
 * directory. Returns CTL_OK, CTL_E_PARTIAL (some directories failed; each is reported),
 * or the failure. Nothing is published unless the signature verified and was audited. */
int ctlrun_finish(const struct ctl_record *recs, size_t n, const struct ctl_signer *signer,
		  const struct ctlrun_opts *o, struct ctl_err *err);

/* The services and devices to restart after a new CTL (SPEC §4.2, G-1.13). */
void ctlrun_print_restart(FILE *fp, const struct cluster *c);

#endif
