/* SPDX-License-Identifier: MIT */
/* MTA-STS mx pattern matching (RFC 8461 §4.1): is an MX host name covered by a policy?  Pure. */
#ifndef MXTLS_STS_MX_H
#define MXTLS_STS_MX_H

#include <stdbool.h>
#include <stddef.h>

#include "sts/sts_policy.h"

/*
 * True when the MX host name (host, hlen; as found in the MX RRset, not CNAME-expanded)
 * matches the mx pattern (pattern, plen); both borrowed.  RFC 8461 §4.1: a pattern is a full
 * host name, matched exactly, or "*." + domain, where "*" stands for exactly one whole
 * left-most label: "*.example.com" matches "mail.example.com", not "example.com" nor
 * "a.b.example.com".  ASCII case-insensitive; one trailing root dot is ignored on either side
 * (never two).  Anything that is not a host name (empty labels, embedded NUL, U-labels,
 * partial-label wildcards such as "mx*.example.com") never matches.
 */
bool sts_mx_match(const char *pattern, size_t plen, const char *host, size_t hlen);

/*
 * True when host (hlen bytes, borrowed) matches at least one of the policy's mx patterns
 * (RFC 8461 §4.1); *which (may be NULL) receives the index of the first pattern that matches.
 * Mode is not looked at: applying the mode is the caller's business.
 */
bool sts_mx_match_policy(const struct sts_policy *policy, const char *host, size_t hlen,
			 size_t *which);

#endif
