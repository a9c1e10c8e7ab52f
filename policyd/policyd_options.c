/* SPDX-License-Identifier: MIT */
/* The policy server's settings: defaults, and parsing of option and configuration values. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "policyd/policyd.h"

const char *const policyd_option_keys[] = {
	"listen",    "socket",  "socket-mode", "tlsrpt",     "fail-open",  "idle-timeout",
	"max-request", "max-connections", "min-ttl", "max-ttl", "temp-ttl", "cache-size",
	"sts-refresh", "sts-refresh-age", NULL,
};

void policyd_options_init(struct policyd_options *o)
{
	memset(o, 0, sizeof *o);
	o->socket_mode = 0660;
	o->idle_timeout = 300;
	o->max_request = 1024;
	o->max_connections = 1000;
	o->min_ttl = 10;
	o->max_ttl = 3600;
	o->temp_ttl = 30;
	o->cache_size = 1000000;
	o->sts_refresh = 3600;
	o->sts_refresh_age = 43200;
}

void policyd_options_free(struct policyd_options *o)
{
	for (size_t i = 0; i < o->nlisten; i++)
		free(o->listen[i]);
	for (size_t i = 0; i < o->nfail_open; i++)
		free(o->fail_open[i]);
	free(o->socket);
	memset(o, 0, sizeof *o);
}

static int number(const char *key, const char *value, unsigned long min, unsigned long max,
		  unsigned long *out, char *err, size_t errlen)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(value, &end, 10);
	if (value[0] < '0' || value[0] > '9' || *end != '\0' || errno != 0 || v < min || v > max) {
		snprintf(err, errlen, "%s: expected a number from %lu to %lu, got '%s'", key, min,
			 max, value);
		return MXTLS_E_CONFIG;
	}
	*out = v;
	return MXTLS_OK;
}

/* Adds each comma- or blank-separated word of value to list (at most max). */
static int add_words(const char *key, const char *value, char **list, size_t *n, size_t max,
		     char *err, size_t errlen)
{
	const char *p = value;
	size_t before = *n;
	while (*p != '\0') {
		p += strspn(p, ", \t");
		size_t len = strcspn(p, ", \t");
		if (len == 0)
			break;
		if (*n == max) {
			snprintf(err, errlen, "%s: more than %zu values", key, max);
			return MXTLS_E_CONFIG;
		}
		list[*n] = strndup(p, len);
		if (list[*n] == NULL)
			return MXTLS_E_NOMEM;
		for (char *c = list[*n]; *c != '\0'; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		(*n)++;
		p += len;
	}
	if (*n == before) {
		snprintf(err, errlen, "%s: empty value", key);
		return MXTLS_E_CONFIG;
	}
	return MXTLS_OK;
}

int policyd_options_set(struct policyd_options *o, const char *key, const char *value, char *err,
			size_t errlen)
{
	unsigned long v;
	int rc;
	if (strcmp(key, "listen") == 0)
		return add_words(key, value, o->listen, &o->nlisten, POLICYD_LISTEN_MAX, err, errlen);
	if (strcmp(key, "fail-open") == 0)
		return add_words(key, value, o->fail_open, &o->nfail_open, POLICYD_FAIL_OPEN_MAX, err,
				 errlen);
	if (strcmp(key, "socket") == 0) {
		if (value[0] != '/') {
			snprintf(err, errlen, "socket: expected an absolute path, got '%s'", value);
			return MXTLS_E_CONFIG;
		}
		char *s = strdup(value);
		if (s == NULL)
			return MXTLS_E_NOMEM;
		free(o->socket);
		o->socket = s;
		return MXTLS_OK;
	}
	if (strcmp(key, "socket-mode") == 0) {
		char *end;
		errno = 0;
		unsigned long m = strtoul(value, &end, 8);
		if (value[0] < '0' || value[0] > '7' || *end != '\0' || errno != 0 || m > 0777) {
			snprintf(err, errlen, "socket-mode: expected an octal mode such as 0660, got '%s'",
				 value);
			return MXTLS_E_CONFIG;
		}
		o->socket_mode = (unsigned)m;
		return MXTLS_OK;
	}
	if (strcmp(key, "tlsrpt") == 0) {
		if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
			o->tlsrpt = true;
		else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 ||
			 strcmp(value, "0") == 0)
			o->tlsrpt = false;
		else {
			snprintf(err, errlen, "tlsrpt: expected yes or no, got '%s'", value);
			return MXTLS_E_CONFIG;
		}
		return MXTLS_OK;
	}
	static const struct {
		const char *key;
		unsigned long min, max;
		size_t offset;
		bool is_size;
	} numbers[] = {
		{"idle-timeout", 1, 86400, offsetof(struct policyd_options, idle_timeout), false},
		{"max-request", 64, 65536, offsetof(struct policyd_options, max_request), true},
		{"max-connections", 1, 100000, offsetof(struct policyd_options, max_connections),
		 false},
		{"min-ttl", 0, 86400, offsetof(struct policyd_options, min_ttl), false},
		{"max-ttl", 1, 86400, offsetof(struct policyd_options, max_ttl), false},
		{"temp-ttl", 0, 3600, offsetof(struct policyd_options, temp_ttl), false},
		{"cache-size", 1, 100000000, offsetof(struct policyd_options, cache_size), true},
		{"sts-refresh", 0, 604800, offsetof(struct policyd_options, sts_refresh), false},
		{"sts-refresh-age", 0, 31557600, offsetof(struct policyd_options, sts_refresh_age),
		 false},
	};
	for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
		if (strcmp(key, numbers[i].key) != 0)
			continue;
		rc = number(key, value, numbers[i].min, numbers[i].max, &v, err, errlen);
		if (rc != MXTLS_OK)
			return rc;
		char *field = (char *)o + numbers[i].offset;
		if (numbers[i].is_size)
			*(size_t *)(void *)field = (size_t)v;
		else
			*(unsigned *)(void *)field = (unsigned)v;
		return MXTLS_OK;
	}
	return MXTLS_E_NOTFOUND;
}
