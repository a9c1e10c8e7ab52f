/* SPDX-License-Identifier: MIT */
/* mxtls serve: the HTTPS daemon for MTA-STS policy files, in the foreground (systemd). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <mxtls/mxtls.h>

#include "cli_env.h"
#include "cli_exit.h"
#include "policyd/policyd_notify.h"

enum {
	O_LISTEN,
	O_POLICY_DIR,
	O_CERT,
	O_TIMEOUT,
	O_MAX_CONNECTION_TIME,
	O_MAX_CONNECTIONS,
	O_MAX_PER_IP,
	O_MAX_HEADER_BYTES,
	O_REPORTS_PATH,
};

/* Each option is the library setting of the same name (mxtls_serve_config_set()). */
static const struct cli_opt serve_options_table[] = {
	{"listen", 0, CLI_VALUE, O_LISTEN, "HOST:PORT",
	 "address to serve, e.g. 0.0.0.0:443 or [::]:443 (repeatable)"},
	{"policy-dir", 0, CLI_VALUE, O_POLICY_DIR, "DIR",
	 "directory of the policies: DIR/DOMAIN.txt for each --cert DOMAIN"},
	{"cert", 0, CLI_VALUE, O_CERT, "DOMAIN:CERT:KEY",
	 "PEM chain and key for mta-sts.DOMAIN (repeatable; the domains served)"},
	{"timeout", 0, CLI_VALUE, O_TIMEOUT, "SECONDS",
	 "close a connection idle this long (default 10)"},
	{"max-connection-time", 0, CLI_VALUE, O_MAX_CONNECTION_TIME, "SECONDS",
	 "close any connection this old, busy or not (default 30)"},
	{"max-connections", 0, CLI_VALUE, O_MAX_CONNECTIONS, "N",
	 "connections at once per listen address (default 256)"},
	{"max-connections-per-ip", 0, CLI_VALUE, O_MAX_PER_IP, "N",
	 "connections at once from one client address (default 16)"},
	{"max-header-bytes", 0, CLI_VALUE, O_MAX_HEADER_BYTES, "BYTES",
	 "memory for one request's line and headers; more is refused (default 8192)"},
	{"reports-path", 0, CLI_VALUE, O_REPORTS_PATH, "PATH",
	 "receive TLS reports (RFC 8460) POSTed to this URL path, e.g. /tlsrpt, into "
	 "STATE_DIR/reports.sqlite"},
	{NULL, 0, 0, 0, NULL, NULL},
};

static const char *option_name(int id)
{
	for (const struct cli_opt *o = serve_options_table; o->name != NULL; o++)
		if (o->id == id)
			return o->name;
	return "?";
}

/* The daemon's log lines (the report endpoint's), on stderr beside its events. */
static void log_line(void *arg, enum mxtls_log_level level, const char *line)
{
	FILE *err = arg;
	fprintf(err, "mxtls serve: %s %s\n", mxtls_log_level_name(level), line);
	fflush(err);
}

/* --reports-path: the store is STATE_DIR/reports.sqlite (the directory made if missing, as
 * the other commands that store do).  Returns EXIT_OK or an exit code, the reason printed. */
static int reports_store(struct cli_env *env, struct mxtls_serve_config *c)
{
	const char *dir = mxtls_config_get(env->cfg, "state-dir");
	if (dir == NULL) {
		cli_errorf(env, "--reports-path needs a state directory (--state-dir DIR or "
				"state-dir in mxtls.conf): the reports are kept in "
				"STATE_DIR/reports.sqlite");
		return EXIT_CONFIG;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		cli_errorf(env, "state-dir %s: %s", dir, strerror(errno));
		return EXIT_CONFIG;
	}
	char path[4200], err[600];
	int n = snprintf(path, sizeof path, "%s/reports.sqlite", dir);
	if (n < 0 || (size_t)n >= sizeof path) {
		cli_errorf(env, "state-dir %s: the name is too long", dir);
		return EXIT_CONFIG;
	}
	int rc = mxtls_serve_config_set(c, "reports-store", path, err, sizeof err);
	if (rc != MXTLS_OK) {
		cli_errorf(env, "%s", err);
		return rc == MXTLS_E_NOMEM ? EXIT_SOFTWARE : EXIT_CONFIG;
	}
	return EXIT_OK;
}

/* Waits for SIGHUP (reload), SIGTERM or SIGINT (stop); they are blocked in every thread. */
static int serve_loop(struct cli_env *env, struct mxtls_serve *s, const sigset_t *set)
{
	for (;;) {
		int sig;
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			char err[600];
			policyd_notify("RELOADING=1");
			int rc = mxtls_serve_reload(s, err, sizeof err);
			if (rc == MXTLS_OK)
				fprintf(env->err, "mxtls serve: event=reloaded domains=%zu\n",
					mxtls_serve_domains(s));
			else
				fprintf(env->err,
					"mxtls serve: event=reload-failed reason=\"%s\" "
					"(still serving what was loaded before)\n",
					err);
			fflush(env->err);
			policyd_notify("READY=1");
			continue;
		}
		policyd_notify("STOPPING=1");
		fprintf(env->err, "mxtls serve: event=stopping signal=%s\n",
			sig == SIGTERM ? "TERM" : "INT");
		return EXIT_OK;
	}
}

static int run(struct cli_env *env)
{
	if (env->npos != 0) {
		cli_errorf(env, "serve takes no arguments (did you mean --cert %s:CERT:KEY?)",
			   env->pos[0]);
		return EXIT_USAGE;
	}
	struct mxtls_serve_config *c;
	if (mxtls_serve_config_new(&c) != MXTLS_OK) {
		cli_errorf(env, "out of memory");
		return EXIT_SOFTWARE;
	}
	char err[600];
	bool reports = false;
	for (size_t i = 0; i < env->ngiven; i++) {
		int rc = mxtls_serve_config_set(c, option_name(env->given[i].id),
						env->given[i].value, err, sizeof err);
		if (rc != MXTLS_OK) {
			cli_errorf(env, "--%s", err);
			mxtls_serve_config_free(c);
			return rc == MXTLS_E_NOMEM ? EXIT_SOFTWARE : EXIT_USAGE;
		}
		if (env->given[i].id == O_REPORTS_PATH)
			reports = true;
	}
	if (reports) {
		int ex = reports_store(env, c);
		if (ex != EXIT_OK) {
			mxtls_serve_config_free(c);
			return ex;
		}
	}
	mxtls_serve_config_set_log(c, log_line, env->err);
	/* Signals are taken by this thread alone (sigwait): block them before the server's
	 * threads start, so that they inherit the mask. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct mxtls_serve *s;
	int rc = mxtls_serve_start(c, &s, err, sizeof err);
	mxtls_serve_config_free(c);
	if (rc != MXTLS_OK) {
		cli_errorf(env, "serve: %s", err);
		return rc == MXTLS_E_NOMEM ? EXIT_SOFTWARE
		       : rc == MXTLS_E_IO  ? EXIT_TEMPFAIL
					   : EXIT_CONFIG;
	}
	fprintf(env->err, "mxtls serve: event=ready domains=%zu\n", mxtls_serve_domains(s));
	fflush(env->err);
	policyd_notify("READY=1");
	int status = serve_loop(env, s, &set);
	mxtls_serve_stop(s);
	return status;
}

const struct cli_command cli_cmd_serve = {
	.name = "serve",
	.usage = "--policy-dir DIR --cert DOMAIN:CERT:KEY... --listen HOST:PORT... "
		 "[--reports-path PATH] [OPTIONS]",
	.summary = "serve MTA-STS policy files over HTTPS (mta-sts.DOMAIN, one certificate each)",
	.details =
		"Serves /.well-known/mta-sts.txt for each DOMAIN of --cert, from DIR/DOMAIN.txt,\n"
		"choosing the certificate by SNI. SIGHUP re-reads policies and certificates;\n"
		"a policy that senders would reject is refused at start and at reload.\n"
		"With --reports-path, TLS reports POSTed there (application/tlsrpt+gzip or\n"
		"+json, at most 10 MiB as sent, 16 MiB inflated) are stored in\n"
		"STATE_DIR/reports.sqlite: 201 stored, 200 already stored (same organisation and\n"
		"report-id), 400 not a report, 413 too large, 415 another media type, 503 not\n"
		"stored now (the sender retries); every refusal is logged on stderr.",
	.options = serve_options_table,
	.run = run,
};
