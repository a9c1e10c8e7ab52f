/* SPDX-License-Identifier: MIT */
/* Unit tests for tlsrpt/tlsrpt_inbox.c (received reports in SQLite): a report is stored once per
 * (organisation, report-id), byte for byte; the summary of a domain counts exactly what the
 * reports say, per day, per organisation, per MX host and result type; names below the domain
 * count (tlsa policies name the MX host), look-alike names do not.  Hostile input first. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "test_main.h"
#include "tlsrpt/tlsrpt_inbox.h"

#define DAY0 1796083200 /* 2026-12-01T00:00:00Z */
#define DAY  86400

static char path[600];

static void setup(void)
{
	test_tmp_setup();
	snprintf(path, sizeof path, "%s/reports.sqlite", test_tmp_root);
}

static struct tlsrpt_inbox *open_inbox(void)
{
	struct tlsrpt_inbox *b = NULL;
	char err[256] = "";
	ck_assert_msg(tlsrpt_inbox_open(path, true, &b, err, sizeof err) == MXTLS_OK, "%s", err);
	return b;
}

/* A report with one policy of domain pd and the failures given (result, mx, ip, count). */
struct fail_spec {
	const char *result, *mx, *ip;
	uint64_t count;
};

static void put(struct tlsrpt_inbox *b, const char *org, const char *id, int64_t start,
		const char *pd, uint64_t ok, uint64_t bad, const struct fail_spec *fs, size_t nf,
		bool want_dup)
{
	struct tlsrpt_read_failure f[4] = {{0}};
	for (size_t i = 0; i < nf; i++)
		f[i] = (struct tlsrpt_read_failure){.result_type = (char *)fs[i].result,
						    .receiving_mx_hostname = (char *)fs[i].mx,
						    .sending_mta_ip = (char *)fs[i].ip,
						    .failed_session_count = fs[i].count};
	char *strings[] = {"version: STSv1", "mode: testing"};
	char *mx[] = {"mx1.example.test"};
	struct tlsrpt_read_policy p = {.policy_type = "sts",
				       .policy_string = strings,
				       .npolicy_string = 2,
				       .policy_domain = (char *)pd,
				       .mx_host = mx,
				       .nmx_host = 1,
				       .total_successful = ok,
				       .total_failure = bad,
				       .failures = f,
				       .nfailures = nf};
	struct tlsrpt_read_report r = {.organization_name = (char *)org,
				       .report_id = (char *)id,
				       .start = start,
				       .end = start + DAY,
				       .policies = &p,
				       .npolicies = 1};
	struct tlsrpt_inbox_origin o = {
		.source = "file", .where = "t", .dkim = "", .received_at = 1};
	char raw[128];
	snprintf(raw, sizeof raw, "{\"report-id\":\"%s\"}", id);
	bool dup = true;
	char err[256] = "";
	ck_assert_msg(tlsrpt_inbox_put(b, &r, raw, strlen(raw), &o, &dup, err, sizeof err) ==
			      MXTLS_OK,
		      "%s", err);
	ck_assert_int_eq(dup, want_dup);
}

static uint64_t count_of(const struct tlsrpt_inbox_count *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return v[i].n;
	return 0;
}

/* hostile: names that look like the domain but are not below it, and a domain with LIKE's
 * wildcard characters in it, never match */
START_TEST(lookalikes)
{
	struct tlsrpt_inbox *b = open_inbox();
	put(b, "A", "1", DAY0, "badexample.test", 5, 0, NULL, 0, false);
	put(b, "A", "2", DAY0, "example.test.evil.test", 7, 0, NULL, 0, false);
	put(b, "A", "3", DAY0, "mx1.example.test", 11, 0, NULL, 0, false);
	put(b, "A", "4", DAY0, "example.test", 13, 0, NULL, 0, false);
	put(b, "A", "5", DAY0, "x_ample.test", 17, 0, NULL, 0, false);
	struct tlsrpt_inbox_summary s;
	char err[256];
	ck_assert_int_eq(
		tlsrpt_inbox_summary(b, "example.test", 0, DAY0 + DAY, &s, err, sizeof err),
		MXTLS_OK);
	ck_assert_uint_eq(s.sessions, 24); /* 11 (below it) + 13 */
	ck_assert_uint_eq(s.reports, 2);
	tlsrpt_inbox_summary_clear(&s);
	ck_assert_int_eq(
		tlsrpt_inbox_summary(b, "e_ample.test", 0, DAY0 + DAY, &s, err, sizeof err),
		MXTLS_OK);
	ck_assert_uint_eq(s.sessions, 0);
	tlsrpt_inbox_summary_clear(&s);
	tlsrpt_inbox_close(b);
}
END_TEST

/* the same (organisation, report-id) twice: stored once; another organisation's same id: kept */
START_TEST(duplicates)
{
	struct tlsrpt_inbox *b = open_inbox();
	put(b, "Org A", "r-1", DAY0, "example.test", 10, 0, NULL, 0, false);
	put(b, "Org A", "r-1", DAY0, "example.test", 99, 0, NULL, 0, true);
	put(b, "Org B", "r-1", DAY0, "example.test", 1, 0, NULL, 0, false);
	tlsrpt_inbox_close(b);
	b = open_inbox(); /* reopened: the schema is there, nothing changes */
	struct tlsrpt_inbox_summary s;
	char err[256];
	ck_assert_int_eq(
		tlsrpt_inbox_summary(b, "example.test", 0, DAY0 + DAY, &s, err, sizeof err),
		MXTLS_OK);
	ck_assert_uint_eq(s.reports, 2);
	ck_assert_uint_eq(s.sessions, 11);
	ck_assert_uint_eq(s.norgs, 2);
	ck_assert_str_eq(s.orgs[0].name, "Org A");
	ck_assert_str_eq(s.orgs[1].name, "Org B");
	tlsrpt_inbox_summary_clear(&s);
	tlsrpt_inbox_close(b);
	/* the raw bytes are kept exactly */
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_prepare_v2(db,
					    "SELECT raw FROM report WHERE organization = 'Org A'",
					    -1, &st, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "{\"report-id\":\"r-1\"}");
	sqlite3_finalize(st);
	sqlite3_close(db);
}
END_TEST

/* per day, per organisation, per MX and result type, with the sending addresses */
START_TEST(summary_numbers)
{
	struct tlsrpt_inbox *b = open_inbox();
	const struct fail_spec f1[] = {
		{"certificate-expired", "mx2.example.test", "192.0.2.1", 3},
		{"starttls-not-supported", "mx2.example.test", "192.0.2.2", 2},
	};
	const struct fail_spec f2[] = {
		{"certificate-expired", "mx2.example.test", "192.0.2.1", 4},
		{"sts-webpki-invalid", NULL, NULL, 1},
	};
	put(b, "Org A", "a1", DAY0, "example.test", 100, 5, f1, 2, false);
	put(b, "Org B", "b1", DAY0 + 3600, "example.test", 50, 5, f2, 2, false);
	put(b, "Org A", "a2", DAY0 + DAY, "example.test", 200, 0, NULL, 0, false);
	put(b, "Org A", "old", DAY0 - DAY, "example.test", 7, 7, NULL, 0, false);
	struct tlsrpt_inbox_summary s;
	char err[256];
	ck_assert_int_eq(
		tlsrpt_inbox_summary(b, "example.test", DAY0, DAY0 + 2 * DAY, &s, err, sizeof err),
		MXTLS_OK);
	ck_assert_uint_eq(s.reports, 3); /* "old" is before the range */
	ck_assert_uint_eq(s.sessions, 360);
	ck_assert_uint_eq(s.failures, 10);
	ck_assert_uint_eq(s.ndays, 2);
	ck_assert_int_eq(s.days[0].day, DAY0);
	ck_assert_uint_eq(s.days[0].sessions, 160);
	ck_assert_uint_eq(s.days[0].failures, 10);
	ck_assert_uint_eq(s.days[0].norgs, 2);
	ck_assert_str_eq(s.days[0].orgs[1], "Org B");
	ck_assert_uint_eq(
		count_of(s.days[0].by_result, s.days[0].nby_result, "certificate-expired"), 7);
	ck_assert_uint_eq(count_of(s.days[0].by_result, s.days[0].nby_result, "sts-webpki-invalid"),
			  1);
	ck_assert_int_eq(s.days[1].day, DAY0 + DAY);
	ck_assert_uint_eq(s.days[1].failures, 0);
	ck_assert_uint_eq(s.days[1].nby_result, 0);
	/* by MX: mx2 first (9 failures), then the failure without a host ("") */
	ck_assert_uint_eq(s.nmx, 2);
	ck_assert_str_eq(s.mx[0].mx, "mx2.example.test");
	ck_assert_uint_eq(s.mx[0].failures, 9);
	ck_assert_uint_eq(count_of(s.mx[0].by_result, s.mx[0].nby_result, "starttls-not-supported"),
			  2);
	ck_assert_uint_eq(s.mx[0].nsending_ips, 2);
	ck_assert_str_eq(s.mx[0].sending_ips[0], "192.0.2.1");
	ck_assert_str_eq(s.mx[1].mx, "");
	ck_assert_uint_eq(s.mx[1].nsending_ips, 0);
	tlsrpt_inbox_summary_clear(&s);
	tlsrpt_inbox_close(b);
}
END_TEST

/* a file of a newer schema is refused, never rewritten */
START_TEST(newer_schema)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	struct tlsrpt_inbox *b = NULL;
	char err[256] = "";
	ck_assert_int_eq(tlsrpt_inbox_open(path, true, &b, err, sizeof err), MXTLS_E_IO);
	ck_assert_ptr_nonnull(strstr(err, "newer"));
	ck_assert_int_eq(tlsrpt_inbox_open("/nonexistent-dir/x.sqlite", false, &b, err, sizeof err),
			 MXTLS_E_NOTFOUND);
}
END_TEST

static Suite *inbox_suite(void)
{
	Suite *s = suite_create("tlsrpt_inbox");
	TCase *tc = tcase_create("inbox");
	tcase_add_checked_fixture(tc, setup, test_tmp_teardown);
	tcase_add_test(tc, lookalikes);
	tcase_add_test(tc, duplicates);
	tcase_add_test(tc, summary_numbers);
	tcase_add_test(tc, newer_schema);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(inbox_suite)
