/* SPDX-License-Identifier: MIT */
/* The public MTA-STS discovery and cache API (include/mxtls/sts_fetch.h), blocking forms. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>
#include <mxtls/sts_fetch.h>

#include "util/util_dnsname.h"
#include "validator/mxtls_ctx.h"
#include "validator/mxtls_sts_policy.h"
#include "validator/sts_refresh.h"
#include "validator/sts_resolve.h"

struct fetch_wait {
	struct sts_resolve_result *res; /* NULL when memory ran out */
	bool done;
};

static void on_resolved(void *arg, struct sts_resolve_result *res)
{
	struct fetch_wait *w = arg;
	*w = (struct fetch_wait){res, true};
}

int mxtls_sts_fetch(struct mxtls_ctx *ctx, const char *domain, int refresh,
		    struct mxtls_sts_policy **out, char *err, size_t errlen)
{
	if (ctx == NULL || domain == NULL || out == NULL || err == NULL || errlen == 0)
		return MXTLS_E_INVAL;
	struct dns_resolver *r;
	struct sts_fetcher *f;
	struct sts_cache *c;
	int rc = mxtls_ctx_lookups(ctx, &r, &f, &c, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	struct mxtls_sts_policy *p = calloc(1, sizeof *p);
	if (p == NULL)
		return MXTLS_E_NOMEM;
	struct fetch_wait w = {NULL, false};
	struct sts_resolve *q = NULL;
	struct sts_resolve_req req = {.domain = domain, .now = mxtls_ctx_now(ctx),
				      .refresh = refresh != 0, .log = &ctx->log,
				      .log_id = mxtls_ctx_decision_id(ctx)};
	rc = sts_resolve_start(r, f, c, &req, on_resolved, &w, &q);
	if (rc == MXTLS_E_INVAL)
		snprintf(err, errlen, "'%s' is not a domain name", domain);
	else if (rc == MXTLS_E_IO)
		snprintf(err, errlen, "cannot read the policy cache");
	else if (rc == MXTLS_OK && (rc = mxtls_ctx_wait(ctx, &w.done, err, errlen)) != MXTLS_OK)
		sts_resolve_cancel(q); /* its callback must not write to w after we return */
	else if (rc == MXTLS_OK && w.res == NULL) {
		/* The lookup logged which (sts-cache-read-failed); either way nothing is known. */
		snprintf(err, errlen, "cannot read the policy cache (or out of memory)");
		rc = MXTLS_E_IO;
	}
	if (rc != MXTLS_OK) {
		free(p);
		return rc;
	}
	p->r = *w.res;
	free(w.res); /* the members now belong to p */
	*out = p;
	return MXTLS_OK;
}

int mxtls_sts_cache_show(struct mxtls_ctx *ctx, const char *domain, struct mxtls_sts_policy **out,
			 char *err, size_t errlen)
{
	char d[UTIL_DNSNAME_MAX + 1];
	if (ctx == NULL || domain == NULL || out == NULL || err == NULL || errlen == 0)
		return MXTLS_E_INVAL;
	if (!util_dnsname_canon(domain, strlen(domain), d, sizeof d)) {
		snprintf(err, errlen, "'%s' is not a domain name", domain);
		return MXTLS_E_INVAL;
	}
	struct sts_cache *c;
	int rc = mxtls_ctx_cache(ctx, &c, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	struct mxtls_sts_policy *p = calloc(1, sizeof *p);
	if (p == NULL)
		return MXTLS_E_NOMEM;
	rc = sts_cache_get(c, d, &p->r.policy);
	if (rc != MXTLS_OK) {
		free(p);
		if (rc == MXTLS_E_NOTFOUND)
			snprintf(err, errlen, "no cached policy for %s", d);
		else
			snprintf(err, errlen, "cannot read the policy cache");
		return rc;
	}
	p->cache_only = true;
	p->r.source = STS_SOURCE_CACHE;
	snprintf(p->r.domain, sizeof p->r.domain, "%s", d);
	*out = p;
	return MXTLS_OK;
}

int mxtls_sts_cache_purge(struct mxtls_ctx *ctx, const char *domain, char *err, size_t errlen)
{
	char d[UTIL_DNSNAME_MAX + 1];
	if (ctx == NULL || domain == NULL || err == NULL || errlen == 0)
		return MXTLS_E_INVAL;
	if (!util_dnsname_canon(domain, strlen(domain), d, sizeof d)) {
		snprintf(err, errlen, "'%s' is not a domain name", domain);
		return MXTLS_E_INVAL;
	}
	struct sts_cache *c;
	int rc = mxtls_ctx_cache(ctx, &c, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	rc = sts_cache_delete(c, d);
	if (rc == MXTLS_E_NOTFOUND)
		snprintf(err, errlen, "no cached policy for %s", d);
	else if (rc == MXTLS_E_IO)
		snprintf(err, errlen, "cannot write the policy cache");
	else if (rc == MXTLS_OK)
		util_log_kv(&ctx->log, MXTLS_LOG_INFO, mxtls_ctx_decision_id(ctx), "sts-cache-purge",
			    "domain", d, (const char *)NULL);
	return rc;
}

struct list_walk {
	int (*fn)(void *arg, const struct mxtls_sts_policy *p);
	void *arg;
};

static int list_one(void *arg, const struct sts_cache_entry *e)
{
	struct list_walk *w = arg;
	struct mxtls_sts_policy p;
	memset(&p, 0, sizeof p);
	p.cache_only = true;
	p.r.source = STS_SOURCE_CACHE;
	snprintf(p.r.domain, sizeof p.r.domain, "%s", e->domain);
	p.r.policy = *e; /* borrowed for the call only */
	return w->fn(w->arg, &p);
}

int mxtls_sts_cache_list(struct mxtls_ctx *ctx,
			 int (*fn)(void *arg, const struct mxtls_sts_policy *p), void *arg,
			 char *err, size_t errlen)
{
	if (ctx == NULL || fn == NULL || err == NULL || errlen == 0)
		return MXTLS_E_INVAL;
	struct sts_cache *c;
	int rc = mxtls_ctx_cache(ctx, &c, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	struct list_walk w = {fn, arg};
	rc = sts_cache_foreach(c, list_one, &w);
	if (rc == MXTLS_E_IO)
		snprintf(err, errlen, "cannot read the policy cache");
	return rc;
}

struct mxtls_sts_refresh_op {
	struct mxtls_ctx *ctx;
	struct sts_refresh *run;
	uint64_t id;
	void (*cb)(void *arg, size_t refreshed, size_t failed);
	void *arg;
};

static void on_refreshed(void *arg, const struct sts_refresh_stats *stats)
{
	struct mxtls_sts_refresh_op *op = arg;
	char due[24], ok[24], bad[24];
	snprintf(due, sizeof due, "%zu", stats->due);
	snprintf(ok, sizeof ok, "%zu", stats->refreshed);
	snprintf(bad, sizeof bad, "%zu", stats->failed);
	util_log_kv(&op->ctx->log, MXTLS_LOG_INFO, op->id, "sts-refresh", "due", due, "refreshed",
		    ok, "failed", bad, (const char *)NULL);
	void (*cb)(void *, size_t, size_t) = op->cb;
	void *cbarg = op->arg;
	size_t refreshed = stats->refreshed, failed = stats->failed;
	free(op);
	cb(cbarg, refreshed, failed);
}

int mxtls_sts_refresh_start(struct mxtls_ctx *ctx, int64_t older_than, unsigned concurrency,
			    unsigned jitter_ms,
			    void (*cb)(void *arg, size_t refreshed, size_t failed), void *arg,
			    struct mxtls_sts_refresh_op **out, char *err, size_t errlen)
{
	if (ctx == NULL || older_than < 0 || cb == NULL || err == NULL || errlen == 0)
		return MXTLS_E_INVAL;
	struct dns_resolver *r;
	struct sts_fetcher *f;
	struct sts_cache *c;
	int rc = mxtls_ctx_lookups(ctx, &r, &f, &c, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	struct mxtls_sts_refresh_op *op = calloc(1, sizeof *op);
	if (op == NULL)
		return MXTLS_E_NOMEM;
	*op = (struct mxtls_sts_refresh_op){ctx, NULL, mxtls_ctx_decision_id(ctx), cb, arg};
	struct sts_refresh_opts opts = {.base = ctx->base, .now = mxtls_ctx_now(ctx),
					.older_than = older_than,
					.concurrency = concurrency ? concurrency : 8,
					.jitter_ms = jitter_ms, .log = &ctx->log, .log_id = op->id};
	rc = sts_refresh_start(r, f, c, &opts, on_refreshed, op, &op->run);
	if (rc != MXTLS_OK) {
		free(op);
		snprintf(err, errlen, "%s",
			 rc == MXTLS_E_IO ? "cannot read the policy cache" : mxtls_strerror(rc));
		return rc;
	}
	if (out != NULL)
		*out = op;
	return MXTLS_OK;
}

void mxtls_sts_refresh_cancel(struct mxtls_sts_refresh_op *op)
{
	if (op == NULL)
		return;
	sts_refresh_cancel(op->run);
	free(op);
}

struct refresh_wait {
	size_t refreshed, failed;
	bool done;
};

static void on_refresh_waited(void *arg, size_t refreshed, size_t failed)
{
	struct refresh_wait *w = arg;
	*w = (struct refresh_wait){refreshed, failed, true};
}

int mxtls_sts_refresh(struct mxtls_ctx *ctx, int64_t older_than, unsigned concurrency,
		      unsigned jitter_ms, size_t *refreshed, size_t *failed, char *err,
		      size_t errlen)
{
	struct refresh_wait w = {0, 0, false};
	struct mxtls_sts_refresh_op *op = NULL;
	int rc = mxtls_sts_refresh_start(ctx, older_than, concurrency, jitter_ms, on_refresh_waited,
					 &w, &op, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	rc = mxtls_ctx_wait(ctx, &w.done, err, errlen);
	if (rc != MXTLS_OK) {
		mxtls_sts_refresh_cancel(op); /* its callback must not write to w after we return */
		return rc;
	}
	if (refreshed != NULL)
		*refreshed = w.refreshed;
	if (failed != NULL)
		*failed = w.failed;
	return MXTLS_OK;
}

void mxtls_sts_policy_free(struct mxtls_sts_policy *p)
{
	if (p == NULL)
		return;
	sts_cache_entry_clear(&p->r.policy);
	free(p);
}

const char *mxtls_sts_policy_domain(const struct mxtls_sts_policy *p)
{
	return p->r.domain;
}

const char *mxtls_sts_policy_source(const struct mxtls_sts_policy *p)
{
	return sts_source_name(p->r.source);
}

const char *mxtls_sts_policy_txt_state(const struct mxtls_sts_policy *p)
{
	return p->cache_only ? NULL : sts_txt_state_name(p->r.txt);
}

const char *mxtls_sts_policy_txt(const struct mxtls_sts_policy *p)
{
	return p->cache_only || p->r.txt_text[0] == '\0' ? NULL : p->r.txt_text;
}

const char *mxtls_sts_policy_txt_reason(const struct mxtls_sts_policy *p)
{
	return p->cache_only || p->r.txt_reason[0] == '\0' ? NULL : p->r.txt_reason;
}

int mxtls_sts_policy_fetched(const struct mxtls_sts_policy *p)
{
	return p->r.fetched;
}

enum mxtls_result mxtls_sts_policy_fetch_result(const struct mxtls_sts_policy *p)
{
	return p->r.fetched ? p->r.fetch_result : MXTLS_RESULT_OK;
}

const char *mxtls_sts_policy_fetch_error(const struct mxtls_sts_policy *p)
{
	return p->r.fetch_error[0] != '\0' ? p->r.fetch_error : NULL;
}

int mxtls_sts_policy_backoff(const struct mxtls_sts_policy *p)
{
	return p->r.backoff;
}

int mxtls_sts_policy_changed_same_id(const struct mxtls_sts_policy *p)
{
	return p->r.changed_same_id;
}

static const struct sts_cache_entry *in_force(const struct mxtls_sts_policy *p)
{
	return p->r.source != STS_SOURCE_NONE ? &p->r.policy : NULL;
}

const char *mxtls_sts_policy_id(const struct mxtls_sts_policy *p)
{
	return in_force(p) ? p->r.policy.id : NULL;
}

const char *mxtls_sts_policy_mode(const struct mxtls_sts_policy *p)
{
	return in_force(p) ? sts_policy_mode_name(p->r.policy.mode) : NULL;
}

int64_t mxtls_sts_policy_max_age(const struct mxtls_sts_policy *p)
{
	return in_force(p) ? (int64_t)p->r.policy.max_age : 0;
}

size_t mxtls_sts_policy_mx_count(const struct mxtls_sts_policy *p)
{
	return in_force(p) ? p->r.policy.nmx : 0;
}

const char *mxtls_sts_policy_mx(const struct mxtls_sts_policy *p, size_t i)
{
	return in_force(p) && i < p->r.policy.nmx ? p->r.policy.mx[i] : NULL;
}

const char *mxtls_sts_policy_text(const struct mxtls_sts_policy *p, size_t *len)
{
	if (len != NULL)
		*len = in_force(p) ? p->r.policy.len : 0;
	return in_force(p) ? p->r.policy.text : NULL;
}

int64_t mxtls_sts_policy_fetched_at(const struct mxtls_sts_policy *p)
{
	return in_force(p) ? p->r.policy.fetched_at : 0;
}

int64_t mxtls_sts_policy_expires_at(const struct mxtls_sts_policy *p)
{
	return in_force(p) ? p->r.policy.expires_at : 0;
}

int64_t mxtls_sts_policy_last_checked(const struct mxtls_sts_policy *p)
{
	return in_force(p) ? p->r.policy.last_checked : 0;
}

const char *mxtls_sts_policy_last_error(const struct mxtls_sts_policy *p)
{
	return in_force(p) ? p->r.policy.last_error : NULL;
}
