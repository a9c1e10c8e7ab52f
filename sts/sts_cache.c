/* SPDX-License-Identifier: MIT */
/* The MTA-STS policy cache's interface: blocking and loop-friendly requests to its worker. */
#include "sts/sts_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>
#include <mxtls/error.h>

#include "sts/sts_cache_fleet.h"
#include "sts/sts_cache_worker.h"

/*
 * Why a worker thread.  Every SQLite statement waits up to STS_CACHE_BUSY_MS when another
 * process holds the database's lock (a backup, `sqlite3` at a prompt, a second mxtls).  Done on
 * the event loop, as before, that wait froze everything on the loop: with another process
 * holding an exclusive lock, e2e-sts-cache-lock measured the application's 20 ms timer
 * stalled for 7149 ms (decide_start itself blocked 5052 ms and then failed); with the worker
 * the longest gap was 80 ms and the decision ended tempfail after 5.1 s without blocking.  The
 * price is a thread handoff per request: bench-sts's blocking cache lookup went from 13 to
 * 31 us of CPU (74.9k to 32.6k per CPU second), small next to a decision's DNS and HTTPS round
 * trips, and paid on the worker, not the loop.  An in-memory index was the other choice; it
 * would go stale when another process (`mxtls sts cache purge`, a second daemon) changes the
 * file, so the file stays the only truth and is read off the loop instead.
 */

void sts_cache_entry_clear(struct sts_cache_entry *e)
{
	if (e == NULL)
		return;
	free(e->text);
	for (size_t i = 0; i < e->nmx; i++)
		free(e->mx[i]);
	free(e->mx);
	free(e->last_error);
	memset(e, 0, sizeof *e);
}

int sts_cache_entry_copy(struct sts_cache_entry *dst, const struct sts_cache_entry *src)
{
	struct sts_cache_entry e = *src;
	e.text = NULL;
	e.mx = NULL;
	e.nmx = 0;
	e.last_error = NULL;
	if ((e.text = malloc(src->len + 1)) == NULL)
		goto nomem;
	if (src->len > 0)
		memcpy(e.text, src->text, src->len);
	e.text[src->len] = '\0';
	if (src->nmx > 0 && (e.mx = calloc(src->nmx, sizeof *e.mx)) == NULL)
		goto nomem;
	for (; e.nmx < src->nmx; e.nmx++)
		if ((e.mx[e.nmx] = strdup(src->mx[e.nmx])) == NULL)
			goto nomem;
	if (src->last_error != NULL && (e.last_error = strdup(src->last_error)) == NULL)
		goto nomem;
	*dst = e;
	return MXTLS_OK;
nomem:
	sts_cache_entry_clear(&e);
	return MXTLS_E_NOMEM;
}

static int start(const char *path, struct sts_cache **out)
{
	struct sts_cache *c = calloc(1, sizeof *c);
	if (c == NULL || (c->path = strdup(path)) == NULL) {
		free(c);
		return MXTLS_E_NOMEM;
	}
	c->efd = -1;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->wake, NULL);
	pthread_cond_init(&c->done, NULL);
	if (sts_cache_worker_start(c) != MXTLS_OK) {
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->wake);
		pthread_cond_destroy(&c->done);
		free(c->path);
		free(c);
		return MXTLS_E_NOMEM;
	}
	*out = c;
	return MXTLS_OK;
}

/* Queues op and waits for the worker to finish it; returns its result. */
static int wait_for(struct sts_cache *c, struct sts_cache_op *op)
{
	op->blocking = true;
	sts_cache_worker_queue(c, op);
	pthread_mutex_lock(&c->mu);
	while (!op->done)
		pthread_cond_wait(&c->done, &c->mu);
	pthread_mutex_unlock(&c->mu);
	sts_cache_worker_emit_notes(c);
	return op->read.rc;
}

/* A request on the heap with domain copied in; NULL when memory ran out or domain is long. */
static struct sts_cache_op *op_new(enum sts_cache_kind kind, const char *domain)
{
	struct sts_cache_op *op = calloc(1, sizeof *op);
	if (op == NULL)
		return NULL;
	op->kind = kind;
	if (domain != NULL &&
	    (size_t)snprintf(op->domain, sizeof op->domain, "%s", domain) >= sizeof op->domain) {
		free(op);
		return NULL;
	}
	return op;
}

/* Runs a blocking request of kind on domain; the caller takes the outputs and frees op. */
static struct sts_cache_op *run(struct sts_cache *c, enum sts_cache_kind kind, const char *domain)
{
	struct sts_cache_op *op = op_new(kind, domain);
	if (op != NULL)
		wait_for(c, op);
	return op;
}

int sts_cache_open(const char *path, struct sts_cache **out, char *err, size_t errlen)
{
	struct sts_cache *c;
	if (start(path, &c) != MXTLS_OK) {
		snprintf(err, errlen, "%s: cannot start the cache's thread", path);
		return MXTLS_E_NOMEM;
	}
	struct sts_cache_op *op = run(c, STS_CACHE_OPEN, NULL);
	int rc = op != NULL ? op->read.rc : MXTLS_E_NOMEM;
	if (rc != MXTLS_OK) {
		snprintf(err, errlen, "%s", op != NULL ? op->read.why : "out of memory");
		sts_cache_close(c);
	} else {
		*out = c;
	}
	sts_cache_worker_op_free(op);
	return rc;
}

int sts_cache_open_lazy(const char *path, struct sts_cache **out)
{
	return start(path, out);
}

/* Frees the finished requests nobody will see now. */
static void drop_finished(struct sts_cache *c)
{
	while (c->fin_head != NULL) {
		struct sts_cache_op *op = c->fin_head;
		c->fin_head = op->next;
		sts_cache_worker_op_free(op);
	}
	c->fin_tail = NULL;
}

void sts_cache_close(struct sts_cache *c)
{
	if (c == NULL)
		return;
	if (c->dispatching) {
		c->close_requested = true; /* the event's callback finishes the close */
		return;
	}
	sts_cache_worker_stop(c);
	sts_cache_worker_emit_notes(c);
	sts_fleet_free(c->fleet);
	drop_finished(c);
	if (c->ev != NULL)
		event_free(c->ev);
	if (c->efd >= 0)
		close(c->efd);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->wake);
	pthread_cond_destroy(&c->done);
	free(c->path);
	free(c);
}

/* ---- blocking requests ------------------------------------------------------------------ */

int sts_cache_get(struct sts_cache *c, const char *domain, struct sts_cache_entry *out)
{
	struct sts_cache_op *op = run(c, STS_CACHE_GET, domain);
	if (op == NULL)
		return MXTLS_E_NOMEM;
	int rc = op->read.rc;
	if (rc == MXTLS_OK) {
		*out = op->read.entry;
		memset(&op->read.entry, 0, sizeof op->read.entry);
	}
	sts_cache_worker_op_free(op);
	return rc;
}

int sts_cache_put(struct sts_cache *c, const struct sts_cache_entry *e)
{
	struct sts_cache_op *op = op_new(STS_CACHE_PUT, NULL);
	if (op == NULL)
		return MXTLS_E_NOMEM;
	op->put = e;
	int rc = wait_for(c, op);
	sts_cache_worker_op_free(op);
	return rc;
}

int sts_cache_touch(struct sts_cache *c, const char *domain, int64_t now, const char *error)
{
	struct sts_cache_op *op = op_new(STS_CACHE_TOUCH, domain);
	if (op == NULL)
		return MXTLS_E_NOMEM;
	op->now = now;
	op->error = error;
	int rc = wait_for(c, op);
	sts_cache_worker_op_free(op);
	return rc;
}

int sts_cache_delete(struct sts_cache *c, const char *domain)
{
	struct sts_cache_op *op = run(c, STS_CACHE_DELETE, domain);
	int rc = op != NULL ? op->read.rc : MXTLS_E_NOMEM;
	sts_cache_worker_op_free(op);
	return rc;
}

int sts_cache_foreach(struct sts_cache *c, int (*fn)(void *arg, const struct sts_cache_entry *e),
		      void *arg)
{
	struct sts_cache_op *op = run(c, STS_CACHE_FOREACH, NULL);
	if (op == NULL)
		return MXTLS_E_NOMEM;
	int rc = op->read.rc;
	for (size_t i = 0; rc == MXTLS_OK && i < op->nall; i++)
		rc = fn(arg, &op->all[i]);
	sts_cache_worker_op_free(op);
	return rc;
}

long sts_cache_count(struct sts_cache *c)
{
	struct sts_cache_op *op = run(c, STS_CACHE_COUNT, NULL);
	long n = op == NULL ? MXTLS_E_NOMEM : op->read.rc != MXTLS_OK ? op->read.rc : op->count;
	sts_cache_worker_op_free(op);
	return n;
}

int sts_cache_note_failure(struct sts_cache *c, const char *domain, const char *id, int64_t now,
			   const char *error)
{
	struct sts_cache_op *op = op_new(STS_CACHE_NOTE_FAILURE, domain);
	if (op == NULL)
		return MXTLS_E_NOMEM;
	snprintf(op->id, sizeof op->id, "%s", id);
	op->now = now;
	op->error = error != NULL ? error : "";
	int rc = wait_for(c, op);
	sts_cache_worker_op_free(op);
	return rc;
}

bool sts_cache_failure_backoff(const struct sts_cache_failure *f, const char *id, int64_t now,
			       int64_t *until)
{
	/* Decision D11: the back-off is per id; a new id may be fetched at once.  A clock that
	 * went backwards does not extend the wait beyond one period. */
	if (strcmp(f->id, id) != 0 || now < f->failed_at || now >= f->failed_at + STS_FETCH_BACKOFF)
		return false;
	if (until != NULL)
		*until = f->failed_at + STS_FETCH_BACKOFF;
	return true;
}

bool sts_cache_backoff(struct sts_cache *c, const char *domain, const char *id, int64_t now,
		       int64_t *until)
{
	struct sts_cache_op *op = run(c, STS_CACHE_FAILURE, domain);
	bool wait = op != NULL && op->read.rc == MXTLS_OK &&
		    sts_cache_failure_backoff(&op->read.failure, id, now, until);
	sts_cache_worker_op_free(op);
	return wait;
}

/* ---- fleet mode ------------------------------------------------------------------------- */

int sts_cache_join_fleet(struct sts_cache *c, const struct sts_cache_fleet_opts *o)
{
	if (c->fleet != NULL)
		return MXTLS_E_INVAL;
	struct sts_fleet *f;
	int rc = sts_fleet_new(o->redis, o->member, o->lease_ms, &f);
	if (rc != MXTLS_OK)
		return rc;
	/* Before any request reaches the worker (the queue's lock orders the two). */
	pthread_mutex_lock(&c->mu);
	c->fleet = f;
	c->wait_ms = o->wait_ms;
	c->log = o->log;
	c->now = o->now;
	c->now_arg = o->now_arg;
	pthread_mutex_unlock(&c->mu);
	return MXTLS_OK;
}

int sts_cache_fleet_status(struct sts_cache *c, struct sts_cache_fleet_status *out)
{
	memset(out, 0, sizeof *out);
	struct sts_cache_op *op = op_new(STS_CACHE_FLEET_STATUS, NULL);
	if (op == NULL)
		return MXTLS_E_NOMEM;
	op->status = out;
	int rc = wait_for(c, op);
	sts_cache_worker_op_free(op);
	return rc;
}
