/* SPDX-License-Identifier: MIT */
/* RFC 8460 §4 and §5.1: one day's aggregate report for one policy domain, as JSON, gzip and a
 * file name.  Pure: no I/O, no clock; everything is passed in. */
#ifndef MXTLS_TLSRPT_REPORT_H
#define MXTLS_TLSRPT_REPORT_H

#include <stddef.h>
#include <stdint.h>

/* Seconds in a UTC day: reports cover one whole day (RFC 8460 §4.1). */
#define TLSRPT_DAY_SECONDS 86400
/* The largest count written: I-JSON (RFC 7493 §2.2) integers stay within 2^53 - 1. */
#define TLSRPT_COUNT_MAX 9007199254740991ULL
/* The largest report built (JSON bytes): receivers cap near 10 MB (RFC 8460 §5.2). */
#define TLSRPT_JSON_MAX (64u * 1024 * 1024)

/* RFC 8460 §4.4 policy-type: exactly one of three values. */
enum tlsrpt_policy_type {
	TLSRPT_POLICY_TLSA = 0,
	TLSRPT_POLICY_STS = 1,
	TLSRPT_POLICY_NONE = 2, /* "no-policy-found" */
};

/* "tlsa", "sts", "no-policy-found"; NULL for anything else.  Static string. */
const char *tlsrpt_policy_type_name(enum tlsrpt_policy_type t);

/* One failure-details entry (RFC 8460 §4.4).  Every string is borrowed; NULL or "" means
 * unknown, and the member is then left out (result-type aside, which is required). */
struct tlsrpt_failure {
	const char *result_type; /* an RFC 8460 §4.3 name */
	const char *sending_mta_ip;
	const char *receiving_mx_hostname;
	const char *receiving_mx_helo;
	const char *receiving_ip;
	const char *additional_information; /* a URI */
	const char *failure_reason_code;
	uint64_t count; /* failed-session-count */
};

/* One policies[] element: the policy, its counters and its failure details (all borrowed). */
struct tlsrpt_policy {
	enum tlsrpt_policy_type type;
	const char *domain;         /* policy-domain, A-labels, lower case */
	const char *const *strings; /* policy-string, one element per line or TLSA RR */
	size_t nstrings;
	const char *const *mx; /* mx-host (erratum 6241: an array) */
	size_t nmx;
	uint64_t successes, failures; /* summary */
	const struct tlsrpt_failure *details;
	size_t ndetails;
};

/* What one report says (all borrowed). */
struct tlsrpt_report_in {
	const char *organization; /* organization-name */
	const char *contact;      /* contact-info (RFC 5322 addr-spec) */
	const char *report_id;    /* NULL: derived from the content (tlsrpt_report_json) */
	const char *submitter;    /* the reporting domain, for a derived report-id */
	int64_t day;              /* days since 1970-01-01 (UTC) */
	const struct tlsrpt_policy *policies;
	size_t npolicies;
};

/*
 * Builds the report JSON (RFC 8460 §4.4), compact, members in the order of the RFC's §4.4
 * skeleton, arrays in the order given, followed by a newline.  Without in->report_id the
 * report-id is "<YYYY-MM-DD>.<crc32 of the report without it, 8 hex>.<policy domain>@<submitter>"
 * (unique per day, domain and content; the same report built twice gets the same id, so a
 * receiver can drop a duplicate).  On success *out (NUL-terminated; caller frees with free())
 * and *outlen are set.  Returns MXTLS_OK, MXTLS_E_INVAL (a required field missing, an unknown
 * policy type, no policies), MXTLS_E_SYNTAX (a string that is not UTF-8), MXTLS_E_LIMIT (a
 * count above TLSRPT_COUNT_MAX, a report above TLSRPT_JSON_MAX), MXTLS_E_NOMEM.
 */
int tlsrpt_report_json(const struct tlsrpt_report_in *in, char **out, size_t *outlen);

/* The report-id of a report JSON that tlsrpt_report_json() wrote, into buf (cap bytes).
 * MXTLS_OK, MXTLS_E_SYNTAX (not such a report), MXTLS_E_LIMIT (does not fit). */
int tlsrpt_report_id_of(const char *json, size_t len, char *buf, size_t cap);

/*
 * Compresses (in, len) as one gzip member (RFC 1952) with a fixed header: no file name, mtime 0,
 * OS "unknown" (255), so the same input always gives the same bytes.  On success *out (caller
 * frees with free()) and *outlen are set.  Returns MXTLS_OK, MXTLS_E_LIMIT, MXTLS_E_NOMEM.
 */
int tlsrpt_report_gzip(const void *in, size_t len, uint8_t **out, size_t *outlen);

/*
 * Writes the RFC 8460 §5.1 file name "<sender>!<policy-domain>!<begin>!<end>.json.gz" (Unix
 * seconds of the first and last second of the day, as in date-range) into buf (cap bytes).
 * sender and policy_domain must be host names (A-labels; no "!" or "/" can appear).
 * Returns MXTLS_OK, MXTLS_E_INVAL (not host names), MXTLS_E_LIMIT (does not fit).
 */
int tlsrpt_report_filename(const char *sender, const char *policy_domain, int64_t day, char *buf,
			   size_t cap);

/* Parses a UTC day "YYYY-MM-DD" (exactly that form, a real calendar date from 1970-01-01 to
 * 9999-12-31) into days since 1970-01-01.  Returns MXTLS_OK or MXTLS_E_SYNTAX. */
int tlsrpt_day_parse(const char *s, int64_t *day);

/* Writes day (days since 1970-01-01, 0 to 2932896) as "YYYY-MM-DD" into buf (11 bytes). */
void tlsrpt_day_format(int64_t day, char buf[11]);

#endif
