/* SPDX-License-Identifier: MIT */
/* Unit tests for dane/: TLSA parsing and usability (hostile input first), digest agility, the
 * DER certificate walk and lazily parsed chains, and every case of vectors/dane/cases.txt
 * through dane_verify(). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <gnutls/x509-ext.h>
#include <mxtls/error.h>
#include <mxtls/result.h>

#include "dane/dane_cert.h"
#include "dane/dane_dnsid.h"
#include "dane/dane_tlsa.h"
#include "dane/dane_verify.h"
#include "test_main.h"
#include "tests/diff/casefile.h"

#ifndef VECTORS_DIR
#error "VECTORS_DIR must name the vectors/ folder"
#endif

/* ---- TLSA text: hostile and malformed first ---- */

static const struct text_case {
	const char *in;
	size_t len; /* 0: strlen */
	bool usable;
	const char *reason; /* substring of the reason when unusable */
	const char *canonical; /* expected text */
} text_cases[] = {
	{"", 0, false, "expected 'usage selector mtype hex'", ""},
	{"3 1", 0, false, "expected", "3 1"},
	{"3 1 1 zz", 0, false, "not hexadecimal", "3 1 1 zz"},
	{"3 1 1 abc", 0, false, "odd number", "3 1 1 abc"},
	{"3 1 1 ab\0cd", 10, false, "NUL byte", NULL},
	{"256 1 1 00", 0, false, "expected", "256 1 1 00"},
	{"-3 1 1 00", 0, false, "expected", "-3 1 1 00"},
	{"3x 1 1 00", 0, false, "expected", "3x 1 1 00"},
	{"3 1 1 0011", 0, false, "SHA2-256 data is not 32 bytes", "3 1 1 0011"},
	{"3 1 2 0011", 0, false, "SHA2-512 data is not 64 bytes", "3 1 2 0011"},
	{"3 0 0 00", 0, false, "not a DER certificate", "3 0 0 00"},
	{"2 1 0 3000", 0, false, "not a DER SubjectPublicKeyInfo", "2 1 0 3000"},
	{"3 1 0", 0, false, "empty association data", "3 1 0 -"},
	{"4 1 1 " "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 0, false,
	 "unknown certificate usage", NULL},
	{"3 2 1 " "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 0, false,
	 "unknown selector", NULL},
	{"3 1 3 00", 0, false, "unknown matching type", "3 1 3 00"},
	{"0 1 1 " "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 0, false,
	 "PKIX usages", NULL},
	{"1 0 1 " "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 0, false,
	 "PKIX usages", NULL},
	/* Zone-file style: blanks anywhere in the hex, upper case; canonical form is lower case. */
	{"  3\t1 1 0011223344556677 8899AABBCCDDEEFF00112233445566778899aabbccddeeff ", 0, true, NULL,
	 "3 1 1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"},
};

START_TEST(tlsa_from_text)
{
	const struct text_case *c = &text_cases[_i];
	struct dane_tlsa t;
	size_t len = c->len ? c->len : strlen(c->in);
	ck_assert_int_eq(dane_tlsa_from_text(c->in, len, &t), MXTLS_OK);
	ck_assert_int_eq(t.usable, c->usable);
	if (!c->usable)
		ck_assert_ptr_nonnull(strstr(t.reason, c->reason));
	else
		ck_assert_ptr_null(t.reason);
	if (c->canonical != NULL)
		ck_assert_str_eq(t.text, c->canonical);
	dane_tlsa_clear(&t);
}
END_TEST

START_TEST(tlsa_from_rdata)
{
	struct dane_tlsa t;
	const uint8_t truncated[] = {3, 1};
	ck_assert_int_eq(dane_tlsa_from_rdata(truncated, sizeof truncated, &t), MXTLS_OK);
	ck_assert(!t.usable);
	ck_assert_str_eq(t.reason, "truncated rdata");
	dane_tlsa_clear(&t);

	ck_assert_int_eq(dane_tlsa_from_rdata(NULL, 0, &t), MXTLS_OK);
	ck_assert(!t.usable);
	dane_tlsa_clear(&t);

	uint8_t good[3 + 32] = {3, 1, 1};
	for (int i = 0; i < 32; i++)
		good[3 + i] = (uint8_t)i;
	ck_assert_int_eq(dane_tlsa_from_rdata(good, sizeof good, &t), MXTLS_OK);
	ck_assert(t.usable);
	ck_assert_uint_eq(t.len, 32);
	ck_assert_str_eq(t.text,
			 "3 1 1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	dane_tlsa_clear(&t);

	/* A hostile 20 000-byte record from the network is unusable, not an error. */
	static uint8_t huge[3 + 65536] = {3, 0, 0};
	ck_assert_int_eq(dane_tlsa_from_rdata(huge, 3 + 20000, &t), MXTLS_OK);
	ck_assert(!t.usable);
	ck_assert_str_eq(t.reason, "Full(0) data is not a DER certificate");
	ck_assert_uint_eq(strlen(t.text), 6 + 2 * 20000);
	dane_tlsa_clear(&t);
	/* At the cap (all that TLSA rdata can carry) the data is examined; one byte more (only
	 * possible outside DNS) is too long. */
	ck_assert_int_eq(dane_tlsa_from_rdata(huge, 3 + DANE_TLSA_DATA_MAX, &t), MXTLS_OK);
	ck_assert_str_eq(t.reason, "Full(0) data is not a DER certificate");
	dane_tlsa_clear(&t);
	ck_assert_int_eq(dane_tlsa_from_rdata(huge, 3 + DANE_TLSA_DATA_MAX + 1, &t), MXTLS_OK);
	ck_assert_str_eq(t.reason, "association data too long");
	dane_tlsa_clear(&t);
	dane_tlsa_clear(NULL); /* a no-op */
}
END_TEST

/* Issue 14: a real certificate over the old 16 KiB cap (many SAN names, as a shared-hosting
 * MX has) in a 3 0 0 record.  The cap made the record unusable: DANE authentication became
 * DANE-encrypt.  Made here with GnuTLS (ECDSA P-256, self-signed), so no vector file. */
START_TEST(tlsa_full_certificate_over_16k)
{
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	ck_assert_int_eq(gnutls_x509_privkey_init(&key), 0);
	ck_assert_int_eq(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
						      GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
						      0),
			 0);
	ck_assert_int_eq(gnutls_x509_crt_init(&crt), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_version(crt, 3), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_key(crt, key), 0);
	unsigned char serial[1] = {1};
	ck_assert_int_eq(gnutls_x509_crt_set_serial(crt, serial, sizeof serial), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_activation_time(crt, 1700000000), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_expiration_time(crt, 2000000000), 0);
	/* One SAN extension built at once (appending names one by one re-encodes it each time). */
	gnutls_subject_alt_names_t sans;
	ck_assert_int_eq(gnutls_subject_alt_names_init(&sans), 0);
	for (int i = 0; i < 500; i++) {
		char name[64];
		snprintf(name, sizeof name, "host-%04d.shared-hosting.example", i);
		gnutls_datum_t n = {(unsigned char *)name, (unsigned int)strlen(name)};
		ck_assert_int_eq(gnutls_subject_alt_names_set(sans, GNUTLS_SAN_DNSNAME, &n, NULL), 0);
	}
	gnutls_datum_t ext;
	ck_assert_int_eq(gnutls_x509_ext_export_subject_alt_names(sans, &ext), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_extension_by_oid(crt, "2.5.29.17", ext.data, ext.size,
							      0),
			 0);
	gnutls_free(ext.data);
	gnutls_subject_alt_names_deinit(sans);
	ck_assert_int_eq(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);
	gnutls_datum_t der;
	ck_assert_int_eq(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der), 0);
	ck_assert_uint_gt(der.size, 16384);
	uint8_t *rdata = malloc(3 + der.size);
	ck_assert_ptr_nonnull(rdata);
	rdata[0] = 3;
	rdata[1] = 0;
	rdata[2] = 0;
	memcpy(rdata + 3, der.data, der.size);
	struct dane_tlsa t;
	ck_assert_int_eq(dane_tlsa_from_rdata(rdata, 3 + der.size, &t), MXTLS_OK);
	ck_assert_msg(t.usable, "3 0 0 of a %u-byte certificate: %s", der.size,
		      t.reason != NULL ? t.reason : "");
	ck_assert_uint_eq(t.len, der.size);
	dane_tlsa_clear(&t);
	free(rdata);
	gnutls_free(der.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
}
END_TEST

/* RFC 7671 §9: per (usage, selector), Full(0) plus the strongest digest present. */
START_TEST(tlsa_digest_agility)
{
	static const char h32[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	char r311[100], r312[200], r301[100], r211[100];
	snprintf(r311, sizeof r311, "3 1 1 %s", h32);
	snprintf(r312, sizeof r312, "3 1 2 %s%s", h32, h32);
	snprintf(r301, sizeof r301, "3 0 1 %s", h32);
	snprintf(r211, sizeof r211, "2 1 1 %s", h32);
	const char *in[] = {r311, r312, r301, r211, "3 1 1 zz"};
	struct dane_tlsa set[5];
	for (size_t i = 0; i < 5; i++)
		ck_assert_int_eq(dane_tlsa_from_text(in[i], strlen(in[i]), &set[i]), MXTLS_OK);
	ck_assert_uint_eq(dane_tlsa_select(set, 5), 3);
	ck_assert(!set[0].usable); /* 3 1 1 loses to 3 1 2 */
	ck_assert_ptr_nonnull(strstr(set[0].reason, "RFC 7671 section 9"));
	ck_assert(set[1].usable);
	ck_assert(set[2].usable); /* 3 0 x is another selector: kept */
	ck_assert(set[3].usable); /* 2 1 x is another usage: kept */
	ck_assert(!set[4].usable);
	for (size_t i = 0; i < 5; i++)
		dane_tlsa_clear(&set[i]);
}
END_TEST

/* ---- vectors/dane/cases.txt ---- */

#define CASE_TLSA_MAX 16

static struct dcase *vectors;
static size_t nvectors;

static void keep_case(struct dcase *c, void *arg)
{
	(void)arg;
	struct dcase *grown = realloc(vectors, (nvectors + 1) * sizeof *vectors);
	if (grown == NULL)
		exit(99);
	vectors = grown;
	vectors[nvectors++] = *c;
	memset(c, 0, sizeof *c);
}

/* Loads cases.txt with the differential test's reader; a malformed file stops the program. */
static void load_vectors(void)
{
	if (dcase_foreach(VECTORS_DIR "/dane/cases.txt", keep_case, NULL) <= 0)
		exit(99);
}

START_TEST(vector_case)
{
	const struct dcase *v = &vectors[_i];
	char path[512];
	snprintf(path, sizeof path, VECTORS_DIR "/dane/%s", v->chain);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s: cannot open %s", v->name, path);
	static char pem[1 << 20];
	size_t len = fread(pem, 1, sizeof pem, f);
	fclose(f);
	struct dane_chain chain;
	ck_assert_int_eq(dane_chain_from_pem(pem, len, &chain), MXTLS_OK);
	ck_assert_uint_le(v->ntlsa, CASE_TLSA_MAX);
	struct dane_tlsa set[CASE_TLSA_MAX];
	for (size_t i = 0; i < v->ntlsa; i++)
		ck_assert_int_eq(dane_tlsa_from_text(v->tlsa[i], strlen(v->tlsa[i]), &set[i]), MXTLS_OK);
	dane_tlsa_select(set, v->ntlsa);
	const char *names[2] = {v->host, v->nexthop};
	struct dane_verdict verdict;
	dane_verify(&chain, set, v->ntlsa, names, v->nexthop != NULL ? 2 : 1, (int64_t)v->when,
		    &verdict);
	ck_assert_msg(strcmp(mxtls_result_name(verdict.result), v->expect) == 0,
		      "case %s: got %s (%s), expected %s", v->name,
		      mxtls_result_name(verdict.result), verdict.reason, v->expect);
	if (v->usable >= 0)
		ck_assert_msg(verdict.usable == (size_t)v->usable, "case %s: usable %zu, expected %ld",
			      v->name, verdict.usable, v->usable);
	for (size_t i = 0; i < v->ntlsa; i++)
		dane_tlsa_clear(&set[i]);
	dane_chain_clear(&chain);
}
END_TEST

START_TEST(chain_import_rejects)
{
	struct dane_chain c;
	ck_assert_int_eq(dane_chain_from_pem("", 0, &c), MXTLS_E_SYNTAX);
	static const char junk[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
	ck_assert_int_eq(dane_chain_from_pem(junk, sizeof junk - 1, &c), MXTLS_E_SYNTAX);
	ck_assert_uint_eq(c.n, 0);
	ck_assert_int_eq(dane_chain_from_pem("hello\0world", 11, &c), MXTLS_E_SYNTAX);
}
END_TEST

/* ---- DER certificates: the bounded walk (hostile input first), chains, lazy parsing ---- */

/* A DER builder for synthetic certificates: the tests below need exact, odd encodings. */
struct der {
	uint8_t b[512];
	size_t n;
};

static void der_put(struct der *d, const void *p, size_t n)
{
	ck_assert_uint_le(d->n + n, sizeof d->b);
	memcpy(d->b + d->n, p, n);
	d->n += n;
}

/* Appends tag, minimal length and content to d. */
static void der_tlv(struct der *d, uint8_t tag, const struct der *content)
{
	uint8_t h[4] = {tag};
	size_t hn = 2;
	if (content->n < 0x80) {
		h[1] = (uint8_t)content->n;
	} else {
		ck_assert_uint_lt(content->n, 0x100);
		h[1] = 0x81;
		h[2] = (uint8_t)content->n;
		hn = 3;
	}
	der_put(d, h, hn);
	der_put(d, content->b, content->n);
}

/* What a synthetic certificate gets wrong (or does differently but legally). */
enum mutation {
	MUT_NONE,
	MUT_V1,             /* no [0] version: legal (v1) */
	MUT_EXTENSIONS,     /* [3] extensions after the SPKI: legal */
	MUT_LONG_SPKI,      /* an SPKI of 200 bytes (long-form length): legal */
	MUT_NO_SERIAL,      /* serialNumber missing */
	MUT_SERIAL_TAG,     /* serialNumber an OCTET STRING */
	MUT_VERSION_LONG,   /* [0] longer than the tbsCertificate */
	MUT_NO_SUBJECT,     /* one Name missing: the SPKI is taken as the subject, then none */
	MUT_NO_SPKI,        /* tbsCertificate ends after the subject */
	MUT_SPKI_TAG,       /* subjectPublicKeyInfo a SET */
	MUT_NO_SIGVALUE,    /* signatureValue missing */
	MUT_SIGVALUE_TAG,   /* signatureValue an OCTET STRING */
	MUT_EXTRA_IN_CERT,  /* a fourth element in the Certificate */
	MUT_TRAILING,       /* a byte after the Certificate */
	MUT_OUTER_SET,      /* the Certificate a SET */
};

/* The SPKI of the synthetic certificates: an RSA-like AlgorithmIdentifier WITHOUT the NULL
 * parameters, which a re-encoding could change; the walk must give it back byte for byte. */
static const uint8_t synthetic_spki[] = {0x30, 0x12, 0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86,
					 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x03,
					 0x03, 0x00, 0x01, 0x02};

/* Builds a synthetic certificate with mutation m into out; *spki_off is where its SPKI is. */
static void synthetic_cert(enum mutation m, struct der *out, size_t *spki_off)
{
	static const uint8_t version[] = {0xa0, 0x03, 0x02, 0x01, 0x02};
	static const uint8_t version_long[] = {0xa0, 0x7f, 0x02, 0x01, 0x02};
	static const uint8_t serial[] = {0x02, 0x01, 0x07};
	static const uint8_t serial_bad[] = {0x04, 0x01, 0x07};
	static const uint8_t empty_seq[] = {0x30, 0x00};
	static const uint8_t ext[] = {0xa3, 0x02, 0x30, 0x00};
	struct der tbs = {.n = 0}, cert = {.n = 0}, spki = {.n = 0};
	if (m != MUT_V1)
		der_put(&tbs, m == MUT_VERSION_LONG ? version_long : version, sizeof version);
	if (m != MUT_NO_SERIAL)
		der_put(&tbs, m == MUT_SERIAL_TAG ? serial_bad : serial, sizeof serial);
	der_put(&tbs, empty_seq, 2); /* signature */
	der_put(&tbs, empty_seq, 2); /* issuer */
	der_put(&tbs, empty_seq, 2); /* validity */
	if (m != MUT_NO_SUBJECT)
		der_put(&tbs, empty_seq, 2); /* subject */
	size_t at = tbs.n;
	if (m == MUT_LONG_SPKI) {
		struct der key = {.n = 0};
		uint8_t zeros[197] = {0};
		der_put(&key, zeros, sizeof zeros);
		der_tlv(&spki, 0x30, &key);
	} else if (m != MUT_NO_SPKI) {
		der_put(&spki, synthetic_spki, sizeof synthetic_spki);
		if (m == MUT_SPKI_TAG)
			spki.b[0] = 0x31;
	}
	der_put(&tbs, spki.b, spki.n);
	if (m == MUT_EXTENSIONS)
		der_put(&tbs, ext, sizeof ext);
	der_tlv(&cert, 0x30, &tbs);
	at += cert.n - tbs.n;
	der_put(&cert, empty_seq, 2); /* signatureAlgorithm */
	if (m != MUT_NO_SIGVALUE) {
		static const uint8_t sig[] = {0x03, 0x02, 0x00, 0x55};
		static const uint8_t sig_bad[] = {0x04, 0x02, 0x00, 0x55};
		der_put(&cert, m == MUT_SIGVALUE_TAG ? sig_bad : sig, sizeof sig);
	}
	if (m == MUT_EXTRA_IN_CERT)
		der_put(&cert, empty_seq, 2);
	out->n = 0;
	der_tlv(out, m == MUT_OUTER_SET ? 0x31 : 0x30, &cert);
	*spki_off = at + out->n - cert.n;
	if (m == MUT_TRAILING)
		der_put(out, "", 1);
}

static const struct der_case {
	const char *name;
	enum mutation m;
	bool ok;
} der_cases[] = {
	{"no serialNumber", MUT_NO_SERIAL, false},
	{"serialNumber not an INTEGER", MUT_SERIAL_TAG, false},
	{"version longer than the tbsCertificate", MUT_VERSION_LONG, false},
	{"a Name missing", MUT_NO_SUBJECT, false},
	{"no subjectPublicKeyInfo", MUT_NO_SPKI, false},
	{"subjectPublicKeyInfo not a SEQUENCE", MUT_SPKI_TAG, false},
	{"no signatureValue", MUT_NO_SIGVALUE, false},
	{"signatureValue not a BIT STRING", MUT_SIGVALUE_TAG, false},
	{"a fourth element in the Certificate", MUT_EXTRA_IN_CERT, false},
	{"a byte after the Certificate", MUT_TRAILING, false},
	{"the Certificate is a SET", MUT_OUTER_SET, false},
	{"v3", MUT_NONE, true},
	{"v1 (no version field)", MUT_V1, true},
	{"extensions after the SPKI", MUT_EXTENSIONS, true},
	{"an SPKI with a long-form length", MUT_LONG_SPKI, true},
};

START_TEST(der_locate_structure)
{
	const struct der_case *c = &der_cases[_i];
	struct der d;
	size_t spki_off;
	synthetic_cert(c->m, &d, &spki_off);
	struct dane_cert_parts parts;
	memset(&parts, 0xa5, sizeof parts);
	int rc = dane_cert_locate(d.b, d.n, &parts);
	ck_assert_msg(rc == (c->ok ? MXTLS_OK : MXTLS_E_SYNTAX), "%s: rc %d", c->name, rc);
	if (!c->ok)
		return;
	ck_assert_ptr_eq(parts.spki, d.b + spki_off);
	ck_assert_uint_eq(parts.spki_len, c->m == MUT_LONG_SPKI ? 200 : sizeof synthetic_spki);
	ck_assert_ptr_eq(parts.tbs, d.b + (d.b[1] < 0x80 ? 2 : 3));
	ck_assert(parts.spki >= parts.tbs && parts.spki + parts.spki_len <= parts.tbs + parts.tbs_len);
	/* Every shorter prefix is truncated DER. */
	for (size_t n = 0; n < d.n; n++)
		ck_assert_msg(dane_cert_locate(d.b, n, &parts) == MXTLS_E_SYNTAX, "%s: prefix %zu",
			      c->name, n);
}
END_TEST

/* Length encodings that are not DER, or that point outside the input. */
static const struct len_case {
	const char *name;
	uint8_t b[8];
	size_t n;
} len_cases[] = {
	{"empty input", {0}, 0},
	{"a tag alone", {0x30}, 1},
	{"indefinite length", {0x30, 0x80, 0x00, 0x00}, 4},
	{"five length bytes", {0x30, 0x85, 0x00, 0x00, 0x00, 0x00, 0x00}, 7},
	{"long form for a short length", {0x30, 0x81, 0x02, 0x30, 0x00}, 5},
	{"leading zero in a long length", {0x30, 0x82, 0x00, 0x02, 0x30, 0x00}, 6},
	{"length past the end", {0x30, 0x05, 0x30, 0x00}, 4},
	{"long length past the end", {0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x30, 0x00}, 8},
	{"length bytes missing", {0x30, 0x82, 0x01}, 3},
	{"inner length past the outer", {0x30, 0x04, 0x30, 0x05, 0x02, 0x00}, 6},
};

START_TEST(der_locate_lengths)
{
	const struct len_case *c = &len_cases[_i];
	struct dane_cert_parts parts;
	ck_assert_msg(dane_cert_locate(c->b, c->n, &parts) == MXTLS_E_SYNTAX, "%s", c->name);
	ck_assert_int_eq(dane_cert_locate(NULL, 0, &parts), MXTLS_E_SYNTAX);
}
END_TEST

/* The DER certificates of a PEM file, read with GnuTLS's own list import (independent of
 * dane_chain_from_pem); caller frees each ders[i] with gnutls_free(). */
static size_t gnutls_ders(const char *path, gnutls_datum_t *ders, size_t max)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	static char pem[1 << 16];
	size_t len = fread(pem, 1, sizeof pem, f);
	fclose(f);
	gnutls_datum_t d = {(unsigned char *)pem, (unsigned int)len};
	gnutls_x509_crt_t *list;
	unsigned int n;
	ck_assert_int_ge(gnutls_x509_crt_list_import2(&list, &n, &d, GNUTLS_X509_FMT_PEM, 0), 0);
	ck_assert_uint_le(n, max);
	for (unsigned int i = 0; i < n; i++) {
		ck_assert_int_ge(gnutls_x509_crt_export2(list[i], GNUTLS_X509_FMT_DER, &ders[i]), 0);
		gnutls_x509_crt_deinit(list[i]);
	}
	gnutls_free(list);
	return n;
}

/* Reads a file into buf (cap bytes); returns its length. */
static size_t slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	size_t len = fread(buf, 1, cap, f);
	fclose(f);
	return len;
}

/* Every vector certificate: the walk finds the SPKI GnuTLS finds (all EC keys, which GnuTLS
 * re-encodes identically), and selector 1 Full(0) is exactly those bytes. */
START_TEST(der_locate_vectors)
{
	DIR *dir = opendir(VECTORS_DIR "/dane/certs");
	ck_assert_ptr_nonnull(dir);
	size_t seen = 0;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		if (strstr(e->d_name, ".pem") == NULL)
			continue;
		char path[512];
		snprintf(path, sizeof path, VECTORS_DIR "/dane/certs/%s", e->d_name);
		gnutls_datum_t der;
		ck_assert_uint_eq(gnutls_ders(path, &der, 1), 1);
		struct dane_cert_parts parts;
		ck_assert_int_eq(dane_cert_locate(der.data, der.size, &parts), MXTLS_OK);
		gnutls_x509_crt_t crt;
		gnutls_pubkey_t key;
		gnutls_datum_t spki;
		ck_assert_int_ge(gnutls_x509_crt_init(&crt), 0);
		ck_assert_int_ge(gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER), 0);
		ck_assert_int_ge(gnutls_pubkey_init(&key), 0);
		ck_assert_int_ge(gnutls_pubkey_import_x509(key, crt, 0), 0);
		ck_assert_int_ge(gnutls_pubkey_export2(key, GNUTLS_X509_FMT_DER, &spki), 0);
		ck_assert_msg(spki.size == parts.spki_len &&
				      memcmp(spki.data, parts.spki, spki.size) == 0,
			      "%s: SPKI differs", e->d_name);
		uint8_t *data;
		size_t n;
		ck_assert_int_eq(dane_cert_association(der.data, der.size, 1, 0, &data, &n), MXTLS_OK);
		ck_assert(n == spki.size && memcmp(data, spki.data, n) == 0);
		free(data);
		ck_assert_int_eq(dane_cert_association(der.data, der.size, 0, 0, &data, &n), MXTLS_OK);
		ck_assert(n == der.size && memcmp(data, der.data, n) == 0);
		free(data);
		gnutls_free(spki.data);
		gnutls_pubkey_deinit(key);
		gnutls_x509_crt_deinit(crt);
		gnutls_free(der.data);
		seen++;
	}
	closedir(dir);
	ck_assert_uint_ge(seen, 20);
}
END_TEST

/* Selector 1 is the SPKI as it appears, never re-encoded; bad arguments and bad DER fail. */
START_TEST(association_as_encoded)
{
	struct der d;
	size_t off;
	synthetic_cert(MUT_NONE, &d, &off);
	uint8_t *data = NULL;
	size_t n = 0;
	ck_assert_int_eq(dane_cert_association(d.b, d.n, 1, 0, &data, &n), MXTLS_OK);
	ck_assert_uint_eq(n, sizeof synthetic_spki);
	ck_assert_mem_eq(data, synthetic_spki, n);
	free(data);
	uint8_t want[32];
	ck_assert_int_eq(gnutls_hash_fast(GNUTLS_DIG_SHA256, synthetic_spki, sizeof synthetic_spki,
					  want), 0);
	ck_assert_int_eq(dane_cert_association(d.b, d.n, 1, 1, &data, &n), MXTLS_OK);
	ck_assert_uint_eq(n, 32);
	ck_assert_mem_eq(data, want, 32);
	free(data);
	/* The same digest as a record matches the DER; one bit off does not. */
	uint8_t rdata[3 + 32] = {3, 1, 1};
	memcpy(rdata + 3, want, 32);
	struct dane_tlsa t;
	ck_assert_int_eq(dane_tlsa_from_rdata(rdata, sizeof rdata, &t), MXTLS_OK);
	ck_assert(dane_cert_matches(d.b, d.n, &t));
	t.data[31] ^= 1;
	ck_assert(!dane_cert_matches(d.b, d.n, &t));
	dane_tlsa_clear(&t);

	data = NULL;
	ck_assert_int_eq(dane_cert_association(d.b, d.n, 2, 1, &data, &n), MXTLS_E_INVAL);
	ck_assert_int_eq(dane_cert_association(d.b, d.n, 1, 3, &data, &n), MXTLS_E_INVAL);
	ck_assert_int_eq(dane_cert_association(d.b, d.n - 1, 1, 1, &data, &n), MXTLS_E_SYNTAX);
	ck_assert_ptr_null(data);
}
END_TEST

/* The chain from PEM holds exactly the DER GnuTLS finds, in order, for every vector chain. */
START_TEST(chain_from_pem_vectors)
{
	DIR *dir = opendir(VECTORS_DIR "/dane/chains");
	ck_assert_ptr_nonnull(dir);
	size_t seen = 0;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		if (strstr(e->d_name, ".pem") == NULL)
			continue;
		char path[512];
		snprintf(path, sizeof path, VECTORS_DIR "/dane/chains/%s", e->d_name);
		gnutls_datum_t ders[DANE_CHAIN_MAX];
		size_t n = gnutls_ders(path, ders, DANE_CHAIN_MAX);
		static char pem[1 << 16];
		size_t len = slurp(path, pem, sizeof pem);
		struct dane_chain c;
		ck_assert_int_eq(dane_chain_from_pem(pem, len, &c), MXTLS_OK);
		ck_assert_uint_eq(c.n, n);
		for (size_t i = 0; i < n; i++) {
			ck_assert_msg(c.certs[i].len == ders[i].size &&
					      memcmp(c.certs[i].der, ders[i].data, ders[i].size) == 0,
				      "%s: certificate %zu differs", e->d_name, i);
			ck_assert(!c.certs[i].tried); /* nothing parsed yet */
			gnutls_free(ders[i].data);
		}
		dane_chain_clear(&c);
		ck_assert_uint_eq(c.n, 0);
		seen++;
	}
	closedir(dir);
	ck_assert_uint_ge(seen, 20);
	dane_chain_clear(NULL); /* a no-op */
}
END_TEST

/* PEM text around and between the blocks, other kinds of blocks, the legacy label, caps. */
START_TEST(chain_from_pem_blocks)
{
	gnutls_datum_t ders[3];
	ck_assert_uint_eq(gnutls_ders(VECTORS_DIR "/dane/chains/std-root.pem", ders, 3), 3);
	gnutls_datum_t b64[3], legacy;
	for (int i = 0; i < 3; i++)
		ck_assert_int_ge(gnutls_pem_base64_encode2("CERTIFICATE", &ders[i], &b64[i]), 0);
	ck_assert_int_ge(gnutls_pem_base64_encode2("X509 CERTIFICATE", &ders[1], &legacy), 0);
	static const char key[] = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
	static const char req[] =
		"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
	static char text[1 << 16];
	int len = snprintf(text, sizeof text, "subject=leaf\n%.*s%s%s\nissuer: x\n%.*s%.*strailer\n",
			   (int)b64[0].size, b64[0].data, key, req, (int)legacy.size, legacy.data,
			   (int)b64[2].size, b64[2].data);
	struct dane_chain c;
	ck_assert_int_eq(dane_chain_from_pem(text, (size_t)len, &c), MXTLS_OK);
	ck_assert_uint_eq(c.n, 3);
	for (size_t i = 0; i < 3; i++)
		ck_assert(c.certs[i].len == ders[i].size &&
			  memcmp(c.certs[i].der, ders[i].data, ders[i].size) == 0);
	dane_chain_clear(&c);

	/* Only blocks of another kind: no certificate. */
	len = snprintf(text, sizeof text, "%s%s", key, req);
	ck_assert_int_eq(dane_chain_from_pem(text, (size_t)len, &c), MXTLS_E_SYNTAX);
	/* A block without its END line. */
	len = snprintf(text, sizeof text, "%.*s", (int)b64[0].size - 26, b64[0].data);
	ck_assert_int_eq(dane_chain_from_pem(text, (size_t)len, &c), MXTLS_E_SYNTAX);
	/* A good block, then one that is not base64: the whole chain fails. */
	len = snprintf(text, sizeof text,
		       "%.*s-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n",
		       (int)b64[0].size, b64[0].data);
	ck_assert_int_eq(dane_chain_from_pem(text, (size_t)len, &c), MXTLS_E_SYNTAX);
	ck_assert_uint_eq(c.n, 0);
	/* DANE_CHAIN_MAX blocks are accepted, one more is a limit, not a truncation. */
	len = 0;
	for (int i = 0; i < DANE_CHAIN_MAX; i++)
		len += snprintf(text + len, sizeof text - (size_t)len, "%.*s", (int)b64[i % 3].size,
				b64[i % 3].data);
	ck_assert_int_eq(dane_chain_from_pem(text, (size_t)len, &c), MXTLS_OK);
	ck_assert_uint_eq(c.n, DANE_CHAIN_MAX);
	dane_chain_clear(&c);
	len += snprintf(text + len, sizeof text - (size_t)len, "%.*s", (int)b64[0].size,
			b64[0].data);
	ck_assert_int_eq(dane_chain_from_pem(text, (size_t)len, &c), MXTLS_E_LIMIT);
	ck_assert_uint_eq(c.n, 0);
	/* A certificate with a byte after its DER is not structurally a certificate. */
	gnutls_datum_t longer = {malloc(ders[0].size + 1), ders[0].size + 1}, b64l;
	ck_assert_ptr_nonnull(longer.data);
	memcpy(longer.data, ders[0].data, ders[0].size);
	longer.data[ders[0].size] = 0;
	ck_assert_int_ge(gnutls_pem_base64_encode2("CERTIFICATE", &longer, &b64l), 0);
	ck_assert_int_eq(dane_chain_from_pem((const char *)b64l.data, b64l.size, &c), MXTLS_E_SYNTAX);
	free(longer.data);
	gnutls_free(b64l.data);
	for (int i = 0; i < 3; i++) {
		gnutls_free(b64[i].data);
		gnutls_free(ders[i].data);
	}
	gnutls_free(legacy.data);
}
END_TEST

/* A TLSA record "U S M hex" for the DER (der, len), computed here with GnuTLS. */
static void record_for(const uint8_t *der, size_t len, int usage, int selector,
		       struct dane_tlsa *t)
{
	const uint8_t *p = der;
	size_t n = len;
	struct dane_cert_parts parts;
	if (selector == 1) {
		ck_assert_int_eq(dane_cert_locate(der, len, &parts), MXTLS_OK);
		p = parts.spki;
		n = parts.spki_len;
	}
	uint8_t rdata[3 + 32] = {(uint8_t)usage, (uint8_t)selector, 1};
	ck_assert_int_eq(gnutls_hash_fast(GNUTLS_DIG_SHA256, p, n, rdata + 3), 0);
	ck_assert_int_eq(dane_tlsa_from_rdata(rdata, sizeof rdata, t), MXTLS_OK);
	ck_assert(t->usable);
}

static struct dane_verdict verify_one(struct dane_chain *c, const struct dane_tlsa *t)
{
	const char *names[1] = {"mx.example.test"};
	struct dane_verdict v;
	dane_verify(c, t, 1, names, 1, 1796083200 /* 2026-12-01 */, &v);
	return v;
}

/* Borrowed DER in, owned copies kept; the verdict equals the PEM route's; hostile lists fail. */
START_TEST(chain_from_der)
{
	gnutls_datum_t ders[3];
	ck_assert_uint_eq(gnutls_ders(VECTORS_DIR "/dane/chains/std-root.pem", ders, 3), 3);
	const uint8_t *p[DANE_CHAIN_MAX + 1];
	size_t len[DANE_CHAIN_MAX + 1];
	for (size_t i = 0; i <= DANE_CHAIN_MAX; i++) {
		p[i] = ders[i % 3].data;
		len[i] = ders[i % 3].size;
	}
	struct dane_chain c;
	ck_assert_int_eq(dane_chain_from_der(p, len, 3, &c), MXTLS_OK);
	ck_assert_uint_eq(c.n, 3);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_ptr_ne(c.certs[i].der, ders[i].data); /* a copy */
		ck_assert(c.certs[i].len == ders[i].size &&
			  memcmp(c.certs[i].der, ders[i].data, ders[i].size) == 0);
	}
	struct dane_tlsa ta, ee;
	record_for(ders[2].data, ders[2].size, 2, 0, &ta);
	record_for(ders[0].data, ders[0].size, 3, 1, &ee);
	/* The caller's buffers may change or go once the chain is made. */
	uint8_t saved = ders[2].data[10];
	ders[2].data[10] ^= 0xff;
	struct dane_verdict v = verify_one(&c, &ta);
	ck_assert_int_eq(v.result, MXTLS_RESULT_OK);
	ck_assert_uint_eq(v.depth, 2); /* leaf and intermediate below the root */
	ders[2].data[10] = saved;
	v = verify_one(&c, &ee);
	ck_assert_int_eq(v.result, MXTLS_RESULT_OK);
	ck_assert_uint_eq(v.depth, 1);
	dane_chain_clear(&c);
	/* Without the leaf parsed: DANE-EE needs no X.509 parse at all. */
	ck_assert_int_eq(dane_chain_from_der(p, len, 3, &c), MXTLS_OK);
	v = verify_one(&c, &ee);
	ck_assert_int_eq(v.result, MXTLS_RESULT_OK);
	for (size_t i = 0; i < 3; i++)
		ck_assert(!c.certs[i].tried);
	dane_chain_clear(&c);

	ck_assert_int_eq(dane_chain_from_der(p, len, DANE_CHAIN_MAX, &c), MXTLS_OK);
	dane_chain_clear(&c);
	ck_assert_int_eq(dane_chain_from_der(p, len, DANE_CHAIN_MAX + 1, &c), MXTLS_E_LIMIT);
	ck_assert_int_eq(dane_chain_from_der(p, len, 0, &c), MXTLS_E_SYNTAX);
	ck_assert_int_eq(dane_chain_from_der(NULL, NULL, 1, &c), MXTLS_E_SYNTAX);
	/* One certificate that is not structurally DER spoils the chain; nothing is left. */
	size_t short_len[3] = {len[0], len[1] - 1, len[2]};
	ck_assert_int_eq(dane_chain_from_der(p, short_len, 3, &c), MXTLS_E_SYNTAX);
	ck_assert_uint_eq(c.n, 0);
	const uint8_t *with_null[2] = {p[0], NULL};
	ck_assert_int_eq(dane_chain_from_der(with_null, len, 2, &c), MXTLS_E_SYNTAX);
	dane_tlsa_clear(&ta);
	dane_tlsa_clear(&ee);
	for (int i = 0; i < 3; i++)
		gnutls_free(ders[i].data);
}
END_TEST

/* A copy of the DER (der, len) whose X.509 version is an OCTET STRING: structurally a
 * certificate (dane_cert_locate() accepts it), but GnuTLS does not parse it. */
static uint8_t *unparsable_copy(const gnutls_datum_t *der)
{
	uint8_t *p = malloc(der->size);
	ck_assert_ptr_nonnull(p);
	memcpy(p, der->data, der->size);
	struct dane_cert_parts parts;
	ck_assert_int_eq(dane_cert_locate(p, der->size, &parts), MXTLS_OK);
	size_t hdr = parts.tbs[1] < 0x80 ? 2 : 2 + (parts.tbs[1] & 0x7f);
	uint8_t *v = p + (parts.tbs - p) + hdr;
	static const uint8_t v3[] = {0xa0, 0x03, 0x02, 0x01, 0x02};
	ck_assert_mem_eq(v, v3, sizeof v3);
	v[2] = 0x04;
	ck_assert_int_eq(dane_cert_locate(p, der->size, &parts), MXTLS_OK);
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = {p, der->size};
	ck_assert_int_ge(gnutls_x509_crt_init(&crt), 0);
	ck_assert_int_lt(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER), 0);
	gnutls_x509_crt_deinit(crt);
	return p;
}

/* A certificate that fails its lazy parse never matches where a parse is needed, never
 * crashes, and the DANE-TA path builder goes around it. */
START_TEST(chain_lazy_parse_failure)
{
	gnutls_datum_t ders[3];
	ck_assert_uint_eq(gnutls_ders(VECTORS_DIR "/dane/chains/std-root.pem", ders, 3), 3);
	uint8_t *bad_leaf = unparsable_copy(&ders[0]);
	uint8_t *bad_int = unparsable_copy(&ders[1]);
	struct dane_tlsa ee, ta_root, ta_int, ta_bad_int;
	record_for(ders[0].data, ders[0].size, 3, 1, &ee); /* the SPKI is unchanged */
	record_for(ders[2].data, ders[2].size, 2, 0, &ta_root);
	record_for(ders[1].data, ders[1].size, 2, 1, &ta_int);
	record_for(bad_int, ders[1].size, 2, 0, &ta_bad_int);

	/* The leaf does not parse. */
	const uint8_t *p[4] = {bad_leaf, ders[1].data, ders[2].data};
	size_t len[4] = {ders[0].size, ders[1].size, ders[2].size};
	struct dane_chain c;
	ck_assert_int_eq(dane_chain_from_der(p, len, 3, &c), MXTLS_OK);
	ck_assert_ptr_null(dane_chain_cert(&c, 0));
	ck_assert(c.certs[0].tried);
	ck_assert_ptr_null(dane_chain_cert(&c, 0)); /* remembered */
	ck_assert_ptr_null(dane_chain_cert(&c, 3)); /* out of range */
	ck_assert_ptr_nonnull(dane_chain_cert(&c, 1));
	ck_assert_ptr_eq(dane_chain_cert(&c, 1), c.certs[1].crt); /* cached */
	struct dane_verdict v = verify_one(&c, &ta_root);
	ck_assert_int_eq(v.result, MXTLS_RESULT_CERTIFICATE_NOT_TRUSTED);
	ck_assert_str_eq(v.reason, "the leaf certificate does not parse");
	v = verify_one(&c, &ta_int);
	ck_assert_int_eq(v.result, MXTLS_RESULT_CERTIFICATE_NOT_TRUSTED);
	/* DANE-EE matches the leaf's DER: the contract documented in dane_verify.h. */
	v = verify_one(&c, &ee);
	ck_assert_int_eq(v.result, MXTLS_RESULT_OK);
	dane_chain_clear(&c);

	/* The intermediate does not parse: as the matched anchor, and as a link. */
	p[0] = ders[0].data;
	p[1] = bad_int;
	ck_assert_int_eq(dane_chain_from_der(p, len, 3, &c), MXTLS_OK);
	v = verify_one(&c, &ta_bad_int);
	ck_assert_int_eq(v.result, MXTLS_RESULT_CERTIFICATE_NOT_TRUSTED);
	ck_assert_str_eq(v.reason, "the certificate that matches the record does not parse");
	ck_assert_int_eq(v.matched, -1);
	v = verify_one(&c, &ta_root);
	ck_assert_int_eq(v.result, MXTLS_RESULT_CERTIFICATE_NOT_TRUSTED);
	ck_assert_str_eq(v.reason, "no valid path from the leaf to the trust anchor");
	dane_chain_clear(&c);

	/* With the good intermediate also presented, the path goes around the bad one. */
	p[2] = ders[1].data;
	p[3] = ders[2].data;
	len[2] = ders[1].size;
	len[3] = ders[2].size;
	ck_assert_int_eq(dane_chain_from_der(p, len, 4, &c), MXTLS_OK);
	v = verify_one(&c, &ta_root);
	ck_assert_int_eq(v.result, MXTLS_RESULT_OK);
	ck_assert_uint_eq(v.depth, 2); /* leaf and intermediate below the root */
	ck_assert(c.certs[1].tried && c.certs[1].crt == NULL);
	dane_chain_clear(&c);

	dane_tlsa_clear(&ee);
	dane_tlsa_clear(&ta_root);
	dane_tlsa_clear(&ta_int);
	dane_tlsa_clear(&ta_bad_int);
	free(bad_leaf);
	free(bad_int);
	for (int i = 0; i < 3; i++)
		gnutls_free(ders[i].data);
}
END_TEST

/* Every single-byte change of a real certificate: the walk never reads outside the input
 * (AddressSanitizer watches) and what it accepts lies within the certificate. */
START_TEST(der_locate_byte_flips)
{
	gnutls_datum_t der;
	ck_assert_uint_eq(gnutls_ders(VECTORS_DIR "/dane/certs/leaf.pem", &der, 1), 1);
	uint8_t *p = malloc(der.size);
	ck_assert_ptr_nonnull(p);
	static const uint8_t flips[] = {0x01, 0x80, 0xff};
	for (size_t i = 0; i < der.size; i++) {
		for (size_t f = 0; f < sizeof flips; f++) {
			memcpy(p, der.data, der.size);
			p[i] ^= flips[f];
			struct dane_cert_parts parts;
			if (dane_cert_locate(p, der.size, &parts) != MXTLS_OK)
				continue;
			ck_assert(parts.tbs >= p && parts.tbs + parts.tbs_len <= p + der.size);
			ck_assert(parts.spki >= parts.tbs &&
				  parts.spki + parts.spki_len <= parts.tbs + parts.tbs_len);
		}
	}
	/* Every proper prefix of the real certificate is rejected. */
	for (size_t n = 0; n < der.size; n++) {
		struct dane_cert_parts parts;
		ck_assert_int_eq(dane_cert_locate(der.data, n, &parts), MXTLS_E_SYNTAX);
	}
	free(p);
	gnutls_free(der.data);
}
END_TEST

/* RFC 8461 §3.3 / §4.2 identity of MTA-STS hosts: SAN DNS-IDs only (dane_dnsid_pem_matches). */
static char *read_vector(const char *rel, size_t *len)
{
	char path[512];
	snprintf(path, sizeof path, VECTORS_DIR "/dane/%s", rel);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	static char buf[1 << 16];
	*len = fread(buf, 1, sizeof buf - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

START_TEST(dnsid_san_only)
{
	size_t len;
	const char *pem = read_vector("chains/std.pem", &len);
	ck_assert(dane_dnsid_pem_matches(pem, len, "mx.example.test"));
	ck_assert(dane_dnsid_pem_matches(pem, len, "MX.Example.Test."));
	ck_assert(!dane_dnsid_pem_matches(pem, len, "example.test"));
	ck_assert(!dane_dnsid_pem_matches(pem, len, "a.mx.example.test"));
	pem = read_vector("chains/wild.pem", &len);
	ck_assert(dane_dnsid_pem_matches(pem, len, "mx.example.test"));
	ck_assert(!dane_dnsid_pem_matches(pem, len, "a.mx.example.test"));
	/* A certificate naming the host only in its subject CN is not valid for MTA-STS. */
	pem = read_vector("chains/cnonly.pem", &len);
	ck_assert(!dane_dnsid_pem_matches(pem, len, "mx.example.test"));
	ck_assert(!dane_dnsid_pem_matches("junk", 4, "mx.example.test"));
	ck_assert(!dane_dnsid_pem_matches(NULL, 0, "mx.example.test"));
}
END_TEST

static Suite *dane_suite(void)
{
	load_vectors();
	Suite *s = suite_create("dane");
	TCase *tc = tcase_create("tlsa");
	tcase_add_loop_test(tc, tlsa_from_text, 0, ARRAY_LEN(text_cases));
	tcase_add_test(tc, tlsa_from_rdata);
	tcase_add_test(tc, tlsa_digest_agility);
	tcase_add_test(tc, tlsa_full_certificate_over_16k);
	tcase_add_test(tc, chain_import_rejects);
	tcase_add_test(tc, dnsid_san_only);
	suite_add_tcase(s, tc);
	tc = tcase_create("der");
	tcase_add_loop_test(tc, der_locate_lengths, 0, ARRAY_LEN(len_cases));
	tcase_add_loop_test(tc, der_locate_structure, 0, ARRAY_LEN(der_cases));
	tcase_add_test(tc, der_locate_byte_flips);
	tcase_add_test(tc, der_locate_vectors);
	tcase_add_test(tc, association_as_encoded);
	tcase_add_test(tc, chain_from_pem_vectors);
	tcase_add_test(tc, chain_from_pem_blocks);
	tcase_add_test(tc, chain_from_der);
	tcase_add_test(tc, chain_lazy_parse_failure);
	suite_add_tcase(s, tc);
	tc = tcase_create("vectors");
	tcase_add_loop_test(tc, vector_case, 0, (int)nvectors);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(dane_suite)
