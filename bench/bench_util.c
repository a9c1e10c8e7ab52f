/* SPDX-License-Identifier: MIT */
/* What every benchmark program measures with: a clock and the median of its rounds. */
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double bench_now(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double bench_median(const double *v, size_t n, double *lo, double *hi, double *spread)
{
	double *s = malloc(n * sizeof *s);
	if (s == NULL) {
		fputs("bench: out of memory\n", stderr);
		exit(2);
	}
	memcpy(s, v, n * sizeof *s);
	qsort(s, n, sizeof *s, cmp_double);
	double m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	if (lo != NULL)
		*lo = s[0];
	if (hi != NULL)
		*hi = s[n - 1];
	if (spread != NULL)
		*spread = m > 0 ? (s[n - 1] - s[0]) / m : 0;
	free(s);
	return m;
}
