/* SPDX-License-Identifier: MIT */
/* https URLs and CURLOPT_RESOLVE entries, checked and built without I/O (pure). */
#include "http/http_url.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <mxtls/error.h>

static bool url_byte_ok(unsigned char c)
{
	/* Printable ASCII without space; '#' (a fragment is never sent) is refused by the
	 * caller. */
	return c > 0x20 && c < 0x7f;
}

int http_url_parse(const char *url, struct http_url *out)
{
	if (url == NULL || out == NULL)
		return MXTLS_E_INVAL;
	size_t len = strlen(url);
	static const char scheme[] = "https://";
	if (len >= HTTP_URL_MAX || strncasecmp(url, scheme, sizeof scheme - 1) != 0)
		return MXTLS_E_SYNTAX;
	for (size_t i = 0; i < len; i++)
		if (!url_byte_ok((unsigned char)url[i]) || url[i] == '#')
			return MXTLS_E_SYNTAX;
	const char *h = url + sizeof scheme - 1;
	size_t hlen = strcspn(h, ":/?");
	if (memchr(h, '@', strcspn(h, "/?")) != NULL || memchr(h, '[', hlen) != NULL)
		return MXTLS_E_SYNTAX; /* user info, IPv6 literal */
	struct http_url u;
	memset(&u, 0, sizeof u);
	if (hlen == 0 || !util_dnsname_canon(h, hlen, u.host, sizeof u.host))
		return MXTLS_E_SYNTAX;
	/* An IPv4 literal is a valid DNS name to util_dnsname_canon(); the request must go to a
	 * name whose addresses our resolver found, so refuse it. */
	struct in_addr a4;
	if (inet_pton(AF_INET, u.host, &a4) == 1)
		return MXTLS_E_SYNTAX;
	const char *p = h + hlen;
	u.port = 443;
	if (*p == ':') {
		p++;
		unsigned long port = 0;
		size_t n = 0;
		while (p[n] >= '0' && p[n] <= '9' && n < 6)
			port = port * 10 + (unsigned long)(p[n++] - '0');
		if (n == 0 || n > 5 || port == 0 || port > 65535)
			return MXTLS_E_SYNTAX;
		u.port = (uint16_t)port;
		p += n;
	}
	if (*p != '\0' && *p != '/' && *p != '?')
		return MXTLS_E_SYNTAX;
	int w = snprintf(u.path, sizeof u.path, "%s%s", *p == '/' ? "" : "/", p);
	if (w < 0 || (size_t)w >= sizeof u.path)
		return MXTLS_E_SYNTAX;
	*out = u;
	return MXTLS_OK;
}

int http_url_format(const struct http_url *u, char *buf, size_t bufsize)
{
	if (u == NULL || buf == NULL || bufsize == 0)
		return MXTLS_E_INVAL;
	int w = snprintf(buf, bufsize, "https://%s:%u%s", u->host, (unsigned)u->port, u->path);
	if (w < 0 || (size_t)w >= bufsize) {
		buf[0] = '\0';
		return MXTLS_E_LIMIT;
	}
	return MXTLS_OK;
}

int http_url_resolve_entry(const char *host, uint16_t port, const char *const *addrs,
			   size_t naddrs, char *buf, size_t bufsize)
{
	if (host == NULL || host[0] == '\0' || strpbrk(host, ":,[] ") != NULL || addrs == NULL ||
	    naddrs == 0 || buf == NULL || bufsize == 0)
		return MXTLS_E_INVAL;
	unsigned char bin[16];
	for (size_t i = 0; i < naddrs; i++)
		if (addrs[i] == NULL || (inet_pton(AF_INET, addrs[i], bin) != 1 &&
					 inet_pton(AF_INET6, addrs[i], bin) != 1))
			return MXTLS_E_INVAL;
	size_t len = 0;
	int w = snprintf(buf, bufsize, "%s:%u:", host, (unsigned)port);
	for (size_t i = 0; w >= 0 && (size_t)w < bufsize - len && i < naddrs; i++) {
		len += (size_t)w;
		bool v6 = strchr(addrs[i], ':') != NULL;
		w = snprintf(buf + len, bufsize - len, "%s%s%s%s", i ? "," : "", v6 ? "[" : "",
			     addrs[i], v6 ? "]" : "");
	}
	if (w < 0 || (size_t)w >= bufsize - len) {
		buf[0] = '\0';
		return MXTLS_E_LIMIT;
	}
	return MXTLS_OK;
}
