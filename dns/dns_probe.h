/* SPDX-License-Identifier: MIT */
/* The proof that DNSSEC validation works: the trust anchor's own zone must validate as secure. */
#ifndef MXTLS_DNS_PROBE_H
#define MXTLS_DNS_PROBE_H

#include <stdbool.h>

struct dns_resolver;
struct event_base;

/*
 * Why: a resolver whose trust anchor is missing, wrong or for another zone answers every
 * lookup "insecure", which reads as "no DANE" rather than as an error.  Looking up the DNSKEY
 * RRset of the anchored zone once tells the two apart: it is secure exactly when validation
 * works.  Until that is proven, callers must not conclude anything from "insecure".
 *
 * A failed probe is remembered for DNS_PROBE_RETRY_S seconds (answers within that time fail
 * at once), then the next wait probes again: a resolver that could not reach the root at start
 * recovers by itself.  A success is kept for the resolver's life.
 */
#define DNS_PROBE_RETRY_S 30

struct dns_probe;
struct dns_probe_wait;

/* works: validation is proven; otherwise why (borrowed for the call) says what failed. */
typedef void (*dns_probe_callback)(void *arg, bool works, const char *why);

/* A probe of zone (borrowed; "." or a name) through r; both borrowed and must outlive it.
 * NULL when memory ran out.  Nothing is looked up until the first dns_probe_wait(). */
struct dns_probe *dns_probe_new(struct dns_resolver *r, struct event_base *base, const char *zone);

/* Cancels the lookup and every wait (their callbacks are not called) and frees p.  NULL: no-op. */
void dns_probe_free(struct dns_probe *p);

/* True once the anchored zone validated as secure: callers need not wait. */
bool dns_probe_proven(const struct dns_probe *p);

/*
 * Calls cb once the probe has an outcome (at once, from the loop, when it already failed
 * within the retry time); starts the probe when none is running.  cb runs later, never inside
 * this call.  *out (may be NULL) receives a handle for dns_probe_wait_cancel(), valid until cb
 * runs.  Returns MXTLS_OK, MXTLS_E_NOMEM.
 */
int dns_probe_wait(struct dns_probe *p, dns_probe_callback cb, void *arg,
		   struct dns_probe_wait **out);

/* Cancels a wait; its callback is not called. */
void dns_probe_wait_cancel(struct dns_probe_wait *w);

#endif
