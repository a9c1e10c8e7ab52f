/* SPDX-License-Identifier: MIT */
/* RFC 8460 §3: the _smtp._tls TXT record: record selection, the ABNF, the rua= URIs.  Pure. */
#include "tlsrpt/tlsrpt_rua.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "util/util_dnsname.h"
#include "util/util_text.h"

/*
 * RFC 8460 §3 (the grammar this file implements):
 *
 *   tlsrpt-record    = tlsrpt-version 1*(field-delim tlsrpt-field) [field-delim]
 *   field-delim      = *WSP ";" *WSP
 *   tlsrpt-field     = tlsrpt-rua / tlsrpt-extension   ; tlsrpt-rua is required
 *   tlsrpt-version   = %s"v=TLSRPTv1"
 *   tlsrpt-rua       = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
 *   tlsrpt-uri       = URI                              ; RFC 3986; "," "!" ";" percent-encoded
 *   tlsrpt-extension = tlsrpt-ext-name "=" tlsrpt-ext-value
 *   tlsrpt-ext-name  = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *   tlsrpt-ext-value = 1*(%x21-3A / %x3C / %x3E-7E)     ; no "=", ";", SP, controls
 */

#define VERSION      "v=TLSRPTv1"
#define VERSION_LEN  10
#define EXT_NAME_MAX 32

static const char version_lit[] = VERSION;

bool tlsrpt_rua_is_candidate(const char *p, size_t len)
{
	/* RFC 8460 §3: "Records that do not begin with "v=TLSRPTv1;" are discarded."  The ABNF's
	 * field-delim lets white space stand before the ";", so "v=TLSRPTv1 ;" begins a record
	 * too.  "v=TLSRPTv1" alone, "v=TLSRPTv10;" or "v=tlsrptv1;" do not. */
	if (p == NULL || len < VERSION_LEN || memcmp(p, version_lit, VERSION_LEN) != 0)
		return false;
	size_t i = VERSION_LEN;
	while (i < len && util_is_wsp((uint8_t)p[i]))
		i++;
	return i < len && p[i] == ';';
}

/* ---- addresses ---- */

/* RFC 5322 §3.2.3 atext. */
static bool is_atext(uint8_t c)
{
	return util_is_alpha(c) || util_is_digit(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* RFC 5322 §3.2.3 dot-atom-text: 1*atext *("." 1*atext). */
static bool dot_atom(const uint8_t *p, size_t n)
{
	if (n == 0 || p[0] == '.' || p[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '.') {
			if (p[i + 1] == '.')
				return false;
		} else if (!is_atext(p[i])) {
			return false;
		}
	}
	return true;
}

/* RFC 5322 §3.2.4 quoted-string without CFWS or folding: DQUOTE *(qtext / SP / quoted-pair)
 * DQUOTE, quoted-pair = "\" (VCHAR / SP).  Printable US-ASCII only. */
static bool quoted(const uint8_t *p, size_t n)
{
	if (n < 2 || p[0] != '"' || p[n - 1] != '"')
		return false;
	for (size_t i = 1; i < n - 1; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e || p[i] == '"')
			return false;
		if (p[i] == '\\') {
			if (++i == n - 1 || p[i] < 0x20 || p[i] > 0x7e)
				return false;
		}
	}
	return true;
}

bool tlsrpt_addr_valid(const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;
	if (p == NULL || len == 0 || len > TLSRPT_ADDR_MAX)
		return false;
	size_t at = len;
	while (at > 0 && p[at - 1] != '@')
		at--;
	if (at == 0)
		return false;
	at--; /* the last "@": a quoted local part may hold others */
	size_t ln = at, dn = len - at - 1;
	if (ln == 0 || ln > TLSRPT_ADDR_LOCAL_MAX || dn == 0 || p[len - 1] == '.')
		return false;
	if (!dot_atom(p, ln) && !quoted(p, ln))
		return false;
	return util_dnsname_valid(s + at + 1, dn, false);
}

const char *tlsrpt_addr_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');
	return at != NULL ? at + 1 : addr + strlen(addr);
}

/* ---- URIs (RFC 3986) ---- */

static int hexval(uint8_t c)
{
	if (util_is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 3986 §2: unreserved, gen-delims, sub-delims and "%" (checked apart). */
static bool uri_char(uint8_t c)
{
	return util_is_alpha(c) || util_is_digit(c) ||
	       (c != 0 && strchr("-._~:/?#[]@!$&'()*+,;=%", c) != NULL);
}

static bool span_nocase(const uint8_t *p, size_t n, const char *lit)
{
	if (n != strlen(lit))
		return false;
	for (size_t i = 0; i < n; i++)
		if (util_lower(p[i]) != lit[i])
			return false;
	return true;
}

/*
 * RFC 6068 §2: mailtoURI = "mailto:" [ to ] [ hfields ], to = addr-spec *("," addr-spec), each
 * percent-encoded.  Decision: the address is what stands before "?"; hfields ("subject=",
 * "body=", even "to=") are ignored, since the report makes its own header.  Exactly one address:
 * an encoded "," (two addresses) is not used.  The result is the decoded addr-spec with its
 * domain in lower case (tlsrpt_addr_valid(): no CR, LF, NUL or other control can pass).
 * (hier, n) is what follows "mailto:"; out has TLSRPT_RUA_URI_MAX + 1 bytes.
 */
static const char *mailto_addr(const uint8_t *hier, size_t n, char *out)
{
	size_t end = 0, o = 0;
	while (end < n && hier[end] != '?')
		end++;
	if (end == 0)
		return "a mailto URI without an address before '?' (RFC 6068 section 2)";
	for (size_t i = 0; i < end; i++) {
		uint8_t c = hier[i];
		if (c == '%') { /* well-formed: checked by the caller */
			c = (uint8_t)(hexval(hier[i + 1]) * 16 + hexval(hier[i + 2]));
			i += 2;
		}
		if (c == ',')
			return "a mailto URI with more than one address";
		out[o++] = (char)c;
	}
	out[o] = '\0';
	if (!tlsrpt_addr_valid(out, o))
		return "a mailto URI whose address is not a usable addr-spec (RFC 5322 section "
		       "3.4.1, a host name domain)";
	for (char *d = strrchr(out, '@') + 1; *d != '\0'; d++)
		*d = util_lower((uint8_t)*d);
	return NULL;
}

/* RFC 3986 §3.2.2 host within "https://" authority (host, n): an IP-literal holding an IPv6
 * address (no zone, no IPvFuture), or a host name (which covers dotted IPv4). */
static bool https_host(const uint8_t *h, size_t n)
{
	if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
		char a[64];
		struct in6_addr six;
		if (n - 2 >= sizeof a)
			return false;
		memcpy(a, h + 1, n - 2);
		a[n - 2] = '\0';
		return inet_pton(AF_INET6, a, &six) == 1;
	}
	return n > 0 && util_dnsname_valid((const char *)h, n, false);
}

/*
 * An https URI (RFC 9110 §4.2.2): "https:" "//" authority path-abempty [ "?" query ]
 * [ "#" fragment ], the host not empty (a usable host as https_host() says), a port when given
 * of 1 to 5 digits up to 65535.  (hier, n) follows "https:".  Kept as published.
 */
static const char *https_problem(const uint8_t *hier, size_t n)
{
	if (n < 2 || hier[0] != '/' || hier[1] != '/')
		return "an https URI that is not absolute ('https://' and a host)";
	size_t a = 2, e = 2;
	while (e < n && hier[e] != '/' && hier[e] != '?' && hier[e] != '#')
		e++;
	for (size_t i = a; i < e; i++)
		if (hier[i] == '@')
			a = i + 1; /* userinfo before the last "@" */
	size_t hend = e;
	if (!(e > a && hier[e - 1] == ']')) {
		size_t c = e;
		while (c > a && hier[c - 1] != ':' && hier[c - 1] != ']')
			c--;
		if (c > a && hier[c - 1] == ':') {
			size_t digits = e - c;
			unsigned long port = 0;
			for (size_t i = c; i < e; i++) {
				if (!util_is_digit(hier[i]))
					return "an https URI with a port that is not a number";
				if (digits <= 5)
					port = port * 10 + (unsigned long)(hier[i] - '0');
			}
			if (digits == 0 || digits > 5 || port == 0 || port > 65535)
				return "an https URI with a port outside 1-65535";
			hend = c - 1;
		}
	}
	if (!https_host(hier + a, hend - a))
		return "an https URI without a usable host (a host name or a bracketed IPv6 "
		       "address)";
	return NULL;
}

/* ---- the record ---- */

/* A classified URI, its text owned. */
struct item {
	enum tlsrpt_dest_kind kind;
	const char *why;
	char *text;
};

struct state {
	struct item items[TLSRPT_RUA_URIS_MAX];
	size_t n;
	const char *reason;
	int rc;
	bool have_rua;
	char buf[TLSRPT_RUA_URI_MAX + 1];
};

static int fail(struct state *st, int rc, const char *reason)
{
	if (st->rc == MXTLS_OK) {
		st->rc = rc;
		st->reason = reason;
	}
	return rc;
}

/* One tlsrpt-uri (u, n): RFC 3986 syntax as far as the record's grammar needs it, then kind. */
static int add_uri(struct state *st, const uint8_t *u, size_t n)
{
	if (n == 0)
		return fail(st, MXTLS_E_SYNTAX,
			    "an empty URI in rua= (a ',' with no URI after it, "
			    "or 'rua=' with none)");
	if (st->n == TLSRPT_RUA_URIS_MAX)
		return fail(st, MXTLS_E_LIMIT, "more than 64 URIs in rua=");
	if (n > TLSRPT_RUA_URI_MAX)
		return fail(st, MXTLS_E_LIMIT, "a rua URI longer than 2048 characters");
	bool bang = false;
	for (size_t i = 0; i < n; i++) {
		if (!uri_char(u[i]))
			return fail(st, MXTLS_E_SYNTAX,
				    "a character that a URI cannot hold in rua= "
				    "(RFC 3986 section 2)");
		if (u[i] == '%' && (i + 2 >= n || hexval(u[i + 1]) < 0 || hexval(u[i + 2]) < 0))
			return fail(st, MXTLS_E_SYNTAX,
				    "a '%' not followed by two hex digits in a rua URI (RFC 3986 "
				    "section 2.1)");
		bang |= u[i] == '!';
	}
	/* RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
	size_t s = 0;
	while (s < n && (util_is_alpha(u[s]) || (s > 0 && (util_is_digit(u[s]) || u[s] == '+' ||
							   u[s] == '-' || u[s] == '.'))))
		s++;
	if (s == 0 || s == n || u[s] != ':')
		return fail(st, MXTLS_E_SYNTAX,
			    "a rua URI without a scheme (RFC 3986 section 3.1)");
	struct item it = {.kind = TLSRPT_DEST_SKIPPED};
	const uint8_t *hier = u + s + 1;
	size_t hn = n - s - 1;
	const char *text = NULL;
	if (bang) {
		/* RFC 8460 §3: "!" MUST be percent-encoded (a DMARC-style "!10m" size suffix is
		 * not part of TLSRPT): the URI is not used. */
		it.why = "'!' in a rua URI is not percent-encoded (RFC 8460 section 3)";
	} else if (span_nocase(u, s, "mailto")) {
		it.why = mailto_addr(hier, hn, st->buf);
		if (it.why == NULL) {
			it.kind = TLSRPT_DEST_MAILTO;
			text = st->buf;
		}
	} else if (span_nocase(u, s, "https")) {
		it.why = https_problem(hier, hn);
		if (it.why == NULL)
			it.kind = TLSRPT_DEST_HTTPS;
	} else {
		it.why = "a rua URI scheme other than mailto or https (RFC 8460 section 3)";
	}
	if (text == NULL) {
		memcpy(st->buf, u, n);
		st->buf[n] = '\0';
		text = st->buf;
	}
	it.text = strdup(text);
	if (it.text == NULL)
		return fail(st, MXTLS_E_NOMEM, "out of memory");
	st->items[st->n++] = it;
	return MXTLS_OK;
}

/* tlsrpt-rua after "rua=": tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri).  Advances *pos. */
static int parse_rua(struct state *st, const uint8_t *p, size_t len, size_t *pos)
{
	size_t i = *pos;
	st->have_rua = true; /* RFC 8460 §3 ABNF: several rua= fields; decision RPT-04: merged */
	for (;;) {
		size_t start = i;
		while (i < len && !util_is_wsp(p[i]) && p[i] != ',' && p[i] != ';')
			i++;
		int rc = add_uri(st, p + start, i - start);
		if (rc != MXTLS_OK)
			return rc;
		size_t j = i;
		while (j < len && util_is_wsp(p[j]))
			j++;
		if (j == len || p[j] != ',')
			break;
		i = j + 1;
		while (i < len && util_is_wsp(p[i]))
			i++;
	}
	*pos = i;
	return MXTLS_OK;
}

/* tlsrpt-extension after its name and "=": accepted and ignored (RFC 8460 §3: "MUST be
 * accepted" / "SHALL be ignored").  Advances *pos. */
static int parse_ext_value(struct state *st, const uint8_t *p, size_t len, size_t *pos)
{
	size_t i = *pos;
	while (i < len && p[i] >= 0x21 && p[i] <= 0x7e && p[i] != '=' && p[i] != ';')
		i++;
	if (i == *pos)
		return fail(st, MXTLS_E_SYNTAX,
			    "an extension field with an empty value (RFC 8460 section 3)");
	if (i < len && p[i] == '=')
		return fail(st, MXTLS_E_SYNTAX,
			    "an '=' inside an extension value (RFC 8460 section 3)");
	*pos = i;
	return MXTLS_OK;
}

/* tlsrpt-field at *pos (after a field-delim). */
static int parse_field(struct state *st, const uint8_t *p, size_t len, size_t *pos)
{
	size_t i = *pos;
	if (i < len && p[i] == ';')
		return fail(st, MXTLS_E_SYNTAX, "an empty field (';;') (RFC 8460 section 3)");
	while (i < len && (util_is_alpha(p[i]) || util_is_digit(p[i]) || p[i] == '_' ||
			   p[i] == '-' || p[i] == '.'))
		i++;
	size_t nlen = i - *pos;
	if (nlen == 0 || !(util_is_alpha(p[*pos]) || util_is_digit(p[*pos])))
		return fail(st, MXTLS_E_SYNTAX,
			    "a field name must start with a letter or digit "
			    "(RFC 8460 section 3)");
	if (i == len || p[i] != '=')
		return fail(st, MXTLS_E_SYNTAX,
			    "a field name not followed by '=' (RFC 8460 "
			    "section 3)");
	bool rua = nlen == 3 && memcmp(p + *pos, "rua", 3) == 0; /* %s"rua=": case-sensitive */
	if (!rua && nlen > EXT_NAME_MAX)
		return fail(st, MXTLS_E_SYNTAX,
			    "an extension name longer than 32 characters "
			    "(RFC 8460 section 3)");
	*pos = i + 1;
	return rua ? parse_rua(st, p, len, pos) : parse_ext_value(st, p, len, pos);
}

static int parse_record(struct state *st, const uint8_t *p, size_t len)
{
	if (len > TLSRPT_RUA_RECORD_MAX)
		return fail(st, MXTLS_E_LIMIT, "the record is longer than 8192 characters");
	for (size_t i = 0; i < len; i++) {
		if (p[i] == 0)
			return fail(st, MXTLS_E_SYNTAX, "a NUL byte in the record");
		if (p[i] >= 0x80)
			return fail(
				st, MXTLS_E_SYNTAX,
				"a byte that is not US-ASCII in the record (RFC 8460 section 3)");
		if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			return fail(st, MXTLS_E_SYNTAX, "a control character in the record");
	}
	if (len < VERSION_LEN || memcmp(p, version_lit, VERSION_LEN) != 0) {
		if (len >= VERSION_LEN && span_nocase(p, VERSION_LEN, "v=tlsrptv1"))
			return fail(st, MXTLS_E_SYNTAX,
				    "the version must be exactly 'v=TLSRPTv1' (case-sensitive, RFC "
				    "8460 section 3)");
		return fail(st, MXTLS_E_SYNTAX, "the record does not begin with 'v=TLSRPTv1'");
	}
	size_t i = VERSION_LEN, fields = 0;
	for (;;) {
		/* field-delim = *WSP ";" *WSP */
		while (i < len && util_is_wsp(p[i]))
			i++;
		if (i == len)
			break;
		if (p[i] != ';')
			return fail(st, MXTLS_E_SYNTAX,
				    fields == 0 ? "'v=TLSRPTv1' must be followed by ';' (RFC 8460 "
						  "section 3)"
						: "expected ';' between fields (a space inside a "
						  "value, or a URI list without ',')");
		i++;
		while (i < len && util_is_wsp(p[i]))
			i++;
		if (i == len)
			break; /* [field-delim] at the end */
		int rc = parse_field(st, p, len, &i);
		if (rc != MXTLS_OK)
			return rc;
		fields++;
	}
	if (!st->have_rua)
		return fail(st, MXTLS_E_SYNTAX,
			    fields == 0 && len == VERSION_LEN
				    ? "'v=TLSRPTv1' alone: no rua= field (RFC 8460 section 3)"
				    : "no rua= field (RFC 8460 section 3 requires one)");
	return MXTLS_OK;
}

static void set_reason(struct tlsrpt_rua *out, const char *reason)
{
	snprintf(out->reason, sizeof out->reason, "%s", reason);
}

static void free_items(struct item *it, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(it[i].text);
}

static bool seen(const struct tlsrpt_rua_dest *d, size_t n, const struct item *it)
{
	for (size_t i = 0; i < n; i++)
		if (d[i].kind == it->kind && strcmp(d[i].text, it->text) == 0)
			return true;
	return false;
}

/* Moves the items into out's two lists (duplicates of a usable destination are dropped). */
static int take_items(struct state *st, struct tlsrpt_rua *out)
{
	size_t usable = 0;
	for (size_t i = 0; i < st->n; i++)
		usable += st->items[i].kind != TLSRPT_DEST_SKIPPED;
	if (usable == 0)
		return fail(st, MXTLS_E_SYNTAX,
			    "no usable rua URI (only unsupported schemes or "
			    "unusable addresses) (RFC 8460 section 3)");
	struct tlsrpt_rua_dest *d = calloc(usable, sizeof *d);
	struct tlsrpt_rua_dest *k = st->n > usable ? calloc(st->n - usable, sizeof *k) : NULL;
	if (d == NULL || (st->n > usable && k == NULL)) {
		free(d);
		free(k);
		return fail(st, MXTLS_E_NOMEM, "out of memory");
	}
	size_t nd = 0, nk = 0;
	for (size_t i = 0; i < st->n; i++) {
		struct item *it = &st->items[i];
		if (it->kind == TLSRPT_DEST_SKIPPED) {
			k[nk++] = (struct tlsrpt_rua_dest){it->kind, it->text, it->why};
		} else if (seen(d, nd, it)) {
			free(it->text);
		} else {
			d[nd++] = (struct tlsrpt_rua_dest){it->kind, it->text, NULL};
		}
		it->text = NULL;
	}
	st->n = 0;
	out->dest = d;
	out->ndest = nd;
	out->skipped = k;
	out->nskipped = nk;
	return MXTLS_OK;
}

static int parse_into(const char *p, size_t len, size_t record, struct tlsrpt_rua *out)
{
	*out = (struct tlsrpt_rua){.status = TLSRPT_RUA_INVALID, .record = record};
	struct state *st = calloc(1, sizeof *st);
	if (st == NULL) {
		set_reason(out, "out of memory");
		return MXTLS_E_NOMEM;
	}
	int rc = parse_record(st, (const uint8_t *)p, len);
	if (rc == MXTLS_OK)
		rc = take_items(st, out);
	free_items(st->items, st->n);
	if (rc == MXTLS_OK) {
		out->status = TLSRPT_RUA_OK;
	} else {
		set_reason(out, st->reason);
	}
	free(st);
	return rc;
}

int tlsrpt_rua_parse(const char *p, size_t len, struct tlsrpt_rua *out)
{
	if (out == NULL || (p == NULL && len > 0))
		return MXTLS_E_INVAL;
	return parse_into(p != NULL ? p : "", len, 0, out);
}

int tlsrpt_rua_discover(const struct tlsrpt_rua_span *rrset, size_t n, struct tlsrpt_rua *out)
{
	if (out == NULL || (rrset == NULL && n > 0))
		return MXTLS_E_INVAL;
	size_t found = 0, which = 0;
	bool near = false;
	for (size_t i = 0; i < n; i++) {
		if (rrset[i].p == NULL && rrset[i].len > 0)
			return MXTLS_E_INVAL;
		/* RFC 8460 §3: records that do not begin with "v=TLSRPTv1;" are discarded. */
		if (tlsrpt_rua_is_candidate(rrset[i].p, rrset[i].len)) {
			if (found++ == 0)
				which = i;
		} else if (rrset[i].len >= VERSION_LEN &&
			   span_nocase((const uint8_t *)rrset[i].p, VERSION_LEN, "v=tlsrptv1")) {
			near = true;
		}
	}
	if (found == 1)
		return parse_into(rrset[which].p, rrset[which].len, which, out);
	/* RFC 8460 §3: "If the number of resulting records is not one, senders MUST assume the
	 * recipient domain does not implement TLSRPT." */
	*out = (struct tlsrpt_rua){.status = found == 0 ? TLSRPT_RUA_NONE : TLSRPT_RUA_MULTIPLE};
	set_reason(out, found > 1 ? "more than one record begins with 'v=TLSRPTv1;' (RFC 8460 "
				    "section 3: no TLSRPT)"
			: near    ? "no record begins with 'v=TLSRPTv1;' (one begins with a "
				    "misspelt version or lacks the ';', and is discarded)"
				  : "no record begins with 'v=TLSRPTv1;'");
	return MXTLS_E_NOTFOUND;
}

void tlsrpt_rua_free(struct tlsrpt_rua *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->ndest; i++)
		free(r->dest[i].text);
	for (size_t i = 0; i < r->nskipped; i++)
		free(r->skipped[i].text);
	free(r->dest);
	free(r->skipped);
	r->dest = r->skipped = NULL;
	r->ndest = r->nskipped = 0;
}
