/* SPDX-License-Identifier: MIT */
/* DANE certificates: DER chains parsed lazily, DER walk, selectors, signatures, names, dates. */
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

/*
 * Where the parts DANE needs lie inside a DER Certificate (RFC 5280 §4.1), as found by
 * dane_cert_locate(): pointers into the DER that was given (borrowed from it).
 */
struct dane_cert_parts {
	const uint8_t *tbs;  /* the tbsCertificate TLV, the bytes a signature covers */
	size_t tbs_len;
	const uint8_t *spki; /* the subjectPublicKeyInfo TLV as it appears in the certificate */
	size_t spki_len;
};

/*
 * Finds tbsCertificate and subjectPublicKeyInfo in a DER certificate (der, len; untrusted
 * bytes from the network, borrowed) with a bounded walk, without an X.509 parse:
 *   Certificate SEQUENCE (spanning exactly len bytes) { tbsCertificate SEQUENCE { [0] version
 *   (optional), serialNumber INTEGER, signature SEQUENCE, issuer SEQUENCE, validity SEQUENCE,
 *   subject SEQUENCE, subjectPublicKeyInfo SEQUENCE, ... }, signatureAlgorithm SEQUENCE,
 *   signatureValue BIT STRING }.
 * Every length must be definite, in its shortest form (DER), and lie within what encloses it.
 * The contents of the fields are not examined: a certificate that passes may still be
 * rejected by the X.509 parser (dane_chain_cert()).  On success *out is set.  Returns MXTLS_OK
 * or MXTLS_E_SYNTAX.
 */
int dane_cert_locate(const uint8_t *der, size_t len, struct dane_cert_parts *out);

/* One presented certificate: its DER as the peer sent it, and its X.509 parse, made the first
 * time dane_chain_cert() asks for it. */
struct dane_chain_entry {
	uint8_t *der;          /* owned (gnutls_free); dane_cert_locate() accepts it */
	size_t len;
	gnutls_x509_crt_t crt; /* owned; NULL until parsed, and when the parse failed */
	bool tried;            /* the parse was attempted; with crt NULL it failed for good */
};

/*
 * A presented chain: certs[0] is the leaf, the rest in the order the peer sent them.  Only the
 * DER is kept when the chain is made; a certificate is parsed as X.509 when the verification
 * first needs it, and the parse is cached here (so a chain is not safe to use from two threads
 * at once, and functions that may parse take it non-const).  DANE-EE with either selector and
 * the digest matching of DANE-TA work on the DER alone.
 */
struct dane_chain {
	struct dane_chain_entry certs[DANE_CHAIN_MAX];
	size_t n;
};

/*
 * Makes a chain from PEM text (p, len): each "-----BEGIN CERTIFICATE-----" block (and the
 * legacy "-----BEGIN X509 CERTIFICATE-----", as GnuTLS accepts) is base64-decoded, in order;
 * text outside the blocks is ignored.  Each certificate is only checked structurally
 * (dane_cert_locate()), not parsed as X.509: a certificate that passes but that GnuTLS cannot
 * parse makes the chain unusable only where the verification needs that certificate.
 * On success *out owns copies of the DER (release with dane_chain_clear()).  Returns MXTLS_OK,
 * MXTLS_E_SYNTAX (no certificate, a block that does not decode, or a certificate that is not
 * structurally DER), MXTLS_E_LIMIT (more than DANE_CHAIN_MAX), MXTLS_E_NOMEM.  On failure *out
 * is empty.
 */
int dane_chain_from_pem(const char *p, size_t len, struct dane_chain *out);

/*
 * Makes a chain from n DER certificates der[i] of len[i] bytes (leaf first, as a TLS session
 * presents them; borrowed, and copied).  As dane_chain_from_pem() otherwise: MXTLS_E_SYNTAX
 * when n is 0 or a certificate is not structurally DER, MXTLS_E_LIMIT when n > DANE_CHAIN_MAX.
 */
int dane_chain_from_der(const uint8_t *const *der, const size_t *len, size_t n,
			struct dane_chain *out);

/*
 * The X.509 parse of certificate i of c, made on first use and cached in c (owned by c: valid
 * until dane_chain_clear()).  NULL when i is out of range, when the certificate does not parse
 * (that is remembered: it is not tried again), or when memory runs out (tried again next time).
 */
gnutls_x509_crt_t dane_chain_cert(struct dane_chain *c, size_t i);

/* Frees the certificates; the chain is left empty.  NULL is a no-op. */
void dane_chain_clear(struct dane_chain *c);

/* True when the selected part of the DER certificate (der, len) (RFC 6698 §2.1.2) has the
 * association data of t.  No X.509 parse is made. */
bool dane_cert_matches(const uint8_t *der, size_t len, const struct dane_tlsa *t);

/*
 * The association data of the DER certificate (der, len) for (selector, mtype) as RFC 6698
 * §2.1 defines it: selector 0 is the DER as given, selector 1 the subjectPublicKeyInfo exactly
 * as it appears in that DER (never re-encoded).  On success *data (caller frees with free())
 * and *data_len are set.  Returns MXTLS_OK, MXTLS_E_INVAL (unknown selector or matching type),
 * MXTLS_E_SYNTAX (dane_cert_locate() rejects der), MXTLS_E_NOMEM, MXTLS_E_INTERNAL.
 */
int dane_cert_association(const uint8_t *der, size_t len, uint8_t selector, uint8_t mtype,
			  uint8_t **data, size_t *data_len);

/* True when key verifies the signature on child, whose DER is (der, len) (borrowed; the bytes
 * child was parsed from): the signature covers the tbsCertificate as it appears there. */
bool dane_cert_signed_by(gnutls_x509_crt_t child, const uint8_t *der, size_t len,
			 gnutls_pubkey_t key);

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
 * True when a subject alternative name of type dNSName of crt matches one of names (wildcards as
 * util_dnsname_match()); the common name is not consulted.  *have_dns_id (may be NULL) says
 * whether crt has any DNS-ID (one too long to match, or an undecodable extension, counts).
 */
bool dane_cert_dnsid_matches(gnutls_x509_crt_t crt, const char *const *names, size_t nnames,
			     bool *have_dns_id);

/*
 * True when crt carries a name matching one of names (RFC 7672 §3.2.3): its DNS-ID subject
 * alternative names when it has any, otherwise its subject common names; wildcards as
 * util_dnsname_match().
 */
bool dane_cert_name_matches(gnutls_x509_crt_t crt, const char *const *names, size_t nnames);

#endif
