/* SPDX-License-Identifier: MIT */
/* MTA-STS discovery, HTTPS fetch and cache (validator/sts_resolve.c, sts/sts_fetch.c) against
 * the policy hosts of the test network: run under tests/net/run-with-dns.sh --https. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <mxtls/error.h>

#include "dns/dns_resolver.h"
#include "sts/sts_cache_async.h"
#include "sts/sts_fetch.h"
#include "e2e_dns.h"
#include "test_main.h"
#include "validator/sts_resolve.h"

#define T0 1800000000 /* 2027-01-15: every test runs at pinned instants from here */
#define ID "20240601T000000"

static struct sts_fetcher *fetcher;
static struct sts_cache *cache;

static void setup(void)
{
	e2e_dns_setup();
	const char *ca = getenv("MXTLS_TEST_CA_FILE");
	ck_assert_msg(ca != NULL, "MXTLS_TEST_CA_FILE is not set: run via run-with-dns.sh --https");
	/* Shorter than the slow hosts' stall (MXTLS_TEST_HTTPS_SLOW_SECONDS, 6 s). */
	struct sts_fetch_opts opts = {.ca_file = ca, .connect_timeout_ms = 2000,
				      .total_timeout_ms = 2500};
	ck_assert_int_eq(sts_fetcher_new(base, &opts, &fetcher), MXTLS_OK);
	char err[256] = "";
	ck_assert_msg(sts_cache_open(":memory:", &cache, err, sizeof err) == MXTLS_OK, "%s", err);
	/* sts_resolve reads and writes the cache through its worker, results on this loop. */
	ck_assert_int_eq(sts_cache_async_attach(cache, base), MXTLS_OK);
}

static void teardown(void)
{
	sts_fetcher_free(fetcher);
	sts_cache_close(cache);
	e2e_dns_teardown();
}

static void on_result(void *arg, struct sts_resolve_result *r)
{
	*(struct sts_resolve_result **)arg = r;
}

static struct sts_resolve_result *resolve_at(const char *domain, int64_t now, bool refresh)
{
	struct sts_resolve_result *r = NULL;
	struct sts_resolve_req req = {.domain = domain, .now = now, .refresh = refresh};
	ck_assert_int_eq(sts_resolve_start(resolver, fetcher, cache, &req, on_result, &r, NULL),
			 MXTLS_OK);
	while (r == NULL)
		ck_assert_int_ge(event_base_loop(base, EVLOOP_ONCE), 0);
	return r;
}

/* One policy host scenario of tests/net (NAME.sts.test) and what discovery must conclude. */
static const struct fetch_case {
	const char *domain;
	enum mxtls_result result; /* of the fetch */
	const char *mode;         /* of the policy in force; NULL: none */
	const char *mx0;          /* its first mx pattern */
	const char *error_has;    /* in fetch_error */
} fetches[] = {
	/* Failures first: each must leave no policy (STS-33) and name the RFC 8460 type. */
	{"redirect301.sts.test", MXTLS_RESULT_STS_POLICY_FETCH_ERROR, NULL, NULL, "status 301"},
	{"redirect302.sts.test", MXTLS_RESULT_STS_POLICY_FETCH_ERROR, NULL, NULL, "not followed"},
	{"notfound.sts.test", MXTLS_RESULT_STS_POLICY_FETCH_ERROR, NULL, NULL, "status 404"},
	{"servererror.sts.test", MXTLS_RESULT_STS_POLICY_FETCH_ERROR, NULL, NULL, "status 500"},
	{"html.sts.test", MXTLS_RESULT_STS_POLICY_INVALID, NULL, NULL, "text/html"},
	{"notype.sts.test", MXTLS_RESULT_STS_POLICY_INVALID, NULL, NULL, "missing"},
	{"badsyntax.sts.test", MXTLS_RESULT_STS_POLICY_INVALID, NULL, NULL, "line 2"},
	{"oversized.sts.test", MXTLS_RESULT_STS_POLICY_FETCH_ERROR, NULL, NULL, "larger than"},
	{"slowheaders.sts.test", MXTLS_RESULT_STS_POLICY_FETCH_ERROR, NULL, NULL, "timed out"},
	{"slowbody.sts.test", MXTLS_RESULT_STS_POLICY_FETCH_ERROR, NULL, NULL, "timed out"},
	{"untrusted.sts.test", MXTLS_RESULT_STS_WEBPKI_INVALID, NULL, NULL, NULL},
	{"wrongname.sts.test", MXTLS_RESULT_STS_WEBPKI_INVALID, NULL, NULL, NULL},
	{"expired.sts.test", MXTLS_RESULT_STS_WEBPKI_INVALID, NULL, NULL, NULL},
	{"cnonly.sts.test", MXTLS_RESULT_STS_WEBPKI_INVALID, NULL, NULL, "common name"},
	{"tls10.sts.test", MXTLS_RESULT_STS_POLICY_FETCH_ERROR, NULL, NULL, NULL},
	{"refused.sts.test", MXTLS_RESULT_STS_POLICY_FETCH_ERROR, NULL, NULL, NULL},
	{"nohost.sts.test", MXTLS_RESULT_STS_POLICY_FETCH_ERROR, NULL, NULL, "no address"},
	/* Policies. */
	{"enforce.sts.test", MXTLS_RESULT_OK, "enforce", "mx1.enforce.sts.test", NULL},
	{"testing.sts.test", MXTLS_RESULT_OK, "testing", "mx1.testing.sts.test", NULL},
	{"none.sts.test", MXTLS_RESULT_OK, "none", NULL, NULL},
	{"wildcard.sts.test", MXTLS_RESULT_OK, "enforce", "*.wildcard.sts.test", NULL},
	{"crlf.sts.test", MXTLS_RESULT_OK, "enforce", "mx1.crlf.sts.test", NULL},
	{"charset.sts.test", MXTLS_RESULT_OK, "enforce", "mx1.charset.sts.test", NULL},
	{"params.sts.test", MXTLS_RESULT_OK, "enforce", "mx1.params.sts.test", NULL},
	{"large.sts.test", MXTLS_RESULT_OK, "enforce", "mx1.large.sts.test", NULL},
	{"wildcardcert.sts.test", MXTLS_RESULT_OK, "enforce", "mx1.wildcardcert.sts.test", NULL},
	{"ipv6only.sts.test", MXTLS_RESULT_OK, "enforce", "mx1.ipv6only.sts.test", NULL},
	/* STS-09: the TXT is a CNAME to the provider; the policy host is still the PD's. */
	{"delegated.sts.test", MXTLS_RESULT_OK, "enforce", NULL, NULL},
};

START_TEST(fetch_scenario)
{
	const struct fetch_case *c = &fetches[_i];
	struct sts_resolve_result *r = resolve_at(c->domain, T0, false);
	ck_assert_msg(r->txt == STS_TXT_STATE_VALID, "%s: txt %s (%s)", c->domain,
		      sts_txt_state_name(r->txt), r->txt_reason);
	ck_assert_str_eq(r->txt_id, ID);
	ck_assert_msg(r->fetched, "%s: no fetch", c->domain);
	ck_assert_msg(r->fetch_result == c->result, "%s: %s (%s), expected %s", c->domain,
		      mxtls_result_name(r->fetch_result), r->fetch_error,
		      mxtls_result_name(c->result));
	if (c->error_has != NULL)
		ck_assert_msg(strstr(r->fetch_error, c->error_has) != NULL, "%s: error '%s' lacks '%s'",
			      c->domain, r->fetch_error, c->error_has);
	if (c->mode == NULL) {
		ck_assert_int_eq(r->source, STS_SOURCE_NONE);
	} else {
		ck_assert_int_eq(r->source, STS_SOURCE_NETWORK);
		ck_assert_str_eq(sts_policy_mode_name(r->policy.mode), c->mode);
		ck_assert_uint_eq(r->policy.max_age, 86400);
		ck_assert_int_eq(r->policy.expires_at, T0 + 86400);
		if (c->mx0 != NULL) {
			ck_assert_uint_ge(r->policy.nmx, 1);
			ck_assert_str_eq(r->policy.mx[0], c->mx0);
		}
		/* Stored: the same domain again is served from the cache (below). */
		struct sts_cache_entry e;
		ck_assert_int_eq(sts_cache_get(cache, c->domain, &e), MXTLS_OK);
		ck_assert_str_eq(e.id, ID);
		ck_assert_uint_eq(e.len, r->policy.len);
		sts_cache_entry_clear(&e);
	}
	sts_resolve_result_free(r);
}
END_TEST

/* STS-30, STS-31, STS-35: an unchanged id within max_age needs no HTTPS; expiry or a refresh
 * fetches again; the new max_age counts from the refresh. */
START_TEST(cache_lifecycle)
{
	struct sts_resolve_result *r = resolve_at("enforce.sts.test", T0, false);
	ck_assert_int_eq(r->source, STS_SOURCE_NETWORK);
	sts_resolve_result_free(r);

	r = resolve_at("enforce.sts.test", T0 + 86399, false);
	ck_assert_int_eq(r->source, STS_SOURCE_CACHE);
	ck_assert(!r->fetched);
	ck_assert_str_eq(sts_policy_mode_name(r->policy.mode), "enforce");
	sts_resolve_result_free(r);

	r = resolve_at("enforce.sts.test", T0 + 86400, false); /* expired: fetch */
	ck_assert_msg(r->source == STS_SOURCE_NETWORK, "%s", r->fetch_error);
	ck_assert(r->fetched);
	ck_assert_int_eq(r->policy.expires_at, T0 + 2 * 86400);
	sts_resolve_result_free(r);

	r = resolve_at("enforce.sts.test", T0 + 86400 + 60, true); /* proactive refresh */
	ck_assert(r->fetched);
	ck_assert_int_eq(r->source, STS_SOURCE_NETWORK);
	ck_assert_int_eq(r->policy.fetched_at, T0 + 86400 + 60);
	ck_assert(!r->changed_same_id);
	sts_resolve_result_free(r);
}
END_TEST

/* Puts a cached policy for domain with id and mode, fetched at fetched_at, max_age one day. */
static void seed(const char *domain, const char *id, enum sts_mode mode, int64_t fetched_at,
		 const char *text)
{
	static char mx0[] = "mx.seeded.test";
	static char *mx[] = {mx0};
	struct sts_cache_entry e = {.mode = mode, .max_age = 86400, .mx = mx, .nmx = 1,
				    .fetched_at = fetched_at, .expires_at = fetched_at + 86400,
				    .last_checked = fetched_at};
	snprintf(e.domain, sizeof e.domain, "%s", domain);
	snprintf(e.id, sizeof e.id, "%s", id);
	e.text = (char *)text;
	e.len = strlen(text);
	ck_assert_int_eq(sts_cache_put(cache, &e), MXTLS_OK);
}

/* STS-34 and STS-18: a failed fetch of a new id keeps the cached policy; the id is not tried
 * again for five minutes (decision D11), then it is. */
START_TEST(failed_fetch_keeps_cache_and_backs_off)
{
	seed("notfound.sts.test", "old1", STS_MODE_ENFORCE, T0 - 3600, "seeded");
	struct sts_resolve_result *r = resolve_at("notfound.sts.test", T0, false);
	ck_assert(r->fetched);
	ck_assert_int_eq(r->fetch_result, MXTLS_RESULT_STS_POLICY_FETCH_ERROR);
	ck_assert_int_eq(r->source, STS_SOURCE_CACHE);
	ck_assert_str_eq(r->policy.id, "old1");
	ck_assert_str_eq(r->policy.mx[0], "mx.seeded.test");
	ck_assert_ptr_null(r->policy.last_error); /* the entry as it was before this failure */
	sts_resolve_result_free(r);

	struct sts_cache_entry e;
	ck_assert_int_eq(sts_cache_get(cache, "notfound.sts.test", &e), MXTLS_OK);
	ck_assert_ptr_nonnull(strstr(e.last_error, "404"));
	ck_assert_int_eq(e.last_checked, T0);
	sts_cache_entry_clear(&e);

	r = resolve_at("notfound.sts.test", T0 + 120, false);
	ck_assert(r->backoff);
	ck_assert(!r->fetched);
	ck_assert_int_eq(r->source, STS_SOURCE_CACHE);
	sts_resolve_result_free(r);

	r = resolve_at("notfound.sts.test", T0 + 301, false);
	ck_assert(!r->backoff);
	ck_assert(r->fetched);
	sts_resolve_result_free(r);

	/* STS-33: without a cached policy a failure means no policy. */
	r = resolve_at("servererror.sts.test", T0, false);
	ck_assert_int_eq(r->source, STS_SOURCE_NONE);
	sts_resolve_result_free(r);
}
END_TEST

/* STS-37: a fetched "none" replaces a cached "enforce" (opt-out). */
START_TEST(opt_out_replaces_enforce)
{
	seed("none.sts.test", "old1", STS_MODE_ENFORCE, T0 - 60, "seeded");
	struct sts_resolve_result *r = resolve_at("none.sts.test", T0, false);
	ck_assert_int_eq(r->source, STS_SOURCE_NETWORK);
	ck_assert_int_eq(r->policy.mode, STS_MODE_NONE);
	sts_resolve_result_free(r);
	struct sts_cache_entry e;
	ck_assert_int_eq(sts_cache_get(cache, "none.sts.test", &e), MXTLS_OK);
	ck_assert_int_eq(e.mode, STS_MODE_NONE);
	ck_assert_str_eq(e.id, ID);
	sts_cache_entry_clear(&e);
}
END_TEST

/* A policy changed without a new id is noticed at refresh (and the new body is used). */
START_TEST(changed_body_same_id_noticed)
{
	seed("enforce.sts.test", ID, STS_MODE_TESTING, T0 - 60, "an older body");
	struct sts_resolve_result *r = resolve_at("enforce.sts.test", T0, false);
	ck_assert(!r->fetched); /* same id, unexpired: the cache answers */
	ck_assert_int_eq(r->policy.mode, STS_MODE_TESTING);
	sts_resolve_result_free(r);
	r = resolve_at("enforce.sts.test", T0, true);
	ck_assert(r->fetched);
	ck_assert(r->changed_same_id);
	ck_assert_int_eq(r->policy.mode, STS_MODE_ENFORCE);
	sts_resolve_result_free(r);
}
END_TEST

/* STS-10, STS-34, STS-30: no TXT, or a failed TXT lookup, leaves an unexpired cached policy in
 * force; an expired one is not used. */
START_TEST(txt_absent_or_failing)
{
	struct sts_resolve_result *r = resolve_at("nomx.test", T0, false);
	ck_assert_int_eq(r->txt, STS_TXT_STATE_ABSENT);
	ck_assert_int_eq(r->source, STS_SOURCE_NONE);
	ck_assert(!r->fetched);
	sts_resolve_result_free(r);

	seed("nomx.test", "c1", STS_MODE_ENFORCE, T0 - 100, "cached");
	r = resolve_at("nomx.test", T0, false);
	ck_assert_int_eq(r->source, STS_SOURCE_CACHE);
	sts_resolve_result_free(r);
	r = resolve_at("nomx.test", T0 - 100 + 86400, false);
	ck_assert_int_eq(r->source, STS_SOURCE_NONE);
	sts_resolve_result_free(r);

	seed("bogus.test", "c1", STS_MODE_ENFORCE, T0 - 100, "cached");
	r = resolve_at("bogus.test", T0, false);
	ck_assert_int_eq(r->txt, STS_TXT_STATE_ERROR);
	ck_assert_int_eq(r->source, STS_SOURCE_CACHE);
	sts_resolve_result_free(r);

	/* STS-05: two v=STSv1 records, or an invalid one: no policy discovered. */
	r = resolve_at("multi.sts.test", T0, false);
	ck_assert_int_eq(r->txt, STS_TXT_STATE_MULTIPLE);
	ck_assert_int_eq(r->source, STS_SOURCE_NONE);
	sts_resolve_result_free(r);
	r = resolve_at("badtxt.sts.test", T0, false);
	ck_assert_int_eq(r->txt, STS_TXT_STATE_INVALID);
	ck_assert(!r->fetched);
	sts_resolve_result_free(r);
}
END_TEST

/* Every scenario at once on one loop; nothing depends on order. */
START_TEST(many_at_once)
{
	enum { N = sizeof fetches / sizeof fetches[0] };
	struct sts_resolve_result *res[N] = {NULL};
	for (size_t i = 0; i < N; i++) {
		struct sts_resolve_req req = {.domain = fetches[i].domain, .now = T0};
		ck_assert_int_eq(sts_resolve_start(resolver, fetcher, cache, &req, on_result, &res[i],
						   NULL),
				 MXTLS_OK);
	}
	for (;;) {
		size_t done = 0;
		for (size_t i = 0; i < N; i++)
			done += res[i] != NULL;
		if (done == N)
			break;
		ck_assert_int_ge(event_base_loop(base, EVLOOP_ONCE), 0);
	}
	for (size_t i = 0; i < N; i++) {
		ck_assert_msg(res[i]->fetch_result == fetches[i].result, "%s: %s",
			      fetches[i].domain, res[i]->fetch_error);
		sts_resolve_result_free(res[i]);
	}
}
END_TEST

START_TEST(cancel_in_flight)
{
	struct sts_resolve_result *r = NULL;
	struct sts_resolve *s = NULL;
	struct sts_resolve_req req = {.domain = "slowbody.sts.test", .now = T0};
	ck_assert_int_eq(sts_resolve_start(resolver, fetcher, cache, &req, on_result, &r, &s),
			 MXTLS_OK);
	/* Let it get as far as the HTTPS request, then cancel. */
	for (int i = 0; i < 20; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	sts_resolve_cancel(s);
	ck_assert_ptr_null(r);
	struct sts_resolve_req bad = {.domain = "not a domain", .now = T0};
	ck_assert_int_eq(sts_resolve_start(resolver, fetcher, cache, &bad, on_result, &r, NULL),
			 MXTLS_E_INVAL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sts-fetch");
	TCase *tc = tcase_create("fetch");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, fetch_scenario, 0, sizeof fetches / sizeof fetches[0]);
	tcase_add_test(tc, cache_lifecycle);
	tcase_add_test(tc, failed_fetch_keeps_cache_and_backs_off);
	tcase_add_test(tc, opt_out_replaces_enforce);
	tcase_add_test(tc, changed_body_same_id_noticed);
	tcase_add_test(tc, txt_absent_or_failing);
	tcase_add_test(tc, many_at_once);
	tcase_add_test(tc, cancel_in_flight);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(suite)
