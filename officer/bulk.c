/* bulk.c - see bulk.h: the names (which are eligible, how they are shown), the
 * incremental check, the run's statistics, stale .sgn files, and the file helpers the
 * other bulk_*.c share. The pipeline: bulk_pipeline.c; its queue and items:
 * bulk_queue.c; the sources (a directory, a list of files): bulk_walk.c. */
#include "bulk_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

const char *const bulk_default_includes[] = {
	"*.cnf.xml",                 /* SEP<MAC>.cnf.xml, XMLDefault.cnf.xml, ATA/BAT... */
	"RingList*.xml",
	"DistinctiveRingList*.xml",
	"*dictionary*.xml",          /* locale: *-dictionary.xml, *-kate.xml dictionaries */
	"*-tones.xml", "g3-tones.xml", /* network locale tones */
	"*dialplan*.xml",            /* SIP dial plans (*-dialplan.xml) */
	NULL,
};

const char *const bulk_builtin_excludes[] = {
	"*.sgn", "*.tlv", ".*", NULL,
};

static bool match_any(const char *const *pats, const char *name)
{
	for (; pats && *pats; pats++)
		if (fnmatch(*pats, name, 0) == 0)
			return true;
	return false;
}

bool bulk_name_eligible(const struct bulk_patterns *p, const char *name)
{
	if (!name[0] || match_any(bulk_builtin_excludes, name))
		return false;
	if (p && match_any(p->exclude, name))
		return false;
	return match_any(p && p->include ? p->include : bulk_default_includes, name);
}

char *bulk_display_name(const char *name)
{
	size_t n = strlen(name), j = 0;
	char *s = malloc(n * 4 + 1);

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			s[j++] = (char)c;
		} else {
			s[j++] = '\\';
			s[j++] = 'x';
			ctl_hex_to(&c, 1, s + j);
			j += 2;
		}
	}
	s[j] = 0;
	return s;
}

bool bulk_sgn_current(const uint8_t *content, size_t len, const uint8_t *sgn, size_t sgn_len,
		      const char *file_name, int hash_alg, X509 *signer_cert)
{
	struct ctl_file *f = NULL;
	struct ctl_err err;
	const uint8_t *body;
	size_t body_len;
	bool ok = false;

	if (sgn_len <= len || ctl_parse(sgn, sgn_len, &f, &err) != CTL_OK)
		goto out;
	if (f->kind != CTL_KIND_SGN || f->hdr.hash_alg != hash_alg || !f->hdr.file_name ||
	    strcmp(f->hdr.file_name, file_name) != 0)
		goto out;
	ctl_body(f, &body, &body_len);
	if (body_len != len || (len && memcmp(body, content, len) != 0))
		goto out;
	ok = ctl_cert_is(signer_cert, f->hdr.issuer_name, &f->hdr.signer_serial);
out:
	ctl_file_free(f);
	return ok;
}

/* Reads a regular file opened by fd, at most max bytes: 0, 1 (not a regular file) or -1. */
int bulk_read_fd(int fd, size_t max, struct ctl_buf *out, const char **why)
{
	struct ctl_err e;
	int refused, rc = ctl_read_regular(fd, "", max, out, &refused, &e);

	if (rc == CTL_OK)
		return 0;
	if (refused == CTL_READ_NOT_REGULAR) {
		*why = "not a regular file";
		return 1;
	}
	*why = refused == CTL_READ_TOO_LARGE ? "file too large to sign (limit 16 MiB)" :
	       rc == CTL_E_IO ? strerror(errno) : "out of memory";
	return -1;
}

/* NAME.enc.sgn in dfd (any kind of file: even a link there means the phone is meant to
 * be encrypted). */
bool bulk_has_enc_sgn(int dfd, const char *name)
{
	char enc[NAME_MAX + 16];
	struct stat sb;
	int n = snprintf(enc, sizeof(enc), "%s.enc.sgn", name);

	return n > 0 && (size_t)n < sizeof(enc) && fstatat(dfd, enc, &sb, AT_SYMLINK_NOFOLLOW) == 0;
}

int bulk_open_dir(const char *path, int *out, struct ctl_err *err)
{
	*out = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*out < 0)
		return ctl_fail(err, CTL_E_IO, "cannot open directory %s: %s", path, strerror(errno));
	return CTL_OK;
}

void bulk_stats_clear(struct bulk_stats *st)
{
	if (st->failures)
		json_object_put(st->failures);
	if (st->warnings)
		json_object_put(st->warnings);
	memset(st, 0, sizeof(*st));
}

struct json_object *bulk_stats_json(const struct bulk_stats *st)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "signed", json_object_new_int64((int64_t)st->signed_files));
	json_object_object_add(o, "unchanged", json_object_new_int64((int64_t)st->unchanged));
	json_object_object_add(o, "failed", json_object_new_int64((int64_t)st->failed));
	json_object_object_add(o, "skipped", json_object_new_int64((int64_t)st->skipped));
	json_object_object_add(o, "not_done", json_object_new_int64((int64_t)st->not_done));
	json_object_object_add(o, "unsynced", json_object_new_int64((int64_t)st->unsynced));
	json_object_object_add(o, "stopped", json_object_new_boolean(st->stopped));
	if (st->stopped)
		json_object_object_add(o, "stop_reason", json_object_new_string(st->stop.msg));
	json_object_object_add(o, "failures",
			       st->failures ? json_object_get(st->failures) : json_object_new_array());
	json_object_object_add(o, "failures_truncated", json_object_new_boolean(st->failures_truncated));
	json_object_object_add(o, "warnings",
			       st->warnings ? json_object_get(st->warnings) : json_object_new_array());
	return o;
}

/* ---- stale .sgn files ---- */

void bulk_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The orphan test of one directory entry sgn_name ("X.sgn"); on true, *data holds its
 * bytes when data is not NULL. */
static bool orphan_check(int in_dfd, int out_dfd, const struct bulk_patterns *p, X509 *cert,
			 const char *sgn_name, struct ctl_buf *data)
{
	size_t nl = strlen(sgn_name);
	char x[NAME_MAX + 16];
	struct ctl_buf b = {NULL, 0};
	struct ctl_file *f = NULL;
	struct ctl_err e;
	struct stat sb;
	const char *why;
	bool ok = false;
	int fd;

	if (nl <= 4 || nl - 4 >= sizeof(x) || strcmp(sgn_name + nl - 4, ".sgn") != 0 ||
	    (nl > 8 && strcmp(sgn_name + nl - 8, ".enc.sgn") == 0))
		return false;
	memcpy(x, sgn_name, nl - 4);
	x[nl - 4] = 0;
	if (!bulk_name_eligible(p, x) || fstatat(in_dfd, x, &sb, AT_SYMLINK_NOFOLLOW) == 0 ||
	    errno != ENOENT || bulk_has_enc_sgn(out_dfd, x) || bulk_has_enc_sgn(in_dfd, x))
		return false;
	fd = openat(out_dfd, sgn_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return false;
	if (bulk_read_fd(fd, CTL_MAX_FILE_SIZE, &b, &why) != 0) {
		close(fd);
		return false;
	}
	close(fd);
	memset(&e, 0, sizeof(e));
	if (ctl_parse(b.data, b.len, &f, &e) == CTL_OK && f->kind == CTL_KIND_SGN &&
	    f->hdr.file_name && strcmp(f->hdr.file_name, sgn_name) == 0 &&
	    ctl_cert_is(cert, f->hdr.issuer_name, &f->hdr.signer_serial) &&
	    ctl_verify_cert(f, cert, &e) == CTL_OK)
		ok = true;
	ctl_file_free(f);
	if (ok && data)
		*data = b;
	else
		free(b.data);
	return ok;
}

int bulk_find_orphans(const char *dir, const char *outdir, const struct bulk_patterns *p,
		      X509 *signer_cert, char ***names, size_t *n, struct ctl_err *err)
{
	int in_dfd = -1, out_dfd = -1, rfd, rc;
	size_t cap = 0;
	struct dirent *de;
	DIR *d = NULL;

	*names = NULL;
	*n = 0;
	if ((rc = bulk_open_dir(dir, &in_dfd, err)) != CTL_OK)
		return rc;
	if ((rc = bulk_open_dir(outdir ? outdir : dir, &out_dfd, err)) != CTL_OK)
		goto out;
	if ((rfd = openat(out_dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    !(d = fdopendir(rfd))) {
		if (rfd >= 0)
			close(rfd);
		rc = ctl_fail(err, CTL_E_IO, "cannot read directory %s: %s", outdir ? outdir : dir,
			      strerror(errno));
		goto out;
	}
	while ((de = readdir(d))) {
		if (!orphan_check(in_dfd, out_dfd, p, signer_cert, de->d_name, NULL))
			continue;
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			char **nv = realloc(*names, nc * sizeof(*nv));
			if (!nv) {
				rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
				goto out;
			}
			*names = nv;
			cap = nc;
		}
		if (!((*names)[*n] = strdup(de->d_name))) {
			rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
			goto out;
		}
		(*n)++;
	}
	rc = CTL_OK;
out:
	if (d)
		closedir(d);
	if (out_dfd >= 0)
		close(out_dfd);
	if (in_dfd >= 0)
		close(in_dfd);
	if (rc != CTL_OK) {
		bulk_names_free(*names, *n);
		*names = NULL;
		*n = 0;
	}
	return rc;
}

/* "DIR/NAME" in display form; NULL when out of memory. */
static char *display_path(const char *dir, const char *name)
{
	char *dd = bulk_display_name(dir), *dn = bulk_display_name(name), *s = NULL;
	size_t len = (dd ? strlen(dd) : 0) + (dn ? strlen(dn) : 0) + 2;

	if (dd && dn && (s = malloc(len)))
		snprintf(s, len, "%s/%s", dd, dn);
	free(dd);
	free(dn);
	return s;
}

/* Removes the k orphans names[idx[j]] of out_dfd, each result in done[j] (msg[j] holds
 * an error); false when one could not be removed. */
static bool remove_batch(int out_dfd, char *const *names, const size_t *idx,
			 struct bulk_done *done, char (*msg)[300], size_t k, unsigned long *removed)
{
	bool all = true;

	for (size_t j = 0; j < k; j++) {
		if (unlinkat(out_dfd, names[idx[j]], 0) != 0) {
			snprintf(msg[j], sizeof(msg[j]), "cannot remove %s: %s", done[j].path,
				 strerror(errno));
			done[j].result = msg[j];
			all = false;
		} else {
			(*removed)++;
		}
	}
	(void)fsync(out_dfd);
	return all;
}

int bulk_prune_orphans(const char *dir, const char *outdir, const struct bulk_patterns *p,
		       X509 *signer_cert, char *const *names, size_t n, bulk_intent_fn intent,
		       bulk_outcome_fn outcome, void *ctx, unsigned long *removed,
		       struct ctl_err *err)
{
	const char *od = outdir ? outdir : dir;
	int in_dfd = -1, out_dfd = -1, rc;
	bool some_failed = false;

	*removed = 0;
	if ((rc = bulk_open_dir(dir, &in_dfd, err)) != CTL_OK)
		return rc;
	if ((rc = bulk_open_dir(od, &out_dfd, err)) != CTL_OK) {
		close(in_dfd);
		return rc;
	}
	for (size_t at = 0; at < n; at += COMMIT_BATCH) {
		struct bulk_done done[COMMIT_BATCH];
		struct ctl_buf data[COMMIT_BATCH];
		char *disp[COMMIT_BATCH], msg[COMMIT_BATCH][300], id[BULK_ID_MAX] = "";
		size_t k = 0, idx[COMMIT_BATCH];

		for (size_t i = at; i < n && i < at + COMMIT_BATCH; i++) {
			data[k] = (struct ctl_buf){NULL, 0};
			/* checked again: it may have changed since it was found */
			if (!orphan_check(in_dfd, out_dfd, p, signer_cert, names[i], &data[k]))
				continue;
			if (!(disp[k] = display_path(od, names[i]))) {
				free(data[k].data);
				rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
				break;
			}
			done[k] = (struct bulk_done){disp[k], data[k].data, data[k].len, "ok"};
			idx[k++] = i;
		}
		if (rc == CTL_OK && k && intent && (rc = intent(ctx, done, k, id, err)) != CTL_OK)
			ctl_fail_prefix(err, "nothing more was removed (no audit record)");
		if (rc == CTL_OK && k) {
			if (!remove_batch(out_dfd, names, idx, done, msg, k, removed))
				some_failed = true;
			if (outcome)
				outcome(ctx, id, done, k);
		}
		for (size_t j = 0; j < k; j++) {
			free(disp[j]);
			free(data[j].data);
		}
		if (rc != CTL_OK)
			break;
	}
	close(out_dfd);
	close(in_dfd);
	if (rc != CTL_OK)
		return rc;
	if (some_failed)
		return ctl_fail(err, CTL_E_PARTIAL, "some stale .sgn files could not be removed");
	return CTL_OK;
}
