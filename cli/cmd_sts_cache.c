/* SPDX-License-Identifier: MIT */
/* mxtls sts fetch | sts cache list|show|purge | sts refresh: MTA-STS policies and their cache. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_env.h"
#include "cli_exit.h"
#include "cli_json.h"
#include "cli_policy.h"

enum { O_REFRESH, O_OLDER_THAN, O_CONCURRENCY, O_JITTER };

static const struct cli_opt fetch_options[] = {
	{"refresh", 0, CLI_FLAG, O_REFRESH, NULL,
	 "fetch over HTTPS even when the cached policy is current"},
	{NULL, 0, 0, 0, NULL, NULL},
};

static const struct cli_opt refresh_options[] = {
	{"older-than", 0, CLI_VALUE, O_OLDER_THAN, "SECONDS",
	 "refresh policies fetched at least this long ago (default 86400)"},
	{"concurrency", 0, CLI_VALUE, O_CONCURRENCY, "N", "fetches at a time (default 8)"},
	{"jitter", 0, CLI_VALUE, O_JITTER, "SECONDS",
	 "start each fetch after a random delay of up to this long (default 0)"},
	{NULL, 0, 0, 0, NULL, NULL},
};

/* Exit code for a library error, with the message printed. */
static int fail(struct cli_env *env, int rc, const char *err)
{
	cli_errorf(env, "%s", err[0] ? err : mxtls_strerror(rc));
	switch (rc) {
	case MXTLS_E_INVAL:
		return EXIT_USAGE;
	case MXTLS_E_NOTFOUND:
		return EXIT_NEGATIVE;
	case MXTLS_E_CONFIG:
		return EXIT_CONFIG;
	case MXTLS_E_IO:
		return EXIT_CONFIG; /* the state directory or its cache file is unusable */
	default:
		return EXIT_SOFTWARE;
	}
}

static int run_fetch(struct cli_env *env)
{
	if (env->npos != 1) {
		cli_errorf(env, "sts fetch takes one DOMAIN");
		return EXIT_USAGE;
	}
	bool refresh = false;
	for (size_t i = 0; i < env->ngiven; i++)
		refresh |= env->given[i].id == O_REFRESH;
	struct mxtls_ctx *ctx = NULL;
	int status = cli_open_ctx(env, &ctx);
	if (status != EXIT_OK)
		return status;
	struct mxtls_sts_policy *p = NULL;
	char err[512] = "";
	int rc = mxtls_sts_fetch(ctx, env->pos[0], refresh, &p, err, sizeof err);
	if (rc != MXTLS_OK) {
		status = fail(env, rc, err);
		mxtls_ctx_free(ctx);
		return status;
	}
	const char *fe = mxtls_sts_policy_fetch_error(p);
	if (env->json) {
		struct cli_json j;
		cli_json_init(&j, env->out);
		cli_json_object_begin(&j, NULL);
		cli_json_string(&j, "domain", mxtls_sts_policy_domain(p));
		cli_json_object_begin(&j, "txt");
		cli_json_string(&j, "state", mxtls_sts_policy_txt_state(p));
		cli_json_string(&j, "record", mxtls_sts_policy_txt(p));
		cli_json_string(&j, "reason", mxtls_sts_policy_txt_reason(p));
		cli_json_object_end(&j);
		cli_json_string(&j, "source", mxtls_sts_policy_source(p));
		cli_json_bool(&j, "fetched", mxtls_sts_policy_fetched(p));
		cli_json_bool(&j, "backoff", mxtls_sts_policy_backoff(p));
		if (mxtls_sts_policy_fetched(p) &&
		    mxtls_sts_policy_fetch_result(p) != MXTLS_RESULT_OK)
			cli_json_string(&j, "result_type",
					mxtls_result_name(mxtls_sts_policy_fetch_result(p)));
		else
			cli_json_null(&j, "result_type");
		cli_json_string(&j, "error", fe);
		cli_json_bool(&j, "changed_same_id", mxtls_sts_policy_changed_same_id(p));
		cli_json_policy(&j, p);
		cli_json_object_end(&j);
	} else {
		FILE *out = env->out;
		fprintf(out, "domain: %s\n", mxtls_sts_policy_domain(p));
		fprintf(out, "txt: %s", mxtls_sts_policy_txt_state(p));
		if (mxtls_sts_policy_txt(p) != NULL)
			fprintf(out, " \"%s\"", mxtls_sts_policy_txt(p));
		if (mxtls_sts_policy_txt_reason(p) != NULL)
			fprintf(out, " (%s)", mxtls_sts_policy_txt_reason(p));
		fprintf(out, "\nsource: %s\n", mxtls_sts_policy_source(p));
		if (mxtls_sts_policy_fetched(p) && mxtls_sts_policy_fetch_result(p) != MXTLS_RESULT_OK)
			fprintf(out, "fetch: %s: %s\n",
				mxtls_result_name(mxtls_sts_policy_fetch_result(p)), fe);
		else if (fe != NULL)
			fprintf(out, "fetch: %s\n", fe);
		if (mxtls_sts_policy_changed_same_id(p))
			fprintf(out, "warning: the policy changed without a new id in the TXT record\n");
		cli_text_policy(out, p);
	}
	/* 0 when a policy is in force; 1 when none applies; 75 when only a temporary failure
	 * (TXT lookup error, fetch failure without a cached policy) stands in the way. */
	bool none = mxtls_sts_policy_mode(p) == NULL;
	bool temp = none && (mxtls_sts_policy_fetched(p) || mxtls_sts_policy_backoff(p) ||
			     strcmp(mxtls_sts_policy_txt_state(p), "error") == 0);
	status = !none ? EXIT_OK : temp ? EXIT_TEMPFAIL : EXIT_NEGATIVE;
	mxtls_sts_policy_free(p);
	mxtls_ctx_free(ctx);
	return status;
}

struct list_out {
	struct cli_env *env;
	struct cli_json *j; /* NULL for text */
};

static int print_entry(void *arg, const struct mxtls_sts_policy *p)
{
	struct list_out *lo = arg;
	struct cli_env *env = lo->env;
	if (lo->j != NULL) {
		struct cli_json *j = lo->j;
		cli_json_object_begin(j, NULL);
		cli_json_string(j, "domain", mxtls_sts_policy_domain(p));
		cli_json_policy(j, p);
		cli_json_object_end(j);
	} else {
		char b1[32], b2[32];
		fprintf(env->out, "%s %s %s fetched=%s expires=%s%s%s\n", mxtls_sts_policy_domain(p),
			mxtls_sts_policy_mode(p), mxtls_sts_policy_id(p),
			cli_when(mxtls_sts_policy_fetched_at(p), b1, sizeof b1),
			cli_when(mxtls_sts_policy_expires_at(p), b2, sizeof b2),
			mxtls_sts_policy_last_error(p) ? " last-error=" : "",
			mxtls_sts_policy_last_error(p) ? mxtls_sts_policy_last_error(p) : "");
	}
	return 0;
}

static int run_cache(struct cli_env *env)
{
	const char *verb = env->npos > 0 ? env->pos[0] : "";
	bool list = strcmp(verb, "list") == 0;
	bool show = strcmp(verb, "show") == 0, purge = strcmp(verb, "purge") == 0;
	if (!(list && env->npos == 1) && !((show || purge) && env->npos == 2)) {
		cli_errorf(env, "usage: mxtls sts cache list | show DOMAIN | purge DOMAIN");
		return EXIT_USAGE;
	}
	struct mxtls_ctx *ctx = NULL;
	/* Without a state directory there is no cache: nothing to list, show, purge or renew,
	 * and nothing is created. */
	int status = cli_open_ctx_readonly(env, &ctx);
	if (status != EXIT_OK)
		return status;
	char err[512] = "";
	int rc = MXTLS_OK;
	if (list) {
		struct cli_json j;
		struct list_out lo = {env, env->json ? &j : NULL};
		if (env->json) {
			cli_json_init(&j, env->out);
			cli_json_array_begin(&j, NULL);
		}
		rc = mxtls_sts_cache_list(ctx, print_entry, &lo, err, sizeof err);
		if (env->json)
			cli_json_array_end(&j);
	} else if (show) {
		struct mxtls_sts_policy *p = NULL;
		rc = mxtls_sts_cache_show(ctx, env->pos[1], &p, err, sizeof err);
		if (rc == MXTLS_OK && env->json) {
			struct cli_json j;
			cli_json_init(&j, env->out);
			cli_json_object_begin(&j, NULL);
			cli_json_string(&j, "domain", mxtls_sts_policy_domain(p));
			cli_json_policy(&j, p);
			cli_json_object_end(&j);
		} else if (rc == MXTLS_OK) {
			fprintf(env->out, "domain: %s\n", mxtls_sts_policy_domain(p));
			cli_text_policy(env->out, p);
			size_t len;
			const char *text = mxtls_sts_policy_text(p, &len);
			fprintf(env->out, "--- policy as fetched ---\n");
			fwrite(text, 1, len, env->out);
			if (len > 0 && text[len - 1] != '\n')
				fputc('\n', env->out);
		}
		mxtls_sts_policy_free(p);
	} else {
		rc = mxtls_sts_cache_purge(ctx, env->pos[1], err, sizeof err);
		if (rc == MXTLS_OK && !env->json)
			fprintf(env->out, "purged %s\n", env->pos[1]);
		else if (rc == MXTLS_OK) {
			struct cli_json j;
			cli_json_init(&j, env->out);
			cli_json_object_begin(&j, NULL);
			cli_json_string(&j, "purged", env->pos[1]);
			cli_json_object_end(&j);
		}
	}
	status = rc == MXTLS_OK ? EXIT_OK : fail(env, rc, err);
	mxtls_ctx_free(ctx);
	return status;
}

/* A non-negative integer option value, or -1. */
static long long number(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	return (*s >= '0' && *s <= '9' && *end == '\0' && v >= 0 && v <= 100000000) ? v : -1;
}

static int run_refresh(struct cli_env *env)
{
	if (env->npos != 0) {
		cli_errorf(env, "sts refresh takes no arguments");
		return EXIT_USAGE;
	}
	long long older = 86400, conc = 8, jitter = 0;
	for (size_t i = 0; i < env->ngiven; i++) {
		long long v = number(env->given[i].value);
		int id = env->given[i].id;
		/* The library takes the jitter in milliseconds, as an unsigned int. */
		if (v < 0 || (id == O_CONCURRENCY && (v < 1 || v > 256)) ||
		    (id == O_JITTER && v > UINT_MAX / 1000)) {
			cli_errorf(env, "--%s: '%s' is not a valid value",
				   id == O_OLDER_THAN ? "older-than"
				   : id == O_CONCURRENCY ? "concurrency"
							 : "jitter",
				   env->given[i].value);
			return EXIT_USAGE;
		}
		if (id == O_OLDER_THAN)
			older = v;
		else if (id == O_CONCURRENCY)
			conc = v;
		else
			jitter = v;
	}
	struct mxtls_ctx *ctx = NULL;
	int status = cli_open_ctx_readonly(env, &ctx); /* nothing cached: nothing to do */
	if (status != EXIT_OK)
		return status;
	char err[512] = "";
	size_t ok = 0, bad = 0;
	int rc = mxtls_sts_refresh(ctx, older, (unsigned)conc,
				   (unsigned)(jitter * 1000), &ok, &bad, err, sizeof err);
	if (rc != MXTLS_OK) {
		status = fail(env, rc, err);
	} else if (env->json) {
		struct cli_json j;
		cli_json_init(&j, env->out);
		cli_json_object_begin(&j, NULL);
		cli_json_int(&j, "refreshed", (int64_t)ok);
		cli_json_int(&j, "failed", (int64_t)bad);
		cli_json_object_end(&j);
	} else {
		fprintf(env->out, "refreshed: %zu\nfailed: %zu\n", ok, bad);
	}
	/* A failed refresh leaves the cached policy in force: worth a non-zero status for a
	 * timer unit to show, but not an error of the command. */
	if (rc == MXTLS_OK)
		status = bad > 0 ? EXIT_TEMPFAIL : EXIT_OK;
	mxtls_ctx_free(ctx);
	return status;
}

const struct cli_command cli_cmd_sts_fetch = {
	.name = "sts fetch",
	.usage = "DOMAIN [--refresh]",
	.summary = "discover and fetch DOMAIN's MTA-STS policy (using and updating the cache)",
	.options = fetch_options,
	.run = run_fetch,
};

const struct cli_command cli_cmd_sts_cache = {
	.name = "sts cache",
	.usage = "list | show DOMAIN | purge DOMAIN",
	.summary = "inspect or purge the MTA-STS policy cache",
	.options = NULL,
	.run = run_cache,
};

const struct cli_command cli_cmd_sts_refresh = {
	.name = "sts refresh",
	.usage = "[--older-than SECONDS] [--concurrency N] [--jitter SECONDS]",
	.summary = "re-fetch cached MTA-STS policies (for a daily timer)",
	.options = refresh_options,
	.run = run_refresh,
};
