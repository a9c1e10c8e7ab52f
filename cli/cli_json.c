/* SPDX-License-Identifier: MIT */
/* The JSON writer behind --json. */
#include "cli_json.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

void cli_json_init(struct cli_json *j, FILE *out)
{
	j->out = out;
	j->depth = 0;
	j->first[0] = true;
}

static void put_escaped(FILE *out, const char *s, size_t n)
{
	fputc('"', out);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			/* Control bytes and anything non-ASCII are escaped, so hostile bytes from the
			 * network cannot produce invalid UTF-8 in our output. */
			if (c < 0x20 || c >= 0x7f)
				fprintf(out, "\\u%04x", c);
			else
				fputc(c, out);
		}
	}
	fputc('"', out);
}

/* Writes the separator and, inside an object, the member name. */
static void member(struct cli_json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->out);
	j->first[j->depth] = false;
	if (key != NULL) {
		put_escaped(j->out, key, strlen(key));
		fputc(':', j->out);
	}
}

static void open_container(struct cli_json *j, const char *key, char c)
{
	member(j, key);
	fputc(c, j->out);
	assert(j->depth + 1 < CLI_JSON_DEPTH_MAX);
	j->first[++j->depth] = true;
}

static void close_container(struct cli_json *j, char c)
{
	assert(j->depth > 0);
	fputc(c, j->out);
	if (--j->depth == 0)
		fputc('\n', j->out);
}

void cli_json_object_begin(struct cli_json *j, const char *key)
{
	open_container(j, key, '{');
}

void cli_json_object_end(struct cli_json *j)
{
	close_container(j, '}');
}

void cli_json_array_begin(struct cli_json *j, const char *key)
{
	open_container(j, key, '[');
}

void cli_json_array_end(struct cli_json *j)
{
	close_container(j, ']');
}

void cli_json_string_n(struct cli_json *j, const char *key, const char *s, size_t n)
{
	member(j, key);
	if (s == NULL)
		fputs("null", j->out);
	else
		put_escaped(j->out, s, n);
}

void cli_json_string(struct cli_json *j, const char *key, const char *s)
{
	cli_json_string_n(j, key, s, s != NULL ? strlen(s) : 0);
}

void cli_json_int(struct cli_json *j, const char *key, int64_t v)
{
	member(j, key);
	fprintf(j->out, "%" PRId64, v);
}

void cli_json_bool(struct cli_json *j, const char *key, bool v)
{
	member(j, key);
	fputs(v ? "true" : "false", j->out);
}

void cli_json_null(struct cli_json *j, const char *key)
{
	member(j, key);
	fputs("null", j->out);
}
