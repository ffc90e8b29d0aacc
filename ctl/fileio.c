/* fileio.c - whole-file reads and atomic writes (temp, fsync, rename, fsync dir). */
#include "ctl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"

char *ctl_path_join(const char *dir, const char *name, const char *suffix)
{
	size_t n = strlen(dir) + strlen(name) + strlen(suffix) + 2;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/%s%s", dir, name, suffix);
	return p;
}

int ctl_read_fd(int fd, const char *name, size_t max, struct ctl_buf *out, struct ctl_err *err)
{
	struct cbb b;
	uint8_t chunk[16384];
	uint8_t *data;
	size_t len;

	cbb_init(&b);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			cbb_cleanup(&b);
			ctl_fail(err, CTL_E_IO, "cannot read %s: %s", name, strerror(e));
			errno = e;
			return CTL_E_IO;
		}
		if (n == 0)
			break;
		if ((size_t)n > max - b.len) {
			cbb_cleanup(&b);
			return ctl_fail(err, CTL_E_IO,
					"%s is larger than %zu bytes; refusing to read it", name, max);
		}
		if (!cbb_add_bytes(&b, chunk, (size_t)n)) {
			cbb_cleanup(&b);
			return ctl_fail(err, CTL_E_INTERNAL, "out of memory reading %s", name);
		}
	}
	if (!cbb_finish(&b, &data, &len))
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory reading %s", name);
	out->data = data;
	out->len = len;
	return CTL_OK;
}

int ctl_read_regular(int fd, const char *name, size_t max, struct ctl_buf *out, int *refused,
		     struct ctl_err *err)
{
	struct stat st;

	if (refused)
		*refused = 0;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		ctl_fail(err, CTL_E_IO, "cannot look at %s: %s", name, strerror(e));
		errno = e;
		return CTL_E_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		if (refused)
			*refused = CTL_READ_NOT_REGULAR;
		return ctl_fail(err, CTL_E_IO, "%s is not a regular file", name);
	}
	if ((unsigned long long)st.st_size > max) {
		if (refused)
			*refused = CTL_READ_TOO_LARGE;
		return ctl_fail(err, CTL_E_IO, "%s is larger than %zu bytes; refusing to read it",
				name, max);
	}
	return ctl_read_fd(fd, name, max, out, err);
}

int ctl_read_file(const char *path, size_t max, struct ctl_buf *out, struct ctl_err *err)
{
	struct ctl_buf b = {0};
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ctl_fail(err, CTL_E_IO, "cannot open %s: %s", path, strerror(errno));
	rc = ctl_read_regular(fd, path, max, &b, NULL, err);
	close(fd);
	if (rc == CTL_OK) {
		ctl_buf_clear(out);
		*out = b;
	}
	return rc;
}

int ctl_write_all(int fd, const uint8_t *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int ctl_write_atomic(const char *path, const uint8_t *data, size_t len, unsigned mode,
		     struct ctl_err *err)
{
	return ctl_write_atomic_ex(path, data, len, mode, NULL, err);
}

int ctl_write_atomic_ex(const char *path, const uint8_t *data, size_t len, unsigned mode,
			int *renamed, struct ctl_err *err)
{
	char *tmp, *dir, *slash;
	size_t plen = strlen(path);
	int fd, dfd, e;

	if (renamed)
		*renamed = 0;
	if (plen == 0)
		return ctl_fail(err, CTL_E_USAGE, "empty output path");
	tmp = malloc(plen + 16);
	dir = strdup(path);
	if (!tmp || !dir) {
		free(tmp);
		free(dir);
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	}
	snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = 0;
	else
		*slash = 0;

	fd = mkstemp(tmp);
	if (fd < 0) {
		e = errno;
		ctl_fail(err, CTL_E_IO, "cannot create a temporary file next to %s: %s", path,
			 strerror(e));
		goto out;
	}
	if (fchmod(fd, mode & 07777) != 0 || ctl_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		ctl_fail(err, CTL_E_IO, "cannot write %s: %s", tmp, strerror(e));
		goto out;
	}
	if (close(fd) != 0) {
		e = errno;
		unlink(tmp);
		ctl_fail(err, CTL_E_IO, "cannot write %s: %s", tmp, strerror(e));
		goto out;
	}
	if (rename(tmp, path) != 0) {
		e = errno;
		unlink(tmp);
		ctl_fail(err, CTL_E_IO, "cannot rename %s to %s: %s", tmp, path, strerror(e));
		goto out;
	}
	if (renamed)
		*renamed = 1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		e = errno;
		if (dfd >= 0)
			close(dfd);
		/* The file is in place; only its durability is in doubt. */
		ctl_fail(err, CTL_E_IO, "wrote %s but cannot sync directory %s: %s", path, dir,
			 strerror(e));
		goto out;
	}
	close(dfd);
	free(tmp);
	free(dir);
	return CTL_OK;
out:
	free(tmp);
	free(dir);
	return CTL_E_IO;
}

int ctl_write_temp(const char *path, const uint8_t *data, size_t len, unsigned mode,
		   char **tmp_out, struct ctl_err *err)
{
	size_t plen = strlen(path);
	char *tmp;
	int fd, e;

	*tmp_out = NULL;
	if (plen == 0)
		return ctl_fail(err, CTL_E_USAGE, "empty output path");
	if (!(tmp = malloc(plen + 16)))
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		e = errno;
		free(tmp);
		return ctl_fail(err, CTL_E_IO, "cannot create a temporary file next to %s: %s", path,
				strerror(e));
	}
	if (fchmod(fd, mode & 07777) != 0 || ctl_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		ctl_fail(err, CTL_E_IO, "cannot write %s: %s", tmp, strerror(e));
		free(tmp);
		return CTL_E_IO;
	}
	if (close(fd) != 0) {
		e = errno;
		unlink(tmp);
		ctl_fail(err, CTL_E_IO, "cannot write %s: %s", tmp, strerror(e));
		free(tmp);
		return CTL_E_IO;
	}
	*tmp_out = tmp;
	return CTL_OK;
}

int ctl_remove_atomic_leftovers(const char *dir, const char *name, size_t *removed,
				struct ctl_err *err)
{
	/* ctl_write_atomic's temp name: NAME ".tmp." and mkstemp's six characters. */
	size_t nl = strlen(name), pl = nl + 5, n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = CTL_OK;

	if (removed)
		*removed = 0;
	if (!d)
		return ctl_fail(err, CTL_E_IO, "cannot read directory %s: %s", dir, strerror(errno));
	while (rc == CTL_OK && (e = readdir(d))) {
		struct stat st;

		if (strlen(e->d_name) != pl + 6 || strncmp(e->d_name, name, nl) ||
		    strncmp(e->d_name + nl, ".tmp.", 5))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) != 0)
			rc = ctl_fail(err, CTL_E_IO, "cannot remove %s/%s (left by an interrupted write): %s",
				      dir, e->d_name, strerror(errno));
		else
			n++;
	}
	closedir(d);
	if (removed)
		*removed = n;
	return rc;
}

void ctl_lines_init(struct ctl_lines *r, int fd, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->name = name;
}

void ctl_lines_free(struct ctl_lines *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = r->start = r->end = 0;
}

/* Room for more bytes after end (and the NUL a last line without newline needs). */
static int lines_room(struct ctl_lines *r, size_t max, struct ctl_err *err)
{
	size_t want;
	char *nb;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->cap - r->end > 1)
		return CTL_OK;
	if (r->cap > max)
		return ctl_fail(err, CTL_E_IO, "%s: a line longer than %zu bytes", r->name, max);
	want = r->cap ? r->cap * 2 : 65536;
	if (!(nb = realloc(r->buf, want)))
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	r->buf = nb;
	r->cap = want;
	return CTL_OK;
}

int ctl_lines_next(struct ctl_lines *r, size_t max, char **line, size_t *len, bool *nl,
		   struct ctl_err *err)
{
	for (;;) {
		char *p = r->end > r->start ? memchr(r->buf + r->start, '\n', r->end - r->start) : NULL;
		ssize_t n;
		int rc;

		if (p || (r->eof && r->end > r->start)) {
			size_t at = p ? (size_t)(p - r->buf) : r->end;

			r->buf[at] = 0; /* the newline, or the byte lines_room kept free */
			*line = r->buf + r->start;
			*len = at - r->start;
			*nl = p != NULL;
			r->start = p ? at + 1 : at;
			return 1;
		}
		if (r->eof)
			return 0;
		if ((rc = lines_room(r, max, err)) != CTL_OK)
			return -rc;
		n = read(r->fd, r->buf + r->end, r->cap - r->end - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -ctl_fail(err, CTL_E_IO, "cannot read %s: %s", r->name, strerror(errno));
		if (n == 0)
			r->eof = true;
		r->end += (size_t)n;
	}
}
