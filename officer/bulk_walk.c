/* bulk_walk.c - the sources of a bulk run: a directory read as a stream (readdir), or
 * the files named on the command line; each yields items for the pipeline. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bulk_int.h"

/* --- directory mode --- */

struct dir_src {
	DIR *d;
	int dfd, out_dfd;
	const char *dir, *outdir;
	const struct bulk_patterns *pat;
	bool oom;
	int read_errno;            /* readdir failed: the listing is incomplete */
};

static struct item *dir_next(void *ctx, struct run *r)
{
	struct dir_src *s = ctx;
	struct dirent *de;

	(void)r;
	while ((errno = 0, de = readdir(s->d)) || (s->read_errno = errno, 0)) {
		struct item *it;
		if (!bulk_name_eligible(s->pat, de->d_name))
			continue;
		it = bulk_item_new(s->dfd, false, s->out_dfd, de->d_name, s->dir, s->outdir);
		if (!it) {
			s->oom = true;
			return NULL;
		}
		return it;
	}
	return NULL;
}

static unsigned long count_eligible(int dfd, const struct bulk_patterns *pat)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	unsigned long n = 0;
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return 0;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d)))
		if (bulk_name_eligible(pat, de->d_name))
			n++;
	closedir(d);
	return n;
}

/* Temp files a killed run left (".ctlsign-PID-N.tmp" whose PID is gone) are removed before
 * a directory run; a live run's (another ctlsign on the same directory) are left alone. */
static void remove_stale_tmp(int dfd, const char *dir)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	unsigned long removed = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d))) {
		long pid;
		unsigned long long seq;
		int end = 0;

		if (sscanf(e->d_name, ".ctlsign-%ld-%llu.tmp%n", &pid, &seq, &end) != 2 ||
		    e->d_name[end] != 0 || pid <= 0 || pid == (long)getpid())
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if (unlinkat(dfd, e->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	if (removed)
		fprintf(stderr, "ctlsign: removed %lu temporary file%s an interrupted run left in %s\n",
			removed, removed == 1 ? "" : "s", dir);
}

int bulk_sign_dir(const char *dir, const struct bulk_opts *o, struct bulk_stats *st,
		  struct ctl_err *err)
{
	struct dir_src s;
	int rc, rfd;
	unsigned long total = 0;

	memset(&s, 0, sizeof(s));
	s.dfd = s.out_dfd = -1;
	s.dir = dir;
	s.outdir = o->outdir ? o->outdir : dir;
	s.pat = &o->patterns;
	if ((rc = bulk_open_dir(dir, &s.dfd, err)) != CTL_OK)
		return rc;
	if (o->outdir && (rc = bulk_open_dir(o->outdir, &s.out_dfd, err)) != CTL_OK)
		goto out;
	if (!o->outdir)
		s.out_dfd = s.dfd;
	if ((rfd = openat(s.dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    !(s.d = fdopendir(rfd))) {
		if (rfd >= 0)
			close(rfd);
		rc = ctl_fail(err, CTL_E_IO, "cannot read directory %s: %s", dir, strerror(errno));
		goto out;
	}
	remove_stale_tmp(s.out_dfd, s.outdir);
	if (o->progress)
		total = count_eligible(s.dfd, s.pat);
	rc = bulk_run_pipeline(o, st, dir_next, &s, total, err);
	if (s.oom && rc != CTL_E_INTERNAL)
		rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory while reading %s", dir);
	else if (s.read_errno && rc == CTL_OK)
		rc = ctl_fail(err, CTL_E_IO, "cannot read directory %s: %s; files listed after the error were not signed: run again",
			      dir, strerror(s.read_errno));
out:
	if (s.d)
		closedir(s.d);
	if (s.out_dfd >= 0 && s.out_dfd != s.dfd)
		close(s.out_dfd);
	if (s.dfd >= 0)
		close(s.dfd);
	return rc;
}

/* --- explicit files --- */

struct files_src {
	char *const *files;
	size_t n, i;
	int out_dfd;
	const char *outdir;
	bool always;
};

static struct item *files_next(void *ctx, struct run *r)
{
	struct files_src *s = ctx;

	while (s->i < s->n) {
		const char *path = s->files[s->i++];
		const char *slash = strrchr(path, '/');
		const char *base = slash ? slash + 1 : path;
		char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
		struct item *it;
		int dfd = -1;

		if (!dir)
			return NULL;
		it = bulk_item_new(-1, false, -1, base, dir, s->outdir ? s->outdir : dir);
		if (!it) {
			free(dir);
			return NULL;
		}
		it->always_sign = s->always;
		it->named = true;
		if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
			bulk_account(r, it, OUT_FAILED, "not a file name");
		} else if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
			char msg[300];
			snprintf(msg, sizeof(msg), "cannot open its directory: %s", strerror(errno));
			bulk_account(r, it, OUT_FAILED, msg);
		} else {
			it->in_dfd = dfd;
			it->owns_in_dfd = true;
			it->out_dfd = s->outdir ? s->out_dfd : dfd;
			free(dir);
			return it;
		}
		free(dir);
		bulk_item_free(it);
	}
	return NULL;
}

int bulk_sign_files(char *const *files, size_t n, bool always_sign, const struct bulk_opts *o,
		    struct bulk_stats *st, struct ctl_err *err)
{
	struct files_src s = {files, n, 0, -1, o->outdir, always_sign};
	int rc;

	if (o->outdir && (rc = bulk_open_dir(o->outdir, &s.out_dfd, err)) != CTL_OK)
		return rc;
	rc = bulk_run_pipeline(o, st, files_next, &s, o->progress ? n : 0, err);
	if (s.out_dfd >= 0)
		close(s.out_dfd);
	return rc;
}

