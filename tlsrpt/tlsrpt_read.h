/* SPDX-License-Identifier: MIT */
/* RFC 8460 §4: a TLS report as received from another organisation, read tolerantly (real
 * reports differ from the RFC) with jansson.  Pure: no I/O. */
#ifndef MXTLS_TLSRPT_READ_H
#define MXTLS_TLSRPT_READ_H

#include <stddef.h>
#include <stdint.h>

/* Caps.  A report over a cap is refused as a whole (never truncated: counts would lie). */
#define TLSRPT_READ_JSON_MAX (16u * 1024 * 1024)   /* JSON bytes, inflated */
#define TLSRPT_READ_POLICIES_MAX 10000             /* policies[] elements */
#define TLSRPT_READ_FAILURES_MAX 100000            /* failure-details elements, all policies */
#define TLSRPT_READ_STRINGS_MAX 10000              /* policy-string / mx-host elements, all */

/* One failure-details element (§4.4).  Strings are owned, NUL-free; NULL when absent. */
struct tlsrpt_read_failure {
	char *result_type;           /* as sent, lower case; unknown types kept */
	char *sending_mta_ip;        /* NULL when missing (a quirk: some reporters omit it) */
	char *receiving_mx_hostname; /* lower case, no trailing dot */
	char *receiving_mx_helo;
	char *receiving_ip;
	char *additional_information;
	char *failure_reason_code;
	uint64_t failed_session_count;
};

/* One policies[] element. */
struct tlsrpt_read_policy {
	char *policy_type;     /* "sts", "tlsa", "no-policy-found" (others kept, lower case) */
	char **policy_string;  /* owned; a JSON array encoded inside one element is unwrapped */
	size_t npolicy_string;
	char *policy_domain;   /* lower case, no trailing dot; never NULL ("" only for a
				* no-policy-found policy that named none) */
	char **mx_host;        /* owned; sent as a string or an array of strings */
	size_t nmx_host;
	uint64_t total_successful;
	uint64_t total_failure;
	struct tlsrpt_read_failure *failures;
	size_t nfailures;
};

/* The deviations from RFC 8460 read around (bit set), so that they can be counted and shown. */
#define TLSRPT_QUIRK_DATE_NO_ZONE 0x01u     /* a date-time without time zone: read as UTC */
#define TLSRPT_QUIRK_POLICY_STRING_JSON 0x02u /* policy-string: a JSON array inside one string */
#define TLSRPT_QUIRK_CONTACT_NULL 0x04u     /* contact-info: null */
#define TLSRPT_QUIRK_NO_FAILURE_DETAILS 0x08u /* failures counted, no failure-details key */
#define TLSRPT_QUIRK_MX_HOST_STRING 0x10u   /* mx-host a string, not an array */
#define TLSRPT_QUIRK_NO_SENDING_IP 0x20u    /* a failure-details element without sending-mta-ip */
#define TLSRPT_QUIRK_END_NEXT_DAY 0x40u     /* the range ends at the next day's 00:00:00Z */
#define TLSRPT_QUIRK_NO_POLICY_DOMAIN 0x80u /* a no-policy-found policy without policy-domain
					     * (Postfix's reporter): policy_domain is "" */
#define TLSRPT_QUIRK_NULL_MEMBER 0x100u     /* an optional member sent as null: read as absent */

struct tlsrpt_read_report {
	char *organization_name;
	char *contact_info;   /* NULL for null or missing */
	char *report_id;
	int64_t start, end;   /* Unix seconds (date-range, RFC 3339; no zone read as UTC) */
	unsigned quirks;      /* TLSRPT_QUIRK_* */
	struct tlsrpt_read_policy *policies;
	size_t npolicies;
};

/*
 * Parses one report (json, len: untrusted bytes, borrowed; need not be NUL-terminated) into
 * *out (zeroed first; release with tlsrpt_read_clear()).  Required: organization-name,
 * report-id, date-range.start-datetime / end-datetime (start <= end), policies[] with each
 * policy.policy-type, policy.policy-domain (but for no-policy-found) and summary's two counts
 * (non-negative integers up to 2^53 - 1).  An optional member that is null reads as absent.
 * Unknown members anywhere are ignored (the caller keeps the raw text).
 * Duplicate keys, invalid UTF-8 and trailing garbage are errors (jansson's strict decoding).
 * Returns MXTLS_OK; MXTLS_E_SYNTAX (not a report: why in err); MXTLS_E_LIMIT (over a cap);
 * MXTLS_E_NOMEM.  On failure *out is empty.
 */
int tlsrpt_read_parse(const char *json, size_t len, struct tlsrpt_read_report *out, char *err,
		      size_t errlen);

/*
 * Inflates a gzip member (gz, len; untrusted) into *out (malloc'd, NUL-terminated; *outlen
 * without the NUL), refusing to produce more than cap bytes (a gzip bomb: MXTLS_E_LIMIT, nothing
 * returned).  Returns MXTLS_OK, MXTLS_E_SYNTAX (not gzip, corrupt, truncated, trailing data),
 * MXTLS_E_LIMIT, MXTLS_E_NOMEM.
 */
int tlsrpt_read_gunzip(const unsigned char *gz, size_t len, size_t cap, char **out,
		       size_t *outlen);

/* Frees what r holds and zeroes it; NULL is a no-op. */
void tlsrpt_read_clear(struct tlsrpt_read_report *r);

#endif
