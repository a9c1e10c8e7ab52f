/* SPDX-License-Identifier: MIT */
/* The outbox table of STATE_DIR/tlsrpt.sqlite (schema in tlsrpt_store.c, version 2). */
#include "tlsrpt/tlsrpt_outbox.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include <mxtls/error.h>

#include "util/util_errmsg.h"

static const char *const state_names[] = {
	[TLSRPT_OUTBOX_PENDING] = "pending",
	[TLSRPT_OUTBOX_DELIVERED] = "delivered",
	[TLSRPT_OUTBOX_NO_DESTINATION] = "no-destination",
	[TLSRPT_OUTBOX_GAVE_UP] = "gave-up",
};

const char *tlsrpt_outbox_state_name(enum tlsrpt_outbox_state s)
{
	return (unsigned)s < sizeof state_names / sizeof state_names[0] ? state_names[s] : NULL;
}

static int state_of(const char *name, enum tlsrpt_outbox_state *out)
{
	for (size_t i = 0; i < sizeof state_names / sizeof state_names[0]; i++)
		if (name != NULL && strcmp(name, state_names[i]) == 0) {
			*out = (enum tlsrpt_outbox_state)i;
			return MXTLS_OK;
		}
	return MXTLS_E_IO;
}

void tlsrpt_outbox_row_clear(struct tlsrpt_outbox_row *r)
{
	if (r == NULL)
		return;
	free(r->domain);
	free(r->report_id);
	free(r->filename);
	free(r->report);
	free(r->last_error);
	free(r->delivered_to);
	memset(r, 0, sizeof *r);
}

static int db_error(sqlite3 *db, const char *what, char *err, size_t errlen)
{
	util_errmsg(err, errlen, "tlsrpt outbox: %s: %s", what, sqlite3_errmsg(db));
	return sqlite3_errcode(db) == SQLITE_NOMEM ? MXTLS_E_NOMEM : MXTLS_E_IO;
}

static char *text_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return strdup(t != NULL ? (const char *)t : "");
}

int tlsrpt_outbox_get(struct tlsrpt_store *s, int64_t day, const char *domain,
		      struct tlsrpt_outbox_row *out, char *err, size_t errlen)
{
	sqlite3 *db = tlsrpt_store_db(s);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "SELECT domain, report_id, filename, report, state, first_try,"
			       " next_try, attempts, last_error, delivered_to FROM outbox"
			       " WHERE day = ?1 AND domain = ?2",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(db, "get", err, errlen);
	sqlite3_bind_int64(st, 1, day);
	sqlite3_bind_text(st, 2, domain, -1, SQLITE_STATIC);
	int sr = sqlite3_step(st), rc = MXTLS_OK;
	memset(out, 0, sizeof *out);
	if (sr == SQLITE_ROW) {
		out->day = day;
		out->domain = text_dup(st, 0);
		out->report_id = text_dup(st, 1);
		out->filename = text_dup(st, 2);
		int n = sqlite3_column_bytes(st, 3);
		const void *b = sqlite3_column_blob(st, 3);
		out->report = malloc(n > 0 ? (size_t)n : 1);
		if (out->report != NULL && n > 0)
			memcpy(out->report, b, (size_t)n);
		out->report_len = n > 0 ? (size_t)n : 0;
		rc = state_of((const char *)sqlite3_column_text(st, 4), &out->state);
		if (rc != MXTLS_OK)
			util_errmsg(err, errlen, "tlsrpt outbox: %s: unknown state", domain);
		out->first_try = sqlite3_column_int64(st, 5);
		out->next_try = sqlite3_column_int64(st, 6);
		out->attempts = sqlite3_column_int64(st, 7);
		out->last_error = text_dup(st, 8);
		out->delivered_to = text_dup(st, 9);
		if (rc == MXTLS_OK &&
		    (out->domain == NULL || out->report_id == NULL || out->filename == NULL ||
		     out->report == NULL || out->last_error == NULL || out->delivered_to == NULL))
			rc = MXTLS_E_NOMEM;
	} else if (sr == SQLITE_DONE) {
		rc = MXTLS_E_NOTFOUND;
	} else {
		rc = db_error(db, "get", err, errlen);
	}
	sqlite3_finalize(st);
	if (rc != MXTLS_OK)
		tlsrpt_outbox_row_clear(out);
	return rc;
}

int tlsrpt_outbox_add(struct tlsrpt_store *s, const struct tlsrpt_outbox_row *r, char *err,
		      size_t errlen)
{
	sqlite3 *db = tlsrpt_store_db(s);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO outbox (day, domain, report_id, filename, report, state,"
			       " first_try, next_try, attempts, last_error, delivered_to)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
			       " ON CONFLICT (day, domain) DO NOTHING",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(db, "add", err, errlen);
	sqlite3_bind_int64(st, 1, r->day);
	sqlite3_bind_text(st, 2, r->domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->report_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->filename, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, r->report, (int)r->report_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, tlsrpt_outbox_state_name(r->state), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, r->first_try);
	sqlite3_bind_int64(st, 8, r->next_try);
	sqlite3_bind_int64(st, 9, r->attempts);
	sqlite3_bind_text(st, 10, r->last_error != NULL ? r->last_error : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, r->delivered_to != NULL ? r->delivered_to : "", -1,
			  SQLITE_STATIC);
	int sr = sqlite3_step(st);
	sqlite3_finalize(st);
	return sr == SQLITE_DONE ? MXTLS_OK : db_error(db, "add", err, errlen);
}

int tlsrpt_outbox_update(struct tlsrpt_store *s, const struct tlsrpt_outbox_row *r, char *err,
			 size_t errlen)
{
	sqlite3 *db = tlsrpt_store_db(s);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "UPDATE outbox SET state = ?3, next_try = ?4, attempts = ?5,"
			       " last_error = ?6, delivered_to = ?7 WHERE day = ?1 AND domain = ?2",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(db, "update", err, errlen);
	sqlite3_bind_int64(st, 1, r->day);
	sqlite3_bind_text(st, 2, r->domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, tlsrpt_outbox_state_name(r->state), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, r->next_try);
	sqlite3_bind_int64(st, 5, r->attempts);
	sqlite3_bind_text(st, 6, r->last_error != NULL ? r->last_error : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, r->delivered_to != NULL ? r->delivered_to : "", -1,
			  SQLITE_STATIC);
	int sr = sqlite3_step(st);
	sqlite3_finalize(st);
	if (sr != SQLITE_DONE)
		return db_error(db, "update", err, errlen);
	return sqlite3_changes(db) == 1 ? MXTLS_OK : MXTLS_E_NOTFOUND;
}

int64_t tlsrpt_outbox_next_try(int64_t first_try, int64_t now, int64_t attempts)
{
	int64_t end = first_try + TLSRPT_RETRY_WINDOW;
	if (now >= end)
		return -1;
	int64_t delay = TLSRPT_RETRY_FIRST;
	for (int64_t i = 1; i < attempts && delay < TLSRPT_RETRY_MAX; i++)
		delay *= 2;
	if (delay > TLSRPT_RETRY_MAX)
		delay = TLSRPT_RETRY_MAX;
	return now + delay < end ? now + delay : end;
}
