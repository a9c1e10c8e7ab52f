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
	/* The report endpoint's path (the reports-path setting), NULL when there is none. */
	const char *reports_path;
	size_t reports_path_len;
};

/* What owner_route() returns for a POST to the report endpoint: not an HTTP status, the
 * request goes to the report handler (which answers 201, 200, 4xx or 503 itself). */
#define OWNER_ROUTE_REPORT 1

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
 * host, RFC 9110 §15.5.20), OWNER_ROUTE_REPORT (a POST to reports_path, when set), 405 (any
 * other method on reports_path: *allow is set to "POST"), 404 (any path but OWNER_ROUTE_PATH
 * and reports_path), 405 (any method but GET and HEAD on OWNER_ROUTE_PATH: *allow is set to
 * "GET, HEAD").  Checked in that order.  allow may be NULL; it is set only with a 405 (a
 * static string for the reply's Allow header).
 */
int owner_route(const struct owner_request *req, const char **allow);

/*
 * Whether path (NUL-terminated) may be the reports-path setting: an absolute URL path of at
 * most OWNER_ROUTE_REPORTS_PATH_MAX bytes, made of "/"-separated segments of RFC 3986
 * unreserved characters (letters, digits, "-._~"), no empty, "." or ".." segment, and not
 * OWNER_ROUTE_PATH (the policy's).  Returns 1 or 0.
 */
int owner_route_reports_path_ok(const char *path);
#define OWNER_ROUTE_REPORTS_PATH_MAX 255

/* The two media types of a TLS report upload (RFC 8460 §5.4, §6). */
#define OWNER_ROUTE_TYPE_GZIP 1 /* application/tlsrpt+gzip */
#define OWNER_ROUTE_TYPE_JSON 2 /* application/tlsrpt+json */

/*
 * The media type of a Content-Type header value (ct, len: borrowed, any bytes; NULL when the
 * header is missing): OWNER_ROUTE_TYPE_GZIP or OWNER_ROUTE_TYPE_JSON when the type/subtype is
 * one of those two in any case (RFC 9110 §8.3.1), with optional white space and parameters
 * after a ";"; otherwise 0.
 */
int owner_route_report_type(const char *ct, size_t len);

#endif
