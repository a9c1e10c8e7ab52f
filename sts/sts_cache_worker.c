/* SPDX-License-Identifier: MIT */
/* The cache's worker thread: runs queued requests in order on its own SQLite connection. */
#include "sts/sts_cache_worker.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mxtls/error.h>

#include "sts/sts_cache_sync.h"

void sts_cache_worker_op_free(struct sts_cache_op *op)
{
	if (op == NULL)
		return;
	free(op->owned_error);
	sts_cache_entry_clear(&op->owned_put);
	sts_cache_entry_clear(&op->read.entry);
	for (size_t i = 0; i < op->nall; i++)
		sts_cache_entry_clear(&op->all[i]);
	free(op->all);
	free(op->domains);
	free(op);
}

static bool is_write(const struct sts_cache_op *op)
{
	return op->kind >= STS_CACHE_PUT;
}

static int collect_all(void *arg, const struct sts_cache_entry *e)
{
	struct sts_cache_op *op = arg;
	struct sts_cache_entry *grown = realloc(op->all, (op->nall + 1) * sizeof *grown);
	if (grown == NULL)
		return MXTLS_E_NOMEM;
	op->all = grown;
	if (sts_cache_entry_copy(&op->all[op->nall], e) != MXTLS_OK)
		return MXTLS_E_NOMEM;
	op->nall++;
	return 0;
}

static int collect_due(void *arg, const struct sts_cache_entry *e)
{
	struct sts_cache_op *op = arg;
	if (e->fetched_at > op->now)
		return 0;
	char(*grown)[256] = realloc(op->domains, (op->ndomains + 1) * sizeof *grown);
	if (grown == NULL)
		return MXTLS_E_NOMEM;
	op->domains = grown;
	memcpy(op->domains[op->ndomains++], e->domain, sizeof *grown);
	return 0;
}

/* Runs op on the worker's connection, opening it first if it is not open. */
static void execute(struct sts_cache *c, struct sts_cache_op *op)
{
	struct sts_cache_read *r = &op->read;
	if (c->db == NULL) {
		r->rc = sts_cache_db_open(c->path, &c->db, r->why, sizeof r->why);
		if (r->rc != MXTLS_OK)
			return;
	}
	switch (op->kind) {
	case STS_CACHE_OPEN:
		r->rc = MXTLS_OK;
		break;
	case STS_CACHE_GET:
		r->rc = sts_cache_db_get(c->db, op->domain, &r->entry);
		break;
	case STS_CACHE_READ:
		r->rc = sts_cache_db_get(c->db, op->domain, &r->entry);
		if (r->rc == MXTLS_OK || r->rc == MXTLS_E_NOTFOUND) {
			/* Not knowing the back-off is an error too: it is one read. */
			int rc = sts_cache_db_failure(c->db, op->domain, &r->failure);
			r->has_failure = rc == MXTLS_OK;
			if (rc != MXTLS_OK && rc != MXTLS_E_NOTFOUND) {
				sts_cache_entry_clear(&r->entry);
				r->rc = rc;
			}
		}
		break;
	case STS_CACHE_FAILURE:
		r->rc = sts_cache_db_failure(c->db, op->domain, &r->failure);
		break;
	case STS_CACHE_FOREACH:
		r->rc = sts_cache_db_foreach(c->db, collect_all, op);
		break;
	case STS_CACHE_COUNT:
		op->count = sts_cache_db_count(c->db);
		r->rc = op->count < 0 ? (int)op->count : MXTLS_OK;
		break;
	case STS_CACHE_LIST_DUE:
		r->rc = sts_cache_db_foreach(c->db, collect_due, op);
		break;
	case STS_CACHE_PUT:
		r->rc = sts_cache_db_put(c->db, op->put);
		break;
	case STS_CACHE_TOUCH:
		r->rc = sts_cache_db_touch(c->db, op->domain, op->now, op->error);
		break;
	case STS_CACHE_NOTE_FAILURE:
		r->rc = sts_cache_db_note_failure(c->db, op->domain, op->id, op->now, op->error);
		break;
	case STS_CACHE_DELETE:
		r->rc = sts_cache_db_delete(c->db, op->domain);
		break;
	case STS_CACHE_FLEET_STATUS:
		r->rc = MXTLS_OK; /* the fleet part fills op->status */
		break;
	case STS_CACHE_CLAIM:
		r->rc = MXTLS_E_NOTFOUND; /* alone: fetch it; the fleet part may say otherwise */
		break;
	case STS_CACHE_RELEASE:
		r->rc = MXTLS_OK; /* nothing local: the fleet part gives the lease back */
		break;
	}
	if (r->rc == MXTLS_E_IO && r->why[0] == '\0')
		snprintf(r->why, sizeof r->why, "%s", sts_cache_db_errmsg(c->db));
	sts_cache_sync_after(c, op); /* looks at r->rc itself */
}

void sts_cache_worker_emit_notes(struct sts_cache *c)
{
	struct sts_cache_note notes[sizeof c->notes / sizeof c->notes[0]];
	pthread_mutex_lock(&c->mu);
	size_t n = c->nnotes;
	unsigned long dropped = c->notes_dropped;
	enum mxtls_log_level dropped_level = c->dropped_level;
	memcpy(notes, c->notes, n * sizeof notes[0]);
	c->nnotes = 0;
	c->notes_dropped = 0;
	pthread_mutex_unlock(&c->mu);
	for (size_t i = 0; i < n; i++) {
		const char *kv[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
		for (size_t k = 0, j = 0; k < 3 && notes[i].kv[k][0][0] != '\0'; k++) {
			kv[j++] = notes[i].kv[k][0];
			kv[j++] = notes[i].kv[k][1];
		}
		util_log_kv(c->log, notes[i].level, 0, notes[i].event, kv[0], kv[1], kv[2], kv[3],
			    kv[4], kv[5], (const char *)NULL);
	}
	if (dropped > 0) {
		char d[24];
		snprintf(d, sizeof d, "%lu", dropped);
		/* As loud as the loudest one lost: a fresh member learning thousands of policies
		 * at once (info) is no warning (bench-fleet saw 1 775 dropped in a row). */
		util_log_kv(c->log, dropped_level, 0, "fleet-events-dropped", "count", d,
			    (const char *)NULL);
	}
}

/* Hands a finished op on (under c->mu): to its waiter, to the loop, or frees it. */
static void finished(struct sts_cache *c, struct sts_cache_op *op)
{
	if (op->blocking) {
		op->done = true;
		pthread_cond_broadcast(&c->done);
		return;
	}
	/* A write that could not be done is logged from the loop ("no such entry" is not). */
	bool failed = op->read.rc == MXTLS_E_IO || op->read.rc == MXTLS_E_NOMEM;
	bool to_loop = op->counted || (is_write(op) && failed && op->log != NULL && c->efd >= 0);
	if (!to_loop) {
		sts_cache_worker_op_free(op);
		return;
	}
	if (c->fin_tail != NULL)
		c->fin_tail->next = op;
	else
		c->fin_head = op;
	c->fin_tail = op;
	if (c->efd >= 0) {
		uint64_t one = 1;
		/* Only fails when the counter would overflow: it is readable then anyway. */
		(void)!write(c->efd, &one, sizeof one);
	}
}

static void *worker(void *arg)
{
	struct sts_cache *c = arg;
	bool abandon = false; /* closing, and a write failed: the rest would wait as long */
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (c->head == NULL && !c->stopping) {
			if (sts_cache_sync_pending(c)) {
				/* Idle: one page of the re-sync, then look at the queue again. */
				pthread_mutex_unlock(&c->mu);
				sts_cache_sync_page(c);
				pthread_mutex_lock(&c->mu);
				continue;
			}
			pthread_cond_wait(&c->wake, &c->mu);
		}
		struct sts_cache_op *op = c->head;
		if (op == NULL)
			break;
		if ((c->head = op->next) == NULL)
			c->tail = NULL;
		op->next = NULL;
		/* Closing: writes are kept (durability), reads nobody waits for are not run. */
		bool skip = op->cancelled ||
			    (c->stopping && !op->blocking && (!is_write(op) || abandon));
		bool stopping = c->stopping;
		pthread_mutex_unlock(&c->mu);
		if (skip)
			op->read.rc = MXTLS_E_TEMPFAIL; /* never run: the cache is closing */
		else
			execute(c, op);
		if (stopping && is_write(op) && op->read.rc == MXTLS_E_IO)
			abandon = true;
		pthread_mutex_lock(&c->mu);
		finished(c, op);
	}
	pthread_mutex_unlock(&c->mu);
	sts_cache_db_close(c->db);
	c->db = NULL;
	return NULL;
}

int sts_cache_worker_start(struct sts_cache *c)
{
	/* Signals are for the application's threads: the worker blocks them all. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&c->thread, NULL, worker, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc == 0 ? MXTLS_OK : MXTLS_E_NOMEM;
}

void sts_cache_worker_queue(struct sts_cache *c, struct sts_cache_op *op)
{
	op->c = c;
	op->next = NULL;
	pthread_mutex_lock(&c->mu);
	if (c->tail != NULL)
		c->tail->next = op;
	else
		c->head = op;
	c->tail = op;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->mu);
}

void sts_cache_worker_stop(struct sts_cache *c)
{
	pthread_mutex_lock(&c->mu);
	c->stopping = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
}
