/* SPDX-License-Identifier: MIT */
/* RFC 8460 §5.3: the TLS report inside a received mail message (multipart/report).  Pure. */
#ifndef MXTLS_TLSRPT_MIME_H
#define MXTLS_TLSRPT_MIME_H

#include <stddef.h>
#include <stdint.h>

/* Caps.  A message over a cap is refused as a whole (MXTLS_E_LIMIT), never truncated. */
/* The whole message, in bytes. */
#define TLSRPT_MIME_MESSAGE_MAX (32u * 1024 * 1024)
/* Header fields in one header section (the message's or a part's). */
#define TLSRPT_MIME_FIELDS_MAX 500
/* One header field as sent (folded, without its last line break), name included. */
#define TLSRPT_MIME_FIELD_MAX 16384
/* Body parts, both levels counted. */
#define TLSRPT_MIME_PARTS_MAX 64
/* The decoded report: the reader's cap on inflated JSON (TLSRPT_READ_JSON_MAX). */
#define TLSRPT_MIME_DECODED_MAX (16u * 1024 * 1024)
/* RFC 2046 §5.1.1: a boundary has 1 to 70 characters. */
#define TLSRPT_MIME_BOUNDARY_MAX 70

enum tlsrpt_mime_kind {
	TLSRPT_MIME_GZIP = 1, /* application/tlsrpt+gzip (RFC 8460 §6.5) */
	TLSRPT_MIME_JSON = 2, /* application/tlsrpt+json (RFC 8460 §6.4) */
};

/*
 * What a message holds.  Every pointer is owned (free with tlsrpt_mime_clear()).  The header
 * values are unfolded (RFC 5322 §2.2.3) with leading and trailing white space removed, bytes as
 * sent otherwise (8-bit and controls other than CR, LF and NUL may remain: escape them before
 * logging); NULL when the field is absent.  Nothing here is checked beyond that: the
 * TLS-Report-* values are the sender's claims, to be compared with the DKIM signature and the
 * report by the caller.
 */
struct tlsrpt_mime {
	enum tlsrpt_mime_kind kind;
	uint8_t *report;        /* the decoded report part, NUL appended (not counted) */
	size_t report_len;      /* 1 to TLSRPT_MIME_DECODED_MAX */
	char *report_domain;    /* TLS-Report-Domain (RFC 8460 §5.3) */
	char *report_submitter; /* TLS-Report-Submitter (RFC 8460 §5.3) */
	char *from;             /* From, for logs */
	char *subject;          /* Subject, for logs */
	char *message_id;       /* Message-ID, for logs */
};

/*
 * Extracts the TLS report from one message (msg, len: untrusted bytes, borrowed, need not be
 * NUL-terminated; lines end in CRLF or LF alone).
 *
 * The top-level Content-Type must be multipart/report (RFC 6522) with report-type=tlsrpt (the
 * value quoted or not, any case: RFC 8460 §5.3) and a boundary of 1-70 characters (RFC 2046
 * §5.1.1; RFC 2231 continuations are not read).  The body is split at the delimiter lines
 * ("--" boundary, then white space only); the preamble and the epilogue are ignored; the close
 * delimiter is required (a message without it is taken as cut short).  A line that begins with
 * "--" boundary but is neither delimiter is an error.  A part that is itself a multipart is
 * read one level deep; a multipart inside that is an error (never skipped: a second report
 * must not hide there).  Exactly one part, at either level, must be application/tlsrpt+gzip or
 * application/tlsrpt+json (any case); its Content-Transfer-Encoding may be base64 (CR, LF, SP
 * and TAB ignored; any other character, misplaced or missing "=" padding and non-zero pad bits
 * refused), 7bit (no NUL or 8-bit byte), 8bit (no NUL) or binary; absent is 7bit;
 * quoted-printable and others are refused.  The line break before a delimiter belongs to the
 * delimiter, so a 7bit report ends without the line break that stood before it.  The header
 * fields the result holds may appear at most once, as may Content-Type in every header section
 * and Content-Transfer-Encoding in a part's.  Tolerated: an mbox "From " line before the header
 * (as .eml files may have), white space before a field's ":", an empty parameter (a trailing
 * ";"), comments in the structured fields.
 *
 * On success *out is set (release with tlsrpt_mime_clear()).  Returns MXTLS_OK, MXTLS_E_SYNTAX
 * (malformed; why in err, one line), MXTLS_E_LIMIT (over a cap; which in err), MXTLS_E_NOMEM,
 * MXTLS_E_INVAL (out NULL, or msg NULL with len > 0).  On failure *out is empty (zeroed, nothing
 * to free).  err (errlen bytes, may be NULL) is "" on success.
 */
int tlsrpt_mime_parse(const char *msg, size_t len, struct tlsrpt_mime *out, char *err,
		      size_t errlen);

/* Frees what *m holds and zeroes it; m NULL is a no-op. */
void tlsrpt_mime_clear(struct tlsrpt_mime *m);

#endif
