/* SPDX-License-Identifier: MIT */
/* DNS host names as reference identifiers: normalisation and RFC 6125 matching.  Pure. */
#ifndef MXTLS_UTIL_DNSNAME_H
#define MXTLS_UTIL_DNSNAME_H

#include <stdbool.h>
#include <stddef.h>

/* Longest presentation-form name we accept (RFC 1035: 253 characters without the root dot). */
#define UTIL_DNSNAME_MAX 253

/*
 * Matches a certificate DNS-ID (or an MTA-STS mx pattern) against a host name, both (ptr, len).
 * Case-insensitive (ASCII), one trailing root dot ignored on either side.  A wildcard is allowed
 * only as the complete left-most label "*." and matches exactly one non-empty label
 * (RFC 6125 §6.4.3 as restricted by RFC 7672 §3.2.3 and RFC 8461 §4.1): "*.example.com" matches
 * "mx.example.com", not "example.com" and not "a.mx.example.com".  Partial-label wildcards
 * ("mx*.example.com"), a bare "*", "*" elsewhere, empty labels and embedded NULs never match.
 */
bool util_dnsname_match(const char *pattern, size_t plen, const char *host, size_t hlen);

/*
 * Checks that (p, len) is a syntactically valid host name in presentation form: LDH labels of
 * 1-63 characters (letters, digits, hyphen; not starting or ending with a hyphen; underscores
 * allowed so that TLSA owner names such as _25._tcp pass), total at most UTIL_DNSNAME_MAX,
 * optional trailing dot.  With wildcard true a leading "*." label is also accepted.
 */
bool util_dnsname_valid(const char *p, size_t len, bool wildcard);

/*
 * Writes the canonical form of the host name (p, len) to out (cap bytes): lower case, without
 * the root dot, NUL-terminated.  Returns false (out untouched) when the name is not valid as
 * util_dnsname_valid(p, len, false) says, or does not fit.
 */
bool util_dnsname_canon(const char *p, size_t len, char *out, size_t cap);

#endif
