/* SPDX-License-Identifier: MIT */
/* The domain owner's side: check a deployment as every strict sender will (mxtls audit). */
#ifndef MXTLS_AUDIT_H
#define MXTLS_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <mxtls/context.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MXTLS_API
#define MXTLS_API __attribute__((visibility("default")))
#endif

/* What the audit found.  Opaque; free with mxtls_audit_free(). */
struct mxtls_audit;

struct mxtls_audit_req {
	const char *domain;     /* the mail domain (borrowed) */
	unsigned time_limit_ms; /* the whole audit; 0: 60000 */
};

/*
 * Audits domain with ctx's resolver, roots and timeouts (blocking: runs ctx's loop): the MX set
 * and its DNSSEC status, the _mta-sts record and the policy (fetched now, as a sender does;
 * compared with the body cached under the same id when ctx has a state directory, which is
 * then updated), every address of every MX host (STARTTLS, the chain judged by the Web PKI
 * and by the host's TLSA records; all at once), TLSA rollover safety, and the _smtp._tls
 * record (an https rua is sent a small POST).  Findings carry CLI.md's stable codes.
 * On MXTLS_OK *out is set, also when the time limit cut the audit short
 * (mxtls_audit_complete() says).  A domain that receives no mail gets one finding: error
 * mx-nxdomain (NXDOMAIN) or info mx-null (a null MX, RFC 7505).  Returns MXTLS_E_INVAL (not a
 * domain name), MXTLS_E_TEMPFAIL (the MX lookup failed other than by DNSSEC validation, or time
 * ran out before the sender's decision was made: nothing can be checked), MXTLS_E_CONFIG,
 * MXTLS_E_NOMEM.
 */
MXTLS_API int mxtls_audit(struct mxtls_ctx *ctx, const struct mxtls_audit_req *req,
			  struct mxtls_audit **out, char *err, size_t errlen);

/* Frees a; NULL is a no-op. */
MXTLS_API void mxtls_audit_free(struct mxtls_audit *a);

/* The domain (canonical); the delivery mode senders decide today (as mxtls check); how long
 * the audit took; 1 when every check ran before the time limit, else 0. */
MXTLS_API const char *mxtls_audit_domain(const struct mxtls_audit *a);
MXTLS_API const char *mxtls_audit_mode(const struct mxtls_audit *a);
MXTLS_API int64_t mxtls_audit_elapsed_ms(const struct mxtls_audit *a);
MXTLS_API int mxtls_audit_complete(const struct mxtls_audit *a);

/* The findings, errors first, then warnings, then info.  For i out of range: NULL.
 * severity: "error" (a strict sender would defer mail, or ignore the protection), "warning",
 * "info"; code: a stable identifier (CLI.md); host: the MX host, policy host, record owner or
 * URI concerned, NULL for the domain as a whole; message: one line; fix: what to change ("" when
 * nothing).  All borrowed from a. */
MXTLS_API size_t mxtls_audit_count(const struct mxtls_audit *a);
MXTLS_API size_t mxtls_audit_errors(const struct mxtls_audit *a);
MXTLS_API const char *mxtls_audit_severity(const struct mxtls_audit *a, size_t i);
MXTLS_API const char *mxtls_audit_code(const struct mxtls_audit *a, size_t i);
MXTLS_API const char *mxtls_audit_host(const struct mxtls_audit *a, size_t i);
MXTLS_API const char *mxtls_audit_message(const struct mxtls_audit *a, size_t i);
MXTLS_API const char *mxtls_audit_fix(const struct mxtls_audit *a, size_t i);

#ifdef __cplusplus
}
#endif
#endif
