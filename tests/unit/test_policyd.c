/* SPDX-License-Identifier: MIT */
/* Unit tests for policyd/: netstring framing, request keys, the answer rules, the cache. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "policyd/policyd_answer.h"
#include "policyd/policyd_cache.h"
#include "policyd/policyd_conn.h"
#include "policyd/policyd_key.h"
#include "policyd/policyd_netstring.h"
#include "test_main.h"

/* ---- netstrings (hostile input first) ---- */

static const struct ns_case {
	const char *in;
	size_t len;
	size_t max;
	enum policyd_netstring rc;
	const char *payload; /* for DONE */
	size_t plen, used;
} ns_cases[] = {
	{"x:abc,", 6, 100, POLICYD_NETSTRING_BAD_LENGTH, NULL, 0, 0},  /* not a digit */
	{":abc,", 5, 100, POLICYD_NETSTRING_BAD_LENGTH, NULL, 0, 0},   /* no digits */
	{"-3:abc,", 7, 100, POLICYD_NETSTRING_BAD_LENGTH, NULL, 0, 0}, /* a sign */
	{" 3:abc,", 7, 100, POLICYD_NETSTRING_BAD_LENGTH, NULL, 0, 0}, /* white space */
	{"03:abc,", 7, 100, POLICYD_NETSTRING_BAD_LENGTH, NULL, 0, 0}, /* leading zero */
	{"1234567890", 10, 2000000000, POLICYD_NETSTRING_BAD_LENGTH, NULL, 0, 0}, /* 10 digits */
	{"101:", 4, 100, POLICYD_NETSTRING_TOO_LONG, NULL, 0, 0},      /* over the cap ... */
	{"999999", 6, 100, POLICYD_NETSTRING_TOO_LONG, NULL, 0, 0},    /* ... before the ':' */
	{"3:abc;", 6, 100, POLICYD_NETSTRING_NO_COMMA, NULL, 0, 0},
	{"3:abcd,", 7, 100, POLICYD_NETSTRING_NO_COMMA, NULL, 0, 0},   /* length too short */
	{"", 0, 100, POLICYD_NETSTRING_MORE, NULL, 0, 0},
	{"1", 1, 100, POLICYD_NETSTRING_MORE, NULL, 0, 0},
	{"12", 2, 100, POLICYD_NETSTRING_MORE, NULL, 0, 0},
	{"3:", 2, 100, POLICYD_NETSTRING_MORE, NULL, 0, 0},
	{"3:ab", 4, 100, POLICYD_NETSTRING_MORE, NULL, 0, 0},
	{"3:abc", 5, 100, POLICYD_NETSTRING_MORE, NULL, 0, 0},         /* the comma not yet here */
	{"0:,", 3, 100, POLICYD_NETSTRING_DONE, "", 0, 3},
	{"3:abc,", 6, 100, POLICYD_NETSTRING_DONE, "abc", 3, 6},
	{"3:abc,4:next,", 13, 100, POLICYD_NETSTRING_DONE, "abc", 3, 6}, /* pipelined */
	{"3:a\0c,", 6, 100, POLICYD_NETSTRING_DONE, "a\0c", 3, 6},     /* any byte */
	{"3:a,c,", 6, 100, POLICYD_NETSTRING_DONE, "a,c", 3, 6},
	{"100:", 4, 100, POLICYD_NETSTRING_MORE, NULL, 0, 0},          /* exactly the cap */
	{"19:postfix example.com,", 23, 1024, POLICYD_NETSTRING_DONE, "postfix example.com", 19,
	 23},
};

START_TEST(netstring_decode)
{
	const struct ns_case *c = &ns_cases[_i];
	const char *payload = (const char *)1;
	size_t plen = 77, used = 77;
	enum policyd_netstring rc =
		policyd_netstring_decode(c->in, c->len, c->max, &payload, &plen, &used);
	ck_assert_msg(rc == c->rc, "case %d (%s): got %s", _i, c->in, policyd_netstring_name(rc));
	if (rc == POLICYD_NETSTRING_DONE) {
		ck_assert_uint_eq(plen, c->plen);
		ck_assert_uint_eq(used, c->used);
		ck_assert_int_eq(memcmp(payload, c->payload, plen), 0);
	} else {
		/* all-or-nothing outputs */
		ck_assert_ptr_eq(payload, (const char *)1);
		ck_assert_uint_eq(plen, 77);
		ck_assert_uint_eq(used, 77);
	}
}
END_TEST

/* Every prefix of a valid netstring is MORE; the whole of it is DONE. */
START_TEST(netstring_every_split)
{
	const char in[] = "26:postfix dane-ee.mail.test.,";
	size_t n = sizeof in - 1;
	for (size_t k = 0; k < n; k++) {
		const char *p;
		size_t plen, used;
		ck_assert_int_eq(policyd_netstring_decode(in, k, 1024, &p, &plen, &used),
				 POLICYD_NETSTRING_MORE);
	}
	const char *p;
	size_t plen, used;
	ck_assert_int_eq(policyd_netstring_decode(in, n, 1024, &p, &plen, &used),
			 POLICYD_NETSTRING_DONE);
	ck_assert_uint_eq(plen, 26);
	ck_assert_uint_eq(used, n);
}
END_TEST

START_TEST(netstring_encode)
{
	char out[32];
	ck_assert_uint_eq(policyd_netstring_encode("NOTFOUND ", 9, out, sizeof out), 12);
	ck_assert_int_eq(memcmp(out, "9:NOTFOUND ,", 12), 0);
	ck_assert_uint_eq(policyd_netstring_encode("", 0, out, sizeof out), 3);
	ck_assert_int_eq(memcmp(out, "0:,", 3), 0);
	ck_assert_uint_eq(policyd_netstring_encode("OK dane", 7, out, 10), 10);
	ck_assert_uint_eq(policyd_netstring_encode("OK dane", 7, out, 9), 0); /* too small */
}
END_TEST

/* ---- request keys ---- */

static const struct key_case {
	const char *payload;
	int rc;
	enum policyd_key_kind kind;
	const char *domain;
	const char *map;
} key_cases[] = {
	{"nospace", -1, 0, NULL, NULL},
	{" example.com", -1, 0, NULL, NULL},                 /* empty map name */
	{"post\x01fix example.com", -1, 0, NULL, NULL},
	{"postfix ", 0, POLICYD_KEY_INVALID, NULL, "postfix"}, /* empty key */
	{"postfix exa mple.com", 0, POLICYD_KEY_INVALID, NULL, "postfix"},
	{"postfix exa\x7fmple.com", 0, POLICYD_KEY_INVALID, NULL, "postfix"},
	{"postfix b\xc3\xbc\x63her.example", 0, POLICYD_KEY_INVALID, NULL, "postfix"},
	{"postfix bad_key!", 0, POLICYD_KEY_INVALID, NULL, "postfix"},
	{"postfix a..b", 0, POLICYD_KEY_INVALID, NULL, "postfix"},
	{"postfix [mx.example.com", 0, POLICYD_KEY_INVALID, NULL, "postfix"},
	{"postfix [mx.example.com]x", 0, POLICYD_KEY_INVALID, NULL, "postfix"},
	{"postfix [mx.example.com]:99999", 0, POLICYD_KEY_INVALID, NULL, "postfix"},
	{"postfix example.com:smtp", 0, POLICYD_KEY_INVALID, NULL, "postfix"},
	{"postfix .", 0, POLICYD_KEY_PARENT, NULL, "postfix"},
	{"postfix .example.com", 0, POLICYD_KEY_PARENT, NULL, "postfix"},
	{"postfix [192.0.2.1]", 0, POLICYD_KEY_IP_LITERAL, NULL, "postfix"},
	{"postfix [192.0.2.1]:25", 0, POLICYD_KEY_IP_LITERAL, NULL, "postfix"},
	{"postfix 192.0.2.1", 0, POLICYD_KEY_IP_LITERAL, NULL, "postfix"},
	{"postfix [ipv6:2001:db8::1]", 0, POLICYD_KEY_IP_LITERAL, NULL, "postfix"},
	{"postfix [IPv6:2001:DB8::1]", 0, POLICYD_KEY_IP_LITERAL, NULL, "postfix"},
	{"postfix [2001:db8::1]:25", 0, POLICYD_KEY_IP_LITERAL, NULL, "postfix"},
	{"postfix [relay.example.com]:587", 0, POLICYD_KEY_OTHER_PORT, NULL, "postfix"},
	{"postfix example.com:2525", 0, POLICYD_KEY_OTHER_PORT, NULL, "postfix"},
	{"postfix example.com", 0, POLICYD_KEY_DOMAIN, "example.com", "postfix"},
	{"postfix Example.COM.", 0, POLICYD_KEY_DOMAIN, "example.com", "postfix"},
	{"postfix example.com:25", 0, POLICYD_KEY_DOMAIN, "example.com", "postfix"},
	{"postfix [MX.Example.com]", 0, POLICYD_KEY_DOMAIN, "mx.example.com", "postfix"},
	{"postfix [mx.example.com]:25", 0, POLICYD_KEY_DOMAIN, "mx.example.com", "postfix"},
	{"postfix [mx.example.com.]:25", 0, POLICYD_KEY_DOMAIN, "mx.example.com", "postfix"},
	{"other-map localhost", 0, POLICYD_KEY_DOMAIN, "localhost", "other-map"},
	{"postfix _25._tcp.example.com", 0, POLICYD_KEY_DOMAIN, "_25._tcp.example.com", "postfix"},
};

START_TEST(request_parse)
{
	const struct key_case *c = &key_cases[_i];
	struct policyd_request r;
	int rc = policyd_request_parse(c->payload, strlen(c->payload), &r);
	ck_assert_msg(rc == c->rc, "case %d '%s': rc %d", _i, c->payload, rc);
	if (rc != 0) {
		ck_assert_ptr_nonnull(r.why);
		return;
	}
	ck_assert_str_eq(r.map, c->map);
	ck_assert_msg(r.kind == c->kind, "case %d '%s': kind %s", _i, c->payload,
		      policyd_key_kind_name(r.kind));
	if (c->kind == POLICYD_KEY_DOMAIN)
		ck_assert_str_eq(r.domain, c->domain);
	if (c->kind == POLICYD_KEY_INVALID)
		ck_assert_ptr_nonnull(r.why);
}
END_TEST

START_TEST(request_embedded_nul)
{
	struct policyd_request r;
	ck_assert_int_eq(policyd_request_parse("postfix a\0b.com", 15, &r), 0);
	ck_assert_int_eq(r.kind, POLICYD_KEY_INVALID);
	char big[400];
	memset(big, 'a', sizeof big);
	memcpy(big, "postfix ", 8);
	ck_assert_int_eq(policyd_request_parse(big, sizeof big, &r), 0);
	ck_assert_int_eq(r.kind, POLICYD_KEY_INVALID); /* too long for a domain */
}
END_TEST

/* ---- the answer rules (decision D1, doc/policyd.md) ---- */

#define H(n, s, m) {n, POLICYD_SEC_##s, m}

static const struct answer_case {
	const char *what;
	struct policyd_facts f;
	struct policyd_answer_opts o;
	const char *answer;
} answer_cases[] = {
	{"every host DANE", {.domain = "d.test", .nhosts = 2,
	  .hosts = {H("mx1.d.test", DANE, -1), H("mx2.d.test", DANE, -1)}},
	 {0}, "OK dane-only"},
	{"DANE and DANE-encrypt: dane (Postfix's dane-only refuses unusable TLSA)",
	 {.domain = "d.test", .nhosts = 2,
	  .hosts = {H("mx1.d.test", DANE, -1), H("mx2.d.test", DANE_ENCRYPT, -1)}},
	 {0}, "OK dane"},
	{"DANE, the other host unreachable", {.domain = "d.test", .nhosts = 2,
	  .hosts = {H("mx1.d.test", DANE, -1), H("mx2.d.test", UNREACHABLE, -1)}},
	 {0}, "OK dane-only"},
	{"some DANE, no policy", {.domain = "d.test", .nhosts = 2,
	  .hosts = {H("mx1.d.test", DANE, -1), H("mx2.d.test", OPPORTUNISTIC, -1)}},
	 {0}, "OK dane"},
	{"some DANE, testing policy", {.domain = "d.test", .nhosts = 2,
	  .hosts = {H("mx1.d.test", DANE, 1), H("mx2.d.test", MTA_STS_TESTING, 1)},
	  .sts_mode = "testing", .npatterns = 1, .patterns = (const char *const[]){"*.d.test"}},
	 {0}, "OK dane"},
	{"some DANE + enforce: the safer dane-only", {.domain = "d.test", .nhosts = 2,
	  .hosts = {H("mx1.d.test", DANE, 1), H("mx2.d.test", MTA_STS, 1)},
	  .sts_mode = "enforce", .npatterns = 1, .patterns = (const char *const[]){"*.d.test"}},
	 {0}, "OK dane-only"},
	{"DANE-encrypt only, no policy: dane (encryption)", {.domain = "d.test", .nhosts = 1,
	  .hosts = {H("mx1.d.test", DANE_ENCRYPT, -1)}},
	 {0}, "OK dane"},
	{"DANE-encrypt + testing policy: dane", {.domain = "d.test", .nhosts = 1,
	  .hosts = {H("mx1.d.test", DANE_ENCRYPT, 1)}, .sts_mode = "testing", .npatterns = 1,
	  .patterns = (const char *const[]){"mx1.d.test"}},
	 {.tlsrpt = true}, "OK dane"},
	{"DANE-encrypt + enforce: Web PKI on top (D1)", {.domain = "d.test", .nhosts = 1,
	  .hosts = {H("mx1.d.test", DANE_ENCRYPT, 1)}, .sts_mode = "enforce", .npatterns = 1,
	  .patterns = (const char *const[]){"mx1.d.test"}},
	 {0}, "OK secure match=mx1.d.test servername=hostname"},
	{"DANE + DANE-encrypt + enforce: dane-only", {.domain = "d.test", .nhosts = 2,
	  .hosts = {H("mx1.d.test", DANE, 1), H("mx2.d.test", DANE_ENCRYPT, 1)},
	  .sts_mode = "enforce", .npatterns = 1, .patterns = (const char *const[]){"*.d.test"}},
	 {0}, "OK dane-only"},
	{"DANE + enforce (DANE wins)", {.domain = "d.test", .nhosts = 1,
	  .hosts = {H("mx1.d.test", DANE, 1)}, .sts_mode = "enforce", .npatterns = 1,
	  .patterns = (const char *const[]){"mx1.d.test"}},
	 {.tlsrpt = true}, "OK dane-only"},
	{"enforce, literal patterns in policy order", {.domain = "d.test", .nhosts = 2,
	  .hosts = {H("mx1.d.test", MTA_STS, 1), H("mx2.d.test", MTA_STS, 1)},
	  .sts_mode = "enforce", .npatterns = 2, .patterns = (const char *const[]){"mx2.d.test", "mx1.d.test"}},
	 {0}, "OK secure match=mx2.d.test:mx1.d.test servername=hostname"},
	{"enforce, a literal not in the MX set stays", {.domain = "d.test", .nhosts = 1,
	  .hosts = {H("mx1.d.test", EXCLUDED, 0)}, .sts_mode = "enforce", .npatterns = 1,
	  .patterns = (const char *const[]){"mx9.d.test"}},
	 {0}, "OK secure match=mx9.d.test servername=hostname"},
	{"enforce, *. pattern: the MX names the decision matched (one label, RFC 8461 §4.1)", {.domain = "d.test", .nhosts = 3,
	  .hosts = {H("mx1.d.test", MTA_STS, 1), H("mx2.sub.d.test", EXCLUDED, 0),
		    H("mx3.d.test", MTA_STS, 1)},
	  .sts_mode = "enforce", .npatterns = 1, .patterns = (const char *const[]){"*.d.test"}},
	 {0}, "OK secure match=mx1.d.test:mx3.d.test servername=hostname"},
	{"enforce, duplicates removed", {.domain = "d.test", .nhosts = 1,
	  .hosts = {H("mx1.d.test", MTA_STS, 1)}, .sts_mode = "enforce", .npatterns = 2,
	  .patterns = (const char *const[]){"mx1.d.test", "*.d.test"}},
	 {0}, "OK secure match=mx1.d.test servername=hostname"},
	{"enforce, implicit MX (D2)", {.domain = "d.test", .nhosts = 1,
	  .hosts = {H("d.test", MTA_STS, 1)}, .sts_mode = "enforce", .npatterns = 1,
	  .patterns = (const char *const[]){"d.test"}},
	 {0}, "OK secure match=d.test servername=hostname"},
	{"enforce, nothing matches a *. pattern", {.domain = "d.test", .nhosts = 1,
	  .hosts = {H("a.b.d.test", EXCLUDED, 0)}, .sts_mode = "enforce", .npatterns = 1,
	  .patterns = (const char *const[]){"*.d.test"}},
	 {0}, "TEMP no MX host matches the MTA-STS policy"},
	{"enforce, nothing matches, fail-open", {.domain = "d.test", .nhosts = 1,
	  .hosts = {H("a.b.d.test", EXCLUDED, 0)}, .sts_mode = "enforce", .npatterns = 1,
	  .patterns = (const char *const[]){"*.d.test"}},
	 {.fail_open = true}, "NOTFOUND "},
	{"enforce with TLSRPT attributes", {.domain = "d.test", .nhosts = 1,
	  .hosts = {H("mx1.d.test", MTA_STS, 1)}, .sts_mode = "enforce", .npatterns = 1,
	  .patterns = (const char *const[]){"*.d.test"}, .max_age = 86400},
	 {.tlsrpt = true},
	 "OK secure match=mx1.d.test servername=hostname policy_type=sts policy_domain=d.test "
	 "policy_ttl=86400 mx_host_pattern=*.d.test { policy_string = version: STSv1 } { policy_string = mode: "
	 "enforce } { policy_string = mx: *.d.test } { policy_string = max_age: 86400 }"},
	{"testing: NOTFOUND", {.domain = "d.test", .nhosts = 1,
	  .hosts = {H("mx1.d.test", MTA_STS_TESTING, 1)}, .sts_mode = "testing", .npatterns = 1,
	  .patterns = (const char *const[]){"mx1.d.test"}, .max_age = 600},
	 {0}, "NOTFOUND "},
	{"testing with TLSRPT: may + the policy", {.domain = "d.test", .nhosts = 1,
	  .hosts = {H("mx1.d.test", MTA_STS_TESTING, 1)}, .sts_mode = "testing", .npatterns = 1,
	  .patterns = (const char *const[]){"mx1.d.test"}, .max_age = 600},
	 {.tlsrpt = true},
	 "OK may policy_type=sts policy_domain=d.test policy_ttl=600 mx_host_pattern=mx1.d.test "
	 "{ policy_string = version: STSv1 } { policy_string = mode: testing } "
	 "{ policy_string = mx: mx1.d.test } { policy_string = max_age: 600 }"},
	{"mode none", {.domain = "d.test", .nhosts = 1,
	  .hosts = {H("mx1.d.test", OPPORTUNISTIC, -1)}, .sts_mode = "none"},
	 {.tlsrpt = true}, "NOTFOUND "},
	{"no policy, no DANE", {.domain = "d.test", .nhosts = 1,
	  .hosts = {H("mx1.d.test", OPPORTUNISTIC, -1)}},
	 {0}, "NOTFOUND "},
	{"tempfail", {.domain = "d.test", .mode = POLICYD_MODE_TEMPFAIL,
	  .reason = "MX lookup failed: servfail"},
	 {0}, "TEMP MX lookup failed: servfail"},
	{"tempfail, fail-open", {.domain = "d.test", .mode = POLICYD_MODE_TEMPFAIL,
	  .reason = "MX lookup failed: servfail"},
	 {.fail_open = true}, "NOTFOUND "},
	{"tempfail, reason made printable", {.domain = "d.test", .mode = POLICYD_MODE_TEMPFAIL,
	  .reason = "bad\r\nline\x01"},
	 {0}, "TEMP bad??line?"},
	{"every host unreachable", {.domain = "d.test", .nhosts = 1,
	  .hosts = {H("mx1.d.test", UNREACHABLE, -1)}},
	 {0}, "TEMP no MX host can be reached"},
	{"undeliverable", {.domain = "d.test", .mode = POLICYD_MODE_UNDELIVERABLE},
	 {0}, "NOTFOUND "},
};

START_TEST(answer_rules)
{
	const struct answer_case *c = &answer_cases[_i];
	char out[POLICYD_ANSWER_MAX];
	size_t n = policyd_answer(&c->f, &c->o, out, sizeof out);
	ck_assert_msg(strcmp(out, c->answer) == 0, "%s: got '%s'", c->what, out);
	ck_assert_uint_eq(n, strlen(c->answer));
}
END_TEST

START_TEST(answer_too_small_is_an_error)
{
	const struct answer_case *c = &answer_cases[11];
	char out[16];
	ck_assert_uint_eq(policyd_answer(&c->f, &c->o, out, sizeof out), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

/* Issue 14: a valid enforce policy with many patterns (64 KiB holds 2895 of these) is
 * answered in full; only Postfix's own reply limit makes an answer TEMP (0 here). */
START_TEST(answer_many_patterns)
{
	enum { N = 2895 };
	static char names[N][24];
	static const char *pats[N];
	for (size_t i = 0; i < N; i++) {
		snprintf(names[i], sizeof names[i], "mx%zu.example.com", i);
		pats[i] = names[i];
	}
	struct policyd_facts f = {.domain = "example.com", .mode = POLICYD_MODE_DECIDED,
				  .nhosts = 1, .sts_mode = "enforce", .npatterns = N,
				  .patterns = pats, .max_age = 86400};
	f.hosts[0].name = "mx2894.example.com";
	f.hosts[0].security = POLICYD_SEC_MTA_STS;
	f.hosts[0].sts_match = 1;
	struct policyd_answer_opts o = {0};
	static char out[POLICYD_ANSWER_MAX];
	size_t n = policyd_answer(&f, &o, out, sizeof out);
	ck_assert_uint_gt(n, 16384); /* the old cap */
	ck_assert_uint_eq(strncmp(out, "OK secure match=mx0.example.com:mx1.example.com:", 48), 0);
	ck_assert_str_eq(out + n - 39, ":mx2894.example.com servername=hostname");
	/* The host is a literal pattern already: named once. */
	ck_assert_ptr_null(strstr(out, "mx2894.example.com:mx2894.example.com"));
	/* With the TLSRPT attributes every pattern is written three times: over Postfix's
	 * 100000-byte limit, so no answer (the server says TEMP), never a cut list. */
	o.tlsrpt = true;
	ck_assert_uint_eq(policyd_answer(&f, &o, out, sizeof out), 0);
}
END_TEST

/* Issue 14: TEMP reasons were cut at 200 bytes in the middle of a name. */
START_TEST(answer_long_reason_is_cut)
{
	char reason[800];
	/* 600 bytes are kept whole (the library's longest reason is shorter). */
	memset(reason, 'r', 600);
	reason[600] = '\0';
	struct policyd_facts f = {.domain = "d.test", .mode = POLICYD_MODE_TEMPFAIL,
				  .reason = reason};
	struct policyd_answer_opts o = {0};
	char out[POLICYD_ANSWER_MAX];
	ck_assert_uint_eq(policyd_answer(&f, &o, out, sizeof out), 5 + 600);
	/* Longer: cut at the last space that leaves room for " ...". */
	for (size_t i = 0; i < sizeof reason - 1; i++)
		reason[i] = i % 10 == 9 ? ' ' : 'a' + (char)(i % 10);
	reason[sizeof reason - 1] = '\0';
	size_t n = policyd_answer(&f, &o, out, sizeof out);
	ck_assert_uint_eq(n, 5 + 589 + 4);
	ck_assert_str_eq(out + n - 13, "abcdefghi ...");
	/* One word over the cap is cut where it must be. */
	memset(reason, 'w', sizeof reason - 1);
	ck_assert_uint_eq(policyd_answer(&f, &o, out, sizeof out), 5 + 596 + 4);
}
END_TEST

/* ---- the cache ---- */

START_TEST(cache_basics)
{
	struct policyd_cache c;
	ck_assert_int_eq(policyd_cache_init(&c, 5000), 0);
	char key[32];
	for (int i = 0; i < 5000; i++) { /* grows through several rehashes */
		snprintf(key, sizeof key, "d%05d.test", i);
		struct policyd_entry *e = policyd_cache_add(&c, key);
		ck_assert_ptr_nonnull(e);
		ck_assert_int_eq(policyd_cache_set_answer(e, "OK dane", 7, 100 + i % 2, 60), 0);
	}
	ck_assert_ptr_null(policyd_cache_add(&c, "one-too-many.test")); /* at max */
	struct policyd_entry *e = policyd_cache_find(&c, "d04321.test");
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->framed_len, 10);
	ck_assert_int_eq(memcmp(e->framed, "7:OK dane,", 10), 0);
	ck_assert_ptr_null(policyd_cache_find(&c, "d05000.test"));
	/* A waiter keeps an expired entry alive. */
	struct policyd_entry *w = policyd_cache_find(&c, "d00000.test");
	struct policyd_waiter waiter = {0};
	policyd_waiter_add(w, &waiter);
	ck_assert(policyd_entry_has_waiters(w));
	ck_assert_uint_eq(policyd_cache_sweep(&c, 100), 2499); /* expires 100 are gone */
	ck_assert_ptr_nonnull(policyd_cache_find(&c, "d00000.test"));
	ck_assert_ptr_null(policyd_cache_find(&c, "d00002.test"));
	ck_assert_ptr_nonnull(policyd_cache_find(&c, "d00001.test"));
	policyd_waiter_detach(&waiter);
	policyd_waiter_detach(&waiter); /* twice is harmless */
	ck_assert(!policyd_entry_has_waiters(w));
	ck_assert_uint_eq(policyd_cache_sweep(&c, INT64_MAX), 2501);
	ck_assert_uint_eq(c.count, 0);
	policyd_cache_free(&c);
}
END_TEST

/* ---- the idle list: which connection a new one at --max-connections closes ---- */

static const struct room_case {
	size_t open, idle, max;
	long want;
	const char *what;
} room_cases[] = {
	{8, 0, 8, -1, "at the limit, every connection busy: refused"},
	{1000, 0, 1000, -1, "default limit, every connection busy: refused"},
	{12, 4, 8, -1, "over a lowered limit, too few idle to make room: refused"},
	{0, 0, 0, -1, "a limit of 0 (the options refuse it): refused"},
	{0, 0, 1, 0, "no connection: room"},
	{7, 7, 8, 0, "one below the limit: room, nothing closed"},
	{7, 0, 8, 0, "one below the limit, all busy: room"},
	{8, 8, 8, 1, "at the limit, all idle: close one"},
	{8, 1, 8, 1, "at the limit, one idle: close it"},
	{1000, 1000, 1000, 1, "default limit full of idle clients: close one"},
	{12, 5, 8, 5, "over a lowered limit (reload): close enough for one more"},
};

START_TEST(idle_to_close)
{
	const struct room_case *c = &room_cases[_i];
	long got = policyd_conn_idle_to_close(c->open, c->idle, c->max);
	ck_assert_msg(got == c->want, "%s: got %ld, want %ld", c->what, got, c->want);
}
END_TEST

/* Scripts of "+X" (X became idle: policyd_conn_idle_add at time = the step's index) and "-X"
 * (a request on X, or X closed: remove) on links A-D; want: the list, longest idle first. */
static const struct lru_case {
	const char *ops, *want;
} lru_cases[] = {
	{"-A", ""},                       /* removing a link that is not listed */
	{"+A-A-A", ""},                   /* twice is harmless */
	{"", ""},
	{"+A+B+C", "ABC"},                /* in the order they became idle */
	{"+A+B+C+A", "ABC"},              /* adding a listed one: no move (no activity) */
	{"+A+B+C-A+A", "BCA"},            /* a request then its reply: to the tail */
	{"+A+B+C-B", "AC"},               /* off the middle */
	{"+A+B+C-C", "AB"},               /* off the tail */
	{"+A+B+C-A", "BC"},               /* off the head: the next is the longest idle */
	{"+A+B+C+D-A-B-C-D+D+C", "DC"},   /* emptied and refilled */
	{"+A+B-A+C-B+A+B", "CAB"},
};

START_TEST(idle_lru)
{
	const struct lru_case *c = &lru_cases[_i];
	struct policyd_idle_list l = {0};
	struct policyd_idle_link k[4] = {{0}};
	int64_t added[4] = {0};
	for (size_t i = 0; c->ops[i] != '\0'; i += 2) {
		int x = c->ops[i + 1] - 'A';
		ck_assert(x >= 0 && x < 4);
		if (c->ops[i] == '+') {
			if (!k[x].listed)
				added[x] = (int64_t)i;
			policyd_conn_idle_add(&l, &k[x], (int64_t)i);
		} else {
			policyd_conn_idle_remove(&l, &k[x]);
		}
	}
	size_t n = strlen(c->want);
	ck_assert_msg(l.n == n, "%s: %zu listed, want %zu", c->ops, l.n, n);
	/* Both directions, so that prev links are checked as well as next. */
	const struct policyd_idle_link *p = policyd_conn_idle_oldest(&l);
	ck_assert_ptr_eq(p, l.head);
	for (size_t i = 0; i < n; i++, p = p->next) {
		ck_assert_msg(p == &k[c->want[i] - 'A'], "%s: position %zu is not %c", c->ops, i,
			      c->want[i]);
		ck_assert(p->listed);
		ck_assert_int_eq(p->since, added[c->want[i] - 'A']);
	}
	ck_assert_ptr_null(p);
	p = l.tail;
	for (size_t i = n; i > 0; i--, p = p->prev)
		ck_assert_ptr_eq(p, &k[c->want[i - 1] - 'A']);
	ck_assert_ptr_null(p);
	for (int x = 0; x < 4; x++)
		ck_assert(k[x].listed == (strchr(c->want, 'A' + x) != NULL));
}
END_TEST

static Suite *policyd_suite(void)
{
	Suite *s = suite_create("policyd");
	TCase *tc = tcase_create("netstring");
	tcase_add_loop_test(tc, netstring_decode, 0, ARRAY_LEN(ns_cases));
	tcase_add_test(tc, netstring_every_split);
	tcase_add_test(tc, netstring_encode);
	suite_add_tcase(s, tc);
	tc = tcase_create("key");
	tcase_add_loop_test(tc, request_parse, 0, ARRAY_LEN(key_cases));
	tcase_add_test(tc, request_embedded_nul);
	suite_add_tcase(s, tc);
	tc = tcase_create("answer");
	tcase_add_loop_test(tc, answer_rules, 0, ARRAY_LEN(answer_cases));
	tcase_add_test(tc, answer_too_small_is_an_error);
	tcase_add_test(tc, answer_long_reason_is_cut);
	tcase_add_test(tc, answer_many_patterns);
	suite_add_tcase(s, tc);
	tc = tcase_create("cache");
	tcase_add_test(tc, cache_basics);
	suite_add_tcase(s, tc);
	tc = tcase_create("idle");
	tcase_add_loop_test(tc, idle_to_close, 0, ARRAY_LEN(room_cases));
	tcase_add_loop_test(tc, idle_lru, 0, ARRAY_LEN(lru_cases));
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(policyd_suite)
