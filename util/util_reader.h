/* SPDX-License-Identifier: MIT */
/* The bounded reader: every byte of untrusted input (DNS rdata, HTTP bodies, SMTP replies,
 * netstrings, configuration) is consumed through it, so no parser can read past its input. */
#ifndef MXTLS_UTIL_READER_H
#define MXTLS_UTIL_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A cursor over borrowed bytes.  Every read is all-or-nothing: a failing read returns an
 * error and leaves the position where it was.
 */
struct util_reader {
	const uint8_t *p; /* borrowed */
	size_t len;
	size_t pos;
};

/* A reader over len bytes at p (borrowed; must outlive the reader). */
void util_reader_init(struct util_reader *r, const void *p, size_t len);

/* Bytes not yet consumed. */
size_t util_reader_remaining(const struct util_reader *r);

/* True when everything has been consumed. */
bool util_reader_at_end(const struct util_reader *r);

/* Network byte order integers.  MXTLS_E_TRUNCATED when fewer bytes remain. */
int util_reader_u8(struct util_reader *r, uint8_t *out);
int util_reader_u16(struct util_reader *r, uint16_t *out);
int util_reader_u32(struct util_reader *r, uint32_t *out);

/* Consumes n bytes; *out points into the input (borrowed).  MXTLS_E_TRUNCATED if short. */
int util_reader_bytes(struct util_reader *r, size_t n, const uint8_t **out);

/* Consumes and returns everything that remains (possibly 0 bytes). */
void util_reader_rest(struct util_reader *r, const uint8_t **out, size_t *n);

/* How a text line ended. */
enum util_line_end {
	UTIL_LINE_LF = 1,   /* "\n" */
	UTIL_LINE_CRLF = 2, /* "\r\n" */
	UTIL_LINE_EOF = 3,  /* the input ended without a terminator (last line only) */
};

/*
 * Reads one text line: *line points at its first byte (borrowed), *n is its length without the
 * terminator, *end says how it ended.  Errors, with the position unchanged:
 *   MXTLS_E_NOTFOUND  nothing left to read;
 *   MXTLS_E_SYNTAX    a NUL byte, or a CR not followed by LF, inside the line;
 *   MXTLS_E_LIMIT     the line (without terminator) is longer than max bytes.
 */
int util_reader_line(struct util_reader *r, size_t max, const uint8_t **line, size_t *n,
		     enum util_line_end *end);

#endif
