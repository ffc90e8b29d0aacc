/* publish.c - see publish.h */
#include "publish.h"
#include "tool.h"

#include "audit.h"
#include "publish_int.h"

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

int publish_refuse(struct ctl_err *err, const char *dir, const char *name, mode_t m)
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
		return publish_refuse(err, dir, name, st.st_mode);
	return CTL_OK;
}

int publish_open_dir(const char *dir, int *dfd, struct ctl_err *err)
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

	if ((rc = publish_open_dir(dir, &dfd, err)) != CTL_OK)
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
			return publish_refuse(err, dir, name, S_IFLNK);
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
		return publish_refuse(err, dir, name, st.st_mode);
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
	if ((rc = publish_open_dir(dir, &dfd, err)) != CTL_OK)
		return rc;
	rc = read_at(dfd, dir, name, max, out, missing, err);
	close(dfd);
	return rc;
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

	if ((rc = publish_open_dir(dir, &dfd, err)) != CTL_OK)
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
static int rotate_backups(const char *dir, const char *name, const struct ctl_buf *old,
			  bool *keep, struct ctl_err *err)
{
	char b0[NAME_MAX + 8], b1[NAME_MAX + 8], b2[NAME_MAX + 8];
	struct ctl_buf cur = {0};
	struct ctl_err rerr = {0};
	struct stat st;
	bool missing = false;
	char *p0 = NULL, *p1 = NULL, *p2 = NULL;
	int dfd, rc;

	*keep = true;
	snprintf(b0, sizeof(b0), "%s.bak", name);
	snprintf(b1, sizeof(b1), "%s.bak.1", name);
	snprintf(b2, sizeof(b2), "%s.bak.2", name);
	if ((rc = publish_open_dir(dir, &dfd, err)) != CTL_OK)
		return rc;
	/* NAME.bak read on the directory's descriptor, never through a link: one planted
	 * after the run's first look is refused here too */
	rc = read_at(dfd, dir, b0, CTL_MAX_FILE_SIZE, &cur, &missing, &rerr);
	if (rc != CTL_OK && missing) { /* no NAME.bak: nothing to shift */
		close(dfd);
		return CTL_OK;
	}
	if (rc == CTL_E_POLICY) {
		close(dfd);
		*err = rerr;
		return rc;
	}
	if (rc == CTL_OK) {
		bool same = cur.len == old->len && !memcmp(cur.data, old->data, old->len);

		ctl_buf_clear(&cur);
		if (same) {
			close(dfd);
			*keep = false;
			return CTL_OK;
		}
	}
	close(dfd);
	/* the shifts rename names (a rename never follows a link), by path like every other
	 * rename of a publication */
	if (!(p0 = ctl_path_join(dir, b0, "")) || !(p1 = ctl_path_join(dir, b1, "")) ||
	    !(p2 = ctl_path_join(dir, b2, "")))
		rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	else if (lstat(p1, &st) == 0 && rename(p1, p2) != 0)
		rc = ctl_fail(err, CTL_E_IO, "cannot rename %s to %s: %s", p1, p2, strerror(errno));
	else if (rename(p0, p1) != 0)
		rc = ctl_fail(err, CTL_E_IO, "cannot rename %s to %s: %s", p0, p1, strerror(errno));
	else
		rc = CTL_OK;
	free(p0);
	free(p1);
	free(p2);
	return rc;
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

		rc = rotate_backups(dir, name, &old, &keep, &err);
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

/* DIR/NAME holds exactly the bytes of b. */
static bool holds(const char *dir, const char *name, const struct ctl_buf *b)
{
	struct ctl_buf other = {0};
	struct ctl_err ignored = {0};
	bool same = false;

	if (publish_read(dir, name, CTL_MAX_FILE_SIZE, &other, NULL, &ignored) == CTL_OK)
		same = other.len == b->len && !memcmp(other.data, b->data, b->len);
	ctl_buf_clear(&other);
	return same;
}

/* The catch-up's outcome record (id: its intent), naming the directories that still hold
 * the old file; rc the catch-up's, returned unless the record fails. */
static int catch_up_outcome(const char *audit_log, const char *cluster, const char *id,
			    char *const *todo,
			    size_t ntodo, const struct publish_result *res, int rc,
			    struct ctl_err *err)
{
	char detail[1024];
	size_t used = 0, nunsynced = 0, nfailed = 0;
	struct audit_rec a = {
		.operation = "publish", .phase = "outcome", .intent = id,
		.result = rc == CTL_OK ? "ok" : rc == CTL_E_PARTIAL ? "partial" : "failed",
		.detail = detail, .cluster = cluster,
	};
	struct ctl_err aerr = {0};

	/* every copy in place, one or more not synced: published, not durable */
	for (size_t i = 0; i < ntodo; i++) {
		nunsynced += res[i].rc != CTL_OK && res[i].unsynced;
		nfailed += res[i].rc != CTL_OK && !res[i].unsynced;
	}
	if (rc != CTL_OK && nunsynced && !nfailed)
		a.result = "published-unsynced";

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
	return rc;
}

int publish_catch_up(char *const *dirs, size_t ndirs, const char *name, const char *cluster,
		     const char *audit_log,
		     struct publish_result *res, size_t *nres, struct ctl_err *err)
{
	struct ctl_buf first = {0};
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
	for (size_t i = 1; i < ndirs; i++)
		if (!holds(dirs[i], name, &first))
			todo[ntodo++] = dirs[i];
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
		intents[i].cluster = cluster;
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
	rc = catch_up_outcome(audit_log, cluster, id, todo, ntodo, res, rc, err);
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

