/* SPDX-License-Identifier: MIT */
/* mxtls tlsrpt report: writes a day's RFC 8460 reports (one .json.gz per policy domain). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_env.h"
#include "cli_exit.h"
#include "cli_tlsrpt.h"

enum { O_DAY, O_DOMAIN, O_OUT };

int cli_tlsrpt_exit(int rc)
{
	switch (rc) {
	case MXTLS_E_INVAL:
		return EXIT_USAGE;
	case MXTLS_E_CONFIG:
		return EXIT_CONFIG;
	case MXTLS_E_IO:
	case MXTLS_E_TEMPFAIL:
		return EXIT_TEMPFAIL; /* the store, the output directory, another send run */
	default:
		return EXIT_SOFTWARE;
	}
}

static const struct cli_opt report_options[] = {
	{"day", 0, CLI_VALUE, O_DAY, "YYYY-MM-DD", "the UTC day to report (required)"},
	{"domain", 0, CLI_VALUE, O_DOMAIN, "DOMAIN", "only this policy domain's report"},
	{"out", 0, CLI_VALUE, O_OUT, "DIR", "where the files go (created if missing; required)"},
	{NULL, 0, 0, 0, NULL, NULL},
};

static int run_report(struct cli_env *env)
{
	const char *day = NULL, *domain = NULL, *out = NULL;
	for (size_t i = 0; i < env->ngiven; i++) {
		const char *v = env->given[i].value;
		switch (env->given[i].id) {
		case O_DAY:
			day = v;
			break;
		case O_DOMAIN:
			domain = v;
			break;
		case O_OUT:
			out = v;
			break;
		}
	}
	if (env->npos != 0 || day == NULL || out == NULL) {
		cli_errorf(env, "tlsrpt report needs --day YYYY-MM-DD and --out DIR%s",
			   env->npos != 0 ? " and no other arguments" : "");
		return EXIT_USAGE;
	}
	struct mxtls_ctx *ctx = NULL;
	int status = cli_open_ctx(env, &ctx);
	if (status != EXIT_OK)
		return status;
	char **paths = NULL;
	size_t n = 0;
	char err[512] = "";
	int rc = mxtls_tlsrpt_report(ctx, day, domain, out, &paths, &n, err, sizeof err);
	mxtls_ctx_free(ctx);
	if (rc != MXTLS_OK) {
		cli_errorf(env, "%s", err[0] ? err : mxtls_strerror(rc));
		return cli_tlsrpt_exit(rc);
	}
	for (size_t i = 0; i < n; i++)
		fprintf(env->out, "%s\n", paths[i]);
	if (n == 0)
		cli_errorf(env, "no TLS-RPT results for %s%s%s: no report written",
			   domain ? domain : "", domain ? " on " : "", day);
	mxtls_tlsrpt_paths_free(paths, n);
	return EXIT_OK;
}

const struct cli_command cli_cmd_tlsrpt_report = {
	.name = "tlsrpt report",
	.usage = "--day YYYY-MM-DD [--domain DOMAIN] --out DIR",
	.summary = "write a day's RFC 8460 TLS reports (one .json.gz per policy domain)",
	.details = "Reads the results recorded in STATE_DIR/tlsrpt.sqlite and writes one gzipped\n"
		   "report per policy domain, named as RFC 8460 5.1 says, printing each path.\n"
		   "Needs the settings tlsrpt-organization and tlsrpt-contact (mxtls.conf);\n"
		   "tlsrpt-submitter names the reporting domain (default: tlsrpt-contact's).",
	.options = report_options,
	.run = run_report,
};
