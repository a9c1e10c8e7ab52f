/* SPDX-License-Identifier: MIT */
/* What a delivery hands to TLS-RPT (RFC 8460 §4): the policy type, domain, strings and mx-host
 * of each session's result from the decision that governed it (delivery_tlsrpt_result.c); a
 * TLS report is recognised at submission (§3, §5.3); the queue index learns that column
 * (schema version 3) without losing what an older index holds. */
#include <arpa/inet.h>
#include <sqlite3.h>
#include <string.h>

#include <mxtls/error.h>

#include "delivery/delivery_header.h"
#include "delivery/delivery_index.h"
#include "delivery/delivery_tlsrpt_result.h"
#include "test_main.h"

/* What the recorder received, copied (the result is borrowed for the call). */
struct seen {
	int calls;
	enum tlsrpt_policy_type type;
	char domain[256];
	char strings[8][128];
	size_t nstrings;
	char mx[8][128];
	size_t nmx;
	bool failed;
	char result_type[64], mx_host[128], ip[64], local[64], helo[128], code[128];
};

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src != NULL ? src : "");
}

static void sink(void *arg, const struct tlsrpt_result *r)
{
	struct seen *s = arg;
	s->calls++;
	s->type = r->type;
	copy(s->domain, sizeof s->domain, r->domain);
	s->nstrings = r->nstrings;
	for (size_t i = 0; i < r->nstrings && i < 8; i++)
		copy(s->strings[i], sizeof s->strings[i], r->strings[i]);
	s->nmx = r->nmx;
	for (size_t i = 0; i < r->nmx && i < 8; i++)
		copy(s->mx[i], sizeof s->mx[i], r->mx[i]);
	s->failed = r->failure != NULL;
	if (r->failure != NULL) {
		copy(s->result_type, sizeof s->result_type, r->failure->result_type);
		copy(s->mx_host, sizeof s->mx_host, r->failure->receiving_mx_hostname);
		copy(s->ip, sizeof s->ip, r->failure->receiving_ip);
		copy(s->local, sizeof s->local, r->failure->sending_mta_ip);
		copy(s->helo, sizeof s->helo, r->failure->receiving_mx_helo);
		copy(s->code, sizeof s->code, r->failure->failure_reason_code);
	}
}

/* A decision for example.net with one host of the given security, an STS policy (CRLF line
 * ends, as a policy host may send them) and two TLSA records on the host. */
static char policy_text[] = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.net\r\n"
			    "mx: *.backup.example.net\r\nmax_age: 86400\r\n";
static char *policy_mx[] = {"mx1.example.net", "*.backup.example.net"};
static char tlsa1[] = "3 1 1 0a0b", tlsa2[] = "2 0 1 ff00";

struct fixture {
	struct decision d;
	struct sts_resolve_result sts;
	struct host_dane_result dane;
	struct dane_tlsa tlsa[2];
};

static void make(struct fixture *fx, enum decision_security sec, bool with_policy)
{
	memset(fx, 0, sizeof *fx);
	snprintf(fx->d.domain, sizeof fx->d.domain, "example.net");
	fx->d.nhosts = 1;
	struct decision_host *h = &fx->d.hosts[0];
	snprintf(h->name, sizeof h->name, "mx1.example.net");
	h->security = sec;
	h->dane = &fx->dane;
	snprintf(fx->dane.host, sizeof fx->dane.host, "mx1.example.net");
	snprintf(fx->dane.tbd, sizeof fx->dane.tbd, "mx1.dane.example.org");
	fx->tlsa[0].text = tlsa1;
	fx->tlsa[1].text = tlsa2;
	fx->dane.tlsa = fx->tlsa;
	fx->dane.ntlsa = 2;
	fx->dane.naddrs = 1;
	fx->dane.addrs[0].family = AF_INET;
	inet_pton(AF_INET, "192.0.2.25", fx->dane.addrs[0].addr);
	if (with_policy) {
		fx->sts.source = STS_SOURCE_CACHE;
		fx->sts.policy.text = policy_text;
		fx->sts.policy.len = strlen(policy_text);
		fx->sts.policy.mx = policy_mx;
		fx->sts.policy.nmx = 2;
		fx->d.sts = &fx->sts;
	}
}

/* RFC 8460 §4.4 and decision D1 / D8 as the issue reads §1.1: which policy a session of each
 * host security reports under. */
static const struct {
	const char *name;
	enum decision_security sec;
	bool with_policy;
	enum mxtls_result result;
	enum tlsrpt_policy_type type;
	const char *domain;
	size_t nstrings;
	const char *first_string;
	size_t nmx;
	const char *first_mx;
} rows[] = {
	/* A DANE host: under its TLSA base domain (RFC 8460 §1.1, RFC 7672 §2.2.3), even when
	 * the recipient domain also has an STS policy (D1: DANE alone governs the host). */
	{"dane, sts too", SEC_DANE, true, MXTLS_RESULT_TLSA_INVALID, TLSRPT_POLICY_TLSA,
	 "mx1.dane.example.org", 2, "3 1 1 0a0b", 1, "mx1.example.net"},
	{"dane-encrypt", SEC_DANE_ENCRYPT, false, MXTLS_RESULT_OK, TLSRPT_POLICY_TLSA,
	 "mx1.dane.example.org", 2, "2 0 1 ff00", 1, "mx1.example.net"},
	/* MTA-STS: the recipient domain, one string per policy line, no CR left (§4.5). */
	{"sts enforce", SEC_MTA_STS, true, MXTLS_RESULT_CERTIFICATE_EXPIRED, TLSRPT_POLICY_STS,
	 "example.net", 5, "version: STSv1", 2, "mx1.example.net"},
	{"sts testing", SEC_MTA_STS_TESTING, true, MXTLS_RESULT_OK, TLSRPT_POLICY_STS,
	 "example.net", 5, "version: STSv1", 2, "mx1.example.net"},
	{"sts excluded (D10)", SEC_EXCLUDED, true, MXTLS_RESULT_VALIDATION_FAILURE,
	 TLSRPT_POLICY_STS, "example.net", 5, "version: STSv1", 2, "mx1.example.net"},
	/* Nothing applies. */
	{"opportunistic", SEC_OPPORTUNISTIC, false, MXTLS_RESULT_STARTTLS_NOT_SUPPORTED,
	 TLSRPT_POLICY_NONE, "example.net", 0, NULL, 0, NULL},
};

START_TEST(emit_policy_of_host)
{
	struct fixture fx;
	make(&fx, rows[_i].sec, rows[_i].with_policy);
	struct seen s = {0};
	struct deliver_tlsrpt_facts f = {
		.d = &fx.d,
		.sts = fx.d.sts,
		.h = &fx.d.hosts[0],
		.addr = &fx.dane.addrs[0],
		.result = rows[_i].result,
		.reason_code = "why",
		.local_ip = "192.0.2.1",
		.helo = "mx1.example.net",
	};
	ck_assert(deliver_tlsrpt_emit(&f, sink, &s));
	ck_assert_msg(s.calls == 1, "%s", rows[_i].name);
	ck_assert_int_eq(s.type, rows[_i].type);
	ck_assert_str_eq(s.domain, rows[_i].domain);
	ck_assert_uint_eq(s.nstrings, rows[_i].nstrings);
	if (rows[_i].first_string != NULL)
		ck_assert_str_eq(s.strings[rows[_i].type == TLSRPT_POLICY_TLSA &&
							   rows[_i].sec == SEC_DANE_ENCRYPT
						   ? 1
						   : 0],
				 rows[_i].first_string);
	ck_assert_uint_eq(s.nmx, rows[_i].nmx);
	if (rows[_i].first_mx != NULL)
		ck_assert_str_eq(s.mx[0], rows[_i].first_mx);
	ck_assert(s.failed == (rows[_i].result != MXTLS_RESULT_OK));
	if (s.failed) {
		ck_assert_str_eq(s.result_type, mxtls_result_name(rows[_i].result));
		ck_assert_str_eq(s.mx_host, "mx1.example.net");
		ck_assert_str_eq(s.ip, "192.0.2.25");
		ck_assert_str_eq(s.local, "192.0.2.1");
		ck_assert_str_eq(s.helo, "mx1.example.net");
		ck_assert_str_eq(s.code, "why");
	}
}
END_TEST

/* The last line of a policy need not end in a line break; every string keeps no CR. */
START_TEST(emit_sts_lines_exact)
{
	struct fixture fx;
	make(&fx, SEC_MTA_STS, true);
	static char body[] = "version: STSv1\nmode: testing\r\nmx: a.example.net\nmax_age: 60";
	fx.sts.policy.text = body;
	fx.sts.policy.len = strlen(body);
	struct seen s = {0};
	struct deliver_tlsrpt_facts f = {.d = &fx.d, .sts = fx.d.sts, .h = &fx.d.hosts[0]};
	ck_assert(deliver_tlsrpt_emit(&f, sink, &s));
	ck_assert_uint_eq(s.nstrings, 4);
	ck_assert_str_eq(s.strings[0], "version: STSv1");
	ck_assert_str_eq(s.strings[1], "mode: testing");
	ck_assert_str_eq(s.strings[2], "mx: a.example.net");
	ck_assert_str_eq(s.strings[3], "max_age: 60");
	ck_assert(!s.failed);
}
END_TEST

/* A failure before any session: the policy could not be fetched (h NULL).  Without a known
 * policy the result is still "sts" under the recipient domain, with no strings (§4.3.2). */
START_TEST(emit_discovery_failure)
{
	struct fixture fx;
	make(&fx, SEC_OPPORTUNISTIC, false);
	struct sts_resolve_result sts = {.source = STS_SOURCE_NONE};
	fx.d.sts = &sts;
	struct seen s = {0};
	struct deliver_tlsrpt_facts f = {.d = &fx.d,
					 .sts = fx.d.sts,
					 .result = MXTLS_RESULT_STS_POLICY_FETCH_ERROR,
					 .reason_code = "HTTP 404"};
	ck_assert(deliver_tlsrpt_emit(&f, sink, &s));
	ck_assert_int_eq(s.type, TLSRPT_POLICY_STS);
	ck_assert_str_eq(s.domain, "example.net");
	ck_assert_uint_eq(s.nstrings, 0);
	ck_assert_uint_eq(s.nmx, 0);
	ck_assert_str_eq(s.result_type, "sts-policy-fetch-error");
	ck_assert_str_eq(s.mx_host, "");
	ck_assert_str_eq(s.ip, "");
}
END_TEST

/* A host whose TLSA lookup failed (SERVFAIL, bogus): dnssec-invalid under "tlsa", the host
 * (its CNAME target when there is one) as base domain; no record is known. */
START_TEST(emit_tlsa_lookup_failed)
{
	struct fixture fx;
	make(&fx, SEC_UNREACHABLE, false);
	fx.dane.tlsa_failed = true;
	fx.dane.ntlsa = 0;
	fx.dane.tbd[0] = '\0';
	struct seen s = {0};
	struct deliver_tlsrpt_facts f = {
		.d = &fx.d, .sts = fx.d.sts, .h = &fx.d.hosts[0],
		.result = MXTLS_RESULT_DNSSEC_INVALID};
	ck_assert(deliver_tlsrpt_emit(&f, sink, &s));
	ck_assert_int_eq(s.type, TLSRPT_POLICY_TLSA);
	ck_assert_str_eq(s.domain, "mx1.example.net");
	ck_assert_uint_eq(s.nstrings, 0);
	ck_assert_str_eq(s.mx[0], "mx1.example.net");
	ck_assert_str_eq(s.result_type, "dnssec-invalid");
	snprintf(fx.dane.expanded, sizeof fx.dane.expanded, "real.example.org");
	ck_assert(deliver_tlsrpt_emit(&f, sink, &s));
	ck_assert_str_eq(s.domain, "real.example.org");
}
END_TEST

/* RFC 8460 §5.3: a report carries TLS-Report-Domain; any case of the name; only in the
 * header section. */
START_TEST(header_is_tls_report)
{
	static const struct {
		const char *msg;
		bool is;
	} cases[] = {
		{"From: a@b\r\nTLS-Report-Domain: example.net\r\n\r\nx\r\n", true},
		{"tls-report-domain: example.net\nFrom: a@b\n\nx\n", true},
		{"From: a@b\r\n\r\nTLS-Report-Domain: example.net\r\n", false},
		{"From: a@b\r\nTLS-Report-Submitter: example.org\r\n\r\n", false},
		{"From: a@b\r\nTLS-Report-Domains: x\r\n\r\n", false},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		ck_assert_msg(delivery_header_is_tls_report(cases[i].msg, strlen(cases[i].msg)) ==
				      cases[i].is,
			      "case %zu", i);
}
END_TEST

static int count_due(void *arg, const struct delivery_due_row *d)
{
	int *n = arg;
	ck_assert_ptr_null(d->damaged);
	ck_assert(!d->tlsrpt_report);
	ck_assert(d->tls_optional);
	(*n)++;
	return 0;
}

/* An index written by the version-2 daemon (the schema as it shipped, written out here) is
 * brought to version 3: its rows stay, and read as "not a report". */
START_TEST(index_migrates_v2_to_v3)
{
	char path[600];
	snprintf(path, sizeof path, "%s/index.sqlite", test_tmp_root);
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(
	    sqlite3_exec(db,
			 "CREATE TABLE messages (id TEXT PRIMARY KEY, sender TEXT NOT NULL,"
			 " size INTEGER NOT NULL, queued_at INTEGER NOT NULL,"
			 " requiretls INTEGER NOT NULL DEFAULT 0, warned INTEGER NOT NULL DEFAULT 0,"
			 " tls_optional INTEGER NOT NULL DEFAULT 0);"
			 "CREATE TABLE recipients (message_id TEXT NOT NULL, seq INTEGER NOT NULL,"
			 " recipient TEXT NOT NULL, state TEXT NOT NULL,"
			 " attempts INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER NOT NULL,"
			 " last_host TEXT, last_reply TEXT, result_type TEXT,"
			 " PRIMARY KEY (message_id, seq));"
			 "INSERT INTO messages VALUES ('m1', 'a@b', 10, 100, 0, 0, 1);"
			 "INSERT INTO recipients (message_id, seq, recipient, state, next_attempt)"
			 " VALUES ('m1', 0, 'c@d', 'pending', 100);"
			 "PRAGMA user_version = 2;",
			 NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	struct delivery_index *ix;
	char err[256] = "";
	ck_assert_msg(delivery_index_open(path, &ix, err, sizeof err) == MXTLS_OK, "%s", err);
	int n = 0;
	ck_assert_int_eq(delivery_index_due(ix, 200, true, 10, count_due, &n, err, sizeof err),
			 MXTLS_OK);
	ck_assert_int_eq(n, 1);
	delivery_index_close(ix);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 3);
	sqlite3_finalize(st);
	sqlite3_close(db);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("delivery_tlsrpt");
	TCase *t = tcase_create("emit");
	tcase_add_loop_test(t, emit_policy_of_host, 0, ARRAY_LEN(rows));
	tcase_add_test(t, emit_sts_lines_exact);
	tcase_add_test(t, emit_discovery_failure);
	tcase_add_test(t, emit_tlsa_lookup_failed);
	tcase_add_test(t, header_is_tls_report);
	suite_add_tcase(s, t);
	TCase *ix = tcase_create("index");
	tcase_add_unchecked_fixture(ix, test_tmp_setup, test_tmp_teardown);
	tcase_add_test(ix, index_migrates_v2_to_v3);
	suite_add_tcase(s, ix);
	return s;
}

MXTLS_TEST_MAIN(make_suite)
