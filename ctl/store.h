/*
 * store.h - the device's trust store on disk (the phone's flash), internal to the library.
 *
 * Layout of the directory:
 *   CTLFile.tlv, ITLFile.tlv   the held files, byte for byte as accepted
 *   state                      text, one key=value a line: for each held file its SHA-256,
 *                              install time, signer subject and how it was trusted
 *   lock                       flock'ed: shared while a process reads the store (open),
 *                              exclusive while one repairs or commits; the exclusive
 *                              holder writes its PID into it (emptied before unlocking)
 * An install is a two-step commit (store_commit): the new file is written atomically as
 * NAME.next, then the state file (naming the new file's hash) is written atomically -
 * that rename is the commit point - then NAME.next is renamed to NAME. A CTL install that
 * drops the held ITL records the ITL's hash as itl.dropped in the same state file and
 * removes ITLFile.tlv after the commit point. Opening finishes or drops an interrupted
 * install (under the exclusive lock), so a crash at any point leaves either the old or
 * the new files held, each with its own state, never a mix.
 */
#ifndef CTL_STORE_H
#define CTL_STORE_H

#include "ctl.h"

struct store_held {
	struct ctl_file *file; /* NULL when nothing of this kind is held */
	char sha256[65];
	long long installed;
	char signer[512];
	char trust[32];
	/* The last file of this kind that a later install dropped ("" if none): its hash,
	 * when, and why (kept until a new file of this kind is installed). */
	char dropped_sha256[65];
	long long dropped_at;
	char dropped_why[256];
};

struct store {
	char *dir;   /* NULL: in memory only */
	int lock_fd; /* -1 when none; locked only inside store_open and store_lock */
	int wait_s;  /* how long to wait for the lock before CTL_E_CANCELLED (busy) */
	struct store_held ctl, itl;
};

#define STORE_DEFAULT_WAIT 10

/* Kind is CTL_KIND_CTL or CTL_KIND_ITL. */
struct store_held *store_held(struct store *st, int kind);
const char *store_file_name(int kind); /* "CTLFile.tlv", "ITLFile.tlv" */

/* dir NULL: an empty in-memory store. Reads the store under a shared lock (waiting at
 * most wait_s seconds, also kept for store_lock), repairs an interrupted install under the exclusive
 * lock, and returns with no lock held. */
int store_open(struct store *st, const char *dir, int wait_s, struct ctl_err *err);
void store_close(struct store *st);

/* For a commit: takes the exclusive lock (waiting at most st->wait_s seconds, then
 * CTL_E_CANCELLED naming the holder's PID), writes our PID into the lock file and reads
 * the store again (another process may have committed since it was opened). A no-op
 * for an in-memory store. On failure no lock is held. */
int store_lock(struct store *st, struct ctl_err *err);
/* Releases what store_lock took. */
void store_unlock(struct store *st);

/* Makes f (ownership taken on success) the held file of its kind, with the given signer
 * subject and trust word; install time is now. For a CTL, the held ITL (if any) is in the
 * same commit either dropped (itl_drop_why not NULL: recorded as dropped with that
 * reason) or given the trust word itl_trust (not NULL). Call between store_lock and
 * store_unlock. On failure nothing changes. */
int store_commit(struct store *st, struct ctl_file *f, const char *signer, const char *trust,
		 const char *itl_trust, const char *itl_drop_why, struct ctl_err *err);

/* Lowercase hex SHA-256 of data into out[65]. */
int store_sha256_hex(const uint8_t *data, size_t len, char out[65]);

/* Internal to store.c and store_state.c. */
/* Copies a value into a fixed field, replacing control characters (the state file is
 * line based). */
void store_copy_field(char *dst, size_t cap, const char *src);
/* Fills sha256/installed/signer/trust of st->ctl and st->itl (file stays NULL). */
int store_state_parse(struct store *st, const struct ctl_buf *b, const char *path,
		       struct ctl_err *err);
int store_state_write(const struct store *st, const struct store_held *ctl,
		       const struct store_held *itl, int *renamed, struct ctl_err *err);

#endif
