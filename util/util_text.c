/* SPDX-License-Identifier: MIT */
/* UTF-8 sequence validation (RFC 3629 §4) and cutting text at a word boundary: shared by the
 * parsers and the reasons shown to people. */
#include "util/util_text.h"

#include <string.h>

size_t util_utf8_seq(const uint8_t *p, size_t n)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	size_t len;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	/* The second byte's range excludes overlong forms, surrogates and > U+10FFFF. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	}
	return len;
}

size_t util_text_fit(char *dst, size_t cap, const char *src)
{
	if (cap == 0)
		return 0;
	size_t n = strlen(src);
	if (n < cap) {
		memcpy(dst, src, n + 1);
		return n;
	}
	static const char more[] = " ...";
	if (cap <= sizeof more) {
		dst[0] = '\0';
		return 0;
	}
	/* Room for the text, " ..." and the NUL; back up to the last space so no word or
	 * name is cut in two (a lone word longer than the room is cut where it must be). */
	size_t keep = cap - sizeof more;
	size_t sp = keep;
	while (sp > 0 && src[sp] != ' ')
		sp--;
	if (sp > 0)
		keep = sp;
	while (keep > 0 && src[keep - 1] == ' ')
		keep--;
	memcpy(dst, src, keep);
	memcpy(dst + keep, more, sizeof more);
	return keep + sizeof more - 1;
}
