/* SPDX-License-Identifier: MIT */
/* The delivery decision for a recipient domain: DANE first, MTA-STS, else opportunistic TLS. */
#ifndef MXTLS_CHECK_H
#define MXTLS_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include <mxtls/context.h>
#include <mxtls/result.h>
#include <mxtls/sts_fetch.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MXTLS_API
#define MXTLS_API __attribute__((visibility("default")))
#endif

/*
 * What a sender must require of each MX host of a domain, decided from DNSSEC-signed TLSA
 * records (RFC 7672), the MTA-STS policy (RFC 8461) and the MX lookup, by decision D1 of
 * RFC-CHECKLIST.md: a host with secure usable TLSA is authenticated by DANE alone; other hosts
 * follow the domain's MTA-STS policy; without either, TLS is opportunistic.
 */
struct mxtls_decision;

/*
 * Decides for domain, running ctx's event loop until done (blocking).  On success *out is set
 * (free with mxtls_decision_free()); a decision that says "tempfail" or "undeliverable" is a
 * success.  Returns MXTLS_OK, MXTLS_E_INVAL (not a domain name; reason in err),
 * MXTLS_E_CONFIG (the resolver, trust anchor or state directory cannot be set up), MXTLS_E_IO,
 * MXTLS_E_NOMEM.
 */
MXTLS_API int mxtls_decide(struct mxtls_ctx *ctx, const char *domain, struct mxtls_decision **out,
			   char *err, size_t errlen);

/* The asynchronous form, for an application that drives ctx's loop itself (see
 * mxtls_ctx_set_event_base()).  cb runs once from the loop with the decision (owned by the
 * callee) or NULL and an error.  *op (may be NULL) is valid until cb runs. */
struct mxtls_decide_op;
MXTLS_API int mxtls_decide_start(struct mxtls_ctx *ctx, const char *domain,
				 void (*cb)(void *arg, struct mxtls_decision *d, int err),
				 void *arg, struct mxtls_decide_op **op, char *err, size_t errlen);
/* Cancels a pending decision; its callback is not called. */
MXTLS_API void mxtls_decide_cancel(struct mxtls_decide_op *op);

/*
 * Flags for mxtls_decide_flags() and mxtls_decide_flags_start().
 * MXTLS_DECIDE_NO_MX: domain is the host to connect to, named by local configuration (Postfix's
 * "[host]" next hop, a smarthost): no MX lookup; RFC 7672 §2.2.2 treats such a name as secure,
 * so the host's own TLSA records decide (DANE).  The host is also the MTA-STS policy domain
 * (RFC 8461 §3.4) and must match its own policy.  The decision has one host, domain, and
 * mxtls_decision_mx_status() says "skipped".
 */
#define MXTLS_DECIDE_NO_MX 0x1u

/* mxtls_decide() and mxtls_decide_start() with flags (0: the same as those).  Unknown flags
 * are MXTLS_E_INVAL. */
MXTLS_API int mxtls_decide_flags(struct mxtls_ctx *ctx, const char *domain, unsigned flags,
				 struct mxtls_decision **out, char *err, size_t errlen);
MXTLS_API int mxtls_decide_flags_start(struct mxtls_ctx *ctx, const char *domain, unsigned flags,
				       void (*cb)(void *arg, struct mxtls_decision *d, int err),
				       void *arg, struct mxtls_decide_op **op, char *err,
				       size_t errlen);

/* Frees d; NULL is a no-op. */
MXTLS_API void mxtls_decision_free(struct mxtls_decision *d);

/* The domain as decided (lower case); its mode: "dane", "mta-sts-enforce", "mta-sts-testing",
 * "opportunistic", "tempfail" (defer: lookups failed) or "undeliverable" (null MX, NXDOMAIN);
 * and why, in one line.  All borrowed from d. */
MXTLS_API const char *mxtls_decision_domain(const struct mxtls_decision *d);
MXTLS_API const char *mxtls_decision_mode(const struct mxtls_decision *d);
MXTLS_API const char *mxtls_decision_reason(const struct mxtls_decision *d);

/* The MX lookup: "ok", "null-mx", "nxdomain", "tempfail", "skipped" (MXTLS_DECIDE_NO_MX);
 * whether it was DNSSEC-secure (always, when skipped);
 * whether the MX was implicit (no MX records, RFC 5321 §5.1). */
MXTLS_API const char *mxtls_decision_mx_status(const struct mxtls_decision *d);
MXTLS_API int mxtls_decision_mx_secure(const struct mxtls_decision *d);
MXTLS_API int mxtls_decision_mx_implicit(const struct mxtls_decision *d);

/* The MX hosts in preference order.  For i >= the count, the accessors return NULL or 0. */
MXTLS_API size_t mxtls_decision_host_count(const struct mxtls_decision *d);
MXTLS_API const char *mxtls_decision_host_name(const struct mxtls_decision *d, size_t i);
MXTLS_API unsigned mxtls_decision_host_preference(const struct mxtls_decision *d, size_t i);
/* "dane", "dane-encrypt", "mta-sts", "mta-sts-testing", "opportunistic", "excluded",
 * "unreachable" (a DNS error or no address: never contacted). */
MXTLS_API const char *mxtls_decision_host_security(const struct mxtls_decision *d, size_t i);
MXTLS_API const char *mxtls_decision_host_reason(const struct mxtls_decision *d, size_t i);
/* DNSSEC status of the address lookup: "secure", "insecure", or "error". */
MXTLS_API const char *mxtls_decision_host_dnssec(const struct mxtls_decision *d, size_t i);
/* The server name sent in TLS (the TLSA base domain for DANE hosts, else the host name). */
MXTLS_API const char *mxtls_decision_host_sni(const struct mxtls_decision *d, size_t i);
/* 1 / 0 when an MTA-STS policy in force lists / does not list the host; -1 without one. */
MXTLS_API int mxtls_decision_host_sts_match(const struct mxtls_decision *d, size_t i);
/* The host's addresses as text ("192.0.2.1", "2001:db8::1"). */
MXTLS_API size_t mxtls_decision_host_addr_count(const struct mxtls_decision *d, size_t i);
MXTLS_API const char *mxtls_decision_host_addr(const struct mxtls_decision *d, size_t i,
					       size_t k);
/* The TLSA records (secure RRsets only): "U S M hex" text, whether usable, and if not why. */
MXTLS_API size_t mxtls_decision_host_tlsa_count(const struct mxtls_decision *d, size_t i);
MXTLS_API const char *mxtls_decision_host_tlsa(const struct mxtls_decision *d, size_t i,
					       size_t k, int *usable, const char **why);

/* The domain's MTA-STS discovery (borrowed from d; read with the mxtls_sts_policy_*
 * accessors of <mxtls/sts_fetch.h>, never freed by the caller). */
MXTLS_API const struct mxtls_sts_policy *mxtls_decision_sts(const struct mxtls_decision *d);
/* The _smtp._tls record (RFC 8460 §3): "absent", "found", "multiple", "error"; its text. */
MXTLS_API const char *mxtls_decision_tlsrpt_state(const struct mxtls_decision *d);
MXTLS_API const char *mxtls_decision_tlsrpt(const struct mxtls_decision *d);

/* How long d may be reused, in seconds: the smallest TTL of the DNS answers it rests on (MX,
 * addresses, TLSA, the _mta-sts TXT record), and never past the MTA-STS policy's max_age
 * (mxtls_decision_ttl_limit()).  0 for "tempfail": do not reuse it. */
MXTLS_API int64_t mxtls_decision_ttl(const struct mxtls_decision *d);

/* The longest d may be reused whatever a caller's minimum: the seconds left of the MTA-STS
 * policy it rests on (RFC 8461 §5.1: not used past max_age; at least 1), INT64_MAX without
 * one, 0 for "tempfail". */
MXTLS_API int64_t mxtls_decision_ttl_limit(const struct mxtls_decision *d);

/*
 * The verify step for an MTA with its own SMTP client: checks the chain a server presented
 * after STARTTLS (der[k] of len[k] bytes, leaf first, as the TLS library hands it over; all
 * borrowed) against what d requires of host i, at ctx's clock.  *result (may not be NULL)
 * receives what to obey: MXTLS_RESULT_OK to go on with the session, else the RFC 8460 type of
 * the failure (then the session must end before MAIL FROM, and the next host be tried).
 * *reported (may be NULL) receives what a TLS report would say: it differs from *result only
 * for MTA-STS testing, where failures are reported and not enforced.  reason (reasonlen bytes)
 * gets one line.  A host that requires no authentication accepts any chain.  Returns
 * MXTLS_OK, MXTLS_E_INVAL (bad arguments, i out of range), MXTLS_E_CONFIG (the Web PKI roots
 * cannot be loaded), MXTLS_E_NOMEM.
 */
MXTLS_API int mxtls_decision_verify(struct mxtls_ctx *ctx, const struct mxtls_decision *d,
				    size_t i, const unsigned char *const *der, const size_t *len,
				    size_t n, enum mxtls_result *result, enum mxtls_result *reported,
				    char *reason, size_t reasonlen);

/*
 * Connects to host i of d (each address in turn until one answers), runs STARTTLS when the
 * server offers it, checks the certificate as the decision requires, and QUITs without
 * sending mail (blocking).  *result receives MXTLS_RESULT_OK or the RFC 8460 type of the
 * failure; reason (reasonlen bytes) says what happened, and tls_version (vlen bytes) the
 * protocol, "" without TLS.  Hosts that are excluded or unreachable are not contacted:
 * MXTLS_E_NOTFOUND, with reason saying why the host is never used.  Returns MXTLS_OK when a verdict was reached, MXTLS_E_IO /
 * MXTLS_E_TIMEOUT when no address answered, MXTLS_E_TEMPFAIL when the server refused the
 * session, MXTLS_E_NOMEM.
 */
MXTLS_API int mxtls_decision_probe(struct mxtls_ctx *ctx, const struct mxtls_decision *d,
				   size_t i, enum mxtls_result *result, char *reason,
				   size_t reasonlen, char *tls_version, size_t vlen);

/* What mxtls_decision_probe2() found; every text "" when unknown. */
struct mxtls_probe_info {
	enum mxtls_result result; /* with MXTLS_OK: the verdict, as mxtls_decision_probe() */
	int connected;            /* 1: the last address tried accepted the connection */
	char reason[1024];        /* one line: what happened */
	char tls_version[16];     /* the protocol, "" without TLS */
	/* For a TLS report (RFC 8460 §4.4), of the last address tried: */
	char sending_ip[46];      /* our end of the connection */
	char receiving_ip[46];    /* the server's address */
	char receiving_helo[256]; /* the name the server gave (EHLO, else its greeting) */
};

/*
 * mxtls_decision_probe() with everything a TLS report needs of the session in *out (filled on
 * every return; reason says why on an error).  Same returns.  A probe that returned MXTLS_OK
 * is one TLS-RPT session; record it with mxtls_tlsrpt_record_decision() (<mxtls/tlsrpt.h>).
 */
MXTLS_API int mxtls_decision_probe2(struct mxtls_ctx *ctx, const struct mxtls_decision *d,
				    size_t i, struct mxtls_probe_info *out);

#ifdef __cplusplus
}
#endif
#endif
