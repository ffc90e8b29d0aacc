/* publish.c - see publish.h */
#include "publish.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct publish_lock {
	int fd;
	char *path;
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
	return pid > 0 ? pid : 0;
}

int publish_lock(const char *dir, struct publish_lock **out, long *stale_pid,
		 struct ctl_err *err)
{
	char *path = ctl_path_join(dir, PUBLISH_LOCK_NAME, "");
	struct stat a, b;
	char pidbuf[32];
	int fd = -1, len;

	*out = NULL;
	*stale_pid = 0;
	if (!path)
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	for (int tries = 0; tries < 10; tries++) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			int e = errno;
			free(path);
			return ctl_fail(err, CTL_E_IO, "cannot create lock file in %s: %s", dir,
					strerror(e));
		}
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			long pid = read_pid(fd);
			int e = errno;

			close(fd);
			free(path);
			if (e == EWOULDBLOCK)
				return ctl_fail(err, CTL_E_IO,
						"another ctlsign run (pid %ld) is changing the CTL in %s; wait for it to finish",
						pid, dir);
			return ctl_fail(err, CTL_E_IO, "cannot lock %s/%s: %s", dir,
					PUBLISH_LOCK_NAME, strerror(e));
		}
		/* The holder before us may have unlinked the file after we opened it. */
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		free(path);
		return ctl_fail(err, CTL_E_IO, "cannot take the lock %s/%s", dir, PUBLISH_LOCK_NAME);
	}
	/* We hold the flock: any pid still written there belongs to a run that died. */
	*stale_pid = read_pid(fd);
	len = snprintf(pidbuf, sizeof(pidbuf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pidbuf, (size_t)len, 0) != len) {
		int e = errno;
		unlink(path);
		close(fd);
		free(path);
		return ctl_fail(err, CTL_E_IO, "cannot write lock file in %s: %s", dir, strerror(e));
	}
	if (!(*out = malloc(sizeof(**out)))) {
		unlink(path);
		close(fd);
		free(path);
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	}
	(*out)->fd = fd;
	(*out)->path = path;
	return CTL_OK;
}

void publish_unlock(struct publish_lock *l)
{
	if (!l)
		return;
	unlink(l->path); /* while still holding the flock: see the inode check above */
	close(l->fd);
	free(l->path);
	free(l);
}

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

static int publish_one(const char *dir, const char *name, const uint8_t *data, size_t len,
		       struct publish_result *r)
{
	struct ctl_err err = {0};
	struct ctl_buf old = {0};
	char *path = ctl_path_join(dir, name, ""), *bak = NULL;
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
	if (lstat(path, &st) == 0) {
		rc = ctl_read_file(path, CTL_MAX_FILE_SIZE, &old, &err);
		if (rc == CTL_OK)
			rc = ctl_write_atomic(bak, old.data, old.len, 0644, &err);
		if (rc != CTL_OK) {
			ctl_fail_prefix(&err, "keeping the previous %s as %s.bak", name, name);
			goto out;
		}
		r->had_old = true;
	} else if (errno != ENOENT) {
		rc = ctl_fail(&err, CTL_E_IO, "cannot look at %s: %s", path, strerror(errno));
		goto out;
	}
	rc = ctl_write_atomic(path, data, len, 0644, &err);
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

	for (size_t i = 0; i < ndirs; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		res[i].dir = dirs[i];
		if (publish_one(dirs[i], name, data, len, &res[i]) == CTL_OK)
			ok++;
		else if (first == CTL_OK)
			first = res[i].rc;
	}
	if (ok == ndirs)
		return CTL_OK;
	return ok ? CTL_E_PARTIAL : first;
}

int publish_catch_up(char *const *dirs, size_t ndirs, const char *name,
		     struct publish_result *res, size_t *nres, struct ctl_err *err)
{
	struct ctl_buf first = {0}, other = {0};
	char *path;
	int rc = CTL_OK;

	*nres = 0;
	if (ndirs < 2)
		return CTL_OK;
	if (!(path = ctl_path_join(dirs[0], name, "")))
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	rc = ctl_read_file(path, CTL_MAX_FILE_SIZE, &first, err);
	free(path);
	if (rc != CTL_OK)
		return rc;
	for (size_t i = 1; i < ndirs; i++) {
		bool same = false;

		if (!(path = ctl_path_join(dirs[i], name, ""))) {
			rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
			break;
		}
		if (ctl_read_file(path, CTL_MAX_FILE_SIZE, &other, NULL) == CTL_OK)
			same = other.len == first.len && !memcmp(other.data, first.data, first.len);
		ctl_buf_clear(&other);
		free(path);
		if (same)
			continue;
		if (publish_all(&dirs[i], 1, name, first.data, first.len, &res[*nres]) != CTL_OK &&
		    rc == CTL_OK)
			rc = ctl_fail(err, res[*nres].rc, "%s", res[*nres].msg);
		(*nres)++;
	}
	ctl_buf_clear(&first);
	return rc;
}
