/* SPDX-License-Identifier: MIT */
/* Fleet mode: answers shared by the members through Redis, sealed with the fleet's key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>
#include <mxtls/store.h>

#include "store/store_redis.h"
#include "store/store_seal.h"
#include "store/store_worker.h"
#include "validator/mxtls_ctx.h"

/*
 * Why sealed (doc/fleet.md): an answer is what the MTA enforces, down to the certificate names
 * it accepts, for DANE domains as well as MTA-STS ones.  Redis is a cache here, not an
 * authority: a value that does not carry the MAC of the fleet's key (shared-store-key) for this
 * very scope and name, or that has expired, is rejected and logged, and the member decides for
 * itself.  Without the key nothing is shared (the policies still are).
 */

#define KEY_PREFIX "mxtls:answer:"
#define SCOPE_MAX  64

struct mxtls_shared_get {
	struct mxtls_ctx *ctx;
	char scope[SCOPE_MAX + 1];
	char name[STORE_SEAL_NAME_MAX + 1];
	mxtls_shared_answer_cb cb;
	void *arg;
	struct store_worker_req *req;
};

bool mxtls_shared_answers(const struct mxtls_ctx *ctx)
{
	return ctx != NULL && ctx->shared != NULL && ctx->shared_key != NULL;
}

/* scope: letters, digits and "=._-" (it is part of a Redis key), at most SCOPE_MAX bytes. */
static bool scope_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	if (n == 0 || n > SCOPE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("=._-", s[i]) != NULL))
			return false;
	return true;
}

static int redis_key(const char *scope, const char *name, char *out, size_t cap)
{
	if (!scope_ok(scope) || name == NULL || name[0] == '\0' ||
	    strlen(name) > STORE_SEAL_NAME_MAX)
		return MXTLS_E_INVAL;
	return (size_t)snprintf(out, cap, KEY_PREFIX "%s:%s", scope, name) < cap ? MXTLS_OK
										 : MXTLS_E_INVAL;
}

/* The worker on the context's loop, made on first use. */
static int worker(struct mxtls_ctx *ctx, struct store_worker **out)
{
	if (ctx->answers == NULL) {
		struct event_base *base;
		char err[256];
		int rc = mxtls_ctx_base(ctx, &base, err, sizeof err);
		if (rc != MXTLS_OK)
			return rc;
		struct store_redis_opts o = {.uri = *ctx->shared};
		rc = store_worker_new(&o, base, &ctx->answers);
		explicit_bzero(o.uri.password, sizeof o.uri.password);
		if (rc != MXTLS_OK)
			return rc;
	}
	*out = ctx->answers;
	return MXTLS_OK;
}

static void on_value(void *arg, int rc, const char *value, size_t len)
{
	struct mxtls_shared_get *g = arg;
	struct mxtls_ctx *ctx = g->ctx;
	const char *answer = NULL;
	size_t alen = 0;
	int64_t expires = 0;
	if (rc == MXTLS_OK) {
		char why[160] = "";
		rc = store_seal_open(ctx->shared_key, ctx->shared_key_len, g->scope, g->name,
				     util_clock_now(&ctx->clock), value, len, &answer, &alen,
				     &expires, why, sizeof why);
		if (rc == MXTLS_E_SYNTAX)
			util_log_kv(&ctx->log, MXTLS_LOG_WARNING, 0, "fleet-answer-rejected",
				    "domain", g->name, "reason", why, (const char *)NULL);
	} else if (rc == MXTLS_E_SYNTAX) {
		util_log_kv(&ctx->log, MXTLS_LOG_WARNING, 0, "fleet-answer-rejected", "domain",
			    g->name, "reason", "the shared store's reply is not a string",
			    (const char *)NULL);
	}
	mxtls_shared_answer_cb cb = g->cb;
	void *cbarg = g->arg;
	free(g);
	cb(cbarg, rc, rc == MXTLS_OK ? answer : NULL, rc == MXTLS_OK ? alen : 0,
	   rc == MXTLS_OK ? expires : 0);
}

int mxtls_shared_answer_get(struct mxtls_ctx *ctx, const char *scope, const char *name,
			    mxtls_shared_answer_cb cb, void *arg, struct mxtls_shared_get **out)
{
	char key[STORE_SEAL_NAME_MAX + SCOPE_MAX + 32];
	if (cb == NULL || !mxtls_shared_answers(ctx) ||
	    redis_key(scope, name, key, sizeof key) != MXTLS_OK)
		return MXTLS_E_INVAL;
	struct store_worker *w;
	int rc = worker(ctx, &w);
	if (rc != MXTLS_OK)
		return rc;
	struct mxtls_shared_get *g = calloc(1, sizeof *g);
	if (g == NULL)
		return MXTLS_E_NOMEM;
	g->ctx = ctx;
	snprintf(g->scope, sizeof g->scope, "%s", scope);
	snprintf(g->name, sizeof g->name, "%s", name);
	g->cb = cb;
	g->arg = arg;
	rc = store_worker_get(w, key, on_value, g, &g->req);
	if (rc != MXTLS_OK) {
		free(g);
		return rc;
	}
	if (out != NULL)
		*out = g;
	return MXTLS_OK;
}

void mxtls_shared_answer_cancel(struct mxtls_shared_get *g)
{
	if (g == NULL)
		return;
	store_worker_cancel(g->req);
	free(g);
}

int mxtls_shared_answer_put(struct mxtls_ctx *ctx, const char *scope, const char *name,
			    const char *answer, size_t len, int64_t expires)
{
	char key[STORE_SEAL_NAME_MAX + SCOPE_MAX + 32];
	if (!mxtls_shared_answers(ctx) || redis_key(scope, name, key, sizeof key) != MXTLS_OK)
		return MXTLS_E_INVAL;
	int64_t now = util_clock_now(&ctx->clock);
	if (expires <= now)
		return MXTLS_E_INVAL;
	struct store_worker *w;
	int rc = worker(ctx, &w);
	if (rc != MXTLS_OK)
		return rc;
	char *sealed;
	size_t slen;
	rc = store_seal(ctx->shared_key, ctx->shared_key_len, scope, name, expires, answer, len,
			&sealed, &slen);
	if (rc != MXTLS_OK)
		return rc;
	/* Redis drops it when it expires (a day at most: policyd's --max-ttl bounds answers). */
	int64_t ttl_ms = (expires - now) * 1000;
	rc = store_worker_set(w, key, sealed, slen,
			      ttl_ms > 86400000 ? 86400000u : (unsigned)ttl_ms);
	free(sealed);
	return rc;
}
