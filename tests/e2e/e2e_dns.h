/* SPDX-License-Identifier: MIT */
/* The fixture every test-network program shares: an event loop and a resolver that trusts the
 * test root (MXTLS_TEST_UNBOUND_CONF, set by tests/net/run-with-dns.sh). */
#ifndef MXTLS_E2E_DNS_H
#define MXTLS_E2E_DNS_H

#include <stdlib.h>

#include <check.h>
#include <event2/event.h>
#include <mxtls/error.h>

#include "dns/dns_resolver.h"

static struct event_base *base;
static struct dns_resolver *resolver;

/* Creates base and resolver (4 s per lookup). */
static void e2e_dns_setup(void)
{
	const char *conf = getenv("MXTLS_TEST_UNBOUND_CONF");
	ck_assert_msg(conf != NULL, "MXTLS_TEST_UNBOUND_CONF is not set: run via run-with-dns.sh");
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	char err[256] = "";
	ck_assert_msg(dns_resolver_new(base, conf, NULL, 4000, &resolver, err, sizeof err) == MXTLS_OK,
		      "%s", err);
}

static void e2e_dns_teardown(void)
{
	dns_resolver_free(resolver);
	event_base_free(base);
}

#endif
