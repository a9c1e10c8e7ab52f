/* SPDX-License-Identifier: MIT */
/* The policy server's log: key=value lines on stderr, one per event. */
#ifndef MXTLS_POLICYD_LOG_H
#define MXTLS_POLICYD_LOG_H

#include <mxtls/log.h>

/* Lines up to and including this level are written (default MXTLS_LOG_INFO). */
void policyd_log_set_level(enum mxtls_log_level max);
int policyd_log_enabled(enum mxtls_log_level level);

/*
 * Writes "level=<level> event=<event> k1=v1 k2=v2 ..." and a newline to stderr; the pairs are
 * (const char *key, const char *value) ended by a NULL key.  A value with blanks, quotes, '='
 * or control bytes is written in double quotes with \\, \" and \xNN escapes; NULL is "-".
 */
void policyd_log(enum mxtls_log_level level, const char *event, ...) __attribute__((sentinel));

/* The library's log callback: its lines are already key=value. */
void policyd_log_library(void *arg, enum mxtls_log_level level, const char *line);

#endif
