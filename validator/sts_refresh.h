/* SPDX-License-Identifier: MIT */
/* Proactive refresh of cached MTA-STS policies (RFC 8461 §3.3, §10.2), on the event loop. */
#ifndef MXTLS_VALIDATOR_STS_REFRESH_H
#define MXTLS_VALIDATOR_STS_REFRESH_H

#include <stddef.h>
#include <stdint.h>

#include "validator/sts_resolve.h"

struct event_base;

struct sts_refresh_opts {
	struct event_base *base; /* the loop r and f run on (borrowed) */
	int64_t now;         /* Unix seconds */
	int64_t older_than;  /* refresh entries fetched at or before now - older_than */
	unsigned concurrency; /* fetches at a time (>= 1) */
	unsigned jitter_ms;  /* each fetch starts after a random delay in [0, jitter_ms] */
	const struct util_log *log; /* may be NULL */
	uint64_t log_id;
};

struct sts_refresh_stats {
	size_t due;       /* entries old enough */
	size_t refreshed; /* fetched and stored */
	size_t failed;    /* fetch failed, or no valid TXT record: the cached policy stays */
};

/* Called once from the event loop when every due entry was tried; stats borrowed. */
typedef void (*sts_refresh_callback)(void *arg, const struct sts_refresh_stats *stats);

struct sts_refresh;

/*
 * Starts refreshing every cached entry of c that is due (borrowed r, f, c must outlive it).
 * Each goes through sts_resolve with refresh set, so a new TXT id, the back-off and the
 * alerting rules apply as for a delivery.  cb runs later, also when nothing is due.  The due
 * entries are listed by the cache's worker, off the loop; when the cache cannot be read the
 * run logs sts-cache-read-failed and reports nothing due.  Returns MXTLS_OK, MXTLS_E_NOMEM.
 */
int sts_refresh_start(struct dns_resolver *r, struct sts_fetcher *f, struct sts_cache *c,
		      const struct sts_refresh_opts *opts, sts_refresh_callback cb, void *arg,
		      struct sts_refresh **out);

/* Stops a refresh; its callback is not called. */
void sts_refresh_cancel(struct sts_refresh *s);

#endif
