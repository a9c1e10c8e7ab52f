/* SPDX-License-Identifier: MIT */
/* The MTA-STS cache from an event loop: requests queued to the worker, results via an eventfd. */
#include "sts/sts_cache_async.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>
#include <mxtls/error.h>

#include "sts/sts_cache_worker.h"

/* Runs on the loop whenever the worker has finished requests for it. */
static void on_finished(evutil_socket_t fd, short what, void *arg)
{
	struct sts_cache *c = arg;
	uint64_t n;
	(void)!read(c->efd, &n, sizeof n); /* resets the counter; EAGAIN when already read */
	pthread_mutex_lock(&c->mu);
	struct sts_cache_op *list = c->fin_head;
	c->fin_head = c->fin_tail = NULL;
	pthread_mutex_unlock(&c->mu);
	sts_cache_worker_emit_notes(c);
	c->dispatching = true;
	while (list != NULL) {
		struct sts_cache_op *op = list;
		list = op->next;
		pthread_mutex_lock(&c->mu);
		bool cancelled = op->cancelled; /* set from this thread; the lock is for form */
		pthread_mutex_unlock(&c->mu);
		if (op->counted)
			c->outstanding--;
		/* After a close from a callback nothing more is delivered: the owners are gone. */
		if (!cancelled && !c->close_requested) {
			if (op->read_cb != NULL)
				op->read_cb(op->arg, &op->read);
			else if (op->list_cb != NULL) {
				op->list_cb(op->arg, op->read.rc,
					    op->read.rc == MXTLS_OK ? op->domains : NULL,
					    op->read.rc == MXTLS_OK ? op->ndomains : 0);
				if (op->read.rc == MXTLS_OK)
					op->domains = NULL; /* the callee's now */
			} else
				util_log_kv(op->log, MXTLS_LOG_WARNING, op->log_id,
					    "sts-cache-write-failed", "domain", op->domain,
					    "reason",
					    op->read.why[0] ? op->read.why
							    : mxtls_strerror(op->read.rc),
					    (const char *)NULL);
		}
		sts_cache_worker_op_free(op);
	}
	c->dispatching = false;
	if (c->close_requested) {
		sts_cache_close(c);
		return;
	}
	if (c->outstanding == 0)
		event_del(c->ev);
}

int sts_cache_async_attach(struct sts_cache *c, struct event_base *base)
{
	if (c->base != NULL)
		return c->base == base ? MXTLS_OK : MXTLS_E_INVAL;
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0)
		return MXTLS_E_NOMEM;
	struct event *ev = event_new(base, efd, EV_READ | EV_PERSIST, on_finished, c);
	if (ev == NULL) {
		close(efd);
		return MXTLS_E_NOMEM;
	}
	c->ev = ev;
	c->base = base;
	/* The worker reads efd under the lock (a failed write is handed to the loop only then). */
	pthread_mutex_lock(&c->mu);
	c->efd = efd;
	pthread_mutex_unlock(&c->mu);
	return MXTLS_OK;
}

/* Queues a request whose result the loop delivers. */
static int submit_counted(struct sts_cache *c, struct sts_cache_op *op, struct sts_cache_op **out)
{
	if (c->outstanding == 0 && event_add(c->ev, NULL) != 0) {
		sts_cache_worker_op_free(op);
		return MXTLS_E_NOMEM;
	}
	op->counted = true;
	c->outstanding++;
	sts_cache_worker_queue(c, op);
	if (out != NULL)
		*out = op;
	return MXTLS_OK;
}

int sts_cache_async_read(struct sts_cache *c, const char *domain, sts_cache_read_cb cb, void *arg,
			 struct sts_cache_op **out)
{
	if (c == NULL || c->ev == NULL || domain == NULL || cb == NULL ||
	    strlen(domain) >= sizeof((struct sts_cache_op *)NULL)->domain)
		return MXTLS_E_INVAL;
	struct sts_cache_op *op = calloc(1, sizeof *op);
	if (op == NULL)
		return MXTLS_E_NOMEM;
	op->kind = STS_CACHE_READ;
	snprintf(op->domain, sizeof op->domain, "%s", domain);
	op->read_cb = cb;
	op->arg = arg;
	return submit_counted(c, op, out);
}

int sts_cache_async_claim(struct sts_cache *c, const char *domain, const char *id,
			  sts_cache_read_cb cb, void *arg, struct sts_cache_op **out)
{
	if (c == NULL || c->ev == NULL || domain == NULL || id == NULL || cb == NULL ||
	    strlen(domain) >= sizeof((struct sts_cache_op *)NULL)->domain ||
	    strlen(id) >= sizeof((struct sts_cache_op *)NULL)->id)
		return MXTLS_E_INVAL;
	struct sts_cache_op *op = calloc(1, sizeof *op);
	if (op == NULL)
		return MXTLS_E_NOMEM;
	op->kind = STS_CACHE_CLAIM;
	snprintf(op->domain, sizeof op->domain, "%s", domain);
	snprintf(op->id, sizeof op->id, "%s", id);
	op->read_cb = cb;
	op->arg = arg;
	return submit_counted(c, op, out);
}

int sts_cache_async_list_due(struct sts_cache *c, int64_t cutoff, sts_cache_list_cb cb, void *arg,
			     struct sts_cache_op **out)
{
	if (c == NULL || c->ev == NULL || cb == NULL)
		return MXTLS_E_INVAL;
	struct sts_cache_op *op = calloc(1, sizeof *op);
	if (op == NULL)
		return MXTLS_E_NOMEM;
	op->kind = STS_CACHE_LIST_DUE;
	op->now = cutoff;
	op->list_cb = cb;
	op->arg = arg;
	return submit_counted(c, op, out);
}

void sts_cache_async_cancel(struct sts_cache_op *op)
{
	if (op == NULL)
		return;
	/* Whoever holds op (queue, worker, finished list) frees it; the loop skips its callback. */
	pthread_mutex_lock(&op->c->mu);
	op->cancelled = true;
	pthread_mutex_unlock(&op->c->mu);
}

/* A write nobody waits for; a failure is logged on log from the loop. */
static struct sts_cache_op *write_op(enum sts_cache_kind kind, const char *domain,
				     const struct util_log *log, uint64_t log_id)
{
	if (domain == NULL || strlen(domain) >= sizeof((struct sts_cache_op *)NULL)->domain)
		return NULL;
	struct sts_cache_op *op = calloc(1, sizeof *op);
	if (op == NULL)
		return NULL;
	op->kind = kind;
	snprintf(op->domain, sizeof op->domain, "%s", domain);
	op->log = log;
	op->log_id = log_id;
	return op;
}

/* Copies error into op (NULL stays NULL). */
static int own_error(struct sts_cache_op *op, const char *error)
{
	if (error != NULL && (op->owned_error = strdup(error)) == NULL) {
		sts_cache_worker_op_free(op);
		return MXTLS_E_NOMEM;
	}
	op->error = op->owned_error;
	return MXTLS_OK;
}

int sts_cache_async_put(struct sts_cache *c, const struct sts_cache_entry *e,
			const struct util_log *log, uint64_t log_id)
{
	if (c == NULL || e == NULL)
		return MXTLS_E_INVAL;
	struct sts_cache_op *op = write_op(STS_CACHE_PUT, e->domain, log, log_id);
	if (op == NULL)
		return MXTLS_E_NOMEM;
	if (sts_cache_entry_copy(&op->owned_put, e) != MXTLS_OK) {
		sts_cache_worker_op_free(op);
		return MXTLS_E_NOMEM;
	}
	op->put = &op->owned_put;
	sts_cache_worker_queue(c, op);
	return MXTLS_OK;
}

int sts_cache_async_touch(struct sts_cache *c, const char *domain, int64_t now, const char *error,
			  const struct util_log *log, uint64_t log_id)
{
	if (c == NULL)
		return MXTLS_E_INVAL;
	struct sts_cache_op *op = write_op(STS_CACHE_TOUCH, domain, log, log_id);
	if (op == NULL)
		return MXTLS_E_NOMEM;
	op->now = now;
	if (own_error(op, error) != MXTLS_OK)
		return MXTLS_E_NOMEM;
	sts_cache_worker_queue(c, op);
	return MXTLS_OK;
}

int sts_cache_async_release(struct sts_cache *c, const char *domain)
{
	if (c == NULL)
		return MXTLS_E_INVAL;
	struct sts_cache_op *op = write_op(STS_CACHE_RELEASE, domain, NULL, 0);
	if (op == NULL)
		return MXTLS_E_NOMEM;
	sts_cache_worker_queue(c, op);
	return MXTLS_OK;
}

int sts_cache_async_note_failure(struct sts_cache *c, const char *domain, const char *id,
				 int64_t now, const char *error, const struct util_log *log,
				 uint64_t log_id)
{
	if (c == NULL || id == NULL)
		return MXTLS_E_INVAL;
	struct sts_cache_op *op = write_op(STS_CACHE_NOTE_FAILURE, domain, log, log_id);
	if (op == NULL)
		return MXTLS_E_NOMEM;
	snprintf(op->id, sizeof op->id, "%s", id);
	op->now = now;
	if (own_error(op, error != NULL ? error : "") != MXTLS_OK)
		return MXTLS_E_NOMEM;
	sts_cache_worker_queue(c, op);
	return MXTLS_OK;
}
