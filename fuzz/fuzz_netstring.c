/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: a socketmap client's byte stream as the policy server reads it
 * (policyd/policyd_netstring.c), netstring after netstring, each payload parsed as a request
 * (policyd/policyd_key.c).  The first byte picks the size cap, so the caps are fuzzed too. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "policyd/policyd_key.h"
#include "policyd/policyd_netstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t max = (size_t)data[0] * 8;
	const char *buf = (const char *)data + 1;
	size_t len = size - 1, off = 0;
	while (off < len) {
		const char *payload;
		size_t plen, used;
		enum policyd_netstring r =
			policyd_netstring_decode(buf + off, len - off, max, &payload, &plen, &used);
		if (r != POLICYD_NETSTRING_DONE)
			break;
		/* Invariants: progress, the payload inside the input and within the cap. */
		if (used == 0 || used > len - off || plen > max || payload < buf + off ||
		    payload + plen > buf + off + used || buf[off + used - 1] != ',')
			__builtin_trap();
		struct policyd_request req;
		if (policyd_request_parse(payload, plen, &req) == 0) {
			if (req.kind == POLICYD_KEY_DOMAIN) {
				size_t dl = strlen(req.domain);
				if (dl == 0 || dl > 253 || req.domain[dl - 1] == '.')
					__builtin_trap();
				for (size_t i = 0; i < dl; i++)
					if (req.domain[i] >= 'A' && req.domain[i] <= 'Z')
						__builtin_trap();
			}
			if (req.kind == POLICYD_KEY_INVALID && req.why == NULL)
				__builtin_trap();
		} else if (req.why == NULL) {
			__builtin_trap();
		}
		off += used;
	}
	return 0;
}
