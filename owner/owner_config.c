/* SPDX-License-Identifier: MIT */
/* mxtls serve: defaults and the parsing of each setting. */
#include "owner/owner_config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "owner/owner_route.h"

static const char *const keys[] = {
	"listen",
	"policy-dir",
	"cert",
	"timeout",
	"max-connection-time",
	"max-connections",
	"max-connections-per-ip",
	"max-header-bytes",
	"reports-path",
	"reports-store",
	NULL,
};

const char *mxtls_serve_config_key(size_t i)
{
	return i < sizeof keys / sizeof keys[0] ? keys[i] : NULL;
}

int mxtls_serve_config_new(struct mxtls_serve_config **out)
{
	struct mxtls_serve_config *c = calloc(1, sizeof *c);
	if (c == NULL)
		return MXTLS_E_NOMEM;
	/* A policy fetch is one small request: a client idle for 10 s or connected for 30 s is
	 * not fetching a policy. */
	c->timeout = 10;
	c->max_connection_time = 30;
	c->max_connections = 256;
	c->max_per_ip = 16;
	/* Request line and headers of a sender's GET fit in well under 1 KiB; libmicrohttpd
	 * also keeps the reply's headers in this pool. */
	c->max_header_bytes = 8192;
	*out = c;
	return MXTLS_OK;
}

void mxtls_serve_config_free(struct mxtls_serve_config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nlisten; i++)
		free(c->listen[i]);
	for (size_t i = 0; i < c->ncerts; i++) {
		free(c->certs[i].domain);
		free(c->certs[i].cert);
		free(c->certs[i].key);
	}
	free(c->certs);
	free(c->policy_dir);
	free(c->reports_path);
	free(c->reports_store);
	free(c);
}

void mxtls_serve_config_set_log(struct mxtls_serve_config *c,
				void (*fn)(void *arg, enum mxtls_log_level level, const char *line),
				void *arg)
{
	if (c == NULL)
		return;
	c->log = fn;
	c->log_arg = arg;
}

/* Replaces *slot with a copy of value. */
static int set_string(char **slot, const char *value)
{
	char *d = strdup(value);
	if (d == NULL)
		return MXTLS_E_NOMEM;
	free(*slot);
	*slot = d;
	return MXTLS_OK;
}

static int number(const char *key, const char *value, unsigned long lo, unsigned long hi,
		  unsigned long *out, char *err, size_t errlen)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(value, &end, 10);
	if (value[0] < '0' || value[0] > '9' || errno != 0 || *end != '\0' || v < lo || v > hi) {
		snprintf(err, errlen, "%s: expected a number from %lu to %lu, got '%s'", key, lo,
			 hi, value);
		return MXTLS_E_CONFIG;
	}
	*out = v;
	return MXTLS_OK;
}

/* DOMAIN:CERT:KEY; the domain must be a host name, the files non-empty paths. */
static int add_cert(struct mxtls_serve_config *c, const char *value, char *err, size_t errlen)
{
	const char *a = strchr(value, ':');
	const char *b = a != NULL ? strchr(a + 1, ':') : NULL;
	if (a == NULL || b == NULL || a == value || b == a + 1 || b[1] == '\0') {
		snprintf(err, errlen, "cert: expected DOMAIN:CERT:KEY, got '%s'", value);
		return MXTLS_E_CONFIG;
	}
	char host[OWNER_ROUTE_DOMAIN_MAX + sizeof OWNER_ROUTE_PREFIX + 2];
	char domain[OWNER_ROUTE_DOMAIN_MAX + 1];
	int n = snprintf(host, sizeof host, "%s%.*s", OWNER_ROUTE_PREFIX, (int)(a - value), value);
	if (n < 0 || (size_t)n >= sizeof host ||
	    owner_route_domain(host, (size_t)n, 0, domain, sizeof domain) < 0) {
		snprintf(err, errlen, "cert: '%.*s' is not a domain name", (int)(a - value), value);
		return MXTLS_E_CONFIG;
	}
	for (size_t i = 0; i < c->ncerts; i++)
		if (strcmp(c->certs[i].domain, domain) == 0) {
			snprintf(err, errlen, "cert: %s is given twice", domain);
			return MXTLS_E_CONFIG;
		}
	if (c->ncerts == OWNER_CONFIG_CERTS_MAX) {
		snprintf(err, errlen, "cert: at most %d domains", OWNER_CONFIG_CERTS_MAX);
		return MXTLS_E_CONFIG;
	}
	struct owner_cert_spec *v = realloc(c->certs, (c->ncerts + 1) * sizeof *v);
	if (v == NULL)
		return MXTLS_E_NOMEM;
	c->certs = v;
	struct owner_cert_spec s = {
		.domain = strdup(domain),
		.cert = strndup(a + 1, (size_t)(b - a - 1)),
		.key = strdup(b + 1),
	};
	if (s.domain == NULL || s.cert == NULL || s.key == NULL) {
		free(s.domain);
		free(s.cert);
		free(s.key);
		return MXTLS_E_NOMEM;
	}
	c->certs[c->ncerts++] = s;
	return MXTLS_OK;
}

int mxtls_serve_config_set(struct mxtls_serve_config *c, const char *key, const char *value,
			   char *err, size_t errlen)
{
	if (c == NULL || key == NULL || value == NULL)
		return MXTLS_E_INVAL;
	unsigned long v;
	int rc;
	if (strcmp(key, "listen") == 0) {
		if (c->nlisten == OWNER_CONFIG_LISTEN_MAX) {
			snprintf(err, errlen, "listen: at most %d addresses",
				 OWNER_CONFIG_LISTEN_MAX);
			return MXTLS_E_CONFIG;
		}
		if (strrchr(value, ':') == NULL) {
			snprintf(err, errlen, "listen: expected HOST:PORT, got '%s'", value);
			return MXTLS_E_CONFIG;
		}
		if ((c->listen[c->nlisten] = strdup(value)) == NULL)
			return MXTLS_E_NOMEM;
		c->nlisten++;
		return MXTLS_OK;
	}
	if (strcmp(key, "policy-dir") == 0) {
		char *d = strdup(value);
		if (d == NULL)
			return MXTLS_E_NOMEM;
		free(c->policy_dir);
		c->policy_dir = d;
		return MXTLS_OK;
	}
	if (strcmp(key, "cert") == 0)
		return add_cert(c, value, err, errlen);
	if (strcmp(key, "reports-path") == 0) {
		if (!owner_route_reports_path_ok(value)) {
			snprintf(err, errlen,
				 "reports-path: expected an absolute URL path such as /tlsrpt "
				 "(letters, digits, \"-._~\" between slashes; not %s), got '%s'",
				 OWNER_ROUTE_PATH, value);
			return MXTLS_E_CONFIG;
		}
		return set_string(&c->reports_path, value);
	}
	if (strcmp(key, "reports-store") == 0) {
		if (value[0] == '\0') {
			snprintf(err, errlen, "reports-store: expected a file name");
			return MXTLS_E_CONFIG;
		}
		return set_string(&c->reports_store, value);
	}
	if (strcmp(key, "timeout") == 0) {
		if ((rc = number(key, value, 1, 3600, &v, err, errlen)) == MXTLS_OK)
			c->timeout = (unsigned)v;
		return rc;
	}
	if (strcmp(key, "max-connection-time") == 0) {
		if ((rc = number(key, value, 1, 86400, &v, err, errlen)) == MXTLS_OK)
			c->max_connection_time = (unsigned)v;
		return rc;
	}
	if (strcmp(key, "max-connections") == 0) {
		if ((rc = number(key, value, 1, 100000, &v, err, errlen)) == MXTLS_OK)
			c->max_connections = (unsigned)v;
		return rc;
	}
	if (strcmp(key, "max-connections-per-ip") == 0) {
		if ((rc = number(key, value, 1, 100000, &v, err, errlen)) == MXTLS_OK)
			c->max_per_ip = (unsigned)v;
		return rc;
	}
	if (strcmp(key, "max-header-bytes") == 0) {
		if ((rc = number(key, value, 2048, 1048576, &v, err, errlen)) == MXTLS_OK)
			c->max_header_bytes = v;
		return rc;
	}
	snprintf(err, errlen, "no such setting: %s", key);
	return MXTLS_E_NOTFOUND;
}

struct mxtls_serve_config *owner_config_dup(const struct mxtls_serve_config *c)
{
	struct mxtls_serve_config *d;
	if (mxtls_serve_config_new(&d) != MXTLS_OK)
		return NULL;
	*d = *c;
	d->nlisten = 0;
	d->ncerts = 0;
	d->certs = NULL;
	d->policy_dir = NULL;
	d->reports_path = NULL;
	d->reports_store = NULL;
	if (c->policy_dir != NULL && (d->policy_dir = strdup(c->policy_dir)) == NULL)
		goto fail;
	if (c->reports_path != NULL && (d->reports_path = strdup(c->reports_path)) == NULL)
		goto fail;
	if (c->reports_store != NULL && (d->reports_store = strdup(c->reports_store)) == NULL)
		goto fail;
	for (size_t i = 0; i < c->nlisten; i++) {
		if ((d->listen[i] = strdup(c->listen[i])) == NULL)
			goto fail;
		d->nlisten++;
	}
	if (c->ncerts > 0 && (d->certs = calloc(c->ncerts, sizeof *d->certs)) == NULL)
		goto fail;
	for (size_t i = 0; i < c->ncerts; i++) {
		struct owner_cert_spec *s = &d->certs[i];
		s->domain = strdup(c->certs[i].domain);
		s->cert = strdup(c->certs[i].cert);
		s->key = strdup(c->certs[i].key);
		d->ncerts++;
		if (s->domain == NULL || s->cert == NULL || s->key == NULL)
			goto fail;
	}
	return d;
fail:
	mxtls_serve_config_free(d);
	return NULL;
}
