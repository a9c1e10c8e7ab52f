/* SPDX-License-Identifier: MIT */
/* The cache's worker thread: a FIFO of requests run on its own SQLite connection (internal). */
#ifndef MXTLS_STS_CACHE_WORKER_H
#define MXTLS_STS_CACHE_WORKER_H

#include <pthread.h>

#include "sts/sts_cache_async.h"
#include "sts/sts_cache_db.h"

enum sts_cache_kind {
	STS_CACHE_OPEN,
	STS_CACHE_GET,
	STS_CACHE_READ, /* get + failure record, for the loop */
	STS_CACHE_FAILURE,
	STS_CACHE_FOREACH,
	STS_CACHE_COUNT,
	STS_CACHE_LIST_DUE,
	STS_CACHE_FLEET_STATUS,
	STS_CACHE_CLAIM, /* fleet: another member's fetch of id, or the fetch lease */
	STS_CACHE_PUT, /* the writes: every kind from here on */
	STS_CACHE_TOUCH,
	STS_CACHE_NOTE_FAILURE,
	STS_CACHE_DELETE,
	STS_CACHE_RELEASE, /* fleet: give the fetch lease back (a fetch given up) */
};

/* One request.  The worker owns it from the queue until it is finished; then the thread that
 * waits for it (blocking), the loop (asynchronous) or the worker itself (a write that went
 * well) frees it. */
struct sts_cache_op {
	struct sts_cache_op *next;
	struct sts_cache *c;
	enum sts_cache_kind kind;
	bool blocking;  /* a caller waits on c->done for it */
	bool done;      /* blocking: finished (under c->mu) */
	bool cancelled; /* asynchronous: no callback (under c->mu) */
	bool counted;   /* asynchronous read: counted in c->outstanding */
	/* in */
	char domain[256];
	char id[40];
	int64_t now; /* touch, note-failure: the time; list-due: the cutoff */
	const char *error;               /* borrowed (blocking) or owned_error */
	char *owned_error;
	const struct sts_cache_entry *put; /* borrowed (blocking) or &owned_put */
	struct sts_cache_entry owned_put;
	const struct util_log *log; /* asynchronous write: where a failure is logged */
	uint64_t log_id;
	/* out */
	long count;
	struct sts_cache_read read; /* rc, entry, failure record, why */
	struct sts_cache_entry *all; /* foreach: nall entries */
	size_t nall;
	char (*domains)[256]; /* list-due: ndomains names */
	size_t ndomains;
	struct sts_cache_fleet_status *status; /* fleet status: filled by the worker */
	/* asynchronous completion */
	sts_cache_read_cb read_cb;
	sts_cache_list_cb list_cb;
	void *arg;
};

struct event;

struct sts_cache {
	char *path;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake; /* the worker: a request was queued, or stopping */
	pthread_cond_t done; /* blocking callers: a request finished */
	struct sts_cache_op *head, *tail;         /* queued (under mu) */
	struct sts_cache_op *fin_head, *fin_tail; /* finished, for the loop (under mu) */
	bool stopping;                            /* under mu */
	struct sts_cache_db *db;                  /* the worker's only */
	/* Fleet mode (sts_cache_join_fleet()); fleet NULL: alone.  The worker's only, except the
	 * notes and last_sync (under mu). */
	struct sts_fleet *fleet;
	unsigned wait_ms; /* set when joining, then read-only */
	const struct util_log *log;
	int64_t (*now)(void *arg);
	void *now_arg;
	bool resync;             /* copy the local file into Redis, a page at a time */
	char resync_after[256];  /* the last domain copied */
	long resync_count;
	unsigned long failures_noted; /* Redis failures already logged */
	int64_t last_sync;                 /* under mu */
	struct sts_cache_note {
		enum mxtls_log_level level;
		char event[32];
		char kv[3][2][256]; /* key, value; an empty key ends the list */
	} notes[64];                       /* fleet events for the log (under mu) */
	size_t nnotes;
	unsigned long notes_dropped;
	enum mxtls_log_level dropped_level; /* the most severe of the dropped ones */
	/* the loop thread's only */
	int efd;
	struct event_base *base;
	struct event *ev;
	size_t outstanding;   /* asynchronous reads not yet delivered */
	bool dispatching;     /* inside the event's callback */
	bool close_requested; /* sts_cache_close() from a callback */
};

/* Starts c's worker (c's lock, conditions and path already set up).  Returns MXTLS_OK or
 * MXTLS_E_NOMEM. */
int sts_cache_worker_start(struct sts_cache *c);

/* Queues op and wakes the worker.  Takes c->mu. */
void sts_cache_worker_queue(struct sts_cache *c, struct sts_cache_op *op);

/* Tells the worker to finish the queue and stop, and waits for it. */
void sts_cache_worker_stop(struct sts_cache *c);

/* Logs the fleet events the worker noted (call on the thread that uses the cache). */
void sts_cache_worker_emit_notes(struct sts_cache *c);

/* Frees what op owns, and op; NULL is a no-op. */
void sts_cache_worker_op_free(struct sts_cache_op *op);

#endif
