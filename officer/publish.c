/* publish.c - see publish.h */
#include "publish.h"
#include "tool.h"

#include "audit.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 50 /* how often a busy lock is tried again */

struct lock1 {
	int dfd, fd;
	char *dir;
};

struct publish_lock {
	size_t n;
	struct lock1 *l;
};

static const char *kind_of(mode_t m)
{
	if (S_ISLNK(m))
		return "a symbolic link";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	return "not a regular file";
}

static int refuse(struct ctl_err *err, const char *dir, const char *name, mode_t m)
{
	return ctl_fail(err, CTL_E_POLICY,
			"%s/%s is %s, not a regular file: someone who can write %s put it there; remove it and check the directory (nothing was published)",
			dir, name, kind_of(m), dir);
}

static int check_at(int dfd, const char *dir, const char *name, struct ctl_err *err)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return CTL_OK;
		return ctl_fail(err, CTL_E_IO, "cannot look at %s/%s: %s", dir, name, strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
		return refuse(err, dir, name, st.st_mode);
	return CTL_OK;
}

static int open_dir(const char *dir, int *dfd, struct ctl_err *err)
{
	*dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*dfd < 0)
		return ctl_fail(err, CTL_E_IO, "cannot open directory %s: %s%s", dir, strerror(errno),
				errno == ENOENT ? " (create it, or fix the cluster file)" : "");
	return CTL_OK;
}

int publish_check_regular(const char *dir, const char *name, struct ctl_err *err)
{
	int dfd, rc;

	if ((rc = open_dir(dir, &dfd, err)) != CTL_OK)
		return rc;
	rc = check_at(dfd, dir, name, err);
	close(dfd);
	return rc;
}

int publish_check_path(const char *path, struct ctl_err *err)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int rc;

	if (!slash)
		return publish_check_regular(".", path, err);
	if (!(dir = strndup(path, slash == path ? 1 : (size_t)(slash - path))))
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	rc = publish_check_regular(dir, slash + 1, err);
	free(dir);
	return rc;
}

/* Reads a regular file opened O_NOFOLLOW relative to dfd. */
static int read_at(int dfd, const char *dir, const char *name, size_t max, struct ctl_buf *out,
		   bool *missing, struct ctl_err *err)
{
	struct stat st;
	char what[PATH_MAX + 64];
	int fd, rc;

	out->data = NULL;
	out->len = 0;
	if (missing)
		*missing = false;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP)
			return refuse(err, dir, name, S_IFLNK);
		if (errno == ENOENT && missing)
			*missing = true;
		return ctl_fail(err, CTL_E_IO, "cannot open %s/%s: %s", dir, name, strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return ctl_fail(err, CTL_E_IO, "cannot look at %s/%s: %s", dir, name, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return refuse(err, dir, name, st.st_mode);
	}
	if ((unsigned long long)st.st_size > max) {
		close(fd);
		return ctl_fail(err, CTL_E_IO, "%s/%s is larger than %zu bytes; refusing to read it",
				dir, name, max);
	}
	snprintf(what, sizeof(what), "%s/%s", dir, name);
	rc = ctl_read_fd(fd, what, max, out, err);
	close(fd);
	return rc;
}

int publish_read(const char *dir, const char *name, size_t max, struct ctl_buf *out,
		 bool *missing, struct ctl_err *err)
{
	int dfd, rc;

	out->data = NULL;
	out->len = 0;
	if (missing)
		*missing = false;
	if ((rc = open_dir(dir, &dfd, err)) != CTL_OK)
		return rc;
	rc = read_at(dfd, dir, name, max, out, missing, err);
	close(dfd);
	return rc;
}

/* ---- the lock ---- */

static long read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long pid;
	char *end;

	if (n <= 0)
		return 0;
	buf[n] = 0;
	pid = strtol(buf, &end, 10);
	return pid > 0 && (*end == '\n' || *end == 0) ? pid : 0;
}

/* "pid N (COMMAND LINE)" for messages; the command line from /proc, printable. */
static void describe_holder(long pid, char *out, size_t n)
{
	char path[64], cmd[256], shown[256];
	size_t j = 0;
	ssize_t k = -1;
	int fd;

	if (pid <= 0) {
		snprintf(out, n, "a process that wrote no PID into the lock file");
		return;
	}
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		k = read(fd, cmd, sizeof(cmd) - 1);
		close(fd);
	}
	if (k <= 0) {
		snprintf(out, n, "pid %ld", pid);
		return;
	}
	while (k > 0 && cmd[k - 1] == 0)
		k--;
	for (ssize_t i = 0; i < k && j + 1 < sizeof(shown); i++) {
		unsigned char c = (unsigned char)cmd[i];
		shown[j++] = c == 0 ? ' ' : (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	shown[j] = 0;
	snprintf(out, n, "pid %ld: %s", pid, shown);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int lock_one(const char *dir, unsigned wait_s, struct lock1 *out, struct ctl_err *err)
{
	char tmp[64], pidbuf[32], who[320];
	double deadline = now_s() + wait_s;
	bool announced = false;
	int dfd, fd = -1, len, rc;

	out->dfd = out->fd = -1;
	out->dir = NULL;
	if ((rc = open_dir(dir, &dfd, err)) != CTL_OK)
		return rc;
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", PUBLISH_LOCK_NAME, (long)getpid());
	len = snprintf(pidbuf, sizeof(pidbuf), "%ld\n", (long)getpid());
	/* A signal that cancels the run (while it waits here, at a later PIN prompt, ...)
	 * removes the lock and its temporary name (tool.h). Best effort: a lock that could
	 * not be registered still locks; a cancelled run then leaves it, and the next run
	 * takes it over as stale. */
	(void)tool_cancel_lock(dir, PUBLISH_LOCK_NAME, tmp);
	for (;;) {
		struct stat a, b;
		long pid;
		int ofd;

		/* Our lock file, PID inside and locked, before anyone can see it. */
		(void)unlinkat(dfd, tmp, 0); /* our own leftover (this PID) */
		fd = openat(dfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0) {
			rc = ctl_fail(err, CTL_E_IO, "cannot create a lock file in %s: %s", dir, strerror(errno));
			goto fail;
		}
		if (write(fd, pidbuf, (size_t)len) != len || flock(fd, LOCK_EX | LOCK_NB) != 0) {
			rc = ctl_fail(err, CTL_E_IO, "cannot write a lock file in %s: %s", dir, strerror(errno));
			goto fail;
		}
		if (linkat(dfd, tmp, dfd, PUBLISH_LOCK_NAME, 0) == 0)
			break;
		if (errno != EEXIST) {
			rc = ctl_fail(err, CTL_E_IO, "cannot create %s/%s: %s", dir, PUBLISH_LOCK_NAME,
				      strerror(errno));
			goto fail;
		}
		ofd = openat(dfd, PUBLISH_LOCK_NAME,
			     O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (ofd < 0 && errno == ELOOP) {
			rc = refuse(err, dir, PUBLISH_LOCK_NAME, S_IFLNK);
			goto fail;
		}
		if (ofd < 0 && errno != ENOENT) {
			rc = ctl_fail(err, CTL_E_IO, "cannot open %s/%s: %s", dir, PUBLISH_LOCK_NAME,
				      strerror(errno));
			goto fail;
		}
		if (ofd < 0) /* released in between: try again */
			goto again;
		if (fstat(ofd, &a) != 0 || !S_ISREG(a.st_mode)) {
			mode_t m = a.st_mode;
			close(ofd);
			rc = refuse(err, dir, PUBLISH_LOCK_NAME, m);
			goto fail;
		}
		if (flock(ofd, LOCK_EX | LOCK_NB) == 0) {
			/* Nobody holds it: its holder died, or released it just now (then the
			 * name is gone or names another file). */
			if (fstatat(dfd, PUBLISH_LOCK_NAME, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
			    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
				pid = read_pid(ofd);
				if (renameat(dfd, tmp, dfd, PUBLISH_LOCK_NAME) != 0) {
					rc = ctl_fail(err, CTL_E_IO, "cannot replace the stale lock %s/%s: %s",
						      dir, PUBLISH_LOCK_NAME, strerror(errno));
					close(ofd);
					goto fail;
				}
				close(ofd);
				if (pid)
					fprintf(stderr, "ctlsign: note: took over a stale lock left by pid %ld (%s) in %s\n",
						pid, kill((pid_t)pid, 0) == 0 || errno != ESRCH
							     ? "which no longer holds it" : "no longer running",
						dir);
				else
					fprintf(stderr, "ctlsign: note: took over a stale lock in %s (its holder is gone)\n",
						dir);
				goto locked;
			}
			close(ofd);
			goto again;
		}
		pid = read_pid(ofd);
		close(ofd);
		describe_holder(pid, who, sizeof(who));
		if (now_s() >= deadline) {
			rc = ctl_fail(err, CTL_E_CANCELLED,
				      "another run holds %s/%s (%s); waited %u s (--wait SECONDS to wait longer), nothing was done",
				      dir, PUBLISH_LOCK_NAME, who, wait_s);
			goto fail;
		}
		if (!announced) {
			fprintf(stderr, "ctlsign: waiting up to %u s for %s/%s, held by %s\n", wait_s, dir,
				PUBLISH_LOCK_NAME, who);
			announced = true;
		}
		{
			struct timespec ts = {0, POLL_MS * 1000000L};
			nanosleep(&ts, NULL);
		}
again:
		close(fd);
		fd = -1;
		(void)unlinkat(dfd, tmp, 0);
	}
	(void)unlinkat(dfd, tmp, 0); /* the lock's other name */
locked:
	if (!(out->dir = strdup(dir))) {
		(void)unlinkat(dfd, PUBLISH_LOCK_NAME, 0);
		rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
		goto fail;
	}
	out->dfd = dfd;
	out->fd = fd;
	return CTL_OK;
fail:
	if (fd >= 0) {
		close(fd);
		(void)unlinkat(dfd, tmp, 0);
	}
	close(dfd);
	return rc;
}

static void unlock_one(struct lock1 *l)
{
	if (l->fd < 0)
		return;
	/* Unlinked while still held: a waiter that opened this file sees, once it gets the
	 * flock, that the name no longer names it, and tries again. */
	(void)unlinkat(l->dfd, PUBLISH_LOCK_NAME, 0);
	close(l->fd);
	close(l->dfd);
	free(l->dir);
	l->fd = l->dfd = -1;
}

static bool is_dir(const char *dir)
{
	struct stat st;

	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool same_dir(const char *a, const char *b)
{
	struct stat x, y;

	return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

int publish_lock(char *const *dirs, size_t ndirs, unsigned wait_s,
		 const char *const *check_names, struct publish_lock **out, struct ctl_err *err)
{
	struct publish_lock *pl;
	int rc = CTL_OK;

	*out = NULL;
	if (!(pl = calloc(1, sizeof(*pl))) || !(pl->l = calloc(ndirs ? ndirs : 1, sizeof(*pl->l)))) {
		free(pl);
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	}
	/* First every lock file must be a regular file (or absent): a planted one in the
	 * last directory stops the run before the first is locked. A directory that does not
	 * exist is skipped: publishing reports it as failed, as before. */
	for (size_t i = 0; i < ndirs && rc == CTL_OK; i++)
		if (is_dir(dirs[i]))
			rc = publish_check_regular(dirs[i], PUBLISH_LOCK_NAME, err);
	for (size_t i = 0; i < ndirs && rc == CTL_OK; i++) {
		/* the same directory named twice (by any path) is locked once */
		bool dup = !is_dir(dirs[i]);
		for (size_t j = 0; j < i; j++)
			dup = dup || same_dir(dirs[i], dirs[j]);
		if (dup) {
			pl->l[pl->n++] = (struct lock1){-1, -1, NULL};
			continue;
		}
		rc = lock_one(dirs[i], wait_s, &pl->l[pl->n], err);
		if (rc == CTL_OK)
			pl->n++;
	}
	for (size_t i = 0; i < ndirs && rc == CTL_OK; i++)
		for (const char *const *nm = check_names; nm && *nm && rc == CTL_OK && is_dir(dirs[i]); nm++)
			rc = publish_check_regular(dirs[i], *nm, err);
	if (rc != CTL_OK) {
		publish_unlock(pl);
		return rc;
	}
	*out = pl;
	return CTL_OK;
}

void publish_unlock(struct publish_lock *l)
{
	if (!l)
		return;
	for (size_t i = l->n; i > 0; i--)
		unlock_one(&l->l[i - 1]);
	free(l->l);
	free(l);
}

/* ---- publishing ---- */

/* A run killed inside ctl_write_atomic leaves NAME.tmp.XXXXXX (or NAME.bak's) behind.
 * Under the lock no other run is writing, so any such file is a leftover: removed.
 * Best effort (a file that cannot be removed does not stop publishing). Returns how many. */
static size_t remove_leftovers(const char *dir, const char *name)
{
	char bak[300];
	size_t a = 0, b = 0;

	snprintf(bak, sizeof(bak), "%s.bak", name);
	(void)ctl_remove_atomic_leftovers(dir, name, &a, NULL);
	(void)ctl_remove_atomic_leftovers(dir, bak, &b, NULL);
	return a + b;
}

/* NAME and its backups NAME.bak, NAME.bak.1, NAME.bak.2 in dir are regular files or
 * absent. */
static int check_dir(const char *dir, const char *name, struct ctl_err *err)
{
	static const char *const sfx[] = {"", ".bak", ".bak.1", ".bak.2"};
	char nm[300];
	int dfd, rc;

	if ((rc = open_dir(dir, &dfd, err)) != CTL_OK)
		return rc;
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]) && rc == CTL_OK; i++) {
		snprintf(nm, sizeof(nm), "%s%s", name, sfx[i]);
		rc = check_at(dfd, dir, nm, err);
	}
	close(dfd);
	return rc;
}

/* Three generations of backups: before the previous file becomes NAME.bak,
 * NAME.bak.1 becomes NAME.bak.2 and NAME.bak becomes NAME.bak.1, each by one rename, so
 * that at every instant each name holds a whole file (or none) and no generation is lost:
 * killed between the renames, the next run finds NAME.bak or NAME.bak.1 missing and
 * shifts only what is there. When NAME.bak already is the previous file (a rerun after a
 * kill once it was written) nothing is shifted and it is not written again (*keep
 * false). */
static int rotate_backups(const char *path, const struct ctl_buf *old, bool *keep,
			  struct ctl_err *err)
{
	char b0[4200], b1[4200], b2[4200];
	struct ctl_buf cur = {0};
	struct ctl_err ignored = {0};
	struct stat st;
	bool same;

	*keep = true;
	snprintf(b0, sizeof(b0), "%s.bak", path);
	snprintf(b1, sizeof(b1), "%s.bak.1", path);
	snprintf(b2, sizeof(b2), "%s.bak.2", path);
	if (lstat(b0, &st) != 0) /* no NAME.bak: nothing to shift */
		return errno == ENOENT ? CTL_OK :
		       ctl_fail(err, CTL_E_IO, "cannot look at %s: %s", b0, strerror(errno));
	if (ctl_read_file(b0, CTL_MAX_FILE_SIZE, &cur, &ignored) == CTL_OK) {
		same = cur.len == old->len && !memcmp(cur.data, old->data, old->len);
		ctl_buf_clear(&cur);
		if (same) {
			*keep = false;
			return CTL_OK;
		}
	}
	if (lstat(b1, &st) == 0 && rename(b1, b2) != 0)
		return ctl_fail(err, CTL_E_IO, "cannot rename %s to %s: %s", b1, b2, strerror(errno));
	if (rename(b0, b1) != 0)
		return ctl_fail(err, CTL_E_IO, "cannot rename %s to %s: %s", b0, b1, strerror(errno));
	return CTL_OK;
}

static int publish_one(const char *dir, const char *name, const uint8_t *data, size_t len,
		       struct publish_result *r)
{
	struct ctl_err err = {0};
	struct ctl_buf old = {0};
	char *path = ctl_path_join(dir, name, ""), *bak = NULL;
	bool missing = false;
	struct stat st;
	size_t bn;
	int rc;

	if (!path) {
		rc = ctl_fail(&err, CTL_E_INTERNAL, "out of memory");
		goto out;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		rc = ctl_fail(&err, CTL_E_IO, "%s is not a directory%s", dir,
			      errno == ENOENT ? " (it does not exist)" : "");
		goto out;
	}
	r->leftovers = remove_leftovers(dir, name);
	bn = strlen(path) + 5;
	if (!(bak = malloc(bn))) {
		rc = ctl_fail(&err, CTL_E_INTERNAL, "out of memory");
		goto out;
	}
	snprintf(bak, bn, "%s.bak", path);
	/* The previous file, never through a link: a planted symlink is refused here too. */
	rc = publish_read(dir, name, CTL_MAX_FILE_SIZE, &old, &missing, &err);
	if (rc == CTL_OK) {
		bool keep;
		int renamed = 0;

		rc = rotate_backups(path, &old, &keep, &err);
		/* a .bak in place but not synced: the directory's next fsync covers it */
		if (rc == CTL_OK && keep) {
			rc = ctl_write_atomic_ex(bak, old.data, old.len, 0644, &renamed, &err);
			if (rc != CTL_OK && renamed)
				rc = CTL_OK;
		}
		if (rc != CTL_OK) {
			ctl_fail_prefix(&err, "keeping the previous %s as %s.bak", name, name);
			goto out;
		}
		r->had_old = true;
	} else if (!missing) {
		goto out;
	}
	{
		int renamed = 0;

		rc = ctl_write_atomic_ex(path, data, len, 0644, &renamed, &err);
		if (rc != CTL_OK && renamed) {
			r->unsynced = true;
			ctl_fail(&err, CTL_E_IO, "the new %s is in place in %s but the directory could not be synced: it may not survive a power loss; run again",
				 name, dir);
		}
	}
out:
	r->rc = rc;
	if (rc != CTL_OK)
		snprintf(r->msg, sizeof(r->msg), "%s", err.msg);
	ctl_buf_clear(&old);
	free(path);
	free(bak);
	return rc;
}

int publish_all(char *const *dirs, size_t ndirs, const char *name, const uint8_t *data,
		size_t len, struct publish_result *res)
{
	size_t ok = 0;
	int first = CTL_OK;
	bool refused = false, unsynced = false;

	for (size_t i = 0; i < ndirs; i++) {
		struct ctl_err err = {0};

		memset(&res[i], 0, sizeof(res[i]));
		res[i].dir = dirs[i];
		if (check_dir(dirs[i], name, &err) == CTL_E_POLICY) {
			res[i].rc = err.code;
			snprintf(res[i].msg, sizeof(res[i].msg), "%s", err.msg);
			refused = true;
		}
	}
	if (refused) {
		for (size_t i = 0; i < ndirs; i++) {
			if (res[i].rc == CTL_OK) {
				res[i].rc = CTL_E_POLICY;
				snprintf(res[i].msg, sizeof(res[i].msg),
					 "not written: another directory holds a planted file");
			}
		}
		return CTL_E_POLICY;
	}
	for (size_t i = 0; i < ndirs; i++) {
		if (publish_one(dirs[i], name, data, len, &res[i]) == CTL_OK || res[i].unsynced)
			ok++;
		else if (first == CTL_OK)
			first = res[i].rc;
		if (res[i].unsynced)
			unsynced = true;
	}
	if (ok == ndirs)
		return unsynced ? CTL_E_IO : CTL_OK;
	return ok ? CTL_E_PARTIAL : first;
}

int publish_catch_up(char *const *dirs, size_t ndirs, const char *name, const char *audit_log,
		     struct publish_result *res, size_t *nres, struct ctl_err *err)
{
	struct ctl_buf first = {0}, other = {0};
	char **todo = NULL, id[AUDIT_ID_MAX];
	struct audit_rec *intents = NULL;
	size_t ntodo = 0;
	int rc = CTL_OK;

	*nres = 0;
	if (ndirs < 2)
		return CTL_OK;
	if ((rc = publish_read(dirs[0], name, CTL_MAX_FILE_SIZE, &first, NULL, err)) != CTL_OK)
		return rc;
	if (!(todo = calloc(ndirs, sizeof(*todo))) || !(intents = calloc(ndirs, sizeof(*intents)))) {
		rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 1; i < ndirs; i++) {
		bool same = false;
		struct ctl_err ignored = {0};

		if (publish_read(dirs[i], name, CTL_MAX_FILE_SIZE, &other, NULL, &ignored) == CTL_OK)
			same = other.len == first.len && !memcmp(other.data, first.data, first.len);
		ctl_buf_clear(&other);
		if (!same)
			todo[ntodo++] = dirs[i];
	}
	if (!ntodo)
		goto out;
	/* Audit first, publish second. */
	audit_new_id(id);
	for (size_t i = 0; i < ntodo; i++) {
		if (!(intents[i].output = ctl_path_join(todo[i], name, ""))) {
			rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
			goto out;
		}
		intents[i].operation = "ctl-catch-up";
		intents[i].phase = "intent";
		intents[i].intent = id;
		intents[i].data = first.data;
		intents[i].len = first.len;
		intents[i].result = "ok";
		intents[i].detail = "a copy of the CTL in the first output directory";
	}
	if ((rc = audit_append_batch(audit_log, intents, ntodo, err)) != CTL_OK) {
		ctl_fail_prefix(err, "nothing was copied (no audit record)");
		goto out;
	}
	rc = publish_all(todo, ntodo, name, first.data, first.len, res);
	*nres = ntodo;
	for (size_t i = 0; i < ntodo; i++)
		if (res[i].rc != CTL_OK) {
			ctl_fail(err, rc, "%s: %s", todo[i], res[i].msg);
			break;
		}
	{
		char detail[1024];
		size_t used = 0;
		struct audit_rec a = {
			.operation = "publish", .phase = "outcome", .intent = id,
			.result = rc == CTL_OK ? "ok" : rc == CTL_E_PARTIAL ? "partial" : "failed",
			.detail = detail,
		};
		struct ctl_err aerr = {0};

		detail[0] = 0;
		for (size_t i = 0; i < ntodo && used + 2 < sizeof(detail); i++) {
			int k;
			if (res[i].rc == CTL_OK || res[i].unsynced)
				continue;
			k = snprintf(detail + used, sizeof(detail) - used, "%s%s",
				     used ? " " : "the old file is still in: ", todo[i]);
			if (k < 0)
				break;
			used += (size_t)k;
		}
		if (!used)
			a.detail = NULL;
		if (audit_append(audit_log, &a, &aerr) != CTL_OK && rc == CTL_OK)
			rc = ctl_fail(err, aerr.code, "%s", aerr.msg);
	}
out:
	if (intents)
		for (size_t i = 0; i < ndirs; i++)
			free((char *)intents[i].output);
	free(intents);
	free(todo);
	ctl_buf_clear(&first);
	return rc;
}

int publish_parse(const char *path, struct ctl_file **out, struct ctl_err *err)
{
	char *dir = strdup(path), *slash;
	const char *name;
	struct ctl_buf b = {0};
	int rc;

	*out = NULL;
	if (!dir)
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = 0;
		name = slash + 1;
	} else {
		name = dir;
	}
	rc = publish_read(slash ? (*dir ? dir : "/") : ".", name, CTL_MAX_FILE_SIZE, &b, NULL, err);
	if (rc == CTL_OK)
		rc = ctl_parse(b.data, b.len, out, err);
	ctl_buf_clear(&b);
	free(dir);
	return rc;
}

int publish_check_dirs(char *const *dirs, size_t ndirs, struct ctl_err *err)
{
	for (size_t i = 0; i < ndirs; i++) {
		struct stat st;

		if (stat(dirs[i], &st) != 0)
			return ctl_fail(err, CTL_E_IO, "output directory %s: %s (create it, or fix the cluster file); nothing was signed",
					dirs[i], strerror(errno));
		if (!S_ISDIR(st.st_mode))
			return ctl_fail(err, CTL_E_IO, "output %s is not a directory (fix the cluster file); nothing was signed",
					dirs[i]);
		if (access(dirs[i], W_OK | X_OK) != 0)
			return ctl_fail(err, CTL_E_IO, "output directory %s is not writable: %s; nothing was signed",
					dirs[i], strerror(errno));
	}
	return CTL_OK;
}
