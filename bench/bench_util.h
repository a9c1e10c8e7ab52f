/* SPDX-License-Identifier: MIT */
/* What every benchmark program measures with: a clock and the median of its rounds. */
#ifndef MXTLS_BENCH_UTIL_H
#define MXTLS_BENCH_UTIL_H

#include <stddef.h>
#include <time.h>

/* The clock id (CLOCK_MONOTONIC, CLOCK_THREAD_CPUTIME_ID, ...) in seconds. */
double bench_now(clockid_t id);

/* The median of v[0..n-1] (n >= 1; v is not changed).  *lo and *hi receive the smallest and
 * the largest value, *spread (hi - lo) / median (0 when the median is 0); each may be NULL. */
double bench_median(const double *v, size_t n, double *lo, double *hi, double *spread);

#endif
