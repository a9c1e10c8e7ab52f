/* SPDX-License-Identifier: MIT */
/* Authenticating one MX host's certificate chain the way its decision says. */
#include "validator/host_verify.h"

#include <stdio.h>
#include <string.h>

#include <mxtls/error.h>

#include "dane/dane_verify.h"

static enum mxtls_result conclude(struct host_verify_outcome *out, enum mxtls_result r,
				  bool soft, const char *method, const char *reason)
{
	out->reported = r;
	out->result = soft ? MXTLS_RESULT_OK : r;
	out->method = method;
	snprintf(out->reason, sizeof out->reason, "%s", reason);
	return out->result;
}

enum mxtls_result host_verify(const struct decision_host *h, const struct dane_pkix *pkix,
			      const uint8_t *const *der, const size_t *len, size_t n, int64_t now,
			      struct host_verify_outcome *out)
{
	if (!h->dane_auth && !h->pkix_auth)
		return conclude(out, MXTLS_RESULT_OK, false, "none",
				"no authentication required: any certificate is accepted");
	bool soft = h->report_only && !h->dane_auth;
	const char *method = h->dane_auth ? "dane" : "pkix";
	struct dane_chain chain;
	int rc = dane_chain_from_der(der, len, n, &chain);
	if (rc != MXTLS_OK)
		return conclude(out, MXTLS_RESULT_VALIDATION_FAILURE, soft, method,
				n == 0 ? "the server sent no certificate"
				       : "the server's certificate chain is malformed or too long");
	struct dane_verdict v;
	if (h->dane_auth) {
		/* RFC 7672 §3: the host's own TLSA RRset and reference identifiers. */
		const char *names[HOST_DANE_NAMES_MAX];
		for (size_t i = 0; i < h->dane->nnames; i++)
			names[i] = h->dane->names[i];
		dane_verify(&chain, h->dane->tlsa, h->dane->ntlsa, names, h->dane->nnames, now, &v);
	} else if (pkix == NULL) {
		v = (struct dane_verdict){.result = MXTLS_RESULT_CERTIFICATE_NOT_TRUSTED,
					  .reason = "no trusted roots are loaded", .matched = -1};
	} else {
		/* RFC 8461 §4.2: the MX host name as found in the MX RRset. */
		dane_pkix_verify(pkix, &chain, h->name, now, &v);
	}
	dane_chain_clear(&chain);
	return conclude(out, v.result, soft, method, v.reason);
}
