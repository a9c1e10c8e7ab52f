/* SPDX-License-Identifier: MIT */
/* bench_dane: DANE verifications per second, mxtls against OpenSSL and GnuTLS libdane. */
/*
 * A benchmark, not a test: it prints figures and never asserts a speed.  It does assert every
 * verdict: each iteration's result is checked and a wrong one aborts the run (exit 1), so no
 * work can be optimised away and a "fast" implementation cannot be fast by being wrong.
 *
 * Input (the same bytes for every implementation, in the same run):
 *   the PEM chain vectors/dane/chains/std-root.pem (leaf <- intermediate CA <- self-signed
 *   root, as a server sends it), the TLSA base domain mx.example.test, the validation time
 *   2026-12-01T00:00:00Z, and one TLSA record in presentation form "U S M HEX".  The records
 *   are computed here with GnuTLS from the certificates in the file:
 *     ee     3 1 1  SHA2-256 of the leaf's SubjectPublicKeyInfo (DANE-EE, match at depth 0)
 *     ta2    2 0 1  SHA2-256 of the root certificate           (DANE-TA, anchor at depth 2)
 *     ta1    2 0 1  SHA2-256 of the intermediate certificate   (DANE-TA, anchor at depth 1)
 *
 * What one operation is (see README.md for the long form):
 *  (a) bytes to verdict: PEM chain + TLSA text -> parse chain, parse record, verify, check
 *      the verdict, free everything.
 *      mxtls public   mxtls_dane_verify_pem() on a shared context (logging off), then
 *                     mxtls_dane_check_free().
 *      mxtls internal dane_chain_from_pem + dane_tlsa_from_text + dane_tlsa_select +
 *                     dane_verify (what the public call does, minus the wrapper).
 *      OpenSSL        PEM_read_bio_X509 x3 from a memory BIO; SSL_new() from a shared
 *                     SSL_CTX (DANE enabled once) -- what an MTA pays per connection;
 *                     SSL_dane_enable(host) + DANE_FLAG_NO_DANE_EE_NAMECHECKS; hex decode +
 *                     SSL_dane_tlsa_add; an X509_STORE_CTX on a shared empty X509_STORE, set
 *                     up as libssl's ssl_verify_cert_chain() does; X509_verify_cert.
 *      libdane        base64-decode the three PEM blocks to DER (gnutls_pem_base64_decode2);
 *                     hex decode + dane_raw_tlsa (secure); dane_verify_crt_raw on a shared
 *                     dane_state_t.  libdane takes DER and parses the certificates inside.
 *  (b) verify only: chain and record already parsed and kept across iterations.
 *      mxtls          dane_verify() on a struct dane_chain and struct dane_tlsa made once;
 *                     the X.509 parses the chain makes on first use stay cached in it.
 *      OpenSSL        X509_STORE_CTX_new/init/set0_dane/params + X509_verify_cert on parsed
 *                     X509s and an SSL whose TLSA record was added once.
 *      libdane        dane_verify_crt_raw() with prepared DER and a prepared dane_query_t
 *                     (its API has no form taking parsed certificates, so the X.509 parsing
 *                     it does inside stays in the measurement).
 *
 * Work is not identical across implementations, and the table says so:
 *  - DANE-EE (3 1 1): all three hash the leaf's SPKI and stop; no name or date check (RFC 7672
 *    §3.2.1; OpenSSL with DANE_FLAG_NO_DANE_EE_NAMECHECKS).
 *  - DANE-TA (2 0 1): mxtls and OpenSSL verify the whole path to the anchor (2 signatures for
 *    ta2, 1 for ta1), dates below the anchor and the leaf's name.  libdane matches the record
 *    against any non-leaf certificate, then checks ONE link: the leaf against its direct
 *    issuer (1 signature), with no name check.  On ta2 it therefore does half the signature
 *    work; ta1 (anchor = the direct issuer) is the like-for-like DANE-TA row.
 *
 * Timing: each (row, implementation) runs for -t seconds in total (default 1), split into -r
 * interleaved rounds (default 3) so that load from other processes hits all of them alike.
 * Rates use this thread's CPU time; the median round is reported, with the spread of rounds.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <mxtls/config.h>
#include <mxtls/context.h>
#include <mxtls/dane.h>
#include <mxtls/error.h>
#include <mxtls/result.h>

#include "dane/dane_cert.h"
#include "dane/dane_tlsa.h"
#include "dane/dane_verify.h"

#ifdef BENCH_HAVE_OPENSSL
#include <openssl/err.h>
#include <openssl/opensslv.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#endif
#ifdef BENCH_HAVE_LIBDANE
#include <gnutls/dane.h>

#include "bench_util.h"
#endif

#ifndef BENCH_VECTORS_DIR
#define BENCH_VECTORS_DIR "vectors/dane"
#endif

#define CHAIN_FILE "chains/std-root.pem"
#define HOST "mx.example.test"
#define AT_TEXT "2026-12-01T00:00:00Z"
#define CHAIN_LEN 3
#define PEM_MAX 65536
#define TLSA_TEXT_MAX 160 /* "U S M " + 64 hex digits, with room */
#define ROUNDS_MAX 15

/* ---- the input shared by every implementation --------------------------------------------- */

struct input {
	char pem[PEM_MAX];
	size_t pem_len;
	int64_t at;
};

/* One measured record: its text and the verdict each implementation must give. */
struct row {
	const char *id;
	const char *label;
	char text[TLSA_TEXT_MAX]; /* "U S M hex" */
	char bad[TLSA_TEXT_MAX];  /* the same with one digest bit flipped: must be rejected */
	size_t mxtls_depth;       /* dane_verdict.depth: 1 for EE, path length below the anchor */
	int ossl_depth;           /* SSL_get0_dane_authority(): depth of the matching cert */
	const char *caveat;       /* work a peer skips, or NULL */
};

static struct input in;

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bench_dane: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(2);
}

/* The verdict check failed: this is the one outcome that must stop a benchmark. */
static void wrong(const char *impl, const struct row *r, const char *detail)
{
	fprintf(stderr, "bench_dane: WRONG VERDICT from %s on %s (%s): %s\n", impl, r->id, r->text,
		detail);
	exit(1);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes "U S M HEX" into rdata (usage, selector, mtype, data...) for the peers, which take
 * binary records.  Part of the peers' measured work, as parsing the text is part of mxtls's.
 * Returns the rdata length, or 0 when the text is not of that form.
 */
static size_t tlsa_text_to_rdata(const char *text, uint8_t *rdata, size_t cap)
{
	unsigned u, s, m;
	int pos = 0;
	if (sscanf(text, "%u %u %u %n", &u, &s, &m, &pos) != 3 || u > 255 || s > 255 || m > 255 ||
	    cap < 3)
		return 0;
	rdata[0] = (uint8_t)u;
	rdata[1] = (uint8_t)s;
	rdata[2] = (uint8_t)m;
	size_t n = 3;
	for (const char *p = text + pos; *p != '\0'; p += 2) {
		int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);
		if (lo < 0 || n == cap)
			return 0;
		rdata[n++] = (uint8_t)(hi << 4 | lo);
	}
	return n;
}

static void read_input(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, CHAIN_FILE);
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		die(path, strerror(errno));
	in.pem_len = fread(in.pem, 1, sizeof in.pem - 1, f);
	bool too_big = !feof(f);
	fclose(f);
	if (too_big || in.pem_len == 0)
		die(path, "empty or larger than 64 KiB");
	in.pem[in.pem_len] = '\0';

	struct tm tm = {0};
	if (strptime(AT_TEXT, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL)
		die("bad AT_TEXT", AT_TEXT);
	in.at = (int64_t)timegm(&tm);
}

/* "U S M " + hex of SHA2-256 over der. */
static void make_text(char *out, size_t cap, const char *usm, const gnutls_datum_t *der)
{
	uint8_t d[32];
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der->data, der->size, d) < 0)
		die("gnutls_hash_fast", NULL);
	size_t n = (size_t)snprintf(out, cap, "%s ", usm);
	for (size_t i = 0; i < sizeof d && n + 2 < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "%02x", d[i]);
}

/* The three records, computed with GnuTLS from the chain file (independently of mxtls). */
static void make_rows(struct row rows[3])
{
	gnutls_x509_crt_t *crts = NULL;
	unsigned int n = 0;
	gnutls_datum_t pem = {(unsigned char *)in.pem, (unsigned int)in.pem_len};
	if (gnutls_x509_crt_list_import2(&crts, &n, &pem, GNUTLS_X509_FMT_PEM, 0) < 0 ||
	    n != CHAIN_LEN)
		die(CHAIN_FILE, "expected exactly 3 certificates (leaf, intermediate, root)");
	gnutls_datum_t leaf_spki = {NULL, 0}, int_der = {NULL, 0}, root_der = {NULL, 0};
	gnutls_pubkey_t key;
	if (gnutls_pubkey_init(&key) < 0 || gnutls_pubkey_import_x509(key, crts[0], 0) < 0 ||
	    gnutls_pubkey_export2(key, GNUTLS_X509_FMT_DER, &leaf_spki) < 0 ||
	    gnutls_x509_crt_export2(crts[1], GNUTLS_X509_FMT_DER, &int_der) < 0 ||
	    gnutls_x509_crt_export2(crts[2], GNUTLS_X509_FMT_DER, &root_der) < 0)
		die("GnuTLS could not export the chain's certificates", NULL);
	gnutls_pubkey_deinit(key);
	if (gnutls_x509_crt_check_issuer(crts[2], crts[2]) == 0 ||
	    gnutls_x509_crt_check_issuer(crts[1], crts[2]) == 0 ||
	    gnutls_x509_crt_check_issuer(crts[0], crts[1]) == 0)
		die(CHAIN_FILE, "not leaf <- intermediate <- self-issued root");

	rows[0] = (struct row){.id = "ee", .label = "3 1 1 leaf", .mxtls_depth = 1,
			       .ossl_depth = 0};
	make_text(rows[0].text, sizeof rows[0].text, "3 1 1", &leaf_spki);
	rows[1] = (struct row){.id = "ta2", .label = "2 0 1 root, depth 2", .mxtls_depth = 2,
			       .ossl_depth = 2,
			       .caveat = "libdane checks only leaf<-issuer: 1 signature, no name "
					 "check; mxtls and OpenSSL check 2 signatures and the name"};
	make_text(rows[1].text, sizeof rows[1].text, "2 0 1", &root_der);
	rows[2] = (struct row){.id = "ta1", .label = "2 0 1 int, depth 1", .mxtls_depth = 1,
			       .ossl_depth = 1,
			       .caveat = "all check 1 signature; libdane does no name check"};
	make_text(rows[2].text, sizeof rows[2].text, "2 0 1", &int_der);
	for (int i = 0; i < 3; i++) {
		/* Flip the last hex digit: a well-formed record that matches nothing. */
		memcpy(rows[i].bad, rows[i].text, sizeof rows[i].bad);
		size_t l = strlen(rows[i].bad);
		rows[i].bad[l - 1] = rows[i].bad[l - 1] == '0' ? '1' : '0';
	}
	gnutls_free(leaf_spki.data);
	gnutls_free(int_der.data);
	gnutls_free(root_der.data);
	for (unsigned int i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
}

/* ---- implementations ---------------------------------------------------------------------- */

/*
 * One measured implementation.  setup() prepares a state for a row (and the given record
 * text: the row's own, or its corrupted twin for the negative control); once() does one
 * operation and returns true when the verdict is the expected one (expect_ok); teardown()
 * frees the state.
 */
struct impl {
	const char *name;
	char mode; /* 'a' bytes to verdict, 'b' verify only */
	void *(*setup)(const struct row *r, const char *text);
	bool (*once)(void *st, const struct row *r, bool expect_ok, const char **why);
	void (*teardown)(void *st);
};

/* -- mxtls, public API (a) -- */

static struct mxtls_ctx *mx_ctx;

struct mx_pub {
	const char *text;
};

static void *mx_pub_setup(const struct row *r, const char *text)
{
	struct mx_pub *s = calloc(1, sizeof *s);
	if (s == NULL)
		die("calloc", NULL);
	s->text = text;
	return s;
}

static bool mx_pub_once(void *st, const struct row *r, bool expect_ok, const char **why)
{
	struct mx_pub *s = st;
	struct mxtls_dane_check *c = NULL;
	const char *tlsa[1] = {s->text};
	int rc = mxtls_dane_verify_pem(mx_ctx, in.pem, in.pem_len, HOST, NULL, tlsa, 1, in.at, &c);
	if (rc != MXTLS_OK) {
		*why = mxtls_strerror(rc);
		return false;
	}
	bool ok = mxtls_dane_check_result(c) == MXTLS_RESULT_OK;
	bool right = expect_ok ? ok && mxtls_dane_check_matched(c) == 0 : !ok;
	*why = mxtls_dane_check_reason(c);
	mxtls_dane_check_free(c);
	return right;
}

static void mx_free_state(void *st)
{
	free(st);
}

/* -- mxtls, internal API -- */

/* The verdict fields both internal variants check. */
static bool mx_verdict_right(const struct dane_verdict *v, const struct row *r, bool expect_ok,
			     const char **why)
{
	*why = v->reason;
	if (!expect_ok)
		return v->result != MXTLS_RESULT_OK;
	return v->result == MXTLS_RESULT_OK && v->matched == 0 && v->usable == 1 &&
	       v->depth == r->mxtls_depth;
}

static bool mx_int_bytes_once(void *st, const struct row *r, bool expect_ok, const char **why)
{
	struct mx_pub *s = st;
	struct dane_chain chain;
	struct dane_tlsa t;
	if (dane_chain_from_pem(in.pem, in.pem_len, &chain) != MXTLS_OK) {
		*why = "dane_chain_from_pem failed";
		return false;
	}
	if (dane_tlsa_from_text(s->text, strlen(s->text), &t) != MXTLS_OK) {
		dane_chain_clear(&chain);
		*why = "dane_tlsa_from_text failed";
		return false;
	}
	dane_tlsa_select(&t, 1);
	const char *names[1] = {HOST};
	struct dane_verdict v;
	dane_verify(&chain, &t, 1, names, 1, in.at, &v);
	bool right = mx_verdict_right(&v, r, expect_ok, why);
	dane_tlsa_clear(&t);
	dane_chain_clear(&chain);
	return right;
}

struct mx_parsed {
	struct dane_chain chain;
	struct dane_tlsa t;
};

static void *mx_verify_setup(const struct row *r, const char *text)
{
	struct mx_parsed *s = calloc(1, sizeof *s);
	if (s == NULL)
		die("calloc", NULL);
	if (dane_chain_from_pem(in.pem, in.pem_len, &s->chain) != MXTLS_OK ||
	    dane_tlsa_from_text(text, strlen(text), &s->t) != MXTLS_OK)
		die("mxtls could not parse the input", NULL);
	dane_tlsa_select(&s->t, 1);
	return s;
}

static bool mx_verify_once(void *st, const struct row *r, bool expect_ok, const char **why)
{
	struct mx_parsed *s = st;
	const char *names[1] = {HOST};
	struct dane_verdict v;
	dane_verify(&s->chain, &s->t, 1, names, 1, in.at, &v);
	return mx_verdict_right(&v, r, expect_ok, why);
}

static void mx_verify_teardown(void *st)
{
	struct mx_parsed *s = st;
	dane_tlsa_clear(&s->t);
	dane_chain_clear(&s->chain);
	free(s);
}

/* -- OpenSSL -- */

#ifdef BENCH_HAVE_OPENSSL
static SSL_CTX *ossl_ctx;      /* shared, as an MTA shares one per process */
static X509_STORE *ossl_store; /* shared and empty: DANE needs no PKIX store */

struct ossl {
	const char *text;
	/* (b) only: */
	STACK_OF(X509) *chain;
	SSL *ssl;
};

static STACK_OF(X509) *ossl_parse_chain(void)
{
	BIO *bio = BIO_new_mem_buf(in.pem, (int)in.pem_len);
	STACK_OF(X509) *sk = sk_X509_new_null();
	if (bio == NULL || sk == NULL)
		die("OpenSSL: out of memory", NULL);
	X509 *x;
	while (sk_X509_num(sk) < CHAIN_LEN && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		sk_X509_push(sk, x);
	BIO_free(bio);
	return sk;
}

/* A new SSL from the shared context with DANE enabled for HOST and the record added. */
static SSL *ossl_new_ssl(const char *text, const char **why)
{
	uint8_t rdata[3 + 64];
	size_t n = tlsa_text_to_rdata(text, rdata, sizeof rdata);
	SSL *ssl = SSL_new(ossl_ctx);
	if (ssl == NULL || n == 0 || SSL_dane_enable(ssl, HOST) <= 0) {
		*why = "SSL_new/SSL_dane_enable failed";
		SSL_free(ssl);
		return NULL;
	}
	/* RFC 7672 §3.2.1: no name checks under DANE-EE. */
	SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	if (SSL_dane_tlsa_add(ssl, rdata[0], rdata[1], rdata[2], rdata + 3, n - 3) <= 0) {
		*why = "SSL_dane_tlsa_add refused the record";
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

/* X509_verify_cert as libssl's ssl_verify_cert_chain() sets it up; checks the verdict. */
static bool ossl_verify(SSL *ssl, STACK_OF(X509) *chain, const struct row *r, bool expect_ok,
			const char **why)
{
	X509_STORE_CTX *xs = X509_STORE_CTX_new();
	if (xs == NULL || !X509_STORE_CTX_init(xs, ossl_store, sk_X509_value(chain, 0), chain)) {
		X509_STORE_CTX_free(xs);
		*why = "X509_STORE_CTX_init failed";
		return false;
	}
	X509_STORE_CTX_set0_dane(xs, SSL_get0_dane(ssl));
	X509_STORE_CTX_set_default(xs, "ssl_server");
	X509_VERIFY_PARAM *vpm = X509_STORE_CTX_get0_param(xs);
	X509_VERIFY_PARAM_set1(vpm, SSL_get0_param(ssl));
	X509_VERIFY_PARAM_set_auth_level(vpm, SSL_get_security_level(ssl));
	X509_VERIFY_PARAM_set_time(vpm, (time_t)in.at);
	int ok = X509_verify_cert(xs);
	bool right;
	if (expect_ok) {
		uint8_t mu = 0, ms = 0, mm = 0;
		int depth = ok > 0 ? SSL_get0_dane_authority(ssl, NULL, NULL) : -1;
		int tdepth = ok > 0 ? SSL_get0_dane_tlsa(ssl, &mu, &ms, &mm, NULL, NULL) : -1;
		right = ok > 0 && depth == r->ossl_depth && tdepth == r->ossl_depth &&
			mu == (uint8_t)(r->text[0] - '0');
		*why = ok > 0 ? "verified, but not by the expected record at the expected depth"
			      : X509_verify_cert_error_string(X509_STORE_CTX_get_error(xs));
	} else {
		right = ok <= 0;
		*why = "accepted";
	}
	X509_STORE_CTX_free(xs);
	ERR_clear_error();
	return right;
}

static void *ossl_setup(const struct row *r, const char *text)
{
	struct ossl *s = calloc(1, sizeof *s);
	if (s == NULL)
		die("calloc", NULL);
	s->text = text;
	return s;
}

static bool ossl_bytes_once(void *st, const struct row *r, bool expect_ok, const char **why)
{
	struct ossl *s = st;
	STACK_OF(X509) *chain = ossl_parse_chain();
	bool right = false;
	if (sk_X509_num(chain) != CHAIN_LEN) {
		*why = "PEM_read_bio_X509 failed";
	} else {
		SSL *ssl = ossl_new_ssl(s->text, why);
		if (ssl != NULL)
			right = ossl_verify(ssl, chain, r, expect_ok, why);
		SSL_free(ssl);
	}
	sk_X509_pop_free(chain, X509_free);
	ERR_clear_error();
	return right;
}

static void *ossl_verify_setup(const struct row *r, const char *text)
{
	struct ossl *s = ossl_setup(r, text);
	const char *why = NULL;
	s->chain = ossl_parse_chain();
	s->ssl = ossl_new_ssl(text, &why);
	if (sk_X509_num(s->chain) != CHAIN_LEN || s->ssl == NULL)
		die("OpenSSL could not parse the input", why);
	return s;
}

static bool ossl_verify_once(void *st, const struct row *r, bool expect_ok, const char **why)
{
	struct ossl *s = st;
	return ossl_verify(s->ssl, s->chain, r, expect_ok, why);
}

static void ossl_teardown(void *st)
{
	struct ossl *s = st;
	SSL_free(s->ssl);
	sk_X509_pop_free(s->chain, X509_free);
	free(s);
}
#endif

/* -- GnuTLS libdane -- */

#ifdef BENCH_HAVE_LIBDANE
static dane_state_t dane_state; /* shared: no resolver, records supplied raw */

struct ldane {
	const char *text;
	/* (b) only: */
	gnutls_datum_t der[CHAIN_LEN];
	char rdata[3 + 64];
	dane_query_t q;
};

/* libdane's pinned clock (its internal gnutls_x509_crt_verify reads GnuTLS's time). */
static time_t ldane_time(time_t *t)
{
	if (t != NULL)
		*t = (time_t)in.at;
	return (time_t)in.at;
}

/* The DER of each PEM block, in order; what libdane's API takes. */
static bool ldane_der(gnutls_datum_t der[CHAIN_LEN])
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	const char *p = in.pem, *end = in.pem + in.pem_len;
	unsigned int n = 0;
	while (n < CHAIN_LEN && (p = memmem(p, (size_t)(end - p), begin, sizeof begin - 1)) != NULL) {
		gnutls_datum_t blk = {(unsigned char *)p, (unsigned int)(end - p)};
		if (gnutls_pem_base64_decode2("CERTIFICATE", &blk, &der[n]) < 0)
			break;
		n++;
		p += sizeof begin - 1;
	}
	if (n == CHAIN_LEN)
		return true;
	for (unsigned int i = 0; i < n; i++)
		gnutls_free(der[i].data);
	return false;
}

/* dane_raw_tlsa() borrows the record bytes (no copy): rdata must outlive *q. */
static bool ldane_query(const char *text, char rdata[3 + 64], dane_query_t *q)
{
	size_t n = tlsa_text_to_rdata(text, (uint8_t *)rdata, 3 + 64);
	char *data[2] = {rdata, NULL};
	int len[2] = {(int)n, 0};
	return n > 0 && dane_raw_tlsa(dane_state, q, data, len, 1, 0) >= 0;
}

static bool ldane_verify(const gnutls_datum_t der[CHAIN_LEN], dane_query_t q, bool expect_ok,
			 const char **why)
{
	unsigned int status = 0;
	int rc = dane_verify_crt_raw(dane_state, der, CHAIN_LEN, GNUTLS_CRT_X509, q, 0, 0, &status);
	if (rc < 0) {
		*why = dane_strerror(rc);
		return !expect_ok;
	}
	*why = status == 0 ? "accepted" : "status not 0";
	return expect_ok == (status == 0);
}

static void *ldane_setup(const struct row *r, const char *text)
{
	struct ldane *s = calloc(1, sizeof *s);
	if (s == NULL)
		die("calloc", NULL);
	s->text = text;
	return s;
}

static bool ldane_bytes_once(void *st, const struct row *r, bool expect_ok, const char **why)
{
	struct ldane *s = st;
	gnutls_datum_t der[CHAIN_LEN];
	char rdata[3 + 64];
	dane_query_t q = NULL;
	if (!ldane_der(der)) {
		*why = "gnutls_pem_base64_decode2 failed";
		return false;
	}
	bool right = false;
	if (!ldane_query(s->text, rdata, &q))
		*why = "dane_raw_tlsa failed";
	else
		right = ldane_verify(der, q, expect_ok, why);
	if (q != NULL)
		dane_query_deinit(q);
	for (int i = 0; i < CHAIN_LEN; i++)
		gnutls_free(der[i].data);
	return right;
}

static void *ldane_verify_setup(const struct row *r, const char *text)
{
	struct ldane *s = ldane_setup(r, text);
	if (!ldane_der(s->der) || !ldane_query(text, s->rdata, &s->q))
		die("libdane could not take the input", NULL);
	return s;
}

static bool ldane_verify_once(void *st, const struct row *r, bool expect_ok, const char **why)
{
	struct ldane *s = st;
	return ldane_verify(s->der, s->q, expect_ok, why);
}

static void ldane_teardown(void *st)
{
	struct ldane *s = st;
	if (s->q != NULL)
		dane_query_deinit(s->q);
	for (int i = 0; i < CHAIN_LEN; i++)
		gnutls_free(s->der[i].data); /* NULL (from calloc) in mode (a) */
	free(s);
}
#endif

/* The first entry of each mode is the mxtls figure the ratios are taken against. */
static const struct impl impls[] = {
	{"mxtls public API", 'a', mx_pub_setup, mx_pub_once, mx_free_state},
	{"mxtls internal API", 'a', mx_pub_setup, mx_int_bytes_once, mx_free_state},
#ifdef BENCH_HAVE_OPENSSL
	{"OpenSSL", 'a', ossl_setup, ossl_bytes_once, ossl_teardown},
#endif
#ifdef BENCH_HAVE_LIBDANE
	{"GnuTLS libdane", 'a', ldane_setup, ldane_bytes_once, ldane_teardown},
#endif
	{"mxtls dane_verify", 'b', mx_verify_setup, mx_verify_once, mx_verify_teardown},
#ifdef BENCH_HAVE_OPENSSL
	{"OpenSSL", 'b', ossl_verify_setup, ossl_verify_once, ossl_teardown},
#endif
#ifdef BENCH_HAVE_LIBDANE
	{"GnuTLS libdane", 'b', ldane_verify_setup, ldane_verify_once, ldane_teardown},
#endif
};
#define NIMPLS (sizeof impls / sizeof impls[0])

/* ---- measurement -------------------------------------------------------------------------- */

struct result {
	double rate[ROUNDS_MAX]; /* operations per CPU second, per round */
	double wall, cpu;        /* totals over the rounds */
	uint64_t ops;
};

/* Runs impl on row for secs of wall time (or exactly iters operations when iters > 0). */
static void run(const struct impl *im, void *st, const struct row *r, double secs,
		uint64_t iters, struct result *res, int round)
{
	const char *why = NULL;
	double w0 = bench_now(CLOCK_MONOTONIC), c0 = bench_now(CLOCK_THREAD_CPUTIME_ID), w1;
	uint64_t n = 0;
	do {
		if (!im->once(st, r, true, &why))
			wrong(im->name, r, why != NULL ? why : "?");
		n++;
		w1 = bench_now(CLOCK_MONOTONIC);
	} while (iters > 0 ? n < iters : w1 - w0 < secs);
	double cpu = bench_now(CLOCK_THREAD_CPUTIME_ID) - c0;
	res->rate[round] = cpu > 0 ? (double)n / cpu : 0;
	res->wall += w1 - w0;
	res->cpu += cpu;
	res->ops += n;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-t SECONDS] [-r ROUNDS] [-n ITERATIONS] [-m a|b] [-o ee,ta2,ta1]\n"
		"          [-i SUBSTRING] [VECTORS-DIR]\n"
		"  -t  wall time per row and implementation, all rounds together (default 1)\n"
		"  -r  interleaved rounds (default 3, at most %d); the median round is reported\n"
		"  -n  exactly N operations per round instead of a time (for profilers)\n"
		"  -m  only mode a (bytes to verdict) or b (verify only)\n"
		"  -o  only these rows; -i only implementations whose name contains SUBSTRING\n"
		"  VECTORS-DIR defaults to %s\n",
		argv0, ROUNDS_MAX, BENCH_VECTORS_DIR);
	exit(2);
}

static const char *short_name(const struct impl *im, char *buf, size_t cap)
{
#ifdef BENCH_HAVE_OPENSSL
	if (strcmp(im->name, "OpenSSL") == 0) {
		snprintf(buf, cap, "OpenSSL %s", OpenSSL_version(OPENSSL_VERSION_STRING));
		return buf;
	}
#endif
#ifdef BENCH_HAVE_LIBDANE
	if (strcmp(im->name, "GnuTLS libdane") == 0) {
		snprintf(buf, cap, "libdane %s", gnutls_check_version(NULL));
		return buf;
	}
#endif
	snprintf(buf, cap, "%s", im->name);
	return buf;
}

int main(int argc, char **argv)
{
	double secs = 1.0;
	int rounds = 3;
	uint64_t iters = 0;
	const char *mode = "ab", *only = NULL, *impl_filter = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "t:r:n:m:o:i:h")) != -1) {
		switch (opt) {
		case 't':
			secs = strtod(optarg, NULL);
			if (!(secs > 0 && secs < 3600))
				usage(argv[0]);
			break;
		case 'r':
			rounds = atoi(optarg);
			if (rounds < 1 || rounds > ROUNDS_MAX)
				usage(argv[0]);
			break;
		case 'n':
			iters = strtoull(optarg, NULL, 10);
			if (iters == 0)
				usage(argv[0]);
			break;
		case 'm':
			if (strcmp(optarg, "a") != 0 && strcmp(optarg, "b") != 0)
				usage(argv[0]);
			mode = optarg;
			break;
		case 'o':
			only = optarg;
			break;
		case 'i':
			impl_filter = optarg;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind < argc - 1)
		usage(argv[0]);
	read_input(optind < argc ? argv[optind] : BENCH_VECTORS_DIR);

	gnutls_global_init();
	struct mxtls_config *cfg = NULL;
	char err[256];
	if (mxtls_config_new(&cfg) != MXTLS_OK ||
	    mxtls_ctx_new(cfg, &mx_ctx, err, sizeof err) != MXTLS_OK)
		die("mxtls_ctx_new", err);
	mxtls_config_free(cfg);
#ifdef BENCH_HAVE_OPENSSL
	ossl_ctx = SSL_CTX_new(TLS_client_method());
	ossl_store = X509_STORE_new();
	if (ossl_ctx == NULL || ossl_store == NULL || SSL_CTX_dane_enable(ossl_ctx) <= 0)
		die("OpenSSL: cannot set up an SSL_CTX with DANE", NULL);
#endif
#ifdef BENCH_HAVE_LIBDANE
	gnutls_global_set_time_function(ldane_time);
	if (dane_state_init(&dane_state, DANE_F_IGNORE_LOCAL_RESOLVER | DANE_F_IGNORE_DNSSEC) < 0)
		die("dane_state_init failed", NULL);
#endif

	struct row rows[3];
	make_rows(rows);

	printf("bench_dane: DANE verifications per second, same input for every implementation\n");
	printf("  chain %s (leaf <- intermediate <- root, PEM), host %s, time %s\n", CHAIN_FILE,
	       HOST, AT_TEXT);
	printf("  GnuTLS %s (mxtls, libdane)", gnutls_check_version(NULL));
#ifdef BENCH_HAVE_OPENSSL
	printf(", %s", OpenSSL_version(OPENSSL_VERSION));
#else
	printf(", OpenSSL not built in");
#endif
#ifndef BENCH_HAVE_LIBDANE
	printf(", libdane not built in");
#endif
	if (iters > 0)
		printf("\n  %llu operations per round, %d rounds", (unsigned long long)iters, rounds);
	else
		printf("\n  %.2f s per measurement in %d interleaved rounds", secs, rounds);
	printf("; rates per CPU second of this thread, median round\n");
	printf("  every verdict is checked each iteration; the corrupted record of each row is "
	       "rejected by all (checked once)\n");

	for (const char *m = mode; *m != '\0'; m++) {
		printf("\n(%c) %s\n", *m,
		       *m == 'a' ? "bytes to verdict: parse PEM chain + parse TLSA text + verify"
				 : "verify only: chain and TLSA record parsed beforehand");
		printf("%-20s %-24s %12s %9s %9s %11s\n", "record", "implementation", "ops/s",
		       "us/op", "spread", "mxtls/this");
		for (int ri = 0; ri < 3; ri++) {
			const struct row *r = &rows[ri];
			if (only != NULL && strstr(only, r->id) == NULL)
				continue;
			const struct impl *sel[NIMPLS];
			void *st[NIMPLS];
			struct result res[NIMPLS];
			size_t ns = 0;
			for (size_t k = 0; k < NIMPLS; k++) {
				const struct impl *im = &impls[k];
				if (im->mode != *m)
					continue;
				/* The mxtls reference stays in when filtering, for the ratios. */
				if (impl_filter != NULL && ns > 0 &&
				    strstr(im->name, impl_filter) == NULL)
					continue;
				/* Negative control: the corrupted record must be rejected. */
				const char *why = NULL;
				void *bad = im->setup(r, r->bad);
				if (!im->once(bad, r, false, &why))
					wrong(im->name, r, "accepted a record that matches nothing");
				im->teardown(bad);
				sel[ns] = im;
				st[ns] = im->setup(r, r->text);
				memset(&res[ns], 0, sizeof res[ns]);
				/* Warm-up (caches, lazy initialisation), not timed. */
				for (int w = 0; w < 20; w++)
					if (!im->once(st[ns], r, true, &why))
						wrong(im->name, r, why);
				ns++;
			}
			for (int round = 0; round < rounds; round++)
				for (size_t k = 0; k < ns; k++)
					run(sel[k], st[k], r, secs / rounds, iters, &res[k], round);
			double ref = 0;
			for (size_t k = 0; k < ns; k++) {
				char name[64];
				double lo, hi, rate = bench_median(res[k].rate, (size_t)rounds, &lo, &hi, NULL);
				if (k == 0)
					ref = rate;
				printf("%-20s %-24s %12.0f %9.2f %8.1f%% %11.2f%s\n",
				       k == 0 ? r->label : "",
				       short_name(sel[k], name, sizeof name), rate, 1e6 / rate,
				       rate > 0 ? 100.0 * (hi - lo) / rate : 0.0, ref / rate,
				       res[k].cpu < 0.8 * res[k].wall ? "  (cpu < 80% of wall)" : "");
				sel[k]->teardown(st[k]);
			}
			if (r->caveat != NULL && (impl_filter == NULL || ns > 2))
				printf("%-20s   note: %s\n", "", r->caveat);
		}
	}
	printf("\nmxtls/this = mxtls ops/s / this implementation's ops/s (the first line of each "
	       "row is the mxtls reference); > 1 means mxtls is faster\n");

#ifdef BENCH_HAVE_LIBDANE
	dane_state_deinit(dane_state);
#endif
#ifdef BENCH_HAVE_OPENSSL
	X509_STORE_free(ossl_store);
	SSL_CTX_free(ossl_ctx);
#endif
	mxtls_ctx_free(mx_ctx);
	gnutls_global_deinit();
	return 0;
}
