/*
 * store.h - the device's trust store on disk (the phone's flash), internal to the library.
 *
 * Layout of the directory:
 *   CTLFile.tlv, ITLFile.tlv   the held files, byte for byte as accepted
 *   state                      text, one key=value a line: for each held file its SHA-256,
 *                              install time, signer subject and how it was trusted
 *   lock                       flock'ed while a store is open
 * An install is a two-step commit (store_commit): the new file is written atomically as
 * NAME.next, then the state file (naming the new file's hash) is written atomically -
 * that rename is the commit point - then NAME.next is renamed to NAME. store_open()
 * finishes or drops an interrupted install, so a crash at any point leaves either the
 * old or the new file held, each with its own state, never a mix.
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
};

struct store {
	char *dir;   /* NULL: in memory only */
	int lock_fd; /* -1 when none */
	struct store_held ctl, itl;
};

/* Kind is CTL_KIND_CTL or CTL_KIND_ITL. */
struct store_held *store_held(struct store *st, int kind);
const char *store_file_name(int kind); /* "CTLFile.tlv", "ITLFile.tlv" */

/* dir NULL: an empty in-memory store. */
int store_open(struct store *st, const char *dir, struct ctl_err *err);
void store_close(struct store *st);

/* Makes f (ownership taken on success) the held file of its kind, with the given signer
 * subject and trust word; install time is now. On failure nothing changes. */
int store_commit(struct store *st, struct ctl_file *f, const char *signer, const char *trust,
		 struct ctl_err *err);

/* Lowercase hex SHA-256 of data into out[65]. */
int store_sha256_hex(const uint8_t *data, size_t len, char out[65]);

#endif
