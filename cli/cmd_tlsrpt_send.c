/* SPDX-License-Identifier: MIT */
/* mxtls tlsrpt send: delivers a day's RFC 8460 reports to the rua destinations of each policy
 * domain (mxtls_tlsrpt_send()). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_env.h"
#include "cli_exit.h"
#include "cli_json.h"
#include "cli_policy.h"
#include "cli_tlsrpt.h"

enum { O_DAY, O_DKIM_KEY };

static const struct cli_opt send_options[] = {
	{"day", 0, CLI_VALUE, O_DAY, "YYYY-MM-DD", "the UTC day whose reports to send (required)"},
	{"dkim-key", 0, CLI_VALUE, O_DKIM_KEY, "DOMAIN:SELECTOR:KEYFILE",
	 "the queue daemon's key for the reporting domain (repeatable; default: mxtls.conf)"},
	{NULL, 0, 0, 0, NULL, NULL},
};

static void print_json(struct cli_env *env, const struct mxtls_tlsrpt_sent *v, size_t n)
{
	struct cli_json j;
	cli_json_init(&j, env->out);
	cli_json_object_begin(&j, NULL);
	cli_json_array_begin(&j, "reports");
	for (size_t i = 0; i < n; i++) {
		cli_json_object_begin(&j, NULL);
		cli_json_string(&j, "domain", v[i].domain);
		cli_json_string(&j, "status", mxtls_tlsrpt_send_status_name(v[i].status));
		cli_json_string(&j, "detail", v[i].detail);
		if (v[i].status == MXTLS_TLSRPT_RETRY)
			cli_json_time(&j, "next_try", v[i].next_try);
		cli_json_object_end(&j);
	}
	cli_json_array_end(&j);
	cli_json_object_end(&j);
}

static int run_send(struct cli_env *env)
{
	const char *day = NULL;
	/* The dkim-keys: the command line's, else those of mxtls.conf (the queue daemon's). */
	const char **keys = calloc(env->ngiven + env->nfile_keys + 1, sizeof *keys);
	size_t nkeys = 0;
	if (keys == NULL) {
		cli_errorf(env, "out of memory");
		return EXIT_SOFTWARE;
	}
	for (size_t i = 0; i < env->ngiven; i++) {
		if (env->given[i].id == O_DAY)
			day = env->given[i].value;
		else if (env->given[i].id == O_DKIM_KEY)
			keys[nkeys++] = env->given[i].value;
	}
	bool from_cli = nkeys > 0;
	for (size_t i = 0; i < env->nfile_keys && !from_cli; i++)
		if (strcmp(env->file_keys[i].key, "dkim-key") == 0)
			keys[nkeys++] = env->file_keys[i].value;
	if (env->npos != 0 || day == NULL) {
		free(keys);
		cli_errorf(env, "tlsrpt send needs --day YYYY-MM-DD%s",
			   env->npos != 0 ? " and no other arguments" : "");
		return EXIT_USAGE;
	}
	struct mxtls_ctx *ctx = NULL;
	int status = cli_open_ctx(env, &ctx);
	if (status != EXIT_OK) {
		free(keys);
		return status;
	}
	struct mxtls_tlsrpt_send_opts opts = {.dkim_keys = keys, .ndkim_keys = nkeys};
	struct mxtls_tlsrpt_sent *v = NULL;
	size_t n = 0;
	char err[1024] = "";
	int rc = mxtls_tlsrpt_send(ctx, day, &opts, &v, &n, err, sizeof err);
	mxtls_ctx_free(ctx);
	free(keys);
	if (rc != MXTLS_OK) {
		cli_errorf(env, "%s", err[0] ? err : mxtls_strerror(rc));
		return cli_tlsrpt_exit(rc);
	}
	bool retry = false, gave_up = false;
	for (size_t i = 0; i < n; i++) {
		retry |= v[i].status == MXTLS_TLSRPT_RETRY;
		gave_up |= v[i].status == MXTLS_TLSRPT_GAVE_UP;
	}
	if (env->json)
		print_json(env, v, n);
	else
		for (size_t i = 0; i < n; i++)
			fprintf(env->out, "%s %s %s\n", v[i].domain,
				mxtls_tlsrpt_send_status_name(v[i].status), v[i].detail);
	if (n == 0)
		cli_errorf(env, "no TLS-RPT results for %s: nothing to send", day);
	mxtls_tlsrpt_sent_free(v, n);
	/* 75 while a later run has work; 69 when a report was given up and none waits. */
	return retry ? EXIT_TEMPFAIL : gave_up ? EXIT_UNAVAILABLE : EXIT_OK;
}

const struct cli_command cli_cmd_tlsrpt_send = {
	.name = "tlsrpt send",
	.usage = "--day YYYY-MM-DD [--dkim-key DOMAIN:SELECTOR:KEYFILE ...]",
	.summary = "send a day's RFC 8460 TLS reports to each policy domain's rua destinations",
	.details =
	    "For every policy domain with results that day, builds the report once (kept in\n"
	    "STATE_DIR/tlsrpt.sqlite), looks up _smtp._tls.DOMAIN and delivers the report to\n"
	    "its rua destinations: https: by POST (application/tlsrpt+gzip, a 2xx is success),\n"
	    "mailto: into this state directory's queue (mxtls queue run sends it, DKIM-signed\n"
	    "with the dkim-key of the reporting domain, which must exist). One accepting\n"
	    "destination delivers a report; failures are retried by later runs for 24 hours\n"
	    "after the first attempt, then given up. A delivered report is never sent again.\n"
	    "Prints one line per domain: DOMAIN STATUS DETAIL, STATUS one of sent,\n"
	    "already-sent, retry, gave-up, no-destination, skipped. Exit 0 when nothing is left\n"
	    "to do, 75 when a report waits for a retry (run again later), 69 when a report was\n"
	    "given up. Settings: tlsrpt-organization, tlsrpt-contact, tlsrpt-submitter,\n"
	    "tlsrpt-send (always | failures), tlsrpt-keep-days (results kept, default 30).",
	.options = send_options,
	.run = run_send,
};
