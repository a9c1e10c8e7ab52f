/* SPDX-License-Identifier: MIT */
/* The RFC 7672 §2.2 MX and host algorithm (validator/mx_lookup.c, validator/host_dane.c) against
 * the signed test zones: run under tests/net/run-with-dns.sh --pre dane-hosts-zones.sh. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <mxtls/error.h>

#include "dns/dns_resolver.h"
#include "e2e_dns.h"
#include "test_main.h"
#include "validator/host_dane.h"
#include "validator/mx_lookup.h"


/* Runs the loop until *done (every callback of the test arrived). */
static void run_until(const int *done, int want)
{
	while (*done < want)
		ck_assert_int_ge(event_base_loop(base, EVLOOP_ONCE), 0);
}

struct host_slot {
	struct host_dane_result *res;
	int *done;
};

static void on_host(void *arg, struct host_dane_result *res)
{
	struct host_slot *s = arg;
	s->res = res;
	(*s->done)++;
}

static struct host_dane_result *run_host(const struct host_dane_req *req)
{
	int done = 0;
	struct host_slot slot = {NULL, &done};
	ck_assert_int_eq(host_dane_start(resolver, req, on_host, &slot, NULL), MXTLS_OK);
	run_until(&done, 1);
	ck_assert_ptr_nonnull(slot.res);
	return slot.res;
}


/* One host, what the caller knows of it, and everything the algorithm must conclude. */
static const struct host_case {
	const char *id; /* RFC-CHECKLIST item */
	struct host_dane_req req;
	enum host_dane_state state;
	const char *tbd;   /* "" when none */
	const char *addrs; /* comma-separated, in order */
	bool addr_secure;
	bool tlsa_looked_up;
	size_t ntlsa, usable;
	const char *names; /* comma-separated DANE-TA reference identifiers */
	const char *reason_has;
} hosts[] = {
	/* Errors first: an unreachable host is never downgraded to "no DANE". */
	{"DANE-23 bogus address", {.host = "mx1.bogus.test", .mx_secure = true},
	 HOST_DANE_UNREACHABLE, "", "", false, false, 0, 0, "", "A lookup failed"},
	{"DANE-23 expired signatures", {.host = "mx1.expired.test", .mx_secure = true},
	 HOST_DANE_UNREACHABLE, "", "", false, false, 0, 0, "", "lookup failed"},
	{"DANE-07 TLSA bogus", {.host = "mx3.secure.test", .mx_secure = true},
	 HOST_DANE_UNREACHABLE, "", "127.0.10.3", true, true, 0, 0, "", "TLSA lookup at"},
	{"DANE-07 TLSA SERVFAIL", {.host = "mx8.secure.test", .mx_secure = true},
	 HOST_DANE_UNREACHABLE, "", "127.0.10.8", true, true, 0, 0, "", "servfail"},
	/* Issue 14: a count cap below what a DNS message carries made these unreachable. */
	{"65 TLSA records, the usable one last", {.host = "mx9.secure.test", .mx_secure = true},
	 HOST_DANE_USABLE, "mx9.secure.test", "127.0.10.60", true, true, 65, 1, "mx9.secure.test",
	 "1 of 65 usable"},
	{"500 TLSA records, the usable one last", {.host = "mx10.secure.test", .mx_secure = true},
	 HOST_DANE_USABLE, "mx10.secure.test", "127.0.10.61", true, true, 500, 1,
	 "mx10.secure.test", "1 of 500 usable"},
	{"DANE-22 no addresses", {.host = "noaddr.secure.test", .mx_secure = true},
	 HOST_DANE_UNREACHABLE, "", "", true, false, 0, 0, "", "no A or AAAA"},
	{"DANE-22 NXDOMAIN host", {.host = "nx.secure.test", .mx_secure = true},
	 HOST_DANE_UNREACHABLE, "", "", true, false, 0, 0, "", "NXDOMAIN"},
	/* The four TLSA outcomes. */
	{"DANE-09 secure usable", {.host = "MX1.secure.test.", .nexthop = "secure.test",
				   .mx_secure = true},
	 HOST_DANE_USABLE, "mx1.secure.test", "127.0.10.1", true, true, 1, 1,
	 "mx1.secure.test,secure.test", "1 of 1 usable"},
	{"DANE-10 secure all unusable", {.host = "mx4.secure.test", .mx_secure = true},
	 HOST_DANE_ENCRYPT, "mx4.secure.test", "127.0.10.4", true, true, 3, 0, "mx4.secure.test",
	 "no usable record"},
	{"DANE-11 insecure TLSA", {.host = "mx5.secure.test", .mx_secure = true},
	 HOST_DANE_NONE, "", "127.0.10.5", true, true, 0, 0, "", "not DNSSEC-signed"},
	{"DANE-20 secure, no TLSA", {.host = "nodata.secure.test", .mx_secure = true},
	 HOST_DANE_NONE, "", "127.0.10.9", true, true, 0, 0, "", "no TLSA records"},
	/* DANE-22: insecure addresses, no TLSA query (there is a TLSA RRset to be ignored). */
	{"DANE-22 insecure host", {.host = "mx1.insecure.test", .mx_secure = true},
	 HOST_DANE_NONE, "", "127.0.10.30", false, false, 0, 0, "", "no TLSA lookup"},
	/* DANE-23, one row each. */
	{"DANE-23 secure CNAME chain", {.host = "mail.cname.test", .nexthop = "cname.test",
					.mx_secure = true},
	 HOST_DANE_USABLE, "real.secure.test", "127.0.10.50", true, true, 1, 1,
	 "real.secure.test,cname.test", NULL},
	{"DANE-23 secure CNAME, insecure target", {.host = "mixed.cname.test", .mx_secure = true},
	 HOST_DANE_USABLE, "mixed.cname.test", "127.0.10.30", false, true, 1, 1, "mixed.cname.test",
	 NULL},
	{"DANE-23 insecure CNAME, insecure target", {.host = "alias3.insecure.test",
						     .mx_secure = true},
	 HOST_DANE_NONE, "", "127.0.10.30", false, false, 0, 0, "", "insecure CNAME"},
	{"DANE-24 insecure first CNAME", {.host = "alias.insecure.test", .mx_secure = true},
	 HOST_DANE_NONE, "", "127.0.10.1", false, false, 0, 0, "", "insecure CNAME"},
	{"DANE-26 original name after the expanded one", {.host = "alias2.secure.test",
							  .mx_secure = true},
	 HOST_DANE_USABLE, "alias2.secure.test", "127.0.10.9", true, true, 1, 1,
	 "alias2.secure.test", NULL},
	{"DANE-27 CNAME at the TLSA name keeps the TBD", {.host = "mx2.secure.test",
							  .mx_secure = true},
	 HOST_DANE_USABLE, "mx2.secure.test", "127.0.10.2", true, true, 1, 1, "mx2.secure.test",
	 NULL},
	{"DANE-25 port 587", {.host = "mx1.secure.test", .port = 587, .mx_secure = true},
	 HOST_DANE_USABLE, "mx1.secure.test", "127.0.10.1", true, true, 1, 1, "mx1.secure.test",
	 "_587._tcp.mx1.secure.test"},
	{"DANE-51 digest agility", {.host = "mx7.secure.test", .mx_secure = true},
	 HOST_DANE_USABLE, "mx7.secure.test", "127.0.10.7", true, true, 2, 1, "mx7.secure.test",
	 "1 of 2 usable"},
	{"IPv6-only host", {.host = "mx6.secure.test", .mx_secure = true},
	 HOST_DANE_NONE, "", "::1", true, true, 0, 0, "", NULL},
	/* DANE-44: reference identifiers. */
	{"DANE-44 secure MX via an alias next-hop", {.host = "mx1.secure.test",
						     .nexthop = "aliasdom.cname.test",
						     .nexthop_expanded = "secure.test",
						     .mx_secure = true},
	 HOST_DANE_USABLE, "mx1.secure.test", "127.0.10.1", true, true, 1, 1,
	 "mx1.secure.test,aliasdom.cname.test,secure.test", NULL},
	{"DANE-18/44 insecure MX: the MX host name only", {.host = "mail.cname.test",
							   .nexthop = "provider.insecure.test",
							   .mx_secure = false},
	 HOST_DANE_USABLE, "real.secure.test", "127.0.10.50", true, true, 1, 1,
	 "real.secure.test,mail.cname.test", NULL},
	{"DANE-29 implicit MX", {.host = "nomx.test", .nexthop = "nomx.test", .mx_secure = true,
				 .implicit = true},
	 HOST_DANE_USABLE, "nomx.test", "127.0.10.20", true, true, 1, 1, "nomx.test", NULL},
	{"DANE-14 address literal", {.host = "mx1.secure.test", .mx_secure = true, .no_tlsa = true},
	 HOST_DANE_NONE, "", "127.0.10.1", true, false, 0, 0, "", "address literal"},
};

static void join_addrs(const struct host_dane_result *r, char *out, size_t cap)
{
	out[0] = '\0';
	for (size_t i = 0; i < r->naddrs; i++) {
		char buf[INET6_ADDRSTRLEN];
		inet_ntop(r->addrs[i].family, r->addrs[i].addr, buf, sizeof buf);
		size_t len = strlen(out);
		snprintf(out + len, cap - len, "%s%s", i ? "," : "", buf);
	}
}

static void join_names(const struct host_dane_result *r, char *out, size_t cap)
{
	out[0] = '\0';
	for (size_t i = 0; i < r->nnames; i++) {
		size_t len = strlen(out);
		snprintf(out + len, cap - len, "%s%s", i ? "," : "", r->names[i]);
	}
}

static void check_host(const struct host_case *c, const struct host_dane_result *r)
{
	char buf[1024];
	ck_assert_msg(r->state == c->state, "%s: state %s (%s), expected %s", c->id,
		      host_dane_state_name(r->state), r->reason, host_dane_state_name(c->state));
	ck_assert_msg(strcmp(r->tbd, c->tbd) == 0, "%s: TBD '%s', expected '%s'", c->id, r->tbd,
		      c->tbd);
	join_addrs(r, buf, sizeof buf);
	ck_assert_msg(strcmp(buf, c->addrs) == 0, "%s: addresses '%s', expected '%s'", c->id, buf,
		      c->addrs);
	if (c->state != HOST_DANE_UNREACHABLE || r->naddrs > 0)
		ck_assert_msg(r->addr_secure == c->addr_secure, "%s: addr_secure %d", c->id,
			      r->addr_secure);
	ck_assert_msg(r->tlsa_looked_up == c->tlsa_looked_up, "%s: tlsa_looked_up %d", c->id,
		      r->tlsa_looked_up);
	ck_assert_msg(r->ntlsa == c->ntlsa && r->usable == c->usable,
		      "%s: %zu records, %zu usable; expected %zu, %zu", c->id, r->ntlsa, r->usable,
		      c->ntlsa, c->usable);
	join_names(r, buf, sizeof buf);
	ck_assert_msg(strcmp(buf, c->names) == 0, "%s: names '%s', expected '%s'", c->id, buf,
		      c->names);
	if (c->reason_has != NULL)
		ck_assert_msg(strcasestr(r->reason, c->reason_has) != NULL,
			      "%s: reason '%s' lacks '%s'", c->id, r->reason, c->reason_has);
	ck_assert_uint_lt(r->ttl, UINT32_MAX);
}

START_TEST(host_algorithm)
{
	const struct host_case *c = &hosts[_i];
	struct host_dane_result *r = run_host(&c->req);
	check_host(c, r);
	host_dane_result_free(r);
}
END_TEST

/* Every host at once on one loop: the same conclusions, whatever order answers arrive in. */
START_TEST(hosts_concurrently)
{
	enum { N = sizeof hosts / sizeof hosts[0] };
	struct host_slot slots[N];
	int done = 0;
	for (size_t i = 0; i < N; i++) {
		slots[i] = (struct host_slot){NULL, &done};
		ck_assert_int_eq(host_dane_start(resolver, &hosts[i].req, on_host, &slots[i], NULL),
				 MXTLS_OK);
	}
	run_until(&done, N);
	for (size_t i = 0; i < N; i++) {
		check_host(&hosts[i], slots[i].res);
		host_dane_result_free(slots[i].res);
	}
}
END_TEST

/* Cancelling in the middle (after the address step started) leaks nothing and calls nothing. */
START_TEST(cancel_pending)
{
	int done = 0;
	struct host_slot slot = {NULL, &done};
	struct host_dane *h = NULL;
	struct host_dane_req req = {.host = "mx1.secure.test", .mx_secure = true};
	ck_assert_int_eq(host_dane_start(resolver, &req, on_host, &slot, &h), MXTLS_OK);
	host_dane_cancel(h);
	/* A second lookup still completes on the same resolver. */
	struct host_dane_result *r = run_host(&req);
	ck_assert_int_eq(r->state, HOST_DANE_USABLE);
	host_dane_result_free(r);
	ck_assert_int_eq(done, 0);
}
END_TEST

START_TEST(bad_host_names)
{
	const char *bad[] = {"", ".", "a..b", "-a.test", "a b.test", "a.test..", NULL};
	for (size_t i = 0; bad[i] != NULL; i++) {
		struct host_dane_req req = {.host = bad[i]};
		ck_assert_int_eq(host_dane_start(resolver, &req, on_host, NULL, NULL),
				 MXTLS_E_INVAL);
	}
	struct host_dane_req req = {.host = "mx1.secure.test", .nexthop = "bad name"};
	ck_assert_int_eq(host_dane_start(resolver, &req, on_host, NULL, NULL), MXTLS_E_INVAL);
}
END_TEST

/* RFC 7672 §2.2.1 at the domain level. */
static const struct mx_case {
	const char *id;
	const char *domain;
	enum mx_lookup_status status;
	bool secure, implicit;
	const char *expanded;
	const char *hosts; /* "pref name,..." */
	const char *reason_has;
} mxes[] = {
	{"DANE-05 bogus MX", "bogus.test", MX_LOOKUP_TEMPFAIL, false, false, "bogus.test", "",
	 "bogus"},
	{"DANE-05 SERVFAIL MX", "mx.refused.test", MX_LOOKUP_TEMPFAIL, false, false,
	 "mx.refused.test", "", "servfail"},
	{"null MX", "nullmx.test", MX_LOOKUP_NULL_MX, true, false, "nullmx.test", "", "RFC 7505"},
	{"NXDOMAIN", "nx.secure.test", MX_LOOKUP_NXDOMAIN, true, false, "nx.secure.test", "",
	 "does not exist"},
	{"DANE-29 implicit MX", "nomx.test", MX_LOOKUP_OK, true, true, "nomx.test", "0 nomx.test",
	 NULL},
	{"DANE-16 sorted by preference", "sorted.secure.test", MX_LOOKUP_OK, true, false,
	 "sorted.secure.test", "10 nodata.secure.test,20 mx1.secure.test,30 mx2.secure.test", NULL},
	{"DANE-17 CNAME at the next-hop", "aliasdom.cname.test", MX_LOOKUP_OK, true, false,
	 "secure.test", "10 mx1.secure.test,20 mx2.secure.test", NULL},
	{"DANE-18 insecure MX", "provider.insecure.test", MX_LOOKUP_OK, false, false,
	 "provider.insecure.test", "10 mx1.secure.test", NULL},
	{"DANE-14 address in an MX record", "literal.secure.test", MX_LOOKUP_OK, true, false,
	 "literal.secure.test", "10 127.0.10.1!", NULL},
};

static void on_mx(void *arg, const struct mx_lookup_result *res)
{
	struct mx_lookup_result *out = arg;
	*out = *res;
}

START_TEST(mx_step)
{
	const struct mx_case *c = &mxes[_i];
	struct mx_lookup_result r;
	memset(&r, 0, sizeof r);
	r.status = (enum mx_lookup_status)-1;
	ck_assert_int_eq(mx_lookup_start(resolver, c->domain, on_mx, &r, NULL), MXTLS_OK);
	while ((int)r.status == -1)
		ck_assert_int_ge(event_base_loop(base, EVLOOP_ONCE), 0);
	ck_assert_msg(r.status == c->status, "%s: %s (%s), expected %s", c->id,
		      mx_lookup_status_name(r.status), r.reason, mx_lookup_status_name(c->status));
	if (c->status != MX_LOOKUP_TEMPFAIL)
		ck_assert_msg(r.secure == c->secure, "%s: secure %d", c->id, r.secure);
	ck_assert_msg(r.implicit == c->implicit, "%s: implicit %d", c->id, r.implicit);
	ck_assert_str_eq(r.expanded, c->expanded);
	char buf[1024] = "";
	for (size_t i = 0; i < r.n; i++) {
		size_t len = strlen(buf);
		snprintf(buf + len, sizeof buf - len, "%s%u %s%s", i ? "," : "",
			 r.hosts[i].preference, r.hosts[i].name, r.hosts[i].ip_literal ? "!" : "");
	}
	ck_assert_msg(strcmp(buf, c->hosts) == 0, "%s: hosts '%s', expected '%s'", c->id, buf,
		      c->hosts);
	if (c->reason_has != NULL)
		ck_assert_msg(strcasestr(r.reason, c->reason_has) != NULL, "%s: reason '%s'", c->id,
			      r.reason);
}
END_TEST

/* DANE-06: with MX 10 unreachable (bogus address) and MX 20 fine, MX 20 is still usable. */
START_TEST(one_bad_mx_does_not_spoil_the_others)
{
	struct mx_lookup_result mx;
	memset(&mx, 0, sizeof mx);
	mx.status = (enum mx_lookup_status)-1;
	ck_assert_int_eq(mx_lookup_start(resolver, "multi.secure.test", on_mx, &mx, NULL), MXTLS_OK);
	while ((int)mx.status == -1)
		ck_assert_int_ge(event_base_loop(base, EVLOOP_ONCE), 0);
	ck_assert_int_eq(mx.status, MX_LOOKUP_OK);
	ck_assert_uint_eq(mx.n, 2);
	struct host_slot slots[2];
	int done = 0;
	for (size_t i = 0; i < 2; i++) {
		slots[i] = (struct host_slot){NULL, &done};
		struct host_dane_req req = {.host = mx.hosts[i].name, .nexthop = mx.domain,
					    .nexthop_expanded = mx.expanded,
					    .mx_secure = mx.secure};
		ck_assert_int_eq(host_dane_start(resolver, &req, on_host, &slots[i], NULL), MXTLS_OK);
	}
	run_until(&done, 2);
	ck_assert_int_eq(slots[0].res->state, HOST_DANE_UNREACHABLE);
	ck_assert_int_eq(slots[1].res->state, HOST_DANE_USABLE);
	ck_assert_str_eq(slots[1].res->names[1], "multi.secure.test");
	host_dane_result_free(slots[0].res);
	host_dane_result_free(slots[1].res);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("dane-hosts");
	TCase *tc = tcase_create("hosts");
	tcase_add_checked_fixture(tc, e2e_dns_setup, e2e_dns_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, host_algorithm, 0, sizeof hosts / sizeof hosts[0]);
	tcase_add_test(tc, hosts_concurrently);
	tcase_add_test(tc, cancel_pending);
	tcase_add_test(tc, bad_host_names);
	tcase_add_loop_test(tc, mx_step, 0, sizeof mxes / sizeof mxes[0]);
	tcase_add_test(tc, one_bad_mx_does_not_spoil_the_others);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(suite)
