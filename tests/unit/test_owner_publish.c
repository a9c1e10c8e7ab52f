/* SPDX-License-Identifier: MIT */
/* Unit tests for owner/owner_publish_text.c (mxtls publish, pure): the policy file parses
 * back with the sender's parser, the id changes iff the text changes, exact record lines, and
 * every _smtp._tls record built parses with tlsrpt/'s parser.  Hostile input first. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "owner/owner_publish_text.h"
#include "sts/sts_policy.h"
#include "sts/sts_txt.h"
#include "test_main.h"
#include "tlsrpt/tlsrpt_rua.h"

#define T0 1796000000 /* 2026-11-30T00:53:20Z */

/* ---- the policy file ---- */

static const struct policy_case {
	enum sts_mode mode;
	const char *mx[4]; /* NULL-terminated */
	int rc;
	const char *text; /* exact, when rc == MXTLS_OK */
} policy_cases[] = {
	/* hostile: a name that would inject a line, wildcards, bad names, bad modes */
	{STS_MODE_TESTING, {"mx.example.test\r\nmode: enforce"}, MXTLS_E_SYNTAX, NULL},
	{STS_MODE_TESTING, {"mx.example.test\nmx: evil.test"}, MXTLS_E_SYNTAX, NULL},
	{STS_MODE_TESTING, {"*.example.test"}, MXTLS_E_SYNTAX, NULL},
	{STS_MODE_TESTING, {"mx..example.test"}, MXTLS_E_SYNTAX, NULL},
	{STS_MODE_TESTING, {""}, MXTLS_E_SYNTAX, NULL},
	{STS_MODE_TESTING, {"mx example.test"}, MXTLS_E_SYNTAX, NULL},
	{STS_MODE_TESTING, {"ok.example.test", "-bad.example.test"}, MXTLS_E_SYNTAX, NULL},
	{STS_MODE_NONE, {"mx.example.test"}, MXTLS_E_INVAL, NULL},
	{(enum sts_mode)0, {"mx.example.test"}, MXTLS_E_INVAL, NULL},
	{STS_MODE_TESTING, {NULL}, MXTLS_E_INVAL, NULL},
	/* valid */
	{STS_MODE_TESTING,
	 {"mx.example.test"},
	 MXTLS_OK,
	 "version: STSv1\r\nmode: testing\r\nmx: mx.example.test\r\nmax_age: 604800\r\n"},
	{STS_MODE_ENFORCE,
	 {"MX1.Example.TEST.", "mx2.example.test", "mx1.example.test"},
	 MXTLS_OK,
	 "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.test\r\nmx: mx2.example.test\r\n"
	 "max_age: 1209600\r\n"},
	{STS_MODE_TESTING,
	 {"b.example.test", "a.other.test"},
	 MXTLS_OK,
	 "version: STSv1\r\nmode: testing\r\nmx: b.example.test\r\nmx: a.other.test\r\n"
	 "max_age: 604800\r\n"},
};

START_TEST(policy_text)
{
	const struct policy_case *c = &policy_cases[_i];
	size_t n = 0;
	while (n < 4 && c->mx[n] != NULL)
		n++;
	char *text = NULL;
	int rc = owner_policy_text(c->mode, c->mx, n, &text);
	ck_assert_int_eq(rc, c->rc);
	if (rc != MXTLS_OK) {
		ck_assert_ptr_null(text);
		return;
	}
	ck_assert_str_eq(text, c->text);
	/* Round trip through the sender's parser: valid, no warning, the same mode and hosts. */
	struct sts_policy pol;
	struct sts_report rep;
	ck_assert_int_eq(sts_policy_parse(text, strlen(text), &pol, &rep), MXTLS_OK);
	ck_assert_uint_eq(rep.warnings.n, 0);
	ck_assert_int_eq(pol.mode, c->mode);
	ck_assert_uint_eq(pol.max_age, c->mode == STS_MODE_ENFORCE ? OWNER_MAX_AGE_ENFORCE
								   : OWNER_MAX_AGE_TESTING);
	/* every mx line is a name given (canonical), none is a pattern */
	for (size_t k = 0; k < pol.nmx; k++) {
		ck_assert_msg(pol.mx[k][0] != '*', "wildcard %s", pol.mx[k]);
		ck_assert_ptr_nonnull(strstr(c->text, pol.mx[k]));
	}
	sts_policy_clear(&pol);
	free(text);
}
END_TEST

/* ---- the id ---- */

static const struct id_case {
	const char *a, *b; /* two policy texts */
	size_t blen;       /* of b, when it has a NUL (else 0: strlen) */
	int64_t ta, tb;    /* and when their ids are made */
	int same;          /* expected: the ids are equal */
} id_cases[] = {
	{"version: STSv1\r\n", "version: STSv1\n", 0, T0, T0, 0}, /* one byte less */
	{"mx: a.test\r\n", "mx: b.test\r\n", 0, T0, T0, 0},
	{"", "\0", 1, T0, T0, 0},
	{"policy", "policy", 0, T0, T0 + 1, 0}, /* a later second */
	{"policy", "policy", 0, T0, T0, 1},
	{"", "", 0, 0, 0, 1},
};

static int is_alnum_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > STS_TXT_ID_MAX)
		return 0;
	for (size_t k = 0; k < n; k++)
		if (!((id[k] >= '0' && id[k] <= '9') || (id[k] >= 'a' && id[k] <= 'z') ||
		      (id[k] >= 'A' && id[k] <= 'Z')))
			return 0;
	return 1;
}

START_TEST(policy_id)
{
	const struct id_case *c = &id_cases[_i];
	char a[OWNER_ID_LEN + 1], b[OWNER_ID_LEN + 1];
	owner_policy_id(c->a, strlen(c->a), c->ta, a);
	owner_policy_id(c->b, c->blen != 0 ? c->blen : strlen(c->b), c->tb, b);
	ck_assert_uint_eq(strlen(a), OWNER_ID_LEN);
	ck_assert_msg(is_alnum_id(a) && is_alnum_id(b), "ids %s %s", a, b);
	ck_assert_int_eq(strcmp(a, b) == 0, c->same);
	/* RFC 8461 §3.1: the record carrying it is what senders accept. */
	char *txt = NULL;
	ck_assert_int_eq(owner_sts_txt(a, &txt), MXTLS_OK);
	struct sts_txt parsed;
	struct sts_report rep;
	ck_assert_int_eq(sts_txt_parse(txt, strlen(txt), &parsed, &rep), MXTLS_OK);
	ck_assert_str_eq(parsed.id, a);
	free(txt);
}
END_TEST

START_TEST(policy_id_time)
{
	char id[OWNER_ID_LEN + 1];
	owner_policy_id("x", 1, T0, id);
	ck_assert_int_eq(strncmp(id, "20261130005320", 14), 0);
}
END_TEST

static const struct choose_case {
	const char *text, *prev, *prev_id;
	int kept;
} choose_cases[] = {
	{"A", "A", "abc-def", 0},                           /* not an id */
	{"A", "A", "123456789012345678901234567890123", 0}, /* 33 characters */
	{"A", "A", "", 0},
	{"A", "A ", "prev1", 0}, /* text changed */
	{"A", "a", "prev1", 0},
	{"A", NULL, "prev1", 0}, /* no earlier policy */
	{"A", "A", NULL, 0},     /* no earlier id */
	{"A", "A", "prev1", 1},
	{"version: STSv1\r\n", "version: STSv1\r\n", "20260101000000aaaaaaaaaaaaaaaa", 1},
};

START_TEST(policy_id_choose)
{
	const struct choose_case *c = &choose_cases[_i];
	char out[33];
	bool kept =
		owner_policy_id_choose(c->text, strlen(c->text), c->prev,
				       c->prev != NULL ? strlen(c->prev) : 0, c->prev_id, T0, out);
	ck_assert_int_eq(kept, c->kept);
	if (c->kept) {
		ck_assert_str_eq(out, c->prev_id);
	} else {
		char fresh[OWNER_ID_LEN + 1];
		owner_policy_id(c->text, strlen(c->text), T0, fresh);
		ck_assert_str_eq(out, fresh);
	}
}
END_TEST

static const struct prev_case {
	const char *zone;
	const char *id; /* NULL: not found */
} prev_cases[] = {
	{"", NULL},
	{"_mta-sts.example.test. IN TXT \"v=STSv1; id=abc", NULL},     /* no closing quote */
	{"_mta-sts.example.test. IN TXT \"v=STSv1; id=a-b\"\n", NULL}, /* not an id */
	{"_mta-sts.example.test. IN TXT \"v=STSv1; id=\"\n", NULL},
	{"_mta-sts.example.test. IN TXT \"v=STSv1; id=123456789012345678901234567890123\"", NULL},
	{"_mta-sts.other.test. IN TXT \"v=STSv1; id=abc\"\n", NULL},     /* another domain */
	{"; _mta-sts.example.test. IN TXT \"v=STSv1; id=abc\"\n", NULL}, /* a comment */
	{"_mta-sts.sub.example.test. IN TXT \"v=STSv1; id=abc\"\n", NULL},
	{"; x\n_mta-sts.example.test. IN TXT \"v=STSv1; id=abc1\"\n", "abc1"},
	{"_mta-sts.example.test. IN TXT \"v=STSv1; id=Z9\"", "Z9"},
};

START_TEST(zone_prev_id)
{
	const struct prev_case *c = &prev_cases[_i];
	char out[33] = "untouched";
	bool found = owner_zone_prev_id(c->zone, strlen(c->zone), "example.test", out);
	ck_assert_int_eq(found, c->id != NULL);
	if (c->id != NULL)
		ck_assert_str_eq(out, c->id);
}
END_TEST

/* ---- _smtp._tls ---- */

static const struct rua_case {
	const char *uri[3];
	int rc;
	const char *record;
} rua_cases[] = {
	{{"http://rpt.example.test/"}, MXTLS_E_SYNTAX, NULL},
	{{"ftp://rpt.example.test/"}, MXTLS_E_SYNTAX, NULL},
	{{"mailto:"}, MXTLS_E_SYNTAX, NULL},
	{{"mailto:a@"}, MXTLS_E_SYNTAX, NULL},
	{{"mailto:@example.test"}, MXTLS_E_SYNTAX, NULL},
	{{"mailto:a,b@example.test"}, MXTLS_E_SYNTAX, NULL},
	{{"mailto:a@example.test!10m"}, MXTLS_E_SYNTAX, NULL},
	{{"mailto:a\"b@example.test"}, MXTLS_E_SYNTAX, NULL},
	{{"mailto:a b@example.test"}, MXTLS_E_SYNTAX, NULL},
	{{"mailto:a;b@example.test"}, MXTLS_E_SYNTAX, NULL},
	{{"mailto:.a@example.test"}, MXTLS_E_SYNTAX, NULL},
	{{"mailto:a@localhost"}, MXTLS_E_SYNTAX, NULL},
	{{"mailto:a%zz@example.test"}, MXTLS_E_SYNTAX, NULL},
	{{"https://"}, MXTLS_E_SYNTAX, NULL},
	{{"https://rpt.example.test/a b"}, MXTLS_E_SYNTAX, NULL},
	{{"https://rpt.example.test/a\\b"}, MXTLS_E_SYNTAX, NULL},
	{{"https://rpt.example.test:0/"}, MXTLS_E_SYNTAX, NULL},
	{{"https://rpt.example.test:70000/"}, MXTLS_E_SYNTAX, NULL},
	{{"https://rpt.example.test:/"}, MXTLS_E_SYNTAX, NULL},
	{{"https://rpt.example.test?x"}, MXTLS_E_SYNTAX, NULL},
	{{"https://user@rpt.example.test/"}, MXTLS_E_SYNTAX, NULL},
	{{"mailto:ok@example.test", "https://rpt.example.test/\x01"}, MXTLS_E_SYNTAX, NULL},
	{{NULL}, MXTLS_E_INVAL, NULL},
	{{"mailto:tlsrpt@example.test"}, MXTLS_OK, "v=TLSRPTv1; rua=mailto:tlsrpt@example.test"},
	{{"https://rpt.example.test:8443/v1/report%2C"},
	 MXTLS_OK,
	 "v=TLSRPTv1; rua=https://rpt.example.test:8443/v1/report%2C"},
	{{"mailto:tls+rpt@Example.TEST", "https://rpt.example.test"},
	 MXTLS_OK,
	 "v=TLSRPTv1; rua=mailto:tls+rpt@Example.TEST,https://rpt.example.test"},
};

START_TEST(tlsrpt_record)
{
	const struct rua_case *c = &rua_cases[_i];
	size_t n = 0;
	while (n < 3 && c->uri[n] != NULL)
		n++;
	char *rec = NULL;
	const char *why = NULL;
	int rc = owner_tlsrpt_txt(c->uri, n, &rec, &why);
	ck_assert_int_eq(rc, c->rc);
	if (rc != MXTLS_OK) {
		ck_assert_ptr_null(rec);
		ck_assert_msg(rc == MXTLS_E_INVAL || why != NULL, "no reason");
		return;
	}
	ck_assert_str_eq(rec, c->record);
	/* What senders do with it (RFC 8460 §3, tlsrpt/): valid, every URI usable. */
	struct tlsrpt_rua r;
	ck_assert_int_eq(tlsrpt_rua_parse(rec, strlen(rec), &r), MXTLS_OK);
	ck_assert_int_eq(r.status, TLSRPT_RUA_OK);
	ck_assert_uint_eq(r.ndest, n);
	ck_assert_uint_eq(r.nskipped, 0);
	tlsrpt_rua_free(&r);
	free(rec);
}
END_TEST

/* ---- zone-file lines ---- */

START_TEST(txt_line)
{
	char *line = NULL;
	ck_assert_int_eq(owner_txt_line("_mta-sts.example.test", "a\"b", &line), MXTLS_E_SYNTAX);
	ck_assert_int_eq(owner_txt_line("_mta-sts.example.test", "a\\b", &line), MXTLS_E_SYNTAX);
	ck_assert_int_eq(owner_txt_line("_mta-sts.example.test", "a\nb", &line), MXTLS_E_SYNTAX);
	ck_assert_int_eq(owner_txt_line("bad name.test", "x", &line), MXTLS_E_SYNTAX);
	ck_assert_ptr_null(line);
	ck_assert_int_eq(owner_txt_line("_mta-sts.example.test", "v=STSv1; id=a1", &line),
			 MXTLS_OK);
	ck_assert_str_eq(line, "_mta-sts.example.test. IN TXT \"v=STSv1; id=a1\"");
	free(line);
	/* RFC 1035 §3.3: character-strings of at most 255 octets */
	char big[301];
	memset(big, 'x', 300);
	big[300] = '\0';
	ck_assert_int_eq(owner_txt_line("_smtp._tls.example.test.", big, &line), MXTLS_OK);
	char want[400];
	snprintf(want, sizeof want, "_smtp._tls.example.test. IN TXT \"%.255s\" \"%.45s\"", big,
		 big);
	ck_assert_str_eq(line, want);
	free(line);
}
END_TEST

START_TEST(tlsa_line)
{
	char *line = NULL;
	ck_assert_int_eq(owner_tlsa_line("mx..test", "3 1 1 ab", &line), MXTLS_E_SYNTAX);
	ck_assert_int_eq(owner_tlsa_line("", "3 1 1 ab", &line), MXTLS_E_SYNTAX);
	ck_assert_int_eq(owner_tlsa_line("mx.test", "3 1 1 ab\n", &line), MXTLS_E_SYNTAX);
	ck_assert_ptr_null(line);
	ck_assert_int_eq(owner_tlsa_line("mx.example.test.", "3 1 1 00ff", &line), MXTLS_OK);
	ck_assert_str_eq(line, "_25._tcp.mx.example.test. IN TLSA 3 1 1 00ff");
	free(line);
}
END_TEST

START_TEST(zone_text)
{
	static const char *const k1[] = {"3 1 1 aa"}, *const k2[] = {"3 1 1 cc", "3 1 1 dd"};
	const struct owner_host hosts[] = {
		{"mx1.example.test", 10, true, k1, 1, "2 1 1 bb"},
		{"mx2.unsigned.test", 20, false, k2, 2, NULL},
	};
	struct owner_publish_view v = {
		.domain = "example.test",
		.mode = STS_MODE_TESTING,
		.id = "20261130013320abcdef",
		.sts_txt = "v=STSv1; id=20261130013320abcdef",
		.tlsrpt_txt = "v=TLSRPTv1; rua=mailto:r@example.test",
		.hosts = hosts,
		.nhosts = 2,
	};
	char *z = NULL;
	ck_assert_int_eq(owner_zone_text(&v, &z), MXTLS_OK);
	/* the records as lines of their own, the unsigned host's TLSA only as a comment */
	const char *lines[] = {
		"\n_mta-sts.example.test. IN TXT \"v=STSv1; id=20261130013320abcdef\"\n",
		"\n_smtp._tls.example.test. IN TXT \"v=TLSRPTv1; rua=mailto:r@example.test\"\n",
		"\n_25._tcp.mx1.example.test. IN TLSA 3 1 1 aa\n",
		"\n; _25._tcp.mx1.example.test. IN TLSA 2 1 1 bb\n",
		"\n; _25._tcp.mx2.unsigned.test. IN TLSA 3 1 1 cc\n"
		"; _25._tcp.mx2.unsigned.test. IN TLSA 3 1 1 dd\n",
	};
	for (size_t k = 0; k < ARRAY_LEN(lines); k++)
		ck_assert_msg(strstr(z, lines[k]) != NULL, "missing %s in\n%s", lines[k], z);
	ck_assert_ptr_null(strstr(z, "\n_25._tcp.mx2"));
	/* every line a comment or a record: a zone file */
	for (const char *l = z; *l != '\0'; l = strchr(l, '\n') + 1)
		ck_assert_msg(l[0] == ';' || l[0] == '_', "not a zone line: %.40s", l);
	/* US-ASCII only: zone files and --json carry it unchanged */
	for (const char *c = z; *c != '\0'; c++)
		ck_assert_msg((unsigned char)*c < 0x80, "not ASCII at %.20s", c);
	/* what --out reads back */
	char id[33];
	ck_assert(owner_zone_prev_id(z, strlen(z), "example.test", id));
	ck_assert_str_eq(id, "20261130013320abcdef");
	free(z);
}
END_TEST

static Suite *owner_suite(void)
{
	Suite *s = suite_create("owner_publish");
	TCase *tc = tcase_create("policy");
	tcase_add_loop_test(tc, policy_text, 0, ARRAY_LEN(policy_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("id");
	tcase_add_loop_test(tc, policy_id, 0, ARRAY_LEN(id_cases));
	tcase_add_test(tc, policy_id_time);
	tcase_add_loop_test(tc, policy_id_choose, 0, ARRAY_LEN(choose_cases));
	tcase_add_loop_test(tc, zone_prev_id, 0, ARRAY_LEN(prev_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("records");
	tcase_add_loop_test(tc, tlsrpt_record, 0, ARRAY_LEN(rua_cases));
	tcase_add_test(tc, txt_line);
	tcase_add_test(tc, tlsa_line);
	tcase_add_test(tc, zone_text);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(owner_suite)
