/* SPDX-License-Identifier: MIT */
/* Web PKI authentication of an MX certificate for MTA-STS (RFC 8461 §4.2), with GnuTLS. */
#ifndef MXTLS_DANE_PKIX_H
#define MXTLS_DANE_PKIX_H

#include <stddef.h>
#include <stdint.h>

#include "dane/dane_cert.h"
#include "dane/dane_verify.h"

/* A set of trusted roots. */
struct dane_pkix;

/*
 * Loads the roots from ca_file (PEM; borrowed), or the system store when ca_file is NULL.
 * On success *out is set (free with dane_pkix_free()).  Returns MXTLS_OK, MXTLS_E_CONFIG
 * (no certificate could be loaded; reason in err), MXTLS_E_NOMEM.
 */
int dane_pkix_new(const char *ca_file, struct dane_pkix **out, char *err, size_t errlen);

/* Frees p; NULL is a no-op. */
void dane_pkix_free(struct dane_pkix *p);

/*
 * RFC 8461 §4.2 (STS-46): the presented chain (leaf first) leads to a trusted root, no
 * certificate of it is outside its validity period at now (Unix seconds; the injected clock,
 * so the trust store's own dates are not consulted), and the leaf carries a subject
 * alternative name of type dNSName matching host (RFC 6125: the common name never counts,
 * "*" only as the whole left-most label).  Always fills *out; result is MXTLS_RESULT_OK or
 * certificate-not-trusted, certificate-expired, certificate-host-mismatch,
 * validation-failure.
 */
void dane_pkix_verify(const struct dane_pkix *p, struct dane_chain *chain, const char *host,
		      int64_t now, struct dane_verdict *out);

#endif
