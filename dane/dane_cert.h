/* SPDX-License-Identifier: MIT */
/* Certificate primitives for DANE on GnuTLS x509: chains, selectors, signatures, names, dates. */
#ifndef MXTLS_DANE_CERT_H
#define MXTLS_DANE_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "dane/dane_tlsa.h"

/* The most certificates accepted in one presented chain; more is an error, not a truncation. */
#define DANE_CHAIN_MAX 16

/* A presented chain: certs[0] is the leaf, the rest in the order the peer sent them. */
struct dane_chain {
	gnutls_x509_crt_t certs[DANE_CHAIN_MAX]; /* owned */
	size_t n;
};

/*
 * Imports PEM text (p, len) holding one or more certificates, keeping their order.  On success
 * *out owns the certificates (release with dane_chain_clear()).  Returns MXTLS_OK,
 * MXTLS_E_SYNTAX (no certificate, or one that does not parse), MXTLS_E_LIMIT (more than
 * DANE_CHAIN_MAX), MXTLS_E_NOMEM.  On failure *out is empty.
 */
int dane_chain_from_pem(const char *p, size_t len, struct dane_chain *out);

/* Frees the certificates; the chain is left empty.  NULL is a no-op. */
void dane_chain_clear(struct dane_chain *c);

/* True when the selected part of crt (RFC 6698 §2.1.2) has the association data of t. */
bool dane_cert_matches(gnutls_x509_crt_t crt, const struct dane_tlsa *t);

/*
 * The association data of crt for (selector, mtype) as RFC 6698 §2.1 defines it.  On success
 * *data (caller frees with free()) and *len are set.  Returns MXTLS_OK, MXTLS_E_INVAL (unknown
 * selector or matching type), MXTLS_E_NOMEM, MXTLS_E_SYNTAX (GnuTLS could not encode crt).
 */
int dane_cert_association(gnutls_x509_crt_t crt, uint8_t selector, uint8_t mtype, uint8_t **data,
			  size_t *len);

/* True when key verifies the signature on child (over its DER tbsCertificate). */
bool dane_cert_signed_by(gnutls_x509_crt_t child, gnutls_pubkey_t key);

/* True when crt may issue certificates: basicConstraints CA:TRUE and, if keyUsage is present,
 * keyCertSign. */
bool dane_cert_is_ca(gnutls_x509_crt_t crt);

/* The pathLenConstraint of a CA certificate, or -1 when it has none (RFC 5280 §4.2.1.9). */
int dane_cert_path_len(gnutls_x509_crt_t crt);

/* True when crt carries a critical extension this implementation does not process
 * (RFC 5280 §4.2: such a certificate MUST be rejected). */
bool dane_cert_has_unknown_critical(gnutls_x509_crt_t crt);

/* True when the name constraints of ca (if any) permit the names of leaf (RFC 5280 §4.2.1.10). */
bool dane_cert_names_permitted(gnutls_x509_crt_t ca, gnutls_x509_crt_t leaf);

/* 0 when now lies within the validity period of crt, -1 before it, 1 after it. */
int dane_cert_date_check(gnutls_x509_crt_t crt, int64_t now);

/*
 * True when crt carries a name matching one of names (RFC 7672 §3.2.3): its DNS-ID subject
 * alternative names when it has any, otherwise its subject common names; wildcards as
 * util_dnsname_match().
 */
bool dane_cert_name_matches(gnutls_x509_crt_t crt, const char *const *names, size_t nnames);

#endif
