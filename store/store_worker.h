/* SPDX-License-Identifier: MIT */
/* A Redis connection for an event loop: commands run on a thread of their own, results come back
 * on the loop. */
#ifndef MXTLS_STORE_WORKER_H
#define MXTLS_STORE_WORKER_H

#include <stddef.h>

#include "store/store_redis.h"

struct event_base;
struct store_worker;
struct store_worker_req;

/* The most requests queued at once: beyond, a request is refused (MXTLS_E_LIMIT) and the caller
 * works without the shared store, as when Redis is down. */
#define STORE_WORKER_QUEUE_MAX 4096

/*
 * A GET's result on the loop: rc MXTLS_OK with the value (borrowed for the call; at most
 * STORE_REDIS_VALUE_MAX bytes, may hold any byte), MXTLS_E_NOTFOUND (no such key), or the
 * failure (MXTLS_E_TEMPFAIL: Redis down, slow, or paused after a failure; MXTLS_E_SYNTAX: a
 * reply that is not a string).
 */
typedef void (*store_worker_get_cb)(void *arg, int rc, const char *value, size_t len);

/* Starts the thread; its results are delivered on base (borrowed, must outlive w).  Every call
 * is bounded as store_redis_new() says (o copied).  Returns MXTLS_OK, MXTLS_E_NOMEM. */
int store_worker_new(const struct store_redis_opts *o, struct event_base *base,
		     struct store_worker **out);

/* Runs the SETs still queued (each bounded), drops the GETs (no callback), stops the thread,
 * frees w.  Call from the loop's thread, not from a callback of w's.  NULL is a no-op. */
void store_worker_free(struct store_worker *w);

/* GET key (copied); cb runs once on the loop unless cancelled.  *out (may be NULL) is the
 * handle for store_worker_cancel().  Returns MXTLS_OK, MXTLS_E_INVAL, MXTLS_E_LIMIT (queue
 * full), MXTLS_E_NOMEM. */
int store_worker_get(struct store_worker *w, const char *key, store_worker_get_cb cb, void *arg,
		     struct store_worker_req **out);

/* Its callback will not run; the request is freed by whoever holds it.  NULL is a no-op. */
void store_worker_cancel(struct store_worker_req *q);

/* SET key value PX ttl_ms, nobody waiting (arguments copied; a failure is counted in the
 * connection's health only).  Returns MXTLS_OK, MXTLS_E_INVAL, MXTLS_E_LIMIT, MXTLS_E_NOMEM. */
int store_worker_set(struct store_worker *w, const char *key, const void *value, size_t len,
		     unsigned ttl_ms);

#endif
