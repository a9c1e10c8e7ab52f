/* SPDX-License-Identifier: MIT */
/* mxtls queue run: the delivery daemon (CLI.md), its options and configuration-file keys. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_commands.h"
#include "cli_env.h"
#include "cli_exit.h"
#include "policyd/policyd_notify.h"

enum {
	O_LISTEN = 1,
	O_ALLOW,
	O_ONCE,
	O_RETRY_MIN,
	O_RETRY_MAX,
	O_LIFETIME,
	O_DELAY_WARNING,
	O_CONCURRENCY,
	O_CONCURRENCY_DOMAIN,
	O_HELO,
	O_DKIM_KEY,
	O_SHUTDOWN_TIMEOUT,
	O_STS_REFRESH,
	O_STS_REFRESH_AGE,
};

/* Every option but --listen, --allow and --once is also a configuration-file key. */
static const struct cli_opt run_options[] = {
	{"listen", 0, CLI_VALUE, O_LISTEN, "HOST:PORT",
	 "SMTP submission listener, e.g. 127.0.0.1:25 (repeatable)"},
	{"allow", 0, CLI_VALUE, O_ALLOW, "CIDR",
	 "clients allowed to submit besides loopback (repeatable)"},
	{"once", 0, CLI_FLAG, O_ONCE, NULL,
	 "process what is due now (and mail arriving meanwhile) once, then exit"},
	{"retry-min", 0, CLI_VALUE, O_RETRY_MIN, "SECONDS",
	 "wait before the first retry; doubles per attempt (default 300)"},
	{"retry-max", 0, CLI_VALUE, O_RETRY_MAX, "SECONDS",
	 "longest wait between attempts (default 4000)"},
	{"queue-lifetime", 0, CLI_VALUE, O_LIFETIME, "SECONDS",
	 "return deferred mail to its sender after this long (default 432000)"},
	{"delay-warning", 0, CLI_VALUE, O_DELAY_WARNING, "SECONDS",
	 "tell the sender once mail is this late; 0: never (default 0)"},
	{"concurrency", 0, CLI_VALUE, O_CONCURRENCY, "N", "deliveries at a time (default 100)"},
	{"concurrency-per-domain", 0, CLI_VALUE, O_CONCURRENCY_DOMAIN, "N",
	 "deliveries at a time to one domain (default 20)"},
	{"helo", 0, CLI_VALUE, O_HELO, "NAME", "EHLO name (default: the host name)"},
	{"dkim-key", 0, CLI_VALUE, O_DKIM_KEY, "DOMAIN:SELECTOR:KEYFILE",
	 "sign mail From DOMAIN with this key (repeatable)"},
	{"shutdown-timeout", 0, CLI_VALUE, O_SHUTDOWN_TIMEOUT, "SECONDS",
	 "on SIGTERM, wait this long for sessions in flight (default 30)"},
	{"sts-refresh", 0, CLI_VALUE, O_STS_REFRESH, "SECONDS",
	 "interval of the background MTA-STS refresh; 0 turns it off (default 3600)"},
	{"sts-refresh-age", 0, CLI_VALUE, O_STS_REFRESH_AGE, "SECONDS",
	 "a refresh renews policies fetched at least this long ago (default 43200)"},
	{NULL, 0, 0, 0, NULL, NULL},
};

const char *const cli_queue_option_keys[] = {
	"retry-min",   "retry-max", "queue-lifetime",   "delay-warning",
	"concurrency", "concurrency-per-domain", "helo", "dkim-key",
	"shutdown-timeout", NULL,
};

/* The settings as strings, before they are checked (file first, then the command line). */
struct run_settings {
	struct mxtls_queue_run_opts o;
	const char **listen, **allow, **dkim;
	size_t nlisten, nallow, ndkim;
	bool dkim_from_cli;
};

static bool number(const char *v, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
		return false;
	*out = n;
	return true;
}

static bool push(const char ***v, size_t *n, const char *s)
{
	const char **g = realloc(*v, (*n + 1) * sizeof *g);
	if (g == NULL)
		return false;
	g[(*n)++] = s;
	*v = g;
	return true;
}

/* Applies one setting; a message in err on failure. */
static int apply(struct run_settings *rs, const char *key, const char *value, bool cli, char *err,
		 size_t errlen)
{
	struct mxtls_queue_run_opts *o = &rs->o;
	int64_t n = 0;
	const int64_t year = 366 * 86400;
	struct {
		const char *key;
		int64_t min, max;
		int64_t *dst;
		unsigned *udst;
	} nums[] = {
		{"retry-min", 1, year, &o->retry_min, NULL},
		{"retry-max", 1, year, &o->retry_max, NULL},
		{"queue-lifetime", 1, 10 * year, &o->lifetime, NULL},
		{"delay-warning", 0, 10 * year, &o->delay_warning, NULL},
		{"concurrency", 1, 10000, NULL, &o->concurrency},
		{"concurrency-per-domain", 1, 10000, NULL, &o->concurrency_per_domain},
		{"shutdown-timeout", 0, 3600, NULL, &o->shutdown_timeout},
		{"sts-refresh", 0, year, &o->sts_refresh, NULL},
		{"sts-refresh-age", 1, year, &o->sts_refresh_age, NULL},
	};
	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
		if (strcmp(key, nums[i].key) != 0)
			continue;
		if (!number(value, nums[i].min, nums[i].max, &n)) {
			snprintf(err, errlen, "%s: '%s' is not a number from %" PRId64 " to %" PRId64,
				 key, value, nums[i].min, nums[i].max);
			return -1;
		}
		if (nums[i].dst != NULL)
			*nums[i].dst = n;
		else
			*nums[i].udst = (unsigned)n;
		return 0;
	}
	bool ok = true;
	if (strcmp(key, "helo") == 0) {
		o->helo = value;
	} else if (strcmp(key, "dkim-key") == 0) {
		/* The command line's keys replace the file's. */
		if (cli && !rs->dkim_from_cli) {
			rs->ndkim = 0;
			rs->dkim_from_cli = true;
		}
		ok = push(&rs->dkim, &rs->ndkim, value);
	} else if (strcmp(key, "listen") == 0) {
		ok = push(&rs->listen, &rs->nlisten, value);
	} else if (strcmp(key, "allow") == 0) {
		ok = push(&rs->allow, &rs->nallow, value);
	} else if (strcmp(key, "once") == 0) {
		o->once = 1;
	}
	if (!ok)
		snprintf(err, errlen, "out of memory");
	return ok ? 0 : -1;
}

static const char *option_name(int id)
{
	for (const struct cli_opt *o = run_options; o->name != NULL; o++)
		if (o->id == id)
			return o->name;
	return "?";
}

static bool is_queue_key(const char *key)
{
	for (size_t i = 0; cli_queue_option_keys[i] != NULL; i++)
		if (strcmp(cli_queue_option_keys[i], key) == 0)
			return true;
	/* Shared with mxtls policyd: one MTA-STS refresh setting for both daemons. */
	return strcmp(key, "sts-refresh") == 0 || strcmp(key, "sts-refresh-age") == 0;
}

static void on_notify(void *arg, const char *state)
{
	(void)arg;
	policyd_notify(state);
}

static int run(struct cli_env *env)
{
	if (env->npos != 0) {
		cli_errorf(env, "queue run takes no arguments");
		return EXIT_USAGE;
	}
	struct run_settings rs = {0};
	mxtls_queue_run_opts_init(&rs.o);
	char err[1024] = "";
	int status = EXIT_OK;
	for (size_t i = 0; i < env->nfile_keys && status == EXIT_OK; i++) {
		const struct cli_file_key *k = &env->file_keys[i];
		if (!is_queue_key(k->key))
			continue;
		if (apply(&rs, k->key, k->value, false, err, sizeof err) != 0) {
			cli_errorf(env, "%s: %s", env->config_path, err);
			status = EXIT_CONFIG;
		}
	}
	for (size_t i = 0; i < env->ngiven && status == EXIT_OK; i++) {
		const struct cli_given *g = &env->given[i];
		if (apply(&rs, option_name(g->id), g->value != NULL ? g->value : "yes", true, err,
			  sizeof err) != 0) {
			cli_errorf(env, "--%s", err);
			status = EXIT_USAGE;
		}
	}
	rs.o.listen = rs.listen;
	rs.o.nlisten = rs.nlisten;
	rs.o.allow = rs.allow;
	rs.o.nallow = rs.nallow;
	rs.o.dkim_keys = rs.dkim;
	rs.o.ndkim_keys = rs.ndkim;
	rs.o.notify = on_notify;
	struct mxtls_ctx *ctx = NULL;
	struct mxtls_queue *q = NULL;
	if (status == EXIT_OK)
		status = cli_open_ctx(env, &ctx);
	if (status == EXIT_OK) {
		int rc = mxtls_queue_open(ctx, MXTLS_QUEUE_CLEANUP, &q, err, sizeof err);
		if (rc != MXTLS_OK) {
			cli_errorf(env, "cannot open the queue: %s", err[0] ? err : mxtls_strerror(rc));
			status = rc == MXTLS_E_CONFIG ? EXIT_CONFIG : EXIT_TEMPFAIL;
		}
	}
	if (status == EXIT_OK) {
		int rc = mxtls_queue_run(q, &rs.o, err, sizeof err);
		if (rc != MXTLS_OK) {
			cli_errorf(env, "%s", err[0] ? err : mxtls_strerror(rc));
			status = rc == MXTLS_E_CONFIG	 ? EXIT_CONFIG
				 : rc == MXTLS_E_NOMEM ? EXIT_SOFTWARE
						       : EXIT_TEMPFAIL;
		}
	}
	mxtls_queue_close(q);
	mxtls_ctx_free(ctx);
	free(rs.listen);
	free(rs.allow);
	free(rs.dkim);
	return status;
}

const struct cli_command cli_cmd_queue_run = {
	.name = "queue run",
	.usage = "[--listen HOST:PORT ...] [--allow CIDR ...] [--once]",
	.summary = "the delivery daemon: deliver, retry and bounce queued mail",
	.details =
		"Runs in the foreground (systemd Type=notify; doc/mxtls-queue.service), one per\n"
		"queue. Each domain's policy is enforced: a DANE, MTA-STS or STARTTLS failure\n"
		"defers the mail until queue-lifetime ends, never sends it in cleartext; then a\n"
		"DSN (RFC 3464) returns it to the sender. Messages with \"TLS-Required: No\"\n"
		"(RFC 8689) are delivered despite a policy failure. Mail From a dkim-key domain\n"
		"is signed (rsa-sha256 or ed25519-sha256). SIGTERM or SIGINT: sessions in flight\n"
		"finish (up to shutdown-timeout), exit 0. Every option but --listen, --allow and\n"
		"--once is also a configuration-file key.\n"
		"Exit 0 stopped cleanly, 64 usage, 75 another daemon serves the queue or the\n"
		"queue cannot be used, 78 configuration error (a bad setting or DKIM key).",
	.options = run_options,
	.run = run,
};
