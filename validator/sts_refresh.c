/* SPDX-License-Identifier: MIT */
/* Proactive refresh of cached MTA-STS policies with bounded concurrency and jitter. */
#include "validator/sts_refresh.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <mxtls/error.h>

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

struct collect {
	struct sts_refresh *s;
	int64_t cutoff;
	int rc;
};

static int collect_due(void *arg, const struct sts_cache_entry *e)
{
	struct collect *c = arg;
	struct sts_refresh *s = c->s;
	if (e->fetched_at > c->cutoff)
		return 0;
	void *grown = realloc(s->domains, (s->n + 1) * sizeof *s->domains);
	if (grown == NULL) {
		c->rc = MXTLS_E_NOMEM;
		return 1;
	}
	s->domains = grown;
	memcpy(s->domains[s->n++], e->domain, sizeof s->domains[0]);
	return 0;
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
	struct collect col = {s, opts->now - opts->older_than, MXTLS_OK};
	int rc = sts_cache_foreach(c, collect_due, &col);
	if (rc == 1)
		rc = col.rc;
	if (rc == MXTLS_OK) {
		s->stats.due = s->n;
		size_t nslots = s->opts.concurrency < s->n ? s->opts.concurrency : s->n;
		s->slots = calloc(nslots > 0 ? nslots : 1, sizeof *s->slots);
		s->done_ev = event_new(base, -1, 0, on_done_event, s);
		if (s->slots == NULL || s->done_ev == NULL)
			rc = MXTLS_E_NOMEM;
		for (size_t i = 0; rc == MXTLS_OK && i < nslots; i++) {
			s->slots[i].owner = s;
			s->slots[i].delay = evtimer_new(base, on_delay, &s->slots[i]);
			if (s->slots[i].delay == NULL)
				rc = MXTLS_E_NOMEM;
		}
		if (rc == MXTLS_OK) {
			for (size_t i = 0; i < nslots; i++)
				start_next(s, &s->slots[i]);
			if (s->n == 0)
				event_active(s->done_ev, 0, 0);
		}
	}
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
	size_t nslots = s->opts.concurrency < s->n ? s->opts.concurrency : s->n;
	for (size_t i = 0; s->slots != NULL && i < nslots; i++) {
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
