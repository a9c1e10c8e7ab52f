/* SPDX-License-Identifier: MIT */
/* When to try a deferred recipient again, and when to give up: the daemon's retry rules.  Pure:
 * the clock is passed in. */
#ifndef MXTLS_DELIVERY_RETRY_H
#define MXTLS_DELIVERY_RETRY_H

#include <stdbool.h>
#include <stdint.h>

/* The defaults, as Postfix's (minimal_backoff_time, maximal_backoff_time,
 * maximal_queue_lifetime): CLI.md's retry-min, retry-max and queue-lifetime. */
#define DELIVERY_RETRY_MIN_DEFAULT      300
#define DELIVERY_RETRY_MAX_DEFAULT      4000
#define DELIVERY_QUEUE_LIFETIME_DEFAULT 432000

struct delivery_retry {
	int64_t retry_min; /* seconds after the first failed attempt (>= 1) */
	int64_t retry_max; /* the longest wait between attempts (>= retry_min) */
	int64_t lifetime;  /* seconds after queueing when a deferral becomes a bounce (>= 1) */
};

/* What happens to a recipient after an attempt that did not deliver it for good. */
struct delivery_retry_verdict {
	bool expired;         /* the lifetime is over: return it to the sender */
	int64_t next_attempt; /* when not expired: the time of the next attempt */
};

/*
 * A recipient queued at queued_at was just deferred at now, after attempts attempts (this one
 * included, >= 1).  The wait doubles with each attempt, from retry_min up to retry_max
 * (Postfix's exponential backoff); the last attempt is made when the lifetime ends, so a
 * message is never bounced before its lifetime nor kept long after it.  A deferral at or after
 * queued_at + lifetime has expired.
 */
struct delivery_retry_verdict delivery_retry_after(const struct delivery_retry *r,
						   int64_t queued_at, int64_t now, int64_t attempts);

#endif
