/* SPDX-License-Identifier: MIT */
/* DANE authentication of a presented chain against a TLSA RRset (RFC 7672 §3, RFC 7671). */
#ifndef MXTLS_DANE_VERIFY_H
#define MXTLS_DANE_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mxtls/result.h>

#include "dane/dane_cert.h"
#include "dane/dane_tlsa.h"

/* The longest DANE-TA path from the leaf to the trust anchor. */
#define DANE_PATH_MAX 8

struct dane_verdict {
	enum mxtls_result result; /* MXTLS_RESULT_OK when authenticated */
	const char *reason;       /* static English text */
	int matched;              /* index of the record that authenticated, -1 if none */
	size_t usable;            /* records usable after RFC 7671 §9 selection */
	size_t depth;             /* for DANE-TA: certificates from the leaf to the anchor */
};

/*
 * Authenticates chain (borrowed; certs[0] the leaf) with the TLSA records set[0..n) (their
 * usability must already be decided, and dane_tlsa_select() applied).  names[0..nnames) are the
 * reference identifiers for DANE-TA (RFC 7672 §3.2.2: the TLSA base domain, and the next-hop
 * domain when the MX lookup was secure); now is the validation time (Unix seconds) for the
 * certificates below a DANE-TA trust anchor.
 *
 * DANE-EE(3) (§3.1.1): the leaf's selected part matches; no name and no date check.
 * DANE-TA(2) (§3.1.2): a presented certificate other than the leaf matches, or the record is
 * Full(0) and carries the anchor itself (`2 0 0` certificate, `2 1 0` bare key); the path from
 * the leaf to the anchor verifies (signatures, CA constraints, dates below the anchor, decision
 * D12) and the leaf matches a reference identifier.
 * The certificates are parsed as X.509 only when needed (none for DANE-EE; for DANE-TA the
 * certificates whose DER matched, the leaf and those tried as issuers), and the parses are
 * cached in chain, which is why it is not const.  A certificate that does not parse matches
 * nothing it would have to be parsed for: it is never an anchor or a link of the path, and a
 * leaf that does not parse fails every DANE-TA record.
 * Always fills *out (a verdict is not an error).
 */
void dane_verify(struct dane_chain *chain, const struct dane_tlsa *set, size_t n,
		 const char *const *names, size_t nnames, int64_t now, struct dane_verdict *out);

#endif
