/* SPDX-License-Identifier: MIT */
/* The queue index on SQLite (delivery_index.h). */
#include "delivery/delivery_index.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mxtls/error.h>

#include "util/util_file.h"

struct delivery_index {
	sqlite3 *db;
};

/* Created once (user_version 0 -> 1), in one transaction. */
static const char schema[] =
	"BEGIN IMMEDIATE;"
	"CREATE TABLE IF NOT EXISTS messages ("
	" id TEXT PRIMARY KEY, sender TEXT NOT NULL, size INTEGER NOT NULL,"
	" queued_at INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS recipients ("
	" message_id TEXT NOT NULL, seq INTEGER NOT NULL, recipient TEXT NOT NULL,"
	" state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt INTEGER NOT NULL, last_host TEXT, last_reply TEXT, result_type TEXT,"
	" PRIMARY KEY (message_id, seq));"
	"PRAGMA user_version = 1;"
	"COMMIT;";

/* Version 2 (the daemon): the envelope's REQUIRETLS (RFC 8689 §4), whether a delay warning
 * went out, "TLS-Required: No" in the header (RFC 8689 §5; read once at submission, so the
 * scheduler can put such messages in sessions of their own), and an index for the
 * scheduler's "what is due" question. */
static const char schema_2[] =
	"ALTER TABLE messages ADD COLUMN requiretls INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE messages ADD COLUMN warned INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE messages ADD COLUMN tls_optional INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX IF NOT EXISTS recipients_due ON recipients (next_attempt)"
	" WHERE state IN ('pending', 'deferred');"
	"PRAGMA user_version = 2;";
/* Version 3 (TLS-RPT): the message is a TLS report (a TLS-Report-Domain field, RFC 8460
 * §5.3, read at submission): its sessions are not counted in the next report (§3). */
static const char schema_3[] =
	"ALTER TABLE messages ADD COLUMN tlsrpt_report INTEGER NOT NULL DEFAULT 0;"
	"PRAGMA user_version = 3;";
#define SCHEMA_VERSION 3

/* The schema version of the open database, or -1. */
static int user_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Brings the schema to SCHEMA_VERSION.  The version is read again inside the write
 * transaction: two processes opening an old index at once migrate it once. */
static bool migrate(sqlite3 *db)
{
	int v = user_version(db);
	if (v == 0 && sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK)
		return false;
	if (user_version(db) == SCHEMA_VERSION)
		return true;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return false;
	v = user_version(db);
	bool ok = v >= 1 && v <= SCHEMA_VERSION;
	if (ok && v < 2)
		ok = sqlite3_exec(db, schema_2, NULL, NULL, NULL) == SQLITE_OK;
	if (ok && v < 3)
		ok = sqlite3_exec(db, schema_3, NULL, NULL, NULL) == SQLITE_OK;
	if (ok && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return true;
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return false;
}

/*
 * Waiting for another process's write transaction (submitters and the daemon share the index).
 * sqlite3_busy_timeout() sleeps 1, 2, 5, 10 ... up to 100 ms between tries, so a submission
 * behind a busy daemon waited tens of milliseconds after the lock was free; these waits grow
 * from 0.1 ms to 2 ms.  Gives up (SQLITE_BUSY) after DELIVERY_INDEX_BUSY_MS in all.
 */
static int busy_wait(void *arg, int tries)
{
	(void)arg;
	static const unsigned step_us[] = {100, 200, 500, 1000, 2000};
	size_t n = sizeof step_us / sizeof step_us[0];
	unsigned us = step_us[(size_t)tries < n ? (size_t)tries : n - 1];
	/* The total so far, bounding tries: the first n steps, then 2 ms each. */
	uint64_t waited = 0;
	for (size_t i = 0; i < (size_t)tries && i < n; i++)
		waited += step_us[i];
	if ((size_t)tries > n)
		waited += (uint64_t)((size_t)tries - n) * step_us[n - 1];
	if (waited >= (uint64_t)DELIVERY_INDEX_BUSY_MS * 1000)
		return 0;
	struct timespec ts = {0, (long)us * 1000};
	nanosleep(&ts, NULL);
	return 1;
}

static int db_fail(struct delivery_index *ix, const char *what, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "queue index: %s: %s", what, sqlite3_errmsg(ix->db));
	return MXTLS_E_IO;
}

int delivery_index_open(const char *path, struct delivery_index **out, char *err, size_t errlen)
{
	struct delivery_index *ix = calloc(1, sizeof *ix);
	if (ix == NULL)
		return MXTLS_E_NOMEM;
	int rc = MXTLS_OK;
	/* The index names senders and recipients, and its directory is searchable by all (for
	 * the maildrop): the file is private. */
	if (util_file_private(path, err, errlen) != 0) {
		free(ix);
		return MXTLS_E_IO;
	}
	if (sqlite3_open_v2(path, &ix->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		rc = db_fail(ix, path, err, errlen);
		goto fail;
	}
	sqlite3_busy_handler(ix->db, busy_wait, NULL);
	/* A submitter that closes the index last would checkpoint the WAL and reset it (two more
	 * syncs per submission while the daemon is stopped); the automatic checkpoint below does
	 * that work every 128 pages instead. */
	sqlite3_db_config(ix->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
	/* A message is accepted only once its rows are durable: every commit is synced. */
	/* The WAL is checkpointed every 128 pages (512 KiB with 4 KiB pages, not SQLite's 1000)
	 * and cut back to 1 MiB after that, so that the space submissions leave free
	 * (DELIVERY_SPOOL_RESERVE) is enough for the daemon to record results on a full disk. */
	if (sqlite3_exec(ix->db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
			 "PRAGMA wal_autocheckpoint=128; PRAGMA journal_size_limit=1048576;",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    user_version(ix->db) < 0 || user_version(ix->db) > SCHEMA_VERSION ||
	    !migrate(ix->db)) {
		if (user_version(ix->db) > SCHEMA_VERSION) {
			snprintf(err, errlen, "queue index %s: schema %d, made by a newer mxtls", path,
				 user_version(ix->db));
			rc = MXTLS_E_IO;
			goto fail;
		}
		sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
		rc = db_fail(ix, path, err, errlen);
		goto fail;
	}
	*out = ix;
	return MXTLS_OK;
fail:
	delivery_index_close(ix);
	return rc;
}

void delivery_index_close(struct delivery_index *ix)
{
	if (ix == NULL)
		return;
	sqlite3_close(ix->db);
	free(ix);
}

/* Runs a prepared statement to completion; true on success. */
static bool step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW;
}

int delivery_index_insert(struct delivery_index *ix, const struct delivery_msg_row *m,
			  const char *const *rcpts, size_t n, char *err, size_t errlen)
{
	sqlite3_stmt *msg = NULL, *rc_st = NULL;
	if (sqlite3_exec(ix->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(ix, "begin", err, errlen);
	bool ok = sqlite3_prepare_v2(ix->db,
				     "INSERT INTO messages (id, sender, size, queued_at, "
				     "requiretls, tls_optional, tlsrpt_report) VALUES (?, ?, ?, ?, ?, ?, ?)",
				     -1, &msg, NULL) == SQLITE_OK &&
		  sqlite3_prepare_v2(ix->db,
				     "INSERT INTO recipients (message_id, seq, recipient, state, "
				     "next_attempt) VALUES (?, ?, ?, 'pending', ?)",
				     -1, &rc_st, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_text(msg, 1, m->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(msg, 2, m->sender, -1, SQLITE_STATIC);
		sqlite3_bind_int64(msg, 3, m->size);
		sqlite3_bind_int64(msg, 4, m->queued_at);
		sqlite3_bind_int(msg, 5, m->requiretls ? 1 : 0);
		sqlite3_bind_int(msg, 6, m->tls_optional ? 1 : 0);
		sqlite3_bind_int(msg, 7, m->tlsrpt_report ? 1 : 0);
		ok = step_done(msg);
	}
	for (size_t i = 0; ok && i < n; i++) {
		sqlite3_reset(rc_st);
		sqlite3_bind_text(rc_st, 1, m->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(rc_st, 2, (sqlite3_int64)i);
		sqlite3_bind_text(rc_st, 3, rcpts[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(rc_st, 4, m->queued_at);
		ok = step_done(rc_st);
	}
	sqlite3_finalize(msg);
	sqlite3_finalize(rc_st);
	/* synchronous=FULL: COMMIT returns only once the WAL is synced. */
	if (ok && sqlite3_exec(ix->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return MXTLS_OK;
	int rc = db_fail(ix, "adding the message", err, errlen);
	sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int delivery_index_exists(struct delivery_index *ix, const char *id, bool *found)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(ix->db, "SELECT 1 FROM messages WHERE id = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return MXTLS_E_IO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return MXTLS_E_IO;
	*found = rc == SQLITE_ROW;
	return MXTLS_OK;
}

/* Runs sql with id bound to ?1 and now to ?2 (when present); *changes gets the row count. */
static int exec_id(struct delivery_index *ix, const char *sql, const char *id, int64_t now,
		   int *changes)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK)
		return MXTLS_E_IO;
	if (id != NULL)
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, now);
	bool ok = step_done(st);
	sqlite3_finalize(st);
	*changes = sqlite3_changes(ix->db);
	return ok ? MXTLS_OK : MXTLS_E_IO;
}

/* Runs body (statements over message id) in one transaction, NOTFOUND when id has no row. */
static int in_transaction(struct delivery_index *ix, const char *id, const char *const *sql,
			  size_t nsql, int64_t now, char *err, size_t errlen)
{
	if (sqlite3_exec(ix->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(ix, "begin", err, errlen);
	bool found = true;
	int rc = id != NULL ? delivery_index_exists(ix, id, &found) : MXTLS_OK;
	if (rc == MXTLS_OK && !found)
		rc = MXTLS_E_NOTFOUND;
	for (size_t i = 0; rc == MXTLS_OK && i < nsql; i++) {
		int changes;
		rc = exec_id(ix, sql[i], id, now, &changes);
	}
	if (rc == MXTLS_OK && sqlite3_exec(ix->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return MXTLS_OK;
	if (rc != MXTLS_E_NOTFOUND)
		rc = db_fail(ix, "update", err, errlen);
	sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int delivery_index_delete(struct delivery_index *ix, const char *id, char *err, size_t errlen)
{
	static const char *const sql[] = {
		"DELETE FROM recipients WHERE message_id = ?1",
		"DELETE FROM messages WHERE id = ?1",
	};
	return in_transaction(ix, id, sql, 2, 0, err, errlen);
}

int delivery_index_update(struct delivery_index *ix, enum delivery_index_op op, const char *id,
			  int64_t now, char *err, size_t errlen)
{
	static const char *const hold[] = {
		"UPDATE recipients SET state = 'held' WHERE message_id = ?1 AND "
		"state IN ('pending', 'deferred')"};
	static const char *const release[] = {
		"UPDATE recipients SET state = CASE WHEN attempts > 0 THEN 'deferred' "
		"ELSE 'pending' END, next_attempt = ?2 WHERE message_id = ?1 AND state = 'held'"};
	static const char *const flush_one[] = {
		"UPDATE recipients SET next_attempt = MIN(next_attempt, ?2) WHERE message_id = ?1 "
		"AND state IN ('pending', 'deferred')"};
	static const char *const flush_all[] = {
		"UPDATE recipients SET next_attempt = MIN(next_attempt, ?2) WHERE ?1 IS NULL "
		"AND state IN ('pending', 'deferred')"};
	switch (op) {
	case DELIVERY_OP_HOLD:
		return in_transaction(ix, id, hold, 1, now, err, errlen);
	case DELIVERY_OP_RELEASE:
		return in_transaction(ix, id, release, 1, now, err, errlen);
	case DELIVERY_OP_FLUSH:
		return in_transaction(ix, id, id != NULL ? flush_one : flush_all, 1, now, err,
				      errlen);
	}
	return MXTLS_E_INVAL;
}

static const char *text_or_null(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

int delivery_index_list(struct delivery_index *ix, const char *id, delivery_index_row_fn fn,
			void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(ix->db,
			       "SELECT m.id, m.sender, m.size, m.queued_at, r.recipient, r.state, "
			       "r.attempts, r.next_attempt, r.last_host, r.last_reply, "
			       "r.result_type FROM messages m JOIN recipients r ON r.message_id = "
			       "m.id WHERE (?1 IS NULL OR m.id = ?1) AND r.state NOT IN "
			       "('delivered', 'bounced') ORDER BY m.id, r.seq",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(ix, "list", err, errlen);
	if (id != NULL)
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = MXTLS_OK, s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		struct delivery_msg_row m = {
			.id = text_or_null(st, 0),
			.sender = text_or_null(st, 1),
			.size = sqlite3_column_int64(st, 2),
			.queued_at = sqlite3_column_int64(st, 3),
		};
		struct delivery_rcpt_row r = {
			.recipient = text_or_null(st, 4),
			.state = text_or_null(st, 5),
			.attempts = sqlite3_column_int64(st, 6),
			.next_attempt = sqlite3_column_int64(st, 7),
			.last_host = text_or_null(st, 8),
			.last_reply = text_or_null(st, 9),
			.result_type = text_or_null(st, 10),
		};
		static const int ints[] = {2, 3, 6, 7};
		for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
			if (sqlite3_column_type(st, ints[i]) != SQLITE_INTEGER)
				r.damaged = "a number column holds something else";
		if ((rc = fn(arg, &m, &r)) != 0)
			break;
	}
	if (rc == MXTLS_OK && s != SQLITE_DONE)
		rc = db_fail(ix, "list", err, errlen);
	sqlite3_finalize(st);
	return rc;
}

/* The scheduler's questions (delivery_index.h). */

int delivery_index_due(struct delivery_index *ix, int64_t now, bool untried, size_t limit,
		       delivery_index_due_fn fn, void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(ix->db,
			       "SELECT m.id, m.sender, m.queued_at, m.requiretls, m.warned, r.seq, "
			       "r.recipient, r.attempts, r.state, r.rowid, m.tls_optional, m.tlsrpt_report "
			       "FROM recipients r "
			       "JOIN messages m ON m.id = r.message_id "
			       "WHERE r.state IN ('pending', 'deferred') AND (r.next_attempt <= ?1 "
			       "OR (?3 AND r.attempts = 0)) "
			       "ORDER BY r.next_attempt, r.message_id, r.seq LIMIT ?2",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(ix, "due", err, errlen);
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	sqlite3_bind_int(st, 3, untried ? 1 : 0);
	int rc = MXTLS_OK, s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		struct delivery_due_row d = {
			.id = text_or_null(st, 0),
			.sender = text_or_null(st, 1),
			.queued_at = sqlite3_column_int64(st, 2),
			.requiretls = sqlite3_column_int(st, 3) != 0,
			.warned = sqlite3_column_int(st, 4) != 0,
			.seq = sqlite3_column_int64(st, 5),
			.recipient = text_or_null(st, 6),
			.attempts = sqlite3_column_int64(st, 7),
			.rowid = sqlite3_column_int64(st, 9),
			.tls_optional = sqlite3_column_int(st, 10) != 0,
			.tlsrpt_report = sqlite3_column_int(st, 11) != 0,
		};
		static const int ints[] = {2, 3, 4, 5, 7, 10, 11};
		for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
			if (sqlite3_column_type(st, ints[i]) != SQLITE_INTEGER)
				d.damaged = "a number column holds something else";
		if (d.id == NULL || d.sender == NULL || d.recipient == NULL)
			d.damaged = "an empty column";
		if ((rc = fn(arg, &d)) != 0)
			break;
	}
	if (rc == MXTLS_OK && s != SQLITE_DONE && s != SQLITE_ROW)
		rc = db_fail(ix, "due", err, errlen);
	sqlite3_finalize(st);
	return rc;
}

int delivery_index_next_due(struct delivery_index *ix, int64_t *when)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(ix->db,
			       "SELECT MIN(next_attempt) FROM recipients "
			       "WHERE state IN ('pending', 'deferred')",
			       -1, &st, NULL) != SQLITE_OK)
		return MXTLS_E_IO;
	int s = sqlite3_step(st);
	*when = INT64_MAX;
	if (s == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER)
		*when = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return s == SQLITE_ROW || s == SQLITE_DONE ? MXTLS_OK : MXTLS_E_IO;
}

/* Sets the message's warned flag (inside the caller's transaction). */
static bool set_warned(struct delivery_index *ix, const char *id)
{
	int changes;
	return exec_id(ix, "UPDATE messages SET warned = 1 WHERE id = ?1", id, 0, &changes) ==
	       MXTLS_OK;
}

/* Removes the message's rows when none of its recipients waits any more; *finished says so. */
static bool finish_if_done(struct delivery_index *ix, const char *id, bool *finished)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(ix->db,
			       "SELECT COUNT(*) FROM recipients WHERE message_id = ?1 AND "
			       "state NOT IN ('delivered', 'bounced')",
			       -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	bool ok = sqlite3_step(st) == SQLITE_ROW;
	int64_t waiting = ok ? sqlite3_column_int64(st, 0) : 1;
	sqlite3_finalize(st);
	*finished = ok && waiting == 0;
	if (!*finished)
		return ok;
	int changes;
	return exec_id(ix, "DELETE FROM recipients WHERE message_id = ?1", id, 0, &changes) ==
		       MXTLS_OK &&
	       exec_id(ix, "DELETE FROM messages WHERE id = ?1", id, 0, &changes) == MXTLS_OK;
}

/* One message's rows, inside the caller's transaction. */
static bool settle_one(struct delivery_index *ix, sqlite3_stmt *st, struct delivery_settle_msg *m)
{
	m->finished = false;
	bool ok = true;
	for (size_t i = 0; ok && i < m->n; i++) {
		const struct delivery_settle *r = &m->rows[i];
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, r->seq);
		sqlite3_bind_text(st, 3, r->state, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, r->attempts);
		sqlite3_bind_int64(st, 5, r->next_attempt);
		sqlite3_bind_text(st, 6, r->last_host, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, r->last_reply, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, r->result_type, -1, SQLITE_STATIC);
		ok = step_done(st);
	}
	return ok && (!m->warned || set_warned(ix, m->id)) && finish_if_done(ix, m->id, &m->finished);
}

int delivery_index_settle_many(struct delivery_index *ix, struct delivery_settle_msg *msgs,
			       size_t n, char *err, size_t errlen)
{
	for (size_t k = 0; k < n; k++)
		msgs[k].finished = false;
	if (n == 0)
		return MXTLS_OK;
	sqlite3_stmt *st = NULL;
	if (sqlite3_exec(ix->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(ix, "begin", err, errlen);
	/* Only a row still waiting changes: a hold or delete made meanwhile by `mxtls queue`
	 * is not undone by a delivery that was already running (a delivered or bounced result
	 * still counts: the server has the message). */
	bool ok = sqlite3_prepare_v2(ix->db,
				     "UPDATE recipients SET state = ?3, attempts = ?4, "
				     "next_attempt = ?5, last_host = ?6, last_reply = ?7, "
				     "result_type = ?8 WHERE message_id = ?1 AND seq = ?2 AND "
				     "(state IN ('pending', 'deferred') OR ?3 IN ('delivered', "
				     "'bounced'))",
				     -1, &st, NULL) == SQLITE_OK;
	for (size_t k = 0; ok && k < n; k++)
		ok = settle_one(ix, st, &msgs[k]);
	sqlite3_finalize(st);
	/* synchronous=FULL: the results are durable when COMMIT returns. */
	if (ok && sqlite3_exec(ix->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return MXTLS_OK;
	for (size_t k = 0; k < n; k++)
		msgs[k].finished = false;
	int rc = db_fail(ix, "recording results", err, errlen);
	sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int delivery_index_set_aside(struct delivery_index *ix, const char *id, int64_t rowid,
			     const char *why, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(ix->db,
			       "UPDATE recipients SET state = 'held', last_reply = ?3 WHERE "
			       "(?1 IS NOT NULL AND message_id = ?1 AND state IN ('pending', "
			       "'deferred')) OR (?1 IS NULL AND rowid = ?2)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(ix, "set aside", err, errlen);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, rowid);
	sqlite3_bind_text(st, 3, why, -1, SQLITE_STATIC);
	bool ok = step_done(st);
	sqlite3_finalize(st);
	return ok ? MXTLS_OK : db_fail(ix, "set aside", err, errlen);
}
