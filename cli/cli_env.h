/* SPDX-License-Identifier: MIT */
/* What every subcommand receives: merged settings, output mode and its arguments. */
#ifndef MXTLS_CLI_ENV_H
#define MXTLS_CLI_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <mxtls/mxtls.h>

#include "cli_args.h"

/* One command option as given on the command line, in order (repeatable options repeat). */
struct cli_given {
	int id;
	const char *value; /* borrowed from argv; NULL for flags */
};

/* Policy-server keys (policyd_option_keys) read from the configuration file: every command
 * accepts them, since one file serves them all; `mxtls policyd` applies them. */
#define CLI_FILE_KEYS_MAX 64
struct cli_file_key {
	char *key, *value; /* owned */
};

struct cli_env {
	struct mxtls_config *cfg; /* command line > config file > defaults, already merged */
	const char *config_path;  /* the configuration file read, NULL if none */
	bool json;                /* --json */
	int verbose;              /* number of -v */
	FILE *out;                /* results */
	FILE *err;                /* diagnostics */
	const char **pos;         /* positional words after the command word(s) */
	size_t npos;
	const struct cli_given *given; /* command options */
	size_t ngiven;
	struct cli_file_key file_keys[CLI_FILE_KEYS_MAX];
	size_t nfile_keys;
	const void *globals; /* the global options as given (main.c), for cli_config_rebuild() */
};

struct cli_command {
	const char *name;    /* "check", or two words such as "dane verify" */
	const char *usage;   /* arguments, e.g. "DOMAIN [--connect]" */
	const char *summary; /* one line for the command list */
	const char *details; /* more for the command's --help (may be NULL), lines ending in \n
			      * except the last */
	const struct cli_opt *options; /* the command's own options (table, may be NULL) */
	int (*run)(struct cli_env *env); /* returns an exit code (cli_exit.h) */
};

/*
 * Creates the library context from env->cfg, logging to env->err at the verbosity asked for
 * (warnings; -v info; -vv debug).  Returns EXIT_OK with *out set (caller frees with
 * mxtls_ctx_free()), or prints the reason and returns EXIT_CONFIG / EXIT_SOFTWARE.
 */
int cli_open_ctx(struct cli_env *env, struct mxtls_ctx **out);

/* The exit code of a library error for the commands that look things up (audit, publish): 64
 * bad arguments (MXTLS_E_INVAL), 78 a setting, 70 no memory or a bug, 75 anything else (a
 * lookup, a connection: worth another try). */
int cli_exit_of(int rc);

/*
 * cli_open_ctx() for commands that only read state (check, sts cache, sts refresh): when the
 * state directory does not exist it is not created, the context gets none (the MTA-STS cache
 * lives in memory for this run); with -v a note says so.
 */
int cli_open_ctx_readonly(struct cli_env *env, struct mxtls_ctx **out);

/*
 * Builds the settings again from the configuration file and the global options given on the
 * command line (for a reload): on success *out is set (caller frees with mxtls_config_free())
 * and env->file_keys holds the file's policy-server keys.  Returns MXTLS_OK or an MXTLS_E_*
 * code with the reason in err.
 */
int cli_config_rebuild(struct cli_env *env, struct mxtls_config **out, char *err, size_t errlen);

/* Prints "mxtls: " + message + newline to env->err. */
void cli_errorf(const struct cli_env *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
