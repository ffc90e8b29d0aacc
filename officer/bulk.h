/*
 * bulk.h - signing many TFTP files with one signer (SPEC §4.4): which names are
 * eligible, whether a file changed since its .sgn was made, and the pipeline that signs
 * them (a streaming directory walk, N signing threads, one committer thread that makes
 * the outputs durable in batches).
 *
 * Memory stays flat whatever the file count: names are streamed from readdir through
 * bounded queues; only the files in flight are held.
 */
#ifndef CTL_BULK_H
#define CTL_BULK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "ctl.h"

/* Eligible names for `--dir` (fnmatch(3) patterns, no flags). --include replaces this
 * list; --exclude adds to the built-in exclusions. */
extern const char *const bulk_default_includes[];
/* Never signed, whatever --include says: our own outputs, CTL/ITL, hidden/temp files. */
extern const char *const bulk_builtin_excludes[];

struct bulk_patterns {
	const char *const *include; /* NULL-terminated; NULL = bulk_default_includes */
	const char *const *exclude; /* NULL-terminated extra exclusions, or NULL */
};
bool bulk_name_eligible(const struct bulk_patterns *p, const char *name);

/* Printable form of a file name for messages, JSON and the audit log: bytes outside
 * printable ASCII (and '\\') become \xNN. Caller frees; NULL on ENOMEM. */
char *bulk_display_name(const char *name);

/* The incremental check. content is the file; sgn the bytes of its existing .sgn.
 * True only when the .sgn is a well-formed .sgn whose body equals content, whose header
 * names `file_name`, uses hash_alg and is signed by (issuer, serial) of signer_cert. */
bool bulk_sgn_current(const uint8_t *content, size_t len, const uint8_t *sgn, size_t sgn_len,
		      const char *file_name, int hash_alg, X509 *signer_cert);

/* Audit first, publish second. For each batch, once its outputs are written and synced
 * to temporary files but before any is renamed into place, the committer thread calls
 * intent with the batch (result "ok"): it must record them and fill id (BULK_ID_MAX) for
 * the outcome. If it fails, nothing of the batch is published (its temporary files are
 * removed) and the run stops with that error; a rerun signs those files again. After
 * the renames, outcome gets the same id and each output's result ("ok" or an error). */
#define BULK_ID_MAX 48
/* A file in place whose directory could not be synced: published, may not survive a
 * power loss (the audit outcome says so; the run exits 3). */
#define BULK_UNSYNCED "published-unsynced"

struct bulk_done {
	const char *path;      /* output path (display form) */
	const uint8_t *data;   /* the output bytes */
	size_t len;
	const char *result;    /* "ok", BULK_UNSYNCED or an error line */
};
typedef int (*bulk_intent_fn)(void *ctx, const struct bulk_done *d, size_t n, char *id,
			      struct ctl_err *err);
typedef void (*bulk_outcome_fn)(void *ctx, const char *id, const struct bulk_done *d, size_t n);

struct bulk_opts {
	const struct ctl_signer *signer;
	int hash_alg;              /* CTL_HASH_* (0 = SHA-512) */
	uint32_t timestamp;        /* 0 = now, per file */
	bool all;                  /* re-sign even unchanged files */
	unsigned jobs;             /* signing threads (>= 1) */
	bool progress;             /* progress bar on stderr */
	bool quiet;                /* no per-file error lines on stderr */
	struct bulk_patterns patterns; /* --dir only */
	const char *outdir;        /* NULL: next to each input */
	bulk_intent_fn intent;     /* both or neither */
	bulk_outcome_fn outcome;
	void *audit_ctx;
	size_t max_failures_listed;/* failures kept for the JSON summary (0 = 100) */
	/* Polled between files (may be NULL): nonzero (the signal) stops the run like a token
	 * fault, with CTL_E_CANCELLED; a batch being published is finished first. */
	int (*cancelled)(void);
};

struct bulk_stats {
	unsigned long considered;  /* eligible names seen */
	unsigned long signed_files;
	unsigned long unchanged;
	unsigned long failed;
	unsigned long skipped;     /* symlinks, non-regular files; in a directory, a clear
				    * config whose phone has an .enc.sgn (with a warning) */
	unsigned long not_done;    /* left when the run stopped early */
	unsigned long unsynced;    /* of signed_files: in place, but the directory's fsync
				    * after the rename failed (may not survive a power loss) */
	bool stopped;              /* a token fault stopped the run */
	struct ctl_err stop;       /* why */
	struct json_object *failures; /* array of {file, error}; owned, free with json_object_put */
	bool failures_truncated;
	struct json_object *warnings; /* array of {file, warning} (NULL: none); owned */
};
void bulk_stats_clear(struct bulk_stats *st);

/* Signs every eligible file in dir. Returns CTL_OK when nothing failed, CTL_E_PARTIAL
 * when some files failed, the stop code (CTL_E_TOKEN...) when a fault stopped the run,
 * or another code (err set) when the run could not start. */
int bulk_sign_dir(const char *dir, const struct bulk_opts *o, struct bulk_stats *st,
		  struct ctl_err *err);
/* The same for explicit files (the incremental check applies only if !o->all and
 * always_sign is false; `ctlsign sign FILE...` signs unconditionally). */
int bulk_sign_files(char *const *files, size_t n, bool always_sign, const struct bulk_opts *o,
		    struct bulk_stats *st, struct ctl_err *err);

/* Stale .sgn files, narrowly: in outdir, X.sgn (not .enc.sgn) where X is
 * eligible under p, X is absent from dir, no X.enc.sgn is beside it (an encrypted phone's
 * minimal config), and the .sgn is a well-formed .sgn whose header names X.sgn and that
 * verifies with signer_cert (this run's key: firmware and other vendor-signed files never
 * qualify). Raw names (X.sgn) into *names (*n of them; free with bulk_names_free). */
int bulk_find_orphans(const char *dir, const char *outdir, const struct bulk_patterns *p,
		      X509 *signer_cert, char ***names, size_t *n, struct ctl_err *err);
void bulk_names_free(char **names, size_t n);

/* Removes the orphans of outdir named in names, each checked again first (still an
 * orphan, same bytes as announced): intent records (via intent, ctx) for a batch before
 * the first is removed, the outcome after. *removed counts the removed files. CTL_OK, or
 * the intent's failure (nothing removed), or CTL_E_PARTIAL (some could not be removed). */
int bulk_prune_orphans(const char *dir, const char *outdir, const struct bulk_patterns *p,
		       X509 *signer_cert, char *const *names, size_t n, bulk_intent_fn intent,
		       bulk_outcome_fn outcome, void *ctx, unsigned long *removed,
		       struct ctl_err *err);

/* Summary as JSON: {"signed":..,"unchanged":..,"failed":..,"skipped":..,"not_done":..,
 * "failures":[...]} (takes a reference to st->failures). */
struct json_object *bulk_stats_json(const struct bulk_stats *st);

#endif
