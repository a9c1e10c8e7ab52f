/* SPDX-License-Identifier: MIT */
/* mxtls policyd: the Postfix TLS policy server (socketmap), as the command runs it. */
#ifndef MXTLS_POLICYD_H
#define MXTLS_POLICYD_H

#include <stdbool.h>
#include <stddef.h>

#include <mxtls/mxtls.h>

#define POLICYD_LISTEN_MAX 8
#define POLICYD_FAIL_OPEN_MAX 256

/* The server's own settings; each is also a configuration-file key of the same name. */
struct policyd_options {
	char *listen[POLICYD_LISTEN_MAX]; /* "HOST:PORT" / "[V6]:PORT" (owned) */
	size_t nlisten;
	char *socket;                     /* unix socket path (owned), or NULL */
	unsigned socket_mode;             /* permission bits of the socket (default 0660) */
	bool tlsrpt;                      /* Postfix 3.10 TLSRPT attributes (default no) */
	char *fail_open[POLICYD_FAIL_OPEN_MAX]; /* domains answering NOTFOUND on lookup errors;
						  * ".example.com" covers its subdomains, "*" all */
	size_t nfail_open;
	unsigned idle_timeout;            /* seconds a connection may stay silent (default 300) */
	size_t max_request;               /* the largest request netstring payload (default 1024) */
	unsigned max_connections;         /* open connections at once (default 1000) */
	unsigned min_ttl, max_ttl;        /* bounds of an answer's cache time (10 s, 3600 s) */
	unsigned temp_ttl;                /* cache time of a TEMP answer (default 30 s) */
	size_t cache_size;                /* answers kept in memory (default 1000000) */
	unsigned sts_refresh;             /* seconds between proactive MTA-STS refresh runs; 0 off
					   * (default 3600) */
	unsigned sts_refresh_age;         /* a run renews the policies fetched at least this many
					   * seconds ago (default 43200) */
};

/* The keys policyd_options_set() takes (NULL-terminated), for the configuration loader. */
extern const char *const policyd_option_keys[];

/* Defaults; policyd_options_free() releases what set() copied. */
void policyd_options_init(struct policyd_options *o);
void policyd_options_free(struct policyd_options *o);

/*
 * Sets key (one of policyd_option_keys) from value; the list keys (listen, fail-open) add one
 * or more values separated by commas or white space.  Returns MXTLS_OK, MXTLS_E_NOTFOUND
 * (not a policyd key), MXTLS_E_CONFIG (bad value; reason in err).
 */
int policyd_options_set(struct policyd_options *o, const char *key, const char *value, char *err,
			size_t errlen);

/* Rebuilds settings for SIGHUP: re-reads the configuration file and applies the command
 * line again.  On success *cfg (caller frees) and *opts (initialised by the callee) are set. */
typedef int (*policyd_reload_fn)(void *arg, struct mxtls_config **cfg,
				 struct policyd_options *opts, char *err, size_t errlen);

struct policyd_run_args {
	const struct mxtls_config *cfg;   /* library settings (borrowed) */
	const struct policyd_options *opts; /* borrowed */
	int verbose;                      /* 0 warnings and the life cycle, 1 every decision,
					   * 2 every request and the library's debug lines */
	policyd_reload_fn reload;         /* may be NULL: SIGHUP then only flushes the cache */
	void *reload_arg;
};

/* Runs the server in the foreground until SIGTERM or SIGINT.  Logs key=value lines to stderr.
 * Returns 0 after a clean shutdown, 78 (EX_CONFIG) when it cannot start (bad settings, a
 * socket that cannot be bound), 70 (EX_SOFTWARE) on an internal failure. */
int policyd_run(const struct policyd_run_args *args);

#endif
