/* SPDX-License-Identifier: MIT */
/* The outbox of TLS reports (tlsrpt/tlsrpt_outbox.c): the RFC 8460 §5.5 retry schedule, rows
 * kept as first built, updates, and the upgrade of a version-1 store. */
#include <sqlite3.h>
#include <string.h>

#include <mxtls/error.h>

#include "test_main.h"
#include "tlsrpt/tlsrpt_outbox.h"

/* §5.5: "up to 24 hours", "exponential backoff"; first try at T = 1000. */
static const struct {
	int64_t now, attempts, next;
} schedule[] = {
	/* The window is over: give up (-1), also exactly at its end. */
	{1000 + 86400, 9, -1},
	{1000 + 86400 + 1, 1, -1},
	/* 5 minutes after the first failure, doubling ... */
	{1000, 1, 1300},
	{1300, 2, 1900},
	{1900, 3, 3100},
	{3100, 4, 5500},
	{5500, 5, 10300},
	{10300, 6, 19900},
	/* ... at most 4 hours apart (300 * 2^6 = 19200 > 14400) ... */
	{19900, 7, 34300},
	{34300, 40, 48700},
	/* ... and never after the window's end: the last attempt falls on it. */
	{80000, 9, 1000 + 86400},
	{1000 + 86399, 9, 1000 + 86400},
};

START_TEST(retry_schedule)
{
	ck_assert_msg(tlsrpt_outbox_next_try(1000, schedule[_i].now, schedule[_i].attempts) ==
			      schedule[_i].next,
		      "row %d: now %lld attempts %lld: %lld", _i, (long long)schedule[_i].now,
		      (long long)schedule[_i].attempts,
		      (long long)tlsrpt_outbox_next_try(1000, schedule[_i].now,
							schedule[_i].attempts));
}
END_TEST

static struct tlsrpt_store *open_store(const char *name)
{
	char path[700], err[256] = "";
	snprintf(path, sizeof path, "%s/%s", test_tmp_root, name);
	struct tlsrpt_store *s = NULL;
	ck_assert_msg(tlsrpt_store_open(path, true, &s, err, sizeof err) == MXTLS_OK, "%s", err);
	return s;
}

/* The first report built for a day is the one kept: a second add (another run that built it
 * again, with more results) changes nothing; an update changes only the delivery state. */
START_TEST(rows_kept_as_built)
{
	struct tlsrpt_store *s = open_store("outbox.sqlite");
	uint8_t gz[] = {0x1f, 0x8b, 0, 1, 2, 0xff};
	struct tlsrpt_outbox_row r = {
		.day = 20000,
		.domain = "example.net",
		.report_id = "id-1@sender.example",
		.filename = "sender.example!example.net!1!2.json.gz",
		.report = gz,
		.report_len = sizeof gz,
		.state = TLSRPT_OUTBOX_PENDING,
		.first_try = 100,
		.next_try = 100,
	};
	char err[256] = "";
	ck_assert_int_eq(tlsrpt_outbox_add(s, &r, err, sizeof err), MXTLS_OK);
	struct tlsrpt_outbox_row again = r;
	again.report_id = "id-2@sender.example";
	again.first_try = 999;
	ck_assert_int_eq(tlsrpt_outbox_add(s, &again, err, sizeof err), MXTLS_OK);
	struct tlsrpt_outbox_row got;
	ck_assert_int_eq(tlsrpt_outbox_get(s, 20000, "example.net", &got, err, sizeof err),
			 MXTLS_OK);
	ck_assert_str_eq(got.report_id, "id-1@sender.example");
	ck_assert_int_eq(got.first_try, 100);
	ck_assert_uint_eq(got.report_len, sizeof gz);
	ck_assert_mem_eq(got.report, gz, sizeof gz);
	ck_assert_int_eq(got.state, TLSRPT_OUTBOX_PENDING);
	ck_assert_str_eq(got.last_error, "");
	got.state = TLSRPT_OUTBOX_DELIVERED;
	got.attempts = 2;
	free(got.delivered_to);
	got.delivered_to = strdup("https://r.example/v1");
	ck_assert_int_eq(tlsrpt_outbox_update(s, &got, err, sizeof err), MXTLS_OK);
	tlsrpt_outbox_row_clear(&got);
	ck_assert_int_eq(tlsrpt_outbox_get(s, 20000, "example.net", &got, err, sizeof err),
			 MXTLS_OK);
	ck_assert_int_eq(got.state, TLSRPT_OUTBOX_DELIVERED);
	ck_assert_int_eq(got.attempts, 2);
	ck_assert_str_eq(got.delivered_to, "https://r.example/v1");
	tlsrpt_outbox_row_clear(&got);
	/* Another day, another domain: not found; an update of a missing row says so. */
	ck_assert_int_eq(tlsrpt_outbox_get(s, 20001, "example.net", &got, err, sizeof err),
			 MXTLS_E_NOTFOUND);
	r.day = 20001;
	ck_assert_int_eq(tlsrpt_outbox_update(s, &r, err, sizeof err), MXTLS_E_NOTFOUND);
	/* Pruning takes the outbox rows of the days it removes. */
	ck_assert_int_eq(tlsrpt_store_prune(s, 20001, NULL, err, sizeof err), MXTLS_OK);
	ck_assert_int_eq(tlsrpt_outbox_get(s, 20000, "example.net", &got, err, sizeof err),
			 MXTLS_E_NOTFOUND);
	tlsrpt_store_close(s);
}
END_TEST

/* A store written by the first version (results only) gains the outbox and keeps its
 * results. */
START_TEST(upgrade_from_version_1)
{
	char path[700], err[256] = "";
	snprintf(path, sizeof path, "%s/v1.sqlite", test_tmp_root);
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db,
				      "CREATE TABLE policy (id INTEGER PRIMARY KEY, day INTEGER NOT"
				      " NULL, domain TEXT NOT NULL, type INTEGER NOT NULL, strings"
				      " TEXT NOT NULL, mx TEXT NOT NULL, successes INTEGER NOT NULL"
				      " DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0, UNIQUE (day,"
				      " domain, type, strings, mx));"
				      "CREATE TABLE failure (policy INTEGER NOT NULL REFERENCES"
				      " policy(id) ON DELETE CASCADE, result_type TEXT NOT NULL,"
				      " sending_mta_ip TEXT NOT NULL, receiving_mx_hostname TEXT NOT"
				      " NULL, receiving_mx_helo TEXT NOT NULL, receiving_ip TEXT NOT"
				      " NULL, additional_information TEXT NOT NULL,"
				      " failure_reason_code TEXT NOT NULL, count INTEGER NOT NULL,"
				      " PRIMARY KEY (policy, result_type, sending_mta_ip,"
				      " receiving_mx_hostname, receiving_mx_helo, receiving_ip,"
				      " additional_information, failure_reason_code)) WITHOUT ROWID;"
				      "INSERT INTO policy VALUES (1, 20000, 'example.net', 2, '[]',"
				      " '[]', 7, 0);"
				      "PRAGMA user_version = 1;",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	struct tlsrpt_store *s = NULL;
	ck_assert_msg(tlsrpt_store_open(path, true, &s, err, sizeof err) == MXTLS_OK, "%s", err);
	struct tlsrpt_day *d = NULL;
	ck_assert_int_eq(tlsrpt_store_load(s, 20000, "example.net", &d, err, sizeof err),
			 MXTLS_OK);
	ck_assert_uint_eq(d->npolicies, 1);
	ck_assert_uint_eq(d->policies[0].successes, 7);
	tlsrpt_day_free(d);
	struct tlsrpt_outbox_row got;
	ck_assert_int_eq(tlsrpt_outbox_get(s, 20000, "example.net", &got, err, sizeof err),
			 MXTLS_E_NOTFOUND);
	tlsrpt_store_close(s);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("tlsrpt_outbox");
	TCase *t = tcase_create("schedule");
	tcase_add_loop_test(t, retry_schedule, 0, ARRAY_LEN(schedule));
	suite_add_tcase(s, t);
	TCase *st = tcase_create("store");
	tcase_add_unchecked_fixture(st, test_tmp_setup, test_tmp_teardown);
	tcase_add_test(st, rows_kept_as_built);
	tcase_add_test(st, upgrade_from_version_1);
	suite_add_tcase(s, st);
	return s;
}

MXTLS_TEST_MAIN(make_suite)
