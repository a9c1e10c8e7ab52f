/* SPDX-License-Identifier: MIT */
/* The parser of `key = value` configuration text, on top of the bounded reader. */
#include "util/util_kv.h"

#include <stdbool.h>
#include <stdint.h>

#include <mxtls/error.h>

#include "util/util_reader.h"
#include "util/util_text.h"

static bool is_key_char(uint8_t c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return true;
	return !first && c == '-';
}

static void trim(const uint8_t **p, size_t *n)
{
	while (*n > 0 && util_is_wsp((*p)[0])) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && util_is_wsp((*p)[*n - 1]))
		(*n)--;
}

static int fail(struct util_kv_error *err, size_t line, const char *reason, int rc)
{
	if (err != NULL) {
		err->line = line;
		err->reason = reason;
	}
	return rc;
}

/* Splits and checks one non-comment, non-blank line, then hands it to the handler. */
static int parse_setting(const uint8_t *p, size_t n, size_t line, const struct util_kv_handler *h,
			 struct util_kv_error *err)
{
	size_t eq = 0;
	while (eq < n && p[eq] != '=')
		eq++;
	if (eq == n)
		return fail(err, line, "expected 'key = value'", MXTLS_E_SYNTAX);

	const uint8_t *key = p;
	size_t klen = eq;
	trim(&key, &klen);
	if (klen == 0)
		return fail(err, line, "missing key before '='", MXTLS_E_SYNTAX);
	for (size_t i = 0; i < klen; i++) {
		if (!is_key_char(key[i], i == 0))
			return fail(err, line,
				    "invalid key: use lower-case letters, digits and '-'",
				    MXTLS_E_SYNTAX);
	}

	const uint8_t *value = p + eq + 1;
	size_t vlen = n - eq - 1;
	trim(&value, &vlen);
	if (vlen == 0)
		return fail(err, line, "missing value after '='", MXTLS_E_SYNTAX);
	for (size_t i = 0; i < vlen; i++) {
		if ((value[i] < 0x20 && value[i] != '\t') || value[i] == 0x7f)
			return fail(err, line, "control character in value", MXTLS_E_SYNTAX);
	}

	const char *reason = NULL;
	int rc = h->pair(h->arg, line, (const char *)key, klen, (const char *)value, vlen, &reason);
	if (rc != MXTLS_OK)
		return fail(err, line, reason != NULL ? reason : "setting rejected", rc);
	return MXTLS_OK;
}

int util_kv_parse(const char *text, size_t len, const struct util_kv_handler *h,
		  struct util_kv_error *err)
{
	struct util_reader r;
	util_reader_init(&r, text, len);
	for (size_t line = 1;; line++) {
		const uint8_t *p;
		size_t n;
		enum util_line_end end;
		int rc = util_reader_line(&r, UTIL_KV_LINE_MAX, &p, &n, &end);
		if (rc == MXTLS_E_NOTFOUND)
			return MXTLS_OK;
		if (rc == MXTLS_E_LIMIT)
			return fail(err, line, "line too long", rc);
		if (rc != MXTLS_OK)
			return fail(err, line, "NUL byte or bare carriage return", rc);

		trim(&p, &n);
		if (n == 0 || p[0] == '#')
			continue;
		rc = parse_setting(p, n, line, h, err);
		if (rc != MXTLS_OK)
			return rc;
	}
}
