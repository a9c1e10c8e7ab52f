/* SPDX-License-Identifier: MIT */
/* mxtls serve: what one parsed HTTP request gets (pure: host + path + method -> status). */
#ifndef MXTLS_OWNER_ROUTE_H
#define MXTLS_OWNER_ROUTE_H

#include <stddef.h>

/* RFC 8461 §3.3: the one path a policy host serves. */
#define OWNER_ROUTE_PATH "/.well-known/mta-sts.txt"
/* The label in front of the policy domain: the policy host is "mta-sts.<domain>". */
#define OWNER_ROUTE_PREFIX "mta-sts."
/* The longest domain name (RFC 1035 §2.3.4, without the trailing dot). */
#define OWNER_ROUTE_DOMAIN_MAX 253

/* One request as libmicrohttpd parsed it.  Every field is borrowed (ptr, len), need not be
 * NUL-terminated and may hold any bytes; host is NULL when the request had no Host header;
 * sni_domain is the policy domain the TLS handshake chose (see owner_route_domain()). */
struct owner_request {
	const char *method;
	size_t method_len;
	const char *host;
	size_t host_len;
	const char *path;
	size_t path_len;
	const char *sni_domain;
	size_t sni_len;
};

/*
 * Extracts the policy domain from a policy host name: "mta-sts.<domain>", in any case, with an
 * optional trailing dot and (for a Host header, allow_port) an optional ":PORT" of 1-5 digits.
 * The domain is written lower-cased and NUL-terminated to out (outlen bytes, at least
 * OWNER_ROUTE_DOMAIN_MAX + 1).  Returns its length, or -1 when name is not such a host name
 * (empty labels, bytes other than letters, digits and hyphens, a domain too long).
 */
int owner_route_domain(const char *name, size_t len, int allow_port, char *out, size_t outlen);

/*
 * The status for a request: 200 (serve the policy of sni_domain), 400 (no Host header), 421
 * (the Host header does not name mta-sts.<sni_domain>: the request was meant for another
 * host, RFC 9110 §15.5.20), 404 (any path but OWNER_ROUTE_PATH), 405 (any method but GET and
 * HEAD on that path; the reply carries "Allow: GET, HEAD").  Checked in that order.
 */
int owner_route(const struct owner_request *req);

#endif
