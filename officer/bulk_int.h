/*
 * bulk_int.h - what the files of the bulk signer share (officer/bulk*.c; not a library
 * interface: that is bulk.h).
 */
#ifndef CTL_BULK_INT_H
#define CTL_BULK_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "bulk.h"

/* Inputs larger than this cannot become a .sgn the parser accepts. */
#define BULK_MAX_INPUT (CTL_MAX_FILE_SIZE - 65536u)
#define COMMIT_BATCH 128
#define COMMIT_WAIT_MS 250
#define COMMIT_WAKE 32        /* items queued before the committer is woken */
#define COMMIT_QUEUE 512      /* signed items held while a batch syncs (~5 MiB at most) */
#define WORK_QUEUE_PER_JOB 16 /* names queued per signing thread */

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

/* OUT_HELD: skipped with a warning (a clear config beside its phone's .enc.sgn). */
enum outcome { OUT_SIGNED, OUT_UNCHANGED, OUT_FAILED, OUT_SKIPPED, OUT_HELD, OUT_NOT_DONE };

/* bulk_queue.c: an item for in_dfd/name (owns: the item closes in_dfd), its output
 * name.sgn in out_dfd; in_dir and out_dir only for the display paths. NULL: no memory. */
struct item *bulk_item_new(int in_dfd, bool owns, int out_dfd, const char *name,
			  const char *in_dir, const char *out_dir);
void bulk_item_free(struct item *it);
void bulk_q_init(struct queue *q, size_t cap, size_t wake_at);
/* Frees the items still queued. */
void bulk_q_destroy(struct queue *q);
/* Waits while the queue is full. */
void bulk_q_push(struct queue *q, struct item *it);
void bulk_q_close(struct queue *q);
/* Pops up to max items into out (in order) and returns how many. Without a deadline it
 * waits for at least one; with one it waits until wake_at items are queued, the queue is
 * closed or the deadline passed (then it takes what there is, possibly nothing). 0 with
 * no deadline means closed and empty. */
size_t bulk_q_pop_n(struct queue *q, struct item **out, size_t max,
		    const struct timespec *deadline);
/* One item; NULL: closed and empty. */
struct item *bulk_q_pop(struct queue *q);
/* Closed and empty. */
bool bulk_q_done(struct queue *q);

/* bulk_pipeline.c: counts the item's outcome (msg: why, for skipped, held, failed:
 * printed unless quiet, and listed in the JSON summary). */
void bulk_account(struct run *r, struct item *it, enum outcome oc, const char *msg);
/* The source: the next item, NULL at the end. */
typedef struct item *(*bulk_next_fn)(void *ctx, struct run *r);
/* Runs the pipeline over the items next yields (total: expected, for the progress bar,
 * 0 unknown); the return value of bulk_sign_dir. */
int bulk_run_pipeline(const struct bulk_opts *o, struct bulk_stats *st, bulk_next_fn next,
		      void *ctx, unsigned long total, struct ctl_err *err);

/* bulk.c */
/* Reads a regular file opened by fd, at most max bytes: 0, 1 (not a regular file) or -1. */
int bulk_read_fd(int fd, size_t max, struct ctl_buf *out, const char **why);
/* NAME.enc.sgn in dfd (any kind of file: even a link there means the phone is meant to
 * be encrypted). */
bool bulk_has_enc_sgn(int dfd, const char *name);
/* Opens a directory (CTL_E_IO with its name otherwise). */
int bulk_open_dir(const char *path, int *out, struct ctl_err *err);

#endif
