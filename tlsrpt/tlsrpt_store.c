/* SPDX-License-Identifier: MIT */
/* TLS-RPT results in SQLite: the schema, one transaction per recorded session, the day's
 * aggregates read back in a fixed order, and pruning. */
#include "tlsrpt/tlsrpt_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include <mxtls/error.h>

#include "tlsrpt/tlsrpt_sqlite.h"
#include "util/util_dnsname.h"
#include "util/util_errmsg.h"
#include "util/util_text.h"

/* Schema version in PRAGMA user_version; a newer file is refused, never rewritten. */
#define SCHEMA_VERSION 2

/*
 * One row per (day, policy): the RFC 8460 §4.4 summary counters.  A policy is its type, domain,
 * strings and mx patterns: a policy that changed during the day is a second policies[] entry.
 * The string lists are stored as JSON arrays (jansson, compact), which keeps them one column
 * each, comparable, and exactly what the report writes back.
 * One row per distinct failure-details entry, with failed-session-count.  Unknown optional
 * fields are '' (not NULL, so that the primary key compares them).
 */
static const char SCHEMA[] =
	"CREATE TABLE IF NOT EXISTS policy ("
	" id INTEGER PRIMARY KEY,"
	" day INTEGER NOT NULL,"
	" domain TEXT NOT NULL,"
	" type INTEGER NOT NULL,"
	" strings TEXT NOT NULL,"
	" mx TEXT NOT NULL,"
	" successes INTEGER NOT NULL DEFAULT 0,"
	" failures INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE (day, domain, type, strings, mx));"
	"CREATE TABLE IF NOT EXISTS failure ("
	" policy INTEGER NOT NULL REFERENCES policy(id) ON DELETE CASCADE,"
	" result_type TEXT NOT NULL,"
	" sending_mta_ip TEXT NOT NULL,"
	" receiving_mx_hostname TEXT NOT NULL,"
	" receiving_mx_helo TEXT NOT NULL,"
	" receiving_ip TEXT NOT NULL,"
	" additional_information TEXT NOT NULL,"
	" failure_reason_code TEXT NOT NULL,"
	" count INTEGER NOT NULL,"
	" PRIMARY KEY (policy, result_type, sending_mta_ip, receiving_mx_hostname,"
	"  receiving_mx_helo, receiving_ip, additional_information, failure_reason_code)"
	") WITHOUT ROWID;";

/*
 * Version 2: the outbox (tlsrpt_outbox.c), one row per (day, policy domain) report that a send
 * run built: the exact bytes (so that a retry sends the same report, report-id included), where
 * it stands, and when to try again (RFC 8460 §5.5).  state: 'pending' (to be tried at
 * next_try), 'delivered' (a destination accepted it; delivered_to says which), 'no-destination'
 * (no usable _smtp._tls record: nothing to send to), 'gave-up' (24 hours of failures).
 */
static const char SCHEMA_2[] =
	"CREATE TABLE IF NOT EXISTS outbox ("
	" day INTEGER NOT NULL,"
	" domain TEXT NOT NULL,"
	" report_id TEXT NOT NULL,"
	" filename TEXT NOT NULL,"
	" report BLOB NOT NULL,"
	" state TEXT NOT NULL,"
	" first_try INTEGER NOT NULL,"
	" next_try INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT NOT NULL DEFAULT '',"
	" delivered_to TEXT NOT NULL DEFAULT '',"
	" PRIMARY KEY (day, domain)) WITHOUT ROWID;";

static const char SQL_POLICY[] =
	"INSERT INTO policy (day, domain, type, strings, mx, successes, failures)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
	" ON CONFLICT (day, domain, type, strings, mx) DO UPDATE SET"
	" successes = successes + excluded.successes, failures = failures + excluded.failures"
	" RETURNING id";
static const char SQL_FAILURE[] = "INSERT INTO failure VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
				  " ON CONFLICT DO UPDATE SET count = count + excluded.count";

struct tlsrpt_store {
	sqlite3 *db;
	sqlite3_stmt *begin, *commit, *rollback, *policy, *failure;
};

static int db_error(struct tlsrpt_store *s, const char *what, char *err, size_t errlen)
{
	util_errmsg(err, errlen, "tlsrpt store: %s: %s", what, sqlite3_errmsg(s->db));
	return sqlite3_errcode(s->db) == SQLITE_NOMEM ? MXTLS_E_NOMEM : MXTLS_E_IO;
}

static int prepare(struct tlsrpt_store *s, const char *sql, sqlite3_stmt **st, char *err,
		   size_t errlen)
{
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
		return db_error(s, "prepare", err, errlen);
	return MXTLS_OK;
}

/* Makes the schema in a new file, or checks the version of an existing one. */
static int schema(struct tlsrpt_store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return db_error(s, "user_version", err, errlen);
	int version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	if (version == SCHEMA_VERSION)
		return MXTLS_OK;
	if (version == 1) {
		/* Inside the write lock, the version read again: two processes upgrading at once
		 * upgrade once. */
		if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
			return db_error(s, "upgrade", err, errlen);
		char sql[sizeof SCHEMA_2 + 128];
		snprintf(sql, sizeof sql, "%sPRAGMA user_version = %d;", SCHEMA_2, SCHEMA_VERSION);
		if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
			version = -1;
		else {
			version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
			sqlite3_finalize(st);
		}
		if ((version == 1 && sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) ||
		    (version != 1 && version != SCHEMA_VERSION) ||
		    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			int rc = db_error(s, "upgrade", err, errlen);
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
		return MXTLS_OK;
	}
	if (version != 0) {
		util_errmsg(err, errlen, "tlsrpt store: schema version %d, this mxtls knows %d", version,
		    SCHEMA_VERSION);
		return MXTLS_E_IO;
	}
	char sql[sizeof SCHEMA + sizeof SCHEMA_2 + 128];
	snprintf(sql, sizeof sql, "BEGIN IMMEDIATE;%s%sPRAGMA user_version = %d;COMMIT;", SCHEMA,
		 SCHEMA_2, SCHEMA_VERSION);
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		int rc = db_error(s, "schema", err, errlen);
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return MXTLS_OK;
}

int tlsrpt_store_open(const char *path, bool create, struct tlsrpt_store **out, char *err,
		      size_t errlen)
{
	if (path == NULL || out == NULL)
		return MXTLS_E_INVAL;
	struct tlsrpt_store *s = calloc(1, sizeof *s);
	if (s == NULL)
		return MXTLS_E_NOMEM;
	/* NORMAL: a commit is durable at the next checkpoint; a crash loses at most the last
	 * results (reports are optional; recording stays cheap). */
	int rc = tlsrpt_sqlite_open(path, create, false, "tlsrpt store", &s->db, err, errlen);
	if (rc != MXTLS_OK)
		goto fail;
	if ((rc = schema(s, err, errlen)) != MXTLS_OK ||
	    (rc = prepare(s, "BEGIN IMMEDIATE", &s->begin, err, errlen)) != MXTLS_OK ||
	    (rc = prepare(s, "COMMIT", &s->commit, err, errlen)) != MXTLS_OK ||
	    (rc = prepare(s, "ROLLBACK", &s->rollback, err, errlen)) != MXTLS_OK ||
	    (rc = prepare(s, SQL_POLICY, &s->policy, err, errlen)) != MXTLS_OK ||
	    (rc = prepare(s, SQL_FAILURE, &s->failure, err, errlen)) != MXTLS_OK)
		goto fail;
	*out = s;
	return MXTLS_OK;
fail:
	tlsrpt_store_close(s);
	return rc;
}

void tlsrpt_store_close(struct tlsrpt_store *s)
{
	if (s == NULL)
		return;
	sqlite3_finalize(s->begin);
	sqlite3_finalize(s->commit);
	sqlite3_finalize(s->rollback);
	sqlite3_finalize(s->policy);
	sqlite3_finalize(s->failure);
	sqlite3_close(s->db);
	free(s);
}

/* ---- cleaning text before it is stored ---- */

/*
 * A copy of in (at most TLSRPT_FIELD_MAX bytes, else MXTLS_E_LIMIT) with every byte that does
 * not start a valid UTF-8 sequence replaced by U+FFFD; with first_line, cut at the first CR or
 * LF (RFC 8460 §4.4 receiving-mx-helo is one name; a multi-line reply brings more).  NULL in,
 * "" out.  Caller frees.
 */
static int clean(const char *in, size_t cap, bool first_line, char **out)
{
	const char *src = in != NULL ? in : "";
	size_t n = strlen(src);
	if (first_line)
		n = strcspn(src, "\r\n");
	if (n > cap)
		return MXTLS_E_LIMIT;
	char *o = malloc(n * 3 + 1); /* each byte at most becomes EF BF BD */
	if (o == NULL)
		return MXTLS_E_NOMEM;
	size_t k = 0;
	const uint8_t *p = (const uint8_t *)src;
	for (size_t i = 0; i < n;) {
		if (p[i] < 0x80) {
			o[k++] = (char)p[i++];
			continue;
		}
		size_t l = util_utf8_seq(p + i, n - i);
		if (l == 0) {
			memcpy(o + k, "\xef\xbf\xbd", 3);
			k += 3;
			i++;
			continue;
		}
		memcpy(o + k, p + i, l);
		k += l;
		i += l;
	}
	o[k] = '\0';
	*out = o;
	return MXTLS_OK;
}

/* The cleaned strings as a compact JSON array (caller frees). */
static int json_list(const char *const *v, size_t n, char **out)
{
	if (n > TLSRPT_STRINGS_MAX)
		return MXTLS_E_LIMIT;
	if (n > 0 && v == NULL)
		return MXTLS_E_INVAL;
	json_t *a = json_array();
	if (a == NULL)
		return MXTLS_E_NOMEM;
	int rc = MXTLS_OK;
	for (size_t i = 0; i < n && rc == MXTLS_OK; i++) {
		char *c = NULL;
		rc = clean(v[i], TLSRPT_STRING_MAX, false, &c);
		if (rc == MXTLS_OK && json_array_append_new(a, json_string(c)) != 0)
			rc = MXTLS_E_NOMEM;
		free(c);
	}
	char *s = rc == MXTLS_OK ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	if (rc == MXTLS_OK && s == NULL)
		rc = MXTLS_E_NOMEM;
	if (rc == MXTLS_OK)
		*out = s;
	return rc;
}

enum { F_RESULT, F_SENDING_IP, F_MX, F_HELO, F_RECEIVING_IP, F_ADDITIONAL, F_REASON, F_COUNT };

static int step_done(struct tlsrpt_store *s, sqlite3_stmt *st)
{
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	return r == SQLITE_DONE ? SQLITE_OK : r;
}

/* Adds count sessions of r on day inside the open transaction. */
static int add_in_txn(struct tlsrpt_store *s, int64_t day, const struct tlsrpt_result *r,
		      uint64_t count, char *err, size_t errlen)
{
	if (r == NULL || r->domain == NULL || tlsrpt_policy_type_name(r->type) == NULL ||
	    count == 0 || count > TLSRPT_COUNT_MAX)
		return MXTLS_E_INVAL;
	const struct tlsrpt_failure *f = r->failure;
	if (f != NULL && (f->result_type == NULL || f->result_type[0] == '\0'))
		return MXTLS_E_INVAL;
	/* RFC 8460 §4.4: the policy domain in A-labels; stored canonical (lower case, no root
	 * dot) so that "Example.COM." and "example.com" are one report. */
	char domain[256];
	size_t dlen = strlen(r->domain);
	if (dlen >= sizeof domain || !util_dnsname_canon(r->domain, dlen, domain, sizeof domain))
		return MXTLS_E_INVAL;
	char *strings = NULL, *mx = NULL, *field[F_COUNT] = {NULL};
	int rc = json_list(r->strings, r->nstrings, &strings);
	if (rc == MXTLS_OK)
		rc = json_list(r->mx, r->nmx, &mx);
	if (rc == MXTLS_OK && f != NULL) {
		const char *in[F_COUNT] = {f->result_type,           f->sending_mta_ip,
					   f->receiving_mx_hostname, f->receiving_mx_helo,
					   f->receiving_ip,          f->additional_information,
					   f->failure_reason_code};
		for (int i = 0; i < F_COUNT && rc == MXTLS_OK; i++)
			rc = clean(in[i], TLSRPT_FIELD_MAX, i == F_HELO, &field[i]);
	}
	if (rc != MXTLS_OK)
		goto out;
	sqlite3_stmt *p = s->policy;
	sqlite3_bind_int64(p, 1, day);
	sqlite3_bind_text(p, 2, domain, -1, SQLITE_STATIC);
	sqlite3_bind_int(p, 3, (int)r->type);
	sqlite3_bind_text(p, 4, strings, -1, SQLITE_STATIC);
	sqlite3_bind_text(p, 5, mx, -1, SQLITE_STATIC);
	sqlite3_bind_int64(p, 6, f == NULL ? (sqlite3_int64)count : 0);
	sqlite3_bind_int64(p, 7, f == NULL ? 0 : (sqlite3_int64)count);
	int sr = sqlite3_step(p);
	sqlite3_int64 id = sr == SQLITE_ROW ? sqlite3_column_int64(p, 0) : 0;
	if (sr == SQLITE_ROW)
		sr = sqlite3_step(p); /* RETURNING: finish the statement */
	sqlite3_reset(p);
	sqlite3_clear_bindings(p);
	if (sr != SQLITE_DONE) {
		rc = db_error(s, "policy", err, errlen);
		goto out;
	}
	if (f != NULL) {
		sqlite3_stmt *q = s->failure;
		sqlite3_bind_int64(q, 1, id);
		for (int i = 0; i < F_COUNT; i++)
			sqlite3_bind_text(q, 2 + i, field[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 9, (sqlite3_int64)count);
		sr = step_done(s, q);
		sqlite3_clear_bindings(q);
		if (sr != SQLITE_OK)
			rc = db_error(s, "failure", err, errlen);
	}
out:
	free(strings);
	free(mx);
	for (int i = 0; i < F_COUNT; i++)
		free(field[i]);
	return rc;
}

int tlsrpt_store_record_many(struct tlsrpt_store *s, const struct tlsrpt_counted *v, size_t n,
			     char *err, size_t errlen)
{
	if (s == NULL || (v == NULL && n > 0))
		return MXTLS_E_INVAL;
	if (step_done(s, s->begin) != SQLITE_OK)
		return db_error(s, "begin", err, errlen);
	int rc = MXTLS_OK;
	for (size_t i = 0; i < n && rc == MXTLS_OK; i++)
		rc = add_in_txn(s, v[i].day, v[i].r, v[i].count, err, errlen);
	if (rc == MXTLS_OK && step_done(s, s->commit) != SQLITE_OK)
		rc = db_error(s, "commit", err, errlen);
	if (rc != MXTLS_OK)
		step_done(s, s->rollback);
	return rc;
}

int tlsrpt_store_record(struct tlsrpt_store *s, int64_t day, const struct tlsrpt_result *r,
			char *err, size_t errlen)
{
	struct tlsrpt_counted one = {.day = day, .r = r, .count = 1};
	return tlsrpt_store_record_many(s, &one, 1, err, errlen);
}

void tlsrpt_strings_free(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Appends a copy of s to *v (n entries, cap slots). */
static int push(char ***v, size_t *n, size_t *cap, const char *s)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		char **g = realloc(*v, nc * sizeof *g);
		if (g == NULL)
			return MXTLS_E_NOMEM;
		*v = g;
		*cap = nc;
	}
	char *c = strdup(s != NULL ? s : "");
	if (c == NULL)
		return MXTLS_E_NOMEM;
	(*v)[(*n)++] = c;
	return MXTLS_OK;
}

int tlsrpt_store_domains(struct tlsrpt_store *s, int64_t day, char ***out, size_t *n, char *err,
			 size_t errlen)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT DISTINCT domain FROM policy WHERE day = ?"
			       " ORDER BY domain",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(s, "domains", err, errlen);
	sqlite3_bind_int64(st, 1, day);
	char **v = NULL;
	size_t k = 0, cap = 0;
	int rc = MXTLS_OK, sr;
	while (rc == MXTLS_OK && (sr = sqlite3_step(st)) == SQLITE_ROW)
		rc = push(&v, &k, &cap, (const char *)sqlite3_column_text(st, 0));
	if (rc == MXTLS_OK && sr != SQLITE_DONE)
		rc = db_error(s, "domains", err, errlen);
	sqlite3_finalize(st);
	if (rc != MXTLS_OK) {
		tlsrpt_strings_free(v, k);
		return rc;
	}
	*out = v;
	*n = k;
	return MXTLS_OK;
}

/* ---- reading a day back ---- */

static void policy_free(struct tlsrpt_policy *p)
{
	tlsrpt_strings_free((char **)(uintptr_t)p->strings, p->nstrings);
	tlsrpt_strings_free((char **)(uintptr_t)p->mx, p->nmx);
	free((char *)(uintptr_t)p->domain);
	struct tlsrpt_failure *f = (struct tlsrpt_failure *)(uintptr_t)p->details;
	for (size_t i = 0; i < p->ndetails; i++) {
		const char *fields[] = {f[i].result_type,           f[i].sending_mta_ip,
					f[i].receiving_mx_hostname, f[i].receiving_mx_helo,
					f[i].receiving_ip,          f[i].additional_information,
					f[i].failure_reason_code};
		for (size_t j = 0; j < sizeof fields / sizeof fields[0]; j++)
			free((char *)(uintptr_t)fields[j]);
	}
	free(f);
}

void tlsrpt_day_free(struct tlsrpt_day *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->npolicies; i++)
		policy_free(&d->policies[i]);
	free(d->policies);
	free(d);
}

/* A JSON array of strings (as json_list() stored it) back into a string vector. */
static int unlist(const char *text, const char *const **out, size_t *n)
{
	json_t *a = json_loads(text != NULL ? text : "", 0, NULL);
	if (a == NULL || !json_is_array(a)) {
		json_decref(a);
		return MXTLS_E_IO;
	}
	char **v = NULL;
	size_t k = 0, cap = 0;
	int rc = MXTLS_OK;
	for (size_t i = 0; i < json_array_size(a) && rc == MXTLS_OK; i++) {
		const char *s = json_string_value(json_array_get(a, i));
		rc = s != NULL ? push(&v, &k, &cap, s) : MXTLS_E_IO;
	}
	json_decref(a);
	if (rc != MXTLS_OK) {
		tlsrpt_strings_free(v, k);
		return rc;
	}
	*out = (const char *const *)v;
	*n = k;
	return MXTLS_OK;
}

static int load_failures(struct tlsrpt_store *s, sqlite3_int64 id, struct tlsrpt_policy *p,
			 char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT result_type, sending_mta_ip, receiving_mx_hostname,"
			       " receiving_mx_helo, receiving_ip, additional_information,"
			       " failure_reason_code, count FROM failure WHERE policy = ?"
			       " ORDER BY 1, 2, 3, 4, 5, 6, 7",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(s, "failures", err, errlen);
	sqlite3_bind_int64(st, 1, id);
	struct tlsrpt_failure *f = NULL;
	size_t n = 0, cap = 0;
	int rc = MXTLS_OK, sr;
	while (rc == MXTLS_OK && (sr = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			struct tlsrpt_failure *g = realloc(f, nc * sizeof *g);
			if (g == NULL) {
				rc = MXTLS_E_NOMEM;
				break;
			}
			f = g;
			cap = nc;
		}
		struct tlsrpt_failure *e = &f[n++];
		memset(e, 0, sizeof *e);
		const char **dst[] = {&e->result_type,           &e->sending_mta_ip,
				      &e->receiving_mx_hostname, &e->receiving_mx_helo,
				      &e->receiving_ip,          &e->additional_information,
				      &e->failure_reason_code};
		for (int i = 0; i < 7 && rc == MXTLS_OK; i++) {
			const char *t = (const char *)sqlite3_column_text(st, i);
			*dst[i] = strdup(t != NULL ? t : "");
			if (*dst[i] == NULL)
				rc = MXTLS_E_NOMEM;
		}
		sqlite3_int64 c = sqlite3_column_int64(st, 7);
		e->count = c > 0 ? (uint64_t)c : 0;
	}
	if (rc == MXTLS_OK && sr != SQLITE_DONE)
		rc = db_error(s, "failures", err, errlen);
	sqlite3_finalize(st);
	/* Handed over even on failure: policy_free() frees what was filled in. */
	p->details = f;
	p->ndetails = n;
	return rc;
}

int tlsrpt_store_load(struct tlsrpt_store *s, int64_t day, const char *domain,
		      struct tlsrpt_day **out, char *err, size_t errlen)
{
	if (s == NULL || domain == NULL || out == NULL)
		return MXTLS_E_INVAL;
	struct tlsrpt_day *d = calloc(1, sizeof *d);
	if (d == NULL)
		return MXTLS_E_NOMEM;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT id, type, strings, mx, successes, failures FROM policy"
			       " WHERE day = ? AND domain = ? ORDER BY type, strings, mx",
			       -1, &st, NULL) != SQLITE_OK) {
		free(d);
		return db_error(s, "load", err, errlen);
	}
	sqlite3_bind_int64(st, 1, day);
	sqlite3_bind_text(st, 2, domain, -1, SQLITE_STATIC);
	/* One read transaction: counters and failure details from the same snapshot, even while
	 * the daemon records into the current day (WAL lets it go on meanwhile). */
	if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		free(d);
		return db_error(s, "load", err, errlen);
	}
	size_t cap = 0;
	int rc = MXTLS_OK, sr;
	while (rc == MXTLS_OK && (sr = sqlite3_step(st)) == SQLITE_ROW) {
		if (d->npolicies == cap) {
			size_t nc = cap ? cap * 2 : 4;
			struct tlsrpt_policy *g = realloc(d->policies, nc * sizeof *g);
			if (g == NULL) {
				rc = MXTLS_E_NOMEM;
				break;
			}
			d->policies = g;
			cap = nc;
		}
		struct tlsrpt_policy *p = &d->policies[d->npolicies++];
		memset(p, 0, sizeof *p);
		int type = sqlite3_column_int(st, 1);
		p->type = (enum tlsrpt_policy_type)type;
		p->domain = strdup(domain);
		if (p->domain == NULL) {
			rc = MXTLS_E_NOMEM;
			break;
		}
		if (tlsrpt_policy_type_name(p->type) == NULL) {
			util_errmsg(err, errlen, "tlsrpt store: unknown policy type %d", type);
			rc = MXTLS_E_IO;
			break;
		}
		rc = unlist((const char *)sqlite3_column_text(st, 2), &p->strings, &p->nstrings);
		if (rc == MXTLS_OK)
			rc = unlist((const char *)sqlite3_column_text(st, 3), &p->mx, &p->nmx);
		if (rc == MXTLS_E_IO)
			util_errmsg(err, errlen, "tlsrpt store: a damaged string list");
		sqlite3_int64 ok = sqlite3_column_int64(st, 4), bad = sqlite3_column_int64(st, 5);
		p->successes = ok > 0 ? (uint64_t)ok : 0;
		p->failures = bad > 0 ? (uint64_t)bad : 0;
		if (rc == MXTLS_OK)
			rc = load_failures(s, sqlite3_column_int64(st, 0), p, err, errlen);
	}
	if (rc == MXTLS_OK && sr != SQLITE_DONE)
		rc = db_error(s, "load", err, errlen);
	sqlite3_finalize(st);
	sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL); /* ends a read: nothing to lose */
	if (rc != MXTLS_OK) {
		tlsrpt_day_free(d);
		return rc;
	}
	*out = d;
	return MXTLS_OK;
}

int tlsrpt_store_prune(struct tlsrpt_store *s, int64_t first_kept, uint64_t *deleted, char *err,
		       size_t errlen)
{
	sqlite3_stmt *st;
	/* The failure rows go with their policy (ON DELETE CASCADE, foreign_keys on). */
	if (sqlite3_prepare_v2(s->db, "DELETE FROM policy WHERE day < ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_error(s, "prune", err, errlen);
	sqlite3_bind_int64(st, 1, first_kept);
	int sr = sqlite3_step(st);
	sqlite3_finalize(st);
	if (sr != SQLITE_DONE)
		return db_error(s, "prune", err, errlen);
	if (deleted != NULL)
		*deleted = (uint64_t)sqlite3_changes(s->db);
	if (sqlite3_prepare_v2(s->db, "DELETE FROM outbox WHERE day < ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_error(s, "prune", err, errlen);
	sqlite3_bind_int64(st, 1, first_kept);
	sr = sqlite3_step(st);
	sqlite3_finalize(st);
	if (sr != SQLITE_DONE)
		return db_error(s, "prune", err, errlen);
	return MXTLS_OK;
}

sqlite3 *tlsrpt_store_db(struct tlsrpt_store *s)
{
	return s->db;
}
