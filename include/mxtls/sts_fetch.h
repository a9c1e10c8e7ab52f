/* SPDX-License-Identifier: MIT */
/* MTA-STS (RFC 8461) discovery, HTTPS fetch and the persistent policy cache. */
#ifndef MXTLS_STS_FETCH_H
#define MXTLS_STS_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include <mxtls/context.h>
#include <mxtls/result.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MXTLS_API
#define MXTLS_API __attribute__((visibility("default")))
#endif

/*
 * A policy domain's MTA-STS state: what discovery found (mxtls_sts_fetch) or what the cache
 * holds (mxtls_sts_cache_show, mxtls_sts_cache_list).  Opaque; strings returned by the
 * accessors are borrowed from it.
 */
struct mxtls_sts_policy;

/*
 * Discovers and fetches domain's policy as a sender does (RFC 8461 §3, §5.1) using and
 * updating the cache under --state-dir (in memory when the context has none): the _mta-sts
 * TXT record; the cached policy when its id is unchanged and it has not expired; otherwise an
 * HTTPS fetch, whose policy is stored.  A failed fetch leaves an unexpired cached policy in
 * force.  refresh non-zero fetches even when the cached policy is current.  Blocks, running
 * the context's event loop (do not call it from inside that loop).  On MXTLS_OK *out is set
 * whatever was found (free with mxtls_sts_policy_free()).  Returns MXTLS_E_INVAL (not a
 * domain name), MXTLS_E_CONFIG or MXTLS_E_IO (resolver or cache unusable; reason in err),
 * MXTLS_E_NOMEM.
 */
MXTLS_API int mxtls_sts_fetch(struct mxtls_ctx *ctx, const char *domain, int refresh,
			      struct mxtls_sts_policy **out, char *err, size_t errlen);

/* The cached entry of domain, as stored (expired or not).  MXTLS_E_NOTFOUND when there is
 * none; otherwise as mxtls_sts_fetch(). */
MXTLS_API int mxtls_sts_cache_show(struct mxtls_ctx *ctx, const char *domain,
				   struct mxtls_sts_policy **out, char *err, size_t errlen);

/* Removes domain's cached policy and any fetch back-off.  MXTLS_OK, MXTLS_E_NOTFOUND,
 * MXTLS_E_INVAL, MXTLS_E_CONFIG, MXTLS_E_IO. */
MXTLS_API int mxtls_sts_cache_purge(struct mxtls_ctx *ctx, const char *domain, char *err,
				    size_t errlen);

/* Calls fn for every cached entry, by domain (p borrowed for the call); a non-zero return
 * stops the walk and is returned.  Otherwise MXTLS_OK, MXTLS_E_CONFIG, MXTLS_E_IO. */
MXTLS_API int mxtls_sts_cache_list(struct mxtls_ctx *ctx,
				   int (*fn)(void *arg, const struct mxtls_sts_policy *p), void *arg,
				   char *err, size_t errlen);

/*
 * Proactive refresh (RFC 8461 §3.3, §10.2): re-fetches every cached policy fetched at least
 * older_than seconds ago (0: every cached policy; RFC 8461 §10.2 suggests daily, 86400), at most concurrency at a time (8 if 0), each started
 * after a random delay of up to jitter_ms.  Failures are logged as warnings unless the cached
 * mode is "none"; the cached policy stays in force.  *refreshed and *failed (may be NULL)
 * receive the counts.  Blocks like mxtls_sts_fetch().  Returns MXTLS_OK, MXTLS_E_CONFIG,
 * MXTLS_E_IO, MXTLS_E_NOMEM.
 */
MXTLS_API int mxtls_sts_refresh(struct mxtls_ctx *ctx, int64_t older_than, unsigned concurrency,
				unsigned jitter_ms, size_t *refreshed, size_t *failed, char *err,
				size_t errlen);

/*
 * The asynchronous form, for an application driving ctx's loop (mxtls_ctx_set_event_base()):
 * cb runs once from the loop with the counts.  *op (may be NULL) is valid until cb runs.
 * Returns as mxtls_sts_refresh() does, and MXTLS_E_INVAL for a NULL cb.
 */
struct mxtls_sts_refresh_op;
MXTLS_API int mxtls_sts_refresh_start(struct mxtls_ctx *ctx, int64_t older_than,
				      unsigned concurrency, unsigned jitter_ms,
				      void (*cb)(void *arg, size_t refreshed, size_t failed),
				      void *arg, struct mxtls_sts_refresh_op **op, char *err,
				      size_t errlen);
/* Stops a refresh; its callback is not called.  NULL is a no-op. */
MXTLS_API void mxtls_sts_refresh_cancel(struct mxtls_sts_refresh_op *op);

/* Frees p; NULL is a no-op. */
MXTLS_API void mxtls_sts_policy_free(struct mxtls_sts_policy *p);

/* The policy domain (lower case). */
MXTLS_API const char *mxtls_sts_policy_domain(const struct mxtls_sts_policy *p);

/* Where the policy in force came from: "network", "cache" or "none" (no policy applies). */
MXTLS_API const char *mxtls_sts_policy_source(const struct mxtls_sts_policy *p);

/* The TXT record's state ("absent", "valid", "invalid", "multiple", "error"), its text as
 * published, and why it is not valid; NULL for entries read from the cache alone. */
MXTLS_API const char *mxtls_sts_policy_txt_state(const struct mxtls_sts_policy *p);
MXTLS_API const char *mxtls_sts_policy_txt(const struct mxtls_sts_policy *p);
MXTLS_API const char *mxtls_sts_policy_txt_reason(const struct mxtls_sts_policy *p);

/* For discovery: 1 when an HTTPS request was made; its RFC 8460 result (MXTLS_RESULT_OK on
 * success) and error text (NULL on success); 1 when a due fetch was held back (RFC 8461 §3.3);
 * 1 when the fetched body changed although the id did not. */
MXTLS_API int mxtls_sts_policy_fetched(const struct mxtls_sts_policy *p);
MXTLS_API enum mxtls_result mxtls_sts_policy_fetch_result(const struct mxtls_sts_policy *p);
MXTLS_API const char *mxtls_sts_policy_fetch_error(const struct mxtls_sts_policy *p);
MXTLS_API int mxtls_sts_policy_backoff(const struct mxtls_sts_policy *p);
MXTLS_API int mxtls_sts_policy_changed_same_id(const struct mxtls_sts_policy *p);

/* The policy in force (NULL / 0 when the source is "none"): its id (from the TXT record it was
 * fetched under), mode ("enforce", "testing", "none"), max_age, mx patterns, body (exact
 * bytes, *len set), fetch time, expiry and last check (Unix seconds), last refresh error. */
MXTLS_API const char *mxtls_sts_policy_id(const struct mxtls_sts_policy *p);
MXTLS_API const char *mxtls_sts_policy_mode(const struct mxtls_sts_policy *p);
MXTLS_API int64_t mxtls_sts_policy_max_age(const struct mxtls_sts_policy *p);
MXTLS_API size_t mxtls_sts_policy_mx_count(const struct mxtls_sts_policy *p);
MXTLS_API const char *mxtls_sts_policy_mx(const struct mxtls_sts_policy *p, size_t i);
MXTLS_API const char *mxtls_sts_policy_text(const struct mxtls_sts_policy *p, size_t *len);
MXTLS_API int64_t mxtls_sts_policy_fetched_at(const struct mxtls_sts_policy *p);
MXTLS_API int64_t mxtls_sts_policy_expires_at(const struct mxtls_sts_policy *p);
MXTLS_API int64_t mxtls_sts_policy_last_checked(const struct mxtls_sts_policy *p);
MXTLS_API const char *mxtls_sts_policy_last_error(const struct mxtls_sts_policy *p);

#ifdef __cplusplus
}
#endif

#endif
