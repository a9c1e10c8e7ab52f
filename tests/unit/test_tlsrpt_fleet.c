/* SPDX-License-Identifier: MIT */
/* Unit tests for tlsrpt/tlsrpt_fleet.c: members' reports of a day merged into the fleet's one
 * (issue 20).  Hostile copies first (Redis holds them: garbage, another domain's policies,
 * counts that overflow), then the merge itself, its order and its independence of the order of
 * the members. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "test_main.h"
#include "tlsrpt/tlsrpt_fleet.h"
#include "tlsrpt/tlsrpt_report.h"

static const char *const sts_lines[] = {"version: STSv1", "mode: enforce", "mx: mx1.example.test",
					"max_age: 86400"};
static const char *const sts_mx[] = {"mx1.example.test"};
static const char *const tlsa_rr[] = {"3 1 1 0123456789abcdef"};
static const char *const tlsa_mx[] = {"mx1.example.test"};

#define DAY 20792 /* 2026-12-05 */

/* One member's report of DAY for example.test, as tlsrpt_report_json() writes it. */
static char *member_report(const char *ip, uint64_t ok, uint64_t bad, uint64_t tlsa_ok, size_t *len)
{
	struct tlsrpt_failure f[] = {
		{"certificate-expired", ip, "mx1.example.test", NULL, "192.0.2.25", NULL, NULL,
		 bad},
	};
	struct tlsrpt_policy p[2] = {
		{TLSRPT_POLICY_STS, "example.test", sts_lines, 4, sts_mx, 1, ok, bad, f,
		 bad > 0 ? 1 : 0},
		{TLSRPT_POLICY_TLSA, "example.test", tlsa_rr, 1, tlsa_mx, 1, tlsa_ok, 0, NULL, 0},
	};
	struct tlsrpt_report_in in = {.organization = "Example Fleet",
				      .contact = "tlsrpt@fleet.test",
				      .submitter = "fleet.test",
				      .day = DAY,
				      .policies = p,
				      .npolicies = tlsa_ok > 0 ? 2 : 1};
	char *json;
	ck_assert_int_eq(tlsrpt_report_json(&in, &json, len), MXTLS_OK);
	return json;
}

static char *fleet_json(struct tlsrpt_day *d)
{
	struct tlsrpt_report_in in = {.organization = "Example Fleet",
				      .contact = "tlsrpt@fleet.test",
				      .submitter = "fleet.test",
				      .day = DAY,
				      .policies = d->policies,
				      .npolicies = d->npolicies};
	char *json;
	size_t len;
	ck_assert_int_eq(tlsrpt_report_json(&in, &json, &len), MXTLS_OK);
	return json;
}

START_TEST(garbage_and_foreign_copies_are_left_out)
{
	size_t la;
	char *a = member_report("198.51.100.1", 10, 1, 0, &la);
	/* another domain's report: a policy of other.test */
	struct tlsrpt_policy op = {
		TLSRPT_POLICY_STS, "other.test", sts_lines, 4, sts_mx, 1, 5, 0, NULL, 0};
	struct tlsrpt_report_in oin = {.organization = "X",
				       .contact = "a@b.test",
				       .submitter = "b.test",
				       .day = DAY,
				       .policies = &op,
				       .npolicies = 1};
	char *other;
	size_t lo;
	ck_assert_int_eq(tlsrpt_report_json(&oin, &other, &lo), MXTLS_OK);
	const char *garbage = "{\"organization-name\": 1}";
	const char *json[] = {garbage, a, other, "\xff\xfe", ""};
	size_t len[] = {strlen(garbage), la, lo, 2, 0};
	struct tlsrpt_day *d;
	size_t skipped;
	char err[512] = "";
	ck_assert_int_eq(
		tlsrpt_fleet_merge(json, len, 5, "example.test", &d, &skipped, err, sizeof err),
		MXTLS_OK);
	ck_assert_uint_eq(skipped, 4);
	ck_assert_ptr_nonnull(strstr(err, "left out"));
	ck_assert_uint_eq(d->npolicies, 1);
	ck_assert_uint_eq(d->policies[0].successes, 10);
	ck_assert_uint_eq(d->policies[0].failures, 1);
	tlsrpt_day_free(d);
	free(a);
	free(other);
}
END_TEST

START_TEST(counts_that_overflow_are_refused)
{
	size_t la, lb;
	char *a = member_report("198.51.100.1", TLSRPT_COUNT_MAX, 0, 0, &la);
	char *b = member_report("198.51.100.2", 1, 0, 0, &lb);
	const char *json[] = {a, b};
	size_t len[] = {la, lb};
	struct tlsrpt_day *d = (struct tlsrpt_day *)1;
	char err[256] = "";
	ck_assert_int_eq(
		tlsrpt_fleet_merge(json, len, 2, "example.test", &d, NULL, err, sizeof err),
		MXTLS_E_LIMIT);
	ck_assert_ptr_null(d);
	ck_assert_ptr_nonnull(strstr(err, "count above"));
	free(a);
	free(b);
}
END_TEST

START_TEST(too_many_members_are_refused)
{
	static const char *json[TLSRPT_FLEET_MEMBERS_MAX + 1];
	static size_t len[TLSRPT_FLEET_MEMBERS_MAX + 1];
	struct tlsrpt_day *d;
	char err[256];
	ck_assert_int_eq(tlsrpt_fleet_merge(json, len, TLSRPT_FLEET_MEMBERS_MAX + 1, "x.test", &d,
					    NULL, err, sizeof err),
			 MXTLS_E_LIMIT);
}
END_TEST

START_TEST(three_members_make_one_report)
{
	size_t la, lb, lc;
	/* a and c saw the same failure from different addresses; b saw none but a DANE host. */
	char *a = member_report("198.51.100.1", 10, 2, 0, &la);
	char *b = member_report("198.51.100.2", 7, 0, 4, &lb);
	char *c = member_report("198.51.100.3", 1, 3, 0, &lc);
	const char *json[] = {a, b, c};
	size_t len[] = {la, lb, lc};
	struct tlsrpt_day *d;
	size_t skipped = 9;
	char err[256] = "";
	ck_assert_int_eq(
		tlsrpt_fleet_merge(json, len, 3, "example.test", &d, &skipped, err, sizeof err),
		MXTLS_OK);
	ck_assert_uint_eq(skipped, 0);
	ck_assert_uint_eq(d->npolicies, 2);
	/* ordered by type: tlsa (0) before sts (1) */
	ck_assert_int_eq(d->policies[0].type, TLSRPT_POLICY_TLSA);
	ck_assert_uint_eq(d->policies[0].successes, 4);
	const struct tlsrpt_policy *sts = &d->policies[1];
	ck_assert_int_eq(sts->type, TLSRPT_POLICY_STS);
	ck_assert_uint_eq(sts->successes, 18);
	ck_assert_uint_eq(sts->failures, 5);
	ck_assert_uint_eq(sts->nstrings, 4);
	ck_assert_str_eq(sts->strings[2], "mx: mx1.example.test");
	/* one failure-details element per member that saw it: sending-mta-ip per member */
	ck_assert_uint_eq(sts->ndetails, 2);
	ck_assert_str_eq(sts->details[0].sending_mta_ip, "198.51.100.1");
	ck_assert_uint_eq(sts->details[0].count, 2);
	ck_assert_str_eq(sts->details[1].sending_mta_ip, "198.51.100.3");
	ck_assert_uint_eq(sts->details[1].count, 3);
	ck_assert_str_eq(sts->details[1].receiving_ip, "192.0.2.25");
	ck_assert_ptr_null(sts->details[1].receiving_mx_helo);
	/* the same members in another order: the same report (and report-id) */
	const char *json2[] = {c, a, b};
	size_t len2[] = {lc, la, lb};
	struct tlsrpt_day *d2;
	ck_assert_int_eq(
		tlsrpt_fleet_merge(json2, len2, 3, "example.test", &d2, NULL, err, sizeof err),
		MXTLS_OK);
	char *r1 = fleet_json(d), *r2 = fleet_json(d2);
	ck_assert_str_eq(r1, r2);
	free(r1);
	free(r2);
	tlsrpt_day_free(d);
	tlsrpt_day_free(d2);
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(a_member_given_twice_counts_twice)
{
	/* The caller gives each member's copy once (a Redis hash field per member): the merge
	 * adds what it is given, so the same copy twice is two members' worth.  This pins that
	 * the idempotence lives in the store (one field per member), not here. */
	size_t la;
	char *a = member_report("198.51.100.1", 10, 0, 0, &la);
	const char *json[] = {a, a};
	size_t len[] = {la, la};
	struct tlsrpt_day *d;
	char err[256];
	ck_assert_int_eq(
		tlsrpt_fleet_merge(json, len, 2, "example.test", &d, NULL, err, sizeof err),
		MXTLS_OK);
	ck_assert_uint_eq(d->policies[0].successes, 20);
	tlsrpt_day_free(d);
	free(a);
}
END_TEST

START_TEST(nothing_given_is_nothing_to_report)
{
	struct tlsrpt_day *d;
	char err[256];
	ck_assert_int_eq(
		tlsrpt_fleet_merge(NULL, NULL, 0, "example.test", &d, NULL, err, sizeof err),
		MXTLS_OK);
	ck_assert_uint_eq(d->npolicies, 0);
	tlsrpt_day_free(d);
}
END_TEST

static Suite *fleet_suite(void)
{
	Suite *s = suite_create("tlsrpt-fleet");
	TCase *tc = tcase_create("merge");
	tcase_add_test(tc, garbage_and_foreign_copies_are_left_out);
	tcase_add_test(tc, counts_that_overflow_are_refused);
	tcase_add_test(tc, too_many_members_are_refused);
	tcase_add_test(tc, three_members_make_one_report);
	tcase_add_test(tc, a_member_given_twice_counts_twice);
	tcase_add_test(tc, nothing_given_is_nothing_to_report);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(fleet_suite)
