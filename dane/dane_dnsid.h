/* SPDX-License-Identifier: MIT */
/* Web PKI server identity for MTA-STS hosts (RFC 8461 §3.3, §4.2): SAN DNS-IDs only. */
#ifndef MXTLS_DANE_DNSID_H
#define MXTLS_DANE_DNSID_H

#include <stdbool.h>
#include <stddef.h>

#include <gnutls/x509.h>

/*
 * True when the first certificate in the PEM text (p, len; borrowed) carries a subject
 * alternative name of type dNSName matching host (RFC 6125 §6.4 as RFC 8461 §3.3 requires:
 * DNS-IDs only, the subject common name is never consulted; "*" only as the whole left-most
 * label, matching exactly one label).  False when the text holds no parsable certificate.
 */
bool dane_dnsid_pem_matches(const char *p, size_t len, const char *host);

/* The same check on a parsed certificate (borrowed). */
bool dane_dnsid_crt_matches(gnutls_x509_crt_t crt, const char *host);

#endif
