/* SPDX-License-Identifier: MIT */
/* Unit tests for tlsrpt/tlsrpt_read.c: focused hostile and edge cases first (date-times, caps,
 * gzip), every line of vectors/tlsrpt-in/cases.txt, and a round trip through the sender's own
 * tlsrpt_report.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include <mxtls/error.h>

#include "test_main.h"
#include "tlsrpt/tlsrpt_read.h"
#include "tlsrpt/tlsrpt_report.h"

#ifndef VECTORS_DIR
#error "VECTORS_DIR must name the vectors/ folder"
#endif

/* A report around one date-range (the two date-times spliced in). */
static char *report_with_range(const char *start, const char *end)
{
	static const char fmt[] =
		"{\"organization-name\":\"o\",\"date-range\":{\"start-datetime\":\"%s\","
		"\"end-datetime\":\"%s\"},\"contact-info\":\"c@o.example\",\"report-id\":\"r\","
		"\"policies\":[{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":\"d."
		"example\"},"
		"\"summary\":{\"total-successful-session-count\":1,"
		"\"total-failure-session-count\":0}}]}";
	size_t n = sizeof fmt + strlen(start) + strlen(end);
	char *s = malloc(n);
	ck_assert_ptr_nonnull(s);
	snprintf(s, n, fmt, start, end);
	return s;
}

/* ---- date-times: hostile and malformed first ---- */

static const struct dt_case {
	const char *in;
	int ok;
	int64_t t;       /* Unix seconds when ok */
	unsigned quirks; /* TLSRPT_QUIRK_DATE_NO_ZONE or 0 */
} dt_cases[] = {
	{"", 0, 0, 0},
	{"garbage", 0, 0, 0},
	{"2026-11-30", 0, 0, 0},
	{"2026-11-30T00:00", 0, 0, 0},
	{"2026-11-30 00:00:00Z", 0, 0, 0},
	{"2026-11-30T00:00:00ZZ", 0, 0, 0},
	{"2026-11-30T00:00:00Z ", 0, 0, 0},
	{" 2026-11-30T00:00:00Z", 0, 0, 0},
	{"2026-11-30T00:00:00.Z", 0, 0, 0},
	{"2026-11-30T00:00:00+0100", 0, 0, 0},
	{"2026-11-30T00:00:00+01", 0, 0, 0},
	{"2026-11-30T00:00:00+24:00", 0, 0, 0},
	{"2026-11-30T00:00:00+01:60", 0, 0, 0},
	{"2026-11-30T00:00:00UTC", 0, 0, 0},
	{"2026-13-01T00:00:00Z", 0, 0, 0},
	{"2026-00-01T00:00:00Z", 0, 0, 0},
	{"2026-11-00T00:00:00Z", 0, 0, 0},
	{"2026-11-31T00:00:00Z", 0, 0, 0},
	{"2026-02-29T00:00:00Z", 0, 0, 0},
	{"1900-02-29T00:00:00Z", 0, 0, 0},
	{"2026-11-30T24:00:00Z", 0, 0, 0},
	{"2026-11-30T23:60:00Z", 0, 0, 0},
	{"2026-11-30T23:59:61Z", 0, 0, 0},
	{"+2026-11-30T00:00:00Z", 0, 0, 0},
	{"2026-1-30T00:00:00Z", 0, 0, 0},
	{"2026-11-30T0:00:00Z", 0, 0, 0},
	{"２026-11-30T00:00:00Z", 0, 0, 0},
	{"2026-11-30T00:00:00.00000000000000000000000000000000Z", 0, 0, 0}, /* over 48 */
	/* valid */
	{"1970-01-01T00:00:00Z", 1, 0, 0},
	{"2026-11-30T00:00:00Z", 1, 1795996800, 0},
	{"2026-11-30t00:00:00z", 1, 1795996800, 0},
	{"2026-11-30T00:00:00.5Z", 1, 1795996800, 0},
	{"2026-11-30T00:00:00.999999999Z", 1, 1795996800, 0},
	{"2026-11-30T01:00:00+01:00", 1, 1795996800, 0},
	{"2026-11-29T19:00:00-05:00", 1, 1795996800, 0},
	{"2026-11-30T05:45:00+05:45", 1, 1795996800, 0},
	{"2026-11-30T00:00:00-00:00", 1, 1795996800, 0},
	{"2026-11-30T00:00:00+00:00", 1, 1795996800, 0},
	{"2026-11-30T00:00:00", 1, 1795996800, TLSRPT_QUIRK_DATE_NO_ZONE},
	{"2026-11-30T00:00:00.0000000", 1, 1795996800, TLSRPT_QUIRK_DATE_NO_ZONE},
	{"2028-02-29T00:00:00Z", 1, 1835395200, 0},
	{"2000-02-29T12:00:00Z", 1, 951825600, 0},
	{"2016-12-31T23:59:60Z", 1, 1483228800, 0}, /* leap second: the next second */
	{"1969-12-31T23:59:59Z", 1, -1, 0},
	{"0000-01-01T00:00:00Z", 1, -62167219200, 0},
	{"9999-12-31T23:59:59Z", 1, 253402300799, 0},
};

START_TEST(datetime)
{
	const struct dt_case *c = &dt_cases[_i];
	char *json = report_with_range(c->in, "9999-12-31T23:59:59Z");
	struct tlsrpt_read_report r;
	char err[256];
	int rc = tlsrpt_read_parse(json, strlen(json), &r, err, sizeof err);
	free(json);
	if (!c->ok) {
		ck_assert_msg(rc == MXTLS_E_SYNTAX, "case %d '%s': rc %d", _i, c->in, rc);
		ck_assert_str_eq(err, "date-range.start-datetime: not an RFC 3339 date-time");
		ck_assert_ptr_null(r.organization_name);
		return;
	}
	ck_assert_msg(rc == MXTLS_OK, "case %d '%s': rc %d (%s)", _i, c->in, rc, err);
	ck_assert_msg(r.start == c->t, "case %d '%s': %lld, expected %lld", _i, c->in,
		      (long long)r.start, (long long)c->t);
	ck_assert_uint_eq(r.quirks, c->quirks);
	tlsrpt_read_clear(&r);
}
END_TEST

/* The end of the range: next day's 00:00:00Z is a quirk only exactly then. */
static const struct end_case {
	const char *start, *end;
	int rc;
	unsigned quirks;
} end_cases[] = {
	{"2026-11-30T00:00:01Z", "2026-11-30T00:00:00Z", MXTLS_E_SYNTAX, 0},
	{"2026-11-30T00:00:00Z", "2026-11-30T23:59:59Z", MXTLS_OK, 0},
	{"2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z", MXTLS_OK, TLSRPT_QUIRK_END_NEXT_DAY},
	{"2026-11-30T12:00:00Z", "2026-12-01T00:00:00Z", MXTLS_OK, TLSRPT_QUIRK_END_NEXT_DAY},
	{"2026-11-30T00:00:00Z", "2026-12-01T00:00:00+01:00", MXTLS_OK, 0},
	{"2026-11-30T00:00:00Z", "2026-12-02T00:00:00Z", MXTLS_OK, 0},
	{"2026-11-30T00:00:00Z", "2026-11-30T00:00:00Z", MXTLS_OK, 0},
	{"1969-12-31T00:00:00Z", "1970-01-01T00:00:00Z", MXTLS_OK, TLSRPT_QUIRK_END_NEXT_DAY},
	{"2026-11-30T00:00:00", "2026-12-01T00:00:00", MXTLS_OK,
	 TLSRPT_QUIRK_END_NEXT_DAY | TLSRPT_QUIRK_DATE_NO_ZONE},
};

START_TEST(range_end)
{
	const struct end_case *c = &end_cases[_i];
	char *json = report_with_range(c->start, c->end);
	struct tlsrpt_read_report r;
	char err[256];
	int rc = tlsrpt_read_parse(json, strlen(json), &r, err, sizeof err);
	free(json);
	ck_assert_msg(rc == c->rc, "case %d: rc %d (%s)", _i, rc, err);
	if (rc == MXTLS_OK)
		ck_assert_uint_eq(r.quirks, c->quirks);
	else
		ck_assert_str_eq(err, "date-range: end-datetime before start-datetime");
	tlsrpt_read_clear(&r);
}
END_TEST

/* ---- reports in C strings: hostile first, the exact reason ---- */

#define HEAD                                                                                       \
	"{\"organization-name\":\"o\",\"date-range\":{\"start-datetime\":\"2026-11-30T00:00:"      \
	"00Z\","                                                                                   \
	"\"end-datetime\":\"2026-11-30T23:59:59Z\"},\"report-id\":\"r\","
#define POL(x) "\"policies\":[" x "]}"
#define SUM(s, f)                                                                                  \
	"\"summary\":{\"total-successful-session-count\":" s ",\"total-failure-session-count\":" f \
	"}"
#define STS   "\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":\"d.example\"}"
#define GOODP "{" STS "," SUM("1", "0") "}"

static const struct str_case {
	const char *in;
	size_t len; /* 0: strlen */
	int rc;
	const char *reason; /* exact reason, or NULL when rc == MXTLS_OK */
} str_cases[] = {
	{"{}", 0, MXTLS_E_SYNTAX, "organization-name: missing"},
	{"[]", 0, MXTLS_E_SYNTAX, "the report is not a JSON object"},
	{"\"x\"", 0, MXTLS_E_SYNTAX, NULL},
	{"{\"a\":1}\0", 8, MXTLS_E_SYNTAX, NULL},
	/* jansson quotes the bad token, here "\<LF>": the reason must stay one line (fuzz) */
	{"{\"a\":\"0\\\n]\"}", 0, MXTLS_E_SYNTAX, NULL},
	{"{\"organization-name\":\"\"}", 0, MXTLS_E_SYNTAX, "organization-name: empty"},
	{"{\"organization-name\":null}", 0, MXTLS_E_SYNTAX, "organization-name: not a string"},
	{"{\"organization-name\":\"o\",\"date-range\":[]}", 0, MXTLS_E_SYNTAX,
	 "date-range: not an object"},
	{"{\"organization-name\":\"o\",\"date-range\":{\"start-datetime\":1}}", 0, MXTLS_E_SYNTAX,
	 "date-range.start-datetime: not a string"},
	{"{\"organization-name\":\"o\",\"date-range\":{\"start-datetime\":\"2026-11-30T00:00:00Z\"}"
	 "}",
	 0, MXTLS_E_SYNTAX, "date-range.end-datetime: missing"},
	{HEAD "\"contact-info\":5," POL(GOODP), 0, MXTLS_E_SYNTAX, "contact-info: not a string"},
	{HEAD POL(""), 0, MXTLS_E_SYNTAX, "policies: empty"},
	{HEAD "\"policies\":{}}", 0, MXTLS_E_SYNTAX, "policies: not an array"},
	{HEAD POL("1"), 0, MXTLS_E_SYNTAX, "policies[0]: not an object"},
	{HEAD POL(GOODP ",{" SUM("1", "0") "}"), 0, MXTLS_E_SYNTAX, "policies[1].policy: missing"},
	{HEAD POL("{\"policy\":{\"policy-domain\":\"d\"}}"), 0, MXTLS_E_SYNTAX,
	 "policies[0].policy.policy-type: missing"},
	{HEAD POL("{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":\".\"}}"), 0,
	 MXTLS_E_SYNTAX, "policies[0].policy.policy-domain: empty"},
	{HEAD POL("{" STS "}"), 0, MXTLS_E_SYNTAX, "policies[0].summary: missing"},
	{HEAD POL(GOODP "," GOODP ",{" STS "," SUM("1", "1.5") "}"), 0, MXTLS_E_SYNTAX,
	 "policies[2].summary.total-failure-session-count: not an integer"},
	{HEAD POL("{" STS "," SUM("-1", "0") "}"), 0, MXTLS_E_SYNTAX,
	 "policies[0].summary.total-successful-session-count: not an integer from 0 to 2^53-1"},
	{HEAD POL("{" STS "," SUM("9007199254740992", "0") "}"), 0, MXTLS_E_SYNTAX,
	 "policies[0].summary.total-successful-session-count: not an integer from 0 to 2^53-1"},
	{HEAD POL("{" STS "," SUM("true", "0") "}"), 0, MXTLS_E_SYNTAX,
	 "policies[0].summary.total-successful-session-count: not an integer"},
	{HEAD POL("{" STS "," SUM("1", "0") ",\"failure-details\":{}}"), 0, MXTLS_E_SYNTAX,
	 "policies[0].failure-details: not an array"},
	{HEAD POL("{" STS "," SUM("1", "0") ",\"failure-details\":[{\"failed-session-count\":1}]}"),
	 0, MXTLS_E_SYNTAX, "policies[0].failure-details[0].result-type: missing"},
	{HEAD POL("{" STS "," SUM("1", "0") ",\"failure-details\":[{\"result-type\":\"x\"}]}"), 0,
	 MXTLS_E_SYNTAX, "policies[0].failure-details[0].failed-session-count: missing"},
	{HEAD POL("{" STS "," SUM("1", "0") ",\"failure-details\":[{\"result-type\":\"x\","
					    "\"failed-session-count\":1,\"receiving-ip\":[]}]}"),
	 0, MXTLS_E_SYNTAX, "policies[0].failure-details[0].receiving-ip: not a string"},
	{HEAD POL("{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":\"d\","
		  "\"policy-string\":\"version: STSv1\"}," SUM("1", "0") "}"),
	 0, MXTLS_E_SYNTAX, "policies[0].policy.policy-string: not an array"},
	{HEAD POL("{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":\"d\","
		  "\"policy-string\":[\"a\",2]}," SUM("1", "0") "}"),
	 0, MXTLS_E_SYNTAX, "policies[0].policy.policy-string[1]: not a string"},
	{HEAD POL("{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":\"d\","
		  "\"mx-host\":{}}," SUM("1", "0") "}"),
	 0, MXTLS_E_SYNTAX, "policies[0].policy.mx-host: not a string or an array"},
	{HEAD POL(GOODP) "x", 0, MXTLS_E_SYNTAX, NULL},
	{HEAD "\"report-id\":\"again\"," POL(GOODP), 0, MXTLS_E_SYNTAX, NULL},
	{HEAD "\"x\":\"\\u0000\"," POL(GOODP), 0, MXTLS_E_SYNTAX, NULL},
	{HEAD "\"x\":\"\xed\xa0\x80\"," POL(GOODP), 0, MXTLS_E_SYNTAX, NULL}, /* a surrogate */
	{HEAD "\"x\":\"\xc0\xaf\"," POL(GOODP), 0, MXTLS_E_SYNTAX, NULL},     /* overlong */
	/* valid, and where the reader is generous */
	{HEAD POL(GOODP), 0, MXTLS_OK, NULL},
	{HEAD "\"contact-info\":null,\"x\":{\"y\":[1,{\"z\":null}]}," POL(GOODP), 0, MXTLS_OK,
	 NULL},
	{HEAD POL("{" STS "," SUM("1", "0") ",\"failure-details\":[]}"), 0, MXTLS_OK, NULL},
};

START_TEST(string_case)
{
	const struct str_case *c = &str_cases[_i];
	size_t len = c->len ? c->len : strlen(c->in);
	struct tlsrpt_read_report r;
	memset(&r, 0xa5, sizeof r);
	char err[256];
	int rc = tlsrpt_read_parse(c->in, len, &r, err, sizeof err);
	ck_assert_msg(rc == c->rc, "case %d: rc %d, expected %d (%s)", _i, rc, c->rc, err);
	if (rc != MXTLS_OK) {
		ck_assert_msg(err[0] != '\0' && strchr(err, '\n') == NULL, "case %d: reason", _i);
		if (c->reason != NULL)
			ck_assert_str_eq(err, c->reason);
		/* all-or-nothing: nothing left behind */
		ck_assert_ptr_null(r.policies);
		ck_assert_ptr_null(r.organization_name);
		ck_assert_uint_eq(r.npolicies, 0);
	}
	tlsrpt_read_clear(&r);
}
END_TEST

/* The quirks one at a time, with what each yields. */
START_TEST(quirk_values)
{
	static const char json[] =
		"{\"organization-name\":\"O\",\"date-range\":{\"start-datetime\":"
		"\"2026-11-30T00:00:00\",\"end-datetime\":\"2026-11-30T23:59:59Z\"},"
		"\"contact-info\":null,\"report-id\":\"r\",\"policies\":[{\"policy\":{"
		"\"policy-type\":\"STS\",\"policy-domain\":\"Example.NET.\","
		"\"policy-string\":[\" [\\\"version: STSv1\\\",\\\"mode: testing\\\"]\"],"
		"\"mx-host\":\"MX.example.net.\"}," SUM(
			"3",
			"4") ",\"failure-details\":[{"
			     "\"result-type\":\"STARTTLS-not-supported\",\"receiving-mx-hostname\":"
			     "\"MX.Example.net.\",\"failed-session-count\":4}]},{\"policy\":{"
			     "\"policy-type\":"
			     "\"tlsa\",\"policy-domain\":\"e.example\",\"policy-string\":[\"[1,2]"
			     "\"],"
			     "\"mx-host\":[\"A.example\",\"b.example\"]}," SUM("0", "2") "}]}";
	struct tlsrpt_read_report r;
	char err[256];
	ck_assert_int_eq(tlsrpt_read_parse(json, sizeof json - 1, &r, err, sizeof err), MXTLS_OK);
	ck_assert_uint_eq(r.quirks,
			  TLSRPT_QUIRK_DATE_NO_ZONE | TLSRPT_QUIRK_CONTACT_NULL |
				  TLSRPT_QUIRK_POLICY_STRING_JSON | TLSRPT_QUIRK_MX_HOST_STRING |
				  TLSRPT_QUIRK_NO_SENDING_IP | TLSRPT_QUIRK_NO_FAILURE_DETAILS);
	ck_assert_ptr_null(r.contact_info);
	const struct tlsrpt_read_policy *p = &r.policies[0];
	ck_assert_str_eq(p->policy_type, "sts");
	ck_assert_str_eq(p->policy_domain, "example.net");
	ck_assert_uint_eq(p->npolicy_string, 2);
	ck_assert_str_eq(p->policy_string[0], "version: STSv1");
	ck_assert_str_eq(p->policy_string[1], "mode: testing");
	ck_assert_uint_eq(p->nmx_host, 1);
	ck_assert_str_eq(p->mx_host[0], "mx.example.net");
	ck_assert_uint_eq(p->nfailures, 1);
	ck_assert_str_eq(p->failures[0].result_type, "starttls-not-supported");
	ck_assert_str_eq(p->failures[0].receiving_mx_hostname, "mx.example.net");
	ck_assert_ptr_null(p->failures[0].sending_mta_ip);
	ck_assert_uint_eq(p->failures[0].failed_session_count, 4);
	/* "[1,2]" is not an array of strings: kept as sent */
	p = &r.policies[1];
	ck_assert_uint_eq(p->npolicy_string, 1);
	ck_assert_str_eq(p->policy_string[0], "[1,2]");
	ck_assert_uint_eq(p->nmx_host, 2);
	ck_assert_str_eq(p->mx_host[0], "a.example");
	ck_assert_ptr_null(p->failures);
	tlsrpt_read_clear(&r);
	tlsrpt_read_clear(&r); /* cleared twice: a no-op */
	tlsrpt_read_clear(NULL);
}
END_TEST

/* ---- caps ---- */

/* A report with n policies, each with nfd failure details and ns policy-string elements. */
static char *report_sized(size_t n, size_t nfd, size_t ns, size_t *len)
{
	size_t cap = 512 + n * (300 + nfd * 100 + ns * 8);
	char *s = malloc(cap);
	ck_assert_ptr_nonnull(s);
	size_t o = (size_t)snprintf(s, cap, HEAD "\"policies\":[");
	for (size_t i = 0; i < n; i++) {
		o += (size_t)snprintf(s + o, cap - o,
				      "%s{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":"
				      "\"d\",\"policy-string\":[",
				      i ? "," : "");
		for (size_t j = 0; j < ns; j++)
			o += (size_t)snprintf(s + o, cap - o, "%s\"s\"", j ? "," : "");
		o += (size_t)snprintf(s + o, cap - o, "]}," SUM("1", "1") ",\"failure-details\":[");
		for (size_t j = 0; j < nfd; j++)
			o += (size_t)snprintf(s + o, cap - o,
					      "%s{\"result-type\":\"x\",\"sending-mta-ip\":\"i\","
					      "\"failed-session-count\":1}",
					      j ? "," : "");
		o += (size_t)snprintf(s + o, cap - o, "]}");
	}
	o += (size_t)snprintf(s + o, cap - o, "]}");
	ck_assert_uint_lt(o, cap);
	*len = o;
	return s;
}

static const struct cap_case {
	size_t policies, failures, strings;
	int rc;
} cap_cases[] = {
	{TLSRPT_READ_POLICIES_MAX + 1, 0, 0, MXTLS_E_LIMIT},
	{2, TLSRPT_READ_FAILURES_MAX / 2 + 1, 0, MXTLS_E_LIMIT},
	{1, TLSRPT_READ_FAILURES_MAX + 1, 0, MXTLS_E_LIMIT},
	{2, 0, TLSRPT_READ_STRINGS_MAX / 2 + 1, MXTLS_E_LIMIT},
	{1, 0, TLSRPT_READ_STRINGS_MAX + 1, MXTLS_E_LIMIT},
	{TLSRPT_READ_POLICIES_MAX, 0, 1, MXTLS_OK},
	{2, TLSRPT_READ_FAILURES_MAX / 2, 0, MXTLS_OK},
	{2, 0, TLSRPT_READ_STRINGS_MAX / 2, MXTLS_OK},
};

START_TEST(caps)
{
	const struct cap_case *c = &cap_cases[_i];
	size_t len;
	char *json = report_sized(c->policies, c->failures, c->strings, &len);
	struct tlsrpt_read_report r;
	char err[256];
	int rc = tlsrpt_read_parse(json, len, &r, err, sizeof err);
	free(json);
	ck_assert_msg(rc == c->rc, "case %d: rc %d (%s)", _i, rc, err);
	if (rc == MXTLS_OK) {
		ck_assert_uint_eq(r.npolicies, c->policies);
		ck_assert_uint_eq(r.policies[c->policies - 1].nfailures, c->failures);
		ck_assert_uint_eq(r.policies[c->policies - 1].npolicy_string, c->strings);
	} else {
		ck_assert_ptr_null(r.policies);
	}
	tlsrpt_read_clear(&r);
}
END_TEST

START_TEST(json_over_cap)
{
	/* Refused by length, before jansson sees it: the bytes are never read. */
	struct tlsrpt_read_report r;
	char err[256];
	static const char small[] = "{}";
	ck_assert_int_eq(tlsrpt_read_parse(small, TLSRPT_READ_JSON_MAX + 1, &r, err, sizeof err),
			 MXTLS_E_LIMIT);
	ck_assert_int_eq(tlsrpt_read_parse(small, 0, &r, err, sizeof err), MXTLS_E_SYNTAX);
	ck_assert_int_eq(tlsrpt_read_parse(small, 2, NULL, err, sizeof err), MXTLS_E_INVAL);
	ck_assert_int_eq(tlsrpt_read_parse(small, 2, &r, NULL, 0), MXTLS_E_SYNTAX);
}
END_TEST

/* ---- gzip ---- */

static unsigned char *gzip_of(const void *in, size_t len, size_t *outlen)
{
	uint8_t *out = NULL;
	ck_assert_int_eq(tlsrpt_report_gzip(in, len, &out, outlen), MXTLS_OK);
	return out;
}

static const struct gz_case {
	size_t plain; /* bytes of 'a' compressed */
	size_t cap;
	int rc;
} gz_cases[] = {
	{1000, 999, MXTLS_E_LIMIT},
	{1000, 0, MXTLS_E_LIMIT},
	{300000, 299999, MXTLS_E_LIMIT}, /* past the first buffer */
	{1000, 1000, MXTLS_OK},
	{0, 0, MXTLS_OK},
	{300000, 300000, MXTLS_OK},
	{65535, 65535, MXTLS_OK}, /* output exactly fills the first buffer */
	{65536, 10000000, MXTLS_OK},
};

START_TEST(gunzip_cap)
{
	const struct gz_case *c = &gz_cases[_i];
	char *plain = malloc(c->plain + 1);
	ck_assert_ptr_nonnull(plain);
	memset(plain, 'a', c->plain);
	size_t gzlen;
	unsigned char *gz = gzip_of(plain, c->plain, &gzlen);
	char *out = (char *)0x1;
	size_t outlen = 7;
	int rc = tlsrpt_read_gunzip(gz, gzlen, c->cap, &out, &outlen);
	ck_assert_msg(rc == c->rc, "case %d: rc %d", _i, rc);
	if (rc == MXTLS_OK) {
		ck_assert_uint_eq(outlen, c->plain);
		ck_assert_int_eq(memcmp(out, plain, c->plain), 0);
		ck_assert_int_eq(out[outlen], '\0');
		free(out);
	} else {
		ck_assert_ptr_eq(out, (char *)0x1); /* untouched */
		ck_assert_uint_eq(outlen, 7);
	}
	/* every proper prefix is truncated, whatever the cap */
	for (size_t cut = 0; rc == MXTLS_OK && cut < gzlen; cut += 1 + cut / 3)
		ck_assert_int_eq(tlsrpt_read_gunzip(gz, cut, c->plain, &out, &outlen),
				 MXTLS_E_SYNTAX);
	free(gz);
	free(plain);
}
END_TEST

/* ---- vectors/tlsrpt-in/cases.txt ---- */

struct vector {
	char name[128];
	int rc;
	char org[128], id[128];
	long long start, end;
	unsigned long long npol, succ, fail, nfd;
	unsigned quirks;
};

static struct vector vectors[128];
static size_t nvectors;

static void load_cases(void)
{
	FILE *f = fopen(VECTORS_DIR "/tlsrpt-in/cases.txt", "r");
	if (f == NULL) {
		perror(VECTORS_DIR "/tlsrpt-in/cases.txt");
		exit(EXIT_FAILURE);
	}
	char line[1024];
	while (fgets(line, sizeof line, f) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (nvectors == ARRAY_LEN(vectors)) {
			fprintf(stderr, "cases.txt: too many cases\n");
			exit(EXIT_FAILURE);
		}
		struct vector *v = &vectors[nvectors++];
		char *fields[11];
		size_t n = 0;
		for (char *save = NULL, *t = strtok_r(line, "\t", &save); t != NULL && n < 11;
		     t = strtok_r(NULL, "\t", &save))
			fields[n++] = t;
		int ok = n == 11 && strcmp(fields[1], "ok") == 0;
		if (!(ok || (n == 2 && (strcmp(fields[1], "syntax") == 0 ||
					strcmp(fields[1], "limit") == 0)))) {
			fprintf(stderr, "cases.txt: bad line for '%s'\n", fields[0]);
			exit(EXIT_FAILURE);
		}
		snprintf(v->name, sizeof v->name, "%s", fields[0]);
		v->rc = ok                                 ? MXTLS_OK
			: strcmp(fields[1], "syntax") == 0 ? MXTLS_E_SYNTAX
							   : MXTLS_E_LIMIT;
		if (!ok)
			continue;
		snprintf(v->org, sizeof v->org, "%s", fields[2]);
		snprintf(v->id, sizeof v->id, "%s", fields[3]);
		v->start = strtoll(fields[4], NULL, 10);
		v->end = strtoll(fields[5], NULL, 10);
		v->npol = strtoull(fields[6], NULL, 10);
		v->succ = strtoull(fields[7], NULL, 10);
		v->fail = strtoull(fields[8], NULL, 10);
		v->nfd = strtoull(fields[9], NULL, 10);
		v->quirks = (unsigned)strtoul(fields[10], NULL, 16);
	}
	fclose(f);
}

static char *read_vector(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof path, VECTORS_DIR "/tlsrpt-in/%s", name);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s: cannot open", path);
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	size_t got;
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
	}
	fclose(f);
	*len = n;
	return buf;
}

START_TEST(vector_case)
{
	const struct vector *v = &vectors[_i];
	size_t len;
	char *data = read_vector(v->name, &len);
	char *json = data;
	size_t jlen = len;
	int rc = MXTLS_OK;
	size_t nl = strlen(v->name);
	if (nl > 3 && strcmp(v->name + nl - 3, ".gz") == 0) {
		rc = tlsrpt_read_gunzip((const unsigned char *)data, len, TLSRPT_READ_JSON_MAX,
					&json, &jlen);
		free(data);
		data = NULL;
	}
	char err[256] = "";
	struct tlsrpt_read_report r;
	memset(&r, 0, sizeof r);
	if (rc == MXTLS_OK) {
		rc = tlsrpt_read_parse(json, jlen, &r, err, sizeof err);
		free(json);
	}
	free(data == json ? NULL : data);
	ck_assert_msg(rc == v->rc, "%s: rc %d, expected %d (%s)", v->name, rc, v->rc, err);
	if (rc != MXTLS_OK)
		return;
	ck_assert_str_eq(r.organization_name, v->org);
	ck_assert_str_eq(r.report_id, v->id);
	ck_assert_int_eq(r.start, v->start);
	ck_assert_int_eq(r.end, v->end);
	ck_assert_uint_eq(r.npolicies, v->npol);
	unsigned long long succ = 0, fail = 0, nfd = 0;
	for (size_t i = 0; i < r.npolicies; i++) {
		succ += r.policies[i].total_successful;
		fail += r.policies[i].total_failure;
		nfd += r.policies[i].nfailures;
		ck_assert_ptr_nonnull(r.policies[i].policy_domain);
	}
	ck_assert_uint_eq(succ, v->succ);
	ck_assert_uint_eq(fail, v->fail);
	ck_assert_uint_eq(nfd, v->nfd);
	ck_assert_msg(r.quirks == v->quirks, "%s: quirks 0x%02x, expected 0x%02x", v->name,
		      r.quirks, v->quirks);
	tlsrpt_read_clear(&r);
}
END_TEST

/* ---- round trip through the sender's own builder ---- */

START_TEST(round_trip)
{
	const char *sts[] = {"version: STSv1", "mode: testing", "mx: *.mx.example.net",
			     "max_age: 86400"};
	const char *mx[] = {"*.mx.example.net"};
	const char *tlsa[] = {"3 1 1 0123456789abcdef"};
	const struct tlsrpt_failure fd[] = {
		{"certificate-expired", "192.0.2.1", "mx1.mx.example.net", "mx1.mx.example.net",
		 "198.51.100.1", NULL, NULL, 5},
		{"validation-failure", NULL, "mx2.mx.example.net", NULL, NULL, NULL,
		 "X509_V_ERR_CERT_HAS_EXPIRED", TLSRPT_COUNT_MAX},
	};
	const struct tlsrpt_policy pol[] = {
		{TLSRPT_POLICY_STS, "example.net", sts, 4, mx, 1, 1000, 7, fd, 2},
		{TLSRPT_POLICY_TLSA, "example.org", tlsa, 1, NULL, 0, 12, 0, NULL, 0},
		{TLSRPT_POLICY_NONE, "example.com", NULL, 0, NULL, 0, 3, 0, NULL, 0},
	};
	struct tlsrpt_report_in in = {
		.organization = "mail.example.com",
		.contact = "tlsrpt@mail.example.com",
		.submitter = "mail.example.com",
		.day = 20792, /* 2026-12-05 */
		.policies = pol,
		.npolicies = 3,
	};
	char *json;
	size_t len;
	ck_assert_int_eq(tlsrpt_report_json(&in, &json, &len), MXTLS_OK);
	uint8_t *gz;
	size_t gzlen;
	ck_assert_int_eq(tlsrpt_report_gzip(json, len, &gz, &gzlen), MXTLS_OK);
	char *back;
	size_t backlen;
	ck_assert_int_eq(tlsrpt_read_gunzip(gz, gzlen, TLSRPT_READ_JSON_MAX, &back, &backlen),
			 MXTLS_OK);
	ck_assert_uint_eq(backlen, len);
	ck_assert_int_eq(memcmp(back, json, len), 0);
	free(gz);
	free(back);

	struct tlsrpt_read_report r;
	char err[256];
	ck_assert_int_eq(tlsrpt_read_parse(json, len, &r, err, sizeof err), MXTLS_OK);
	char id[256];
	ck_assert_int_eq(tlsrpt_report_id_of(json, len, id, sizeof id), MXTLS_OK);
	free(json);
	ck_assert_str_eq(r.organization_name, "mail.example.com");
	ck_assert_str_eq(r.contact_info, "tlsrpt@mail.example.com");
	ck_assert_str_eq(r.report_id, id);
	ck_assert_int_eq(r.start, 20792LL * 86400);
	ck_assert_int_eq(r.end, 20793LL * 86400);
	/* the sender ends the day at the next 00:00:00Z (decision D9): noted, nothing else */
	ck_assert_uint_eq(r.quirks, TLSRPT_QUIRK_END_NEXT_DAY | TLSRPT_QUIRK_NO_SENDING_IP);
	ck_assert_uint_eq(r.npolicies, 3);
	const struct tlsrpt_read_policy *p = &r.policies[0];
	ck_assert_str_eq(p->policy_type, "sts");
	ck_assert_str_eq(p->policy_domain, "example.net");
	ck_assert_uint_eq(p->npolicy_string, 4);
	for (size_t i = 0; i < 4; i++)
		ck_assert_str_eq(p->policy_string[i], sts[i]);
	ck_assert_uint_eq(p->nmx_host, 1);
	ck_assert_str_eq(p->mx_host[0], "*.mx.example.net");
	ck_assert_uint_eq(p->total_successful, 1000);
	ck_assert_uint_eq(p->total_failure, 7);
	ck_assert_uint_eq(p->nfailures, 2);
	ck_assert_str_eq(p->failures[0].result_type, "certificate-expired");
	ck_assert_str_eq(p->failures[0].sending_mta_ip, "192.0.2.1");
	ck_assert_str_eq(p->failures[0].receiving_mx_hostname, "mx1.mx.example.net");
	ck_assert_str_eq(p->failures[0].receiving_mx_helo, "mx1.mx.example.net");
	ck_assert_str_eq(p->failures[0].receiving_ip, "198.51.100.1");
	ck_assert_ptr_null(p->failures[0].additional_information);
	ck_assert_uint_eq(p->failures[0].failed_session_count, 5);
	ck_assert_ptr_null(p->failures[1].sending_mta_ip);
	ck_assert_str_eq(p->failures[1].failure_reason_code, "X509_V_ERR_CERT_HAS_EXPIRED");
	ck_assert_uint_eq(p->failures[1].failed_session_count, TLSRPT_COUNT_MAX);
	p = &r.policies[1];
	ck_assert_str_eq(p->policy_type, "tlsa");
	ck_assert_str_eq(p->policy_string[0], "3 1 1 0123456789abcdef");
	ck_assert_uint_eq(p->nmx_host, 0);
	ck_assert_uint_eq(p->total_successful, 12);
	ck_assert_uint_eq(p->nfailures, 0);
	p = &r.policies[2];
	ck_assert_str_eq(p->policy_type, "no-policy-found");
	ck_assert_str_eq(p->policy_domain, "example.com");
	ck_assert_uint_eq(p->npolicy_string, 0);
	ck_assert_uint_eq(p->total_successful, 3);
	tlsrpt_read_clear(&r);
}
END_TEST

static Suite *make_suite(void)
{
	load_cases();
	Suite *s = suite_create("tlsrpt_read");
	TCase *tc = tcase_create("hostile");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, string_case, 0, ARRAY_LEN(str_cases));
	tcase_add_loop_test(tc, datetime, 0, ARRAY_LEN(dt_cases));
	tcase_add_loop_test(tc, range_end, 0, ARRAY_LEN(end_cases));
	tcase_add_loop_test(tc, caps, 0, ARRAY_LEN(cap_cases));
	tcase_add_test(tc, json_over_cap);
	tcase_add_loop_test(tc, gunzip_cap, 0, ARRAY_LEN(gz_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("vectors");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, vector_case, 0, (int)nvectors);
	tcase_add_test(tc, quirk_values);
	tcase_add_test(tc, round_trip);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(make_suite)
