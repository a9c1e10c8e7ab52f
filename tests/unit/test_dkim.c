/* SPDX-License-Identifier: MIT */
/* Unit tests for dkim/: relaxed canonicalisation (hostile input first, the RFC 6376 §3.4.5
 * example), the header walk, key loading and the DKIM-Signature field's shape.  The signatures
 * themselves are verified independently by tests/dkim/verify-dkim.py (python3-dkim). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <mxtls/error.h>

#include "dkim/dkim_canon.h"
#include "dkim/dkim_sign.h"
#include "test_main.h"
#include "util/util_buf.h"

#define S(lit) lit, sizeof(lit) - 1

/* ---- relaxed body (RFC 6376 §3.4.4): hostile and degenerate first ---- */

static const struct body_case {
	const char *in;
	size_t len;
	const char *out;
	size_t out_len;
} body_cases[] = {
	/* §3.4.4 adds no CRLF to an empty body (unlike "simple", §3.4.3): empty stays empty. */
	{S(""), S("")},
	{S("\r\n"), S("")},
	{S("\r\n\r\n\r\n"), S("")},
	{S("\n\n\n"), S("")},
	{S(" \t \r\n\t\r\n  "), S("")},
	{S(" "), S("")},
	{S("\t\r\n \r\n"), S("")},
	/* bare LF ends a line as CRLF does; a bare CR is content */
	{S("a\nb\n\n"), S("a\r\nb\r\n")},
	{S("a\r\n\nb\n\r\n"), S("a\r\n\r\nb\r\n")},
	{S("a\rb"), S("a\rb\r\n")},
	{S("a\r"), S("a\r\r\n")},
	{S("a \r"), S("a \r\r\n")},
	{S("a\r\r\n"), S("a\r\r\n")},
	{S("\r"), S("\r\r\n")},
	/* NUL bytes are data: no NUL reliance */
	{S("\0 \0\t\0"), S("\0 \0 \0\r\n")},
	/* no final CRLF: one is added (§3.4.4 b) */
	{S("a"), S("a\r\n")},
	{S("a  "), S("a\r\n")},
	/* WSP runs to one SP; leading WSP of a line becomes one SP; trailing WSP goes */
	{S("a \t b\t\r\n"), S("a b\r\n")},
	{S("  a\r\n"), S(" a\r\n")},
	{S("\t\ta  b \r\n \r\nc"), S(" a b\r\n\r\nc\r\n")},
	/* empty lines inside the body stay, those at the end go */
	{S("a\r\n\r\nb\r\n\r\n\r\n"), S("a\r\n\r\nb\r\n")},
	{S("a\r\n \r\n\t\r\n"), S("a\r\n")},
	/* RFC 6376 §3.4.5, the example's body (provenance: RFC 6376 §3.4.5) */
	{S(" C \r\nD \t E\r\n\r\n\r\n"), S(" C\r\nD E\r\n")},
};

static int to_buf(void *arg, const char *p, size_t n)
{
	return util_buf_append(arg, p, n);
}

/* cut == SIZE_MAX: all at once; else the first cut bytes, then the rest byte by byte. */
static void check_body_case(const struct body_case *c, int i, size_t cut)
{
	struct util_buf out;
	util_buf_init(&out, 1 << 20);
	int rc;
	if (cut == SIZE_MAX) {
		rc = dkim_canon_body_relaxed(c->in, c->len, &out);
	} else {
		struct dkim_body_canon bc;
		dkim_body_canon_init(&bc, to_buf, &out);
		rc = dkim_body_canon_update(&bc, c->in, cut);
		for (size_t k = cut; k < c->len && rc == 0; k++)
			rc = dkim_body_canon_update(&bc, c->in + k, 1);
		if (rc == 0)
			rc = dkim_body_canon_final(&bc);
	}
	ck_assert_int_eq(rc, MXTLS_OK);
	ck_assert_msg(out.len == c->out_len &&
			      memcmp(out.data != NULL ? out.data : "", c->out, c->out_len) == 0,
		      "case %d (cut %zu): got %zu bytes, expected %zu", i, cut, out.len,
		      c->out_len);
	util_buf_free(&out);
}

START_TEST(body_relaxed)
{
	const struct body_case *c = &body_cases[_i];
	check_body_case(c, _i, SIZE_MAX);
	for (size_t cut = 0; cut <= c->len; cut++)
		check_body_case(c, _i, cut);
}
END_TEST

START_TEST(body_long_line)
{
	/* A 1 MiB line with a WSP run in it and at its end. */
	size_t n = 1 << 20;
	char *in = malloc(n + 8);
	ck_assert_ptr_nonnull(in);
	memset(in, 'x', n);
	memcpy(in + n / 2, " \t \t", 4);
	memcpy(in + n, " \t\r\n\r\n", 6);
	struct util_buf out;
	util_buf_init(&out, 2 * n);
	ck_assert_int_eq(dkim_canon_body_relaxed(in, n + 6, &out), MXTLS_OK);
	ck_assert_uint_eq(out.len, n - 3 + 2);
	ck_assert_int_eq(out.data[n / 2], ' ');
	ck_assert_int_eq(out.data[n / 2 + 1], 'x');
	ck_assert(memcmp(out.data + out.len - 3, "x\r\n", 3) == 0);
	/* Reaching the output buffer's cap is an error, not a truncation. */
	struct util_buf small;
	util_buf_init(&small, 1000);
	ck_assert_int_eq(dkim_canon_body_relaxed(in, n + 6, &small), MXTLS_E_LIMIT);
	util_buf_free(&small);
	util_buf_free(&out);
	free(in);
}
END_TEST

/* ---- relaxed header fields (RFC 6376 §3.4.2) ---- */

static const struct header_case {
	const char *in;
	size_t len;
	int rc;
	const char *out;
	size_t out_len;
} header_cases[] = {
	{S(""), MXTLS_E_SYNTAX, S("")},
	{S("NoColon"), MXTLS_E_SYNTAX, S("")},
	{S(": value"), MXTLS_E_SYNTAX, S("")},
	{S(" \t: value"), MXTLS_E_SYNTAX, S("")},
	{S("Na me: v"), MXTLS_E_SYNTAX, S("")},
	{S("N\0: v"), MXTLS_E_SYNTAX, S("")},
	{S("N\xc3\xa9: v"), MXTLS_E_SYNTAX, S("")},
	/* RFC 6376 §3.4.5, the example's two fields (provenance: RFC 6376 §3.4.5) */
	{S("A: X\r\n"), MXTLS_OK, S("a:X\r\n")},
	{S("B : Y\t\r\n\tZ  \r\n"), MXTLS_OK, S("b:Y Z\r\n")},
	/* uppercase names, folded continuation lines, bare LF folding, WSP at both ends */
	{S("SUBJECT:   \r\n  "), MXTLS_OK, S("subject:\r\n")},
	{S("Subject:"), MXTLS_OK, S("subject:\r\n")},
	{S("Subject: a\r\n\tb\r\n c\r\n"), MXTLS_OK, S("subject:a b c\r\n")},
	{S("Subject:a\n b"), MXTLS_OK, S("subject:a b\r\n")},
	{S("Subject:a\r\nb"), MXTLS_OK, S("subject:ab\r\n")},
	{S("X-Mixed-CASE:\tv \t w\t"), MXTLS_OK, S("x-mixed-case:v w\r\n")},
	{S("To: a\rb"), MXTLS_OK, S("to:a\rb\r\n")},
	{S("H: a\0b"), MXTLS_OK, S("h:a\0b\r\n")},
	{S("H::"), MXTLS_OK, S("h::\r\n")},
	{S("Date:  Mon, 1 Jan 2024  00:00:00 +0000"), MXTLS_OK,
	 S("date:Mon, 1 Jan 2024 00:00:00 +0000\r\n")},
};

START_TEST(header_relaxed)
{
	const struct header_case *c = &header_cases[_i];
	struct util_buf out;
	util_buf_init(&out, 1 << 20);
	util_buf_append_str(&out, "keep");
	int rc = dkim_canon_header_relaxed(c->in, c->len, &out);
	ck_assert_msg(rc == c->rc, "case %d: rc %d, expected %d", _i, rc, c->rc);
	ck_assert(memcmp(out.data, "keep", 4) == 0);
	if (rc == MXTLS_OK)
		ck_assert_msg(out.len == 4 + c->out_len &&
				      memcmp(out.data + 4, c->out, c->out_len) == 0,
			      "case %d: got '%s'", _i, out.data + 4);
	else
		ck_assert_uint_eq(out.len, 4); /* all-or-nothing */
	util_buf_free(&out);
}
END_TEST

START_TEST(header_limits)
{
	char *in = malloc(DKIM_FIELD_MAX + 1);
	ck_assert_ptr_nonnull(in);
	memset(in, 'v', DKIM_FIELD_MAX + 1);
	memcpy(in, "Subject: ", 9);
	struct util_buf out;
	util_buf_init(&out, 4 * DKIM_FIELD_MAX);
	ck_assert_int_eq(dkim_canon_header_relaxed(in, DKIM_FIELD_MAX + 1, &out), MXTLS_E_LIMIT);
	ck_assert_int_eq(dkim_canon_header_relaxed(in, DKIM_FIELD_MAX, &out), MXTLS_OK);
	ck_assert_uint_eq(out.len, DKIM_FIELD_MAX - 1 + 2);
	/* the output's cap: an error, and out unchanged */
	struct util_buf small;
	util_buf_init(&small, 100);
	ck_assert_int_eq(dkim_canon_header_relaxed(in, 1000, &small), MXTLS_E_LIMIT);
	ck_assert_uint_eq(small.len, 0);
	util_buf_free(&small);
	util_buf_free(&out);
	free(in);
}
END_TEST

/* ---- the header walk ---- */

static const struct walk_case {
	const char *in;
	size_t len;
	int rc;        /* of the call that ends the walk */
	size_t fields; /* fields found before it */
	size_t body;   /* *pos at the end when rc == 0 */
} walk_cases[] = {
	{S(" Subject: x\r\n\r\n"), MXTLS_E_SYNTAX, 0, 0},
	{S("From: a\r\n no colon\r\nBad line\r\n\r\n"), MXTLS_E_SYNTAX, 1, 0},
	{S("From: a\r\n: empty name\r\n"), MXTLS_E_SYNTAX, 1, 0},
	{S(""), 0, 0, 0},
	{S("\r\n"), 0, 0, 2},
	{S("\n"), 0, 0, 1},
	{S("From: a"), 0, 1, 7},
	{S("From: a\r\nTo: b\r\n"), 0, 2, 16},
	{S("From: a\r\n\tb\r\n c\r\nTo: d\r\n\r\nbody\r\n"), 0, 2, 26},
	{S("From: a\n\tb\nTo: d\n\nbody\n"), 0, 2, 18},
	{S("A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\n"), 0, 2, 22},
};

START_TEST(field_walk)
{
	const struct walk_case *c = &walk_cases[_i];
	size_t pos = 0, n = 0;
	struct dkim_field f;
	int rc;
	while ((rc = dkim_canon_field_next(c->in, c->len, &pos, &f)) == 1) {
		ck_assert_uint_le(f.start + f.len, c->len);
		ck_assert_uint_gt(f.name_len, 0);
		n++;
	}
	ck_assert_msg(rc == c->rc, "case %d: rc %d", _i, rc);
	ck_assert_msg(n == c->fields, "case %d: %zu fields", _i, n);
	if (rc == 0)
		ck_assert_msg(pos == c->body, "case %d: body at %zu", _i, pos);
}
END_TEST

/* ---- keys and the signature field ---- */

/* A PEM private key of the given kind made now with GnuTLS; caller frees with gnutls_free. */
static gnutls_datum_t make_key(gnutls_pk_algorithm_t alg, unsigned bits)
{
	gnutls_x509_privkey_t k;
	gnutls_datum_t pem = {NULL, 0};
	ck_assert_int_eq(gnutls_x509_privkey_init(&k), 0);
	ck_assert_int_eq(gnutls_x509_privkey_generate(k, alg, bits, 0), 0);
	ck_assert_int_eq(gnutls_x509_privkey_export2_pkcs8(k, GNUTLS_X509_FMT_PEM, NULL,
							   GNUTLS_PKCS_PLAIN, &pem),
			 0);
	gnutls_x509_privkey_deinit(k);
	return pem;
}

START_TEST(key_load_hostile)
{
	struct dkim_key *k = (struct dkim_key *)&k;
	ck_assert_int_eq(dkim_key_load_pem("", 0, &k), MXTLS_E_SYNTAX);
	ck_assert_int_eq(dkim_key_load_pem(S("not a key"), &k), MXTLS_E_SYNTAX);
	ck_assert_int_eq(dkim_key_load_pem(S("-----BEGIN PRIVATE KEY-----\nMIIB\n"), &k),
			 MXTLS_E_SYNTAX);
	ck_assert_int_eq(dkim_key_load_pem(S("-----BEGIN PRIVATE KEY-----\0"), &k), MXTLS_E_SYNTAX);
	ck_assert_int_eq(dkim_key_load_pem("x", DKIM_KEY_PEM_MAX + 1, &k), MXTLS_E_LIMIT);
	/* keys of another kind, and RSA below 1024 bits (RFC 8301 §3.2) */
	gnutls_datum_t ec =
		make_key(GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1));
	ck_assert_int_eq(dkim_key_load_pem((char *)ec.data, ec.size, &k), MXTLS_E_CONFIG);
	gnutls_free(ec.data);
	gnutls_datum_t small = make_key(GNUTLS_PK_RSA, 768);
	ck_assert_int_eq(dkim_key_load_pem((char *)small.data, small.size, &k), MXTLS_E_CONFIG);
	gnutls_free(small.data);
	/* a truncated Ed25519 key */
	gnutls_datum_t ed = make_key(GNUTLS_PK_EDDSA_ED25519, 256);
	ck_assert_int_eq(dkim_key_load_pem((char *)ed.data, ed.size / 2, &k), MXTLS_E_SYNTAX);
	gnutls_free(ed.data);
	ck_assert_ptr_eq(k, (struct dkim_key *)&k); /* all-or-nothing */
	dkim_key_free(NULL);
}
END_TEST

static const char sample[] = "From: Alice <alice@example.com>\r\n"
			     "To: bob@example.net\r\n"
			     "Subject: a subject long enough\r\n"
			     "\tto be folded\r\n"
			     "X-Not-Signed: yes\r\n"
			     "\r\n"
			     "Hi there\r\n"
			     "\r\n";

START_TEST(sign_field_shape)
{
	gnutls_datum_t pem =
		make_key(_i == 0 ? GNUTLS_PK_EDDSA_ED25519 : GNUTLS_PK_RSA, _i == 0 ? 256 : 1024);
	struct dkim_key *k = NULL;
	ck_assert_int_eq(dkim_key_load_pem((char *)pem.data, pem.size, &k), MXTLS_OK);
	gnutls_free(pem.data);
	ck_assert_str_eq(dkim_key_algorithm(k), _i == 0 ? "ed25519-sha256" : "rsa-sha256");

	struct dkim_sign_params p = {"example.com", "sel-2026", 1700000000, NULL};
	char *out = (char *)&out;
	size_t len = 0;
	/* hostile first: bad names, no From, a broken header; *out untouched */
	const char *bad_names[] = {"", ".example.com", "a..b", "exa mple.com", "a;b", "a_b"};
	for (size_t i = 0; i < ARRAY_LEN(bad_names); i++) {
		p.domain = bad_names[i];
		ck_assert_int_eq(dkim_sign(k, &p, S(sample), &out, &len), MXTLS_E_INVAL);
	}
	p.domain = "example.com";
	p.selector = "s;x";
	ck_assert_int_eq(dkim_sign(k, &p, S(sample), &out, &len), MXTLS_E_INVAL);
	p.selector = "sel-2026";
	ck_assert_int_eq(dkim_sign(k, &p, S("To: b@example.net\r\n\r\nbody\r\n"), &out, &len),
			 MXTLS_E_SYNTAX);
	ck_assert_int_eq(dkim_sign(k, &p, S(" From: a@example.com\r\n\r\nbody\r\n"), &out, &len),
			 MXTLS_E_SYNTAX);
	ck_assert_ptr_eq(out, (char *)&out);

	ck_assert_int_eq(dkim_sign(k, &p, S(sample), &out, &len), MXTLS_OK);
	ck_assert_uint_eq(strlen(out), len);
	char head[200];
	snprintf(head, sizeof head, "DKIM-Signature: v=1; a=%s; c=relaxed/relaxed; d=example.com;",
		 dkim_key_algorithm(k));
	ck_assert_msg(strncmp(out, head, strlen(head)) == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "s=sel-2026; t=1700000000;"));
	/* From oversigned, the default list in its order, X-Not-Signed absent, no l= */
	ck_assert_ptr_nonnull(strstr(out, "h=from:from:to:subject;"));
	ck_assert_ptr_null(strstr(out, "l="));
	ck_assert_ptr_null(strstr(out, "x-not-signed"));
	/* SHA-256 of " Hi there\r\n" relaxed: "Hi there\r\n" */
	ck_assert_ptr_nonnull(strstr(out, "bh=LaegeaE4sWd4l9K7YWNlAinmqUePEZwKG9dMjiYmLn8=;"));
	ck_assert(len > 2 && strcmp(out + len - 2, "\r\n") == 0);
	/* folded: every line at most 78 columns, continuation lines start with TAB */
	size_t col = 0;
	for (size_t i = 0; i < len; i++) {
		if (out[i] == '\r') {
			ck_assert_int_eq(out[i + 1], '\n');
			ck_assert(i + 2 == len || out[i + 2] == '\t');
			ck_assert_uint_le(col, DKIM_FOLD_COLUMN);
			col = 0;
			i++;
			continue;
		}
		col++;
	}
	free(out);

	/* an empty body: bh= of zero octets (relaxed, §3.4.4) */
	ck_assert_int_eq(dkim_sign(k, &p, S("From: a@example.com\r\n"), &out, &len), MXTLS_OK);
	ck_assert_ptr_nonnull(strstr(out, "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;"));
	free(out);
	/* a caller's list without From still signs From, oversigned */
	const char *const only_to[] = {"To", "to", NULL};
	p.headers = only_to;
	ck_assert_int_eq(dkim_sign(k, &p, S(sample), &out, &len), MXTLS_OK);
	ck_assert_ptr_nonnull(strstr(out, "h=to:to:from:from;"));
	free(out);
	dkim_key_free(k);
}
END_TEST

static Suite *dkim_suite(void)
{
	Suite *s = suite_create("dkim");
	TCase *tc = tcase_create("canon");
	tcase_add_loop_test(tc, body_relaxed, 0, ARRAY_LEN(body_cases));
	tcase_add_test(tc, body_long_line);
	tcase_add_loop_test(tc, header_relaxed, 0, ARRAY_LEN(header_cases));
	tcase_add_test(tc, header_limits);
	tcase_add_loop_test(tc, field_walk, 0, ARRAY_LEN(walk_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("sign");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, key_load_hostile);
	tcase_add_loop_test(tc, sign_field_shape, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(dkim_suite)
