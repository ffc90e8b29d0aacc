/* publish_lock.c - one run at a time: DIR/.ctlsign.lock in every output directory
 * (publish.h: publish_lock). */
#include "publish.h"
#include "publish_int.h"
#include "tool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

/* Our lock file under its temporary name tmp, PID inside and locked, before anyone can
 * see it (*fd). */
static int make_tmp(int dfd, const char *dir, const char *tmp, int *fd, struct ctl_err *err)
{
	char pidbuf[32];
	int len = snprintf(pidbuf, sizeof(pidbuf), "%ld\n", (long)getpid());

	(void)unlinkat(dfd, tmp, 0); /* our own leftover (this PID) */
	*fd = openat(dfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (*fd < 0)
		return ctl_fail(err, CTL_E_IO, "cannot create a lock file in %s: %s", dir, strerror(errno));
	if (write(*fd, pidbuf, (size_t)len) != len || flock(*fd, LOCK_EX | LOCK_NB) != 0)
		return ctl_fail(err, CTL_E_IO, "cannot write a lock file in %s: %s", dir, strerror(errno));
	return CTL_OK;
}

enum attempt { ATTEMPT_AGAIN, ATTEMPT_TOOK_OVER, ATTEMPT_BUSY };

/* The lock file is there. Nobody holds it: its holder died (then ours, tmp, replaces it:
 * *what ATTEMPT_TOOK_OVER), or released it just now (ATTEMPT_AGAIN, as when it is gone).
 * Held: ATTEMPT_BUSY, *pid its holder. */
static int existing_lock(int dfd, const char *dir, const char *tmp, enum attempt *what,
			 long *pid, struct ctl_err *err)
{
	struct stat a, b;
	int ofd, rc;

	*what = ATTEMPT_AGAIN;
	ofd = openat(dfd, PUBLISH_LOCK_NAME, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (ofd < 0 && errno == ELOOP)
		return publish_refuse(err, dir, PUBLISH_LOCK_NAME, S_IFLNK);
	if (ofd < 0 && errno != ENOENT)
		return ctl_fail(err, CTL_E_IO, "cannot open %s/%s: %s", dir, PUBLISH_LOCK_NAME,
				strerror(errno));
	if (ofd < 0) /* released in between: try again */
		return CTL_OK;
	if (fstat(ofd, &a) != 0 || !S_ISREG(a.st_mode)) {
		mode_t m = a.st_mode;
		close(ofd);
		return publish_refuse(err, dir, PUBLISH_LOCK_NAME, m);
	}
	if (flock(ofd, LOCK_EX | LOCK_NB) != 0) {
		*pid = read_pid(ofd);
		close(ofd);
		*what = ATTEMPT_BUSY;
		return CTL_OK;
	}
	/* Nobody holds it: its holder died, or released it just now (then the name is gone
	 * or names another file). */
	if (fstatat(dfd, PUBLISH_LOCK_NAME, &b, AT_SYMLINK_NOFOLLOW) != 0 ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		close(ofd);
		return CTL_OK;
	}
	*pid = read_pid(ofd);
	if (renameat(dfd, tmp, dfd, PUBLISH_LOCK_NAME) != 0) {
		rc = ctl_fail(err, CTL_E_IO, "cannot replace the stale lock %s/%s: %s", dir,
			      PUBLISH_LOCK_NAME, strerror(errno));
		close(ofd);
		return rc;
	}
	close(ofd);
	if (*pid)
		fprintf(stderr, "ctlsign: note: took over a stale lock left by pid %ld (%s) in %s\n",
			*pid, kill((pid_t)*pid, 0) == 0 || errno != ESRCH
				      ? "which no longer holds it" : "no longer running",
			dir);
	else
		fprintf(stderr, "ctlsign: note: took over a stale lock in %s (its holder is gone)\n",
			dir);
	*what = ATTEMPT_TOOK_OVER;
	return CTL_OK;
}

/* The lock is held by pid: CTL_E_CANCELLED once the deadline passed, else a line (once)
 * and a pause before the next try. */
static int wait_busy(const char *dir, long pid, double deadline, unsigned wait_s,
		     bool *announced, struct ctl_err *err)
{
	char who[320];
	struct timespec ts = {0, POLL_MS * 1000000L};

	describe_holder(pid, who, sizeof(who));
	if (now_s() >= deadline)
		return ctl_fail(err, CTL_E_CANCELLED,
				"another run holds %s/%s (%s); waited %u s (--wait SECONDS to wait longer), nothing was done",
				dir, PUBLISH_LOCK_NAME, who, wait_s);
	if (!*announced) {
		fprintf(stderr, "ctlsign: waiting up to %u s for %s/%s, held by %s\n", wait_s, dir,
			PUBLISH_LOCK_NAME, who);
		*announced = true;
	}
	nanosleep(&ts, NULL);
	return CTL_OK;
}

/* With the lock held: remove the temporary names (".ctlsign.lock.PID.tmp") that runs
 * which are gone could not remove (a failed unlink, a kill between link and unlink), so
 * nothing of ours stays in a TFTP directory. A live PID's is left alone: that run is
 * between creating its name and trying the lock. Best effort: a failure leaves them for
 * the next run. */
static void sweep_tmp(int dfd)
{
	static const char prefix[] = PUBLISH_LOCK_NAME ".";
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *e;
	DIR *d;

	if (fd < 0)
		return;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		const char *num = e->d_name + sizeof(prefix) - 1;
		char *end;
		long pid;

		if (strncmp(e->d_name, prefix, sizeof(prefix) - 1) != 0 || *num < '1' || *num > '9')
			continue;
		errno = 0;
		pid = strtol(num, &end, 10);
		if (errno != 0 || strcmp(end, ".tmp") != 0 || pid <= 0)
			continue;
		if (pid == (long)getpid() || (kill((pid_t)pid, 0) != 0 && errno == ESRCH))
			(void)unlinkat(dfd, e->d_name, 0);
	}
	closedir(d);
}

static int lock_one(const char *dir, unsigned wait_s, struct lock1 *out, struct ctl_err *err)
{
	char tmp[64];
	double deadline = now_s() + wait_s;
	bool announced = false;
	int dfd, fd = -1, rc;

	out->dfd = out->fd = -1;
	out->dir = NULL;
	if ((rc = publish_open_dir(dir, &dfd, err)) != CTL_OK)
		return rc;
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", PUBLISH_LOCK_NAME, (long)getpid());
	/* A signal that cancels the run (while it waits here, at a later PIN prompt, ...)
	 * removes the lock and its temporary name (tool.h). Best effort: a lock that could
	 * not be registered still locks; a cancelled run then leaves it, and the next run
	 * takes it over as stale. */
	(void)tool_cancel_lock(dir, PUBLISH_LOCK_NAME, tmp);
	for (;;) {
		enum attempt what;
		long pid = 0;

		if ((rc = make_tmp(dfd, dir, tmp, &fd, err)) != CTL_OK)
			goto fail;
		if (linkat(dfd, tmp, dfd, PUBLISH_LOCK_NAME, 0) == 0) {
			(void)unlinkat(dfd, tmp, 0); /* the lock's other name */
			break;
		}
		if (errno != EEXIST) {
			rc = ctl_fail(err, CTL_E_IO, "cannot create %s/%s: %s", dir, PUBLISH_LOCK_NAME,
				      strerror(errno));
			goto fail;
		}
		if ((rc = existing_lock(dfd, dir, tmp, &what, &pid, err)) != CTL_OK)
			goto fail;
		if (what == ATTEMPT_TOOK_OVER)
			break;
		if (what == ATTEMPT_BUSY &&
		    (rc = wait_busy(dir, pid, deadline, wait_s, &announced, err)) != CTL_OK)
			goto fail;
		close(fd);
		fd = -1;
		(void)unlinkat(dfd, tmp, 0);
	}
	sweep_tmp(dfd);
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
