/* SPDX-License-Identifier: MIT */
/* Unit tests for dns/: the bounded rdata parsers (hostile input first). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mxtls/error.h>
#include <unbound.h>

#include "dns/dns_anchor.h"
#include "dns/dns_rdata.h"
#include "dns/dns_resolver.h"
#include "test_main.h"

#define R(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

static const struct mx_case {
	const uint8_t *rdata;
	size_t len;
	int rc;
	uint16_t pref;
	const char *exchange;
} mx_cases[] = {
	{R(0), MXTLS_E_TRUNCATED, 0, NULL},                         /* no preference */
	{R(0, 10), MXTLS_E_TRUNCATED, 0, NULL},                     /* no name */
	{R(0, 10, 5, 'm', 'x'), MXTLS_E_TRUNCATED, 0, NULL},        /* label past the end */
	{R(0, 10, 0xc0, 0x0c), MXTLS_E_SYNTAX, 0, NULL},            /* compression pointer */
	{R(0, 10, 2, 'm', 0, 0), MXTLS_E_SYNTAX, 0, NULL},          /* NUL inside a label */
	{R(0, 10, 3, 'a', '.', 'b', 0), MXTLS_E_SYNTAX, 0, NULL},   /* dot inside a label */
	{R(0, 10, 1, ' ', 0), MXTLS_E_SYNTAX, 0, NULL},             /* space */
	{R(0, 10, 2, 'm', 'x', 0, 7), MXTLS_E_SYNTAX, 0, NULL},     /* trailing byte */
	{R(0, 0, 0), MXTLS_OK, 0, "."},                             /* null MX (RFC 7505) */
	{R(0, 10, 2, 'M', 'X', 4, 't', 'e', 's', 't', 0), MXTLS_OK, 10, "mx.test"},
	{R(0xff, 0xff, 3, '_', '2', '5', 1, 'a', 0), MXTLS_OK, 65535, "_25.a"},
};

START_TEST(rdata_mx)
{
	const struct mx_case *c = &mx_cases[_i];
	struct dns_mx mx = {.preference = 4242};
	ck_assert_int_eq(dns_rdata_mx(c->rdata, c->len, &mx), c->rc);
	if (c->rc != MXTLS_OK) {
		ck_assert_uint_eq(mx.preference, 4242); /* untouched */
		return;
	}
	ck_assert_uint_eq(mx.preference, c->pref);
	ck_assert_str_eq(mx.exchange, c->exchange);
}
END_TEST

START_TEST(rdata_name_too_long)
{
	/* 5 labels of 63 bytes = 319 characters with dots: over the 253 limit. */
	uint8_t wire[5 * 64 + 1];
	for (int l = 0; l < 5; l++) {
		wire[l * 64] = 63;
		memset(wire + l * 64 + 1, 'a', 63);
	}
	wire[5 * 64] = 0;
	char out[DNS_NAME_TEXT_MAX];
	size_t used;
	ck_assert_int_eq(dns_rdata_name(wire, sizeof wire, out, &used), MXTLS_E_LIMIT);
	/* Four labels (255 characters) are still too long; three plus a short one fit. */
	wire[3 * 64] = 61;
	wire[3 * 64 + 62] = 0;
	ck_assert_int_eq(dns_rdata_name(wire, 3 * 64 + 63, out, &used), MXTLS_OK);
	ck_assert_uint_eq(strlen(out), 3 * 63 + 3 + 61);
	ck_assert_uint_eq(used, 3 * 64 + 63);
}
END_TEST

static const struct txt_case {
	const uint8_t *rdata;
	size_t len;
	size_t cap;
	int rc;
	const char *text;
} txt_cases[] = {
	{R(5, 'a', 'b'), 64, MXTLS_E_TRUNCATED, ""},
	{R(3, 'a', 0, 'b'), 64, MXTLS_E_SYNTAX, ""},
	{R(3, 'a', 'b', 'c'), 3, MXTLS_E_LIMIT, ""},       /* cap counts the NUL */
	{R(3, 'a', 'b', 'c'), 4, MXTLS_OK, "abc"},
	/* RFC 8461 §3.1: strings are joined with nothing in between. */
	{R(8, 'v', '=', 'S', 'T', 'S', 'v', '1', ';', 4, ' ', 'i', 'd', '='), 64, MXTLS_OK,
	 "v=STSv1; id="},
	{R(0, 0), 64, MXTLS_OK, ""},
	{NULL, 0, 64, MXTLS_OK, ""},
};

START_TEST(rdata_txt)
{
	const struct txt_case *c = &txt_cases[_i];
	char out[64] = "untouched";
	size_t n = 999;
	ck_assert_int_eq(dns_rdata_txt(c->rdata, c->len, out, c->cap, &n), c->rc);
	ck_assert_str_eq(out, c->text);
	if (c->rc == MXTLS_OK)
		ck_assert_uint_eq(n, strlen(c->text));
	else
		ck_assert_uint_eq(n, 999);
}
END_TEST

START_TEST(names_of_enums)
{
	ck_assert_str_eq(dns_outcome_name(DNS_ERR_BOGUS), "bogus");
	ck_assert_str_eq(dns_outcome_name(DNS_NODATA), "nodata");
	ck_assert_str_eq(dns_security_name(DNS_INSECURE), "insecure");
	dns_answer_free(NULL);
}
END_TEST

/* Issue 14 item 2: which libunbound set-ups can validate, and which zone proves it.  "%A" in a
 * configuration is replaced by the path of an anchor file holding the case's anchor text. */
static const struct anchor_case {
	const char *conf;
	const char *anchor_file; /* NULL: none written */
	int rc;
	const char *zone;        /* on MXTLS_OK */
	const char *err;         /* a part of the reason, on an error */
} anchor_cases[] = {
	/* hostile and broken first */
	{"server:\n  verbosity: 1\n", NULL, MXTLS_E_CONFIG, NULL, "no DNSSEC trust anchor"},
	{"server:\n  module-config: \"iterator\"\n  trust-anchor: \". DS 1 8 2 00\"\n", NULL,
	 MXTLS_E_CONFIG, NULL, "module-config \"iterator\" has no validator"},
	{"server:\n  trust-anchor-file: \"/nonexistent/root.key\"\n", NULL, MXTLS_E_CONFIG, NULL,
	 "trust-anchor-file /nonexistent/root.key: No such file or directory"},
	{"server:\n  domain-insecure: \".\"\n", NULL, MXTLS_E_CONFIG, NULL,
	 "no DNSSEC trust anchor"},
	/* accepted */
	{"server:\n  trust-anchor: \". DS 20326 8 2 00\"\n", NULL, MXTLS_OK, ".", NULL},
	{"server:\n  trust-anchor: \"Example.ORG. DS 1 8 2 00\"\n", NULL, MXTLS_OK, "example.org",
	 NULL},
	{"server:\n  trust-anchor: \"a.test. DS 1 8 2 00\"\n  trust-anchor: \". DS 1 8 2 00\"\n",
	 NULL, MXTLS_OK, ".", NULL}, /* the root wins over another zone */
	{"server:\n  trust-anchor-file: \"%A\"\n",
	 "; comment\n$TTL 3600\n\n.  IN DS 20326 8 2 00\n", MXTLS_OK, ".", NULL},
	{"server:\n  auto-trust-anchor-file: \"%A\"\n", "corp.example. 3600 IN DNSKEY 257 3 8 AA\n",
	 MXTLS_OK, "corp.example", NULL},
	{"server:\n  trusted-keys-file: \"%A\"\n", "trusted-keys { \"x.test.\" 257 3 8 \"AA\"; };\n",
	 MXTLS_OK, ".", NULL}, /* BIND syntax: the zone is not read, the root is probed */
	{"server:\n  module-config: \"validator iterator\"\n  trust-anchor: \". DS 1 8 2 00\"\n",
	 NULL, MXTLS_OK, ".", NULL},
};

START_TEST(anchor_zone)
{
	const struct anchor_case *c = &anchor_cases[_i];
	char dir[600];
	snprintf(dir, sizeof dir, "%s/anchor.XXXXXX", test_tmp_root);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char conf[700], key[700], text[2048];
	snprintf(conf, sizeof conf, "%s/unbound.conf", dir);
	snprintf(key, sizeof key, "%s/anchor.key", dir);
	size_t o = 0;
	for (const char *p = c->conf; *p != '\0' && o + sizeof key < sizeof text; p++) {
		if (p[0] == '%' && p[1] == 'A') {
			o += (size_t)snprintf(text + o, sizeof text - o, "%s", key);
			p++;
		} else {
			text[o++] = *p;
		}
	}
	text[o] = '\0';
	FILE *f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	if (c->anchor_file != NULL) {
		f = fopen(key, "w");
		ck_assert_ptr_nonnull(f);
		fputs(c->anchor_file, f);
		fclose(f);
	}
	struct ub_ctx *ub = ub_ctx_create();
	ck_assert_ptr_nonnull(ub);
	ck_assert_int_eq(ub_ctx_config(ub, conf), 0);
	char zone[DNS_NAME_TEXT_MAX] = "unset", err[512] = "";
	int rc = dns_anchor_zone(ub, conf, zone, sizeof zone, err, sizeof err);
	ub_ctx_delete(ub);
	ck_assert_int_eq(rc, c->rc);
	if (rc == MXTLS_OK) {
		ck_assert_str_eq(zone, c->zone);
	} else {
		ck_assert_msg(strstr(err, c->err) != NULL, "reason \"%s\" lacks \"%s\"", err, c->err);
		ck_assert_str_eq(zone, "unset"); /* all-or-nothing */
	}
	/* The throw-away form gives the same verdict. */
	char err2[512] = "";
	ck_assert_int_eq(dns_anchor_check_file(conf, err2, sizeof err2), c->rc);
	unlink(key);
	unlink(conf);
	rmdir(dir);
}
END_TEST

START_TEST(anchor_unloadable_conf)
{
	char err[512] = "";
	ck_assert_int_eq(dns_anchor_check_file("/nonexistent/unbound.conf", err, sizeof err),
			 MXTLS_E_CONFIG);
	ck_assert_msg(strstr(err, "unbound-conf /nonexistent/unbound.conf: ") == err, "%s", err);
}
END_TEST

static Suite *dns_suite(void)
{
	Suite *s = suite_create("dns");
	TCase *tc = tcase_create("rdata");
	tcase_add_loop_test(tc, rdata_mx, 0, ARRAY_LEN(mx_cases));
	tcase_add_test(tc, rdata_name_too_long);
	tcase_add_loop_test(tc, rdata_txt, 0, ARRAY_LEN(txt_cases));
	tcase_add_test(tc, names_of_enums);
	suite_add_tcase(s, tc);
	tc = tcase_create("anchor");
	tcase_add_unchecked_fixture(tc, test_tmp_setup, test_tmp_teardown);
	tcase_add_loop_test(tc, anchor_zone, 0, ARRAY_LEN(anchor_cases));
	tcase_add_test(tc, anchor_unloadable_conf);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(dns_suite)
