/* SPDX-License-Identifier: MIT */
/* Web PKI authentication of an MX certificate for MTA-STS (RFC 8461 §4.2), with GnuTLS. */
#include "dane/dane_pkix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <mxtls/error.h>

#include "dane/dane_dnsid.h"

struct dane_pkix {
	gnutls_x509_trust_list_t list;
};

int dane_pkix_new(const char *ca_file, struct dane_pkix **out, char *err, size_t errlen)
{
	struct dane_pkix *p = calloc(1, sizeof *p);
	if (p == NULL)
		return MXTLS_E_NOMEM;
	if (gnutls_x509_trust_list_init(&p->list, 0) < 0) {
		free(p);
		return MXTLS_E_NOMEM;
	}
	int n = ca_file != NULL
			? gnutls_x509_trust_list_add_trust_file(p->list, ca_file, NULL,
								GNUTLS_X509_FMT_PEM, 0, 0)
			: gnutls_x509_trust_list_add_system_trust(p->list, 0, 0);
	if (n <= 0) {
		snprintf(err, errlen, "no trusted certificate could be loaded from %s%s%s",
			 ca_file != NULL ? ca_file : "the system store", n < 0 ? ": " : "",
			 n < 0 ? gnutls_strerror(n) : "");
		dane_pkix_free(p);
		return MXTLS_E_CONFIG;
	}
	*out = p;
	return MXTLS_OK;
}

void dane_pkix_free(struct dane_pkix *p)
{
	if (p == NULL)
		return;
	gnutls_x509_trust_list_deinit(p->list, 1);
	free(p);
}

static void verdict(struct dane_verdict *out, enum mxtls_result r, const char *reason)
{
	*out = (struct dane_verdict){.result = r, .reason = reason, .matched = -1};
}

void dane_pkix_verify(const struct dane_pkix *p, struct dane_chain *chain, const char *host,
		      int64_t now, struct dane_verdict *out)
{
	gnutls_x509_crt_t crts[DANE_CHAIN_MAX];
	size_t n = chain->n;
	if (n == 0) {
		verdict(out, MXTLS_RESULT_VALIDATION_FAILURE, "the server sent no certificate");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		crts[i] = dane_chain_cert(chain, i);
		if (crts[i] == NULL) {
			if (i == 0) {
				verdict(out, MXTLS_RESULT_VALIDATION_FAILURE,
					"the server's certificate does not parse");
				return;
			}
			n = i; /* an unparsable extra certificate is ignored: the path may not need it */
			break;
		}
	}
	/* Dates are checked below against the injected clock, not GnuTLS' wall clock. */
	unsigned int status = 0;
	int rc = gnutls_x509_trust_list_verify_crt2(
		p->list, crts, (unsigned)n, NULL, 0,
		GNUTLS_VERIFY_DISABLE_TIME_CHECKS | GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS,
		&status, NULL);
	if (rc < 0) {
		verdict(out, MXTLS_RESULT_VALIDATION_FAILURE, "the chain could not be verified");
		return;
	}
	if (status != 0) {
		if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA))
			verdict(out, MXTLS_RESULT_CERTIFICATE_NOT_TRUSTED,
				"the chain does not lead to a trusted root");
		else if (status & GNUTLS_CERT_REVOKED)
			verdict(out, MXTLS_RESULT_VALIDATION_FAILURE, "a certificate is revoked");
		else if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
			verdict(out, MXTLS_RESULT_VALIDATION_FAILURE,
				"the chain uses an insecure signature algorithm");
		else if (status & GNUTLS_CERT_SIGNATURE_FAILURE)
			verdict(out, MXTLS_RESULT_CERTIFICATE_NOT_TRUSTED,
				"a signature in the chain does not verify");
		else
			verdict(out, MXTLS_RESULT_CERTIFICATE_NOT_TRUSTED,
				"the chain is not valid for the Web PKI");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		int dc = dane_cert_date_check(crts[i], now);
		if (dc > 0) {
			verdict(out, MXTLS_RESULT_CERTIFICATE_EXPIRED,
				i == 0 ? "the certificate has expired"
				       : "a certificate of the chain has expired");
			return;
		}
		if (dc < 0) {
			verdict(out, MXTLS_RESULT_VALIDATION_FAILURE,
				"a certificate of the chain is not valid yet");
			return;
		}
	}
	if (!dane_dnsid_crt_matches(crts[0], host)) {
		verdict(out, MXTLS_RESULT_CERTIFICATE_HOST_MISMATCH,
			"no DNS name in the certificate matches the MX host name");
		return;
	}
	verdict(out, MXTLS_RESULT_OK, "trusted, in date, and the name matches");
}
