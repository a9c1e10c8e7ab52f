/* SPDX-License-Identifier: MIT */
/* The MTA-STS cache from an event loop: requests to its worker, results back on the loop. */
#ifndef MXTLS_STS_CACHE_ASYNC_H
#define MXTLS_STS_CACHE_ASYNC_H

#include "sts/sts_cache.h"
#include "util/util_log.h"

struct event_base;

/*
 * Delivers the results of c's asynchronous requests on base (borrowed; must outlive c): the
 * worker only writes to an eventfd that an event on base watches, and callbacks run from that
 * event, on the loop's thread.  The event is pending only while a read is outstanding, so it
 * does not keep the loop alive.  Calling it again with the same base does nothing.  Returns
 * MXTLS_OK, MXTLS_E_INVAL (already attached to another base), MXTLS_E_NOMEM.
 */
int sts_cache_async_attach(struct sts_cache *c, struct event_base *base);

/* What an asynchronous read found. */
struct sts_cache_read {
	int rc; /* MXTLS_OK (entry set), MXTLS_E_NOTFOUND, MXTLS_E_IO, MXTLS_E_NOMEM */
	struct sts_cache_entry entry; /* freed after the callback: move it out and zero it to keep */
	bool has_failure;             /* a failed fetch is recorded for the domain: */
	struct sts_cache_failure failure;
	char why[512]; /* for MXTLS_E_IO: SQLite's reason ("database is locked") */
};

/* Called once, from the loop; r is borrowed for the call. */
typedef void (*sts_cache_read_cb)(void *arg, struct sts_cache_read *r);
/* Called once, from the loop; domains (nd names) belongs to the callee (free()); NULL when nd
 * is 0 or rc is not MXTLS_OK. */
typedef void (*sts_cache_list_cb)(void *arg, int rc, char (*domains)[256], size_t nd);

/* A request in flight; valid until its callback runs or it is cancelled. */
struct sts_cache_op;

/*
 * Reads domain's entry and its recorded fetch failure (sts_cache_get() and the back-off record
 * in one request).  cb runs later on the attached base, never inside this call.  On MXTLS_OK *op
 * (may be NULL) is the handle for sts_cache_async_cancel().  Returns MXTLS_OK, MXTLS_E_INVAL (not
 * attached, or domain too long), MXTLS_E_NOMEM.
 */
int sts_cache_async_read(struct sts_cache *c, const char *domain, sts_cache_read_cb cb,
			 void *arg, struct sts_cache_op **op);

/* Fleet mode, before a first fetch of domain's policy id (sts_cache_claim.h does the waiting):
 * r->rc MXTLS_OK: another member fetched id, r->entry (now in the local file); MXTLS_E_TEMPFAIL:
 * another member holds the domain's fetch lease; otherwise fetch (MXTLS_E_NOTFOUND: the lease is
 * this member's, or there is no fleet, or Redis did not answer).  As sts_cache_async_read(). */
int sts_cache_async_claim(struct sts_cache *c, const char *domain, const char *id,
			  sts_cache_read_cb cb, void *arg, struct sts_cache_op **op);

/* The domains whose policy was fetched at or before cutoff (the proactive refresh's list), in
 * domain order; as sts_cache_async_read() otherwise. */
int sts_cache_async_list_due(struct sts_cache *c, int64_t cutoff, sts_cache_list_cb cb,
			     void *arg, struct sts_cache_op **op);

/* Cancels a request from the loop thread: its callback will not run.  NULL is a no-op. */
void sts_cache_async_cancel(struct sts_cache_op *op);

/*
 * Writes without waiting (the arguments are copied), in order after every earlier request.  A
 * write that fails is logged on log (may be NULL; borrowed, must outlive c) as
 * sts-cache-write-failed from the loop.  Return MXTLS_OK, MXTLS_E_INVAL, MXTLS_E_NOMEM.
 */
int sts_cache_async_put(struct sts_cache *c, const struct sts_cache_entry *e,
			const struct util_log *log, uint64_t log_id);
int sts_cache_async_touch(struct sts_cache *c, const char *domain, int64_t now,
			  const char *error, const struct util_log *log, uint64_t log_id);
/* Fleet mode: gives domain's fetch lease back if this member holds it (a fetch given up). */
int sts_cache_async_release(struct sts_cache *c, const char *domain);
int sts_cache_async_note_failure(struct sts_cache *c, const char *domain, const char *id,
				 int64_t now, const char *error, const struct util_log *log,
				 uint64_t log_id);

#endif
