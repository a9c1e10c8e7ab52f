/* SPDX-License-Identifier: MIT */
/* SAN DNS-ID matching of a PEM certificate for MTA-STS hosts (RFC 8461 §3.3, §4.2). */
#include "dane/dane_dnsid.h"

#include <stdint.h>

#include <gnutls/x509.h>

#include "dane/dane_cert.h"

bool dane_dnsid_crt_matches(gnutls_x509_crt_t crt, const char *host)
{
	/* RFC 8461 §3.3, §4.2: DNS-IDs only; the CN is never looked at. */
	const char *names[1] = {host};
	return dane_cert_dnsid_matches(crt, names, 1, NULL);
}

bool dane_dnsid_pem_matches(const char *p, size_t len, const char *host)
{
	if (p == NULL || host == NULL || len == 0 || len > UINT32_MAX)
		return false;
	gnutls_x509_crt_t crt;
	if (gnutls_x509_crt_init(&crt) < 0)
		return false;
	gnutls_datum_t d = {(unsigned char *)p, (unsigned int)len};
	bool match = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) >= 0 &&
		     dane_dnsid_crt_matches(crt, host);
	gnutls_x509_crt_deinit(crt);
	return match;
}
