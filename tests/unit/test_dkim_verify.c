/* SPDX-License-Identifier: MIT */
/* Unit tests for dkim/dkim_verify.c: hostile tag-lists and key records first, then the
 * vectors/dkim/manifest.txt verdicts (dkimpy-signed messages), and a dkim_sign round trip. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "dkim/dkim_canon.h"
#include "dkim/dkim_sign.h"
#include "dkim/dkim_verify.h"
#include "test_main.h"
#include "util/util_buf.h"

#define S(lit) lit, sizeof(lit) - 1

#define BH  "bh=DPNCZv9cKEc4oz1QvhigAtTkmpwjN53BmMciDrzM1Ko=;"
#define REQ "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; " BH " b=AAAA"

/* ---- DKIM-Signature tag-lists (RFC 6376 §3.2, §3.5): hostile first ---- */

static const struct sig_case {
	const char *in;
	size_t len;
	int rc;
	const char *reason; /* a substring of the reason, for refusals */
} sig_cases[] = {
	{S(""), MXTLS_E_SYNTAX, "not a DKIM-Signature"},
	{S("Subject: v=1"), MXTLS_E_SYNTAX, "not a DKIM-Signature"},
	{S("DKIM-Signature: " REQ "\0"), MXTLS_E_SYNTAX, "NUL"},
	{S("DKIM-Signature:"), MXTLS_E_SYNTAX, "required tag"},
	{S("DKIM-Signature: ;"), MXTLS_E_SYNTAX, "empty tag-spec"},
	{S("DKIM-Signature: " REQ ";;"), MXTLS_E_SYNTAX, "empty tag-spec"},
	{S("DKIM-Signature: v=1;; " REQ), MXTLS_E_SYNTAX, "empty tag-spec"},
	{S("DKIM-Signature: " REQ "; 1x=y"), MXTLS_E_SYNTAX, "begin with a letter"},
	{S("DKIM-Signature: " REQ "; novalue"), MXTLS_E_SYNTAX, "without '='"},
	{S("DKIM-Signature: " REQ "; z=a\x80"), MXTLS_E_SYNTAX, "VALCHAR"},
	{S("DKIM-Signature: " REQ "; v=1"), MXTLS_E_SYNTAX, "duplicate"},
	{S("DKIM-Signature: " REQ "; d=example.com"), MXTLS_E_SYNTAX, "duplicate"},
	{S("DKIM-Signature: " REQ "; a=x;b=y;c=simple;e=1;f=1;g=1;i=@example.com;j=1;k=1;m=1;"
	   "n=1;o=1;p=1;q=dns/txt;r=1;t=1;u=1;w=1;x=2;y=1;z=1;aa=1;ab=1;ac=1;ad=1"),
	 MXTLS_E_SYNTAX, "duplicate"},
	{S("DKIM-Signature: " REQ ";t=1;u=1;w=1;x=2;y=1;z=1;aa=1;ab=1;ac=1;ad=1;ae=1;af=1;ag=1;"
	   "ah=1;ai=1;aj=1;ak=1;al=1;am=1;an=1;ao=1;ap=1;aq=1;ar=1;as=1;at=1"),
	 MXTLS_E_LIMIT, "DKIM_TAGS_MAX"},
	{S("DKIM-Signature: v=2; a=rsa-sha256; d=example.com; s=sel; h=from; " BH " b=AAAA"),
	 MXTLS_E_SYNTAX, "v= is not 1"},
	{S("DKIM-Signature: v=1; a=rsa-sha1; d=example.com; s=sel; h=from; " BH " b=AAAA"),
	 MXTLS_E_SYNTAX, "rsa-sha1"},
	{S("DKIM-Signature: v=1; a=RSA-SHA256; d=example.com; s=sel; h=from; " BH " b=AAAA"),
	 MXTLS_E_SYNTAX, "unknown algorithm"},
	{S("DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel; h=to; " BH " b=AAAA"),
	 MXTLS_E_SYNTAX, "From"},
	{S("DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel; h=from::to; " BH " b=AAAA"),
	 MXTLS_E_SYNTAX, "empty name"},
	{S("DKIM-Signature: " REQ "; l=100"), MXTLS_E_SYNTAX, "l="},
	{S("DKIM-Signature: " REQ "; q=http/well-known"), MXTLS_E_SYNTAX, "dns/txt"},
	{S("DKIM-Signature: " REQ "; i=a@other.example"), MXTLS_E_SYNTAX, "i= is not in d="},
	{S("DKIM-Signature: " REQ "; i=a@xexample.com"), MXTLS_E_SYNTAX, "i= is not in d="},
	{S("DKIM-Signature: " REQ "; i=no-at"), MXTLS_E_SYNTAX, "'@'"},
	{S("DKIM-Signature: " REQ "; c=relaxed/fancy"), MXTLS_E_SYNTAX, "c="},
	{S("DKIM-Signature: " REQ "; t=100; x=100"), MXTLS_E_SYNTAX, "x= is not after t="},
	{S("DKIM-Signature: " REQ "; t=1234567890123"), MXTLS_E_SYNTAX, "bad t="},
	{S("DKIM-Signature: " REQ "; x=-1"), MXTLS_E_SYNTAX, "bad x="},
	{S("DKIM-Signature: v=1; a=rsa-sha256; d=exa_mple.com; s=sel; h=from; " BH " b=AAAA"),
	 MXTLS_E_SYNTAX, "d="},
	{S("DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s..l; h=from; " BH " b=AAAA"),
	 MXTLS_E_SYNTAX, "s="},
	{S("DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA"),
	 MXTLS_E_SYNTAX, "SHA-256"},
	{S("DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel; h=from; " BH " b=AA=A"),
	 MXTLS_E_SYNTAX, "base64"},
	{S("DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel; h=from; " BH " b=AAA"),
	 MXTLS_E_SYNTAX, "base64"},
	{S("DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel; h=from; " BH " b="),
	 MXTLS_E_SYNTAX, "empty b="},
	{S("DKIM-Signature: v=1; a=rsa-sha256; s=sel; h=from; " BH " b=AAAA"), MXTLS_E_SYNTAX,
	 "required"},
	/* valid: FWS inside b= and bh=, folding with CRLF and bare LF, unknown tags, q=, i= */
	{S("DKIM-Signature: " REQ), MXTLS_OK, NULL},
	{S("DKIM-Signature: " REQ ";"), MXTLS_OK, NULL},
	{S("DKIM-Signature: " REQ "; \r\n"), MXTLS_OK, NULL},
	{S("dkim-signature :v=1;a=ed25519-sha256;d=Example.COM;s=s_1;h=To : FROM;"
	   "bh=DPNCZv9cKEc4oz1Q\r\n\tvhigAtTkmpwjN53BmMciDrzM1Ko=;b=AA\n AA; foo=bar; q=dns/txt;"
	   "i=user@sub.example.com; t=1; x=2; c=relaxed; z=From:a|To:b"),
	 MXTLS_OK, NULL},
};

START_TEST(sig_parse)
{
	const struct sig_case *c = &sig_cases[_i];
	struct dkim_sig *s = malloc(sizeof *s);
	ck_assert_ptr_nonnull(s);
	int rc = dkim_sig_parse(c->in, c->len, s);
	ck_assert_msg(rc == c->rc && s->status == rc, "case %d: rc %d (%s), expected %d", _i, rc,
		      s->reason, c->rc);
	if (c->reason != NULL)
		ck_assert_msg(strstr(s->reason, c->reason) != NULL, "case %d: reason '%s'", _i,
			      s->reason);
	else
		ck_assert_str_eq(s->reason, "");
	free(s);
}
END_TEST

START_TEST(sig_parse_fields)
{
	struct dkim_sig *s = malloc(sizeof *s);
	ck_assert_ptr_nonnull(s);
	const char *f = sig_cases[ARRAY_LEN(sig_cases) - 1].in;
	size_t len = sig_cases[ARRAY_LEN(sig_cases) - 1].len;
	ck_assert_int_eq(dkim_sig_parse(f, len, s), MXTLS_OK);
	ck_assert_int_eq(s->alg, DKIM_ALG_ED25519_SHA256);
	ck_assert_int_eq(s->hcanon, DKIM_CANON_RELAXED);
	ck_assert_int_eq(s->bcanon, DKIM_CANON_SIMPLE); /* §3.5: body defaults to simple */
	ck_assert_str_eq(s->domain, "example.com");
	ck_assert_str_eq(s->selector, "s_1");
	ck_assert_str_eq(s->auid_domain, "sub.example.com");
	ck_assert_uint_eq(s->h_count, 2);
	ck_assert_str_eq(s->h_text + s->h_off[0], "To");
	ck_assert_str_eq(s->h_text + s->h_off[1], "FROM");
	ck_assert_uint_eq(s->b_len, 3);
	ck_assert(s->has_t && s->t == 1 && s->has_x && s->x == 2);
	/* b= is emptied from after "b=" to the ';' */
	ck_assert(s->b_end > s->b_start && f[s->b_start - 1] == '=' && f[s->b_end] == ';');
	char name[300];
	ck_assert_int_eq(dkim_verify_key_name(s, name, sizeof name), MXTLS_OK);
	ck_assert_str_eq(name, "s_1._domainkey.example.com");
	ck_assert_int_eq(dkim_verify_key_name(s, name, 10), MXTLS_E_LIMIT);

	/* defaults: c=simple/simple, i= is @d */
	ck_assert_int_eq(dkim_sig_parse(S("DKIM-Signature: " REQ), s), MXTLS_OK);
	ck_assert_int_eq(s->hcanon, DKIM_CANON_SIMPLE);
	ck_assert_int_eq(s->bcanon, DKIM_CANON_SIMPLE);
	ck_assert_str_eq(s->auid_domain, "example.com");
	ck_assert(!s->has_t && !s->has_x);

	/* a refused field still names d= and s=, and gives no key name */
	ck_assert_int_eq(dkim_sig_parse(S("DKIM-Signature: " REQ "; l=1"), s), MXTLS_E_SYNTAX);
	ck_assert_str_eq(s->domain, "example.com");
	ck_assert_str_eq(s->selector, "sel");
	ck_assert_int_eq(dkim_verify_key_name(s, name, sizeof name), MXTLS_E_INVAL);
	struct dkim_result r;
	dkim_verify(S("From: a\r\n\r\n"), s, S("p="), "tlsrpt", 0, &r);
	ck_assert_int_eq(r.verdict, DKIM_PERMERROR);
	ck_assert_str_eq(r.domain, "example.com");
	ck_assert_ptr_nonnull(strstr(r.reason, "l="));

	/* the key name over 253 octets */
	char big[600];
	int n = snprintf(big, sizeof big,
			 "DKIM-Signature: v=1; a=rsa-sha256; d=%s; s=%s; h=from; " BH " b=AAAA",
			 "a123456789.b123456789.c123456789.d123456789.e123456789.f123456789."
			 "g123456789.h123456789.i123456789.j123456789.k123456789.example.com",
			 "a123456789.b123456789.c123456789.d123456789.e123456789.f123456789."
			 "g123456789.h123456789.i123456789.j123456789.k123456789.sel");
	ck_assert_int_eq(dkim_sig_parse(big, (size_t)n, s), MXTLS_OK);
	ck_assert_int_eq(dkim_verify_key_name(s, name, sizeof name), MXTLS_E_LIMIT);

	/* the field cap */
	char *huge = malloc(DKIM_SIG_FIELD_MAX + 100);
	ck_assert_ptr_nonnull(huge);
	memset(huge, ' ', DKIM_SIG_FIELD_MAX + 100);
	memcpy(huge, "DKIM-Signature: " REQ, strlen("DKIM-Signature: " REQ));
	ck_assert_int_eq(dkim_sig_parse(huge, DKIM_SIG_FIELD_MAX + 1, s), MXTLS_E_LIMIT);
	ck_assert_int_eq(dkim_sig_parse(huge, DKIM_SIG_FIELD_MAX, s), MXTLS_OK);
	free(huge);
	free(s);
}
END_TEST

/* ---- key records (RFC 6376 §3.6.1) ---- */

#define ED_P "p=9cCZUYDyZH9Dwq6ULSg9Soc7vs3QdjaWskO3fE4QDQg="

static const struct key_case {
	const char *in;
	size_t len;
	int rc;
	const char *reason;
	bool ed25519, revoked, testing, strict;
	const char *services;
} key_cases[] = {
	{S(""), MXTLS_E_SYNTAX, "without p=", 0, 0, 0, 0, NULL},
	{S("v=DKIM1"), MXTLS_E_SYNTAX, "without p=", 0, 0, 0, 0, NULL},
	{S("v=DKIM1; " ED_P "\0"), MXTLS_E_SYNTAX, "NUL", 0, 0, 0, 0, NULL},
	{S("v=DKIM2; " ED_P), MXTLS_E_SYNTAX, "DKIM1", 0, 0, 0, 0, NULL},
	{S("k=ed25519; v=DKIM1; " ED_P), MXTLS_E_SYNTAX, "first", 0, 0, 0, 0, NULL},
	{S("v=DKIM1; k=dsa; " ED_P), MXTLS_E_SYNTAX, "k=", 0, 0, 0, 0, NULL},
	{S("v=DKIM1; h=sha1; " ED_P), MXTLS_E_SYNTAX, "sha256", 0, 0, 0, 0, NULL},
	{S("v=DKIM1; p=AAAA; p=AAAA"), MXTLS_E_SYNTAX, "duplicate", 0, 0, 0, 0, NULL},
	{S("v=DKIM1; p=A*AA"), MXTLS_E_SYNTAX, "base64", 0, 0, 0, 0, NULL},
	{S("v=DKIM1;; p=AAAA"), MXTLS_E_SYNTAX, "empty tag-spec", 0, 0, 0, 0, NULL},
	/* valid: defaults, revoked, flags, service lists, unknown tags and flags ignored */
	{S("p=AAAA"), MXTLS_OK, NULL, false, false, false, false, "*"},
	{S("v=DKIM1; p="), MXTLS_OK, NULL, false, true, false, false, "*"},
	{S("v=DKIM1; k=ed25519; t=y:s:q; n=note; zz=1; " ED_P), MXTLS_OK, NULL, true, false, true,
	 true, "*"},
	{S("v=DKIM1; h=sha1 : sha256; s = email : tlsrpt ; " ED_P ";"), MXTLS_OK, NULL, false,
	 false, false, false, "email:tlsrpt"},
	{S("v=DKIM1; s=tlsrpt; t=s; p=AA\r\n AA"), MXTLS_OK, NULL, false, false, false, true,
	 "tlsrpt"},
};

START_TEST(key_parse)
{
	const struct key_case *c = &key_cases[_i];
	struct dkim_keyrec k;
	memset(&k, 0x5a, sizeof k);
	const char *why = NULL;
	int rc = dkim_key_parse(c->in, c->len, &k, &why);
	ck_assert_msg(rc == c->rc, "case %d: rc %d (%s)", _i, rc, why != NULL ? why : "");
	if (rc != MXTLS_OK) {
		ck_assert_msg(why != NULL && strstr(why, c->reason) != NULL, "case %d: '%s'", _i,
			      why);
		ck_assert_int_eq(k.p[0], 0x5a); /* all-or-nothing */
		return;
	}
	ck_assert_int_eq(k.ed25519, c->ed25519);
	ck_assert_int_eq(k.revoked, c->revoked);
	ck_assert_int_eq(k.testing, c->testing);
	ck_assert_int_eq(k.strict, c->strict);
	ck_assert_str_eq(k.services, c->services);
}
END_TEST

START_TEST(key_limits_and_services)
{
	struct dkim_keyrec k;
	const char *why = NULL;
	char *rec = malloc(DKIM_KEY_RECORD_MAX + 1);
	ck_assert_ptr_nonnull(rec);
	memset(rec, ' ', DKIM_KEY_RECORD_MAX + 1);
	memcpy(rec, "p=AAAA", 6);
	ck_assert_int_eq(dkim_key_parse(rec, DKIM_KEY_RECORD_MAX + 1, &k, &why), MXTLS_E_LIMIT);
	ck_assert_int_eq(dkim_key_parse(rec, DKIM_KEY_RECORD_MAX, &k, &why), MXTLS_OK);
	/* p= over DKIM_P_MAX octets, s= over DKIM_SERVICE_MAX */
	memcpy(rec, "p=", 2);
	memset(rec + 2, 'A', 4 * (DKIM_P_MAX / 3 + 1));
	ck_assert_int_eq(dkim_key_parse(rec, 2 + 4 * (DKIM_P_MAX / 3 + 1), &k, &why),
			 MXTLS_E_LIMIT);
	memcpy(rec, "p=;s=", 5);
	memset(rec + 5, 'e', DKIM_SERVICE_MAX);
	ck_assert_int_eq(dkim_key_parse(rec, 5 + DKIM_SERVICE_MAX, &k, &why), MXTLS_E_LIMIT);
	free(rec);

	static const struct {
		const char *rec, *service;
		bool ok;
	} sv[] = {
		{"p=", "tlsrpt", true},
		{"s=*; p=", "tlsrpt", true},
		{"s=email; p=", "tlsrpt", false},
		{"s=tlsrpt; p=", "email", false},
		{"s=tlsrpt; p=", "tlsrpt", true},
		{"s=email:*; p=", "tlsrpt", true},
		{"s=tlsrptx; p=", "tlsrpt", false},
		{"s=tls; p=", "tlsrpt", false},
		{"s=; p=", "tlsrpt", false},
		{"s=TLSRPT; p=", "tlsrpt", false},
	};
	for (size_t i = 0; i < ARRAY_LEN(sv); i++) {
		ck_assert_int_eq(dkim_key_parse(sv[i].rec, strlen(sv[i].rec), &k, &why), MXTLS_OK);
		ck_assert_msg(dkim_key_allows_service(&k, sv[i].service) == sv[i].ok, "%s / %s",
			      sv[i].rec, sv[i].service);
	}
}
END_TEST

/* ---- simple canonicalisation (RFC 6376 §3.4.1, §3.4.3) ---- */

START_TEST(canon_simple)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
		size_t out_len;
	} body[] = {
		{S(""), S("\r\n")},
		{S("\r\n\r\n"), S("\r\n")},
		{S(" \r\n"), S(" \r\n")},
		{S("a  b \t\n\n\n"), S("a  b \t\r\n")},
		{S("a\rb"), S("a\rb\r\n")},
		/* RFC 6376 §3.4.5, the example's body in simple form */
		{S(" C \r\nD \t E\r\n\r\n\r\n"), S(" C \r\nD \t E\r\n")},
	};
	for (size_t i = 0; i < ARRAY_LEN(body); i++) {
		struct util_buf out;
		util_buf_init(&out, 1 << 16);
		ck_assert_int_eq(dkim_canon_body_simple(body[i].in, body[i].len, &out), MXTLS_OK);
		ck_assert_msg(out.len == body[i].out_len &&
				      memcmp(out.data, body[i].out, out.len) == 0,
			      "body %zu", i);
		util_buf_free(&out);
	}
	static const struct {
		const char *in;
		size_t len;
		int rc;
		const char *out;
		size_t out_len;
	} hdr[] = {
		{S("no colon"), MXTLS_E_SYNTAX, S("")},
		{S(": x"), MXTLS_E_SYNTAX, S("")},
		{S("A: X"), MXTLS_OK, S("A: X\r\n")},
		{S("B : Y\t\r\n\tZ  \r\n"), MXTLS_OK, S("B : Y\t\r\n\tZ  \r\n")},
		{S("B : Y\n\tZ"), MXTLS_OK, S("B : Y\r\n\tZ\r\n")},
	};
	for (size_t i = 0; i < ARRAY_LEN(hdr); i++) {
		struct util_buf out;
		util_buf_init(&out, 1 << 16);
		ck_assert_int_eq(dkim_canon_header_simple(hdr[i].in, hdr[i].len, &out), hdr[i].rc);
		ck_assert_msg(out.len == hdr[i].out_len &&
				      (out.len == 0 || memcmp(out.data, hdr[i].out, out.len) == 0),
			      "header %zu", i);
		util_buf_free(&out);
	}
}
END_TEST

/* ---- the manifest ---- */

/* vectors/dkim/rel, NUL-terminated, or NULL (no Check assertion here: manifest_rows() runs
 * before the tests do). */
static char *load(const char *rel, size_t *len)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/dkim/%s", VECTORS_DIR, rel);
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *p = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (p == NULL || fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		fclose(f);
		return NULL;
	}
	fclose(f);
	p[n] = '\0';
	*len = (size_t)n;
	return p;
}

static char *slurp(const char *rel, size_t *len)
{
	char *p = load(rel, len);
	ck_assert_msg(p != NULL, "cannot read vectors/dkim/%s", rel);
	return p;
}

struct row {
	char msg[128], rec[128], service[32], verdict[16];
	long long now;
	int testing;
};

/* The row-th data line of the manifest; false past the end. */
static bool manifest_row(int row, struct row *r)
{
	size_t len;
	char *m = load("manifest.txt", &len);
	if (m == NULL)
		return false;
	int seen = 0;
	bool found = false;
	for (char *line = strtok(m, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (seen++ != row)
			continue;
		found = sscanf(line, "%127s %127s %31s %lld %15s %d", r->msg, r->rec, r->service,
			       &r->now, r->verdict, &r->testing) == 6;
		break;
	}
	free(m);
	return found;
}

static int manifest_rows(void)
{
	struct row r;
	int n = 0;
	while (manifest_row(n, &r))
		n++;
	return n > 0 ? n : 1; /* no manifest: one run of the test, which then fails */
}

START_TEST(manifest)
{
	struct row row;
	ck_assert(manifest_row(_i, &row));
	char path[300];
	size_t mlen, rlen;
	snprintf(path, sizeof path, "msgs/%s.eml", row.msg);
	char *msg = slurp(path, &mlen);
	snprintf(path, sizeof path, "records/%s.txt", row.rec);
	char *rec = slurp(path, &rlen);
	struct dkim_sig sigs[DKIM_VERIFY_SIGS_MAX];
	size_t n = 99, ignored = 99;
	ck_assert_int_eq(dkim_verify_find(msg, mlen, sigs, DKIM_VERIFY_SIGS_MAX, &n, &ignored),
			 MXTLS_OK);
	ck_assert_uint_eq(ignored, 0);
	if (strcmp(row.verdict, "none") == 0) {
		ck_assert_uint_eq(n, 0);
	} else {
		ck_assert_uint_ge(n, 1);
		struct dkim_result r;
		dkim_verify(msg, mlen, &sigs[0], rec, rlen, row.service, row.now, &r);
		ck_assert_msg(strcmp(dkim_verdict_name(r.verdict), row.verdict) == 0,
			      "%s with %s for %s at %lld: %s (%s), expected %s", row.msg, row.rec,
			      row.service, row.now, dkim_verdict_name(r.verdict), r.reason,
			      row.verdict);
		ck_assert_int_eq(r.testing, row.testing);
		ck_assert_str_eq(r.domain, "reporter.example");
		ck_assert_str_eq(r.reason[0] == '\0' ? "pass" : "other",
				 r.verdict == DKIM_PASS ? "pass" : "other");
	}
	free(msg);
	free(rec);
}
END_TEST

/* ---- finding signatures, the cap on them, and the caller's lookup failures ---- */

START_TEST(find_cap)
{
	struct util_buf m;
	util_buf_init(&m, 1 << 20);
	for (int i = 0; i < DKIM_VERIFY_SIGS_MAX + 3; i++)
		util_buf_appendf(&m, "DKIM-Signature: " REQ "\n ; t=%d\n", i);
	util_buf_append_str(&m, "From: a@example.com\nDKIM-Signature: l=1\n\nbody\n");
	struct dkim_sig sigs[DKIM_VERIFY_SIGS_MAX];
	size_t n = 0, ignored = 0;
	ck_assert_int_eq(dkim_verify_find(m.data, m.len, sigs, DKIM_VERIFY_SIGS_MAX, &n, &ignored),
			 MXTLS_OK);
	ck_assert_uint_eq(n, DKIM_VERIFY_SIGS_MAX);
	ck_assert_uint_eq(ignored, 4);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(sigs[i].status, MXTLS_OK);
		ck_assert_int_eq(sigs[i].t, (int64_t)i);
		ck_assert(memcmp(m.data + sigs[i].field_start, "DKIM-Signature:", 15) == 0);
		/* the field ends at its last value byte, without the line end */
		ck_assert_int_eq(m.data[sigs[i].field_start + sigs[i].field_len], '\n');
	}
	/* a header that cannot be walked */
	n = ignored = 7;
	ck_assert_int_eq(dkim_verify_find(S(" DKIM-Signature: x\n\n"), sigs, 8, &n, &ignored),
			 MXTLS_E_SYNTAX);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(ignored, 0);

	struct dkim_result r;
	dkim_verify_no_key(&sigs[0], true, "SERVFAIL", &r);
	ck_assert_int_eq(r.verdict, DKIM_TEMPERROR);
	ck_assert_str_eq(r.reason, "key lookup failed: SERVFAIL");
	ck_assert_str_eq(r.selector, "sel");
	dkim_verify_no_key(&sigs[0], false, NULL, &r);
	ck_assert_int_eq(r.verdict, DKIM_PERMERROR);
	ck_assert_str_eq(r.reason, "no key record");
	ck_assert_str_eq(dkim_verdict_name(DKIM_TEMPERROR), "temperror");
	util_buf_free(&m);
}
END_TEST

/* ---- round trip: dkim_sign, then dkim_verify ---- */

START_TEST(round_trip)
{
	static const char *const keys[] = {"keys/rsa2048.pem", "keys/ed25519.pem"};
	static const char *const recs[] = {"records/rsa-s-tlsrpt.txt", "records/ed25519.txt"};
	size_t plen, rlen, blen;
	char *pem = slurp(keys[_i], &plen);
	char *rec = slurp(recs[_i], &rlen);
	char *base = slurp("msgs/unsigned.eml", &blen);
	struct dkim_key *k = NULL;
	ck_assert_int_eq(dkim_key_load_pem(pem, plen, &k), MXTLS_OK);
	struct dkim_sign_params p = {"reporter.example", _i == 0 ? "rsa" : "ed", 1767225600, NULL};
	char *sig = NULL;
	size_t slen = 0;
	ck_assert_int_eq(dkim_sign(k, &p, base, blen, &sig, &slen), MXTLS_OK);
	char *msg = malloc(slen + blen);
	ck_assert_ptr_nonnull(msg);
	memcpy(msg, sig, slen);
	memcpy(msg + slen, base, blen);
	struct dkim_sig s[2];
	size_t n = 0, ignored = 0;
	ck_assert_int_eq(dkim_verify_find(msg, slen + blen, s, 2, &n, &ignored), MXTLS_OK);
	ck_assert_uint_eq(n, 1);
	struct dkim_result r;
	dkim_verify(msg, slen + blen, &s[0], rec, rlen, "tlsrpt", 1767225601, &r);
	ck_assert_msg(r.verdict == DKIM_PASS, "%s", r.reason);
	/* one byte of the body changed: fail */
	msg[slen + blen - 5] ^= 1;
	dkim_verify(msg, slen + blen, &s[0], rec, rlen, "tlsrpt", 1767225601, &r);
	ck_assert_int_eq(r.verdict, DKIM_FAIL);
	ck_assert_str_eq(r.reason, "body hash does not match bh=");
	free(msg);
	free(sig);
	free(pem);
	free(rec);
	free(base);
	dkim_key_free(k);
}
END_TEST

static Suite *dkim_verify_suite(void)
{
	Suite *s = suite_create("dkim_verify");
	TCase *tc = tcase_create("parse");
	tcase_add_loop_test(tc, sig_parse, 0, ARRAY_LEN(sig_cases));
	tcase_add_test(tc, sig_parse_fields);
	tcase_add_loop_test(tc, key_parse, 0, ARRAY_LEN(key_cases));
	tcase_add_test(tc, key_limits_and_services);
	tcase_add_test(tc, canon_simple);
	tcase_add_test(tc, find_cap);
	suite_add_tcase(s, tc);
	tc = tcase_create("verify");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, manifest, 0, manifest_rows());
	tcase_add_loop_test(tc, round_trip, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(dkim_verify_suite)
