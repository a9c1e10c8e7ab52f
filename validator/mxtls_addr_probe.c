/* SPDX-License-Identifier: MIT */
/* One MX address probed without blocking, for the owner's audit (validator/mxtls_decision_view.h).
 *
 * mxtls_decision_probe_chain() runs the loop until its one session ends; an audit of a domain
 * with four hosts of two addresses each would then wait for eight sessions in turn (eight
 * times the connect timeout when a host is down).  These probes all run at once on the
 * context's loop, and the caller runs the loop until the last one has called back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "smtp/smtp_client.h"
#include "validator/mxtls_ctx.h"
#include "validator/mxtls_decision_view.h"

struct mxtls_addr_probe_op {
	struct smtp_session *sess;
	struct smtp_session_req req; /* borrowed by the session until it calls back */
	struct smtp_txn none;
	void (*cb)(void *arg, struct mxtls_addr_probe *res);
	void *arg;
	struct mxtls_addr_probe *res; /* handed to cb */
};

/* Copies the chain and accepts it: the audit judges it after the session, by each sender's
 * rules (Web PKI and DANE), so the session always goes on to QUIT. */
static enum mxtls_result keep_chain(void *arg, const uint8_t *const *der, const size_t *len,
				    size_t n, char *why, size_t whylen)
{
	struct mxtls_addr_probe_op *op = arg;
	struct mxtls_probe_chain *c = &op->res->chain;
	mxtls_probe_chain_copy(c, der, len, n);
	if (c->n == 0 && n > 0) {
		snprintf(why, whylen, "out of memory");
		return MXTLS_RESULT_VALIDATION_FAILURE;
	}
	snprintf(why, whylen, "chain kept for the audit");
	return MXTLS_RESULT_OK;
}

static void on_session(void *arg, const struct smtp_session_result *r)
{
	struct mxtls_addr_probe_op *op = arg;
	struct mxtls_addr_probe *res = op->res;
	res->error = r->error;
	res->connected = r->connected;
	res->starttls_offered = r->starttls_offered;
	res->tls = r->tls || (r->error == MXTLS_OK && res->chain.n > 0);
	snprintf(res->tls_version, sizeof res->tls_version, "%s", r->tls_version);
	snprintf(res->reason, sizeof res->reason, "%s", r->reason);
	op->cb(op->arg, res);
	free(op);
}

int mxtls_addr_probe_start(struct mxtls_ctx *ctx, const struct mxtls_decision *md, size_t i,
			   size_t addr, void (*cb)(void *arg, struct mxtls_addr_probe *res),
			   void *arg, struct mxtls_addr_probe_op **out)
{
	const struct decision *d = mxtls_decision_inner(md);
	if (ctx == NULL || d == NULL || cb == NULL || i >= d->nhosts)
		return MXTLS_E_INVAL;
	const struct decision_host *h = &d->hosts[i];
	if (h->dane == NULL || addr >= h->dane->naddrs)
		return MXTLS_E_INVAL;
	char err[256];
	struct event_base *base;
	if (mxtls_ctx_base(ctx, &base, err, sizeof err) != MXTLS_OK)
		return MXTLS_E_CONFIG;
	struct mxtls_addr_probe_op *op = calloc(1, sizeof *op);
	struct mxtls_addr_probe *res = calloc(1, sizeof *res);
	if (op == NULL || res == NULL) {
		free(op);
		free(res);
		return MXTLS_E_NOMEM;
	}
	op->cb = cb;
	op->arg = arg;
	op->res = res;
	/* SMTP_TLS_MAY: a server without STARTTLS is a finding, not an error; the chain is
	 * taken whatever it is, so the session never ends at the verify step. */
	op->req = (struct smtp_session_req){
		.family = h->dane->addrs[addr].family,
		.helo = ctx->helo,
		.tls = SMTP_TLS_MAY,
		.sni = h->sni,
		.verify = keep_chain,
		.verify_arg = op,
		.timeouts = ctx->timeouts,
		.txns = &op->none,
		.ntxns = 0,
	};
	memcpy(op->req.addr, h->dane->addrs[addr].addr, sizeof op->req.addr);
	int rc = smtp_session_start(base, &op->req, on_session, op, &op->sess);
	if (rc != MXTLS_OK) {
		free(res);
		free(op);
		return rc;
	}
	if (out != NULL)
		*out = op;
	return MXTLS_OK;
}

void mxtls_addr_probe_cancel(struct mxtls_addr_probe_op *op)
{
	if (op == NULL)
		return;
	smtp_session_cancel(op->sess);
	mxtls_probe_chain_clear(&op->res->chain);
	free(op->res);
	free(op);
}
