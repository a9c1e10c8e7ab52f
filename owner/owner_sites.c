/* SPDX-License-Identifier: MIT */
/* mxtls serve: reads and checks the certificates, keys and policy files of every domain. */
#include "owner/owner_sites.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <mxtls/error.h>

#include "owner/owner_route.h"
#include "sts/sts_policy.h"
#include "sts/sts_problem.h"

/* The longest certificate chain or key file read. */
#define OWNER_PEM_MAX (1024 * 1024)
/* The most certificates in one chain. */
#define OWNER_CHAIN_MAX 16

/* Reads a whole regular file of at most cap bytes into *out (owned, NUL-terminated). */
static int slurp(const char *path, size_t cap, char **out, size_t *outlen, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return MXTLS_E_IO;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return MXTLS_E_IO;
	}
	char *buf = malloc(cap + 1);
	if (buf == NULL) {
		close(fd);
		return MXTLS_E_NOMEM;
	}
	size_t len = 0;
	for (;;) {
		ssize_t r = read(fd, buf + len, cap + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return MXTLS_E_IO;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > cap) {
			snprintf(err, errlen, "%s: larger than %zu bytes", path, cap);
			free(buf);
			close(fd);
			return MXTLS_E_LIMIT;
		}
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return MXTLS_OK;
}

/* RFC 8461 §3.3: a sender rejects a policy that does not parse (§3.2), so one that the
 * sender's own parser rejects is never served: the load fails and names the line. */
static int load_policy(const char *dir, struct owner_site *site, char *err, size_t errlen)
{
	char path[4096];
	int n = snprintf(path, sizeof path, "%s/%s.txt", dir, site->domain);
	if (n < 0 || (size_t)n >= sizeof path) {
		snprintf(err, errlen, "policy-dir: path too long");
		return MXTLS_E_CONFIG;
	}
	int rc = slurp(path, STS_POLICY_MAX, &site->policy, &site->policy_len, err, errlen);
	if (rc == MXTLS_E_LIMIT) {
		snprintf(err, errlen, "%s: larger than %d bytes: senders would refuse it", path,
			 STS_POLICY_MAX);
		return MXTLS_E_CONFIG;
	}
	if (rc != MXTLS_OK)
		return rc;
	struct sts_policy pol;
	struct sts_report *rep = malloc(sizeof *rep);
	if (rep == NULL)
		return MXTLS_E_NOMEM;
	rc = sts_policy_parse(site->policy, site->policy_len, &pol, rep);
	if (rc == MXTLS_OK) {
		sts_policy_clear(&pol);
	} else if (rc == MXTLS_E_NOMEM) {
		/* as is */
	} else {
		if (rep->errors.n > 0)
			snprintf(err, errlen,
				 "%s: line %u: %s: not a valid MTA-STS policy, senders would "
				 "refuse it",
				 path, (unsigned)rep->errors.item[0].line,
				 rep->errors.item[0].reason);
		else
			snprintf(err, errlen, "%s: not a valid MTA-STS policy", path);
		rc = MXTLS_E_CONFIG;
	}
	free(rep);
	return rc;
}

static int load_chain(const struct owner_cert_spec *spec, struct owner_site *site, char *err,
		      size_t errlen)
{
	char *pem = NULL;
	size_t len = 0;
	int rc = slurp(spec->cert, OWNER_PEM_MAX, &pem, &len, err, errlen);
	if (rc == MXTLS_E_LIMIT)
		rc = MXTLS_E_CONFIG;
	if (rc != MXTLS_OK)
		return rc;
	site->pcert = calloc(OWNER_CHAIN_MAX, sizeof *site->pcert);
	if (site->pcert == NULL) {
		free(pem);
		return MXTLS_E_NOMEM;
	}
	gnutls_datum_t d = {.data = (unsigned char *)pem, .size = (unsigned)len};
	unsigned n = OWNER_CHAIN_MAX;
	int g = gnutls_pcert_list_import_x509_raw(site->pcert, &n, &d, GNUTLS_X509_FMT_PEM, 0);
	free(pem);
	if (g < 0 || n == 0) {
		snprintf(err, errlen, "%s: no certificate chain: %s", spec->cert,
			 g < 0 ? gnutls_strerror(g) : "empty");
		return MXTLS_E_CONFIG;
	}
	site->npcert = n;
	/* RFC 8461 §3.3: the sender checks the certificate against "mta-sts.<domain>"; one that
	 * does not name it would be refused by every sender. */
	gnutls_x509_crt_t crt;
	if (gnutls_x509_crt_init(&crt) < 0)
		return MXTLS_E_NOMEM;
	char host[OWNER_ROUTE_DOMAIN_MAX + sizeof OWNER_ROUTE_PREFIX];
	snprintf(host, sizeof host, "%s%s", OWNER_ROUTE_PREFIX, site->domain);
	rc = MXTLS_OK;
	if (gnutls_x509_crt_import(crt, &site->pcert[0].cert, GNUTLS_X509_FMT_DER) < 0 ||
	    !gnutls_x509_crt_check_hostname2(crt, host, 0)) {
		snprintf(err, errlen, "%s: the certificate does not name %s", spec->cert, host);
		rc = MXTLS_E_CONFIG;
	}
	gnutls_x509_crt_deinit(crt);
	return rc;
}

static int load_key(const struct owner_cert_spec *spec, struct owner_site *site, char *err,
		    size_t errlen)
{
	char *pem = NULL;
	size_t len = 0;
	int rc = slurp(spec->key, OWNER_PEM_MAX, &pem, &len, err, errlen);
	if (rc == MXTLS_E_LIMIT)
		rc = MXTLS_E_CONFIG;
	if (rc != MXTLS_OK)
		return rc;
	gnutls_datum_t d = {.data = (unsigned char *)pem, .size = (unsigned)len};
	int g = gnutls_privkey_init(&site->key);
	if (g >= 0)
		g = gnutls_privkey_import_x509_raw(site->key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_memset(pem, 0, len);
	free(pem);
	if (g < 0) {
		snprintf(err, errlen, "%s: not a private key: %s", spec->key, gnutls_strerror(g));
		return MXTLS_E_CONFIG;
	}
	/* The key must be the leaf's: compare the key ids of both public halves. */
	gnutls_pubkey_t pub;
	unsigned char a[64], b[64];
	size_t alen = sizeof a, blen = sizeof b;
	if (gnutls_pubkey_init(&pub) < 0)
		return MXTLS_E_NOMEM;
	g = gnutls_pubkey_import_privkey(pub, site->key, 0, 0);
	if (g >= 0)
		g = gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, a, &alen);
	gnutls_pubkey_deinit(pub);
	if (g >= 0)
		g = gnutls_pubkey_get_key_id(site->pcert[0].pubkey, GNUTLS_KEYID_USE_SHA256, b,
					     &blen);
	if (g < 0 || alen != blen || memcmp(a, b, alen) != 0) {
		snprintf(err, errlen, "%s: the key does not match the certificate %s", spec->key,
			 spec->cert);
		return MXTLS_E_CONFIG;
	}
	return MXTLS_OK;
}

static void site_clear(struct owner_site *site)
{
	free(site->domain);
	free(site->policy);
	if (site->pcert != NULL) {
		for (unsigned i = 0; i < site->npcert; i++)
			gnutls_pcert_deinit(&site->pcert[i]);
		free(site->pcert);
	}
	if (site->key != NULL)
		gnutls_privkey_deinit(site->key);
}

static int by_domain(const void *a, const void *b)
{
	return strcmp(((const struct owner_site *)a)->domain,
		      ((const struct owner_site *)b)->domain);
}

int owner_sites_load(const struct mxtls_serve_config *c, struct owner_sites **out, char *err,
		     size_t errlen)
{
	if (c->policy_dir == NULL || c->ncerts == 0) {
		snprintf(err, errlen,
			 "nothing to serve: policy-dir and at least one cert are needed");
		return MXTLS_E_CONFIG;
	}
	struct owner_sites *s = calloc(1, sizeof *s);
	if (s == NULL || (s->site = calloc(c->ncerts, sizeof *s->site)) == NULL) {
		free(s);
		return MXTLS_E_NOMEM;
	}
	int rc = MXTLS_OK;
	for (size_t i = 0; i < c->ncerts && rc == MXTLS_OK; i++) {
		struct owner_site *site = &s->site[i];
		s->n++;
		if ((site->domain = strdup(c->certs[i].domain)) == NULL)
			rc = MXTLS_E_NOMEM;
		if (rc == MXTLS_OK)
			rc = load_policy(c->policy_dir, site, err, errlen);
		if (rc == MXTLS_OK)
			rc = load_chain(&c->certs[i], site, err, errlen);
		if (rc == MXTLS_OK)
			rc = load_key(&c->certs[i], site, err, errlen);
	}
	if (rc != MXTLS_OK) {
		owner_sites_free(s);
		return rc;
	}
	qsort(s->site, s->n, sizeof *s->site, by_domain);
	*out = s;
	return MXTLS_OK;
}

const struct owner_site *owner_sites_find(const struct owner_sites *s, const char *domain,
					  size_t len)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *d = s->site[mid].domain;
		size_t dlen = strlen(d);
		int cmp = memcmp(domain, d, len < dlen ? len : dlen);
		if (cmp == 0)
			cmp = len < dlen ? -1 : len > dlen ? 1 : 0;
		if (cmp == 0)
			return &s->site[mid];
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

void owner_sites_free(struct owner_sites *s)
{
	while (s != NULL) {
		struct owner_sites *older = s->older;
		for (size_t i = 0; i < s->n; i++)
			site_clear(&s->site[i]);
		free(s->site);
		free(s);
		s = older;
	}
}
