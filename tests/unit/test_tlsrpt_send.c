/* SPDX-License-Identifier: MIT */
/* Unit tests for the sending side of tlsrpt/: the _smtp._tls record (tlsrpt_rua.c, RFC 8460 §3)
 * and the mail report (tlsrpt_mail.c, RFC 8460 §5.3).  Hostile input first. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "test_main.h"
#include "tlsrpt/tlsrpt_mail.h"
#include "tlsrpt/tlsrpt_rua.h"

#define NOLEN ((size_t)-1) /* use strlen() */

/* ---- record selection (RFC 8460 §3: discard records not beginning "v=TLSRPTv1;") ---- */

static const struct cand_case {
	const char *in;
	size_t len;
	bool candidate;
} cand_cases[] = {
	{"", 0, false},
	{"v=TLSRPTv1", NOLEN, false},                        /* no ";": discarded (§3 text) */
	{"v=TLSRPTv1 ", NOLEN, false},                       /* WSP but no ";" */
	{"v=tlsrptv1;rua=mailto:a@x.example", NOLEN, false}, /* %s: case-sensitive */
	{"V=TLSRPTv1;", NOLEN, false},
	{"v=TLSRPTv10;", NOLEN, false},
	{"v=TLSRPTv1,rua=mailto:a@x.example", NOLEN, false},
	{" v=TLSRPTv1;", NOLEN, false}, /* must begin the record */
	{"v=TLSRPTv\0;", 11, false},
	{"v=spf1 -all", NOLEN, false},
	{"v=TLSRPTv1;", NOLEN, true},
	{"v=TLSRPTv1 \t;rua=x", NOLEN, true}, /* field-delim = *WSP ";" *WSP */
	{"v=TLSRPTv1;\0", 12, true},          /* a candidate; parsing then refuses the NUL */
};

START_TEST(rua_candidate)
{
	const struct cand_case *c = &cand_cases[_i];
	size_t len = c->len == NOLEN ? strlen(c->in) : c->len;
	ck_assert_msg(tlsrpt_rua_is_candidate(c->in, len) == c->candidate, "case %d", _i);
}
END_TEST

/* ---- one record: the §3 ABNF, hostile first ---- */

struct rua_case {
	const char *in;
	size_t len;
	int rc;
	size_t ndest, nskipped;
	const char *first;          /* text of dest[0] (OK) */
	enum tlsrpt_dest_kind kind; /* kind of dest[0] (OK) */
	const char *second;         /* text of dest[1], when there is one */
	const char *reason;         /* substring of the reason (failure), or of skipped[0].why */
};

static const struct rua_case rua_cases[] = {
	/* Untrusted DNS bytes: NUL, 8-bit, controls (§3 ABNF: printable US-ASCII and WSP only) */
	{"v=TLSRPTv1;rua=mailto:a@x.example\0", 35, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL, "NUL"},
	{"v=TLSRPTv1;rua=mailto:a\0@x.example", 35, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL, "NUL"},
	{"v=TLSRPTv1;rua=mailto:a@x.example\xc3\xa9", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "US-ASCII"},
	{"v=TLSRPTv1;rua=mailto:a@x.example\r\n", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "control"},
	{"v=TLSRPTv1;rua=mailto:a@x.example\x7f", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "control"},
	{"", 0, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL, "does not begin"},
	/* §3: tlsrpt-version = %s"v=TLSRPTv1", first and case-sensitive */
	{"v=tlsrptv1;rua=mailto:a@x.example", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "case-sensitive"},
	{"rua=mailto:a@x.example;v=TLSRPTv1", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "does not begin"},
	/* RPT-04: "v=TLSRPTv1" alone -> invalid (as a record; discovery discards it, below) */
	{"v=TLSRPTv1", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL, "alone"},
	{"v=TLSRPTv1 rua=mailto:a@x.example", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "followed by ';'"},
	{"v=TLSRPTv10;rua=mailto:a@x.example", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "followed by ';'"},
	/* §3: 1*(field-delim tlsrpt-field), rua required */
	{"v=TLSRPTv1;", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL, "no rua="},
	{"v=TLSRPTv1; ; ", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL, "empty field"},
	{"v=TLSRPTv1;;rua=mailto:a@x.example", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "empty field"},
	{"v=TLSRPTv1;rua=mailto:a@x.example;;", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "empty field"}, /* only one trailing field-delim */
	{"v=TLSRPTv1;RUA=mailto:a@x.example", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "no rua="}, /* %s"rua=": "RUA" is an extension */
	{"v=TLSRPTv1;x=1", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL, "no rua="},
	/* §3: tlsrpt-rua = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri): no empty URI */
	{"v=TLSRPTv1;rua=", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL, "empty URI"},
	{"v=TLSRPTv1;rua=,", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL, "empty URI"},
	{"v=TLSRPTv1;rua= mailto:a@x.example", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "empty URI"},
	{"v=TLSRPTv1;rua=mailto:a@x.example,", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "empty URI"},
	{"v=TLSRPTv1;rua=mailto:a@x.example,,https://r.example/", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL,
	 0, NULL, "empty URI"},
	{"v=TLSRPTv1;rua=mailto:a@x.example mailto:b@x.example", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL,
	 0, NULL, "expected ';'"},
	/* §3: "," "!" ";" inside a URI MUST be percent-encoded.  Not encoded: "," splits (the
	 * rest has no scheme), ";" ends the field, "!" makes the URI unusable. */
	{"v=TLSRPTv1;rua=mailto:a,b@x.example", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "without a scheme"},
	{"v=TLSRPTv1;rua=https://r.example/a;b", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "not followed by '='"},
	{"v=TLSRPTv1;rua=mailto:a@x.example!10m", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "no usable"},
	{"v=TLSRPTv1;rua=mailto:a@x.example!10m,https://r.example/v1", NOLEN, MXTLS_OK, 1, 1,
	 "https://r.example/v1", TLSRPT_DEST_HTTPS, NULL, "'!'"},
	/* encoded: kept inside the URI */
	{"v=TLSRPTv1;rua=https://r.example/a%3Bb%2Cc%21d", NOLEN, MXTLS_OK, 1, 0,
	 "https://r.example/a%3Bb%2Cc%21d", TLSRPT_DEST_HTTPS, NULL, NULL},
	{"v=TLSRPTv1;rua=mailto:a%21b@x.example", NOLEN, MXTLS_OK, 1, 0, "a!b@x.example",
	 TLSRPT_DEST_MAILTO, NULL, NULL},
	/* RFC 6068: an encoded "," is two addresses: not used (decision: one address) */
	{"v=TLSRPTv1;rua=mailto:a%2Cb@x.example", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "no usable"},
	{"v=TLSRPTv1;rua=mailto:a%2Cb@x.example,mailto:c@x.example", NOLEN, MXTLS_OK, 1, 1,
	 "c@x.example", TLSRPT_DEST_MAILTO, NULL, "more than one address"},
	/* percent-decoding must not smuggle NUL, CR, LF into an address (RFC 6068 §2) */
	{"v=TLSRPTv1;rua=mailto:a%00@x.example", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "no usable"},
	{"v=TLSRPTv1;rua=mailto:a%0D%0ABcc:e@x.example,https://r.example/", NOLEN, MXTLS_OK, 1, 1,
	 "https://r.example/", TLSRPT_DEST_HTTPS, NULL, "not a usable addr-spec"},
	{"v=TLSRPTv1;rua=mailto:a@x%2Eexample", NOLEN, MXTLS_OK, 1, 0, "a@x.example",
	 TLSRPT_DEST_MAILTO, NULL, NULL},
	{"v=TLSRPTv1;rua=mailto:a@caf%C3%A9.example", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "no usable"}, /* a U-label: not converted here */
	/* RFC 3986 §2.1 / §2 */
	{"v=TLSRPTv1;rua=mailto:a%@x.example", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "two hex digits"},
	{"v=TLSRPTv1;rua=mailto:a%4@x.example", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "two hex digits"},
	{"v=TLSRPTv1;rua=mailto:<a@x.example>", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "cannot hold"},
	{"v=TLSRPTv1;rua=mailto:\"a\"@x.example", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "cannot hold"},
	{"v=TLSRPTv1;rua=a@x.example", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "without a scheme"},
	{"v=TLSRPTv1;rua=:a@x.example", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "without a scheme"},
	/* URIs that parse but cannot be used: skipped; none left -> invalid (RPT-04) */
	{"v=TLSRPTv1;rua=ftp://r.example/x", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "no usable"},
	{"v=TLSRPTv1;rua=http://r.example/x", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "no usable"},
	{"v=TLSRPTv1;rua=mailto:", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL, "no usable"},
	{"v=TLSRPTv1;rua=mailto:?to=a@x.example", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "no usable"},
	{"v=TLSRPTv1;rua=mailto:a@x.example.", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "no usable"},
	{"v=TLSRPTv1;rua=mailto:a@", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL, "no usable"},
	{"v=TLSRPTv1;rua=mailto:a..b@x.example", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "no usable"},
	{"v=TLSRPTv1;rua=https://", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL, "no usable"},
	{"v=TLSRPTv1;rua=https:r.example/x", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "no usable"},
	{"v=TLSRPTv1;rua=https:///x", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL, "no usable"},
	{"v=TLSRPTv1;rua=https://r.example:99999/", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "no usable"},
	{"v=TLSRPTv1;rua=https://r.example:0/", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "no usable"},
	{"v=TLSRPTv1;rua=https://r.example:4a3/", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "no usable"},
	{"v=TLSRPTv1;rua=https://[::1/", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL, "no usable"},
	{"v=TLSRPTv1;rua=https://r%2Eexample/", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "no usable"},
	/* §3 extensions: name (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / "."), value
	 * 1*(%x21-3A / %x3C / %x3E-7E) */
	{"v=TLSRPTv1;x=;rua=mailto:a@x.example", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "empty value"},
	{"v=TLSRPTv1;_x=1;rua=mailto:a@x.example", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "start with a letter or digit"},
	{"v=TLSRPTv1;x=a=b;rua=mailto:a@x.example", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "'=' inside"},
	{"v=TLSRPTv1;x=a b;rua=mailto:a@x.example", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "expected ';'"},
	{"v=TLSRPTv1;x;rua=mailto:a@x.example", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "not followed by '='"},
	{"v=TLSRPTv1;a23456789012345678901234567890123=1;rua=mailto:a@x.example", NOLEN,
	 MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL, "longer than 32"},
	{"v=TLSRPTv1;rua=mailto:a@x.example x=1", NOLEN, MXTLS_E_SYNTAX, 0, 0, NULL, 0, NULL,
	 "expected ';'"},
	/* Valid.  RPT-04 examples first. */
	{"v=TLSRPTv1;rua=mailto:a@x.example", NOLEN, MXTLS_OK, 1, 0, "a@x.example",
	 TLSRPT_DEST_MAILTO, NULL, NULL},
	{"v=TLSRPTv1; rua=mailto:a@x, https://r.x/v1", NOLEN, MXTLS_OK, 2, 0, "a@x",
	 TLSRPT_DEST_MAILTO, "https://r.x/v1", NULL},
	{"v=TLSRPTv1;rua=ftp://r.example/x,mailto:a@x.example", NOLEN, MXTLS_OK, 1, 1,
	 "a@x.example", TLSRPT_DEST_MAILTO, NULL, "other than mailto or https"},
	/* RFC 8460 §3 examples */
	{"v=TLSRPTv1;rua=mailto:reports@example.com", NOLEN, MXTLS_OK, 1, 0, "reports@example.com",
	 TLSRPT_DEST_MAILTO, NULL, NULL},
	{"v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt", NOLEN, MXTLS_OK, 1, 0,
	 "https://reporting.example.com/v1/tlsrpt", TLSRPT_DEST_HTTPS, NULL, NULL},
	/* §3 field-delim with WSP, a final field-delim, WSP around "," */
	{"v=TLSRPTv1 ;\trua=mailto:a@x.example\t;\t", NOLEN, MXTLS_OK, 1, 0, "a@x.example",
	 TLSRPT_DEST_MAILTO, NULL, NULL},
	{"v=TLSRPTv1;rua=mailto:a@x.example \t, \tmailto:b@x.example", NOLEN, MXTLS_OK, 2, 0,
	 "a@x.example", TLSRPT_DEST_MAILTO, "b@x.example", NULL},
	/* several rua= fields merged (RPT-04 decision); duplicates once */
	{"v=TLSRPTv1;rua=mailto:a@x.example;rua=https://r.example/", NOLEN, MXTLS_OK, 2, 0,
	 "a@x.example", TLSRPT_DEST_MAILTO, "https://r.example/", NULL},
	{"v=TLSRPTv1;rua=mailto:a@x.example;x=1;rua=mailto:a@X.Example,mailto:a@x.example", NOLEN,
	 MXTLS_OK, 1, 0, "a@x.example", TLSRPT_DEST_MAILTO, NULL, NULL},
	/* extensions accepted and ignored; "v" and "RUA" later are extensions too */
	{"v=TLSRPTv1;ext.v-1_x=!\"#$%&'()*+,-./0123456789:<>?@[\\]^_`{|}~;rua=mailto:a@x.example",
	 NOLEN, MXTLS_OK, 1, 0, "a@x.example", TLSRPT_DEST_MAILTO, NULL, NULL},
	{"v=TLSRPTv1;rua=mailto:a@x.example;v=TLSRPTv2;RUA=mailto:b@x.example;"
	 "a2345678901234567890123456789012=1",
	 NOLEN, MXTLS_OK, 1, 0, "a@x.example", TLSRPT_DEST_MAILTO, NULL, NULL},
	/* RFC 6068: percent-decoded address, hfields after "?" ignored, scheme case-insensitive */
	{"v=TLSRPTv1;rua=mailto:tls%2Breports@x.example?subject=TLS%20report", NOLEN, MXTLS_OK, 1,
	 0, "tls+reports@x.example", TLSRPT_DEST_MAILTO, NULL, NULL},
	{"v=TLSRPTv1;rua=MAILTO:a@X.EXAMPLE", NOLEN, MXTLS_OK, 1, 0, "a@x.example",
	 TLSRPT_DEST_MAILTO, NULL, NULL},
	{"v=TLSRPTv1;rua=mailto:%22a%20b%22@x.example", NOLEN, MXTLS_OK, 1, 0, "\"a b\"@x.example",
	 TLSRPT_DEST_MAILTO, NULL, NULL},
	/* https: kept exactly as published */
	{"v=TLSRPTv1;rua=HTTPS://[2001:db8::1]:8443/tlsrpt", NOLEN, MXTLS_OK, 1, 0,
	 "HTTPS://[2001:db8::1]:8443/tlsrpt", TLSRPT_DEST_HTTPS, NULL, NULL},
	{"v=TLSRPTv1;rua=https://u:p@r.example:443/x?y=1#f", NOLEN, MXTLS_OK, 1, 0,
	 "https://u:p@r.example:443/x?y=1#f", TLSRPT_DEST_HTTPS, NULL, NULL},
	{"v=TLSRPTv1;rua=https://192.0.2.1", NOLEN, MXTLS_OK, 1, 0, "https://192.0.2.1",
	 TLSRPT_DEST_HTTPS, NULL, NULL},
};

static void check_invalid_untouched(const struct tlsrpt_rua *r)
{
	ck_assert_ptr_null(r->dest);
	ck_assert_ptr_null(r->skipped);
	ck_assert_uint_eq(r->ndest, 0);
	ck_assert_uint_eq(r->nskipped, 0);
	ck_assert_msg(r->reason[0] != '\0', "a failure without a reason");
}

START_TEST(rua_parse)
{
	const struct rua_case *c = &rua_cases[_i];
	size_t len = c->len == NOLEN ? strlen(c->in) : c->len;
	struct tlsrpt_rua r;
	memset(&r, 0xa5, sizeof r);
	int rc = tlsrpt_rua_parse(c->in, len, &r);
	ck_assert_msg(rc == c->rc, "case %d (%s): rc %d, expected %d (%s)", _i, c->in, rc, c->rc,
		      r.reason);
	if (rc != MXTLS_OK) {
		ck_assert_int_eq(r.status, TLSRPT_RUA_INVALID);
		check_invalid_untouched(&r);
		ck_assert_msg(strstr(r.reason, c->reason) != NULL,
			      "case %d: reason '%s' lacks '%s'", _i, r.reason, c->reason);
		tlsrpt_rua_free(&r);
		return;
	}
	ck_assert_int_eq(r.status, TLSRPT_RUA_OK);
	ck_assert_str_eq(r.reason, "");
	ck_assert_msg(r.ndest == c->ndest && r.nskipped == c->nskipped,
		      "case %d: %zu/%zu destinations/skipped, expected %zu/%zu", _i, r.ndest,
		      r.nskipped, c->ndest, c->nskipped);
	ck_assert_int_eq(r.dest[0].kind, c->kind);
	ck_assert_str_eq(r.dest[0].text, c->first);
	ck_assert_ptr_null(r.dest[0].why);
	if (c->second != NULL)
		ck_assert_str_eq(r.dest[1].text, c->second);
	for (size_t i = 0; i < r.nskipped; i++) {
		ck_assert_int_eq(r.skipped[i].kind, TLSRPT_DEST_SKIPPED);
		ck_assert_ptr_nonnull(r.skipped[i].why);
	}
	if (c->reason != NULL)
		ck_assert_msg(strstr(r.skipped[0].why, c->reason) != NULL,
			      "case %d: skip reason '%s' lacks '%s'", _i, r.skipped[0].why,
			      c->reason);
	tlsrpt_rua_free(&r);
	ck_assert_ptr_null(r.dest);
	tlsrpt_rua_free(&r); /* twice: harmless */
	tlsrpt_rua_free(NULL);
}
END_TEST

/* Caps: fail closed, never truncate (ARCHITECTURE.md convention 5). */
START_TEST(rua_caps)
{
	static char rec[TLSRPT_RUA_RECORD_MAX + 64];
	struct tlsrpt_rua r;
	const char *head = "v=TLSRPTv1;rua=mailto:a@x.example;x=";
	size_t hl = strlen(head);

	/* exactly TLSRPT_RUA_RECORD_MAX: accepted; one more: MXTLS_E_LIMIT */
	memcpy(rec, head, hl);
	memset(rec + hl, 'v', TLSRPT_RUA_RECORD_MAX + 1 - hl);
	ck_assert_int_eq(tlsrpt_rua_parse(rec, TLSRPT_RUA_RECORD_MAX, &r), MXTLS_OK);
	tlsrpt_rua_free(&r);
	ck_assert_int_eq(tlsrpt_rua_parse(rec, TLSRPT_RUA_RECORD_MAX + 1, &r), MXTLS_E_LIMIT);
	ck_assert_int_eq(r.status, TLSRPT_RUA_INVALID);
	ck_assert_ptr_nonnull(strstr(r.reason, "longer than 8192"));
	check_invalid_untouched(&r);

	/* TLSRPT_RUA_URIS_MAX URIs: accepted; 65 and 300: MXTLS_E_LIMIT */
	for (size_t count = TLSRPT_RUA_URIS_MAX; count <= 300; count += count == 64 ? 1 : 235) {
		size_t n = (size_t)snprintf(rec, sizeof rec, "v=TLSRPTv1;rua=");
		for (size_t i = 0; i < count; i++)
			n += (size_t)snprintf(rec + n, sizeof rec - n, "%shttps://r.e/%zu",
					      i ? "," : "", i);
		ck_assert_uint_lt(n, TLSRPT_RUA_RECORD_MAX);
		int rc = tlsrpt_rua_parse(rec, n, &r);
		if (count == TLSRPT_RUA_URIS_MAX) {
			ck_assert_int_eq(rc, MXTLS_OK);
			ck_assert_uint_eq(r.ndest, TLSRPT_RUA_URIS_MAX);
			ck_assert_str_eq(r.dest[63].text, "https://r.e/63");
		} else {
			ck_assert_msg(rc == MXTLS_E_LIMIT, "%zu URIs: rc %d", count, rc);
			ck_assert_ptr_nonnull(strstr(r.reason, "more than 64 URIs"));
			check_invalid_untouched(&r);
		}
		tlsrpt_rua_free(&r);
	}

	/* one URI of TLSRPT_RUA_URI_MAX characters: accepted; one more: MXTLS_E_LIMIT */
	for (size_t ulen = TLSRPT_RUA_URI_MAX; ulen <= TLSRPT_RUA_URI_MAX + 1; ulen++) {
		size_t n = (size_t)snprintf(rec, sizeof rec, "v=TLSRPTv1;rua=https://r.example/");
		size_t fill = ulen - strlen("https://r.example/");
		memset(rec + n, 'p', fill);
		n += fill;
		int rc = tlsrpt_rua_parse(rec, n, &r);
		ck_assert_int_eq(rc, ulen == TLSRPT_RUA_URI_MAX ? MXTLS_OK : MXTLS_E_LIMIT);
		if (rc == MXTLS_OK)
			ck_assert_uint_eq(strlen(r.dest[0].text), TLSRPT_RUA_URI_MAX);
		tlsrpt_rua_free(&r);
	}

	/* a mailto address of 254 octets: accepted; 255: unusable (RFC 5321 §4.5.3.1.3) */
	char local[65];
	memset(local, 'l', 64);
	local[64] = '\0';
	for (size_t alen = 254; alen <= 255; alen++) {
		char dom[256];
		size_t dl = alen - 65, k = 0;
		while (k < dl) { /* labels of up to 60 characters */
			size_t lab = dl - k > 61 ? 60 : dl - k;
			memset(dom + k, 'd', lab);
			k += lab;
			if (k < dl)
				dom[k++] = '.';
		}
		dom[dl] = '\0';
		snprintf(rec, sizeof rec, "v=TLSRPTv1;rua=mailto:%s@%s", local, dom);
		int rc = tlsrpt_rua_parse(rec, strlen(rec), &r);
		ck_assert_msg(rc == (alen == 254 ? MXTLS_OK : MXTLS_E_SYNTAX), "%zu: %d (%s)", alen,
			      rc, r.reason);
		if (rc == MXTLS_OK)
			ck_assert_uint_eq(strlen(r.dest[0].text), 254);
		tlsrpt_rua_free(&r);
	}
	/* a local part of 65 octets is unusable (RFC 5321 §4.5.3.1.1) */
	snprintf(rec, sizeof rec, "v=TLSRPTv1;rua=mailto:%sl@x.example", local);
	ck_assert_int_eq(tlsrpt_rua_parse(rec, strlen(rec), &r), MXTLS_E_SYNTAX);

	/* bad arguments */
	ck_assert_int_eq(tlsrpt_rua_parse("v", 1, NULL), MXTLS_E_INVAL);
	ck_assert_int_eq(tlsrpt_rua_parse(NULL, 1, &r), MXTLS_E_INVAL);
	ck_assert_int_eq(tlsrpt_rua_parse(NULL, 0, &r), MXTLS_E_SYNTAX);
}
END_TEST

/* ---- discovery over the RRset (RPT-02, RPT-03) ---- */

#define SPF  "v=spf1 -all"
#define GOOD "v=TLSRPTv1;rua=mailto:a@x.example"

static const struct disc_case {
	const char *rr[4];
	size_t n;
	int rc;
	enum tlsrpt_rua_status status;
	size_t record;
	const char *reason;
} disc_cases[] = {
	{{NULL}, 0, MXTLS_E_NOTFOUND, TLSRPT_RUA_NONE, 0, "no record"},
	{{SPF}, 1, MXTLS_E_NOTFOUND, TLSRPT_RUA_NONE, 0, "no record"},
	/* RPT-02: two TLSRPTv1 records -> no reports (even when one of them is broken) */
	{{GOOD, GOOD}, 2, MXTLS_E_NOTFOUND, TLSRPT_RUA_MULTIPLE, 0, "more than one"},
	{{GOOD, SPF, "v=TLSRPTv1;"}, 3, MXTLS_E_NOTFOUND, TLSRPT_RUA_MULTIPLE, 0, "more than one"},
	/* RPT-02: TLSRPTv1 + SPF -> use the TLSRPTv1 one */
	{{SPF, GOOD}, 2, MXTLS_OK, TLSRPT_RUA_OK, 1, NULL},
	/* discarded by the §3 text: not "v=TLSRPTv1;" at the start */
	{{"v=TLSRPTv1", GOOD}, 2, MXTLS_OK, TLSRPT_RUA_OK, 1, NULL},
	{{"v=tlsrptv1;rua=mailto:a@x.example"},
	 1,
	 MXTLS_E_NOTFOUND,
	 TLSRPT_RUA_NONE,
	 0,
	 "misspelt"},
	{{"v=TLSRPTv1"}, 1, MXTLS_E_NOTFOUND, TLSRPT_RUA_NONE, 0, "lacks the ';'"},
	{{" " GOOD}, 1, MXTLS_E_NOTFOUND, TLSRPT_RUA_NONE, 0, "no record"},
	/* the one candidate is broken: invalid, no reports */
	{{SPF, "v=TLSRPTv1;rua=ftp://r.example/"},
	 2,
	 MXTLS_E_SYNTAX,
	 TLSRPT_RUA_INVALID,
	 1,
	 "no usable"},
	{{"v=TLSRPTv1;rua=mailto:a@x.example;"}, 1, MXTLS_OK, TLSRPT_RUA_OK, 0, NULL},
	/* RPT-03: the character-strings "v=TLSRPTv1;rua=mailto:a@x.exa" "mple" concatenated
	 * without spaces (the caller's job) parse; joined with a space (the mistake) do not */
	{{"v=TLSRPTv1;rua=mailto:a@x.exa"
	  "mple"},
	 1,
	 MXTLS_OK,
	 TLSRPT_RUA_OK,
	 0,
	 NULL},
	{{"v=TLSRPTv1;rua=mailto:a@x.exa mple"},
	 1,
	 MXTLS_E_SYNTAX,
	 TLSRPT_RUA_INVALID,
	 0,
	 "expected ';'"},
};

START_TEST(rua_discover)
{
	const struct disc_case *c = &disc_cases[_i];
	struct tlsrpt_rua_span set[4];
	for (size_t i = 0; i < c->n; i++)
		set[i] = (struct tlsrpt_rua_span){c->rr[i], strlen(c->rr[i])};
	struct tlsrpt_rua r;
	memset(&r, 0xa5, sizeof r);
	int rc = tlsrpt_rua_discover(c->n ? set : NULL, c->n, &r);
	ck_assert_msg(rc == c->rc, "case %d: rc %d, expected %d (%s)", _i, rc, c->rc, r.reason);
	ck_assert_int_eq(r.status, c->status);
	if (rc == MXTLS_OK) {
		ck_assert_uint_eq(r.record, c->record);
		ck_assert_uint_eq(r.ndest, 1);
		ck_assert_str_eq(r.dest[0].text, "a@x.example");
	} else {
		check_invalid_untouched(&r);
		ck_assert_msg(strstr(r.reason, c->reason) != NULL, "case %d: '%s' lacks '%s'", _i,
			      r.reason, c->reason);
		if (c->status == TLSRPT_RUA_INVALID)
			ck_assert_uint_eq(r.record, c->record);
	}
	tlsrpt_rua_free(&r);
}
END_TEST

START_TEST(rua_discover_nul_and_args)
{
	/* a candidate with a NUL inside: chosen, then refused */
	struct tlsrpt_rua_span set[2] = {{SPF, strlen(SPF)},
					 {"v=TLSRPTv1;rua=mailto:a@x.example\0x", 36}};
	struct tlsrpt_rua r;
	ck_assert_int_eq(tlsrpt_rua_discover(set, 2, &r), MXTLS_E_SYNTAX);
	ck_assert_int_eq(r.status, TLSRPT_RUA_INVALID);
	ck_assert_ptr_nonnull(strstr(r.reason, "NUL"));
	/* a record of zero length with a NULL pointer is an empty record */
	struct tlsrpt_rua_span empty[2] = {{NULL, 0}, {GOOD, strlen(GOOD)}};
	ck_assert_int_eq(tlsrpt_rua_discover(empty, 2, &r), MXTLS_OK);
	tlsrpt_rua_free(&r);
	struct tlsrpt_rua_span bad[1] = {{NULL, 3}};
	ck_assert_int_eq(tlsrpt_rua_discover(bad, 1, &r), MXTLS_E_INVAL);
	ck_assert_int_eq(tlsrpt_rua_discover(NULL, 1, &r), MXTLS_E_INVAL);
	ck_assert_int_eq(tlsrpt_rua_discover(set, 2, NULL), MXTLS_E_INVAL);
}
END_TEST

/* ---- addresses ---- */

static const struct addr_case {
	const char *in;
	bool ok;
} addr_cases[] = {
	{"", false},
	{"@x.example", false},
	{"a@", false},
	{"a", false},
	{"a@x.example.", false},
	{"a@-x.example", false},
	{"a@x..example", false},
	{"a@[192.0.2.1]", false}, /* domain literals are not report destinations */
	{".a@x.example", false},
	{"a.@x.example", false},
	{"a b@x.example", false},
	{"a\r\n@x.example", false},
	{"a\t@x.example", false},
	{"\"a\tb\"@x.example", false},
	{"\"a\"b\"@x.example", false},
	{"\"a\\\"@x.example", false},
	{"\xc3\xa9@x.example", false},
	{"a@x.example", true},
	{"a@x", true},
	{"first.last+tag@sub.x.example", true},
	{"\"a b@c\"@x.example", true},
	{"\"a\\\"b\"@x.example", true},
	{"!#$%&'*+-/=?^_`{|}~@x.example", true},
};

START_TEST(addr_valid)
{
	const struct addr_case *c = &addr_cases[_i];
	ck_assert_msg(tlsrpt_addr_valid(c->in, strlen(c->in)) == c->ok, "case %d: %s", _i, c->in);
}
END_TEST

/* ---- the mail report (RFC 8460 §5.3) ---- */

static const uint8_t small_gz[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00,
				   0x00, 0x00, 0x00, 0xff, 0x01, 0x02};

static struct tlsrpt_mail_in fixed_input(void)
{
	return (struct tlsrpt_mail_in){
		.policy_domain = "example.net",
		.submitter = "mail.example.com",
		.from = "tlsrpt@mail.example.com",
		.to = "reports@example.net",
		.date = 1796558400, /* 2026-12-06T12:00:00Z */
		.day = 20792,       /* 2026-12-05 */
		.message_id = "20261206T120000.1@mail.example.com",
		.report_id = "2026-12-05.0a1b2c3d.example.net@mail.example.com",
		.boundary = "=_mxtls_0001",
		.filename = "mail.example.com!example.net!1796428800!1796515200.json.gz",
		.report = small_gz,
		.report_len = sizeof small_gz,
	};
}

/*
 * The expected bytes for fixed_input().  Produced by running tlsrpt_mail_build() once and
 * checked by hand against RFC 8460 §5.3, RFC 5322 and RFC 2046: field order and spelling, the
 * Subject keywords ("Report Domain:", "Submitter:", "Report-ID:") with the id in angle
 * brackets and folded before it (the line would be 126 characters), the Date (1796558400 is
 * Sunday 2026-12-06 12:00:00 UTC, python3 datetime.utcfromtimestamp), the day range of
 * 2026-12-05 (decision D9: to 00:00:00Z of the next day), the base64 of the 12 gzip bytes
 * (python3 base64.b64encode gives "H4sIAAAAAAAA/wEC"), and the three boundary delimiters.
 */
static const char golden[] =
	"From: tlsrpt@mail.example.com\r\n"
	"To: reports@example.net\r\n"
	"Date: Sun, 06 Dec 2026 12:00:00 +0000\r\n"
	"Message-ID: <20261206T120000.1@mail.example.com>\r\n"
	"Subject: Report Domain: example.net Submitter: mail.example.com Report-ID:\r\n"
	" <2026-12-05.0a1b2c3d.example.net@mail.example.com>\r\n"
	"TLS-Report-Domain: example.net\r\n"
	"TLS-Report-Submitter: mail.example.com\r\n"
	"TLS-Required: No\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"=_mxtls_0001\"\r\n"
	"\r\n"
	"--=_mxtls_0001\r\n"
	"Content-Type: text/plain; charset=us-ascii\r\n"
	"Content-Transfer-Encoding: 7bit\r\n"
	"\r\n"
	"This is an aggregate TLS report (SMTP TLS Reporting, RFC 8460) from\r\n"
	"mail.example.com for the policy domain example.net, covering the UTC day\r\n"
	"2026-12-05 (2026-12-05T00:00:00Z to 2026-12-06T00:00:00Z).\r\n"
	"\r\n"
	"The report is the attached file\r\n"
	"mail.example.com!example.net!1796428800!1796515200.json.gz\r\n"
	"(gzip-compressed JSON, application/tlsrpt+gzip). Report-ID:\r\n"
	"<2026-12-05.0a1b2c3d.example.net@mail.example.com>\r\n"
	"--=_mxtls_0001\r\n"
	"Content-Type: application/tlsrpt+gzip\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"Content-Disposition: attachment;\r\n"
	" filename=\"mail.example.com!example.net!1796428800!1796515200.json.gz\"\r\n"
	"\r\n"
	"H4sIAAAAAAAA/wEC\r\n"
	"--=_mxtls_0001--\r\n";

START_TEST(mail_golden)
{
	struct tlsrpt_mail_in in = fixed_input();
	char *out = NULL;
	size_t n = 0;
	ck_assert_int_eq(tlsrpt_mail_build(&in, &out, &n), MXTLS_OK);
	ck_assert_uint_eq(n, strlen(out));
	ck_assert_str_eq(out, golden);
	/* deterministic: the same input, the same bytes */
	char *again = NULL;
	size_t n2 = 0;
	ck_assert_int_eq(tlsrpt_mail_build(&in, &again, &n2), MXTLS_OK);
	ck_assert_uint_eq(n, n2);
	ck_assert_int_eq(memcmp(out, again, n), 0);
	free(out);
	free(again);
}
END_TEST

static struct tlsrpt_mail_in bad_input(int i)
{
	struct tlsrpt_mail_in in = fixed_input();
	switch (i) {
	case 0:
		in.policy_domain = NULL;
		break;
	case 1:
		in.policy_domain = "example.net\r\nBcc: x@evil.example";
		break;
	case 2:
		in.policy_domain = "exa mple.net";
		break;
	case 3:
		in.policy_domain = "caf\xc3\xa9.example";
		break; /* not an A-label */
	case 4:
		in.policy_domain = "example.net.";
		break;
	case 5:
		in.submitter = "mail.example.com\n";
		break;
	case 6:
		in.from = "tlsrpt@mail.example.com\r\nBcc: x@evil.example";
		break;
	case 7:
		in.from = "Reports <tlsrpt@mail.example.com>";
		break;
	case 8:
		in.from = "tlsrpt@other.example";
		break; /* RPT-22: not the submitter's domain */
	case 9:
		in.to = "reports@example.net\r";
		break;
	case 10:
		in.to = "reports\x01@example.net";
		break;
	case 11:
		in.to = NULL;
		break;
	case 12:
		in.message_id = "<1@mail.example.com>";
		break;
	case 13:
		in.message_id = "no-at-sign";
		break;
	case 14:
		in.message_id = "a b@mail.example.com";
		break;
	case 15:
		in.report_id = "id\r\n@x";
		break;
	case 16:
		in.report_id = "";
		break;
	case 17:
		in.boundary = "";
		break;
	case 18:
		in.boundary = "has space";
		break;
	case 19:
		in.boundary = "quote\"d";
		break;
	case 20:
		in.boundary = "b23456789012345678901234567890123456789012345678901234567890"
			      "12345678901";
		break; /* 71 characters */
	case 21:
		in.filename = "a\"b.json.gz";
		break;
	case 22:
		in.filename = "../x.json.gz";
		break;
	case 23:
		in.filename = "";
		break;
	case 24:
		in.report = NULL;
		break;
	case 25:
		in.report_len = 0;
		break;
	case 26:
		in.date = -1;
		break;
	case 27:
		in.date = 253402300800LL;
		break; /* year 10000 */
	case 28:
		in.day = -1;
		break;
	case 29:
		in.day = 2932896;
		break; /* its next day has no four-digit year */
	/* the boundary delimiter must not begin a line of the text part (RFC 2046 §5.1.1): a
	 * file name that starts with it and lands at the start of a line */
	case 30:
		in.boundary = "bnd";
		in.filename =
			"--bnd.x.y.z.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json.gz";
		break;
	}
	return in;
}
#define BAD_INPUTS 31

START_TEST(mail_hostile)
{
	struct tlsrpt_mail_in in = bad_input(_i);
	char *out = (char *)0x1;
	size_t n = 7;
	ck_assert_msg(tlsrpt_mail_build(&in, &out, &n) == MXTLS_E_INVAL, "case %d", _i);
	ck_assert_ptr_eq(out, (char *)0x1); /* all-or-nothing */
	ck_assert_uint_eq(n, 7);
}
END_TEST

START_TEST(mail_args_and_caps)
{
	struct tlsrpt_mail_in in = fixed_input();
	char *out = NULL;
	size_t n = 0;
	ck_assert_int_eq(tlsrpt_mail_build(NULL, &out, &n), MXTLS_E_INVAL);
	ck_assert_int_eq(tlsrpt_mail_build(&in, NULL, &n), MXTLS_E_INVAL);
	ck_assert_int_eq(tlsrpt_mail_build(&in, &out, NULL), MXTLS_E_INVAL);
	/* over the cap: refused before a byte of the report is read */
	in.report_len = TLSRPT_MAIL_REPORT_MAX + 1;
	ck_assert_int_eq(tlsrpt_mail_build(&in, &out, &n), MXTLS_E_LIMIT);
	ck_assert_ptr_null(out);
	/* a boundary that is only inside a word of the text, not at a line start: fine */
	in = fixed_input();
	in.boundary = "example";
	ck_assert_int_eq(tlsrpt_mail_build(&in, &out, &n), MXTLS_OK);
	free(out);
}
END_TEST

/* RFC 4648 §10 test vectors, then lines of 76 with CRLF (RFC 2045 §6.8). */
START_TEST(mail_base64)
{
	static const char *const vec[][2] = {
		{"", ""},
		{"f", "Zg==\r\n"},
		{"fo", "Zm8=\r\n"},
		{"foo", "Zm9v\r\n"},
		{"foob", "Zm9vYg==\r\n"},
		{"fooba", "Zm9vYmE=\r\n"},
		{"foobar", "Zm9vYmFy\r\n"},
	};
	char buf[256];
	for (size_t i = 0; i < ARRAY_LEN(vec); i++) {
		size_t l = strlen(vec[i][0]);
		ck_assert_uint_eq(
			tlsrpt_mail_base64((const uint8_t *)vec[i][0], l, buf, sizeof buf),
			strlen(vec[i][1]));
		ck_assert_str_eq(buf, vec[i][1]);
		ck_assert_uint_eq(tlsrpt_mail_base64_size(l), strlen(vec[i][1]));
	}
	/* 57 bytes make exactly one 76-character line; 58 start a second */
	uint8_t raw[58];
	memset(raw, 0xff, sizeof raw);
	ck_assert_uint_eq(tlsrpt_mail_base64(raw, 57, buf, sizeof buf), 78);
	ck_assert_uint_eq(tlsrpt_mail_base64(raw, 58, buf, sizeof buf), 78 + 6);
	ck_assert_int_eq(memcmp(buf + 76, "\r\n/w==\r\n", 8), 0);
	/* too small a buffer: nothing */
	ck_assert_uint_eq(tlsrpt_mail_base64(raw, 58, buf, 84), 0);
}
END_TEST

static int b64val(char c)
{
	const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c != '\0' ? strchr(a, c) : NULL;
	return p != NULL ? (int)(p - a) : -1;
}

/* The test's own decoder (strict: 4-character groups, "=" only at the end, CRLF between). */
static size_t b64_decode(const char *s, size_t n, uint8_t *out)
{
	size_t o = 0;
	int q[4], k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			continue;
		q[k++] = s[i] == '=' ? 0 : b64val(s[i]);
		ck_assert_int_ge(q[k - 1], 0);
		if (k == 4) {
			uint32_t v = (uint32_t)(q[0] << 18 | q[1] << 12 | q[2] << 6 | q[3]);
			out[o++] = (uint8_t)(v >> 16);
			if (s[i - 1] != '=')
				out[o++] = (uint8_t)(v >> 8);
			if (s[i] != '=')
				out[o++] = (uint8_t)v;
			k = 0;
		}
	}
	ck_assert_int_eq(k, 0);
	return o;
}

/* Every line ends in CRLF, no bare CR or LF, no 8-bit or control byte; returns the longest
 * line, and in *over the number of lines longer than TLSRPT_MAIL_LINE_MAX. */
static size_t line_check(const char *m, size_t n, size_t *over)
{
	size_t longest = 0, start = 0;
	*over = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)m[i];
		ck_assert_msg(c >= 0x20 ? c < 0x7f : (c == '\r' || c == '\n'), "byte %u at %zu", c,
			      i);
		if (c == '\r') {
			ck_assert_msg(i + 1 < n && m[i + 1] == '\n', "bare CR at %zu", i);
		} else if (c == '\n') {
			ck_assert_msg(i > 0 && m[i - 1] == '\r', "bare LF at %zu", i);
			size_t l = i - 1 - start;
			longest = l > longest ? l : longest;
			if (l > TLSRPT_MAIL_LINE_MAX) {
				/* only a line that no folding can shorten: one word, after the
				 * field name or the continuation's WSP */
				const char *w = m + start, *e = m + i - 1;
				while (w < e && *w == ' ')
					w++;
				const char *colon = memchr(w, ':', (size_t)(e - w));
				if (colon != NULL && colon + 1 < e && colon[1] == ' ' &&
				    memchr(w, ' ', (size_t)(colon - w)) == NULL)
					w = colon + 2;
				ck_assert_msg(memchr(w, ' ', (size_t)(e - w)) == NULL,
					      "a long line that could be folded: %.60s", m + start);
				(*over)++;
			}
			start = i + 1;
		}
	}
	ck_assert_msg(start == n, "no final CRLF");
	return longest;
}

/* The big attachment: base64 round trip, 76-character lines, the whole message in limits. */
START_TEST(mail_attachment_round_trip)
{
	size_t len = 100000;
	uint8_t *raw = malloc(len);
	ck_assert_ptr_nonnull(raw);
	uint32_t x = 12345;
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		raw[i] = (uint8_t)(x >> 16);
	}
	struct tlsrpt_mail_in in = fixed_input();
	in.report = raw;
	in.report_len = len;
	char *out = NULL;
	size_t n = 0;
	ck_assert_int_eq(tlsrpt_mail_build(&in, &out, &n), MXTLS_OK);
	size_t over = 0;
	ck_assert_uint_le(line_check(out, n, &over), TLSRPT_MAIL_LINE_MAX);
	ck_assert_uint_eq(over, 0);
	const char *body = strstr(out, "filename=");
	ck_assert_ptr_nonnull(body);
	body = strstr(body, "\r\n\r\n") + 4;
	const char *end = strstr(body, "--=_mxtls_0001--\r\n");
	ck_assert_ptr_nonnull(end);
	ck_assert_str_eq(end, "--=_mxtls_0001--\r\n"); /* the last line */
	/* every base64 line but the last is exactly 76 characters */
	for (const char *l = body; l < end;) {
		const char *e = strstr(l, "\r\n");
		ck_assert_uint_eq((size_t)(e - l), e + 2 < end ? 76 : (size_t)(e - l));
		l = e + 2;
	}
	uint8_t *dec = malloc(len + 3);
	ck_assert_uint_eq(b64_decode(body, (size_t)(end - body), dec), len);
	ck_assert_int_eq(memcmp(dec, raw, len), 0);
	free(dec);
	free(raw);
	free(out);
}
END_TEST

/* The header fields, each once, in this order (RFC 8460 §5.3, RFC 8689 §5). */
START_TEST(mail_header_order)
{
	static const char *const order[] = {
		"From: ",
		"To: ",
		"Date: ",
		"Message-ID: ",
		"Subject: ",
		"TLS-Report-Domain: ",
		"TLS-Report-Submitter: ",
		"TLS-Required: No\r\n",
		"MIME-Version: 1.0\r\n",
		"Content-Type: multipart/report; report-type=\"tlsrpt\";"};
	struct tlsrpt_mail_in in = fixed_input();
	char *out = NULL;
	size_t n = 0;
	ck_assert_int_eq(tlsrpt_mail_build(&in, &out, &n), MXTLS_OK);
	char *hend = strstr(out, "\r\n\r\n");
	ck_assert_ptr_nonnull(hend);
	hend[2] = '\0'; /* the header section only */
	const char *at = out;
	for (size_t i = 0; i < ARRAY_LEN(order); i++) {
		const char *f = strstr(out, order[i]);
		ck_assert_msg(f != NULL && (f == out || f[-1] == '\n'), "%s missing", order[i]);
		ck_assert_msg(f >= at, "%s out of order", order[i]);
		ck_assert_ptr_null(strstr(f + 1, order[i])); /* once */
		at = f;
	}
	/* nothing else starts a line of the header but these and continuation lines */
	size_t fields = 0;
	for (const char *l = out; *l != '\0'; l = strstr(l, "\r\n") + 2)
		fields += *l != ' ' && *l != '\t';
	ck_assert_uint_eq(fields, ARRAY_LEN(order));
	free(out);
}
END_TEST

/* Subject folding: long names fold at the spaces, each line within 78 when the words allow,
 * and unfolding (RFC 5322 §2.2.3: remove each CRLF before WSP) gives the §5.3 text back. */
START_TEST(mail_subject_folding)
{
	char pd[254], sub[64], from[128], rid[512];
	/* a policy domain of 253 characters: a word no folding can shorten */
	for (size_t i = 0; i < 253; i++)
		pd[i] = i % 62 == 61 ? '.' : 'p';
	pd[253] = '\0';
	snprintf(sub, sizeof sub, "reports.submitter.mail.example.com");
	snprintf(from, sizeof from, "tlsrpt@%s", sub);
	snprintf(rid, sizeof rid, "2026-12-05.0a1b2c3d.%.60s@%s", pd, sub);
	for (int round = 0; round < 2; round++) {
		struct tlsrpt_mail_in in = fixed_input();
		if (round == 1) {
			in.policy_domain = pd;
			in.submitter = sub;
			in.from = from;
			in.report_id = rid;
		}
		char *out = NULL;
		size_t n = 0;
		ck_assert_int_eq(tlsrpt_mail_build(&in, &out, &n), MXTLS_OK);
		size_t over = 0;
		size_t longest = line_check(out, n, &over);
		ck_assert_uint_le(longest, 998);
		/* round 1: only the lines that are one long word can be longer: the
		 * 253-character domain in the Subject, TLS-Report-Domain and the text part, the
		 * 117-character report-id in the Subject and the text part */
		ck_assert_uint_eq(over, round == 0 ? 0 : 5);
		char *s = strstr(out, "\r\nSubject:") + 2;
		char *e = strstr(s, "\r\nTLS-Report-Domain:");
		char unfolded[1200];
		size_t u = 0, lines = 1;
		for (char *p = s; p < e; p++) {
			if (p[0] == '\r' && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t')) {
				p++;
				lines++;
				continue;
			}
			unfolded[u++] = *p;
		}
		unfolded[u] = '\0';
		char expect[1200];
		snprintf(expect, sizeof expect,
			 "Subject: Report Domain: %s Submitter: %s Report-ID: <%s>",
			 in.policy_domain, in.submitter, in.report_id);
		ck_assert_str_eq(unfolded, expect);
		ck_assert_uint_eq(lines, round == 0 ? 2 : 4);
		/* no line of the Subject is empty or only white space */
		for (char *p = s; p < e; p = strstr(p, "\r\n") + 2)
			ck_assert_msg(p[0] != '\r' && !(p[0] == ' ' && p[1] == '\r'), "empty line");
		free(out);
	}
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("tlsrpt_send");
	TCase *r = tcase_create("rua");
	tcase_add_loop_test(r, rua_candidate, 0, ARRAY_LEN(cand_cases));
	tcase_add_loop_test(r, rua_parse, 0, ARRAY_LEN(rua_cases));
	tcase_add_test(r, rua_caps);
	tcase_add_loop_test(r, rua_discover, 0, ARRAY_LEN(disc_cases));
	tcase_add_test(r, rua_discover_nul_and_args);
	tcase_add_loop_test(r, addr_valid, 0, ARRAY_LEN(addr_cases));
	suite_add_tcase(s, r);
	TCase *m = tcase_create("mail");
	tcase_add_loop_test(m, mail_hostile, 0, BAD_INPUTS);
	tcase_add_test(m, mail_args_and_caps);
	tcase_add_test(m, mail_golden);
	tcase_add_test(m, mail_base64);
	tcase_add_test(m, mail_attachment_round_trip);
	tcase_add_test(m, mail_header_order);
	tcase_add_test(m, mail_subject_folding);
	suite_add_tcase(s, m);
	return s;
}

MXTLS_TEST_MAIN(make_suite)
