/* SPDX-License-Identifier: MIT */
/* Results counted in memory (tlsrpt/tlsrpt_batch.c): hostile input refused as the store
 * would, a flush equal to recording each result on its own, the cap on distinct results,
 * and a failed flush that keeps its counts. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include <mxtls/error.h>

#include "test_main.h"
#include "tlsrpt/tlsrpt_batch.h"

static struct tlsrpt_store *open_store(const char *name)
{
	char path[700], err[256] = "";
	snprintf(path, sizeof path, "%s/%s", test_tmp_root, name);
	struct tlsrpt_store *s = NULL;
	ck_assert_msg(tlsrpt_store_open(path, true, &s, err, sizeof err) == MXTLS_OK, "%s", err);
	return s;
}

static char longtext[TLSRPT_STRING_MAX + 2];

/* Refused before anything is counted, with the store's own codes (tlsrpt_store.h). */
START_TEST(hostile_first)
{
	struct tlsrpt_batch *b;
	ck_assert_int_eq(tlsrpt_batch_new(&b), MXTLS_OK);
	memset(longtext, 'a', sizeof longtext - 1);
	const char *one_long[] = {longtext};
	struct tlsrpt_failure nores = {.result_type = ""};
	static const char *many[TLSRPT_STRINGS_MAX + 1];
	for (size_t i = 0; i < TLSRPT_STRINGS_MAX + 1; i++)
		many[i] = "x";
	struct {
		struct tlsrpt_result r;
		int rc;
	} cases[] = {
		{{.type = TLSRPT_POLICY_STS}, MXTLS_E_INVAL},                      /* no domain */
		{{.type = (enum tlsrpt_policy_type)7, .domain = "a.example"}, MXTLS_E_INVAL},
		{{.type = TLSRPT_POLICY_STS, .domain = "a.example", .failure = &nores},
		 MXTLS_E_INVAL},                                                    /* no type */
		{{.type = TLSRPT_POLICY_STS, .domain = "a.example", .nstrings = 1}, MXTLS_E_INVAL},
		{{.type = TLSRPT_POLICY_STS, .domain = "a.example", .strings = one_long,
		  .nstrings = 1},
		 MXTLS_E_LIMIT},                                                    /* 4097 bytes */
		{{.type = TLSRPT_POLICY_STS, .domain = "a.example", .strings = many,
		  .nstrings = TLSRPT_STRINGS_MAX + 1},
		 MXTLS_E_LIMIT},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		ck_assert_msg(tlsrpt_batch_add(b, 1, &cases[i].r) == cases[i].rc, "case %zu", i);
	ck_assert_uint_eq(tlsrpt_batch_pending(b), 0);
	tlsrpt_batch_free(b);
}
END_TEST

/* A day's mix: two domains, each type, successes, repeated and distinct failures, one result
 * on the next day; strings that differ only in where a list ends. */
static const char *const sts_lines[] = {"version: STSv1", "mode: enforce", "mx: a.example"};
static const char *const sts_mx[] = {"a.example"};
static const char *const shifted_lines[] = {"version: STSv1", "mode: enforce"};
static const char *const shifted_mx[] = {"mx: a.example", "a.example"};
static const char *const tlsa[] = {"3 1 1 aa"};
static const char *const tlsa_mx[] = {"mx.b.example"};

static void mix(int i, int64_t *day, struct tlsrpt_result *r, struct tlsrpt_failure *f)
{
	*day = i % 17 == 0 ? 21 : 20;
	memset(f, 0, sizeof *f);
	f->result_type = i % 3 == 0 ? "certificate-expired" : "starttls-not-supported";
	f->receiving_ip = i % 5 == 0 ? "192.0.2.1" : "192.0.2.2";
	f->receiving_mx_helo = "mx\r\nsecond line"; /* the store keeps the first line */
	switch (i % 4) {
	case 0:
		*r = (struct tlsrpt_result){.type = TLSRPT_POLICY_STS, .domain = "a.example",
					    .strings = sts_lines, .nstrings = 3, .mx = sts_mx,
					    .nmx = 1};
		break;
	case 1:
		*r = (struct tlsrpt_result){.type = TLSRPT_POLICY_STS, .domain = "a.example",
					    .strings = shifted_lines, .nstrings = 2,
					    .mx = shifted_mx, .nmx = 2};
		break;
	case 2:
		*r = (struct tlsrpt_result){.type = TLSRPT_POLICY_TLSA, .domain = "mx.b.example",
					    .strings = tlsa, .nstrings = 1, .mx = tlsa_mx,
					    .nmx = 1};
		break;
	default:
		*r = (struct tlsrpt_result){.type = TLSRPT_POLICY_NONE, .domain = "c.example"};
	}
	r->failure = i % 2 == 0 ? f : NULL;
}

/* Every counter and failure row of one store, as text, for comparison. */
static void dump(struct tlsrpt_store *s, char *out, size_t cap)
{
	size_t k = 0;
	const char *domains[] = {"a.example", "mx.b.example", "c.example"};
	for (int64_t day = 20; day <= 21; day++)
		for (size_t d = 0; d < ARRAY_LEN(domains); d++) {
			struct tlsrpt_day *td = NULL;
			ck_assert_int_eq(tlsrpt_store_load(s, day, domains[d], &td, NULL, 0),
					 MXTLS_OK);
			for (size_t p = 0; p < td->npolicies; p++) {
				const struct tlsrpt_policy *po = &td->policies[p];
				k += (size_t)snprintf(out + k, cap - k, "%lld %s %d n%zu m%zu %llu/%llu;",
						      (long long)day, po->domain, (int)po->type,
						      po->nstrings, po->nmx,
						      (unsigned long long)po->successes,
						      (unsigned long long)po->failures);
				for (size_t f = 0; f < po->ndetails; f++)
					k += (size_t)snprintf(
					    out + k, cap - k, " %s %s %s %llu;",
					    po->details[f].result_type, po->details[f].receiving_ip,
					    po->details[f].receiving_mx_helo,
					    (unsigned long long)po->details[f].count);
			}
			tlsrpt_day_free(td);
		}
}

START_TEST(flush_equals_one_by_one)
{
	struct tlsrpt_store *one = open_store("one.sqlite"), *many = open_store("many.sqlite");
	struct tlsrpt_batch *b;
	ck_assert_int_eq(tlsrpt_batch_new(&b), MXTLS_OK);
	char err[256] = "";
	for (int i = 0; i < 1000; i++) {
		int64_t day;
		struct tlsrpt_result r;
		struct tlsrpt_failure f;
		mix(i, &day, &r, &f);
		ck_assert_int_eq(tlsrpt_store_record(one, day, &r, err, sizeof err), MXTLS_OK);
		ck_assert_int_eq(tlsrpt_batch_add(b, day, &r), MXTLS_OK);
	}
	ck_assert_uint_eq(tlsrpt_batch_pending(b), 1000);
	ck_assert_int_eq(tlsrpt_batch_flush(b, many, err, sizeof err), MXTLS_OK);
	ck_assert_uint_eq(tlsrpt_batch_pending(b), 0);
	static char a[16384], c[16384];
	dump(one, a, sizeof a);
	dump(many, c, sizeof c);
	ck_assert_str_eq(c, a);
	/* Both list layouts are there, kept apart (4 policies on day 20, counted exactly). */
	ck_assert_ptr_nonnull(strstr(a, "20 a.example 1 n3 m1"));
	ck_assert_ptr_nonnull(strstr(a, "20 a.example 1 n2 m2"));
	tlsrpt_batch_free(b);
	tlsrpt_store_close(one);
	tlsrpt_store_close(many);
}
END_TEST

/* At TLSRPT_BATCH_DISTINCT_MAX distinct results a new one is refused; a known one still
 * counts. */
START_TEST(distinct_cap)
{
	struct tlsrpt_batch *b;
	ck_assert_int_eq(tlsrpt_batch_new(&b), MXTLS_OK);
	char domain[64];
	struct tlsrpt_result r = {.type = TLSRPT_POLICY_NONE, .domain = domain};
	for (int i = 0; i < TLSRPT_BATCH_DISTINCT_MAX; i++) {
		snprintf(domain, sizeof domain, "d%d.example", i);
		ck_assert_int_eq(tlsrpt_batch_add(b, 1, &r), MXTLS_OK);
	}
	snprintf(domain, sizeof domain, "one-more.example");
	ck_assert_int_eq(tlsrpt_batch_add(b, 1, &r), MXTLS_E_LIMIT);
	snprintf(domain, sizeof domain, "d7.example");
	ck_assert_int_eq(tlsrpt_batch_add(b, 1, &r), MXTLS_OK);
	ck_assert_uint_eq(tlsrpt_batch_pending(b), TLSRPT_BATCH_DISTINCT_MAX + 1);
	tlsrpt_batch_free(b);
}
END_TEST

/* A store that refuses the write: the counts stay for the next flush, nothing is doubled. */
START_TEST(failed_flush_keeps_counts)
{
	struct tlsrpt_store *s = open_store("ro.sqlite");
	struct tlsrpt_batch *b;
	ck_assert_int_eq(tlsrpt_batch_new(&b), MXTLS_OK);
	struct tlsrpt_result r = {.type = TLSRPT_POLICY_NONE, .domain = "a.example"};
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(tlsrpt_batch_add(b, 5, &r), MXTLS_OK);
	ck_assert_int_eq(sqlite3_exec(tlsrpt_store_db(s), "PRAGMA query_only = ON", NULL, NULL,
				      NULL),
			 SQLITE_OK);
	char err[256] = "";
	ck_assert_int_ne(tlsrpt_batch_flush(b, s, err, sizeof err), MXTLS_OK);
	ck_assert_uint_eq(tlsrpt_batch_pending(b), 3);
	ck_assert_int_eq(sqlite3_exec(tlsrpt_store_db(s), "PRAGMA query_only = OFF", NULL, NULL,
				      NULL),
			 SQLITE_OK);
	ck_assert_int_eq(tlsrpt_batch_flush(b, s, err, sizeof err), MXTLS_OK);
	struct tlsrpt_day *d = NULL;
	ck_assert_int_eq(tlsrpt_store_load(s, 5, "a.example", &d, NULL, 0), MXTLS_OK);
	ck_assert_uint_eq(d->npolicies, 1);
	ck_assert_uint_eq(d->policies[0].successes, 3);
	tlsrpt_day_free(d);
	tlsrpt_batch_free(b);
	tlsrpt_store_close(s);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("tlsrpt_batch");
	TCase *t = tcase_create("batch");
	tcase_add_unchecked_fixture(t, test_tmp_setup, test_tmp_teardown);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, hostile_first);
	tcase_add_test(t, flush_equals_one_by_one);
	tcase_add_test(t, distinct_cap);
	tcase_add_test(t, failed_flush_keeps_counts);
	suite_add_tcase(s, t);
	return s;
}

MXTLS_TEST_MAIN(make_suite)
