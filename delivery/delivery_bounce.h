/* SPDX-License-Identifier: MIT */
/* The daemon's notifications to a message's sender: a bounce (RFC 3464 "failed") or a delay
 * warning ("delayed"), built by delivery_dsn.c and queued like any message. */
#ifndef MXTLS_DELIVERY_BOUNCE_H
#define MXTLS_DELIVERY_BOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mxtls/queue.h>

#include "delivery/delivery_dsn.h"

/* The message a notification is about (all borrowed). */
struct delivery_bounce_msg {
	const char *id, *sender; /* queue id; envelope sender ("" : none) */
	int64_t queued_at;
	const char *body; /* the queued message (its header section is quoted); may be NULL */
	size_t body_len;
};

/*
 * Queues a notification to m->sender about rcpts (all failed, or all delayed when delay),
 * from reporting_mta at now, in a message of its own with the null reverse-path (RFC 5321
 * §4.5.5: so that it never causes another).  No notification is made for the null sender:
 * MXTLS_OK with *id empty.  On MXTLS_OK with a notification, id holds its queue id.  Errors as
 * delivery_dsn_build() and delivery_queue_enqueue(), the reason in err.
 */
int delivery_bounce_queue(struct mxtls_queue *q, const char *reporting_mta,
			  const struct delivery_bounce_msg *m, const struct delivery_dsn_rcpt *rcpts,
			  size_t n, bool delay, int64_t now, char id[MXTLS_QUEUE_ID_SIZE], char *err,
			  size_t errlen);

#endif
