/* SPDX-License-Identifier: MIT */
/* RFC 6376 §3.4 simple and relaxed canonicalisation of header fields and bodies, the header walk.
 * Pure. */
#ifndef MXTLS_DKIM_CANON_H
#define MXTLS_DKIM_CANON_H

#include <stdbool.h>
#include <stddef.h>

#include "util/util_buf.h"

/* The most header fields of one message that are walked (more is MXTLS_E_LIMIT). */
#define DKIM_FIELDS_MAX 1000
/* The longest header field (name, colon, value with its folding) that is canonicalised. */
#define DKIM_FIELD_MAX (64 * 1024)

/*
 * Where the body's canonical bytes go: emit() receives n bytes (borrowed for the call) and
 * returns 0, or a negative mxtls_error that stops the canonicaliser and is returned by it.
 */
typedef int (*dkim_canon_emit_fn)(void *arg, const char *p, size_t n);

/*
 * The incremental relaxed body canonicaliser (RFC 6376 §3.4.4).  It holds no bytes of the
 * input, only counters, so the memory it needs is fixed whatever the body's size.  Feeding a
 * body in any number of pieces gives exactly the output of feeding it at once.
 */
struct dkim_body_canon {
	dkim_canon_emit_fn emit;
	void *arg;
	size_t blank_lines; /* line ends seen since the last content byte, not yet emitted */
	bool wsp;           /* WSP seen in this line since its last content byte */
	bool cr;            /* the previous byte was CR, not yet known to end the line */
	bool any;           /* some content byte has been emitted */
	bool simple;        /* "simple" (§3.4.3): WSP is content, an empty body is one CRLF */
};

/* Starts a canonicaliser that hands its output to emit(arg, ...) (both borrowed). */
void dkim_body_canon_init(struct dkim_body_canon *c, dkim_canon_emit_fn emit, void *arg);

/*
 * Starts a "simple" body canonicaliser (RFC 6376 §3.4.3): as dkim_body_canon_init(), but WSP
 * is kept as it is, and dkim_body_canon_final() always ends the body with one CRLF (an empty
 * body becomes CRLF).  A bare LF ends a line as CRLF does, as for relaxed.
 */
void dkim_body_canon_init_simple(struct dkim_body_canon *c, dkim_canon_emit_fn emit, void *arg);

/* Feeds len bytes of body (borrowed, any bytes, no NUL needed).  0 or emit()'s error. */
int dkim_body_canon_update(struct dkim_body_canon *c, const char *p, size_t len);

/* Ends the body: emits its final CRLF, if the canonical body is not empty. 0 or emit()'s error. */
int dkim_body_canon_final(struct dkim_body_canon *c);

/*
 * The whole relaxed canonical body of p[0..len) appended to out (which keeps its cap):
 * MXTLS_OK, or MXTLS_E_LIMIT / MXTLS_E_NOMEM with out holding a prefix (callers discard it).
 */
int dkim_canon_body_relaxed(const char *p, size_t len, struct util_buf *out);

/* The whole simple canonical body (RFC 6376 §3.4.3) of p[0..len), as dkim_canon_body_relaxed(). */
int dkim_canon_body_simple(const char *p, size_t len, struct util_buf *out);

/*
 * One header field p[0..len) (as for dkim_canon_header_relaxed()) in simple form (RFC 6376
 * §3.4.1): unchanged, except that each line end (CRLF or a bare LF) is written CRLF, and CRLF
 * is added when the field has none at its end.  MXTLS_E_SYNTAX / MXTLS_E_LIMIT / MXTLS_E_NOMEM
 * as dkim_canon_header_relaxed(); on error out is unchanged.
 */
int dkim_canon_header_simple(const char *p, size_t len, struct util_buf *out);

/*
 * One header field as it appears in the message (p[0..len): the name, the colon and the value
 * with its folding, with or without the final line end) in relaxed form (RFC 6376 §3.4.2),
 * "name:value" followed by CRLF, appended to out.  MXTLS_E_SYNTAX when there is no colon or
 * the name is empty or holds a byte outside %x21-39 / %x3B-7E (RFC 5322 ftext);
 * MXTLS_E_LIMIT when len > DKIM_FIELD_MAX or out's cap is reached; MXTLS_E_NOMEM.  On error
 * out is unchanged.
 */
int dkim_canon_header_relaxed(const char *p, size_t len, struct util_buf *out);

/* One header field found by dkim_canon_field_next(); offsets into the message. */
struct dkim_field {
	size_t start;    /* the first byte of the name */
	size_t len;      /* up to, not including, the line end that ends the field */
	size_t name_len; /* the name, without WSP before the colon */
};

/*
 * Walks the header of msg[0..len), starting at *pos (0 for the first call).  A line end is
 * CRLF or a bare LF; a line beginning with SP or HTAB continues the field above.  Returns 1
 * with *f set and *pos advanced past the field, or 0 at the end of the header with *pos at the
 * first byte of the body (after the empty line; len when the message has no body), or
 * MXTLS_E_SYNTAX for a line that is not a field (no colon, an empty or bad name, or a
 * continuation line first).  Pure.
 */
int dkim_canon_field_next(const char *msg, size_t len, size_t *pos, struct dkim_field *f);

/* Whether the names a[0..alen) and b[0..blen) are equal ignoring ASCII case. */
bool dkim_canon_name_eq(const char *a, size_t alen, const char *b, size_t blen);

#endif
