/* SPDX-License-Identifier: MIT */
/* MTA-STS mx pattern matching (RFC 8461 §4.1, Appendix B), on top of util_dnsname_match(). */
#include "sts/sts_mx.h"

#include <string.h>

#include "util/util_dnsname.h"

bool sts_mx_match(const char *pattern, size_t plen, const char *host, size_t hlen)
{
	/* RFC 8461 §4.1: "*" matches exactly the whole left-most label (RFC 6125 §6.4.3 as
	 * restricted there), names compare without case, one root dot is ignored.  That is
	 * util_dnsname_match()'s contract, which also rejects NULs, empty labels (so "x.." never
	 * matches "x") and partial-label wildcards. */
	return util_dnsname_match(pattern, plen, host, hlen);
}

bool sts_mx_match_policy(const struct sts_policy *policy, const char *host, size_t hlen,
			 size_t *which)
{
	if (policy == NULL)
		return false;
	/* RFC 8461 §4.1: the MX host name must match at least one pattern. */
	for (size_t i = 0; i < policy->nmx; i++) {
		if (sts_mx_match(policy->mx[i], strlen(policy->mx[i]), host, hlen)) {
			if (which != NULL)
				*which = i;
			return true;
		}
	}
	return false;
}
