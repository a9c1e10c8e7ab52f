/* SPDX-License-Identifier: MIT */
/* Internal layout of struct mxtls_queue, shared by delivery/'s files (and its unit tests). */
#ifndef MXTLS_DELIVERY_QUEUE_H
#define MXTLS_DELIVERY_QUEUE_H

#include <stdbool.h>

#include <mxtls/queue.h>

#include "delivery/delivery_drop.h"
#include "delivery/delivery_index.h"
#include "delivery/delivery_spool.h"

/* Points of a submission where a test may inject a failure (delivery_queue_fault()). */
#define DELIVERY_FAULT_TEMP_WRITTEN "temp-written" /* body synced, not yet renamed */
#define DELIVERY_FAULT_BODY_DURABLE "body-durable" /* body renamed and synced, no index row */

enum delivery_fault {
	DELIVERY_FAULT_NONE = 0,  /* go on */
	DELIVERY_FAULT_FAIL = 1,  /* fail there as an I/O error would (clean-up runs) */
	DELIVERY_FAULT_CRASH = 2, /* stop there as a killed process would (no clean-up) */
};

struct mxtls_queue {
	struct mxtls_ctx *ctx; /* borrowed */
	struct delivery_spool spool;
	struct delivery_index *index;
	struct delivery_drop_dirs drop; /* maildrop/, pickup/, corrupt/ */
	/* Tests only: called at each fault point; NULL in production. */
	enum delivery_fault (*fault)(void *arg, const char *point);
	void *fault_arg;
};

/* The fault hook's answer at point (DELIVERY_FAULT_NONE without a hook). */
enum delivery_fault delivery_queue_fault(struct mxtls_queue *q, const char *point);

/* Tells a running daemon that there is new or newly due mail (delivery_wake.h). */
void delivery_queue_wake(struct mxtls_queue *q);

/* An envelope for delivery_queue_enqueue() (all borrowed). */
struct delivery_envelope {
	const char *sender; /* reverse-path without <>, "" for the null sender */
	const char *const *rcpts;
	size_t n;
	bool requiretls; /* RFC 8689 §4: MAIL FROM carried REQUIRETLS */
	bool use_reserve; /* the daemon's own notifications: may use DELIVERY_SPOOL_RESERVE */
};

/*
 * Queues msg (CRLF line ends, no dot-stuffing, as it will be sent) for e's recipients as it is:
 * no sendmail rules (the SMTP listener and the daemon's own notifications).  The addresses must
 * already be checked.  Durable when it returns MXTLS_OK (the id in id); on failure nothing is
 * left.  MXTLS_E_INVAL, MXTLS_E_LIMIT, MXTLS_E_IO (reason in err), MXTLS_E_NOMEM.
 */
int delivery_queue_enqueue(struct mxtls_queue *q, const struct delivery_envelope *e,
			   const void *msg, size_t len, char id[MXTLS_QUEUE_ID_SIZE], char *err,
			   size_t errlen);

/*
 * mxtls_queue_submit() for a message from a user who may not open the queue (a drop file):
 * s->login (the file owner's name) must be printable ASCII without space or ':', and a sender
 * set with -f other than LOGIN@HOST is recorded in an X-Authentication-Warning field, as
 * sendmail does for untrusted users.  Same returns as mxtls_queue_submit().
 */
int delivery_submit_untrusted(struct mxtls_queue *q, const struct mxtls_submission *s,
			      char id[MXTLS_QUEUE_ID_SIZE], char *err, size_t errlen);
/*
 * The sendmail rules of delivery_submit_untrusted() alone, without a queue: what it would
 * refuse, this refuses with the same code and reason (so a user hears of a bad message at once,
 * not after pickup).  MXTLS_OK, MXTLS_E_INVAL, MXTLS_E_SYNTAX, MXTLS_E_LIMIT, MXTLS_E_NOMEM.
 */
int delivery_submit_check(const struct mxtls_submission *s, char *err, size_t errlen);

/* True when this process may open the queue in state_dir directly: root, the owner of
 * state_dir, or anyone when state_dir does not exist yet (it will be theirs). */
bool delivery_queue_may_open(const char *state_dir);

#endif
