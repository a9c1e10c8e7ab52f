/* SPDX-License-Identifier: MIT */
/* mxtls audit DOMAIN [--time-limit SECONDS]: checks DOMAIN's MTA-STS, DANE and TLS-RPT
 * deployment the way every strict sender will, and says what would break and how to fix it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_env.h"
#include "cli_exit.h"
#include "cli_json.h"

enum { O_TIME_LIMIT };

/* The longest --time-limit: an hour is far beyond any sender's own timeouts. */
#define AUDIT_TIME_LIMIT_MAX 3600

static const struct cli_opt audit_options[] = {
	{"time-limit", 0, CLI_VALUE, O_TIME_LIMIT, "SECONDS",
	 "the most the whole audit may take, 1-3600 (default 60); checks still running then are "
	 "reported as not done (exit 75)"},
	{NULL, 0, 0, 0, NULL, NULL},
};

static void print_json(FILE *out, const struct mxtls_audit *a)
{
	struct cli_json j;
	cli_json_init(&j, out);
	cli_json_object_begin(&j, NULL);
	cli_json_string(&j, "domain", mxtls_audit_domain(a));
	cli_json_string(&j, "mode", mxtls_audit_mode(a));
	cli_json_bool(&j, "complete", mxtls_audit_complete(a));
	cli_json_int(&j, "elapsed_ms", mxtls_audit_elapsed_ms(a));
	cli_json_array_begin(&j, "findings");
	for (size_t i = 0; i < mxtls_audit_count(a); i++) {
		cli_json_object_begin(&j, NULL);
		cli_json_string(&j, "severity", mxtls_audit_severity(a, i));
		cli_json_string(&j, "code", mxtls_audit_code(a, i));
		cli_json_string(&j, "host", mxtls_audit_host(a, i));
		cli_json_string(&j, "message", mxtls_audit_message(a, i));
		cli_json_string(&j, "fix", mxtls_audit_fix(a, i));
		cli_json_object_end(&j);
	}
	cli_json_array_end(&j);
	cli_json_object_end(&j);
	fputc('\n', out);
}

static void print_text(FILE *out, const struct mxtls_audit *a)
{
	size_t count[3] = {0};
	fprintf(out, "audit of %s (senders decide: %s)\n", mxtls_audit_domain(a),
		mxtls_audit_mode(a));
	for (size_t i = 0; i < mxtls_audit_count(a); i++) {
		const char *sev = mxtls_audit_severity(a, i);
		const char *host = mxtls_audit_host(a, i);
		count[sev[0] == 'e' ? 0 : sev[0] == 'w' ? 1 : 2]++;
		fprintf(out, "%-7s %s%s%s\n", sev, mxtls_audit_code(a, i), host ? "  " : "",
			host ? host : "");
		fprintf(out, "        %s\n", mxtls_audit_message(a, i));
		if (mxtls_audit_fix(a, i)[0] != '\0')
			fprintf(out, "        fix: %s\n", mxtls_audit_fix(a, i));
	}
	fprintf(out, "%zu error%s, %zu warning%s, %zu info (%lld ms)%s\n", count[0],
		count[0] == 1 ? "" : "s", count[1], count[1] == 1 ? "" : "s", count[2],
		(long long)mxtls_audit_elapsed_ms(a),
		mxtls_audit_complete(a) ? "" : "; the time limit cut the audit short");
}

static int run_audit(struct cli_env *env)
{
	if (env->npos != 1) {
		cli_errorf(env, "audit takes one DOMAIN");
		return EXIT_USAGE;
	}
	struct mxtls_audit_req req = {.domain = env->pos[0]};
	for (size_t i = 0; i < env->ngiven; i++) {
		const char *v = env->given[i].value;
		char *end = NULL;
		errno = 0;
		long n = strtol(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || n < 1 || n > AUDIT_TIME_LIMIT_MAX) {
			cli_errorf(env, "--time-limit takes 1 to %d seconds, not '%s'",
				   AUDIT_TIME_LIMIT_MAX, v);
			return EXIT_USAGE;
		}
		req.time_limit_ms = (unsigned)n * 1000u;
	}
	struct mxtls_ctx *ctx = NULL;
	int ex = cli_open_ctx_readonly(env, &ctx);
	struct mxtls_audit *a = NULL;
	if (ex == EXIT_OK) {
		char err[1024] = "";
		int rc = mxtls_audit(ctx, &req, &a, err, sizeof err);
		if (rc != MXTLS_OK) {
			cli_errorf(env, "%s", err[0] ? err : mxtls_strerror(rc));
			ex = cli_exit_of(rc);
		}
	}
	if (ex == EXIT_OK) {
		if (env->json)
			print_json(env->out, a);
		else
			print_text(env->out, a);
		ex = !mxtls_audit_complete(a)    ? EXIT_TEMPFAIL
		     : mxtls_audit_errors(a) > 0 ? EXIT_NEGATIVE
						 : EXIT_OK;
	}
	mxtls_audit_free(a);
	mxtls_ctx_free(ctx);
	return ex;
}

const struct cli_command cli_cmd_audit = {
	.name = "audit",
	.usage = "DOMAIN [--time-limit SECONDS]",
	.summary = "check DOMAIN's MTA-STS, DANE and TLS-RPT set-up as strict senders will",
	.details = "Looks up the MX set, the _mta-sts record and policy (fetched now), the\n"
		   "_smtp._tls record, and contacts every address of every MX host at once:\n"
		   "STARTTLS, the certificate under the Web PKI (MTA-STS senders) and against\n"
		   "the TLSA records (DANE senders), and whether the TLSA records survive the\n"
		   "next certificate renewal. Prints findings with a severity (error: a strict\n"
		   "sender would defer mail; warning; info), a stable code and the fix.\n"
		   "With an existing --state-dir the policy cache there remembers the policy\n"
		   "seen under each id (sts-id-unchanged). Exit 0 no error, 1 errors found,\n"
		   "64 bad arguments, 75 could not check (the MX lookup failed, or --time-limit\n"
		   "ran out), 78 configuration error.",
	.options = audit_options,
	.run = run_audit,
};
