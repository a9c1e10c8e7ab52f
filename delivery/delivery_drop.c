/* SPDX-License-Identifier: MIT */
/* The drop file format (delivery_drop.h): a strict parser for untrusted bytes and its writer.
 * Pure: no I/O, no clock, no globals, no logging. */
#include "delivery/delivery_drop.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#define FLAGS_KNOWN ((unsigned)(MXTLS_SUBMIT_RCPT_FROM_HEADERS | MXTLS_SUBMIT_DOT_ENDS))
#define DIGITS_MAX  10

struct reader {
	const char *p;
	size_t len, pos;
	const char *why;
};

static int fail(struct reader *r, int rc, const char *why)
{
	r->why = why;
	return rc;
}

/* A decimal number of 1 to 10 digits, no leading zero (one spelling per value), then end. */
static int number(struct reader *r, char end, size_t *out)
{
	size_t start = r->pos;
	uint64_t v = 0;
	while (r->pos < r->len && r->p[r->pos] >= '0' && r->p[r->pos] <= '9') {
		if (r->pos - start == DIGITS_MAX)
			return fail(r, MXTLS_E_LIMIT, "a number with more than 10 digits");
		v = v * 10 + (uint64_t)(r->p[r->pos] - '0');
		r->pos++;
	}
	size_t n = r->pos - start;
	if (r->pos == r->len)
		return fail(r, MXTLS_E_TRUNCATED, "the file ends inside a number");
	if (n == 0)
		return fail(r, MXTLS_E_SYNTAX, "a number is missing");
	if (n > 1 && r->p[start] == '0')
		return fail(r, MXTLS_E_SYNTAX, "a number with a leading zero");
	if (r->p[r->pos] != end)
		return fail(r, MXTLS_E_SYNTAX, "a number is followed by a wrong byte");
	r->pos++;
	if (v > SIZE_MAX)
		return fail(r, MXTLS_E_LIMIT, "a number out of range");
	*out = (size_t)v;
	return MXTLS_OK;
}

/* LEN ":" BYTES "\n" as a NUL-terminated copy (no NUL inside); cap on LEN. */
static int text(struct reader *r, size_t cap, char **out)
{
	size_t n;
	int rc = number(r, ':', &n);
	if (rc != MXTLS_OK)
		return rc;
	if (n > cap)
		return fail(r, MXTLS_E_LIMIT, "a field longer than its cap");
	if (r->len - r->pos < n + 1)
		return fail(r, MXTLS_E_TRUNCATED, "the file ends inside a field");
	const char *v = r->p + r->pos;
	if (memchr(v, '\0', n) != NULL)
		return fail(r, MXTLS_E_SYNTAX, "a NUL byte in a field");
	if (v[n] != '\n')
		return fail(r, MXTLS_E_SYNTAX, "a field is not ended by a line feed");
	char *s = malloc(n + 1);
	if (s == NULL)
		return MXTLS_E_NOMEM;
	memcpy(s, v, n);
	s[n] = '\0';
	r->pos += n + 1;
	*out = s;
	return MXTLS_OK;
}

/* The tag of the next field, or 0 at the end of the bytes. */
static char peek(const struct reader *r)
{
	return r->pos < r->len ? r->p[r->pos] : 0;
}

static int body(struct reader *r, struct delivery_drop *d)
{
	size_t ml = strlen(DELIVERY_DROP_MAGIC), n;
	if (r->len < ml && memcmp(r->p, DELIVERY_DROP_MAGIC, r->len) == 0)
		return fail(r, MXTLS_E_TRUNCATED, "the file ends inside the first line");
	if (r->len < ml || memcmp(r->p, DELIVERY_DROP_MAGIC, ml) != 0)
		return fail(r, MXTLS_E_SYNTAX, "not a drop file of version 1");
	r->pos = ml;
	if (peek(r) != 'F')
		return fail(r, r->pos == r->len ? MXTLS_E_TRUNCATED : MXTLS_E_SYNTAX,
			    "the flags field is missing");
	r->pos++;
	int rc = number(r, '\n', &n);
	if (rc != MXTLS_OK)
		return rc;
	if ((n & ~(size_t)FLAGS_KNOWN) != 0)
		return fail(r, MXTLS_E_SYNTAX, "an unknown flag");
	d->flags = (unsigned)n;
	if (peek(r) == 'S') {
		r->pos++;
		if ((rc = text(r, DELIVERY_DROP_FIELD_MAX, &d->sender)) != MXTLS_OK)
			return rc;
	}
	if (peek(r) == 'N') {
		r->pos++;
		if ((rc = text(r, DELIVERY_DROP_FIELD_MAX, &d->full_name)) != MXTLS_OK)
			return rc;
	}
	while (peek(r) == 'R') {
		if (d->nrcpt == MXTLS_QUEUE_RCPT_MAX)
			return fail(r, MXTLS_E_LIMIT, "too many recipient arguments");
		if (d->rcpt == NULL && (d->rcpt = calloc(MXTLS_QUEUE_RCPT_MAX, sizeof *d->rcpt)) == NULL)
			return MXTLS_E_NOMEM;
		r->pos++;
		if ((rc = text(r, DELIVERY_DROP_FIELD_MAX, &d->rcpt[d->nrcpt])) != MXTLS_OK)
			return rc;
		d->nrcpt++;
		if (r->pos > DELIVERY_DROP_HEAD_MAX)
			return fail(r, MXTLS_E_LIMIT, "the fields before the message are too long");
	}
	if (peek(r) != 'M')
		return fail(r, r->pos == r->len ? MXTLS_E_TRUNCATED : MXTLS_E_SYNTAX,
			    "a field out of order, repeated or unknown");
	r->pos++;
	if ((rc = number(r, ':', &n)) != MXTLS_OK)
		return rc;
	if (r->pos > DELIVERY_DROP_HEAD_MAX)
		return fail(r, MXTLS_E_LIMIT, "the fields before the message are too long");
	if (n > MXTLS_QUEUE_MESSAGE_MAX)
		return fail(r, MXTLS_E_LIMIT, "the message is larger than the queue takes");
	if (r->len - r->pos < n)
		return fail(r, MXTLS_E_TRUNCATED, "the file ends inside the message");
	if (r->len - r->pos > n)
		return fail(r, MXTLS_E_SYNTAX, "bytes after the message");
	d->msg = r->p + r->pos;
	d->msg_len = n;
	return MXTLS_OK;
}

int delivery_drop_parse(const void *data, size_t len, struct delivery_drop *out, const char **why)
{
	struct reader r = {.p = data, .len = len};
	struct delivery_drop d = {0};
	*why = NULL;
	if (data == NULL && len > 0)
		return MXTLS_E_INVAL;
	if (data == NULL)
		r.p = "";
	int rc = body(&r, &d);
	if (rc != MXTLS_OK) {
		delivery_drop_free(&d);
		*why = rc == MXTLS_E_NOMEM ? "out of memory" : r.why;
		return rc;
	}
	*out = d;
	return MXTLS_OK;
}

void delivery_drop_free(struct delivery_drop *d)
{
	if (d == NULL)
		return;
	free(d->sender);
	free(d->full_name);
	for (size_t i = 0; i < d->nrcpt; i++)
		free(d->rcpt[i]);
	free(d->rcpt);
	*d = (struct delivery_drop){0};
}

static int put_text(struct util_buf *out, char tag, const char *v)
{
	size_t n = strlen(v);
	if (n > DELIVERY_DROP_FIELD_MAX)
		return MXTLS_E_INVAL;
	char head[32];
	snprintf(head, sizeof head, "%c%zu:", tag, n);
	int rc = util_buf_append_str(out, head);
	if (rc == MXTLS_OK)
		rc = util_buf_append(out, v, n);
	if (rc == MXTLS_OK)
		rc = util_buf_append(out, "\n", 1);
	return rc;
}

int delivery_drop_format_head(const struct mxtls_submission *s, struct util_buf *out)
{
	if ((s->flags & ~FLAGS_KNOWN) != 0 || s->nrcpt > MXTLS_QUEUE_RCPT_MAX ||
	    s->len > MXTLS_QUEUE_MESSAGE_MAX || (s->nrcpt > 0 && s->rcpt == NULL))
		return MXTLS_E_INVAL;
	char line[48];
	snprintf(line, sizeof line, "%sF%u\n", DELIVERY_DROP_MAGIC, s->flags);
	int rc = util_buf_append_str(out, line);
	if (rc == MXTLS_OK && s->sender != NULL)
		rc = put_text(out, 'S', s->sender);
	if (rc == MXTLS_OK && s->full_name != NULL)
		rc = put_text(out, 'N', s->full_name);
	for (size_t i = 0; rc == MXTLS_OK && i < s->nrcpt; i++)
		rc = s->rcpt[i] != NULL ? put_text(out, 'R', s->rcpt[i]) : MXTLS_E_INVAL;
	if (rc == MXTLS_OK && out->len > DELIVERY_DROP_HEAD_MAX - 16)
		rc = MXTLS_E_INVAL;
	snprintf(line, sizeof line, "M%zu:", s->len);
	if (rc == MXTLS_OK)
		rc = util_buf_append_str(out, line);
	return rc;
}
