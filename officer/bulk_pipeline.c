/* bulk_pipeline.c - the pipeline of a bulk run: N signing threads (read, check, sign)
 * and one committer thread that makes the outputs durable in batches (audit first,
 * publish second), fed from a source (bulk_walk.c) through bounded queues
 * (bulk_queue.c); the progress bar. */
#define _GNU_SOURCE /* syncfs */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bulk_int.h"

static void clear_bar_locked(struct run *r)
{
	if (r->bar_drawn) {
		fputs("\r\033[K", stderr);
		r->bar_drawn = false;
	}
}


void bulk_account(struct run *r, struct item *it, enum outcome oc, const char *msg)
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

static bool existing_current(struct run *r, struct item *it, const struct ctl_buf *content)
{
	struct ctl_buf sgn = {NULL, 0};
	const char *why;
	bool cur = false;
	int fd;

	fd = openat(it->out_dfd, it->out_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return false;
	if (bulk_read_fd(fd, CTL_MAX_FILE_SIZE, &sgn, &why) == 0)
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

/* Signs content into it->out (and frees it); true when the item goes on to the committer. */
static bool sign_item(struct run *r, struct item *it, struct ctl_buf *content)
{
	struct ctl_build_opts bo;
	struct ctl_err e;
	int rc;

	memset(&bo, 0, sizeof(bo));
	bo.hash_alg = r->hash_alg;
	bo.timestamp = r->o->timestamp;
	bo.file_name = it->out_name;
	bo.signer_version_minor = -1;
	memset(&e, 0, sizeof(e));
	rc = ctl_build_sgn(content->data, content->len, r->o->signer, &bo, &it->out, &e);
	free(content->data);
	content->data = NULL;
	if (rc == CTL_E_TOKEN) {
		/* The token is gone or broken: nothing more can be signed. */
		stop_run(r, &e);
		bulk_account(r, it, OUT_NOT_DONE, NULL);
		return false;
	}
	if (rc != CTL_OK) {
		bulk_account(r, it, OUT_FAILED, e.msg[0] ? e.msg : ctl_status_name(rc));
		return false;
	}
	return true;
}

/* Returns true when the item goes on to the committer. */
static bool process(struct run *r, struct item *it)
{
	struct ctl_buf content = {NULL, 0};
	const char *why = NULL;
	int fd, rc;

	/* A phone whose config is encrypted (NAME.enc.sgn beside it) must not be given its
	 * clear full config as NAME.sgn, in place of the minimal one: when the clear file
	 * reappears (the server wrote it again), a directory run leaves it alone. Signing it
	 * by name still does (the officer decided to serve it in the clear). */
	if (!it->named && (bulk_has_enc_sgn(it->out_dfd, it->name) ||
			   (it->in_dfd != it->out_dfd && bulk_has_enc_sgn(it->in_dfd, it->name)))) {
		bulk_account(r, it, OUT_HELD,
			"the phone's config is encrypted (.enc.sgn beside it): its clear full config is not published as .sgn; encrypt it again (ctlsign encrypt), or name the file to sign it in the clear");
		return false;
	}
	fd = openat(it->in_dfd, it->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		if (errno == ELOOP) {
			bulk_account(r, it, OUT_SKIPPED, "symbolic link, not followed");
		} else {
			char msg[300];
			snprintf(msg, sizeof(msg), "cannot open: %s", strerror(errno));
			bulk_account(r, it, OUT_FAILED, msg);
		}
		return false;
	}
	rc = bulk_read_fd(fd, BULK_MAX_INPUT, &content, &why);
	close(fd);
	if (rc != 0) {
		char msg[300];
		snprintf(msg, sizeof(msg), "cannot read: %s", why);
		bulk_account(r, it, rc > 0 ? OUT_SKIPPED : OUT_FAILED, rc > 0 ? why : msg);
		return false;
	}
	if (!it->always_sign && !r->o->all && existing_current(r, it, &content)) {
		free(content.data);
		bulk_account(r, it, OUT_UNCHANGED, NULL);
		return false;
	}
	if (atomic_load(&r->stop) || check_cancel(r)) {
		free(content.data);
		bulk_account(r, it, OUT_NOT_DONE, NULL);
		return false;
	}
	return sign_item(r, it, &content);
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
		bulk_account(r, it, OUT_FAILED, msg);
		return false;
	}
	if (ctl_write_all(fd, it->out.data, it->out.len) != 0 || close(fd) != 0) {
		snprintf(msg, sizeof(msg), "cannot write %s: %s", it->disp_out, strerror(errno));
		unlinkat(it->out_dfd, it->tmp_name, 0);
		bulk_account(r, it, OUT_FAILED, msg);
		return false;
	}
	it->have_tmp = true;
	return true;
}

static void *worker_main(void *arg)
{
	struct run *r = arg;
	struct item *it;

	while ((it = bulk_q_pop(&r->work))) {
		if (atomic_load(&r->stop)) {
			bulk_account(r, it, OUT_NOT_DONE, NULL);
			bulk_item_free(it);
		} else if (process(r, it)) {
			bulk_q_push(&r->commit, it);
		} else {
			bulk_item_free(it);
		}
	}
	pthread_mutex_lock(&r->mu);
	if (--r->workers_left == 0)
		bulk_q_close(&r->commit);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* One batch of the committer, carried through its steps. */
struct batch {
	struct item **b;
	size_t n;
	int dfds[COMMIT_BATCH];    /* the output directories of the batch */
	size_t nd;
	struct bulk_done done[COMMIT_BATCH];
	size_t nint;               /* outputs announced (intent) */
	char msg[COMMIT_BATCH][300], id[BULK_ID_MAX];
	bool ok[COMMIT_BATCH], announced[COMMIT_BATCH];
};

/* Each output to a temporary file in its directory (nothing more once the audit log failed
 * or the run was cancelled: a batch already announced is always finished). */
static void batch_write(struct run *r, struct batch *bt)
{
	struct item **b = bt->b;

	for (size_t i = 0; i < bt->n; i++) {
		size_t j;
		bt->msg[i][0] = 0;
		bt->announced[i] = false;
		if (atomic_load(&r->audit_broken) || (i == 0 && check_cancel(r)) ||
		    atomic_load(&r->cancelled)) {
			/* the audit log failed, or the run was cancelled: publish nothing more
			 * (a batch already announced is always finished) */
			bulk_account(r, b[i], OUT_NOT_DONE, NULL);
			continue;
		}
		if (!write_tmp(r, b[i]))
			continue;
		for (j = 0; j < bt->nd && bt->dfds[j] != b[i]->out_dfd; j++)
			;
		if (j == bt->nd)
			bt->dfds[bt->nd++] = b[i]->out_dfd;
	}
}

/* One sync per file system; the outputs of one that fails are failed. */
static void batch_sync(struct run *r, struct batch *bt)
{
	struct item **b = bt->b;

	for (size_t j = 0; j < bt->nd; j++) {
		if (syncfs(bt->dfds[j]) != 0) {
			int saved = errno;
			for (size_t i = 0; i < bt->n; i++)
				if (b[i]->out_dfd == bt->dfds[j] && b[i]->have_tmp) {
					unlinkat(b[i]->out_dfd, b[i]->tmp_name, 0);
					b[i]->have_tmp = false;
					snprintf(bt->msg[i], sizeof(bt->msg[i]), "cannot sync %s: %s",
						 b[i]->disp_out, strerror(saved));
					bulk_account(r, b[i], OUT_FAILED, bt->msg[i]);
				}
		}
	}
}

/* Audit first, publish second: the intent record of the outputs on disk. False when it
 * could not be written: then nothing of the batch is published, the run stops, and the
 * batch is freed. */
static bool batch_intent(struct run *r, struct batch *bt)
{
	struct item **b = bt->b;
	struct ctl_err e;

	for (size_t i = 0; i < bt->n; i++)
		if (b[i]->have_tmp) {
			bt->done[bt->nint++] = (struct bulk_done){b[i]->disp_out, b[i]->out.data,
								  b[i]->out.len, "ok"};
			bt->announced[i] = true;
		}
	if (!bt->nint || !r->o->intent)
		return true;
	memset(&e, 0, sizeof(e));
	if (r->o->intent(r->o->audit_ctx, bt->done, bt->nint, bt->id, &e) == CTL_OK)
		return true;
	if (!e.code)
		e.code = CTL_E_IO;
	ctl_fail_prefix(&e, "nothing more was published (%zu signed file%s not put in place)",
			bt->nint, bt->nint == 1 ? "" : "s");
	atomic_store(&r->audit_broken, true);
	stop_run(r, &e);
	for (size_t i = 0; i < bt->n; i++) {
		if (!b[i]->have_tmp)
			continue;
		unlinkat(b[i]->out_dfd, b[i]->tmp_name, 0);
		b[i]->have_tmp = false;
		bulk_account(r, b[i], OUT_NOT_DONE, NULL);
	}
	for (size_t i = 0; i < bt->n; i++)
		bulk_item_free(b[i]);
	return false;
}

/* Each output renamed into place, the directories synced, the outcome recorded; the
 * batch is freed. */
static void batch_publish(struct run *r, struct batch *bt)
{
	struct item **b = bt->b;
	bool dir_unsynced[COMMIT_BATCH], unsynced[COMMIT_BATCH];
	size_t nok = 0, nunsynced = 0;

	for (size_t i = 0; i < bt->n; i++) {
		bt->ok[i] = false;
		if (!b[i]->have_tmp)
			continue;
		if (renameat(b[i]->out_dfd, b[i]->tmp_name, b[i]->out_dfd, b[i]->out_name) != 0) {
			snprintf(bt->msg[i], sizeof(bt->msg[i]), "cannot write %s: %s", b[i]->disp_out,
				 strerror(errno));
			unlinkat(b[i]->out_dfd, b[i]->tmp_name, 0);
			bulk_account(r, b[i], OUT_FAILED, bt->msg[i]);
		} else {
			bt->ok[i] = true;
		}
		b[i]->have_tmp = false;
	}
	/* The renames are durable only once their directory is synced: a failure there
	 * leaves the files in place (published), but the run says so and exits 3. */
	for (size_t j = 0; j < bt->nd; j++)
		dir_unsynced[j] = fsync(bt->dfds[j]) != 0;
	for (size_t i = 0; i < bt->n; i++) {
		unsynced[i] = false;
		for (size_t j = 0; j < bt->nd && bt->ok[i]; j++)
			unsynced[i] = unsynced[i] || (bt->dfds[j] == b[i]->out_dfd && dir_unsynced[j]);
		nunsynced += unsynced[i];
		if (bt->announced[i])
			bt->done[nok++] = (struct bulk_done){b[i]->disp_out, b[i]->out.data, b[i]->out.len,
							     !bt->ok[i] ? bt->msg[i] : unsynced[i] ? BULK_UNSYNCED : "ok"};
	}
	if (bt->nint && r->o->outcome)
		r->o->outcome(r->o->audit_ctx, bt->id, bt->done, nok);
	if (nunsynced) {
		pthread_mutex_lock(&r->mu);
		r->st->unsynced += nunsynced;
		pthread_mutex_unlock(&r->mu);
	}
	for (size_t i = 0; i < bt->n; i++) {
		if (bt->ok[i])
			bulk_account(r, b[i], OUT_SIGNED, NULL);
		bulk_item_free(b[i]);
	}
}

/* Makes a batch durable: write each output to a temp file, sync their file systems,
 * record the intent in the audit log, rename each into place, fsync the directories;
 * then record the outcome and bulk_account. Same guarantees as ctl_write_atomic, with one
 * sync per batch instead of per file; no output becomes visible without its audit
 * record before it. */
static void commit_batch(struct run *r, struct item **b, size_t n)
{
	struct batch bt;

	bt.b = b;
	bt.n = n;
	bt.nd = bt.nint = 0;
	bt.id[0] = 0;
	batch_write(r, &bt);
	batch_sync(r, &bt);
	if (batch_intent(r, &bt))
		batch_publish(r, &bt);
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
		n = bulk_q_pop_n(&r->commit, batch, COMMIT_BATCH, &deadline);
		if (n)
			commit_batch(r, batch, n);
		else if (bulk_q_done(&r->commit))
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

static void run_init(struct run *r, const struct bulk_opts *oc, struct bulk_stats *st,
		     unsigned long total)
{
	memset(r, 0, sizeof(*r));
	r->o = oc;
	r->st = st;
	r->hash_alg = oc->hash_alg ? oc->hash_alg : CTL_HASH_SHA512;
	r->total = total;
	pthread_mutex_init(&r->mu, NULL);
	bulk_q_init(&r->work, WORK_QUEUE_PER_JOB * (size_t)oc->jobs, 1);
	bulk_q_init(&r->commit, COMMIT_QUEUE, COMMIT_WAKE);
	atomic_init(&r->stop, false);
	atomic_init(&r->audit_broken, false);
	atomic_init(&r->cancelled, false);
	atomic_init(&r->finished, false);
	atomic_init(&r->tmp_seq, 0);
}

/* The committer, then up to r->o->jobs signing threads (*started of them; the run goes on
 * with fewer, not with none). */
static int start_threads(struct run *r, pthread_t *tids, unsigned *started, pthread_t *ctid,
			 bool *committer, struct ctl_err *err)
{
	unsigned jobs = r->o->jobs;
	int thread_err;

	r->workers_left = jobs;
	/* pthread_create returns its error (errno is not set) */
	if ((thread_err = pthread_create(ctid, NULL, committer_main, r)) != 0)
		return ctl_fail(err, CTL_E_INTERNAL, "cannot start a thread: %s", strerror(thread_err));
	*committer = true;
	for (; *started < jobs; (*started)++)
		if ((thread_err = pthread_create(&tids[*started], NULL, worker_main, r)) != 0)
			break;
	if (!*started) {
		pthread_mutex_lock(&r->mu);
		r->workers_left = 0;
		pthread_mutex_unlock(&r->mu);
		bulk_q_close(&r->commit);
		return ctl_fail(err, CTL_E_INTERNAL, "cannot start a thread: %s", strerror(thread_err));
	}
	if (*started < jobs) {
		pthread_mutex_lock(&r->mu);
		r->workers_left -= jobs - *started;
		pthread_mutex_unlock(&r->mu);
	}
	return CTL_OK;
}

/* The source's items to the signing threads until it ends, or the run stops or is
 * cancelled; then (progress bar) waits for the committer. */
static void feed(struct run *r, bulk_next_fn next, void *ctx)
{
	double last = 0;
	struct item *it;

	while (!atomic_load(&r->stop) && !check_cancel(r) && (it = next(ctx, r))) {
		pthread_mutex_lock(&r->mu);
		r->st->considered++;
		pthread_mutex_unlock(&r->mu);
		bulk_q_push(&r->work, it);
		if (r->o->progress && now_s() - last > 0.1) {
			last = now_s();
			draw_bar(r, false);
		}
	}
	bulk_q_close(&r->work);
	while (r->o->progress && !atomic_load(&r->finished)) {
		struct timespec ts = {0, 100000000L};
		nanosleep(&ts, NULL);
		draw_bar(r, false);
	}
}

int bulk_run_pipeline(const struct bulk_opts *o, struct bulk_stats *st, bulk_next_fn next,
		      void *ctx, unsigned long total, struct ctl_err *err)
{
	struct run r;
	struct bulk_opts oc = *o;
	pthread_t *tids = NULL, ctid;
	unsigned started = 0;
	bool committer = false;
	int rc = CTL_OK;

	if (!oc.max_failures_listed)
		oc.max_failures_listed = 100;
	if (!oc.jobs)
		oc.jobs = 1;
	run_init(&r, &oc, st, total);
	if ((!st->failures && !(st->failures = json_object_new_array())) ||
	    !(tids = calloc(oc.jobs, sizeof(*tids))))
		rc = ctl_fail(err, CTL_E_INTERNAL, "out of memory");
	else if ((rc = start_threads(&r, tids, &started, &ctid, &committer, err)) == CTL_OK)
		feed(&r, next, ctx);
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
	bulk_q_destroy(&r.work);
	bulk_q_destroy(&r.commit);
	pthread_mutex_destroy(&r.mu);
	if (rc != CTL_OK)
		return rc;
	if (st->stopped)
		return st->stop.code ? st->stop.code : CTL_E_TOKEN;
	return st->failed ? CTL_E_PARTIAL : CTL_OK;
}

