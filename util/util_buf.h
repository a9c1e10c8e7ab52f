/* SPDX-License-Identifier: MIT */
/* A growable byte buffer with a hard cap: reaching the cap is an error, never a truncation. */
#ifndef MXTLS_UTIL_BUF_H
#define MXTLS_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/*
 * data is always NUL-terminated after len bytes (the NUL is not counted and not part of the
 * cap), so text buffers can be handed to C string functions; binary data may contain NULs.
 */
struct util_buf {
	char *data; /* owned; NULL until the first append */
	size_t len; /* bytes in use */
	size_t alloc; /* bytes allocated (including room for the NUL) */
	size_t max; /* the cap on len */
};

/* An empty buffer that may grow to max bytes.  Allocates nothing. */
void util_buf_init(struct util_buf *b, size_t max);

/* Frees the storage and leaves b empty with the same cap.  util_buf_free(NULL) is a no-op. */
void util_buf_free(struct util_buf *b);

/* Empties b without freeing its storage. */
void util_buf_reset(struct util_buf *b);

/*
 * Appends n bytes of p (borrowed).  All-or-nothing: on MXTLS_E_LIMIT (len + n > max) or
 * MXTLS_E_NOMEM nothing is appended.
 */
int util_buf_append(struct util_buf *b, const void *p, size_t n);

/* Appends a NUL-terminated string (without its NUL); as util_buf_append(). */
int util_buf_append_str(struct util_buf *b, const char *s);

/* Appends one byte; as util_buf_append(). */
int util_buf_append_byte(struct util_buf *b, uint8_t c);

/* Appends printf-style formatted text; all-or-nothing as util_buf_append(). */
int util_buf_appendf(struct util_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int util_buf_vappendf(struct util_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/*
 * Hands the storage to the caller: *out receives the NUL-terminated data (an empty string if
 * nothing was appended) and *len its length; b is left empty.  Caller frees *out with free().
 */
int util_buf_take(struct util_buf *b, char **out, size_t *len);

#endif
