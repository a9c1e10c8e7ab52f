/* SPDX-License-Identifier: MIT */
/* The submission listener's SMTP server session: a pure state machine (bytes in, replies out). */
#ifndef MXTLS_DELIVERY_SMTPD_SESSION_H
#define MXTLS_DELIVERY_SMTPD_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "util/util_buf.h"

/*
 * The session takes the client's bytes as they arrive (any split, pipelined commands, DATA
 * content) and appends the replies to a buffer, in command order.  It does no I/O, keeps no
 * clock and logs nothing: the listener (delivery_listener.c) moves the bytes, keeps the idle
 * timer and queues the messages.  Decisions made here (doc/rfc-compliance.md):
 *
 * - Command lines end with CRLF and are at most 512 octets with it (RFC 5321 §4.5.3.1.4);
 *   a longer one gets "500 5.5.2 Line too long" and the session closes (fail closed: nothing
 *   after it can be trusted to be a command).
 * - DATA content must use CRLF line ends.  A bare LF or CR (RFC 5321 §2.3.8: not a line end)
 *   gets "554 5.5.2" at once and the session closes, as Postfix's smtpd_forbid_bare_newline
 *   does: converting them would let "\n.\r\n" end the message early here and not at the next
 *   hop, or the other way round (SMTP smuggling).  Nothing of such a message is queued.
 * - End of data is CRLF "." CRLF only; a leading dot of any other line is removed (RFC 5321
 *   §4.5.2).  The stored message has exactly the client's CRLF lines, unstuffed.
 * - A message over max_message is refused with 552 5.3.4 after its end of data (never
 *   truncated, never queued); the content after the cap is read and dropped.  A NUL byte in
 *   the content: 554 5.6.0 (the queue and the next hop take text).
 * - After 20 error replies the session says 421 4.7.0 and closes (a confused or hostile client).
 * - REQUIRETLS (RFC 8689 §4) is not advertised (RFC 8689 offers it on TLS sessions only and
 *   this listener is plaintext for local programs) but the MAIL parameter is accepted and
 *   recorded: the local program's wish is kept for the delivery.
 */

/* What the caller does after delivery_smtpd_session_input(). */
enum delivery_smtpd_action {
	DELIVERY_SMTPD_MORE = 0, /* write the replies; feed more bytes when they come */
	DELIVERY_SMTPD_ENQUEUE,  /* a message is complete: queue it (the accessors below), call
				  * delivery_smtpd_session_queued(), then feed the rest */
	DELIVERY_SMTPD_CLOSE,    /* write the replies, then close the connection */
};

/* The number of error replies after which the session closes. */
#define DELIVERY_SMTPD_ERRORS_MAX 20

struct delivery_smtpd_session;

/*
 * A new session.  hostname (copied; at most 255 octets) names this server in the greeting and
 * the EHLO reply; max_message caps the stored message in octets; max_rcpt caps the recipients
 * of one transaction.  NULL when out of memory or hostname is unusable.  Caller frees with
 * delivery_smtpd_session_free().
 */
struct delivery_smtpd_session *delivery_smtpd_session_new(const char *hostname, size_t max_message,
							  size_t max_rcpt);
/* Frees s; NULL is a no-op. */
void delivery_smtpd_session_free(struct delivery_smtpd_session *s);

/* Appends the 220 greeting to out.  Returns MXTLS_OK or util_buf_append()'s error. */
int delivery_smtpd_session_greeting(struct delivery_smtpd_session *s, struct util_buf *out);

/*
 * Feeds the client's bytes (data, len; borrowed, any bytes).  Handles every complete command
 * (and DATA content) in them, appending each reply to out, and stops early at a complete
 * message (ENQUEUE) or at the end of the session (CLOSE).  *used is how many bytes were taken;
 * the caller keeps the rest and feeds it again with whatever comes next (a partial line is
 * left untaken until its CRLF comes, at most DELIVERY_SMTPD_LINE_MAX octets of it).  When out
 * cannot take a reply (its cap, no memory) the session ends: CLOSE.
 */
enum delivery_smtpd_action delivery_smtpd_session_input(struct delivery_smtpd_session *s,
							const char *data, size_t len, size_t *used,
							struct util_buf *out);

/* The complete message after ENQUEUE (borrowed until delivery_smtpd_session_queued()):
 * the reverse-path ("" for the null sender), the recipients, REQUIRETLS, the content
 * (CRLF line ends, unstuffed). */
const char *delivery_smtpd_session_sender(const struct delivery_smtpd_session *s);
const char *const *delivery_smtpd_session_rcpts(const struct delivery_smtpd_session *s, size_t *n);
bool delivery_smtpd_session_requiretls(const struct delivery_smtpd_session *s);
const char *delivery_smtpd_session_message(const struct delivery_smtpd_session *s, size_t *len);

/*
 * The outcome of queueing the message of ENQUEUE: rc from delivery_queue_enqueue() and, on
 * MXTLS_OK, its id.  Appends the final reply to DATA (250 2.0.0 queued as ID; MXTLS_E_IO:
 * 452 4.3.1; MXTLS_E_LIMIT: 552 5.3.4; else 451 4.3.0) and starts a new transaction.  The
 * caller calls it only once the message is durable (or has failed), so the 250 means durable.
 */
void delivery_smtpd_session_queued(struct delivery_smtpd_session *s, int rc, const char *id,
				   struct util_buf *out);

#endif
