/* SPDX-License-Identifier: MIT */
/* Inside the public struct mxtls_decision (include/mxtls/check.h), for the library's other
 * modules: the TLS-RPT API of delivery/ derives a session's policy from the decision itself. */
#ifndef MXTLS_VALIDATOR_DECISION_VIEW_H
#define MXTLS_VALIDATOR_DECISION_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include <mxtls/check.h>

#include "validator/decision.h"
#include "validator/sts_resolve.h"

/* The decision md wraps (borrowed); its sts member is always NULL: the discovery was moved
 * out, see mxtls_decision_sts_result(). */
const struct decision *mxtls_decision_inner(const struct mxtls_decision *md);

/* The domain's MTA-STS discovery (borrowed; source STS_SOURCE_NONE when it could not run). */
const struct sts_resolve_result *mxtls_decision_sts_result(const struct mxtls_decision *md);

/* The certificates a server presented after STARTTLS, DER, leaf first (owned). */
#define MXTLS_PROBE_CHAIN_MAX 16
struct mxtls_probe_chain {
	uint8_t *der[MXTLS_PROBE_CHAIN_MAX];
	size_t len[MXTLS_PROBE_CHAIN_MAX];
	size_t n; /* 0: no TLS session (no STARTTLS, or the handshake failed) */
};

/*
 * mxtls_decision_probe2() that also copies the chain the server of host i presented into
 * *chain (cleared first; release with mxtls_probe_chain_clear()), whatever the verdict, and
 * that also contacts hosts the MTA-STS policy excludes (for the owner's tools, which look at
 * every MX).  addr is the one address to connect to (an index below
 * mxtls_decision_host_addr_count()), or SIZE_MAX for each in turn until one answers.  Same
 * returns, and MXTLS_E_INVAL for addr out of range; on an error *chain is empty.
 */
int mxtls_decision_probe_chain(struct mxtls_ctx *ctx, const struct mxtls_decision *md, size_t i,
			       size_t addr, struct mxtls_probe_info *out,
			       struct mxtls_probe_chain *chain);

/* Frees what c holds and zeroes it; NULL is a no-op. */
void mxtls_probe_chain_clear(struct mxtls_probe_chain *c);

#endif
