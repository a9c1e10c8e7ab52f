/* SPDX-License-Identifier: MIT */
/* RFC 6376 verification: DKIM-Signature and key record parsing, hashing, GnuTLS check.  Pure. */
#include "dkim_verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <mxtls/error.h>

#include "dkim_canon.h"
#include "dkim_sign.h"
#include "util/util_buf.h"

/* One tag of a tag-list: offsets into the list's bytes. */
struct tag {
	size_t name, name_len;
	size_t val, val_len; /* the value without FWS at its ends */
};

static bool is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* RFC 6376 §3.2 VALCHAR: %x21-3A / %x3C-7E. */
static bool is_valchar(char c)
{
	unsigned char u = (unsigned char)c;
	return u >= 0x21 && u <= 0x7e && u != ';';
}

/*
 * RFC 6376 §3.2 tag-list = tag-spec *( ";" tag-spec ) [ ";" ];
 * tag-spec = [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]; tag-name = ALPHA *ALNUMPUNC;
 * tag-value = [ tval *( 1*(WSP / FWS) tval ) ].  FWS here is any run of SP, HTAB, CR, LF (the
 * header walk has already required a continuation line to begin with WSP).  "Tags with
 * duplicate names MUST NOT occur within a single tag-list; if a tag name does occur more than
 * once, the entire tag-list is invalid."
 */
static int tag_list(const char *p, size_t len, struct tag *tags, size_t *n, const char **why)
{
	size_t i = 0, count = 0;
	for (;;) {
		size_t spec = i;
		while (i < len && p[i] != ';')
			i++;
		size_t end = i;
		size_t a = spec;
		while (a < end && is_fws(p[a]))
			a++;
		if (a == end) {
			/* An empty tag-spec: allowed only as the optional ";" at the very end. */
			if (end == len && (count > 0 || spec == 0))
				break;
			*why = "empty tag-spec in the tag-list";
			return MXTLS_E_SYNTAX;
		}
		if (!is_alpha(p[a])) {
			*why = "tag name does not begin with a letter";
			return MXTLS_E_SYNTAX;
		}
		size_t nm = a;
		while (a < end && (is_alpha(p[a]) || is_digit(p[a]) || p[a] == '_'))
			a++;
		size_t nm_len = a - nm;
		while (a < end && is_fws(p[a]))
			a++;
		if (a == end || p[a] != '=') {
			*why = "tag without '='";
			return MXTLS_E_SYNTAX;
		}
		a++;
		while (a < end && is_fws(p[a]))
			a++;
		size_t v = a, v_end = end;
		while (v_end > v && is_fws(p[v_end - 1]))
			v_end--;
		for (size_t k = v; k < v_end; k++)
			if (!is_valchar(p[k]) && !is_fws(p[k])) {
				*why = "tag value with a byte outside VALCHAR";
				return MXTLS_E_SYNTAX;
			}
		for (size_t t = 0; t < count; t++)
			if (tags[t].name_len == nm_len &&
			    memcmp(p + tags[t].name, p + nm, nm_len) == 0) {
				*why = "duplicate tag";
				return MXTLS_E_SYNTAX;
			}
		if (count == DKIM_TAGS_MAX) {
			*why = "more tags than DKIM_TAGS_MAX";
			return MXTLS_E_LIMIT;
		}
		tags[count++] = (struct tag){nm, nm_len, v, v_end - v};
		if (end == len)
			break;
		i = end + 1;
	}
	*n = count;
	return MXTLS_OK;
}

static bool tag_is(const char *p, const struct tag *t, const char *name)
{
	size_t n = strlen(name);
	return t->name_len == n && memcmp(p + t->name, name, n) == 0;
}

static bool val_is(const char *p, const struct tag *t, const char *v)
{
	size_t n = strlen(v);
	return t->val_len == n && memcmp(p + t->val, v, n) == 0;
}

static bool val_is_nocase(const char *p, size_t len, const char *v)
{
	return dkim_canon_name_eq(p, len, v, strlen(v));
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (is_digit(c))
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Base64 (RFC 4648 §4) with FWS allowed anywhere (RFC 6376 §3.5 b=, bh=; §3.6.1 p=), into
 * out[0..max).  Padding, when present, must be complete and last.  *out_len is the decoded
 * length.  MXTLS_E_SYNTAX or MXTLS_E_LIMIT with *why.
 */
static int base64_decode(const char *p, size_t len, unsigned char *out, size_t max, size_t *out_len,
			 const char **why)
{
	uint32_t acc = 0;
	size_t bits = 0, o = 0, pad = 0, chars = 0;
	for (size_t i = 0; i < len; i++) {
		char c = p[i];
		if (is_fws(c))
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		int v = b64val(c);
		if (v < 0 || pad > 0) {
			*why = "bad base64";
			return MXTLS_E_SYNTAX;
		}
		chars++;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == max) {
				*why = "base64 value longer than its cap";
				return MXTLS_E_LIMIT;
			}
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* Whole quanta only: 4 characters with their padding, and no set bits left over. */
	if ((chars + pad) % 4 != 0 || pad > 2 || (pad > 0 && (chars % 4) + pad != 4) || acc != 0) {
		*why = "bad base64";
		return MXTLS_E_SYNTAX;
	}
	*out_len = o;
	return MXTLS_OK;
}

/* A domain name of LDH labels (and '_' when underscore), dot-separated, at most 253 octets:
 * copied into out in lower case.  false when it is not one. */
static bool copy_name(const char *p, size_t len, bool underscore, char out[DKIM_NAME_MAX + 1])
{
	if (len == 0 || len > DKIM_NAME_MAX || p[0] == '.' || p[len - 1] == '.')
		return false;
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		char c = p[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (is_alpha(c) || is_digit(c) || c == '-' || (underscore && c == '_')) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
		out[i] = lower(c);
	}
	out[len] = '\0';
	return true;
}

/* A decimal number of at most 12 digits (RFC 6376 §3.5 t=, x=: "12 digits"). */
static bool parse_time(const char *p, size_t len, int64_t *out)
{
	if (len == 0 || len > 12)
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(p[i]))
			return false;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return true;
}

/* The next element of a colon-separated list p[*i..len), FWS around it removed. */
static bool list_next(const char *p, size_t len, size_t *i, size_t *el, size_t *el_len)
{
	if (*i > len)
		return false;
	size_t a = *i;
	while (*i < len && p[*i] != ':')
		(*i)++;
	size_t e = *i;
	(*i)++;
	while (a < e && is_fws(p[a]))
		a++;
	while (e > a && is_fws(p[e - 1]))
		e--;
	*el = a;
	*el_len = e - a;
	return true;
}

static int sig_fail(struct dkim_sig *s, int rc, const char *why)
{
	s->status = rc;
	snprintf(s->reason, sizeof s->reason, "%s", why);
	return rc;
}

/* h= (RFC 6376 §3.5): names separated by ':' with FWS around them; From must be one. */
static int parse_h(const char *p, const struct tag *t, struct dkim_sig *s)
{
	size_t i = t->val, end = t->val + t->val_len, el, el_len, o = 0;
	bool from = false;
	while (list_next(p, end, &i, &el, &el_len)) {
		if (el_len == 0)
			return sig_fail(s, MXTLS_E_SYNTAX, "empty name in h=");
		for (size_t k = el; k < el + el_len; k++)
			if (is_fws(p[k]))
				return sig_fail(s, MXTLS_E_SYNTAX,
						"white space inside a name in h=");
		if (s->h_count == DKIM_H_MAX)
			return sig_fail(s, MXTLS_E_LIMIT, "more names in h= than DKIM_H_MAX");
		if (o + el_len + 1 > sizeof s->h_text)
			return sig_fail(s, MXTLS_E_LIMIT, "h= longer than DKIM_H_TEXT_MAX");
		memcpy(s->h_text + o, p + el, el_len);
		s->h_text[o + el_len] = '\0';
		s->h_off[s->h_count] = o;
		s->h_len[s->h_count++] = el_len;
		o += el_len + 1;
		from = from || val_is_nocase(p + el, el_len, "from");
	}
	/* RFC 6376 §5.4: "The From header field MUST be signed". */
	if (!from)
		return sig_fail(s, MXTLS_E_SYNTAX, "h= does not include From");
	return MXTLS_OK;
}

/* c= (RFC 6376 §3.5): header[/body], each simple or relaxed; body defaults to simple. */
static int parse_c(const char *p, const struct tag *t, struct dkim_sig *s)
{
	const char *v = p + t->val;
	size_t n = t->val_len;
	const char *slash = memchr(v, '/', n);
	size_t hl = slash != NULL ? (size_t)(slash - v) : n;
	const char *names[2] = {v, slash != NULL ? slash + 1 : NULL};
	size_t lens[2] = {hl, slash != NULL ? n - hl - 1 : 0};
	enum dkim_canon_alg out[2] = {DKIM_CANON_SIMPLE, DKIM_CANON_SIMPLE};
	for (int k = 0; k < 2; k++) {
		if (names[k] == NULL)
			continue;
		if (lens[k] == 6 && memcmp(names[k], "simple", 6) == 0)
			out[k] = DKIM_CANON_SIMPLE;
		else if (lens[k] == 7 && memcmp(names[k], "relaxed", 7) == 0)
			out[k] = DKIM_CANON_RELAXED;
		else
			return sig_fail(s, MXTLS_E_SYNTAX, "unknown canonicalisation in c=");
	}
	s->hcanon = out[0];
	s->bcanon = out[1];
	return MXTLS_OK;
}

/* i= (RFC 6376 §3.5): [local-part] "@" domain-name, the domain d= or a subdomain of it. */
static int parse_i(const char *p, const struct tag *t, struct dkim_sig *s)
{
	const char *v = p + t->val;
	size_t n = t->val_len;
	size_t at = n;
	for (size_t k = n; k > 0; k--)
		if (v[k - 1] == '@') {
			at = k - 1;
			break;
		}
	if (at == n)
		return sig_fail(s, MXTLS_E_SYNTAX, "i= without '@'");
	if (!copy_name(v + at + 1, n - at - 1, false, s->auid_domain))
		return sig_fail(s, MXTLS_E_SYNTAX, "bad domain in i=");
	return MXTLS_OK;
}

/* Whether sub is d or a subdomain of d (both lower case). */
static bool in_domain(const char *sub, const char *d)
{
	size_t sl = strlen(sub), dl = strlen(d);
	if (sl == dl)
		return strcmp(sub, d) == 0;
	return sl > dl && sub[sl - dl - 1] == '.' && strcmp(sub + sl - dl, d) == 0;
}

int dkim_sig_parse(const char *field, size_t len, struct dkim_sig *s)
{
	memset(s, 0, sizeof *s);
	s->field_len = len;
	while (s->field_len > 0 &&
	       (field[s->field_len - 1] == '\n' || field[s->field_len - 1] == '\r'))
		s->field_len--;
	if (len > DKIM_SIG_FIELD_MAX)
		return sig_fail(s, MXTLS_E_LIMIT, "DKIM-Signature field longer than its cap");
	const char *colon = memchr(field, ':', len);
	size_t nl = colon != NULL ? (size_t)(colon - field) : 0;
	while (nl > 0 && (field[nl - 1] == ' ' || field[nl - 1] == '\t'))
		nl--;
	if (colon == NULL || !dkim_canon_name_eq(field, nl, "DKIM-Signature", 14))
		return sig_fail(s, MXTLS_E_SYNTAX, "not a DKIM-Signature field");
	if (memchr(field, '\0', len) != NULL)
		return sig_fail(s, MXTLS_E_SYNTAX, "NUL in the DKIM-Signature field");
	size_t base = (size_t)(colon - field) + 1;
	const char *p = field + base;
	size_t plen = s->field_len - base;
	struct tag tags[DKIM_TAGS_MAX];
	size_t n = 0;
	const char *why = NULL;
	int rc = tag_list(p, plen, tags, &n, &why);
	if (rc != MXTLS_OK)
		return sig_fail(s, rc, why);

	const struct tag *tv = NULL, *ta = NULL, *tb = NULL, *tbh = NULL, *td = NULL, *th = NULL,
			 *ts = NULL;
	s->hcanon = s->bcanon = DKIM_CANON_SIMPLE;
	/* d= and s= first, so that a refusal still names them. */
	for (size_t k = 0; k < n; k++) {
		const struct tag *t = &tags[k];
		if (tag_is(p, t, "d")) {
			td = t;
			if (!copy_name(p + t->val, t->val_len, false, s->domain))
				return sig_fail(s, MXTLS_E_SYNTAX, "bad domain in d=");
		} else if (tag_is(p, t, "s")) {
			ts = t;
			if (!copy_name(p + t->val, t->val_len, true, s->selector))
				return sig_fail(s, MXTLS_E_SYNTAX, "bad selector in s=");
		}
	}
	for (size_t k = 0; k < n; k++) {
		const struct tag *t = &tags[k];
		rc = MXTLS_OK;
		if (tag_is(p, t, "v")) {
			tv = t;
			if (!val_is(p, t, "1"))
				return sig_fail(s, MXTLS_E_SYNTAX, "v= is not 1");
		} else if (tag_is(p, t, "a")) {
			ta = t;
			if (val_is(p, t, "rsa-sha256"))
				s->alg = DKIM_ALG_RSA_SHA256;
			else if (val_is(p, t, "ed25519-sha256"))
				s->alg = DKIM_ALG_ED25519_SHA256;
			else if (val_is(p, t, "rsa-sha1"))
				/* RFC 8301 §3.1: rsa-sha1 MUST NOT be used for verifying. */
				return sig_fail(s, MXTLS_E_SYNTAX, "a=rsa-sha1 refused (RFC 8301)");
			else
				return sig_fail(s, MXTLS_E_SYNTAX, "unknown algorithm in a=");
		} else if (tag_is(p, t, "b")) {
			tb = t;
			s->b_start = base + t->val;
			/* §3.7: the whole value, with the FWS around it, is what is emptied. */
			size_t e = t->val + t->val_len;
			while (e < plen && p[e] != ';')
				e++;
			s->b_end = base + e;
			s->b_start = base + t->val;
			size_t st = t->val;
			while (st > 0 && p[st - 1] != '=')
				st--;
			s->b_start = base + st;
			rc = base64_decode(p + t->val, t->val_len, s->b, sizeof s->b, &s->b_len,
					   &why);
			if (rc == MXTLS_OK && s->b_len == 0) {
				rc = MXTLS_E_SYNTAX;
				why = "empty b=";
			}
		} else if (tag_is(p, t, "bh")) {
			tbh = t;
			unsigned char bh[40];
			size_t bl = 0;
			rc = base64_decode(p + t->val, t->val_len, bh, sizeof bh, &bl, &why);
			if (rc == MXTLS_OK && bl != 32) {
				rc = MXTLS_E_SYNTAX;
				why = "bh= is not a SHA-256 hash";
			}
			if (rc == MXTLS_E_LIMIT)
				rc = MXTLS_E_SYNTAX;
			memcpy(s->bh, bh, sizeof s->bh);
		} else if (tag_is(p, t, "c")) {
			rc = parse_c(p, t, s);
			if (rc != MXTLS_OK)
				return rc;
		} else if (tag_is(p, t, "h")) {
			th = t;
			rc = parse_h(p, t, s);
			if (rc != MXTLS_OK)
				return rc;
		} else if (tag_is(p, t, "i")) {
			rc = parse_i(p, t, s);
			if (rc != MXTLS_OK)
				return rc;
		} else if (tag_is(p, t, "l")) {
			/* l= lets anyone append to a signed body; a TLS report is a whole document.
			 */
			return sig_fail(s, MXTLS_E_SYNTAX, "l= (body length limit) refused");
		} else if (tag_is(p, t, "q")) {
			bool dns = false;
			size_t i = t->val, el, el_len;
			while (list_next(p, t->val + t->val_len, &i, &el, &el_len))
				dns = dns || (el_len == 7 && memcmp(p + el, "dns/txt", 7) == 0);
			if (!dns)
				return sig_fail(s, MXTLS_E_SYNTAX, "q= without dns/txt");
		} else if (tag_is(p, t, "t")) {
			s->has_t = true;
			if (!parse_time(p + t->val, t->val_len, &s->t))
				return sig_fail(s, MXTLS_E_SYNTAX, "bad t=");
		} else if (tag_is(p, t, "x")) {
			s->has_x = true;
			if (!parse_time(p + t->val, t->val_len, &s->x))
				return sig_fail(s, MXTLS_E_SYNTAX, "bad x=");
		}
		/* z= and unknown tags are ignored (§3.2: "Unrecognized tags MUST be ignored"). */
		if (rc != MXTLS_OK)
			return sig_fail(s, rc, why);
	}
	/* §6.1.1: v, a, b, bh, d, h, s are required. */
	if (tv == NULL || ta == NULL || tb == NULL || tbh == NULL || td == NULL || th == NULL ||
	    ts == NULL)
		return sig_fail(s, MXTLS_E_SYNTAX, "a required tag (v a b bh d h s) is missing");
	/* §3.5 x=: "MUST be greater than the value of the t= tag if both are present". */
	if (s->has_t && s->has_x && s->x <= s->t)
		return sig_fail(s, MXTLS_E_SYNTAX, "x= is not after t=");
	/* §6.1.1: "the domain part of the i= tag ... is not the same as, or a subdomain of, the
	 * d= tag value" → PERMFAIL. */
	if (s->auid_domain[0] == '\0')
		memcpy(s->auid_domain, s->domain, sizeof s->domain);
	else if (!in_domain(s->auid_domain, s->domain))
		return sig_fail(s, MXTLS_E_SYNTAX, "i= is not in d=");
	s->status = MXTLS_OK;
	return MXTLS_OK;
}

int dkim_verify_find(const char *msg, size_t len, struct dkim_sig *sigs, size_t max, size_t *n,
		     size_t *ignored)
{
	*n = 0;
	*ignored = 0;
	if (len > DKIM_MESSAGE_MAX)
		return MXTLS_E_LIMIT;
	size_t pos = 0, fields = 0, found = 0, skipped = 0;
	struct dkim_field f;
	int rc;
	while ((rc = dkim_canon_field_next(msg, len, &pos, &f)) == 1) {
		if (++fields > DKIM_FIELDS_MAX)
			return MXTLS_E_LIMIT;
		if (!dkim_canon_name_eq(msg + f.start, f.name_len, "DKIM-Signature", 14))
			continue;
		if (found == max) {
			skipped++;
			continue;
		}
		struct dkim_sig *s = &sigs[found++];
		dkim_sig_parse(msg + f.start, f.len, s);
		s->field_start += f.start;
		s->b_start += f.start;
		s->b_end += f.start;
	}
	if (rc != 0)
		return rc;
	*n = found;
	*ignored = skipped;
	return MXTLS_OK;
}

int dkim_verify_key_name(const struct dkim_sig *s, char *out, size_t size)
{
	if (s->status != MXTLS_OK)
		return MXTLS_E_INVAL;
	size_t need = strlen(s->selector) + strlen("._domainkey.") + strlen(s->domain);
	if (need > DKIM_NAME_MAX || need + 1 > size)
		return MXTLS_E_LIMIT;
	snprintf(out, size, "%s._domainkey.%s", s->selector, s->domain);
	return MXTLS_OK;
}

int dkim_key_parse(const char *rec, size_t len, struct dkim_keyrec *out, const char **reason)
{
	if (len > DKIM_KEY_RECORD_MAX) {
		*reason = "key record longer than DKIM_KEY_RECORD_MAX";
		return MXTLS_E_LIMIT;
	}
	if (memchr(rec, '\0', len) != NULL) {
		*reason = "NUL in the key record";
		return MXTLS_E_SYNTAX;
	}
	struct tag tags[DKIM_TAGS_MAX];
	size_t n = 0;
	int rc = tag_list(rec, len, tags, &n, reason);
	if (rc != MXTLS_OK)
		return rc;
	struct dkim_keyrec *k = calloc(1, sizeof *k);
	if (k == NULL) {
		*reason = "out of memory";
		return MXTLS_E_NOMEM;
	}
	strcpy(k->services, "*");
	bool have_p = false;
	const char *why = NULL;
	for (size_t i = 0; i < n && rc == MXTLS_OK; i++) {
		const struct tag *t = &tags[i];
		const char *v = rec + t->val;
		size_t el, el_len, j = t->val, end = t->val + t->val_len;
		if (tag_is(rec, t, "v")) {
			/* §3.6.1 v=: "if specified, this tag MUST be set to "DKIM1" ... and MUST be
			 * the first tag in the record". */
			if (i != 0 || !val_is(rec, t, "DKIM1")) {
				rc = MXTLS_E_SYNTAX;
				why = "v= is not DKIM1 or not the first tag";
			}
		} else if (tag_is(rec, t, "h")) {
			bool sha256 = false;
			while (list_next(rec, end, &j, &el, &el_len))
				sha256 = sha256 ||
					 (el_len == 6 && memcmp(rec + el, "sha256", 6) == 0);
			if (!sha256) {
				rc = MXTLS_E_SYNTAX;
				why = "key h= does not allow sha256";
			}
		} else if (tag_is(rec, t, "k")) {
			if (val_is(rec, t, "rsa")) {
				k->ed25519 = false;
			} else if (val_is(rec, t, "ed25519")) {
				k->ed25519 = true;
			} else {
				rc = MXTLS_E_SYNTAX;
				why = "unknown key type in k=";
			}
		} else if (tag_is(rec, t, "p")) {
			have_p = true;
			rc = base64_decode(v, t->val_len, k->p, sizeof k->p, &k->p_len, &why);
			k->revoked = rc == MXTLS_OK && k->p_len == 0;
		} else if (tag_is(rec, t, "s")) {
			size_t o = 0;
			for (size_t c = 0; c < t->val_len; c++) {
				if (is_fws(v[c]))
					continue;
				if (o + 1 >= sizeof k->services) {
					rc = MXTLS_E_LIMIT;
					why = "key s= longer than DKIM_SERVICE_MAX";
					break;
				}
				k->services[o++] = v[c];
			}
			k->services[o] = '\0';
		} else if (tag_is(rec, t, "t")) {
			while (list_next(rec, end, &j, &el, &el_len)) {
				if (el_len == 1 && rec[el] == 'y')
					k->testing = true;
				else if (el_len == 1 && rec[el] == 's')
					k->strict = true;
			}
		}
		/* n= and unknown tags are ignored. */
	}
	if (rc == MXTLS_OK && !have_p) {
		rc = MXTLS_E_SYNTAX;
		why = "key record without p=";
	}
	if (rc != MXTLS_OK) {
		*reason = why;
		free(k);
		return rc;
	}
	*out = *k;
	free(k);
	return MXTLS_OK;
}

bool dkim_key_allows_service(const struct dkim_keyrec *k, const char *service)
{
	size_t len = strlen(k->services), i = 0, el, el_len;
	while (list_next(k->services, len, &i, &el, &el_len)) {
		if (el_len == 1 && k->services[el] == '*')
			return true;
		if (el_len == strlen(service) && memcmp(k->services + el, service, el_len) == 0)
			return true;
	}
	return false;
}

static void result(struct dkim_result *r, enum dkim_verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void result(struct dkim_result *r, enum dkim_verdict v, const char *fmt, ...)
{
	r->verdict = v;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof r->reason, fmt, ap);
	va_end(ap);
}

static void result_init(struct dkim_result *r, const struct dkim_sig *s)
{
	memset(r, 0, sizeof *r);
	memcpy(r->domain, s->domain, sizeof r->domain);
	memcpy(r->selector, s->selector, sizeof r->selector);
}

void dkim_verify_no_key(const struct dkim_sig *s, bool temporary, const char *why,
			struct dkim_result *r)
{
	result_init(r, s);
	result(r, temporary ? DKIM_TEMPERROR : DKIM_PERMERROR, "%s%s%s",
	       temporary ? "key lookup failed" : "no key record",
	       why != NULL && why[0] != '\0' ? ": " : "", why != NULL ? why : "");
}

const char *dkim_verdict_name(enum dkim_verdict v)
{
	switch (v) {
	case DKIM_PASS:
		return "pass";
	case DKIM_FAIL:
		return "fail";
	case DKIM_PERMERROR:
		return "permerror";
	case DKIM_TEMPERROR:
		return "temperror";
	}
	return "permerror";
}

static int hash_emit(void *arg, const char *p, size_t n)
{
	return gnutls_hash(*(gnutls_hash_hd_t *)arg, p, n) < 0 ? MXTLS_E_INTERNAL : 0;
}

/* The SHA-256 of the body msg[pos..len) in s's body canonicalisation. */
static int body_hash(const char *body, size_t len, enum dkim_canon_alg c, unsigned char out[32])
{
	gnutls_hash_hd_t h;
	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		return MXTLS_E_INTERNAL;
	struct dkim_body_canon bc;
	if (c == DKIM_CANON_SIMPLE)
		dkim_body_canon_init_simple(&bc, hash_emit, &h);
	else
		dkim_body_canon_init(&bc, hash_emit, &h);
	int rc = dkim_body_canon_update(&bc, body, len);
	if (rc == 0)
		rc = dkim_body_canon_final(&bc);
	gnutls_hash_deinit(h, out);
	return rc;
}

static int canon_header(enum dkim_canon_alg c, const char *p, size_t len, struct util_buf *out)
{
	return c == DKIM_CANON_SIMPLE ? dkim_canon_header_simple(p, len, out)
				      : dkim_canon_header_relaxed(p, len, out);
}

/* The signed header data (RFC 6376 §5.4.2, §3.7): the fields named in h=, each name taking the
 * last instance not yet taken, bottom up ("nothing" when none is left), then the signature
 * field with its b= value emptied, without its final CRLF. */
static int header_data(const char *msg, size_t len, const struct dkim_sig *s, struct util_buf *data,
		       const char **why)
{
	struct dkim_field *fs = calloc(DKIM_FIELDS_MAX, sizeof *fs);
	bool *used = calloc(DKIM_FIELDS_MAX, sizeof *used);
	char *field = malloc(DKIM_SIG_FIELD_MAX);
	int rc = fs == NULL || used == NULL || field == NULL ? MXTLS_E_NOMEM : 0;
	size_t pos = 0, n = 0;
	struct dkim_field f;
	while (rc == 0 && (rc = dkim_canon_field_next(msg, len, &pos, &f)) == 1) {
		if (n == DKIM_FIELDS_MAX) {
			rc = MXTLS_E_LIMIT;
			break;
		}
		fs[n++] = f;
		rc = 0;
	}
	for (size_t h = 0; h < s->h_count && rc == 0; h++) {
		const char *name = s->h_text + s->h_off[h];
		for (size_t i = n; i-- > 0;) {
			if (used[i] || !dkim_canon_name_eq(msg + fs[i].start, fs[i].name_len, name,
							   s->h_len[h]))
				continue;
			used[i] = true;
			rc = canon_header(s->hcanon, msg + fs[i].start, fs[i].len, data);
			break;
		}
	}
	if (rc == 0) {
		/* §3.7: the DKIM-Signature field, b= value deleted, canonicalised, no final CRLF.
		 */
		size_t pre = s->b_start - s->field_start,
		       post = s->field_start + s->field_len - s->b_end;
		memcpy(field, msg + s->field_start, pre);
		memcpy(field + pre, msg + s->b_end, post);
		rc = canon_header(s->hcanon, field, pre + post, data);
		if (rc == 0)
			data->len -= 2;
	}
	if (rc == MXTLS_E_LIMIT)
		*why = "signed header data past its cap";
	else if (rc != 0)
		*why = "header cannot be canonicalised";
	free(fs);
	free(used);
	free(field);
	return rc;
}

/* Imports k as a GnuTLS public key and checks its size; *why on failure. */
static int import_key(const struct dkim_keyrec *k, gnutls_pubkey_t pub, const char **why,
		      unsigned *bits)
{
	gnutls_datum_t d = {(unsigned char *)(uintptr_t)k->p, (unsigned int)k->p_len};
	if (k->ed25519) {
		/* RFC 8463 §4.2: p= is the 32-octet raw Ed25519 public key. */
		if (k->p_len != 32) {
			*why = "ed25519 key is not 32 octets";
			return MXTLS_E_SYNTAX;
		}
		if (gnutls_pubkey_import_ecc_raw(pub, GNUTLS_ECC_CURVE_ED25519, &d, NULL) < 0) {
			*why = "ed25519 key not accepted by GnuTLS";
			return MXTLS_E_SYNTAX;
		}
		*bits = 256;
		return MXTLS_OK;
	}
	/* RFC 6376 §3.6.1 p=: the DER SubjectPublicKeyInfo, as openssl rsa -pubout writes it. */
	if (gnutls_pubkey_import(pub, &d, GNUTLS_X509_FMT_DER) < 0) {
		*why = "RSA key is not a DER SubjectPublicKeyInfo";
		return MXTLS_E_SYNTAX;
	}
	if (gnutls_pubkey_get_pk_algorithm(pub, bits) != GNUTLS_PK_RSA) {
		*why = "k=rsa but p= holds another kind of key";
		return MXTLS_E_SYNTAX;
	}
	return MXTLS_OK;
}

void dkim_verify(const char *msg, size_t len, const struct dkim_sig *s, const char *rec,
		 size_t rec_len, const char *service, int64_t now, struct dkim_result *r)
{
	result_init(r, s);
	if (s->status != MXTLS_OK) {
		result(r, DKIM_PERMERROR, "signature: %s", s->reason);
		return;
	}
	if (len > DKIM_MESSAGE_MAX || s->field_start + s->field_len > len) {
		result(r, DKIM_PERMERROR, "message past its cap or signature outside it");
		return;
	}
	/* §3.5 x=: "Signatures MAY be considered invalid if the verification time at the Verifier
	 * is past the expiration date." */
	if (s->has_x && now > s->x) {
		result(r, DKIM_FAIL, "signature expired (x=%lld, now %lld)", (long long)s->x,
		       (long long)now);
		return;
	}
	struct dkim_keyrec *k = malloc(sizeof *k);
	if (k == NULL) {
		result(r, DKIM_TEMPERROR, "out of memory");
		return;
	}
	const char *why = NULL;
	int rc = dkim_key_parse(rec, rec_len, k, &why);
	gnutls_pubkey_t pub = NULL;
	struct util_buf data;
	util_buf_init(&data, (size_t)(DKIM_H_MAX + 1) * DKIM_FIELD_MAX);
	if (rc != MXTLS_OK) {
		result(r, DKIM_PERMERROR, "key record: %s", why);
		goto out;
	}
	r->testing = k->testing;
	if (k->revoked) {
		result(r, DKIM_PERMERROR, "key revoked (empty p=)");
		goto out;
	}
	/* RFC 8460 §3, RFC 6376 §3.6.1 s=: a key for other services may not sign this. */
	if (!dkim_key_allows_service(k, service)) {
		result(r, DKIM_PERMERROR, "key s=%s does not allow service %s", k->services,
		       service);
		goto out;
	}
	if (k->ed25519 != (s->alg == DKIM_ALG_ED25519_SHA256)) {
		result(r, DKIM_PERMERROR, "key type k= does not match a=");
		goto out;
	}
	/* §3.6.1 t=s: the i= domain must be d= itself, not a subdomain. */
	if (k->strict && strcmp(s->auid_domain, s->domain) != 0) {
		result(r, DKIM_PERMERROR, "key t=s but i= is in a subdomain of d=");
		goto out;
	}
	unsigned bits = 0;
	if (gnutls_pubkey_init(&pub) < 0) {
		result(r, DKIM_TEMPERROR, "out of memory");
		goto out;
	}
	if (import_key(k, pub, &why, &bits) != MXTLS_OK) {
		result(r, DKIM_PERMERROR, "key: %s", why);
		goto out;
	}
	/* RFC 8301 §3.2: "Verifiers MUST NOT consider signatures using RSA keys of less than 1024
	 * bits as valid signatures." */
	if (!k->ed25519 && (bits < DKIM_VERIFY_RSA_BITS_MIN || bits > DKIM_RSA_BITS_MAX)) {
		result(r, DKIM_PERMERROR, "RSA key of %u bits (accepted: %d to %d)", bits,
		       DKIM_VERIFY_RSA_BITS_MIN, DKIM_RSA_BITS_MAX);
		goto out;
	}

	/* The body: after the header's empty line. */
	size_t pos = 0;
	struct dkim_field f;
	while ((rc = dkim_canon_field_next(msg, len, &pos, &f)) == 1)
		;
	if (rc != 0) {
		result(r, DKIM_PERMERROR, "the message's header cannot be read");
		goto out;
	}
	unsigned char bh[32];
	if (body_hash(msg + pos, len - pos, s->bcanon, bh) != 0) {
		result(r, DKIM_TEMPERROR, "hashing failed");
		goto out;
	}
	if (memcmp(bh, s->bh, sizeof bh) != 0) {
		result(r, DKIM_FAIL, "body hash does not match bh=");
		goto out;
	}
	if (header_data(msg, len, s, &data, &why) != 0) {
		result(r, DKIM_PERMERROR, "%s", why);
		goto out;
	}
	gnutls_datum_t sig = {(unsigned char *)(uintptr_t)s->b, (unsigned int)s->b_len};
	int vr;
	if (k->ed25519) {
		/* RFC 8463 §3: Ed25519 (PureEdDSA) over the SHA-256 hash of the data. */
		unsigned char digest[32];
		if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data.data, data.len, digest) < 0) {
			result(r, DKIM_TEMPERROR, "hashing failed");
			goto out;
		}
		gnutls_datum_t hd = {digest, sizeof digest};
		vr = gnutls_pubkey_verify_data2(pub, GNUTLS_SIGN_EDDSA_ED25519, 0, &hd, &sig);
	} else {
		gnutls_datum_t dd = {(unsigned char *)data.data, (unsigned int)data.len};
		vr = gnutls_pubkey_verify_data2(pub, GNUTLS_SIGN_RSA_SHA256, 0, &dd, &sig);
	}
	if (vr < 0)
		result(r, DKIM_FAIL, "signature does not verify");
	else
		result(r, DKIM_PASS, "%s", "");
out:
	if (pub != NULL)
		gnutls_pubkey_deinit(pub);
	util_buf_free(&data);
	free(k);
}
