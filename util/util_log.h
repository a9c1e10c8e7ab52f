/* SPDX-License-Identifier: MIT */
/* Log dispatch: builds key=value lines and hands them to the caller-set callback. */
#ifndef MXTLS_UTIL_LOG_H
#define MXTLS_UTIL_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <mxtls/log.h>

#include "util/util_buf.h"

/* The longest line handed to a callback; a longer one is replaced by a log-line-too-long line. */
#define UTIL_LOG_LINE_MAX 4096

struct util_log {
	void (*fn)(void *arg, enum mxtls_log_level level, const char *line); /* NULL: silent */
	void *arg;
	enum mxtls_log_level max; /* levels above this are dropped */
};

/* True when a line at level would reach the callback (use it to skip expensive formatting). */
bool util_log_enabled(const struct util_log *log, enum mxtls_log_level level);

/*
 * Emits `id=<id> event=<event> k1=v1 k2=v2 ...`.  The variable arguments are pairs of
 * NUL-terminated strings (key, value), ended by a single NULL key.  Keys are programmer-chosen
 * identifiers ([a-z0-9_-]); values may be anything and are quoted as needed.  A NULL value
 * prints as `-`.  log may be NULL (nothing happens).
 */
void util_log_kv(const struct util_log *log, enum mxtls_log_level level, uint64_t id,
		 const char *event, ...) __attribute__((sentinel));
/* The same with the pairs in a va_list (for wrappers that add fixed pairs of their own). */
void util_log_kv_v(const struct util_log *log, enum mxtls_log_level level, uint64_t id,
		   const char *event, va_list ap);

/*
 * Appends v (n bytes) to b as a log value: bare when it consists only of printable ASCII
 * other than space, `"`, `\` and `=`, otherwise double-quoted with \" \\ \n \r \t and \xHH
 * escapes.  An empty value is written as "".  As util_buf_append() on errors.
 */
int util_log_append_value(struct util_buf *b, const char *v, size_t n);

#endif
