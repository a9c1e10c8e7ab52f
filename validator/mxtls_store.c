/* SPDX-License-Identifier: MIT */
/* mxtls_store_status: the local policy cache and, in fleet mode, the shared store's state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>
#include <mxtls/store.h>

#include "store/store_uri.h"
#include "sts/sts_cache.h"
#include "validator/mxtls_ctx.h"

int mxtls_store_status(struct mxtls_ctx *ctx, struct mxtls_store_status *out, char *err,
		       size_t errlen)
{
	if (ctx == NULL || out == NULL)
		return MXTLS_E_INVAL;
	memset(out, 0, sizeof *out);
	out->backend = ctx->shared != NULL ? "redis" : "local";
	if (ctx->state_dir != NULL)
		snprintf(out->local_path, sizeof out->local_path, "%s/%s", ctx->state_dir,
			 STS_CACHE_FILE);
	else
		snprintf(out->local_path, sizeof out->local_path, ":memory:");
	struct sts_cache *c;
	int rc = mxtls_ctx_cache(ctx, &c, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	out->local_policies = sts_cache_count(c);
	if (out->local_policies < 0)
		snprintf(out->local_error, sizeof out->local_error, "%s",
			 mxtls_strerror((int)out->local_policies));
	if (ctx->shared == NULL)
		return MXTLS_OK;
	store_uri_display(ctx->shared, out->shared, sizeof out->shared);
	out->shares_answers = mxtls_shared_answers(ctx);
	struct sts_cache_fleet_status *s = calloc(1, sizeof *s);
	if (s == NULL)
		return MXTLS_E_NOMEM;
	rc = sts_cache_fleet_status(c, s);
	if (rc == MXTLS_OK) {
		snprintf(out->member, sizeof out->member, "%s", s->member);
		out->reachable = s->reachable;
		out->rtt_us = s->rtt_us;
		snprintf(out->error, sizeof out->error, "%s", s->error);
		out->policies = s->policies;
		out->leases = s->leases;
		out->answers = s->answers;
		for (size_t i = 0; i < s->nmembers && i < MXTLS_STORE_MEMBERS_MAX; i++) {
			struct mxtls_store_member *m = &out->members[out->nmembers++];
			snprintf(m->name, sizeof m->name, "%s", s->members[i].name);
			m->last_sync = s->members[i].last_sync;
			m->policies = s->members[i].policies;
		}
	}
	free(s);
	return rc;
}
