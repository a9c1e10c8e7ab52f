/* SPDX-License-Identifier: MIT */
/* The domain owner's side of TLS reporting (RFC 8460): reports received from senders, stored,
 * summarised, and the verdict on moving an MTA-STS policy from testing to enforce. */
#ifndef MXTLS_REPORTS_H
#define MXTLS_REPORTS_H

#include <stddef.h>
#include <stdint.h>

#include <mxtls/context.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MXTLS_API
#define MXTLS_API __attribute__((visibility("default")))
#endif

/* The report store, STATE_DIR/reports.sqlite.  Opaque. */
struct mxtls_reports;

/*
 * Opens the store of ctx's state directory (with create, creating the file; the directory must
 * exist).  ctx is borrowed until mxtls_reports_close() (its resolver verifies DKIM keys, its
 * clock dates what is stored).  Returns MXTLS_OK, MXTLS_E_CONFIG (ctx has no state directory),
 * MXTLS_E_NOTFOUND (no store and !create), MXTLS_E_IO, MXTLS_E_NOMEM.
 */
MXTLS_API int mxtls_reports_open(struct mxtls_ctx *ctx, int create, struct mxtls_reports **out,
				 char *err, size_t errlen);
MXTLS_API void mxtls_reports_close(struct mxtls_reports *r);

/* What became of one input. */
enum mxtls_ingest_status {
	MXTLS_INGEST_STORED = 0,    /* a new report, now on disk */
	MXTLS_INGEST_DUPLICATE = 1, /* this organisation's report-id was already stored */
	MXTLS_INGEST_REFUSED = 2,   /* not stored: why says why (not a report, over a cap, no valid
				     * DKIM signature of the submitter's domain, ...) */
	MXTLS_INGEST_RETRY = 3,     /* not stored now: the DKIM key lookup failed (SERVFAIL, a
				     * timeout, DNSSEC-bogus); the same input may be stored later */
};

struct mxtls_ingest_result {
	enum mxtls_ingest_status status;
	char kind[16];          /* "json", "gzip", "mail" */
	char organization[256]; /* "" when unknown */
	char report_id[256];
	char dkim[320]; /* mail: "pass d=DOMAIN s=SELECTOR", or why not; else "" */
	char why[512];  /* one line, "" when stored */
};

/* For a mail report without a DKIM signature that verifies: store it all the same (local files
 * the owner vouches for). */
#define MXTLS_INGEST_ACCEPT_UNSIGNED 0x1u

/*
 * Reads one input (data, len: untrusted bytes, borrowed) and stores the report it holds: a JSON
 * report, a gzip'd one, or a mail message (RFC 8460 §5.3 multipart/report; report-type=tlsrpt)
 * whose DKIM signature (RFC 6376) by the domain of its TLS-Report-Submitter must verify, the key
 * looked up through ctx's DNSSEC-validating resolver and accepted only when its s= allows
 * tlsrpt (RFC 8460 §3).  What it is comes from its bytes, not its name.  source ("https", "mail",
 * "file") and origin (a path, a peer) are stored with the report.  Blocking (DNS for DKIM).
 * Returns MXTLS_OK with *res filled (stored, duplicate or refused), MXTLS_E_IO (the store),
 * MXTLS_E_INVAL, MXTLS_E_NOMEM.
 */
MXTLS_API int mxtls_reports_ingest(struct mxtls_reports *r, const void *data, size_t len,
				   const char *source, const char *origin, unsigned flags,
				   struct mxtls_ingest_result *res);

/* What the stored reports say about a domain over the last days (see mxtls_reports_summary). */
struct mxtls_report_summary;

/*
 * The reports about domain (its policy-domain, and names below it: a tlsa policy names the MX
 * host) whose range starts in the last days UTC days up to today (ctx's clock), and the totals
 * of the days before them (the previous period).  Returns MXTLS_OK, MXTLS_E_INVAL,
 * MXTLS_E_IO, MXTLS_E_NOMEM.
 */
MXTLS_API int mxtls_reports_summary(struct mxtls_reports *r, const char *domain, unsigned days,
				    struct mxtls_report_summary **out, char *err, size_t errlen);
MXTLS_API void mxtls_report_summary_free(struct mxtls_report_summary *s);

/* The domain; reports, sessions (successful and failed) and failed sessions over the period,
 * and the same for the period before it. */
MXTLS_API const char *mxtls_report_summary_domain(const struct mxtls_report_summary *s);
MXTLS_API uint64_t mxtls_report_summary_reports(const struct mxtls_report_summary *s);
MXTLS_API uint64_t mxtls_report_summary_sessions(const struct mxtls_report_summary *s);
MXTLS_API uint64_t mxtls_report_summary_failures(const struct mxtls_report_summary *s);
MXTLS_API uint64_t mxtls_report_summary_previous_sessions(const struct mxtls_report_summary *s);
MXTLS_API uint64_t mxtls_report_summary_previous_failures(const struct mxtls_report_summary *s);

/* The days with reports, oldest first: "YYYY-MM-DD", sessions, failures, the organisations that
 * reported, and the failed sessions per result type.  Out of range: NULL or 0. */
MXTLS_API size_t mxtls_report_summary_day_count(const struct mxtls_report_summary *s);
MXTLS_API const char *mxtls_report_summary_day(const struct mxtls_report_summary *s, size_t i);
MXTLS_API uint64_t mxtls_report_summary_day_sessions(const struct mxtls_report_summary *s,
						     size_t i);
MXTLS_API uint64_t mxtls_report_summary_day_failures(const struct mxtls_report_summary *s,
						     size_t i);
MXTLS_API size_t mxtls_report_summary_day_org_count(const struct mxtls_report_summary *s, size_t i);
MXTLS_API const char *mxtls_report_summary_day_org(const struct mxtls_report_summary *s, size_t i,
						   size_t k);
MXTLS_API size_t mxtls_report_summary_day_result_count(const struct mxtls_report_summary *s,
						       size_t i);
MXTLS_API const char *mxtls_report_summary_day_result(const struct mxtls_report_summary *s,
						      size_t i, size_t k, uint64_t *n);

/* The MX hosts with failures, most first: name ("" when the reports named none), failed
 * sessions, per result type, and the sending addresses of the failed sessions. */
MXTLS_API size_t mxtls_report_summary_mx_count(const struct mxtls_report_summary *s);
MXTLS_API const char *mxtls_report_summary_mx(const struct mxtls_report_summary *s, size_t i);
MXTLS_API uint64_t mxtls_report_summary_mx_failures(const struct mxtls_report_summary *s, size_t i);
MXTLS_API size_t mxtls_report_summary_mx_result_count(const struct mxtls_report_summary *s,
						      size_t i);
MXTLS_API const char *mxtls_report_summary_mx_result(const struct mxtls_report_summary *s, size_t i,
						     size_t k, uint64_t *n);
MXTLS_API size_t mxtls_report_summary_mx_ip_count(const struct mxtls_report_summary *s, size_t i);
MXTLS_API const char *mxtls_report_summary_mx_ip(const struct mxtls_report_summary *s, size_t i,
						 size_t k);

/* The organisations that reported over the period, by name, with their number of reports. */
MXTLS_API size_t mxtls_report_summary_org_count(const struct mxtls_report_summary *s);
MXTLS_API const char *mxtls_report_summary_org(const struct mxtls_report_summary *s, size_t i,
					       uint64_t *reports);

/* The verdict on moving a domain's MTA-STS policy from testing to enforce. */
struct mxtls_ready;

struct mxtls_ready_req {
	const char *domain;
	unsigned min_orgs; /* distinct reporting organisations needed (0: 3) */
	unsigned min_days; /* days of reports needed, and the window looked at (0: 14) */
	int no_audit;      /* 1: skip the live audit (mxtls_audit()) */
	/* Failures the owner has explained (borrowed): "RESULT-TYPE" or "RESULT-TYPE@MX-HOST";
	 * matching failures are listed as notes, not blockers (e.g. a host retired since). */
	const char *const *explained;
	size_t nexplained;
};

/*
 * "ready" only when at least min_orgs organisations reported over the last min_days days, the
 * first report is at least min_days days old, those reports show no failed session the domain
 * causes (certificate-*, starttls-not-supported, sts-*, validation-failure, at one of its own MX
 * hosts or for its policy), and a live mxtls_audit() of the domain finds no error.  Otherwise
 * "not-ready" with what blocks it, worst first (failures by result type and MX host with the
 * reporters, then the audit's errors); or
 * "not-enough-data" when nothing blocks but reports are missing, or the audit could not run.
 * Failures in the reports make it "not-ready" even when the audit cannot run.  Blocking (the
 * audit).  Returns MXTLS_OK, MXTLS_E_INVAL, MXTLS_E_IO, MXTLS_E_NOMEM.
 */
MXTLS_API int mxtls_reports_ready(struct mxtls_reports *r, const struct mxtls_ready_req *req,
				  struct mxtls_ready **out, char *err, size_t errlen);
MXTLS_API void mxtls_ready_free(struct mxtls_ready *v);

/* "ready", "not-ready", "not-enough-data"; the organisations that reported and the days since
 * the first report (for the thresholds); what the audit said ("ok", "errors", "not-run",
 * "failed"). */
MXTLS_API const char *mxtls_ready_verdict(const struct mxtls_ready *v);
MXTLS_API unsigned mxtls_ready_orgs(const struct mxtls_ready *v);
MXTLS_API unsigned mxtls_ready_days(const struct mxtls_ready *v);
MXTLS_API const char *mxtls_ready_audit(const struct mxtls_ready *v);

/* What blocks, worst first: its kind ("failures", "audit", "data") and one line. */
MXTLS_API size_t mxtls_ready_reason_count(const struct mxtls_ready *v);
MXTLS_API const char *mxtls_ready_reason_kind(const struct mxtls_ready *v, size_t i);
MXTLS_API const char *mxtls_ready_reason(const struct mxtls_ready *v, size_t i);

#ifdef __cplusplus
}
#endif
#endif
