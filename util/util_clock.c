/* SPDX-License-Identifier: MIT */
/* The injectable wall clock (ARCHITECTURE.md convention 11). */
#include "util/util_clock.h"

#include <time.h>

int64_t util_clock_now(const struct util_clock *c)
{
	if (c != NULL && c->now != NULL)
		return c->now(c->arg);
	return (int64_t)time(NULL);
}

int64_t util_clock_fixed(void *arg)
{
	return *(const int64_t *)arg;
}
