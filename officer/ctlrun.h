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
/* The state directory's record (state.h) of the CTL being published to the first
 * directory: written before the first rename, so that a run killed before it recorded
 * the publication is still anchored when rerun. */
#define CTLRUN_PUBLISHING_NAME "CTLFile.tlv.publishing"
/* The ITL (SPEC §4.5), published the same way; its own records in the state directory. */
#define CTLRUN_ITL_FILE_NAME "ITLFile.tlv"
#define CTLRUN_ITL_PUBLISHING_NAME "ITLFile.tlv.publishing"

struct ctlrun_opts {
	char *const *dirs;          /* TFTP directories */
	size_t ndirs;
	int hash_alg;
	int kind;                   /* CTL_KIND_CTL (also when 0) or CTL_KIND_ITL */
	const char *audit_log;      /* resolved path */
	const char *operation;      /* "ctl-create", "ctl-update", "ctl-delete-token", "itl-create" */
	const char *token_label;    /* for the audit record; may be NULL */
	const char *token_serial;
	const char *cluster;        /* the cluster file, named in the audit records; may be NULL */
	FILE *out;                  /* per-directory report (stdout) */
	struct publish_result *results; /* NULL, or ndirs entries: each directory's outcome */
};

/* Builds and signs the CTL, parses it back and verifies it against its own SAST record,
 * appends the audit record (also for a failed signature), publishes it to every
 * directory and records it in the state directory for each that now holds it
 * (ctlrun_record; before publishing, CTLRUN_PUBLISHING_NAME for the first directory). Returns CTL_OK, CTL_E_PARTIAL (some directories failed; each is reported),
 * or the failure. Nothing is published unless the signature verified and was audited.
 * With o->kind CTL_KIND_ITL the same for the ITL: ITLFile.tlv, verified against its own
 * signer record, recorded as ITLFile.tlv (before publishing: CTLRUN_ITL_PUBLISHING_NAME). */
int ctlrun_finish(const struct ctl_record *recs, size_t n, const struct ctl_signer *signer,
		  const struct ctlrun_opts *o, struct ctl_err *err);

struct publish_result;
/* Records, in ctlsign's state directory, data as what each directory of res that was
 * published to now holds (what the next update trusts, issue 10). A failure makes *rc
 * CTL_E_IO (when it was CTL_OK) saying that the CTL is published but not recorded and
 * that the next update needs --trust-current with its hash; else it is printed. */
void ctlrun_record(const struct publish_result *res, size_t n, const uint8_t *data, size_t len,
		   int *rc, struct ctl_err *err);
/* ctlrun_record for a file name other than the CTL's. */
void ctlrun_record_file(const struct publish_result *res, size_t n, const char *name,
			const uint8_t *data, size_t len, int *rc, struct ctl_err *err);

struct ctldiff;
/* What the next steps depend on. */
struct ctlrun_next {
	const struct ctldiff *diff;           /* what changed (NULL: not known) */
	bool replaced;                        /* a CTL replaced by `ctl create --force`: phones
						 * holding the old one refuse the new one */
	const struct publish_result *res;     /* each directory's outcome, or NULL (all done) */
	size_t nres;
};

/* What to do after a new CTL (SPEC §4.2, G-1.13), fitted to the change (issue 12, item
 * 12): directories that still hold the previous CTL; restart CCM/TFTP on this cluster's
 * servers (an alternate TFTP server of another cluster restarts nothing here); restart
 * CAPF when a CAPF record changed; import the CTL on an ASA whose record changed; then
 * reset the phones, or erase their CTL when it was replaced. */
void ctlrun_print_next(FILE *fp, const struct cluster *c, const struct ctlrun_next *n);

#endif
