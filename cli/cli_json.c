/* SPDX-License-Identifier: MIT */
/* The JSON writer behind --json, on jansson (ARCHITECTURE.md: JSON is read and written with one
 * library, never by hand).  The callers stream members and values; the document is built as a
 * jansson tree and written when its outermost container closes. */
#include "cli_json.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

void cli_json_init(struct cli_json *j, FILE *out)
{
	memset(j, 0, sizeof *j);
	j->out = out;
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

/*
 * RFC 8259 §8.1: JSON text is UTF-8.  Well-formed UTF-8 (an SMTPUTF8 address, a reply in
 * another language) goes out as it is; a byte that starts no well-formed sequence (hostile
 * bytes from the network) becomes U+FFFD, so that jansson, which takes only valid UTF-8, takes
 * every string and the output is always valid UTF-8.  Control bytes are escaped by jansson.
 */
static json_t *string_value(const char *s, size_t n)
{
	char *clean = malloc(n * 3 + 1); /* each bad byte becomes EF BF BD */
	if (clean == NULL)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : utf8_len((const unsigned char *)s + i, n - i);
		if (len == 0) {
			memcpy(clean + k, "\xef\xbf\xbd", 3);
			k += 3;
			i++;
			continue;
		}
		memcpy(clean + k, s + i, len);
		k += len;
		i += len;
	}
	json_t *v = json_stringn(clean, k);
	free(clean);
	return v;
}

/* Puts v (a new reference; NULL when memory ran out) as member key of the open object, or
 * appends it to the open array, or makes it the document.  A value that cannot be made is
 * written as null: the document keeps its shape. */
static void put(struct cli_json *j, const char *key, json_t *v)
{
	if (v == NULL)
		v = json_null();
	if (j->depth == 0) {
		json_decref(j->root);
		j->root = v;
		return;
	}
	json_t *parent = j->stack[j->depth - 1];
	if (json_is_object(parent))
		json_object_set_new(parent, key != NULL ? key : "", v);
	else
		json_array_append_new(parent, v);
}

static void open_container(struct cli_json *j, const char *key, json_t *c)
{
	assert(j->depth < CLI_JSON_DEPTH_MAX);
	if (c == NULL)
		c = json_null(); /* out of memory: members put into it are dropped */
	put(j, key, json_incref(c));
	j->stack[j->depth++] = c;
}

/* Closing the outermost container writes the document and a newline. */
static void close_container(struct cli_json *j)
{
	assert(j->depth > 0);
	json_decref(j->stack[--j->depth]);
	if (j->depth > 0)
		return;
	if (j->root == NULL || json_dumpf(j->root, j->out, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0)
		fputs("null", j->out);
	fputc('\n', j->out);
	json_decref(j->root);
	j->root = NULL;
}

void cli_json_object_begin(struct cli_json *j, const char *key)
{
	open_container(j, key, json_object());
}

void cli_json_object_end(struct cli_json *j)
{
	close_container(j);
}

void cli_json_array_begin(struct cli_json *j, const char *key)
{
	open_container(j, key, json_array());
}

void cli_json_array_end(struct cli_json *j)
{
	close_container(j);
}

void cli_json_string(struct cli_json *j, const char *key, const char *s)
{
	put(j, key, s != NULL ? string_value(s, strlen(s)) : json_null());
}

void cli_json_string_n(struct cli_json *j, const char *key, const char *s, size_t n)
{
	put(j, key, s != NULL ? string_value(s, n) : json_null());
}

void cli_json_int(struct cli_json *j, const char *key, int64_t v)
{
	put(j, key, json_integer((json_int_t)v));
}

void cli_json_bool(struct cli_json *j, const char *key, bool v)
{
	put(j, key, json_boolean(v));
}

void cli_json_null(struct cli_json *j, const char *key)
{
	put(j, key, json_null());
}
