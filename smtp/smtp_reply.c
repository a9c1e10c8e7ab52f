/* SPDX-License-Identifier: MIT */
/* SMTP reply and EHLO keyword parsers (RFC 5321 §4.2, §4.1.1.1; RFC 3463; RFC 6531).  Pure. */
#include "smtp/smtp_reply.h"

#include <stdlib.h>
#include <string.h>

#include "util/util_reader.h"
#include "util/util_text.h"

/* Messages say the caps' values, not their names (which mean nothing to a user). */
#define TEXT_OF_(x) #x
#define TEXT_OF(x)  TEXT_OF_(x)

void smtp_reply_clear(struct smtp_reply *r)
{
	if (r == NULL)
		return;
	free(r->text);
	memset(r, 0, sizeof *r);
}

/* RFC 5321 §4.2 textstring = 1*(%d09 / %d32-126), widened to UTF-8 by RFC 6531 §3.7.4. */
static bool text_ok(const uint8_t *t, size_t n)
{
	for (size_t i = 0; i < n;) {
		if (t[i] == '\t' || (t[i] >= 0x20 && t[i] < 0x7f)) {
			i++;
			continue;
		}
		size_t l = t[i] >= 0x80 ? util_utf8_seq(t + i, n - i) : 0;
		if (l == 0)
			return false;
		i += l;
	}
	return true;
}

/* RFC 3463 status-code = class "." subject "." detail, class matching the reply's first digit;
 * subject and detail 1-3 digits.  Copies it to out when text starts with one. */
static void enhanced_code(const uint8_t *t, size_t n, int code, char out[16])
{
	out[0] = '\0';
	if (n < 5 || t[0] != (uint8_t)('0' + code / 100) || t[1] != '.')
		return;
	size_t i = 2;
	for (int part = 0; part < 2; part++) {
		size_t start = i;
		while (i < n && i - start < 4 && t[i] >= '0' && t[i] <= '9')
			i++;
		if (i == start || i - start > 3)
			return;
		if (part == 0) {
			if (i >= n || t[i] != '.')
				return;
			i++;
		}
	}
	if (i < n && t[i] != ' ' && t[i] != '\t')
		return;
	memcpy(out, t, i);
	out[i] = '\0';
}

enum smtp_parse smtp_reply_parse(const uint8_t *p, size_t len, struct smtp_reply *out, size_t *used,
				 const char **why)
{
	const char *scratch;
	if (why == NULL)
		why = &scratch;
	struct util_reader r;
	util_reader_init(&r, p, len);
	int code = 0;
	size_t nlines = 0, text_len = 0;
	/* First pass: find the end of the reply and check every line. */
	for (;;) {
		size_t left = util_reader_remaining(&r);
		const uint8_t *s = p + r.pos;
		const uint8_t *lf =
			memchr(s, '\n', left < SMTP_LINE_MAX + 2 ? left : SMTP_LINE_MAX + 2);
		if (lf == NULL) {
			if (left >= SMTP_LINE_MAX + 2) {
				*why = "a reply line longer than " TEXT_OF(
					SMTP_LINE_MAX) " bytes (RFC 5321 section "
						       "4.5.3.1.5: 512)";
				return SMTP_PARSE_INVALID;
			}
			return SMTP_PARSE_MORE;
		}
		size_t n = (size_t)(lf - s);
		const uint8_t *line;
		util_reader_bytes(&r, n + 1, &line);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (n > SMTP_LINE_MAX) {
			*why = "a reply line longer than " TEXT_OF(
				SMTP_LINE_MAX) " bytes (RFC 5321 section "
					       "4.5.3.1.5: 512)";
			return SMTP_PARSE_INVALID;
		}
		if (n < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
		    line[2] < '0' || line[2] > '9') {
			*why = "a reply line does not start with a three-digit code 200-599";
			return SMTP_PARSE_INVALID;
		}
		int c = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		if (nlines > 0 && c != code) {
			*why = "the lines of a multi-line reply carry different codes";
			return SMTP_PARSE_INVALID;
		}
		code = c;
		if (n > 3 && line[3] != '-' && line[3] != ' ') {
			*why = "a reply code is followed by neither '-' nor ' '";
			return SMTP_PARSE_INVALID;
		}
		if (n > 4 && !text_ok(line + 4, n - 4)) {
			*why = "a control byte or invalid UTF-8 in reply text";
			return SMTP_PARSE_INVALID;
		}
		if (++nlines > SMTP_REPLY_LINES_MAX) {
			*why = "a reply of more than " TEXT_OF(SMTP_REPLY_LINES_MAX) " lines";
			return SMTP_PARSE_INVALID;
		}
		text_len += (n > 4 ? n - 4 : 0) + 1;
		if (n == 3 || line[3] == ' ')
			break; /* the last line */
	}
	/* Second pass: copy the text. */
	char *text = malloc(text_len);
	if (text == NULL)
		return SMTP_PARSE_NOMEM;
	size_t off = 0, end = r.pos;
	util_reader_init(&r, p, end);
	for (size_t i = 0; i < nlines; i++) {
		const uint8_t *s = p + r.pos;
		size_t n = (size_t)((const uint8_t *)memchr(s, '\n', end - r.pos) - s);
		const uint8_t *line;
		util_reader_bytes(&r, n + 1, &line);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (i > 0)
			text[off++] = '\n';
		if (n > 4) {
			memcpy(text + off, line + 4, n - 4);
			off += n - 4;
		}
		if (i == 0)
			enhanced_code(line + 4, n > 4 ? n - 4 : 0, code, out->enhanced);
	}
	text[off] = '\0';
	out->code = code;
	out->nlines = nlines;
	out->text = text;
	out->text_len = off;
	*used = end;
	return SMTP_PARSE_DONE;
}

/* True when line (n bytes) is keyword kw (upper case), alone or followed by a space and
 * parameters.  ASCII case folding, never the process locale (the parser is pure). */
static bool keyword(const char *line, size_t n, const char *kw, const char **params)
{
	size_t k = strlen(kw);
	if (n < k || (n > k && line[k] != ' '))
		return false;
	for (size_t i = 0; i < k; i++)
		if (util_lower((uint8_t)line[i]) != util_lower((uint8_t)kw[i]))
			return false;
	*params = n > k ? line + k + 1 : line + n;
	return true;
}

bool smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_ehlo *out)
{
	memset(out, 0, sizeof *out);
	if (r == NULL || r->code < 200 || r->code > 299 || r->text == NULL)
		return false;
	const char *s = r->text, *endp = r->text + r->text_len;
	const char *nl = memchr(s, '\n', (size_t)(endp - s));
	/* The first line is the greeting ("mx.example.com Hello ..."), not a keyword. */
	while (nl != NULL) {
		s = nl + 1;
		nl = memchr(s, '\n', (size_t)(endp - s));
		size_t n = (size_t)((nl != NULL ? nl : endp) - s);
		const char *params;
		if (keyword(s, n, "STARTTLS", &params))
			out->starttls = true;
		else if (keyword(s, n, "PIPELINING", &params))
			out->pipelining = true;
		else if (keyword(s, n, "8BITMIME", &params))
			out->eightbitmime = true;
		else if (keyword(s, n, "SMTPUTF8", &params))
			out->smtputf8 = true;
		else if (keyword(s, n, "ENHANCEDSTATUSCODES", &params))
			out->enhancedstatuscodes = true;
		else if (keyword(s, n, "REQUIRETLS", &params))
			out->requiretls = true;
		else if (keyword(s, n, "SIZE", &params)) {
			/* RFC 1870 §4: "SIZE" [SP 1*20DIGIT]; 0 means no fixed limit. */
			out->size = true;
			size_t plen = (size_t)(s + n - params);
			uint64_t v = 0;
			bool ok = plen > 0 && plen <= 20;
			for (size_t i = 0; ok && i < plen; i++) {
				uint64_t d = (uint64_t)(params[i] - '0');
				if (params[i] < '0' || params[i] > '9' || v > (UINT64_MAX - d) / 10)
					ok = false;
				else
					v = v * 10 + d;
			}
			out->size_max = ok ? v : 0;
		}
	}
	return true;
}
