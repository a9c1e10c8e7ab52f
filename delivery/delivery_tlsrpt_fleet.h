/* SPDX-License-Identifier: MIT */
/* TLS-RPT for a fleet (issue 20): one report per policy domain and day for all members. */
#ifndef MXTLS_DELIVERY_TLSRPT_FLEET_H
#define MXTLS_DELIVERY_TLSRPT_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsrpt/tlsrpt_store.h"
#include "validator/mxtls_ctx.h"

/*
 * Keys (doc/fleet.md), all expiring after TLSRPT_FLEET_KEEP seconds:
 *   mxtls:tlsrpt:DAY:DOMAIN      hash MEMBER -> that member's report of DAY for DOMAIN (JSON)
 *   mxtls:tlsrpt-domains:DAY     set of the domains any member has results for on DAY
 *   mxtls:tlsrpt-exported:DAY    set of the members that gave their whole DAY
 *   mxtls:tlsrpt-members         hash MEMBER -> Unix time of its last send run (who reports)
 *   mxtls:tlsrpt-sender:DAY:DOMAIN  the member that sends the fleet's report (SET NX)
 *   mxtls:tlsrpt-epoch           when this Redis began to hold the above (Unix time)
 */
#define TLSRPT_FLEET_KEEP (14 * 86400)
/* A member silent this long no longer holds up the fleet's reports. */
#define TLSRPT_FLEET_MEMBER_SILENT (7 * 86400)
/* Reports of a day wait for every member's copy until this long after the day ended; then
 * they go with the copies there are (RFC 8460 §4.1 reports are sent a day at a time). */
#define TLSRPT_FLEET_DEADLINE (20 * 3600)

struct tlsrpt_fleet_run;

/*
 * Begins a send run's fleet part for day: connects to the shared store, gives this member's
 * whole day (its report for each of its domains, built from st) and records it as exported.
 * *domains / *n: the domains of the whole fleet that day (sorted; caller frees with
 * tlsrpt_strings_free()).  Returns MXTLS_OK, MXTLS_E_TEMPFAIL (the shared store is unavailable:
 * nothing is sent, the next run tries again; reason in err), MXTLS_E_NOMEM, or an error of the
 * local store.
 */
int delivery_tlsrpt_fleet_begin(struct mxtls_ctx *ctx, struct tlsrpt_store *st, int64_t day,
				const char *submitter, int64_t now, struct tlsrpt_fleet_run **out,
				char ***domains, size_t *n, char *err, size_t errlen);
void delivery_tlsrpt_fleet_end(struct tlsrpt_fleet_run *f);

/* Who sends domain's report of day.  Exactly one of: */
enum tlsrpt_fleet_turn {
	TLSRPT_FLEET_OURS,    /* this member (it holds the sender key): *merged is the report */
	TLSRPT_FLEET_THEIRS,  /* another member: who in holder */
	TLSRPT_FLEET_WAITING, /* members whose copies are missing (in holder) before the deadline */
};

/*
 * Decides the turn for domain and, when it is ours, merges every member's copy into *merged
 * (release with tlsrpt_day_free()).  have_outbox: this member already built the report in an
 * earlier run (then the copies are not merged again: the same bytes are retried).
 * Returns MXTLS_OK, MXTLS_E_TEMPFAIL (the shared store went away), MXTLS_E_NOMEM.
 */
int delivery_tlsrpt_fleet_turn(struct tlsrpt_fleet_run *f, const char *domain, bool have_outbox,
			       enum tlsrpt_fleet_turn *turn, struct tlsrpt_day **merged,
			       char *holder, size_t holderlen, char *err, size_t errlen);

#endif
