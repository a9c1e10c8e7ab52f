/* SPDX-License-Identifier: MIT */
/* The context's event loop, resolver, policy fetcher and cache, created when first needed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <mxtls/context.h>
#include <mxtls/error.h>

#include "dane/dane_pkix.h"
#include "dns/dns_resolver.h"
#include "http/http_client.h"
#include "mxtls_build.h"
#include "store/store_worker.h"
#include "sts/sts_cache_async.h"
#include "sts/sts_fetch.h"
#include "validator/mxtls_ctx.h"

int mxtls_ctx_set_event_base(struct mxtls_ctx *ctx, void *event_base)
{
	if (ctx == NULL || event_base == NULL || ctx->base != NULL)
		return MXTLS_E_INVAL;
	ctx->base = event_base;
	ctx->base_borrowed = true;
	return MXTLS_OK;
}

int mxtls_ctx_base(struct mxtls_ctx *ctx, struct event_base **out, char *err, size_t errlen)
{
	if (ctx->base == NULL && (ctx->base = event_base_new()) == NULL) {
		snprintf(err, errlen, "cannot create an event loop");
		return MXTLS_E_NOMEM;
	}
	*out = ctx->base;
	return MXTLS_OK;
}

int mxtls_ctx_resolver(struct mxtls_ctx *ctx, struct dns_resolver **out, char *err,
		       size_t errlen)
{
	if (ctx->resolver == NULL) {
		struct event_base *base;
		int rc = mxtls_ctx_base(ctx, &base, err, errlen);
		if (rc == MXTLS_OK)
			rc = dns_resolver_new(base, ctx->unbound_conf, MXTLS_ROOT_KEY, 0,
					      &ctx->resolver, err, errlen);
		if (rc != MXTLS_OK)
			return rc;
		/* Each lookup at debug level (-vv; check -v): what was asked, what came back. */
		dns_resolver_set_log(ctx->resolver, &ctx->log);
	}
	*out = ctx->resolver;
	return MXTLS_OK;
}

int mxtls_ctx_fetcher(struct mxtls_ctx *ctx, struct sts_fetcher **out, char *err, size_t errlen)
{
	if (ctx->fetcher == NULL) {
		struct event_base *base;
		int rc = mxtls_ctx_base(ctx, &base, err, errlen);
		unsigned total = ctx->sts_timeout_ms;
		struct sts_fetch_opts opts = {.ca_file = ctx->ca_file,
					      .connect_timeout_ms = total < 5000 ? total : 5000,
					      .total_timeout_ms = total};
		if (rc == MXTLS_OK && (rc = sts_fetcher_new(base, &opts, &ctx->fetcher)) != MXTLS_OK)
			snprintf(err, errlen, "cannot initialise the HTTP client");
		if (rc != MXTLS_OK)
			return rc;
	}
	*out = ctx->fetcher;
	return MXTLS_OK;
}

static int64_t ctx_now(void *arg)
{
	struct mxtls_ctx *ctx = arg;
	return util_clock_now(&ctx->clock);
}

/*
 * Fleet mode (doc/fleet.md): the cache shares its policies through the shared-store Redis.
 * This member's name is the host's and the state directory's (several members may share a
 * host: the test network runs three); a fetch lease lasts three fetch time limits, so a
 * member that dies mid-fetch holds a domain's refresh up at most that long, and a member waits
 * at most one fetch time limit for another's first fetch before fetching itself.
 */
void mxtls_ctx_member_name(const struct mxtls_ctx *ctx, char *out, size_t cap)
{
	char host[256] = "localhost";
	gethostname(host, sizeof host - 1);
	host[sizeof host - 1] = '\0';
	if (ctx->state_dir != NULL)
		snprintf(out, cap, "%s:%s", host, ctx->state_dir);
	else
		snprintf(out, cap, "%s:pid%ld", host, (long)getpid());
}

static int join_fleet(struct mxtls_ctx *ctx)
{
	char member[1024];
	mxtls_ctx_member_name(ctx, member, sizeof member);
	struct store_redis_opts ro = {.uri = *ctx->shared};
	unsigned lease = ctx->sts_timeout_ms * 3;
	struct sts_cache_fleet_opts o = {.redis = &ro,
					 .member = member,
					 .lease_ms = lease < 5000 ? 5000 : lease,
					 .wait_ms = ctx->sts_timeout_ms,
					 .now = ctx_now,
					 .now_arg = ctx,
					 .log = &ctx->log};
	int rc = sts_cache_join_fleet(ctx->cache, &o);
	explicit_bzero(ro.uri.password, sizeof ro.uri.password);
	return rc;
}

/*
 * Opens the cache: for a blocking caller (wait: the open's errors are reported now), or for the
 * loop (the worker opens it before its first request, so a file locked by another process never
 * stalls the loop; a failed open fails that request, and the decision tempfails).
 */
static int open_cache(struct mxtls_ctx *ctx, bool wait, char *err, size_t errlen)
{
	char path[4096];
	if (ctx->state_dir == NULL) {
		snprintf(path, sizeof path, ":memory:");
	} else {
		/* The state directory is private: policies say where mail may go. */
		if (mkdir(ctx->state_dir, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "state-dir %s: %s", ctx->state_dir, strerror(errno));
			return MXTLS_E_CONFIG;
		}
		if ((size_t)snprintf(path, sizeof path, "%s/%s", ctx->state_dir, STS_CACHE_FILE) >=
		    sizeof path) {
			snprintf(err, errlen, "state-dir: path too long");
			return MXTLS_E_CONFIG;
		}
	}
	int rc;
	if (wait) {
		rc = sts_cache_open(path, &ctx->cache, err, errlen);
	} else if ((rc = sts_cache_open_lazy(path, &ctx->cache)) != MXTLS_OK) {
		snprintf(err, errlen, "cannot start the policy cache's thread");
	}
	if (rc == MXTLS_OK && ctx->shared != NULL && (rc = join_fleet(ctx)) != MXTLS_OK)
		snprintf(err, errlen, "cannot join the fleet's shared store: out of memory");
	return rc;
}

int mxtls_ctx_cache(struct mxtls_ctx *ctx, struct sts_cache **out, char *err, size_t errlen)
{
	if (ctx->cache == NULL) {
		int rc = open_cache(ctx, true, err, errlen);
		if (rc != MXTLS_OK)
			return rc;
	}
	*out = ctx->cache;
	return MXTLS_OK;
}

int mxtls_ctx_lookups(struct mxtls_ctx *ctx, struct dns_resolver **r, struct sts_fetcher **f,
		      struct sts_cache **c, char *err, size_t errlen)
{
	struct event_base *base;
	int rc = mxtls_ctx_resolver(ctx, r, err, errlen);
	if (rc == MXTLS_OK)
		rc = mxtls_ctx_fetcher(ctx, f, err, errlen);
	if (rc == MXTLS_OK && ctx->cache == NULL)
		rc = open_cache(ctx, false, err, errlen);
	if (rc == MXTLS_OK)
		rc = mxtls_ctx_base(ctx, &base, err, errlen);
	/* Cache results reach the loop through an event on it (sts/sts_cache_async.h). */
	if (rc == MXTLS_OK && (rc = sts_cache_async_attach(ctx->cache, base)) != MXTLS_OK)
		snprintf(err, errlen, "cannot watch the policy cache from the event loop");
	if (rc == MXTLS_OK)
		*c = ctx->cache;
	return rc;
}

int mxtls_ctx_wait(struct mxtls_ctx *ctx, const bool *done, char *err, size_t errlen)
{
	while (!*done) {
		/* 1: nothing is pending, so nothing could ever set *done. */
		int rc = ctx->base != NULL ? event_base_loop(ctx->base, EVLOOP_ONCE) : -1;
		if (rc != 0 && !*done) {
			snprintf(err, errlen, "event loop failed");
			return MXTLS_E_INTERNAL;
		}
	}
	return MXTLS_OK;
}

int mxtls_ctx_http(struct mxtls_ctx *ctx, struct http_client **out, char *err, size_t errlen)
{
	struct event_base *base;
	int rc = mxtls_ctx_base(ctx, &base, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	if (ctx->http == NULL && http_client_new(base, &ctx->http) != MXTLS_OK) {
		snprintf(err, errlen, "the HTTPS client cannot be set up");
		return MXTLS_E_NOMEM;
	}
	*out = ctx->http;
	return MXTLS_OK;
}

int mxtls_ctx_pkix(struct mxtls_ctx *ctx, struct dane_pkix **out, char *err, size_t errlen)
{
	if (ctx->pkix == NULL) {
		int rc = dane_pkix_new(ctx->ca_file, &ctx->pkix, err, errlen);
		if (rc != MXTLS_OK)
			return rc;
	}
	*out = ctx->pkix;
	return MXTLS_OK;
}

void mxtls_ctx_runtime_free(struct mxtls_ctx *ctx)
{
	dane_pkix_free(ctx->pkix);
	ctx->pkix = NULL;
	sts_fetcher_free(ctx->fetcher);
	http_client_free(ctx->http);
	ctx->http = NULL;
	dns_resolver_free(ctx->resolver);
	sts_cache_close(ctx->cache);
	store_worker_free(ctx->answers); /* before the loop it delivers on */
	ctx->answers = NULL;
	if (ctx->base != NULL && !ctx->base_borrowed)
		event_base_free(ctx->base);
	ctx->fetcher = NULL;
	ctx->resolver = NULL;
	ctx->cache = NULL;
	ctx->base = NULL;
}
