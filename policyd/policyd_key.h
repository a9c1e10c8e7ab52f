/* SPDX-License-Identifier: MIT */
/* Socketmap requests (`<name> <key>`) and the keys Postfix looks up in smtp_tls_policy_maps. */
#ifndef MXTLS_POLICYD_KEY_H
#define MXTLS_POLICYD_KEY_H

#include <stdbool.h>
#include <stddef.h>

/* The longest map name kept (Postfix's are short words such as "postfix"). */
#define POLICYD_MAP_NAME_MAX 64

enum policyd_key_kind {
	POLICYD_KEY_DOMAIN = 0,     /* a next-hop domain (or a [host]:25 next-hop): decide it */
	POLICYD_KEY_PARENT = 1,     /* ".example.com": Postfix's parent-domain lookup */
	POLICYD_KEY_IP_LITERAL = 2, /* "[192.0.2.1]", "[ipv6:2001:db8::1]", "192.0.2.1" */
	POLICYD_KEY_OTHER_PORT = 3, /* "[relay.example]:587": not an MX delivery on port 25 */
	POLICYD_KEY_INVALID = 4,    /* not a domain name (reason in why) */
};

struct policyd_request {
	char map[POLICYD_MAP_NAME_MAX + 1]; /* the socketmap name, e.g. "postfix" */
	enum policyd_key_kind kind;
	char domain[254];   /* POLICYD_KEY_DOMAIN: lower case, no trailing dot, no brackets/port */
	bool no_mx;         /* POLICYD_KEY_DOMAIN from "[host]" or "[host]:25": decide the host
			     * itself, without an MX lookup (MXTLS_DECIDE_NO_MX) */
	const char *why;    /* POLICYD_KEY_INVALID and the malformed-request case: static text */
};

/*
 * Parses a socketmap request payload (len bytes, untrusted; any byte may appear).  Returns 0
 * with *out filled, or -1 when the payload is not `<name> <key>` (no space, an empty or over-
 * long name): out->why says why.  A key that is not a usable domain is not an error here: it
 * is classified (out->kind) so the server can answer NOTFOUND and log why.  Key forms, as
 * Postfix sends them for smtp_tls_policy_maps:
 *   example.com, Example.COM.           -> DOMAIN "example.com"
 *   example.com:25                      -> DOMAIN "example.com" (decision D13 of RFC-CHECKLIST.md)
 *   [mx.example.com]:25, [mx.example.com] -> DOMAIN "mx.example.com", no_mx: Postfix connects
 *                                          to that host without an MX lookup
 *   [relay.example.com]:587             -> OTHER_PORT
 *   .example.com                        -> PARENT
 *   [192.0.2.1], [ipv6:2001:db8::1], 192.0.2.1 -> IP_LITERAL
 * Pure.
 */
int policyd_request_parse(const char *payload, size_t len, struct policyd_request *out);

/* "domain", "parent", "ip-literal", "other-port", "invalid".  Static. */
const char *policyd_key_kind_name(enum policyd_key_kind k);

#endif
