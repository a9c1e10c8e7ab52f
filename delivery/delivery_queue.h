/* SPDX-License-Identifier: MIT */
/* Internal layout of struct mxtls_queue, shared by delivery/'s files (and its unit tests). */
#ifndef MXTLS_DELIVERY_QUEUE_H
#define MXTLS_DELIVERY_QUEUE_H

#include <mxtls/queue.h>

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
	/* Tests only: called at each fault point; NULL in production. */
	enum delivery_fault (*fault)(void *arg, const char *point);
	void *fault_arg;
};

/* The fault hook's answer at point (DELIVERY_FAULT_NONE without a hook). */
enum delivery_fault delivery_queue_fault(struct mxtls_queue *q, const char *point);

#endif
