/* SPDX-License-Identifier: MIT */
/* A value the fleet shares through Redis, sealed with the fleet's key so that Redis cannot forge
 * it (HMAC-SHA256). */
#ifndef MXTLS_STORE_SEAL_H
#define MXTLS_STORE_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define STORE_SEAL_KEY_MIN  32 /* bytes of key: a shorter one is refused */
#define STORE_SEAL_KEY_MAX  1024
#define STORE_SEAL_NAME_MAX 300 /* scope and name, each */

/*
 * The sealed value, text without NUL:
 *     "mxtls-sealed-v1" SP EXPIRES SP MAC SP PAYLOAD
 *     EXPIRES = 1*19DIGIT   Unix seconds, no leading zero
 *     MAC     = 64HEXLOWER  HMAC-SHA256(key, "mxtls-sealed-v1" NUL scope NUL name NUL EXPIRES
 *                                             NUL PAYLOAD)
 *     PAYLOAD = 1*(any byte but NUL)
 * The scope and name are not in the value but in the MAC: a value is good only for the key it
 * was written under (a domain's answer cannot be replayed for another domain, nor for members
 * whose answers are made differently), and only until EXPIRES.
 */

/* Seals payload (plen bytes, no NUL) for scope/name until expires into *out (NUL-terminated,
 * caller frees with free()).  Returns MXTLS_OK, MXTLS_E_INVAL (key size, names, payload),
 * MXTLS_E_NOMEM. */
int store_seal(const void *key, size_t keylen, const char *scope, const char *name, int64_t expires,
	       const void *payload, size_t plen, char **out, size_t *outlen);

/*
 * Opens value (len bytes, untrusted: from Redis) for scope/name at now: *payload points into
 * value (plen bytes), *expires is its end.  Returns MXTLS_OK; MXTLS_E_SYNTAX (malformed, or a
 * MAC that does not match: sealed with another key, for another name, or changed; why says
 * which); MXTLS_E_NOTFOUND (expired at now); MXTLS_E_INVAL (key size, names).  Pure: no I/O,
 * no clock.
 */
int store_seal_open(const void *key, size_t keylen, const char *scope, const char *name,
		    int64_t now, const char *value, size_t len, const char **payload, size_t *plen,
		    int64_t *expires, char *why, size_t whylen);

#endif
