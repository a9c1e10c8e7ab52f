/* SPDX-License-Identifier: MIT */
/*
 * dane_openssl.c: differential-test peer.  Decides every case of vectors/dane/cases.txt with
 * OpenSSL's DANE implementation (libssl/libcrypto), offline, without a TLS handshake.
 *
 * Usage: dane_openssl CASES.TXT VECTORS-DIR
 * Output: one line per case, "<name>\t<ok|fail>\t<detail>"; the detail ends with
 * "recs=" and one character per tlsa line: + added, 0 unusable (SSL_dane_tlsa_add returned 0),
 * - refused (returned -1), ? not of the form "U S M HEX" (not given to OpenSSL).
 * Exit 0 unless the case file or a chain could not be read at all (exit 2).
 *
 * What it does per case, as an SMTP client using OpenSSL's DANE API would:
 *   SSL_CTX_dane_enable; SSL_dane_enable(ssl, host) (host = TLSA base domain, also the first
 *   reference identifier); SSL_add1_host(ssl, nexthop) when given;
 *   SSL_dane_set_flags(DANE_FLAG_NO_DANE_EE_NAMECHECKS) (RFC 7672 3.2.1);
 *   SSL_dane_tlsa_add for each record that parses as "U S M HEX" (OpenSSL itself decides
 *   which are unusable: return 0 = unsupported, -1 = malformed); then, the way libssl's
 *   ssl_verify_cert_chain() does it, X509_verify_cert on a store context built from an EMPTY
 *   X509_STORE, the leaf, the whole presented chain as untrusted certificates, the SSL's DANE
 *   state and verify parameters, the "ssl_server" purpose, and the case's validation time.
 * No PKIX trust store is used, so PKIX-TA(0)/PKIX-EE(1) records can never succeed here.
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "casefile.h"

struct run {
	const char *vecdir;
	SSL_CTX *ctx;
	int errors;
};

static STACK_OF(X509) *load_chain(const char *path, char *why, size_t whylen)
{
	BIO *bio = BIO_new_file(path, "r");
	STACK_OF(X509) *sk;
	X509 *x;

	if (bio == NULL) {
		snprintf(why, whylen, "cannot open %s", path);
		return NULL;
	}
	sk = sk_X509_new_null();
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			break;
		}
	}
	ERR_clear_error(); /* the loop ends with a "no start line" error */
	BIO_free(bio);
	if (sk_X509_num(sk) == 0) {
		snprintf(why, whylen, "no certificate in %s", path);
		sk_X509_free(sk);
		return NULL;
	}
	return sk;
}

static void one_case(struct dcase *c, void *arg)
{
	struct run *r = arg;
	char why[512];
	char *path = dcase_path(r->vecdir, c->chain);
	STACK_OF(X509) *chain = load_chain(path, why, sizeof(why));
	SSL *ssl = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *xs = NULL;
	X509_VERIFY_PARAM *vpm;
	int added = 0, unusable = 0, refused = 0, skipped = 0;
	char *recs = calloc(c->ntlsa + 1, 1); /* per record: + added, 0 unusable, - refused, ? unparsed */
	size_t i;
	int ok;

	free(path);
	if (recs == NULL) {
		perror("calloc");
		exit(2);
	}
	if (chain == NULL) {
		printf("%s\tfail\tdriver error: %s\n", c->name, why);
		r->errors++;
		free(recs);
		return;
	}
	ssl = SSL_new(r->ctx);
	if (ssl == NULL || SSL_dane_enable(ssl, c->host) <= 0) {
		printf("%s\tfail\tdriver error: SSL_dane_enable(%s) failed\n", c->name, c->host);
		ERR_clear_error();
		goto out;
	}
	if (c->nexthop != NULL && !SSL_add1_host(ssl, c->nexthop)) {
		printf("%s\tfail\tdriver error: SSL_add1_host(%s) failed\n", c->name, c->nexthop);
		ERR_clear_error();
		goto out;
	}
	SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);

	for (i = 0; i < c->ntlsa; i++) {
		unsigned u, s, m;
		unsigned char *data = NULL;
		size_t dlen = 0;
		int rc;

		if (dcase_parse_tlsa(c->tlsa[i], &u, &s, &m, &data, &dlen) != 0) {
			skipped++;
			recs[i] = '?';
			continue;
		}
		rc = SSL_dane_tlsa_add(ssl, (uint8_t)u, (uint8_t)s, (uint8_t)m, data, dlen);
		if (rc > 0) {
			added++;
			recs[i] = '+';
		} else if (rc == 0) {
			unusable++;
			recs[i] = '0';
		} else {
			refused++;
			recs[i] = '-';
		}
		ERR_clear_error();
		free(data);
	}

	store = X509_STORE_new();
	xs = X509_STORE_CTX_new();
	if (store == NULL || xs == NULL ||
	    !X509_STORE_CTX_init(xs, store, sk_X509_value(chain, 0), chain)) {
		printf("%s\tfail\tdriver error: X509_STORE_CTX_init failed\n", c->name);
		ERR_clear_error();
		goto out;
	}
	X509_STORE_CTX_set0_dane(xs, SSL_get0_dane(ssl));
	X509_STORE_CTX_set_default(xs, "ssl_server");
	vpm = X509_STORE_CTX_get0_param(xs);
	X509_VERIFY_PARAM_set1(vpm, SSL_get0_param(ssl));
	X509_VERIFY_PARAM_set_auth_level(vpm, SSL_get_security_level(ssl));
	X509_VERIFY_PARAM_set_time(vpm, c->when);

	ok = X509_verify_cert(xs);
	if (ok > 0) {
		X509 *mcert = NULL;
		EVP_PKEY *mspki = NULL;
		uint8_t mu = 0, ms = 0, mm = 0;
		int depth = SSL_get0_dane_authority(ssl, &mcert, &mspki);
		int tdepth = SSL_get0_dane_tlsa(ssl, &mu, &ms, &mm, NULL, NULL);

		if (depth >= 0 && tdepth >= 0)
			printf("%s\tok\tmatched %u %u %u at depth %d%s; chain length %d;", c->name,
			       mu, ms, mm, depth,
			       mcert == NULL && mspki != NULL ? " (bare key)" : "",
			       sk_X509_num(X509_STORE_CTX_get0_chain(xs)));
		else
			printf("%s\tok\tverified without a DANE match;", c->name);
	} else {
		int err = X509_STORE_CTX_get_error(xs);

		printf("%s\tfail\terr=%d %s at depth %d;", c->name, err,
		       X509_verify_cert_error_string(err), X509_STORE_CTX_get_error_depth(xs));
	}
	printf(" records added %d, unusable %d, refused %d, unparsed %d; recs=%s\n", added,
	       unusable, refused, skipped, recs);
	ERR_clear_error();

out:
	X509_STORE_CTX_free(xs);
	X509_STORE_free(store);
	SSL_free(ssl);
	sk_X509_pop_free(chain, X509_free);
	free(recs);
}

int main(int argc, char **argv)
{
	struct run r;
	int n;

	if (argc != 3) {
		fprintf(stderr, "usage: %s CASES.TXT VECTORS-DIR\n", argv[0]);
		return 2;
	}
	memset(&r, 0, sizeof(r));
	r.vecdir = argv[2];
	r.ctx = SSL_CTX_new(TLS_client_method());
	if (r.ctx == NULL || SSL_CTX_dane_enable(r.ctx) <= 0) {
		fprintf(stderr, "%s: cannot set up an SSL_CTX with DANE\n", argv[0]);
		ERR_print_errors_fp(stderr);
		return 2;
	}
	n = dcase_foreach(argv[1], one_case, &r);
	SSL_CTX_free(r.ctx);
	fflush(stdout);
	if (n < 0 || r.errors > 0)
		return 2;
	fprintf(stderr, "# dane_openssl: %d cases, %s\n", n, OpenSSL_version(OPENSSL_VERSION));
	return 0;
}
