/* SPDX-License-Identifier: MIT */
/* The answer cache of the policy server: domain -> framed socketmap reply, with expiry. */
#include "policyd/policyd_cache.h"

#include <stdlib.h>
#include <string.h>

#include "policyd/policyd_netstring.h"

/* FNV-1a, 64 bit: keys are short domain names chosen by local Postfix processes, not by
 * remote attackers, so a keyed hash is not needed. */
static uint64_t hash_key(const char *key)
{
	uint64_t h = 1469598103934665603ULL;
	for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	return h;
}

int policyd_cache_init(struct policyd_cache *c, size_t max)
{
	c->nbuckets = 1024;
	c->count = 0;
	c->max = max;
	c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
	return c->buckets != NULL ? 0 : -1;
}

void policyd_entry_free(struct policyd_entry *e)
{
	free(e->framed);
	free(e);
}

void policyd_cache_free(struct policyd_cache *c)
{
	for (size_t i = 0; c->buckets != NULL && i < c->nbuckets; i++) {
		struct policyd_entry *e = c->buckets[i];
		while (e != NULL) {
			struct policyd_entry *next = e->chain;
			policyd_entry_free(e);
			e = next;
		}
	}
	free(c->buckets);
	c->buckets = NULL;
	c->count = c->nbuckets = 0;
}

struct policyd_entry *policyd_cache_find(const struct policyd_cache *c, const char *key)
{
	uint64_t h = hash_key(key);
	for (struct policyd_entry *e = c->buckets[h & (c->nbuckets - 1)]; e != NULL; e = e->chain)
		if (e->hash == h && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

/* Doubles the table once there are more entries than buckets; a failed grow is harmless. */
static void maybe_grow(struct policyd_cache *c)
{
	if (c->count < c->nbuckets)
		return;
	size_t n = c->nbuckets * 2;
	struct policyd_entry **b = calloc(n, sizeof *b);
	if (b == NULL)
		return;
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct policyd_entry *e = c->buckets[i];
		while (e != NULL) {
			struct policyd_entry *next = e->chain;
			e->chain = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
			e = next;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
}

struct policyd_entry *policyd_entry_new(const char *key)
{
	size_t klen = strlen(key);
	struct policyd_entry *e = calloc(1, sizeof *e + klen + 1);
	if (e == NULL)
		return NULL;
	memcpy(e->key, key, klen + 1);
	e->hash = hash_key(key);
	e->waiters.prev = e->waiters.next = &e->waiters;
	return e;
}

struct policyd_entry *policyd_cache_add(struct policyd_cache *c, const char *key)
{
	if (c->count >= c->max)
		return NULL;
	struct policyd_entry *e = policyd_entry_new(key);
	if (e == NULL)
		return NULL;
	maybe_grow(c);
	size_t b = e->hash & (c->nbuckets - 1);
	e->chain = c->buckets[b];
	c->buckets[b] = e;
	c->count++;
	return e;
}

int policyd_cache_set_answer(struct policyd_entry *e, const char *payload, size_t plen,
			     int64_t expires, int64_t ttl)
{
	size_t cap = plen + POLICYD_NETSTRING_DIGITS_MAX + 2;
	char *framed = malloc(cap);
	if (framed == NULL)
		return -1;
	size_t n = policyd_netstring_encode(payload, plen, framed, cap);
	free(e->framed);
	e->framed = framed;
	e->framed_len = n;
	e->expires = expires;
	e->ttl = ttl;
	return 0;
}

void policyd_cache_remove(struct policyd_cache *c, struct policyd_entry *e)
{
	struct policyd_entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
	while (*pp != NULL && *pp != e)
		pp = &(*pp)->chain;
	if (*pp == e) {
		*pp = e->chain;
		c->count--;
	}
	policyd_entry_free(e);
}

size_t policyd_cache_sweep(struct policyd_cache *c, int64_t now)
{
	size_t removed = 0;
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct policyd_entry **pp = &c->buckets[i];
		while (*pp != NULL) {
			struct policyd_entry *e = *pp;
			if (e->op == NULL && !policyd_entry_has_waiters(e) &&
			    (now == INT64_MAX || e->expires <= now)) {
				*pp = e->chain;
				policyd_entry_free(e);
				c->count--;
				removed++;
			} else {
				pp = &e->chain;
			}
		}
	}
	return removed;
}

void policyd_cache_foreach(const struct policyd_cache *c,
			   void (*fn)(void *arg, struct policyd_entry *e), void *arg)
{
	for (size_t i = 0; i < c->nbuckets; i++)
		for (struct policyd_entry *e = c->buckets[i]; e != NULL; e = e->chain)
			fn(arg, e);
}

void policyd_waiter_add(struct policyd_entry *e, struct policyd_waiter *w)
{
	w->entry = e;
	w->prev = e->waiters.prev;
	w->next = &e->waiters;
	e->waiters.prev->next = w;
	e->waiters.prev = w;
}

void policyd_waiter_detach(struct policyd_waiter *w)
{
	if (w->entry == NULL)
		return;
	w->prev->next = w->next;
	w->next->prev = w->prev;
	w->prev = w->next = NULL;
	w->entry = NULL;
}
