/* SPDX-License-Identifier: MIT */
/* Proactive refresh of cached MTA-STS policies with bounded concurrency and jitter. */
#include "validator/sts_refresh.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <mxtls/error.h>

#include "sts/sts_cache_async.h"

struct slot {
	struct sts_refresh *owner;
	struct event *delay;          /* the jitter before the fetch */
	struct sts_resolve *resolve;  /* the running fetch */
	size_t index;                 /* into domains[] */
};

struct sts_refresh {
	struct dns_resolver *r;
	struct sts_fetcher *f;
	struct sts_cache *c;
	struct sts_refresh_opts opts;
	sts_refresh_callback cb;
	void *arg;
	char (*domains)[256];
	size_t n, next, running;
	size_t nslots;
	struct sts_cache_op *list_op; /* the cache's list of due domains, read by its worker */
	struct slot *slots;
	struct event *done_ev; /* reports completion from the loop, never from the start call */
	struct sts_refresh_stats stats;
	unsigned seed;
};

static void start_next(struct sts_refresh *s, struct slot *slot);

static void on_done_event(evutil_socket_t fd, short what, void *arg)
{
	struct sts_refresh *s = arg;
	struct sts_refresh_stats stats = s->stats;
	sts_refresh_callback cb = s->cb;
	void *cbarg = s->arg;
	sts_refresh_cancel(s);
	cb(cbarg, &stats);
}

static void on_resolved(void *arg, struct sts_resolve_result *res)
{
	struct slot *slot = arg;
	struct sts_refresh *s = slot->owner;
	slot->resolve = NULL;
	s->running--;
	if (res != NULL && res->fetched && res->source == STS_SOURCE_NETWORK)
		s->stats.refreshed++;
	else
		s->stats.failed++;
	sts_resolve_result_free(res);
	start_next(s, slot);
}

static void on_delay(evutil_socket_t fd, short what, void *arg)
{
	struct slot *slot = arg;
	struct sts_refresh *s = slot->owner;
	struct sts_resolve_req req = {.domain = s->domains[slot->index], .now = s->opts.now,
				      .refresh = true, .log = s->opts.log,
				      .log_id = s->opts.log_id};
	if (sts_resolve_start(s->r, s->f, s->c, &req, on_resolved, slot, &slot->resolve) !=
	    MXTLS_OK) {
		s->stats.failed++;
		s->running--;
		start_next(s, slot);
	}
}

/* Gives slot the next due domain, or reports completion when none is left. */
static void start_next(struct sts_refresh *s, struct slot *slot)
{
	if (s->next == s->n) {
		if (s->running == 0)
			event_active(s->done_ev, 0, 0);
		return;
	}
	slot->index = s->next++;
	s->running++;
	unsigned ms = s->opts.jitter_ms ? (unsigned)rand_r(&s->seed) % (s->opts.jitter_ms + 1) : 0;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	evtimer_add(slot->delay, &tv);
}

/* The due domains from the cache's worker: one slot per concurrent refresh, then start. */
static void on_listed(void *arg, int rc, char (*domains)[256], size_t nd)
{
	struct sts_refresh *s = arg;
	s->list_op = NULL;
	s->domains = domains;
	s->n = nd;
	if (rc != MXTLS_OK)
		/* Nothing is refreshed this time; the policies in force stay in force. */
		util_log_kv(s->opts.log, MXTLS_LOG_WARNING, s->opts.log_id, "sts-cache-read-failed",
			    "reason", mxtls_strerror(rc), (const char *)NULL);
	s->stats.due = s->n;
	size_t nslots = s->opts.concurrency < s->n ? s->opts.concurrency : s->n;
	if ((s->slots = calloc(nslots > 0 ? nslots : 1, sizeof *s->slots)) == NULL)
		nslots = 0;
	for (size_t i = 0; i < nslots; i++) {
		s->slots[i].owner = s;
		if ((s->slots[i].delay = evtimer_new(s->opts.base, on_delay, &s->slots[i])) ==
		    NULL)
			break; /* out of memory: fewer at a time */
		s->nslots++;
	}
	if (s->nslots == 0 && s->n > 0) {
		s->stats.failed = s->n;
		s->n = 0;
	}
	for (size_t i = 0; i < s->nslots; i++)
		start_next(s, &s->slots[i]);
	if (s->n == 0)
		event_active(s->done_ev, 0, 0);
}

int sts_refresh_start(struct dns_resolver *r, struct sts_fetcher *f, struct sts_cache *c,
		      const struct sts_refresh_opts *opts, sts_refresh_callback cb, void *arg,
		      struct sts_refresh **out)
{
	struct event_base *base = opts->base;
	struct sts_refresh *s = calloc(1, sizeof *s);
	if (s == NULL)
		return MXTLS_E_NOMEM;
	s->r = r;
	s->f = f;
	s->c = c;
	s->opts = *opts;
	if (s->opts.concurrency == 0)
		s->opts.concurrency = 1;
	s->cb = cb;
	s->arg = arg;
	s->seed = (unsigned)opts->now ^ (unsigned)(uintptr_t)s;
	int rc = MXTLS_E_NOMEM;
	if ((s->done_ev = event_new(base, -1, 0, on_done_event, s)) != NULL)
		rc = sts_cache_async_list_due(c, opts->now - opts->older_than, on_listed, s,
					      &s->list_op);
	if (rc != MXTLS_OK) {
		sts_refresh_cancel(s);
		return rc;
	}
	if (out != NULL)
		*out = s;
	return MXTLS_OK;
}

void sts_refresh_cancel(struct sts_refresh *s)
{
	if (s == NULL)
		return;
	sts_cache_async_cancel(s->list_op);
	for (size_t i = 0; s->slots != NULL && i < s->nslots; i++) {
		if (s->slots[i].delay != NULL)
			event_free(s->slots[i].delay);
		sts_resolve_cancel(s->slots[i].resolve);
	}
	if (s->done_ev != NULL)
		event_free(s->done_ev);
	free(s->slots);
	free(s->domains);
	free(s);
}
