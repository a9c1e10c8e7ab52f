/* SPDX-License-Identifier: MIT */
/* TLS reports received from other organisations (RFC 8460 §4), kept in SQLite
 * (STATE_DIR/reports.sqlite): each report once, byte for byte, with its policies and failure
 * details as rows to query by domain, day, reporter, MX host and result type. */
#ifndef MXTLS_TLSRPT_INBOX_H
#define MXTLS_TLSRPT_INBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsrpt/tlsrpt_read.h"

struct tlsrpt_inbox;

/*
 * Opens (with create, creating) the report store at path.  Commits are synchronous=FULL: a
 * report said to be stored (an HTTP 201, an ingest line) is on disk.  Returns MXTLS_OK,
 * MXTLS_E_NOTFOUND (no file and !create), MXTLS_E_IO (reason in err; also a file of a newer
 * schema), MXTLS_E_NOMEM.
 */
int tlsrpt_inbox_open(const char *path, bool create, struct tlsrpt_inbox **out, char *err,
		      size_t errlen);
void tlsrpt_inbox_close(struct tlsrpt_inbox *b);

/* Where a report came from (all borrowed). */
struct tlsrpt_inbox_origin {
	const char *source;  /* "https", "mail", "file" */
	const char *where;   /* the peer address, the file, the message */
	const char *dkim;    /* "pass d=DOMAIN", "none (accepted unsigned)", "" for https/files */
	int64_t received_at; /* Unix seconds */
};

/*
 * Stores r (parsed from raw[0..rawlen), which is kept as it came: unknown fields live there) in
 * one transaction.  A report whose organization-name and report-id are already stored is not
 * stored again: *dup is set (RFC 8460 §4.4: report-id is unique per organisation).
 * Returns MXTLS_OK, MXTLS_E_IO, MXTLS_E_NOMEM.
 */
int tlsrpt_inbox_put(struct tlsrpt_inbox *b, const struct tlsrpt_read_report *r, const char *raw,
		     size_t rawlen, const struct tlsrpt_inbox_origin *o, bool *dup, char *err,
		     size_t errlen);

/* A count by name (a result type, an organisation). */
struct tlsrpt_inbox_count {
	char *name;
	uint64_t n;
};

/* One UTC day (the day a report's range starts). */
struct tlsrpt_inbox_day {
	int64_t day; /* 00:00:00Z, Unix seconds */
	char **orgs; /* the reporting organisations, sorted */
	size_t norgs;
	uint64_t sessions; /* successful and failed */
	uint64_t failures;
	struct tlsrpt_inbox_count *by_result; /* failed sessions per result type, by name */
	size_t nby_result;
};

/* Failures at one MX host (receiving-mx-hostname, else receiving-ip). */
struct tlsrpt_inbox_mx {
	char *mx;
	uint64_t failures;
	struct tlsrpt_inbox_count *by_result;
	size_t nby_result;
	char **sending_ips; /* where the failed sessions came from, sorted, distinct */
	size_t nsending_ips;
};

/* What the reports about a domain say over [from, to) (by the start of each report's range). */
struct tlsrpt_inbox_summary {
	struct tlsrpt_inbox_day *days; /* by day, only days with a report */
	size_t ndays;
	struct tlsrpt_inbox_mx *mx; /* by failures, most first, then name */
	size_t nmx;
	struct tlsrpt_inbox_count *orgs; /* reports per organisation over the range, by name */
	size_t norgs;
	uint64_t reports;
	uint64_t sessions, failures;
};

/*
 * The reports whose policy-domain is domain or a name below it (a tlsa policy's domain is the
 * MX host, RFC 8460 §1.1), over [from, to).  *out is zeroed first (release with
 * tlsrpt_inbox_summary_clear()).  Returns MXTLS_OK, MXTLS_E_IO, MXTLS_E_NOMEM.
 */
int tlsrpt_inbox_summary(struct tlsrpt_inbox *b, const char *domain, int64_t from, int64_t to,
			 struct tlsrpt_inbox_summary *out, char *err, size_t errlen);
void tlsrpt_inbox_summary_clear(struct tlsrpt_inbox_summary *s);

/* Failed sessions of one result type at one MX host as one organisation reported them. */
struct tlsrpt_inbox_blame {
	char *result_type;
	char *mx; /* receiving-mx-hostname, else receiving-ip, else "" */
	char *org;
	uint64_t n;
};

/* The failures about domain (as tlsrpt_inbox_summary()) over [from, to), most first, then by
 * result type, MX and organisation.  Returns MXTLS_OK, MXTLS_E_IO, MXTLS_E_NOMEM. */
int tlsrpt_inbox_blame(struct tlsrpt_inbox *b, const char *domain, int64_t from, int64_t to,
		       struct tlsrpt_inbox_blame **out, size_t *n, char *err, size_t errlen);
void tlsrpt_inbox_blame_free(struct tlsrpt_inbox_blame *v, size_t n);

/* The start of the earliest report about domain, any time (*first = 0: none). */
int tlsrpt_inbox_first(struct tlsrpt_inbox *b, const char *domain, int64_t *first, char *err,
		       size_t errlen);

#endif
