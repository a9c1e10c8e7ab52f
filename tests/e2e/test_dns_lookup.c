/* SPDX-License-Identifier: MIT */
/* dns/ against real DNSSEC-signed zones: run under tests/net/run-with-dns.sh, which starts an
 * authoritative server for a signed test root inside a network namespace and points
 * MXTLS_TEST_UNBOUND_CONF at a libunbound configuration that trusts only that root. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <mxtls/error.h>

#include "dane/dane_tlsa.h"
#include "dns/dns_rdata.h"
#include "dns/dns_resolver.h"
#include "e2e_dns.h"
#include "test_main.h"


/* One row of the DNS outcome table (RFC-CHECKLIST section 6) as the test zones publish it. */
static const struct lookup_case {
	const char *name;
	uint16_t type;
	enum dns_outcome outcome;
	int security; /* -1: not checked (errors) */
	size_t n;     /* records, for DNS_DATA */
	const char *canonname; /* NULL: same as the name */
} cases[] = {
	/* Lookup errors first: they must never look like "no records" (DANE-04). */
	{"mx1.bogus.test", DNS_TYPE_A, DNS_ERR_BOGUS, DNS_BOGUS, 0, NULL},
	{"bogus.test", DNS_TYPE_MX, DNS_ERR_BOGUS, DNS_BOGUS, 0, NULL},
	{"_25._tcp.mx1.bogus.test", DNS_TYPE_TLSA, DNS_ERR_BOGUS, DNS_BOGUS, 0, NULL},
	/* Nothing answers for lame.test: libunbound's SERVFAIL or our 4 s timeout, whichever
	 * comes first; both are lookup errors. */
	{"lame.test", DNS_TYPE_MX, DNS_ERR_TIMEOUT, -1, 0, NULL},
	/* Answers. */
	{"secure.test", DNS_TYPE_MX, DNS_DATA, DNS_SECURE, 2, NULL},
	{"mx1.secure.test", DNS_TYPE_A, DNS_DATA, DNS_SECURE, 1, NULL},
	{"_25._tcp.mx1.secure.test", DNS_TYPE_TLSA, DNS_DATA, DNS_SECURE, 1, NULL},
	{"_25._tcp.mx2.secure.test", DNS_TYPE_TLSA, DNS_DATA, DNS_SECURE, 1,
	 "_tlsa.shared.secure.test"},
	{"alias.secure.test", DNS_TYPE_A, DNS_DATA, DNS_SECURE, 1, "mx1.secure.test"},
	{"nx.secure.test", DNS_TYPE_A, DNS_NXDOMAIN, DNS_SECURE, 0, NULL},
	{"nodata.secure.test", DNS_TYPE_MX, DNS_NODATA, DNS_SECURE, 0, NULL},
	{"nomx.test", DNS_TYPE_MX, DNS_NODATA, DNS_SECURE, 0, NULL},
	{"nullmx.test", DNS_TYPE_MX, DNS_DATA, DNS_SECURE, 1, NULL},
	{"insecure.test", DNS_TYPE_MX, DNS_DATA, DNS_INSECURE, 1, NULL},
	{"_25._tcp.mx1.insecure.test", DNS_TYPE_TLSA, DNS_DATA, DNS_INSECURE, 1, NULL},
	{"mxinsecure.test", DNS_TYPE_MX, DNS_DATA, DNS_SECURE, 1, NULL},
	{"Secure.TEST.", DNS_TYPE_MX, DNS_DATA, DNS_SECURE, 2, "secure.test"},
};

START_TEST(lookup)
{
	const struct lookup_case *c = &cases[_i];
	struct dns_answer *a = NULL;
	ck_assert_int_eq(dns_resolve_sync(resolver, c->name, c->type, &a), MXTLS_OK);
	bool same = a->outcome == c->outcome ||
		    (c->outcome == DNS_ERR_TIMEOUT && a->outcome == DNS_ERR_SERVFAIL);
	ck_assert_msg(same, "%s/%u: outcome %s (%s), expected %s", c->name,
		      c->type, dns_outcome_name(a->outcome), a->why ? a->why : "-",
		      dns_outcome_name(c->outcome));
	if (c->security >= 0)
		ck_assert_msg(a->security == (enum dns_security)c->security, "%s: %s, expected %s",
			      c->name, dns_security_name(a->security),
			      dns_security_name((enum dns_security)c->security));
	ck_assert_uint_eq(a->n, c->n);
	if (c->canonname != NULL)
		ck_assert_str_eq(a->canonname, c->canonname);
	dns_answer_free(a);
}
END_TEST

START_TEST(mx_and_txt_rdata)
{
	struct dns_answer *a = NULL;
	ck_assert_int_eq(dns_resolve_sync(resolver, "secure.test", DNS_TYPE_MX, &a), MXTLS_OK);
	ck_assert_int_eq(a->outcome, DNS_DATA);
	uint16_t seen = 0;
	for (size_t i = 0; i < a->n; i++) {
		struct dns_mx mx;
		ck_assert_int_eq(dns_rdata_mx(a->rdata[i], a->rdlen[i], &mx), MXTLS_OK);
		if (mx.preference == 10)
			ck_assert_str_eq(mx.exchange, "mx1.secure.test");
		else
			ck_assert_str_eq(mx.exchange, "mx2.secure.test");
		seen |= mx.preference;
	}
	ck_assert_uint_eq(seen, 10 | 20);
	dns_answer_free(a);

	ck_assert_int_eq(dns_resolve_sync(resolver, "nullmx.test", DNS_TYPE_MX, &a), MXTLS_OK);
	struct dns_mx mx;
	ck_assert_int_eq(dns_rdata_mx(a->rdata[0], a->rdlen[0], &mx), MXTLS_OK);
	ck_assert_uint_eq(mx.preference, 0);
	ck_assert_str_eq(mx.exchange, ".");
	dns_answer_free(a);

	/* A TXT record published as two strings is one joined value (RFC 8461 §3.1). */
	ck_assert_int_eq(dns_resolve_sync(resolver, "_mta-sts.secure.test", DNS_TYPE_TXT, &a),
			 MXTLS_OK);
	ck_assert_int_eq(a->outcome, DNS_DATA);
	ck_assert_int_eq(a->security, DNS_SECURE);
	ck_assert_uint_eq(a->n, 1);
	char txt[DNS_TXT_MAX];
	size_t n;
	ck_assert_int_eq(dns_rdata_txt(a->rdata[0], a->rdlen[0], txt, sizeof txt, &n), MXTLS_OK);
	ck_assert_str_eq(txt, "v=STSv1; id=20240101T000000");
	dns_answer_free(a);

	ck_assert_int_eq(dns_resolve_sync(resolver, "_25._tcp.mx1.secure.test", DNS_TYPE_TLSA, &a),
			 MXTLS_OK);
	struct dane_tlsa t;
	ck_assert_int_eq(dane_tlsa_from_rdata(a->rdata[0], a->rdlen[0], &t), MXTLS_OK);
	ck_assert(t.usable);
	ck_assert_uint_eq(t.usage, 3);
	dane_tlsa_clear(&t);
	dns_answer_free(a);
}
END_TEST

struct counter {
	int done;
	int expected;
	int errors;
};

static void count_answer(void *arg, struct dns_answer *a)
{
	struct counter *c = arg;
	c->done++;
	if (a == NULL || a->outcome >= DNS_ERR_SERVFAIL)
		c->errors++;
	dns_answer_free(a);
	if (c->done == c->expected)
		event_base_loopbreak(base);
}

/* Many lookups in flight at once on one event loop, one thread. */
START_TEST(concurrent_lookups)
{
	static const char *const names[] = {"secure.test", "mx1.secure.test", "mx2.secure.test",
					    "insecure.test", "nomx.test", "nullmx.test",
					    "_mta-sts.secure.test", "cname.test"};
	struct counter c = {.expected = (int)ARRAY_LEN(names) * 2};
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		ck_assert_int_eq(dns_resolve(resolver, names[i], DNS_TYPE_MX, count_answer, &c, NULL),
				 MXTLS_OK);
		ck_assert_int_eq(dns_resolve(resolver, names[i], DNS_TYPE_A, count_answer, &c, NULL),
				 MXTLS_OK);
	}
	ck_assert_int_eq(c.done, 0); /* callbacks never run inside dns_resolve() */
	event_base_dispatch(base);
	ck_assert_int_eq(c.done, c.expected);
	ck_assert_int_eq(c.errors, 0);
}
END_TEST

/* A pending query cancelled, and a resolver freed with queries in flight: no callback runs. */
static void must_not_run(void *arg, struct dns_answer *a)
{
	(void)arg;
	dns_answer_free(a);
	ck_abort_msg("callback of a cancelled query ran");
}

START_TEST(cancel_and_free)
{
	struct dns_query *q = NULL;
	ck_assert_int_eq(dns_resolve(resolver, "secure.test", DNS_TYPE_MX, must_not_run, NULL, &q),
			 MXTLS_OK);
	dns_query_cancel(q);
	ck_assert_int_eq(dns_resolve(resolver, "insecure.test", DNS_TYPE_MX, must_not_run, NULL, NULL),
			 MXTLS_OK);
	ck_assert_int_eq(dns_resolve(resolver, "bad name", DNS_TYPE_MX, must_not_run, NULL, NULL),
			 MXTLS_E_INVAL);
}
END_TEST

static Suite *lookup_suite(void)
{
	Suite *s = suite_create("dns-lookup");
	TCase *tc = tcase_create("zones");
	tcase_add_checked_fixture(tc, e2e_dns_setup, e2e_dns_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, lookup, 0, ARRAY_LEN(cases));
	tcase_add_test(tc, mx_and_txt_rdata);
	tcase_add_test(tc, concurrent_lookups);
	tcase_add_test(tc, cancel_and_free);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(lookup_suite)
