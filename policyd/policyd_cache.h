/* SPDX-License-Identifier: MIT */
/* The answer cache of the policy server: domain -> framed socketmap reply, with expiry. */
#ifndef MXTLS_POLICYD_CACHE_H
#define MXTLS_POLICYD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct policyd_entry;

/* A request waiting for an entry's answer; embedded in the waiting request (policyd_conn.c).
 * The list is circular with the entry's sentinel as head. */
struct policyd_waiter {
	struct policyd_waiter *prev, *next;
	struct policyd_entry *entry; /* NULL when not waiting */
};

struct policyd_entry {
	struct policyd_entry *chain; /* hash chain */
	uint64_t hash;
	char *framed;         /* owned: the netstring-framed reply; NULL until the first answer */
	size_t framed_len;
	int64_t expires;      /* Unix seconds; the answer is served while now < expires */
	int64_t ttl;          /* what expires was computed from (for the refresh-ahead margin) */
	void *op;             /* the decision running for this entry (owner: the server), or NULL */
	struct policyd_waiter waiters; /* sentinel of the waiting requests */
	char key[];           /* the domain, NUL-terminated */
};

struct policyd_cache {
	struct policyd_entry **buckets;
	size_t nbuckets, count, max;
};

/* An empty cache holding at most max entries.  Returns 0, or -1 when memory ran out. */
int policyd_cache_init(struct policyd_cache *c, size_t max);

/* Frees every entry (which must have no decision and no waiters) and the table. */
void policyd_cache_free(struct policyd_cache *c);

/* The entry of key, or NULL. */
struct policyd_entry *policyd_cache_find(const struct policyd_cache *c, const char *key);

/* Adds an entry for key (not present yet) with no answer.  NULL when the cache holds max
 * entries or memory ran out. */
struct policyd_entry *policyd_cache_add(struct policyd_cache *c, const char *key);

/* An entry outside any cache (for a request the full cache cannot hold), and its release
 * (no decision, no waiters).  policyd_entry_new() returns NULL when memory ran out. */
struct policyd_entry *policyd_entry_new(const char *key);
void policyd_entry_free(struct policyd_entry *e);

/* Stores payload (plen bytes) as e's answer, framed as a netstring, valid until expires.
 * Returns 0, or -1 when memory ran out (e keeps its previous answer). */
int policyd_cache_set_answer(struct policyd_entry *e, const char *payload, size_t plen,
			     int64_t expires, int64_t ttl);

/* Removes and frees e (no decision, no waiters). */
void policyd_cache_remove(struct policyd_cache *c, struct policyd_entry *e);

/* Removes the entries with no decision and no waiters whose answer expired at now (all of
 * them when now is INT64_MAX); returns how many. */
size_t policyd_cache_sweep(struct policyd_cache *c, int64_t now);

/* Calls fn for every entry (which fn must not remove). */
void policyd_cache_foreach(const struct policyd_cache *c,
			   void (*fn)(void *arg, struct policyd_entry *e), void *arg);

/* Waiters: add w to e's list; detach w from whatever it waits on (no-op when not waiting). */
void policyd_waiter_add(struct policyd_entry *e, struct policyd_waiter *w);
void policyd_waiter_detach(struct policyd_waiter *w);
static inline bool policyd_entry_has_waiters(const struct policyd_entry *e)
{
	return e->waiters.next != &e->waiters;
}

#endif
