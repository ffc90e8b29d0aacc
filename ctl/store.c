/* store.c - see store.h */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bytes.h"

#define STORE_STATE_MAX (64u * 1024)

struct store_held *store_held(struct store *st, int kind)
{
	return kind == CTL_KIND_ITL ? &st->itl : &st->ctl;
}

const char *store_file_name(int kind)
{
	return kind == CTL_KIND_ITL ? "ITLFile.tlv" : "CTLFile.tlv";
}

int store_sha256_hex(const uint8_t *data, size_t len, char out[65])
{
	uint8_t md[32];
	unsigned mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return 0;
	ctl_hex_to(md, 32, out);
	return 1;
}

static void held_clear(struct store_held *h)
{
	ctl_file_free(h->file);
	memset(h, 0, sizeof(*h));
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Copies a value into a fixed field, replacing control characters (the state file is
 * line based). */
void store_copy_field(char *dst, size_t cap, const char *src)
{
	size_t i = 0;

	for (; src && src[i] && i + 1 < cap; i++)
		dst[i] = ((unsigned char)src[i] < 0x20 || src[i] == 0x7f) ? '?' : src[i];
	dst[i] = 0;
}

/* --- the lock --- */

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static double elapsed_s(const struct timespec *since)
{
	struct timespec now;

	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		return 1e9; /* cannot tell: give up waiting */
	return (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

/* The PID the exclusive holder wrote into the lock file, 0 if none. */
static long lock_holder(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	char *end;
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = 0;
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno || end == buf || pid <= 0 || (*end && *end != '\n'))
		return 0;
	return pid;
}

/* flock(op) on the store's lock file, retrying for at most wait_s seconds; then
 * CTL_E_CANCELLED ("a wait timed out") naming the holder. */
static int lock_take(struct store *st, int op, int wait_s, struct ctl_err *err)
{
	struct timespec start;
	long pid;

	if (clock_gettime(CLOCK_MONOTONIC, &start) != 0)
		return ctl_fail(err, CTL_E_INTERNAL, "clock_gettime: %s", strerror(errno));
	for (;;) {
		if (flock(st->lock_fd, op | LOCK_NB) == 0)
			return CTL_OK;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return ctl_fail(err, CTL_E_IO, "cannot lock %s/lock: %s", st->dir, strerror(errno));
		if (elapsed_s(&start) >= (double)wait_s)
			break;
		sleep_ms(20);
	}
	pid = lock_holder(st->lock_fd);
	if (pid)
		return ctl_fail(err, CTL_E_CANCELLED, "trust store %s is busy: process %ld holds its lock (%s/lock) to install a file; gave up after %d s, try again",
				st->dir, pid, st->dir, wait_s);
	return ctl_fail(err, CTL_E_CANCELLED, "trust store %s is busy: another process holds its lock (%s/lock); gave up after %d s, try again",
			st->dir, st->dir, wait_s);
}

/* Exclusive holder: our PID into the lock file (only for the messages of those who wait). */
static void lock_write_pid(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != (ssize_t)n) {
		/* a read-only lock file: the waiters' message names no PID */
	}
}

static void lock_release(struct store *st, int exclusive)
{
	if (st->lock_fd < 0)
		return;
	if (exclusive && ftruncate(st->lock_fd, 0) != 0) {
		/* as in lock_write_pid */
	}
	flock(st->lock_fd, LOCK_UN); /* closing the file would release it too */
}

/* --- loading --- */

/* ctl_write_atomic's NAME.tmp.XXXXXX of a commit that was killed before its rename (the
 * CTL/ITL .next or the state file). Called with the store's exclusive lock held: no
 * commit is running, so any such file is a leftover. */
static const char *const temp_names[] = {"CTLFile.tlv.next", "ITLFile.tlv.next", "state"};

static int remove_leftovers(const char *dir, struct ctl_err *err)
{
	int rc = CTL_OK;

	for (size_t i = 0; rc == CTL_OK && i < sizeof(temp_names) / sizeof(temp_names[0]); i++)
		rc = ctl_remove_atomic_leftovers(dir, temp_names[i], NULL, err);
	return rc;
}

/* Whether dir holds such a leftover (read under the shared lock: no commit running). */
static int has_leftovers(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;

	if (!d)
		return 0; /* reading the state will say what is wrong */
	while (!found && (e = readdir(d))) {
		for (size_t i = 0; i < sizeof(temp_names) / sizeof(temp_names[0]); i++) {
			size_t nl = strlen(temp_names[i]);

			if (strlen(e->d_name) == nl + 11 && !strncmp(e->d_name, temp_names[i], nl) &&
			    !strncmp(e->d_name + nl, ".tmp.", 5))
				found = 1;
		}
	}
	closedir(d);
	return found;
}

static int file_exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

static int file_sha256_is(const char *path, const char *want, struct ctl_buf *buf)
{
	char hex[65];

	ctl_buf_clear(buf);
	return ctl_read_file(path, CTL_MAX_FILE_SIZE, buf, NULL) == CTL_OK &&
	       store_sha256_hex(buf->data, buf->len, hex) && !strcmp(hex, want);
}

/* A held file's path and the path of its install in progress (NAME.next). */
struct held_paths {
	char *main, *next;
};

/* Nothing held of this kind. A .next is an install that crashed before its commit point; a
 * main file with the hash of a dropped one is a drop that crashed after it. */
static int load_unheld(struct store *st, const struct store_held *h, const struct held_paths *hp,
		       int repair, int *needs_repair, struct ctl_buf *buf, struct ctl_err *err)
{
	int stale_next = file_exists(hp->next);
	int dropped = file_exists(hp->main) && h->dropped_sha256[0] &&
		      file_sha256_is(hp->main, h->dropped_sha256, buf);

	if (!repair && (stale_next || dropped)) {
		*needs_repair = 1;
		return CTL_OK;
	}
	if (stale_next && unlink(hp->next) != 0)
		return ctl_fail(err, CTL_E_IO, "cannot remove %s: %s", hp->next, strerror(errno));
	if (dropped) {
		if (unlink(hp->main) != 0 || fsync_dir(st->dir) != 0)
			return ctl_fail(err, CTL_E_IO, "cannot remove the dropped %s: %s", hp->main, strerror(errno));
		return CTL_OK;
	}
	if (file_exists(hp->main))
		return ctl_fail(err, CTL_E_IO, "%s is not recorded in the store's state file (copied in by hand?); move it away, then install it with 'ctlverify install'", hp->main);
	return CTL_OK;
}

/* The held file's bytes into *buf: the main file, or (an install committed but not yet
 * renamed) the .next, whose rename a repair finishes. */
static int find_held(struct store *st, const struct store_held *h, const struct held_paths *hp,
		     int repair, int *needs_repair, struct ctl_buf *buf, struct ctl_err *err)
{
	if (file_sha256_is(hp->main, h->sha256, buf)) {
		if (file_exists(hp->next)) {
			if (!repair)
				*needs_repair = 1; /* a reader sees the held file, as a repair keeps it */
			else if (unlink(hp->next) != 0 && errno != ENOENT)
				/* a newer install that never committed */
				return ctl_fail(err, CTL_E_IO, "cannot remove %s (an install that did not complete): %s", hp->next, strerror(errno));
		}
	} else if (file_sha256_is(hp->next, h->sha256, buf)) {
		/* Committed (the state names it) but not yet renamed. A reader sees the
		 * committed file, which the repair keeps. */
		if (!repair) {
			*needs_repair = 1;
			return CTL_OK;
		}
		/* Finish the install. */
		if (rename(hp->next, hp->main) != 0 || fsync_dir(st->dir) != 0)
			return ctl_fail(err, CTL_E_IO, "cannot finish the interrupted install of %s: %s", hp->main, strerror(errno));
	} else {
		return ctl_fail(err, CTL_E_IO, "%s does not match the store's state file (damaged or changed by hand); the store cannot be trusted: remove %s to start over", hp->main, st->dir);
	}
	return CTL_OK;
}

/* Loads the held file of `kind` named by the state. repair 0 (shared lock): anything an
 * interrupted install left sets *needs_repair and stops; repair 1 (exclusive lock): it is
 * finished or dropped. */
static int load_held(struct store *st, int kind, int repair, int *needs_repair,
		     struct ctl_err *err)
{
	struct store_held *h = store_held(st, kind);
	const char *name = store_file_name(kind);
	struct held_paths hp = {ctl_path_join(st->dir, name, ""), ctl_path_join(st->dir, name, ".next")};
	struct ctl_buf buf = {0};
	int rc = CTL_OK;

	if (!hp.main || !hp.next) {
		rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
		goto out;
	}
	if (!h->sha256[0]) {
		rc = load_unheld(st, h, &hp, repair, needs_repair, &buf, err);
		goto out;
	}
	if ((rc = find_held(st, h, &hp, repair, needs_repair, &buf, err)) != CTL_OK)
		goto out;
	rc = ctl_parse(buf.data, buf.len, &h->file, err);
	if (rc != CTL_OK) {
		ctl_fail_prefix(err, "held %s", hp.main);
		goto out;
	}
	if (h->file->kind != kind) {
		rc = ctl_fail(err, CTL_E_IO, "held %s is a %s, not a %s; remove %s to start over", hp.main,
			      ctl_kind_name(h->file->kind), ctl_kind_name(kind), st->dir);
		ctl_file_free(h->file);
		h->file = NULL;
	}
out:
	ctl_buf_clear(&buf);
	free(hp.main);
	free(hp.next);
	return rc;
}

/* Reads the state file and the held files into st->ctl/itl (which must be empty). See
 * load_held for repair / needs_repair: with needs_repair set, st holds what the repair
 * will keep. On failure nothing is held. */
static int store_load(struct store *st, int repair, int *needs_repair, struct ctl_err *err)
{
	struct ctl_buf state = {0};
	char *state_path = ctl_path_join(st->dir, "state", "");
	int rc = CTL_OK;

	if (!state_path)
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	if (repair)
		rc = remove_leftovers(st->dir, err);
	else if (has_leftovers(st->dir))
		*needs_repair = 1;
	if (rc == CTL_OK && file_exists(state_path)) {
		rc = ctl_read_file(state_path, STORE_STATE_MAX, &state, err);
		if (rc == CTL_OK)
			rc = store_state_parse(st, &state, state_path, err);
	}
	if (rc == CTL_OK)
		rc = load_held(st, CTL_KIND_CTL, repair, needs_repair, err);
	if (rc == CTL_OK)
		rc = load_held(st, CTL_KIND_ITL, repair, needs_repair, err);
	ctl_buf_clear(&state);
	free(state_path);
	if (rc != CTL_OK) {
		held_clear(&st->ctl);
		held_clear(&st->itl);
	}
	return rc;
}

int store_open(struct store *st, const char *dir, int wait_s, struct ctl_err *err)
{
	char *lock_path = NULL;
	int needs_repair = 0;
	int rc;

	memset(st, 0, sizeof(*st));
	st->lock_fd = -1;
	st->wait_s = wait_s;
	if (!dir)
		return CTL_OK;
	if (!*dir)
		return ctl_fail(err, CTL_E_USAGE, "store directory name is empty");
	st->dir = strdup(dir);
	lock_path = ctl_path_join(dir, "lock", "");
	if (!st->dir || !lock_path) {
		rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
		goto out;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rc = ctl_fail(err, CTL_E_IO, "cannot create store directory %s: %s", dir, strerror(errno));
		goto out;
	}
	st->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (st->lock_fd < 0 && (errno == EACCES || errno == EROFS))
		st->lock_fd = open(lock_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW); /* a reader */
	if (st->lock_fd < 0) {
		rc = ctl_fail(err, CTL_E_IO, "cannot open %s: %s (is %s a writable directory?)", lock_path, strerror(errno), dir);
		goto out;
	}
	rc = lock_take(st, LOCK_SH, st->wait_s, err);
	if (rc != CTL_OK)
		goto out;
	rc = store_load(st, 0, &needs_repair, err);
	lock_release(st, 0);
	if (rc == CTL_OK && needs_repair) {
		/* An install was interrupted (a crash, or an error after its commit point):
		 * finish or drop it, as a writer. A reader that cannot (a read-only store, an
		 * I/O error) keeps the view it has: what the repair will keep. */
		struct store fresh;
		struct ctl_err ignored = {0};

		memset(&fresh, 0, sizeof(fresh));
		fresh.dir = st->dir;
		fresh.lock_fd = st->lock_fd;
		if (lock_take(st, LOCK_EX, st->wait_s, &ignored) != CTL_OK)
			goto out;
		lock_write_pid(st->lock_fd);
		if (store_load(&fresh, 1, NULL, &ignored) == CTL_OK) {
			held_clear(&st->ctl);
			held_clear(&st->itl);
			st->ctl = fresh.ctl;
			st->itl = fresh.itl;
		}
		lock_release(st, 1);
	}
out:
	free(lock_path);
	return rc;
}

void store_close(struct store *st)
{
	held_clear(&st->ctl);
	held_clear(&st->itl);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	st->lock_fd = -1;
	free(st->dir);
	st->dir = NULL;
}

int store_lock(struct store *st, struct ctl_err *err)
{
	struct store fresh;
	int rc;

	if (!st->dir)
		return CTL_OK;
	if (st->lock_fd < 0)
		return ctl_fail(err, CTL_E_IO, "trust store %s was not opened", st->dir);
	rc = lock_take(st, LOCK_EX, st->wait_s, err);
	if (rc != CTL_OK)
		return rc;
	lock_write_pid(st->lock_fd);
	memset(&fresh, 0, sizeof(fresh));
	fresh.dir = st->dir;
	fresh.lock_fd = st->lock_fd;
	rc = store_load(&fresh, 1, NULL, err);
	if (rc != CTL_OK) {
		lock_release(st, 1);
		return rc;
	}
	held_clear(&st->ctl);
	held_clear(&st->itl);
	st->ctl = fresh.ctl;
	st->itl = fresh.itl;
	return CTL_OK;
}

void store_unlock(struct store *st)
{
	if (st->dir)
		lock_release(st, 1);
}

/* The held state after installing f: its record (*nh) and, for a CTL, the ITL's next
 * state (*nitl: kept, re-trusted or dropped; *drop set when dropped). */
static int next_states(const struct store *st, const struct ctl_file *f, const char *signer,
		       const char *trust, const char *itl_trust, const char *itl_drop_why,
		       struct store_held *nh, struct store_held *nitl, int *drop,
		       struct ctl_err *err)
{
	int kind = f->kind;

	memset(nh, 0, sizeof(*nh));
	if (!store_sha256_hex(f->raw.data, f->raw.len, nh->sha256))
		return ctl_fail(err, CTL_E_INTERNAL, "SHA-256 failed");
	nh->installed = (long long)time(NULL);
	store_copy_field(nh->signer, sizeof(nh->signer), signer);
	store_copy_field(nh->trust, sizeof(nh->trust), trust);
	*nitl = st->itl;
	nitl->file = NULL;
	if (kind == CTL_KIND_CTL && st->itl.file && itl_drop_why) {
		*drop = 1;
		memset(nitl, 0, sizeof(*nitl));
		memcpy(nitl->dropped_sha256, st->itl.sha256, sizeof(nitl->dropped_sha256));
		nitl->dropped_at = nh->installed;
		store_copy_field(nitl->dropped_why, sizeof(nitl->dropped_why), itl_drop_why);
	} else if (kind == CTL_KIND_CTL && st->itl.file && itl_trust) {
		store_copy_field(nitl->trust, sizeof(nitl->trust), itl_trust);
	}
	return CTL_OK;
}

/* After the state file is committed: the new file moved into place, a dropped ITL
 * removed, the directory synced. Errors here leave the install committed; opening the
 * store completes it (load_held). */
static int finish_commit(struct store *st, const char *main_path, const char *next_path,
			 const char *itl_path, int drop, struct ctl_err *err)
{
	int rc = CTL_OK, synced;

	if (rename(next_path, main_path) != 0)
		rc = ctl_fail(err, CTL_E_IO, "installed %s (the store's state names it) but cannot move it into place: %s; the next open of the store finishes it",
			      main_path, strerror(errno));
	synced = rc == CTL_OK && fsync_dir(st->dir) == 0;
	if (drop) {
		if (unlink(itl_path) == 0)
			synced = fsync_dir(st->dir) == 0;
		else if (errno != ENOENT && rc == CTL_OK)
			rc = ctl_fail(err, CTL_E_IO, "installed %s but cannot remove the dropped %s: %s; the next open of the store finishes it",
				      main_path, itl_path, strerror(errno));
	}
	/* A later fsync of the directory makes the state's rename and ours durable:
	 * one more try before reporting that durability is in doubt. */
	if (rc == CTL_OK && !synced && fsync_dir(st->dir) != 0)
		rc = ctl_fail(err, CTL_E_IO, "installed %s but cannot sync the store directory %s: %s; it may not survive a power loss",
			      main_path, st->dir, strerror(errno));
	return rc;
}

/* The install on disk: the file as NAME.next, the state file naming it (the commit),
 * then finish_commit. *committed tells whether the state file names the new file. */
static int commit_files(struct store *st, const struct ctl_file *f, struct store_held *nh,
			struct store_held *nitl, int drop, int *committed, struct ctl_err *err)
{
	int kind = f->kind;
	const char *name = store_file_name(kind);
	char *main_path = ctl_path_join(st->dir, name, "");
	char *next_path = ctl_path_join(st->dir, name, ".next");
	char *itl_path = ctl_path_join(st->dir, store_file_name(CTL_KIND_ITL), "");
	int rc;

	*committed = 0;
	if (!main_path || !next_path || !itl_path) {
		rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
		goto out;
	}
	rc = ctl_write_atomic(next_path, f->raw.data, f->raw.len, 0644, err);
	if (rc != CTL_OK) {
		/* not committed: roll back (a .next left here would only be dropped by
		 * the next open) */
		unlink(next_path);
		goto out;
	}
	rc = kind == CTL_KIND_CTL ? store_state_write(st, nh, nitl, committed, err)
				  : store_state_write(st, &st->ctl, nh, committed, err);
	if (rc != CTL_OK && !*committed) {
		unlink(next_path);
		goto out;
	}
	/* Committed: the state file names the new file (only the directory's fsync
	 * may have failed). */
	*committed = 1;
	rc = finish_commit(st, main_path, next_path, itl_path, drop, err);
out:
	free(main_path);
	free(next_path);
	free(itl_path);
	return rc;
}

int store_commit(struct store *st, struct ctl_file *f, const char *signer, const char *trust,
		 const char *itl_trust, const char *itl_drop_why, struct ctl_err *err)
{
	int kind = f->kind;
	struct store_held nh, nitl, *h;
	int drop = 0, committed;
	int rc = CTL_OK;

	if (kind != CTL_KIND_CTL && kind != CTL_KIND_ITL)
		return ctl_fail(err, CTL_E_INTERNAL, "only a CTL or an ITL can be held");
	h = store_held(st, kind);
	if ((rc = next_states(st, f, signer, trust, itl_trust, itl_drop_why, &nh, &nitl, &drop,
			      err)) != CTL_OK)
		return rc;
	if (st->dir) {
		rc = commit_files(st, f, &nh, &nitl, drop, &committed, err);
		if (!committed)
			return rc;
	}
	/* What is held in memory follows what the store committed (even when finishing
	 * the commit on disk failed). */
	ctl_file_free(h->file);
	*h = nh;
	h->file = f;
	if (kind == CTL_KIND_CTL) {
		nitl.file = drop ? NULL : st->itl.file;
		if (drop)
			ctl_file_free(st->itl.file);
		st->itl = nitl;
	}
	return rc;
}
