/* SPDX-License-Identifier: MIT */
/* Fleet mode: a member waits for another member's first fetch of a policy, not fetching too. */
#include "sts/sts_cache_claim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <mxtls/error.h>

#include "sts/sts_cache_worker.h"

/*
 * Why: without it, members that meet a new domain at the same moment (a newsletter to a new
 * domain, spread over the fleet by a load balancer) each fetch its policy, because none finds it
 * in Redis before the first fetch is stored there.  bench-fleet measured 2.39 fetches per domain
 * for three members (N = 20 000) before this; the lease of the proactive refresh
 * (sts_cache_sync.c) now guards the first fetch as well.
 *
 * How: the lease is asked for on the cache's worker (STS_CACHE_CLAIM, which also looks whether
 * the policy is already in Redis).  The waiting is a timer on the loop, never a wait on the worker
 * thread: the worker serves every other request meanwhile.  Each question costs two Redis round
 * trips (HGETALL and SET NX), 20 ms apart at first and at most 320 ms apart later: a fetch on the
 * test network takes 10-40 ms, so most waiters ask two or three times.
 *
 * Safety: the answer is a policy, or "fetch it yourself".  Waiting ends after wait_ms (the fetch
 * time limit, so a member whose holder died fetches within twice the time it would alone), and a
 * Redis that does not answer ends it at once.
 */

#define CLAIM_FIRST_MS 20
#define CLAIM_MAX_MS   320

struct sts_cache_claim {
	struct sts_cache *c;
	char domain[256];
	char id[40];
	sts_cache_read_cb cb;
	void *arg;
	struct sts_cache_op *op; /* the question in the worker's hands, or NULL */
	struct event *timer;     /* the pause before the next question */
	unsigned next_ms;
	struct timespec deadline;
};

bool sts_cache_shared(const struct sts_cache *c)
{
	return c != NULL && c->fleet != NULL;
}

static bool past(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	       (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

static void done(struct sts_cache_claim *cl, struct sts_cache_read *r)
{
	sts_cache_read_cb cb = cl->cb;
	void *arg = cl->arg;
	event_free(cl->timer);
	free(cl);
	cb(arg, r);
}

static void on_answer(void *arg, struct sts_cache_read *r);

static void ask(struct sts_cache_claim *cl)
{
	int rc = sts_cache_async_claim(cl->c, cl->domain, cl->id, on_answer, cl, &cl->op);
	if (rc != MXTLS_OK) {
		struct sts_cache_read r = {.rc = rc};
		done(cl, &r);
	}
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ask(arg);
}

static void on_answer(void *arg, struct sts_cache_read *r)
{
	struct sts_cache_claim *cl = arg;
	cl->op = NULL;
	if (r->rc != MXTLS_E_TEMPFAIL) {
		done(cl, r);
		return;
	}
	/* Another member holds the lease: its fetch is running. */
	if (past(&cl->deadline)) {
		r->rc = MXTLS_E_TIMEOUT;
		done(cl, r);
		return;
	}
	struct timeval tv = {cl->next_ms / 1000, (long)(cl->next_ms % 1000) * 1000};
	cl->next_ms = cl->next_ms * 2 > CLAIM_MAX_MS ? CLAIM_MAX_MS : cl->next_ms * 2;
	if (evtimer_add(cl->timer, &tv) != 0) {
		r->rc = MXTLS_E_NOMEM;
		done(cl, r);
	}
}

int sts_cache_claim_start(struct sts_cache *c, const char *domain, const char *id,
			  sts_cache_read_cb cb, void *arg, struct sts_cache_claim **out)
{
	if (c == NULL || c->base == NULL || domain == NULL || id == NULL || cb == NULL ||
	    strlen(domain) >= sizeof((struct sts_cache_claim *)NULL)->domain ||
	    strlen(id) >= sizeof((struct sts_cache_claim *)NULL)->id)
		return MXTLS_E_INVAL;
	struct sts_cache_claim *cl = calloc(1, sizeof *cl);
	if (cl == NULL)
		return MXTLS_E_NOMEM;
	cl->timer = evtimer_new(c->base, on_timer, cl);
	if (cl->timer == NULL) {
		free(cl);
		return MXTLS_E_NOMEM;
	}
	cl->c = c;
	snprintf(cl->domain, sizeof cl->domain, "%s", domain);
	snprintf(cl->id, sizeof cl->id, "%s", id);
	cl->cb = cb;
	cl->arg = arg;
	cl->next_ms = CLAIM_FIRST_MS;
	clock_gettime(CLOCK_MONOTONIC, &cl->deadline);
	cl->deadline.tv_sec += c->wait_ms / 1000;
	cl->deadline.tv_nsec += (long)(c->wait_ms % 1000) * 1000000L;
	if (cl->deadline.tv_nsec >= 1000000000L) {
		cl->deadline.tv_sec++;
		cl->deadline.tv_nsec -= 1000000000L;
	}
	int rc = sts_cache_async_claim(c, domain, id, on_answer, cl, &cl->op);
	if (rc != MXTLS_OK) {
		event_free(cl->timer);
		free(cl);
		return rc;
	}
	if (out != NULL)
		*out = cl;
	return MXTLS_OK;
}

void sts_cache_claim_cancel(struct sts_cache_claim *cl)
{
	if (cl == NULL)
		return;
	sts_cache_async_cancel(cl->op); /* NULL while the timer runs */
	event_free(cl->timer);
	free(cl);
}
