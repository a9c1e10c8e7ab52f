/* SPDX-License-Identifier: MIT */
/* Received TLS reports in SQLite (tlsrpt/tlsrpt_inbox.h): the schema, one transaction per
 * report, and the summaries read back by domain and day. */
#include "tlsrpt/tlsrpt_inbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include <mxtls/error.h>

#include "tlsrpt/tlsrpt_report.h"
#include "tlsrpt/tlsrpt_sqlite.h"
#include "util/util_errmsg.h"

/* Schema version in PRAGMA user_version; a newer file is refused, never rewritten. */
#define INBOX_SCHEMA_VERSION  1

/*
 * One row per report (its JSON exactly as received: unknown fields are never lost, and a later
 * version can read more of it), per policies[] element and per failure-details element.  The
 * string lists are JSON arrays (jansson), one column each.  day is the UTC day the report's
 * range starts: reports cover whole days (RFC 8460 §4.1), and a range that ends at the next
 * day's 00:00Z still belongs to its first day.  UNIQUE (organization, report_id): RFC 8460
 * §4.4 makes report-id unique per reporting organisation, so a report that arrives twice (by
 * mail and by HTTPS, or ingested again) is stored once.
 */
static const char SCHEMA[] = "CREATE TABLE IF NOT EXISTS report ("
			     " id INTEGER PRIMARY KEY,"
			     " organization TEXT NOT NULL,"
			     " report_id TEXT NOT NULL,"
			     " contact TEXT,"
			     " start INTEGER NOT NULL,"
			     " end INTEGER NOT NULL,"
			     " day INTEGER NOT NULL,"
			     " quirks INTEGER NOT NULL,"
			     " source TEXT NOT NULL,"
			     " origin TEXT NOT NULL,"
			     " dkim TEXT NOT NULL,"
			     " received_at INTEGER NOT NULL,"
			     " raw BLOB NOT NULL,"
			     " UNIQUE (organization, report_id));"
			     "CREATE INDEX IF NOT EXISTS report_day ON report(day);"
			     "CREATE TABLE IF NOT EXISTS policy ("
			     " id INTEGER PRIMARY KEY,"
			     " report INTEGER NOT NULL REFERENCES report(id) ON DELETE CASCADE,"
			     " type TEXT NOT NULL,"
			     " domain TEXT NOT NULL,"
			     " strings TEXT NOT NULL,"
			     " mx TEXT NOT NULL,"
			     " successes INTEGER NOT NULL,"
			     " failures INTEGER NOT NULL);"
			     "CREATE INDEX IF NOT EXISTS policy_domain ON policy(domain);"
			     "CREATE INDEX IF NOT EXISTS policy_report ON policy(report);"
			     "CREATE TABLE IF NOT EXISTS failure ("
			     " policy INTEGER NOT NULL REFERENCES policy(id) ON DELETE CASCADE,"
			     " result_type TEXT NOT NULL,"
			     " sending_mta_ip TEXT,"
			     " receiving_mx_hostname TEXT,"
			     " receiving_mx_helo TEXT,"
			     " receiving_ip TEXT,"
			     " additional_information TEXT,"
			     " failure_reason_code TEXT,"
			     " count INTEGER NOT NULL);"
			     "CREATE INDEX IF NOT EXISTS failure_policy ON failure(policy);";

struct tlsrpt_inbox {
	sqlite3 *db;
	char path[512];
};

static int db_error(struct tlsrpt_inbox *b, char *err, size_t errlen)
{
	util_errmsg(err, errlen, "report store %s: %s", b->path, sqlite3_errmsg(b->db));
	return sqlite3_errcode(b->db) == SQLITE_NOMEM ? MXTLS_E_NOMEM : MXTLS_E_IO;
}

static int schema(struct tlsrpt_inbox *b, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int version = -1;
	if (sqlite3_prepare_v2(b->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version < 0)
		return db_error(b, err, errlen);
	if (version > INBOX_SCHEMA_VERSION) {
		util_errmsg(err, errlen, "report store %s: schema version %d is newer than %d",
			    b->path, version, INBOX_SCHEMA_VERSION);
		return MXTLS_E_IO;
	}
	if (version == INBOX_SCHEMA_VERSION)
		return MXTLS_OK;
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", INBOX_SCHEMA_VERSION);
	if (sqlite3_exec(b->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(b->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(b->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(b->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		int rc = db_error(b, err, errlen);
		sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return MXTLS_OK;
}

int tlsrpt_inbox_open(const char *path, bool create, struct tlsrpt_inbox **out, char *err,
		      size_t errlen)
{
	if (path == NULL || out == NULL)
		return MXTLS_E_INVAL;
	struct tlsrpt_inbox *b = calloc(1, sizeof *b);
	if (b == NULL)
		return MXTLS_E_NOMEM;
	snprintf(b->path, sizeof b->path, "%s", path);
	/* FULL: a commit is on disk before the report is said to be stored. */
	int rc = tlsrpt_sqlite_open(path, create, true, "report store", &b->db, err, errlen);
	if (rc == MXTLS_OK)
		rc = schema(b, err, errlen);
	if (rc != MXTLS_OK) {
		tlsrpt_inbox_close(b);
		return rc;
	}
	*out = b;
	return MXTLS_OK;
}

void tlsrpt_inbox_close(struct tlsrpt_inbox *b)
{
	if (b == NULL)
		return;
	sqlite3_close(b->db);
	free(b);
}

/* ---- storing ------------------------------------------------------------------------- */

/* A JSON array of the n strings (compact), caller frees. */
static char *json_list(char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) != 0) {
			json_decref(a);
			a = NULL;
		}
	char *s = a != NULL ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	return s;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static int put_policy(struct tlsrpt_inbox *b, sqlite3_stmt *ps, sqlite3_stmt *fs, int64_t report,
		      const struct tlsrpt_read_policy *p)
{
	char *strings = json_list(p->policy_string, p->npolicy_string);
	char *mx = json_list(p->mx_host, p->nmx_host);
	int rc = strings != NULL && mx != NULL ? MXTLS_OK : MXTLS_E_NOMEM;
	if (rc == MXTLS_OK) {
		sqlite3_reset(ps);
		sqlite3_bind_int64(ps, 1, report);
		bind_text(ps, 2, p->policy_type);
		bind_text(ps, 3, p->policy_domain);
		bind_text(ps, 4, strings);
		bind_text(ps, 5, mx);
		sqlite3_bind_int64(ps, 6, (sqlite3_int64)p->total_successful);
		sqlite3_bind_int64(ps, 7, (sqlite3_int64)p->total_failure);
		if (sqlite3_step(ps) != SQLITE_DONE)
			rc = MXTLS_E_IO;
	}
	free(strings);
	free(mx);
	int64_t policy = sqlite3_last_insert_rowid(b->db);
	for (size_t k = 0; k < p->nfailures && rc == MXTLS_OK; k++) {
		const struct tlsrpt_read_failure *f = &p->failures[k];
		sqlite3_reset(fs);
		sqlite3_bind_int64(fs, 1, policy);
		bind_text(fs, 2, f->result_type);
		bind_text(fs, 3, f->sending_mta_ip);
		bind_text(fs, 4, f->receiving_mx_hostname);
		bind_text(fs, 5, f->receiving_mx_helo);
		bind_text(fs, 6, f->receiving_ip);
		bind_text(fs, 7, f->additional_information);
		bind_text(fs, 8, f->failure_reason_code);
		sqlite3_bind_int64(fs, 9, (sqlite3_int64)f->failed_session_count);
		if (sqlite3_step(fs) != SQLITE_DONE)
			rc = MXTLS_E_IO;
	}
	return rc;
}

int tlsrpt_inbox_put(struct tlsrpt_inbox *b, const struct tlsrpt_read_report *r, const char *raw,
		     size_t rawlen, const struct tlsrpt_inbox_origin *o, bool *dup, char *err,
		     size_t errlen)
{
	if (b == NULL || r == NULL || raw == NULL || o == NULL || dup == NULL)
		return MXTLS_E_INVAL;
	*dup = false;
	sqlite3_stmt *rs = NULL, *ps = NULL, *fs = NULL;
	int64_t day = r->start -
		      (r->start % TLSRPT_DAY_SECONDS + TLSRPT_DAY_SECONDS) % TLSRPT_DAY_SECONDS;
	if (sqlite3_exec(b->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(b, err, errlen);
	int rc = MXTLS_OK;
	if (sqlite3_prepare_v2(b->db,
			       "INSERT INTO report (organization, report_id, contact, start, end, "
			       "day, quirks, source, origin, dkim, received_at, raw) VALUES "
			       "(?,?,?,?,?,?,?,?,?,?,?,?) "
			       "ON CONFLICT (organization, report_id) DO NOTHING",
			       -1, &rs, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(b->db,
			       "INSERT INTO policy (report, type, domain, strings, mx, successes, "
			       "failures) VALUES (?,?,?,?,?,?,?)",
			       -1, &ps, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(b->db,
			       "INSERT INTO failure (policy, result_type, sending_mta_ip, "
			       "receiving_mx_hostname, receiving_mx_helo, receiving_ip, "
			       "additional_information, failure_reason_code, count) VALUES "
			       "(?,?,?,?,?,?,?,?,?)",
			       -1, &fs, NULL) != SQLITE_OK) {
		rc = db_error(b, err, errlen);
	}
	if (rc == MXTLS_OK) {
		bind_text(rs, 1, r->organization_name);
		bind_text(rs, 2, r->report_id);
		bind_text(rs, 3, r->contact_info);
		sqlite3_bind_int64(rs, 4, r->start);
		sqlite3_bind_int64(rs, 5, r->end);
		sqlite3_bind_int64(rs, 6, day);
		sqlite3_bind_int64(rs, 7, (sqlite3_int64)r->quirks);
		bind_text(rs, 8, o->source != NULL ? o->source : "");
		bind_text(rs, 9, o->where != NULL ? o->where : "");
		bind_text(rs, 10, o->dkim != NULL ? o->dkim : "");
		sqlite3_bind_int64(rs, 11, o->received_at);
		sqlite3_bind_blob64(rs, 12, raw, rawlen, SQLITE_TRANSIENT);
		if (sqlite3_step(rs) != SQLITE_DONE)
			rc = db_error(b, err, errlen);
		else if (sqlite3_changes(b->db) == 0)
			*dup = true;
	}
	int64_t report = sqlite3_last_insert_rowid(b->db);
	for (size_t i = 0; rc == MXTLS_OK && !*dup && i < r->npolicies; i++) {
		rc = put_policy(b, ps, fs, report, &r->policies[i]);
		if (rc == MXTLS_E_IO)
			rc = db_error(b, err, errlen);
	}
	sqlite3_finalize(rs);
	sqlite3_finalize(ps);
	sqlite3_finalize(fs);
	if (rc == MXTLS_OK && sqlite3_exec(b->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = db_error(b, err, errlen);
	if (rc != MXTLS_OK) {
		sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
		*dup = false;
	}
	return rc;
}

/* ---- reading --------------------------------------------------------------------------- */

/* The reports about ?1 (the domain or a name below it) starting in [?2, ?3). */
#define INBOX_WHERE                                                                                \
	" FROM report r JOIN policy p ON p.report = r.id"                                          \
	" WHERE (p.domain = ?1 OR substr(p.domain, -length(?1) - 1) = '.' || ?1)"                  \
	" AND r.start >= ?2 AND r.start < ?3"
#define INBOX_FAILURES                                                                             \
	" FROM report r JOIN policy p ON p.report = r.id JOIN failure f ON f.policy = p.id"        \
	" WHERE (p.domain = ?1 OR substr(p.domain, -length(?1) - 1) = '.' || ?1)"                  \
	" AND r.start >= ?2 AND r.start < ?3"
#define INBOX_MX_OF "COALESCE(NULLIF(f.receiving_mx_hostname, ''), NULLIF(f.receiving_ip, ''), '')"

struct query {
	sqlite3_stmt *st;
	int rc;
};

static bool q_open(struct tlsrpt_inbox *b, struct query *q, const char *sql, const char *domain,
		   int64_t from, int64_t to)
{
	q->st = NULL;
	q->rc = MXTLS_OK;
	if (sqlite3_prepare_v2(b->db, sql, -1, &q->st, NULL) != SQLITE_OK) {
		q->rc = MXTLS_E_IO;
		return false;
	}
	sqlite3_bind_text(q->st, 1, domain, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q->st, 2, from);
	sqlite3_bind_int64(q->st, 3, to);
	return true;
}

static bool q_row(struct query *q)
{
	if (q->st == NULL || q->rc != MXTLS_OK)
		return false;
	int s = sqlite3_step(q->st);
	if (s == SQLITE_ROW)
		return true;
	if (s != SQLITE_DONE)
		q->rc = MXTLS_E_IO;
	return false;
}

static int q_close(struct query *q)
{
	sqlite3_finalize(q->st);
	return q->rc;
}

static char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return strdup(t != NULL ? (const char *)t : "");
}

/* Grows *v (of *n elements of size sz) by one zeroed element; NULL when memory ran out. */
static void *grow(void *v, size_t *n, size_t sz)
{
	char *nv = realloc(v, (*n + 1) * sz);
	if (nv == NULL)
		return NULL;
	memset(nv + *n * sz, 0, sz);
	(*n)++;
	return nv;
}

static struct tlsrpt_inbox_day *day_of(struct tlsrpt_inbox_summary *s, int64_t day)
{
	for (size_t i = 0; i < s->ndays; i++)
		if (s->days[i].day == day)
			return &s->days[i];
	return NULL;
}

static struct tlsrpt_inbox_mx *mx_of(struct tlsrpt_inbox_summary *s, const char *mx)
{
	for (size_t i = 0; i < s->nmx; i++)
		if (strcmp(s->mx[i].mx, mx) == 0)
			return &s->mx[i];
	return NULL;
}

static int add_count(struct tlsrpt_inbox_count **v, size_t *n, sqlite3_stmt *st, int name_col,
		     int n_col)
{
	struct tlsrpt_inbox_count *nv = grow(*v, n, sizeof **v);
	if (nv == NULL)
		return MXTLS_E_NOMEM;
	*v = nv;
	nv[*n - 1].name = col_text(st, name_col);
	nv[*n - 1].n = (uint64_t)sqlite3_column_int64(st, n_col);
	return nv[*n - 1].name != NULL ? MXTLS_OK : MXTLS_E_NOMEM;
}

static int add_name(char ***v, size_t *n, sqlite3_stmt *st, int col)
{
	char **nv = grow(*v, n, sizeof **v);
	if (nv == NULL)
		return MXTLS_E_NOMEM;
	*v = nv;
	nv[*n - 1] = col_text(st, col);
	return nv[*n - 1] != NULL ? MXTLS_OK : MXTLS_E_NOMEM;
}

static int days(struct tlsrpt_inbox *b, const char *d, int64_t from, int64_t to,
		struct tlsrpt_inbox_summary *s)
{
	struct query q;
	int rc = MXTLS_OK;
	if (q_open(b, &q,
		   "SELECT r.day, SUM(p.successes + p.failures), SUM(p.failures)" INBOX_WHERE
		   " GROUP BY r.day ORDER BY r.day",
		   d, from, to))
		while (rc == MXTLS_OK && q_row(&q)) {
			struct tlsrpt_inbox_day *nv = grow(s->days, &s->ndays, sizeof *nv);
			if (nv == NULL) {
				rc = MXTLS_E_NOMEM;
				break;
			}
			s->days = nv;
			nv[s->ndays - 1].day = sqlite3_column_int64(q.st, 0);
			nv[s->ndays - 1].sessions = (uint64_t)sqlite3_column_int64(q.st, 1);
			nv[s->ndays - 1].failures = (uint64_t)sqlite3_column_int64(q.st, 2);
			s->sessions += nv[s->ndays - 1].sessions;
			s->failures += nv[s->ndays - 1].failures;
		}
	int qrc = q_close(&q);
	if (rc != MXTLS_OK || qrc != MXTLS_OK)
		return rc != MXTLS_OK ? rc : qrc;
	if (q_open(b, &q, "SELECT DISTINCT r.day, r.organization" INBOX_WHERE " ORDER BY 1, 2", d,
		   from, to))
		while (rc == MXTLS_OK && q_row(&q)) {
			struct tlsrpt_inbox_day *day = day_of(s, sqlite3_column_int64(q.st, 0));
			if (day != NULL)
				rc = add_name(&day->orgs, &day->norgs, q.st, 1);
		}
	qrc = q_close(&q);
	if (rc != MXTLS_OK || qrc != MXTLS_OK)
		return rc != MXTLS_OK ? rc : qrc;
	if (q_open(b, &q,
		   "SELECT r.day, f.result_type, SUM(f.count)" INBOX_FAILURES
		   " GROUP BY 1, 2 ORDER BY 1, 2",
		   d, from, to))
		while (rc == MXTLS_OK && q_row(&q)) {
			struct tlsrpt_inbox_day *day = day_of(s, sqlite3_column_int64(q.st, 0));
			if (day != NULL)
				rc = add_count(&day->by_result, &day->nby_result, q.st, 1, 2);
		}
	qrc = q_close(&q);
	return rc != MXTLS_OK ? rc : qrc;
}

static int mx_rows(struct tlsrpt_inbox *b, const char *d, int64_t from, int64_t to,
		   struct tlsrpt_inbox_summary *s)
{
	struct query q;
	int rc = MXTLS_OK;
	if (q_open(b, &q,
		   "SELECT " INBOX_MX_OF ", f.result_type, SUM(f.count)" INBOX_FAILURES
		   " GROUP BY 1, 2 ORDER BY 1, 2",
		   d, from, to))
		while (rc == MXTLS_OK && q_row(&q)) {
			const char *name = (const char *)sqlite3_column_text(q.st, 0);
			struct tlsrpt_inbox_mx *m = mx_of(s, name != NULL ? name : "");
			if (m == NULL) {
				struct tlsrpt_inbox_mx *nv = grow(s->mx, &s->nmx, sizeof *nv);
				if (nv == NULL) {
					rc = MXTLS_E_NOMEM;
					break;
				}
				s->mx = nv;
				m = &nv[s->nmx - 1];
				if ((m->mx = col_text(q.st, 0)) == NULL) {
					rc = MXTLS_E_NOMEM;
					break;
				}
			}
			m->failures += (uint64_t)sqlite3_column_int64(q.st, 2);
			rc = add_count(&m->by_result, &m->nby_result, q.st, 1, 2);
		}
	int qrc = q_close(&q);
	if (rc != MXTLS_OK || qrc != MXTLS_OK)
		return rc != MXTLS_OK ? rc : qrc;
	if (q_open(b, &q,
		   "SELECT DISTINCT " INBOX_MX_OF ", f.sending_mta_ip" INBOX_FAILURES
		   " AND f.sending_mta_ip IS NOT NULL ORDER BY 1, 2",
		   d, from, to))
		while (rc == MXTLS_OK && q_row(&q)) {
			const char *name = (const char *)sqlite3_column_text(q.st, 0);
			struct tlsrpt_inbox_mx *m = mx_of(s, name != NULL ? name : "");
			if (m != NULL)
				rc = add_name(&m->sending_ips, &m->nsending_ips, q.st, 1);
		}
	qrc = q_close(&q);
	if (rc != MXTLS_OK || qrc != MXTLS_OK)
		return rc != MXTLS_OK ? rc : qrc;
	/* Most failures first, then by name: the worst host leads. */
	for (size_t i = 1; i < s->nmx; i++) {
		struct tlsrpt_inbox_mx x = s->mx[i];
		size_t k = i;
		while (k > 0 && (s->mx[k - 1].failures < x.failures ||
				 (s->mx[k - 1].failures == x.failures &&
				  strcmp(s->mx[k - 1].mx, x.mx) > 0))) {
			s->mx[k] = s->mx[k - 1];
			k--;
		}
		s->mx[k] = x;
	}
	return MXTLS_OK;
}

static int orgs(struct tlsrpt_inbox *b, const char *d, int64_t from, int64_t to,
		struct tlsrpt_inbox_summary *s)
{
	struct query q;
	int rc = MXTLS_OK;
	if (q_open(b, &q,
		   "SELECT r.organization, COUNT(DISTINCT r.id)" INBOX_WHERE
		   " GROUP BY 1 ORDER BY 1",
		   d, from, to))
		while (rc == MXTLS_OK && q_row(&q))
			if ((rc = add_count(&s->orgs, &s->norgs, q.st, 0, 1)) == MXTLS_OK)
				s->reports += s->orgs[s->norgs - 1].n;
	int qrc = q_close(&q);
	return rc != MXTLS_OK ? rc : qrc;
}

int tlsrpt_inbox_summary(struct tlsrpt_inbox *b, const char *domain, int64_t from, int64_t to,
			 struct tlsrpt_inbox_summary *out, char *err, size_t errlen)
{
	if (b == NULL || domain == NULL || out == NULL)
		return MXTLS_E_INVAL;
	memset(out, 0, sizeof *out);
	int rc = days(b, domain, from, to, out);
	if (rc == MXTLS_OK)
		rc = mx_rows(b, domain, from, to, out);
	if (rc == MXTLS_OK)
		rc = orgs(b, domain, from, to, out);
	if (rc == MXTLS_E_IO)
		rc = db_error(b, err, errlen);
	if (rc != MXTLS_OK)
		tlsrpt_inbox_summary_clear(out);
	return rc;
}

static void counts_free(struct tlsrpt_inbox_count *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

static void names_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void tlsrpt_inbox_summary_clear(struct tlsrpt_inbox_summary *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->ndays; i++) {
		names_free(s->days[i].orgs, s->days[i].norgs);
		counts_free(s->days[i].by_result, s->days[i].nby_result);
	}
	free(s->days);
	for (size_t i = 0; i < s->nmx; i++) {
		free(s->mx[i].mx);
		counts_free(s->mx[i].by_result, s->mx[i].nby_result);
		names_free(s->mx[i].sending_ips, s->mx[i].nsending_ips);
	}
	free(s->mx);
	counts_free(s->orgs, s->norgs);
	memset(s, 0, sizeof *s);
}

int tlsrpt_inbox_blame(struct tlsrpt_inbox *b, const char *domain, int64_t from, int64_t to,
		       struct tlsrpt_inbox_blame **out, size_t *n, char *err, size_t errlen)
{
	if (b == NULL || domain == NULL || out == NULL || n == NULL)
		return MXTLS_E_INVAL;
	*out = NULL;
	*n = 0;
	struct query q;
	int rc = MXTLS_OK;
	if (q_open(b, &q,
		   "SELECT f.result_type, " INBOX_MX_OF ", r.organization, SUM(f.count)" INBOX_FAILURES
		   " GROUP BY 1, 2, 3 ORDER BY 4 DESC, 1, 2, 3",
		   domain, from, to))
		while (rc == MXTLS_OK && q_row(&q)) {
			struct tlsrpt_inbox_blame *nv = grow(*out, n, sizeof *nv);
			if (nv == NULL) {
				rc = MXTLS_E_NOMEM;
				break;
			}
			*out = nv;
			struct tlsrpt_inbox_blame *x = &nv[*n - 1];
			x->result_type = col_text(q.st, 0);
			x->mx = col_text(q.st, 1);
			x->org = col_text(q.st, 2);
			x->n = (uint64_t)sqlite3_column_int64(q.st, 3);
			if (x->result_type == NULL || x->mx == NULL || x->org == NULL)
				rc = MXTLS_E_NOMEM;
		}
	int qrc = q_close(&q);
	if (rc == MXTLS_OK && qrc != MXTLS_OK)
		rc = db_error(b, err, errlen);
	if (rc != MXTLS_OK) {
		tlsrpt_inbox_blame_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

void tlsrpt_inbox_blame_free(struct tlsrpt_inbox_blame *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].result_type);
		free(v[i].mx);
		free(v[i].org);
	}
	free(v);
}

int tlsrpt_inbox_first(struct tlsrpt_inbox *b, const char *domain, int64_t *first, char *err,
		       size_t errlen)
{
	if (b == NULL || domain == NULL || first == NULL)
		return MXTLS_E_INVAL;
	*first = 0;
	struct query q;
	if (q_open(b, &q, "SELECT MIN(r.start)" INBOX_WHERE, domain, INT64_MIN, INT64_MAX) &&
	    q_row(&q) && sqlite3_column_type(q.st, 0) != SQLITE_NULL)
		*first = sqlite3_column_int64(q.st, 0);
	if (q_close(&q) != MXTLS_OK)
		return db_error(b, err, errlen);
	return MXTLS_OK;
}
