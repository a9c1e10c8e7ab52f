/* SPDX-License-Identifier: MIT */
/* DNS name matching for reference identifiers (RFC 6125 §6.4, RFC 7672 §3.2.3, RFC 8461 §4.1). */
#include "util/util_dnsname.h"

#include <string.h>

#include "util/util_text.h"

static bool equal_nocase(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (util_lower((uint8_t)a[i]) != util_lower((uint8_t)b[i]))
			return false;
	}
	return true;
}

/* Drops one trailing root dot. */
static size_t strip_root(const char *p, size_t len)
{
	return len > 1 && p[len - 1] == '.' ? len - 1 : len;
}

bool util_dnsname_valid(const char *p, size_t len, bool wildcard)
{
	if (p == NULL)
		return false;
	len = strip_root(p, len);
	if (len == 0 || len > UTIL_DNSNAME_MAX)
		return false;
	size_t i = 0;
	if (wildcard && len > 2 && p[0] == '*' && p[1] == '.')
		i = 2;
	while (i < len) {
		size_t start = i;
		while (i < len && p[i] != '.') {
			char c = p[i];
			bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				  (c >= '0' && c <= '9') || c == '-' || c == '_';
			if (!ok)
				return false;
			i++;
		}
		size_t n = i - start;
		if (n == 0 || n > 63 || p[start] == '-' || p[i - 1] == '-')
			return false;
		if (i < len)
			i++; /* the dot; a trailing one was stripped, so a label must follow */
		if (i == len && p[len - 1] == '.')
			return false;
	}
	return true;
}

bool util_dnsname_match(const char *pattern, size_t plen, const char *host, size_t hlen)
{
	if (pattern == NULL || host == NULL)
		return false;
	if (memchr(pattern, '\0', plen) != NULL || memchr(host, '\0', hlen) != NULL)
		return false;
	/* Validate before stripping: util_dnsname_valid() drops one root dot itself, and doing
	 * it twice would let "name.." pass. */
	if (!util_dnsname_valid(host, hlen, false) || !util_dnsname_valid(pattern, plen, true))
		return false;
	plen = strip_root(pattern, plen);
	hlen = strip_root(host, hlen);
	if (plen >= 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* RFC 6125 §6.4.3: "*" stands for exactly the whole left-most label. */
		const char *dot = memchr(host, '.', hlen);
		if (dot == NULL || dot == host)
			return false;
		size_t rest = hlen - (size_t)(dot - host);
		return rest == plen - 1 && equal_nocase(dot, pattern + 1, rest);
	}
	return plen == hlen && equal_nocase(pattern, host, hlen);
}

bool util_dnsname_canon(const char *p, size_t len, char *out, size_t cap)
{
	if (!util_dnsname_valid(p, len, false))
		return false;
	len = strip_root(p, len);
	if (len >= cap)
		return false;
	for (size_t i = 0; i < len; i++)
		out[i] = util_lower((uint8_t)p[i]);
	out[len] = '\0';
	return true;
}
