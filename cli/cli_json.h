/* SPDX-License-Identifier: MIT */
/* The JSON writer for --json output (one document on stdout), on jansson. */
#ifndef MXTLS_CLI_JSON_H
#define MXTLS_CLI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_JSON_DEPTH_MAX 16

struct json_t;

/* Writer state: the document being built and the open containers, so that callers only name
 * members and values. */
struct cli_json {
	FILE *out; /* borrowed */
	int depth;
	struct json_t *root;                      /* the document */
	struct json_t *stack[CLI_JSON_DEPTH_MAX]; /* the open containers, outermost first */
};

void cli_json_init(struct cli_json *j, FILE *out);

/* Containers.  key is the member name inside an object, NULL inside an array or at the top. */
void cli_json_object_begin(struct cli_json *j, const char *key);
void cli_json_object_end(struct cli_json *j);
void cli_json_array_begin(struct cli_json *j, const char *key);
void cli_json_array_end(struct cli_json *j);
/* Closing the outermost container writes the whole document, then a newline. */

/* Scalars; s may be NULL (written as null).  Strings are escaped as RFC 8259 requires. */
void cli_json_string(struct cli_json *j, const char *key, const char *s);
void cli_json_string_n(struct cli_json *j, const char *key, const char *s, size_t n);
void cli_json_int(struct cli_json *j, const char *key, int64_t v);
void cli_json_bool(struct cli_json *j, const char *key, bool v);
void cli_json_null(struct cli_json *j, const char *key);

#endif
