/*
 * publish.h - putting files into TFTP directories (SPEC §4.2): one run at a time per
 * directory (a lock file), the previous CTL kept as NAME.bak (the ones before it as
 * NAME.bak.1 and NAME.bak.2: three generations), the new one written atomically, each
 * directory reported on its own.
 *
 * A TFTP directory is writable by people who hold no token. Nothing in one is followed:
 * every open there uses O_NOFOLLOW, and a CTLFile.tlv, its backups or .ctlsign.lock
 * that is not a regular file (a symbolic link, a FIFO, a directory) is refused with
 * CTL_E_POLICY before anything is published to any directory.
 */
#ifndef CTL_PUBLISH_H
#define CTL_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"

#define PUBLISH_LOCK_NAME ".ctlsign.lock"
#define PUBLISH_WAIT_DEFAULT 10 /* seconds: --wait */

struct publish_lock;

/* Takes DIR/.ctlsign.lock in each of dirs, in order. The lock file holds the holder's
 * PID from the moment it exists (written to a temporary file that is then linked into
 * place) and is held with flock. A busy lock is waited for up to wait_s seconds (a note
 * on stderr says whose it is), then CTL_E_CANCELLED naming the holder's PID and command
 * line. A lock file whose holder died is taken over (a note on stderr). check_names
 * (NULL-terminated, or NULL): files in every directory that must be regular files or
 * absent (CTL_E_POLICY otherwise), checked once all locks are held. */
int publish_lock(char *const *dirs, size_t ndirs, unsigned wait_s,
		 const char *const *check_names, struct publish_lock **out, struct ctl_err *err);
void publish_unlock(struct publish_lock *l);

/* DIR/name is a regular file or absent: CTL_E_POLICY (naming it) otherwise, CTL_E_IO
 * when it cannot be looked at. */
int publish_check_regular(const char *dir, const char *name, struct ctl_err *err);

/* The same for a path (DIR/NAME split at its last '/'). */
int publish_check_path(const char *path, struct ctl_err *err);

/* Reads DIR/name, a regular file (never through a symbolic link), at most max bytes.
 * *missing (may be NULL) is set when it does not exist (then CTL_E_IO). */
int publish_read(const char *dir, const char *name, size_t max, struct ctl_buf *out,
		 bool *missing, struct ctl_err *err);
/* Parses PATH (DIR/NAME in an output directory) read as publish_read reads it: a link,
 * FIFO or directory there is refused (CTL_E_POLICY), never followed. */
int publish_parse(const char *path, struct ctl_file **out, struct ctl_err *err);

/* Every directory exists, is a directory and is writable: else CTL_E_IO naming it and
 * saying that nothing was signed (checked before signing, so that a second directory
 * that cannot take the file stops the run before the first one is published). */
int publish_check_dirs(char *const *dirs, size_t ndirs, struct ctl_err *err);
struct publish_result {
	const char *dir;
	int rc;              /* CTL_OK or the failure */
	bool had_old;        /* a previous file was there (and is now NAME.bak; the older
			      * backups shifted to NAME.bak.1 and NAME.bak.2) */
	size_t leftovers;    /* temporary files of an interrupted run, removed */
	bool unsynced;       /* rc != CTL_OK, yet the new file is in place: only the
			      * directory's fsync failed (msg says so) */
	char msg[CTL_ERR_MAX];
};

/* Writes data as DIR/name in every directory (first removing temporary files that an
 * interrupted run left there: call with the lock held). Every directory's NAME and
 * backups are checked (regular or absent) before the first is written: on a refusal
 * nothing is written anywhere (CTL_E_POLICY, each refused directory's res says why).
 * res has ndirs entries. Returns CTL_OK when all succeeded, CTL_E_PARTIAL when some
 * did, else the first failure's code. */
/* (CTL_OK when all succeeded; CTL_E_IO when every directory holds the new file but some
 * could not be synced: res[i].unsynced.) */
int publish_all(char *const *dirs, size_t ndirs, const char *name, const uint8_t *data,
		size_t len, struct publish_result *res);

/* A run killed after publishing to dirs[0] (which the next run reads as the current CTL)
 * left the other directories behind: copies dirs[0]/name, byte for byte, to each other
 * directory whose copy differs (call with the lock held), with an intent record in
 * audit_log before and an outcome record after (operation "ctl-catch-up"; the records name
 * the cluster file, when not NULL). res needs
 * ndirs - 1 entries; *nres says how many directories were written to. CTL_OK also when
 * none needed it. */
int publish_catch_up(char *const *dirs, size_t ndirs, const char *name, const char *cluster,
		     const char *audit_log,
		     struct publish_result *res, size_t *nres, struct ctl_err *err);

#endif
