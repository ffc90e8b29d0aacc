/*
 * state.h - what ctlsign itself records outside every TFTP tree (trust hardening): the
 * state directory and, per output directory, the SHA-256 of the last CTL (or ITL) this
 * tool published there. A CTL in a TFTP directory is trusted as "current" only against
 * this record (or a token of the run, or the officer's --trust-current), never against a
 * record inside itself.
 *
 * Directory: $CTLSIGN_STATE_DIR, else $XDG_STATE_HOME/ctlsign, else
 * ~/.local/state/ctlsign (created 0700). It holds "published.json" and the default audit
 * log "audit.log". Tests point CTLSIGN_STATE_DIR at a temporary directory.
 */
#ifndef CTL_STATE_H
#define CTL_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"

#define STATE_ENV "CTLSIGN_STATE_DIR"
#define STATE_PUBLISHED "published.json"
#define STATE_AUDIT_LOG "audit.log"

/* The state directory's path (malloc'd), created (mode 0700, with its parents) if
 * missing. CTL_E_IO with a message naming the directory and STATE_ENV. */
int state_dir(char **out, struct ctl_err *err);

/* The state directory's path without creating anything (malloc'd); NULL if it cannot be
 * named (no HOME) or out of memory. For help texts and defaults. */
char *state_dir_path(void);

/* What was last published as DIR/NAME (DIR made absolute with realpath): *found false if
 * nothing is recorded; else sha256 (64 hex digits and NUL) and *when (epoch seconds). */
int state_published_get(const char *dir, const char *name, bool *found, char sha256[65],
			long long *when, struct ctl_err *err);

/* Records data as what now is DIR/NAME (replacing any earlier record for that path).
 * The record file is rewritten atomically under an exclusive lock on the directory. */
int state_published_put(const char *dir, const char *name, const uint8_t *data, size_t len,
			struct ctl_err *err);

/* SHA-256 of data as 64 hex digits and NUL. 0 on failure. */
int state_sha256_hex(const uint8_t *data, size_t len, char out[65]);

#endif
