/* SPDX-License-Identifier: MIT */
/* The DATA payload (RFC 5321 §4.5.2, §2.3.8): CRLF line ends and dot-stuffing.  Pure. */
#ifndef MXTLS_SMTP_DATA_H
#define MXTLS_SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>

#include "util/util_buf.h"

/* What the message needs from the server (RFC 6152, RFC 6531, RFC 1870). */
struct smtp_data_info {
	size_t size;        /* bytes of the message as sent, CRLFs included, without the
			     * dot-stuffing and the final "." line (RFC 1870 §4: the SIZE value) */
	size_t longest;     /* longest line without its CRLF */
	bool eightbit;      /* some byte is 0x80 or above: BODY=8BITMIME (or SMTPUTF8) needed */
};

/*
 * Appends the message (msg, len; borrowed; any bytes) to out as the DATA payload: every line
 * ending (CRLF, a bare LF or a bare CR) becomes CRLF, a line starting with "." gets another
 * "." (RFC 5321 §4.5.2), a missing final line end is added, then the ".\r\n" terminator.
 * NUL bytes are refused (RFC 5321 §2.3.8 forbids them in SMTP text), as is an empty message.
 * Returns MXTLS_OK with *info filled, MXTLS_E_SYNTAX (a NUL, or nothing to send),
 * MXTLS_E_LIMIT (out's cap), MXTLS_E_NOMEM; on error out is left as it was.
 */
int smtp_data_encode(const unsigned char *msg, size_t len, struct util_buf *out,
		     struct smtp_data_info *info);

#endif
