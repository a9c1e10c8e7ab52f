/* SPDX-License-Identifier: MIT */
/* Writing a reason into a caller's (err, errlen) buffer, the error-reporting convention of the
 * library's functions. */
#ifndef MXTLS_UTIL_ERRMSG_H
#define MXTLS_UTIL_ERRMSG_H

#include <stddef.h>

/* vsnprintf(err, errlen, fmt, ...) when err is not NULL and errlen not 0; else nothing. */
void util_errmsg(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
