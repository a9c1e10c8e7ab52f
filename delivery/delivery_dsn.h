/* SPDX-License-Identifier: MIT */
/* RFC 3464 delivery status notifications (bounces and delay warnings) as RFC 5322 bytes.  Pure:
 * no I/O, no clock; every time is passed in. */
#ifndef MXTLS_DELIVERY_DSN_H
#define MXTLS_DELIVERY_DSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mxtls/result.h>

/* Caps on the inputs that become one header field token (host names, addresses, ids, status
 * codes): RFC 5321 §4.5.3.1 limits a path to 256 octets, so twice that is never a real value.
 * Over the cap: MXTLS_E_INVAL. */
#define DELIVERY_DSN_TOKEN_MAX 512
/* The cap on a whole notification (the original header section dominates): MXTLS_E_LIMIT. */
#define DELIVERY_DSN_MAX ((size_t)4 * 1024 * 1024)
/* Folded header lines and wrapped text lines aim at this width (RFC 5322 §2.1.1 SHOULD 78);
 * no line of the output is ever longer than 998 octets (the MUST). */
#define DELIVERY_DSN_WIDTH 78

/* RFC 3464 §2.3.3 action-value, for the recipients this builder reports. */
enum delivery_dsn_action {
	DELIVERY_DSN_FAILED = 0,
	DELIVERY_DSN_DELAYED = 1,
};

/* One recipient; every pointer is borrowed. */
struct delivery_dsn_rcpt {
	const char *addr;      /* Final-Recipient (the address mxtls delivered to); required */
	const char *orig_rcpt; /* Original-Recipient (RFC 3461 ORCPT), NULL or "": not known */
	enum delivery_dsn_action action;
	const char *status;     /* RFC 3463 status code, e.g. "5.1.1", "4.7.5" */
	const char *remote_mta; /* the last host tried, NULL or "": none reached */
	const char *reply; /* the last SMTP reply (untrusted bytes, may be multi-line), or NULL */
	size_t reply_len;
	int64_t last_attempt;     /* Unix time; 0: no attempt (field omitted) */
	int64_t will_retry_until; /* Unix time, delayed recipients only; 0: field omitted */
	enum mxtls_result
		tls_result; /* RFC 8460 result type of a TLS failure; MXTLS_RESULT_OK: none */
};

/* One notification; every pointer is borrowed. */
struct delivery_dsn {
	const char *reporting_mta; /* this host's name: Reporting-MTA, From, Message-ID; required */
	const char *queue_id;      /* the message's queue id; required (Message-ID, boundary) */
	const char *envid;         /* RFC 3461 ENVID, NULL or "": not given */
	const char *sender;  /* the original envelope sender; "" (null reverse-path): refused */
	int64_t arrival;     /* Unix time the message was queued: Arrival-Date */
	int64_t now;         /* Unix time of this notification: Date, Message-ID */
	bool delay;          /* false: a failure ("returned to sender"); true: a delay warning */
	const char *headers; /* the original message's header section (opaque bytes), or NULL */
	size_t headers_len;
	const struct delivery_dsn_rcpt *rcpts;
	size_t nrcpts; /* at least 1 */
};

/*
 * Builds the notification: an RFC 5322 message with CRLF line ends, multipart/report
 * (RFC 6522) of report-type delivery-status with three parts: text/plain for people,
 * message/delivery-status (RFC 3464), text/rfc822-headers with the original header section.
 * On MXTLS_OK *out (caller frees with free(); NUL-terminated) and *out_len are set.  Otherwise
 * nothing is set and *why (a static string, may be NULL) says why: MXTLS_E_INVAL for the null
 * sender (no DSN to a null reverse-path, RFC 5321 §4.5.5 / RFC 3464 §2) and for an input that
 * is missing, over DELIVERY_DSN_TOKEN_MAX or holds a byte a header field cannot carry;
 * MXTLS_E_LIMIT over DELIVERY_DSN_MAX; MXTLS_E_NOMEM.
 */
int delivery_dsn_build(const struct delivery_dsn *in, char **out, size_t *out_len,
		       const char **why);

/* A sentence for a postmaster on what the RFC 8460 result type means for this message; NULL
 * for MXTLS_RESULT_OK and unknown values.  Static string. */
const char *delivery_dsn_tls_words(enum mxtls_result result);

#endif
