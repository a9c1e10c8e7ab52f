/* SPDX-License-Identifier: MIT */
/* The cache worker's fleet side: local file first, then Redis; newer fetches win both ways. */
#include "sts/sts_cache_sync.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mxtls/error.h>

#include "sts/sts_cache_fleet.h"

/*
 * The rules (doc/fleet.md, issue 20):
 *  - The local file is written first and is what a decision reads; Redis never replaces a local
 *    policy with an older one, and a Redis that is down, slow or holding garbage only means that
 *    the member works alone (RFC 8461 §5.1: a policy it fetched keeps protecting it).
 *  - A read copies a newer fetch from Redis into the local file ("a policy seen by any member
 *    protects all members"), and pushes the local entry when Redis lacks it or holds an older
 *    one (Redis restarted or flushed).
 *  - After every (re)connection the whole local file is pushed, a page at a time between
 *    requests, so what a member learnt while Redis was away reaches the others.
 *  - The proactive refresh takes a lease per domain (SET NX PX): a domain another member is
 *    refreshing, or refreshed since the cutoff, is left out; a lease outlives a dead holder by
 *    lease_ms at most.
 *  - A first fetch (no policy of the current id in the local file) takes the same lease
 *    (claim()): a member that meets a domain while another fetches it waits for that fetch
 *    (sts/sts_cache_claim.c) instead of fetching too.  The lease goes back when the fetch is
 *    stored, failed, or given up.
 */

#define RESYNC_PAGE 256

static int64_t now_of(const struct sts_cache *c)
{
	return c->now != NULL ? c->now(c->now_arg) : (int64_t)time(NULL);
}

/* Records an event for the log, with up to three key-value pairs (NULL-terminated); emitted
 * later on the thread that uses the cache (sts_cache_worker_emit_notes()). */
static void note(struct sts_cache *c, enum mxtls_log_level level, const char *event, ...)
{
	pthread_mutex_lock(&c->mu);
	if (c->nnotes == sizeof c->notes / sizeof c->notes[0]) {
		if (c->notes_dropped == 0 || level < c->dropped_level)
			c->dropped_level = level;
		c->notes_dropped++;
		pthread_mutex_unlock(&c->mu);
		return;
	}
	struct sts_cache_note *n = &c->notes[c->nnotes++];
	memset(n, 0, sizeof *n);
	n->level = level;
	snprintf(n->event, sizeof n->event, "%s", event);
	va_list ap;
	va_start(ap, event);
	for (size_t i = 0; i < 3; i++) {
		const char *k = va_arg(ap, const char *);
		if (k == NULL)
			break;
		const char *v = va_arg(ap, const char *);
		snprintf(n->kv[i][0], sizeof n->kv[i][0], "%s", k);
		snprintf(n->kv[i][1], sizeof n->kv[i][1], "%s", v != NULL ? v : "-");
	}
	va_end(ap);
	pthread_mutex_unlock(&c->mu);
}

static void synced(struct sts_cache *c, int64_t now)
{
	pthread_mutex_lock(&c->mu);
	c->last_sync = now;
	pthread_mutex_unlock(&c->mu);
}

/* A failure of Redis is noted once per outage (the client pauses after it, and the calls
 * made during the pause fail at once without a new failure); a reply that is garbage each time. */
static void redis_failed(struct sts_cache *c, const char *what, int rc)
{
	struct store_redis *r = sts_fleet_redis(c->fleet);
	if (rc == MXTLS_E_SYNTAX) {
		note(c, MXTLS_LOG_WARNING, "fleet-reply-rejected", "op", what, "reason",
		     store_redis_error(r), (const char *)NULL);
		return;
	}
	struct store_redis_health h;
	store_redis_health(r, &h);
	if (h.failures != c->failures_noted) {
		c->failures_noted = h.failures;
		note(c, MXTLS_LOG_WARNING, "fleet-unavailable", "op", what, "reason",
		     store_redis_error(r), (const char *)NULL);
	}
}

/* Pushes e (the local entry) when it is newer than Redis's copy. */
static void push(struct sts_cache *c, const struct sts_cache_entry *e, bool replace_garbage)
{
	int64_t now = now_of(c);
	bool stored = false;
	int rc = sts_fleet_put(c->fleet, e, now, replace_garbage, &stored);
	if (rc == MXTLS_OK && stored)
		synced(c, now);
	else if (rc != MXTLS_OK)
		redis_failed(c, "put", rc);
}

/* After a local read of op->domain: take a newer fetch from Redis, or give ours. */
static void merge(struct sts_cache *c, struct sts_cache_op *op)
{
	struct sts_cache_read *r = &op->read;
	if (r->rc != MXTLS_OK && r->rc != MXTLS_E_NOTFOUND)
		return; /* the local file failed: the caller gets that, not a guess */
	int64_t now = now_of(c);
	struct sts_cache_entry remote;
	char why[256] = "";
	int rc = sts_fleet_get(c->fleet, op->domain, now, &remote, why, sizeof why);
	bool have_local = r->rc == MXTLS_OK;
	if (rc == MXTLS_OK) {
		if (!have_local || remote.fetched_at > r->entry.fetched_at) {
			/* Another member fetched it (later): the local file takes it first. */
			int prc = sts_cache_db_put(c->db, &remote);
			if (prc != MXTLS_OK) {
				note(c, MXTLS_LOG_WARNING, "fleet-copy-failed", "domain",
				     op->domain, "reason", sts_cache_db_errmsg(c->db),
				     (const char *)NULL);
				sts_cache_entry_clear(&remote);
				return;
			}
			char at[24];
			snprintf(at, sizeof at, "%lld", (long long)remote.fetched_at);
			note(c, MXTLS_LOG_INFO, "fleet-policy-learned", "domain", op->domain, "id",
			     remote.id, "fetched_at", at, (const char *)NULL);
			sts_cache_entry_clear(&r->entry);
			r->entry = remote;
			r->rc = MXTLS_OK;
			/* sts_cache_db_put() cleared the back-off record: so does the read. */
			r->has_failure = false;
			return;
		}
		bool older = remote.fetched_at < r->entry.fetched_at;
		sts_cache_entry_clear(&remote);
		if (older)
			push(c, &r->entry, false);
		return;
	}
	if (rc == MXTLS_E_SYNTAX) {
		/* Garbage is never used; the local entry replaces it when there is one. */
		note(c, MXTLS_LOG_WARNING, "fleet-value-rejected", "domain", op->domain, "reason",
		     why, (const char *)NULL);
		if (have_local)
			push(c, &r->entry, true);
		return;
	}
	if (rc == MXTLS_E_NOTFOUND) {
		if (have_local)
			push(c, &r->entry,
			     false); /* Redis restarted, was flushed, or never had it */
		return;
	}
	redis_failed(c, "get", rc);
}

/* The due list without the domains another member refreshes or refreshed since the cutoff. */
static void filter_due(struct sts_cache *c, struct sts_cache_op *op)
{
	if (op->read.rc != MXTLS_OK)
		return;
	int64_t now = now_of(c);
	size_t kept = 0;
	for (size_t i = 0; i < op->ndomains; i++) {
		const char *d = op->domains[i];
		struct sts_cache_entry remote;
		char why[256];
		int rc = sts_fleet_get(c->fleet, d, now, &remote, why, sizeof why);
		if (rc == MXTLS_OK && remote.fetched_at > op->now) {
			/* Refreshed by another member: take it, no fetch of ours. */
			struct sts_cache_entry local;
			memset(&local, 0, sizeof local); /* left alone by a failed read */
			bool newer = sts_cache_db_get(c->db, d, &local) != MXTLS_OK ||
				     local.fetched_at < remote.fetched_at;
			if (newer && sts_cache_db_put(c->db, &remote) == MXTLS_OK)
				note(c, MXTLS_LOG_INFO, "fleet-refresh-skipped", "domain", d,
				     "reason", "refreshed-by-fleet", (const char *)NULL);
			sts_cache_entry_clear(&local);
			sts_cache_entry_clear(&remote);
			continue;
		}
		if (rc == MXTLS_OK)
			sts_cache_entry_clear(&remote);
		bool acquired = true; /* Redis away: refresh ourselves (safety over savings) */
		rc = sts_fleet_lease(c->fleet, d, &acquired);
		if (rc != MXTLS_OK)
			redis_failed(c, "lease", rc);
		if (rc == MXTLS_OK && !acquired) {
			note(c, MXTLS_LOG_INFO, "fleet-refresh-skipped", "domain", d, "reason",
			     "leased-by-another-member", (const char *)NULL);
			continue;
		}
		if (kept != i)
			memcpy(op->domains[kept], d, sizeof op->domains[kept]);
		kept++;
	}
	op->ndomains = kept;
}

/* Another member's fetch of op->id, taken into the local file: true when r holds it. */
static bool take_fetched(struct sts_cache *c, struct sts_cache_op *op, int64_t now, int *grc)
{
	struct sts_cache_read *r = &op->read;
	struct sts_cache_entry remote;
	char why[256] = "";
	int rc = *grc = sts_fleet_get(c->fleet, op->domain, now, &remote, why, sizeof why);
	if (rc == MXTLS_OK) {
		/* RFC 8461 §3.3: a policy of the current id needs no fetch. */
		if (strcmp(remote.id, op->id) == 0) {
			if (sts_cache_db_put(c->db, &remote) != MXTLS_OK) {
				note(c, MXTLS_LOG_WARNING, "fleet-copy-failed", "domain",
				     op->domain, "reason", sts_cache_db_errmsg(c->db),
				     (const char *)NULL);
				sts_cache_entry_clear(&remote);
				return false; /* what the file lacks is not taken from Redis */
			}
			note(c, MXTLS_LOG_INFO, "fleet-policy-learned", "domain", op->domain, "id",
			     remote.id, "reason", "fetched-by-another-member", (const char *)NULL);
			r->entry = remote;
			r->rc = MXTLS_OK;
			return true;
		}
		sts_cache_entry_clear(&remote);
	} else if (rc == MXTLS_E_SYNTAX) {
		note(c, MXTLS_LOG_WARNING, "fleet-value-rejected", "domain", op->domain, "reason",
		     why, (const char *)NULL);
	} else if (rc != MXTLS_E_NOTFOUND) {
		redis_failed(c, "get", rc);
	}
	return false;
}

/*
 * Before a first fetch of op->domain's policy op->id: another member's fetch of that id (copied
 * into the local file first; rc MXTLS_OK), or another member fetching it now (the lease is
 * held: MXTLS_E_TEMPFAIL, ask again), or this member fetches (MXTLS_E_NOTFOUND: the lease is
 * ours, or Redis failed: a Redis that does not answer never stops a fetch).
 */
static void claim(struct sts_cache *c, struct sts_cache_op *op)
{
	struct sts_cache_read *r = &op->read;
	r->rc = MXTLS_E_NOTFOUND;
	int64_t now = now_of(c);
	int rc;
	if (take_fetched(c, op, now, &rc) || (rc != MXTLS_OK && rc != MXTLS_E_NOTFOUND &&
					      rc != MXTLS_E_SYNTAX))
		return; /* taken, or Redis failed: fetch */
	bool acquired = true;
	rc = sts_fleet_lease(c->fleet, op->domain, &acquired);
	if (rc != MXTLS_OK) {
		redis_failed(c, "lease", rc);
		return;
	}
	if (!acquired) {
		r->rc = MXTLS_E_TEMPFAIL;
		return;
	}
	/* The holder may have stored its fetch and given the lease back between the two calls
	 * (bench-fleet saw 69 domains of 20 000 fetched twice so): look once more. */
	if (take_fetched(c, op, now, &rc))
		sts_fleet_release(c->fleet, op->domain);
}

static void status(struct sts_cache *c, struct sts_cache_op *op)
{
	struct sts_cache_fleet_status *s = op->status;
	struct store_redis *r = sts_fleet_redis(c->fleet);
	s->joined = true;
	snprintf(s->member, sizeof s->member, "%s", sts_fleet_member(c->fleet));
	s->policies = s->leases = s->answers = -1;
	int rc = store_redis_ping(r, &s->rtt_us);
	s->reachable = rc == MXTLS_OK;
	if (s->reachable) {
		store_redis_scan(r, STS_FLEET_POLICY_PREFIX "*", 10000000, &s->policies, NULL,
				 NULL);
		store_redis_scan(r, STS_FLEET_LEASE_PREFIX "*", 10000000, &s->leases, NULL, NULL);
		/* policyd's sealed answers (validator/mxtls_shared_answer.c): counted only. */
		store_redis_scan(r, "mxtls:answer:*", 10000000, &s->answers, NULL, NULL);
		char **names = NULL;
		size_t nn = STS_FLEET_MEMBERS_MAX;
		long nm;
		if (store_redis_scan(r, STS_FLEET_MEMBER_PREFIX "*", STS_FLEET_MEMBERS_MAX, &nm,
				     &names, &nn) == MXTLS_OK) {
			for (size_t i = 0; i < nn; i++) {
				struct store_field *f;
				size_t nf;
				if (store_redis_hgetall(r, names[i], &f, &nf) == MXTLS_OK) {
					size_t k = s->nmembers++;
					snprintf(s->members[k].name, sizeof s->members[k].name,
						 "%s", names[i] + strlen(STS_FLEET_MEMBER_PREFIX));
					for (size_t j = 0; j < nf; j++) {
						if (strcmp(f[j].name, "last_sync") == 0)
							s->members[k].last_sync =
								strtoll(f[j].value, NULL, 10);
						else if (strcmp(f[j].name, "policies") == 0)
							s->members[k].policies =
								strtol(f[j].value, NULL, 10);
					}
					store_fields_free(f, nf);
				}
				free(names[i]);
			}
			free(names);
		}
	}
	struct store_redis_health h;
	store_redis_health(r, &h);
	snprintf(s->error, sizeof s->error, "%s", s->reachable ? "" : store_redis_error(r));
	s->failures = h.failures;
	s->reconnects = h.reconnects;
	pthread_mutex_lock(&c->mu);
	s->last_sync = c->last_sync;
	pthread_mutex_unlock(&c->mu);
}

void sts_cache_sync_after(struct sts_cache *c, struct sts_cache_op *op)
{
	if (c->fleet == NULL || c->db == NULL)
		return;
	switch (op->kind) {
	case STS_CACHE_GET:
	case STS_CACHE_READ:
		merge(c, op);
		break;
	case STS_CACHE_PUT:
		if (op->read.rc == MXTLS_OK) {
			push(c, op->put, true);
			int rc = sts_fleet_release(c->fleet, op->put->domain);
			if (rc == MXTLS_OK)
				sts_fleet_heartbeat(c->fleet, now_of(c), sts_cache_db_count(c->db));
		}
		break;
	case STS_CACHE_DELETE: {
		/* A purge is a purge for the fleet too, even of a domain this member never had. */
		if (op->read.rc != MXTLS_OK && op->read.rc != MXTLS_E_NOTFOUND)
			break;
		int rc = sts_fleet_delete(c->fleet, op->domain);
		if (rc != MXTLS_OK)
			redis_failed(c, "delete", rc);
		break;
	}
	case STS_CACHE_LIST_DUE:
		filter_due(c, op);
		break;
	case STS_CACHE_CLAIM:
		claim(c, op);
		break;
	case STS_CACHE_NOTE_FAILURE:
	case STS_CACHE_RELEASE: {
		/* A failed or abandoned fetch: the members waiting for it fetch for themselves
		 * (a failure is not shared: each member learns its own). */
		int rc = sts_fleet_release(c->fleet, op->domain);
		if (rc != MXTLS_OK)
			redis_failed(c, "release", rc);
		break;
	}
	case STS_CACHE_FLEET_STATUS:
		status(c, op);
		break;
	default:
		break;
	}
	if (store_redis_take_reconnected(sts_fleet_redis(c->fleet))) {
		c->resync = true;
		c->resync_after[0] = '\0';
		c->resync_count = 0;
	}
}

bool sts_cache_sync_pending(const struct sts_cache *c)
{
	return c->fleet != NULL && c->resync;
}

static int push_one(void *arg, const struct sts_cache_entry *e)
{
	struct sts_cache *c = arg;
	bool stored;
	int rc = sts_fleet_put(c->fleet, e, now_of(c), false, &stored);
	snprintf(c->resync_after, sizeof c->resync_after, "%s", e->domain);
	if (rc == MXTLS_OK && stored)
		c->resync_count++;
	return rc == MXTLS_E_TEMPFAIL ? rc : 0; /* Redis went away again: stop the page */
}

void sts_cache_sync_page(struct sts_cache *c)
{
	if (c->db == NULL) {
		c->resync = false;
		return;
	}
	int visited = 0;
	int rc = sts_cache_db_foreach_after(c->db, c->resync_after, RESYNC_PAGE, push_one, c,
					    &visited);
	if (rc == MXTLS_E_TEMPFAIL) {
		/* Stopped: the next connection starts it again from the first domain. */
		c->resync = false;
		redis_failed(c, "resync", rc);
		return;
	}
	if (rc != MXTLS_OK || visited < RESYNC_PAGE) {
		c->resync = false;
		int64_t now = now_of(c);
		long n = sts_cache_db_count(c->db);
		if (sts_fleet_heartbeat(c->fleet, now, n) == MXTLS_OK)
			synced(c, now);
		char pushed[24], local[24];
		snprintf(pushed, sizeof pushed, "%ld", c->resync_count);
		snprintf(local, sizeof local, "%ld", n);
		note(c, MXTLS_LOG_INFO, "fleet-resynced", "member", sts_fleet_member(c->fleet),
		     "pushed", pushed, "local", local, (const char *)NULL);
	}
}
