/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: a fleet's shared answer as Redis returns it (issue 20), opened with the
 * fleet's key (store/store_seal.c); and any payload sealed, then opened again. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "store/store_seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The key, scope and name of the unit test's reference value (tests/unit/test_store.c), so that
 * its seed opens. */
#define KEY   "0123456789abcdef0123456789abcdef"
#define SCOPE "policyd-v2-tlsrpt=0"
#define NAME  "example.com"
#define NOW   1999999999LL

/* First byte 's': the rest is a payload to seal and open again; anything else: the whole input
 * is a value from Redis. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *payload = NULL;
	size_t plen = 0;
	int64_t expires = 0;
	char why[200] = "";
	if (size > 0 && data[0] == 's') {
		char *v = NULL;
		size_t vlen = 0;
		int rc = store_seal(KEY, 32, SCOPE, NAME, NOW + 60, data + 1, size - 1, &v, &vlen);
		bool sealable = size > 1 && memchr(data + 1, '\0', size - 1) == NULL;
		if ((rc == MXTLS_OK) != sealable)
			__builtin_trap();
		if (rc != MXTLS_OK)
			return 0;
		if (strlen(v) != vlen)
			__builtin_trap();
		rc = store_seal_open(KEY, 32, SCOPE, NAME, NOW, v, vlen, &payload, &plen, &expires,
				     why, sizeof why);
		if (rc != MXTLS_OK || plen != size - 1 || memcmp(payload, data + 1, plen) != 0 ||
		    expires != NOW + 60)
			__builtin_trap();
		/* Another name never opens it. */
		if (store_seal_open(KEY, 32, SCOPE, "example.net", NOW, v, vlen, &payload, &plen,
				    &expires, why, sizeof why) != MXTLS_E_SYNTAX)
			__builtin_trap();
		free(v);
		return 0;
	}
	int rc = store_seal_open(KEY, 32, SCOPE, NAME, NOW, (const char *)data, size, &payload,
				 &plen, &expires, why, sizeof why);
	if (rc == MXTLS_E_SYNTAX && why[0] == '\0')
		__builtin_trap();
	if (rc != MXTLS_OK)
		return 0;
	/* Accepted: a non-empty payload inside the input, unexpired, and exactly what sealing it
	 * again gives. */
	const char *in = (const char *)data;
	if (plen == 0 || payload < in || payload + plen != in + size || expires <= NOW ||
	    memchr(payload, '\0', plen) != NULL)
		__builtin_trap();
	char *v = NULL;
	size_t vlen = 0;
	if (store_seal(KEY, 32, SCOPE, NAME, expires, payload, plen, &v, &vlen) != MXTLS_OK ||
	    vlen != size || memcmp(v, data, size) != 0)
		__builtin_trap();
	free(v);
	return 0;
}
