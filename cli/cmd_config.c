/* SPDX-License-Identifier: MIT */
/* mxtls config: prints the effective settings (command line > file > defaults) and checks them. */
#include <stdio.h>

#include "cli_env.h"
#include "cli_exit.h"
#include "cli_json.h"

/* Library settings with what applies when they are unset. */
static const struct {
	const char *key;
	const char *unset;
} settings[] = {
	{"unbound-conf", "(built-in: recursion from the root, DNSSEC trust anchor of the system)"},
	{"ca-file", "(the system trust store)"},
	{"state-dir", "(none: nothing is persisted)"},
	{"sts-timeout", "10"},
	{"connect-timeout", "30"},
	{"smtp-timeout", "(none: RFC 5321 4.5.3.2 per step, 2 to 10 minutes)"},
};

static int run(struct cli_env *env)
{
	if (env->npos != 0) {
		cli_errorf(env, "config takes no arguments");
		return EXIT_USAGE;
	}
	/* Creating the context checks that every file named is usable. */
	struct mxtls_ctx *ctx = NULL;
	int status = cli_open_ctx(env, &ctx);
	if (status != EXIT_OK)
		return status;
	mxtls_ctx_free(ctx);

	if (env->json) {
		struct cli_json j;
		cli_json_init(&j, env->out);
		cli_json_object_begin(&j, NULL);
		cli_json_string(&j, "config", env->config_path);
		for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
			cli_json_string(&j, settings[i].key, mxtls_config_get(env->cfg, settings[i].key));
		cli_json_bool(&j, "json", env->json);
		cli_json_int(&j, "verbose", env->verbose);
		cli_json_object_end(&j);
		return EXIT_OK;
	}
	fprintf(env->out, "config = %s\n", env->config_path ? env->config_path : "(none)");
	for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
		const char *v = mxtls_config_get(env->cfg, settings[i].key);
		fprintf(env->out, "%s = %s\n", settings[i].key, v != NULL ? v : settings[i].unset);
	}
	fprintf(env->out, "json = no\nverbose = %d\n", env->verbose);
	return EXIT_OK;
}

const struct cli_command cli_cmd_config = {
	.name = "config",
	.usage = "",
	.summary = "print the effective settings and check the files they name",
	.options = NULL,
	.run = run,
};
