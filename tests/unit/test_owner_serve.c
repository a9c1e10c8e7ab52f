/* SPDX-License-Identifier: MIT */
/* Unit tests of owner/: mxtls serve's router (host, path, method -> status) and its settings. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <mxtls/error.h>
#include <mxtls/serve.h>

#include "owner/owner_config.h"
#include "owner/owner_route.h"
#include "test_main.h"

/* Host-name parsing: hostile input first. */
static const struct {
	const char *name;
	int allow_port;
	const char *want; /* NULL: refused */
} domain_cases[] = {
	{"", 1, NULL},
	{"mta-sts.", 1, NULL},
	{"mta-sts..", 1, NULL},
	{"mta-sts.a..b", 1, NULL},
	{"mta-sts..a", 1, NULL},
	{"mta-sts.a b", 1, NULL},
	{"mta-sts.a_b.test", 1, NULL},
	{"mta-sts.exa\xc3\xa9.test", 1, NULL},
	{"mta-sts.example.com:", 1, NULL},
	{"mta-sts.example.com:123456", 1, NULL},
	{"mta-sts.example.com:443", 0, NULL},
	{"mta-stsx.example.com", 1, NULL},
	{"www.example.com", 1, NULL},
	{"[::1]:443", 1, NULL},
	{"mta-sts.a.-", 1, "a.-"}, /* LDH, not a hostname check: the SNI must still match */
	{"mta-sts.example.com", 0, "example.com"},
	{"MTA-STS.Example.COM.", 0, "example.com"},
	{"mta-sts.example.com:443", 1, "example.com"},
	{"mta-sts.example.com.:8443", 1, "example.com"},
	{"mta-sts.xn--bcher-kva.example", 1, "xn--bcher-kva.example"},
};

START_TEST(route_domain)
{
	char out[OWNER_ROUTE_DOMAIN_MAX + 1] = "untouched";
	const char *name = domain_cases[_i].name;
	int n = owner_route_domain(name, strlen(name), domain_cases[_i].allow_port, out,
				   sizeof out);
	if (domain_cases[_i].want == NULL) {
		ck_assert_int_eq(n, -1);
	} else {
		ck_assert_int_eq(n, (int)strlen(domain_cases[_i].want));
		ck_assert_str_eq(out, domain_cases[_i].want);
	}
}
END_TEST

START_TEST(route_domain_limits)
{
	char name[400], out[OWNER_ROUTE_DOMAIN_MAX + 1];
	/* 64-character label: refused; 63: accepted. */
	snprintf(name, sizeof name, "mta-sts.%0*d.test", 64, 0);
	ck_assert_int_eq(owner_route_domain(name, strlen(name), 0, out, sizeof out), -1);
	snprintf(name, sizeof name, "mta-sts.%0*d.test", 63, 0);
	ck_assert_int_eq(owner_route_domain(name, strlen(name), 0, out, sizeof out), 68);
	/* A domain of 254 characters: refused. */
	strcpy(name, "mta-sts.");
	for (int i = 0; i < 127; i++)
		strcat(name, "a.");
	ck_assert_int_eq(owner_route_domain(name, strlen(name) - 1, 0, out, sizeof out), 253);
	strcat(name, "ab");
	ck_assert_int_eq(owner_route_domain(name, strlen(name), 0, out, sizeof out), -1);
	/* An embedded NUL. */
	ck_assert_int_eq(owner_route_domain("mta-sts.a\0b", 11, 0, out, sizeof out), -1);
	/* Too small an output buffer is a caller error. */
	ck_assert_int_eq(owner_route_domain("mta-sts.a", 9, 0, out, 10), -1);
}
END_TEST

static const struct {
	const char *method, *host, *path, *sni;
	int status;
	const char *reports; /* the reports-path, NULL: none */
	const char *allow;   /* the Allow of a 405 */
} route_cases[] = {
	/* The report endpoint: hostile first. */
	{"POST", NULL, "/tlsrpt", "example.com", 400, "/tlsrpt", NULL},
	{"POST", "mta-sts.example.com", "/tlsrpt", NULL, 421, "/tlsrpt", NULL},
	{"POST", "mta-sts.other.com", "/tlsrpt", "example.com", 421, "/tlsrpt", NULL},
	{"POST", "example.com", "/tlsrpt", "example.com", 421, "/tlsrpt", NULL},
	{"POST", "mta-sts.example.com", "/tlsrpt", "example.com", 404, NULL, NULL},
	{"POST", "mta-sts.example.com", "/tlsrpt/", "example.com", 404, "/tlsrpt", NULL},
	{"POST", "mta-sts.example.com", "/TLSRPT", "example.com", 404, "/tlsrpt", NULL},
	{"POST", "mta-sts.example.com", "/tlsrp", "example.com", 404, "/tlsrpt", NULL},
	{"POST", "mta-sts.example.com", "/", "example.com", 404, "/tlsrpt", NULL},
	{"post", "mta-sts.example.com", "/tlsrpt", "example.com", 405, "/tlsrpt", "POST"},
	{"GET", "mta-sts.example.com", "/tlsrpt", "example.com", 405, "/tlsrpt", "POST"},
	{"HEAD", "mta-sts.example.com", "/tlsrpt", "example.com", 405, "/tlsrpt", "POST"},
	{"PUT", "mta-sts.example.com", "/tlsrpt", "example.com", 405, "/tlsrpt", "POST"},
	{"POST", "mta-sts.example.com", OWNER_ROUTE_PATH, "example.com", 405, "/tlsrpt",
	 "GET, HEAD"},
	{"GET", "mta-sts.example.com", OWNER_ROUTE_PATH, "example.com", 200, "/tlsrpt", NULL},
	{"POST", "mta-sts.example.com", "/tlsrpt", "example.com", OWNER_ROUTE_REPORT, "/tlsrpt",
	 NULL},
	{"POST", "MTA-STS.Example.COM.:443", "/.well-known/tlsrpt", "example.com",
	 OWNER_ROUTE_REPORT, "/.well-known/tlsrpt", NULL},
	/* The policy, without a report endpoint. */
	{"GET", NULL, OWNER_ROUTE_PATH, "example.com", 400, NULL, NULL},
	{"GET", "mta-sts.example.com", OWNER_ROUTE_PATH, NULL, 421, NULL, NULL},
	{"GET", "mta-sts.other.com", OWNER_ROUTE_PATH, "example.com", 421, NULL, NULL},
	{"GET", "mta-sts.example.com.evil", OWNER_ROUTE_PATH, "example.com", 421, NULL, NULL},
	{"GET", "example.com", OWNER_ROUTE_PATH, "example.com", 421, NULL, NULL},
	{"GET", "mta-sts.example.com", "/", "example.com", 404, NULL, NULL},
	{"GET", "mta-sts.example.com", "/.well-known/mta-sts.txt/", "example.com", 404, NULL, NULL},
	{"GET", "mta-sts.example.com", "/.WELL-KNOWN/MTA-STS.TXT", "example.com", 404, NULL, NULL},
	{"POST", "mta-sts.example.com", "/", "example.com", 404, NULL, NULL},
	{"POST", "mta-sts.example.com", OWNER_ROUTE_PATH, "example.com", 405, NULL, "GET, HEAD"},
	{"get", "mta-sts.example.com", OWNER_ROUTE_PATH, "example.com", 405, NULL, "GET, HEAD"},
	{"OPTIONS", "mta-sts.example.com", OWNER_ROUTE_PATH, "example.com", 405, NULL, "GET, HEAD"},
	{"GET", "mta-sts.example.com", OWNER_ROUTE_PATH, "example.com", 200, NULL, NULL},
	{"HEAD", "MTA-STS.EXAMPLE.COM:443", OWNER_ROUTE_PATH, "example.com", 200, NULL, NULL},
};

START_TEST(route)
{
	struct owner_request r = {
		.method = route_cases[_i].method,
		.method_len = strlen(route_cases[_i].method),
		.host = route_cases[_i].host,
		.host_len = route_cases[_i].host != NULL ? strlen(route_cases[_i].host) : 0,
		.path = route_cases[_i].path,
		.path_len = strlen(route_cases[_i].path),
		.sni_domain = route_cases[_i].sni,
		.sni_len = route_cases[_i].sni != NULL ? strlen(route_cases[_i].sni) : 0,
		.reports_path = route_cases[_i].reports,
		.reports_path_len =
			route_cases[_i].reports != NULL ? strlen(route_cases[_i].reports) : 0,
	};
	const char *allow = NULL;
	ck_assert_int_eq(owner_route(&r, &allow), route_cases[_i].status);
	if (route_cases[_i].allow == NULL)
		ck_assert_ptr_null(allow);
	else
		ck_assert_str_eq(allow, route_cases[_i].allow);
	ck_assert_int_eq(owner_route(&r, NULL), route_cases[_i].status);
}
END_TEST

/* The reports-path setting: hostile first. */
static const struct {
	const char *path;
	int ok;
} reports_path_cases[] = {
	{"", 0},
	{"tlsrpt", 0},
	{"/", 0},
	{"//tlsrpt", 0},
	{"/tlsrpt/", 0},
	{"/a/../tlsrpt", 0},
	{"/./tlsrpt", 0},
	{"/..", 0},
	{"/tls rpt", 0},
	{"/tlsrpt?x=1", 0},
	{"/tlsrpt#x", 0},
	{"/tls%72pt", 0},
	{"/t\xc3\xa9", 0},
	{OWNER_ROUTE_PATH, 0},
	{"/tlsrpt", 1},
	{"/.well-known/tlsrpt", 1},
	{"/a.b/c-d_e~f/..x", 1},
};

START_TEST(reports_path)
{
	ck_assert_int_eq(owner_route_reports_path_ok(reports_path_cases[_i].path),
			 reports_path_cases[_i].ok);
}
END_TEST

START_TEST(reports_path_limits)
{
	char p[OWNER_ROUTE_REPORTS_PATH_MAX + 2];
	p[0] = '/';
	memset(p + 1, 'a', OWNER_ROUTE_REPORTS_PATH_MAX);
	p[OWNER_ROUTE_REPORTS_PATH_MAX + 1] = '\0';
	ck_assert_int_eq(owner_route_reports_path_ok(p), 0);
	p[OWNER_ROUTE_REPORTS_PATH_MAX] = '\0';
	ck_assert_int_eq(owner_route_reports_path_ok(p), 1);
	ck_assert_int_eq(owner_route_reports_path_ok(NULL), 0);
}
END_TEST

/* The media type of an upload: hostile first. */
static const struct {
	const char *ct;
	size_t len; /* 0: strlen(ct) */
	int type;
} report_type_cases[] = {
	{NULL, 0, 0},
	{"", 0, 0},
	{"application/tlsrpt+gzip\0", 24, 0},
	{"application/tlsrpt+gzi\0p", 24, 0},
	{"application/tlsrpt+gzipx", 0, 0},
	{"application/tlsrpt+gzip x", 0, 0},
	{"application/tlsrpt", 0, 0},
	{"application/gzip", 0, 0},
	{"application/json", 0, 0},
	{"text/plain", 0, 0},
	{"application /tlsrpt+gzip", 0, 0},
	{"multipart/report; report-type=tlsrpt", 0, 0},
	{"application/tlsrpt+gzip", 0, OWNER_ROUTE_TYPE_GZIP},
	{"APPLICATION/TLSRPT+GZIP", 0, OWNER_ROUTE_TYPE_GZIP},
	{" application/tlsrpt+gzip ;x=y", 0, OWNER_ROUTE_TYPE_GZIP},
	{"application/tlsrpt+json", 0, OWNER_ROUTE_TYPE_JSON},
	{"Application/TLSRPT+Json; charset=utf-8", 0, OWNER_ROUTE_TYPE_JSON},
	{"application/tlsrpt+json;", 0, OWNER_ROUTE_TYPE_JSON},
};

START_TEST(report_type)
{
	const char *ct = report_type_cases[_i].ct;
	size_t len = report_type_cases[_i].len;
	if (ct != NULL && len == 0)
		len = strlen(ct);
	ck_assert_int_eq(owner_route_report_type(ct, len), report_type_cases[_i].type);
}
END_TEST

static const struct {
	const char *key, *value;
	int rc;
} config_cases[] = {
	{"cert", "example.com", MXTLS_E_CONFIG},
	{"cert", "example.com:a.pem", MXTLS_E_CONFIG},
	{"cert", "example.com:a.pem:", MXTLS_E_CONFIG},
	{"cert", ":a.pem:a.key", MXTLS_E_CONFIG},
	{"cert", "exa mple.com:a.pem:a.key", MXTLS_E_CONFIG},
	{"timeout", "0", MXTLS_E_CONFIG},
	{"timeout", "-1", MXTLS_E_CONFIG},
	{"timeout", "10s", MXTLS_E_CONFIG},
	{"max-header-bytes", "1024", MXTLS_E_CONFIG},
	{"listen", "443", MXTLS_E_CONFIG},
	{"reports-path", "", MXTLS_E_CONFIG},
	{"reports-path", "tlsrpt", MXTLS_E_CONFIG},
	{"reports-path", OWNER_ROUTE_PATH, MXTLS_E_CONFIG},
	{"reports-path", "/tlsrpt/../x", MXTLS_E_CONFIG},
	{"reports-store", "", MXTLS_E_CONFIG},
	{"reports-path", "/tlsrpt", MXTLS_OK},
	{"reports-store", "/var/lib/mxtls/reports.sqlite", MXTLS_OK},
	{"no-such-key", "1", MXTLS_E_NOTFOUND},
	{"cert", "Example.COM.:a.pem:a.key", MXTLS_OK},
	{"timeout", "2", MXTLS_OK},
	{"listen", "[::1]:443", MXTLS_OK},
};

START_TEST(config_set)
{
	struct mxtls_serve_config *c;
	char err[200] = "";
	ck_assert_int_eq(mxtls_serve_config_new(&c), MXTLS_OK);
	int rc = mxtls_serve_config_set(c, config_cases[_i].key, config_cases[_i].value, err,
					sizeof err);
	ck_assert_int_eq(rc, config_cases[_i].rc);
	if (rc != MXTLS_OK)
		ck_assert(err[0] != '\0');
	mxtls_serve_config_free(c);
}
END_TEST

START_TEST(config_values)
{
	struct mxtls_serve_config *c;
	char err[200];
	ck_assert_int_eq(mxtls_serve_config_new(&c), MXTLS_OK);
	ck_assert_uint_eq(c->timeout, 10);
	ck_assert_uint_eq(c->max_connection_time, 30);
	ck_assert_uint_eq(c->max_header_bytes, 8192);
	ck_assert_int_eq(mxtls_serve_config_set(c, "cert", "Example.COM.:a:b:c", err, sizeof err),
			 MXTLS_OK);
	ck_assert_str_eq(c->certs[0].domain, "example.com");
	ck_assert_str_eq(c->certs[0].cert, "a");
	ck_assert_str_eq(c->certs[0].key, "b:c");
	/* One certificate per domain. */
	ck_assert_int_eq(mxtls_serve_config_set(c, "cert", "example.com:d:e", err, sizeof err),
			 MXTLS_E_CONFIG);
	struct mxtls_serve_config *d = owner_config_dup(c);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->certs[0].key, "b:c");
	mxtls_serve_config_free(d);
	mxtls_serve_config_free(NULL);
	ck_assert_str_eq(mxtls_serve_config_key(0), "listen");
	ck_assert_str_eq(mxtls_serve_config_key(8), "reports-path");
	ck_assert_str_eq(mxtls_serve_config_key(9), "reports-store");
	ck_assert_ptr_null(mxtls_serve_config_key(10));
	/* The report settings are copied with the rest. */
	ck_assert_int_eq(mxtls_serve_config_set(c, "reports-path", "/tlsrpt", err, sizeof err),
			 MXTLS_OK);
	ck_assert_int_eq(mxtls_serve_config_set(c, "reports-store", "/x/r.sqlite", err, sizeof err),
			 MXTLS_OK);
	d = owner_config_dup(c);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->reports_path, "/tlsrpt");
	ck_assert_str_eq(d->reports_store, "/x/r.sqlite");
	mxtls_serve_config_free(d);
	mxtls_serve_config_free(c);
}
END_TEST

START_TEST(start_refused)
{
	struct mxtls_serve_config *c;
	struct mxtls_serve *s = NULL;
	char err[300] = "";
	ck_assert_int_eq(mxtls_serve_config_new(&c), MXTLS_OK);
	/* No listen address. */
	ck_assert_int_eq(mxtls_serve_start(c, &s, err, sizeof err), MXTLS_E_CONFIG);
	ck_assert_ptr_null(s);
	/* A report endpoint without a store. */
	ck_assert_int_eq(mxtls_serve_config_set(c, "listen", "127.0.0.1:0", err, sizeof err),
			 MXTLS_OK);
	ck_assert_int_eq(mxtls_serve_config_set(c, "reports-path", "/tlsrpt", err, sizeof err),
			 MXTLS_OK);
	ck_assert_int_eq(mxtls_serve_start(c, &s, err, sizeof err), MXTLS_E_CONFIG);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(err, "reports-store"));
	mxtls_serve_config_free(c);
	ck_assert_int_eq(mxtls_serve_config_new(&c), MXTLS_OK);
	/* Nothing to serve. */
	ck_assert_int_eq(mxtls_serve_config_set(c, "listen", "127.0.0.1:0", err, sizeof err),
			 MXTLS_OK);
	ck_assert_int_eq(mxtls_serve_start(c, &s, err, sizeof err), MXTLS_E_CONFIG);
	ck_assert_ptr_null(s);
	/* A policy file that does not exist. */
	ck_assert_int_eq(mxtls_serve_config_set(c, "policy-dir", "/nonexistent", err, sizeof err),
			 MXTLS_OK);
	ck_assert_int_eq(mxtls_serve_config_set(c, "cert", "example.com:/nonexistent.pem:/k", err,
						sizeof err),
			 MXTLS_OK);
	ck_assert_int_eq(mxtls_serve_start(c, &s, err, sizeof err), MXTLS_E_IO);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/example.com.txt"));
	mxtls_serve_config_free(c);
	mxtls_serve_stop(NULL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("owner_serve");
	TCase *tc = tcase_create("serve");
	tcase_add_loop_test(tc, route_domain, 0, ARRAY_LEN(domain_cases));
	tcase_add_test(tc, route_domain_limits);
	tcase_add_loop_test(tc, route, 0, ARRAY_LEN(route_cases));
	tcase_add_loop_test(tc, reports_path, 0, ARRAY_LEN(reports_path_cases));
	tcase_add_test(tc, reports_path_limits);
	tcase_add_loop_test(tc, report_type, 0, ARRAY_LEN(report_type_cases));
	tcase_add_loop_test(tc, config_set, 0, ARRAY_LEN(config_cases));
	tcase_add_test(tc, config_values);
	tcase_add_test(tc, start_refused);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(suite)
