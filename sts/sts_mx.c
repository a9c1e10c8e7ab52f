/* SPDX-License-Identifier: MIT */
/* MTA-STS mx pattern matching (RFC 8461 §4.1, Appendix B), on top of util_dnsname_match(). */
#include "sts/sts_mx.h"

#include <string.h>

#include "util/util_dnsname.h"

/* A name ending in two dots has an empty label: util_dnsname_match() would drop both. */
static bool has_double_root_dot(const char *p, size_t len)
{
	return len >= 2 && p[len - 1] == '.' && p[len - 2] == '.';
}

bool sts_mx_match(const char *pattern, size_t plen, const char *host, size_t hlen)
{
	if (pattern == NULL || host == NULL)
		return false;
	if (has_double_root_dot(pattern, plen) || has_double_root_dot(host, hlen))
		return false;
	/* RFC 8461 §4.1: "*" matches exactly the whole left-most label (RFC 6125 §6.4.3 as
	 * restricted there); util_dnsname_match() implements exactly that, case-insensitively. */
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
