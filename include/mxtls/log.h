/* SPDX-License-Identifier: MIT */
/* Logging: the library never writes to stdout/stderr; it hands key=value lines to a callback. */
#ifndef MXTLS_LOG_H
#define MXTLS_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MXTLS_API
#define MXTLS_API __attribute__((visibility("default")))
#endif

enum mxtls_log_level {
	MXTLS_LOG_ERROR = 0,
	MXTLS_LOG_WARNING = 1,
	MXTLS_LOG_INFO = 2,
	MXTLS_LOG_DEBUG = 3,
};

/*
 * A log callback receives one line without a trailing newline, made of space-separated
 * key=value pairs: `id=<decision id> event=<name> key=value ...`.  Values that contain spaces,
 * quotes, backslashes or non-printable bytes are double-quoted with C-style escapes, so a line
 * from hostile input can never forge another key or another line.  The line is borrowed: it is
 * valid only during the call.
 */

/* "error", "warning", "info" or "debug"; "unknown" for other values.  Static string. */
MXTLS_API const char *mxtls_log_level_name(enum mxtls_log_level level);

#ifdef __cplusplus
}
#endif
#endif
