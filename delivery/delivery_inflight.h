/* SPDX-License-Identifier: MIT */
/* The scheduler's set of (message id, domain) pairs that are in a job, started or about to be:
 * a tick must not start the same recipients twice.  A chained hash table; in memory only
 * (after a crash nothing is in flight). */
#ifndef MXTLS_DELIVERY_INFLIGHT_H
#define MXTLS_DELIVERY_INFLIGHT_H

struct delivery_inflight;

/* A new, empty set, or NULL when out of memory. */
struct delivery_inflight *delivery_inflight_new(void);
void delivery_inflight_free(struct delivery_inflight *s);

/* The value stored for (id, domain), or NULL. */
void *delivery_inflight_get(const struct delivery_inflight *s, const char *id, const char *domain);
/* Stores value (not NULL) for (id, domain), which must not be present.  MXTLS_OK or
 * MXTLS_E_NOMEM. */
int delivery_inflight_put(struct delivery_inflight *s, const char *id, const char *domain,
			  void *value);
/* Removes (id, domain) when present. */
void delivery_inflight_del(struct delivery_inflight *s, const char *id, const char *domain);

#endif
