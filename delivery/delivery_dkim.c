/* SPDX-License-Identifier: MIT */
/* The daemon's DKIM keys (delivery_dkim.h). */
#include "delivery/delivery_dkim.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mxtls/error.h>

#include "delivery/delivery_addrlist.h"
#include "delivery/delivery_header.h"
#include "dkim/dkim_sign.h"
#include "util/util_buf.h"

struct dkim_entry {
	char *domain, *selector;
	struct dkim_key *key;
};

struct delivery_dkim {
	struct dkim_entry *v;
	size_t n;
};

void delivery_dkim_free(struct delivery_dkim *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].domain);
		free(d->v[i].selector);
		dkim_key_free(d->v[i].key);
	}
	free(d->v);
	free(d);
}

/* Reads a key file of at most DKIM_KEY_PEM_MAX bytes into buf (NUL-terminated). */
static int read_key(const char *path, char *buf, size_t size, size_t *len, char *err,
		    size_t errlen)
{
	FILE *fp = fopen(path, "re");
	if (fp == NULL) {
		snprintf(err, errlen, "dkim-key %s: %s", path, strerror(errno));
		return MXTLS_E_CONFIG;
	}
	*len = fread(buf, 1, size - 1, fp);
	bool bad = ferror(fp) != 0, big = !feof(fp) && fgetc(fp) != EOF;
	fclose(fp);
	buf[*len] = '\0';
	if (bad || big) {
		snprintf(err, errlen, "dkim-key %s: %s", path,
			 bad ? "read error" : "larger than a PEM key can be");
		return MXTLS_E_CONFIG;
	}
	return MXTLS_OK;
}

/* One spec: DOMAIN:SELECTOR:KEYFILE (the file name may hold ':'). */
static int load_one(const char *spec, struct dkim_entry *e, char *err, size_t errlen)
{
	const char *c1 = strchr(spec, ':'), *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
	if (c1 == NULL || c2 == NULL || c1 == spec || c2 == c1 + 1 || c2[1] == '\0') {
		snprintf(err, errlen, "dkim-key '%s': expected DOMAIN:SELECTOR:KEYFILE", spec);
		return MXTLS_E_CONFIG;
	}
	e->domain = strndup(spec, (size_t)(c1 - spec));
	e->selector = strndup(c1 + 1, (size_t)(c2 - c1 - 1));
	if (e->domain == NULL || e->selector == NULL)
		return MXTLS_E_NOMEM;
	char *pem = malloc(DKIM_KEY_PEM_MAX + 1);
	size_t len = 0;
	if (pem == NULL)
		return MXTLS_E_NOMEM;
	int rc = read_key(c2 + 1, pem, DKIM_KEY_PEM_MAX + 1, &len, err, errlen);
	if (rc == MXTLS_OK) {
		rc = dkim_key_load_pem(pem, len, &e->key);
		if (rc != MXTLS_OK) {
			snprintf(err, errlen, "dkim-key %s: %s", c2 + 1,
				 rc == MXTLS_E_CONFIG ? "not an RSA (>= 1024 bits) or Ed25519 key"
						      : "not a PEM private key");
			rc = MXTLS_E_CONFIG;
		}
	}
	explicit_bzero(pem, DKIM_KEY_PEM_MAX + 1);
	free(pem);
	if (rc != MXTLS_OK)
		return rc;
	/* The same check dkim_sign() makes, now, so that a typo is a start-up error. */
	struct dkim_sign_params p = {.domain = e->domain, .selector = e->selector};
	static const char probe[] = "From: a@b\r\n\r\n";
	char *sig = NULL;
	size_t siglen;
	rc = dkim_sign(e->key, &p, probe, sizeof probe - 1, &sig, &siglen);
	free(sig);
	if (rc == MXTLS_E_INVAL) {
		snprintf(err, errlen, "dkim-key '%s': a bad domain or selector", spec);
		return MXTLS_E_CONFIG;
	}
	return rc;
}

int delivery_dkim_load(const char *const *specs, size_t n, struct delivery_dkim **out, char *err,
		       size_t errlen)
{
	*out = NULL;
	if (n == 0)
		return MXTLS_OK;
	struct delivery_dkim *d = calloc(1, sizeof *d);
	if (d == NULL || (d->v = calloc(n, sizeof *d->v)) == NULL) {
		free(d);
		return MXTLS_E_NOMEM;
	}
	int rc = MXTLS_OK;
	for (size_t i = 0; i < n && rc == MXTLS_OK; i++) {
		d->n = i + 1;
		rc = load_one(specs[i], &d->v[i], err, errlen);
		for (size_t k = 0; rc == MXTLS_OK && k < i; k++)
			if (strcasecmp(d->v[k].domain, d->v[i].domain) == 0) {
				snprintf(err, errlen, "dkim-key: two keys for %s", d->v[i].domain);
				rc = MXTLS_E_CONFIG;
			}
	}
	if (rc != MXTLS_OK) {
		delivery_dkim_free(d);
		return rc;
	}
	*out = d;
	return MXTLS_OK;
}

/* The From field's single mailbox, collected by the address-list parser. */
struct from_addr {
	char addr[DELIVERY_ADDRSPEC_MAX + 1];
	size_t count;
};

static int take_addr(void *arg, const char *addr, size_t len, bool has_domain)
{
	struct from_addr *f = arg;
	if (f->count++ == 0 && has_domain && len < sizeof f->addr)
		memcpy(f->addr, addr, len + 1);
	return 0;
}

/* The domain of the message's From mailbox (RFC 5322 §3.6.2), or NULL: no From field, more
 * than one, or a From with several mailboxes (then Sender decides; left unsigned). */
static const char *from_domain(const char *msg, size_t len, struct from_addr *fa)
{
	size_t pos = 0, nfrom = 0;
	bool blank;
	struct delivery_field f;
	struct util_buf body;
	util_buf_init(&body, 64 * 1024);
	const char *dom = NULL;
	while (delivery_header_next(msg, len, &pos, &f, &blank)) {
		if (!delivery_field_is(&f, "From") || nfrom++ > 0)
			continue;
		const char *why;
		if (delivery_field_unfold(&f, &body) == MXTLS_OK &&
		    delivery_addrlist_parse(body.data != NULL ? body.data : "", body.len, take_addr,
					    fa, &why) == MXTLS_OK &&
		    fa->count == 1 && fa->addr[0] != '\0')
			dom = strrchr(fa->addr, '@');
	}
	util_buf_free(&body);
	return nfrom == 1 && dom != NULL ? dom + 1 : NULL;
}

int delivery_dkim_sign(const struct delivery_dkim *d, const char *msg, size_t len, int64_t now,
		       char **sig, size_t *sig_len, const char **domain, char *err,
		       size_t errlen)
{
	*sig = NULL;
	*sig_len = 0;
	*domain = NULL;
	if (d == NULL)
		return MXTLS_OK;
	struct from_addr fa = {0};
	const char *dom = from_domain(msg, len, &fa);
	if (dom == NULL)
		return MXTLS_OK;
	/* The fields signed: dkim_sign()'s defaults, plus the two that RFC 8460 §5.3 wants
	 * covered in a TLS report (signed only where present: dkim_sign() lists each name once
	 * per field in the message, so other mail is signed as before). */
	const char *signed_fields[40];
	size_t k = 0;
	for (const char *const *h = dkim_sign_default_headers; *h != NULL && k < 37; h++)
		signed_fields[k++] = *h;
	signed_fields[k++] = "TLS-Report-Domain";
	signed_fields[k++] = "TLS-Report-Submitter";
	signed_fields[k] = NULL;
	for (size_t i = 0; i < d->n; i++) {
		if (strcasecmp(d->v[i].domain, dom) != 0)
			continue;
		struct dkim_sign_params p = {.domain = d->v[i].domain,
					     .selector = d->v[i].selector,
					     .timestamp = now,
					     .headers = signed_fields};
		int rc = dkim_sign(d->v[i].key, &p, msg, len, sig, sig_len);
		if (rc != MXTLS_OK)
			snprintf(err, errlen, "DKIM signing for %s failed: %s", d->v[i].domain,
				 mxtls_strerror(rc));
		else
			*domain = d->v[i].domain;
		return rc;
	}
	return MXTLS_OK;
}
