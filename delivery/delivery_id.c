/* SPDX-License-Identifier: MIT */
/* Queue ids (delivery_id.h): formatting and the strict check applied before any file access. */
#include "delivery/delivery_id.h"

static const char hex[] = "0123456789ABCDEF";

void delivery_id_format(uint64_t usec, uint32_t rnd, char out[DELIVERY_ID_LEN + 1])
{
	for (int i = DELIVERY_ID_TIME_DIGITS - 1; i >= 0; i--, usec >>= 4)
		out[i] = hex[usec & 0xf];
	for (int i = DELIVERY_ID_LEN - 1; i >= DELIVERY_ID_TIME_DIGITS; i--, rnd >>= 4)
		out[i] = hex[rnd & 0xf];
	out[DELIVERY_ID_LEN] = '\0';
}

bool delivery_id_valid(const char *s, size_t len)
{
	if (s == NULL || len != DELIVERY_ID_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}
