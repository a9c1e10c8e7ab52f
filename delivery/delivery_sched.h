/* SPDX-License-Identifier: MIT */
/* The delivery daemon's scheduler: takes due recipients from the index, delivers them one
 * (message, domain) at a time within the concurrency limits, and records every result. */
#ifndef MXTLS_DELIVERY_SCHED_H
#define MXTLS_DELIVERY_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mxtls/queue.h>

#include "delivery/delivery_dkim.h"
#include "delivery/delivery_retry.h"

struct event_base;

struct delivery_sched_opts {
	struct delivery_retry retry;
	int64_t delay_warning;            /* seconds; 0: no delay warnings */
	unsigned concurrency;             /* deliveries at a time, in total (>= 1) */
	unsigned concurrency_per_domain;  /* ... and to one recipient domain (>= 1) */
	const char *helo;                 /* EHLO name and Reporting-MTA (borrowed) */
	const struct delivery_dkim *dkim; /* may be NULL (borrowed) */
	bool once; /* only what is due at the start, and what arrives meanwhile (notifications):
		    * each recipient is tried at most once */
};

/* Counts since the start, for the log and the tests. */
struct delivery_sched_stats {
	uint64_t delivered, deferred, bounced, notifications, set_aside;
	uint64_t results_lost; /* messages whose results the index never took (a full disk) */
};

struct delivery_sched;

/* Called from the loop when nothing runs and nothing more will start: after
 * delivery_sched_stop(), or with opts->once when what was due is done. */
typedef void (*delivery_sched_idle_fn)(void *arg);

/*
 * A scheduler over q on base (both borrowed; q's context supplies the resolver, policy cache
 * and Web PKI roots).  It looks for due work at once.  On MXTLS_OK *out is set.  Errors:
 * MXTLS_E_NOMEM, MXTLS_E_CONFIG and MXTLS_E_IO from the context (reason in err).
 */
int delivery_sched_new(struct mxtls_queue *q, struct event_base *base,
		       const struct delivery_sched_opts *o, delivery_sched_idle_fn idle, void *arg,
		       struct delivery_sched **out, char *err, size_t errlen);

/* Looks for due work soon (new mail, a flush); cheap to call often. */
void delivery_sched_kick(struct delivery_sched *s);

/* Starts nothing more; the idle callback runs once the running deliveries are done. */
void delivery_sched_stop(struct delivery_sched *s);

size_t delivery_sched_running(const struct delivery_sched *s);
const struct delivery_sched_stats *delivery_sched_stats(const struct delivery_sched *s);

/* Frees s.  Deliveries still running are cancelled: nothing of them is recorded, so their
 * recipients are tried again later (a session cut short never counts as a delivery). */
void delivery_sched_free(struct delivery_sched *s);

#endif
