/* SPDX-License-Identifier: MIT */
/* mxtls config: prints the effective settings (command line > file > defaults) and checks them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	{"tlsrpt-organization", "(none: tlsrpt report refuses to run)"},
	{"tlsrpt-contact", "(none: tlsrpt report refuses to run)"},
	{"tlsrpt-submitter", "(the domain of tlsrpt-contact)"},
	{"tlsrpt-send", "always"},
	{"tlsrpt-keep-days", "30"},
	{"shared-store", "(none: this host keeps its state alone)"},
	{"shared-store-password", "(none)"},
	{"shared-store-key", "(none: policyd's answers are not shared, only policies)"},
};

/* A setting as shown: a password never (shared-store-password, or in a redis:// value). */
static const char *shown(const char *key, const char *v, char *buf, size_t cap)
{
	if (v == NULL)
		return NULL;
	if (strcmp(key, "shared-store-password") == 0)
		return "(set)";
	const char *at = strchr(v, '@');
	if (strcmp(key, "shared-store") == 0 && strncmp(v, "redis://:", 9) == 0 && at != NULL) {
		snprintf(buf, cap, "redis://:***%s", at);
		return buf;
	}
	return v;
}

/*
 * What is wrong with the state directory dir for this user, in why (empty: nothing).  It need
 * not exist (commands that store something create it), but its parent must then let it be
 * created; an existing one must be a writable directory.
 */
static void state_dir_problem(const char *dir, char *why, size_t len)
{
	why[0] = '\0';
	struct stat st;
	if (stat(dir, &st) == 0) {
		/* mxtls_ctx_new() has already refused a state-dir that is not a directory. */
		if (access(dir, W_OK | X_OK) != 0)
			snprintf(why, len, "state-dir %s is not writable (%s): commands that store "
				 "state (sts fetch, send, policyd) will fail", dir, strerror(errno));
		return;
	}
	int e = errno;
	if (e != ENOENT) {
		snprintf(why, len, "state-dir %s: %s", dir, strerror(e));
		return;
	}
	char parent[4096];
	snprintf(parent, sizeof parent, "%s", dir);
	char *slash = strrchr(parent, '/');
	while (slash != NULL && slash > parent && slash[1] == '\0') { /* "a/b/" */
		*slash = '\0';
		slash = strrchr(parent, '/');
	}
	if (slash == NULL)
		snprintf(parent, sizeof parent, ".");
	else
		slash[slash == parent ? 1 : 0] = '\0';
	if (access(parent, W_OK | X_OK) == 0)
		snprintf(why, len, "state-dir %s does not exist: it is created when something is "
			 "first stored (sts fetch, send, policyd)", dir);
	else
		snprintf(why, len, "state-dir %s does not exist and cannot be created (%s: %s): "
			 "commands that store state (sts fetch, send, policyd) will fail", dir,
			 parent, strerror(errno));
}

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
	/* A warning, not an error: read-only commands work without a state directory. */
	char warning[4600] = "";
	const char *dir = mxtls_config_get(env->cfg, "state-dir");
	if (dir != NULL)
		state_dir_problem(dir, warning, sizeof warning);
	if (warning[0] != '\0')
		cli_errorf(env, "warning: %s", warning);

	if (env->json) {
		struct cli_json j;
		cli_json_init(&j, env->out);
		cli_json_object_begin(&j, NULL);
		cli_json_string(&j, "config", env->config_path);
		for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
			char buf[1200];
			cli_json_string(&j, settings[i].key,
					shown(settings[i].key,
					      mxtls_config_get(env->cfg, settings[i].key), buf,
					      sizeof buf));
		}
		cli_json_bool(&j, "json", env->json);
		cli_json_int(&j, "verbose", env->verbose);
		cli_json_array_begin(&j, "warnings");
		if (warning[0] != '\0')
			cli_json_string(&j, NULL, warning);
		cli_json_array_end(&j);
		cli_json_object_end(&j);
		return EXIT_OK;
	}
	fprintf(env->out, "config = %s\n", env->config_path ? env->config_path : "(none)");
	for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
		char buf[1200];
		const char *v = shown(settings[i].key, mxtls_config_get(env->cfg, settings[i].key),
				      buf, sizeof buf);
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
