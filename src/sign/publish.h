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
/* Test hook: when set to "before-publish", the process kills itself (SIGKILL) after the
 * backup of the first directory is written and before its new file is. */
#define PUBLISH_KILL_ENV "CTLSIGN_TEST_KILL"

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

#endif
