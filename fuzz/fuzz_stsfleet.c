/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: a fleet member's shared policy as Redis sends it (issue 20): the bytes as
 * a RESP reply (hiredis's reader, then store/store_redis.c's check of an HGETALL reply), its
 * fields as a policy (sts/sts_cache_fleet.c: sts_fleet_decode), with the invariants of each. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mxtls/error.h>

#include "store/store_redis.h"
#include "sts/sts_cache_fleet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1796000000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_field *f = NULL;
	size_t nf = 0, used = 0;
	char why[256] = "";
	int rc = store_redis_parse_hash(data, size, &f, &nf, &used, why, sizeof why);
	if (rc != MXTLS_OK) {
		if (f != NULL || nf != 0)
			__builtin_trap();
		if (rc == MXTLS_E_SYNTAX && why[0] == '\0')
			__builtin_trap();
		return 0;
	}
	if (nf == 0 || nf > 32 || used == 0 || used > size)
		__builtin_trap();
	struct sts_cache_entry e;
	memset(&e, 0, sizeof e);
	why[0] = '\0';
	rc = sts_fleet_decode("fuzz.test", f, nf, NOW, &e, why, sizeof why);
	if (rc == MXTLS_OK) {
		/* What the local file will take: a whole, consistent, unexpired policy. */
		if (strcmp(e.domain, "fuzz.test") != 0 || e.id[0] == '\0' || strlen(e.id) > 32 ||
		    e.text == NULL || e.len == 0 || e.expires_at != e.fetched_at + e.max_age ||
		    e.expires_at <= NOW || e.fetched_at > NOW + STS_FLEET_SKEW ||
		    (e.mode != STS_MODE_ENFORCE && e.mode != STS_MODE_TESTING &&
		     e.mode != STS_MODE_NONE) ||
		    (e.mode != STS_MODE_NONE && e.nmx == 0))
			__builtin_trap();
		sts_cache_entry_clear(&e);
	} else if (rc == MXTLS_E_SYNTAX) {
		if (why[0] == '\0')
			__builtin_trap();
	} else if (rc != MXTLS_E_NOTFOUND && rc != MXTLS_E_NOMEM) {
		__builtin_trap();
	}
	store_fields_free(f, nf);
	return 0;
}
