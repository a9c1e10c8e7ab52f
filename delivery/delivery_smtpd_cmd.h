/* SPDX-License-Identifier: MIT */
/* One SMTP command line of the submission listener (RFC 5321 §4.1.1, §4.1.2): parsed, pure. */
#ifndef MXTLS_DELIVERY_SMTPD_CMD_H
#define MXTLS_DELIVERY_SMTPD_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 5321 §4.5.3.1.4: a command line is at most 512 octets including the CRLF. */
#define DELIVERY_SMTPD_LINE_MAX 512
/* RFC 5321 §4.5.3.1.3: a path is at most 256 octets including the angle brackets. */
#define DELIVERY_SMTPD_PATH_MAX 256
/* The longest EHLO/HELO argument kept (RFC 5321 §4.5.3.1.2: a domain is at most 255). */
#define DELIVERY_SMTPD_HELO_MAX 255

enum delivery_smtpd_verb {
	DELIVERY_SMTPD_UNKNOWN = 0,
	DELIVERY_SMTPD_EHLO,
	DELIVERY_SMTPD_HELO,
	DELIVERY_SMTPD_MAIL,
	DELIVERY_SMTPD_RCPT,
	DELIVERY_SMTPD_DATA,
	DELIVERY_SMTPD_RSET,
	DELIVERY_SMTPD_NOOP,
	DELIVERY_SMTPD_QUIT,
	DELIVERY_SMTPD_VRFY,
	DELIVERY_SMTPD_HELP,
	DELIVERY_SMTPD_STARTTLS, /* recognised so that the reply says "not offered" */
};

/* RFC 6152 BODY= of MAIL FROM. */
enum delivery_smtpd_body {
	DELIVERY_SMTPD_BODY_NONE = 0, /* not given */
	DELIVERY_SMTPD_BODY_7BIT,
	DELIVERY_SMTPD_BODY_8BITMIME,
};

/* A parsed command.  Everything is copied out of the line (nothing borrowed). */
struct delivery_smtpd_cmd {
	enum delivery_smtpd_verb verb;
	/* EHLO/HELO: the client's name, NUL-terminated. */
	char helo[DELIVERY_SMTPD_HELO_MAX + 1];
	/* MAIL/RCPT: the mailbox without the angle brackets and without a source route,
	 * NUL-terminated; "" for the null reverse-path "<>" (MAIL only). */
	char path[DELIVERY_SMTPD_PATH_MAX];
	size_t path_len;
	/* MAIL parameters (RFC 1870 SIZE, RFC 6152 BODY, RFC 6531 SMTPUTF8, RFC 8689 §4
	 * REQUIRETLS).  size is UINT64_MAX when the digits overflow. */
	bool has_size;
	uint64_t size;
	enum delivery_smtpd_body body;
	bool smtputf8;
	bool requiretls;
};

/*
 * Parses one command line (line, len: without its CRLF; any bytes).  esmtp: the client said
 * EHLO (ESMTP parameters are allowed only then); smtputf8: the transaction's MAIL FROM carried
 * SMTPUTF8 (for RCPT: whether a UTF-8 mailbox is allowed; MAIL decides from its own line).
 * On success fills *out and returns NULL; on failure returns the complete reply for the client
 * (a static string without CRLF, e.g. "501 5.5.4 Syntax: MAIL FROM:<address>") and *out's
 * verb says which command it was (DELIVERY_SMTPD_UNKNOWN when even that is unknown).
 * Checks done here: the grammar, the line and path caps, ESMTP parameters (unknown,
 * duplicate or malformed: 555 5.5.4), mailbox syntax (RFC 5321 §4.1.2, with RFC 6531 §3.3's
 * UTF-8 only under SMTPUTF8, else 553 5.6.7).  The session checks the order of commands and
 * the caps on recipients and size.
 */
const char *delivery_smtpd_cmd_parse(const char *line, size_t len, bool esmtp, bool smtputf8,
				     struct delivery_smtpd_cmd *out);

#endif
