/* SPDX-License-Identifier: MIT */
/* The MX step of RFC 7672 §2.2.1: which servers a domain's mail goes to, and how securely. */
#ifndef MXTLS_VALIDATOR_MX_LOOKUP_H
#define MXTLS_VALIDATOR_MX_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_rdata.h"
#include "dns/dns_resolver.h"

/* The most MX hosts kept for one domain (more are ignored, from the least preferred on). */
#define MX_LOOKUP_HOSTS_MAX 32

enum mx_lookup_status {
	MX_LOOKUP_OK = 0,       /* hosts[] holds the servers to try, best first */
	MX_LOOKUP_NULL_MX = 1,  /* RFC 7505: the domain accepts no mail (permanent) */
	MX_LOOKUP_NXDOMAIN = 2, /* the domain does not exist (permanent) */
	MX_LOOKUP_TEMPFAIL = 3, /* a lookup error: delay delivery, never guess (RFC 7672 §2.1.2) */
};

struct mx_host {
	uint16_t preference;
	char name[DNS_NAME_TEXT_MAX]; /* lower case, no root dot */
	bool ip_literal;              /* an address where a name belongs: no DANE (DANE-14) */
};

struct mx_lookup_result {
	enum mx_lookup_status status;
	char domain[DNS_NAME_TEXT_MAX];   /* the next-hop domain as asked (lower case) */
	char expanded[DNS_NAME_TEXT_MAX]; /* after CNAME expansion (equal to domain without one) */
	bool secure;                      /* the MX answer (and any CNAME to it) was DNSSEC-secure */
	bool implicit;                    /* no MX records: the domain is its own server (RFC 5321 §5.1) */
	uint32_t ttl;                     /* of the MX answer (or denial) */
	size_t n;
	struct mx_host hosts[MX_LOOKUP_HOSTS_MAX]; /* sorted by preference, ties in answer order */
	char reason[400];                 /* why, for anything but MX_LOOKUP_OK; "" otherwise;
					   * cut at a word (util_text_fit) */
};

/* Static names: "ok", "null-mx", "nxdomain", "tempfail". */
const char *mx_lookup_status_name(enum mx_lookup_status s);

/*
 * Turns the answer to an MX query (borrowed) into a result (filled completely).  Pure: this is
 * where RFC 7672 §2.2.1 and RFC 7505 are applied, so it is tested without a network.
 * A lookup error or a malformed record is MX_LOOKUP_TEMPFAIL: RFC 7672 §2.1.2 forbids falling
 * back to the domain's address records when the MX lookup fails.
 */
void mx_lookup_from_answer(const struct dns_answer *ans, struct mx_lookup_result *out);

typedef void (*mx_lookup_callback)(void *arg, const struct mx_lookup_result *res);

struct mx_lookup;

/*
 * Looks up domain's MX records on r.  cb runs once from the event loop with the result
 * (borrowed for the call).  *out (may be NULL) receives a handle for mx_lookup_cancel(), valid
 * until cb runs.  Returns MXTLS_OK, MXTLS_E_INVAL (not a valid domain name), MXTLS_E_NOMEM,
 * MXTLS_E_TEMPFAIL.
 */
int mx_lookup_start(struct dns_resolver *r, const char *domain, mx_lookup_callback cb, void *arg,
		    struct mx_lookup **out);

/* Cancels a pending lookup; its callback is not called. */
void mx_lookup_cancel(struct mx_lookup *m);

#endif
