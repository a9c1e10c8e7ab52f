/* SPDX-License-Identifier: MIT */
/* mxtls store status: which backend, the local cache, and the fleet's shared store (CLI.md). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli_env.h"
#include "cli_exit.h"
#include "cli_json.h"

static void utc(int64_t t, char *buf, size_t cap)
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, cap, "never");
	else
		strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void print_json(struct cli_env *env, const struct mxtls_store_status *s)
{
	struct cli_json j;
	cli_json_init(&j, env->out);
	cli_json_object_begin(&j, NULL);
	cli_json_string(&j, "backend", s->backend);
	cli_json_object_begin(&j, "local");
	cli_json_string(&j, "path", s->local_path);
	cli_json_int(&j, "policies", s->local_policies);
	if (s->local_error[0] != '\0')
		cli_json_string(&j, "error", s->local_error);
	cli_json_object_end(&j);
	if (s->shared[0] != '\0') {
		cli_json_object_begin(&j, "shared");
		cli_json_string(&j, "store", s->shared);
		cli_json_string(&j, "member", s->member);
		cli_json_bool(&j, "shares_answers", s->shares_answers);
		cli_json_bool(&j, "reachable", s->reachable);
		if (s->reachable) {
			cli_json_int(&j, "rtt_us", s->rtt_us);
			cli_json_int(&j, "policies", s->policies);
			cli_json_int(&j, "leases", s->leases);
			cli_json_int(&j, "answers", s->answers);
		} else {
			cli_json_string(&j, "error", s->error);
		}
		cli_json_array_begin(&j, "members");
		for (size_t i = 0; i < s->nmembers; i++) {
			char at[32];
			utc(s->members[i].last_sync, at, sizeof at);
			cli_json_object_begin(&j, NULL);
			cli_json_string(&j, "name", s->members[i].name);
			cli_json_string(&j, "last_sync", at);
			cli_json_int(&j, "policies", s->members[i].policies);
			cli_json_object_end(&j);
		}
		cli_json_array_end(&j);
		cli_json_object_end(&j);
	}
	cli_json_object_end(&j);
}

static void print_text(struct cli_env *env, const struct mxtls_store_status *s)
{
	FILE *o = env->out;
	fprintf(o, "backend: %s\n", s->backend);
	if (s->local_policies >= 0)
		fprintf(o, "local cache: %s (%ld policies)\n", s->local_path, s->local_policies);
	else
		fprintf(o, "local cache: %s (unreadable: %s)\n", s->local_path, s->local_error);
	if (s->shared[0] == '\0')
		return;
	fprintf(o, "shared store: %s\n", s->shared);
	fprintf(o, "member: %s\n", s->member);
	fprintf(o, "shares answers: %s\n",
		s->shares_answers ? "yes (shared-store-key)" : "no (no shared-store-key)");
	if (!s->reachable) {
		fprintf(o, "reachable: no (%s)\n", s->error);
		return;
	}
	fprintf(o, "reachable: yes (PING %.2f ms)\n", (double)s->rtt_us / 1000.0);
	fprintf(o, "shared policies: %ld\nfetch leases held: %ld\nshared answers: %ld\n",
		s->policies, s->leases, s->answers);
	fprintf(o, "members (%zu):\n", s->nmembers);
	for (size_t i = 0; i < s->nmembers; i++) {
		char at[32];
		utc(s->members[i].last_sync, at, sizeof at);
		fprintf(o, "  %s  last sync %s  %ld policies\n", s->members[i].name, at,
			s->members[i].policies);
	}
}

static int run_status(struct cli_env *env)
{
	if (env->npos != 0) {
		cli_errorf(env, "store status takes no arguments");
		return EXIT_USAGE;
	}
	struct mxtls_ctx *ctx = NULL;
	int status = cli_open_ctx(env, &ctx);
	if (status != EXIT_OK)
		return status;
	struct mxtls_store_status *s = calloc(1, sizeof *s);
	char err[512] = "";
	int rc = s != NULL ? mxtls_store_status(ctx, s, err, sizeof err) : MXTLS_E_NOMEM;
	if (rc != MXTLS_OK) {
		cli_errorf(env, "%s", err[0] ? err : mxtls_strerror(rc));
		status = rc == MXTLS_E_CONFIG || rc == MXTLS_E_IO ? EXIT_CONFIG : EXIT_SOFTWARE;
	} else {
		if (env->json)
			print_json(env, s);
		else
			print_text(env, s);
		/* A monitor's answer: the shared store is configured and does not answer. */
		status = s->shared[0] != '\0' && !s->reachable ? EXIT_TEMPFAIL : EXIT_OK;
	}
	free(s);
	mxtls_ctx_free(ctx);
	return status;
}

const struct cli_command cli_cmd_store_status = {
	.name = "store status",
	.usage = "",
	.summary = "the state backend: local cache, and the fleet's shared store (exit 75: "
		   "unreachable)",
	.options = NULL,
	.run = run_status,
};
