/* SPDX-License-Identifier: MIT */
/* A fleet's Redis, from one thread: bounded waits, and a pause after every failure. */
#ifndef MXTLS_STORE_REDIS_H
#define MXTLS_STORE_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store_uri.h"

/* Defaults: a connect or a command that takes longer counts as Redis being down. */
#define STORE_REDIS_CONNECT_MS 200
#define STORE_REDIS_COMMAND_MS 200
/* After a failure no attempt for this long (then one connect is tried). */
#define STORE_REDIS_RETRY_MS 1000
/* The largest value read back (a policy is at most 64 KiB): a longer reply is garbage. */
#define STORE_REDIS_VALUE_MAX (96 * 1024)

struct store_redis_opts {
	struct store_uri uri;
	unsigned connect_ms; /* 0: STORE_REDIS_CONNECT_MS */
	unsigned command_ms; /* 0: STORE_REDIS_COMMAND_MS */
	unsigned retry_ms;   /* 0: STORE_REDIS_RETRY_MS */
};

/* What a caller may show of the connection (`mxtls store status`). */
struct store_redis_health {
	bool up;                  /* the last call reached Redis */
	unsigned long failures;   /* calls that found Redis unreachable, slow or erring */
	unsigned long reconnects; /* connections made after the first */
	int64_t last_ok_ms;       /* monotonic ms of the last call that reached it; 0: never */
	char last_error[256];     /* "" when none */
};

/* One field of a hash, as read (bytes, NUL-terminated for convenience; may hold NULs). */
struct store_field {
	char *name, *value;
	size_t name_len, value_len;
};

/* Frees n fields and the array; NULL is a no-op. */
void store_fields_free(struct store_field *f, size_t n);

/*
 * The client.  Not thread-safe: one thread uses it (the cache's worker).  Every call waits at
 * most connect_ms + command_ms, and none while Redis is paused after a failure (the call ends
 * MXTLS_E_TEMPFAIL at once).  Every function returns MXTLS_OK, MXTLS_E_TEMPFAIL (Redis
 * unreachable, timed out, loading, or paused after a failure: the connection is dropped),
 * MXTLS_E_SYNTAX (a reply of the wrong type or size, or a Redis error such as WRONGTYPE:
 * garbage, the connection is kept), MXTLS_E_NOMEM; the reason of the last failure is in
 * store_redis_error().
 */
struct store_redis;

int store_redis_new(const struct store_redis_opts *o, struct store_redis **out);
void store_redis_free(struct store_redis *r);

/* The reason of the last failed call (borrowed until the next call). */
const char *store_redis_error(const struct store_redis *r);
void store_redis_health(const struct store_redis *r, struct store_redis_health *out);

/* True when the next call would try Redis (connected, or the pause is over). */
bool store_redis_may_try(const struct store_redis *r);

/* True once after every (re)connection: the caller re-syncs what it wrote while Redis was away. */
bool store_redis_take_reconnected(struct store_redis *r);

/* PING; *rtt_us the round trip. */
int store_redis_ping(struct store_redis *r, long *rtt_us);

/* HGETALL key: *fields (nf pairs, owned by the caller) or MXTLS_E_NOTFOUND when the key does
 * not exist. */
int store_redis_hgetall(struct store_redis *r, const char *key, struct store_field **fields,
			size_t *nf);

/* HGETALL with caps of the caller's: at most max_pairs fields, max_bytes in all (a larger
 * hash is MXTLS_E_SYNTAX). */
int store_redis_hgetall_capped(struct store_redis *r, const char *key, size_t max_pairs,
			       size_t max_bytes, struct store_field **fields, size_t *nf);

/* SMEMBERS key: *out (n NUL-terminated strings, owned by the caller: free each and the array);
 * more than max members, or a member holding a NUL, is MXTLS_E_SYNTAX. */
int store_redis_smembers(struct store_redis *r, const char *key, size_t max, char ***out,
			 size_t *n);

/* SADD key member, then EXPIRE key ttl_s. */
int store_redis_sadd_expire(struct store_redis *r, const char *key, const char *member,
			    long ttl_s);

/* HSET key field value (len bytes, binary-safe), then EXPIRE key ttl_s. */
int store_redis_hset_bytes(struct store_redis *r, const char *key, const char *field,
			   const char *value, size_t len, long ttl_s);

/* GET key into buf (cap bytes, NUL-terminated): MXTLS_E_NOTFOUND when it does not exist;
 * a longer value, or one holding a NUL, is MXTLS_E_SYNTAX. */
int store_redis_get(struct store_redis *r, const char *key, char *buf, size_t cap);

/*
 * The same check of a reply given as RESP bytes (resp, len; the Redis protocol as a server
 * sends it, parsed by hiredis's reader): for the fuzzer and the vectors.  *used the bytes the
 * reply took.  Returns as store_redis_hgetall(), or MXTLS_E_TRUNCATED when the bytes end
 * inside the reply; the reason of MXTLS_E_SYNTAX in why.
 */
int store_redis_parse_hash(const void *resp, size_t len, struct store_field **fields, size_t *nf,
			   size_t *used, char *why, size_t whylen);

/* EVAL script with keys and binary-safe args; an integer reply in *out. */
int store_redis_eval_int(struct store_redis *r, const char *script, size_t nkeys,
			 const char *const *keys, size_t nargs, const char *const *args,
			 const size_t *arglen, long long *out);

/* SET key value PX ms (binary-safe; at most STORE_REDIS_VALUE_MAX bytes, else MXTLS_E_LIMIT). */
int store_redis_set_px(struct store_redis *r, const char *key, const void *value, size_t len,
		       unsigned ms);

/* SET key value NX PX ms: *acquired says whether it was set (ms may be days: 32 bits). */
int store_redis_set_nx(struct store_redis *r, const char *key, const char *value, unsigned ms,
		       bool *acquired);

/* DEL key (whether or not it existed). */
int store_redis_del(struct store_redis *r, const char *key);

/* HSET key with nf (name, value) string pairs and EXPIRE key ttl_s, in one round trip. */
int store_redis_hset_expire(struct store_redis *r, const char *key, const char *const *pairs,
			    size_t nf, long ttl_s);

/* Counts the keys matching pattern (SCAN; at most max, then stops with *n = max).  With
 * names != NULL also returns up to *nnames of them (each NUL-terminated, owned by the caller,
 * free each and the array). */
int store_redis_scan(struct store_redis *r, const char *pattern, long max, long *n, char ***names,
		     size_t *nnames);

#endif
