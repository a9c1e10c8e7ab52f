/* SPDX-License-Identifier: MIT */
/* Queuing bounces and delay warnings (delivery_bounce.h). */
#include "delivery/delivery_bounce.h"

#include <stdio.h>
#include <stdlib.h>

#include <mxtls/error.h>

#include "delivery/delivery_header.h"
#include "delivery/delivery_queue.h"

/* The length of body's header section (up to and including the empty line that ends it). */
static size_t header_len(const char *body, size_t len)
{
	size_t pos = 0;
	bool blank;
	struct delivery_field f;
	while (delivery_header_next(body, len, &pos, &f, &blank))
		;
	return pos;
}

int delivery_bounce_queue(struct mxtls_queue *q, const char *reporting_mta,
			  const struct delivery_bounce_msg *m, const struct delivery_dsn_rcpt *rcpts,
			  size_t n, bool delay, int64_t now, char id[MXTLS_QUEUE_ID_SIZE], char *err,
			  size_t errlen)
{
	id[0] = '\0';
	/* RFC 3464 §2 and RFC 5321 §4.5.5: nothing goes back to the null reverse-path. */
	if (m->sender == NULL || m->sender[0] == '\0')
		return MXTLS_OK;
	struct delivery_dsn dsn = {
		.reporting_mta = reporting_mta,
		.queue_id = m->id,
		.sender = m->sender,
		.arrival = m->queued_at,
		.now = now,
		.delay = delay,
		.headers = m->body,
		.headers_len = m->body != NULL ? header_len(m->body, m->body_len) : 0,
		.rcpts = rcpts,
		.nrcpts = n,
	};
	char *out = NULL;
	size_t out_len = 0;
	const char *why = NULL;
	int rc = delivery_dsn_build(&dsn, &out, &out_len, &why);
	if (rc != MXTLS_OK) {
		snprintf(err, errlen, "cannot build the notification: %s",
			 why != NULL ? why : mxtls_strerror(rc));
		return rc;
	}
	const char *to[1] = {m->sender};
	/* A bounce may use the space kept free by submissions: it must not be lost to a disk
	 * that submissions have filled. */
	struct delivery_envelope env = {.sender = "", .rcpts = to, .n = 1, .use_reserve = true};
	rc = delivery_queue_enqueue(q, &env, out, out_len, id, err, errlen);
	free(out);
	return rc;
}
