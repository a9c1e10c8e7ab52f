/* SPDX-License-Identifier: MIT */
/* TLS report uploads (RFC 8460 §5.4) through http/http_post.c and validator/report_post.c
 * against the report collector of the test network (tests/net/tlsrpt-collector.py): run under
 * tests/net/run-with-dns.sh --tlsrpt. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <mxtls/error.h>

#include "e2e_dns.h"
#include "http/http_post.h"
#include "test_main.h"
#include "validator/report_post.h"

#define RPT "https://rpt.sts.test"
#define RPT_ADDR "127.0.44.5"
#define UNTRUSTED_ADDR "127.0.44.6"

static struct http_client *client;
static const char *ca_file;
static const char *collector_dir;

static void setup(void)
{
	e2e_dns_setup();
	ca_file = getenv("MXTLS_TEST_CA_FILE");
	collector_dir = getenv("MXTLS_TEST_TLSRPT_DIR");
	ck_assert_msg(ca_file != NULL && collector_dir != NULL,
		      "MXTLS_TEST_TLSRPT_DIR is not set: run via run-with-dns.sh --tlsrpt");
	ck_assert_int_eq(http_client_new(base, &client), MXTLS_OK);
}

static void teardown(void)
{
	http_client_free(client);
	e2e_dns_teardown();
}

struct waiter {
	bool done;
	struct http_post_result res;
};

static void on_posted(void *arg, const struct http_post_result *r)
{
	struct waiter *w = arg;
	ck_assert(!w->done);
	w->done = true;
	w->res = *r;
}

static void wait_for(struct waiter *w)
{
	while (!w->done)
		ck_assert_int_ge(event_base_loop(base, EVLOOP_ONCE), 0);
}

/* A fixed body with every byte value (and the gzip magic first), as a report would have. */
static size_t report_body(unsigned char *buf, size_t cap)
{
	ck_assert_uint_ge(cap, 2 + 256 * 3);
	size_t n = 0;
	buf[n++] = 0x1f;
	buf[n++] = 0x8b;
	for (int r = 0; r < 3; r++)
		for (int i = 0; i < 256; i++)
			buf[n++] = (unsigned char)(i ^ r);
	return n;
}

/* Posts body to url at addr (NULL: RPT_ADDR), the test CA trusted, and waits for the result. */
static struct http_post_result post_opts(const char *url, const char *addr, const void *body,
					 size_t len, const struct http_post_opts *opts)
{
	const char *addrs[] = {addr != NULL ? addr : RPT_ADDR};
	struct waiter w = {0};
	ck_assert_int_eq(http_post_tlsrpt(client, url, addrs, 1, body, len, opts, on_posted, &w,
					  NULL),
			 MXTLS_OK);
	ck_assert(!w.done); /* never inside the call */
	wait_for(&w);
	return w.res;
}

static struct http_post_result post(const char *url, const char *addr)
{
	unsigned char body[1024];
	size_t n = report_body(body, sizeof body);
	struct http_post_opts opts = {.ca_file = ca_file, .total_timeout_ms = 5000};
	return post_opts(url, addr, body, n, &opts);
}

/* Reads the whole file at path into a fresh buffer; NULL if it is missing. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	ck_assert_ptr_nonnull(buf);
	size_t got;
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			ck_assert_ptr_nonnull(buf);
		}
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* The number NNNN of the saved request whose request line is exactly `line`, 0 if none (and
 * how many there are in *count). */
static unsigned find_saved(const char *line, unsigned *count)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/received", collector_dir);
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	unsigned found = 0, n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 5, ".head") != 0)
			continue;
		char path[1024];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		size_t len;
		char *head = slurp(path, &len);
		ck_assert_ptr_nonnull(head);
		size_t first = strcspn(head, "\n");
		if (first == strlen(line) && strncmp(head, line, first) == 0) {
			n++;
			found = (unsigned)strtoul(e->d_name, NULL, 10);
		}
		free(head);
	}
	closedir(d);
	if (count != NULL)
		*count = n;
	return found;
}

/* RFC 8460 §5.4: 2xx is success, any other status a failure named "HTTP <status>". */
static const struct status_case {
	const char *path;
	bool ok;
	long status;
	const char *reason;
} statuses[] = {
	{"/gone", false, 404, "HTTP 404"},
	{"/error", false, 500, "HTTP 500"},
	{"/not-configured", false, 404, "HTTP 404"},
	{"/ok", true, 200, ""},
	{"/created", true, 201, ""},
	{"/accepted", true, 202, ""},
};

START_TEST(status_rule)
{
	const struct status_case *c = &statuses[_i];
	char url[256];
	snprintf(url, sizeof url, RPT "%s", c->path);
	struct http_post_result r = post(url, NULL);
	ck_assert_msg(r.ok == c->ok, "%s: ok=%d (%s)", c->path, r.ok, r.reason);
	ck_assert_int_eq(r.outcome, HTTP_DONE);
	ck_assert_int_eq(r.status, c->status);
	ck_assert_str_eq(r.reason, c->reason);
}
END_TEST

/* The collector answers /flaky 500 once, then 200: the first upload fails, a retry succeeds. */
START_TEST(flaky_then_ok)
{
	struct http_post_result r = post(RPT "/flaky", NULL);
	ck_assert(!r.ok);
	ck_assert_int_eq(r.status, 500);
	ck_assert_str_eq(r.reason, "HTTP 500");
	r = post(RPT "/flaky", NULL);
	ck_assert_msg(r.ok, "%s", r.reason);
	ck_assert_int_eq(r.status, 200);
}
END_TEST

/* What arrived: a POST, Content-Type application/tlsrpt+gzip, exactly the body bytes. */
START_TEST(request_as_sent)
{
	struct http_post_result r = post(RPT "/ok?check=request_as_sent", NULL);
	ck_assert_msg(r.ok, "%s", r.reason);
	unsigned count;
	unsigned n = find_saved("POST /ok?check=request_as_sent HTTP/1.1", &count);
	ck_assert_uint_eq(count, 1);
	char path[1024];
	size_t len;
	snprintf(path, sizeof path, "%s/received/%04u.head", collector_dir, n);
	char *head = slurp(path, &len);
	ck_assert_ptr_nonnull(head);
	bool type_ok = false, host_ok = false;
	for (char *line = strtok(head, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		if (strncasecmp(line, "Content-Type:", 13) == 0) {
			ck_assert_msg(!type_ok, "two Content-Type headers");
			ck_assert_str_eq(line + 13, " application/tlsrpt+gzip");
			type_ok = true;
		}
		if (strcasecmp(line, "Host: rpt.sts.test") == 0)
			host_ok = true;
		ck_assert_msg(strncasecmp(line, "Expect:", 7) != 0, "%s", line);
	}
	ck_assert_msg(type_ok, "no Content-Type header");
	ck_assert_msg(host_ok, "no Host: rpt.sts.test");
	free(head);

	snprintf(path, sizeof path, "%s/received/%04u.body", collector_dir, n);
	char *got = slurp(path, &len);
	ck_assert_ptr_nonnull(got);
	unsigned char want[1024];
	size_t wlen = report_body(want, sizeof want);
	ck_assert_uint_eq(len, wlen);
	ck_assert_mem_eq(got, want, wlen);
	free(got);
}
END_TEST

/* RFC 8460 §3 lets a sender ignore certificate errors (MAY); we do not, and nothing is sent. */
START_TEST(untrusted_certificate)
{
	struct http_post_result r =
		post("https://rpt-untrusted.sts.test/ok?check=untrusted", UNTRUSTED_ADDR);
	ck_assert(!r.ok);
	ck_assert_int_eq(r.outcome, HTTP_E_CERT);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strncmp(r.reason, "TLS: certificate not trusted", 28) == 0, "%s", r.reason);
	ck_assert_ptr_null(strpbrk(r.reason, "\r\n"));
	unsigned count;
	find_saved("POST /ok?check=untrusted HTTP/1.1", &count);
	ck_assert_uint_eq(count, 0);
	/* The right certificate at the wrong address is refused for the name too. */
	r = post("https://rpt-untrusted.sts.test/ok", RPT_ADDR);
	ck_assert_int_eq(r.outcome, HTTP_E_CERT);
	/* Without the test CA (the system store) rpt.sts.test is not trusted either. */
	unsigned char body[8] = "report";
	struct http_post_opts sys = {.total_timeout_ms = 5000};
	r = post_opts(RPT "/ok", NULL, body, sizeof body, &sys);
	ck_assert_int_eq(r.outcome, HTTP_E_CERT);
}
END_TEST

/* A response body over the cap is a failure, even with 200 (fail closed); a larger cap takes
 * the same answer.  /big announces its length (refused before reading), /big-nolength does
 * not (refused while reading). */
static const char *const big_paths[] = {RPT "/big", RPT "/big-nolength"};

START_TEST(response_over_cap)
{
	const char *url = big_paths[_i];
	unsigned char body[16] = "report";
	struct http_post_opts opts = {.ca_file = ca_file, .total_timeout_ms = 5000};
	struct http_post_result r = post_opts(url, NULL, body, sizeof body, &opts);
	ck_assert(!r.ok);
	ck_assert_int_eq(r.outcome, HTTP_E_TOO_LARGE);
	ck_assert_str_eq(r.reason, "response body larger than 65536 bytes");
	opts.max_response = 100000;
	r = post_opts(url, NULL, body, sizeof body, &opts);
	ck_assert_msg(r.ok, "%s", r.reason);
	opts.max_response = 99999;
	r = post_opts(url, NULL, body, sizeof body, &opts);
	ck_assert_int_eq(r.outcome, HTTP_E_TOO_LARGE);
}
END_TEST

START_TEST(connect_refused_and_bad_arguments)
{
	struct http_post_result r = post(RPT "/ok", "127.0.44.99");
	ck_assert(!r.ok);
	ck_assert_int_eq(r.outcome, HTTP_E_CONNECT);
	ck_assert_msg(strncmp(r.reason, "connect: ", 9) == 0, "%s", r.reason);

	struct waiter w = {0};
	const char *good[] = {RPT_ADDR};
	const char *name[] = {"rpt.sts.test"};
	const char *list[] = {RPT_ADDR ",127.0.44.6"};
	ck_assert_int_eq(http_post_tlsrpt(client, "http://rpt.sts.test/ok", good, 1, "x", 1, NULL,
					  on_posted, &w, NULL),
			 MXTLS_E_INVAL);
	ck_assert_int_eq(http_post_tlsrpt(client, RPT "/ok", name, 1, "x", 1, NULL, on_posted, &w,
					  NULL),
			 MXTLS_E_INVAL);
	ck_assert_int_eq(http_post_tlsrpt(client, RPT "/ok", list, 1, "x", 1, NULL, on_posted, &w,
					  NULL),
			 MXTLS_E_INVAL);
	ck_assert_int_eq(http_post_tlsrpt(client, RPT "/ok", good, 0, "x", 1, NULL, on_posted, &w,
					  NULL),
			 MXTLS_E_INVAL);
	ck_assert_int_eq(http_post_tlsrpt(client, RPT "/ok", good, 1, NULL, 1, NULL, on_posted, &w,
					  NULL),
			 MXTLS_E_INVAL);
	ck_assert(!w.done);
}
END_TEST

/* The collector's /slow answers after 5 s: past the total time limit is a timeout. */
START_TEST(timeout)
{
	unsigned char body[16] = "report";
	struct http_post_opts opts = {.ca_file = ca_file, .total_timeout_ms = 1000};
	struct http_post_result r = post_opts(RPT "/slow", NULL, body, sizeof body, &opts);
	ck_assert(!r.ok);
	ck_assert_int_eq(r.outcome, HTTP_E_TIMEOUT);
	ck_assert_msg(strncmp(r.reason, "timeout: ", 9) == 0, "%s", r.reason);
}
END_TEST

/* A cancelled post never calls back (before it starts, and while the collector holds the
 * answer of /slow); an empty body is still a POST. */
START_TEST(cancel_and_empty_body)
{
	struct waiter w = {0};
	const char *addrs[] = {RPT_ADDR};
	struct http_post *p = NULL;
	struct http_post_opts opts = {.ca_file = ca_file};
	ck_assert_int_eq(http_post_tlsrpt(client, RPT "/ok?check=cancel", addrs, 1, "x", 1, &opts,
					  on_posted, &w, &p),
			 MXTLS_OK);
	http_post_cancel(p);
	ck_assert_int_eq(http_post_tlsrpt(client, RPT "/slow?check=cancel", addrs, 1, "x", 1,
					  &opts, on_posted, &w, &p),
			 MXTLS_OK);
	/* Until the request has arrived (the collector logs it only when it answers, so wait
	 * on the loop for a while: the answer comes 5 s later). */
	struct timeval tick = {0, 20000};
	for (int i = 0; i < 50 && !w.done; i++) {
		event_base_loopexit(base, &tick);
		event_base_dispatch(base);
	}
	ck_assert(!w.done);
	http_post_cancel(p);
	struct http_post_result r = post_opts(RPT "/created?check=empty", NULL, NULL, 0, &opts);
	ck_assert(!w.done);
	ck_assert_msg(r.ok, "%s", r.reason);
	unsigned n = find_saved("POST /created?check=empty HTTP/1.1", NULL);
	ck_assert_uint_ne(n, 0);
	char path[1024];
	size_t len = 99;
	snprintf(path, sizeof path, "%s/received/%04u.body", collector_dir, n);
	free(slurp(path, &len));
	ck_assert_uint_eq(len, 0);
}
END_TEST

/* validator/report_post.c: the host resolved by our resolver (secure and insecure answers are
 * used, bogus ones refused), then the post. */
static struct http_post_result post_resolved(const char *url)
{
	unsigned char body[1024];
	size_t n = report_body(body, sizeof body);
	struct http_post_opts opts = {.ca_file = ca_file, .total_timeout_ms = 5000};
	struct waiter w = {0};
	ck_assert_int_eq(report_post_start(resolver, client, url, body, n, &opts, on_posted, &w,
					   NULL),
			 MXTLS_OK);
	ck_assert(!w.done);
	wait_for(&w);
	return w.res;
}

START_TEST(resolved_post)
{
	struct http_post_result r = post_resolved(RPT "/created?check=resolved");
	ck_assert_msg(r.ok, "%s", r.reason);
	ck_assert_int_eq(r.status, 201);
	unsigned n = find_saved("POST /created?check=resolved HTTP/1.1", NULL);
	ck_assert_uint_ne(n, 0);
	char path[1024];
	size_t len;
	snprintf(path, sizeof path, "%s/received/%04u.body", collector_dir, n);
	char *got = slurp(path, &len);
	unsigned char want[1024];
	ck_assert_uint_eq(len, report_body(want, sizeof want));
	ck_assert_mem_eq(got, want, len);
	free(got);

	r = post_resolved(RPT "/gone");
	ck_assert_str_eq(r.reason, "HTTP 404");
	r = post_resolved("https://rpt-untrusted.sts.test/ok");
	ck_assert_int_eq(r.outcome, HTTP_E_CERT);
}
END_TEST

START_TEST(resolved_dns_outcomes)
{
	/* Bogus (the DS matches no key): nothing is contacted. */
	struct http_post_result r = post_resolved("https://mx1.bogus.test/ok");
	ck_assert(!r.ok);
	ck_assert_int_eq(r.outcome, HTTP_E_CONNECT);
	ck_assert_msg(strncmp(r.reason, "DNS: mx1.bogus.test A: bogus", 28) == 0, "%s", r.reason);
	/* Insecure is used: the address (127.0.10.30, nothing on 443) is tried. */
	r = post_resolved("https://mx1.insecure.test/ok");
	ck_assert_int_eq(r.outcome, HTTP_E_CONNECT);
	ck_assert_msg(strncmp(r.reason, "connect: ", 9) == 0, "%s", r.reason);
	/* No such name, and a name without addresses. */
	r = post_resolved("https://nx.secure.test/ok");
	ck_assert_str_eq(r.reason, "DNS: no address for nx.secure.test (A nxdomain, AAAA nxdomain)");
	r = post_resolved("https://secure.test/ok");
	ck_assert_msg(strncmp(r.reason, "DNS: no address for secure.test", 31) == 0, "%s",
		      r.reason);

	struct waiter w = {0};
	ck_assert_int_eq(report_post_start(resolver, client, "http://rpt.sts.test/", "x", 1, NULL,
					   on_posted, &w, NULL),
			 MXTLS_E_INVAL);
	struct report_post *p = NULL;
	ck_assert_int_eq(report_post_start(resolver, client, RPT "/ok", "x", 1, NULL, on_posted,
					   &w, &p),
			 MXTLS_OK);
	report_post_cancel(p);
	for (int i = 0; i < 5; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert(!w.done);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("http-post");
	TCase *tc = tcase_create("post");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, status_rule, 0, ARRAY_LEN(statuses));
	tcase_add_test(tc, flaky_then_ok);
	tcase_add_test(tc, request_as_sent);
	tcase_add_test(tc, untrusted_certificate);
	tcase_add_loop_test(tc, response_over_cap, 0, ARRAY_LEN(big_paths));
	tcase_add_test(tc, connect_refused_and_bad_arguments);
	tcase_add_test(tc, timeout);
	tcase_add_test(tc, cancel_and_empty_body);
	tcase_add_test(tc, resolved_post);
	tcase_add_test(tc, resolved_dns_outcomes);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(suite)
