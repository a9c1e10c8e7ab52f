/* SPDX-License-Identifier: MIT */
/* Certificates for DANE: a bounded DER walk for matching, GnuTLS x509 for DANE-TA paths. */
#include "dane/dane_cert.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <mxtls/error.h>

#include "util/util_dnsname.h"
#include "util/util_reader.h"

/*
 * One DER TLV whose tag is want_tag: a definite length in its shortest form (X.690 §10.1) and
 * content that lies within what remains of r.  On success the TLV is consumed, *tlv and
 * *tlv_len cover all of it (header included) and *content reads its content; on failure r is
 * unchanged.
 */
static bool der_tlv(struct util_reader *r, uint8_t want_tag, const uint8_t **tlv, size_t *tlv_len,
		    struct util_reader *content)
{
	struct util_reader t = *r;
	uint8_t tag, l;
	if (util_reader_u8(&t, &tag) != MXTLS_OK || tag != want_tag ||
	    util_reader_u8(&t, &l) != MXTLS_OK)
		return false;
	size_t n = l;
	if (l >= 0x80) {
		size_t nbytes = l & 0x7f;
		if (nbytes == 0 || nbytes > 4)
			return false; /* indefinite lengths are not DER; certificates are < 4 GiB */
		n = 0;
		for (size_t i = 0; i < nbytes; i++) {
			uint8_t b;
			if (util_reader_u8(&t, &b) != MXTLS_OK || (i == 0 && b == 0))
				return false; /* truncated, or a leading zero: not the shortest form */
			n = n << 8 | b;
		}
		if (n < 0x80)
			return false; /* the short form was required */
	}
	const uint8_t *c;
	if (util_reader_bytes(&t, n, &c) != MXTLS_OK)
		return false; /* longer than what encloses it */
	*tlv = r->p + r->pos;
	*tlv_len = t.pos - r->pos;
	util_reader_init(content, c, n);
	*r = t;
	return true;
}

int dane_cert_locate(const uint8_t *der, size_t len, struct dane_cert_parts *out)
{
	struct util_reader r, cert, tbs, skip;
	const uint8_t *tlv, *tbs_p, *spki_p;
	size_t tlv_len, tbs_len, spki_len;
	util_reader_init(&r, der, len);
	/* RFC 5280 §4.1: Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
	 * signatureValue }, and nothing after it. */
	if (!der_tlv(&r, 0x30, &tlv, &tlv_len, &cert) || !util_reader_at_end(&r) ||
	    !der_tlv(&cert, 0x30, &tbs_p, &tbs_len, &tbs))
		return MXTLS_E_SYNTAX;
	/* TBSCertificate ::= SEQUENCE { version [0] EXPLICIT (optional: absent means v1),
	 * serialNumber INTEGER, signature AlgorithmIdentifier, issuer Name, validity Validity,
	 * subject Name, subjectPublicKeyInfo, ... }.  A [0] that is not well formed is left
	 * unread, and then fails as a serialNumber. */
	(void)der_tlv(&tbs, 0xa0, &tlv, &tlv_len, &skip);
	static const uint8_t before_spki[] = {0x02, 0x30, 0x30, 0x30, 0x30};
	for (size_t i = 0; i < sizeof before_spki; i++) {
		if (!der_tlv(&tbs, before_spki[i], &tlv, &tlv_len, &skip))
			return MXTLS_E_SYNTAX;
	}
	if (!der_tlv(&tbs, 0x30, &spki_p, &spki_len, &skip))
		return MXTLS_E_SYNTAX;
	/* signatureAlgorithm SEQUENCE, signatureValue BIT STRING, and the end of the Certificate. */
	if (!der_tlv(&cert, 0x30, &tlv, &tlv_len, &skip) ||
	    !der_tlv(&cert, 0x03, &tlv, &tlv_len, &skip) || !util_reader_at_end(&cert))
		return MXTLS_E_SYNTAX;
	out->tbs = tbs_p;
	out->tbs_len = tbs_len;
	out->spki = spki_p;
	out->spki_len = spki_len;
	return MXTLS_OK;
}

/* Appends a copy of the DER certificate (der, len) to c, after the structural check. */
static int chain_add(struct dane_chain *c, const uint8_t *der, size_t len)
{
	struct dane_cert_parts parts;
	if (len > UINT32_MAX || dane_cert_locate(der, len, &parts) != MXTLS_OK)
		return MXTLS_E_SYNTAX;
	if (c->n == DANE_CHAIN_MAX)
		return MXTLS_E_LIMIT;
	uint8_t *copy = gnutls_malloc(len);
	if (copy == NULL)
		return MXTLS_E_NOMEM;
	memcpy(copy, der, len);
	c->certs[c->n].der = copy;
	c->certs[c->n].len = len;
	c->n++;
	return MXTLS_OK;
}

/* The PEM labels of a certificate: RFC 7468 §5.1, and the legacy one GnuTLS also accepts. */
static const struct pem_label {
	const char *label;  /* as gnutls_pem_base64_decode2() wants it */
	const char *suffix; /* what follows "-----BEGIN " */
} pem_labels[] = {
	{"CERTIFICATE", "CERTIFICATE-----"},
	{"X509 CERTIFICATE", "X509 CERTIFICATE-----"},
};

/* The offset in (p, len) of the next certificate block at or after from, and its label; false
 * when there is none. */
static bool next_pem_block(const char *p, size_t len, size_t from, size_t *at,
			   const struct pem_label **label)
{
	static const char begin[] = "-----BEGIN ";
	while (from < len) {
		const char *hit = memmem(p + from, len - from, begin, sizeof begin - 1);
		if (hit == NULL)
			return false;
		size_t off = (size_t)(hit - p);
		size_t rest = len - off - (sizeof begin - 1);
		for (size_t k = 0; k < sizeof pem_labels / sizeof pem_labels[0]; k++) {
			size_t sl = strlen(pem_labels[k].suffix);
			if (sl <= rest && memcmp(hit + sizeof begin - 1, pem_labels[k].suffix, sl) == 0) {
				*at = off;
				*label = &pem_labels[k];
				return true;
			}
		}
		from = off + 1; /* another kind of block (a key, a request): ignored */
	}
	return false;
}

int dane_chain_from_pem(const char *p, size_t len, struct dane_chain *out)
{
	memset(out, 0, sizeof *out);
	if (p == NULL || len == 0 || len > UINT32_MAX || memchr(p, '\0', len) != NULL)
		return MXTLS_E_SYNTAX;
	struct dane_chain c;
	memset(&c, 0, sizeof c);
	size_t at, from = 0;
	const struct pem_label *label;
	int rc = MXTLS_OK;
	/* The order as sent is kept: it is part of what is being judged. */
	while (rc == MXTLS_OK && next_pem_block(p, len, from, &at, &label)) {
		if (c.n == DANE_CHAIN_MAX) {
			rc = MXTLS_E_LIMIT;
			break;
		}
		gnutls_datum_t in = {(unsigned char *)p + at, (unsigned int)(len - at)};
		gnutls_datum_t der = {NULL, 0};
		int grc = gnutls_pem_base64_decode2(label->label, &in, &der);
		if (grc == GNUTLS_E_MEMORY_ERROR)
			rc = MXTLS_E_NOMEM;
		else if (grc < 0)
			rc = MXTLS_E_SYNTAX;
		else
			rc = chain_add(&c, der.data, der.size);
		gnutls_free(der.data);
		from = at + 1;
	}
	if (rc == MXTLS_OK && c.n == 0)
		rc = MXTLS_E_SYNTAX;
	if (rc != MXTLS_OK) {
		dane_chain_clear(&c);
		return rc;
	}
	*out = c;
	return MXTLS_OK;
}

int dane_chain_from_der(const uint8_t *const *der, const size_t *len, size_t n,
			struct dane_chain *out)
{
	memset(out, 0, sizeof *out);
	if (n == 0 || der == NULL || len == NULL)
		return MXTLS_E_SYNTAX;
	if (n > DANE_CHAIN_MAX)
		return MXTLS_E_LIMIT;
	struct dane_chain c;
	memset(&c, 0, sizeof c);
	for (size_t i = 0; i < n; i++) {
		int rc = chain_add(&c, der[i], len[i]);
		if (rc != MXTLS_OK) {
			dane_chain_clear(&c);
			return rc;
		}
	}
	*out = c;
	return MXTLS_OK;
}

gnutls_x509_crt_t dane_chain_cert(struct dane_chain *c, size_t i)
{
	if (c == NULL || i >= c->n)
		return NULL;
	struct dane_chain_entry *e = &c->certs[i];
	if (e->tried)
		return e->crt;
	gnutls_x509_crt_t crt;
	if (gnutls_x509_crt_init(&crt) < 0)
		return NULL; /* out of memory: not remembered */
	gnutls_datum_t d = {e->der, (unsigned int)e->len};
	int rc = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
	if (rc < 0) {
		gnutls_x509_crt_deinit(crt);
		if (rc == GNUTLS_E_MEMORY_ERROR)
			return NULL;
		crt = NULL;
	}
	e->crt = crt;
	e->tried = true;
	return crt;
}

void dane_chain_clear(struct dane_chain *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		if (c->certs[i].crt != NULL)
			gnutls_x509_crt_deinit(c->certs[i].crt);
		gnutls_free(c->certs[i].der);
	}
	memset(c, 0, sizeof *c);
}

/* The bytes that selector picks from the DER certificate (der, len), borrowed from it: all of
 * it (selector 0), or its subjectPublicKeyInfo as it appears there (selector 1; RFC 6698
 * §2.1.2 defines it so, and re-encoding could change it, e.g. RSA parameters). */
static int selected(const uint8_t *der, size_t len, uint8_t selector, const uint8_t **sel,
		    size_t *sel_len)
{
	struct dane_cert_parts parts;
	if (dane_cert_locate(der, len, &parts) != MXTLS_OK)
		return MXTLS_E_SYNTAX;
	*sel = selector == DANE_SELECTOR_CERT ? der : parts.spki;
	*sel_len = selector == DANE_SELECTOR_CERT ? len : parts.spki_len;
	return MXTLS_OK;
}

/* The digest of (p, n) for a digest matching type into digest (64 bytes); its size, or 0 when
 * the hash failed. */
static size_t digest_of(uint8_t mtype, const uint8_t *p, size_t n, uint8_t digest[64])
{
	bool sha256 = mtype == DANE_MTYPE_SHA256;
	if (gnutls_hash_fast(sha256 ? GNUTLS_DIG_SHA256 : GNUTLS_DIG_SHA512, p, n, digest) < 0)
		return 0;
	return sha256 ? 32 : 64;
}

int dane_cert_association(const uint8_t *der, size_t len, uint8_t selector, uint8_t mtype,
			  uint8_t **data, size_t *data_len)
{
	if (selector > DANE_SELECTOR_SPKI || mtype > DANE_MTYPE_SHA512)
		return MXTLS_E_INVAL;
	const uint8_t *sel;
	size_t n;
	if (selected(der, len, selector, &sel, &n) != MXTLS_OK)
		return MXTLS_E_SYNTAX;
	uint8_t digest[64];
	if (mtype != DANE_MTYPE_FULL) {
		n = digest_of(mtype, sel, n, digest);
		if (n == 0)
			return MXTLS_E_INTERNAL;
		sel = digest;
	}
	uint8_t *p = malloc(n);
	if (p == NULL)
		return MXTLS_E_NOMEM;
	memcpy(p, sel, n);
	*data = p;
	*data_len = n;
	return MXTLS_OK;
}

bool dane_cert_matches(const uint8_t *der, size_t len, const struct dane_tlsa *t)
{
	const uint8_t *sel;
	size_t n;
	if (!t->usable || t->selector > DANE_SELECTOR_SPKI || t->mtype > DANE_MTYPE_SHA512 ||
	    selected(der, len, t->selector, &sel, &n) != MXTLS_OK)
		return false;
	if (t->mtype == DANE_MTYPE_FULL)
		return n == t->len && memcmp(sel, t->data, n) == 0;
	uint8_t digest[64];
	n = digest_of(t->mtype, sel, n, digest);
	return n != 0 && n == t->len && memcmp(digest, t->data, n) == 0;
}

bool dane_cert_signed_by(gnutls_x509_crt_t child, const uint8_t *der, size_t len,
			 gnutls_pubkey_t key)
{
	struct dane_cert_parts parts;
	uint8_t sig[1024];
	size_t siglen = sizeof sig;
	int algo = gnutls_x509_crt_get_signature_algorithm(child);
	if (dane_cert_locate(der, len, &parts) != MXTLS_OK || parts.tbs_len > UINT32_MAX ||
	    algo <= 0 || gnutls_x509_crt_get_signature(child, (char *)sig, &siglen) < 0)
		return false;
	gnutls_datum_t tbs = {(unsigned char *)parts.tbs, (unsigned int)parts.tbs_len};
	gnutls_datum_t s = {sig, (unsigned int)siglen};
	return gnutls_pubkey_verify_data2(key, (gnutls_sign_algorithm_t)algo, 0, &tbs, &s) >= 0;
}

bool dane_cert_is_ca(gnutls_x509_crt_t crt)
{
	unsigned int critical, ca = 0, usage = 0;
	int pathlen;
	if (gnutls_x509_crt_get_basic_constraints(crt, &critical, &ca, &pathlen) < 0 || !ca)
		return false;
	int rc = gnutls_x509_crt_get_key_usage(crt, &usage, &critical);
	if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return true;
	return rc >= 0 && (usage & GNUTLS_KEY_KEY_CERT_SIGN) != 0;
}

int dane_cert_path_len(gnutls_x509_crt_t crt)
{
	unsigned int critical, ca = 0;
	int pathlen = -1;
	if (gnutls_x509_crt_get_basic_constraints(crt, &critical, &ca, &pathlen) < 0)
		return -1;
	return pathlen < 0 ? -1 : pathlen;
}

/* Extensions whose meaning verify_path() honours or that carry no constraint on the path. */
static const char *const known_extensions[] = {
	"2.5.29.14", /* subjectKeyIdentifier */
	"2.5.29.15", /* keyUsage */
	"2.5.29.17", /* subjectAltName */
	"2.5.29.19", /* basicConstraints */
	"2.5.29.30", /* nameConstraints */
	"2.5.29.32", /* certificatePolicies (no policy is required of SMTP servers) */
	"2.5.29.35", /* authorityKeyIdentifier */
	"2.5.29.37", /* extKeyUsage */
};

bool dane_cert_has_unknown_critical(gnutls_x509_crt_t crt)
{
	for (unsigned int idx = 0;; idx++) {
		char oid[128];
		size_t size = sizeof oid;
		unsigned int critical = 0;
		int rc = gnutls_x509_crt_get_extension_info(crt, idx, oid, &size, &critical);
		if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			return false;
		if (rc < 0)
			return true; /* an extension we cannot even name */
		if (!critical)
			continue;
		bool known = false;
		for (size_t i = 0; i < sizeof known_extensions / sizeof known_extensions[0]; i++)
			known = known || strcmp(oid, known_extensions[i]) == 0;
		if (!known)
			return true;
	}
}

bool dane_cert_names_permitted(gnutls_x509_crt_t ca, gnutls_x509_crt_t leaf)
{
	gnutls_x509_name_constraints_t nc;
	if (gnutls_x509_name_constraints_init(&nc) < 0)
		return false;
	unsigned int critical;
	int rc = gnutls_x509_crt_get_name_constraints(ca, nc, 0, &critical);
	bool ok;
	if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		ok = true;
	else if (rc < 0)
		ok = false;
	else
		ok = gnutls_x509_name_constraints_check_crt(nc, GNUTLS_SAN_DNSNAME, leaf) != 0;
	gnutls_x509_name_constraints_deinit(nc);
	return ok;
}

int dane_cert_date_check(gnutls_x509_crt_t crt, int64_t now)
{
	time_t from = gnutls_x509_crt_get_activation_time(crt);
	time_t until = gnutls_x509_crt_get_expiration_time(crt);
	if (from == (time_t)-1 || now < (int64_t)from)
		return -1;
	if (until == (time_t)-1 || now > (int64_t)until)
		return 1;
	return 0;
}

static bool any_name_matches(const char *id, size_t idlen, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (util_dnsname_match(id, idlen, names[i], strlen(names[i])))
			return true;
	}
	return false;
}

bool dane_cert_dnsid_matches(gnutls_x509_crt_t crt, const char *const *names, size_t nnames,
			     bool *have_dns_id)
{
	bool have = false, match = false;
	char buf[UTIL_DNSNAME_MAX + 2];
	for (unsigned int seq = 0; !match; seq++) {
		size_t size = sizeof buf;
		unsigned int critical;
		int type = gnutls_x509_crt_get_subject_alt_name(crt, seq, buf, &size, &critical);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type == GNUTLS_E_SHORT_MEMORY_BUFFER) {
			have = true; /* an over-long name can match nothing, but it counts */
			continue;
		}
		if (type < 0) {
			have = true; /* an undecodable extension: no CN fallback either */
			break;
		}
		if (type != GNUTLS_SAN_DNSNAME)
			continue; /* IP addresses, URIs, ... */
		have = true;
		match = any_name_matches(buf, size, names, nnames);
	}
	if (have_dns_id != NULL)
		*have_dns_id = have;
	return match;
}

bool dane_cert_name_matches(gnutls_x509_crt_t crt, const char *const *names, size_t nnames)
{
	/* RFC 7672 §3.2.3 (via RFC 6125 §6.4.4): DNS-IDs when present, else the CN. */
	bool have_dns_id;
	if (dane_cert_dnsid_matches(crt, names, nnames, &have_dns_id))
		return true;
	if (have_dns_id)
		return false;
	char buf[UTIL_DNSNAME_MAX + 2];
	for (unsigned int idx = 0;; idx++) {
		size_t size = sizeof buf;
		int rc = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, idx, 0, buf,
						       &size);
		if (rc == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;
		if (rc < 0)
			return false;
		if (any_name_matches(buf, size, names, nnames))
			return true;
	}
}
