/*
 * publish.h - putting a new CTL into the TFTP directories (SPEC §4.2): one run at a time
 * (a lock file), the previous file kept as NAME.bak, the new one written atomically, each
 * directory reported on its own.
 */
#ifndef CTL_PUBLISH_H
#define CTL_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"

#define PUBLISH_LOCK_NAME ".ctlsign.lock"

struct publish_lock;

/* Takes DIR/.ctlsign.lock (flock, non-blocking). A lock file whose holder is gone is stale
 * and taken over (*stale_pid says whose it was, 0 if none). Busy: CTL_E_IO naming the pid. */
int publish_lock(const char *dir, struct publish_lock **out, long *stale_pid,
		 struct ctl_err *err);
void publish_unlock(struct publish_lock *l);

struct publish_result {
	const char *dir;
	int rc;              /* CTL_OK or the failure */
	bool had_old;        /* a previous file was there (and is now NAME.bak) */
	size_t leftovers;    /* temporary files of an interrupted run, removed */
	char msg[512];
};

/* Writes data as DIR/name in every directory (first removing temporary files that an
 * interrupted run left there: call with the lock held). res has ndirs entries. Returns CTL_OK when
 * all succeeded, CTL_E_PARTIAL when some did, else the first failure's code. */
int publish_all(char *const *dirs, size_t ndirs, const char *name, const uint8_t *data,
		size_t len, struct publish_result *res);

/* A run killed after publishing to dirs[0] (which the next run reads as the current CTL)
 * left the other directories behind: copies dirs[0]/name, byte for byte, to each other
 * directory whose copy differs (call with the lock held). res needs ndirs - 1 entries;
 * *nres says how many directories were written to. CTL_OK also when none needed it. */
int publish_catch_up(char *const *dirs, size_t ndirs, const char *name,
		     struct publish_result *res, size_t *nres, struct ctl_err *err);

#endif
