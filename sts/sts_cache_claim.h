/* SPDX-License-Identifier: MIT */
/* Fleet mode: one member fetches a policy the members meet at the same moment (doc/fleet.md). */
#ifndef MXTLS_STS_CACHE_CLAIM_H
#define MXTLS_STS_CACHE_CLAIM_H

#include <stdbool.h>

#include "sts/sts_cache_async.h"

/* True when c shares its policies with a fleet (sts_cache_join_fleet()). */
bool sts_cache_shared(const struct sts_cache *c);

struct sts_cache_claim;

/*
 * Before fetching domain's policy id when the local file has no policy of that id: takes the
 * domain's fetch lease, or, while another member holds it, asks again (20 ms, then doubling to
 * 320 ms) until that member's fetch is in Redis, the lease is free again (its fetch failed or
 * was given up, or its holder died and the lease expired), or the fleet's wait_ms has passed.
 * cb (on c's loop, once) gets r->rc MXTLS_OK with r->entry, the policy another member fetched
 * (already in the local file: move it out and zero it to keep it); anything else means "fetch it
 * yourself": MXTLS_E_NOTFOUND (the lease is this member's, or Redis did not answer),
 * MXTLS_E_TIMEOUT (waited wait_ms), or the cache's own error.  A claim never stands for "no
 * policy".  Returns MXTLS_OK, MXTLS_E_INVAL (c not attached to a loop), MXTLS_E_NOMEM.
 */
int sts_cache_claim_start(struct sts_cache *c, const char *domain, const char *id,
			  sts_cache_read_cb cb, void *arg, struct sts_cache_claim **out);

/* Stops a claim whose callback has not run (its callback will not run); NULL is a no-op. */
void sts_cache_claim_cancel(struct sts_cache_claim *cl);

#endif
