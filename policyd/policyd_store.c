/* SPDX-License-Identifier: MIT */
/* The answer cache on disk (SQLite): what a restarted server answers from before any lookup. */
#include "policyd/policyd_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

struct policyd_store {
	sqlite3 *db;
	sqlite3_stmt *put;
	char *fingerprint;
	bool in_batch;
};

/*
 * The store is opened and loaded before the server listens, and may wait for another process's
 * lock then (OPEN_BUSY_MS).  After the load it is written from the event loop, where a wait
 * would stall every connection (issue 14): a write that finds the file locked fails at once
 * (LOOP_BUSY_MS), and that batch is dropped -- the store only spares lookups after a restart.
 */
#define OPEN_BUSY_MS 2000
#define LOOP_BUSY_MS 0

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS answers ("
	" domain TEXT PRIMARY KEY NOT NULL,"
	" answer TEXT NOT NULL,"
	" expires INTEGER NOT NULL,"
	" ttl INTEGER NOT NULL,"
	" fingerprint TEXT NOT NULL) WITHOUT ROWID;";

int policyd_store_open(const char *state_dir, const char *fingerprint,
		       struct policyd_store **out, char *err, size_t errlen)
{
	if (mkdir(state_dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", state_dir, strerror(errno));
		return -1;
	}
	char path[4200];
	if ((size_t)snprintf(path, sizeof path, "%s/policyd.sqlite", state_dir) >= sizeof path) {
		snprintf(err, errlen, "state directory name too long");
		return -1;
	}
	/* Private even when the state directory is searchable by all (the queue's maildrop):
	 * made 0600 before SQLite would make it 0644 (its WAL file copies the mode). */
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 ||
	    ((st.st_mode & 077) != 0 && st.st_uid == geteuid() && fchmod(fd, 0600) != 0)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	struct policyd_store *s = calloc(1, sizeof *s);
	if (s == NULL || (s->fingerprint = strdup(fingerprint)) == NULL) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
		    SQLITE_OK ||
	    sqlite3_busy_timeout(s->db, OPEN_BUSY_MS) != SQLITE_OK ||
	    sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db,
			       "INSERT OR REPLACE INTO answers VALUES (?1, ?2, ?3, ?4, ?5)", -1,
			       &s->put, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path,
			 s->db != NULL ? sqlite3_errmsg(s->db) : "out of memory");
		policyd_store_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

long policyd_store_load(struct policyd_store *s, int64_t now,
			void (*fn)(void *arg, const char *key, const char *answer, size_t len,
				   int64_t expires, int64_t ttl),
			void *arg)
{
	sqlite3_stmt *del = NULL, *sel = NULL;
	long n = 0;
	if (sqlite3_prepare_v2(s->db,
			       "DELETE FROM answers WHERE expires <= ?1 OR fingerprint != ?2", -1,
			       &del, NULL) != SQLITE_OK ||
	    sqlite3_bind_int64(del, 1, now) != SQLITE_OK ||
	    sqlite3_bind_text(del, 2, s->fingerprint, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(del) != SQLITE_DONE ||
	    sqlite3_prepare_v2(s->db, "SELECT domain, answer, expires, ttl FROM answers", -1,
			       &sel, NULL) != SQLITE_OK) {
		n = -1;
		goto out;
	}
	int rc;
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(sel, 0);
		const char *answer = (const char *)sqlite3_column_text(sel, 1);
		int len = sqlite3_column_bytes(sel, 1);
		if (key == NULL || answer == NULL)
			continue;
		fn(arg, key, answer, (size_t)len, sqlite3_column_int64(sel, 2),
		   sqlite3_column_int64(sel, 3));
		n++;
	}
	if (rc != SQLITE_DONE)
		n = -1;
out:
	sqlite3_finalize(del);
	sqlite3_finalize(sel);
	sqlite3_busy_timeout(s->db, LOOP_BUSY_MS); /* from here on, writes come from the loop */
	return n;
}

int policyd_store_put(struct policyd_store *s, const char *key, const char *answer, size_t len,
		      int64_t expires, int64_t ttl)
{
	if (!s->in_batch) {
		if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			return -1;
		s->in_batch = true;
	}
	sqlite3_reset(s->put);
	if (sqlite3_bind_text(s->put, 1, key, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s->put, 2, answer, (int)len, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s->put, 3, expires) != SQLITE_OK ||
	    sqlite3_bind_int64(s->put, 4, ttl) != SQLITE_OK ||
	    sqlite3_bind_text(s->put, 5, s->fingerprint, -1, SQLITE_STATIC) != SQLITE_OK)
		return -1;
	int rc = sqlite3_step(s->put);
	sqlite3_clear_bindings(s->put);
	sqlite3_reset(s->put);
	if (rc == SQLITE_DONE)
		return 0;
	/* Locked by another process (or worse): drop this batch rather than wait on the loop. */
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->in_batch = false;
	return -1;
}

int policyd_store_clear(struct policyd_store *s)
{
	if (policyd_store_commit(s) != 0)
		return -1;
	return sqlite3_exec(s->db, "DELETE FROM answers", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int policyd_store_commit(struct policyd_store *s)
{
	if (!s->in_batch)
		return 0;
	s->in_batch = false;
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

void policyd_store_close(struct policyd_store *s)
{
	if (s == NULL)
		return;
	if (s->db != NULL)
		policyd_store_commit(s);
	sqlite3_finalize(s->put);
	sqlite3_close(s->db);
	free(s->fingerprint);
	free(s);
}
