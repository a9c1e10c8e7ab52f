/* SPDX-License-Identifier: MIT */
/* Unit tests for http/'s pure parts: https URL parsing and rebuilding, CURLOPT_RESOLVE entries
 * (IPv6 brackets, nothing smuggled into the list), and the RFC 8460 §5.4 success rule of a
 * report upload.  Hostile input first. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "http/http_post.h"
#include "http/http_url.h"
#include "test_main.h"

/* ---- URLs ---- */

static const struct url_case {
	const char *in;
	int rc;
	const char *host; /* when MXTLS_OK */
	uint16_t port;
	const char *path;
} url_cases[] = {
	{"", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https://", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"http://rpt.example.test/", MXTLS_E_SYNTAX, NULL, 0, NULL},  /* https only */
	{"mailto:rpt@example.test", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"ftp://rpt.example.test/", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https:/rpt.example.test/", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{" https://rpt.example.test/", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https://user@rpt.example.test/", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https://rpt.example.test@evil.test/", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https://rpt.example.test:443@evil.test/", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https://[::1]/", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https://[::1]:443/", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https://127.0.0.1/", MXTLS_E_SYNTAX, NULL, 0, NULL}, /* no IP literals */
	{"https://rpt.example.test:0/", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https://rpt.example.test:65536/", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https://rpt.example.test:4430000/", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https://rpt.example.test:/", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https://rpt.example.test:44x/", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https://rpt.example.test:-1/", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https://rpt.example.test/#frag", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https://rpt.example.test/a b", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https://rpt.example.test/a\tb", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https://rpt.example.test/\r\nHost: evil.test", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https://rpt.example.test/\x7f", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https://rpt.example.test/\xc3\xa9", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https://rpt .example.test/", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https://-rpt.example.test/", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https://rpt..example.test/", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https://rpt.example.test\\@evil.test/", MXTLS_E_SYNTAX, NULL, 0, NULL},
	{"https://rpt.example.test%2fevil/", MXTLS_E_SYNTAX, NULL, 0, NULL},
	/* Valid. */
	{"https://rpt.example.test", MXTLS_OK, "rpt.example.test", 443, "/"},
	{"https://rpt.example.test/", MXTLS_OK, "rpt.example.test", 443, "/"},
	{"HTTPS://RPT.Example.TEST./tlsrpt", MXTLS_OK, "rpt.example.test", 443, "/tlsrpt"},
	{"https://rpt.example.test:8443", MXTLS_OK, "rpt.example.test", 8443, "/"},
	{"https://rpt.example.test:00443/x", MXTLS_OK, "rpt.example.test", 443, "/x"},
	{"https://rpt.example.test:65535/a/b?c=d&e", MXTLS_OK, "rpt.example.test", 65535,
	 "/a/b?c=d&e"},
	{"https://rpt.example.test?x=1", MXTLS_OK, "rpt.example.test", 443, "/?x=1"},
	{"https://localhost/", MXTLS_OK, "localhost", 443, "/"},
	{"https://1.2.3.4.example.test/", MXTLS_OK, "1.2.3.4.example.test", 443, "/"},
};

START_TEST(url_parse)
{
	const struct url_case *c = &url_cases[_i];
	struct http_url u;
	memset(&u, 0x5a, sizeof u);
	int rc = http_url_parse(c->in, &u);
	ck_assert_msg(rc == c->rc, "'%s': rc %d, expected %d", c->in, rc, c->rc);
	if (rc != MXTLS_OK) {
		ck_assert_int_eq((unsigned char)u.host[0], 0x5a); /* untouched */
		return;
	}
	ck_assert_str_eq(u.host, c->host);
	ck_assert_uint_eq(u.port, c->port);
	ck_assert_str_eq(u.path, c->path);
	/* Rebuilt from its parts, it parses to the same parts. */
	char buf[HTTP_URL_MAX + 300];
	ck_assert_int_eq(http_url_format(&u, buf, sizeof buf), MXTLS_OK);
	struct http_url v;
	ck_assert_int_eq(http_url_parse(buf, &v), MXTLS_OK);
	ck_assert_str_eq(v.host, u.host);
	ck_assert_uint_eq(v.port, u.port);
	ck_assert_str_eq(v.path, u.path);
}
END_TEST

START_TEST(url_limits)
{
	struct http_url u;
	ck_assert_int_eq(http_url_parse(NULL, &u), MXTLS_E_INVAL);
	ck_assert_int_eq(http_url_parse("https://a.test/", NULL), MXTLS_E_INVAL);
	/* HTTP_URL_MAX - 1 bytes is accepted, HTTP_URL_MAX is not. */
	char *long_url = malloc(HTTP_URL_MAX + 1);
	ck_assert_ptr_nonnull(long_url);
	static const char head[] = "https://a.test/";
	memcpy(long_url, head, sizeof head - 1);
	memset(long_url + sizeof head - 1, 'p', HTTP_URL_MAX - (sizeof head - 1));
	long_url[HTTP_URL_MAX - 1] = '\0';
	ck_assert_int_eq(http_url_parse(long_url, &u), MXTLS_OK);
	ck_assert_uint_eq(strlen(u.path), HTTP_URL_MAX - 1 - (sizeof head - 2));
	long_url[HTTP_URL_MAX - 1] = 'p';
	long_url[HTTP_URL_MAX] = '\0';
	ck_assert_int_eq(http_url_parse(long_url, &u), MXTLS_E_SYNTAX);
	free(long_url);
	/* A label of 64 characters is not a host name. */
	char h64[128];
	snprintf(h64, sizeof h64, "https://%064d.test/", 0);
	ck_assert_int_eq(http_url_parse(h64, &u), MXTLS_E_SYNTAX);
	/* format into a buffer that is too small leaves "" */
	ck_assert_int_eq(http_url_parse("https://rpt.example.test/abc", &u), MXTLS_OK);
	char small[20] = "junk";
	ck_assert_int_eq(http_url_format(&u, small, sizeof small), MXTLS_E_LIMIT);
	ck_assert_str_eq(small, "");
	char fit[64];
	ck_assert_int_eq(http_url_format(&u, fit, sizeof fit), MXTLS_OK);
	ck_assert_str_eq(fit, "https://rpt.example.test:443/abc");
}
END_TEST

/* ---- CURLOPT_RESOLVE entries ---- */

#define MAXA 4
static const struct resolve_case {
	const char *host;
	uint16_t port;
	const char *addrs[MAXA]; /* NULL-terminated unless naddrs says otherwise */
	size_t naddrs;
	int rc;
	const char *want;
} resolve_cases[] = {
	{"rpt.example.test", 443, {NULL}, 0, MXTLS_E_INVAL, NULL},
	{"rpt.example.test", 443, {NULL}, 1, MXTLS_E_INVAL, NULL},
	{"rpt.example.test", 443, {""}, 1, MXTLS_E_INVAL, NULL},
	{"rpt.example.test", 443, {"rpt.example.test"}, 1, MXTLS_E_INVAL, NULL},
	{"rpt.example.test", 443, {"127.0.0.1,10.0.0.1"}, 1, MXTLS_E_INVAL, NULL},
	{"rpt.example.test", 443, {"[::1]"}, 1, MXTLS_E_INVAL, NULL},
	{"rpt.example.test", 443, {"::1]"}, 1, MXTLS_E_INVAL, NULL},
	{"rpt.example.test", 443, {" 127.0.0.1"}, 1, MXTLS_E_INVAL, NULL},
	{"rpt.example.test", 443, {"127.0.0.1 "}, 1, MXTLS_E_INVAL, NULL},
	{"rpt.example.test", 443, {"127.0.0.256"}, 1, MXTLS_E_INVAL, NULL},
	{"rpt.example.test", 443, {"127.0.0.1", "fe80::1%eth0"}, 2, MXTLS_E_INVAL, NULL},
	{"rpt.example.test", 443, {"127.0.0.1", NULL}, 2, MXTLS_E_INVAL, NULL},
	{"", 443, {"127.0.0.1"}, 1, MXTLS_E_INVAL, NULL},
	{"rpt.example.test:80", 443, {"127.0.0.1"}, 1, MXTLS_E_INVAL, NULL},
	{"a,b", 443, {"127.0.0.1"}, 1, MXTLS_E_INVAL, NULL},
	{NULL, 443, {"127.0.0.1"}, 1, MXTLS_E_INVAL, NULL},
	/* Valid: IPv6 in brackets, in the order given. */
	{"rpt.example.test", 443, {"127.0.44.5"}, 1, MXTLS_OK, "rpt.example.test:443:127.0.44.5"},
	{"rpt.example.test", 8443, {"::1"}, 1, MXTLS_OK, "rpt.example.test:8443:[::1]"},
	{"rpt.example.test", 443, {"2001:db8::5", "192.0.2.1", "::ffff:192.0.2.2"}, 3, MXTLS_OK,
	 "rpt.example.test:443:[2001:db8::5],192.0.2.1,[::ffff:192.0.2.2]"},
	{"a.test", 1, {"10.0.0.1", "10.0.0.2"}, 2, MXTLS_OK, "a.test:1:10.0.0.1,10.0.0.2"},
};

START_TEST(resolve_entry)
{
	const struct resolve_case *c = &resolve_cases[_i];
	char buf[256];
	int rc = http_url_resolve_entry(c->host, c->port, c->naddrs ? c->addrs : NULL, c->naddrs,
					buf, sizeof buf);
	ck_assert_msg(rc == c->rc, "case %d: rc %d, expected %d", _i, rc, c->rc);
	if (rc == MXTLS_OK)
		ck_assert_str_eq(buf, c->want);
}
END_TEST

START_TEST(resolve_entry_limit)
{
	const char *addrs[] = {"2001:db8::1", "2001:db8::2"};
	const char *want = "rpt.example.test:443:[2001:db8::1],[2001:db8::2]";
	size_t n = strlen(want);
	char buf[128];
	/* Every size short of the whole entry and its NUL fails and leaves "". */
	for (size_t size = 1; size <= n; size++) {
		memset(buf, 'z', sizeof buf);
		ck_assert_int_eq(http_url_resolve_entry("rpt.example.test", 443, addrs, 2, buf, size),
				 MXTLS_E_LIMIT);
		ck_assert_str_eq(buf, "");
	}
	ck_assert_int_eq(http_url_resolve_entry("rpt.example.test", 443, addrs, 2, buf, n + 1),
			 MXTLS_OK);
	ck_assert_str_eq(buf, want);
	ck_assert_int_eq(http_url_resolve_entry("rpt.example.test", 443, addrs, 2, buf, 0),
			 MXTLS_E_INVAL);
}
END_TEST

/* ---- RFC 8460 §5.4: what counts as a successful upload ---- */

static const struct post_case {
	enum http_outcome outcome;
	long status;
	const char *curl_reason;
	bool ok;
	const char *reason;
} post_cases[] = {
	{HTTP_DONE, 0, "", false, "HTTP 0"},
	{HTTP_DONE, 100, "", false, "HTTP 100"},
	{HTTP_DONE, 199, "", false, "HTTP 199"},
	{HTTP_DONE, 300, "", false, "HTTP 300"},
	{HTTP_DONE, 301, "", false, "HTTP 301"},
	{HTTP_DONE, 404, "", false, "HTTP 404"},
	{HTTP_DONE, 500, "", false, "HTTP 500"},
	{HTTP_E_CERT, 0, "server certificate verification failed.\r\nCAfile: x", false,
	 "TLS: certificate not trusted: server certificate verification failed.  CAfile: x"},
	{HTTP_E_TLS, 0, "handshake failed", false, "TLS: handshake failed"},
	{HTTP_E_CONNECT, 0, "Failed to connect", false, "connect: Failed to connect"},
	{HTTP_E_TIMEOUT, 0, "Operation timed out", false, "timeout: Operation timed out"},
	{HTTP_E_TOO_LARGE, 200, "response body larger than 10 bytes", false,
	 "response body larger than 10 bytes"},
	{HTTP_E_ERROR, 0, "", false, "error"},
	{HTTP_DONE, 200, "", true, ""},
	{HTTP_DONE, 201, "", true, ""},
	{HTTP_DONE, 202, "", true, ""},
	{HTTP_DONE, 204, "", true, ""},
	{HTTP_DONE, 299, "", true, ""},
};

START_TEST(post_result)
{
	const struct post_case *c = &post_cases[_i];
	struct http_response r;
	memset(&r, 0, sizeof r);
	r.outcome = c->outcome;
	r.status = c->status;
	snprintf(r.reason, sizeof r.reason, "%s", c->curl_reason);
	struct http_post_result res;
	http_post_result_from(&r, &res);
	ck_assert_msg(res.ok == c->ok, "case %d (%s %ld)", _i, http_outcome_name(c->outcome),
		      c->status);
	ck_assert_str_eq(res.reason, c->reason);
	ck_assert_int_eq(res.status, c->status);
	ck_assert_int_eq(res.outcome, c->outcome);
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(http_outcome_name(HTTP_DONE), "done");
	ck_assert_str_eq(http_outcome_name(HTTP_E_CERT), "certificate");
	ck_assert_str_eq(http_outcome_name(HTTP_E_ERROR), "error");
	ck_assert_str_eq(http_outcome_name((enum http_outcome)99), "?");
	http_response_clear(NULL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("pure");
	tcase_add_loop_test(tc, url_parse, 0, ARRAY_LEN(url_cases));
	tcase_add_test(tc, url_limits);
	tcase_add_loop_test(tc, resolve_entry, 0, ARRAY_LEN(resolve_cases));
	tcase_add_test(tc, resolve_entry_limit);
	tcase_add_loop_test(tc, post_result, 0, ARRAY_LEN(post_cases));
	tcase_add_test(tc, names);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(suite)
