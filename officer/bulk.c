/* bulk.c - see bulk.h */
#define _GNU_SOURCE /* syncfs */
#include "bulk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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

/* Inputs larger than this cannot become a .sgn the parser accepts. */
#define BULK_MAX_INPUT (CTL_MAX_FILE_SIZE - 65536u)
#define COMMIT_BATCH 128
#define COMMIT_WAIT_MS 250
#define COMMIT_WAKE 32        /* items queued before the committer is woken */
#define COMMIT_QUEUE 512      /* signed items held while a batch syncs (~5 MiB at most) */
#define WORK_QUEUE_PER_JOB 16 /* names queued per signing thread */

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

/* ---- the pipeline ---- */

struct item {
	struct item *next;
	int in_dfd, out_dfd;
	bool owns_in_dfd;          /* file mode: a directory per item */
	char *name, *out_name;     /* raw base names */
	char *disp_in, *disp_out;  /* printable paths */
	bool always_sign;
	bool named;                /* given by name (FILE...), not found in a directory */
	struct ctl_buf out;        /* the signed file */
	char tmp_name[64];
	bool have_tmp;
};

/* A bounded FIFO that wakes its threads in batches: a consumer is woken only when
 * wake_at items are queued (or on close), a blocked producer only when the queue has
 * drained to half its capacity, so a hand-off costs a futex call per batch, not per item. */
struct queue {
	struct item *head, *tail;
	size_t n, cap, wake_at;
	unsigned empty_waiters, full_waiters;
	bool closed;
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
};

struct run {
	const struct bulk_opts *o;
	struct bulk_stats *st;
	int hash_alg;
	pthread_mutex_t mu;        /* stats, failures, stderr */
	struct queue work, commit;
	atomic_bool stop;
	atomic_bool audit_broken;  /* an intent could not be recorded: publish nothing more */
	atomic_bool cancelled;     /* a cancel request stopped the run: publish nothing more */
	atomic_uint_fast64_t tmp_seq;
	unsigned workers_left;     /* under mu */
	atomic_bool finished;
	bool bar_drawn;            /* under mu */
	unsigned long total;       /* progress: names expected (0 = unknown) */
};

static void item_free(struct item *it)
{
	if (!it)
		return;
	if (it->owns_in_dfd && it->in_dfd >= 0)
		close(it->in_dfd);
	free(it->name);
	free(it->out_name);
	free(it->disp_in);
	free(it->disp_out);
	ctl_buf_clear(&it->out);
	free(it);
}

static void q_init(struct queue *q, size_t cap, size_t wake_at)
{
	memset(q, 0, sizeof(*q));
	q->cap = cap;
	q->wake_at = wake_at;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	pthread_cond_init(&q->not_full, NULL);
}

static void q_destroy(struct queue *q)
{
	struct item *it, *next;

	for (it = q->head; it; it = next) {
		next = it->next;
		item_free(it);
	}
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
}

static void q_push(struct queue *q, struct item *it)
{
	pthread_mutex_lock(&q->mu);
	while (q->n >= q->cap) {
		q->full_waiters++;
		pthread_cond_wait(&q->not_full, &q->mu);
		q->full_waiters--;
	}
	it->next = NULL;
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->n++;
	if (q->empty_waiters && q->n >= q->wake_at)
		pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
}

static void q_close(struct queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_broadcast(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
}

/* Pops up to max items into out (in order) and returns how many. Without a deadline it
 * waits for at least one; with one it waits until wake_at items are queued, the queue is
 * closed or the deadline passed (then it takes what there is, possibly nothing). 0 with
 * no deadline means closed and empty. */
static size_t q_pop_n(struct queue *q, struct item **out, size_t max,
		      const struct timespec *deadline)
{
	size_t got = 0;

	pthread_mutex_lock(&q->mu);
	while (!q->closed && (deadline ? q->n < q->wake_at : !q->head)) {
		int rc;
		q->empty_waiters++;
		rc = deadline ? pthread_cond_timedwait(&q->not_empty, &q->mu, deadline)
			      : pthread_cond_wait(&q->not_empty, &q->mu);
		q->empty_waiters--;
		if (rc == ETIMEDOUT)
			break;
	}
	while (q->head && got < max) {
		struct item *it = q->head;
		q->head = it->next;
		if (!q->head)
			q->tail = NULL;
		q->n--;
		out[got++] = it;
	}
	if (got && q->full_waiters && q->n <= q->cap / 2)
		pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->mu);
	return got;
}

static struct item *q_pop(struct queue *q)
{
	struct item *it;

	return q_pop_n(q, &it, 1, NULL) ? it : NULL;
}

static bool q_done(struct queue *q)
{
	bool done;

	pthread_mutex_lock(&q->mu);
	done = q->closed && !q->head;
	pthread_mutex_unlock(&q->mu);
	return done;
}

static void clear_bar_locked(struct run *r)
{
	if (r->bar_drawn) {
		fputs("\r\033[K", stderr);
		r->bar_drawn = false;
	}
}

/* OUT_HELD: skipped with a warning (a clear config beside its phone's .enc.sgn). */
enum outcome { OUT_SIGNED, OUT_UNCHANGED, OUT_FAILED, OUT_SKIPPED, OUT_HELD, OUT_NOT_DONE };

static void account(struct run *r, struct item *it, enum outcome oc, const char *msg)
{
	struct bulk_stats *st = r->st;

	pthread_mutex_lock(&r->mu);
	switch (oc) {
	case OUT_SIGNED: st->signed_files++; break;
	case OUT_UNCHANGED: st->unchanged++; break;
	case OUT_NOT_DONE: st->not_done++; break;
	case OUT_SKIPPED:
		st->skipped++;
		if (!r->o->quiet) {
			clear_bar_locked(r);
			fprintf(stderr, "ctlsign: note: skipping %s: %s\n", it->disp_in, msg);
		}
		break;
	case OUT_HELD:
		st->skipped++;
		if (!r->o->quiet) {
			clear_bar_locked(r);
			fprintf(stderr, "ctlsign: warning: not signing %s: %s\n", it->disp_in, msg);
		}
		if (!st->warnings)
			st->warnings = json_object_new_array();
		if (st->warnings && json_object_array_length(st->warnings) < r->o->max_failures_listed) {
			struct json_object *f = json_object_new_object();
			if (f) {
				json_object_object_add(f, "file", json_object_new_string(it->disp_in));
				json_object_object_add(f, "warning", json_object_new_string(msg));
				json_object_array_add(st->warnings, f);
			}
		}
		break;
	case OUT_FAILED:
		st->failed++;
		if (!r->o->quiet) {
			clear_bar_locked(r);
			fprintf(stderr, "ctlsign: %s: %s\n", it->disp_in, msg);
		}
		if (json_object_array_length(st->failures) < r->o->max_failures_listed) {
			struct json_object *f = json_object_new_object();
			if (f) {
				json_object_object_add(f, "file", json_object_new_string(it->disp_in));
				json_object_object_add(f, "error", json_object_new_string(msg));
				json_object_array_add(st->failures, f);
			}
		} else {
			st->failures_truncated = true;
		}
		break;
	}
	pthread_mutex_unlock(&r->mu);
}

/* Reads a regular file opened by fd, at most max bytes: 0, 1 (not a regular file) or -1. */
static int read_fd(int fd, size_t max, struct ctl_buf *out, const char **why)
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

static bool existing_current(struct run *r, struct item *it, const struct ctl_buf *content)
{
	struct ctl_buf sgn = {NULL, 0};
	const char *why;
	bool cur = false;
	int fd;

	fd = openat(it->out_dfd, it->out_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return false;
	if (read_fd(fd, CTL_MAX_FILE_SIZE, &sgn, &why) == 0)
		cur = bulk_sgn_current(content->data, content->len, sgn.data, sgn.len, it->out_name,
				       r->hash_alg, r->o->signer->cert);
	close(fd);
	free(sgn.data);
	return cur;
}

static void stop_run(struct run *r, const struct ctl_err *e)
{
	pthread_mutex_lock(&r->mu);
	if (!r->st->stopped) {
		r->st->stopped = true;
		r->st->stop = *e;
	}
	pthread_mutex_unlock(&r->mu);
	atomic_store(&r->stop, true);
}

/* NAME.enc.sgn in dfd (any kind of file: even a link there means the phone is meant to
 * be encrypted). */
static bool has_enc_sgn(int dfd, const char *name)
{
	char enc[NAME_MAX + 16];
	struct stat sb;
	int n = snprintf(enc, sizeof(enc), "%s.enc.sgn", name);

	return n > 0 && (size_t)n < sizeof(enc) && fstatat(dfd, enc, &sb, AT_SYMLINK_NOFOLLOW) == 0;
}

/* A cancel request (Ctrl-C, SIGTERM: o->cancelled) stops the run like a token fault. */
static bool check_cancel(struct run *r)
{
	int sig = r->o->cancelled ? r->o->cancelled() : 0;
	struct ctl_err e;

	if (!sig)
		return false;
	memset(&e, 0, sizeof(e));
	ctl_fail(&e, CTL_E_CANCELLED, "cancelled (%s)",
		 sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "a signal");
	atomic_store(&r->cancelled, true);
	stop_run(r, &e);
	return true;
}

/* Returns true when the item goes on to the committer. */
static bool process(struct run *r, struct item *it)
{
	struct ctl_buf content = {NULL, 0};
	struct ctl_build_opts bo;
	struct ctl_err e;
	const char *why = NULL;
	int fd, rc;

	/* A phone whose config is encrypted (NAME.enc.sgn beside it) must not be given its
	 * clear full config as NAME.sgn, in place of the minimal one: when the clear file
	 * reappears (the server wrote it again), a directory run leaves it alone. Signing it
	 * by name still does (the officer decided to serve it in the clear). */
	if (!it->named && (has_enc_sgn(it->out_dfd, it->name) ||
			   (it->in_dfd != it->out_dfd && has_enc_sgn(it->in_dfd, it->name)))) {
		account(r, it, OUT_HELD,
			"the phone's config is encrypted (.enc.sgn beside it): its clear full config is not published as .sgn; encrypt it again (ctlsign encrypt), or name the file to sign it in the clear");
		return false;
	}
	fd = openat(it->in_dfd, it->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		if (errno == ELOOP) {
			account(r, it, OUT_SKIPPED, "symbolic link, not followed");
		} else {
			char msg[300];
			snprintf(msg, sizeof(msg), "cannot open: %s", strerror(errno));
			account(r, it, OUT_FAILED, msg);
		}
		return false;
	}
	rc = read_fd(fd, BULK_MAX_INPUT, &content, &why);
	close(fd);
	if (rc != 0) {
		char msg[300];
		snprintf(msg, sizeof(msg), "cannot read: %s", why);
		account(r, it, rc > 0 ? OUT_SKIPPED : OUT_FAILED, rc > 0 ? why : msg);
		return false;
	}
	if (!it->always_sign && !r->o->all && existing_current(r, it, &content)) {
		free(content.data);
		account(r, it, OUT_UNCHANGED, NULL);
		return false;
	}
	if (atomic_load(&r->stop) || check_cancel(r)) {
		free(content.data);
		account(r, it, OUT_NOT_DONE, NULL);
		return false;
	}
	memset(&bo, 0, sizeof(bo));
	bo.hash_alg = r->hash_alg;
	bo.timestamp = r->o->timestamp;
	bo.file_name = it->out_name;
	bo.signer_version_minor = -1;
	memset(&e, 0, sizeof(e));
	rc = ctl_build_sgn(content.data, content.len, r->o->signer, &bo, &it->out, &e);
	free(content.data);
	if (rc == CTL_E_TOKEN) {
		/* The token is gone or broken: nothing more can be signed. */
		stop_run(r, &e);
		account(r, it, OUT_NOT_DONE, NULL);
		return false;
	}
	if (rc != CTL_OK) {
		account(r, it, OUT_FAILED, e.msg[0] ? e.msg : ctl_status_name(rc));
		return false;
	}
	return true;
}

/* Writes the item's output to a temp file in its output directory (not yet durable: the
 * committer syncs, then renames). Done by the committer, so that the signing threads only
 * read, hash and sign: with one session the token is never idle while a file is created. */
static bool write_tmp(struct run *r, struct item *it)
{
	char msg[300];
	int fd;

	snprintf(it->tmp_name, sizeof(it->tmp_name), ".ctlsign-%ld-%llu.tmp", (long)getpid(),
		 (unsigned long long)atomic_fetch_add(&r->tmp_seq, 1));
	fd = openat(it->out_dfd, it->tmp_name,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(msg, sizeof(msg), "cannot write %s: %s", it->disp_out, strerror(errno));
		account(r, it, OUT_FAILED, msg);
		return false;
	}
	if (ctl_write_all(fd, it->out.data, it->out.len) != 0 || close(fd) != 0) {
		snprintf(msg, sizeof(msg), "cannot write %s: %s", it->disp_out, strerror(errno));
		unlinkat(it->out_dfd, it->tmp_name, 0);
		account(r, it, OUT_FAILED, msg);
		return false;
	}
	it->have_tmp = true;
	return true;
}

static void *worker_main(void *arg)
{
	struct run *r = arg;
	struct item *it;

	while ((it = q_pop(&r->work))) {
		if (atomic_load(&r->stop)) {
			account(r, it, OUT_NOT_DONE, NULL);
			item_free(it);
		} else if (process(r, it)) {
			q_push(&r->commit, it);
		} else {
			item_free(it);
		}
	}
	pthread_mutex_lock(&r->mu);
	if (--r->workers_left == 0)
		q_close(&r->commit);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* Makes a batch durable: write each output to a temp file, sync their file systems,
 * record the intent in the audit log, rename each into place, fsync the directories;
 * then record the outcome and account. Same guarantees as ctl_write_atomic, with one
 * sync per batch instead of per file; no output becomes visible without its audit
 * record before it. */
static void commit_batch(struct run *r, struct item **b, size_t n)
{
	int dfds[COMMIT_BATCH];
	size_t nd = 0, nok = 0, nint = 0;
	struct bulk_done done[COMMIT_BATCH];
	char msg[COMMIT_BATCH][300], id[BULK_ID_MAX] = "";
	bool ok[COMMIT_BATCH], announced[COMMIT_BATCH];

	for (size_t i = 0; i < n; i++) {
		size_t j;
		msg[i][0] = 0;
		announced[i] = false;
		if (atomic_load(&r->audit_broken) || (i == 0 && check_cancel(r)) ||
		    atomic_load(&r->cancelled)) {
			/* the audit log failed, or the run was cancelled: publish nothing more
			 * (a batch already announced is always finished) */
			account(r, b[i], OUT_NOT_DONE, NULL);
			continue;
		}
		if (!write_tmp(r, b[i]))
			continue;
		for (j = 0; j < nd && dfds[j] != b[i]->out_dfd; j++)
			;
		if (j == nd)
			dfds[nd++] = b[i]->out_dfd;
	}
	for (size_t j = 0; j < nd; j++) {
		if (syncfs(dfds[j]) != 0) {
			int saved = errno;
			for (size_t i = 0; i < n; i++)
				if (b[i]->out_dfd == dfds[j] && b[i]->have_tmp) {
					unlinkat(b[i]->out_dfd, b[i]->tmp_name, 0);
					b[i]->have_tmp = false;
					snprintf(msg[i], sizeof(msg[i]), "cannot sync %s: %s",
						 b[i]->disp_out, strerror(saved));
					account(r, b[i], OUT_FAILED, msg[i]);
				}
		}
	}
	/* Audit first, publish second. */
	for (size_t i = 0; i < n; i++)
		if (b[i]->have_tmp) {
			done[nint++] = (struct bulk_done){b[i]->disp_out, b[i]->out.data, b[i]->out.len, "ok"};
			announced[i] = true;
		}
	if (nint && r->o->intent) {
		struct ctl_err e;

		memset(&e, 0, sizeof(e));
		if (r->o->intent(r->o->audit_ctx, done, nint, id, &e) != CTL_OK) {
			if (!e.code)
				e.code = CTL_E_IO;
			ctl_fail_prefix(&e, "nothing more was published (%zu signed file%s not put in place)",
					nint, nint == 1 ? "" : "s");
			atomic_store(&r->audit_broken, true);
			stop_run(r, &e);
			for (size_t i = 0; i < n; i++) {
				if (!b[i]->have_tmp)
					continue;
				unlinkat(b[i]->out_dfd, b[i]->tmp_name, 0);
				b[i]->have_tmp = false;
				account(r, b[i], OUT_NOT_DONE, NULL);
			}
			for (size_t i = 0; i < n; i++)
				item_free(b[i]);
			return;
		}
	}
	for (size_t i = 0; i < n; i++) {
		ok[i] = false;
		if (!b[i]->have_tmp)
			continue;
		if (renameat(b[i]->out_dfd, b[i]->tmp_name, b[i]->out_dfd, b[i]->out_name) != 0) {
			snprintf(msg[i], sizeof(msg[i]), "cannot write %s: %s", b[i]->disp_out,
				 strerror(errno));
			unlinkat(b[i]->out_dfd, b[i]->tmp_name, 0);
			account(r, b[i], OUT_FAILED, msg[i]);
		} else {
			ok[i] = true;
		}
		b[i]->have_tmp = false;
	}
	for (size_t j = 0; j < nd; j++)
		(void)fsync(dfds[j]); /* best effort: the data is in place either way */
	for (size_t i = 0; i < n; i++) {
		if (!announced[i])
			continue;
		done[nok++] = (struct bulk_done){b[i]->disp_out, b[i]->out.data, b[i]->out.len,
						 ok[i] ? "ok" : msg[i]};
	}
	if (nint && r->o->outcome)
		r->o->outcome(r->o->audit_ctx, id, done, nok);
	for (size_t i = 0; i < n; i++) {
		if (ok[i])
			account(r, b[i], OUT_SIGNED, NULL);
		item_free(b[i]);
	}
}

static void deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Commits whatever has queued once COMMIT_WAKE items are waiting, the queue is closed,
 * or COMMIT_WAIT_MS passed: outputs become durable within about that time. */
static void *committer_main(void *arg)
{
	struct run *r = arg;
	struct item *batch[COMMIT_BATCH];
	struct timespec deadline;

	for (;;) {
		size_t n;

		deadline_in(&deadline, COMMIT_WAIT_MS);
		n = q_pop_n(&r->commit, batch, COMMIT_BATCH, &deadline);
		if (n)
			commit_batch(r, batch, n);
		else if (q_done(&r->commit))
			break;
	}
	atomic_store(&r->finished, true);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void draw_bar(struct run *r, bool final)
{
	const struct bulk_stats *st = r->st;
	unsigned long done;
	char bar[31];
	int fill;

	pthread_mutex_lock(&r->mu);
	done = st->signed_files + st->unchanged + st->failed + st->skipped + st->not_done;
	fill = r->total ? (int)(30.0 * (double)done / (double)r->total) : 0;
	if (fill > 30)
		fill = 30;
	for (int i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = 0;
	fprintf(stderr, "\r\033[Ksigning [%s] %lu/%lu  signed %lu  unchanged %lu  failed %lu", bar,
		done, r->total, st->signed_files, st->unchanged, st->failed);
	r->bar_drawn = true;
	if (final) {
		fputc('\n', stderr);
		r->bar_drawn = false;
	}
	pthread_mutex_unlock(&r->mu);
}

typedef struct item *(*next_fn)(void *ctx, struct run *r);

static int run_pipeline(const struct bulk_opts *o, struct bulk_stats *st, next_fn next,
			void *ctx, unsigned long total, struct ctl_err *err)
{
	struct run r;
	struct bulk_opts oc = *o;
	pthread_t *tids = NULL, ctid;
	unsigned started = 0;
	bool committer = false;
	double last = 0;
	struct item *it;
	int rc = CTL_OK, thread_err;

	if (!oc.max_failures_listed)
		oc.max_failures_listed = 100;
	if (!oc.jobs)
		oc.jobs = 1;
	memset(&r, 0, sizeof(r));
	r.o = &oc;
	r.st = st;
	r.hash_alg = oc.hash_alg ? oc.hash_alg : CTL_HASH_SHA512;
	r.total = total;
	pthread_mutex_init(&r.mu, NULL);
	q_init(&r.work, WORK_QUEUE_PER_JOB * (size_t)oc.jobs, 1);
	q_init(&r.commit, COMMIT_QUEUE, COMMIT_WAKE);
	atomic_init(&r.stop, false);
	atomic_init(&r.audit_broken, false);
	atomic_init(&r.cancelled, false);
	atomic_init(&r.finished, false);
	atomic_init(&r.tmp_seq, 0);
	if (!st->failures && !(st->failures = json_object_new_array())) {
		rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
		goto out;
	}
	if (!(tids = calloc(oc.jobs, sizeof(*tids)))) {
		rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
		goto out;
	}
	r.workers_left = oc.jobs;
	/* pthread_create returns its error (errno is not set) */
	if ((thread_err = pthread_create(&ctid, NULL, committer_main, &r)) != 0) {
		rc = ctl_fail(err, CTL_E_INTERNAL, "cannot start a thread: %s", strerror(thread_err));
		goto out;
	}
	committer = true;
	for (; started < oc.jobs; started++)
		if ((thread_err = pthread_create(&tids[started], NULL, worker_main, &r)) != 0)
			break;
	if (!started) {
		pthread_mutex_lock(&r.mu);
		r.workers_left = 0;
		pthread_mutex_unlock(&r.mu);
		q_close(&r.commit);
		rc = ctl_fail(err, CTL_E_INTERNAL, "cannot start a thread: %s", strerror(thread_err));
		goto out;
	}
	if (started < oc.jobs) {
		pthread_mutex_lock(&r.mu);
		r.workers_left -= oc.jobs - started;
		pthread_mutex_unlock(&r.mu);
	}

	while (!atomic_load(&r.stop) && !check_cancel(&r) && (it = next(ctx, &r))) {
		pthread_mutex_lock(&r.mu);
		st->considered++;
		pthread_mutex_unlock(&r.mu);
		q_push(&r.work, it);
		if (oc.progress && now_s() - last > 0.1) {
			last = now_s();
			draw_bar(&r, false);
		}
	}
	q_close(&r.work);
	while (oc.progress && !atomic_load(&r.finished)) {
		struct timespec ts = {0, 100000000L};
		nanosleep(&ts, NULL);
		draw_bar(&r, false);
	}
out:
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	if (committer)
		pthread_join(ctid, NULL);
	/* a signal during the last batch: the run was cut short as far as the caller knows */
	if (rc == CTL_OK && !st->stopped)
		(void)check_cancel(&r);
	if (oc.progress && rc == CTL_OK)
		draw_bar(&r, true);
	free(tids);
	q_destroy(&r.work);
	q_destroy(&r.commit);
	pthread_mutex_destroy(&r.mu);
	if (rc != CTL_OK)
		return rc;
	if (st->stopped)
		return st->stop.code ? st->stop.code : CTL_E_TOKEN;
	return st->failed ? CTL_E_PARTIAL : CTL_OK;
}

static struct item *item_new(int in_dfd, bool owns, int out_dfd, const char *name,
			     const char *in_dir, const char *out_dir)
{
	struct item *it = calloc(1, sizeof(*it));
	char *dn = NULL, *dd = NULL, *dod = NULL, *don = NULL;
	size_t nl = strlen(name);

	if (!it)
		return NULL;
	it->in_dfd = in_dfd;
	it->owns_in_dfd = owns;
	it->out_dfd = out_dfd;
	it->name = strdup(name);
	it->out_name = malloc(nl + 5);
	if (it->out_name) {
		memcpy(it->out_name, name, nl);
		memcpy(it->out_name + nl, ".sgn", 5);
	}
	dn = bulk_display_name(name);
	dd = bulk_display_name(in_dir);
	dod = bulk_display_name(out_dir);
	if (it->out_name)
		don = bulk_display_name(it->out_name);
	if (dn && dd && dod && don) {
		size_t a = strlen(dd) + strlen(dn) + 2, b = strlen(dod) + strlen(don) + 2;
		it->disp_in = malloc(a);
		it->disp_out = malloc(b);
		if (it->disp_in)
			snprintf(it->disp_in, a, "%s/%s", dd, dn);
		if (it->disp_out)
			snprintf(it->disp_out, b, "%s/%s", dod, don);
	}
	free(dn);
	free(dd);
	free(dod);
	free(don);
	if (!it->name || !it->out_name || !it->disp_in || !it->disp_out) {
		it->owns_in_dfd = false;
		item_free(it);
		return NULL;
	}
	return it;
}

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
		it = item_new(s->dfd, false, s->out_dfd, de->d_name, s->dir, s->outdir);
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

static int open_dir(const char *path, int *out, struct ctl_err *err)
{
	*out = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*out < 0)
		return ctl_fail(err, CTL_E_IO, "cannot open directory %s: %s", path, strerror(errno));
	return CTL_OK;
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
	if ((rc = open_dir(dir, &s.dfd, err)) != CTL_OK)
		return rc;
	if (o->outdir && (rc = open_dir(o->outdir, &s.out_dfd, err)) != CTL_OK)
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
	rc = run_pipeline(o, st, dir_next, &s, total, err);
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
		it = item_new(-1, false, -1, base, dir, s->outdir ? s->outdir : dir);
		if (!it) {
			free(dir);
			return NULL;
		}
		it->always_sign = s->always;
		it->named = true;
		if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
			account(r, it, OUT_FAILED, "not a file name");
		} else if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
			char msg[300];
			snprintf(msg, sizeof(msg), "cannot open its directory: %s", strerror(errno));
			account(r, it, OUT_FAILED, msg);
		} else {
			it->in_dfd = dfd;
			it->owns_in_dfd = true;
			it->out_dfd = s->outdir ? s->out_dfd : dfd;
			free(dir);
			return it;
		}
		free(dir);
		item_free(it);
	}
	return NULL;
}

int bulk_sign_files(char *const *files, size_t n, bool always_sign, const struct bulk_opts *o,
		    struct bulk_stats *st, struct ctl_err *err)
{
	struct files_src s = {files, n, 0, -1, o->outdir, always_sign};
	int rc;

	if (o->outdir && (rc = open_dir(o->outdir, &s.out_dfd, err)) != CTL_OK)
		return rc;
	rc = run_pipeline(o, st, files_next, &s, o->progress ? n : 0, err);
	if (s.out_dfd >= 0)
		close(s.out_dfd);
	return rc;
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
	    errno != ENOENT || has_enc_sgn(out_dfd, x) || has_enc_sgn(in_dfd, x))
		return false;
	fd = openat(out_dfd, sgn_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return false;
	if (read_fd(fd, CTL_MAX_FILE_SIZE, &b, &why) != 0) {
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
	if ((rc = open_dir(dir, &in_dfd, err)) != CTL_OK)
		return rc;
	if ((rc = open_dir(outdir ? outdir : dir, &out_dfd, err)) != CTL_OK)
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

int bulk_prune_orphans(const char *dir, const char *outdir, const struct bulk_patterns *p,
		       X509 *signer_cert, char *const *names, size_t n, bulk_intent_fn intent,
		       bulk_outcome_fn outcome, void *ctx, unsigned long *removed,
		       struct ctl_err *err)
{
	const char *od = outdir ? outdir : dir;
	int in_dfd = -1, out_dfd = -1, rc;
	bool some_failed = false;

	*removed = 0;
	if ((rc = open_dir(dir, &in_dfd, err)) != CTL_OK)
		return rc;
	if ((rc = open_dir(od, &out_dfd, err)) != CTL_OK) {
		close(in_dfd);
		return rc;
	}
	for (size_t at = 0; at < n; at += COMMIT_BATCH) {
		struct bulk_done done[COMMIT_BATCH];
		struct ctl_buf data[COMMIT_BATCH];
		char *disp[COMMIT_BATCH], msg[COMMIT_BATCH][300], id[BULK_ID_MAX] = "";
		size_t k = 0, idx[COMMIT_BATCH];

		for (size_t i = at; i < n && i < at + COMMIT_BATCH; i++) {
			char *dd, *dn;
			size_t len;

			data[k] = (struct ctl_buf){NULL, 0};
			/* checked again: it may have changed since it was found */
			if (!orphan_check(in_dfd, out_dfd, p, signer_cert, names[i], &data[k]))
				continue;
			dd = bulk_display_name(od);
			dn = bulk_display_name(names[i]);
			len = (dd ? strlen(dd) : 0) + (dn ? strlen(dn) : 0) + 2;
			disp[k] = dd && dn ? malloc(len) : NULL;
			if (disp[k])
				snprintf(disp[k], len, "%s/%s", dd, dn);
			free(dd);
			free(dn);
			if (!disp[k]) {
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
			for (size_t j = 0; j < k; j++) {
				if (unlinkat(out_dfd, names[idx[j]], 0) != 0) {
					snprintf(msg[j], sizeof(msg[j]), "cannot remove %s: %s", done[j].path,
						 strerror(errno));
					done[j].result = msg[j];
					some_failed = true;
				} else {
					(*removed)++;
				}
			}
			(void)fsync(out_dfd);
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
