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

/* For the library's own tools (not in <mxtls/check.h>): mxtls_decide_flags() fetches the
 * MTA-STS policy even when the cached id is current and even while an earlier failure holds
 * fetches back, as `mxtls audit` must see what the policy host serves now (and compare it with
 * the body cached under the same id). */
#define MXTLS_DECIDE_STS_REFRESH 0x100u

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

/* Copies the chain (der, len, n; borrowed) into c, replacing what it held; on NOMEM c is left
 * empty.  At most MXTLS_PROBE_CHAIN_MAX certificates are kept (the leaf first). */
void mxtls_probe_chain_copy(struct mxtls_probe_chain *c, const uint8_t *const *der,
			    const size_t *len, size_t n);

/* What one address of one MX host did when probed by mxtls_addr_probe_start(). */
struct mxtls_addr_probe {
	int error;             /* MXTLS_OK: the session reached QUIT; else why it ended early:
				* MXTLS_E_IO (connection), MXTLS_E_TIMEOUT, MXTLS_E_SYNTAX (not
				* SMTP), MXTLS_E_TLS (STARTTLS refused or the handshake failed) */
	bool connected;
	bool starttls_offered;
	bool tls;              /* a TLS session was established */
	char tls_version[16];
	char reason[320];      /* one line: what happened */
	struct mxtls_probe_chain chain; /* what the server presented (empty without TLS) */
};

/*
 * Probes address addr of host i of md on ctx's loop, without blocking, for the owner's audit,
 * which contacts every address of every MX host at once: connect, EHLO, STARTTLS when offered,
 * the handshake with the decision's server name (any certificate is accepted and its chain
 * copied: the caller judges it), EHLO, QUIT.  Hosts the MTA-STS policy excludes are probed too.
 * cb runs once from the loop with the result (owned by the callee: clear its chain with
 * mxtls_probe_chain_clear()), or NULL when memory ran out.  md must outlive the probe.  *op
 * (may be NULL) is valid until cb runs.  Returns MXTLS_OK, MXTLS_E_INVAL (i or addr out of
 * range, or the host has no addresses), MXTLS_E_CONFIG (the event loop), MXTLS_E_NOMEM.
 */
struct mxtls_addr_probe_op;
int mxtls_addr_probe_start(struct mxtls_ctx *ctx, const struct mxtls_decision *md, size_t i,
			   size_t addr, void (*cb)(void *arg, struct mxtls_addr_probe *res),
			   void *arg, struct mxtls_addr_probe_op **op);
/* Cancels a probe; its callback is not called.  NULL is a no-op. */
void mxtls_addr_probe_cancel(struct mxtls_addr_probe_op *op);

#endif
