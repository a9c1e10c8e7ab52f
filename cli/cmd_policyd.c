/* SPDX-License-Identifier: MIT */
/* mxtls policyd: the Postfix TLS policy server (socketmap), in the foreground. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_env.h"
#include "cli_exit.h"
#include "policyd/policyd.h"

enum {
	O_LISTEN,
	O_SOCKET,
	O_SOCKET_MODE,
	O_TLSRPT,
	O_FAIL_OPEN,
	O_IDLE_TIMEOUT,
	O_MAX_REQUEST,
	O_MAX_CONNECTIONS,
	O_MIN_TTL,
	O_MAX_TTL,
	O_TEMP_TTL,
	O_CACHE_SIZE,
	O_STS_REFRESH,
	O_STS_REFRESH_AGE,
};

/* Each option is also a configuration-file key of the same name (policyd_option_keys). */
static const struct cli_opt policyd_options_table[] = {
	{"listen", 0, CLI_VALUE, O_LISTEN, "HOST:PORT",
	 "TCP address to serve, e.g. 127.0.0.1:8461 (repeatable)"},
	{"socket", 0, CLI_VALUE, O_SOCKET, "PATH", "unix socket to serve"},
	{"socket-mode", 0, CLI_VALUE, O_SOCKET_MODE, "MODE",
	 "permissions of the unix socket (default 0660)"},
	{"tlsrpt", 0, CLI_FLAG, O_TLSRPT, NULL,
	 "add Postfix 3.10 TLSRPT attributes; testing policies then answer 'may'"},
	{"fail-open", 0, CLI_VALUE, O_FAIL_OPEN, "DOMAIN",
	 "answer NOTFOUND instead of TEMP when lookups fail (.DOMAIN: subdomains, *: all; "
	 "repeatable)"},
	{"idle-timeout", 0, CLI_VALUE, O_IDLE_TIMEOUT, "SECONDS",
	 "close a connection silent this long (default 300)"},
	{"max-request", 0, CLI_VALUE, O_MAX_REQUEST, "BYTES",
	 "largest request accepted; larger closes the connection (default 1024)"},
	{"max-connections", 0, CLI_VALUE, O_MAX_CONNECTIONS, "N",
	 "connections open at once (default 1000)"},
	{"min-ttl", 0, CLI_VALUE, O_MIN_TTL, "SECONDS", "shortest time an answer is cached (default 10)"},
	{"max-ttl", 0, CLI_VALUE, O_MAX_TTL, "SECONDS",
	 "longest time an answer is cached (default 3600)"},
	{"temp-ttl", 0, CLI_VALUE, O_TEMP_TTL, "SECONDS",
	 "time a TEMP answer is cached (default 30)"},
	{"cache-size", 0, CLI_VALUE, O_CACHE_SIZE, "N", "answers kept in memory (default 1000000)"},
	{"sts-refresh", 0, CLI_VALUE, O_STS_REFRESH, "SECONDS",
	 "interval of the proactive MTA-STS policy refresh; 0 turns it off (default 3600)"},
	{"sts-refresh-age", 0, CLI_VALUE, O_STS_REFRESH_AGE, "SECONDS",
	 "a refresh renews the policies fetched at least this long ago (default 43200)"},
	{NULL, 0, 0, 0, NULL, NULL},
};

static const char *option_name(int id)
{
	for (const struct cli_opt *o = policyd_options_table; o->name != NULL; o++)
		if (o->id == id)
			return o->name;
	return "?";
}

static bool policyd_key(const char *key)
{
	for (size_t i = 0; policyd_option_keys[i] != NULL; i++)
		if (strcmp(policyd_option_keys[i], key) == 0)
			return true;
	return false;
}

static bool given_on_command_line(const struct cli_env *env, const char *key)
{
	for (size_t i = 0; i < env->ngiven; i++)
		if (strcmp(option_name(env->given[i].id), key) == 0)
			return true;
	return false;
}

/* defaults < configuration file < command line; a list option given on the command line
 * replaces the file's list. */
static int build_options(const struct cli_env *env, struct policyd_options *o, char *err,
			 size_t errlen)
{
	policyd_options_init(o);
	char why[512];
	for (size_t i = 0; i < env->nfile_keys; i++) {
		const struct cli_file_key *k = &env->file_keys[i];
		if (given_on_command_line(env, k->key) || !policyd_key(k->key))
			continue; /* the file may hold the delivery daemon's settings too */
		if (policyd_options_set(o, k->key, k->value, why, sizeof why) != MXTLS_OK) {
			snprintf(err, errlen, "%s: %s", env->config_path, why);
			goto fail;
		}
	}
	for (size_t i = 0; i < env->ngiven; i++) {
		const char *key = option_name(env->given[i].id);
		const char *value = env->given[i].id == O_TLSRPT ? "yes" : env->given[i].value;
		if (policyd_options_set(o, key, value, why, sizeof why) != MXTLS_OK) {
			snprintf(err, errlen, "--%s", why);
			goto fail;
		}
	}
	return 0;
fail:
	policyd_options_free(o);
	return -1;
}

static int reload(void *arg, struct mxtls_config **cfg, struct policyd_options *opts, char *err,
		  size_t errlen)
{
	struct cli_env *env = arg;
	int rc = cli_config_rebuild(env, cfg, err, errlen);
	if (rc != MXTLS_OK)
		return -1;
	if (build_options(env, opts, err, errlen) != 0) {
		mxtls_config_free(*cfg);
		*cfg = NULL;
		return -1;
	}
	return 0;
}

static int run(struct cli_env *env)
{
	if (env->npos != 0) {
		cli_errorf(env, "policyd takes no arguments (did you mean --listen %s?)", env->pos[0]);
		return EXIT_USAGE;
	}
	struct policyd_options o;
	char err[600];
	if (build_options(env, &o, err, sizeof err) != 0) {
		cli_errorf(env, "%s", err);
		return EXIT_USAGE;
	}
	if (o.nlisten == 0 && o.socket == NULL) {
		cli_errorf(env, "policyd needs --listen HOST:PORT or --socket PATH (or listen = / "
				"socket = in the configuration file)");
		policyd_options_free(&o);
		return EXIT_USAGE;
	}
	struct policyd_run_args args = {
		.cfg = env->cfg,
		.opts = &o,
		.verbose = env->verbose,
		.reload = reload,
		.reload_arg = env,
	};
	int status = policyd_run(&args);
	policyd_options_free(&o);
	return status;
}

const struct cli_command cli_cmd_policyd = {
	.name = "policyd",
	.usage = "[--listen HOST:PORT]... [--socket PATH [--socket-mode MODE]] [OPTIONS]",
	.summary = "serve DANE and MTA-STS TLS policy to Postfix (socketmap, smtp_tls_policy_maps)",
	.options = policyd_options_table,
	.run = run,
};
