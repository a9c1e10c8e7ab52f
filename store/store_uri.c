/* SPDX-License-Identifier: MIT */
/* The shared-store setting's parser: redis://[:PASSWORD@]HOST[:PORT][/DB] or unix:PATH[?db=DB]. */
#include "store/store_uri.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

static int fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "shared-store: %s", why);
	return MXTLS_E_CONFIG;
}

/* A decimal number of s[0..n) in [min, max], digits only (no sign, no space, no leading +). */
static bool number(const char *s, size_t n, unsigned long min, unsigned long max, unsigned *out)
{
	if (n == 0 || n > 5)
		return false;
	unsigned long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < min || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 3986 §2.1 percent-decoding of the userinfo's password; no control characters after. */
static bool decode_password(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return false;
			int hi = hexval(s[i + 1]);
			int lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || o + 1 >= cap)
			return false;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return o > 0;
}

/* RFC 3986 §3.2.2 reg-name as a DNS host name (letters, digits, '-', '.'), or an IPv4 or
 * bracketed IPv6 literal; the brackets are dropped. */
static bool host_ok(const char *s, size_t n, char *out, size_t cap)
{
	if (n == 0 || n >= cap)
		return false;
	if (s[0] == '[') {
		if (n < 3 || s[n - 1] != ']')
			return false;
		for (size_t i = 1; i + 1 < n; i++)
			if (!strchr("0123456789abcdefABCDEF:.", s[i]))
				return false;
		memcpy(out, s + 1, n - 2);
		out[n - 2] = '\0';
		return true;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			return false;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

static int parse_unix(const char *s, struct store_uri *u, char *err, size_t errlen)
{
	const char *q = strchr(s, '?');
	size_t n = q != NULL ? (size_t)(q - s) : strlen(s);
	if (n == 0 || s[0] != '/')
		return fail(err, errlen,
			    "unix: needs an absolute socket path (unix:/run/redis.sock)");
	if (n >= sizeof u->path)
		return fail(err, errlen, "unix: the socket path is longer than 107 bytes");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return fail(err, errlen, "unix: a control character in the socket path");
	memcpy(u->path, s, n);
	u->path[n] = '\0';
	if (q != NULL) {
		if (strncmp(q, "?db=", 4) != 0 || !number(q + 4, strlen(q + 4), 0, 65535, &u->db))
			return fail(err, errlen, "unix: the only parameter is ?db=N (0-65535)");
	}
	return MXTLS_OK;
}

static int parse_redis(const char *s, struct store_uri *u, char *err, size_t errlen)
{
	const char *end = s + strlen(s);
	const char *slash = strchr(s, '/');
	const char *auth_end = NULL;
	/* The userinfo ends at the last '@' before the path (a password may hold '@' only
	 * percent-encoded, but be lenient about the host part's boundary). */
	for (const char *p = s; p < (slash != NULL ? slash : end); p++)
		if (*p == '@')
			auth_end = p;
	const char *h = s;
	if (auth_end != NULL) {
		if (s[0] != ':')
			return fail(err, errlen,
				    "redis://: give the password as redis://:PASSWORD@HOST "
				    "(Redis ACL user names are not supported)");
		if (!decode_password(s + 1, (size_t)(auth_end - s - 1), u->password,
				     sizeof u->password))
			return fail(err, errlen,
				    "redis://: the password is empty, too long, badly "
				    "percent-encoded or holds a control character");
		h = auth_end + 1;
	}
	const char *hend = slash != NULL ? slash : end;
	const char *colon = NULL;
	if (h < hend && h[0] == '[') {
		const char *rb = memchr(h, ']', (size_t)(hend - h));
		if (rb == NULL)
			return fail(err, errlen, "redis://: an IPv6 address needs its closing ']'");
		if (rb + 1 < hend) {
			if (rb[1] != ':')
				return fail(err, errlen, "redis://: text after the IPv6 address");
			colon = rb + 1;
		}
	} else {
		colon = memchr(h, ':', (size_t)(hend - h));
	}
	const char *host_end = colon != NULL ? colon : hend;
	if (!host_ok(h, (size_t)(host_end - h), u->host, sizeof u->host))
		return fail(err, errlen,
			    "redis://: needs a host (a name, an IPv4 address or [IPv6])");
	u->port = 6379;
	if (colon != NULL && !number(colon + 1, (size_t)(hend - colon - 1), 1, 65535, &u->port))
		return fail(err, errlen, "redis://: the port must be 1-65535");
	if (slash != NULL && slash + 1 < end &&
	    !number(slash + 1, (size_t)(end - slash - 1), 0, 65535, &u->db))
		return fail(err, errlen,
			    "redis://: the database after '/' must be a number 0-65535");
	return MXTLS_OK;
}

int store_uri_parse(const char *s, struct store_uri *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (s == NULL || s[0] == '\0')
		return fail(err, errlen, "empty");
	if (strlen(s) > STORE_URI_MAX)
		return fail(err, errlen, "longer than 1024 bytes");
	if (strncmp(s, "redis://", 8) == 0)
		return parse_redis(s + 8, out, err, errlen);
	if (strncmp(s, "unix:", 5) == 0)
		return parse_unix(s + 5, out, err, errlen);
	return fail(err, errlen,
		    "must start with redis:// or unix: (redis://HOST:PORT/DB, "
		    "unix:/PATH)");
}

void store_uri_display(const struct store_uri *u, char *out, size_t cap)
{
	const char *pw = u->password[0] != '\0' ? ":***@" : "";
	if (u->path[0] != '\0')
		snprintf(out, cap, "unix:%s?db=%u%s", u->path, u->db,
			 u->password[0] != '\0' ? " (password set)" : "");
	else if (strchr(u->host, ':') != NULL)
		snprintf(out, cap, "redis://%s[%s]:%u/%u", pw, u->host, u->port, u->db);
	else
		snprintf(out, cap, "redis://%s%s:%u/%u", pw, u->host, u->port, u->db);
}
