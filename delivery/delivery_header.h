/* SPDX-License-Identifier: MIT */
/* RFC 5322 header sections of CRLF messages: field iteration and the sendmail fix-up (missing
 * Date, Message-ID and From added, Bcc removed).  Pure. */
#ifndef MXTLS_DELIVERY_HEADER_H
#define MXTLS_DELIVERY_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util_buf.h"

/* One header field: name and raw (still folded) body, borrowed from the message. */
struct delivery_field {
	const char *name;
	size_t name_len;
	const char *value; /* after the colon, up to (not including) the final CRLF */
	size_t value_len;
	size_t start, end; /* offsets of the whole field, final CRLF included */
};

/*
 * The next field of the header section of msg (len bytes, CRLF line ends as
 * delivery_input_normalize() makes them) from *pos (0 at first).  Returns true with *f set and
 * *pos advanced, or false at the end of the header section, with *pos at the first byte after
 * it: after the empty line that ends it (*blank true), or at the first line that is not a
 * field (*blank false: a message without a separating empty line, or without a header).
 * RFC 5322 §2.2: field-name = 1*(%d33-57 / %d59-126) ":"; §2.2.3: a line starting with WSP
 * continues the field before it.
 */
bool delivery_header_next(const char *msg, size_t len, size_t *pos, struct delivery_field *f,
			  bool *blank);

/* True when the field's name is name (ASCII case-insensitive). */
bool delivery_field_is(const struct delivery_field *f, const char *name);

/* Appends the field body with folding removed (CR and LF dropped: RFC 5322 §2.2.3) to out. */
int delivery_field_unfold(const struct delivery_field *f, struct util_buf *out);

/* What the fix-up adds; a NULL value means "do not add". */
struct delivery_fixup {
	const char *date;       /* Date body, e.g. "Tue, 01 Dec 2026 10:00:00 +0000" */
	const char *message_id; /* Message-ID body, e.g. "<ID@host>" */
	const char *from;       /* From body, e.g. "Jane <jane@host>" */
	bool remove_bcc;
};

/* Which origination fields msg already has (RFC 5322 §3.6: Date and From are required,
 * Message-ID should be present). */
struct delivery_has {
	bool date, message_id, from;
};
void delivery_header_has(const char *msg, size_t len, struct delivery_has *has);

/*
 * Writes msg to out with the fields of fx added at the end of the header section (Date, then
 * From, then Message-ID, each only when non-NULL), every Bcc field removed when fx->remove_bcc,
 * and an empty line before the body when msg had none.  Returns MXTLS_OK or as
 * util_buf_append().
 */
int delivery_header_fixup(const char *msg, size_t len, const struct delivery_fixup *fx,
			  struct util_buf *out);

/* RFC 8689 §5: true when the header section has "TLS-Required: No" (the value compared
 * case-insensitively, white space around it ignored; with several such fields, the last). */
bool delivery_header_tls_required_no(const char *msg, size_t len);

/* RFC 8460 §5.3: true when the header section has a TLS-Report-Domain field (a TLS report,
 * whose delivery is never counted in a report, §3). */
bool delivery_header_is_tls_report(const char *msg, size_t len);

/* RFC 5322 §3.3 date-time for Unix time t in UTC: "Tue, 01 Dec 2026 10:00:00 +0000".
 * out must have room for 40 bytes. */
void delivery_header_date(int64_t t, char out[40]);

/*
 * A From body for the display name name (may be NULL or empty: none) and the address addr:
 * "addr" or "\"name\" <addr>" with '"' and '\\' escaped.  Returns MXTLS_OK, MXTLS_E_INVAL when
 * name holds a control character (CR, LF: a header injection), or as util_buf_append().
 */
int delivery_header_from(const char *name, const char *addr, struct util_buf *out);

#endif
