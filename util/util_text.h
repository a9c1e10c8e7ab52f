/* SPDX-License-Identifier: MIT */
/* Byte classes of protocol text (RFC 5234 core rules) and UTF-8 validation (RFC 3629).  Pure. */
#ifndef MXTLS_UTIL_TEXT_H
#define MXTLS_UTIL_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 5234 ALPHA, DIGIT, WSP; ASCII lower-casing (no locale). */
static inline bool util_is_alpha(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool util_is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static inline bool util_is_wsp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static inline char util_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : (char)c;
}

/*
 * The length of the multi-byte UTF-8 sequence at p (n >= 1 bytes available) when it is one of
 * RFC 3629's UTF8-2 / UTF8-3 / UTF8-4 (no overlong forms, no surrogates, at most U+10FFFF);
 * 0 otherwise, also for an ASCII byte.
 */
size_t util_utf8_seq(const uint8_t *p, size_t n);

/*
 * Copies the NUL-terminated src into dst (cap bytes).  When it does not fit, the text is cut at
 * the last space that leaves room for " ..." (so no word, name or number is cut in two; a single
 * word longer than the room is cut where it must be) and " ..." is appended.  Returns the
 * length written.  Pure.
 */
size_t util_text_fit(char *dst, size_t cap, const char *src);

#endif
