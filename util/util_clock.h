/* SPDX-License-Identifier: MIT */
/* The injectable wall clock: tests pin the instant, production reads time(). */
#ifndef MXTLS_UTIL_CLOCK_H
#define MXTLS_UTIL_CLOCK_H

#include <stdint.h>

struct util_clock {
	int64_t (*now)(void *arg); /* NULL: the system clock */
	void *arg;
};

/* The current time in Unix seconds according to c (NULL c: the system clock). */
int64_t util_clock_now(const struct util_clock *c);

/* A clock source for tests: arg points to an int64_t holding the pinned instant. */
int64_t util_clock_fixed(void *arg);

#endif
