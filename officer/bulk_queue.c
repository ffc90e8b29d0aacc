/* bulk_queue.c - the items of a bulk run (one file each) and the bounded queues that carry
 * them from the source to the signing threads and on to the committer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bulk_int.h"

void bulk_item_free(struct item *it)
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

struct item *bulk_item_new(int in_dfd, bool owns, int out_dfd, const char *name,
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
		bulk_item_free(it);
		return NULL;
	}
	return it;
}

void bulk_q_init(struct queue *q, size_t cap, size_t wake_at)
{
	memset(q, 0, sizeof(*q));
	q->cap = cap;
	q->wake_at = wake_at;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	pthread_cond_init(&q->not_full, NULL);
}

void bulk_q_destroy(struct queue *q)
{
	struct item *it, *next;

	for (it = q->head; it; it = next) {
		next = it->next;
		bulk_item_free(it);
	}
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
}

void bulk_q_push(struct queue *q, struct item *it)
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

void bulk_q_close(struct queue *q)
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
size_t bulk_q_pop_n(struct queue *q, struct item **out, size_t max,
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

struct item *bulk_q_pop(struct queue *q)
{
	struct item *it;

	return bulk_q_pop_n(q, &it, 1, NULL) ? it : NULL;
}

bool bulk_q_done(struct queue *q)
{
	bool done;

	pthread_mutex_lock(&q->mu);
	done = q->closed && !q->head;
	pthread_mutex_unlock(&q->mu);
	return done;
}

