/* SPDX-License-Identifier: MIT */
/* The retry rules (delivery_retry.h). */
#include "delivery/delivery_retry.h"

struct delivery_retry_verdict delivery_retry_after(const struct delivery_retry *r,
						   int64_t queued_at, int64_t now, int64_t attempts)
{
	struct delivery_retry_verdict v = {0};
	int64_t end = queued_at > INT64_MAX - r->lifetime ? INT64_MAX : queued_at + r->lifetime;
	if (now >= end) {
		v.expired = true;
		return v;
	}
	/* retry_min * 2^(attempts-1), stopping at retry_max before it can overflow. */
	int64_t wait = r->retry_min;
	for (int64_t i = 1; i < attempts && wait < r->retry_max; i++)
		wait = wait > r->retry_max / 2 ? r->retry_max : wait * 2;
	if (wait > r->retry_max)
		wait = r->retry_max;
	v.next_attempt = now > end - wait ? end : now + wait;
	return v;
}
