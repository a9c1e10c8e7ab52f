/* SPDX-License-Identifier: MIT */
/* The mxtls command: global options, configuration precedence, dispatch to subcommands. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mxtls/mxtls.h>

#include "cli_args.h"
#include "cli_commands.h"
#include "cli_env.h"
#include "cli_exit.h"
#include "policyd/policyd.h"

#define DEFAULT_CONFIG "/etc/mxtls/mxtls.conf"
#define MAX_GIVEN 256 /* command options on one command line */

enum global_id {
	G_CONFIG,
	G_UNBOUND_CONF,
	G_CA_FILE,
	G_STATE_DIR,
	G_STS_TIMEOUT,
	G_CONNECT_TIMEOUT,
	G_SMTP_TIMEOUT,
	G_JSON,
	G_VERBOSE,
	G_HELP,
	G_VERSION,
};

static const struct cli_opt global_options[] = {
	{"config", 0, CLI_VALUE, G_CONFIG, "FILE", "configuration file (default " DEFAULT_CONFIG ")"},
	{"unbound-conf", 0, CLI_VALUE, G_UNBOUND_CONF, "FILE",
	 "libunbound configuration replacing the built-in resolver set-up"},
	{"ca-file", 0, CLI_VALUE, G_CA_FILE, "FILE", "PEM roots for the Web PKI (default: system)"},
	{"state-dir", 0, CLI_VALUE, G_STATE_DIR, "DIR", "where persistent state lives"},
	{"sts-timeout", 0, CLI_VALUE, G_STS_TIMEOUT, "SECONDS",
	 "time limit of one MTA-STS policy fetch (default 10)"},
	{"connect-timeout", 0, CLI_VALUE, G_CONNECT_TIMEOUT, "SECONDS",
	 "time limit of one SMTP connection attempt (default 30)"},
	{"smtp-timeout", 0, CLI_VALUE, G_SMTP_TIMEOUT, "SECONDS",
	 "cap on every wait for an SMTP reply (default: RFC 5321 4.5.3.2, 2 to 10 minutes)"},
	{"json", 0, CLI_FLAG, G_JSON, NULL, "machine-readable output on stdout"},
	{"verbose", 'v', CLI_FLAG, G_VERBOSE, NULL, "log decisions to stderr (repeatable)"},
	{"help", 'h', CLI_FLAG, G_HELP, NULL, "show help and exit"},
	{"version", 0, CLI_FLAG, G_VERSION, NULL, "show the version and exit"},
	{NULL, 0, 0, 0, NULL, NULL},
};

/* The global options as given on the command line (NULL / -1: not given). */
struct globals {
	const char *config;
	const char *lib[6]; /* unbound-conf, ca-file, state-dir, sts-timeout, connect-timeout,
			     * smtp-timeout */
	int json;           /* -1 not given, else 1 */
	int verbose;        /* -1 not given, else count */
	bool help;
	bool version;
};

static const char *const lib_keys[6] = {"unbound-conf", "ca-file",         "state-dir",
					"sts-timeout",  "connect-timeout", "smtp-timeout"};

void cli_errorf(const struct cli_env *env, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("mxtls: ", env->err);
	vfprintf(env->err, fmt, ap);
	fputc('\n', env->err);
	va_end(ap);
}

static void log_to_stderr(void *arg, enum mxtls_log_level level, const char *line)
{
	FILE *err = arg;
	fprintf(err, "mxtls: %s %s\n", mxtls_log_level_name(level), line);
}

int cli_open_ctx(struct cli_env *env, struct mxtls_ctx **out)
{
	char err[512];
	int rc = mxtls_ctx_new(env->cfg, out, err, sizeof err);
	if (rc != MXTLS_OK) {
		cli_errorf(env, "%s", rc == MXTLS_E_CONFIG ? err : mxtls_strerror(rc));
		return rc == MXTLS_E_CONFIG ? EXIT_CONFIG : EXIT_SOFTWARE;
	}
	enum mxtls_log_level max = env->verbose >= 2   ? MXTLS_LOG_DEBUG
				   : env->verbose == 1 ? MXTLS_LOG_INFO
						       : MXTLS_LOG_WARNING;
	mxtls_ctx_set_log(*out, max, log_to_stderr, env->err);
	return EXIT_OK;
}

int cli_exit_of(int rc)
{
	switch (rc) {
	case MXTLS_E_INVAL:
		return EXIT_USAGE;
	case MXTLS_E_CONFIG:
		return EXIT_CONFIG;
	case MXTLS_E_NOMEM:
	case MXTLS_E_INTERNAL:
		return EXIT_SOFTWARE;
	default:
		return EXIT_TEMPFAIL;
	}
}

int cli_open_ctx_readonly(struct cli_env *env, struct mxtls_ctx **out)
{
	const char *dir = mxtls_config_get(env->cfg, "state-dir");
	struct stat st;
	if (dir == NULL || stat(dir, &st) == 0 || errno != ENOENT)
		return cli_open_ctx(env, out); /* other problems are reported as always */
	/* The full settings first, so that a problem is reported as it always is (with the file
	 * and line it came from), then the same without the state directory. */
	int ex = cli_open_ctx(env, out);
	if (ex != EXIT_OK)
		return ex;
	mxtls_ctx_free(*out);
	*out = NULL;
	struct mxtls_config *full = env->cfg, *copy;
	if (mxtls_config_new(&copy) != MXTLS_OK) {
		cli_errorf(env, "%s", mxtls_strerror(MXTLS_E_NOMEM));
		return EXIT_SOFTWARE;
	}
	for (size_t i = 0; i < sizeof lib_keys / sizeof lib_keys[0]; i++) {
		const char *v = mxtls_config_get(full, lib_keys[i]);
		if (strcmp(lib_keys[i], "state-dir") != 0 && v != NULL &&
		    mxtls_config_set(copy, lib_keys[i], v, NULL, 0) != MXTLS_OK) {
			mxtls_config_free(copy);
			cli_errorf(env, "%s", mxtls_strerror(MXTLS_E_NOMEM));
			return EXIT_SOFTWARE;
		}
	}
	env->cfg = copy;
	ex = cli_open_ctx(env, out);
	env->cfg = full;
	mxtls_config_free(copy); /* the context keeps its own copies */
	if (ex == EXIT_OK && env->verbose >= 1)
		cli_errorf(env, "state-dir %s does not exist: this command neither reads nor creates "
				"it (it is created when something is first stored)",
			   dir);
	return ex;
}

static void usage_error(const char *msg, const char *cmd)
{
	fprintf(stderr, "mxtls: %s\n", msg);
	fprintf(stderr, "Try 'mxtls %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
}

static int default_state_dir(char *buf, size_t len);

/*
 * The global options for --help: the table with --state-dir's default for this user filled in
 * (it depends on the effective user and $XDG_STATE_HOME, so it cannot be a literal).
 */
static const struct cli_opt *help_globals(void)
{
	static struct cli_opt table[sizeof global_options / sizeof global_options[0]];
	static char state_help[4200];
	char dir[4096];
	memcpy(table, global_options, sizeof table);
	if (default_state_dir(dir, sizeof dir) == 0)
		snprintf(state_help, sizeof state_help, "where persistent state lives (default %s)",
			 dir);
	else
		snprintf(state_help, sizeof state_help,
			 "where persistent state lives (default: none, nothing is kept)");
	for (struct cli_opt *o = table; o->name != NULL; o++)
		if (o->id == G_STATE_DIR)
			o->help = state_help;
	return table;
}

static void print_global_help(FILE *out)
{
	const struct cli_opt *globals = help_globals();
	fputs("Usage: mxtls [GLOBAL OPTIONS] COMMAND [ARGS]\n"
	      "\n"
	      "Decides and enforces the TLS a sending mail server must get from each recipient\n"
	      "domain: DANE (RFC 7672) first, MTA-STS (RFC 8461) otherwise, else opportunistic TLS.\n"
	      "\n"
	      "Commands:\n",
	      out);
	int width = cli_args_help_width(globals, 27);
	for (size_t i = 0; i < cli_ncommands; i++)
		fprintf(out, "  %-*s  %s\n", width, cli_commands[i]->name, cli_commands[i]->summary);
	if (cli_ncommands == 0)
		fputs("  (none yet in this build)\n", out);
	fputs("\nGlobal options (before or after the command):\n", out);
	cli_args_print_help(out, globals, width);
	fputs("\nExit codes: 0 success, 1 negative verdict, 64 usage error, 65 bad input data,\n"
	      "69 permanent failure, 75 temporary failure, 78 configuration error.\n"
	      "Run 'mxtls COMMAND --help' for a command's options; see mxtls(1).\n",
	      out);
}

static void print_command_help(FILE *out, const struct cli_command *c)
{
	fprintf(out, "Usage: mxtls %s %s\n\n%s\n", c->name, c->usage, c->summary);
	if (c->details != NULL)
		fprintf(out, "\n%s\n", c->details);
	const struct cli_opt *globals = help_globals();
	int width = cli_args_help_width(c->options, cli_args_help_width(globals, 27));
	if (c->options != NULL && c->options[0].name != NULL) {
		fputs("\nOptions:\n", out);
		cli_args_print_help(out, c->options, width);
	}
	fputs("\nGlobal options:\n", out);
	cli_args_print_help(out, globals, width);
}

/*
 * Finds the command named by the positional words seen so far: returns it, or NULL with
 * *partial set when the words are a prefix of a two-word command ("dane").
 */
static const struct cli_command *find_command(const char *w1, const char *w2, bool *partial)
{
	*partial = false;
	size_t l1 = strlen(w1);
	for (size_t i = 0; i < cli_ncommands; i++) {
		const char *name = cli_commands[i]->name;
		if (strncmp(name, w1, l1) != 0)
			continue;
		if (name[l1] == '\0' && w2 == NULL)
			return cli_commands[i];
		if (name[l1] == ' ') {
			if (w2 == NULL)
				*partial = true;
			else if (strcmp(name + l1 + 1, w2) == 0)
				return cli_commands[i];
		}
	}
	return NULL;
}

/* Handles the CLI-only keys a configuration file may carry (json, verbose). */
static int app_key(void *arg, const char *key, const char *value, char *err, size_t errlen)
{
	struct cli_env *env = arg;
	if (strcmp(key, "json") == 0) {
		if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
			env->json = true;
		else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 ||
			 strcmp(value, "0") == 0)
			env->json = false;
		else {
			snprintf(err, errlen, "json: expected yes or no, got '%s'", value);
			return MXTLS_E_CONFIG;
		}
		return MXTLS_OK;
	}
	if (strcmp(key, "verbose") == 0) {
		char *end;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (errno != 0 || *end != '\0' || end == value || v < 0 || v > 3) {
			snprintf(err, errlen, "verbose: expected a number from 0 to 3, got '%s'", value);
			return MXTLS_E_CONFIG;
		}
		env->verbose = (int)v;
		return MXTLS_OK;
	}
	bool known = false;
	for (size_t i = 0; policyd_option_keys[i] != NULL; i++)
		known |= strcmp(key, policyd_option_keys[i]) == 0;
	for (size_t i = 0; cli_queue_option_keys[i] != NULL; i++)
		known |= strcmp(key, cli_queue_option_keys[i]) == 0;
	if (known) {
		if (env->nfile_keys == CLI_FILE_KEYS_MAX) {
			snprintf(err, errlen, "too many daemon settings (at most %d)",
				 CLI_FILE_KEYS_MAX);
			return MXTLS_E_CONFIG;
		}
		struct cli_file_key *k = &env->file_keys[env->nfile_keys];
		k->key = strdup(key);
		k->value = strdup(value);
		if (k->key == NULL || k->value == NULL) {
			free(k->key);
			free(k->value);
			return MXTLS_E_NOMEM;
		}
		env->nfile_keys++;
		return MXTLS_OK;
	}
	return MXTLS_E_NOTFOUND;
}

static void clear_file_keys(struct cli_env *env)
{
	for (size_t i = 0; i < env->nfile_keys; i++) {
		free(env->file_keys[i].key);
		free(env->file_keys[i].value);
	}
	env->nfile_keys = 0;
}

/* The default state directory (CLI.md): /var/lib/mxtls as root, else the XDG state home. */
static int default_state_dir(char *buf, size_t len)
{
	if (geteuid() == 0)
		return snprintf(buf, len, "/var/lib/mxtls") < (int)len ? 0 : -1;
	const char *xdg = getenv("XDG_STATE_HOME");
	if (xdg != NULL && xdg[0] == '/')
		return snprintf(buf, len, "%s/mxtls", xdg) < (int)len ? 0 : -1;
	const char *home = getenv("HOME");
	if (home != NULL && home[0] == '/')
		return snprintf(buf, len, "%s/.local/state/mxtls", home) < (int)len ? 0 : -1;
	return -1;
}

int cli_config_rebuild(struct cli_env *env, struct mxtls_config **out, char *err, size_t errlen)
{
	const struct globals *g = env->globals;
	struct mxtls_config *cfg;
	int rc = mxtls_config_new(&cfg);
	if (rc != MXTLS_OK) {
		snprintf(err, errlen, "%s", mxtls_strerror(rc));
		return rc;
	}
	clear_file_keys(env);
	if (env->config_path != NULL) {
		static const char *const repeatable[] = {"dkim-key", NULL};
		struct mxtls_config_app app = {
			.key = app_key, .arg = env, .repeatable = repeatable};
		rc = mxtls_config_load_file(cfg, env->config_path, &app, err, errlen);
		if (rc != MXTLS_OK)
			goto fail;
	}
	/* The command line wins over the file. */
	if (g->json >= 0)
		env->json = true;
	if (g->verbose >= 0)
		env->verbose = g->verbose;
	for (int i = 0; i < 6; i++) {
		if (g->lib[i] == NULL)
			continue;
		char why[512];
		rc = mxtls_config_set(cfg, lib_keys[i], g->lib[i], why, sizeof why);
		if (rc != MXTLS_OK) {
			snprintf(err, errlen, "--%s", why);
			rc = MXTLS_E_INVAL;
			goto fail;
		}
	}
	if (mxtls_config_get(cfg, "state-dir") == NULL) {
		char dir[4096];
		if (default_state_dir(dir, sizeof dir) == 0 &&
		    mxtls_config_set(cfg, "state-dir", dir, NULL, 0) != MXTLS_OK) {
			snprintf(err, errlen, "cannot set the default state directory");
			rc = MXTLS_E_NOMEM;
			goto fail;
		}
	}
	*out = cfg;
	return MXTLS_OK;
fail:
	mxtls_config_free(cfg);
	return rc;
}

/* Merges defaults < configuration file < command line into env->cfg.  Returns an exit code. */
static int build_config(struct cli_env *env, const struct globals *g)
{
	char err[512];
	const char *path = g->config;
	if (path == NULL && access(DEFAULT_CONFIG, F_OK) == 0)
		path = DEFAULT_CONFIG;
	env->config_path = path;
	env->globals = g;
	int rc = cli_config_rebuild(env, &env->cfg, err, sizeof err);
	if (rc == MXTLS_OK)
		return EXIT_OK;
	cli_errorf(env, "%s", err);
	return rc == MXTLS_E_INVAL ? EXIT_USAGE : rc == MXTLS_E_NOMEM ? EXIT_SOFTWARE : EXIT_CONFIG;
}

int main(int argc, char **argv)
{
	struct globals g = {.json = -1, .verbose = -1};
	struct cli_env env = {.out = stdout, .err = stderr};
	static struct cli_given given[MAX_GIVEN];
	const char **pos = calloc((size_t)argc + 1, sizeof *pos);
	if (pos == NULL) {
		fputs("mxtls: out of memory\n", stderr);
		return EXIT_SOFTWARE;
	}
	const struct cli_command *cmd = NULL;
	const char *first_word = NULL;

	struct cli_args a;
	cli_args_init(&a, argc, argv, global_options);
	struct cli_item item;
	enum cli_event ev;
	int status = EXIT_OK;
	while ((ev = cli_args_next(&a, &item)) != CLI_END) {
		if (ev == CLI_ERROR) {
			usage_error(a.err, cmd ? cmd->name : NULL);
			status = EXIT_USAGE;
			goto out;
		}
		if (ev == CLI_POSITIONAL) {
			if (cmd != NULL) {
				pos[env.npos++] = item.value;
				continue;
			}
			bool partial;
			cmd = find_command(first_word ? first_word : item.value,
					   first_word ? item.value : NULL, &partial);
			if (cmd == NULL && partial) {
				first_word = item.value;
				continue;
			}
			if (cmd == NULL) {
				char msg[300];
				snprintf(msg, sizeof msg, "unknown command '%s%s%s'",
					 first_word ? first_word : "", first_word ? " " : "",
					 item.value);
				usage_error(msg, NULL);
				status = EXIT_USAGE;
				goto out;
			}
			cli_args_set_command(&a, cmd->options);
			continue;
		}
		if (item.table == 1) {
			if (env.ngiven == MAX_GIVEN) {
				usage_error("too many options", cmd->name);
				status = EXIT_USAGE;
				goto out;
			}
			given[env.ngiven++] = (struct cli_given){item.opt->id, item.value};
			continue;
		}
		switch ((enum global_id)item.opt->id) {
		case G_CONFIG:
			g.config = item.value;
			break;
		case G_UNBOUND_CONF:
		case G_CA_FILE:
		case G_STATE_DIR:
		case G_STS_TIMEOUT:
		case G_CONNECT_TIMEOUT:
		case G_SMTP_TIMEOUT:
			g.lib[item.opt->id - G_UNBOUND_CONF] = item.value;
			break;
		case G_JSON:
			g.json = 1;
			break;
		case G_VERBOSE:
			g.verbose = g.verbose < 0 ? 1 : g.verbose + 1;
			break;
		case G_HELP:
			g.help = true;
			break;
		case G_VERSION:
			g.version = true;
			break;
		}
	}
	if (g.version) {
		printf("mxtls %s\n", mxtls_version());
		goto out;
	}
	if (g.help) {
		if (cmd != NULL)
			print_command_help(stdout, cmd);
		else
			print_global_help(stdout);
		goto out;
	}
	if (cmd == NULL) {
		char msg[300];
		if (first_word != NULL)
			snprintf(msg, sizeof msg, "'%s' needs a subcommand", first_word);
		else
			snprintf(msg, sizeof msg, "no command given");
		usage_error(msg, NULL);
		status = EXIT_USAGE;
		goto out;
	}
	status = build_config(&env, &g);
	if (status != EXIT_OK)
		goto out;
	env.pos = pos;
	env.given = given;
	status = cmd->run(&env);
out:
	mxtls_config_free(env.cfg);
	clear_file_keys(&env);
	free(pos);
	if (fflush(stdout) != 0 && status == EXIT_OK)
		status = EXIT_SOFTWARE; /* a full disk or closed pipe must not look like success */
	return status;
}
