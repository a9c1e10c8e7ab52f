/* SPDX-License-Identifier: MIT */
/* SAN DNS-ID matching of a PEM certificate for MTA-STS hosts (RFC 8461 §3.3, §4.2). */
#include "dane/dane_dnsid.h"

#include <stdint.h>
#include <string.h>

#include <gnutls/x509.h>

#include "util/util_dnsname.h"

bool dane_dnsid_crt_matches(gnutls_x509_crt_t crt, const char *host)
{
	bool match = false;
	for (unsigned i = 0; !match; i++) {
		char name[256];
		size_t nlen = sizeof name - 1;
		unsigned int critical;
		int type = gnutls_x509_crt_get_subject_alt_name(crt, i, name, &nlen, &critical);
		if (type < 0 && type != GNUTLS_E_SHORT_MEMORY_BUFFER)
			break; /* no more names, or an undecodable extension */
		if (type == GNUTLS_SAN_DNSNAME)
			match = util_dnsname_match(name, nlen, host, strlen(host));
		/* Other types (IP addresses, URIs) and names too long for a host name are
		 * skipped; the CN is not looked at (RFC 8461 §3.3, §4.2: DNS-ID only). */
	}
	return match;
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
