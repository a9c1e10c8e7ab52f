/* SPDX-License-Identifier: MIT */
/* The MTA-STS policy cache shared by a fleet in Redis (hashes with TTLs, scripts, leases). */
#include "sts/sts_cache_fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mxtls/error.h>

#include "sts/sts_policy.h"
#include "sts/sts_txt.h"

struct sts_fleet {
	struct store_redis *r;
	char member[256];
	char token[320]; /* a lease's value: member, pid and a random part (who holds it) */
	unsigned lease_ms;
};

/* 2000-01-01T00:00:00Z: no policy was fetched before MTA-STS existed. */
#define FLEET_EPOCH_MIN 946684800

static int bad(char *why, size_t whylen, const char *what, const char *name)
{
	snprintf(why, whylen, "%s%s", what, name);
	return MXTLS_E_SYNTAX;
}

/* Decimal digits only, 1..19 of them: a Unix time. */
static bool unix_seconds(const char *s, size_t n, int64_t *out)
{
	if (n == 0 || n > 18)
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* RFC 8461 §3.1: sts-id = 1*32( ALPHA / DIGIT ). */
static bool sts_id(const char *s, size_t n)
{
	if (n == 0 || n > STS_TXT_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

int sts_fleet_decode(const char *domain, const struct store_field *f, size_t n, int64_t now,
		     struct sts_cache_entry *out, char *why, size_t whylen)
{
	static const char *const names[] = {"v", "id", "fetched_at", "policy"};
	const struct store_field *got[4] = {NULL, NULL, NULL, NULL};
	if (strlen(domain) >= sizeof out->domain)
		return bad(why, whylen, "", "domain name too long");
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < 4; k++)
			if (f[i].name_len == strlen(names[k]) &&
			    memcmp(f[i].name, names[k], f[i].name_len) == 0) {
				if (got[k] != NULL)
					return bad(why, whylen, "a field twice: ", names[k]);
				got[k] = &f[i];
			}
	for (size_t k = 0; k < 4; k++)
		if (got[k] == NULL)
			return bad(why, whylen, "no field ", names[k]);
	if (got[0]->value_len != 1 || got[0]->value[0] != '1')
		return bad(why, whylen, "", "version is not 1");
	if (!sts_id(got[1]->value, got[1]->value_len))
		return bad(why, whylen, "", "id is not 1-32 letters and digits");
	int64_t fetched_at;
	if (!unix_seconds(got[2]->value, got[2]->value_len, &fetched_at) ||
	    fetched_at < FLEET_EPOCH_MIN)
		return bad(why, whylen, "", "fetched_at is not a Unix time after 2000");
	if (fetched_at > now + STS_FLEET_SKEW)
		return bad(why, whylen, "", "fetched_at is in the future");
	struct sts_policy p;
	if (sts_policy_parse(got[3]->value, got[3]->value_len, &p, NULL) != MXTLS_OK)
		return bad(why, whylen, "", "the policy body is not a valid policy");
	struct sts_cache_entry e;
	memset(&e, 0, sizeof e);
	snprintf(e.domain, sizeof e.domain, "%s", domain);
	memcpy(e.id, got[1]->value, got[1]->value_len);
	e.id[got[1]->value_len] = '\0';
	e.mode = p.mode;
	e.max_age = p.max_age;
	e.fetched_at = fetched_at;
	e.expires_at = fetched_at + (int64_t)p.max_age;
	e.last_checked = fetched_at;
	/* The entry takes the parsed patterns; the body is copied. */
	e.mx = p.mx;
	e.nmx = p.nmx;
	p.mx = NULL;
	p.nmx = 0;
	sts_policy_clear(&p);
	e.len = got[3]->value_len;
	if ((e.text = malloc(e.len + 1)) == NULL) {
		sts_cache_entry_clear(&e);
		return MXTLS_E_NOMEM;
	}
	memcpy(e.text, got[3]->value, e.len);
	e.text[e.len] = '\0';
	if (e.expires_at <= now) {
		sts_cache_entry_clear(&e);
		return MXTLS_E_NOTFOUND;
	}
	*out = e;
	return MXTLS_OK;
}

int sts_fleet_new(const struct store_redis_opts *o, const char *member, unsigned lease_ms,
		  struct sts_fleet **out)
{
	struct sts_fleet *f = calloc(1, sizeof *f);
	if (f == NULL)
		return MXTLS_E_NOMEM;
	if (store_redis_new(o, &f->r) != MXTLS_OK) {
		free(f);
		return MXTLS_E_NOMEM;
	}
	snprintf(f->member, sizeof f->member, "%s", member);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(f->token, sizeof f->token, "%s pid=%ld t=%lx", f->member, (long)getpid(),
		 (unsigned long)(ts.tv_nsec ^ ts.tv_sec));
	f->lease_ms = lease_ms;
	*out = f;
	return MXTLS_OK;
}

void sts_fleet_free(struct sts_fleet *f)
{
	if (f == NULL)
		return;
	store_redis_free(f->r);
	free(f);
}

struct store_redis *sts_fleet_redis(struct sts_fleet *f)
{
	return f->r;
}

const char *sts_fleet_member(const struct sts_fleet *f)
{
	return f->member;
}

static int key_of(char *key, size_t cap, const char *prefix, const char *name)
{
	return (size_t)snprintf(key, cap, "%s%s", prefix, name) < cap ? MXTLS_OK : MXTLS_E_INVAL;
}

int sts_fleet_get(struct sts_fleet *f, const char *domain, int64_t now, struct sts_cache_entry *out,
		  char *why, size_t whylen)
{
	char key[300];
	if (key_of(key, sizeof key, STS_FLEET_POLICY_PREFIX, domain) != MXTLS_OK)
		return MXTLS_E_INVAL;
	struct store_field *fields;
	size_t nf;
	int rc = store_redis_hgetall(f->r, key, &fields, &nf);
	if (rc == MXTLS_E_SYNTAX)
		snprintf(why, whylen, "%s", store_redis_error(f->r));
	if (rc != MXTLS_OK)
		return rc;
	rc = sts_fleet_decode(domain, fields, nf, now, out, why, whylen);
	store_fields_free(fields, nf);
	return rc;
}

/*
 * KEYS[1] the policy's key; ARGV: id, fetched_at, policy, ttl, replace_garbage ("1"/"0").
 * Returns 1 when written, 0 when Redis holds a newer (or equally new) fetch, -1 when it holds
 * garbage that it was not told to replace.
 */
static const char put_script[] =
	"local t = redis.call('TYPE', KEYS[1]).ok\n"
	"if t ~= 'none' then\n"
	"  local cur = nil\n"
	"  if t == 'hash' then cur = tonumber(redis.call('HGET', KEYS[1], 'fetched_at')) end\n"
	"  if cur == nil and ARGV[5] ~= '1' then return -1 end\n"
	"  if cur ~= nil and cur >= tonumber(ARGV[2]) then return 0 end\n"
	"  redis.call('DEL', KEYS[1])\n"
	"end\n"
	"redis.call('HSET', KEYS[1], 'v', '1', 'id', ARGV[1], 'fetched_at', ARGV[2],"
	" 'policy', ARGV[3])\n"
	"redis.call('EXPIRE', KEYS[1], ARGV[4])\n"
	"return 1\n";

int sts_fleet_put(struct sts_fleet *f, const struct sts_cache_entry *e, int64_t now,
		  bool replace_garbage, bool *stored)
{
	if (stored != NULL)
		*stored = false;
	if (e->expires_at <= now)
		return MXTLS_OK;
	char key[300], fetched[24], ttl[24];
	if (key_of(key, sizeof key, STS_FLEET_POLICY_PREFIX, e->domain) != MXTLS_OK)
		return MXTLS_E_INVAL;
	snprintf(fetched, sizeof fetched, "%lld", (long long)e->fetched_at);
	snprintf(ttl, sizeof ttl, "%lld", (long long)(e->expires_at - now));
	const char *keys[] = {key};
	const char *args[] = {e->id, fetched, e->text != NULL ? e->text : "", ttl,
			      replace_garbage ? "1" : "0"};
	size_t len[] = {strlen(e->id), strlen(fetched), e->len, strlen(ttl), 1};
	long long res;
	int rc = store_redis_eval_int(f->r, put_script, 1, keys, 5, args, len, &res);
	if (rc == MXTLS_OK && stored != NULL)
		*stored = res == 1;
	return rc;
}

int sts_fleet_lease(struct sts_fleet *f, const char *domain, bool *acquired)
{
	char key[300];
	if (key_of(key, sizeof key, STS_FLEET_LEASE_PREFIX, domain) != MXTLS_OK)
		return MXTLS_E_INVAL;
	return store_redis_set_nx(f->r, key, f->token, f->lease_ms, acquired);
}

static const char release_script[] =
	"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end\n"
	"return 0\n";

int sts_fleet_release(struct sts_fleet *f, const char *domain)
{
	char key[300];
	if (key_of(key, sizeof key, STS_FLEET_LEASE_PREFIX, domain) != MXTLS_OK)
		return MXTLS_E_INVAL;
	const char *keys[] = {key};
	const char *args[] = {f->token};
	long long res;
	return store_redis_eval_int(f->r, release_script, 1, keys, 1, args, NULL, &res);
}

int sts_fleet_delete(struct sts_fleet *f, const char *domain)
{
	char key[300];
	if (key_of(key, sizeof key, STS_FLEET_POLICY_PREFIX, domain) != MXTLS_OK)
		return MXTLS_E_INVAL;
	int rc = store_redis_del(f->r, key);
	if (rc == MXTLS_OK && key_of(key, sizeof key, STS_FLEET_LEASE_PREFIX, domain) == MXTLS_OK)
		rc = store_redis_del(f->r, key);
	return rc;
}

int sts_fleet_heartbeat(struct sts_fleet *f, int64_t now, long npolicies)
{
	char key[300], at[24], np[24];
	if (key_of(key, sizeof key, STS_FLEET_MEMBER_PREFIX, f->member) != MXTLS_OK)
		return MXTLS_E_INVAL;
	snprintf(at, sizeof at, "%lld", (long long)now);
	snprintf(np, sizeof np, "%ld", npolicies);
	const char *pairs[] = {"last_sync", at, "policies", np};
	/* A member silent for a week is forgotten. */
	return store_redis_hset_expire(f->r, key, pairs, 2, 7 * 86400);
}
