/* SPDX-License-Identifier: MIT */
/* RFC 8460 §5.3: the TLS report inside a received mail message (multipart/report).  Pure. */
#include "tlsrpt/tlsrpt_mime.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "tlsrpt/tlsrpt_read.h"
#include "util/util_text.h"

/* A JSON report decoded here must be one the reader (tlsrpt_read.h) can take whole. */
_Static_assert(TLSRPT_MIME_DECODED_MAX <= TLSRPT_READ_JSON_MAX, "decoded cap above the JSON cap");

/*
 * What this file reads (RFC 5322 §2.2, RFC 2045 §5.1 and §6, RFC 2046 §5.1.1, RFC 6522 §3):
 *
 *   message         = header-section CRLF body           ; CRLF or a lone LF ends every line
 *   field           = name *WSP ":" value CRLF *(WSP text CRLF)   ; folded, unfolded here
 *   content         = "Content-Type" ":" type "/" subtype *(";" parameter)
 *   parameter       = attribute "=" (token / quoted-string)       ; CFWS between the tokens
 *   multipart-body  = [preamble CRLF] dash-boundary transport-padding CRLF body-part
 *                     *encapsulation close-delimiter transport-padding [CRLF epilogue]
 *   dash-boundary   = "--" boundary
 *   delimiter       = CRLF dash-boundary
 *   close-delimiter = delimiter "--"
 *   transport-padding = *LWSP-char
 *
 * The body is read line by line: a line that is "--" boundary ["--"] *WSP is a delimiter (the
 * line break before it belongs to it, RFC 2046 §5.1.1), every other line is content.
 */

#define MEDIA_TYPE_MAX  64 /* "type/subtype", lower case, with its NUL */
#define REPORT_TYPE_MAX 32 /* the report-type value kept, with its NUL */

enum cte { CTE_7BIT, CTE_8BIT, CTE_BINARY, CTE_BASE64 };

struct ctx {
	char *err;
	size_t errlen;
	int rc;
	size_t parts;
	/* the report part: its body as sent */
	bool found;
	const char *rp;
	size_t rn;
	enum tlsrpt_mime_kind kind;
	enum cte cte;
};

__attribute__((format(printf, 3, 4))) static int fail(struct ctx *c, int rc, const char *fmt, ...)
{
	if (c->rc == MXTLS_OK) {
		c->rc = rc;
		if (c->err != NULL && c->errlen > 0) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(c->err, c->errlen, fmt, ap);
			va_end(ap);
		}
	}
	return rc;
}

static bool nocase_eq(const char *a, size_t n, const char *lit)
{
	if (n != strlen(lit))
		return false;
	for (size_t i = 0; i < n; i++)
		if (util_lower((uint8_t)a[i]) != util_lower((uint8_t)lit[i]))
			return false;
	return true;
}

/* The line at pos in (p, n): its content is [pos, *end), *eol the length of its line break
 * (2 for CRLF, 1 for a lone LF, 0 at the end of the input).  Returns where the next one starts. */
static size_t line_at(const char *p, size_t n, size_t pos, size_t *end, size_t *eol)
{
	const char *lf = memchr(p + pos, '\n', n - pos);
	if (lf == NULL) {
		*end = n;
		*eol = 0;
		return n;
	}
	size_t i = (size_t)(lf - p);
	bool cr = i > pos && p[i - 1] == '\r';
	*end = cr ? i - 1 : i;
	*eol = cr ? 2 : 1;
	return i + 1;
}

/* ---- header sections (RFC 5322 §2.2) ---- */

/* A field the caller wants: its value, unfolded and trimmed, is stored (owned) in *value. */
struct want {
	const char *name;
	char **value;
};

/* RFC 5322 §3.6.8 ftext: printable US-ASCII but ":". */
static bool is_ftext(uint8_t c)
{
	return c >= 33 && c <= 126 && c != ':';
}

/* One field [s, e) (its continuation lines included): checked, and kept when wanted. */
static int field(struct ctx *c, const char *s, size_t e, const struct want *w, size_t nw)
{
	for (size_t i = 0; i < e; i++) {
		if (s[i] == '\0')
			return fail(c, MXTLS_E_SYNTAX, "a NUL byte in a header field");
		/* lines end in CRLF or LF: a CR anywhere else is a bare CR */
		if (s[i] == '\r' && (i + 1 == e || s[i + 1] != '\n'))
			return fail(c, MXTLS_E_SYNTAX, "a bare CR in a header field");
	}
	size_t nl = 0;
	while (nl < e && is_ftext((uint8_t)s[nl]))
		nl++;
	size_t colon = nl;
	/* RFC 5322 §4.5.3 (obs-optional): white space may stand before the colon */
	while (colon < e && util_is_wsp((uint8_t)s[colon]))
		colon++;
	if (nl == 0 || colon == e || s[colon] != ':')
		return fail(c, MXTLS_E_SYNTAX,
			    "a header line that is not a field (a name of printable characters "
			    "and ':', RFC 5322 section 2.2)");
	for (size_t k = 0; k < nw; k++) {
		if (!nocase_eq(s, nl, w[k].name))
			continue;
		/* RFC 5322 §3.6 and RFC 2045 §3: these fields occur at most once */
		if (*w[k].value != NULL)
			return fail(c, MXTLS_E_SYNTAX, "more than one %s field in a header section",
				    w[k].name);
		size_t a = colon + 1, b = e;
		while (a < b && (util_is_wsp((uint8_t)s[a]) || s[a] == '\r' || s[a] == '\n'))
			a++;
		while (b > a &&
		       (util_is_wsp((uint8_t)s[b - 1]) || s[b - 1] == '\r' || s[b - 1] == '\n'))
			b--;
		char *v = malloc(b - a + 1);
		if (v == NULL)
			return fail(c, MXTLS_E_NOMEM, "out of memory");
		/* RFC 5322 §2.2.3: unfolding removes each CRLF that precedes white space, which is
		 * every line break inside a field */
		size_t o = 0;
		for (size_t i = a; i < b; i++)
			if (s[i] != '\r' && s[i] != '\n')
				v[o++] = s[i];
		v[o] = '\0';
		*w[k].value = v;
		return MXTLS_OK;
	}
	return MXTLS_OK;
}

/*
 * The header section at the start of (p, n); *body is set to where the body starts (after the
 * empty line).  top: the message's own section (it may start with an mbox "From " line, and
 * must end with an empty line); otherwise a part's, which may run to the end of the part.
 */
static int header_section(struct ctx *c, const char *p, size_t n, bool top, size_t *body,
			  const struct want *w, size_t nw)
{
	size_t pos = 0, fields = 0, end, eol;
	if (top && n >= 5 && memcmp(p, "From ", 5) == 0)
		pos = line_at(p, n, 0, &end, &eol); /* an mbox separator line, as .eml files have */
	for (;;) {
		if (pos == n) {
			if (top)
				return fail(c, MXTLS_E_SYNTAX,
					    "the header section does not end with an empty line "
					    "(no body)");
			*body = n;
			return MXTLS_OK;
		}
		size_t next = line_at(p, n, pos, &end, &eol);
		if (end == pos) { /* the empty line */
			*body = next;
			return MXTLS_OK;
		}
		if (util_is_wsp((uint8_t)p[pos]))
			return fail(c, MXTLS_E_SYNTAX,
				    "a header section that begins with a continuation line");
		size_t fend = end;
		while (next < n && util_is_wsp((uint8_t)p[next]))
			next = line_at(p, n, next, &fend, &eol);
		if (++fields > TLSRPT_MIME_FIELDS_MAX)
			return fail(c, MXTLS_E_LIMIT, "more than %d header fields in a section",
				    TLSRPT_MIME_FIELDS_MAX);
		if (fend - pos > TLSRPT_MIME_FIELD_MAX)
			return fail(c, MXTLS_E_LIMIT, "a header field longer than %d bytes",
				    TLSRPT_MIME_FIELD_MAX);
		int rc = field(c, p + pos, fend - pos, w, nw);
		if (rc != MXTLS_OK)
			return rc;
		pos = next;
	}
}

/* ---- structured values (RFC 2045 §5.1, RFC 5322 §3.2.2 CFWS) ---- */

/* RFC 2045 §5.1 token: printable US-ASCII but SPACE and tspecials. */
static bool is_token(uint8_t c)
{
	return c > 32 && c < 127 && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* Skips white space and comments (nested, with quoted-pairs).  False: an unclosed comment. */
static bool skip_cfws(const char *v, size_t *i)
{
	size_t depth = 0;
	for (;; (*i)++) {
		uint8_t ch = (uint8_t)v[*i];
		if (ch == '\0')
			return depth == 0;
		if (depth > 0 && ch == '\\') {
			if (v[*i + 1] == '\0')
				return false;
			(*i)++;
		} else if (ch == '(') {
			depth++;
		} else if (ch == ')' && depth > 0) {
			depth--;
		} else if (depth == 0 && !util_is_wsp(ch)) {
			return true;
		}
	}
}

/* A token at *i: its length (0 when none). */
static size_t token(const char *v, size_t *i)
{
	size_t s = *i;
	while (is_token((uint8_t)v[*i]))
		(*i)++;
	return *i - s;
}

/* A token or quoted-string at *i, unquoted into buf (cap bytes with the NUL).  Returns the
 * value's length, cap when it does not fit (then buf holds a prefix), or -1 when malformed. */
static long value(const char *v, size_t *i, char *buf, size_t cap)
{
	size_t o = 0;
	if (v[*i] != '"') {
		size_t s = *i, n = token(v, i);
		if (n == 0)
			return -1;
		for (size_t k = 0; k < n && o + 1 < cap; k++)
			buf[o++] = v[s + k];
		buf[o] = '\0';
		return (long)(n < cap ? n : cap);
	}
	size_t n = 0;
	for ((*i)++;; (*i)++) {
		char ch = v[*i];
		if (ch == '\0')
			return -1; /* no closing quote */
		if (ch == '"')
			break;
		if (ch == '\\') { /* quoted-pair */
			if (v[*i + 1] == '\0')
				return -1;
			ch = v[++*i];
		}
		if (o + 1 < cap)
			buf[o++] = ch;
		n++;
	}
	(*i)++;
	buf[o] = '\0';
	return (long)(n < cap ? n : cap);
}

struct ctype {
	char type[MEDIA_TYPE_MAX]; /* "type/subtype", lower case */
	char boundary[TLSRPT_MIME_BOUNDARY_MAX + 1];
	bool has_boundary;
	char report_type[REPORT_TYPE_MAX];
	bool has_report_type;
};

/* RFC 2046 §5.1.1: boundary := 0*69<bchars> bcharsnospace. */
static bool boundary_ok(const char *b, size_t n)
{
	if (n == 0 || n > TLSRPT_MIME_BOUNDARY_MAX || b[n - 1] == ' ')
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = (uint8_t)b[i];
		if (!util_is_alpha(ch) && !util_is_digit(ch) && strchr("'()+_,-./:=? ", ch) == NULL)
			return false;
	}
	return true;
}

/* RFC 2045 §5.1 Content-Type (v: unfolded, NUL-terminated). */
static int parse_ctype(struct ctx *c, const char *v, struct ctype *ct)
{
	*ct = (struct ctype){0};
	size_t i = 0;
	if (!skip_cfws(v, &i))
		return fail(c, MXTLS_E_SYNTAX, "an unclosed comment in a Content-Type");
	size_t ts = i, tn = token(v, &i);
	if (tn == 0 || v[i] != '/')
		return fail(c, MXTLS_E_SYNTAX, "a Content-Type that is not type/subtype");
	i++;
	size_t sn = token(v, &i);
	if (sn == 0)
		return fail(c, MXTLS_E_SYNTAX, "a Content-Type that is not type/subtype");
	if (i - ts >= MEDIA_TYPE_MAX)
		return fail(c, MXTLS_E_SYNTAX, "a media type longer than %d characters",
			    MEDIA_TYPE_MAX - 1);
	for (size_t k = ts; k < i; k++)
		ct->type[k - ts] = util_lower((uint8_t)v[k]);
	for (;;) {
		if (!skip_cfws(v, &i))
			return fail(c, MXTLS_E_SYNTAX, "an unclosed comment in a Content-Type");
		if (v[i] == '\0')
			return MXTLS_OK;
		if (v[i] != ';')
			return fail(c, MXTLS_E_SYNTAX,
				    "a Content-Type with something other than ';' between its "
				    "parameters");
		i++;
		if (!skip_cfws(v, &i))
			return fail(c, MXTLS_E_SYNTAX, "an unclosed comment in a Content-Type");
		if (v[i] == '\0' || v[i] == ';')
			continue; /* an empty parameter (a trailing ';'): tolerated */
		size_t as = i, an = token(v, &i);
		if (an == 0)
			return fail(c, MXTLS_E_SYNTAX, "a Content-Type parameter without a name");
		if (!skip_cfws(v, &i) || v[i] != '=')
			return fail(c, MXTLS_E_SYNTAX,
				    "a Content-Type parameter without '=' after its name");
		i++;
		if (!skip_cfws(v, &i))
			return fail(c, MXTLS_E_SYNTAX, "an unclosed comment in a Content-Type");
		char scratch[8];
		char *buf = scratch;
		size_t cap = sizeof scratch;
		bool *seen = NULL;
		const char *name = NULL;
		/* Parameter names are case-insensitive (RFC 2045 §5.1); RFC 2231 forms such as
		 * "boundary*0" are other names here, and ignored. */
		if (nocase_eq(v + as, an, "boundary")) {
			buf = ct->boundary;
			cap = sizeof ct->boundary;
			seen = &ct->has_boundary;
			name = "boundary";
		} else if (nocase_eq(v + as, an, "report-type")) {
			buf = ct->report_type;
			cap = sizeof ct->report_type;
			seen = &ct->has_report_type;
			name = "report-type";
		}
		long n = value(v, &i, buf, cap);
		if (n < 0)
			return fail(c, MXTLS_E_SYNTAX,
				    "a Content-Type parameter value that is neither a token nor a "
				    "quoted-string");
		if (seen == NULL)
			continue;
		if (*seen)
			return fail(c, MXTLS_E_SYNTAX, "two %s parameters in a Content-Type", name);
		*seen = true;
		if (buf == ct->boundary && !boundary_ok(buf, (size_t)n))
			return fail(c, MXTLS_E_SYNTAX,
				    "a boundary that is not 1-70 of the characters RFC 2046 "
				    "section 5.1.1 allows");
	}
}

/* RFC 2045 §6.1 Content-Transfer-Encoding (v: unfolded, NUL-terminated, NULL when absent). */
static int parse_cte(struct ctx *c, const char *v, enum cte *out)
{
	if (v == NULL) {
		*out = CTE_7BIT; /* RFC 2045 §6.1: the default */
		return MXTLS_OK;
	}
	size_t i = 0;
	if (!skip_cfws(v, &i))
		return fail(c, MXTLS_E_SYNTAX, "an unclosed comment in Content-Transfer-Encoding");
	size_t s = i, n = token(v, &i);
	if (!skip_cfws(v, &i) || v[i] != '\0' || n == 0)
		return fail(c, MXTLS_E_SYNTAX, "a Content-Transfer-Encoding that is not one token");
	static const struct {
		const char *name;
		enum cte cte;
	} known[] = {{"7bit", CTE_7BIT},
		     {"8bit", CTE_8BIT},
		     {"binary", CTE_BINARY},
		     {"base64", CTE_BASE64}};
	for (size_t k = 0; k < sizeof known / sizeof *known; k++) {
		if (nocase_eq(v + s, n, known[k].name)) {
			*out = known[k].cte;
			return MXTLS_OK;
		}
	}
	if (nocase_eq(v + s, n, "quoted-printable"))
		return fail(c, MXTLS_E_SYNTAX,
			    "a report part in quoted-printable (not read: base64, 7bit, 8bit and "
			    "binary are)");
	return fail(c, MXTLS_E_SYNTAX, "an unknown Content-Transfer-Encoding on the report part");
}

/* ---- the body (RFC 2046 §5.1.1) ---- */

static int walk(struct ctx *c, const char *p, size_t n, const char *b, int depth);

/* One body part (p, n) at depth (0: a part of the message, 1: of a part). */
static int part(struct ctx *c, const char *p, size_t n, int depth)
{
	if (++c->parts > TLSRPT_MIME_PARTS_MAX)
		return fail(c, MXTLS_E_LIMIT, "more than %d body parts", TLSRPT_MIME_PARTS_MAX);
	char *ctv = NULL, *ctev = NULL;
	const struct want w[] = {{"Content-Type", &ctv}, {"Content-Transfer-Encoding", &ctev}};
	size_t body = 0;
	struct ctype ct = {.type = "text/plain"}; /* RFC 2045 §5.2: the default */
	int rc = header_section(c, p, n, false, &body, w, 2);
	if (rc == MXTLS_OK && ctv != NULL)
		rc = parse_ctype(c, ctv, &ct);
	if (rc != MXTLS_OK)
		goto out;
	bool gzip = strcmp(ct.type, "application/tlsrpt+gzip") == 0;
	if (strncmp(ct.type, "multipart/", 10) == 0) {
		/* Decision: one level of nesting (a multipart/mixed or /alternative holding the
		 * parts); deeper is refused, so that no report part goes unseen. */
		if (depth > 0)
			rc = fail(c, MXTLS_E_SYNTAX,
				  "a multipart nested more than one level deep (not read)");
		else if (!ct.has_boundary)
			rc = fail(c, MXTLS_E_SYNTAX, "a nested multipart without a boundary");
		else
			rc = walk(c, p + body, n - body, ct.boundary, depth + 1);
	} else if (gzip || strcmp(ct.type, "application/tlsrpt+json") == 0) {
		/* RFC 8460 §5.3: the report is one of the parts; two would be ambiguous */
		if (c->found)
			rc = fail(c, MXTLS_E_SYNTAX,
				  "more than one application/tlsrpt+gzip or +json part");
		else
			rc = parse_cte(c, ctev, &c->cte);
		if (rc == MXTLS_OK) {
			c->found = true;
			c->rp = p + body;
			c->rn = n - body;
			c->kind = gzip ? TLSRPT_MIME_GZIP : TLSRPT_MIME_JSON;
		}
	}
out:
	free(ctv);
	free(ctev);
	return rc;
}

/* The body (p, n) of a multipart whose boundary is b: the parts between the delimiters. */
static int walk(struct ctx *c, const char *p, size_t n, const char *b, int depth)
{
	size_t bl = strlen(b), pos = 0, prev_eol = 0, start = 0, end, eol;
	bool in_part = false;
	while (pos < n) {
		size_t next = line_at(p, n, pos, &end, &eol);
		const char *s = p + pos;
		if (end - pos >= bl + 2 && s[0] == '-' && s[1] == '-' &&
		    memcmp(s + 2, b, bl) == 0) {
			size_t r = pos + 2 + bl;
			bool close = end - r >= 2 && p[r] == '-' && p[r + 1] == '-';
			r += close ? 2 : 0;
			while (r < end && util_is_wsp((uint8_t)p[r])) /* transport-padding */
				r++;
			/* RFC 2046 §5.1.1: the boundary must not appear inside a part; a line that
			 * begins with it and is no delimiter is refused rather than guessed at */
			if (r != end)
				return fail(c, MXTLS_E_SYNTAX,
					    "a line that begins with the boundary but is not a "
					    "delimiter");
			if (in_part) {
				/* the line break before the delimiter belongs to it */
				size_t pend = pos > start ? pos - prev_eol : start;
				int rc = part(c, p + start, pend - start, depth);
				if (rc != MXTLS_OK)
					return rc;
			} else if (close) {
				return fail(c, MXTLS_E_SYNTAX,
					    "a close delimiter before any body part");
			}
			if (close)
				return MXTLS_OK; /* the epilogue is ignored */
			in_part = true;
			start = next;
		}
		prev_eol = eol;
		pos = next;
	}
	/* Decision: no close delimiter means the message was cut short; refused. */
	return fail(
		c, MXTLS_E_SYNTAX,
		in_part ? "no close delimiter (\"--\" boundary \"--\"): the message is cut short"
			: "no delimiter line: the boundary never starts a line of the body");
}

/* ---- decoding (RFC 2045 §6) ---- */

static int b64val(uint8_t ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* RFC 2045 §6.8 base64 of (p, n) into o (room for the decoded bytes and the cap's overrun). */
static int base64(struct ctx *c, const char *p, size_t n, uint8_t *o, size_t *olen)
{
	uint32_t acc = 0;
	size_t dq = 0, pad = 0, on = 0;
	bool done = false;
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = (uint8_t)p[i];
		/* line breaks and white space are not data (RFC 2045 §6.8: "ignored") */
		if (ch == '\r' || ch == '\n' || ch == ' ' || ch == '\t')
			continue;
		if (done)
			return fail(c, MXTLS_E_SYNTAX, "base64 text after the '=' padding");
		if (ch == '=') {
			if (dq < 2)
				return fail(c, MXTLS_E_SYNTAX,
					    "a misplaced '=' in the base64 text");
			if (dq + ++pad < 4)
				continue;
			/* the last group: 2 or 3 characters and "==" or "="; the bits that
			 * pad to a whole character must be zero (RFC 4648 §3.5: canonical) */
			uint32_t spare = dq == 2 ? acc & 0xf : acc & 0x3;
			if (spare != 0)
				return fail(c, MXTLS_E_SYNTAX,
					    "non-zero pad bits in the last base64 group");
			if (dq == 2) {
				o[on++] = (uint8_t)(acc >> 4);
			} else {
				o[on++] = (uint8_t)(acc >> 10);
				o[on++] = (uint8_t)(acc >> 2);
			}
			dq = 0;
			done = true;
			continue;
		}
		int v = b64val(ch);
		if (v < 0)
			return fail(c, MXTLS_E_SYNTAX, "a character that is not base64 (0x%02x)",
				    ch);
		if (pad > 0)
			return fail(c, MXTLS_E_SYNTAX, "a misplaced '=' in the base64 text");
		acc = acc << 6 | (uint32_t)v;
		if (++dq == 4) {
			o[on++] = (uint8_t)(acc >> 16);
			o[on++] = (uint8_t)(acc >> 8);
			o[on++] = (uint8_t)acc;
			acc = 0;
			dq = 0;
			if (on > TLSRPT_MIME_DECODED_MAX)
				return fail(c, MXTLS_E_LIMIT, "a report of more than %u bytes",
					    TLSRPT_MIME_DECODED_MAX);
		}
	}
	if (dq != 0 || (pad != 0 && !done))
		return fail(c, MXTLS_E_SYNTAX,
			    "the base64 text ends inside a 4-character group (no '=' padding?)");
	if (on > TLSRPT_MIME_DECODED_MAX)
		return fail(c, MXTLS_E_LIMIT, "a report of more than %u bytes",
			    TLSRPT_MIME_DECODED_MAX);
	*olen = on;
	return MXTLS_OK;
}

/* The report part's body decoded into a new buffer (NUL appended). */
static int decode(struct ctx *c, uint8_t **out, size_t *outlen)
{
	const char *p = c->rp;
	size_t n = c->rn, room;
	if (c->cte == CTE_BASE64) {
		room = n / 4 * 3;
		if (room > TLSRPT_MIME_DECODED_MAX + 3)
			room = TLSRPT_MIME_DECODED_MAX + 3;
	} else {
		if (n > TLSRPT_MIME_DECODED_MAX)
			return fail(c, MXTLS_E_LIMIT, "a report of more than %u bytes",
				    TLSRPT_MIME_DECODED_MAX);
		for (size_t i = 0; i < n && c->cte != CTE_BINARY; i++) {
			/* RFC 2045 §2.7, §2.8: no NUL in 7bit and 8bit, nothing above 127 in 7bit
			 */
			if (p[i] == '\0')
				return fail(c, MXTLS_E_SYNTAX, "a NUL byte in a 7bit or 8bit part");
			if ((uint8_t)p[i] >= 0x80 && c->cte == CTE_7BIT)
				return fail(c, MXTLS_E_SYNTAX, "an 8-bit byte in a 7bit part");
		}
		room = n;
	}
	uint8_t *o = malloc(room + 1);
	if (o == NULL)
		return fail(c, MXTLS_E_NOMEM, "out of memory");
	size_t on = n;
	int rc = MXTLS_OK;
	if (c->cte == CTE_BASE64)
		rc = base64(c, p, n, o, &on);
	else if (n > 0)
		memcpy(o, p, n);
	if (rc == MXTLS_OK && on == 0)
		rc = fail(c, MXTLS_E_SYNTAX, "the report part is empty");
	if (rc != MXTLS_OK) {
		free(o);
		return rc;
	}
	o[on] = '\0';
	*out = o;
	*outlen = on;
	return MXTLS_OK;
}

/* ---- the message ---- */

static int parse(struct ctx *c, const char *msg, size_t len, struct tlsrpt_mime *m)
{
	if (len > TLSRPT_MIME_MESSAGE_MAX)
		return fail(c, MXTLS_E_LIMIT, "a message of more than %u bytes",
			    TLSRPT_MIME_MESSAGE_MAX);
	char *ctv = NULL;
	const struct want w[] = {
		{"Content-Type", &ctv},
		{"TLS-Report-Domain", &m->report_domain},
		{"TLS-Report-Submitter", &m->report_submitter},
		{"From", &m->from},
		{"Subject", &m->subject},
		{"Message-ID", &m->message_id},
	};
	size_t body = 0;
	struct ctype ct;
	int rc = header_section(c, msg, len, true, &body, w, sizeof w / sizeof *w);
	if (rc == MXTLS_OK && ctv == NULL)
		rc = fail(c, MXTLS_E_SYNTAX,
			  "no Content-Type field (RFC 8460 section 5.3: "
			  "multipart/report)");
	if (rc == MXTLS_OK)
		rc = parse_ctype(c, ctv, &ct);
	free(ctv);
	if (rc != MXTLS_OK)
		return rc;
	/* RFC 8460 §5.3: Content-Type multipart/report (RFC 6522) with report-type "tlsrpt" */
	if (strcmp(ct.type, "multipart/report") != 0)
		return fail(c, MXTLS_E_SYNTAX, "the message is not multipart/report");
	if (!ct.has_report_type)
		return fail(c, MXTLS_E_SYNTAX,
			    "multipart/report without a report-type parameter (RFC 6522 "
			    "section 3)");
	if (!nocase_eq(ct.report_type, strlen(ct.report_type), "tlsrpt"))
		return fail(c, MXTLS_E_SYNTAX,
			    "the report-type is not tlsrpt (RFC 8460 section 5.3)");
	if (!ct.has_boundary)
		return fail(c, MXTLS_E_SYNTAX,
			    "multipart/report without a boundary parameter (RFC 2046 section "
			    "5.1.1)");
	rc = walk(c, msg + body, len - body, ct.boundary, 0);
	if (rc == MXTLS_OK && !c->found)
		rc = fail(c, MXTLS_E_SYNTAX,
			  "no application/tlsrpt+gzip or application/tlsrpt+json part (RFC 8460 "
			  "section 5.3)");
	if (rc == MXTLS_OK)
		rc = decode(c, &m->report, &m->report_len);
	if (rc == MXTLS_OK)
		m->kind = c->kind;
	return rc;
}

int tlsrpt_mime_parse(const char *msg, size_t len, struct tlsrpt_mime *out, char *err,
		      size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL || (msg == NULL && len > 0))
		return MXTLS_E_INVAL;
	*out = (struct tlsrpt_mime){0};
	struct ctx c = {.err = err, .errlen = errlen};
	struct tlsrpt_mime m = {0};
	int rc = parse(&c, msg != NULL ? msg : "", len, &m);
	if (rc != MXTLS_OK) {
		tlsrpt_mime_clear(&m);
		return rc;
	}
	*out = m;
	return MXTLS_OK;
}

void tlsrpt_mime_clear(struct tlsrpt_mime *m)
{
	if (m == NULL)
		return;
	free(m->report);
	free(m->report_domain);
	free(m->report_submitter);
	free(m->from);
	free(m->subject);
	free(m->message_id);
	*m = (struct tlsrpt_mime){0};
}
