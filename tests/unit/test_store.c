/* SPDX-License-Identifier: MIT */
/* Unit tests for store/ and the fleet's shared policy cache (sts/sts_cache_fleet.c): the
 * shared-store setting and the Redis values, hostile input first; then against a real
 * redis-server on a Unix socket: pauses after failures, newer-wins writes, garbage, leases,
 * two members' caches sharing a policy, and members meeting a new domain together (one fetch). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <mxtls/error.h>

#include "store/store_redis.h"
#include "store/store_seal.h"
#include "store/store_uri.h"
#include "sts/sts_cache.h"
#include "sts/sts_cache_claim.h"
#include "sts/sts_cache_fleet.h"
#include "test_main.h"

/* ---- the shared-store setting: hostile and malformed first ---- */

static const struct uri_case {
	const char *in;
	int rc;
	const char *host, *path, *password;
	unsigned port, db;
	const char *reason; /* substring of the error */
} uri_cases[] = {
	{"", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "empty"},
	{"redis:/h", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "must start with"},
	{"REDIS://h", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "must start with"},
	{"rediss://h", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "must start with"},
	{"redis://", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "needs a host"},
	{"redis://h_x", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "needs a host"},
	{"redis://h x", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "needs a host"},
	{"redis://h:", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "port"},
	{"redis://h:0", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "port"},
	{"redis://h:65536", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "port"},
	{"redis://h:+1", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "port"},
	{"redis://h/-1", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "database"},
	{"redis://h/1/2", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "database"},
	{"redis://h/99999", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "database"},
	{"redis://user:pw@h", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "ACL user"},
	{"redis://:@h", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "password"},
	{"redis://:a%0Ab@h", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "password"},
	{"redis://:a%zzb@h", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "password"},
	{"redis://:a%4@h", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "password"},
	{"redis://[::1", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "closing"},
	{"redis://[::1]x", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "after the IPv6"},
	{"redis://[g::1]", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "needs a host"},
	{"unix:", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "absolute"},
	{"unix:run/redis.sock", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "absolute"},
	{"unix:/r\x01s", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "control character"},
	{"unix:/r?db=", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "?db=N"},
	{"unix:/r?password=x", MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "?db=N"},
	{"unix:/0123456789012345678901234567890123456789012345678901234567890123456789"
	 "01234567890123456789012345678901234567",
	 MXTLS_E_CONFIG, NULL, NULL, NULL, 0, 0, "107 bytes"},
	/* valid */
	{"redis://127.0.0.1", MXTLS_OK, "127.0.0.1", "", "", 6379, 0, NULL},
	{"redis://127.0.0.1:6380/3", MXTLS_OK, "127.0.0.1", "", "", 6380, 3, NULL},
	{"redis://redis.example:7000/", MXTLS_OK, "redis.example", "", "", 7000, 0, NULL},
	{"redis://[::1]:6379/1", MXTLS_OK, "::1", "", "", 6379, 1, NULL},
	{"redis://:s3cr%40t@10.0.0.5/2", MXTLS_OK, "10.0.0.5", "", "s3cr@t", 6379, 2, NULL},
	{"unix:/run/redis/redis.sock", MXTLS_OK, "", "/run/redis/redis.sock", "", 0, 0, NULL},
	{"unix:/run/redis.sock?db=5", MXTLS_OK, "", "/run/redis.sock", "", 0, 5, NULL},
};

START_TEST(uri_table)
{
	const struct uri_case *c = &uri_cases[_i];
	struct store_uri u;
	char err[256] = "";
	int rc = store_uri_parse(c->in, &u, err, sizeof err);
	ck_assert_msg(rc == c->rc, "%s: rc %d, want %d (%s)", c->in, rc, c->rc, err);
	if (rc != MXTLS_OK) {
		ck_assert_msg(strstr(err, c->reason) != NULL, "%s: '%s' lacks '%s'", c->in, err,
			      c->reason);
		/* The message never repeats a password given in the value. */
		ck_assert_ptr_null(strstr(err, "pw"));
		return;
	}
	ck_assert_str_eq(u.host, c->host);
	ck_assert_str_eq(u.path, c->path);
	ck_assert_str_eq(u.password, c->password);
	ck_assert_uint_eq(u.port, c->port);
	ck_assert_uint_eq(u.db, c->db);
}
END_TEST

START_TEST(uri_display_masks_the_password)
{
	struct store_uri u;
	char err[256], shown[300];
	ck_assert_int_eq(store_uri_parse("redis://:hunter2@10.0.0.5:6380/2", &u, err, sizeof err),
			 MXTLS_OK);
	store_uri_display(&u, shown, sizeof shown);
	ck_assert_str_eq(shown, "redis://:***@10.0.0.5:6380/2");
	ck_assert_int_eq(store_uri_parse("redis://[fd00::5]", &u, err, sizeof err), MXTLS_OK);
	store_uri_display(&u, shown, sizeof shown);
	ck_assert_str_eq(shown, "redis://[fd00::5]:6379/0");
	ck_assert_int_eq(store_uri_parse("unix:/run/r.sock?db=4", &u, err, sizeof err), MXTLS_OK);
	store_uri_display(&u, shown, sizeof shown);
	ck_assert_str_eq(shown, "unix:/run/r.sock?db=4");
}
END_TEST

/* ---- a policy as Redis holds it: hostile first ---- */

#define NOW    1796000000LL
#define POLICY "version: STSv1\nmode: enforce\nmx: mx1.example.test\nmax_age: 86400\n"

static const struct decode_case {
	const char *fields[12]; /* name, value pairs; NULL ends */
	int rc;
	const char *reason;
} decode_cases[] = {
	{{NULL}, MXTLS_E_SYNTAX, "no field v"},
	{{"v", "1", "id", "a", "fetched_at", "1795999000", NULL},
	 MXTLS_E_SYNTAX,
	 "no field policy"},
	{{"v", "2", "id", "a", "fetched_at", "1795999000", "policy", POLICY, NULL},
	 MXTLS_E_SYNTAX,
	 "version"},
	{{"v", "1", "v", "1", "id", "a", "fetched_at", "1795999000", "policy", POLICY, NULL},
	 MXTLS_E_SYNTAX,
	 "twice: v"},
	{{"v", "1", "id", "", "fetched_at", "1795999000", "policy", POLICY, NULL},
	 MXTLS_E_SYNTAX,
	 "id is not"},
	{{"v", "1", "id", "a-b", "fetched_at", "1795999000", "policy", POLICY, NULL},
	 MXTLS_E_SYNTAX,
	 "id is not"},
	{{"v", "1", "id", "123456789012345678901234567890123", "fetched_at", "1795999000", "policy",
	  POLICY, NULL},
	 MXTLS_E_SYNTAX,
	 "id is not"},
	{{"v", "1", "id", "a", "fetched_at", "-1", "policy", POLICY, NULL},
	 MXTLS_E_SYNTAX,
	 "fetched_at"},
	{{"v", "1", "id", "a", "fetched_at", "1795999000.5", "policy", POLICY, NULL},
	 MXTLS_E_SYNTAX,
	 "fetched_at"},
	{{"v", "1", "id", "a", "fetched_at", " 1795999000", "policy", POLICY, NULL},
	 MXTLS_E_SYNTAX,
	 "fetched_at"},
	{{"v", "1", "id", "a", "fetched_at", "99999999999999999999", "policy", POLICY, NULL},
	 MXTLS_E_SYNTAX,
	 "fetched_at"},
	{{"v", "1", "id", "a", "fetched_at", "900000000", "policy", POLICY, NULL},
	 MXTLS_E_SYNTAX,
	 "after 2000"},
	{{"v", "1", "id", "a", "fetched_at", "1796000301", "policy", POLICY, NULL},
	 MXTLS_E_SYNTAX,
	 "future"},
	{{"v", "1", "id", "a", "fetched_at", "1795999000", "policy", "", NULL},
	 MXTLS_E_SYNTAX,
	 "not a valid policy"},
	{{"v", "1", "id", "a", "fetched_at", "1795999000", "policy",
	  "version: STSv1\nmode: enforce\nmax_age: 86400\n", NULL},
	 MXTLS_E_SYNTAX,
	 "not a valid policy"},
	{{"v", "1", "id", "a", "fetched_at", "1795999000", "policy",
	  "version: STSv1\nmode: relaxed\nmx: a.test\nmax_age: 86400\n", NULL},
	 MXTLS_E_SYNTAX,
	 "not a valid policy"},
	/* valid, but expired at NOW: not found */
	{{"v", "1", "id", "a", "fetched_at", "1795000000", "policy", POLICY, NULL},
	 MXTLS_E_NOTFOUND,
	 NULL},
	/* valid (unknown fields ignored; fetched_at a little ahead: clock skew) */
	{{"v", "1", "id", "a", "fetched_at", "1795999000", "policy", POLICY, "x", "y", NULL},
	 MXTLS_OK,
	 NULL},
	{{"policy", POLICY, "fetched_at", "1796000300", "id", "Z9", "v", "1", NULL},
	 MXTLS_OK,
	 NULL},
};

static size_t fields_of(const char *const *kv, struct store_field *f)
{
	size_t n = 0;
	for (; kv[2 * n] != NULL; n++) {
		f[n].name = (char *)kv[2 * n];
		f[n].name_len = strlen(kv[2 * n]);
		f[n].value = (char *)kv[2 * n + 1];
		f[n].value_len = strlen(kv[2 * n + 1]);
	}
	return n;
}

START_TEST(decode_table)
{
	const struct decode_case *c = &decode_cases[_i];
	struct store_field f[6];
	size_t n = fields_of(c->fields, f);
	struct sts_cache_entry e;
	char why[256] = "";
	int rc = sts_fleet_decode("example.test", f, n, NOW, &e, why, sizeof why);
	ck_assert_msg(rc == c->rc, "case %d: rc %d, want %d (%s)", _i, rc, c->rc, why);
	if (c->reason != NULL)
		ck_assert_msg(strstr(why, c->reason) != NULL, "case %d: '%s' lacks '%s'", _i, why,
			      c->reason);
	if (rc != MXTLS_OK)
		return;
	ck_assert_str_eq(e.domain, "example.test");
	ck_assert_int_eq(e.mode, STS_MODE_ENFORCE);
	ck_assert_uint_eq(e.max_age, 86400);
	ck_assert_uint_eq(e.nmx, 1);
	ck_assert_str_eq(e.mx[0], "mx1.example.test");
	ck_assert_int_eq(e.expires_at, e.fetched_at + 86400);
	ck_assert_uint_eq(e.len, strlen(POLICY));
	sts_cache_entry_clear(&e);
}
END_TEST

START_TEST(decode_binary_garbage)
{
	/* A NUL inside the body: the policy parser refuses it (RFC 8461 §3.2 text lines). */
	static const char body[] = "version: STSv1\nmode: enforce\0\nmx: a.test\nmax_age: 86400\n";
	struct store_field f[4] = {
		{(char *)"v", (char *)"1", 1, 1},
		{(char *)"id", (char *)"a", 2, 1},
		{(char *)"fetched_at", (char *)"1795999000", 10, 10},
		{(char *)"policy", (char *)body, 6, sizeof body - 1},
	};
	struct sts_cache_entry e;
	char why[256] = "";
	ck_assert_int_eq(sts_fleet_decode("x.test", f, 4, NOW, &e, why, sizeof why),
			 MXTLS_E_SYNTAX);
}
END_TEST

/* A reply's bytes (RESP) through hiredis's reader and the HGETALL check: what a Redis server,
 * or anything answering in its place, may send. */
static const struct resp_case {
	const char *bytes;
	size_t len;
	int rc;
	size_t nf;
	const char *reason;
} resp_cases[] = {
	/* vectors/fuzz/stsfleet/oom-array-666666666: hiredis 0.14 would allocate 5 GB first */
	{"*666666666\r\n2\r\n$1\r\n", 17, MXTLS_E_SYNTAX, 0, "more than 4096"},
	{"*4097\r\n", 7, MXTLS_E_SYNTAX, 0, "more than 4096"},
	{"*66\r\n", 5, MXTLS_E_TRUNCATED, 0, NULL},
	{"$5\r\nhello\r\n", 11, MXTLS_E_SYNTAX, 0, "not an array"},
	{"-WRONGTYPE x\r\n", 15, MXTLS_E_SYNTAX, 0, "not an array"},
	{"*1\r\n$1\r\nv\r\n", 11, MXTLS_E_SYNTAX, 0, "name-value pairs"},
	{"*2\r\n$1\r\nv\r\n:1\r\n", 15, MXTLS_E_SYNTAX, 0, "not a string"},
	{"?x\r\n", 4, MXTLS_E_SYNTAX, 0, "not RESP"},
	{"*0\r\n", 4, MXTLS_E_NOTFOUND, 0, NULL},
	{"*2\r\n$1\r\nv\r\n$1\r\n1\r\n", 18, MXTLS_OK, 1, NULL},
};

START_TEST(resp_table)
{
	const struct resp_case *c = &resp_cases[_i];
	struct store_field *f;
	size_t nf, used;
	char why[256] = "";
	int rc = store_redis_parse_hash(c->bytes, c->len, &f, &nf, &used, why, sizeof why);
	ck_assert_msg(rc == c->rc, "case %d: rc %d, want %d (%s)", _i, rc, c->rc, why);
	ck_assert_uint_eq(nf, c->nf);
	if (c->reason != NULL)
		ck_assert_msg(strstr(why, c->reason) != NULL, "case %d: '%s' lacks '%s'", _i, why,
			      c->reason);
	if (rc == MXTLS_OK) {
		ck_assert_uint_eq(used, c->len);
		ck_assert_str_eq(f[0].name, "v");
		ck_assert_str_eq(f[0].value, "1");
	}
	store_fields_free(f, nf);
}
END_TEST

/* ---- against a real redis-server ---- */

static pid_t redis_pid;
static char redis_sock[100]; /* sun_path is 108 bytes: not under a long $TMPDIR */

static void redis_start(void)
{
	test_tmp_setup();
	/* Named once (a restart from inside a test keeps the members' path). */
	if (redis_sock[0] == '\0')
		snprintf(redis_sock, sizeof redis_sock, "/tmp/mxtls-unit-redis-%ld.sock",
			 (long)getpid());
	unlink(redis_sock); /* a killed server leaves its socket behind */
	char log[600];
	snprintf(log, sizeof log, "%s/redis.log", test_tmp_root);
	redis_pid = fork();
	if (redis_pid == 0) {
		execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", redis_sock,
		       "--save", "", "--appendonly", "no", "--dir", test_tmp_root, "--logfile", log,
		       (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		struct stat st;
		if (stat(redis_sock, &st) == 0)
			return;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

static void redis_stop(void)
{
	if (redis_pid > 0) {
		kill(redis_pid, SIGKILL);
		waitpid(redis_pid, NULL, 0);
		redis_pid = 0;
	}
	unlink(redis_sock);
	test_tmp_teardown();
}

static struct store_redis *client(const char *sock)
{
	struct store_redis_opts o = {.connect_ms = 200, .command_ms = 200, .retry_ms = 300};
	snprintf(o.uri.path, sizeof o.uri.path, "%s", sock);
	struct store_redis *r;
	ck_assert_int_eq(store_redis_new(&o, &r), MXTLS_OK);
	return r;
}

static long long lua(struct store_redis *r, const char *script, const char *key)
{
	long long v = -99;
	const char *keys[] = {key};
	ck_assert_int_eq(store_redis_eval_int(r, script, 1, keys, 0, NULL, NULL, &v), MXTLS_OK);
	return v;
}

static struct sts_fleet *member(const char *name)
{
	struct store_redis_opts o = {.connect_ms = 200, .command_ms = 200, .retry_ms = 300};
	snprintf(o.uri.path, sizeof o.uri.path, "%s", redis_sock);
	struct sts_fleet *f;
	ck_assert_int_eq(sts_fleet_new(&o, name, 2000, &f), MXTLS_OK);
	return f;
}

static void entry(struct sts_cache_entry *e, const char *domain, const char *id, int64_t fetched_at,
		  const char *mx)
{
	memset(e, 0, sizeof *e);
	snprintf(e->domain, sizeof e->domain, "%s", domain);
	snprintf(e->id, sizeof e->id, "%s", id);
	char body[256];
	snprintf(body, sizeof body, "version: STSv1\nmode: enforce\nmx: %s\nmax_age: 86400\n", mx);
	e->text = strdup(body);
	e->len = strlen(body);
	e->mode = STS_MODE_ENFORCE;
	e->max_age = 86400;
	e->mx = calloc(1, sizeof *e->mx);
	e->mx[0] = strdup(mx);
	e->nmx = 1;
	e->fetched_at = fetched_at;
	e->expires_at = fetched_at + 86400;
	e->last_checked = fetched_at;
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

START_TEST(unreachable_is_tempfail_then_paused)
{
	char sock[100];
	snprintf(sock, sizeof sock, "/tmp/mxtls-unit-nobody-%ld.sock", (long)getpid());
	struct store_redis *r = client(sock);
	struct store_redis_health h;
	ck_assert_int_eq(store_redis_ping(r, NULL), MXTLS_E_TEMPFAIL);
	store_redis_health(r, &h);
	ck_assert_uint_eq(h.failures, 1);
	ck_assert(!h.up);
	/* Paused: the next calls fail at once, without a new attempt. */
	ck_assert(!store_redis_may_try(r));
	ck_assert_int_eq(store_redis_ping(r, NULL), MXTLS_E_TEMPFAIL);
	ck_assert_int_eq(store_redis_del(r, "k"), MXTLS_E_TEMPFAIL);
	store_redis_health(r, &h);
	ck_assert_uint_eq(h.failures, 1);
	ck_assert_ptr_nonnull(strstr(store_redis_error(r), "connect"));
	store_redis_free(r);
}
END_TEST

START_TEST(newer_fetch_wins_and_ttl_is_max_age)
{
	struct sts_fleet *a = member("a"), *b = member("b");
	int64_t t = now_s();
	struct sts_cache_entry e1, e2, got;
	entry(&e1, "newer.test", "one", t - 100, "mx1.newer.test");
	entry(&e2, "newer.test", "two", t - 50, "mx2.newer.test");
	bool stored;
	char why[256];
	ck_assert_int_eq(sts_fleet_put(b, &e2, t, false, &stored), MXTLS_OK);
	ck_assert(stored);
	/* An older fetch never overwrites a newer one. */
	ck_assert_int_eq(sts_fleet_put(a, &e1, t, false, &stored), MXTLS_OK);
	ck_assert(!stored);
	ck_assert_int_eq(sts_fleet_get(a, "newer.test", t, &got, why, sizeof why), MXTLS_OK);
	ck_assert_str_eq(got.id, "two");
	ck_assert_str_eq(got.mx[0], "mx2.newer.test");
	ck_assert_int_eq(got.fetched_at, t - 50);
	sts_cache_entry_clear(&got);
	/* Redis forgets it when max_age says every member must (RFC 8461 §3.2): TTL set. */
	long long ttl = lua(sts_fleet_redis(a), "return redis.call('TTL', KEYS[1])",
			    "mxtls:sts:newer.test");
	ck_assert_int_le(ttl, 86400 - 50);
	ck_assert_int_ge(ttl, 86400 - 50 - 5);
	/* An expired entry is not written at all. */
	struct sts_cache_entry old;
	entry(&old, "old.test", "x", t - 90000, "mx.old.test");
	ck_assert_int_eq(sts_fleet_put(a, &old, t, true, &stored), MXTLS_OK);
	ck_assert(!stored);
	ck_assert_int_eq(sts_fleet_get(a, "old.test", t, &got, why, sizeof why), MXTLS_E_NOTFOUND);
	sts_cache_entry_clear(&old);
	sts_cache_entry_clear(&e1);
	sts_cache_entry_clear(&e2);
	sts_fleet_free(a);
	sts_fleet_free(b);
}
END_TEST

START_TEST(garbage_is_rejected_not_used)
{
	struct sts_fleet *a = member("a");
	struct store_redis *r = sts_fleet_redis(a);
	int64_t t = now_s();
	struct sts_cache_entry got, mine;
	char why[256] = "";
	/* A string where a hash belongs (WRONGTYPE inside Redis): garbage, never "no policy". */
	lua(r, "redis.call('SET', KEYS[1], 'enforce?') return 1", "mxtls:sts:g1.test");
	ck_assert_int_eq(sts_fleet_get(a, "g1.test", t, &got, why, sizeof why), MXTLS_E_SYNTAX);
	/* A hash whose policy is not a policy. */
	lua(r,
	    "redis.call('HSET', KEYS[1], 'v', '1', 'id', 'a', 'fetched_at', '1795999000', "
	    "'policy', 'mode: none') return 1",
	    "mxtls:sts:g2.test");
	ck_assert_int_eq(sts_fleet_get(a, "g2.test", t, &got, why, sizeof why), MXTLS_E_SYNTAX);
	ck_assert_ptr_nonnull(strstr(why, "not a valid policy"));
	/* A member's own entry replaces garbage only when told to. */
	entry(&mine, "g1.test", "mine", t - 10, "mx.g1.test");
	bool stored;
	ck_assert_int_eq(sts_fleet_put(a, &mine, t, false, &stored), MXTLS_OK);
	ck_assert(!stored);
	ck_assert_int_eq(sts_fleet_put(a, &mine, t, true, &stored), MXTLS_OK);
	ck_assert(stored);
	ck_assert_int_eq(sts_fleet_get(a, "g1.test", t, &got, why, sizeof why), MXTLS_OK);
	ck_assert_str_eq(got.id, "mine");
	sts_cache_entry_clear(&got);
	sts_cache_entry_clear(&mine);
	sts_fleet_free(a);
}
END_TEST

START_TEST(lease_is_exclusive_and_expires)
{
	struct sts_fleet *a = member("a"), *b = member("b");
	bool got;
	ck_assert_int_eq(sts_fleet_lease(a, "lease.test", &got), MXTLS_OK);
	ck_assert(got);
	ck_assert_int_eq(sts_fleet_lease(b, "lease.test", &got), MXTLS_OK);
	ck_assert(!got);
	/* b cannot give back a's lease. */
	ck_assert_int_eq(sts_fleet_release(b, "lease.test"), MXTLS_OK);
	ck_assert_int_eq(sts_fleet_lease(b, "lease.test", &got), MXTLS_OK);
	ck_assert(!got);
	ck_assert_int_eq(sts_fleet_release(a, "lease.test"), MXTLS_OK);
	ck_assert_int_eq(sts_fleet_lease(b, "lease.test", &got), MXTLS_OK);
	ck_assert(got);
	/* A holder that dies gives it up after lease_ms (2 s here). */
	ck_assert_int_eq(sts_fleet_lease(a, "dead.test", &got), MXTLS_OK);
	ck_assert(got);
	long long pttl = lua(sts_fleet_redis(b), "return redis.call('PTTL', KEYS[1])",
			     "mxtls:sts-lease:dead.test");
	ck_assert_int_gt(pttl, 1000);
	ck_assert_int_le(pttl, 2000);
	sts_fleet_free(a);
	sts_fleet_free(b);
}
END_TEST

/* Two members' caches (two local files) joined to the same Redis; wait_ms for claims. */
static struct sts_cache *member_cache_waiting(const char *name, unsigned wait_ms,
					      unsigned lease_ms)
{
	char path[700];
	snprintf(path, sizeof path, "%s/%s.sqlite", test_tmp_root, name);
	struct sts_cache *c;
	char err[256];
	ck_assert_int_eq(sts_cache_open(path, &c, err, sizeof err), MXTLS_OK);
	struct store_redis_opts ro = {.connect_ms = 200, .command_ms = 200, .retry_ms = 300};
	snprintf(ro.uri.path, sizeof ro.uri.path, "%s", redis_sock);
	struct sts_cache_fleet_opts o = {
		.redis = &ro, .member = name, .lease_ms = lease_ms, .wait_ms = wait_ms};
	ck_assert_int_eq(sts_cache_join_fleet(c, &o), MXTLS_OK);
	ck_assert_int_eq(sts_cache_join_fleet(c, &o), MXTLS_E_INVAL);
	return c;
}

static struct sts_cache *member_cache(const char *name)
{
	return member_cache_waiting(name, 0, 2000);
}

/* ---- members meeting a new domain together: one fetch (sts/sts_cache_claim.c) ---- */

struct claim_result {
	bool called;
	int rc;
	char id[40];
};

static void on_claim_result(void *arg, struct sts_cache_read *r)
{
	struct claim_result *cr = arg;
	cr->called = true;
	cr->rc = r->rc;
	if (r->rc == MXTLS_OK)
		snprintf(cr->id, sizeof cr->id, "%s", r->entry.id);
}

/* A member on the test's loop; its fetch leases last 20 s, longer than any wait here. */
static struct sts_cache *loop_member(const char *name, struct event_base *base, unsigned wait_ms)
{
	struct sts_cache *c = member_cache_waiting(name, wait_ms, 20000);
	ck_assert_int_eq(sts_cache_async_attach(c, base), MXTLS_OK);
	return c;
}

/* Runs the loop for ms milliseconds, or until every flag given is set (NULL ends the list). */
static void pump(struct event_base *base, long ms, bool *flag, ...)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		bool all = flag != NULL;
		va_list ap;
		va_start(ap, flag);
		for (bool *f = flag; f != NULL; f = va_arg(ap, bool *))
			all = all && *f;
		va_end(ap);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (all || (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >= ms)
			return;
		struct timespec ts = {0, 2 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

START_TEST(members_meeting_a_domain_together_fetch_it_once)
{
	struct event_base *base = event_base_new();
	struct sts_cache *a = loop_member("ca", base, 5000), *b = loop_member("cb", base, 5000),
			 *c = loop_member("cc", base, 5000);
	struct claim_result ra = {0}, rb = {0}, rc = {0};
	/* a is first: the fetch lease is a's, so a fetches. */
	ck_assert_int_eq(sts_cache_claim_start(a, "claim.test", "c1", on_claim_result, &ra, NULL),
			 MXTLS_OK);
	pump(base, 3000, &ra.called, NULL);
	ck_assert(ra.called);
	ck_assert_int_eq(ra.rc, MXTLS_E_NOTFOUND);
	/* b and c meet the domain while a fetches: they wait, they do not fetch. */
	ck_assert_int_eq(sts_cache_claim_start(b, "claim.test", "c1", on_claim_result, &rb, NULL),
			 MXTLS_OK);
	ck_assert_int_eq(sts_cache_claim_start(c, "claim.test", "c1", on_claim_result, &rc, NULL),
			 MXTLS_OK);
	pump(base, 150, NULL);
	ck_assert(!rb.called && !rc.called);
	/* a's fetch is stored (its file, then Redis; the lease goes back): b and c take it. */
	struct sts_cache_entry e, got;
	entry(&e, "claim.test", "c1", now_s(), "mx.claim.test");
	ck_assert_int_eq(sts_cache_put(a, &e), MXTLS_OK);
	pump(base, 3000, &rb.called, &rc.called, NULL);
	ck_assert(rb.called && rc.called);
	ck_assert_int_eq(rb.rc, MXTLS_OK);
	ck_assert_str_eq(rb.id, "c1");
	ck_assert_int_eq(rc.rc, MXTLS_OK);
	ck_assert_str_eq(rc.id, "c1");
	/* ... into their own files first. */
	ck_assert_int_eq(sts_cache_get(b, "claim.test", &got), MXTLS_OK);
	ck_assert_str_eq(got.id, "c1");
	sts_cache_entry_clear(&got);
	/* A new id is fetched (by whoever takes the lease), never served from the old policy. */
	struct claim_result rn = {0};
	ck_assert_int_eq(sts_cache_claim_start(c, "claim.test", "c2", on_claim_result, &rn, NULL),
			 MXTLS_OK);
	pump(base, 3000, &rn.called, NULL);
	ck_assert_int_eq(rn.rc, MXTLS_E_NOTFOUND);
	sts_cache_entry_clear(&e);
	sts_cache_close(a);
	sts_cache_close(b);
	sts_cache_close(c);
	event_base_free(base);
}
END_TEST

START_TEST(a_failed_or_dead_fetch_leaves_the_waiters_to_fetch)
{
	struct event_base *base = event_base_new();
	struct sts_cache *a = loop_member("fa", base, 5000), *b = loop_member("fb", base, 5000),
			 *d = loop_member("fd", base, 300);
	struct claim_result ra = {0}, rb = {0};
	ck_assert_int_eq(sts_cache_claim_start(a, "fail.test", "f1", on_claim_result, &ra, NULL),
			 MXTLS_OK);
	pump(base, 3000, &ra.called, NULL);
	ck_assert_int_eq(ra.rc, MXTLS_E_NOTFOUND);
	ck_assert_int_eq(sts_cache_claim_start(b, "fail.test", "f1", on_claim_result, &rb, NULL),
			 MXTLS_OK);
	pump(base, 100, NULL);
	ck_assert(!rb.called);
	/* a's fetch fails: the lease goes back and b takes it to fetch for itself (a failure is
	 * not shared): NOTFOUND, neither the TIMEOUT of 5 s of waiting nor the lease's 20 s. */
	ck_assert_int_eq(sts_cache_note_failure(a, "fail.test", "f1", now_s(), "HTTP 404"),
			 MXTLS_OK);
	pump(base, 3000, &rb.called, NULL);
	ck_assert(rb.called);
	ck_assert_int_eq(rb.rc, MXTLS_E_NOTFOUND);
	/* b holds the lease now and never gives it back (a member that died mid-fetch): d waits
	 * its 300 ms, then fetches itself. */
	struct claim_result rd = {0};
	ck_assert_int_eq(sts_cache_claim_start(d, "fail.test", "f1", on_claim_result, &rd, NULL),
			 MXTLS_OK);
	pump(base, 3000, &rd.called, NULL);
	ck_assert(rd.called);
	ck_assert_int_eq(rd.rc, MXTLS_E_TIMEOUT);
	/* A cancelled claim calls nobody. */
	struct claim_result rx = {0};
	struct sts_cache_claim *cl;
	ck_assert_int_eq(sts_cache_claim_start(d, "fail.test", "f1", on_claim_result, &rx, &cl),
			 MXTLS_OK);
	pump(base, 60, NULL);
	sts_cache_claim_cancel(cl);
	pump(base, 500, NULL);
	ck_assert(!rx.called);
	sts_cache_close(a);
	sts_cache_close(b);
	sts_cache_close(d);
	event_base_free(base);
}
END_TEST

START_TEST(a_policy_one_member_fetched_protects_the_other)
{
	struct sts_cache *a = member_cache("ma"), *b = member_cache("mb");
	int64_t t = now_s();
	struct sts_cache_entry e, got;
	entry(&e, "shared.test", "s1", t - 5, "mx.shared.test");
	ck_assert_int_eq(sts_cache_put(a, &e), MXTLS_OK);
	ck_assert_int_eq(sts_cache_get(b, "shared.test", &got), MXTLS_OK);
	ck_assert_str_eq(got.id, "s1");
	ck_assert_int_eq(got.mode, STS_MODE_ENFORCE);
	sts_cache_entry_clear(&got);
	/* b wrote it to its own file: Redis gone, b still has it. */
	kill(redis_pid, SIGKILL);
	waitpid(redis_pid, NULL, 0);
	redis_pid = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 50; i++) {
		ck_assert_int_eq(sts_cache_get(b, "shared.test", &got), MXTLS_OK);
		ck_assert_str_eq(got.id, "s1");
		sts_cache_entry_clear(&got);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* Not a timing assertion: the count of Redis failures shows that the 50 reads did not
	 * each wait for Redis (one failure, then the pause). */
	struct sts_cache_fleet_status *s = calloc(1, sizeof *s);
	ck_assert_int_eq(sts_cache_fleet_status(b, s), MXTLS_OK);
	ck_assert(s->joined);
	ck_assert(!s->reachable);
	ck_assert_uint_le(s->failures, 2);
	fprintf(stderr, "# 50 reads with Redis down: %.1f ms, %lu Redis failures\n",
		(double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
		s->failures);
	/* A member that never saw it has nothing: not-found, never a guess. */
	struct sts_cache *c = member_cache("mc");
	ck_assert_int_eq(sts_cache_get(c, "shared.test", &got), MXTLS_E_NOTFOUND);
	/* With Redis down, a first fetch is not held up by the fleet: fetch it yourself. */
	struct event_base *base = event_base_new();
	struct sts_cache *w = loop_member("mw", base, 5000);
	struct claim_result rw = {0};
	ck_assert_int_eq(sts_cache_claim_start(w, "alone.test", "a1", on_claim_result, &rw, NULL),
			 MXTLS_OK);
	pump(base, 3000, &rw.called, NULL);
	ck_assert(rw.called);
	ck_assert_int_eq(rw.rc, MXTLS_E_NOTFOUND);
	sts_cache_close(w);
	event_base_free(base);
	free(s);
	sts_cache_entry_clear(&e);
	sts_cache_close(a);
	sts_cache_close(b);
	sts_cache_close(c);
}
END_TEST

static void wait_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static long long shared_policies(struct store_redis *r)
{
	return lua(r, "return #redis.call('KEYS', 'mxtls:sts:*')", "x");
}

START_TEST(resync_after_redis_returns_empty)
{
	struct sts_cache *a = member_cache("ra");
	int64_t t = now_s();
	struct sts_cache_entry e, got;
	/* 600 policies: more than two re-sync pages of 256. */
	for (int i = 0; i < 600; i++) {
		char d[64];
		snprintf(d, sizeof d, "d%03d.resync.test", i);
		entry(&e, d, "r1", t - 10, "mx.resync.test");
		ck_assert_int_eq(sts_cache_put(a, &e), MXTLS_OK);
		sts_cache_entry_clear(&e);
	}
	struct store_redis *r = client(redis_sock);
	ck_assert_int_eq(shared_policies(r), 600);
	store_redis_free(r);
	/* Redis restarts without its data (no persistence): a new server on the same socket. */
	kill(redis_pid, SIGKILL);
	waitpid(redis_pid, NULL, 0);
	redis_start();
	r = client(redis_sock);
	ck_assert_int_eq(shared_policies(r), 0);
	/* The member notices at its next request (the old connection is dead: a failure, then
	 * the 300 ms pause), reconnects at the one after, and pushes its file back a page at a
	 * time while idle. */
	ck_assert_int_eq(sts_cache_get(a, "d000.resync.test", &got), MXTLS_OK);
	sts_cache_entry_clear(&got);
	wait_ms(400);
	ck_assert_int_eq(sts_cache_get(a, "d001.resync.test", &got), MXTLS_OK);
	sts_cache_entry_clear(&got);
	long long n = 0;
	for (int i = 0; i < 100 && (n = shared_policies(r)) < 600; i++)
		wait_ms(50);
	ck_assert_int_eq(n, 600);
	struct sts_cache_fleet_status *s = calloc(1, sizeof *s);
	ck_assert_int_eq(sts_cache_fleet_status(a, s), MXTLS_OK);
	ck_assert(s->reachable);
	ck_assert_int_eq(s->policies, 600);
	ck_assert_uint_eq(s->nmembers, 1);
	ck_assert_str_eq(s->members[0].name, "ra");
	ck_assert_int_eq(s->members[0].policies, 600);
	ck_assert_int_ge(s->last_sync, t);
	free(s);
	store_redis_free(r);
	sts_cache_close(a);
	redis_stop(); /* the server this test started */
}
END_TEST

/* ---- answers sealed with the fleet's key (store/store_seal.c): hostile values first ---- */

#define SEAL_KEY   "0123456789abcdef0123456789abcdef"
#define SEAL_SCOPE "policyd-v2-tlsrpt=0"
#define SEAL_NAME  "example.com"
#define SEAL_ANSWER "OK secure match=mx1.example.com servername=hostname"
/* Provenance: computed independently with Python 3.11's hmac module,
 * hmac.new(SEAL_KEY, b"mxtls-sealed-v1\0" + scope + b"\0" + name + b"\0" + b"2000000000\0"
 * + answer, hashlib.sha256).hexdigest(). */
#define SEAL_MAC "459bd221dea88eee7dbae41640ec8982fd641c6cf660921e0ab0c5ab6d3e6014"
#define SEALED   "mxtls-sealed-v1 2000000000 " SEAL_MAC " " SEAL_ANSWER

static const struct seal_case {
	const char *value;
	const char *key, *scope, *name;
	int64_t now;
	int rc;
	const char *why; /* substring, for MXTLS_E_SYNTAX */
} seal_cases[] = {
	{"", SEAL_KEY, SEAL_SCOPE, SEAL_NAME, 1000, MXTLS_E_SYNTAX, "no mxtls-sealed-v1"},
	{"OK secure match=evil.example", SEAL_KEY, SEAL_SCOPE, SEAL_NAME, 1000, MXTLS_E_SYNTAX,
	 "no mxtls-sealed-v1"},
	{"mxtls-sealed-v2 2000000000 " SEAL_MAC " " SEAL_ANSWER, SEAL_KEY, SEAL_SCOPE, SEAL_NAME,
	 1000, MXTLS_E_SYNTAX, "tag"},
	{"mxtls-sealed-v1  2000000000 " SEAL_MAC " " SEAL_ANSWER, SEAL_KEY, SEAL_SCOPE, SEAL_NAME,
	 1000, MXTLS_E_SYNTAX, "expiry"},
	{"mxtls-sealed-v1 02000000000 " SEAL_MAC " " SEAL_ANSWER, SEAL_KEY, SEAL_SCOPE, SEAL_NAME,
	 1000, MXTLS_E_SYNTAX, "expiry"},
	{"mxtls-sealed-v1 99999999999999999999 " SEAL_MAC " x", SEAL_KEY, SEAL_SCOPE, SEAL_NAME,
	 1000, MXTLS_E_SYNTAX, "expiry"},
	{"mxtls-sealed-v1 9999999999999999999 " SEAL_MAC " x", SEAL_KEY, SEAL_SCOPE, SEAL_NAME,
	 1000, MXTLS_E_SYNTAX, "expiry out of range"},
	{"mxtls-sealed-v1 2000000000 459BD221DEA88EEE7DBAE41640EC8982FD641C6CF660921E0AB0C5AB6D3E6014 "
	 SEAL_ANSWER, SEAL_KEY, SEAL_SCOPE, SEAL_NAME, 1000, MXTLS_E_SYNTAX, "malformed MAC"},
	{"mxtls-sealed-v1 2000000000 459bd221", SEAL_KEY, SEAL_SCOPE, SEAL_NAME, 1000,
	 MXTLS_E_SYNTAX, "malformed MAC"},
	{"mxtls-sealed-v1 2000000000 " SEAL_MAC " ", SEAL_KEY, SEAL_SCOPE, SEAL_NAME, 1000,
	 MXTLS_E_SYNTAX, "empty payload"},
	/* Well formed, but forged or moved: the MAC does not match. */
	{"mxtls-sealed-v1 2000000000 " SEAL_MAC " OK secure match=evil.example servername=hostname",
	 SEAL_KEY, SEAL_SCOPE, SEAL_NAME, 1000, MXTLS_E_SYNTAX, "MAC does not match"},
	{"mxtls-sealed-v1 2100000000 " SEAL_MAC " " SEAL_ANSWER, SEAL_KEY, SEAL_SCOPE, SEAL_NAME,
	 1000, MXTLS_E_SYNTAX, "MAC does not match"},
	{SEALED, SEAL_KEY, SEAL_SCOPE, "example.net", 1000, MXTLS_E_SYNTAX, "MAC does not match"},
	{SEALED, SEAL_KEY, "policyd-v2-tlsrpt=1", SEAL_NAME, 1000, MXTLS_E_SYNTAX,
	 "MAC does not match"},
	{SEALED, "0123456789abcdef0123456789abcdeF", SEAL_SCOPE, SEAL_NAME, 1000, MXTLS_E_SYNTAX,
	 "MAC does not match"},
	/* A key shorter than 32 bytes is refused, not used. */
	{SEALED, "0123456789abcdef0123456789abcde", SEAL_SCOPE, SEAL_NAME, 1000, MXTLS_E_INVAL,
	 NULL},
	/* Expired: at and after its end. */
	{SEALED, SEAL_KEY, SEAL_SCOPE, SEAL_NAME, 2000000000, MXTLS_E_NOTFOUND, NULL},
	{SEALED, SEAL_KEY, SEAL_SCOPE, SEAL_NAME, 2000000001, MXTLS_E_NOTFOUND, NULL},
	/* The good one. */
	{SEALED, SEAL_KEY, SEAL_SCOPE, SEAL_NAME, 1999999999, MXTLS_OK, NULL},
};

START_TEST(seal_table)
{
	const struct seal_case *k = &seal_cases[_i];
	const char *payload = NULL;
	size_t plen = 0;
	int64_t expires = 0;
	char why[200] = "";
	int rc = store_seal_open(k->key, strlen(k->key), k->scope, k->name, k->now, k->value,
				 strlen(k->value), &payload, &plen, &expires, why, sizeof why);
	ck_assert_msg(rc == k->rc, "case %d: rc %d, want %d (%s)", _i, rc, k->rc, why);
	if (k->why != NULL)
		ck_assert_msg(strstr(why, k->why) != NULL, "case %d: why '%s', want '%s'", _i, why,
			      k->why);
	if (rc == MXTLS_OK) {
		ck_assert_int_eq(expires, 2000000000);
		ck_assert_uint_eq(plen, strlen(SEAL_ANSWER));
		ck_assert(memcmp(payload, SEAL_ANSWER, plen) == 0);
	}
}
END_TEST

START_TEST(seal_makes_the_reference_value)
{
	char *v;
	size_t n;
	ck_assert_int_eq(store_seal(SEAL_KEY, 32, SEAL_SCOPE, SEAL_NAME, 2000000000, SEAL_ANSWER,
				    strlen(SEAL_ANSWER), &v, &n),
			 MXTLS_OK);
	ck_assert_str_eq(v, SEALED);
	ck_assert_uint_eq(n, strlen(SEALED));
	free(v);
	/* A NUL in the value is refused whole, as a NUL in the payload to seal. */
	const char *p;
	size_t pl;
	int64_t e;
	char with_nul[] = SEALED;
	with_nul[sizeof with_nul - 5] = '\0';
	ck_assert_int_eq(store_seal_open(SEAL_KEY, 32, SEAL_SCOPE, SEAL_NAME, 1000, with_nul,
					 sizeof with_nul - 1, &p, &pl, &e, NULL, 0),
			 MXTLS_E_SYNTAX);
	ck_assert_int_eq(store_seal(SEAL_KEY, 32, SEAL_SCOPE, SEAL_NAME, 2000000000, "a\0b", 3, &v,
				    &n),
			 MXTLS_E_INVAL);
	ck_assert_int_eq(store_seal(SEAL_KEY, 31, SEAL_SCOPE, SEAL_NAME, 2000000000, "a", 1, &v, &n),
			 MXTLS_E_INVAL);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("pure");
	tcase_add_loop_test(tc, uri_table, 0, ARRAY_LEN(uri_cases));
	tcase_add_test(tc, uri_display_masks_the_password);
	tcase_add_loop_test(tc, decode_table, 0, ARRAY_LEN(decode_cases));
	tcase_add_test(tc, decode_binary_garbage);
	tcase_add_loop_test(tc, resp_table, 0, ARRAY_LEN(resp_cases));
	tcase_add_loop_test(tc, seal_table, 0, ARRAY_LEN(seal_cases));
	tcase_add_test(tc, seal_makes_the_reference_value);
	suite_add_tcase(s, tc);
	tc = tcase_create("redis");
	tcase_add_unchecked_fixture(tc, redis_start, redis_stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, unreachable_is_tempfail_then_paused);
	tcase_add_test(tc, newer_fetch_wins_and_ttl_is_max_age);
	tcase_add_test(tc, garbage_is_rejected_not_used);
	tcase_add_test(tc, lease_is_exclusive_and_expires);
	tcase_add_test(tc, members_meeting_a_domain_together_fetch_it_once);
	tcase_add_test(tc, a_failed_or_dead_fetch_leaves_the_waiters_to_fetch);
	suite_add_tcase(s, tc);
	/* Kills its Redis: a fixture of its own. */
	tc = tcase_create("redis-killed");
	tcase_add_unchecked_fixture(tc, redis_start, redis_stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_policy_one_member_fetched_protects_the_other);
	suite_add_tcase(s, tc);
	/* Restarts its Redis empty: its own too (the restarted server is stopped at the end). */
	tc = tcase_create("redis-restarted");
	tcase_add_unchecked_fixture(tc, redis_start, redis_stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, resync_after_redis_returns_empty);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(store_suite)
