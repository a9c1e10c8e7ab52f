/* SPDX-License-Identifier: MIT */
/* https URLs and CURLOPT_RESOLVE entries, checked and built without I/O (pure). */
#ifndef MXTLS_HTTP_HTTP_URL_H
#define MXTLS_HTTP_HTTP_URL_H

#include <stddef.h>
#include <stdint.h>

#include "util/util_dnsname.h"

/* The longest URL accepted (a TLS-RPT rua URI is far shorter in practice). */
#define HTTP_URL_MAX 2048

struct http_url {
	char host[UTIL_DNSNAME_MAX + 1]; /* canonical: lower case, no trailing dot */
	uint16_t port;                   /* 443 unless the URL names one */
	char path[HTTP_URL_MAX];         /* from the first '/' (query included); "/" if empty */
};

/*
 * Parses url (NUL-terminated, borrowed): "https://" (any case), a DNS host name, an optional
 * ":port" (1-65535), then an optional path and query.  Refused (MXTLS_E_SYNTAX): any other
 * scheme (RFC 8460 §3 names https; so does RFC 8461 §3.3), user info, an IP literal, a
 * fragment, bytes outside printable ASCII or a space, a URL of HTTP_URL_MAX bytes or more.
 * A strict reading, because the host found here is the only one the request may reach: the
 * client rebuilds the URL from these parts so libcurl cannot read a different host.
 * On MXTLS_OK *out is set; on error it is untouched.  Returns MXTLS_OK, MXTLS_E_SYNTAX,
 * MXTLS_E_INVAL (NULL argument).
 */
int http_url_parse(const char *url, struct http_url *out);

/*
 * Writes "https://host:port/path" for u into buf (bufsize bytes, NUL-terminated).  Returns
 * MXTLS_OK or MXTLS_E_LIMIT (buf too small; buf then holds "").
 */
int http_url_format(const struct http_url *u, char *buf, size_t bufsize);

/*
 * Builds the CURLOPT_RESOLVE entry "host:port:addr1,[v6addr],..." for addrs[0..naddrs)
 * (numeric IPv4 or IPv6 text; an IPv6 address is put in brackets).  Every address must parse
 * as an IPv4 or IPv6 address (inet_pton), so nothing else can be smuggled into the list.
 * Returns MXTLS_OK, MXTLS_E_INVAL (no address, a bad address, a bad host), MXTLS_E_LIMIT
 * (buf too small; buf then holds "").
 */
int http_url_resolve_entry(const char *host, uint16_t port, const char *const *addrs,
			   size_t naddrs, char *buf, size_t bufsize);

#endif
