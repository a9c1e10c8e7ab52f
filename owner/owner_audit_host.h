/* SPDX-License-Identifier: MIT */
/* `mxtls audit`, one MX host (RFC 7672, RFC 8461 §4.2; RFC-CHECKLIST.md AUD-DANE-*, AUD-STS-08):
 * its DNS, every address's STARTTLS and chain judged by both kinds of sender, and its TLSA
 * records' rollover safety.  Pure: the lookups and sessions were made by owner_audit.c. */
#ifndef MXTLS_OWNER_AUDIT_HOST_H
#define MXTLS_OWNER_AUDIT_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dane/dane_pkix.h"
#include "dane/dane_tlsa.h"
#include "owner/owner_audit_finding.h"
#include "owner/owner_audit_sts.h"
#include "validator/host_dane.h"
#include "validator/mxtls_decision_view.h"

/* A certificate whose whole life is at most this long is renewed by a tool (ACME clients renew
 * 90-day certificates), which may make a new key each time. */
#define AUDIT_SHORT_LIVED_SECONDS (100 * 86400LL)

/* What a DNS lookup the audit made itself found, for the findings the decision does not carry
 * (why an address lookup failed, TLSA in an unsigned zone). */
enum audit_dns {
	AUDIT_DNS_NONE = 0,   /* not looked up, or nothing found */
	AUDIT_DNS_DATA = 1,   /* records (insecure: the only case the audit asks for) */
	AUDIT_DNS_BOGUS = 2,  /* DNSSEC validation failed */
	AUDIT_DNS_FAILED = 3, /* SERVFAIL, timeout, malformed */
};

struct audit_host_view {
	const char *name;                      /* the MX host name */
	const struct host_dane_result *dane;   /* addresses, DNSSEC, TLSA (borrowed; may be NULL) */
	bool unreachable;                      /* the decision never contacts it (DNS) */
	const char *why;                       /* why, when unreachable */
	enum audit_dns addr_lookup;            /* with unreachable: what a fresh A lookup found */
	enum audit_dns tlsa_lookup;            /* TLSA at _25._tcp.name when the decision did not
						* look (insecure addresses) or its lookup failed */
	size_t insecure_tlsa;                  /* with AUDIT_DNS_DATA: how many records */
	enum audit_sts_mode sts;               /* the policy senders apply */
	bool covered;                          /* the host matches the policy's mx patterns */
	const char *const *addr_text;          /* naddr entries, as dane->addrs */
	struct mxtls_addr_probe *const *probe; /* naddr entries; NULL: not probed in time */
	size_t naddr;
	const struct dane_pkix *pkix; /* the Web PKI roots */
	int64_t now;
};

/* Adds the host's findings to f.  Returns how many warnings would be errors under an enforce
 * policy (for the readiness of a testing policy). */
size_t audit_host(const struct audit_host_view *v, struct audit_findings *f);

/*
 * AUD-DANE-10 (RFC 7671 §8.1, RFC 7672 §4): whether the usable records set[0..n) survive the
 * next renewal of the certificate chain presented (leaf first; parsed as needed, hence not
 * const).  Adds tlsa-rollover-risk when they do not: every usable record is DANE-EE, each one
 * that matches the chain pins what a renewal changes (the certificate, or a short-lived CA-issued
 * certificate's key), and none is pre-published for a next certificate or key.
 */
void audit_tlsa_rollover(const char *host, const struct dane_tlsa *set, size_t n,
			 struct dane_chain *chain, int64_t now, struct audit_findings *f);

#endif
