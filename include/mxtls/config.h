/* SPDX-License-Identifier: MIT */
/* Configuration: string-keyed settings, loadable from an mxtls.conf file (`key = value`). */
#ifndef MXTLS_CONFIG_H
#define MXTLS_CONFIG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MXTLS_API
#define MXTLS_API __attribute__((visibility("default")))
#endif

/*
 * Library settings, keyed by the names of the command's long options (doc/mxtls.1):
 *   unbound-conf  libunbound configuration file (unbound.conf syntax); replaces the built-in
 *                 set-up (full recursion from the root, trust anchor /usr/share/dns/root.key)
 *   ca-file       PEM file of roots trusted for the Web PKI; default: the system store
 *   state-dir     directory for persistent state (policy cache, report data)
 *   sts-timeout, connect-timeout, smtp-timeout   seconds (doc/mxtls.1)
 *   tlsrpt-organization  RFC 8460 organization-name of the reports written (text)
 *   tlsrpt-contact       RFC 8460 contact-info: an address local@domain
 *   tlsrpt-submitter     the reporting domain in report file names (RFC 8460 §5.1) and
 *                        report-ids; default: the domain of tlsrpt-contact
 *   tlsrpt-send          "always" (default: a report for every day with sessions) or
 *                        "failures" (only for days with at least one failure)
 *   tlsrpt-keep-days     days of results kept in STATE_DIR/tlsrpt.sqlite (2-3660, default 30)
 * Keys the library does not know may be handled by the application (see app_key below).
 */
struct mxtls_config;

/* A new, empty configuration.  On success *out is set; caller frees with mxtls_config_free(). */
MXTLS_API int mxtls_config_new(struct mxtls_config **out);

/* Frees cfg; mxtls_config_free(NULL) is a no-op. */
MXTLS_API void mxtls_config_free(struct mxtls_config *cfg);

/*
 * Sets key to value (both borrowed; copied).  A later set of the same key replaces the earlier
 * value, which is how the command line overrides the file.  Returns MXTLS_OK,
 * MXTLS_E_NOTFOUND for an unknown key, MXTLS_E_CONFIG for a bad value (reason in err, which
 * may be NULL), MXTLS_E_NOMEM.  On failure cfg is unchanged.
 */
MXTLS_API int mxtls_config_set(struct mxtls_config *cfg, const char *key, const char *value,
			       char *err, size_t errlen);

/* The value of key, or NULL when unset or unknown.  Borrowed: valid until cfg is changed. */
MXTLS_API const char *mxtls_config_get(const struct mxtls_config *cfg, const char *key);

/*
 * A callback for keys the library does not know.  Return 0 to accept the key, MXTLS_E_NOTFOUND
 * for "unknown key", or MXTLS_E_CONFIG with a reason written to err (errlen bytes).
 */
struct mxtls_config_app {
	int (*key)(void *arg, const char *key, const char *value, char *err, size_t errlen);
	void *arg;
	/* Application keys that may appear more than once (each line reaches key() in order),
	 * NULL-terminated; NULL: none. */
	const char *const *repeatable;
};

/*
 * Loads `key = value` lines from the buffer text (len bytes; need not be NUL-terminated).
 * Syntax: one setting per line, LF or CRLF line ends; blank lines and lines whose first
 * non-blank character is `#` are ignored; white space around key and value is trimmed; a value
 * is everything after the first `=` (it may contain `#` and `=`); a key may appear only once.
 * name labels error messages ("<name>:<line>: <reason>").  app may be NULL.
 * All-or-nothing for cfg: on any error cfg is left as it was (app callbacks already made are not
 * undone).  Returns MXTLS_OK, MXTLS_E_CONFIG (bad syntax, unknown key, bad value, duplicate),
 * MXTLS_E_LIMIT (file or line too long), MXTLS_E_NOMEM.
 */
MXTLS_API int mxtls_config_load_buffer(struct mxtls_config *cfg, const char *name, const char *text,
				       size_t len, const struct mxtls_config_app *app, char *err,
				       size_t errlen);

/*
 * Reads path (at most 1 MiB) and loads it as mxtls_config_load_buffer() does.  Returns also
 * MXTLS_E_IO when the file cannot be read (reason with strerror in err).
 */
MXTLS_API int mxtls_config_load_file(struct mxtls_config *cfg, const char *path,
				     const struct mxtls_config_app *app, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
