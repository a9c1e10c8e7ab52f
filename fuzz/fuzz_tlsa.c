/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: TLSA records from DNS rdata and from presentation text (dane/dane_tlsa.c),
 * then digest-agility selection over the pair. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mxtls/error.h>

#include "dane/dane_tlsa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dane_tlsa set[2];
	if (dane_tlsa_from_rdata(data, size, &set[0]) != MXTLS_OK)
		return 0;
	if (dane_tlsa_from_text((const char *)data, size, &set[1]) != MXTLS_OK) {
		dane_tlsa_clear(&set[0]);
		return 0;
	}
	/* Invariants: a usable record has a reason of NULL and data of a legal size. */
	for (int i = 0; i < 2; i++) {
		if (set[i].usable && (set[i].reason != NULL || set[i].len == 0 ||
				      set[i].len > DANE_TLSA_DATA_MAX))
			__builtin_trap();
		if (!set[i].usable && set[i].reason == NULL)
			__builtin_trap();
		if (set[i].text == NULL)
			__builtin_trap();
	}
	size_t usable = dane_tlsa_select(set, 2);
	if (usable > 2)
		__builtin_trap();
	dane_tlsa_clear(&set[0]);
	dane_tlsa_clear(&set[1]);
	return 0;
}
