/* SPDX-License-Identifier: MIT */
/* DNSSEC-validating lookups on the event loop: the only user of libunbound. */
#ifndef MXTLS_DNS_RESOLVER_H
#define MXTLS_DNS_RESOLVER_H

#include <stddef.h>
#include <stdint.h>

#include "dns/dns_rdata.h"

struct event_base;

enum dns_type {
	DNS_TYPE_A = 1,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_MX = 15,
	DNS_TYPE_TXT = 16,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_TLSA = 52,
};

/*
 * What a lookup found (RFC 7672 §2.1.1).  The first three are answers, the rest are lookup
 * errors, which callers must never treat as "no records" (DANE-04).
 */
enum dns_outcome {
	DNS_DATA = 0,        /* records of the type asked for */
	DNS_NODATA = 1,      /* the name exists, without records of that type */
	DNS_NXDOMAIN = 2,    /* the name does not exist */
	DNS_ERR_SERVFAIL = 3, /* SERVFAIL, REFUSED, or the resolver failed */
	DNS_ERR_TIMEOUT = 4,  /* no answer within the configured time */
	DNS_ERR_MALFORMED = 5, /* FORMERR or an answer that cannot be parsed */
	DNS_ERR_BOGUS = 6,   /* DNSSEC validation failed (libunbound's "bogus").  Note that
			      * libunbound reports "indeterminate" (no trust anchor covers the
			      * name) as insecure, not bogus: the trust anchor must be set up. */
};

/* DNSSEC status of an answer (RFC 4035 §4.3). */
enum dns_security {
	DNS_SECURE = 0,
	DNS_INSECURE = 1,
	DNS_BOGUS = 2,
};

struct dns_answer {
	enum dns_outcome outcome;
	enum dns_security security;
	uint16_t type;
	char qname[DNS_NAME_TEXT_MAX];     /* the name asked for, lower case, no root dot */
	char canonname[DNS_NAME_TEXT_MAX]; /* after CNAME expansion; equal to qname without one */
	uint32_t ttl;
	size_t n;                         /* records (DNS_DATA only) */
	uint8_t **rdata;                  /* owned: n rdata copies */
	size_t *rdlen;
	char *why;                        /* owned, may be NULL: why bogus or failed */
};

/* Frees a; NULL is a no-op. */
void dns_answer_free(struct dns_answer *a);

/* "secure", "insecure", "bogus" and "data", "nodata", "nxdomain", "servfail", "timeout",
 * "malformed", "bogus".  Static strings. */
const char *dns_security_name(enum dns_security s);
const char *dns_outcome_name(enum dns_outcome o);

struct dns_resolver;

/*
 * A validating resolver whose lookups run on base (borrowed; must outlive the resolver).
 * unbound_conf (may be NULL) is a libunbound configuration file that replaces the built-in
 * set-up; without it, full recursion from the root with the DNSSEC trust anchor in root_key.
 * A set-up without a trust anchor or without the validator module is refused
 * (dns/dns_anchor.h).  timeout_ms bounds each lookup (0: 10 s).  On success *out is set; free
 * with dns_resolver_free().  Returns MXTLS_OK, MXTLS_E_CONFIG (reason in err), MXTLS_E_NOMEM.
 */
int dns_resolver_new(struct event_base *base, const char *unbound_conf, const char *root_key,
		     unsigned timeout_ms, struct dns_resolver **out, char *err, size_t errlen);

/* Cancels every pending lookup (their callbacks are not called) and frees r.  NULL: no-op. */
void dns_resolver_free(struct dns_resolver *r);

struct util_log;

/*
 * Logs every answer (and timeout) at debug level through log (borrowed; must outlive r; NULL:
 * none): `id=0 event=dns qname=... type=MX outcome=servfail dnssec=insecure records=0 ms=12
 * why=...`.
 */
void dns_resolver_set_log(struct dns_resolver *r, const struct util_log *log);

/* The resolver's proof that validation works (dns/dns_probe.h); borrowed, never NULL. */
struct dns_probe *dns_resolver_probe(struct dns_resolver *r);

struct dns_query;

/*
 * Called once per lookup with the answer, which the callee owns (free with dns_answer_free()).
 * ans is NULL only when memory ran out.
 */
typedef void (*dns_callback)(void *arg, struct dns_answer *ans);

/*
 * Starts looking up name (presentation form, borrowed; "." is the root) for type.  cb runs later from the event
 * loop, never from inside this call.  *q (may be NULL) receives a handle for
 * dns_query_cancel(), valid until cb runs.  Returns MXTLS_OK, MXTLS_E_INVAL (not a valid
 * name), MXTLS_E_NOMEM, MXTLS_E_TEMPFAIL (the resolver refused the query).
 */
int dns_resolve(struct dns_resolver *r, const char *name, uint16_t type, dns_callback cb,
		void *arg, struct dns_query **q);

/* Cancels a pending lookup; its callback is not called. */
void dns_query_cancel(struct dns_query *q);

/*
 * The blocking form for simple callers: runs r's event base until the answer arrives.  Must not
 * be called while that base is already running.  On MXTLS_OK *out owns the answer (whatever
 * its outcome).  Errors as dns_resolve().
 */
int dns_resolve_sync(struct dns_resolver *r, const char *name, uint16_t type,
		     struct dns_answer **out);

#endif
