/* SPDX-License-Identifier: MIT */
/* The public decision API (include/mxtls/check.h): decide, read, probe. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <mxtls/check.h>
#include <mxtls/error.h>

#include "dane/dane_pkix.h"
#include "smtp/smtp_client.h"
#include "validator/decision.h"
#include "validator/host_verify.h"
#include "validator/mxtls_ctx.h"
#include "validator/mxtls_decision_view.h"
#include "validator/mxtls_sts_policy.h"

struct mxtls_decision {
	struct decision *d;
	struct mxtls_sts_policy sts; /* the discovery, moved out of d->sts */
	char (*addr_text)[INET6_ADDRSTRLEN]; /* per host, HOST_DANE_ADDRS_MAX each */
	int64_t decided_at; /* the context's clock when the decision ended (mxtls_decision_ttl) */
};

struct mxtls_decide_op {
	struct decision_run *run;
	struct mxtls_ctx *ctx;
	void (*cb)(void *arg, struct mxtls_decision *d, int err);
	void *arg;
};

static struct mxtls_decision *wrap(struct decision *d)
{
	struct mxtls_decision *md = calloc(1, sizeof *md);
	if (md == NULL)
		return NULL;
	md->d = d;
	if (d->sts != NULL) {
		md->sts.r = *d->sts;
		free(d->sts);
		d->sts = NULL;
	}
	md->addr_text = calloc(d->nhosts * HOST_DANE_ADDRS_MAX + 1, sizeof *md->addr_text);
	if (md->addr_text == NULL) {
		mxtls_decision_free(md);
		return NULL;
	}
	for (size_t i = 0; i < d->nhosts; i++) {
		const struct host_dane_result *r = d->hosts[i].dane;
		for (size_t k = 0; r != NULL && k < r->naddrs; k++)
			inet_ntop(r->addrs[k].family, r->addrs[k].addr,
				  md->addr_text[i * HOST_DANE_ADDRS_MAX + k], INET6_ADDRSTRLEN);
	}
	return md;
}

static void on_decided(void *arg, struct decision *d)
{
	struct mxtls_decide_op *op = arg;
	struct mxtls_decision *md = d != NULL ? wrap(d) : NULL;
	if (md == NULL)
		decision_free(d);
	else
		md->decided_at = mxtls_ctx_now(op->ctx);
	op->cb(op->arg, md, md != NULL ? MXTLS_OK : MXTLS_E_NOMEM);
	free(op);
}

int mxtls_decide_start(struct mxtls_ctx *ctx, const char *domain,
		       void (*cb)(void *arg, struct mxtls_decision *d, int err), void *arg,
		       struct mxtls_decide_op **opp, char *err, size_t errlen)
{
	return mxtls_decide_flags_start(ctx, domain, 0, cb, arg, opp, err, errlen);
}

int mxtls_decide_flags_start(struct mxtls_ctx *ctx, const char *domain, unsigned flags,
			     void (*cb)(void *arg, struct mxtls_decision *d, int err), void *arg,
			     struct mxtls_decide_op **opp, char *err, size_t errlen)
{
	if (ctx == NULL || domain == NULL || cb == NULL || err == NULL || errlen == 0 ||
	    (flags & ~(MXTLS_DECIDE_NO_MX | MXTLS_DECIDE_STS_REFRESH)) != 0)
		return MXTLS_E_INVAL;
	struct dns_resolver *r;
	struct sts_fetcher *f;
	struct sts_cache *c;
	int rc = mxtls_ctx_lookups(ctx, &r, &f, &c, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	struct mxtls_decide_op *op = calloc(1, sizeof *op);
	if (op == NULL)
		return MXTLS_E_NOMEM;
	*op = (struct mxtls_decide_op){.ctx = ctx, .cb = cb, .arg = arg};
	struct decision_req req = {.domain = domain, .now = mxtls_ctx_now(ctx), .log = &ctx->log,
				   .log_id = mxtls_ctx_decision_id(ctx),
				   .no_mx = (flags & MXTLS_DECIDE_NO_MX) != 0,
				   .sts_refresh = (flags & MXTLS_DECIDE_STS_REFRESH) != 0,
				   .sts_no_backoff = (flags & MXTLS_DECIDE_STS_REFRESH) != 0};
	rc = decision_start(r, f, c, &req, on_decided, op, &op->run);
	if (rc != MXTLS_OK) {
		free(op);
		if (rc == MXTLS_E_INVAL)
			snprintf(err, errlen, "'%s' is not a domain name", domain);
		else
			snprintf(err, errlen, "%s", mxtls_strerror(rc));
		return rc;
	}
	if (opp != NULL)
		*opp = op;
	return MXTLS_OK;
}

void mxtls_decide_cancel(struct mxtls_decide_op *op)
{
	if (op == NULL)
		return;
	decision_cancel(op->run);
	free(op);
}

struct blocking {
	bool done;
	struct mxtls_decision *d;
	int err;
};

static void on_blocking(void *arg, struct mxtls_decision *d, int err)
{
	struct blocking *b = arg;
	b->done = true;
	b->d = d;
	b->err = err;
}

int mxtls_decide(struct mxtls_ctx *ctx, const char *domain, struct mxtls_decision **out,
		 char *err, size_t errlen)
{
	return mxtls_decide_flags(ctx, domain, 0, out, err, errlen);
}

int mxtls_decide_flags(struct mxtls_ctx *ctx, const char *domain, unsigned flags,
		       struct mxtls_decision **out, char *err, size_t errlen)
{
	if (out == NULL)
		return MXTLS_E_INVAL;
	struct blocking b = {0};
	struct mxtls_decide_op *op = NULL;
	int rc = mxtls_decide_flags_start(ctx, domain, flags, on_blocking, &b, &op, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	rc = mxtls_ctx_wait(ctx, &b.done, err, errlen);
	if (rc != MXTLS_OK) {
		/* The lookups must not call back into this frame once it is gone. */
		if (b.done)
			mxtls_decision_free(b.d);
		else
			mxtls_decide_cancel(op);
		return rc;
	}
	if (b.err != MXTLS_OK) {
		snprintf(err, errlen, "%s", mxtls_strerror(b.err));
		return b.err;
	}
	*out = b.d;
	return MXTLS_OK;
}

void mxtls_decision_free(struct mxtls_decision *md)
{
	if (md == NULL)
		return;
	sts_cache_entry_clear(&md->sts.r.policy);
	decision_free(md->d);
	free(md->addr_text);
	free(md);
}

const char *mxtls_decision_domain(const struct mxtls_decision *md)
{
	return md != NULL ? md->d->domain : NULL;
}

const char *mxtls_decision_mode(const struct mxtls_decision *md)
{
	return md != NULL ? decision_mode_name(md->d->mode) : NULL;
}

const char *mxtls_decision_reason(const struct mxtls_decision *md)
{
	return md != NULL ? md->d->why : NULL;
}

const char *mxtls_decision_mx_status(const struct mxtls_decision *md)
{
	if (md == NULL)
		return NULL;
	return md->d->no_mx ? "skipped" : mx_lookup_status_name(md->d->mx.status);
}

int mxtls_decision_mx_secure(const struct mxtls_decision *md)
{
	return md != NULL && md->d->mx.secure;
}

int mxtls_decision_mx_implicit(const struct mxtls_decision *md)
{
	return md != NULL && md->d->mx.implicit;
}

size_t mxtls_decision_host_count(const struct mxtls_decision *md)
{
	return md != NULL ? md->d->nhosts : 0;
}

static const struct decision_host *host(const struct mxtls_decision *md, size_t i)
{
	return md != NULL && i < md->d->nhosts ? &md->d->hosts[i] : NULL;
}

const char *mxtls_decision_host_name(const struct mxtls_decision *md, size_t i)
{
	const struct decision_host *h = host(md, i);
	return h != NULL ? h->name : NULL;
}

unsigned mxtls_decision_host_preference(const struct mxtls_decision *md, size_t i)
{
	const struct decision_host *h = host(md, i);
	return h != NULL ? h->preference : 0;
}

const char *mxtls_decision_host_security(const struct mxtls_decision *md, size_t i)
{
	const struct decision_host *h = host(md, i);
	return h != NULL ? decision_security_name(h->security) : NULL;
}

const char *mxtls_decision_host_reason(const struct mxtls_decision *md, size_t i)
{
	const struct decision_host *h = host(md, i);
	return h != NULL ? h->why : NULL;
}

const char *mxtls_decision_host_dnssec(const struct mxtls_decision *md, size_t i)
{
	const struct decision_host *h = host(md, i);
	if (h == NULL)
		return NULL;
	if (h->dane == NULL || h->dane->naddrs == 0)
		return "error";
	return h->dane->addr_secure ? "secure" : "insecure";
}

const char *mxtls_decision_host_sni(const struct mxtls_decision *md, size_t i)
{
	const struct decision_host *h = host(md, i);
	return h != NULL ? h->sni : NULL;
}

int mxtls_decision_host_sts_match(const struct mxtls_decision *md, size_t i)
{
	const struct decision_host *h = host(md, i);
	if (h == NULL || !h->sts_applies)
		return -1;
	return h->sts_match ? 1 : 0;
}

size_t mxtls_decision_host_addr_count(const struct mxtls_decision *md, size_t i)
{
	const struct decision_host *h = host(md, i);
	return h != NULL && h->dane != NULL ? h->dane->naddrs : 0;
}

const char *mxtls_decision_host_addr(const struct mxtls_decision *md, size_t i, size_t k)
{
	if (k >= mxtls_decision_host_addr_count(md, i))
		return NULL;
	return md->addr_text[i * HOST_DANE_ADDRS_MAX + k];
}

size_t mxtls_decision_host_tlsa_count(const struct mxtls_decision *md, size_t i)
{
	const struct decision_host *h = host(md, i);
	return h != NULL && h->dane != NULL ? h->dane->ntlsa : 0;
}

const char *mxtls_decision_host_tlsa(const struct mxtls_decision *md, size_t i, size_t k,
				     int *usable, const char **why)
{
	if (k >= mxtls_decision_host_tlsa_count(md, i))
		return NULL;
	const struct dane_tlsa *t = &md->d->hosts[i].dane->tlsa[k];
	if (usable != NULL)
		*usable = t->usable;
	if (why != NULL)
		*why = t->usable ? NULL : t->reason;
	return t->text; /* "U S M hex", made once when the record was parsed */
}

const struct mxtls_sts_policy *mxtls_decision_sts(const struct mxtls_decision *md)
{
	return md != NULL ? &md->sts : NULL;
}

const struct decision *mxtls_decision_inner(const struct mxtls_decision *md)
{
	return md != NULL ? md->d : NULL;
}

const struct sts_resolve_result *mxtls_decision_sts_result(const struct mxtls_decision *md)
{
	return md != NULL ? &md->sts.r : NULL;
}

const char *mxtls_decision_tlsrpt_state(const struct mxtls_decision *md)
{
	return md != NULL ? tlsrpt_state_name(md->d->tlsrpt) : NULL;
}

const char *mxtls_decision_tlsrpt(const struct mxtls_decision *md)
{
	return md != NULL ? md->d->tlsrpt_text : NULL;
}

int64_t mxtls_decision_ttl(const struct mxtls_decision *md)
{
	if (md == NULL || md->d->mode == MODE_TEMPFAIL)
		return 0;
	const struct decision *d = md->d;
	uint32_t ttl = d->mx.ttl;
	for (size_t i = 0; i < d->nhosts; i++)
		if (d->hosts[i].dane != NULL && d->hosts[i].dane->ttl < ttl)
			ttl = d->hosts[i].dane->ttl;
	/* A new _mta-sts id must be noticed when the TXT record's TTL runs out. */
	if (md->sts.r.txt_answered && md->sts.r.txt_ttl < ttl)
		ttl = md->sts.r.txt_ttl;
	int64_t limit = mxtls_decision_ttl_limit(md);
	return (int64_t)ttl < limit ? (int64_t)ttl : limit;
}

int64_t mxtls_decision_ttl_limit(const struct mxtls_decision *md)
{
	/* RFC 8461 §5.1: a policy is not used past its max_age, so neither is a decision that
	 * rests on it (even where a caller keeps answers a minimum time). */
	if (md == NULL || md->d->mode == MODE_TEMPFAIL)
		return 0;
	if (md->sts.r.source == STS_SOURCE_NONE || md->sts.r.policy.expires_at <= 0)
		return INT64_MAX;
	int64_t left = md->sts.r.policy.expires_at - md->decided_at;
	return left > 1 ? left : 1;
}

int mxtls_decision_verify(struct mxtls_ctx *ctx, const struct mxtls_decision *md, size_t i,
			  const unsigned char *const *der, const size_t *len, size_t n,
			  enum mxtls_result *result, enum mxtls_result *reported, char *reason,
			  size_t reasonlen)
{
	const struct decision_host *h = host(md, i);
	if (ctx == NULL || h == NULL || result == NULL || reason == NULL || reasonlen == 0 ||
	    (n > 0 && (der == NULL || len == NULL)))
		return MXTLS_E_INVAL;
	if (h->security == SEC_EXCLUDED || h->security == SEC_UNREACHABLE) {
		snprintf(reason, reasonlen, "host %s is %s: it must not be used", h->name,
			 decision_security_name(h->security));
		return MXTLS_E_INVAL;
	}
	struct dane_pkix *pkix = NULL;
	char err[256];
	if (h->pkix_auth) {
		int rc = mxtls_ctx_pkix(ctx, &pkix, err, sizeof err);
		if (rc != MXTLS_OK) {
			snprintf(reason, reasonlen, "%s", err);
			return rc;
		}
	}
	struct host_verify_outcome o;
	host_verify(h, pkix, der, len, n, mxtls_ctx_now(ctx), &o);
	*result = o.result;
	if (reported != NULL)
		*reported = o.reported;
	snprintf(reason, reasonlen, "%s", o.reason);
	return MXTLS_OK;
}

/* ---- probe ------------------------------------------------------------------------------ */

struct probe {
	const struct decision_host *h;
	const struct dane_pkix *pkix;
	int64_t now;
	struct host_verify_outcome verify;
	bool verified;
	bool done;
	struct smtp_session_result res;
	struct mxtls_probe_chain *chain; /* NULL, or where the presented chain is copied */
};

void mxtls_probe_chain_clear(struct mxtls_probe_chain *c)
{
	if (c == NULL)
		return;
	for (size_t k = 0; k < c->n; k++)
		free(c->der[k]);
	memset(c, 0, sizeof *c);
}

void mxtls_probe_chain_copy(struct mxtls_probe_chain *c, const uint8_t *const *der,
			    const size_t *len, size_t n)
{
	mxtls_probe_chain_clear(c);
	for (size_t k = 0; k < n && k < MXTLS_PROBE_CHAIN_MAX; k++) {
		c->der[k] = malloc(len[k] > 0 ? len[k] : 1);
		if (c->der[k] == NULL) {
			mxtls_probe_chain_clear(c);
			return;
		}
		memcpy(c->der[k], der[k], len[k]);
		c->len[k] = len[k];
		c->n = k + 1;
	}
}

static enum mxtls_result probe_verify(void *arg, const uint8_t *const *der, const size_t *len,
				      size_t n, char *why, size_t whylen)
{
	struct probe *p = arg;
	if (p->chain != NULL)
		mxtls_probe_chain_copy(p->chain, der, len, n);
	enum mxtls_result r = host_verify(p->h, p->pkix, der, len, n, p->now, &p->verify);
	p->verified = true;
	snprintf(why, whylen, "%s", p->verify.reason);
	return r;
}

static void on_probed(void *arg, const struct smtp_session_result *res)
{
	struct probe *p = arg;
	p->res = *res;
	p->done = true;
}

int mxtls_decision_probe(struct mxtls_ctx *ctx, const struct mxtls_decision *md, size_t i,
			 enum mxtls_result *result, char *reason, size_t reasonlen,
			 char *tls_version, size_t vlen)
{
	if (result == NULL || reason == NULL || reasonlen == 0 || tls_version == NULL || vlen == 0)
		return MXTLS_E_INVAL;
	struct mxtls_probe_info info;
	int rc = mxtls_decision_probe2(ctx, md, i, &info);
	if (rc == MXTLS_OK)
		*result = info.result;
	snprintf(reason, reasonlen, "%s", info.reason);
	snprintf(tls_version, vlen, "%s", info.tls_version);
	return rc;
}

/* What the last session of a probe tells a TLS report (RFC 8460 §4.4): our address, the
 * server's, and the name it gave. */
static void probe_facts(struct mxtls_probe_info *out, const struct host_addr *a,
			const struct smtp_session_result *res)
{
	out->connected = res->connected;
	snprintf(out->tls_version, sizeof out->tls_version, "%s", res->tls ? res->tls_version : "");
	snprintf(out->sending_ip, sizeof out->sending_ip, "%s", res->local_ip);
	snprintf(out->receiving_helo, sizeof out->receiving_helo, "%s", res->server_name);
	if (inet_ntop(a->family, a->addr, out->receiving_ip, sizeof out->receiving_ip) == NULL)
		out->receiving_ip[0] = '\0';
}

/* The probe of mxtls_decision_probe2(); with chain, also the chain the server presented, and
 * hosts that the policy excludes are contacted too (they have addresses).  addr: the only
 * address to try, or SIZE_MAX for each in turn until one answers. */
static int probe_run(struct mxtls_ctx *ctx, const struct mxtls_decision *md, size_t i,
		     struct mxtls_probe_info *out, struct mxtls_probe_chain *chain, size_t addr)
{
	if (out == NULL)
		return MXTLS_E_INVAL;
	memset(out, 0, sizeof *out);
	out->result = MXTLS_RESULT_OK;
	const struct decision_host *h = host(md, i);
	char *reason = out->reason;
	size_t reasonlen = sizeof out->reason;
	if (ctx == NULL || h == NULL)
		return MXTLS_E_INVAL;
	bool skip = h->security == SEC_EXCLUDED && chain == NULL;
	if (skip || h->security == SEC_UNREACHABLE || h->dane == NULL) {
		/* Why the host is never used (its classification); the caller says "not
		 * contacted". */
		snprintf(reason, reasonlen, "%s", h->why);
		return MXTLS_E_NOTFOUND;
	}
	char err[256];
	struct event_base *base;
	struct dane_pkix *pkix = NULL;
	int rc = mxtls_ctx_base(ctx, &base, err, sizeof err);
	if (rc == MXTLS_OK && h->pkix_auth)
		rc = mxtls_ctx_pkix(ctx, &pkix, err, sizeof err);
	if (rc != MXTLS_OK) {
		snprintf(reason, reasonlen, "%s", err);
		return rc;
	}
	rc = MXTLS_E_IO;
	snprintf(reason, reasonlen, "no address");
	if (addr != SIZE_MAX && addr >= h->dane->naddrs)
		return MXTLS_E_INVAL;
	for (size_t k = 0; k < h->dane->naddrs; k++) {
		if (addr != SIZE_MAX && k != addr)
			continue;
		struct probe p = {.h = h, .pkix = pkix, .now = mxtls_ctx_now(ctx), .chain = chain};
		struct smtp_txn none;
		struct smtp_session_req req = {
			.family = h->dane->addrs[k].family,
			.helo = ctx->helo,
			.tls = h->tls_required ? SMTP_TLS_REQUIRED : SMTP_TLS_MAY,
			.sni = h->sni,
			.verify = probe_verify,
			.verify_arg = &p,
			.timeouts = ctx->timeouts,
			.txns = &none,
			.ntxns = 0,
		};
		memcpy(req.addr, h->dane->addrs[k].addr, sizeof req.addr);
		struct smtp_session *sess = NULL;
		rc = smtp_session_start(base, &req, on_probed, &p, &sess);
		if (rc != MXTLS_OK) {
			snprintf(reason, reasonlen, "%s", mxtls_strerror(rc));
			return rc;
		}
		rc = mxtls_ctx_wait(ctx, &p.done, reason, reasonlen);
		if (rc != MXTLS_OK) {
			if (!p.done)
				smtp_session_cancel(sess); /* p lives in this frame */
			return rc;
		}
		probe_facts(out, &h->dane->addrs[k], &p.res);
		if (p.res.error == MXTLS_E_IO || p.res.error == MXTLS_E_TIMEOUT) {
			rc = p.res.error;
			snprintf(reason, reasonlen, "%s", p.res.reason);
			continue; /* the next address */
		}
		if (p.res.error == MXTLS_E_TEMPFAIL || p.res.error == MXTLS_E_SYNTAX) {
			snprintf(reason, reasonlen, "%s", p.res.reason);
			return MXTLS_E_TEMPFAIL;
		}
		if (p.res.error == MXTLS_E_TLS) {
			out->result = p.res.tls_result;
			snprintf(reason, reasonlen, "%s", p.res.reason);
		} else if (p.verified) {
			/* For MTA-STS testing the verdict is what a report would say. */
			out->result = p.verify.reported;
			snprintf(reason, reasonlen, "%s (%s)", p.verify.reason, h->sni);
		} else {
			out->result = p.res.tls ? MXTLS_RESULT_OK : MXTLS_RESULT_STARTTLS_NOT_SUPPORTED;
			snprintf(reason, reasonlen, "%s",
				 p.res.tls ? "TLS without certificate checks"
					   : "the server does not offer STARTTLS");
		}
		return MXTLS_OK;
	}
	return rc;
}

int mxtls_decision_probe2(struct mxtls_ctx *ctx, const struct mxtls_decision *md, size_t i,
			  struct mxtls_probe_info *out)
{
	return probe_run(ctx, md, i, out, NULL, SIZE_MAX);
}

int mxtls_decision_probe_chain(struct mxtls_ctx *ctx, const struct mxtls_decision *md, size_t i,
			       size_t addr, struct mxtls_probe_info *out,
			       struct mxtls_probe_chain *chain)
{
	if (chain == NULL)
		return MXTLS_E_INVAL;
	memset(chain, 0, sizeof *chain);
	int rc = probe_run(ctx, md, i, out, chain, addr);
	if (rc != MXTLS_OK)
		mxtls_probe_chain_clear(chain);
	return rc;
}
