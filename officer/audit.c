/* audit.c - see audit.h */
#include "audit.h"

#include "bytes.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define TAIL_MAX (1u << 20) /* a record line is never near this */

static char *default_path; /* resolved once, kept for the process's life */

const char *audit_path(const char *explicit_path)
{
	const char *env;
	struct ctl_err err = {0};
	char *sd = NULL;

	if (explicit_path && *explicit_path)
		return explicit_path;
	env = getenv(AUDIT_ENV);
	if (env && *env)
		return env;
	if (default_path)
		return default_path;
	/* Create the state directory now; if that fails, the name is still given so that
	 * the append's error names it. */
	if (state_dir(&sd, &err) != CTL_OK)
		sd = state_dir_path();
	if (!sd)
		return "";
	default_path = ctl_path_join(sd, AUDIT_DEFAULT_NAME, "");
	free(sd);
	return default_path ? default_path : "";
}

static void add_str(struct json_object *o, const char *key, const char *val)
{
	if (val)
		json_object_object_add(o, key, json_object_new_string(val));
}

static int add_signer(struct json_object *o, X509 *cert)
{
	const ASN1_INTEGER *sn;
	BIGNUM *bn;
	char *serial, *subject;

	sn = X509_get0_serialNumber(cert);
	bn = sn ? ASN1_INTEGER_to_BN(sn, NULL) : NULL;
	serial = bn ? BN_bn2hex(bn) : NULL;
	BN_free(bn);
	subject = ctl_name_string(X509_get_subject_name(cert));
	if (!serial || !subject) {
		OPENSSL_free(serial);
		free(subject);
		return 0;
	}
	add_str(o, "signer_serial", serial);
	add_str(o, "signer_subject", subject);
	OPENSSL_free(serial);
	free(subject);
	return 1;
}

/* A path in a record (output, cluster file) as an absolute path (malloc'd): relative
 * ones are joined to the current directory, without a leading "./". */
static char *abs_output(const char *p)
{
	char cwd[PATH_MAX];

	if (p[0] == '/')
		return strdup(p);
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	if (!getcwd(cwd, sizeof(cwd)))
		return strdup(p);
	if (!strcmp(p, "."))
		return strdup(cwd);
	return ctl_path_join(strcmp(cwd, "/") ? cwd : "", p, "");
}

static int sha256_hex(const void *p, size_t n, char out[65])
{
	return state_sha256_hex(p, n, out);
}

/* Builds one record as a JSON line (with '\n') appended to out; prev is the previous
 * line's hash and becomes this line's. */
static int audit_line(const struct audit_rec *r, char prev[65], struct cbb *out)
{
	struct json_object *o = json_object_new_object();
	char when[32];
	const char *s;
	time_t now = time(NULL);
	struct tm tm;
	int ok = 0;

	if (!o || !gmtime_r(&now, &tm) || !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
		goto out;
	add_str(o, "time", when);
	add_str(o, "operation", r->operation);
	add_str(o, "phase", r->phase);
	add_str(o, "intent", r->intent);
	if (r->output) {
		char *a = abs_output(r->output);
		if (!a)
			goto out;
		add_str(o, "output", a);
		free(a);
	}
	if (r->cluster) {
		/* the file exists (it was just read): its canonical name, else as given made
		 * absolute */
		char *a = realpath(r->cluster, NULL);

		if (!a)
			a = abs_output(r->cluster);
		if (!a)
			goto out;
		add_str(o, "cluster", a);
		free(a);
	}
	if (r->data) {
		char h[65];

		if (!sha256_hex(r->data, r->len, h))
			goto out;
		add_str(o, "output_sha256", h);
	}
	add_str(o, "token_label", r->token_label);
	add_str(o, "token_serial", r->token_serial);
	if (r->signer_cert && !add_signer(o, r->signer_cert))
		goto out;
	add_str(o, "result", r->result ? r->result : "ok");
	add_str(o, "detail", r->detail);
	add_str(o, "prev", prev);

	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s || !sha256_hex(s, strlen(s), prev))
		goto out;
	ok = cbb_add_bytes(out, s, strlen(s)) && cbb_add_u8(out, '\n');
out:
	json_object_put(o);
	return ok;
}

static ssize_t pread_all(int fd, uint8_t *p, size_t n, off_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = pread(fd, p + got, n - got, off + (off_t)got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

/* With the log locked: the SHA-256 of its last line (64 zeros for an empty log). A last
 * line without its newline is a record whose write failed (it was never complete, and
 * never acknowledged): it is cut off. */
static int tail_hash(int fd, const char *path, char prev[65], struct ctl_err *err)
{
	struct stat sb;
	uint8_t *buf = NULL;
	size_t want, n, end, start;
	off_t from;
	ssize_t got;

	for (int pass = 0; pass < 2; pass++) {
		if (fstat(fd, &sb) != 0)
			return ctl_fail(err, CTL_E_IO, "cannot read audit log %s: %s", path, strerror(errno));
		if (!S_ISREG(sb.st_mode))
			return ctl_fail(err, CTL_E_IO, "audit log %s is not a regular file", path);
		if (sb.st_size == 0) {
			memcpy(prev, ZERO_HASH, 65);
			return CTL_OK;
		}
		want = (uint64_t)sb.st_size > TAIL_MAX ? TAIL_MAX : (size_t)sb.st_size;
		from = sb.st_size - (off_t)want;
		free(buf);
		if (!(buf = malloc(want)))
			return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
		got = pread_all(fd, buf, want, from);
		if (got < 0 || (size_t)got != want) {
			free(buf);
			return ctl_fail(err, CTL_E_IO, "cannot read audit log %s: %s", path,
					got < 0 ? strerror(errno) : "file shrank");
		}
		n = want;
		if (buf[n - 1] == '\n')
			break;
		/* torn last line: cut it off, then look again */
		end = n;
		while (end > 0 && buf[end - 1] != '\n')
			end--;
		if (end == 0 && from > 0) {
			free(buf);
			return ctl_fail(err, CTL_E_IO, "audit log %s: its last line is too long; move the log away", path);
		}
		if (ftruncate(fd, from + (off_t)end) != 0) {
			int e = errno;
			free(buf);
			return ctl_fail(err, CTL_E_IO, "cannot repair the torn last line of audit log %s: %s",
					path, strerror(e));
		}
		if (pass == 1) {
			free(buf);
			return ctl_fail(err, CTL_E_IO, "audit log %s keeps changing", path);
		}
	}
	end = n - 1; /* the final newline */
	start = end;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	if (start == 0 && from > 0) {
		free(buf);
		return ctl_fail(err, CTL_E_IO, "audit log %s: its last line is too long; move the log away", path);
	}
	if (!sha256_hex(buf + start, end - start, prev)) {
		free(buf);
		return ctl_fail(err, CTL_E_INTERNAL, "SHA-256 failed");
	}
	free(buf);
	return CTL_OK;
}

int audit_append(const char *path, const struct audit_rec *r, struct ctl_err *err)
{
	return audit_append_batch(path, r, 1, err);
}

int audit_append_batch(const char *path, const struct audit_rec *recs, size_t n,
		       struct ctl_err *err)
{
	struct cbb b;
	uint8_t *line = NULL;
	size_t len = 0;
	ssize_t w;
	char prev[65];
	int fd = -1, rc = CTL_E_INTERNAL;

	if (!n)
		return CTL_OK;
	if (!path || !*path)
		return ctl_fail(err, CTL_E_IO, "no audit log: set --audit-log, %s or %s (or HOME)",
				AUDIT_ENV, STATE_ENV);
	cbb_init(&b);
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0640);
	if (fd < 0) {
		rc = ctl_fail(err, CTL_E_IO, "cannot open audit log %s: %s (set --audit-log or %s)",
			      path, strerror(errno), AUDIT_ENV);
		goto out;
	}
	while (flock(fd, LOCK_EX) != 0) {
		if (errno == EINTR)
			continue;
		rc = ctl_fail(err, CTL_E_IO, "cannot lock audit log %s: %s", path, strerror(errno));
		goto out;
	}
	if ((rc = tail_hash(fd, path, prev, err)) != CTL_OK)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (!audit_line(&recs[i], prev, &b))
			goto nomem;
	if (!cbb_finish(&b, &line, &len))
		goto nomem;
	/* One write: O_APPEND makes the lines land whole at the end. */
	do
		w = write(fd, line, len); /* an interrupted write wrote nothing: again */
	while (w < 0 && errno == EINTR);
	if (w < 0 || (size_t)w != len || fsync(fd) != 0) {
		int e = errno;
		if (w >= 0 && (size_t)w != len) /* cut the torn lines off again */
			(void)ftruncate(fd, lseek(fd, 0, SEEK_END) - w);
		rc = ctl_fail(err, CTL_E_IO, "cannot append to audit log %s: %s", path,
			      w < 0 || (size_t)w == len ? strerror(e) : "short write (disk full?)");
		goto out;
	}
	rc = CTL_OK;
	goto out;
nomem:
	cbb_cleanup(&b);
	rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory writing the audit record");
out:
	if (fd >= 0 && close(fd) != 0 && rc == CTL_OK) /* closing drops the flock */
		rc = ctl_fail(err, CTL_E_IO, "cannot close audit log %s: %s", path, strerror(errno));
	free(line);
	return rc;
}

void audit_new_id(char id[AUDIT_ID_MAX])
{
	static atomic_uint seq;

	snprintf(id, AUDIT_ID_MAX, "%ld-%lld-%u", (long)getpid(), (long long)time(NULL),
		 atomic_fetch_add(&seq, 1));
}

/* ---- reading the log back ---- */

static const char *jget(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static struct json_object *parse_line(const char *line, size_t n)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, line, (int)n);
	if (o && (json_tokener_get_error(tok) != json_tokener_success ||
		  (size_t)json_tokener_get_parse_end(tok) != n || !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* Line v->lines (len bytes) against the chain so far: before the chain, its next link
 * (*chained set), or broken (v->why says how). */
static void check_link(struct audit_verify *v, const char *line, size_t len,
		       const char *expect, bool *chained)
{
	struct json_object *o = parse_line(line, len);
	const char *p = o ? jget(o, "prev") : NULL;

	if (!p && !*chained) {
		/* before the chain (or damaged before it started) */
		v->unchained = v->lines;
	} else if (!o) {
		snprintf(v->why, sizeof(v->why), "not a JSON record");
	} else if (!p) {
		snprintf(v->why, sizeof(v->why), "it has no \"prev\" field, yet the chain started before it");
	} else if (strcmp(p, expect) != 0) {
		if (v->lines == 1 || (!*chained && v->unchained == 0))
			snprintf(v->why, sizeof(v->why), "it is not the first record of a log (records before it were deleted)");
		else
			snprintf(v->why, sizeof(v->why), "its \"prev\" is not the SHA-256 of line %ld: line %ld was edited, or records between them were deleted",
				 v->lines - 1, v->lines - 1);
	} else {
		*chained = true;
	}
	json_object_put(o);
}

int audit_verify(const char *path, struct audit_verify *v, struct ctl_err *err)
{
	char *line, prev[65], expect[65], what[PATH_MAX + 16];
	struct ctl_lines lr;
	size_t len;
	bool chained = false, nl;
	int fd, k;

	memset(v, 0, sizeof(*v));
	memcpy(expect, ZERO_HASH, 65);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return ctl_fail(err, CTL_E_IO, "cannot read audit log %s: %s", path, strerror(errno));
	(void)flock(fd, LOCK_SH); /* a consistent view: no append half-way */
	snprintf(what, sizeof(what), "audit log %s", path);
	ctl_lines_init(&lr, fd, what);
	while ((k = ctl_lines_next(&lr, AUDIT_LINE_MAX, &line, &len, &nl, err)) == 1) {
		v->lines++;
		check_link(v, line, len, expect, &chained);
		if (v->why[0]) {
			v->first_bad = v->lines;
			break;
		}
		if (!nl) {
			v->first_bad = v->lines;
			snprintf(v->why, sizeof(v->why), "the last line is incomplete (no newline)");
			break;
		}
		if (!sha256_hex(line, len, prev)) {
			k = -ctl_fail(err, CTL_E_INTERNAL, "SHA-256 failed");
			break;
		}
		memcpy(expect, prev, 65);
	}
	ctl_lines_free(&lr);
	close(fd);
	return k < 0 ? -k : CTL_OK;
}

struct open_intent {
	char id[AUDIT_ID_MAX];
	long line;
	size_t files;
	bool relevant;
	char *where; /* the first relevant output */
};

static bool in_dirs(const char *output, char **absdirs, size_t n)
{
	const char *slash = strrchr(output, '/');
	size_t dl;

	if (!slash)
		return false;
	dl = (size_t)(slash - output);
	for (size_t i = 0; i < n; i++)
		if (absdirs[i] && strlen(absdirs[i]) == (dl ? dl : 1) &&
		    !strncmp(absdirs[i], output, dl ? dl : 1))
			return true;
	return false;
}

/* What audit_report_interrupted gathers: our directories, the literal text an intent
 * naming one of them holds, and the intents without an outcome so far. */
struct intent_scan {
	char **absdirs, **needles;
	size_t ndirs;
	struct open_intent *v;
	size_t nv, cap;
};

static void scan_free(struct intent_scan *s)
{
	for (size_t k = 0; k < s->nv; k++)
		free(s->v[k].where);
	free(s->v);
	for (size_t i = 0; s->absdirs && s->needles && i < s->ndirs; i++) {
		free(s->absdirs[i]);
		free(s->needles[i]);
	}
	free(s->absdirs);
	free(s->needles);
}

static int scan_init(struct intent_scan *s, char *const *dirs, size_t ndirs, struct ctl_err *err)
{
	*s = (struct intent_scan){.ndirs = ndirs};
	if (!(s->absdirs = calloc(ndirs ? ndirs : 1, sizeof(*s->absdirs))))
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	if (!(s->needles = calloc(ndirs ? ndirs : 1, sizeof(*s->needles))))
		return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	for (size_t i = 0; i < ndirs; i++) {
		char abs[PATH_MAX];
		s->absdirs[i] = realpath(dirs[i], abs) ? strdup(abs) : NULL;
		/* "output":"ABSDIR/ as the record has it (no escapes needed in most paths;
		 * a directory whose name needs them is simply not reported) */
		if (s->absdirs[i]) {
			size_t nl = strlen(s->absdirs[i]) + 16;
			if ((s->needles[i] = malloc(nl)))
				snprintf(s->needles[i], nl, "\"output\":\"%s%s", s->absdirs[i],
					 strcmp(s->absdirs[i], "/") ? "/" : "");
		}
	}
	return CTL_OK;
}

/* Cheap filters first: only outcomes, and intents naming one of our directories
 * literally, are parsed. */
static bool scan_wants(const struct intent_scan *s, const char *line)
{
	bool mine = false;

	if (!strstr(line, "\"phase\":\""))
		return false;
	if (strstr(line, "\"phase\":\"outcome\""))
		return true;
	for (size_t i = 0; i < s->ndirs && !mine; i++)
		mine = s->needles[i] && strstr(line, s->needles[i]);
	return mine;
}

/* One parsed record: an outcome closes its intent, an intent opens (or adds a file to) one. */
static int scan_record(struct intent_scan *s, struct json_object *o, long lineno,
		       struct ctl_err *err)
{
	const char *phase = jget(o, "phase"), *id = jget(o, "intent"), *output = jget(o, "output");
	size_t k;

	if (!phase || !id || strlen(id) >= AUDIT_ID_MAX)
		return CTL_OK;
	for (k = 0; k < s->nv && strcmp(s->v[k].id, id); k++)
		;
	if (!strcmp(phase, "outcome")) {
		if (k < s->nv) {
			free(s->v[k].where);
			s->v[k] = s->v[--s->nv];
		}
		return CTL_OK;
	}
	if (strcmp(phase, "intent"))
		return CTL_OK;
	if (k == s->nv) {
		if (s->nv == s->cap) {
			size_t nc = s->cap ? s->cap * 2 : 8;
			struct open_intent *nvp = realloc(s->v, nc * sizeof(*s->v));
			if (!nvp)
				return ctl_fail(err, CTL_E_INTERNAL, "out of memory");
			s->v = nvp;
			s->cap = nc;
		}
		memset(&s->v[s->nv], 0, sizeof(s->v[s->nv]));
		snprintf(s->v[s->nv].id, sizeof(s->v[s->nv].id), "%s", id);
		s->v[s->nv].line = lineno;
		s->nv++;
	}
	s->v[k].files++;
	if (output && !s->v[k].relevant && in_dirs(output, s->absdirs, s->ndirs)) {
		s->v[k].relevant = true;
		s->v[k].where = strdup(output);
	}
	return CTL_OK;
}

/* Reads the log under a shared lock (dropped on return, before any append locks it);
 * a missing log holds no intents. */
static int scan_log(const char *path, struct intent_scan *s, struct ctl_err *err)
{
	char *line, what[PATH_MAX + 16];
	struct ctl_lines lr;
	long lineno = 0;
	size_t n;
	bool nl;
	int fd, k = 0, rc = CTL_OK;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		if (errno != ENOENT)
			return ctl_fail(err, CTL_E_IO, "cannot read audit log %s: %s", path, strerror(errno));
		return CTL_OK;
	}
	(void)flock(fd, LOCK_SH);
	snprintf(what, sizeof(what), "audit log %s", path);
	ctl_lines_init(&lr, fd, what);
	while (rc == CTL_OK && (k = ctl_lines_next(&lr, AUDIT_LINE_MAX, &line, &n, &nl, err)) == 1) {
		struct json_object *o;

		lineno++;
		if (!scan_wants(s, line))
			continue;
		if (!(o = parse_line(line, n)))
			continue;
		rc = scan_record(s, o, lineno, err);
		json_object_put(o);
	}
	if (rc == CTL_OK && k < 0) /* a read error: the scan would miss an interrupted run */
		rc = -k;
	ctl_lines_free(&lr);
	close(fd);
	return rc;
}

int audit_report_interrupted(const char *path, char *const *dirs, size_t ndirs,
			     const char *this_run, FILE *fp, size_t *found, struct ctl_err *err)
{
	struct intent_scan s;
	size_t nfound = 0;
	int rc;

	if (found)
		*found = 0;
	if ((rc = scan_init(&s, dirs, ndirs, err)) != CTL_OK || !path || !*path)
		goto out;
	if ((rc = scan_log(path, &s, err)) != CTL_OK)
		goto out;
	for (size_t k = 0; k < s.nv; k++) {
		struct audit_rec a = {0};
		char detail[512];

		if (!s.v[k].relevant)
			continue;
		nfound++;
		fprintf(fp, "ctlsign: an earlier run was interrupted after announcing %zu file%s (%s%s; audit log %s, line %ld, no outcome recorded); this run %s\n",
			s.v[k].files, s.v[k].files == 1 ? "" : "s", s.v[k].where ? s.v[k].where : "?",
			s.v[k].files > 1 ? " and others" : "", path, s.v[k].line, this_run);
		snprintf(detail, sizeof(detail), "reported by a later run (pid %ld), which %s",
			 (long)getpid(), this_run);
		a.operation = "publish";
		a.phase = "outcome";
		a.intent = s.v[k].id;
		a.result = "interrupted";
		a.detail = detail;
		if (rc == CTL_OK)
			rc = audit_append(path, &a, err);
	}
	if (found)
		*found = nfound;
out:
	scan_free(&s);
	return rc;
}
