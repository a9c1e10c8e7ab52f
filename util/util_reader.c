/* SPDX-License-Identifier: MIT */
/* The bounded reader for untrusted bytes (ARCHITECTURE.md convention 6). */
#include "util/util_reader.h"

#include <mxtls/error.h>

void util_reader_init(struct util_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p == NULL ? 0 : len;
	r->pos = 0;
}

size_t util_reader_remaining(const struct util_reader *r)
{
	return r->len - r->pos;
}

bool util_reader_at_end(const struct util_reader *r)
{
	return r->pos == r->len;
}

int util_reader_bytes(struct util_reader *r, size_t n, const uint8_t **out)
{
	if (n > util_reader_remaining(r))
		return MXTLS_E_TRUNCATED;
	*out = r->p + r->pos;
	r->pos += n;
	return MXTLS_OK;
}

void util_reader_rest(struct util_reader *r, const uint8_t **out, size_t *n)
{
	*out = r->p + r->pos;
	*n = util_reader_remaining(r);
	r->pos = r->len;
}

int util_reader_u8(struct util_reader *r, uint8_t *out)
{
	const uint8_t *b;
	int rc = util_reader_bytes(r, 1, &b);
	if (rc == MXTLS_OK)
		*out = b[0];
	return rc;
}

int util_reader_u16(struct util_reader *r, uint16_t *out)
{
	const uint8_t *b;
	int rc = util_reader_bytes(r, 2, &b);
	if (rc == MXTLS_OK)
		*out = (uint16_t)((unsigned)b[0] << 8 | b[1]);
	return rc;
}

int util_reader_u32(struct util_reader *r, uint32_t *out)
{
	const uint8_t *b;
	int rc = util_reader_bytes(r, 4, &b);
	if (rc == MXTLS_OK)
		*out = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	return rc;
}

int util_reader_line(struct util_reader *r, size_t max, const uint8_t **line, size_t *n,
		     enum util_line_end *end)
{
	size_t avail = util_reader_remaining(r);
	if (avail == 0)
		return MXTLS_E_NOTFOUND;
	const uint8_t *start = r->p + r->pos;
	for (size_t i = 0; i < avail; i++) {
		uint8_t c = start[i];
		if (c == '\n' || c == '\r') {
			size_t term = 1;
			enum util_line_end how = UTIL_LINE_LF;
			if (c == '\r') {
				if (i + 1 >= avail || start[i + 1] != '\n')
					return MXTLS_E_SYNTAX; /* a bare CR */
				term = 2;
				how = UTIL_LINE_CRLF;
			}
			*line = start;
			*n = i;
			*end = how;
			r->pos += i + term;
			return MXTLS_OK;
		}
		if (c == '\0')
			return MXTLS_E_SYNTAX;
		if (i >= max)
			return MXTLS_E_LIMIT;
	}
	*line = start;
	*n = avail;
	*end = UTIL_LINE_EOF;
	r->pos = r->len;
	return MXTLS_OK;
}
