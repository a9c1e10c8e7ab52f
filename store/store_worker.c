/* SPDX-License-Identifier: MIT */
/* A Redis connection for an event loop: a FIFO of commands on a thread, results via an eventfd. */
#include "store/store_worker.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>
#include <mxtls/error.h>

/*
 * Why a thread and not hiredis's libevent adapter: Debian 12's hiredis (0.14) has no time limit
 * for an asynchronous command, while the blocking client of store_redis.c bounds every connect
 * and reply (200 ms) and pauses after a failure.  A thread keeps those bounds and keeps the loop
 * free: the loop only queues and receives.  policyd's answers are small and few per decision
 * (one GET before it, one SET after it), so one connection in FIFO order is enough.
 */

enum req_kind { REQ_GET, REQ_SET };

struct store_worker_req {
	struct store_worker_req *next;
	struct store_worker *w;
	enum req_kind kind;
	bool cancelled; /* under w->mu */
	char *key;
	char *value; /* SET: the value; GET: the result */
	size_t len;
	unsigned ttl_ms;
	int rc;
	store_worker_get_cb cb;
	void *arg;
};

struct store_worker {
	struct store_redis *r; /* the thread's only */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	struct store_worker_req *head, *tail;         /* queued (under mu) */
	struct store_worker_req *fin_head, *fin_tail; /* done, for the loop (under mu) */
	size_t queued;                                /* under mu */
	bool stopping;                                /* under mu */
	char *buf;                                    /* the thread's GET buffer */
	int efd;
	struct event *ev;   /* added while GETs are outstanding: an idle worker keeps no loop
			     * running */
	size_t outstanding; /* GETs queued and not yet back (the loop's only) */
};

static void req_free(struct store_worker_req *q)
{
	if (q == NULL)
		return;
	free(q->key);
	free(q->value);
	free(q);
}

static void run(struct store_worker *w, struct store_worker_req *q)
{
	if (q->kind == REQ_SET) {
		q->rc = store_redis_set_px(w->r, q->key, q->value, q->len, q->ttl_ms);
		return;
	}
	q->rc = store_redis_get(w->r, q->key, w->buf, STORE_REDIS_VALUE_MAX + 1);
	if (q->rc == MXTLS_OK) {
		size_t n = strlen(w->buf); /* store_redis_get() refuses a value with a NUL */
		if ((q->value = malloc(n + 1)) == NULL) {
			q->rc = MXTLS_E_NOMEM;
			return;
		}
		memcpy(q->value, w->buf, n + 1);
		q->len = n;
	}
}

static void *thread_main(void *arg)
{
	struct store_worker *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->head == NULL && !w->stopping)
			pthread_cond_wait(&w->wake, &w->mu);
		struct store_worker_req *q = w->head;
		if (q == NULL)
			break;
		if ((w->head = q->next) == NULL)
			w->tail = NULL;
		q->next = NULL;
		w->queued--;
		/* Closing: the writes are still made, the reads nobody waits for are not. */
		bool skip = q->cancelled || (w->stopping && q->kind == REQ_GET);
		pthread_mutex_unlock(&w->mu);
		if (!skip)
			run(w, q);
		else
			q->rc = MXTLS_E_TEMPFAIL; /* not run: closing, or nobody waits */
		pthread_mutex_lock(&w->mu);
		if (q->kind == REQ_SET) {
			req_free(q);
			continue;
		}
		/* Every GET goes back to the loop, which counts them (outstanding). */
		if (w->fin_tail != NULL)
			w->fin_tail->next = q;
		else
			w->fin_head = q;
		w->fin_tail = q;
		uint64_t one = 1;
		(void)!write(w->efd, &one, sizeof one); /* fails only when already readable */
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* On the loop: the finished GETs' callbacks. */
static void on_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct store_worker *w = arg;
	uint64_t n;
	(void)!read(w->efd, &n, sizeof n);
	pthread_mutex_lock(&w->mu);
	struct store_worker_req *list = w->fin_head;
	w->fin_head = w->fin_tail = NULL;
	pthread_mutex_unlock(&w->mu);
	while (list != NULL) {
		struct store_worker_req *q = list;
		list = q->next;
		pthread_mutex_lock(&w->mu);
		bool cancelled = q->cancelled;
		pthread_mutex_unlock(&w->mu);
		w->outstanding--;
		if (!cancelled)
			q->cb(q->arg, q->rc, q->rc == MXTLS_OK ? q->value : NULL,
			      q->rc == MXTLS_OK ? q->len : 0);
		req_free(q);
	}
	if (w->outstanding == 0)
		event_del(w->ev);
}

int store_worker_new(const struct store_redis_opts *o, struct event_base *base,
		     struct store_worker **out)
{
	struct store_worker *w = calloc(1, sizeof *w);
	if (w == NULL)
		return MXTLS_E_NOMEM;
	w->efd = -1;
	int rc = store_redis_new(o, &w->r);
	if (rc != MXTLS_OK) {
		free(w);
		return rc;
	}
	w->buf = malloc(STORE_REDIS_VALUE_MAX + 1);
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->buf == NULL || w->efd < 0 ||
	    (w->ev = event_new(base, w->efd, EV_READ | EV_PERSIST, on_done, w)) == NULL)
		goto fail;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->wake, NULL);
	/* Signals are for the application's threads. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int prc = pthread_create(&w->thread, NULL, thread_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (prc != 0) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->wake);
		goto fail;
	}
	*out = w;
	return MXTLS_OK;
fail:
	if (w->ev != NULL)
		event_free(w->ev);
	if (w->efd >= 0)
		close(w->efd);
	free(w->buf);
	store_redis_free(w->r);
	free(w);
	return MXTLS_E_NOMEM;
}

void store_worker_free(struct store_worker *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	/* Finished GETs nobody will receive now. */
	for (struct store_worker_req *q = w->fin_head, *next; q != NULL; q = next) {
		next = q->next;
		req_free(q);
	}
	event_free(w->ev);
	close(w->efd);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->wake);
	free(w->buf);
	store_redis_free(w->r);
	free(w);
}

static int queue(struct store_worker *w, struct store_worker_req *q)
{
	q->w = w;
	pthread_mutex_lock(&w->mu);
	if (w->queued >= STORE_WORKER_QUEUE_MAX) {
		pthread_mutex_unlock(&w->mu);
		req_free(q);
		return MXTLS_E_LIMIT;
	}
	if (w->tail != NULL)
		w->tail->next = q;
	else
		w->head = q;
	w->tail = q;
	w->queued++;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->mu);
	return MXTLS_OK;
}

static struct store_worker_req *req_new(enum req_kind kind, const char *key)
{
	struct store_worker_req *q = calloc(1, sizeof *q);
	if (q == NULL)
		return NULL;
	q->kind = kind;
	if ((q->key = strdup(key)) == NULL) {
		free(q);
		return NULL;
	}
	return q;
}

int store_worker_get(struct store_worker *w, const char *key, store_worker_get_cb cb, void *arg,
		     struct store_worker_req **out)
{
	if (w == NULL || key == NULL || cb == NULL)
		return MXTLS_E_INVAL;
	struct store_worker_req *q = req_new(REQ_GET, key);
	if (q == NULL)
		return MXTLS_E_NOMEM;
	q->cb = cb;
	q->arg = arg;
	if (w->outstanding == 0 && event_add(w->ev, NULL) != 0) {
		req_free(q);
		return MXTLS_E_NOMEM;
	}
	int rc = queue(w, q);
	if (rc != MXTLS_OK) {
		if (w->outstanding == 0)
			event_del(w->ev);
		return rc;
	}
	w->outstanding++;
	if (out != NULL)
		*out = q;
	return MXTLS_OK;
}

void store_worker_cancel(struct store_worker_req *q)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->w->mu);
	q->cancelled = true;
	pthread_mutex_unlock(&q->w->mu);
}

int store_worker_set(struct store_worker *w, const char *key, const void *value, size_t len,
		     unsigned ttl_ms)
{
	if (w == NULL || key == NULL || (value == NULL && len > 0) || ttl_ms == 0)
		return MXTLS_E_INVAL;
	if (len > STORE_REDIS_VALUE_MAX)
		return MXTLS_E_LIMIT;
	struct store_worker_req *q = req_new(REQ_SET, key);
	if (q == NULL || (q->value = malloc(len + 1)) == NULL) {
		req_free(q);
		return MXTLS_E_NOMEM;
	}
	if (len > 0)
		memcpy(q->value, value, len);
	q->value[len] = '\0';
	q->len = len;
	q->ttl_ms = ttl_ms;
	return queue(w, q);
}
