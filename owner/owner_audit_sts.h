/* SPDX-License-Identifier: MIT */
/* `mxtls audit`, the MTA-STS part (RFC 8461; RFC-CHECKLIST.md AUD-STS-*): pure, from what the
 * sender-side discovery saw. */
#ifndef MXTLS_OWNER_AUDIT_STS_H
#define MXTLS_OWNER_AUDIT_STS_H

#include <stdbool.h>
#include <stddef.h>

#include <mxtls/result.h>

#include "owner/owner_audit_finding.h"

/* RFC 8461 §3.2: max_age "in the range of weeks or greater"; below this is a warning. */
#define AUDIT_STS_MAX_AGE_MIN 604800

/* What discovery found for the domain (all borrowed). */
struct audit_sts_view {
	const char *domain;
	const char *txt_state;          /* "absent", "valid", "invalid", "multiple", "error" */
	const char *txt;                /* the record as published (NULL: none) */
	const char *txt_reason;         /* why it is not valid (NULL: none) */
	bool fetched;                   /* an HTTPS request was made now */
	enum mxtls_result fetch_result; /* MXTLS_RESULT_OK, or the RFC 8460 type of the failure */
	const char *fetch_error;        /* NULL on success */
	bool changed_same_id;           /* the body differs from the one cached under the same id */
	const char *body;               /* the policy fetched now, exact bytes (NULL: none) */
	size_t body_len;
	const char *const *mx_hosts; /* the MX host names, preference order */
	size_t nmx;
	bool every_host_dane; /* every MX host has usable DNSSEC-signed TLSA */
	bool zone_bogus;      /* the MX lookup failed validation: a failed TXT lookup is part of
			       * that finding, not one of its own */
	long long now;        /* for the id the fixes suggest (Unix seconds) */
};

/* What the rest of the audit needs to know of the policy served now. */
enum audit_sts_mode {
	AUDIT_STS_NONE = 0, /* no policy in force for senders (absent, broken, or mode none) */
	AUDIT_STS_TESTING = 1,
	AUDIT_STS_ENFORCE = 2,
};

/* Adds the findings on the _mta-sts record and the policy host to f.  covered[i] (nmx entries,
 * may be NULL) receives whether MX host i matches a pattern of the policy.  Returns the mode of
 * the policy senders will apply. */
enum audit_sts_mode audit_sts(const struct audit_sts_view *v, struct audit_findings *f,
			      bool *covered);

/* In testing mode: whether f holds a finding that would stop mail under enforce (an error
 * under enforce), which the caller then adds as sts-ready-for-enforce / sts-not-ready. */
void audit_sts_readiness(const char *domain, struct audit_findings *f, size_t would_break);

#endif
