/* SPDX-License-Identifier: MIT */
/*
 * dane_libdane.c: differential-test peer.  Decides every case of vectors/dane/cases.txt with
 * GnuTLS's libdane (gnutls/dane.h), offline.
 *
 * Usage: dane_libdane CASES.TXT VECTORS-DIR
 * Output: one line per case, "<name>\t<ok|fail>\t<detail>".  Exit 0 unless the case file or
 * a chain could not be read at all (exit 2).
 *
 * Per case: the PEM chain is imported in the order given (leaf first) and handed over as DER
 * datums; every record that parses as "U S M HEX" becomes raw TLSA RDATA (usage, selector,
 * matching type, data) for dane_raw_tlsa(), marked DNSSEC-secure; then
 * dane_verify_crt_raw(..., vflags 0) decides.  "ok" means the call returned DANE_E_SUCCESS
 * with a zero verification status.  libdane has no host name or reference-identifier input
 * at all: --host/--nexthop are not used.  GnuTLS's clock is pinned to the case's validation
 * time with gnutls_global_set_time_function(), which the certificate signature/date check
 * libdane performs for CA usages (gnutls_x509_crt_verify) reads.
 */
#include <gnutls/dane.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "casefile.h"

#define MAX_RECORDS 100 /* libdane's own limit per query */

struct run {
	const char *vecdir;
	dane_state_t state;
	int errors;
};

static time_t pinned_now;

static time_t pinned_time(time_t *t)
{
	if (t != NULL)
		*t = pinned_now;
	return pinned_now;
}

static int read_file(const char *path, gnutls_datum_t *out)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL)
		return -1;
	for (;;) {
		if (cap - len < 4096) {
			unsigned char *nb = realloc(buf, cap + 65536);

			if (nb == NULL) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	out->data = buf;
	out->size = (unsigned)len;
	return 0;
}

static void one_case(struct dcase *c, void *arg)
{
	struct run *r = arg;
	char *path = dcase_path(r->vecdir, c->chain);
	gnutls_datum_t pem = { NULL, 0 };
	gnutls_x509_crt_t *crts = NULL;
	unsigned ncrt = 0, i, verify = 0;
	gnutls_datum_t *der = NULL;
	char *rdata[MAX_RECORDS + 1];
	int rlen[MAX_RECORDS + 1];
	int nrec = 0, unparsed = 0, dropped = 0, ret;
	dane_query_t q = NULL;
	size_t k;

	if (read_file(path, &pem) != 0) {
		printf("%s\tfail\tdriver error: cannot read %s\n", c->name, path);
		r->errors++;
		free(path);
		return;
	}
	ret = gnutls_x509_crt_list_import2(&crts, &ncrt, &pem, GNUTLS_X509_FMT_PEM, 0);
	free(pem.data);
	if (ret < 0 || ncrt == 0) {
		printf("%s\tfail\tdriver error: %s: %s\n", c->name, path,
		       ret < 0 ? gnutls_strerror(ret) : "no certificate");
		r->errors++;
		free(path);
		return;
	}
	free(path);
	der = calloc(ncrt, sizeof(*der));
	if (der == NULL) {
		perror("calloc");
		exit(2);
	}
	for (i = 0; i < ncrt; i++) {
		ret = gnutls_x509_crt_export2(crts[i], GNUTLS_X509_FMT_DER, &der[i]);
		if (ret < 0) {
			printf("%s\tfail\tdriver error: export: %s\n", c->name, gnutls_strerror(ret));
			r->errors++;
			goto out;
		}
	}

	for (k = 0; k < c->ntlsa; k++) {
		unsigned u, s, m;
		unsigned char *data = NULL;
		size_t dlen = 0;

		if (dcase_parse_tlsa(c->tlsa[k], &u, &s, &m, &data, &dlen) != 0) {
			unparsed++;
			continue;
		}
		if (nrec == MAX_RECORDS) {
			dropped++;
			free(data);
			continue;
		}
		rdata[nrec] = malloc(dlen + 3);
		if (rdata[nrec] == NULL) {
			perror("malloc");
			exit(2);
		}
		rdata[nrec][0] = (char)u;
		rdata[nrec][1] = (char)s;
		rdata[nrec][2] = (char)m;
		memcpy(rdata[nrec] + 3, data, dlen);
		rlen[nrec] = (int)(dlen + 3);
		nrec++;
		free(data);
	}
	rdata[nrec] = NULL;
	rlen[nrec] = 0;

	ret = dane_raw_tlsa(r->state, &q, rdata, rlen, 1, 0);
	if (ret < 0) {
		printf("%s\tfail\tdane_raw_tlsa: %s;", c->name, dane_strerror(ret));
	} else {
		pinned_now = c->when;
		ret = dane_verify_crt_raw(r->state, der, ncrt, GNUTLS_CRT_X509, q, 0, 0, &verify);
		if (ret < 0) {
			printf("%s\tfail\terror: %s;", c->name, dane_strerror(ret));
		} else {
			gnutls_datum_t txt = { NULL, 0 };
			const char *s = "?";

			if (dane_verification_status_print(verify, &txt, 0) >= 0 && txt.data != NULL)
				s = (const char *)txt.data;
			printf("%s\t%s\tstatus 0x%x: %s;", c->name, verify == 0 ? "ok" : "fail", verify,
			       s);
			gnutls_free(txt.data);
		}
	}
	printf(" records given %d, unparsed %d%s; chain length %u\n", nrec, unparsed,
	       dropped ? " (over 100 dropped)" : "", ncrt);

out:
	if (q != NULL)
		dane_query_deinit(q);
	for (ret = 0; ret < nrec; ret++)
		free(rdata[ret]);
	for (i = 0; i < ncrt; i++) {
		gnutls_free(der[i].data);
		gnutls_x509_crt_deinit(crts[i]);
	}
	free(der);
	gnutls_free(crts);
}

int main(int argc, char **argv)
{
	struct run r;
	int n, ret;

	if (argc != 3) {
		fprintf(stderr, "usage: %s CASES.TXT VECTORS-DIR\n", argv[0]);
		return 2;
	}
	memset(&r, 0, sizeof(r));
	r.vecdir = argv[2];
	gnutls_global_init();
	gnutls_global_set_time_function(pinned_time);
	/* no resolver, no DNSSEC root key: records are supplied raw and declared secure */
	ret = dane_state_init(&r.state, DANE_F_IGNORE_LOCAL_RESOLVER | DANE_F_IGNORE_DNSSEC);
	if (ret < 0) {
		fprintf(stderr, "%s: dane_state_init: %s\n", argv[0], dane_strerror(ret));
		return 2;
	}
	n = dcase_foreach(argv[1], one_case, &r);
	dane_state_deinit(r.state);
	gnutls_global_deinit();
	fflush(stdout);
	if (n < 0 || r.errors > 0)
		return 2;
	fprintf(stderr, "# dane_libdane: %d cases, GnuTLS %s\n", n, gnutls_check_version(NULL));
	return 0;
}
