/* SPDX-License-Identifier: MIT */
/* RFC 6376 §3.4 simple and relaxed canonicalisation of header fields and bodies, the header walk.
 * Pure. */
#include "dkim_canon.h"

#include <string.h>

#include <mxtls/error.h>

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* RFC 5322 §3.6.8 ftext: printable US-ASCII except the colon. */
static bool is_ftext(char c)
{
	unsigned char u = (unsigned char)c;
	return u >= 33 && u <= 126 && u != ':';
}

void dkim_body_canon_init(struct dkim_body_canon *c, dkim_canon_emit_fn emit, void *arg)
{
	memset(c, 0, sizeof *c);
	c->emit = emit;
	c->arg = arg;
}

void dkim_body_canon_init_simple(struct dkim_body_canon *c, dkim_canon_emit_fn emit, void *arg)
{
	dkim_body_canon_init(c, emit, arg);
	c->simple = true;
}

static const char crlfs[] = "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";

/* Emits the line ends held back and the WSP run before a content byte. */
static int flush_pending(struct dkim_body_canon *c)
{
	while (c->blank_lines > 0) {
		size_t n = c->blank_lines;
		if (n > (sizeof crlfs - 1) / 2)
			n = (sizeof crlfs - 1) / 2;
		int rc = c->emit(c->arg, crlfs, 2 * n);
		if (rc != 0)
			return rc;
		c->blank_lines -= n;
	}
	if (c->wsp) {
		/* RFC 6376 §3.4.4 a: a run of WSP within a line becomes a single SP. */
		c->wsp = false;
		int rc = c->emit(c->arg, " ", 1);
		if (rc != 0)
			return rc;
	}
	c->any = true;
	return 0;
}

/*
 * RFC 6376 §3.4.4, the "relaxed" body canonicalisation:
 *   a. "Ignore all whitespace at the end of lines.  Implementations MUST NOT remove the CRLF
 *      at the end of the line.  Reduce all sequences of WSP within a line to a single SP."
 *   b. "Ignore all empty lines at the end of the message body. ... If the body is non-empty
 *      but does not end with a CRLF, a CRLF is added."
 * Unlike "simple" (§3.4.3: an empty body becomes one CRLF), §3.4.4 adds no CRLF to an empty
 * body, so the relaxed form of an empty body (or of one made only of empty or WSP-only lines)
 * is empty: zero octets.
 *
 * Every line end is held back (counted) until a content byte follows it, so empty lines at the
 * end are never emitted, and a WSP run is emitted only when content follows it in the same
 * line.  A bare LF ends a line as CRLF does (the SMTP client sends it as CRLF); a CR not
 * followed by LF is an ordinary content byte.
 */
int dkim_body_canon_update(struct dkim_body_canon *c, const char *p, size_t len)
{
	size_t i = 0;
	while (i < len) {
		if (c->cr) {
			c->cr = false;
			if (p[i] == '\n') {
				c->wsp = false; /* §3.4.4 a: no WSP at the end of a line */
				c->blank_lines++;
				i++;
				continue;
			}
			int rc = flush_pending(c);
			if (rc == 0)
				rc = c->emit(c->arg, "\r", 1);
			if (rc != 0)
				return rc;
			continue; /* p[i] is looked at afresh */
		}
		char ch = p[i];
		if (ch == '\r') {
			c->cr = true;
			i++;
		} else if (ch == '\n') {
			c->wsp = false;
			c->blank_lines++;
			i++;
		} else if (is_wsp(ch) && !c->simple) {
			c->wsp = true;
			i++;
		} else {
			/* A run of content bytes up to the next WSP or line byte goes out at once.
			 */
			size_t j = i + 1;
			while (j < len && !is_wsp(p[j]) && p[j] != '\r' && p[j] != '\n')
				j++;
			int rc = flush_pending(c);
			if (rc == 0)
				rc = c->emit(c->arg, p + i, j - i);
			if (rc != 0)
				return rc;
			i = j;
		}
	}
	return 0;
}

int dkim_body_canon_final(struct dkim_body_canon *c)
{
	if (c->cr) {
		/* A CR as the last byte of the body is content, not a line end. */
		c->cr = false;
		int rc = flush_pending(c);
		if (rc == 0)
			rc = c->emit(c->arg, "\r", 1);
		if (rc != 0)
			return rc;
	}
	c->wsp = false;
	c->blank_lines = 0;
	/* §3.4.4 b: a non-empty body ends with exactly one CRLF; an empty one stays empty.
	 * §3.4.3: "simple" ignores empty lines at the end and ends with one CRLF: "If there is no
	 * body or no trailing CRLF on the message body, a CRLF is added." */
	if (c->any || c->simple)
		return c->emit(c->arg, "\r\n", 2);
	return 0;
}

static int emit_buf(void *arg, const char *p, size_t n)
{
	return util_buf_append(arg, p, n);
}

int dkim_canon_body_relaxed(const char *p, size_t len, struct util_buf *out)
{
	struct dkim_body_canon c;
	dkim_body_canon_init(&c, emit_buf, out);
	int rc = dkim_body_canon_update(&c, p, len);
	if (rc == 0)
		rc = dkim_body_canon_final(&c);
	return rc;
}

int dkim_canon_body_simple(const char *p, size_t len, struct util_buf *out)
{
	struct dkim_body_canon c;
	dkim_body_canon_init_simple(&c, emit_buf, out);
	int rc = dkim_body_canon_update(&c, p, len);
	if (rc == 0)
		rc = dkim_body_canon_final(&c);
	return rc;
}

/* The field's name up to the colon, checked as dkim_canon_header_relaxed() does: its length
 * without WSP before the colon, or MXTLS_E_SYNTAX. */
static int field_name(const char *p, size_t len, const char **colon)
{
	*colon = memchr(p, ':', len);
	if (*colon == NULL)
		return MXTLS_E_SYNTAX;
	size_t name_len = (size_t)(*colon - p);
	while (name_len > 0 && is_wsp(p[name_len - 1]))
		name_len--;
	if (name_len == 0)
		return MXTLS_E_SYNTAX;
	for (size_t i = 0; i < name_len; i++)
		if (!is_ftext(p[i]))
			return MXTLS_E_SYNTAX;
	return (int)name_len;
}

/*
 * RFC 6376 §3.4.1, the "simple" header canonicalisation: "does not change header fields in any
 * way".  The message may have bare LF line ends (mxtls reads files from disk); each is taken
 * as the CRLF it stands for, as the SMTP client sends it.
 */
int dkim_canon_header_simple(const char *p, size_t len, struct util_buf *out)
{
	if (len > DKIM_FIELD_MAX)
		return MXTLS_E_LIMIT;
	const char *colon;
	int nl = field_name(p, len, &colon);
	if (nl < 0)
		return nl;
	size_t mark = out->len;
	int rc = 0;
	size_t i = 0;
	while (i < len && rc == 0) {
		const char *lf = memchr(p + i, '\n', len - i);
		size_t e = lf != NULL ? (size_t)(lf - p) : len;
		size_t end = e > i && lf != NULL && p[e - 1] == '\r' ? e - 1 : e;
		rc = util_buf_append(out, p + i, end - i);
		if (rc == 0 && lf != NULL)
			rc = util_buf_append(out, "\r\n", 2);
		i = lf != NULL ? e + 1 : len;
	}
	if (rc == 0 && (out->len - mark < 2 || memcmp(out->data + out->len - 2, "\r\n", 2) != 0))
		rc = util_buf_append(out, "\r\n", 2);
	if (rc != 0) {
		out->len = mark;
		if (out->data != NULL)
			out->data[mark] = '\0';
	}
	return rc;
}

/*
 * RFC 6376 §3.4.2, the "relaxed" header canonicalisation: lowercase the field name; unfold
 * (remove every CRLF, here also a bare LF); reduce every WSP run to one SP; delete WSP at the
 * end of the value and before and after the colon; the field ends with CRLF.
 */
int dkim_canon_header_relaxed(const char *p, size_t len, struct util_buf *out)
{
	if (len > DKIM_FIELD_MAX)
		return MXTLS_E_LIMIT;
	const char *colon = memchr(p, ':', len);
	if (colon == NULL)
		return MXTLS_E_SYNTAX;
	size_t name_len = (size_t)(colon - p);
	while (name_len > 0 && is_wsp(p[name_len - 1]))
		name_len--;
	if (name_len == 0)
		return MXTLS_E_SYNTAX;
	for (size_t i = 0; i < name_len; i++)
		if (!is_ftext(p[i]))
			return MXTLS_E_SYNTAX;

	size_t mark = out->len;
	int rc = 0;
	for (size_t i = 0; i < name_len && rc == 0; i++)
		rc = util_buf_append_byte(out, (unsigned char)lower(p[i]));
	if (rc == 0)
		rc = util_buf_append_byte(out, ':');
	bool wsp = false, content = false;
	for (size_t i = (size_t)(colon - p) + 1; i < len && rc == 0; i++) {
		char ch = p[i];
		if (ch == '\n' || (ch == '\r' && i + 1 < len && p[i + 1] == '\n'))
			continue; /* unfolding: the line end goes, the WSP after it stays */
		if (is_wsp(ch)) {
			wsp = true;
			continue;
		}
		if (wsp && content) /* no WSP right after the colon */
			rc = util_buf_append_byte(out, ' ');
		wsp = false;
		content = true;
		if (rc == 0)
			rc = util_buf_append_byte(out, (unsigned char)ch);
	}
	/* A trailing WSP run is simply never emitted. */
	if (rc == 0)
		rc = util_buf_append(out, "\r\n", 2);
	if (rc != 0) {
		out->len = mark;
		if (out->data != NULL)
			out->data[mark] = '\0';
	}
	return rc;
}

/* The end of the line starting at i: the index of its CR of CRLF, or its LF, or len. */
static size_t line_end(const char *msg, size_t len, size_t i, size_t *next)
{
	const char *lf = memchr(msg + i, '\n', len - i);
	if (lf == NULL) {
		*next = len;
		return len;
	}
	size_t e = (size_t)(lf - msg);
	*next = e + 1;
	if (e > i && msg[e - 1] == '\r')
		e--;
	return e;
}

int dkim_canon_field_next(const char *msg, size_t len, size_t *pos, struct dkim_field *f)
{
	size_t i = *pos;
	if (i >= len) {
		*pos = len;
		return 0;
	}
	size_t next;
	size_t e = line_end(msg, len, i, &next);
	if (e == i) { /* the empty line: the body follows it */
		*pos = next;
		return 0;
	}
	if (is_wsp(msg[i]))
		return MXTLS_E_SYNTAX; /* a continuation line with no field above it */
	const char *colon = memchr(msg + i, ':', e - i);
	if (colon == NULL)
		return MXTLS_E_SYNTAX;
	size_t name_len = (size_t)(colon - (msg + i));
	while (name_len > 0 && is_wsp(msg[i + name_len - 1]))
		name_len--;
	if (name_len == 0)
		return MXTLS_E_SYNTAX;
	for (size_t k = 0; k < name_len; k++)
		if (!is_ftext(msg[i + k]))
			return MXTLS_E_SYNTAX;
	/* Continuation lines: each begins with WSP. */
	while (next < len && is_wsp(msg[next]))
		e = line_end(msg, len, next, &next);
	f->start = i;
	f->len = e - i;
	f->name_len = name_len;
	*pos = next;
	return 1;
}

bool dkim_canon_name_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}
