/* SPDX-License-Identifier: MIT */
/* The outbox of TLS reports (RFC 8460 §5): each day's report per policy domain, built once and
 * kept as sent, with where its delivery stands and when to retry (§5.5). */
#ifndef MXTLS_TLSRPT_OUTBOX_H
#define MXTLS_TLSRPT_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "tlsrpt/tlsrpt_store.h"

/* RFC 8460 §5.5: failed deliveries are retried "up to 24 hours" after the first attempt. */
#define TLSRPT_RETRY_WINDOW 86400
/* The first retry after this many seconds, doubling up to TLSRPT_RETRY_MAX. */
#define TLSRPT_RETRY_FIRST 300
#define TLSRPT_RETRY_MAX 14400

enum tlsrpt_outbox_state {
	TLSRPT_OUTBOX_PENDING = 0,        /* to be tried (again) at next_try */
	TLSRPT_OUTBOX_DELIVERED = 1,      /* a destination accepted it (delivered_to) */
	TLSRPT_OUTBOX_NO_DESTINATION = 2, /* no usable _smtp._tls record (§3): nowhere to send */
	TLSRPT_OUTBOX_GAVE_UP = 3,        /* failed for TLSRPT_RETRY_WINDOW */
};

/* "pending", "delivered", "no-destination", "gave-up" (the stored names); NULL otherwise. */
const char *tlsrpt_outbox_state_name(enum tlsrpt_outbox_state s);

struct tlsrpt_outbox_row {
	int64_t day;
	char *domain, *report_id, *filename; /* owned */
	uint8_t *report;                     /* owned: the gzipped JSON */
	size_t report_len;
	enum tlsrpt_outbox_state state;
	int64_t first_try, next_try, attempts;
	char *last_error, *delivered_to; /* owned, "" when none */
};

/* Frees what r owns and zeroes it; NULL is a no-op. */
void tlsrpt_outbox_row_clear(struct tlsrpt_outbox_row *r);

/* Reads the row of (day, domain) into *out.  MXTLS_OK, MXTLS_E_NOTFOUND, MXTLS_E_IO,
 * MXTLS_E_NOMEM. */
int tlsrpt_outbox_get(struct tlsrpt_store *s, int64_t day, const char *domain,
		      struct tlsrpt_outbox_row *out, char *err, size_t errlen);

/* Adds r (state, times and text as given) unless (day, domain) already has a row, which is
 * then left as it is: the first report built for a day is the one sent.  MXTLS_OK (added or
 * already there), MXTLS_E_IO. */
int tlsrpt_outbox_add(struct tlsrpt_store *s, const struct tlsrpt_outbox_row *r, char *err,
		      size_t errlen);

/* Stores the outcome of an attempt: state, next_try, attempts, last_error, delivered_to (NULL
 * text: ""), in one transaction.  MXTLS_OK, MXTLS_E_NOTFOUND (no such row), MXTLS_E_IO. */
int tlsrpt_outbox_update(struct tlsrpt_store *s, const struct tlsrpt_outbox_row *r, char *err,
			 size_t errlen);

/*
 * RFC 8460 §5.5 ("exponential backoff", "up to 24 hours"): after the attempts-th failed attempt
 * at now of a report first tried at first_try, the time of the next attempt: now +
 * TLSRPT_RETRY_FIRST * 2^(attempts - 1), at most TLSRPT_RETRY_MAX later, and never after
 * first_try + TLSRPT_RETRY_WINDOW (the last attempt falls on the window's end).  -1 when the
 * window is over (now >= first_try + TLSRPT_RETRY_WINDOW): give up.  Pure.
 */
int64_t tlsrpt_outbox_next_try(int64_t first_try, int64_t now, int64_t attempts);

#endif
