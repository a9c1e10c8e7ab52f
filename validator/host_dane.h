/* SPDX-License-Identifier: MIT */
/* The DANE host algorithm of RFC 7672 §2.2.2: addresses first, then TLSA at candidate names. */
#ifndef MXTLS_VALIDATOR_HOST_DANE_H
#define MXTLS_VALIDATOR_HOST_DANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dane/dane_tlsa.h"
#include "dns/dns_rdata.h"
#include "dns/dns_resolver.h"

/* The most addresses kept per host: the first 16 of the A and AAAA answers are tried, the
 * rest never contacted (availability only: nothing unvetted is used). */
#define HOST_DANE_ADDRS_MAX 16
/* TLSA records per RRset: what one DNS message can carry (65535 bytes; a record takes at least
 * 15: a 2-byte compressed owner, 10 bytes of type, class, TTL and length, 3 bytes of rdata), so
 * no valid answer reaches it (issue 14: a cap of 64 made a host with 65 records unreachable).
 * Reaching it anyway makes the host unreachable, never "first N kept". */
#define HOST_DANE_TLSA_MAX (65535 / 15 + 1)
/* Reference identifiers for DANE-TA: TBD, next-hop, expanded next-hop, MX host name. */
#define HOST_DANE_NAMES_MAX 4

enum host_dane_state {
	/* Do not connect (RFC 7672 §2.1.2, §2.2.2): an address or TLSA lookup error, or no
	 * address at all.  Never a reason to try the host in cleartext (DANE-08). */
	HOST_DANE_UNREACHABLE = 0,
	/* No DNSSEC-secure TLSA RRset: pre-DANE opportunistic TLS (RFC 7672 §2.2). */
	HOST_DANE_NONE = 1,
	/* Secure TLSA RRset with at least one usable record: TLS and DANE authentication are
	 * mandatory (RFC 7672 §2.2, DANE-09). */
	HOST_DANE_USABLE = 2,
	/* Secure, non-empty TLSA RRset whose records are all unusable: TLS is mandatory, without
	 * authentication (RFC 7672 §2.2, DANE-10 and DANE-13). */
	HOST_DANE_ENCRYPT = 3,
};

struct host_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
};

/* What the caller knows about the host before the lookups. */
struct host_dane_req {
	const char *host;     /* the server name (MX exchange, or the domain for implicit MX) */
	uint16_t port;        /* the real port, for `_<port>._tcp` (DANE-25); 0 means 25 */
	const char *nexthop;  /* the next-hop (recipient) domain, may be NULL */
	const char *nexthop_expanded; /* its CNAME expansion from the MX lookup, may be NULL */
	bool mx_secure;       /* the MX RRset (or the denial for implicit MX) was secure */
	bool implicit;        /* host is the next-hop domain itself (no MX records) */
	bool no_tlsa;         /* DANE does not apply (an IP literal, DANE-14): addresses only */
};

struct host_dane_result {
	enum host_dane_state state;
	char reason[400];            /* why this state, for logs and `mxtls check`; cut at a
				      * word (util_text_fit) */
	char host[DNS_NAME_TEXT_MAX]; /* as requested, lower case */
	char expanded[DNS_NAME_TEXT_MAX]; /* after CNAME expansion of the address lookup */
	bool addr_secure;            /* every address answer was DNSSEC-secure */
	size_t naddrs;
	struct host_addr addrs[HOST_DANE_ADDRS_MAX]; /* A then AAAA, as answered; the excess dropped */
	bool tlsa_looked_up;         /* a TLSA query was sent (false when addresses are insecure) */
	bool tlsa_failed;            /* ... and failed (SERVFAIL, bogus): RFC 8460 dnssec-invalid */
	char tbd[DNS_NAME_TEXT_MAX]; /* the TLSA base domain ("" when none): SNI and primary name */
	size_t ntlsa;
	struct dane_tlsa *tlsa;      /* owned: the RRset, unusable records marked with reasons,
				      * RFC 7671 §9 selection applied */
	size_t usable;
	size_t nnames;
	char names[HOST_DANE_NAMES_MAX][DNS_NAME_TEXT_MAX]; /* DANE-TA reference identifiers */
	uint32_t ttl;                /* the smallest TTL of the answers this result rests on */
};

/* Frees r (and its records); NULL is a no-op. */
void host_dane_result_free(struct host_dane_result *r);

/* Static names: "unreachable", "none", "dane", "dane-encrypt". */
const char *host_dane_state_name(enum host_dane_state s);

/* Called once from the event loop; res is owned by the callee (free with host_dane_result_free);
 * NULL only when memory ran out. */
typedef void (*host_dane_callback)(void *arg, struct host_dane_result *res);

struct host_dane;

/*
 * Runs the host algorithm for req (borrowed; copied before return) on r: A and AAAA in
 * parallel; when the addresses are secure (or reached through a secure first CNAME), TLSA at
 * each candidate TLSA base domain in turn.  cb runs later, never from inside this call.  *out
 * (may be NULL) receives a handle for host_dane_cancel(), valid until cb runs.
 * Returns MXTLS_OK, MXTLS_E_INVAL (not a valid host name), MXTLS_E_NOMEM, MXTLS_E_TEMPFAIL.
 */
int host_dane_start(struct dns_resolver *r, const struct host_dane_req *req, host_dane_callback cb,
		    void *arg, struct host_dane **out);

/* Cancels the pending lookups; the callback is not called. */
void host_dane_cancel(struct host_dane *h);

#endif
