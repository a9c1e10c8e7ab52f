/* SPDX-License-Identifier: MIT */
/* mxtls_ctx_*: the library context built from a configuration. */
#include "validator/mxtls_ctx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mxtls/error.h>

#include "dns/dns_anchor.h"
#include "store/store_seal.h"
#include "validator/mxtls_config_internal.h"

/* Copies the value of key (may be unset) into *out; checks what it names exists as wanted.
 * A problem names the configuration file and line the value came from, if it did. */
static int take_path(const struct mxtls_config *cfg, enum config_key key, const char *name,
		     bool want_dir, char **out, char *err, size_t errlen)
{
	const char *path = mxtls_config_value(cfg, key);
	const char *origin = mxtls_config_origin(cfg, key);
	const char *sep = origin != NULL ? ": " : "";
	*out = NULL;
	if (path == NULL)
		return MXTLS_OK;
	if (origin == NULL)
		origin = "";
	struct stat st;
	if (stat(path, &st) != 0) {
		/* The state directory may be created later, when something is first stored. */
		if (want_dir && errno == ENOENT)
			goto copy;
		snprintf(err, errlen, "%s%s%s %s: %s%s", origin, sep, name, path,
			 want_dir ? "" : "cannot read: ", strerror(errno));
		return MXTLS_E_CONFIG;
	}
	if (want_dir ? !S_ISDIR(st.st_mode) : S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s%s%s %s: %s", origin, sep, name, path,
			 want_dir ? "not a directory" : "is a directory");
		return MXTLS_E_CONFIG;
	}
	if (!want_dir && access(path, R_OK) != 0) {
		snprintf(err, errlen, "%s%s%s %s: cannot read: %s", origin, sep, name, path,
			 strerror(errno));
		return MXTLS_E_CONFIG;
	}
copy:
	*out = strdup(path);
	return *out == NULL ? MXTLS_E_NOMEM : MXTLS_OK;
}

/* Puts "FILE:LINE: " before the message in err when key's value came from a file. */
static void prefix_origin(const struct mxtls_config *cfg, enum config_key key, char *err,
			  size_t errlen)
{
	const char *origin = mxtls_config_origin(cfg, key);
	if (origin == NULL || err[0] == '\0')
		return;
	char msg[1024];
	snprintf(msg, sizeof msg, "%s", err);
	snprintf(err, errlen, "%s: %s", origin, msg);
}

/*
 * shared-store-key (doc/fleet.md): a file of STORE_SEAL_KEY_MIN..MAX bytes, the same on every
 * member, that seals the answers the members share (store/store_seal.h).  Refused unless only
 * its owner may read it: whoever reads it can make answers every member believes.
 */
static int read_shared_key(const struct mxtls_config *cfg, struct mxtls_ctx *ctx, char *err,
			   size_t errlen)
{
	const char *path = mxtls_config_value(cfg, CONFIG_KEY_SHARED_STORE_KEY);
	if (path == NULL)
		return MXTLS_OK;
	int rc = MXTLS_E_CONFIG;
	if (ctx->shared == NULL) {
		snprintf(err, errlen, "shared-store-key %s: needs shared-store", path);
		goto out;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "shared-store-key %s: cannot read: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		snprintf(err, errlen,
			 "shared-store-key %s: %s", path,
			 S_ISREG(st.st_mode) ? "readable by group or others (chmod 600 it)"
					     : "not a regular file");
	} else if (st.st_size < STORE_SEAL_KEY_MIN || st.st_size > STORE_SEAL_KEY_MAX) {
		snprintf(err, errlen, "shared-store-key %s: %lld bytes; a key has %d to %d "
			 "(e.g. head -c 32 /dev/urandom | base64 >FILE)",
			 path, (long long)st.st_size, STORE_SEAL_KEY_MIN, STORE_SEAL_KEY_MAX);
	} else if ((ctx->shared_key = malloc((size_t)st.st_size)) == NULL) {
		rc = MXTLS_E_NOMEM;
	} else if (read(fd, ctx->shared_key, (size_t)st.st_size) != st.st_size) {
		snprintf(err, errlen, "shared-store-key %s: short read", path);
	} else {
		ctx->shared_key_len = (size_t)st.st_size;
		rc = MXTLS_OK;
	}
	close(fd);
out:
	if (rc != MXTLS_OK)
		prefix_origin(cfg, CONFIG_KEY_SHARED_STORE_KEY, err, errlen);
	return rc;
}

int mxtls_ctx_new(const struct mxtls_config *cfg, struct mxtls_ctx **out, char *err, size_t errlen)
{
	char scratch[1];
	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof scratch;
	}
	err[0] = '\0';
	if (cfg == NULL || out == NULL)
		return MXTLS_E_INVAL;
	struct mxtls_ctx *ctx = calloc(1, sizeof *ctx);
	if (ctx == NULL)
		return MXTLS_E_NOMEM;
	int rc = take_path(cfg, CONFIG_KEY_UNBOUND_CONF, "unbound-conf", false, &ctx->unbound_conf,
			   err, errlen);
	/* A resolver set-up that cannot validate DNSSEC is refused at once (dns/dns_anchor.h),
	 * not discovered by the first decision. */
	if (rc == MXTLS_OK && ctx->unbound_conf != NULL &&
	    (rc = dns_anchor_check_file(ctx->unbound_conf, err, errlen)) != MXTLS_OK)
		prefix_origin(cfg, CONFIG_KEY_UNBOUND_CONF, err, errlen);
	if (rc == MXTLS_OK)
		rc = take_path(cfg, CONFIG_KEY_CA_FILE, "ca-file", false, &ctx->ca_file, err, errlen);
	if (rc == MXTLS_OK)
		rc = take_path(cfg, CONFIG_KEY_STATE_DIR, "state-dir", true, &ctx->state_dir, err,
			       errlen);
	const char *shared = mxtls_config_value(cfg, CONFIG_KEY_SHARED_STORE);
	if (rc == MXTLS_OK && shared != NULL) {
		if ((ctx->shared = calloc(1, sizeof *ctx->shared)) == NULL)
			rc = MXTLS_E_NOMEM;
		else if ((rc = store_uri_parse(shared, ctx->shared, err, errlen)) != MXTLS_OK)
			prefix_origin(cfg, CONFIG_KEY_SHARED_STORE, err, errlen);
		const char *pw = mxtls_config_value(cfg, CONFIG_KEY_SHARED_STORE_PASSWORD);
		if (rc == MXTLS_OK && pw != NULL)
			snprintf(ctx->shared->password, sizeof ctx->shared->password, "%s", pw);
	}
	if (rc == MXTLS_OK)
		rc = read_shared_key(cfg, ctx, err, errlen);
	if (rc != MXTLS_OK) {
		mxtls_ctx_free(ctx);
		return rc;
	}
	const enum config_key text_keys[] = {CONFIG_KEY_TLSRPT_ORGANIZATION,
					     CONFIG_KEY_TLSRPT_CONTACT, CONFIG_KEY_TLSRPT_SUBMITTER};
	char **text_dst[] = {&ctx->tlsrpt_organization, &ctx->tlsrpt_contact,
			     &ctx->tlsrpt_submitter};
	for (size_t i = 0; i < sizeof text_keys / sizeof text_keys[0]; i++) {
		const char *v = mxtls_config_value(cfg, text_keys[i]);
		if (v != NULL && (*text_dst[i] = strdup(v)) == NULL) {
			mxtls_ctx_free(ctx);
			return MXTLS_E_NOMEM;
		}
	}
	/* RFC 8460 §4: a report every day with sessions (as Google sends them), unless
	 * tlsrpt-send = failures; results kept 30 days unless tlsrpt-keep-days. */
	const char *s = mxtls_config_value(cfg, CONFIG_KEY_TLSRPT_SEND);
	ctx->tlsrpt_failures_only = s != NULL && strcmp(s, "failures") == 0;
	s = mxtls_config_value(cfg, CONFIG_KEY_TLSRPT_KEEP_DAYS);
	ctx->tlsrpt_keep_days = s != NULL ? (unsigned)strtoul(s, NULL, 10) : 30;
	/* RFC 8461 §3.3 lets senders bound the fetch; 10 s unless configured. */
	const char *t = mxtls_config_value(cfg, CONFIG_KEY_STS_TIMEOUT);
	ctx->sts_timeout_ms = t != NULL ? (unsigned)strtoul(t, NULL, 10) * 1000 : 10000;
	/* RFC 5321 §4.5.3.2 timeouts; smtp-timeout, when set, caps every wait for a reply. */
	smtp_timeouts_default(&ctx->timeouts);
	t = mxtls_config_value(cfg, CONFIG_KEY_CONNECT_TIMEOUT);
	if (t != NULL)
		ctx->timeouts.connect = (unsigned)strtoul(t, NULL, 10) * 1000;
	t = mxtls_config_value(cfg, CONFIG_KEY_SMTP_TIMEOUT);
	if (t != NULL) {
		unsigned cap = (unsigned)strtoul(t, NULL, 10) * 1000;
		unsigned *all[] = {&ctx->timeouts.greeting, &ctx->timeouts.ehlo,
				   &ctx->timeouts.starttls, &ctx->timeouts.mail, &ctx->timeouts.rcpt,
				   &ctx->timeouts.data_init, &ctx->timeouts.data_block,
				   &ctx->timeouts.data_done, &ctx->timeouts.quit};
		for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
			if (*all[i] > cap)
				*all[i] = cap;
	}
	/* EHLO name: this host's name, as the kernel knows it (RFC 5321 §4.1.1.1 wants the
	 * FQDN; a message's --helo overrides it). */
	if (gethostname(ctx->helo, sizeof ctx->helo - 1) != 0 || ctx->helo[0] == '\0')
		snprintf(ctx->helo, sizeof ctx->helo, "localhost");
	ctx->log.max = MXTLS_LOG_WARNING;
	*out = ctx;
	return MXTLS_OK;
}

void mxtls_ctx_free(struct mxtls_ctx *ctx)
{
	if (ctx == NULL)
		return;
	mxtls_ctx_runtime_free(ctx);
	if (ctx->tlsrpt != NULL && ctx->tlsrpt_close != NULL)
		ctx->tlsrpt_close(ctx->tlsrpt);
	free(ctx->tlsrpt_organization);
	free(ctx->tlsrpt_contact);
	free(ctx->tlsrpt_submitter);
	free(ctx->unbound_conf);
	free(ctx->ca_file);
	free(ctx->state_dir);
	if (ctx->shared != NULL)
		explicit_bzero(ctx->shared->password, sizeof ctx->shared->password);
	free(ctx->shared);
	if (ctx->shared_key != NULL)
		explicit_bzero(ctx->shared_key, ctx->shared_key_len);
	free(ctx->shared_key);
	free(ctx);
}

void mxtls_ctx_set_log(struct mxtls_ctx *ctx, enum mxtls_log_level max_level,
		       void (*fn)(void *arg, enum mxtls_log_level level, const char *line), void *arg)
{
	ctx->log.fn = fn;
	ctx->log.arg = arg;
	ctx->log.max = max_level;
}

void mxtls_ctx_set_clock(struct mxtls_ctx *ctx, int64_t (*now)(void *arg), void *arg)
{
	ctx->clock.now = now;
	ctx->clock.arg = arg;
}

int64_t mxtls_ctx_now(const struct mxtls_ctx *ctx)
{
	return util_clock_now(&ctx->clock);
}

uint64_t mxtls_ctx_decision_id(struct mxtls_ctx *ctx)
{
	return ++ctx->next_id;
}
