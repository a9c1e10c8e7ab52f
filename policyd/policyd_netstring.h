/* SPDX-License-Identifier: MIT */
/* Netstrings (`<len>:<bytes>,`), the framing of Postfix's socketmap protocol: a pure decoder. */
#ifndef MXTLS_POLICYD_NETSTRING_H
#define MXTLS_POLICYD_NETSTRING_H

#include <stddef.h>

/* The length prefix accepts at most this many digits (enough for any cap below 10^9). */
#define POLICYD_NETSTRING_DIGITS_MAX 9

enum policyd_netstring {
	POLICYD_NETSTRING_DONE = 0,       /* one netstring: *payload, *plen, *used are set */
	POLICYD_NETSTRING_MORE = 1,       /* a valid prefix: read more bytes and call again */
	POLICYD_NETSTRING_BAD_LENGTH = 2, /* not a decimal length followed by ':' (or a leading 0
					   * in a multi-digit length, or too many digits) */
	POLICYD_NETSTRING_TOO_LONG = 3,   /* the announced length exceeds max */
	POLICYD_NETSTRING_NO_COMMA = 4,   /* the payload is not followed by ',' */
};

/*
 * Decodes the netstring at the start of buf (len bytes; untrusted, need not be NUL-terminated).
 * max caps the payload length: a longer announcement fails at once, before its bytes arrive,
 * so a peer cannot make the reader buffer more than max + POLICYD_NETSTRING_DIGITS_MAX + 2
 * bytes.  On DONE, *payload points into buf (borrowed), *plen is its length and *used the
 * number of bytes the netstring took (so the next one starts at buf + *used).  The outputs are
 * untouched for every other result.  The payload may contain any byte, NUL included: the
 * caller decides what it accepts.  Pure.
 */
enum policyd_netstring policyd_netstring_decode(const char *buf, size_t len, size_t max,
						const char **payload, size_t *plen, size_t *used);

/* "done", "more", "bad length", "too long", "missing comma".  Static. */
const char *policyd_netstring_name(enum policyd_netstring r);

/*
 * Writes the netstring of payload (plen bytes) into out (outlen bytes).  Returns the number of
 * bytes written (no NUL is added), or 0 when out is too small.
 */
size_t policyd_netstring_encode(const char *payload, size_t plen, char *out, size_t outlen);

#endif
