/* SPDX-License-Identifier: MIT */
/* A small streaming JSON writer for --json output (one document on stdout). */
#ifndef MXTLS_CLI_JSON_H
#define MXTLS_CLI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_JSON_DEPTH_MAX 16

/* Writer state: commas and nesting are tracked so callers only name members and values. */
struct cli_json {
	FILE *out;         /* borrowed */
	int depth;
	bool first[CLI_JSON_DEPTH_MAX]; /* no member written yet at this depth */
};

void cli_json_init(struct cli_json *j, FILE *out);

/* Containers.  key is the member name inside an object, NULL inside an array or at the top. */
void cli_json_object_begin(struct cli_json *j, const char *key);
void cli_json_object_end(struct cli_json *j);
void cli_json_array_begin(struct cli_json *j, const char *key);
void cli_json_array_end(struct cli_json *j); /* also ends the document with a newline at depth 0 */

/* Scalars; s may be NULL (written as null).  Strings are escaped as RFC 8259 requires. */
void cli_json_string(struct cli_json *j, const char *key, const char *s);
void cli_json_string_n(struct cli_json *j, const char *key, const char *s, size_t n);
void cli_json_int(struct cli_json *j, const char *key, int64_t v);
void cli_json_bool(struct cli_json *j, const char *key, bool v);
void cli_json_null(struct cli_json *j, const char *key);

#endif
