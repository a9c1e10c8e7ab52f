/* SPDX-License-Identifier: MIT */
/* Authenticating one MX host's certificate chain the way its decision says. */
#ifndef MXTLS_VALIDATOR_HOST_VERIFY_H
#define MXTLS_VALIDATOR_HOST_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include <mxtls/result.h>

#include "dane/dane_pkix.h"
#include "validator/decision.h"

struct host_verify_outcome {
	enum mxtls_result result;   /* what the session must obey: OK to go on */
	enum mxtls_result reported; /* what a report would say; differs from result only for
				     * MTA-STS testing, where failures are reported, not enforced */
	char reason[256];
	const char *method;         /* "dane", "pkix", "none" */
};

/*
 * Checks the chain der[0..n) (leaf first; borrowed) presented by host h:
 *   DANE (h->dane_auth): the TLSA records and DANE-TA names of the host algorithm
 *     (RFC 7672 §3), never the Web PKI (D1);
 *   Web PKI (h->pkix_auth): RFC 8461 §4.2 against pkix with the MX host name;
 *     with h->report_only a failure is reported but not enforced (RFC 8461 §5, testing);
 *   neither: anything is accepted (opportunistic, or DANE-encrypt without STS).
 * now is the validation time (Unix seconds).  Returns out->result.
 */
enum mxtls_result host_verify(const struct decision_host *h, const struct dane_pkix *pkix,
			      const uint8_t *const *der, const size_t *len, size_t n, int64_t now,
			      struct host_verify_outcome *out);

#endif
