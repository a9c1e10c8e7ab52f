/* SPDX-License-Identifier: MIT */
/* SMTP replies (RFC 5321 §4.2) and EHLO keywords (§4.1.1.1): bounded, strict parsers.  Pure. */
#ifndef MXTLS_SMTP_REPLY_H
#define MXTLS_SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest reply line accepted, without CRLF.  RFC 5321 §4.5.3.1.5 allows 512 octets with
 * CRLF; servers exceed it in the wild, so four times that, and no more. */
#define SMTP_LINE_MAX 2048
/* The most lines in one (multi-line) reply; a server sending more is broken or hostile. */
#define SMTP_REPLY_LINES_MAX 128

struct smtp_reply {
	int code;             /* 200-599 */
	char enhanced[16];    /* RFC 3463 status ("2.1.5") when the first line's text starts with
			       * one of the reply's class, else "" */
	size_t nlines;
	char *text;           /* owned: the text of every line (after "NNN-" / "NNN "), joined with
			       * '\n', NUL-terminated */
	size_t text_len;
};

/* Frees what r owns and zeroes it; NULL is a no-op. */
void smtp_reply_clear(struct smtp_reply *r);

enum smtp_parse {
	SMTP_PARSE_DONE = 0,     /* *out holds a complete reply; *used bytes were consumed */
	SMTP_PARSE_MORE = 1,     /* the input ends inside a reply: read more, parse again */
	SMTP_PARSE_INVALID = 2,  /* not a reply: a protocol error (reason set) */
	SMTP_PARSE_NOMEM = 3,
};

/*
 * Parses the first complete reply at the start of (p, len) (borrowed; any bytes).  RFC 5321
 * §4.2: lines "NNN-text" continue, "NNN text" or "NNN" ends; every line carries the same code;
 * the first digit is 2-5, the others 0-9 (§4.2.1 would allow 1xx, which no SMTP client
 * command gets); lines end in CRLF (a bare LF is accepted, a bare CR is not); text is printable
 * US-ASCII, TAB or UTF-8 (RFC 6531), never NUL or another control byte.  Caps: SMTP_LINE_MAX per
 * line, SMTP_REPLY_LINES_MAX lines, both errors rather than truncations.
 * On SMTP_PARSE_DONE *out is filled (release with smtp_reply_clear()) and *used is the number
 * of bytes consumed; otherwise *out is untouched.  On SMTP_PARSE_INVALID, *why (may be NULL)
 * receives a static reason.
 */
enum smtp_parse smtp_reply_parse(const uint8_t *p, size_t len, struct smtp_reply *out,
				 size_t *used, const char **why);

/* What a server said it supports in its EHLO reply (RFC 5321 §4.1.1.1 and the extensions). */
struct smtp_ehlo {
	bool starttls;            /* RFC 3207 */
	bool pipelining;          /* RFC 2920 */
	bool eightbitmime;        /* RFC 6152 */
	bool smtputf8;            /* RFC 6531 */
	bool enhancedstatuscodes; /* RFC 2034 */
	bool size;                /* RFC 1870 */
	bool requiretls;          /* RFC 8689 §3 */
	uint64_t size_max;        /* SIZE's parameter; 0: no limit given */
};

/*
 * Reads the extension keywords from a 250 reply to EHLO (r borrowed).  Keywords are matched
 * case-insensitively, one per line after the first (the greeting); unknown ones are ignored,
 * and so is a malformed SIZE parameter (the limit stays unknown).  Always fills *out; returns
 * false when r is not a 2xx reply.
 */
bool smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_ehlo *out);

#endif
