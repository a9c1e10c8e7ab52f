/* SPDX-License-Identifier: MIT */
/* Internal layout of struct mxtls_ctx, shared by the validator's files. */
#ifndef MXTLS_VALIDATOR_CTX_H
#define MXTLS_VALIDATOR_CTX_H

#include <stdint.h>

#include <mxtls/context.h>

#include "util/util_clock.h"
#include "util/util_log.h"

struct mxtls_ctx {
	char *unbound_conf; /* owned; NULL: built-in resolver set-up */
	char *ca_file;      /* owned; NULL: the system trust store */
	char *state_dir;    /* owned; NULL: no persistent state */
	struct util_log log;
	struct util_clock clock;
	uint64_t next_id; /* per-decision ids for log lines */
};

/* A fresh decision id (never 0). */
uint64_t mxtls_ctx_decision_id(struct mxtls_ctx *ctx);

#endif
