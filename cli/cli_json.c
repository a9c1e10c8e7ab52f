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

/*
 * The length of the UTF-8 sequence at p (n bytes left) when it is well formed as RFC 3629 §4
 * defines it (no overlong forms, no surrogates, nothing above U+10FFFF), else 0.
 */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf; /* the range of the second byte */
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
	} else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
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
			/* RFC 8259 §8.1: JSON text is UTF-8.  Well-formed UTF-8 (an SMTPUTF8
			 * address, a reply in another language) goes out as it is; control bytes are
			 * escaped; a byte that starts no well-formed sequence (hostile bytes from the
			 * network) becomes U+FFFD, so the output is always valid UTF-8. */
			if (c < 0x20 || c == 0x7f) {
				fprintf(out, "\\u%04x", c);
			} else if (c < 0x80) {
				fputc(c, out);
			} else {
				size_t len = utf8_len((const unsigned char *)s + i, n - i);
				if (len == 0) {
					fputs("\\ufffd", out);
				} else {
					fwrite(s + i, 1, len, out);
					i += len - 1;
				}
			}
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
