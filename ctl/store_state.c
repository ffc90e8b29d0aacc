/* store_state.c - the store's state file (store.h): which CTL and ITL the device holds,
 * their SHA-256, signer, trust and dates, in a line-based text file read through the cbs
 * cursor and written through a cbb. */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"

#define STORE_MAGIC "ctlverify-store 1"

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
int store_state_parse(struct store *st, const struct ctl_buf *b, const char *path,
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
			store_copy_field(h->signer, sizeof(h->signer), val);
		} else if (!strcmp(key, "trust")) {
			store_copy_field(h->trust, sizeof(h->trust), val);
		} else if (!strcmp(key, "dropped")) {
			if (strlen(val) != 64 || strspn(val, "0123456789abcdef") != 64)
				return ctl_fail(err, CTL_E_IO, "%s:%u: bad sha256 of a dropped file", path, lineno);
			memcpy(h->dropped_sha256, val, 65);
		} else if (!strcmp(key, "dropped_at")) {
			if (!parse_ll(val, &h->dropped_at))
				return ctl_fail(err, CTL_E_IO, "%s:%u: bad drop time", path, lineno);
		} else if (!strcmp(key, "dropped_why")) {
			store_copy_field(h->dropped_why, sizeof(h->dropped_why), val);
		} /* unknown keys: written by a newer version, ignored */
	}
	return CTL_OK;
}

static int state_add_held(struct cbb *b, const char *sec, const struct store_held *h)
{
	char line[1024];
	int ok = 1;

	if (h->dropped_sha256[0]) {
		snprintf(line, sizeof(line), "%s.dropped=%s\n", sec, h->dropped_sha256);
		ok &= cbb_add_bytes(b, line, strlen(line));
		snprintf(line, sizeof(line), "%s.dropped_at=%lld\n", sec, h->dropped_at);
		ok &= cbb_add_bytes(b, line, strlen(line));
		snprintf(line, sizeof(line), "%s.dropped_why=%s\n", sec, h->dropped_why);
		ok &= cbb_add_bytes(b, line, strlen(line));
	}
	if (!h->sha256[0])
		return ok;
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

int store_state_write(const struct store *st, const struct store_held *ctl,
		       const struct store_held *itl, int *renamed, struct ctl_err *err)
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
	rc = ctl_write_atomic_ex(path, data, len, 0600, renamed, err);
	free(path);
	free(data);
	return rc;
}

