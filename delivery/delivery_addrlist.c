/* SPDX-License-Identifier: MIT */
/* RFC 5322 address-list parser (delivery_addrlist.h): a lexer over CFWS, then the grammar. */
#include "delivery/delivery_addrlist.h"

#include <string.h>

#include <mxtls/error.h>

/*
 * RFC 5322 §3.4:
 *   address-list = (address *("," address)) / obs-addr-list
 *   address      = mailbox / group
 *   mailbox      = name-addr / addr-spec
 *   name-addr    = [display-name] angle-addr
 *   angle-addr   = [CFWS] "<" addr-spec ">" [CFWS] / obs-angle-addr
 *   group        = display-name ":" [group-list] ";" [CFWS]
 *   display-name = phrase
 * §3.4.1:  addr-spec = local-part "@" domain
 *          local-part = dot-atom / quoted-string / obs-local-part
 *          domain = dot-atom / domain-literal / obs-domain
 * §4.4:    obs-angle-addr = [CFWS] "<" obs-route addr-spec ">" [CFWS]
 *          obs-route = obs-domain-list ":"
 *          obs-domain-list = *(CFWS / ",") "@" domain *("," [CFWS] ["@" domain])
 *          obs-addr-list = *([CFWS] ",") address *("," [address / CFWS])
 *          obs-local-part = word *("." word); obs-domain = atom *("." atom)
 *          obs-phrase = word *(word / "." / CFWS)
 * Folding is removed by the caller; CR and LF here are errors.
 */

enum tok_kind {
	T_END,
	T_ATOM,     /* 1*atext (bytes >= 0x80 too: RFC 6532) */
	T_QSTRING,  /* DQUOTE ... DQUOTE, with the quotes */
	T_DLITERAL, /* "[" ... "]", with the brackets */
	T_SPECIAL,  /* one of < > @ , ; : . */
};

struct tok {
	enum tok_kind kind;
	const char *s;
	size_t n;
};

struct lex {
	const char *p;
	size_t len, pos;
	const char *why;
	int rc;
	struct tok peeked;
	bool has_peek;
};

static bool is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80)
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int fail(struct lex *l, int rc, const char *why)
{
	if (l->why == NULL) {
		l->why = why;
		l->rc = rc;
	}
	return -1;
}

/* CFWS: white space and (nested) comments with quoted-pairs. */
static int skip_cfws(struct lex *l)
{
	while (l->pos < l->len) {
		char c = l->p[l->pos];
		if (c == ' ' || c == '\t') {
			l->pos++;
			continue;
		}
		if (c != '(')
			return 0;
		int depth = 0;
		do {
			if (l->pos >= l->len)
				return fail(l, MXTLS_E_SYNTAX, "an unterminated comment");
			c = l->p[l->pos++];
			if (c == '\0' || c == '\r' || c == '\n')
				return fail(l, MXTLS_E_SYNTAX, "a NUL, CR or LF byte in a comment");
			if (c == '\\') {
				if (l->pos >= l->len)
					return fail(l, MXTLS_E_SYNTAX, "an unterminated comment");
				c = l->p[l->pos++];
				if (c == '\0' || c == '\r' || c == '\n')
					return fail(l, MXTLS_E_SYNTAX,
						    "a NUL, CR or LF byte in a comment");
			} else if (c == '(') {
				if (++depth > DELIVERY_COMMENT_DEPTH_MAX)
					return fail(l, MXTLS_E_LIMIT, "comments nested too deep");
			} else if (c == ')') {
				depth--;
			}
		} while (depth > 0);
	}
	return 0;
}

/* A quoted-string or domain-literal from l->pos (at its opening character) to its end. */
static int scan_quoted(struct lex *l, char close, struct tok *t)
{
	size_t start = l->pos++;
	while (l->pos < l->len) {
		char c = l->p[l->pos++];
		if (c == '\0' || c == '\r' || c == '\n')
			return fail(l, MXTLS_E_SYNTAX, "a NUL, CR or LF byte in a quoted string");
		if (c == '\\') {
			if (l->pos >= l->len)
				break;
			c = l->p[l->pos++];
			if (c == '\0' || c == '\r' || c == '\n')
				return fail(l, MXTLS_E_SYNTAX,
					    "a NUL, CR or LF byte in a quoted string");
		} else if (c == close) {
			t->s = l->p + start;
			t->n = l->pos - start;
			return 0;
		} else if (close == ']' && c == '[') {
			return fail(l, MXTLS_E_SYNTAX, "'[' inside a domain literal");
		}
	}
	return fail(l, MXTLS_E_SYNTAX,
		    close == '"' ? "an unterminated quoted string"
				 : "an unterminated domain literal");
}

static int lex_next(struct lex *l, struct tok *t)
{
	if (l->has_peek) {
		*t = l->peeked;
		l->has_peek = false;
		return 0;
	}
	if (skip_cfws(l) != 0)
		return -1;
	t->s = l->p + l->pos;
	t->n = 0;
	if (l->pos >= l->len) {
		t->kind = T_END;
		return 0;
	}
	unsigned char c = (unsigned char)l->p[l->pos];
	if (c == '"') {
		t->kind = T_QSTRING;
		return scan_quoted(l, '"', t);
	}
	if (c == '[') {
		t->kind = T_DLITERAL;
		return scan_quoted(l, ']', t);
	}
	if (strchr("<>@,;:.", c) != NULL && c != '\0') {
		t->kind = T_SPECIAL;
		t->n = 1;
		l->pos++;
		return 0;
	}
	if (!is_atext(c))
		return fail(l, MXTLS_E_SYNTAX,
			    c == ')'   ? "an unbalanced ')'"
			    : c == ']' ? "an unbalanced ']'"
				       : "a character not allowed in an address list");
	t->kind = T_ATOM;
	while (l->pos < l->len && is_atext((unsigned char)l->p[l->pos]))
		l->pos++;
	t->n = (size_t)(l->p + l->pos - t->s);
	return 0;
}

static int lex_peek(struct lex *l, struct tok *t)
{
	if (!l->has_peek) {
		if (lex_next(l, &l->peeked) != 0)
			return -1;
		l->has_peek = true;
	}
	*t = l->peeked;
	return 0;
}

static bool is_special(const struct tok *t, char c)
{
	return t->kind == T_SPECIAL && t->s[0] == c;
}

static bool is_word(const struct tok *t)
{
	return t->kind == T_ATOM || t->kind == T_QSTRING;
}

/* The addr-spec being built. */
struct spec {
	char buf[DELIVERY_ADDRSPEC_MAX + 1];
	size_t n;
};

static int spec_add(struct lex *l, struct spec *s, const char *p, size_t n)
{
	if (n > DELIVERY_ADDRSPEC_MAX - s->n)
		return fail(l, MXTLS_E_LIMIT, "an address longer than 512 characters");
	memcpy(s->buf + s->n, p, n);
	s->n += n;
	s->buf[s->n] = '\0';
	return 0;
}

/*
 * Items joined by dots, the first already read into *first: a local part (local true:
 * word *("." word), obs-local-part) or a domain (atom *("." atom), obs-domain).
 */
static int parse_dotted(struct lex *l, struct spec *s, const struct tok *first, bool local)
{
	struct tok t = *first;
	for (;;) {
		if (local ? !is_word(&t) : t.kind != T_ATOM)
			return fail(l, MXTLS_E_SYNTAX,
				    local ? "a local part must be words separated by dots"
					  : "a domain must be atoms separated by dots");
		if (spec_add(l, s, t.s, t.n) != 0 || lex_peek(l, &t) != 0)
			return -1;
		if (!is_special(&t, '.'))
			return 0;
		if (lex_next(l, &t) != 0 || spec_add(l, s, ".", 1) != 0 || lex_next(l, &t) != 0)
			return -1;
	}
}

static int parse_local(struct lex *l, struct spec *s, const struct tok *first)
{
	return parse_dotted(l, s, first, true);
}

/* domain = dot-atom / domain-literal / obs-domain, after "@" */
static int parse_domain(struct lex *l, struct spec *s)
{
	struct tok t;
	if (lex_next(l, &t) != 0)
		return -1;
	if (t.kind == T_DLITERAL)
		return spec_add(l, s, t.s, t.n);
	return parse_dotted(l, s, &t, false);
}

/* obs-route = obs-domain-list ":" (just after "<"; skipped: source routes are ignored as
 * RFC 5321 §C allows) */
static int skip_route(struct lex *l)
{
	struct tok t;
	if (lex_peek(l, &t) != 0)
		return -1;
	if (!is_special(&t, '@') && !is_special(&t, ','))
		return 0;
	for (;;) {
		if (lex_next(l, &t) != 0)
			return -1;
		if (is_special(&t, ':'))
			return 0;
		if (is_special(&t, ','))
			continue;
		if (!is_special(&t, '@'))
			return fail(l, MXTLS_E_SYNTAX, "a malformed source route");
		struct spec ignored = {.n = 0};
		if (parse_domain(l, &ignored) != 0)
			return -1;
	}
}

static int emit(struct lex *l, struct spec *s, bool has_domain, delivery_addr_fn fn, void *arg)
{
	int rc = fn(arg, s->buf, s->n, has_domain);
	if (rc != 0) {
		l->rc = rc;
		l->why = "";
		return -1;
	}
	return 0;
}

/* angle-addr after "<": [obs-route] addr-spec ">" */
static int parse_angle(struct lex *l, delivery_addr_fn fn, void *arg)
{
	struct spec s = {.n = 0};
	struct tok t;
	if (skip_route(l) != 0 || lex_next(l, &t) != 0)
		return -1;
	if (is_special(&t, '>'))
		return fail(l, MXTLS_E_SYNTAX, "an empty <> address");
	if (parse_local(l, &s, &t) != 0 || lex_next(l, &t) != 0)
		return -1;
	if (!is_special(&t, '@'))
		return fail(l, MXTLS_E_SYNTAX, "no '@' inside <...>");
	if (spec_add(l, &s, "@", 1) != 0 || parse_domain(l, &s) != 0 || lex_next(l, &t) != 0)
		return -1;
	if (!is_special(&t, '>'))
		return fail(l, MXTLS_E_SYNTAX, "expected '>' after the address");
	return emit(l, &s, true, fn, arg);
}

/*
 * One mailbox, or (when groups are allowed) a group.  Reads up to, not including, the ","
 * / ";" / end that follows.  An empty element (obs-addr-list, obs-mbox-list) reads nothing.
 */
static int parse_address(struct lex *l, bool in_group, delivery_addr_fn fn, void *arg)
{
	struct tok t, first;
	if (lex_peek(l, &first) != 0)
		return -1;
	if (first.kind == T_END || is_special(&first, ',') || is_special(&first, ';'))
		return 0; /* an empty element */
	if (is_special(&first, '<')) {
		lex_next(l, &t);
		return parse_angle(l, fn, arg);
	}
	/* Words and dots: a display name (before "<" or ":") or a local part (before "@"). */
	const char *start = first.s;
	size_t nwords = 0;
	for (;;) {
		if (lex_peek(l, &t) != 0)
			return -1;
		if (!is_word(&t) && !is_special(&t, '.'))
			break;
		lex_next(l, &t);
		nwords++;
	}
	lex_next(l, &t);
	if (is_special(&t, '<'))
		return parse_angle(l, fn, arg);
	if (is_special(&t, ':')) {
		if (in_group)
			return fail(l, MXTLS_E_SYNTAX, "a group inside a group");
		for (;;) {
			if (parse_address(l, true, fn, arg) != 0 || lex_next(l, &t) != 0)
				return -1;
			if (is_special(&t, ';'))
				return 0;
			if (!is_special(&t, ','))
				return fail(l, MXTLS_E_SYNTAX, "a group not ended by ';'");
		}
	}
	if (nwords == 0)
		return fail(l, MXTLS_E_SYNTAX, "an address list element that is not an address");
	/* addr-spec (or a bare local part): read the words again as a local part. */
	struct lex again = {.p = l->p, .len = l->len, .pos = (size_t)(start - l->p)};
	struct spec s = {.n = 0};
	struct tok w;
	if (lex_next(&again, &w) != 0 || parse_local(&again, &s, &w) != 0 ||
	    lex_peek(&again, &w) != 0) {
		l->why = again.why;
		l->rc = again.rc;
		return -1;
	}
	/* Every word must belong to the local part: "John Smith@example.com" is no address. */
	if (w.s != t.s || w.kind != t.kind)
		return fail(l, MXTLS_E_SYNTAX, "a local part must be words separated by dots");
	if (!is_special(&t, '@')) {
		if (t.kind != T_END && !is_special(&t, ',') && !is_special(&t, ';'))
			return fail(l, MXTLS_E_SYNTAX, "unexpected text after an address");
		l->peeked = t;
		l->has_peek = true;
		return emit(l, &s, false, fn, arg);
	}
	if (spec_add(l, &s, "@", 1) != 0 || parse_domain(l, &s) != 0)
		return -1;
	return emit(l, &s, true, fn, arg);
}

int delivery_addrlist_parse(const char *p, size_t len, delivery_addr_fn fn, void *arg,
			    const char **why)
{
	struct lex l = {.p = p, .len = len};
	struct tok t;
	*why = NULL;
	for (;;) {
		if (parse_address(&l, false, fn, arg) != 0 || lex_next(&l, &t) != 0)
			break;
		if (t.kind == T_END)
			return MXTLS_OK;
		if (!is_special(&t, ','))
			fail(&l, MXTLS_E_SYNTAX,
			     is_special(&t, ';') ? "a ';' outside a group"
						 : "expected ',' between addresses");
		if (l.why != NULL)
			break;
	}
	if (l.rc != MXTLS_E_SYNTAX && l.rc != MXTLS_E_LIMIT) /* the callback's value */
		return l.rc;
	*why = l.why;
	return l.rc;
}
