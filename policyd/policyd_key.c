/* SPDX-License-Identifier: MIT */
/* Socketmap requests (`<name> <key>`) and the keys Postfix looks up in smtp_tls_policy_maps. */
#include "policyd/policyd_key.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

const char *policyd_key_kind_name(enum policyd_key_kind k)
{
	switch (k) {
	case POLICYD_KEY_DOMAIN:
		return "domain";
	case POLICYD_KEY_PARENT:
		return "parent";
	case POLICYD_KEY_IP_LITERAL:
		return "ip-literal";
	case POLICYD_KEY_OTHER_PORT:
		return "other-port";
	case POLICYD_KEY_INVALID:
		return "invalid";
	}
	return "?";
}

static bool is_address(const char *s, size_t len)
{
	char buf[64];
	unsigned char bin[16];
	if (len >= sizeof buf)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (len > 5 && strncmp(buf, "ipv6:", 5) == 0)
		return inet_pton(AF_INET6, buf + 5, bin) == 1;
	return inet_pton(AF_INET, buf, bin) == 1 || inet_pton(AF_INET6, buf, bin) == 1;
}

/* Letters, digits, '-' and '_' (service labels), labels of 1 to 63 bytes, 253 in all. */
static bool is_domain(const char *s, size_t len)
{
	if (len == 0 || len > 253)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

/* The port after "host:", digits only, 1-65535; -1 otherwise. */
static long parse_port(const char *s, size_t len)
{
	if (len == 0 || len > 5)
		return -1;
	long v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 1 && v <= 65535 ? v : -1;
}

static void invalid(struct policyd_request *out, const char *why)
{
	out->kind = POLICYD_KEY_INVALID;
	out->why = why;
}

int policyd_request_parse(const char *payload, size_t len, struct policyd_request *out)
{
	memset(out, 0, sizeof *out);
	const char *sp = memchr(payload, ' ', len);
	if (sp == NULL) {
		out->why = "request is not '<name> <key>'";
		return -1;
	}
	size_t nlen = (size_t)(sp - payload);
	if (nlen == 0 || nlen > POLICYD_MAP_NAME_MAX) {
		out->why = nlen == 0 ? "empty map name" : "map name too long";
		return -1;
	}
	for (size_t i = 0; i < nlen; i++) {
		unsigned char c = (unsigned char)payload[i];
		if (c <= ' ' || c >= 0x7f) {
			out->why = "map name with control or non-ASCII bytes";
			return -1;
		}
	}
	memcpy(out->map, payload, nlen);
	out->map[nlen] = '\0';

	const char *k = sp + 1;
	size_t klen = len - nlen - 1;
	char key[300];
	if (klen == 0) {
		invalid(out, "empty key");
		return 0;
	}
	if (klen >= sizeof key) {
		invalid(out, "key too long");
		return 0;
	}
	for (size_t i = 0; i < klen; i++) {
		char c = k[i];
		if ((unsigned char)c <= ' ' || (unsigned char)c >= 0x7f) {
			invalid(out, "key with white space, control or non-ASCII bytes");
			return 0;
		}
		key[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	key[klen] = '\0';

	const char *host = key;
	size_t hlen = klen;
	const char *port = NULL;
	size_t portlen = 0;
	bool bracketed = key[0] == '[';
	if (bracketed) {
		const char *close = memchr(key, ']', klen);
		if (close == NULL) {
			invalid(out, "'[' without ']'");
			return 0;
		}
		host = key + 1;
		hlen = (size_t)(close - host);
		size_t rest = klen - (size_t)(close - key) - 1;
		if (rest > 0) {
			if (close[1] != ':') {
				invalid(out, "bytes after ']' that are not ':port'");
				return 0;
			}
			port = close + 2;
			portlen = rest - 1;
		}
		if (is_address(host, hlen)) {
			out->kind = POLICYD_KEY_IP_LITERAL;
			return 0;
		}
	} else {
		if (is_address(key, klen)) {
			out->kind = POLICYD_KEY_IP_LITERAL;
			return 0;
		}
		const char *colon = memchr(key, ':', klen);
		if (colon != NULL) {
			hlen = (size_t)(colon - key);
			port = colon + 1;
			portlen = klen - hlen - 1;
		}
	}
	if (port != NULL) {
		long p = parse_port(port, portlen);
		if (p < 0) {
			invalid(out, "bad port");
			return 0;
		}
		if (p != 25) {
			out->kind = POLICYD_KEY_OTHER_PORT;
			return 0;
		}
	}
	if (!bracketed && hlen > 0 && host[0] == '.') {
		out->kind = POLICYD_KEY_PARENT;
		return 0;
	}
	if (hlen > 1 && host[hlen - 1] == '.')
		hlen--; /* the root dot: "example.com." is "example.com" */
	if (!is_domain(host, hlen)) {
		invalid(out, "not a domain name");
		return 0;
	}
	memcpy(out->domain, host, hlen);
	out->domain[hlen] = '\0';
	out->kind = POLICYD_KEY_DOMAIN;
	/* Postfix's "[host]" means "this host, no MX lookup" (RFC 7672 §2.2.2). */
	out->no_mx = bracketed;
	return 0;
}
