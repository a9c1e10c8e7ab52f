/* SPDX-License-Identifier: MIT */
/* TLS-RPT results in SQLite (STATE_DIR/tlsrpt.sqlite): recording sessions, the day's
 * aggregates per policy, pruning old days.  This file owns the schema. */
#ifndef MXTLS_TLSRPT_STORE_H
#define MXTLS_TLSRPT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsrpt/tlsrpt_report.h"

/* The database file inside the state directory. */
#define TLSRPT_STORE_FILE "tlsrpt.sqlite"
/* Caps on what one result may carry: longer text or more strings is refused, not cut. */
#define TLSRPT_FIELD_MAX   1024 /* bytes of one failure field or domain */
#define TLSRPT_STRING_MAX  4096 /* bytes of one policy string (a policy line, a TLSA RR) */
#define TLSRPT_STRINGS_MAX 4096 /* policy strings or mx patterns of one policy */

struct tlsrpt_store;

/* One session's result, as the caller knows it (all borrowed). */
struct tlsrpt_result {
	enum tlsrpt_policy_type type;
	const char *domain;         /* policy domain (host name; stored lower case) */
	const char *const *strings; /* policy strings: STS policy lines, TLSA RRs as text */
	size_t nstrings;
	const char *const *mx; /* mx-host patterns (sts), the MX host (tlsa) */
	size_t nmx;
	/* NULL: a successful session.  Otherwise the failure; its result_type is required, the
	 * other fields may be NULL or "" (unknown); count is ignored (one session). */
	const struct tlsrpt_failure *failure;
};

/*
 * Opens (create true: creating) the database at path: WAL, synchronous=NORMAL (a power cut may
 * lose the last results, never corrupt the file: counters, not mail), the schema made or
 * checked (user_version).  On success *out is set; caller frees with tlsrpt_store_close().
 * Returns MXTLS_OK, MXTLS_E_NOTFOUND (create false and no file), MXTLS_E_IO (cannot open,
 * not our schema, a newer schema; reason in err), MXTLS_E_NOMEM.
 */
int tlsrpt_store_open(const char *path, bool create, struct tlsrpt_store **out, char *err,
		      size_t errlen);

/* Closes s; NULL is a no-op. */
void tlsrpt_store_close(struct tlsrpt_store *s);

/*
 * Records one session of day (days since 1970-01-01) in one transaction: the policy's success
 * or failure counter, and for a failure its failure-details row (all fields equal: count + 1).
 * Text is cleaned first: receiving-mx-helo keeps its first line only, and bytes that are not
 * UTF-8 become U+FFFD (jansson writes only UTF-8).  Returns MXTLS_OK, MXTLS_E_INVAL (no domain,
 * bad domain, unknown type, failure without result type), MXTLS_E_LIMIT (a cap above),
 * MXTLS_E_IO (the database refused; reason in err), MXTLS_E_NOMEM.
 */
int tlsrpt_store_record(struct tlsrpt_store *s, int64_t day, const struct tlsrpt_result *r,
			char *err, size_t errlen);

/* count sessions with result r on day (tlsrpt_store_record_many()). */
struct tlsrpt_counted {
	int64_t day;
	const struct tlsrpt_result *r; /* borrowed */
	uint64_t count;                /* 1 to TLSRPT_COUNT_MAX */
};

/*
 * Records v[0..n) in one transaction, each as count sessions (tlsrpt_store_record() for each,
 * count times, but one commit): all or nothing.  Same returns as tlsrpt_store_record(), also
 * MXTLS_E_INVAL for a count of 0 or above TLSRPT_COUNT_MAX.
 */
int tlsrpt_store_record_many(struct tlsrpt_store *s, const struct tlsrpt_counted *v, size_t n,
			     char *err, size_t errlen);

/* The policy domains with results on day, sorted (caller frees with tlsrpt_strings_free()). */
int tlsrpt_store_domains(struct tlsrpt_store *s, int64_t day, char ***out, size_t *n, char *err,
			 size_t errlen);
void tlsrpt_strings_free(char **v, size_t n);

/* One day's aggregates for one policy domain: the policies (ordered by type, then strings,
 * then mx) with their counters and failure details (ordered by every field). */
struct tlsrpt_day {
	struct tlsrpt_policy *policies; /* owned, with everything they point to */
	size_t npolicies;
};

/*
 * Loads day's aggregates for domain into *out (caller frees with tlsrpt_day_free(); npolicies
 * 0 when nothing was recorded).  Returns MXTLS_OK, MXTLS_E_IO, MXTLS_E_NOMEM.
 */
int tlsrpt_store_load(struct tlsrpt_store *s, int64_t day, const char *domain,
		      struct tlsrpt_day **out, char *err, size_t errlen);
void tlsrpt_day_free(struct tlsrpt_day *d);

/* The database handle, for tlsrpt_outbox.c (the outbox table lives in the same file). */
struct sqlite3;
struct sqlite3 *tlsrpt_store_db(struct tlsrpt_store *s);

/* Deletes every day before first_kept (days since 1970-01-01), results and outbox rows alike;
 * *deleted (may be NULL) gets the number of policy rows removed.  Returns MXTLS_OK or MXTLS_E_IO. */
int tlsrpt_store_prune(struct tlsrpt_store *s, int64_t first_kept, uint64_t *deleted, char *err,
		       size_t errlen);

#endif
