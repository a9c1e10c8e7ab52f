/* SPDX-License-Identifier: MIT */
/* A growable byte buffer with a hard cap (ARCHITECTURE.md convention 5). */
#include "util/util_buf.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

void util_buf_init(struct util_buf *b, size_t max)
{
	assert(max < SIZE_MAX / 2); /* caps are named constants, far below this */
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
}

void util_buf_free(struct util_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	util_buf_init(b, b->max);
}

void util_buf_reset(struct util_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Makes room for len + n bytes plus the NUL, checking the cap first. */
static int reserve(struct util_buf *b, size_t n)
{
	if (n > b->max || b->len > b->max - n)
		return MXTLS_E_LIMIT;
	size_t need = b->len + n + 1;
	if (need <= b->alloc)
		return MXTLS_OK;
	size_t alloc = b->alloc < 64 ? 64 : b->alloc;
	while (alloc < need)
		alloc = alloc > SIZE_MAX / 2 ? need : alloc * 2;
	if (alloc > b->max + 1)
		alloc = b->max + 1;
	char *p = realloc(b->data, alloc);
	if (p == NULL)
		return MXTLS_E_NOMEM;
	b->data = p;
	b->alloc = alloc;
	return MXTLS_OK;
}

int util_buf_append(struct util_buf *b, const void *p, size_t n)
{
	int rc = reserve(b, n);
	if (rc != MXTLS_OK)
		return rc;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return MXTLS_OK;
}

int util_buf_append_str(struct util_buf *b, const char *s)
{
	return util_buf_append(b, s, strlen(s));
}

int util_buf_append_byte(struct util_buf *b, uint8_t c)
{
	return util_buf_append(b, &c, 1);
}

int util_buf_vappendf(struct util_buf *b, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return MXTLS_E_INVAL;
	int rc = reserve(b, (size_t)n);
	if (rc != MXTLS_OK)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return MXTLS_OK;
}

int util_buf_appendf(struct util_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = util_buf_vappendf(b, fmt, ap);
	va_end(ap);
	return rc;
}

int util_buf_take(struct util_buf *b, char **out, size_t *len)
{
	int rc = reserve(b, 0);
	if (rc != MXTLS_OK)
		return rc;
	b->data[b->len] = '\0';
	*out = b->data;
	*len = b->len;
	util_buf_init(b, b->max);
	return MXTLS_OK;
}
