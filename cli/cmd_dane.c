/* SPDX-License-Identifier: MIT */
/* mxtls dane verify / mxtls dane tlsa: offline DANE authentication and TLSA record data. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_env.h"
#include "cli_exit.h"
#include "cli_io.h"
#include "cli_json.h"

/* The largest certificate file read. */
#define CHAIN_FILE_MAX (1024 * 1024)
/* The most --tlsa options (a TLSA RRset larger than this does not fit a DNS message). */
#define TLSA_ARGS_MAX 256

enum { O_CHAIN, O_HOST, O_NEXTHOP, O_TLSA, O_AT, O_CERT, O_USAGE, O_SELECTOR, O_MTYPE };

static const struct cli_opt verify_options[] = {
	{"chain", 0, CLI_VALUE, O_CHAIN, "FILE", "PEM certificate chain, leaf first ('-': stdin)"},
	{"host", 0, CLI_VALUE, O_HOST, "NAME", "TLSA base domain (the MX host name)"},
	{"nexthop", 0, CLI_VALUE, O_NEXTHOP, "DOMAIN",
	 "next-hop domain (when the MX lookup was secure)"},
	{"tlsa", 0, CLI_VALUE, O_TLSA, "'U S M HEX'", "a TLSA record (repeatable)"},
	{"at", 0, CLI_VALUE, O_AT, "TIME", "validation time, RFC 3339 (default: now)"},
	{NULL, 0, 0, 0, NULL, NULL},
};

static const struct cli_opt tlsa_options[] = {
	{"cert", 0, CLI_VALUE, O_CERT, "FILE", "PEM certificate (the first one is used)"},
	{"usage", 0, CLI_VALUE, O_USAGE, "U", "certificate usage 0-3 (default 3)"},
	{"selector", 0, CLI_VALUE, O_SELECTOR, "S", "selector 0-1 (default 1)"},
	{"mtype", 0, CLI_VALUE, O_MTYPE, "M", "matching type 0-2 (default 1)"},
	{NULL, 0, 0, 0, NULL, NULL},
};

static void print_verdict_text(FILE *out, const struct mxtls_dane_check *c)
{
	enum mxtls_result r = mxtls_dane_check_result(c);
	int m = mxtls_dane_check_matched(c);
	size_t n = mxtls_dane_check_records(c);
	fprintf(out, "authenticated: %s\n", r == MXTLS_RESULT_OK ? "yes" : "no");
	if (r != MXTLS_RESULT_OK)
		fprintf(out, "result-type: %s\n", mxtls_result_name(r));
	fprintf(out, "reason: %s\n", mxtls_dane_check_reason(c));
	if (m >= 0)
		fprintf(out, "matched: %s\n", mxtls_dane_check_record_text(c, (size_t)m));
	fprintf(out, "usable: %zu of %zu\n", mxtls_dane_check_usable(c), n);
	for (size_t i = 0; i < n; i++) {
		const char *problem = mxtls_dane_check_record_problem(c, i);
		fprintf(out, "tlsa[%zu]: %s: %s\n", i + 1, problem ? "unusable" : "usable",
			mxtls_dane_check_record_text(c, i));
		if (problem != NULL)
			fprintf(out, "  (%s)\n", problem);
	}
}

static void print_verdict_json(FILE *out, const struct mxtls_dane_check *c)
{
	enum mxtls_result r = mxtls_dane_check_result(c);
	int m = mxtls_dane_check_matched(c);
	struct cli_json j;
	cli_json_init(&j, out);
	cli_json_object_begin(&j, NULL);
	cli_json_bool(&j, "authenticated", r == MXTLS_RESULT_OK);
	cli_json_string(&j, "result_type", r == MXTLS_RESULT_OK ? NULL : mxtls_result_name(r));
	cli_json_string(&j, "reason", mxtls_dane_check_reason(c));
	cli_json_string(&j, "matched", m >= 0 ? mxtls_dane_check_record_text(c, (size_t)m) : NULL);
	cli_json_int(&j, "usable", (int64_t)mxtls_dane_check_usable(c));
	cli_json_array_begin(&j, "records");
	for (size_t i = 0; i < mxtls_dane_check_records(c); i++) {
		const char *problem = mxtls_dane_check_record_problem(c, i);
		cli_json_object_begin(&j, NULL);
		cli_json_string(&j, "tlsa", mxtls_dane_check_record_text(c, i));
		cli_json_bool(&j, "usable", problem == NULL);
		cli_json_string(&j, "problem", problem);
		cli_json_object_end(&j);
	}
	cli_json_array_end(&j);
	cli_json_object_end(&j);
}

static int run_verify(struct cli_env *env)
{
	const char *chain = NULL, *host = NULL, *nexthop = NULL, *at = NULL;
	const char *tlsa[TLSA_ARGS_MAX];
	size_t ntlsa = 0;
	for (size_t i = 0; i < env->ngiven; i++) {
		const char *v = env->given[i].value;
		switch (env->given[i].id) {
		case O_CHAIN:
			chain = v;
			break;
		case O_HOST:
			host = v;
			break;
		case O_NEXTHOP:
			nexthop = v;
			break;
		case O_AT:
			at = v;
			break;
		case O_TLSA:
			if (ntlsa == TLSA_ARGS_MAX) {
				cli_errorf(env, "more than %d --tlsa records", TLSA_ARGS_MAX);
				return EXIT_USAGE;
			}
			tlsa[ntlsa++] = v;
			break;
		}
	}
	if (env->npos != 0) {
		cli_errorf(env, "unexpected argument '%s'", env->pos[0]);
		return EXIT_USAGE;
	}
	if (chain == NULL || host == NULL || ntlsa == 0) {
		cli_errorf(env, "dane verify needs --chain, --host and at least one --tlsa");
		return EXIT_USAGE;
	}
	struct mxtls_ctx *ctx = NULL;
	int status = cli_open_ctx(env, &ctx);
	if (status != EXIT_OK)
		return status;
	int64_t when = mxtls_ctx_now(ctx);
	if (at != NULL && cli_parse_time(at, &when) != 0) {
		cli_errorf(env, "--at: '%s' is not an RFC 3339 time such as 2026-01-01T00:00:00Z", at);
		mxtls_ctx_free(ctx);
		return EXIT_USAGE;
	}
	char err[512], *pem = NULL;
	size_t len = 0;
	if (cli_read_file(chain, CHAIN_FILE_MAX, &pem, &len, err, sizeof err) != 0) {
		cli_errorf(env, "%s", err);
		mxtls_ctx_free(ctx);
		return EXIT_DATAERR;
	}
	struct mxtls_dane_check *c = NULL;
	int rc = mxtls_dane_verify_pem(ctx, pem, len, host, nexthop, tlsa, ntlsa, when, &c);
	free(pem);
	mxtls_ctx_free(ctx);
	if (rc == MXTLS_E_SYNTAX || rc == MXTLS_E_LIMIT) {
		cli_errorf(env, "%s: %s", chain,
			   rc == MXTLS_E_LIMIT ? "more than 16 certificates"
					       : "no readable PEM certificate chain");
		return EXIT_DATAERR;
	}
	if (rc != MXTLS_OK) {
		cli_errorf(env, "%s", mxtls_strerror(rc));
		return EXIT_SOFTWARE;
	}
	if (env->json)
		print_verdict_json(env->out, c);
	else
		print_verdict_text(env->out, c);
	status = mxtls_dane_check_result(c) == MXTLS_RESULT_OK ? EXIT_OK : EXIT_NEGATIVE;
	mxtls_dane_check_free(c);
	return status;
}

/* Parses a small decimal option value in [0, max]. */
static int small_number(struct cli_env *env, const char *name, const char *v, int max, int *out)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < 0 || n > max) {
		cli_errorf(env, "--%s: expected a number from 0 to %d, got '%s'", name, max, v);
		return -1;
	}
	*out = (int)n;
	return 0;
}

static int run_tlsa(struct cli_env *env)
{
	const char *cert = NULL;
	int usage = 3, selector = 1, mtype = 1;
	for (size_t i = 0; i < env->ngiven; i++) {
		const char *v = env->given[i].value;
		int bad = 0;
		switch (env->given[i].id) {
		case O_CERT:
			cert = v;
			break;
		case O_USAGE:
			bad = small_number(env, "usage", v, 3, &usage);
			break;
		case O_SELECTOR:
			bad = small_number(env, "selector", v, 1, &selector);
			break;
		case O_MTYPE:
			bad = small_number(env, "mtype", v, 2, &mtype);
			break;
		}
		if (bad != 0)
			return EXIT_USAGE;
	}
	if (env->npos != 0) {
		cli_errorf(env, "unexpected argument '%s'", env->pos[0]);
		return EXIT_USAGE;
	}
	if (cert == NULL) {
		cli_errorf(env, "dane tlsa needs --cert FILE");
		return EXIT_USAGE;
	}
	char err[512], *pem = NULL, *record = NULL;
	size_t len = 0;
	if (cli_read_file(cert, CHAIN_FILE_MAX, &pem, &len, err, sizeof err) != 0) {
		cli_errorf(env, "%s", err);
		return EXIT_DATAERR;
	}
	int rc = mxtls_dane_tlsa_from_pem(pem, len, usage, selector, mtype, &record);
	free(pem);
	if (rc == MXTLS_E_SYNTAX) {
		cli_errorf(env, "%s: no readable PEM certificate", cert);
		return EXIT_DATAERR;
	}
	if (rc != MXTLS_OK) {
		cli_errorf(env, "%s", mxtls_strerror(rc));
		return EXIT_SOFTWARE;
	}
	if (env->json) {
		struct cli_json j;
		cli_json_init(&j, env->out);
		cli_json_object_begin(&j, NULL);
		cli_json_string(&j, "tlsa", record);
		cli_json_object_end(&j);
	} else {
		fprintf(env->out, "%s\n", record);
	}
	mxtls_free(record);
	return EXIT_OK;
}

const struct cli_command cli_cmd_dane_verify = {
	.name = "dane verify",
	.usage = "--chain FILE --host NAME [--nexthop DOMAIN] --tlsa 'U S M HEX' [--tlsa ...] "
		 "[--at TIME]",
	.summary = "authenticate a certificate chain with TLSA records (RFC 7672), offline",
	.options = verify_options,
	.run = run_verify,
};

const struct cli_command cli_cmd_dane_tlsa = {
	.name = "dane tlsa",
	.usage = "--cert FILE [--usage U] [--selector S] [--mtype M]",
	.summary = "print the TLSA record data that publishes a certificate",
	.options = tlsa_options,
	.run = run_tlsa,
};
