/* SPDX-License-Identifier: MIT */
/* TLS-RPT for a fleet: each member gives its whole day, one member sends the merged report. */
#include "delivery/delivery_tlsrpt_fleet.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mxtls/error.h>

#include "delivery/delivery_tlsrpt.h"
#include "store/store_redis.h"
#include "tlsrpt/tlsrpt_fleet.h"
#include "tlsrpt/tlsrpt_read.h"
#include "util/util_errmsg.h"

/*
 * How a day's report leaves a fleet once (issue 20; RFC 8460 §4.1: one report per policy
 * domain and day).  Every member's send run:
 *   1. gives its whole day to Redis: for each domain its own report, as it would send it
 *      alone, replacing its previous copy (tlsrpt/tlsrpt_fleet.c says why whole copies), and
 *      marks itself exported for the day and alive in mxtls:tlsrpt-members;
 *   2. for each domain any member has: waits while a member that ran in the last week has not
 *      given this day yet, until TLSRPT_FLEET_DEADLINE after the day ended; then the first
 *      member to take mxtls:tlsrpt-sender:DAY:DOMAIN (SET NX) merges every copy and sends
 *      through its own outbox (retries included, on its later runs); the others skip.
 * The results stay in each member's own file: a member that lost Redis records as before and
 * gives its day whole when Redis is back, so nothing it recorded is lost or counted twice.
 * Without Redis no fleet report is sent (exit 75, the next run tries again): sending each
 * member's own report would break the one report per domain that the receiver counts on.
 * A member that never ran a send run is unknown to the others; the first report after it
 * joins may go without its copy.  A Redis restarted empty forgets the members: see
 * read_epoch().
 */

#define MEMBERS_MAX 4096
#define DOMAINS_MAX 100000
/* A member's copies and the merged hash: reports are capped at 16 MiB when read. */
#define FLEET_HASH_MAX (64u * 1024 * 1024)

struct tlsrpt_fleet_run {
	struct store_redis *r;
	char member[1024];
	int64_t day, now;
	int64_t epoch;   /* when this Redis began to hold the fleet's state (read_epoch()) */
	char **exported; /* the members that gave their whole day */
	size_t nexported;
	char missing[1200]; /* the members that ran in the last week and have not (once per run) */
	size_t nmissing;
};

void delivery_tlsrpt_fleet_end(struct tlsrpt_fleet_run *f)
{
	if (f == NULL)
		return;
	store_redis_free(f->r);
	tlsrpt_strings_free(f->exported, f->nexported);
	free(f);
}

static int unavailable(struct tlsrpt_fleet_run *f, const char *what, int rc, char *err,
		       size_t errlen)
{
	util_errmsg(err, errlen, "shared store: %s: %s", what, store_redis_error(f->r));
	return rc == MXTLS_E_NOMEM ? rc : MXTLS_E_TEMPFAIL;
}

static void day_key(char *buf, size_t cap, const char *prefix, int64_t day, const char *domain)
{
	if (domain != NULL)
		snprintf(buf, cap, "%s%lld:%s", prefix, (long long)day, domain);
	else
		snprintf(buf, cap, "%s%lld", prefix, (long long)day);
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Gives this member's report of each local domain of the day, then marks it exported. */
static int export_day(struct tlsrpt_fleet_run *f, struct mxtls_ctx *ctx, struct tlsrpt_store *st,
		      const char *submitter, char *err, size_t errlen)
{
	char **local = NULL;
	size_t nl = 0;
	int rc = tlsrpt_store_domains(st, f->day, &local, &nl, err, errlen);
	char key[600];
	for (size_t i = 0; rc == MXTLS_OK && i < nl; i++) {
		struct delivery_tlsrpt_built b;
		rc = delivery_tlsrpt_build(ctx, st, f->day, local[i], submitter, &b, err, errlen);
		if (rc != MXTLS_OK || b.json == NULL)
			continue;
		day_key(key, sizeof key, "mxtls:tlsrpt:", f->day, local[i]);
		rc = store_redis_hset_bytes(f->r, key, f->member, b.json, b.jlen,
					    TLSRPT_FLEET_KEEP);
		delivery_tlsrpt_built_clear(&b);
		if (rc != MXTLS_OK) {
			rc = unavailable(f, "giving the day's results", rc, err, errlen);
			break;
		}
		day_key(key, sizeof key, "mxtls:tlsrpt-domains:", f->day, NULL);
		if ((rc = store_redis_sadd_expire(f->r, key, local[i], TLSRPT_FLEET_KEEP)) !=
		    MXTLS_OK)
			rc = unavailable(f, "giving the day's domains", rc, err, errlen);
	}
	tlsrpt_strings_free(local, nl);
	if (rc != MXTLS_OK)
		return rc;
	/* A member, and alive. */
	char at[24];
	snprintf(at, sizeof at, "%lld", (long long)f->now);
	if ((rc = store_redis_hset_bytes(f->r, "mxtls:tlsrpt-members", f->member, at, strlen(at),
					 TLSRPT_FLEET_KEEP)) != MXTLS_OK)
		return unavailable(f, "marking the member alive", rc, err, errlen);
	/* Given whole: only a copy made after the day ended (one made during it lacks the rest of
	 * the day), and only once every copy is in. */
	if (f->now < (f->day + 1) * 86400)
		return MXTLS_OK;
	day_key(key, sizeof key, "mxtls:tlsrpt-exported:", f->day, NULL);
	if ((rc = store_redis_sadd_expire(f->r, key, f->member, TLSRPT_FLEET_KEEP)) != MXTLS_OK)
		return unavailable(f, "marking the day given", rc, err, errlen);
	return MXTLS_OK;
}

/*
 * When this Redis began to hold the fleet's TLS-RPT state (mxtls:tlsrpt-epoch, set by the first
 * member that finds it missing).  A Redis that restarted empty has forgotten the members and
 * their copies: the reports of a day that began before that moment wait for the deadline, so
 * that every member has given its whole day again first (a member forgotten by Redis would
 * otherwise be left out of the report, and its results lost).
 */
static int read_epoch(struct tlsrpt_fleet_run *f, char *err, size_t errlen)
{
	char buf[32], at[24];
	snprintf(at, sizeof at, "%lld", (long long)f->now);
	bool set = false;
	int rc = store_redis_set_nx(f->r, "mxtls:tlsrpt-epoch", at, 4000000000u, &set);
	if (rc == MXTLS_OK)
		rc = store_redis_get(f->r, "mxtls:tlsrpt-epoch", buf, sizeof buf);
	if (rc == MXTLS_E_SYNTAX || rc == MXTLS_E_NOTFOUND) {
		f->epoch = f->now; /* unreadable: as if it began now (the cautious reading) */
		return MXTLS_OK;
	}
	if (rc != MXTLS_OK)
		return unavailable(f, "reading the epoch", rc, err, errlen);
	char *end;
	long long v = strtoll(buf, &end, 10);
	f->epoch = *end == '\0' && v > 0 && v <= f->now + 86400 ? v : f->now;
	return MXTLS_OK;
}

/* The members that ran in the last week and have not given the day yet, into holder. */
static int missing_members(struct tlsrpt_fleet_run *f, char *holder, size_t cap, size_t *nmiss,
			   char *err, size_t errlen)
{
	struct store_field *m;
	size_t nm;
	*nmiss = 0;
	holder[0] = '\0';
	int rc = store_redis_hgetall_capped(f->r, "mxtls:tlsrpt-members", MEMBERS_MAX,
					    MEMBERS_MAX * 1200, &m, &nm);
	if (rc == MXTLS_E_NOTFOUND)
		return MXTLS_OK;
	if (rc != MXTLS_OK)
		return unavailable(f, "reading the members", rc, err, errlen);
	for (size_t i = 0; i < nm; i++) {
		long long last = strtoll(m[i].value, NULL, 10);
		if (last < f->now - TLSRPT_FLEET_MEMBER_SILENT)
			continue;
		bool given = false;
		for (size_t k = 0; k < f->nexported && !given; k++)
			given = strcmp(f->exported[k], m[i].name) == 0;
		if (given)
			continue;
		size_t used = strlen(holder);
		snprintf(holder + used, cap - used, "%s%s", used ? ", " : "", m[i].name);
		(*nmiss)++;
	}
	store_fields_free(m, nm);
	return MXTLS_OK;
}

int delivery_tlsrpt_fleet_begin(struct mxtls_ctx *ctx, struct tlsrpt_store *st, int64_t day,
				const char *submitter, int64_t now, struct tlsrpt_fleet_run **out,
				char ***domains, size_t *n, char *err, size_t errlen)
{
	*out = NULL;
	*domains = NULL;
	*n = 0;
	struct tlsrpt_fleet_run *f = calloc(1, sizeof *f);
	if (f == NULL)
		return MXTLS_E_NOMEM;
	struct store_redis_opts o = {.uri = *ctx->shared};
	int rc = store_redis_new(&o, &f->r);
	explicit_bzero(o.uri.password, sizeof o.uri.password);
	if (rc != MXTLS_OK) {
		free(f);
		return rc;
	}
	mxtls_ctx_member_name(ctx, f->member, sizeof f->member);
	f->day = day;
	f->now = now;
	char key[600];
	if ((rc = read_epoch(f, err, errlen)) == MXTLS_OK &&
	    (rc = export_day(f, ctx, st, submitter, err, errlen)) == MXTLS_OK) {
		day_key(key, sizeof key, "mxtls:tlsrpt-exported:", day, NULL);
		if ((rc = store_redis_smembers(f->r, key, MEMBERS_MAX, &f->exported,
					       &f->nexported)) != MXTLS_OK)
			rc = unavailable(f, "reading who gave the day", rc, err, errlen);
		else
			rc = missing_members(f, f->missing, sizeof f->missing, &f->nmissing, err,
					     errlen);
	}
	if (rc == MXTLS_OK) {
		day_key(key, sizeof key, "mxtls:tlsrpt-domains:", day, NULL);
		if ((rc = store_redis_smembers(f->r, key, DOMAINS_MAX, domains, n)) != MXTLS_OK)
			rc = unavailable(f, "reading the day's domains", rc, err, errlen);
	}
	if (rc != MXTLS_OK) {
		delivery_tlsrpt_fleet_end(f);
		return rc;
	}
	if (*n > 1)
		qsort(*domains, *n, sizeof **domains, cmp_strp);
	*out = f;
	return MXTLS_OK;
}

/* Every member's copy of domain's day, merged. */
static int merge_copies(struct tlsrpt_fleet_run *f, const char *domain, struct tlsrpt_day **merged,
			char *err, size_t errlen)
{
	char key[600];
	day_key(key, sizeof key, "mxtls:tlsrpt:", f->day, domain);
	struct store_field *c;
	size_t nc;
	int rc = store_redis_hgetall_capped(f->r, key, TLSRPT_FLEET_MEMBERS_MAX, FLEET_HASH_MAX, &c,
					    &nc);
	if (rc == MXTLS_E_NOTFOUND) {
		c = NULL;
		nc = 0;
	} else if (rc != MXTLS_OK) {
		return unavailable(f, "reading the members' results", rc, err, errlen);
	}
	const char **json = nc > 0 ? calloc(nc, sizeof *json) : NULL;
	size_t *len = nc > 0 ? calloc(nc, sizeof *len) : NULL;
	if (nc > 0 && (json == NULL || len == NULL)) {
		free(json);
		free(len);
		store_fields_free(c, nc);
		return MXTLS_E_NOMEM;
	}
	for (size_t i = 0; i < nc; i++) {
		json[i] = c[i].value;
		len[i] = c[i].value_len;
	}
	size_t skipped = 0;
	rc = tlsrpt_fleet_merge(json, len, nc, domain, merged, &skipped, err, errlen);
	if (rc == MXTLS_OK && skipped == 0)
		err[0] = '\0';
	free(json);
	free(len);
	store_fields_free(c, nc);
	return rc;
}

int delivery_tlsrpt_fleet_turn(struct tlsrpt_fleet_run *f, const char *domain, bool have_outbox,
			       enum tlsrpt_fleet_turn *turn, struct tlsrpt_day **merged,
			       char *holder, size_t holderlen, char *err, size_t errlen)
{
	*merged = NULL;
	holder[0] = '\0';
	char key[600];
	day_key(key, sizeof key, "mxtls:tlsrpt-sender:", f->day, domain);
	int rc = store_redis_get(f->r, key, holder, holderlen);
	if (rc == MXTLS_OK) {
		*turn = strcmp(holder, f->member) == 0 ? TLSRPT_FLEET_OURS : TLSRPT_FLEET_THEIRS;
		if (*turn == TLSRPT_FLEET_THEIRS || have_outbox)
			return MXTLS_OK;
	} else if (rc != MXTLS_E_NOTFOUND) {
		return unavailable(f, "reading who sends", rc, err, errlen);
	} else {
		/* Nobody sends it yet: not before the day is over (every member still records
		 * sessions of it), then not before every member's copy is in or the deadline
		 * passed; then try to be the one. */
		if (f->now < (f->day + 1) * 86400) {
			snprintf(holder, holderlen, "every member (the day is not over)");
			*turn = TLSRPT_FLEET_WAITING;
			return MXTLS_OK;
		}
		/* Who is missing was read once for the run (delivery_tlsrpt_fleet_begin()). */
		size_t nmiss = f->nmissing;
		snprintf(holder, holderlen, "%s", f->missing);
		int64_t deadline = (f->day + 1) * 86400 + TLSRPT_FLEET_DEADLINE;
		bool forgotten = f->epoch > f->day * 86400;
		if ((nmiss > 0 || forgotten) && f->now < deadline) {
			if (forgotten) {
				char when[64];
				time_t dl = (time_t)deadline;
				struct tm tm;
				strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ",
					 gmtime_r(&dl, &tm));
				snprintf(holder, holderlen,
					 "every member (the shared store began after the day did: "
					 "waiting until %s)",
					 when);
			}
			*turn = TLSRPT_FLEET_WAITING;
			return MXTLS_OK;
		}
		bool ours = false;
		/* Kept for the days a report may be retried (RFC 8460 §5.5 gives up after one). */
		rc = store_redis_set_nx(f->r, key, f->member, 3u * 86400 * 1000, &ours);
		if (rc != MXTLS_OK)
			return unavailable(f, "taking the report", rc, err, errlen);
		if (!ours) {
			rc = store_redis_get(f->r, key, holder, holderlen);
			*turn = TLSRPT_FLEET_THEIRS;
			return rc == MXTLS_OK || rc == MXTLS_E_NOTFOUND
				       ? MXTLS_OK
				       : unavailable(f, "reading who sends", rc, err, errlen);
		}
		snprintf(holder, holderlen, "%s", f->member);
		*turn = TLSRPT_FLEET_OURS;
	}
	return merge_copies(f, domain, merged, err, errlen);
}
