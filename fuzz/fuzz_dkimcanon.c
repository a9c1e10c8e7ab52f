/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the relaxed body canonicaliser (whole and in two pieces, and again on its
 * own output), the header walk and the relaxed header canonicaliser (dkim/dkim_canon.c). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mxtls/error.h>

#include "dkim/dkim_canon.h"
#include "util/util_buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP (4 * 1024 * 1024)

static void check_body(const char *p, size_t n)
{
	/* Relaxed canonical form: empty, or lines ending CRLF with no WSP before a CRLF, no TAB,
	 * no two SP in a row, and not ending with an empty line. */
	if (n == 0)
		return;
	if (n < 2 || p[n - 2] != '\r' || p[n - 1] != '\n')
		__builtin_trap();
	if (n >= 4 && memcmp(p + n - 4, "\r\n\r\n", 4) == 0)
		__builtin_trap();
	if (n == 2)
		__builtin_trap(); /* a lone CRLF is an empty line at the end */
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\t' || (p[i] == ' ' && i + 1 < n && p[i + 1] == ' '))
			__builtin_trap();
		if (p[i] == ' ' && i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')
			__builtin_trap();
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			__builtin_trap();
	}
}

static int to_buf(void *arg, const char *p, size_t n)
{
	return util_buf_append(arg, p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct util_buf whole, parts, again;
	util_buf_init(&whole, CAP);
	util_buf_init(&parts, CAP);
	util_buf_init(&again, CAP);
	if (dkim_canon_body_relaxed(p, size, &whole) != MXTLS_OK)
		__builtin_trap();
	check_body(whole.data, whole.len);
	/* In two pieces, split where the first byte says: the same output. */
	size_t cut = size > 0 ? (data[0] * size) / 256 : 0;
	struct dkim_body_canon c;
	dkim_body_canon_init(&c, to_buf, &parts);
	if (dkim_body_canon_update(&c, p, cut) != 0 ||
	    dkim_body_canon_update(&c, p + cut, size - cut) != 0 || dkim_body_canon_final(&c) != 0)
		__builtin_trap();
	if (parts.len != whole.len || (whole.len && memcmp(parts.data, whole.data, whole.len)))
		__builtin_trap();
	/* Idempotent: the canonical form is its own canonical form. */
	if (dkim_canon_body_relaxed(whole.data, whole.len, &again) != MXTLS_OK ||
	    again.len != whole.len || (whole.len && memcmp(again.data, whole.data, whole.len)))
		__builtin_trap();
	util_buf_reset(&again);

	/* The header walk: progress, fields inside the input, each canonicalised to one line. */
	size_t pos = 0, fields = 0;
	struct dkim_field f;
	int rc;
	while ((rc = dkim_canon_field_next(p, size, &pos, &f)) == 1) {
		if (f.start + f.len > size || f.name_len == 0 || f.name_len > f.len || pos > size ||
		    pos <= f.start || ++fields > size)
			__builtin_trap();
		util_buf_reset(&parts);
		int hr = dkim_canon_header_relaxed(p + f.start, f.len, &parts);
		if (hr == MXTLS_E_LIMIT)
			continue;
		if (hr != MXTLS_OK || parts.len < 3 || parts.data[parts.len - 1] != '\n' ||
		    memchr(parts.data, '\n', parts.len - 1) != NULL ||
		    memchr(parts.data, '\t', parts.len) != NULL || parts.data[f.name_len] != ':')
			__builtin_trap();
		for (size_t i = 0; i < f.name_len; i++)
			if (parts.data[i] >= 'A' && parts.data[i] <= 'Z')
				__builtin_trap();
		util_buf_reset(&again);
		if (dkim_canon_header_relaxed(parts.data, parts.len, &again) != MXTLS_OK ||
		    again.len != parts.len || memcmp(again.data, parts.data, parts.len) != 0)
			__builtin_trap();
	}
	if (rc != 0 && rc != MXTLS_E_SYNTAX)
		__builtin_trap();
	if (rc == 0 && pos > size)
		__builtin_trap();
	/* The whole input as one field: never a crash, only OK, SYNTAX or LIMIT. */
	util_buf_reset(&parts);
	rc = dkim_canon_header_relaxed(p, size, &parts);
	if (rc != MXTLS_OK && rc != MXTLS_E_SYNTAX && rc != MXTLS_E_LIMIT)
		__builtin_trap();
	util_buf_free(&whole);
	util_buf_free(&parts);
	util_buf_free(&again);
	return 0;
}
