/* SPDX-License-Identifier: MIT */
/* The MTA-STS cache's SQLite connection (WAL mode, one row per policy domain); one thread at a time. */
#include "sts/sts_cache_db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>
#include <sqlite3.h>

#include "util/util_file.h"

/* Bumped when the schema changes; an older file is migrated, a newer one refused. */
#define SCHEMA_VERSION 1

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS policy ("
	" domain TEXT PRIMARY KEY NOT NULL,"
	" policy_id TEXT NOT NULL,"
	" policy_text BLOB NOT NULL,"
	" mode TEXT NOT NULL,"
	" max_age INTEGER NOT NULL,"
	" mx TEXT NOT NULL," /* the patterns, one per line */
	" fetched_at INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL,"
	" last_checked INTEGER NOT NULL,"
	" last_error TEXT);"
	"CREATE TABLE IF NOT EXISTS fetch_failure ("
	" domain TEXT PRIMARY KEY NOT NULL,"
	" policy_id TEXT NOT NULL,"
	" failed_at INTEGER NOT NULL,"
	" error TEXT NOT NULL);";

enum stmt {
	ST_GET,
	ST_PUT,
	ST_CLEAR_FAILURE,
	ST_TOUCH,
	ST_DELETE,
	ST_DELETE_FAILURE,
	ST_ALL,
	ST_COUNT,
	ST_NOTE_FAILURE,
	ST_FAILURE,
	ST_PAGE,
	ST_MAX
};

static const char *const sql[ST_MAX] = {
	[ST_GET] = "SELECT domain, policy_id, policy_text, mode, max_age, mx, fetched_at,"
		   " expires_at, last_checked, last_error FROM policy WHERE domain = ?1",
	[ST_PUT] = "INSERT OR REPLACE INTO policy VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ST_CLEAR_FAILURE] = "DELETE FROM fetch_failure WHERE domain = ?1",
	[ST_TOUCH] = "UPDATE policy SET last_checked = ?2, last_error = ?3 WHERE domain = ?1",
	[ST_DELETE] = "DELETE FROM policy WHERE domain = ?1",
	[ST_DELETE_FAILURE] = "DELETE FROM fetch_failure WHERE domain = ?1",
	[ST_ALL] = "SELECT domain, policy_id, policy_text, mode, max_age, mx, fetched_at,"
		   " expires_at, last_checked, last_error FROM policy ORDER BY domain",
	[ST_COUNT] = "SELECT count(*) FROM policy",
	[ST_NOTE_FAILURE] = "INSERT OR REPLACE INTO fetch_failure VALUES (?1, ?2, ?3, ?4)",
	[ST_FAILURE] = "SELECT policy_id, failed_at FROM fetch_failure WHERE domain = ?1",
	[ST_PAGE] = "SELECT domain, policy_id, policy_text, mode, max_age, mx, fetched_at,"
		    " expires_at, last_checked, last_error FROM policy WHERE domain > ?1"
		    " ORDER BY domain LIMIT ?2",
};

struct sts_cache_db {
	sqlite3 *db;
	sqlite3_stmt *st[ST_MAX];
};

void sts_cache_db_close(struct sts_cache_db *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < ST_MAX; i++)
		sqlite3_finalize(c->st[i]);
	sqlite3_close(c->db);
	free(c);
}

static int fail_open(struct sts_cache_db *c, char *err, size_t errlen, const char *path,
		     const char *what)
{
	snprintf(err, errlen, "%s: %s: %s", path, what,
		 c->db != NULL ? sqlite3_errmsg(c->db) : "out of memory");
	sts_cache_db_close(c);
	return MXTLS_E_IO;
}

int sts_cache_db_open(const char *path, struct sts_cache_db **out, char *err, size_t errlen)
{
	struct sts_cache_db *c = calloc(1, sizeof *c);
	if (c == NULL)
		return MXTLS_E_NOMEM;
	/* The state directory may be searchable by all (the queue's maildrop, mode 0711): the
	 * cache says where mail goes, so its file is private. */
	char why[64];
	if (strcmp(path, ":memory:") != 0 && util_file_private(path, why, sizeof why) != 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		free(c);
		return MXTLS_E_IO;
	}
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    NULL) != SQLITE_OK)
		return fail_open(c, err, errlen, path, "cannot open");
	sqlite3_busy_timeout(c->db, STS_CACHE_BUSY_MS);
	/* WAL: a write is one transaction appended to the log; a crash leaves either the old or
	 * the new entry.  synchronous=NORMAL keeps that atomicity (only durability of the very
	 * last commit is lost on power failure, which a cache can afford). */
	if (sqlite3_exec(c->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
			 NULL) != SQLITE_OK)
		return fail_open(c, err, errlen, path, "not a usable database");
	sqlite3_stmt *v;
	int version = -1;
	if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &v, NULL) == SQLITE_OK) {
		if (sqlite3_step(v) == SQLITE_ROW)
			version = sqlite3_column_int(v, 0);
		sqlite3_finalize(v);
	}
	if (version > SCHEMA_VERSION) {
		snprintf(err, errlen, "%s: written by a newer mxtls (schema %d, this one knows %d)",
			 path, version, SCHEMA_VERSION);
		sts_cache_db_close(c);
		return MXTLS_E_IO;
	}
	if (version < 0 || sqlite3_exec(c->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(c->db, "PRAGMA user_version = 1", NULL, NULL, NULL) != SQLITE_OK)
		return fail_open(c, err, errlen, path, "cannot create the tables");
	for (int i = 0; i < ST_MAX; i++)
		if (sqlite3_prepare_v3(c->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &c->st[i],
				       NULL) != SQLITE_OK)
			return fail_open(c, err, errlen, path, "cannot prepare statements");
	*out = c;
	return MXTLS_OK;
}

static sqlite3_stmt *stmt(struct sts_cache_db *c, enum stmt s)
{
	sqlite3_reset(c->st[s]);
	sqlite3_clear_bindings(c->st[s]);
	return c->st[s];
}

/* The mode stored by sts_cache_db_put(); false for anything else (a damaged row). */
static bool mode_from_text(const char *s, enum sts_mode *out)
{
	static const enum sts_mode modes[] = {STS_MODE_ENFORCE, STS_MODE_TESTING, STS_MODE_NONE};
	for (size_t i = 0; s != NULL && i < sizeof modes / sizeof modes[0]; i++) {
		if (strcmp(s, sts_policy_mode_name(modes[i])) == 0) {
			*out = modes[i];
			return true;
		}
	}
	return false;
}

/* Splits the newline-joined patterns into e->mx. */
static int split_mx(const char *s, struct sts_cache_entry *e)
{
	size_t n = 0;
	for (const char *p = s; *p != '\0'; p++)
		n += *p == '\n';
	n += *s != '\0';
	if (n == 0)
		return MXTLS_OK;
	if ((e->mx = calloc(n, sizeof *e->mx)) == NULL)
		return MXTLS_E_NOMEM;
	const char *p = s;
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if ((e->mx[e->nmx] = strndup(p, len)) == NULL)
			return MXTLS_E_NOMEM;
		e->nmx++;
		p += len + (nl != NULL);
	}
	return MXTLS_OK;
}

/*
 * Fills out from the current row of q (the column order of ST_GET).  A mode that is not one
 * sts_cache_db_put() writes is MXTLS_E_IO: reading a damaged row as mode "none" would silently
 * turn an enforce policy into no policy.
 */
static int read_row(sqlite3_stmt *q, struct sts_cache_entry *out)
{
	struct sts_cache_entry e;
	memset(&e, 0, sizeof e);
	const char *domain = (const char *)sqlite3_column_text(q, 0);
	const char *id = (const char *)sqlite3_column_text(q, 1);
	if (domain == NULL || id == NULL) /* NOT NULL columns: out of memory */
		return MXTLS_E_NOMEM;
	if (!mode_from_text((const char *)sqlite3_column_text(q, 3), &e.mode))
		return MXTLS_E_IO;
	snprintf(e.domain, sizeof e.domain, "%s", domain);
	snprintf(e.id, sizeof e.id, "%s", id);
	const void *text = sqlite3_column_blob(q, 2);
	e.len = (size_t)sqlite3_column_bytes(q, 2);
	e.text = malloc(e.len + 1);
	if (e.text == NULL || (text == NULL && e.len > 0))
		goto nomem;
	if (e.len > 0)
		memcpy(e.text, text, e.len);
	e.text[e.len] = '\0';
	e.max_age = (uint32_t)sqlite3_column_int64(q, 4);
	const char *mx = (const char *)sqlite3_column_text(q, 5);
	if (split_mx(mx != NULL ? mx : "", &e) != MXTLS_OK)
		goto nomem;
	e.fetched_at = sqlite3_column_int64(q, 6);
	e.expires_at = sqlite3_column_int64(q, 7);
	e.last_checked = sqlite3_column_int64(q, 8);
	if (sqlite3_column_type(q, 9) != SQLITE_NULL) {
		const char *last_error = (const char *)sqlite3_column_text(q, 9);
		if (last_error == NULL || (e.last_error = strdup(last_error)) == NULL)
			goto nomem;
	}
	*out = e;
	return MXTLS_OK;
nomem:
	sts_cache_entry_clear(&e);
	return MXTLS_E_NOMEM;
}

int sts_cache_db_get(struct sts_cache_db *c, const char *domain, struct sts_cache_entry *out)
{
	sqlite3_stmt *q = stmt(c, ST_GET);
	sqlite3_bind_text(q, 1, domain, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	int ret = rc == SQLITE_ROW    ? read_row(q, out)
		  : rc == SQLITE_DONE ? MXTLS_E_NOTFOUND
				      : MXTLS_E_IO;
	sqlite3_reset(q);
	return ret;
}

static int step_done(sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? MXTLS_OK : MXTLS_E_IO;
}

int sts_cache_db_put(struct sts_cache_db *c, const struct sts_cache_entry *e)
{
	/* A mode outside the enum is refused, never stored as "none" (a silent downgrade). */
	const char *mode = e != NULL ? sts_policy_mode_name(e->mode) : NULL;
	if (e == NULL || e->domain[0] == '\0' || mode == NULL)
		return MXTLS_E_INVAL;
	size_t mxlen = 1;
	for (size_t i = 0; i < e->nmx; i++)
		mxlen += strlen(e->mx[i]) + 1;
	char *mx = malloc(mxlen);
	if (mx == NULL)
		return MXTLS_E_NOMEM;
	size_t off = 0;
	for (size_t i = 0; i < e->nmx; i++)
		off += (size_t)sprintf(mx + off, "%s%s", i ? "\n" : "", e->mx[i]);
	mx[off] = '\0';

	int ret = MXTLS_E_IO;
	if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	sqlite3_stmt *q = stmt(c, ST_PUT);
	sqlite3_bind_text(q, 1, e->domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, e->id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(q, 3, e->text != NULL ? e->text : "", (int)e->len, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, mode, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 5, e->max_age);
	sqlite3_bind_text(q, 6, mx, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 7, e->fetched_at);
	sqlite3_bind_int64(q, 8, e->expires_at);
	sqlite3_bind_int64(q, 9, e->last_checked);
	if (e->last_error != NULL)
		sqlite3_bind_text(q, 10, e->last_error, -1, SQLITE_STATIC);
	int rc = step_done(q);
	if (rc == MXTLS_OK) {
		q = stmt(c, ST_CLEAR_FAILURE);
		sqlite3_bind_text(q, 1, e->domain, -1, SQLITE_STATIC);
		rc = step_done(q);
	}
	if (rc == MXTLS_OK && sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		ret = MXTLS_OK;
	else
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
out:
	free(mx);
	return ret;
}

int sts_cache_db_touch(struct sts_cache_db *c, const char *domain, int64_t now, const char *error)
{
	sqlite3_stmt *q = stmt(c, ST_TOUCH);
	sqlite3_bind_text(q, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, now);
	if (error != NULL)
		sqlite3_bind_text(q, 3, error, -1, SQLITE_STATIC);
	int rc = step_done(q);
	if (rc == MXTLS_OK && sqlite3_changes(c->db) == 0)
		return MXTLS_E_NOTFOUND;
	return rc;
}

int sts_cache_db_delete(struct sts_cache_db *c, const char *domain)
{
	sqlite3_stmt *q = stmt(c, ST_DELETE_FAILURE);
	sqlite3_bind_text(q, 1, domain, -1, SQLITE_STATIC);
	int rc = step_done(q);
	int failures = sqlite3_changes(c->db);
	if (rc != MXTLS_OK)
		return rc;
	q = stmt(c, ST_DELETE);
	sqlite3_bind_text(q, 1, domain, -1, SQLITE_STATIC);
	rc = step_done(q);
	if (rc == MXTLS_OK && sqlite3_changes(c->db) == 0 && failures == 0)
		return MXTLS_E_NOTFOUND;
	return rc;
}

/* Hands every row of the prepared q to fn (sts_cache_db_foreach()'s rules); *visited rows. */
static int walk(sqlite3_stmt *q, int (*fn)(void *arg, const struct sts_cache_entry *e), void *arg,
		int *visited)
{
	int rc, ret = MXTLS_OK;
	*visited = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct sts_cache_entry e;
		if ((ret = read_row(q, &e)) != MXTLS_OK)
			break;
		(*visited)++;
		ret = fn(arg, &e);
		sts_cache_entry_clear(&e);
		if (ret != 0)
			break;
	}
	if (ret == MXTLS_OK && rc != SQLITE_DONE)
		ret = MXTLS_E_IO;
	sqlite3_reset(q);
	return ret;
}

int sts_cache_db_foreach(struct sts_cache_db *c, int (*fn)(void *arg, const struct sts_cache_entry *e),
		      void *arg)
{
	int visited;
	return walk(stmt(c, ST_ALL), fn, arg, &visited);
}

int sts_cache_db_foreach_after(struct sts_cache_db *c, const char *after, int limit,
			       int (*fn)(void *arg, const struct sts_cache_entry *e), void *arg,
			       int *visited)
{
	sqlite3_stmt *q = stmt(c, ST_PAGE);
	sqlite3_bind_text(q, 1, after, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 2, limit);
	return walk(q, fn, arg, visited);
}

long sts_cache_db_count(struct sts_cache_db *c)
{
	sqlite3_stmt *q = stmt(c, ST_COUNT);
	long n = sqlite3_step(q) == SQLITE_ROW ? (long)sqlite3_column_int64(q, 0) : MXTLS_E_IO;
	sqlite3_reset(q);
	return n;
}

int sts_cache_db_note_failure(struct sts_cache_db *c, const char *domain, const char *id, int64_t now,
			   const char *error)
{
	sqlite3_stmt *q = stmt(c, ST_NOTE_FAILURE);
	sqlite3_bind_text(q, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, now);
	sqlite3_bind_text(q, 4, error != NULL ? error : "", -1, SQLITE_STATIC);
	return step_done(q);
}

int sts_cache_db_failure(struct sts_cache_db *c, const char *domain,
			 struct sts_cache_failure *out)
{
	sqlite3_stmt *q = stmt(c, ST_FAILURE);
	sqlite3_bind_text(q, 1, domain, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q), ret = MXTLS_E_IO;
	if (rc == SQLITE_DONE) {
		ret = MXTLS_E_NOTFOUND;
	} else if (rc == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(q, 0);
		if (id == NULL) {
			ret = MXTLS_E_NOMEM;
		} else {
			snprintf(out->id, sizeof out->id, "%s", id);
			out->failed_at = sqlite3_column_int64(q, 1);
			ret = MXTLS_OK;
		}
	}
	sqlite3_reset(q);
	return ret;
}

const char *sts_cache_db_errmsg(struct sts_cache_db *c)
{
	return c != NULL ? sqlite3_errmsg(c->db) : "the cache is not open";
}
