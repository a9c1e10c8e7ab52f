/* SPDX-License-Identifier: MIT */
/* Netstrings (`<len>:<bytes>,`), the framing of Postfix's socketmap protocol: a pure decoder. */
#include "policyd/policyd_netstring.h"

#include <stdio.h>
#include <string.h>

enum policyd_netstring policyd_netstring_decode(const char *buf, size_t len, size_t max,
						const char **payload, size_t *plen, size_t *used)
{
	size_t n = 0, i = 0;
	for (; i < len; i++) {
		char c = buf[i];
		if (c == ':')
			break;
		if (c < '0' || c > '9')
			return POLICYD_NETSTRING_BAD_LENGTH;
		/* djb's definition: no leading zero except for the length 0 itself. */
		if (i == 1 && buf[0] == '0')
			return POLICYD_NETSTRING_BAD_LENGTH;
		if (i == POLICYD_NETSTRING_DIGITS_MAX)
			return POLICYD_NETSTRING_BAD_LENGTH;
		n = n * 10 + (size_t)(c - '0');
		if (n > max)
			return POLICYD_NETSTRING_TOO_LONG;
	}
	if (i == len)
		return POLICYD_NETSTRING_MORE;
	if (i == 0)
		return POLICYD_NETSTRING_BAD_LENGTH; /* ":" with no digits */
	size_t start = i + 1;
	if (len - start < n + 1)
		return POLICYD_NETSTRING_MORE;
	if (buf[start + n] != ',')
		return POLICYD_NETSTRING_NO_COMMA;
	*payload = buf + start;
	*plen = n;
	*used = start + n + 1;
	return POLICYD_NETSTRING_DONE;
}

const char *policyd_netstring_name(enum policyd_netstring r)
{
	switch (r) {
	case POLICYD_NETSTRING_DONE:
		return "done";
	case POLICYD_NETSTRING_MORE:
		return "more";
	case POLICYD_NETSTRING_BAD_LENGTH:
		return "bad length";
	case POLICYD_NETSTRING_TOO_LONG:
		return "too long";
	case POLICYD_NETSTRING_NO_COMMA:
		return "missing comma";
	}
	return "?";
}

size_t policyd_netstring_encode(const char *payload, size_t plen, char *out, size_t outlen)
{
	char head[24];
	int h = snprintf(head, sizeof head, "%zu:", plen);
	if (h < 0 || (size_t)h + plen + 1 > outlen)
		return 0;
	memcpy(out, head, (size_t)h);
	memcpy(out + h, payload, plen);
	out[(size_t)h + plen] = ',';
	return (size_t)h + plen + 1;
}
