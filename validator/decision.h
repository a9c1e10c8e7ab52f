/* SPDX-License-Identifier: MIT */
/* The per-domain decision: which MX hosts, and what TLS each must prove (RFC 7672, RFC 8461). */
#ifndef MXTLS_VALIDATOR_DECISION_H
#define MXTLS_VALIDATOR_DECISION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "validator/host_dane.h"
#include "validator/mx_lookup.h"
#include "validator/sts_resolve.h"

/* What one MX host must prove (CLI.md "security"). */
enum decision_security {
	SEC_DANE = 0,             /* secure usable TLSA: TLS + DANE authentication, alone (D1) */
	SEC_DANE_ENCRYPT = 1,     /* secure TLSA, all unusable: TLS, no authentication (+ STS PKIX
				   * when an enforce policy covers the host, D1) */
	SEC_MTA_STS = 2,          /* STS enforce, host matches: TLS + Web PKI + MX name */
	SEC_MTA_STS_TESTING = 3,  /* STS testing: checked and reported, never enforced */
	SEC_OPPORTUNISTIC = 4,    /* TLS when offered, any certificate; else cleartext */
	SEC_EXCLUDED = 5,         /* STS enforce, host matches no pattern: never used */
	SEC_UNREACHABLE = 6,      /* a DNS error (or no address): never contacted (DANE-08) */
};

/* The domain as a whole (CLI.md "mode"). */
enum decision_mode {
	MODE_DANE = 0,            /* every usable host is a DANE (or DANE-encrypt) host */
	MODE_STS_ENFORCE = 1,
	MODE_STS_TESTING = 2,
	MODE_OPPORTUNISTIC = 3,
	MODE_TEMPFAIL = 4,        /* nothing can be decided now: defer */
	MODE_UNDELIVERABLE = 5,   /* NXDOMAIN or null MX: the domain takes no mail (bounce) */
};

const char *decision_security_name(enum decision_security s);
const char *decision_mode_name(enum decision_mode m);

/* What the _smtp._tls TXT lookup found (RFC 8460 §3), shown by `mxtls check`. */
enum tlsrpt_state {
	TLSRPT_ABSENT = 0,   /* no record starting with v=TLSRPTv1 */
	TLSRPT_FOUND = 1,    /* exactly one */
	TLSRPT_MULTIPLE = 2, /* more than one: no reporting (§3) */
	TLSRPT_ERROR = 3,    /* the lookup failed */
};
const char *tlsrpt_state_name(enum tlsrpt_state s);

struct decision_host {
	uint16_t preference;
	char name[DNS_NAME_TEXT_MAX];   /* as in the MX RRset (the domain for implicit MX) */
	bool ip_literal;
	struct host_dane_result *dane;  /* owned: addresses, DNSSEC status, TLSA, names */
	enum decision_security security;
	bool sts_applies;               /* an enforce or testing policy is in force */
	bool sts_match;                 /* the name matches one of its mx patterns (§4.1) */
	/* What the SMTP client and the verify step must enforce: */
	bool tls_required;              /* never cleartext (DANE, DANE-encrypt, STS enforce) */
	bool dane_auth;                 /* authenticate with the TLSA records */
	bool pkix_auth;                 /* Web PKI chain + SAN DNS-ID = name (RFC 8461 §4.2) */
	bool report_only;               /* STS testing: check, never refuse */
	char sni[DNS_NAME_TEXT_MAX];    /* DANE: the TLSA base domain (§8.1); else the name */
	char why[600];                  /* one line: why this security */
};

struct decision {
	uint64_t id;                    /* for log lines */
	char domain[DNS_NAME_TEXT_MAX]; /* the recipient (next-hop) domain, lower case */
	struct mx_lookup_result mx;
	struct sts_resolve_result *sts; /* owned; NULL when the lookup could not run */
	enum sts_mode sts_mode;         /* the mode in force; STS_MODE_NONE without a policy */
	enum tlsrpt_state tlsrpt;
	char tlsrpt_text[512];
	size_t nhosts;
	struct decision_host hosts[MX_LOOKUP_HOSTS_MAX]; /* MX preference order */
	bool no_mx;                     /* decided for a next-hop host, without an MX lookup */
	enum decision_mode mode;
	char why[600];
	char dnssec_broken[512]; /* why DNSSEC validation is not proven to work; "" when it is */
};

/* Frees d and what it owns; NULL is a no-op. */
void decision_free(struct decision *d);

/*
 * The classification step, pure (tested without a network): from d->mx, d->sts and each
 * host's DANE result, sets every host's security and requirements and the domain's mode.
 */
void decision_classify(struct decision *d);

struct decision_req {
	const char *domain;
	int64_t now;
	bool sts_refresh;               /* fetch the policy even when the cached id is current */
	bool sts_no_backoff;            /* ... and even while a failed fetch holds fetches back */
	bool no_mx;                     /* domain is a next-hop host: no MX lookup (RFC 7672
					 * §2.2.2, see start_host_only()) */
	const struct util_log *log;     /* may be NULL */
	uint64_t log_id;
};

/* Called once from the loop; d is owned by the callee (decision_free()), NULL only when memory
 * ran out. */
typedef void (*decision_callback)(void *arg, struct decision *d);

struct decision_run;

/*
 * Decides for req->domain: the MX lookup, the _mta-sts discovery (cache or fetch) and the
 * _smtp._tls lookup start at once; when the MX set is known, the host algorithm of RFC 7672
 * §2.2.2 runs for every host at once.  A cold decision thus costs the critical path
 * MX → (A/AAAA → TLSA) ∥ (TXT → HTTPS).  r, f and c are borrowed and must outlive the run.
 * cb runs later, never inside this call.  Returns MXTLS_OK (*out, may be NULL, receives a
 * handle for decision_cancel(), valid until cb runs), MXTLS_E_INVAL (not a domain name),
 * MXTLS_E_NOMEM, MXTLS_E_TEMPFAIL, MXTLS_E_IO (cache).
 */
int decision_start(struct dns_resolver *r, struct sts_fetcher *f, struct sts_cache *c,
		   const struct decision_req *req, decision_callback cb, void *arg,
		   struct decision_run **out);

/* Cancels a run; its callback is not called. */
void decision_cancel(struct decision_run *run);

#endif
