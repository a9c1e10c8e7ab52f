/* SPDX-License-Identifier: MIT */
/* mxtls_config_*: string-keyed settings and the loader of mxtls.conf files. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mxtls/config.h>
#include <mxtls/error.h>

#include "util/util_buf.h"
#include "util/util_dnsname.h"
#include "util/util_errmsg.h"
#include "store/store_uri.h"
#include "util/util_kv.h"
#include "validator/mxtls_config_internal.h"

/* The largest configuration file read; a larger one is an error, not a partial read. */
#define CONFIG_FILE_MAX (1024 * 1024)

struct mxtls_config {
	char *values[CONFIG_KEY_COUNT]; /* owned; NULL when unset */
	char *origin[CONFIG_KEY_COUNT]; /* owned "FILE:LINE" of a value read from a file, or NULL */
};

static const char *const key_names[CONFIG_KEY_COUNT] = {
	[CONFIG_KEY_UNBOUND_CONF] = "unbound-conf",
	[CONFIG_KEY_CA_FILE] = "ca-file",
	[CONFIG_KEY_STATE_DIR] = "state-dir",
	[CONFIG_KEY_STS_TIMEOUT] = "sts-timeout",
	[CONFIG_KEY_CONNECT_TIMEOUT] = "connect-timeout",
	[CONFIG_KEY_SMTP_TIMEOUT] = "smtp-timeout",
	[CONFIG_KEY_TLSRPT_ORGANIZATION] = "tlsrpt-organization",
	[CONFIG_KEY_TLSRPT_CONTACT] = "tlsrpt-contact",
	[CONFIG_KEY_TLSRPT_SUBMITTER] = "tlsrpt-submitter",
	[CONFIG_KEY_TLSRPT_SEND] = "tlsrpt-send",
	[CONFIG_KEY_TLSRPT_KEEP_DAYS] = "tlsrpt-keep-days",
	[CONFIG_KEY_SHARED_STORE] = "shared-store",
	[CONFIG_KEY_SHARED_STORE_PASSWORD] = "shared-store-password",
	[CONFIG_KEY_SHARED_STORE_KEY] = "shared-store-key",
};

/* Number-of-seconds settings and their ranges. */
static const struct {
	enum config_key key;
	long min, max;
} seconds_keys[] = {
	{CONFIG_KEY_STS_TIMEOUT, 1, 300},
	{CONFIG_KEY_CONNECT_TIMEOUT, 1, 600},
	{CONFIG_KEY_SMTP_TIMEOUT, 1, 3600},
};

static int key_index(const char *key)
{
	for (int i = 0; i < CONFIG_KEY_COUNT; i++) {
		if (strcmp(key_names[i], key) == 0)
			return i;
	}
	return -1;
}

/* A host name in A-labels without the root dot (the reporting domain of RFC 8460 §5.1). */
static bool plain_host(const char *s, size_t n)
{
	return n > 0 && s[n - 1] != '.' && util_dnsname_valid(s, n, false);
}

/*
 * The TLS-RPT report settings (RFC 8460 §4.4, §5.1): organization-name is free text without
 * control characters; contact-info an addr-spec (checked as local@host, the local part
 * printable US-ASCII without spaces, quotes or a second @); the submitter a host name.
 */
static int check_tlsrpt(int idx, const char *value, char *err, size_t errlen)
{
	size_t n = strlen(value);
	const char *why = NULL;
	if (n > 255)
		why = "longer than 255 bytes";
	for (size_t i = 0; why == NULL && i < n; i++)
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
			why = "contains a control character";
	if (why == NULL && idx == CONFIG_KEY_TLSRPT_CONTACT) {
		const char *at = strrchr(value, '@');
		if (at == NULL || at == value || !plain_host(at + 1, strlen(at + 1)))
			why = "not an address local@domain";
		for (const char *c = value; why == NULL && c < at; c++)
			if (*c <= ' ' || *c > '~' || *c == '"' || *c == '@' || *c == '<' || *c == '>')
				why = "not an address local@domain (plain local part only)";
	}
	if (why == NULL && idx == CONFIG_KEY_TLSRPT_SUBMITTER && !plain_host(value, n))
		why = "not a host name (A-labels, no trailing dot)";
	if (why != NULL) {
		util_errmsg(err, errlen, "%s: '%s' %s", key_names[idx], value, why);
		return MXTLS_E_CONFIG;
	}
	return MXTLS_OK;
}

/* The *-timeout keys are numbers of seconds (seconds_keys), the tlsrpt-* keys text
 * (check_tlsrpt()); the others are file or directory names. */
static int check_value(int idx, const char *value, char *err, size_t errlen)
{
	if (value[0] == '\0') {
		util_errmsg(err, errlen, "%s: empty value", key_names[idx]);
		return MXTLS_E_CONFIG;
	}
	if (idx == CONFIG_KEY_TLSRPT_ORGANIZATION || idx == CONFIG_KEY_TLSRPT_CONTACT ||
	    idx == CONFIG_KEY_TLSRPT_SUBMITTER)
		return check_tlsrpt(idx, value, err, errlen);
	if (idx == CONFIG_KEY_SHARED_STORE) {
		/* Checked whole now (store/store_uri.c), so a typo fails at start, not at the first
		 * decision; the message never repeats the value (it may hold a password). */
		struct store_uri u;
		char why[256];
		int rc = store_uri_parse(value, &u, why, sizeof why);
		explicit_bzero(u.password, sizeof u.password);
		if (rc != MXTLS_OK)
			util_errmsg(err, errlen, "%s", why);
		return rc;
	}
	if (idx == CONFIG_KEY_SHARED_STORE_PASSWORD) {
		for (const char *c = value; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f) {
				util_errmsg(err, errlen, "%s: contains a control character",
					    key_names[idx]);
				return MXTLS_E_CONFIG;
			}
		if (strlen(value) >= STORE_PASSWORD_MAX) {
			util_errmsg(err, errlen, "%s: longer than %d bytes", key_names[idx],
				    STORE_PASSWORD_MAX - 1);
			return MXTLS_E_CONFIG;
		}
		return MXTLS_OK;
	}
	if (idx == CONFIG_KEY_TLSRPT_SEND) {
		if (strcmp(value, "always") == 0 || strcmp(value, "failures") == 0)
			return MXTLS_OK;
		util_errmsg(err, errlen, "%s: '%s' is not 'always' or 'failures'", key_names[idx],
			    value);
		return MXTLS_E_CONFIG;
	}
	if (idx == CONFIG_KEY_TLSRPT_KEEP_DAYS) {
		char *end;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (value[0] < '0' || value[0] > '9' || *end != '\0' || errno != 0 || v < 2 ||
		    v > 3660) {
			/* At least 2: yesterday's results must outlive today's send run. */
			util_errmsg(err, errlen, "%s: '%s' is not a number of days from 2 to 3660",
				    key_names[idx], value);
			return MXTLS_E_CONFIG;
		}
		return MXTLS_OK;
	}
	for (size_t i = 0; i < sizeof seconds_keys / sizeof seconds_keys[0]; i++) {
		if ((int)seconds_keys[i].key != idx)
			continue;
		char *end;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (value[0] < '0' || value[0] > '9' || *end != '\0' || errno != 0 ||
		    v < seconds_keys[i].min || v > seconds_keys[i].max) {
			util_errmsg(err, errlen, "%s: '%s' is not a number of seconds from %ld to %ld",
			    key_names[idx], value, seconds_keys[i].min, seconds_keys[i].max);
			return MXTLS_E_CONFIG;
		}
		return MXTLS_OK;
	}
	if (strlen(value) >= PATH_MAX) {
		util_errmsg(err, errlen, "%s: path longer than %d bytes", key_names[idx], PATH_MAX - 1);
		return MXTLS_E_CONFIG;
	}
	return MXTLS_OK;
}

const char *mxtls_config_value(const struct mxtls_config *cfg, enum config_key key)
{
	return cfg->values[key];
}

const char *mxtls_config_origin(const struct mxtls_config *cfg, enum config_key key)
{
	return cfg->values[key] != NULL ? cfg->origin[key] : NULL;
}

int mxtls_config_new(struct mxtls_config **out)
{
	if (out == NULL)
		return MXTLS_E_INVAL;
	struct mxtls_config *cfg = calloc(1, sizeof *cfg);
	if (cfg == NULL)
		return MXTLS_E_NOMEM;
	*out = cfg;
	return MXTLS_OK;
}

void mxtls_config_free(struct mxtls_config *cfg)
{
	if (cfg == NULL)
		return;
	for (int i = 0; i < CONFIG_KEY_COUNT; i++) {
		free(cfg->values[i]);
		free(cfg->origin[i]);
	}
	free(cfg);
}

int mxtls_config_set(struct mxtls_config *cfg, const char *key, const char *value, char *err,
		     size_t errlen)
{
	if (cfg == NULL || key == NULL || value == NULL)
		return MXTLS_E_INVAL;
	int idx = key_index(key);
	if (idx < 0) {
		util_errmsg(err, errlen, "unknown setting '%s'", key);
		return MXTLS_E_NOTFOUND;
	}
	int rc = check_value(idx, value, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	char *copy = strdup(value);
	if (copy == NULL)
		return MXTLS_E_NOMEM;
	free(cfg->values[idx]);
	cfg->values[idx] = copy;
	free(cfg->origin[idx]); /* set here, not read from a file */
	cfg->origin[idx] = NULL;
	return MXTLS_OK;
}

const char *mxtls_config_get(const struct mxtls_config *cfg, const char *key)
{
	if (cfg == NULL || key == NULL)
		return NULL;
	int idx = key_index(key);
	return idx < 0 ? NULL : cfg->values[idx];
}

/* A key already set by the file being loaded, for duplicate detection. */
struct seen_key {
	char *key;
	size_t line;
};

/* State of one load: the staged copy, the keys seen so far, and a dynamic error message. */
struct load {
	struct mxtls_config staged;
	const char *name; /* of the file, for the origin of its values */
	const struct mxtls_config_app *app;
	struct seen_key *seen; /* owned array of nseen entries */
	size_t nseen;
	char msg[256];
};

/* Records key (taking ownership) or fails if the file already set it. */
static int note_seen(struct load *ld, char *key, size_t line)
{
	/* A linear scan is fine: configuration files have a handful of keys. */
	for (size_t i = 0; i < ld->nseen; i++) {
		if (strcmp(ld->seen[i].key, key) == 0) {
			snprintf(ld->msg, sizeof ld->msg,
				 "duplicate setting '%s' (first set on line %zu)", key,
				 ld->seen[i].line);
			free(key);
			return MXTLS_E_CONFIG;
		}
	}
	struct seen_key *grown = realloc(ld->seen, (ld->nseen + 1) * sizeof *grown);
	if (grown == NULL) {
		free(key);
		return MXTLS_E_NOMEM;
	}
	ld->seen = grown;
	ld->seen[ld->nseen++] = (struct seen_key){.key = key, .line = line};
	return MXTLS_OK;
}

static int out_of_memory(struct load *ld)
{
	snprintf(ld->msg, sizeof ld->msg, "out of memory");
	return MXTLS_E_NOMEM;
}

static int on_pair(void *arg, size_t line, const char *k, size_t klen, const char *v, size_t vlen,
		   const char **reason)
{
	struct load *ld = arg;
	(void)reason; /* the message goes to ld->msg, which can name the key */
	char *key = strndup(k, klen);
	if (key == NULL)
		return out_of_memory(ld);
	bool repeatable = false; /* only application keys may repeat */
	for (size_t i = 0; key_index(key) < 0 && ld->app != NULL && ld->app->repeatable != NULL &&
			   ld->app->repeatable[i] != NULL; i++)
		repeatable |= strcmp(ld->app->repeatable[i], key) == 0;
	/* note_seen() takes ownership of key; a repeatable key is not recorded and is freed
	 * here (owned). */
	int rc = repeatable ? MXTLS_OK : note_seen(ld, key, line);
	char *owned = repeatable ? key : NULL;
	if (rc != MXTLS_OK)
		return rc == MXTLS_E_NOMEM ? out_of_memory(ld) : rc;
	char *value = strndup(v, vlen);
	if (value == NULL) {
		free(owned);
		return out_of_memory(ld);
	}

	rc = mxtls_config_set(&ld->staged, key, value, ld->msg, sizeof ld->msg);
	if (rc == MXTLS_OK) {
		/* Where the value came from, so a file it names that turns out unusable when the
		 * context is created is reported at this line (mxtls_config_origin()). */
		int idx = key_index(key);
		size_t n = strlen(ld->name) + 24;
		char *origin = malloc(n);
		if (origin == NULL) {
			free(value);
			free(owned);
			return out_of_memory(ld);
		}
		snprintf(origin, n, "%s:%zu", ld->name, line);
		ld->staged.origin[idx] = origin;
	}
	if (rc == MXTLS_E_NOTFOUND && ld->app != NULL && ld->app->key != NULL)
		rc = ld->app->key(ld->app->arg, key, value, ld->msg, sizeof ld->msg);
	if (rc == MXTLS_E_NOTFOUND) {
		snprintf(ld->msg, sizeof ld->msg, "unknown setting '%s'", key);
		rc = MXTLS_E_CONFIG;
	}
	free(value);
	free(owned);
	return rc;
}

int mxtls_config_load_buffer(struct mxtls_config *cfg, const char *name, const char *text,
			     size_t len, const struct mxtls_config_app *app, char *err,
			     size_t errlen)
{
	if (cfg == NULL || (text == NULL && len > 0))
		return MXTLS_E_INVAL;
	if (name == NULL)
		name = "config";
	struct load ld = {.name = name, .app = app};
	int rc = MXTLS_OK;
	for (int i = 0; i < CONFIG_KEY_COUNT && rc == MXTLS_OK; i++) {
		if (cfg->values[i] != NULL && (ld.staged.values[i] = strdup(cfg->values[i])) == NULL)
			rc = MXTLS_E_NOMEM;
		if (cfg->origin[i] != NULL && (ld.staged.origin[i] = strdup(cfg->origin[i])) == NULL)
			rc = MXTLS_E_NOMEM;
	}
	if (rc == MXTLS_OK) {
		struct util_kv_handler h = {.pair = on_pair, .arg = &ld};
		struct util_kv_error kerr = {0, NULL};
		rc = util_kv_parse(text, len, &h, &kerr);
		if (rc != MXTLS_OK) {
			util_errmsg(err, errlen, "%s:%zu: %s", name, kerr.line,
			    ld.msg[0] != '\0' ? ld.msg : kerr.reason);
			if (rc == MXTLS_E_SYNTAX)
				rc = MXTLS_E_CONFIG;
		}
	} else {
		util_errmsg(err, errlen, "%s: out of memory", name);
	}
	if (rc == MXTLS_OK) {
		/* Commit: the staged values replace cfg's. */
		for (int i = 0; i < CONFIG_KEY_COUNT; i++) {
			free(cfg->values[i]);
			free(cfg->origin[i]);
			cfg->values[i] = ld.staged.values[i];
			cfg->origin[i] = ld.staged.origin[i];
			ld.staged.values[i] = NULL;
			ld.staged.origin[i] = NULL;
		}
	}
	for (int i = 0; i < CONFIG_KEY_COUNT; i++) {
		free(ld.staged.values[i]);
		free(ld.staged.origin[i]);
	}
	for (size_t i = 0; i < ld.nseen; i++)
		free(ld.seen[i].key);
	free(ld.seen);
	return rc;
}

int mxtls_config_load_file(struct mxtls_config *cfg, const char *path,
			   const struct mxtls_config_app *app, char *err, size_t errlen)
{
	if (cfg == NULL || path == NULL)
		return MXTLS_E_INVAL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		util_errmsg(err, errlen, "%s: %s", path, strerror(errno));
		return MXTLS_E_IO;
	}
	struct util_buf text;
	util_buf_init(&text, CONFIG_FILE_MAX);
	int rc = MXTLS_OK;
	for (;;) {
		char chunk[8192];
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			util_errmsg(err, errlen, "%s: %s", path, strerror(errno));
			rc = MXTLS_E_IO;
			break;
		}
		if (n == 0)
			break;
		rc = util_buf_append(&text, chunk, (size_t)n);
		if (rc == MXTLS_E_LIMIT)
			util_errmsg(err, errlen, "%s: larger than %d bytes", path, CONFIG_FILE_MAX);
		if (rc != MXTLS_OK)
			break;
	}
	close(fd);
	if (rc == MXTLS_OK)
		rc = mxtls_config_load_buffer(cfg, path, text.data, text.len, app, err, errlen);
	util_buf_free(&text);
	return rc;
}
