/* store.c - see store.h */
#include "store.h"

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

#define STORE_MAGIC "ctlverify-store 1"
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
static void copy_field(char *dst, size_t cap, const char *src)
{
	size_t i = 0;

	for (; src && src[i] && i + 1 < cap; i++)
		dst[i] = ((unsigned char)src[i] < 0x20 || src[i] == 0x7f) ? '?' : src[i];
	dst[i] = 0;
}

/* --- the state file --- */

static int cbs_get_line(struct cbs *s, struct cbs *line)
{
	const uint8_t *nl;

	if (cbs_len(s) == 0)
		return 0;
	nl = memchr(cbs_data(s), '\n', cbs_len(s));
	if (!nl)
		return cbs_get_bytes(s, line, cbs_len(s));
	if (!cbs_get_bytes(s, line, (size_t)(nl - cbs_data(s))))
		return 0;
	return cbs_skip(s, 1);
}

/* Copies a cbs into a NUL-terminated buffer; 0 if it does not fit or holds a NUL. */
static int cbs_copy_str(const struct cbs *s, char *out, size_t cap)
{
	if (cbs_len(s) >= cap || memchr(cbs_data(s), 0, cbs_len(s)))
		return 0;
	memcpy(out, cbs_data(s), cbs_len(s));
	out[cbs_len(s)] = 0;
	return 1;
}

static int parse_ll(const char *v, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(v, &end, 10);
	return !errno && *v && !*end;
}

/* Fills sha256/installed/signer/trust of st->ctl and st->itl (file stays NULL). */
static int state_parse(struct store *st, const struct ctl_buf *b, const char *path,
		       struct ctl_err *err)
{
	struct cbs s, line;
	unsigned lineno = 0;

	cbs_init(&s, b->data, b->len);
	while (cbs_get_line(&s, &line)) {
		char text[1024], *eq, *key, *val;
		struct store_held *h;

		lineno++;
		if (!cbs_copy_str(&line, text, sizeof(text)))
			return ctl_fail(err, CTL_E_IO, "%s:%u: line too long or holds NUL; the store is damaged", path, lineno);
		if (lineno == 1) {
			if (strcmp(text, STORE_MAGIC) != 0)
				return ctl_fail(err, CTL_E_IO, "%s: not a ctlverify store state file (first line '%.60s')", path, text);
			continue;
		}
		if (!text[0])
			continue;
		eq = strchr(text, '=');
		if (!eq || eq - text < 5 || text[3] != '.')
			return ctl_fail(err, CTL_E_IO, "%s:%u: expected ctl.KEY=VALUE or itl.KEY=VALUE", path, lineno);
		*eq = 0;
		key = text + 4;
		val = eq + 1;
		if (!strncmp(text, "ctl.", 4))
			h = &st->ctl;
		else if (!strncmp(text, "itl.", 4))
			h = &st->itl;
		else
			return ctl_fail(err, CTL_E_IO, "%s:%u: unknown section '%.3s'", path, lineno, text);
		if (!strcmp(key, "sha256")) {
			if (strlen(val) != 64 || strspn(val, "0123456789abcdef") != 64)
				return ctl_fail(err, CTL_E_IO, "%s:%u: bad sha256", path, lineno);
			memcpy(h->sha256, val, 65);
		} else if (!strcmp(key, "installed")) {
			if (!parse_ll(val, &h->installed))
				return ctl_fail(err, CTL_E_IO, "%s:%u: bad install time", path, lineno);
		} else if (!strcmp(key, "signer")) {
			copy_field(h->signer, sizeof(h->signer), val);
		} else if (!strcmp(key, "trust")) {
			copy_field(h->trust, sizeof(h->trust), val);
		} /* unknown keys: written by a newer version, ignored */
	}
	return CTL_OK;
}

static int state_add_held(struct cbb *b, const char *sec, const struct store_held *h)
{
	char line[1024];
	int ok = 1;

	if (!h->sha256[0])
		return 1;
	snprintf(line, sizeof(line), "%s.sha256=%s\n", sec, h->sha256);
	ok &= cbb_add_bytes(b, line, strlen(line));
	snprintf(line, sizeof(line), "%s.installed=%lld\n", sec, h->installed);
	ok &= cbb_add_bytes(b, line, strlen(line));
	snprintf(line, sizeof(line), "%s.trust=%s\n", sec, h->trust);
	ok &= cbb_add_bytes(b, line, strlen(line));
	snprintf(line, sizeof(line), "%s.signer=%s\n", sec, h->signer);
	ok &= cbb_add_bytes(b, line, strlen(line));
	return ok;
}

static int state_write(const struct store *st, const struct store_held *ctl,
		       const struct store_held *itl, struct ctl_err *err)
{
	struct cbb b;
	uint8_t *data = NULL;
	size_t len = 0;
	char *path;
	int rc;

	cbb_init(&b);
	cbb_add_bytes(&b, STORE_MAGIC "\n", strlen(STORE_MAGIC) + 1);
	state_add_held(&b, "ctl", ctl);
	state_add_held(&b, "itl", itl);
	if (!cbb_finish(&b, &data, &len))
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	path = ctl_path_join(st->dir, "state", "");
	if (!path) {
		free(data);
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	}
	rc = ctl_write_atomic(path, data, len, 0600, err);
	free(path);
	free(data);
	return rc;
}

/* --- loading --- */

/* ctl_write_atomic's NAME.tmp.XXXXXX of a commit that was killed before its rename (the
 * CTL/ITL .next or the state file). Called with the store's lock held: no commit is
 * running, so any such file is a leftover. */
static int remove_leftovers(const char *dir, struct ctl_err *err)
{
	static const char *const names[] = {"CTLFile.tlv.next", "ITLFile.tlv.next", "state"};
	int rc = CTL_OK;

	for (size_t i = 0; rc == CTL_OK && i < sizeof(names) / sizeof(names[0]); i++)
		rc = ctl_remove_atomic_leftovers(dir, names[i], NULL, err);
	return rc;
}

static int file_exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

static int load_held(struct store *st, int kind, struct ctl_err *err)
{
	struct store_held *h = store_held(st, kind);
	const char *name = store_file_name(kind);
	char *main_path = ctl_path_join(st->dir, name, "");
	char *next_path = ctl_path_join(st->dir, name, ".next");
	struct ctl_buf buf = {0};
	char hex[65];
	int rc = CTL_OK;

	if (!main_path || !next_path) {
		rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
		goto out;
	}
	if (!h->sha256[0]) {
		/* Not held. A .next is an install that crashed before its commit point. */
		if (file_exists(next_path) && unlink(next_path) != 0) {
			rc = ctl_fail(err, CTL_E_IO, "cannot remove %s: %s", next_path, strerror(errno));
			goto out;
		}
		if (file_exists(main_path))
			rc = ctl_fail(err, CTL_E_IO, "%s is not recorded in the store's state file (copied in by hand?); move it away, then install it with 'ctlverify install'", main_path);
		goto out;
	}
	if (ctl_read_file(main_path, CTL_MAX_FILE_SIZE, &buf, NULL) == CTL_OK &&
	    store_sha256_hex(buf.data, buf.len, hex) && !strcmp(hex, h->sha256)) {
		if (file_exists(next_path))
			unlink(next_path); /* a newer install that never committed */
	} else {
		ctl_buf_clear(&buf);
		if (ctl_read_file(next_path, CTL_MAX_FILE_SIZE, &buf, NULL) == CTL_OK &&
		    store_sha256_hex(buf.data, buf.len, hex) && !strcmp(hex, h->sha256)) {
			/* Committed but not yet renamed: finish the install. */
			if (rename(next_path, main_path) != 0 || fsync_dir(st->dir) != 0) {
				rc = ctl_fail(err, CTL_E_IO, "cannot finish the interrupted install of %s: %s", main_path, strerror(errno));
				goto out;
			}
		} else {
			rc = ctl_fail(err, CTL_E_IO, "%s does not match the store's state file (damaged or changed by hand); the store cannot be trusted: remove %s to start over", main_path, st->dir);
			goto out;
		}
	}
	rc = ctl_parse(buf.data, buf.len, &h->file, err);
	if (rc != CTL_OK) {
		ctl_fail_prefix(err, "held %s", main_path);
		goto out;
	}
	if (h->file->kind != kind) {
		rc = ctl_fail(err, CTL_E_IO, "held %s is a %s, not a %s; remove %s to start over", main_path,
			      ctl_kind_name(h->file->kind), ctl_kind_name(kind), st->dir);
		ctl_file_free(h->file);
		h->file = NULL;
	}
out:
	ctl_buf_clear(&buf);
	free(main_path);
	free(next_path);
	return rc;
}

int store_open(struct store *st, const char *dir, struct ctl_err *err)
{
	struct ctl_buf state = {0};
	char *state_path = NULL, *lock_path = NULL;
	int rc;

	memset(st, 0, sizeof(*st));
	st->lock_fd = -1;
	if (!dir)
		return CTL_OK;
	if (!*dir)
		return ctl_fail(err, CTL_E_USAGE, "store directory name is empty");
	st->dir = strdup(dir);
	state_path = ctl_path_join(dir, "state", "");
	lock_path = ctl_path_join(dir, "lock", "");
	if (!st->dir || !state_path || !lock_path) {
		rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
		goto out;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rc = ctl_fail(err, CTL_E_IO, "cannot create store directory %s: %s", dir, strerror(errno));
		goto out;
	}
	st->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (st->lock_fd < 0) {
		rc = ctl_fail(err, CTL_E_IO, "cannot open %s: %s (is %s a writable directory?)", lock_path, strerror(errno), dir);
		goto out;
	}
	if (flock(st->lock_fd, LOCK_EX) != 0) {
		rc = ctl_fail(err, CTL_E_IO, "cannot lock %s: %s", lock_path, strerror(errno));
		goto out;
	}
	if ((rc = remove_leftovers(dir, err)) != CTL_OK)
		goto out;
	if (file_exists(state_path)) {
		rc = ctl_read_file(state_path, STORE_STATE_MAX, &state, err);
		if (rc != CTL_OK)
			goto out;
		rc = state_parse(st, &state, state_path, err);
		if (rc != CTL_OK)
			goto out;
	}
	rc = load_held(st, CTL_KIND_CTL, err);
	if (rc == CTL_OK)
		rc = load_held(st, CTL_KIND_ITL, err);
out:
	ctl_buf_clear(&state);
	free(state_path);
	free(lock_path);
	if (rc != CTL_OK) {
		held_clear(&st->ctl);
		held_clear(&st->itl);
	}
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

int store_commit(struct store *st, struct ctl_file *f, const char *signer, const char *trust,
		 struct ctl_err *err)
{
	int kind = f->kind;
	struct store_held nh, *h;
	char *main_path = NULL, *next_path = NULL;
	int rc;

	if (kind != CTL_KIND_CTL && kind != CTL_KIND_ITL)
		return ctl_fail(err, CTL_E_INTERNAL, "only a CTL or an ITL can be held");
	h = store_held(st, kind);
	memset(&nh, 0, sizeof(nh));
	if (!store_sha256_hex(f->raw.data, f->raw.len, nh.sha256))
		return ctl_fail(err, CTL_E_INTERNAL, "SHA-256 failed");
	nh.installed = (long long)time(NULL);
	copy_field(nh.signer, sizeof(nh.signer), signer);
	copy_field(nh.trust, sizeof(nh.trust), trust);

	if (st->dir) {
		const char *name = store_file_name(kind);

		main_path = ctl_path_join(st->dir, name, "");
		next_path = ctl_path_join(st->dir, name, ".next");
		if (!main_path || !next_path) {
			rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
			goto out;
		}
		rc = ctl_write_atomic(next_path, f->raw.data, f->raw.len, 0644, err);
		if (rc != CTL_OK)
			goto out;
		rc = kind == CTL_KIND_CTL ? state_write(st, &nh, &st->itl, err)
					  : state_write(st, &st->ctl, &nh, err);
		if (rc != CTL_OK) {
			unlink(next_path);
			goto out;
		}
		/* Committed. If this rename fails, store_open() completes it. */
		if (rename(next_path, main_path) == 0)
			fsync_dir(st->dir);
	}
	ctl_file_free(h->file);
	*h = nh;
	h->file = f;
	rc = CTL_OK;
out:
	free(main_path);
	free(next_path);
	return rc;
}
