/* SPDX-License-Identifier: MIT */
/* MTA-STS policy discovery with the cache (RFC 8461 §3, §5.1): TXT, cache, HTTPS, parse, store. */
#ifndef MXTLS_VALIDATOR_STS_RESOLVE_H
#define MXTLS_VALIDATOR_STS_RESOLVE_H

#include <stdbool.h>
#include <stdint.h>

#include <mxtls/result.h>

#include "dns/dns_resolver.h"
#include "sts/sts_cache.h"
#include "sts/sts_fetch.h"
#include "util/util_log.h"

/* What the _mta-sts TXT lookup found (RFC 8461 §3.1). */
enum sts_txt_state {
	STS_TXT_STATE_ABSENT = 0,   /* no record starting with v=STSv1 (or no TXT at all) */
	STS_TXT_STATE_VALID = 1,    /* exactly one, valid: txt_id holds its id */
	STS_TXT_STATE_INVALID = 2,  /* exactly one, not valid */
	STS_TXT_STATE_MULTIPLE = 3, /* more than one: no policy is discovered */
	STS_TXT_STATE_ERROR = 4,    /* the lookup failed (SERVFAIL, timeout, bogus) */
};

/* Where the policy in force came from. */
enum sts_source {
	STS_SOURCE_NONE = 0,    /* no policy applies */
	STS_SOURCE_NETWORK = 1, /* fetched now */
	STS_SOURCE_CACHE = 2,   /* an unexpired cached policy */
};

struct sts_resolve_req {
	const char *domain; /* the policy domain: the recipient domain, before any CNAME (STS-42) */
	int64_t now;        /* Unix seconds */
	bool refresh;       /* fetch even when the TXT id is unchanged (proactive refresh, STS-35) */
	bool no_backoff;    /* fetch even while an earlier failure holds fetches back (the owner's
			     * audit must see what the policy host serves now) */
	const struct util_log *log; /* may be NULL */
	uint64_t log_id;
};

struct sts_resolve_result {
	char domain[256];
	enum sts_txt_state txt;
	char txt_text[512];     /* the selected record as published (cut at 511 bytes) */
	char txt_id[40];        /* for STS_TXT_STATE_VALID */
	char txt_reason[320];   /* why the record is absent, invalid, or the lookup failed */
	bool txt_answered;      /* the TXT lookup got an answer (data or a denial) ... */
	uint32_t txt_ttl;       /* ... valid this many seconds */
	bool fetched;           /* a fetch was attempted (policy host lookup, then HTTPS) */
	bool backoff;           /* a fetch was due but held back (RFC 8461 §3.3, STS-18) */
	enum mxtls_result fetch_result; /* MXTLS_RESULT_OK, or the RFC 8460 type of the failure */
	char fetch_error[300];
	bool changed_same_id;   /* the fetched body differs from the cached one of the same id */
	enum sts_source source;
	struct sts_cache_entry policy; /* owned; the policy in force unless source is NONE */
};

/* Frees r and what it owns; NULL is a no-op. */
void sts_resolve_result_free(struct sts_resolve_result *r);

/* "none", "network", "cache"; "absent", "valid", "invalid", "multiple", "error".  Static. */
const char *sts_source_name(enum sts_source s);
const char *sts_txt_state_name(enum sts_txt_state s);

/* Called once from the event loop; r is owned by the callee (sts_resolve_result_free()); NULL
 * when memory ran out or the cache could not be read (logged as sts-cache-read-failed): whether
 * a policy applies is then unknown, which callers treat as a temporary failure. */
typedef void (*sts_resolve_callback)(void *arg, struct sts_resolve_result *r);

struct sts_resolve;

/*
 * Discovers domain's policy: the TXT record, then the cache (an unchanged id within max_age
 * needs no HTTPS), else an HTTPS fetch through f whose result is parsed, checked and stored
 * in c.  A failed fetch keeps an unexpired cached policy in force (RFC 8461 §3.3, §5.1).
 * The cache is read by its worker thread beside the TXT lookup and written without waiting
 * (sts/sts_cache_async.h): c must be attached to the loop of r.  r, f and c are borrowed and
 * must outlive the lookup.  cb runs later, never inside this call.  Returns MXTLS_OK,
 * MXTLS_E_INVAL (not a domain name, or c not attached), MXTLS_E_NOMEM.
 */
int sts_resolve_start(struct dns_resolver *r, struct sts_fetcher *f, struct sts_cache *c,
		      const struct sts_resolve_req *req, sts_resolve_callback cb, void *arg,
		      struct sts_resolve **out);

/* Cancels a pending lookup; its callback is not called. */
void sts_resolve_cancel(struct sts_resolve *s);

#endif
