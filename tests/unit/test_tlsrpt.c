/* SPDX-License-Identifier: MIT */
/* Unit tests for tlsrpt/: UTC days, §5.1 file names, the report JSON (hostile input first),
 * gzip, and the SQLite store (round trip, exact aggregation, caps, prune, schema version). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <zlib.h>

#include <mxtls/error.h>

#include "test_main.h"
#include "tlsrpt/tlsrpt_report.h"
#include "tlsrpt/tlsrpt_store.h"

/* ---- days ---- */

static const struct day_case {
	const char *in;
	int rc;
	int64_t day;
} day_cases[] = {
	{"", MXTLS_E_SYNTAX, 0},
	{"2026-12-5", MXTLS_E_SYNTAX, 0},
	{"2026-12-05 ", MXTLS_E_SYNTAX, 0},
	{" 2026-12-05", MXTLS_E_SYNTAX, 0},
	{"2026/12/05", MXTLS_E_SYNTAX, 0},
	{"2026-12-05T00:00:00Z", MXTLS_E_SYNTAX, 0},
	{"2026-13-01", MXTLS_E_SYNTAX, 0},
	{"2026-00-01", MXTLS_E_SYNTAX, 0},
	{"2026-12-00", MXTLS_E_SYNTAX, 0},
	{"2026-11-31", MXTLS_E_SYNTAX, 0},
	{"2025-02-29", MXTLS_E_SYNTAX, 0}, /* not a leap year */
	{"2100-02-29", MXTLS_E_SYNTAX, 0}, /* century, not a leap year */
	{"1969-12-31", MXTLS_E_SYNTAX, 0}, /* before the Unix epoch */
	{"2026-1a-05", MXTLS_E_SYNTAX, 0},
	{"+026-12-05", MXTLS_E_SYNTAX, 0},
	{"1970-01-01", MXTLS_OK, 0},
	{"2000-02-29", MXTLS_OK, 11016}, /* 400-year leap day */
	{"2024-02-29", MXTLS_OK, 19782},
	{"2026-12-05", MXTLS_OK, 20792},
	{"9999-12-31", MXTLS_OK, 2932896},
};

START_TEST(day_parse)
{
	const struct day_case *c = &day_cases[_i];
	int64_t d = -7;
	int rc = tlsrpt_day_parse(c->in, &d);
	ck_assert_msg(rc == c->rc, "'%s': rc %d, expected %d", c->in, rc, c->rc);
	if (rc != MXTLS_OK) {
		ck_assert_int_eq(d, -7); /* untouched */
		return;
	}
	ck_assert_int_eq(d, c->day);
	char back[11];
	tlsrpt_day_format(d, back);
	ck_assert_str_eq(back, c->in);
}
END_TEST

START_TEST(day_every_day_round_trips)
{
	/* Every day from 1970 to 2200 formats and parses back to itself. */
	for (int64_t d = 0; d < 84000; d++) {
		char s[11];
		int64_t back = -1;
		tlsrpt_day_format(d, s);
		ck_assert_int_eq(tlsrpt_day_parse(s, &back), MXTLS_OK);
		ck_assert_int_eq(back, d);
	}
}
END_TEST

/* ---- §5.1 file names ---- */

static const struct name_case {
	const char *sender, *domain;
	int64_t day;
	size_t cap;
	int rc;
	const char *name;
} name_cases[] = {
	{"", "example.net", 1, 256, MXTLS_E_INVAL, NULL},
	{"mail.sndr.example", "", 1, 256, MXTLS_E_INVAL, NULL},
	{"a!b.example", "example.net", 1, 256, MXTLS_E_INVAL, NULL},
	{"mail.sndr.example", "../etc/passwd", 1, 256, MXTLS_E_INVAL, NULL},
	{"mail.sndr.example", "x/y.example", 1, 256, MXTLS_E_INVAL, NULL},
	{"mail.sndr.example", "example.net.", 1, 256, MXTLS_E_INVAL, NULL},
	{"mail.sndr.example", "ex ample.net", 1, 256, MXTLS_E_INVAL, NULL},
	{"mail.sndr.example", "*.example.net", 1, 256, MXTLS_E_INVAL, NULL},
	{"mail.sndr.example", "example.net", -1, 256, MXTLS_E_INVAL, NULL},
	{"mail.sndr.example", "example.net", 20792, 10, MXTLS_E_LIMIT, NULL},
	/* exactly fits: 17 + 1 + 11 + 1 + 10 + 1 + 10 + 8 = 59 characters and the NUL */
	{"mail.sndr.example", "example.net", 20792, 60, MXTLS_OK,
	 "mail.sndr.example!example.net!1796428800!1796515200.json.gz"},
	{"mail.sndr.example", "example.net", 20792, 59, MXTLS_E_LIMIT, NULL},
	{"s.example", "xn--bcher-kva.example", 0, 256, MXTLS_OK,
	 "s.example!xn--bcher-kva.example!0!86400.json.gz"},
};

START_TEST(file_name)
{
	const struct name_case *c = &name_cases[_i];
	char buf[256];
	ck_assert_uint_le(c->cap, sizeof buf);
	int rc = tlsrpt_report_filename(c->sender, c->domain, c->day, buf, c->cap);
	ck_assert_msg(rc == c->rc, "case %d: rc %d, expected %d", _i, rc, c->rc);
	if (rc == MXTLS_OK)
		ck_assert_str_eq(buf, c->name);
}
END_TEST

/* ---- the report JSON ---- */

static const char *const sts_lines[] = {"version: STSv1", "mode: enforce", "mx: mx.example.net",
					"max_age: 604800"};
static const char *const sts_mx[] = {"mx.example.net"};

static struct tlsrpt_failure one_failure(void)
{
	return (struct tlsrpt_failure){.result_type = "certificate-expired",
				       .sending_mta_ip = "192.0.2.1",
				       .receiving_mx_hostname = "mx.example.net",
				       .receiving_ip = "203.0.113.5",
				       .count = 2};
}

static struct tlsrpt_policy one_policy(const struct tlsrpt_failure *f, size_t nf)
{
	return (struct tlsrpt_policy){.type = TLSRPT_POLICY_STS,
				      .domain = "example.net",
				      .strings = sts_lines,
				      .nstrings = 4,
				      .mx = sts_mx,
				      .nmx = 1,
				      .successes = 10,
				      .failures = 2,
				      .details = f,
				      .ndetails = nf};
}

static struct tlsrpt_report_in one_report(const struct tlsrpt_policy *p, size_t np)
{
	return (struct tlsrpt_report_in){.organization = "Sender Org",
					 .contact = "tlsrpt@sndr.example",
					 .report_id = "r1",
					 .day = 20792,
					 .policies = p,
					 .npolicies = np};
}

/* The whole expected report for one_report(): RFC 8460 §4.4 member order, compact. */
static const char golden[] =
	"{\"organization-name\":\"Sender Org\",\"date-range\":{\"start-datetime\":"
	"\"2026-12-05T00:00:00Z\",\"end-datetime\":\"2026-12-06T00:00:00Z\"},\"contact-info\":"
	"\"tlsrpt@sndr.example\",\"report-id\":\"r1\",\"policies\":[{\"policy\":{\"policy-type\":"
	"\"sts\",\"policy-string\":[\"version: STSv1\",\"mode: enforce\",\"mx: mx.example.net\","
	"\"max_age: 604800\"],\"policy-domain\":\"example.net\",\"mx-host\":[\"mx.example.net\"]},"
	"\"summary\":{\"total-successful-session-count\":10,\"total-failure-session-count\":2},"
	"\"failure-details\":[{\"result-type\":\"certificate-expired\",\"sending-mta-ip\":"
	"\"192.0.2.1\",\"receiving-mx-hostname\":\"mx.example.net\",\"receiving-ip\":"
	"\"203.0.113.5\",\"failed-session-count\":2}]}]}\n";

/* Hostile report inputs: each mutation of the good report and the error it must give. */
enum mutation {
	M_NO_POLICIES,
	M_NO_ORG,
	M_EMPTY_CONTACT,
	M_BAD_TYPE,
	M_NO_DOMAIN,
	M_BAD_UTF8_STRING,
	M_BAD_UTF8_ORG,
	M_NULL_STRING,
	M_NO_RESULT_TYPE,
	M_COUNT_TOO_BIG,
	M_SUMMARY_TOO_BIG,
	M_DAY_NEGATIVE,
	M_NO_ID_NO_SUBMITTER,
};

static const struct bad_case {
	enum mutation m;
	int rc;
} bad_cases[] = {
	{M_NO_POLICIES, MXTLS_E_INVAL},        {M_NO_ORG, MXTLS_E_INVAL},
	{M_EMPTY_CONTACT, MXTLS_E_INVAL},      {M_BAD_TYPE, MXTLS_E_INVAL},
	{M_NO_DOMAIN, MXTLS_E_INVAL},          {M_BAD_UTF8_STRING, MXTLS_E_SYNTAX},
	{M_BAD_UTF8_ORG, MXTLS_E_SYNTAX},      {M_NULL_STRING, MXTLS_E_SYNTAX},
	{M_NO_RESULT_TYPE, MXTLS_E_INVAL},     {M_COUNT_TOO_BIG, MXTLS_E_LIMIT},
	{M_SUMMARY_TOO_BIG, MXTLS_E_LIMIT},    {M_DAY_NEGATIVE, MXTLS_E_INVAL},
	{M_NO_ID_NO_SUBMITTER, MXTLS_E_INVAL},
};

START_TEST(report_hostile)
{
	const struct bad_case *c = &bad_cases[_i];
	struct tlsrpt_failure f = one_failure();
	struct tlsrpt_policy p = one_policy(&f, 1);
	struct tlsrpt_report_in in = one_report(&p, 1);
	const char *bad_lines[] = {"version: STSv1", "mx: \xc3(.example"};
	const char *null_lines[] = {"version: STSv1", NULL};
	switch (c->m) {
	case M_NO_POLICIES:
		in.npolicies = 0;
		break;
	case M_NO_ORG:
		in.organization = NULL;
		break;
	case M_EMPTY_CONTACT:
		in.contact = "";
		break;
	case M_BAD_TYPE:
		p.type = (enum tlsrpt_policy_type)7;
		break;
	case M_NO_DOMAIN:
		p.domain = "";
		break;
	case M_BAD_UTF8_STRING:
		p.strings = bad_lines;
		p.nstrings = 2;
		break;
	case M_BAD_UTF8_ORG:
		in.organization = "Org \xff";
		break;
	case M_NULL_STRING:
		p.strings = null_lines;
		p.nstrings = 2;
		break;
	case M_NO_RESULT_TYPE:
		f.result_type = "";
		break;
	case M_COUNT_TOO_BIG:
		f.count = TLSRPT_COUNT_MAX + 1;
		break;
	case M_SUMMARY_TOO_BIG:
		p.successes = UINT64_MAX;
		break;
	case M_DAY_NEGATIVE:
		in.day = -1;
		break;
	case M_NO_ID_NO_SUBMITTER:
		in.report_id = NULL;
		break;
	}
	char *out = (char *)0x1;
	size_t len = 77;
	int rc = tlsrpt_report_json(&in, &out, &len);
	ck_assert_msg(rc == c->rc, "mutation %d: rc %d, expected %d", c->m, rc, c->rc);
	ck_assert_ptr_eq(out, (char *)0x1); /* all-or-nothing */
	ck_assert_uint_eq(len, 77);
}
END_TEST

START_TEST(report_golden)
{
	struct tlsrpt_failure f = one_failure();
	struct tlsrpt_policy p = one_policy(&f, 1);
	struct tlsrpt_report_in in = one_report(&p, 1);
	char *out;
	size_t len;
	ck_assert_int_eq(tlsrpt_report_json(&in, &out, &len), MXTLS_OK);
	ck_assert_str_eq(out, golden);
	ck_assert_uint_eq(len, strlen(golden));
	free(out);
}
END_TEST

/* Quotes, backslashes, control characters and UTF-8: escaped by jansson, never by hand. */
START_TEST(report_escapes)
{
	struct tlsrpt_failure f = one_failure();
	f.receiving_mx_helo = "a\"b\\c\x01\t\x7f"
			      "caf\xc3\xa9 \xf0\x9f\x93\xa7";
	f.failure_reason_code = "</script>";
	struct tlsrpt_policy p = one_policy(&f, 1);
	struct tlsrpt_report_in in = one_report(&p, 1);
	in.organization = "Org \"Q\"";
	char *out;
	size_t len;
	ck_assert_int_eq(tlsrpt_report_json(&in, &out, &len), MXTLS_OK);
	ck_assert_ptr_nonnull(strstr(out, "\"organization-name\":\"Org \\\"Q\\\"\""));
	ck_assert_ptr_nonnull(strstr(out, "\"receiving-mx-helo\":\"a\\\"b\\\\c\\u0001\\t\x7f"
					  "caf\xc3\xa9 \xf0\x9f\x93\xa7\""));
	ck_assert_ptr_nonnull(strstr(out, "\"failure-reason-code\":\"</script>\""));
	/* exactly one line: the only raw newline is the last byte */
	ck_assert_ptr_eq(strchr(out, '\n'), out + len - 1);
	free(out);
}
END_TEST

/* Unknown optional members are left out, never null; a policy without failures still has the
 * failure-details array, and policy-string / mx-host stay arrays when empty. */
START_TEST(report_optional_and_arrays)
{
	struct tlsrpt_failure f = {.result_type = "validation-failure",
				   .count = 1,
				   .sending_mta_ip = "",
				   .receiving_mx_helo = NULL};
	struct tlsrpt_policy p[2] = {one_policy(&f, 1), one_policy(NULL, 0)};
	p[1].type = TLSRPT_POLICY_NONE;
	p[1].nstrings = 0;
	p[1].nmx = 0;
	struct tlsrpt_report_in in = one_report(p, 2);
	char *out;
	size_t len;
	ck_assert_int_eq(tlsrpt_report_json(&in, &out, &len), MXTLS_OK);
	ck_assert_ptr_null(strstr(out, "null"));
	ck_assert_ptr_null(strstr(out, "sending-mta-ip"));
	ck_assert_ptr_null(strstr(out, "receiving-mx-helo"));
	ck_assert_ptr_nonnull(strstr(out, "{\"result-type\":\"validation-failure\","
					  "\"failed-session-count\":1}"));
	ck_assert_ptr_nonnull(strstr(out, "{\"policy-type\":\"no-policy-found\",\"policy-string\""
					  ":[],\"policy-domain\":\"example.net\",\"mx-host\":[]}"));
	ck_assert_ptr_nonnull(strstr(out, "\"failure-details\":[]}]}"));
	free(out);
}
END_TEST

/* The same input gives the same bytes; the derived report-id depends on day, domain and
 * content. */
START_TEST(report_deterministic)
{
	struct tlsrpt_failure f = one_failure();
	struct tlsrpt_policy p = one_policy(&f, 1);
	struct tlsrpt_report_in in = one_report(&p, 1);
	in.report_id = NULL;
	in.submitter = "sndr.example";
	char *a, *b, *c;
	size_t la, lb, lc;
	ck_assert_int_eq(tlsrpt_report_json(&in, &a, &la), MXTLS_OK);
	ck_assert_int_eq(tlsrpt_report_json(&in, &b, &lb), MXTLS_OK);
	ck_assert_uint_eq(la, lb);
	ck_assert_mem_eq(a, b, la);
	ck_assert_ptr_nonnull(strstr(a, "\"report-id\":\"2026-12-05."));
	ck_assert_ptr_nonnull(strstr(a, ".example.net@sndr.example\""));
	p.successes++;
	ck_assert_int_eq(tlsrpt_report_json(&in, &c, &lc), MXTLS_OK);
	const char *ida = strstr(a, "report-id"), *idc = strstr(c, "report-id");
	ck_assert_int_ne(memcmp(ida, idc, 40), 0);
	free(a);
	free(b);
	free(c);
}
END_TEST

/* ---- gzip ---- */

static void inflate_all(const uint8_t *gz, size_t n, char **out, size_t *outlen)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK); /* gzip only */
	size_t cap = 1 << 20;
	char *buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	z.next_in = (Bytef *)(uintptr_t)gz;
	z.avail_in = (uInt)n;
	z.next_out = (Bytef *)buf;
	z.avail_out = (uInt)cap;
	ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
	ck_assert_uint_eq(z.avail_in, 0); /* one member, nothing after it */
	*outlen = z.total_out;
	*out = buf;
	inflateEnd(&z);
}

START_TEST(gzip_round_trip)
{
	const char *inputs[] = {"", golden, "\x00\x01\x02\xff"};
	size_t lens[] = {0, strlen(golden), 4};
	for (size_t i = 0; i < ARRAY_LEN(inputs); i++) {
		uint8_t *gz, *gz2;
		size_t n, n2;
		ck_assert_int_eq(tlsrpt_report_gzip(inputs[i], lens[i], &gz, &n), MXTLS_OK);
		/* RFC 1952 header: magic, deflate, no flags (no name), mtime 0, OS unknown */
		ck_assert_uint_ge(n, 18);
		static const uint8_t head[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0};
		ck_assert_mem_eq(gz, head, sizeof head);
		ck_assert_uint_eq(gz[9], 255);
		char *back;
		size_t blen;
		inflate_all(gz, n, &back, &blen);
		ck_assert_uint_eq(blen, lens[i]);
		if (blen > 0)
			ck_assert_mem_eq(back, inputs[i], blen);
		ck_assert_int_eq(tlsrpt_report_gzip(inputs[i], lens[i], &gz2, &n2), MXTLS_OK);
		ck_assert_uint_eq(n, n2);
		ck_assert_mem_eq(gz, gz2, n); /* deterministic */
		free(back);
		free(gz);
		free(gz2);
	}
}
END_TEST

/* ---- the store ---- */

static struct tlsrpt_store *open_store(const char *name)
{
	char path[700];
	snprintf(path, sizeof path, "%s/%s", test_tmp_root, name);
	struct tlsrpt_store *s = NULL;
	char err[256] = "";
	int rc = tlsrpt_store_open(path, true, &s, err, sizeof err);
	ck_assert_msg(rc == MXTLS_OK, "open %s: %s", path, err);
	return s;
}

static void record(struct tlsrpt_store *s, int64_t day, const struct tlsrpt_result *r)
{
	char err[256] = "";
	int rc = tlsrpt_store_record(s, day, r, err, sizeof err);
	ck_assert_msg(rc == MXTLS_OK, "record: %d %s", rc, err);
}

static struct tlsrpt_day *load(struct tlsrpt_store *s, int64_t day, const char *domain)
{
	struct tlsrpt_day *d = NULL;
	char err[256] = "";
	ck_assert_int_eq(tlsrpt_store_load(s, day, domain, &d, err, sizeof err), MXTLS_OK);
	return d;
}

START_TEST(store_empty_day)
{
	struct tlsrpt_store *s = open_store("empty.sqlite");
	char **domains = (char **)0x1;
	size_t n = 9;
	ck_assert_int_eq(tlsrpt_store_domains(s, 20792, &domains, &n, NULL, 0), MXTLS_OK);
	ck_assert_uint_eq(n, 0);
	struct tlsrpt_day *d = load(s, 20792, "example.net");
	ck_assert_uint_eq(d->npolicies, 0);
	tlsrpt_day_free(d);
	tlsrpt_strings_free(domains, n);
	tlsrpt_store_close(s);
	/* not created when asked not to */
	char path[700];
	snprintf(path, sizeof path, "%s/absent.sqlite", test_tmp_root);
	ck_assert_int_eq(tlsrpt_store_open(path, false, &s, NULL, 0), MXTLS_E_NOTFOUND);
}
END_TEST

/* Hostile results: refused whole, nothing recorded. */
START_TEST(store_hostile)
{
	struct tlsrpt_store *s = open_store("hostile.sqlite");
	static char big[TLSRPT_FIELD_MAX + 2];
	memset(big, 'a', sizeof big - 1);
	static char big_string[TLSRPT_STRING_MAX + 2];
	memset(big_string, 'b', sizeof big_string - 1);
	const char *big_strings[] = {big_string};
	struct tlsrpt_failure f = {.result_type = "validation-failure"};
	struct {
		struct tlsrpt_result r;
		int rc;
	} cases[] = {
		{{.type = TLSRPT_POLICY_STS, .domain = NULL}, MXTLS_E_INVAL},
		{{.type = TLSRPT_POLICY_STS, .domain = ""}, MXTLS_E_INVAL},
		{{.type = TLSRPT_POLICY_STS, .domain = "a..example"}, MXTLS_E_INVAL},
		{{.type = TLSRPT_POLICY_STS, .domain = "ex ample.net"}, MXTLS_E_INVAL},
		{{.type = TLSRPT_POLICY_STS, .domain = "caf\xc3\xa9.example"}, MXTLS_E_INVAL},
		{{.type = (enum tlsrpt_policy_type)9, .domain = "example.net"}, MXTLS_E_INVAL},
		{{.type = TLSRPT_POLICY_STS,
		  .domain = "example.net",
		  .strings = big_strings,
		  .nstrings = 1},
		 MXTLS_E_LIMIT},
		{{.type = TLSRPT_POLICY_STS,
		  .domain = "example.net",
		  .strings = big_strings,
		  .nstrings = TLSRPT_STRINGS_MAX + 1},
		 MXTLS_E_LIMIT},
		{{.type = TLSRPT_POLICY_STS, .domain = "example.net", .failure = &f},
		 MXTLS_E_LIMIT},
	};
	f.failure_reason_code = big;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		int rc = tlsrpt_store_record(s, 20792, &cases[i].r, NULL, 0);
		ck_assert_msg(rc == cases[i].rc, "case %zu: rc %d, expected %d", i, rc,
			      cases[i].rc);
	}
	struct tlsrpt_failure nort = {.result_type = NULL};
	struct tlsrpt_result r = {
		.type = TLSRPT_POLICY_STS, .domain = "example.net", .failure = &nort};
	ck_assert_int_eq(tlsrpt_store_record(s, 20792, &r, NULL, 0), MXTLS_E_INVAL);
	char **domains;
	size_t n;
	ck_assert_int_eq(tlsrpt_store_domains(s, 20792, &domains, &n, NULL, 0), MXTLS_OK);
	ck_assert_uint_eq(n, 0);
	tlsrpt_strings_free(domains, n);
	tlsrpt_store_close(s);
}
END_TEST

/* Text from the network is cleaned: first HELO line only, invalid UTF-8 -> U+FFFD; the
 * domain is stored canonical. */
START_TEST(store_cleans_text)
{
	struct tlsrpt_store *s = open_store("clean.sqlite");
	const char *lines[] = {"mx: \xff.example", "ok \"q\""};
	struct tlsrpt_failure f = {.result_type = "starttls-not-supported",
				   .receiving_mx_helo = "mx.example.net\r\n250-PIPELINING",
				   .failure_reason_code = "bad \xc3 byte\x01"};
	struct tlsrpt_result r = {.type = TLSRPT_POLICY_STS,
				  .domain = "Example.NET.",
				  .strings = lines,
				  .nstrings = 2,
				  .failure = &f};
	record(s, 20792, &r);
	struct tlsrpt_day *d = load(s, 20792, "example.net");
	ck_assert_uint_eq(d->npolicies, 1);
	ck_assert_str_eq(d->policies[0].domain, "example.net");
	ck_assert_str_eq(d->policies[0].strings[0], "mx: \xef\xbf\xbd.example");
	ck_assert_str_eq(d->policies[0].strings[1], "ok \"q\"");
	ck_assert_uint_eq(d->policies[0].ndetails, 1);
	ck_assert_str_eq(d->policies[0].details[0].receiving_mx_helo, "mx.example.net");
	ck_assert_str_eq(d->policies[0].details[0].failure_reason_code,
			 "bad \xef\xbf\xbd byte\x01");
	tlsrpt_day_free(d);
	tlsrpt_store_close(s);
}
END_TEST

/* RFC 8460 §4.2 counting: RFC-CHECKLIST RPT-15's day (10 good sessions, 2 with an expired
 * certificate, 1 without STARTTLS -> 10/3, two entries with counts 2 and 1), a domain with only
 * failures, a second policy of the same domain, the day boundary, reopened from disk. */
START_TEST(store_aggregation_exact)
{
	struct tlsrpt_store *s = open_store("agg.sqlite");
	struct tlsrpt_result ok = {.type = TLSRPT_POLICY_STS,
				   .domain = "example.net",
				   .strings = sts_lines,
				   .nstrings = 4,
				   .mx = sts_mx,
				   .nmx = 1};
	for (int i = 0; i < 10; i++)
		record(s, 20792, &ok);
	struct tlsrpt_failure exp = one_failure(), nostarttls = one_failure();
	nostarttls.result_type = "starttls-not-supported";
	struct tlsrpt_result bad = ok;
	bad.failure = &exp;
	record(s, 20792, &bad);
	record(s, 20792, &bad);
	bad.failure = &nostarttls;
	record(s, 20792, &bad);
	record(s, 20791, &ok); /* the day before: another report */
	/* the same domain under a changed policy (one more line): a second policies[] entry */
	const char *lines2[] = {"version: STSv1", "mode: testing", "mx: mx.example.net",
				"max_age: 604800"};
	struct tlsrpt_result ok2 = ok;
	ok2.strings = lines2;
	record(s, 20792, &ok2);
	/* a domain with only failures */
	struct tlsrpt_result only = {
		.type = TLSRPT_POLICY_TLSA, .domain = "fail.example", .failure = &exp};
	record(s, 20792, &only);
	record(s, 20792, &only);
	tlsrpt_store_close(s);

	s = open_store("agg.sqlite");
	char **domains;
	size_t n;
	ck_assert_int_eq(tlsrpt_store_domains(s, 20792, &domains, &n, NULL, 0), MXTLS_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(domains[0], "example.net");
	ck_assert_str_eq(domains[1], "fail.example");
	tlsrpt_strings_free(domains, n);

	struct tlsrpt_day *d = load(s, 20792, "example.net");
	ck_assert_uint_eq(d->npolicies, 2);
	/* ordered by strings: "mode: enforce" < "mode: testing" */
	const struct tlsrpt_policy *p = &d->policies[0];
	ck_assert_str_eq(p->strings[1], "mode: enforce");
	ck_assert_uint_eq(p->nstrings, 4);
	ck_assert_uint_eq(p->nmx, 1);
	ck_assert_str_eq(p->mx[0], "mx.example.net");
	ck_assert_uint_eq(p->successes, 10);
	ck_assert_uint_eq(p->failures, 3);
	ck_assert_uint_eq(p->ndetails, 2);
	ck_assert_str_eq(p->details[0].result_type, "certificate-expired");
	ck_assert_uint_eq(p->details[0].count, 2);
	ck_assert_str_eq(p->details[0].receiving_ip, "203.0.113.5");
	ck_assert_str_eq(p->details[0].receiving_mx_helo, ""); /* unknown */
	ck_assert_str_eq(p->details[1].result_type, "starttls-not-supported");
	ck_assert_uint_eq(p->details[1].count, 1);
	ck_assert_str_eq(d->policies[1].strings[1], "mode: testing");
	ck_assert_uint_eq(d->policies[1].successes, 1);
	ck_assert_uint_eq(d->policies[1].failures, 0);
	ck_assert_uint_eq(d->policies[1].ndetails, 0);
	tlsrpt_day_free(d);

	d = load(s, 20792, "fail.example");
	ck_assert_uint_eq(d->npolicies, 1);
	ck_assert_int_eq(d->policies[0].type, TLSRPT_POLICY_TLSA);
	ck_assert_uint_eq(d->policies[0].successes, 0);
	ck_assert_uint_eq(d->policies[0].failures, 2);
	ck_assert_uint_eq(d->policies[0].details[0].count, 2);
	/* and it makes a report with a zero success count */
	struct tlsrpt_report_in in = one_report(d->policies, d->npolicies);
	char *json;
	size_t len;
	ck_assert_int_eq(tlsrpt_report_json(&in, &json, &len), MXTLS_OK);
	ck_assert_ptr_nonnull(strstr(json, "\"total-successful-session-count\":0,"
					   "\"total-failure-session-count\":2"));
	free(json);
	tlsrpt_day_free(d);

	d = load(s, 20791, "example.net");
	ck_assert_uint_eq(d->npolicies, 1);
	ck_assert_uint_eq(d->policies[0].successes, 1);
	tlsrpt_day_free(d);
	tlsrpt_store_close(s);
}
END_TEST

/* 1000 distinct failure details: 1000 entries, each counted once, in a fixed order, and a
 * report of them. */
START_TEST(store_thousand_details)
{
	struct tlsrpt_store *s = open_store("many.sqlite");
	struct tlsrpt_result r = {.type = TLSRPT_POLICY_STS, .domain = "many.example"};
	for (int i = 0; i < 1000; i++) {
		char ip[32];
		snprintf(ip, sizeof ip, "198.51.%d.%d", i / 256, i % 256);
		struct tlsrpt_failure f = {.result_type = "certificate-not-trusted",
					   .receiving_ip = ip,
					   .receiving_mx_hostname = "mx.many.example"};
		r.failure = &f;
		record(s, 20792, &r);
	}
	struct tlsrpt_day *d = load(s, 20792, "many.example");
	ck_assert_uint_eq(d->npolicies, 1);
	ck_assert_uint_eq(d->policies[0].failures, 1000);
	ck_assert_uint_eq(d->policies[0].ndetails, 1000);
	for (size_t i = 0; i < 1000; i++) {
		ck_assert_uint_eq(d->policies[0].details[i].count, 1);
		if (i > 0)
			ck_assert_int_lt(strcmp(d->policies[0].details[i - 1].receiving_ip,
						d->policies[0].details[i].receiving_ip),
					 0);
	}
	struct tlsrpt_report_in in = one_report(d->policies, 1);
	char *a, *b;
	size_t la, lb;
	ck_assert_int_eq(tlsrpt_report_json(&in, &a, &la), MXTLS_OK);
	tlsrpt_day_free(d);
	d = load(s, 20792, "many.example");
	in = one_report(d->policies, 1);
	ck_assert_int_eq(tlsrpt_report_json(&in, &b, &lb), MXTLS_OK);
	ck_assert_uint_eq(la, lb);
	ck_assert_mem_eq(a, b, la); /* the store reads back in the same order */
	size_t entries = 0;
	for (const char *q = a; (q = strstr(q, "\"result-type\"")) != NULL; q++)
		entries++;
	ck_assert_uint_eq(entries, 1000);
	free(a);
	free(b);
	tlsrpt_day_free(d);
	tlsrpt_store_close(s);
}
END_TEST

START_TEST(store_prune)
{
	struct tlsrpt_store *s = open_store("prune.sqlite");
	struct tlsrpt_failure f = one_failure();
	struct tlsrpt_result r = {
		.type = TLSRPT_POLICY_STS, .domain = "example.net", .failure = &f};
	for (int64_t day = 10; day <= 12; day++)
		record(s, day, &r);
	uint64_t deleted = 99;
	ck_assert_int_eq(tlsrpt_store_prune(s, 12, &deleted, NULL, 0), MXTLS_OK);
	ck_assert_uint_eq(deleted, 2);
	for (int64_t day = 10; day <= 12; day++) {
		struct tlsrpt_day *d = load(s, day, "example.net");
		ck_assert_uint_eq(d->npolicies, day == 12 ? 1 : 0);
		tlsrpt_day_free(d);
	}
	ck_assert_int_eq(tlsrpt_store_prune(s, 12, &deleted, NULL, 0), MXTLS_OK);
	ck_assert_uint_eq(deleted, 0);
	tlsrpt_store_close(s);
	/* the failure rows went with their policies (ON DELETE CASCADE) */
	char path[700];
	snprintf(path, sizeof path, "%s/prune.sqlite", test_tmp_root);
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM failure", -1, &st, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
}
END_TEST

/* A file from a newer mxtls (user_version 3) or not a database at all is refused. */
START_TEST(store_schema_version)
{
	char path[700], err[256] = "";
	snprintf(path, sizeof path, "%s/newer.sqlite", test_tmp_root);
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 3", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	struct tlsrpt_store *s = NULL;
	ck_assert_int_eq(tlsrpt_store_open(path, true, &s, err, sizeof err), MXTLS_E_IO);
	ck_assert_ptr_nonnull(strstr(err, "schema version 3"));
	snprintf(path, sizeof path, "%s/garbage.sqlite", test_tmp_root);
	FILE *fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("this is not an SQLite database, but long enough to look at its header\n", fp);
	fclose(fp);
	ck_assert_int_eq(tlsrpt_store_open(path, true, &s, err, sizeof err), MXTLS_E_IO);
	/* and a fresh file gets version 2 (results and the outbox) */
	tlsrpt_store_close(open_store("fresh.sqlite"));
	snprintf(path, sizeof path, "%s/fresh.sqlite", test_tmp_root);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 2);
	sqlite3_finalize(st);
	sqlite3_close(db);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("tlsrpt");
	TCase *t = tcase_create("pure");
	tcase_add_loop_test(t, day_parse, 0, ARRAY_LEN(day_cases));
	tcase_add_test(t, day_every_day_round_trips);
	tcase_add_loop_test(t, file_name, 0, ARRAY_LEN(name_cases));
	tcase_add_loop_test(t, report_hostile, 0, ARRAY_LEN(bad_cases));
	tcase_add_test(t, report_golden);
	tcase_add_test(t, report_escapes);
	tcase_add_test(t, report_optional_and_arrays);
	tcase_add_test(t, report_deterministic);
	tcase_add_test(t, gzip_round_trip);
	suite_add_tcase(s, t);
	TCase *st = tcase_create("store");
	tcase_add_unchecked_fixture(st, test_tmp_setup, test_tmp_teardown);
	tcase_set_timeout(st, 60);
	tcase_add_test(st, store_empty_day);
	tcase_add_test(st, store_hostile);
	tcase_add_test(st, store_cleans_text);
	tcase_add_test(st, store_aggregation_exact);
	tcase_add_test(st, store_thousand_details);
	tcase_add_test(st, store_prune);
	tcase_add_test(st, store_schema_version);
	suite_add_tcase(s, st);
	return s;
}

MXTLS_TEST_MAIN(make_suite)
