/* SPDX-License-Identifier: MIT */
/* mxtls serve: a small HTTPS daemon that serves MTA-STS policy files (RFC 8461 §3.3) and,
 * when asked, receives TLS reports (RFC 8460 §5.4). */
#ifndef MXTLS_SERVE_H
#define MXTLS_SERVE_H

#include <stddef.h>

#include <mxtls/log.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MXTLS_API
#define MXTLS_API __attribute__((visibility("default")))
#endif

/* The settings of one server: built with mxtls_serve_config_set(), read at start. */
struct mxtls_serve_config;
/* A running server: its listening sockets, its threads and what it serves. */
struct mxtls_serve;

/* A new configuration with the defaults; caller frees with mxtls_serve_config_free().
 * Returns MXTLS_OK or MXTLS_E_NOMEM. */
MXTLS_API int mxtls_serve_config_new(struct mxtls_serve_config **out);

/* Frees a configuration; NULL is a no-op. */
MXTLS_API void mxtls_serve_config_free(struct mxtls_serve_config *c);

/*
 * Sets one setting (key and value borrowed, copied).  Keys, which are also the command's
 * options and configuration-file keys:
 *   listen HOST:PORT           an address to serve ("[::1]:443" for IPv6; repeatable)
 *   policy-dir DIR             where the policies are: DIR/<domain>.txt, domain lower-case
 *   cert DOMAIN:CERT:KEY       PEM chain (leaf first) and key for mta-sts.DOMAIN (repeatable;
 *                              one per domain; the domains served are exactly these)
 *   timeout SECONDS            close a connection idle this long (default 10)
 *   max-connection-time SECONDS  close any connection this old, busy or not (default 30)
 *   max-connections N          connections at once per listen address (default 256)
 *   max-connections-per-ip N   connections at once from one address (default 16)
 *   max-header-bytes N         memory for one request's line and headers; beyond it the
 *                              request is refused (default 8192)
 *   reports-path PATH          receive TLS reports (RFC 8460 §5.4) POSTed to this absolute
 *                              URL path (e.g. /tlsrpt) on every mta-sts.DOMAIN served:
 *                              application/tlsrpt+gzip or application/tlsrpt+json, stored in
 *                              reports-store; answered 201 (stored), 200 (already stored),
 *                              4xx (refused, logged) or 503 (not stored now: retry).  Not
 *                              the policy's path.  Unset: no endpoint.
 *   reports-store FILE         the SQLite file the reports are stored in (the command uses
 *                              STATE_DIR/reports.sqlite); required with reports-path
 * Returns MXTLS_OK, MXTLS_E_NOTFOUND (no such key), MXTLS_E_CONFIG (a bad value; the reason
 * in err), MXTLS_E_NOMEM.
 */
MXTLS_API int mxtls_serve_config_set(struct mxtls_serve_config *c, const char *key,
				     const char *value, char *err, size_t errlen);

/*
 * Sends the daemon's log lines (key=value, see <mxtls/log.h>: one per refused or stored
 * report, with the peer address, the status and the reason) to fn(arg, level, line); fn is
 * called from the server's threads, several at once.  fn NULL: no log.  Copied by
 * mxtls_serve_start().
 */
MXTLS_API void mxtls_serve_config_set_log(struct mxtls_serve_config *c,
					  void (*fn)(void *arg, enum mxtls_log_level level,
						     const char *line),
					  void *arg);

/* The i-th setting name (0-based), NULL past the last: the keys mxtls_serve_config_set()
 * takes. Static. */
MXTLS_API const char *mxtls_serve_config_key(size_t i);

/*
 * Loads every certificate, key and policy, binds every listen address and starts serving in
 * threads of the server's own (the caller's thread returns at once).  A policy that the
 * sender's parser rejects, a key that does not match its certificate, or a certificate that
 * does not name mta-sts.DOMAIN refuses the start; so does a report store that cannot be
 * opened (or created) or reports-path without reports-store.  The configuration is copied.
 * On MXTLS_OK *out is set (stop with mxtls_serve_stop()); otherwise MXTLS_E_CONFIG,
 * MXTLS_E_IO (a file, a socket or the report store; reason in err), MXTLS_E_INVAL (another
 * server is running in this process), MXTLS_E_NOMEM.  Signals are the caller's: block them
 * before the call so that the threads inherit the mask.
 */
MXTLS_API int mxtls_serve_start(const struct mxtls_serve_config *c, struct mxtls_serve **out,
				char *err, size_t errlen);

/*
 * Reads every policy file, certificate and key again (after a renewal) and serves them from
 * now on; connections in flight keep what they had.  All or nothing: on an error (the reason
 * in err) the server goes on serving what it served before.  Returns as mxtls_serve_start().
 */
MXTLS_API int mxtls_serve_reload(struct mxtls_serve *s, char *err, size_t errlen);

/* The number of domains served. */
MXTLS_API size_t mxtls_serve_domains(const struct mxtls_serve *s);

/* Stops accepting, closes every connection, frees the server; NULL is a no-op. */
MXTLS_API void mxtls_serve_stop(struct mxtls_serve *s);

#ifdef __cplusplus
}
#endif

#endif
