/* SPDX-License-Identifier: MIT */
/* RFC 8460 for a fleet: the members' reports of one day and policy domain merged into one.
 * Pure: no I/O. */
#ifndef MXTLS_TLSRPT_FLEET_H
#define MXTLS_TLSRPT_FLEET_H

#include <stddef.h>

#include "tlsrpt/tlsrpt_store.h"

/* The most member reports merged into one (a fleet of more is refused, not cut). */
#define TLSRPT_FLEET_MEMBERS_MAX 1024

/*
 * Merges the reports of n members (json[i], len[i]: RFC 8460 §4.4 reports as each member built
 * it from its own results, read with tlsrpt_read_parse(), so anything another member or Redis
 * holds is checked) of one day for policy domain `domain` into *out, the day's aggregates as
 * tlsrpt_store_load() gives them for one member (release with tlsrpt_day_free()):
 *   - policies with the same type, domain, policy strings and mx hosts are one policy, their
 *     summary counts added (RFC 8460 §4.4: a report has one element per policy);
 *   - failure-details equal in every field are one, their counts added; each member's keep
 *     its sending-mta-ip, so the fleet's report says which member saw what;
 *   - policies ordered by type, strings, mx; details by every field (the same content gives
 *     the same report, and the same report-id).
 * A member report that is not a report, or that holds a policy of another domain or of an
 * unknown type, is left out: *skipped (may be NULL) counts them, and the first one's reason is
 * in err.  Returns MXTLS_OK (npolicies 0 when nothing usable was given), MXTLS_E_LIMIT (more
 * than TLSRPT_FLEET_MEMBERS_MAX reports, a sum above TLSRPT_COUNT_MAX), MXTLS_E_NOMEM.
 */
int tlsrpt_fleet_merge(const char *const *json, const size_t *len, size_t n, const char *domain,
		       struct tlsrpt_day **out, size_t *skipped, char *err, size_t errlen);

#endif
