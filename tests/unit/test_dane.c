/* SPDX-License-Identifier: MIT */
/* Unit tests for dane/: TLSA parsing and usability (hostile input first), digest agility, and
 * every case of vectors/dane/cases.txt through dane_verify(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mxtls/error.h>
#include <mxtls/result.h>

#include "dane/dane_cert.h"
#include "dane/dane_tlsa.h"
#include "dane/dane_verify.h"
#include "test_main.h"
#include "tests/diff/casefile.h"

#ifndef VECTORS_DIR
#error "VECTORS_DIR must name the vectors/ folder"
#endif

/* ---- TLSA text: hostile and malformed first ---- */

static const struct text_case {
	const char *in;
	size_t len; /* 0: strlen */
	bool usable;
	const char *reason; /* substring of the reason when unusable */
	const char *canonical; /* expected text */
} text_cases[] = {
	{"", 0, false, "expected 'usage selector mtype hex'", ""},
	{"3 1", 0, false, "expected", "3 1"},
	{"3 1 1 zz", 0, false, "not hexadecimal", "3 1 1 zz"},
	{"3 1 1 abc", 0, false, "odd number", "3 1 1 abc"},
	{"3 1 1 ab\0cd", 10, false, "NUL byte", NULL},
	{"256 1 1 00", 0, false, "expected", "256 1 1 00"},
	{"-3 1 1 00", 0, false, "expected", "-3 1 1 00"},
	{"3x 1 1 00", 0, false, "expected", "3x 1 1 00"},
	{"3 1 1 0011", 0, false, "SHA2-256 data is not 32 bytes", "3 1 1 0011"},
	{"3 1 2 0011", 0, false, "SHA2-512 data is not 64 bytes", "3 1 2 0011"},
	{"3 0 0 00", 0, false, "not a DER certificate", "3 0 0 00"},
	{"2 1 0 3000", 0, false, "not a DER SubjectPublicKeyInfo", "2 1 0 3000"},
	{"3 1 0", 0, false, "empty association data", "3 1 0 -"},
	{"4 1 1 " "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 0, false,
	 "unknown certificate usage", NULL},
	{"3 2 1 " "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 0, false,
	 "unknown selector", NULL},
	{"3 1 3 00", 0, false, "unknown matching type", "3 1 3 00"},
	{"0 1 1 " "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 0, false,
	 "PKIX usages", NULL},
	{"1 0 1 " "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 0, false,
	 "PKIX usages", NULL},
	/* Zone-file style: blanks anywhere in the hex, upper case; canonical form is lower case. */
	{"  3\t1 1 0011223344556677 8899AABBCCDDEEFF00112233445566778899aabbccddeeff ", 0, true, NULL,
	 "3 1 1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"},
};

START_TEST(tlsa_from_text)
{
	const struct text_case *c = &text_cases[_i];
	struct dane_tlsa t;
	size_t len = c->len ? c->len : strlen(c->in);
	ck_assert_int_eq(dane_tlsa_from_text(c->in, len, &t), MXTLS_OK);
	ck_assert_int_eq(t.usable, c->usable);
	if (!c->usable)
		ck_assert_ptr_nonnull(strstr(t.reason, c->reason));
	else
		ck_assert_ptr_null(t.reason);
	if (c->canonical != NULL)
		ck_assert_str_eq(t.text, c->canonical);
	dane_tlsa_clear(&t);
}
END_TEST

START_TEST(tlsa_from_rdata)
{
	struct dane_tlsa t;
	const uint8_t truncated[] = {3, 1};
	ck_assert_int_eq(dane_tlsa_from_rdata(truncated, sizeof truncated, &t), MXTLS_OK);
	ck_assert(!t.usable);
	ck_assert_str_eq(t.reason, "truncated rdata");
	dane_tlsa_clear(&t);

	ck_assert_int_eq(dane_tlsa_from_rdata(NULL, 0, &t), MXTLS_OK);
	ck_assert(!t.usable);
	dane_tlsa_clear(&t);

	uint8_t good[3 + 32] = {3, 1, 1};
	for (int i = 0; i < 32; i++)
		good[3 + i] = (uint8_t)i;
	ck_assert_int_eq(dane_tlsa_from_rdata(good, sizeof good, &t), MXTLS_OK);
	ck_assert(t.usable);
	ck_assert_uint_eq(t.len, 32);
	ck_assert_str_eq(t.text,
			 "3 1 1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	dane_tlsa_clear(&t);

	/* A hostile 20 000-byte record from the network is unusable, not an error. */
	static uint8_t huge[3 + 20000] = {3, 0, 0};
	ck_assert_int_eq(dane_tlsa_from_rdata(huge, sizeof huge, &t), MXTLS_OK);
	ck_assert(!t.usable);
	ck_assert_str_eq(t.reason, "association data too long");
	ck_assert_uint_eq(strlen(t.text), 6 + 2 * 20000);
	dane_tlsa_clear(&t);
	dane_tlsa_clear(NULL); /* a no-op */
}
END_TEST

/* RFC 7671 §9: per (usage, selector), Full(0) plus the strongest digest present. */
START_TEST(tlsa_digest_agility)
{
	static const char h32[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	char r311[100], r312[200], r301[100], r211[100];
	snprintf(r311, sizeof r311, "3 1 1 %s", h32);
	snprintf(r312, sizeof r312, "3 1 2 %s%s", h32, h32);
	snprintf(r301, sizeof r301, "3 0 1 %s", h32);
	snprintf(r211, sizeof r211, "2 1 1 %s", h32);
	const char *in[] = {r311, r312, r301, r211, "3 1 1 zz"};
	struct dane_tlsa set[5];
	for (size_t i = 0; i < 5; i++)
		ck_assert_int_eq(dane_tlsa_from_text(in[i], strlen(in[i]), &set[i]), MXTLS_OK);
	ck_assert_uint_eq(dane_tlsa_select(set, 5), 3);
	ck_assert(!set[0].usable); /* 3 1 1 loses to 3 1 2 */
	ck_assert_ptr_nonnull(strstr(set[0].reason, "RFC 7671 section 9"));
	ck_assert(set[1].usable);
	ck_assert(set[2].usable); /* 3 0 x is another selector: kept */
	ck_assert(set[3].usable); /* 2 1 x is another usage: kept */
	ck_assert(!set[4].usable);
	for (size_t i = 0; i < 5; i++)
		dane_tlsa_clear(&set[i]);
}
END_TEST

/* ---- vectors/dane/cases.txt ---- */

#define CASE_TLSA_MAX 16

static struct dcase *vectors;
static size_t nvectors;

static void keep_case(struct dcase *c, void *arg)
{
	(void)arg;
	struct dcase *grown = realloc(vectors, (nvectors + 1) * sizeof *vectors);
	if (grown == NULL)
		exit(99);
	vectors = grown;
	vectors[nvectors++] = *c;
	memset(c, 0, sizeof *c);
}

/* Loads cases.txt with the differential test's reader; a malformed file stops the program. */
static void load_vectors(void)
{
	if (dcase_foreach(VECTORS_DIR "/dane/cases.txt", keep_case, NULL) <= 0)
		exit(99);
}

START_TEST(vector_case)
{
	const struct dcase *v = &vectors[_i];
	char path[512];
	snprintf(path, sizeof path, VECTORS_DIR "/dane/%s", v->chain);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s: cannot open %s", v->name, path);
	static char pem[1 << 20];
	size_t len = fread(pem, 1, sizeof pem, f);
	fclose(f);
	struct dane_chain chain;
	ck_assert_int_eq(dane_chain_from_pem(pem, len, &chain), MXTLS_OK);
	ck_assert_uint_le(v->ntlsa, CASE_TLSA_MAX);
	struct dane_tlsa set[CASE_TLSA_MAX];
	for (size_t i = 0; i < v->ntlsa; i++)
		ck_assert_int_eq(dane_tlsa_from_text(v->tlsa[i], strlen(v->tlsa[i]), &set[i]), MXTLS_OK);
	dane_tlsa_select(set, v->ntlsa);
	const char *names[2] = {v->host, v->nexthop};
	struct dane_verdict verdict;
	dane_verify(&chain, set, v->ntlsa, names, v->nexthop != NULL ? 2 : 1, (int64_t)v->when,
		    &verdict);
	ck_assert_msg(strcmp(mxtls_result_name(verdict.result), v->expect) == 0,
		      "case %s: got %s (%s), expected %s", v->name,
		      mxtls_result_name(verdict.result), verdict.reason, v->expect);
	if (v->usable >= 0)
		ck_assert_msg(verdict.usable == (size_t)v->usable, "case %s: usable %zu, expected %ld",
			      v->name, verdict.usable, v->usable);
	for (size_t i = 0; i < v->ntlsa; i++)
		dane_tlsa_clear(&set[i]);
	dane_chain_clear(&chain);
}
END_TEST

START_TEST(chain_import_rejects)
{
	struct dane_chain c;
	ck_assert_int_eq(dane_chain_from_pem("", 0, &c), MXTLS_E_SYNTAX);
	static const char junk[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
	ck_assert_int_eq(dane_chain_from_pem(junk, sizeof junk - 1, &c), MXTLS_E_SYNTAX);
	ck_assert_uint_eq(c.n, 0);
	ck_assert_int_eq(dane_chain_from_pem("hello\0world", 11, &c), MXTLS_E_SYNTAX);
}
END_TEST

static Suite *dane_suite(void)
{
	load_vectors();
	Suite *s = suite_create("dane");
	TCase *tc = tcase_create("tlsa");
	tcase_add_loop_test(tc, tlsa_from_text, 0, ARRAY_LEN(text_cases));
	tcase_add_test(tc, tlsa_from_rdata);
	tcase_add_test(tc, tlsa_digest_agility);
	tcase_add_test(tc, chain_import_rejects);
	suite_add_tcase(s, tc);
	tc = tcase_create("vectors");
	tcase_add_loop_test(tc, vector_case, 0, (int)nvectors);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(dane_suite)
