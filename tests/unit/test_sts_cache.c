/* SPDX-License-Identifier: MIT */
/* Unit tests for sts/sts_cache.c: round trips, per-id back-off, and a process killed mid-write. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mxtls/error.h>
#include <sqlite3.h>

#include "sts/sts_cache.h"
#include "test_main.h"

static char dir[600];
static char path[700];

static void setup(void)
{
	snprintf(dir, sizeof dir, "%s/cache-XXXXXX", test_tmp_root);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/%s", dir, STS_CACHE_FILE);
}

static void teardown(void)
{
	/* The files go with test_tmp_root (test_tmp_teardown()), also after a failure. */
}

static struct sts_cache *open_cache(void)
{
	struct sts_cache *c = NULL;
	char err[256] = "";
	ck_assert_msg(sts_cache_open(path, &c, err, sizeof err) == MXTLS_OK, "%s", err);
	return c;
}

/* An entry whose every field is derived from n, so a torn write would show. */
static void make_entry(struct sts_cache_entry *e, const char *domain, unsigned n, size_t pad)
{
	static char *mx[2];
	static char mxbuf[2][64];
	memset(e, 0, sizeof *e);
	snprintf(e->domain, sizeof e->domain, "%s", domain);
	snprintf(e->id, sizeof e->id, "id%u", n);
	e->text = malloc(pad + 64);
	ck_assert_ptr_nonnull(e->text);
	int len = snprintf(e->text, 64, "version: STSv1\nmode: enforce\nmax_age: %u\n", n);
	memset(e->text + len, 'x', pad);
	e->len = (size_t)len + pad;
	e->mode = n % 2 ? STS_MODE_ENFORCE : STS_MODE_TESTING;
	e->max_age = n;
	snprintf(mxbuf[0], sizeof mxbuf[0], "mx%u.example.test", n);
	snprintf(mxbuf[1], sizeof mxbuf[1], "*.m%u.example.test", n);
	mx[0] = mxbuf[0];
	mx[1] = mxbuf[1];
	e->mx = mx;
	e->nmx = 2;
	e->fetched_at = 1000 + n;
	e->expires_at = 1000 + 2 * (int64_t)n;
	e->last_checked = 1000 + n;
}

static void check_entry(const struct sts_cache_entry *e, unsigned n, size_t pad)
{
	char want[64];
	snprintf(want, sizeof want, "id%u", n);
	ck_assert_str_eq(e->id, want);
	int len = snprintf(want, sizeof want, "version: STSv1\nmode: enforce\nmax_age: %u\n", n);
	ck_assert_uint_eq(e->len, (size_t)len + pad);
	ck_assert_int_eq(memcmp(e->text, want, (size_t)len), 0);
	ck_assert_int_eq(e->mode, n % 2 ? STS_MODE_ENFORCE : STS_MODE_TESTING);
	ck_assert_uint_eq(e->max_age, n);
	ck_assert_uint_eq(e->nmx, 2);
	snprintf(want, sizeof want, "mx%u.example.test", n);
	ck_assert_str_eq(e->mx[0], want);
	snprintf(want, sizeof want, "*.m%u.example.test", n);
	ck_assert_str_eq(e->mx[1], want);
	ck_assert_int_eq(e->fetched_at, 1000 + n);
	ck_assert_int_eq(e->expires_at, 1000 + 2 * (int64_t)n);
}

START_TEST(round_trip)
{
	struct sts_cache *c = open_cache();
	struct sts_cache_entry e, got;
	ck_assert_int_eq(sts_cache_get(c, "a.test", &got), MXTLS_E_NOTFOUND);
	ck_assert_int_eq(sts_cache_count(c), 0);
	make_entry(&e, "a.test", 7, 3);
	ck_assert_int_eq(sts_cache_put(c, &e), MXTLS_OK);
	free(e.text);
	ck_assert_int_eq(sts_cache_get(c, "a.test", &got), MXTLS_OK);
	check_entry(&got, 7, 3);
	ck_assert_ptr_null(got.last_error);
	sts_cache_entry_clear(&got);

	/* Replacing keeps one row; touch records a failure and then clears it. */
	make_entry(&e, "a.test", 8, 0);
	ck_assert_int_eq(sts_cache_put(c, &e), MXTLS_OK);
	free(e.text);
	ck_assert_int_eq(sts_cache_count(c), 1);
	ck_assert_int_eq(sts_cache_touch(c, "a.test", 5000, "HTTP status 404"), MXTLS_OK);
	ck_assert_int_eq(sts_cache_get(c, "a.test", &got), MXTLS_OK);
	check_entry(&got, 8, 0);
	ck_assert_str_eq(got.last_error, "HTTP status 404");
	ck_assert_int_eq(got.last_checked, 5000);
	sts_cache_entry_clear(&got);
	ck_assert_int_eq(sts_cache_touch(c, "a.test", 5001, NULL), MXTLS_OK);
	ck_assert_int_eq(sts_cache_get(c, "a.test", &got), MXTLS_OK);
	ck_assert_ptr_null(got.last_error);
	sts_cache_entry_clear(&got);
	ck_assert_int_eq(sts_cache_touch(c, "b.test", 1, NULL), MXTLS_E_NOTFOUND);

	/* A body with NUL bytes and a mode-none policy without mx survive unchanged. */
	struct sts_cache_entry n = {.mode = STS_MODE_NONE, .max_age = 86400};
	snprintf(n.domain, sizeof n.domain, "none.test");
	snprintf(n.id, sizeof n.id, "x");
	n.text = (char *)"a\0b";
	n.len = 3;
	ck_assert_int_eq(sts_cache_put(c, &n), MXTLS_OK);
	ck_assert_int_eq(sts_cache_get(c, "none.test", &got), MXTLS_OK);
	ck_assert_uint_eq(got.len, 3);
	ck_assert_int_eq(memcmp(got.text, "a\0b", 3), 0);
	ck_assert_int_eq(got.mode, STS_MODE_NONE);
	ck_assert_uint_eq(got.nmx, 0);
	sts_cache_entry_clear(&got);

	ck_assert_int_eq(sts_cache_delete(c, "a.test"), MXTLS_OK);
	ck_assert_int_eq(sts_cache_delete(c, "a.test"), MXTLS_E_NOTFOUND);
	ck_assert_int_eq(sts_cache_count(c), 1);
	struct sts_cache_entry empty = {0};
	ck_assert_int_eq(sts_cache_put(c, &empty), MXTLS_E_INVAL);
	sts_cache_close(c);

	/* Persistent across reopening. */
	c = open_cache();
	ck_assert_int_eq(sts_cache_get(c, "none.test", &got), MXTLS_OK);
	sts_cache_entry_clear(&got);
	sts_cache_close(c);
}
END_TEST

static int collect(void *arg, const struct sts_cache_entry *e)
{
	char *out = arg;
	strcat(out, e->domain);
	strcat(out, ",");
	return strcmp(e->domain, "c.test") == 0 ? 42 : 0;
}

START_TEST(walk_in_order)
{
	struct sts_cache *c = open_cache();
	const char *names[] = {"d.test", "b.test", "c.test", "a.test"};
	for (unsigned i = 0; i < 4; i++) {
		struct sts_cache_entry e;
		make_entry(&e, names[i], i + 1, 0);
		ck_assert_int_eq(sts_cache_put(c, &e), MXTLS_OK);
		free(e.text);
	}
	char seen[128] = "";
	ck_assert_int_eq(sts_cache_foreach(c, collect, seen), 42); /* stopped at c.test */
	ck_assert_str_eq(seen, "a.test,b.test,c.test,");
	sts_cache_close(c);
}
END_TEST

/* STS-18 and decision D11: five minutes per id; a new id at once; a success clears it. */
START_TEST(backoff_per_id)
{
	struct sts_cache *c = open_cache();
	int64_t until = 0;
	ck_assert(!sts_cache_backoff(c, "a.test", "X", 0, &until));
	ck_assert_int_eq(sts_cache_note_failure(c, "a.test", "X", 1000, "timeout"), MXTLS_OK);
	ck_assert(sts_cache_backoff(c, "a.test", "X", 1000 + 120, &until));
	ck_assert_int_eq(until, 1000 + STS_FETCH_BACKOFF);
	ck_assert(sts_cache_backoff(c, "a.test", "X", 1000 + STS_FETCH_BACKOFF - 1, NULL));
	ck_assert(!sts_cache_backoff(c, "a.test", "X", 1000 + STS_FETCH_BACKOFF, NULL));
	ck_assert(!sts_cache_backoff(c, "a.test", "Y", 1000 + 60, NULL));
	ck_assert(!sts_cache_backoff(c, "b.test", "X", 1000 + 60, NULL));
	ck_assert(!sts_cache_backoff(c, "a.test", "X", 999, NULL)); /* clock went back */
	struct sts_cache_entry e;
	make_entry(&e, "a.test", 1, 0);
	ck_assert_int_eq(sts_cache_put(c, &e), MXTLS_OK);
	free(e.text);
	ck_assert(!sts_cache_backoff(c, "a.test", "X", 1000 + 60, NULL));
	/* Delete also forgets a failure recorded without a cached policy. */
	ck_assert_int_eq(sts_cache_note_failure(c, "z.test", "X", 1000, "404"), MXTLS_OK);
	ck_assert_int_eq(sts_cache_delete(c, "z.test"), MXTLS_OK);
	ck_assert(!sts_cache_backoff(c, "z.test", "X", 1001, NULL));
	sts_cache_close(c);
}
END_TEST

START_TEST(open_errors)
{
	struct sts_cache *c = NULL;
	char err[256] = "";
	ck_assert_int_eq(sts_cache_open("/nonexistent-dir/x.sqlite", &c, err, sizeof err),
			 MXTLS_E_IO);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(err, "cannot open"));
	/* A file that is not a database. */
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("this is not an SQLite database, but it is long enough to have a header...\n", f);
	fclose(f);
	ck_assert_int_eq(sts_cache_open(path, &c, err, sizeof err), MXTLS_E_IO);
	ck_assert_ptr_null(c);
	unlink(path);
	/* A database from a newer schema is refused, not silently rewritten. */
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(sts_cache_open(path, &c, err, sizeof err), MXTLS_E_IO);
	ck_assert_ptr_nonnull(strstr(err, "newer mxtls"));
}
END_TEST

/* A row whose mode is not one sts_cache_put() writes is an error, never mode "none" (which
 * would silently turn an enforce policy into no policy); put refuses a mode outside the enum. */
START_TEST(damaged_mode_is_an_error)
{
	struct sts_cache *c = open_cache();
	struct sts_cache_entry e, got;
	make_entry(&e, "a.test", 7, 0);
	ck_assert_int_eq(sts_cache_put(c, &e), MXTLS_OK);
	e.mode = (enum sts_mode)42;
	ck_assert_int_eq(sts_cache_put(c, &e), MXTLS_E_INVAL);
	free(e.text);
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "UPDATE policy SET mode = 'Enforce'", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(sts_cache_get(c, "a.test", &got), MXTLS_E_IO);
	sts_cache_close(c);
}
END_TEST

/*
 * A writer killed with SIGKILL at arbitrary moments: after each kill the database opens, passes
 * SQLite's integrity check, and every entry is one complete write (all fields agree on n).
 */
START_TEST(killed_mid_write_leaves_no_torn_entry)
{
	srand((unsigned)time(NULL));
	enum { ROUNDS = 12, DOMAINS = 8, PAD = 20000 };
	for (int round = 0; round < ROUNDS; round++) {
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			struct sts_cache *c = NULL;
			char err[256];
			if (sts_cache_open(path, &c, err, sizeof err) != MXTLS_OK)
				_exit(3);
			for (unsigned n = 1;; n++) {
				struct sts_cache_entry e;
				char domain[32];
				snprintf(domain, sizeof domain, "d%u.test", n % DOMAINS);
				make_entry(&e, domain, n, PAD + n % 7);
				if (sts_cache_put(c, &e) != MXTLS_OK)
					_exit(4);
				free(e.text);
			}
		}
		usleep(20000 + (useconds_t)(rand() % 60000));
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		int status;
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFSIGNALED(status), "writer exited early with %d",
			      WEXITSTATUS(status));

		struct sts_cache *c = open_cache();
		sqlite3 *db;
		ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
		sqlite3_stmt *q;
		ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL),
				 SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
		ck_assert_str_eq((const char *)sqlite3_column_text(q, 0), "ok");
		sqlite3_finalize(q);
		sqlite3_close(db);
		for (unsigned d = 0; d < DOMAINS; d++) {
			char domain[32];
			snprintf(domain, sizeof domain, "d%u.test", d);
			struct sts_cache_entry got;
			int rc = sts_cache_get(c, domain, &got);
			if (rc == MXTLS_E_NOTFOUND)
				continue;
			ck_assert_int_eq(rc, MXTLS_OK);
			unsigned n = got.max_age;
			ck_assert_uint_eq(n % DOMAINS, d);
			check_entry(&got, n, PAD + n % 7);
			sts_cache_entry_clear(&got);
		}
		sts_cache_close(c);
	}
}
END_TEST

static Suite *sts_cache_suite(void)
{
	Suite *s = suite_create("sts-cache");
	TCase *tc = tcase_create("cache");
	tcase_add_unchecked_fixture(tc, test_tmp_setup, test_tmp_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, walk_in_order);
	tcase_add_test(tc, backoff_per_id);
	tcase_add_test(tc, open_errors);
	tcase_add_test(tc, damaged_mode_is_an_error);
	tcase_add_test(tc, killed_mid_write_leaves_no_torn_entry);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(sts_cache_suite)
