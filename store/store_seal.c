/* SPDX-License-Identifier: MIT */
/* Values sealed with the fleet's key (HMAC-SHA256, GnuTLS): Redis may lose them, not forge them. */
#include "store/store_seal.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <mxtls/error.h>

#define SEAL_TAG           "mxtls-sealed-v1"
#define MAC_LEN            32
#define EXPIRES_DIGITS_MAX 19

static bool names_ok(const char *scope, const char *name)
{
	return scope != NULL && name != NULL && strlen(scope) <= STORE_SEAL_NAME_MAX &&
	       strlen(name) <= STORE_SEAL_NAME_MAX;
}

/* HMAC over tag, scope, name, expires and payload, each but the last followed by a NUL (none
 * of them can hold one, so the pieces cannot be shifted into each other), in lower-case hex
 * (GnuTLS's encoder) into out. */
static int mac_hex(const void *key, size_t keylen, const char *scope, const char *name,
		   const char *expires, const void *payload, size_t plen, char out[2 * MAC_LEN + 1])
{
	gnutls_hmac_hd_t h;
	if (gnutls_hmac_init(&h, GNUTLS_MAC_SHA256, key, keylen) < 0)
		return MXTLS_E_NOMEM;
	const char *parts[] = {SEAL_TAG, scope, name, expires};
	int err = 0;
	for (size_t i = 0; i < 4; i++)
		err |= gnutls_hmac(h, parts[i], strlen(parts[i]) + 1);
	err |= gnutls_hmac(h, payload, plen);
	unsigned char m[MAC_LEN];
	gnutls_hmac_deinit(h, m);
	gnutls_datum_t d = {m, MAC_LEN};
	size_t n = 2 * MAC_LEN + 1;
	if (err < 0 || gnutls_hex_encode(&d, out, &n) < 0)
		return MXTLS_E_NOMEM;
	return MXTLS_OK;
}

int store_seal(const void *key, size_t keylen, const char *scope, const char *name, int64_t expires,
	       const void *payload, size_t plen, char **out, size_t *outlen)
{
	if (key == NULL || keylen < STORE_SEAL_KEY_MIN || keylen > STORE_SEAL_KEY_MAX ||
	    !names_ok(scope, name) || expires <= 0 || payload == NULL || plen == 0 ||
	    memchr(payload, '\0', plen) != NULL)
		return MXTLS_E_INVAL;
	char exp[24];
	snprintf(exp, sizeof exp, "%lld", (long long)expires);
	char mh[2 * MAC_LEN + 1];
	int rc = mac_hex(key, keylen, scope, name, exp, payload, plen, mh);
	if (rc != MXTLS_OK)
		return rc;
	size_t head = strlen(SEAL_TAG) + 1 + strlen(exp) + 1 + 2 * MAC_LEN + 1;
	char *v = malloc(head + plen + 1);
	if (v == NULL)
		return MXTLS_E_NOMEM;
	snprintf(v, head + 1, "%s %s %s ", SEAL_TAG, exp, mh);
	memcpy(v + head, payload, plen);
	v[head + plen] = '\0';
	*out = v;
	*outlen = head + plen;
	return MXTLS_OK;
}

__attribute__((format(printf, 3, 4))) static int bad(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (why != NULL && whylen > 0)
		vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return MXTLS_E_SYNTAX;
}

int store_seal_open(const void *key, size_t keylen, const char *scope, const char *name,
		    int64_t now, const char *value, size_t len, const char **payload, size_t *plen,
		    int64_t *expires, char *why, size_t whylen)
{
	if (key == NULL || keylen < STORE_SEAL_KEY_MIN || keylen > STORE_SEAL_KEY_MAX ||
	    !names_ok(scope, name) || (value == NULL && len > 0))
		return MXTLS_E_INVAL;
	size_t tag = strlen(SEAL_TAG);
	if (len < tag + 1 || memcmp(value, SEAL_TAG, tag) != 0 || value[tag] != ' ')
		return bad(why, whylen, "not a sealed value (no %s tag)", SEAL_TAG);
	if (memchr(value, '\0', len) != NULL)
		return bad(why, whylen, "a NUL byte in the value");
	/* EXPIRES */
	size_t p = tag + 1, d = 0;
	char exp[EXPIRES_DIGITS_MAX + 1];
	while (p < len && value[p] >= '0' && value[p] <= '9' && d < EXPIRES_DIGITS_MAX)
		exp[d++] = value[p++];
	exp[d] = '\0';
	if (d == 0 || exp[0] == '0' || p >= len || value[p] != ' ')
		return bad(why, whylen, "malformed expiry");
	p++;
	long long e = strtoll(exp, NULL, 10);     /* 19 digits can overflow: strtoll clamps, and */
	if (e <= 0 || e == 9223372036854775807LL) /* the clamped value is refused */
		return bad(why, whylen, "expiry out of range");
	/* MAC */
	if (len - p < 2 * MAC_LEN + 1 || value[p + 2 * MAC_LEN] != ' ')
		return bad(why, whylen, "malformed MAC");
	const char *got = value + p;
	for (size_t i = 0; i < 2 * MAC_LEN; i++)
		if (!((got[i] >= '0' && got[i] <= '9') || (got[i] >= 'a' && got[i] <= 'f')))
			return bad(why, whylen, "malformed MAC");
	p += 2 * MAC_LEN + 1;
	if (p >= len)
		return bad(why, whylen, "empty payload");
	char want[2 * MAC_LEN + 1];
	int rc = mac_hex(key, keylen, scope, name, exp, value + p, len - p, want);
	if (rc != MXTLS_OK)
		return rc;
	/* Compared in constant time (gnutls_memcmp): how much of a forged MAC matched must not
	 * show. */
	if (gnutls_memcmp(got, want, 2 * MAC_LEN) != 0)
		return bad(why, whylen,
			   "MAC does not match (another key, another name, or changed)");
	if (e <= now)
		return MXTLS_E_NOTFOUND;
	*payload = value + p;
	*plen = len - p;
	*expires = e;
	return MXTLS_OK;
}
