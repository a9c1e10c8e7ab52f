/* SPDX-License-Identifier: MIT */
/* mxtls error codes: one negative enum for every function that can fail. */
#ifndef MXTLS_ERROR_H
#define MXTLS_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MXTLS_API
#define MXTLS_API __attribute__((visibility("default")))
#endif

/*
 * Errors are negative, MXTLS_OK is zero.  Values are explicit and never reused, so a number
 * seen in a log means the same thing in every release.  Security verdicts (authenticated,
 * RFC 8460 result types) are a separate enum and are never expressed as one of these.
 */
enum mxtls_error {
	MXTLS_OK = 0,
	MXTLS_E_NOMEM = -1,     /* out of memory */
	MXTLS_E_INVAL = -2,     /* invalid argument (a caller bug) */
	MXTLS_E_LIMIT = -3,     /* a named size or count cap was reached */
	MXTLS_E_TRUNCATED = -4, /* input ended in the middle of an item */
	MXTLS_E_SYNTAX = -5,    /* malformed input */
	MXTLS_E_IO = -6,        /* reading or writing a file or socket failed */
	MXTLS_E_NOTFOUND = -7,  /* no such item */
	MXTLS_E_CONFIG = -8,    /* invalid or unusable configuration */
	MXTLS_E_TEMPFAIL = -9,  /* temporary failure (DNS SERVFAIL, refused connection): retry */
	MXTLS_E_DNSSEC = -10,   /* DNSSEC validation failed: bogus or indeterminate answer */
	MXTLS_E_TLS = -11,      /* TLS handshake or record layer failure */
	MXTLS_E_TIMEOUT = -12,  /* an operation did not finish in time */
	MXTLS_E_INTERNAL = -13, /* an internal invariant failed (a bug in mxtls) */
};

/*
 * A short English description of err, e.g. "a size limit was reached".  Never NULL: unknown
 * values give "unknown error".  The string is static (never free it).
 */
MXTLS_API const char *mxtls_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
