/* SPDX-License-Identifier: MIT */
/* The submission listener's command parser: RFC 5321 §4.1.1/§4.1.2 grammar, beside the code. */
#include "delivery/delivery_smtpd_cmd.h"

#include <string.h>

#include "delivery/delivery_mailbox.h"
#include "util/util_text.h"

/*
 * RFC 5321 §4.1.1 (verbs and their arguments; verbs and the "FROM:"/"TO:" keywords are case
 * insensitive, §2.4):
 *
 *   ehlo = "EHLO" SP ( Domain / address-literal ) CRLF
 *   helo = "HELO" SP Domain CRLF
 *   mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF
 *   rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path )
 *          [SP Rcpt-parameters] CRLF
 *   data = "DATA" CRLF          rset = "RSET" CRLF          quit = "QUIT" CRLF
 *   vrfy = "VRFY" SP String CRLF
 *   help = "HELP" [ SP String ] CRLF
 *   noop = "NOOP" [ SP String ] CRLF
 *
 * RFC 5321 §4.1.2:
 *
 *   Reverse-path   = Path / "<>"
 *   Forward-path   = Path
 *   Path           = "<" [ A-d-l ":" ] Mailbox ">"
 *   A-d-l          = At-domain *( "," At-domain )   ; source route: MUST be accepted,
 *   At-domain      = "@" Domain                    ; SHOULD be ignored (§4.1.1.3, App. C)
 *   Mail-parameters = esmtp-param *(SP esmtp-param)
 *   Rcpt-parameters = esmtp-param *(SP esmtp-param)
 *   esmtp-param    = esmtp-keyword ["=" esmtp-value]
 *   esmtp-keyword  = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
 *   esmtp-value    = 1*(%d33-60 / %d62-126)
 *   Mailbox        = Local-part "@" ( Domain / address-literal )   (delivery_mailbox.c)
 *
 * Deliberate leniency: spaces between "FROM:"/"TO:" and the path are skipped (many local
 * programs send "MAIL FROM: <a@b>", and Postfix takes it).  Deliberate strictness: "RCPT
 * TO:<Postmaster>" without a domain is refused like any address without one, because this
 * listener delivers nothing locally (doc/rfc-compliance.md).
 *
 * Parameters taken (on MAIL only, and only after EHLO; RCPT takes none):
 *   SIZE=1*20DIGIT            RFC 1870 §6
 *   BODY=7BIT / BODY=8BITMIME RFC 6152 §2
 *   SMTPUTF8                  RFC 6531 §3.4 (no value)
 *   REQUIRETLS                RFC 8689 §4 (no value)
 */

/* The reply texts (RFC 3463 enhanced codes). */
#define R_VERB     "500 5.5.1 Command unrecognized"
#define R_NUL      "500 5.5.2 Syntax error: NUL or control byte in the command"
#define R_TOO_LONG "500 5.5.2 Line too long"
#define R_ARGS     "501 5.5.4 Syntax error in parameters or arguments"
#define R_EHLO     "501 5.5.4 Syntax: EHLO hostname"
#define R_HELO     "501 5.5.4 Syntax: HELO hostname"
#define R_MAIL     "501 5.5.4 Syntax: MAIL FROM:<address>"
#define R_RCPT     "501 5.5.4 Syntax: RCPT TO:<address>"
#define R_SENDER   "501 5.1.7 Bad sender address syntax"
#define R_RECIP    "501 5.1.3 Bad recipient address syntax"
#define R_PATH_LEN "501 5.5.4 Path too long"
#define R_UTF8     "553 5.6.7 Non-ASCII address without SMTPUTF8"
#define R_PARAM    "555 5.5.4 Unsupported or malformed parameter"
#define R_PARAM2   "555 5.5.4 Duplicate parameter"
#define R_STARTTLS "502 5.5.1 STARTTLS not offered"

struct verb_name {
	const char *name;
	enum delivery_smtpd_verb verb;
};

static const struct verb_name verbs[] = {
	{"EHLO", DELIVERY_SMTPD_EHLO},         {"HELO", DELIVERY_SMTPD_HELO},
	{"MAIL", DELIVERY_SMTPD_MAIL},         {"RCPT", DELIVERY_SMTPD_RCPT},
	{"DATA", DELIVERY_SMTPD_DATA},         {"RSET", DELIVERY_SMTPD_RSET},
	{"NOOP", DELIVERY_SMTPD_NOOP},         {"QUIT", DELIVERY_SMTPD_QUIT},
	{"VRFY", DELIVERY_SMTPD_VRFY},         {"HELP", DELIVERY_SMTPD_HELP},
	{"STARTTLS", DELIVERY_SMTPD_STARTTLS},
};

/* (p, n) equals the upper-case literal lit but for ASCII case. */
static bool eq_nocase(const char *p, size_t n, const char *lit)
{
	if (n != strlen(lit))
		return false;
	for (size_t i = 0; i < n; i++)
		if (util_lower((uint8_t)p[i]) != util_lower((uint8_t)lit[i]))
			return false;
	return true;
}

static bool is_vchar(uint8_t c)
{
	return c >= 0x21 && c <= 0x7e;
}

/*
 * RFC 5321 §4.1.1.1: the EHLO/HELO argument.  Checked loosely on purpose: the name is only
 * logged and used in no decision, and local programs send what gethostname() gave them
 * ("localhost", a bare label, an address literal).  One word of printable ASCII.
 */
static const char *parse_helo(const char *a, size_t n, struct delivery_smtpd_cmd *out,
			      const char *usage)
{
	if (n == 0 || n > DELIVERY_SMTPD_HELO_MAX)
		return usage;
	for (size_t i = 0; i < n; i++)
		if (!is_vchar((uint8_t)a[i]))
			return usage;
	memcpy(out->helo, a, n);
	out->helo[n] = '\0';
	return NULL;
}

/* A Domain of an At-domain (source route): letters, digits, '-', '.', or an address literal;
 * the route is ignored (§4.1.1.3), so its exact form does not matter beyond these bytes. */
static bool route_byte(uint8_t c)
{
	return util_is_alpha(c) || util_is_digit(c) || c == '-' || c == '.' || c == '[' ||
	       c == ']' || c == ':';
}

/*
 * The Mailbox (m, n) with RFC 6531 §3.3's extension when utf8: UTF8-non-ascii may appear in
 * atext, qtextSMTP and (as U-labels) sub-domains.  Each well-formed UTF-8 sequence is checked
 * as if it were the letter 'a', which is allowed at all those places; the octet caps apply to
 * the real bytes.  Without utf8 any byte >= 0x80 is refused with 553 5.6.7 (RFC 6531 §3.5).
 */
static const char *check_mailbox(const char *m, size_t n, bool utf8, const char *bad)
{
	char ascii[DELIVERY_SMTPD_PATH_MAX];
	size_t k = 0, at = n;
	bool eight = false;
	for (size_t i = 0; i < n;) {
		uint8_t c = (uint8_t)m[i];
		if (c < 0x80) {
			if (c == '@')
				at = i;
			ascii[k++] = (char)c;
			i++;
			continue;
		}
		eight = true;
		size_t l = util_utf8_seq((const uint8_t *)m + i, n - i);
		if (l == 0)
			return bad; /* not UTF-8 at all: no extension makes that an address */
		ascii[k++] = 'a';
		i += l;
	}
	if (eight && !utf8)
		return R_UTF8;
	if (n > DELIVERY_MAILBOX_MAX || (at != n && at > DELIVERY_LOCAL_MAX))
		return bad;
	return delivery_mailbox_check(ascii, k) == NULL ? NULL : bad;
}

/*
 * Path / "<>" at *p (advanced past it).  null_ok: "<>" is allowed (MAIL).  The mailbox goes to
 * out->path without the brackets and the source route.
 */
static const char *parse_path(const char **p, const char *end, bool null_ok, bool utf8,
			      struct delivery_smtpd_cmd *out, const char *bad)
{
	const char *s = *p;
	if (s == end || *s != '<')
		return bad;
	const char *close = memchr(s, '>', (size_t)(end - s));
	if (close == NULL)
		return bad;
	/* RFC 5321 §4.5.3.1.3: the path with its brackets at most 256 octets. */
	if ((size_t)(close - s) + 1 > DELIVERY_SMTPD_PATH_MAX)
		return R_PATH_LEN;
	const char *m = s + 1;
	size_t n = (size_t)(close - m);
	/* A '>' inside a quoted local part would end the path early: then what follows
	 * the '>' is not SP or the end, and the line is refused below; such addresses are not
	 * worth the ambiguity. */
	if (n == 0) {
		if (!null_ok)
			return bad;
		out->path[0] = '\0';
		out->path_len = 0;
		*p = close + 1;
		return NULL;
	}
	if (m[0] == '@') {
		/* A-d-l ":" — accepted and ignored (RFC 5321 §4.1.1.3, Appendix C). */
		const char *colon = memchr(m, ':', n);
		if (colon == NULL)
			return bad;
		for (const char *r = m; r < colon; r++) {
			bool start = r == m || r[-1] == ',';
			if (start ? *r != '@' : !(route_byte((uint8_t)*r) || *r == ','))
				return bad;
		}
		n -= (size_t)(colon + 1 - m);
		m = colon + 1;
	}
	const char *why = check_mailbox(m, n, utf8, bad);
	if (why != NULL)
		return why;
	memcpy(out->path, m, n);
	out->path[n] = '\0';
	out->path_len = n;
	*p = close + 1;
	return NULL;
}

/* SIZE value: 1*20DIGIT (RFC 1870 §6); UINT64_MAX when it overflows. */
static bool parse_size(const char *v, size_t n, uint64_t *out)
{
	if (n == 0 || n > 20)
		return false;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		if (!util_is_digit((uint8_t)v[i]))
			return false;
		unsigned d = (unsigned)(v[i] - '0');
		x = x > (UINT64_MAX - d) / 10 ? UINT64_MAX : x * 10 + d;
	}
	*out = x;
	return true;
}

/* One esmtp-param (k, kn) ["=" (v, vn)] of MAIL; has_value says whether "=" was there. */
static const char *mail_param(const char *k, size_t kn, bool has_value, const char *v, size_t vn,
			      struct delivery_smtpd_cmd *out, unsigned *seen)
{
	enum { P_SIZE = 1, P_BODY = 2, P_UTF8 = 4, P_REQTLS = 8 };
	unsigned bit;
	if (eq_nocase(k, kn, "SIZE")) {
		bit = P_SIZE;
		if (!has_value || !parse_size(v, vn, &out->size))
			return R_PARAM;
		out->has_size = true;
	} else if (eq_nocase(k, kn, "BODY")) {
		bit = P_BODY;
		if (has_value && eq_nocase(v, vn, "7BIT"))
			out->body = DELIVERY_SMTPD_BODY_7BIT;
		else if (has_value && eq_nocase(v, vn, "8BITMIME"))
			out->body = DELIVERY_SMTPD_BODY_8BITMIME;
		else
			return R_PARAM; /* BINARYMIME (RFC 3030) is not offered */
	} else if (eq_nocase(k, kn, "SMTPUTF8")) {
		bit = P_UTF8;
		if (has_value)
			return R_PARAM;
		out->smtputf8 = true;
	} else if (eq_nocase(k, kn, "REQUIRETLS")) {
		bit = P_REQTLS;
		if (has_value)
			return R_PARAM;
		out->requiretls = true;
	} else {
		return R_PARAM;
	}
	if (*seen & bit)
		return R_PARAM2;
	*seen |= bit;
	return NULL;
}

/* Mail-parameters from p to end (after the path); each preceded by exactly one SP. */
static const char *parse_params(const char *p, const char *end, struct delivery_smtpd_cmd *out)
{
	unsigned seen = 0;
	while (p < end) {
		if (*p != ' ' || p + 1 == end)
			return R_ARGS;
		p++;
		const char *k = p;
		while (p < end && *p != ' ' && *p != '=')
			p++;
		size_t kn = (size_t)(p - k);
		if (kn == 0)
			return R_ARGS; /* two spaces, or "=value" alone */
		if (!(util_is_alpha((uint8_t)k[0]) || util_is_digit((uint8_t)k[0])))
			return R_PARAM;
		for (size_t i = 1; i < kn; i++) {
			uint8_t c = (uint8_t)k[i];
			if (!util_is_alpha(c) && !util_is_digit(c) && c != '-')
				return R_PARAM;
		}
		bool has_value = p < end && *p == '=';
		const char *v = p;
		size_t vn = 0;
		if (has_value) {
			v = ++p;
			while (p < end && *p != ' ')
				p++;
			vn = (size_t)(p - v);
			if (vn == 0)
				return R_PARAM;
			for (size_t i = 0; i < vn; i++)
				if (!is_vchar((uint8_t)v[i]) || v[i] == '=')
					return R_PARAM;
		}
		const char *why = mail_param(k, kn, has_value, v, vn, out, &seen);
		if (why != NULL)
			return why;
	}
	return NULL;
}

/* "FROM:" / "TO:" and the optional spaces after it, at *p. */
static bool keyword(const char **p, const char *end, const char *kw)
{
	size_t n = strlen(kw);
	if ((size_t)(end - *p) < n || !eq_nocase(*p, n, kw))
		return false;
	*p += n;
	while (*p < end && **p == ' ')
		(*p)++;
	return true;
}

static const char *parse_mail(const char *a, const char *end, bool esmtp,
			      struct delivery_smtpd_cmd *out)
{
	if (!keyword(&a, end, "FROM:"))
		return R_MAIL;
	/* The parameters first: SMTPUTF8 among them decides whether the path may be UTF-8. */
	const char *close = memchr(a, '>', (size_t)(end - a));
	if (close == NULL || a == end || *a != '<')
		return R_MAIL;
	if (close + 1 < end && !esmtp)
		return R_PARAM; /* RFC 5321 §4.1.1.11: parameters need EHLO */
	const char *why = parse_params(close + 1, end, out);
	if (why != NULL)
		return why;
	return parse_path(&a, close + 1, true, out->smtputf8, out, R_SENDER);
}

static const char *parse_rcpt(const char *a, const char *end, bool smtputf8,
			      struct delivery_smtpd_cmd *out)
{
	if (!keyword(&a, end, "TO:"))
		return R_RCPT;
	const char *close = memchr(a, '>', (size_t)(end - a));
	if (close == NULL || a == end || *a != '<')
		return R_RCPT;
	if (close + 1 < end)
		return R_PARAM; /* no RCPT parameter is offered (no DSN extension) */
	return parse_path(&a, close + 1, false, smtputf8, out, R_RECIP);
}

const char *delivery_smtpd_cmd_parse(const char *line, size_t len, bool esmtp, bool smtputf8,
				     struct delivery_smtpd_cmd *out)
{
	memset(out, 0, sizeof *out);
	/* RFC 5321 §4.5.3.1.4: 512 octets with the CRLF. */
	if (len > DELIVERY_SMTPD_LINE_MAX - 2)
		return R_TOO_LONG;
	/* A control byte (NUL, a bare CR or LF, TAB...) or DEL is in no production of the
	 * grammar above; refusing them here keeps every later step free to use C strings. */
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)line[i];
		if (c < 0x20 || c == 0x7f)
			return R_NUL;
	}
	const char *end = line + len;
	const char *sp = memchr(line, ' ', len);
	size_t vn = sp != NULL ? (size_t)(sp - line) : len;
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (eq_nocase(line, vn, verbs[i].name))
			out->verb = verbs[i].verb;
	/* The argument: everything after the single SP that ends the verb. */
	const char *a = sp != NULL ? sp + 1 : end;
	bool has_arg = sp != NULL;
	switch (out->verb) {
	case DELIVERY_SMTPD_UNKNOWN:
		return R_VERB;
	case DELIVERY_SMTPD_EHLO:
		return has_arg ? parse_helo(a, (size_t)(end - a), out, R_EHLO) : R_EHLO;
	case DELIVERY_SMTPD_HELO:
		return has_arg ? parse_helo(a, (size_t)(end - a), out, R_HELO) : R_HELO;
	case DELIVERY_SMTPD_MAIL:
		return has_arg ? parse_mail(a, end, esmtp, out) : R_MAIL;
	case DELIVERY_SMTPD_RCPT:
		return has_arg ? parse_rcpt(a, end, smtputf8, out) : R_RCPT;
	case DELIVERY_SMTPD_DATA:
	case DELIVERY_SMTPD_RSET:
	case DELIVERY_SMTPD_QUIT:
		return has_arg ? R_ARGS : NULL;
	case DELIVERY_SMTPD_STARTTLS:
		return R_STARTTLS;
	case DELIVERY_SMTPD_VRFY:
		return has_arg && a < end ? NULL : R_ARGS;
	case DELIVERY_SMTPD_NOOP:
	case DELIVERY_SMTPD_HELP:
		return NULL; /* the String is ignored */
	}
	return R_VERB;
}
