/* SPDX-License-Identifier: MIT */
/* The parser of `key = value` configuration text (mxtls.conf).  Pure: no I/O, no globals. */
#ifndef MXTLS_UTIL_KV_H
#define MXTLS_UTIL_KV_H

#include <stddef.h>

/* The longest configuration line accepted, without its terminator. */
#define UTIL_KV_LINE_MAX 4096

/* Where and why parsing stopped.  reason is a static string. */
struct util_kv_error {
	size_t line; /* 1-based; 0 when not tied to a line */
	const char *reason;
};

/*
 * Called once per setting, in file order, with the 1-based line number.  key and value are
 * borrowed pointers into the input and are NOT NUL-terminated.  key matches [a-z0-9][a-z0-9-]*;
 * value is non-empty, trimmed of blanks at both ends, and holds no control characters other
 * than TAB.  Return MXTLS_OK to continue; any other value stops the parse and is returned, with
 * the reason the callback stored in *reason (a static string; NULL keeps a generic one).
 */
struct util_kv_handler {
	int (*pair)(void *arg, size_t line, const char *key, size_t klen, const char *value,
		    size_t vlen, const char **reason);
	void *arg;
};

/*
 * Parses len bytes of text.  Lines end in LF or CRLF; the last may lack one.  Blank lines and
 * lines whose first non-blank character is `#` are skipped.  A setting is `key = value`, blanks
 * (space, TAB) allowed around both; the value is everything after the first `=`.
 * Returns MXTLS_OK, or on the first problem: MXTLS_E_SYNTAX (missing `=`, bad key, empty
 * value, control character, NUL, bare CR), MXTLS_E_LIMIT (line longer than UTIL_KV_LINE_MAX),
 * or the handler's error; *err (may be NULL) says where and why.
 */
int util_kv_parse(const char *text, size_t len, const struct util_kv_handler *h,
		  struct util_kv_error *err);

#endif
