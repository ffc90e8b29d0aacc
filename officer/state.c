/* state.c - see state.h */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#define STATE_MAX (16u << 20) /* published.json never comes near this */

char *state_dir_path(void)
{
	const char *env = getenv(STATE_ENV), *xdg = getenv("XDG_STATE_HOME"), *home;

	if (env && *env)
		return strdup(env);
	if (xdg && *xdg == '/')
		return ctl_path_join(xdg, "ctlsign", "");
	home = getenv("HOME");
	if (!home || *home != '/')
		return NULL;
	return ctl_path_join(home, ".local/state/ctlsign", "");
}

/* mkdir -p with mode 0700 for what it creates. */
static int mkdirs(char *path)
{
	struct stat st;

	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return -1;
	if (stat(path, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int state_dir(char **out, struct ctl_err *err)
{
	char *d = state_dir_path();

	*out = NULL;
	if (!d)
		return ctl_fail(err, CTL_E_IO,
				"no state directory: set %s (or HOME, or XDG_STATE_HOME)", STATE_ENV);
	if (mkdirs(d) != 0) {
		int rc = ctl_fail(err, CTL_E_IO, "cannot create the state directory %s: %s (set %s)",
				  d, strerror(errno), STATE_ENV);
		free(d);
		return rc;
	}
	*out = d;
	return CTL_OK;
}

int state_sha256_hex(const uint8_t *data, size_t len, char out[65])
{
	uint8_t md[32];
	unsigned n = 0;

	if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32)
		return 0;
	ctl_hex_to(md, n, out);
	return 1;
}

/* "ABSDIR/NAME" for the record's key (malloc'd). */
static int record_key(const char *dir, const char *name, char **key, struct ctl_err *err)
{
	char abs[PATH_MAX];

	if (!realpath(dir, abs))
		return ctl_fail(err, CTL_E_IO, "cannot resolve the output directory %s: %s", dir,
				strerror(errno));
	if (!(*key = ctl_path_join(abs, name, "")))
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	return CTL_OK;
}

/* Opens (creating) DIR/published.json.lock and takes the lock (LOCK_SH or LOCK_EX). */
static int lock_state(const char *sd, int how, int *fd, struct ctl_err *err)
{
	char *p = ctl_path_join(sd, STATE_PUBLISHED, ".lock");

	if (!p)
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	*fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0) {
		int rc = ctl_fail(err, CTL_E_IO, "cannot open %s: %s", p, strerror(errno));
		free(p);
		return rc;
	}
	while (flock(*fd, how) != 0) {
		if (errno == EINTR)
			continue;
		int rc = ctl_fail(err, CTL_E_IO, "cannot lock %s: %s", p, strerror(errno));
		close(*fd);
		*fd = -1;
		free(p);
		return rc;
	}
	free(p);
	return CTL_OK;
}

/* Reads published.json (an object; a missing file is an empty object). */
static int load(const char *sd, struct json_object **out, struct ctl_err *err)
{
	char *p = ctl_path_join(sd, STATE_PUBLISHED, "");
	struct ctl_buf b = {0};
	struct json_tokener *tok = NULL;
	struct json_object *o = NULL;
	int rc;

	*out = NULL;
	if (!p)
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	if (access(p, F_OK) != 0 && errno == ENOENT) {
		free(p);
		if (!(*out = json_object_new_object()))
			return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
		return CTL_OK;
	}
	if ((rc = ctl_read_file(p, STATE_MAX, &b, err)) != CTL_OK)
		goto done;
	if (!(tok = json_tokener_new())) {
		rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
		goto done;
	}
	o = json_tokener_parse_ex(tok, (const char *)b.data, (int)b.len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
		rc = ctl_fail(err, CTL_E_MALFORMED,
			      "the state file %s is damaged: move it away and use --trust-current", p);
		goto done;
	}
	*out = o;
	rc = CTL_OK;
done:
	if (tok)
		json_tokener_free(tok);
	ctl_buf_clear(&b);
	free(p);
	return rc;
}

int state_published_get(const char *dir, const char *name, bool *found, char sha256[65],
			long long *when, struct ctl_err *err)
{
	char *sd = NULL, *key = NULL;
	struct json_object *all = NULL, *rec, *h, *t;
	int fd = -1, rc;

	*found = false;
	sha256[0] = 0;
	if (when)
		*when = 0;
	if ((rc = record_key(dir, name, &key, err)) != CTL_OK)
		return rc;
	if ((rc = state_dir(&sd, err)) != CTL_OK)
		goto out;
	if ((rc = lock_state(sd, LOCK_SH, &fd, err)) != CTL_OK)
		goto out;
	if ((rc = load(sd, &all, err)) != CTL_OK)
		goto out;
	if (json_object_object_get_ex(all, key, &rec) &&
	    json_object_object_get_ex(rec, "sha256", &h) && json_object_is_type(h, json_type_string) &&
	    json_object_get_string_len(h) == 64) {
		memcpy(sha256, json_object_get_string(h), 65);
		*found = true;
		if (when && json_object_object_get_ex(rec, "time", &t))
			*when = json_object_get_int64(t);
	}
	rc = CTL_OK;
out:
	json_object_put(all);
	if (fd >= 0)
		close(fd);
	free(sd);
	free(key);
	return rc;
}

int state_published_put(const char *dir, const char *name, const uint8_t *data, size_t len,
			struct ctl_err *err)
{
	char *sd = NULL, *key = NULL, *path = NULL, hex[65];
	struct json_object *all = NULL, *rec = NULL;
	const char *s;
	int fd = -1, rc;

	if (!state_sha256_hex(data, len, hex))
		return ctl_fail(err, CTL_E_INTERNAL, "SHA-256 failed");
	if ((rc = record_key(dir, name, &key, err)) != CTL_OK)
		return rc;
	if ((rc = state_dir(&sd, err)) != CTL_OK)
		goto out;
	if ((rc = lock_state(sd, LOCK_EX, &fd, err)) != CTL_OK)
		goto out;
	if ((rc = load(sd, &all, err)) != CTL_OK)
		goto out;
	if (!(rec = json_object_new_object()) ||
	    json_object_object_add(rec, "sha256", json_object_new_string(hex)) != 0 ||
	    json_object_object_add(rec, "time", json_object_new_int64((int64_t)time(NULL))) != 0 ||
	    json_object_object_add(all, key, rec) != 0) {
		json_object_put(rec);
		rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
		goto out;
	}
	s = json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s || !(path = ctl_path_join(sd, STATE_PUBLISHED, ""))) {
		rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
		goto out;
	}
	rc = ctl_write_atomic(path, (const uint8_t *)s, strlen(s), 0600, err);
out:
	json_object_put(all);
	if (fd >= 0)
		close(fd);
	free(path);
	free(sd);
	free(key);
	return rc;
}
