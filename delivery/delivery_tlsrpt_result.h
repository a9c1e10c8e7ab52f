/* SPDX-License-Identifier: MIT */
/* RFC 8460 §4: what one delivery session with an MX host (or a failure before any session)
 * adds to a policy domain's TLS report, derived from the decision that governed it. */
#ifndef MXTLS_DELIVERY_TLSRPT_RESULT_H
#define MXTLS_DELIVERY_TLSRPT_RESULT_H

#include <mxtls/result.h>

#include "tlsrpt/tlsrpt_store.h"
#include "validator/decision.h"

/* Where results go (deliver_req.tlsrpt): called from the loop, r borrowed for the call. */
typedef void (*deliver_tlsrpt_fn)(void *arg, const struct tlsrpt_result *r);

/* What is known of one session or failure.  Every pointer is borrowed; NULL: unknown. */
struct deliver_tlsrpt_facts {
	const struct decision *d;
	/* The domain's MTA-STS discovery (d->sts for a decision straight from decision_start();
	 * the public struct mxtls_decision keeps it apart, mxtls_decision_view.h); NULL: none. */
	const struct sts_resolve_result *sts;
	const struct decision_host *h; /* NULL: a failure of the domain's policy discovery */
	const struct host_addr *addr;  /* the address connected to, if any */
	enum mxtls_result result;      /* MXTLS_RESULT_OK: a policy-compliant TLS session */
	const char *reason_code;       /* failure-reason-code */
	const char *local_ip;          /* sending-mta-ip */
	const char *helo;              /* receiving-mx-helo */
};

/*
 * Builds the result of facts and hands it to fn.  The policy (RFC 8460 §4.4, decision D1 and
 * the reading of §1.1): a DANE or DANE-encrypt host reports under "tlsa" with its
 * TLSA base domain as policy domain, the TLSA records as policy strings and the host as
 * mx-host; a host under an MTA-STS policy (enforce, testing, or excluded by it) under "sts"
 * with the recipient domain, the policy's lines and its mx patterns (from facts->sts); any other host under
 * "no-policy-found".  A discovery failure (h NULL) reports under "sts" with whatever policy
 * is known.  Returns false only when memory ran out (nothing was handed on).
 */
bool deliver_tlsrpt_emit(const struct deliver_tlsrpt_facts *facts, deliver_tlsrpt_fn fn,
			 void *arg);

/*
 * What skipping host h without a session adds to the report (delivery's try_next() and the
 * public mxtls_tlsrpt_record_skipped() alike): a host excluded by the MTA-STS policy is a
 * validation-failure (decision D10); a host unreachable because its TLSA lookup failed is
 * dnssec-invalid (RFC 8460 §4.3.2).  True with *result and *code (borrowed from h) set; false:
 * nothing to report.
 */
bool deliver_tlsrpt_skip(const struct decision_host *h, enum mxtls_result *result,
			 const char **code);

/* The same for the domain's MTA-STS discovery: true when the policy was fetched and the fetch
 * failed or the policy was invalid (RFC 8460 §4.3.2), with the result and the fetch error. */
bool deliver_tlsrpt_discovery_failed(const struct sts_resolve_result *sts,
				     enum mxtls_result *result, const char **code);

#endif
