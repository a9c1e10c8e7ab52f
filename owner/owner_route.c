/* SPDX-License-Identifier: MIT */
/* mxtls serve: the routing decision for one request, pure so that it can be fuzzed. */
#include "owner/owner_route.h"

#include <string.h>

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

int owner_route_domain(const char *name, size_t len, int allow_port, char *out, size_t outlen)
{
	const size_t plen = sizeof OWNER_ROUTE_PREFIX - 1;
	if (name == NULL || out == NULL || outlen < OWNER_ROUTE_DOMAIN_MAX + 1)
		return -1;
	if (allow_port) {
		/* ":PORT" at the end: 1-5 digits after the last colon. */
		size_t i = len;
		while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
			i--;
		if (i > 0 && name[i - 1] == ':') {
			if (len - i < 1 || len - i > 5)
				return -1;
			len = i - 1;
		}
	}
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len <= plen)
		return -1;
	for (size_t i = 0; i < plen; i++)
		if (lower(name[i]) != OWNER_ROUTE_PREFIX[i])
			return -1;
	const char *d = name + plen;
	size_t dlen = len - plen;
	if (dlen > OWNER_ROUTE_DOMAIN_MAX)
		return -1;
	size_t label = 0;
	for (size_t i = 0; i < dlen; i++) {
		char c = lower(d[i]);
		if (c == '.') {
			if (label == 0)
				return -1; /* an empty label */
			label = 0;
		} else if (!ldh(c) || ++label > 63) {
			return -1;
		}
		out[i] = c;
	}
	if (label == 0)
		return -1;
	out[dlen] = '\0';
	return (int)dlen;
}

static int equals(const char *p, size_t len, const char *lit)
{
	return len == strlen(lit) && memcmp(p, lit, len) == 0;
}

static void set_allow(const char **allow, const char *v)
{
	if (allow != NULL)
		*allow = v;
}

int owner_route(const struct owner_request *req, const char **allow)
{
	if (req->host == NULL)
		return 400;
	char host[OWNER_ROUTE_DOMAIN_MAX + 1];
	int n = owner_route_domain(req->host, req->host_len, 1, host, sizeof host);
	/* The Host header must name the host whose certificate the handshake chose: a request
	 * for another name on this connection is misdirected, never answered with the SNI
	 * domain's policy. */
	if (n < 0 || req->sni_domain == NULL || (size_t)n != req->sni_len ||
	    memcmp(host, req->sni_domain, req->sni_len) != 0)
		return 421;
	/* RFC 8460 §5.4: reports are POSTed to the URI of the rua; the endpoint takes nothing
	 * else. */
	if (req->reports_path != NULL && req->path_len == req->reports_path_len &&
	    memcmp(req->path, req->reports_path, req->path_len) == 0) {
		if (equals(req->method, req->method_len, "POST"))
			return OWNER_ROUTE_REPORT;
		set_allow(allow, "POST");
		return 405;
	}
	/* RFC 8461 §3.3: the policy is at the path "/.well-known/mta-sts.txt"; nothing else is
	 * served. */
	if (!equals(req->path, req->path_len, OWNER_ROUTE_PATH))
		return 404;
	if (!equals(req->method, req->method_len, "GET") &&
	    !equals(req->method, req->method_len, "HEAD")) {
		set_allow(allow, "GET, HEAD");
		return 405;
	}
	return 200;
}

static int unreserved(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

int owner_route_reports_path_ok(const char *path)
{
	if (path == NULL || path[0] != '/' || strcmp(path, OWNER_ROUTE_PATH) == 0)
		return 0;
	size_t len = strlen(path);
	if (len > OWNER_ROUTE_REPORTS_PATH_MAX)
		return 0;
	/* Each segment after a "/": non-empty, unreserved characters, not "." or "..". */
	size_t i = 0;
	while (i < len) {
		size_t start = ++i; /* past the "/" */
		while (i < len && path[i] != '/') {
			if (!unreserved(path[i]))
				return 0;
			i++;
		}
		size_t seg = i - start;
		if (seg == 0 || (seg == 1 && path[start] == '.') ||
		    (seg == 2 && path[start] == '.' && path[start + 1] == '.'))
			return 0;
	}
	return 1;
}

static int equals_nocase(const char *p, size_t len, const char *lit)
{
	if (len != strlen(lit))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (lower(p[i]) != lit[i])
			return 0;
	return 1;
}

int owner_route_report_type(const char *ct, size_t len)
{
	if (ct == NULL)
		return 0;
	size_t i = 0;
	while (i < len && (ct[i] == ' ' || ct[i] == '\t'))
		i++;
	size_t start = i;
	while (i < len && ct[i] != ';' && ct[i] != ' ' && ct[i] != '\t')
		i++;
	size_t end = i;
	while (i < len && (ct[i] == ' ' || ct[i] == '\t'))
		i++;
	/* Only parameters may follow the media type. */
	if (i < len && ct[i] != ';')
		return 0;
	if (equals_nocase(ct + start, end - start, "application/tlsrpt+gzip"))
		return OWNER_ROUTE_TYPE_GZIP;
	if (equals_nocase(ct + start, end - start, "application/tlsrpt+json"))
		return OWNER_ROUTE_TYPE_JSON;
	return 0;
}
