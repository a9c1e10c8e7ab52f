/* SPDX-License-Identifier: MIT */
/* GnuTLS x509 primitives used by DANE matching and DANE-TA chain building. */
#include "dane/dane_cert.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <mxtls/error.h>

#include "util/util_dnsname.h"
#include "util/util_reader.h"

int dane_chain_from_pem(const char *p, size_t len, struct dane_chain *out)
{
	memset(out, 0, sizeof *out);
	if (len == 0 || len > UINT32_MAX || memchr(p, '\0', len) != NULL)
		return MXTLS_E_SYNTAX;
	gnutls_datum_t d = {(unsigned char *)p, (unsigned int)len};
	gnutls_x509_crt_t *list = NULL;
	unsigned int n = 0;
	/* No GNUTLS_X509_CRT_LIST_SORT: the order as sent is part of what is being judged. */
	int rc = gnutls_x509_crt_list_import2(&list, &n, &d, GNUTLS_X509_FMT_PEM,
					      0);
	if (rc == GNUTLS_E_MEMORY_ERROR)
		return MXTLS_E_NOMEM;
	if (rc < 0 || n == 0)
		return MXTLS_E_SYNTAX;
	if (n > DANE_CHAIN_MAX) {
		for (unsigned int i = 0; i < n; i++)
			gnutls_x509_crt_deinit(list[i]);
		gnutls_free(list);
		return MXTLS_E_LIMIT;
	}
	for (unsigned int i = 0; i < n; i++)
		out->certs[i] = list[i];
	out->n = n;
	gnutls_free(list);
	return MXTLS_OK;
}

void dane_chain_clear(struct dane_chain *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		gnutls_x509_crt_deinit(c->certs[i]);
	memset(c, 0, sizeof *c);
}

/* The DER of the certificate (selector 0) or of its SubjectPublicKeyInfo (selector 1).
 * Caller frees out->data with gnutls_free(). */
static int selected_der(gnutls_x509_crt_t crt, uint8_t selector, gnutls_datum_t *out)
{
	if (selector == DANE_SELECTOR_CERT)
		return gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, out);
	gnutls_pubkey_t key;
	int rc = gnutls_pubkey_init(&key);
	if (rc < 0)
		return rc;
	rc = gnutls_pubkey_import_x509(key, crt, 0);
	if (rc >= 0)
		rc = gnutls_pubkey_export2(key, GNUTLS_X509_FMT_DER, out);
	gnutls_pubkey_deinit(key);
	return rc;
}

int dane_cert_association(gnutls_x509_crt_t crt, uint8_t selector, uint8_t mtype, uint8_t **data,
			  size_t *len)
{
	if (selector > DANE_SELECTOR_SPKI || mtype > DANE_MTYPE_SHA512)
		return MXTLS_E_INVAL;
	gnutls_datum_t der = {NULL, 0};
	if (selected_der(crt, selector, &der) < 0)
		return MXTLS_E_SYNTAX;
	size_t n = mtype == DANE_MTYPE_FULL ? der.size : mtype == DANE_MTYPE_SHA256 ? 32 : 64;
	uint8_t *p = malloc(n);
	int rc = p == NULL ? MXTLS_E_NOMEM : MXTLS_OK;
	if (rc == MXTLS_OK && mtype == DANE_MTYPE_FULL)
		memcpy(p, der.data, n);
	else if (rc == MXTLS_OK &&
		 gnutls_hash_fast(mtype == DANE_MTYPE_SHA256 ? GNUTLS_DIG_SHA256 : GNUTLS_DIG_SHA512,
				  der.data, der.size, p) < 0)
		rc = MXTLS_E_INTERNAL;
	gnutls_free(der.data);
	if (rc != MXTLS_OK) {
		free(p);
		return rc;
	}
	*data = p;
	*len = n;
	return MXTLS_OK;
}

bool dane_cert_matches(gnutls_x509_crt_t crt, const struct dane_tlsa *t)
{
	uint8_t *data;
	size_t len;
	if (!t->usable || dane_cert_association(crt, t->selector, t->mtype, &data, &len) != MXTLS_OK)
		return false;
	bool match = len == t->len && memcmp(data, t->data, len) == 0;
	free(data);
	return match;
}

/* Reads one DER tag and definite length; *hdr receives the header size. */
static bool der_header(struct util_reader *r, uint8_t want_tag, size_t *content_len)
{
	uint8_t tag, l;
	if (util_reader_u8(r, &tag) != MXTLS_OK || tag != want_tag ||
	    util_reader_u8(r, &l) != MXTLS_OK)
		return false;
	if (l < 0x80) {
		*content_len = l;
		return true;
	}
	size_t nbytes = l & 0x7f;
	if (nbytes == 0 || nbytes > 4)
		return false; /* indefinite lengths are not DER; certificates are < 4 GiB */
	size_t v = 0;
	for (size_t i = 0; i < nbytes; i++) {
		uint8_t b;
		if (util_reader_u8(r, &b) != MXTLS_OK)
			return false;
		v = v << 8 | b;
	}
	*content_len = v;
	return true;
}

/* The DER tbsCertificate inside a DER Certificate (RFC 5280 §4.1): borrowed from der. */
static bool tbs_of(const gnutls_datum_t *der, gnutls_datum_t *tbs)
{
	struct util_reader r;
	util_reader_init(&r, der->data, der->size);
	size_t outer, inner;
	if (!der_header(&r, 0x30, &outer) || outer != util_reader_remaining(&r))
		return false;
	size_t start = r.pos;
	if (!der_header(&r, 0x30, &inner) || inner > util_reader_remaining(&r))
		return false;
	tbs->data = der->data + start;
	tbs->size = (unsigned int)(r.pos - start + inner);
	return true;
}

bool dane_cert_signed_by(gnutls_x509_crt_t child, gnutls_pubkey_t key)
{
	gnutls_datum_t der = {NULL, 0}, tbs;
	if (gnutls_x509_crt_export2(child, GNUTLS_X509_FMT_DER, &der) < 0)
		return false;
	bool ok = false;
	uint8_t sig[1024];
	size_t siglen = sizeof sig;
	int algo = gnutls_x509_crt_get_signature_algorithm(child);
	if (tbs_of(&der, &tbs) && algo > 0 &&
	    gnutls_x509_crt_get_signature(child, (char *)sig, &siglen) >= 0) {
		gnutls_datum_t s = {sig, (unsigned int)siglen};
		ok = gnutls_pubkey_verify_data2(key, (gnutls_sign_algorithm_t)algo, 0, &tbs, &s) >= 0;
	}
	gnutls_free(der.data);
	return ok;
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

bool dane_cert_name_matches(gnutls_x509_crt_t crt, const char *const *names, size_t nnames)
{
	/* RFC 7672 §3.2.3 (via RFC 6125 §6.4.4): DNS-IDs when present, else the CN. */
	bool have_dns_id = false;
	char buf[UTIL_DNSNAME_MAX + 2];
	for (unsigned int seq = 0;; seq++) {
		size_t size = sizeof buf;
		unsigned int critical;
		int type = gnutls_x509_crt_get_subject_alt_name(crt, seq, buf, &size, &critical);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type == GNUTLS_E_SHORT_MEMORY_BUFFER) {
			have_dns_id = true; /* an over-long name can match nothing, but it counts */
			continue;
		}
		if (type < 0)
			return false;
		if (type != GNUTLS_SAN_DNSNAME)
			continue;
		have_dns_id = true;
		if (any_name_matches(buf, size, names, nnames))
			return true;
	}
	if (have_dns_id)
		return false;
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
