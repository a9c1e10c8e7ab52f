/* SPDX-License-Identifier: MIT */
/* The MTA-STS policy cache shared by a fleet in Redis: values, their checks, and leases. */
#ifndef MXTLS_STS_CACHE_FLEET_H
#define MXTLS_STS_CACHE_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store_redis.h"
#include "sts/sts_cache.h"

/*
 * Keys (doc/fleet.md):
 *   mxtls:sts:DOMAIN        hash {v=1, id, fetched_at, policy}: the newest policy any member
 *                           fetched; EXPIRE at its max_age (RFC 8461 §3.2), so Redis forgets
 *                           it when every member must
 *   mxtls:sts-lease:DOMAIN  the member refreshing DOMAIN's policy now (SET NX PX)
 *   mxtls:member:NAME       hash {last_sync, policies}: when NAME last wrote its cache to Redis
 */
#define STS_FLEET_POLICY_PREFIX "mxtls:sts:"
#define STS_FLEET_LEASE_PREFIX  "mxtls:sts-lease:"
#define STS_FLEET_MEMBER_PREFIX "mxtls:member:"
/* A fetched_at this far in the future is not believed (clock skew between members). */
#define STS_FLEET_SKEW 300

/*
 * Reads a policy back from its hash fields (f, n; Redis is shared, so nothing in it is
 * trusted): every field present once (v, id, fetched_at, policy; others ignored), v "1", id as
 * in the TXT record (1-32 letters and digits, RFC 8461 §3.1), fetched_at decimal seconds after
 * 2000 and at most STS_FLEET_SKEW ahead of now, and a policy body that sts_policy_parse()
 * accepts; mode, max_age and mx come from the body, expires_at = fetched_at + max_age.
 * Pure.  Returns MXTLS_OK (*out filled, release with sts_cache_entry_clear(), last_checked =
 * fetched_at), MXTLS_E_NOTFOUND (valid but expired at now), MXTLS_E_SYNTAX (the reason in
 * why), MXTLS_E_NOMEM.
 */
int sts_fleet_decode(const char *domain, const struct store_field *f, size_t n, int64_t now,
		     struct sts_cache_entry *out, char *why, size_t whylen);

/* The fleet side of one member's cache (used by the cache's worker thread only). */
struct sts_fleet;

/* member: this member's name (copied); lease_ms how long a refresh lease lasts when its holder
 * dies.  Connects lazily.  Returns MXTLS_OK or MXTLS_E_NOMEM. */
int sts_fleet_new(const struct store_redis_opts *o, const char *member, unsigned lease_ms,
		  struct sts_fleet **out);
void sts_fleet_free(struct sts_fleet *f);

/* The Redis client (for its health and error). */
struct store_redis *sts_fleet_redis(struct sts_fleet *f);
const char *sts_fleet_member(const struct sts_fleet *f);

/* Domain's policy in Redis: MXTLS_OK (*out filled), MXTLS_E_NOTFOUND (none, or expired),
 * MXTLS_E_TEMPFAIL (Redis unavailable), MXTLS_E_SYNTAX (garbage: the reason in why),
 * MXTLS_E_NOMEM. */
int sts_fleet_get(struct sts_fleet *f, const char *domain, int64_t now, struct sts_cache_entry *out,
		  char *why, size_t whylen);

/*
 * Stores e unless Redis holds a newer fetch of the domain (atomically, in a script): a member
 * whose copy is older never overwrites a newer one.  replace_garbage: also replace a value
 * that is not a hash, or whose fetched_at is not a number (sts_fleet_get() said
 * MXTLS_E_SYNTAX).  An entry already expired at now is not stored.  *stored (may be NULL) says
 * whether it was written.  Returns MXTLS_OK, MXTLS_E_TEMPFAIL, MXTLS_E_SYNTAX.
 */
int sts_fleet_put(struct sts_fleet *f, const struct sts_cache_entry *e, int64_t now,
		  bool replace_garbage, bool *stored);

/* Takes domain's refresh lease for this member: *acquired false when another member holds it.
 * MXTLS_OK, MXTLS_E_TEMPFAIL, MXTLS_E_SYNTAX. */
int sts_fleet_lease(struct sts_fleet *f, const char *domain, bool *acquired);

/* Gives back domain's lease if this member holds it (compare and delete, in a script). */
int sts_fleet_release(struct sts_fleet *f, const char *domain);

/* Removes domain's policy and lease from Redis (`mxtls sts cache purge`). */
int sts_fleet_delete(struct sts_fleet *f, const char *domain);

/* Records in Redis that this member's cache (npolicies entries) was written at now. */
int sts_fleet_heartbeat(struct sts_fleet *f, int64_t now, long npolicies);

#endif
