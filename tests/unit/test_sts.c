/* SPDX-License-Identifier: MIT */
/* Unit tests for sts/: TXT record, record selection, policy parser and mx matching (hostile
 * input first), and every case of vectors/sts/cases.txt. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "sts/sts_mx.h"
#include "sts/sts_policy.h"
#include "sts/sts_problem.h"
#include "sts/sts_txt.h"
#include "test_main.h"

#ifndef VECTORS_DIR
#error "VECTORS_DIR must name the vectors/ folder"
#endif

#define NOLEN ((size_t)-1) /* use strlen() */

static size_t len_of(const char *s, size_t len)
{
	return len == NOLEN ? strlen(s) : len;
}

/* ---- TXT records: hostile and malformed first ---- */

static const struct txt_case {
	const char *in;
	size_t len;
	int rc;
	const char *id;     /* expected id when rc == MXTLS_OK */
	uint32_t column;    /* expected column of the first error */
	const char *reason; /* substring of the first error, or of the first warning when valid */
	size_t warnings;
} txt_cases[] = {
	{"v=STSv1; id=a\0b", 15, MXTLS_E_SYNTAX, NULL, 14, "NUL byte", 0},
	{"\0v=STSv1; id=a", 14, MXTLS_E_SYNTAX, NULL, 1, "NUL byte", 0},
	{"v=STSv1; id=\xff", NOLEN, MXTLS_E_SYNTAX, NULL, 13, "not US-ASCII", 0},
	{"v=STSv1; id=a; x=\x80", NOLEN, MXTLS_E_SYNTAX, NULL, 18, "not US-ASCII", 0},
	{"v=STSv1; id=a\r\n", NOLEN, MXTLS_E_SYNTAX, NULL, 14, "letters and digits only", 0},
	{"v=STSv1; id=a\x7f", NOLEN, MXTLS_E_SYNTAX, NULL, 14, "letters and digits only", 0},
	{"", 0, MXTLS_E_SYNTAX, NULL, 0, "empty", 0},
	{";", NOLEN, MXTLS_E_SYNTAX, NULL, 1, "does not begin with v=STSv1", 0},
	{"v=STSv", NOLEN, MXTLS_E_SYNTAX, NULL, 1, "exactly v=STSv1", 0},
	{"v=STSv1", NOLEN, MXTLS_E_SYNTAX, NULL, 8, "followed by ';'", 0},
	{"v=STSv1 id=a", NOLEN, MXTLS_E_SYNTAX, NULL, 9, "followed by ';'", 0},
	{"v=STSv1;", NOLEN, MXTLS_E_SYNTAX, NULL, 0, "id field is missing", 0},
	{"v=STSv1; ", NOLEN, MXTLS_E_SYNTAX, NULL, 0, "id field is missing", 0},
	{"v=STSv1;;", NOLEN, MXTLS_E_SYNTAX, NULL, 9, "empty field", 0},
	{"v=STSv1; id=", NOLEN, MXTLS_E_SYNTAX, NULL, 13, "id is empty", 0},
	{"v=STSv1; id=a.b", NOLEN, MXTLS_E_SYNTAX, NULL, 14, "letters and digits only", 0},
	{"v=STSv1; id=a_b", NOLEN, MXTLS_E_SYNTAX, NULL, 14, "letters and digits only", 0},
	{"v=STSv1; id=123456789012345678901234567890123", NOLEN, MXTLS_E_SYNTAX, NULL, 45,
	 "longer than 32", 0},
	{"v=STSv1; id=a; =b", NOLEN, MXTLS_E_SYNTAX, NULL, 16, "start with a letter or digit", 0},
	{"v=STSv1; id=a; b", NOLEN, MXTLS_E_SYNTAX, NULL, 17, "expected '='", 0},
	{"v=STSv1; id=a; b c=d", NOLEN, MXTLS_E_SYNTAX, NULL, 17, "expected '='", 0},
	{"v=STSv1; id=a; b= c", NOLEN, MXTLS_E_SYNTAX, NULL, 18, "empty value", 0},
	{"v=STSv1; id=a; b=c d=e", NOLEN, MXTLS_E_SYNTAX, NULL, 20, "expected ';'", 0},
	{"v=STSv1; id=a; b=c\td", NOLEN, MXTLS_E_SYNTAX, NULL, 20, "expected ';'", 0},
	{"V=STSv1; id=a", NOLEN, MXTLS_E_SYNTAX, NULL, 1, "does not begin with v=STSv1", 0},
	{"v=STSv1; iD=a", NOLEN, MXTLS_E_SYNTAX, NULL, 0, "id field is missing", 0},
	/* Valid ones, with their warnings */
	{"v=STSv1; id=20160831085700Z;", NOLEN, MXTLS_OK, "20160831085700Z", 0, NULL, 0},
	{"v=STSv1;id=Z", NOLEN, MXTLS_OK, "Z", 0, NULL, 0},
	{"v=STSv1;\t id=a \t; \t", NOLEN, MXTLS_OK, "a", 0, NULL, 0},
	{"v=STSv1  \t ;id=a", NOLEN, MXTLS_OK, "a", 0, "decision D4", 1},
	{"v=STSv1; id=a\t", NOLEN, MXTLS_OK, "a", 0, "white space at the end", 1},
	{"v=STSv1; x=1; y=2; id=abc", NOLEN, MXTLS_OK, "abc", 0, "not the first field", 1},
	{"v=STSv1; id=a; id=b; id=c", NOLEN, MXTLS_OK, "a", 0, "second id field", 2},
	{"v=STSv1; id=a; v=x", NOLEN, MXTLS_OK, "a", 0, "second v field", 1},
	{"v=STSv1; id=a; x=!\"#$%&'()*+,-./0123456789:<>?@[\\]^_`{|}~", NOLEN, MXTLS_OK, "a", 0,
	 NULL, 0},
	{"v=STSv1; id=12345678901234567890123456789012", NOLEN, MXTLS_OK,
	 "12345678901234567890123456789012", 0, NULL, 0},
};

START_TEST(txt_parse)
{
	const struct txt_case *c = &txt_cases[_i];
	size_t len = len_of(c->in, c->len);
	struct sts_txt txt;
	memset(&txt, 0xa5, sizeof txt);
	struct sts_report rep;
	int rc = sts_txt_parse(c->in, len, &txt, &rep);
	ck_assert_msg(rc == c->rc, "case %d: rc %d, expected %d (%s)", _i, rc, c->rc,
		      rep.errors.n ? rep.errors.item[0].reason : "-");
	if (rc == MXTLS_OK) {
		ck_assert_str_eq(txt.id, c->id);
		ck_assert_uint_eq(rep.errors.n, 0);
		ck_assert_uint_eq(txt.warnings.n, c->warnings);
		ck_assert_uint_eq(rep.warnings.n, c->warnings);
		if (c->reason != NULL)
			ck_assert_ptr_nonnull(strstr(txt.warnings.item[0].reason, c->reason));
	} else {
		/* all-or-nothing: the output is untouched */
		ck_assert_uint_eq((uint8_t)txt.id[0], 0xa5);
		ck_assert_uint_eq(rep.errors.n, 1);
		ck_assert_uint_eq(rep.errors.item[0].line, 1);
		ck_assert_msg(rep.errors.item[0].column == c->column,
			      "case %d: column %u, expected %u", _i, rep.errors.item[0].column,
			      c->column);
		ck_assert_msg(strstr(rep.errors.item[0].reason, c->reason) != NULL,
			      "case %d: reason '%s' lacks '%s'", _i, rep.errors.item[0].reason,
			      c->reason);
	}
}
END_TEST

START_TEST(txt_limits)
{
	/* Longer than any TXT RRset: refused before it is looked at. */
	static char big[STS_TXT_MAX + 1];
	memset(big, 'a', sizeof big);
	memcpy(big, "v=STSv1; id=a; x=", 17);
	struct sts_txt txt;
	struct sts_report rep;
	ck_assert_int_eq(sts_txt_parse(big, sizeof big, &txt, &rep), MXTLS_E_LIMIT);
	ck_assert_ptr_nonnull(strstr(rep.errors.item[0].reason, "longer than 65535"));
	ck_assert_int_eq(sts_txt_parse(big, sizeof big - 1, &txt, NULL), MXTLS_OK);
	ck_assert_str_eq(txt.id, "a");
	/* NULL input is an empty record; a NULL report is allowed. */
	ck_assert_int_eq(sts_txt_parse(NULL, 5, &txt, &rep), MXTLS_E_SYNTAX);
	ck_assert_ptr_nonnull(strstr(rep.errors.item[0].reason, "empty"));
}
END_TEST

/* ---- RFC 8461 §3.1 record selection ---- */

static const struct select_case {
	const char *rec[4];
	enum sts_txt_choice choice;
	size_t index;
} select_cases[] = {
	{{NULL}, STS_TXT_NONE, 0},
	{{"", "v=STSv1", "v=STSv10;", "v=stsv1;"}, STS_TXT_NONE, 0},
	{{" v=STSv1;", "xv=STSv1;", "v=STSv1 id=a", "v=STS"}, STS_TXT_NONE, 0},
	{{"v=spf1 -all", "v=STSv1; id=a"}, STS_TXT_ONE, 1},
	{{"v=STSv1;", "v=spf1 -all"}, STS_TXT_ONE, 0},  /* a candidate, even though invalid */
	{{"v=STSv1 \t;id=a", "other"}, STS_TXT_ONE, 0}, /* D4 */
	{{"v=STSv1; id=a", "v=STSv1; id=a"}, STS_TXT_MANY, 0},
	{{"x", "v=STSv1 ; id=a", "y", "v=STSv1;id=b"}, STS_TXT_MANY, 0},
};

START_TEST(txt_select)
{
	const struct select_case *c = &select_cases[_i];
	struct sts_txt_span spans[4];
	size_t n = 0;
	while (n < 4 && c->rec[n] != NULL) {
		spans[n] = (struct sts_txt_span){c->rec[n], strlen(c->rec[n])};
		n++;
	}
	size_t index = 99;
	ck_assert_int_eq(sts_txt_select(spans, n, &index), c->choice);
	ck_assert_uint_eq(index, c->choice == STS_TXT_ONE ? c->index : 99);
	ck_assert_int_eq(sts_txt_select(spans, n, NULL), c->choice);
}
END_TEST

START_TEST(txt_owner)
{
	char buf[300];
	ck_assert_int_eq(sts_txt_owner("example.com", 11, buf, sizeof buf), MXTLS_OK);
	ck_assert_str_eq(buf, "_mta-sts.example.com");
	ck_assert_int_eq(sts_txt_owner("Example.COM.", 12, buf, sizeof buf), MXTLS_OK);
	ck_assert_str_eq(buf, "_mta-sts.Example.COM");
	ck_assert_int_eq(sts_txt_owner("example.com..", 13, buf, sizeof buf), MXTLS_E_SYNTAX);
	ck_assert_int_eq(sts_txt_owner("ex ample.com", 12, buf, sizeof buf), MXTLS_E_SYNTAX);
	ck_assert_int_eq(sts_txt_owner("exa\0mple.com", 12, buf, sizeof buf), MXTLS_E_SYNTAX);
	ck_assert_int_eq(sts_txt_owner("", 0, buf, sizeof buf), MXTLS_E_SYNTAX);
	ck_assert_int_eq(sts_txt_owner(".", 1, buf, sizeof buf), MXTLS_E_SYNTAX);
	ck_assert_int_eq(sts_txt_owner(NULL, 0, buf, sizeof buf), MXTLS_E_SYNTAX);
	ck_assert_int_eq(sts_txt_owner("example.com", 11, buf, 20), MXTLS_E_LIMIT);
	ck_assert_int_eq(sts_txt_owner("example.com", 11, buf, 21), MXTLS_OK);
	/* 245 characters + "_mta-sts." is 254: over the 253-character limit of a name. */
	char name[246];
	for (size_t i = 0; i < 245; i++)
		name[i] = i % 50 == 49 ? '.' : 'a';
	name[245] = '\0';
	ck_assert_int_eq(sts_txt_owner(name, 244, buf, sizeof buf), MXTLS_OK);
	ck_assert_int_eq(sts_txt_owner(name, 245, buf, sizeof buf), MXTLS_E_LIMIT);
}
END_TEST

/* ---- Policies: hostile and malformed first ---- */

static const struct policy_case {
	const char *in;
	size_t len;
	int rc;
	uint32_t line, column; /* of the first error */
	const char *reason;    /* substring of the first error */
	size_t errors, warnings;
} policy_cases[] = {
	{"version: STSv1\nmode: enforce\0\nmx: a.b\nmax_age: 1\n", 49, MXTLS_E_SYNTAX, 2, 14,
	 "NUL byte", 1, 0},
	{"\0", 1, MXTLS_E_SYNTAX, 1, 1, "NUL byte", 1, 0},
	{"\r", NOLEN, MXTLS_E_SYNTAX, 1, 1, "bare CR", 1, 0},
	{"\r\r\n", NOLEN, MXTLS_E_SYNTAX, 1, 1, "bare CR", 1, 0},
	/* A run of empty lines is one error; with nothing else, the three fields are missing. */
	{"\n\n\n", NOLEN, MXTLS_E_SYNTAX, 1, 0, "empty line", 4, 0},
	{"\xff\xfe", NOLEN, MXTLS_E_SYNTAX, 1, 1, "must start with a field name", 4, 0},
	{"\xef\xbb\xbfversion: STSv1", NOLEN, MXTLS_E_SYNTAX, 1, 1, "byte order mark", 4, 0},
	{":", NOLEN, MXTLS_E_SYNTAX, 1, 1, "must start with a field name", 4, 0},
	{"a:", NOLEN, MXTLS_E_SYNTAX, 1, 3, "no value", 4, 0},
	{"", 0, MXTLS_E_SYNTAX, 1, 0, "empty", 1, 0},
	/* The grammar, line by line */
	{"version: STSv1\nmode: none\nmax_age: 1", NOLEN, MXTLS_OK, 0, 0, NULL, 0, 0},
	{"version:STSv1\r\nmode:none\r\nmax_age:1\r\n", NOLEN, MXTLS_OK, 0, 0, NULL, 0, 0},
	/* Empty lines after the last field: a warning, not a policy lost (that would fail open). */
	{"version: STSv1\nmode: none\nmax_age: 1\n\n", NOLEN, MXTLS_OK, 0, 0, NULL, 0, 1},
	{"version: STSv1\nmode: none\nmax_age: 1\r\n\r\n\n", NOLEN, MXTLS_OK, 0, 0, NULL, 0, 1},
	{"version: STSv1\nmode: none\n\nmax_age: 1\n", NOLEN, MXTLS_E_SYNTAX, 3, 0, "empty line",
	 1, 0},
	{"version: STSv1\nmode: none\nmax_age: 1\n\r", NOLEN, MXTLS_E_SYNTAX, 4, 1, "bare CR", 1,
	 0},
	{"version: STSv1\nmode : none\nmax_age: 1", NOLEN, MXTLS_E_SYNTAX, 2, 5,
	 "white space before", 1, 0},
	{"version: STSv1\nmode\t: none\nmax_age: 1", NOLEN, MXTLS_E_SYNTAX, 2, 5,
	 "white space before", 1, 0},
	{"version: STSv1\nmode none\nmax_age: 1", NOLEN, MXTLS_E_SYNTAX, 2, 5, "expected ':'", 1,
	 0},
	{"version: STSv1\nmode: none \t\nmax_age: 1 ", NOLEN, MXTLS_OK, 0, 0, NULL, 0, 0},
	{"version: STSv1\nmode: none none\nmax_age: 1", NOLEN, MXTLS_E_SYNTAX, 2, 7,
	 "not one of enforce, testing, none", 1, 0},
	{"version: STSv1\nmode: none\nmax_age: 1\nmode: enforce\n", NOLEN, MXTLS_OK, 0, 0, NULL, 0,
	 1},
	{"version: STSv1\nmode: none\nmax_age: 1\nmode: bogus\n", NOLEN, MXTLS_E_SYNTAX, 4, 7,
	 "not one of enforce, testing, none", 1, 0},
	{"version: STSv1\nmode: enforce\nmax_age: 1\nmx: a.example\nmx: b.example\nmx: A.EXAMPLE\n",
	 NOLEN, MXTLS_OK, 0, 0, NULL, 0, 1},
	{"version: STSv1\nmode: enforce\nmax_age: 1\nmx: a.example\nmx: *.a.example\n", NOLEN,
	 MXTLS_OK, 0, 0, NULL, 0, 0},
	{"version: STSv1\nmode: enforce\nmax_age: 1\nmx: \n", NOLEN, MXTLS_E_SYNTAX, 4, 5,
	 "no value", 1, 0},
	{"version: STSv1\nmode: enforce\nmax_age: 1\nmx: a,b\n", NOLEN, MXTLS_E_SYNTAX, 4, 6,
	 "one mx pattern per mx line", 1, 0},
	{"version: STSv1\nmode: enforce\nmax_age: 1\nmx: a.b\tc\n", NOLEN, MXTLS_E_SYNTAX, 4, 8,
	 "not a domain name", 1, 0},
	{"version: STSv1\nmode: enforce\nmax_age: 1\nmx: *.\n", NOLEN, MXTLS_E_SYNTAX, 4, 5,
	 "lacks its domain", 1, 0},
	{"version: STSv1\nmode: enforce\nmax_age: 1\nmx: a.b..\n", NOLEN, MXTLS_E_SYNTAX, 4, 9,
	 "empty label", 1, 0},
	{"version: STSv1\nmode: enforce\nmax_age: 1\nmx: .a\n", NOLEN, MXTLS_E_SYNTAX, 4, 5,
	 "empty label", 1, 0},
	{"version: STSv1\nmode: enforce\nmax_age: 1\nmx: a-.b\n", NOLEN, MXTLS_E_SYNTAX, 4, 5,
	 "starts or ends with '-'", 1, 0},
	{"version: STSv1\nmode: none\nmax_age: 00000000000\n", NOLEN, MXTLS_E_SYNTAX, 3, 10,
	 "more than 10 digits", 1, 0},
	{"version: STSv1\nmode: none\nmax_age: 4294967296\n", NOLEN, MXTLS_OK, 0, 0, NULL, 0, 1},
	{"version: STSv1\nmode: none\nmax_age: 1\nmax_age: x\n", NOLEN, MXTLS_E_SYNTAX, 4, 10,
	 "decimal digits", 1, 0},
	{"version: STSv1\nmode: none\nmax_age: 1\nx: a  b\ny: \xe2\x82\xac\nz: \xf4\x8f\xbf\xbf\n",
	 NOLEN, MXTLS_OK, 0, 0, NULL, 0, 3},
	{"version: STSv1\nmode: none\nmax_age: 1\nz: \xf4\x90\x80\x80\n", NOLEN, MXTLS_E_SYNTAX, 4,
	 4, "not valid UTF-8", 1, 0},
	{"version: STSv1\nmode: none\nmax_age: 1\nz: \xe2\x82\n", NOLEN, MXTLS_E_SYNTAX, 4, 4,
	 "not valid UTF-8", 1, 0},
	{"version: STSv1\nmode: none\nmax_age: 1\nz: a\x1b[0m\n", NOLEN, MXTLS_E_SYNTAX, 4, 5,
	 "control character", 1, 0},
	/* Every line wrong: the report keeps STS_PROBLEMS_MAX errors and counts the rest. */
	{"#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n#"
	 "\n#\n#"
	 "\n#\n#\n",
	 NOLEN, MXTLS_E_SYNTAX, 1, 1, "comment lines", STS_PROBLEMS_MAX + 5, 0},
};

START_TEST(policy_parse)
{
	const struct policy_case *c = &policy_cases[_i];
	size_t len = len_of(c->in, c->len);
	struct sts_policy pol;
	memset(&pol, 0xa5, sizeof pol);
	struct sts_report rep;
	int rc = sts_policy_parse(c->in, len, &pol, &rep);
	ck_assert_msg(rc == c->rc, "case %d: rc %d, expected %d (%s)", _i, rc, c->rc,
		      rep.errors.n ? rep.errors.item[0].reason : "-");
	ck_assert_msg(rep.errors.n + rep.errors.dropped == c->errors, "case %d: %zu errors", _i,
		      rep.errors.n + rep.errors.dropped);
	ck_assert_msg(rep.warnings.n == c->warnings, "case %d: %zu warnings", _i, rep.warnings.n);
	if (rc == MXTLS_OK) {
		ck_assert_str_eq(pol.version, "STSv1");
		ck_assert_uint_eq(pol.warnings.n, c->warnings);
		ck_assert(pol.max_age <= STS_POLICY_MAX_AGE_MAX);
		sts_policy_clear(&pol);
		ck_assert_ptr_null(pol.mx);
		return;
	}
	ck_assert_uint_eq(((const uint8_t *)&pol)[0], 0xa5); /* untouched */
	const struct sts_problem *e = &rep.errors.item[0];
	ck_assert_msg(e->line == c->line && e->column == c->column,
		      "case %d: error at %u:%u, expected %u:%u (%s)", _i, e->line, e->column,
		      c->line, c->column, e->reason);
	ck_assert_msg(strstr(e->reason, c->reason) != NULL, "case %d: '%s' lacks '%s'", _i,
		      e->reason, c->reason);
	for (size_t i = 0; i < rep.errors.n; i++)
		ck_assert(rep.errors.item[i].line >= 1);
}
END_TEST

/* A valid base policy padded with one extension line to exactly size bytes (vectors README). */
static char *synth(size_t size, size_t *len)
{
	static const char base[] = "version: STSv1\nmode: enforce\nmx: mail.example.com\n"
				   "max_age: 86400\n";
	size_t b = sizeof base - 1;
	char *p = malloc(size);
	if (p == NULL || size < b + 5)
		abort();
	memcpy(p, base, b);
	memcpy(p + b, "x: ", 3);
	memset(p + b + 3, 'a', size - b - 4);
	p[size - 1] = '\n';
	*len = size;
	return p;
}

/* A policy with count distinct mx lines mx0.example.com, mx1.example.com, ... */
static char *synthmx(size_t count, size_t *len)
{
	static const char base[] = "version: STSv1\nmode: enforce\nmax_age: 86400\n";
	size_t cap = sizeof base + count * 32;
	char *p = malloc(cap);
	if (p == NULL)
		abort();
	size_t n = (size_t)snprintf(p, cap, "%s", base);
	for (size_t i = 0; i < count; i++)
		n += (size_t)snprintf(p + n, cap - n, "mx: mx%zu.example.com\n", i);
	*len = n;
	return p;
}

START_TEST(policy_limits)
{
	size_t len;
	struct sts_policy pol;
	struct sts_report rep;
	/* Over the size cap: an error naming the line where the cap is crossed, no truncation. */
	char *p = synth(STS_POLICY_MAX + 1, &len);
	ck_assert_int_eq(sts_policy_parse(p, len, &pol, &rep), MXTLS_E_LIMIT);
	ck_assert_uint_eq(rep.errors.n, 1);
	ck_assert_uint_eq(rep.errors.item[0].line, 5);
	ck_assert_int_eq(sts_policy_parse(p, len - 1, &pol, NULL), MXTLS_OK);
	sts_policy_clear(&pol);
	free(p);
	/* A single line as long as the cap. */
	p = malloc(STS_POLICY_MAX);
	ck_assert_ptr_nonnull(p);
	memset(p, 'a', STS_POLICY_MAX);
	ck_assert_int_eq(sts_policy_parse(p, STS_POLICY_MAX, &pol, &rep), MXTLS_E_SYNTAX);
	ck_assert_ptr_nonnull(strstr(rep.errors.item[0].reason, "longer than 32"));
	p[0] = 'x';
	p[1] = ':';
	p[2] = ' ';
	ck_assert_int_eq(sts_policy_parse(p, STS_POLICY_MAX, &pol, &rep), MXTLS_E_SYNTAX);
	ck_assert_uint_eq(rep.warnings.n, 1); /* unknown field, then version etc. missing */
	memset(p, 0, STS_POLICY_MAX);
	ck_assert_int_eq(sts_policy_parse(p, STS_POLICY_MAX, &pol, &rep), MXTLS_E_SYNTAX);
	ck_assert_ptr_nonnull(strstr(rep.errors.item[0].reason, "NUL byte"));
	free(p);
	/* Issue 14: no mx count cap of its own.  The most "mx: mxN.example.com" lines that fit
	 * 65536 bytes (2895, 65519 bytes) are all kept; one more crosses the body cap. */
	p = synthmx(2895, &len);
	ck_assert_uint_eq(len, 65519);
	ck_assert_int_eq(sts_policy_parse(p, len, &pol, &rep), MXTLS_OK);
	ck_assert_uint_eq(pol.nmx, 2895);
	ck_assert_str_eq(pol.mx[2894], "mx2894.example.com");
	ck_assert_uint_eq(rep.warnings.n, 0);
	sts_policy_clear(&pol);
	free(p);
	p = synthmx(2896, &len);
	ck_assert_int_eq(sts_policy_parse(p, len, &pol, &rep), MXTLS_E_LIMIT);
	ck_assert_uint_eq(rep.errors.n, 1);
	ck_assert_uint_eq(rep.errors.item[0].line, 3 + 2896);
	free(p);
	/* The shortest distinct patterns (1-3 characters, "mx:a"), as many as 65536 bytes hold:
	 * every one is kept, none is a duplicate. */
	p = malloc(STS_POLICY_MAX);
	ck_assert_ptr_nonnull(p);
	static const char head[] = "version: STSv1\nmode: enforce\nmax_age: 86400\n";
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	len = sizeof head - 1;
	memcpy(p, head, len);
	size_t count = 0;
	for (size_t l = 1; l <= 3; l++) {
		for (size_t k = 0; k < 36 * 36 * 36; k++) {
			if (l < 3 && k >= (l == 1 ? 36u : 36u * 36u))
				break;
			char name[4] = {alnum[k % 36], alnum[(k / 36) % 36], alnum[k / 1296], 0};
			name[l] = '\0';
			if (len + 4 + l > STS_POLICY_MAX)
				break;
			len += (size_t)snprintf(p + len, STS_POLICY_MAX - len + 1, "mx:%s\n", name);
			count++;
		}
	}
	ck_assert_uint_gt(count, 9000);
	ck_assert_int_eq(sts_policy_parse(p, len, &pol, &rep), MXTLS_OK);
	ck_assert_uint_eq(pol.nmx, count);
	ck_assert_uint_le(pol.nmx, STS_POLICY_MX_MAX);
	sts_policy_clear(&pol);
	/* 13107 identical shortest lines: one pattern, the rest duplicates (warnings, not errors;
	 * the warning list keeps 32 and counts the rest). */
	len = sizeof head - 1;
	while (len + 5 <= STS_POLICY_MAX) {
		memcpy(p + len, "mx:a\n", 5);
		len += 5;
	}
	ck_assert_int_eq(sts_policy_parse(p, len, &pol, &rep), MXTLS_OK);
	ck_assert_uint_eq(pol.nmx, 1);
	ck_assert_uint_eq(rep.warnings.n + rep.warnings.dropped, (len - (sizeof head - 1)) / 5 - 1);
	sts_policy_clear(&pol);
	free(p);
	/* NULL input is empty; clear(NULL) is a no-op. */
	ck_assert_int_eq(sts_policy_parse(NULL, 10, &pol, &rep), MXTLS_E_SYNTAX);
	sts_policy_clear(NULL);
	ck_assert_str_eq(sts_policy_mode_name(STS_MODE_TESTING), "testing");
	ck_assert_ptr_null(sts_policy_mode_name((enum sts_mode)0));
}
END_TEST

/* ---- mx patterns (RFC 8461 §4.1) ---- */

static const struct mx_case {
	const char *pattern;
	size_t plen;
	const char *host;
	size_t hlen;
	bool match;
} mx_cases[] = {
	{"mail.example.com\0.evil", 22, "mail.example.com", NOLEN, false},
	{"mail.example.com", NOLEN, "mail.example.com\0.evil", 22, false},
	{"*.example.com", NOLEN, "a\0.example.com", 14, false},
	{NULL, 0, "mail.example.com", NOLEN, false},
	{"mail.example.com", NOLEN, NULL, 0, false},
	{"", NOLEN, "", NOLEN, false},
	{".", NOLEN, ".", NOLEN, false},
	{"..", NOLEN, "..", NOLEN, false},
	{"*.", NOLEN, "a.", NOLEN, false},
	{"*..", NOLEN, "a..", NOLEN, false},
	{"example.com..", NOLEN, "example.com", NOLEN, false},
	{"example.com", NOLEN, "example.com..", NOLEN, false},
	{"*.example.com", NOLEN, "*.example.com", NOLEN, false},
	{"**.example.com", NOLEN, "a.example.com", NOLEN, false},
	{"*example.com", NOLEN, "aexample.com", NOLEN, false},
	{"*.example.com", NOLEN, "example.com", NOLEN, false},
	{"*.example.com", NOLEN, "a.b.example.com", NOLEN, false},
	{"*.example.com", NOLEN, ".example.com", NOLEN, false},
	{"*.example.com", NOLEN, "mailexample.com", NOLEN, false},
	{"mail.example.com", NOLEN, "mx.mail.example.com", NOLEN, false},
	{"mail.example.com", NOLEN, "ail.example.com", NOLEN, false},
	{"*.example.com", NOLEN, "mail.example.com", NOLEN, true},
	{"*.example.com", NOLEN, "MAIL.EXAMPLE.COM.", NOLEN, true},
	{"*.EXAMPLE.com.", NOLEN, "mail.example.com", NOLEN, true},
	{"mail.example.com", NOLEN, "Mail.Example.Com", NOLEN, true},
	{"mail.example.com.", NOLEN, "mail.example.com.", NOLEN, true},
	{"*.com", NOLEN, "example.com", NOLEN, true},
};

START_TEST(mx_match)
{
	const struct mx_case *c = &mx_cases[_i];
	size_t plen = c->pattern ? len_of(c->pattern, c->plen) : 0;
	size_t hlen = c->host ? len_of(c->host, c->hlen) : 0;
	ck_assert_msg(sts_mx_match(c->pattern, plen, c->host, hlen) == c->match, "case %d", _i);
}
END_TEST

START_TEST(mx_match_policy)
{
	static const char text[] = "version: STSv1\nmode: enforce\nmax_age: 1\nmx: a.example\n"
				   "mx: *.b.example\n";
	struct sts_policy pol;
	ck_assert_int_eq(sts_policy_parse(text, sizeof text - 1, &pol, NULL), MXTLS_OK);
	size_t which = 99;
	ck_assert(sts_mx_match_policy(&pol, "x.b.example", 11, &which));
	ck_assert_uint_eq(which, 1);
	ck_assert(sts_mx_match_policy(&pol, "A.EXAMPLE", 9, &which));
	ck_assert_uint_eq(which, 0);
	which = 99;
	ck_assert(!sts_mx_match_policy(&pol, "b.example", 9, &which));
	ck_assert(!sts_mx_match_policy(&pol, "y.x.b.example", 13, &which));
	ck_assert_uint_eq(which, 99);
	ck_assert(sts_mx_match_policy(&pol, "a.example", 9, NULL));
	ck_assert(!sts_mx_match_policy(NULL, "a.example", 9, NULL));
	sts_policy_clear(&pol);
}
END_TEST

/* ---- vectors/sts/cases.txt ---- */

#define VEC_TXT_MAX 8
#define VEC_MX_MAX  8

enum vec_kind { VEC_NONE, VEC_POLICY, VEC_SYNTH, VEC_SYNTHMX, VEC_TXT, VEC_MX };

struct vector {
	char name[96];
	enum vec_kind kind;
	char file[128];
	size_t size;
	char *txt[VEC_TXT_MAX];
	size_t txtlen[VEC_TXT_MAX];
	size_t ntxt;
	char *pattern, *host;
	size_t plen, hlen;
	char expect[16];
	char mode[16];
	long max_age;
	char *mx[VEC_MX_MAX];
	size_t nmx;
	bool check_mx;
	char id[40];
	long err_line, err_col;
	char err[160];
	long errors, warnings;
};

static struct vector *vectors;
static size_t nvectors;

/* Decodes the cases.txt escapes \t, \\ and \xHH into a new buffer. */
static char *unescape(const char *s, size_t *len)
{
	char *out = malloc(strlen(s) + 1);
	if (out == NULL)
		exit(99);
	size_t n = 0;
	for (size_t i = 0; s[i] != '\0'; i++) {
		if (s[i] != '\\') {
			out[n++] = s[i];
		} else if (s[i + 1] == 't') {
			out[n++] = '\t';
			i++;
		} else if (s[i + 1] == '\\') {
			out[n++] = '\\';
			i++;
		} else if (s[i + 1] == 'x' && s[i + 2] && s[i + 3]) {
			char hex[3] = {s[i + 2], s[i + 3], '\0'};
			out[n++] = (char)strtoul(hex, NULL, 16);
			i += 3;
		} else {
			fprintf(stderr, "cases.txt: bad escape in '%s'\n", s);
			exit(99);
		}
	}
	out[n] = '\0';
	*len = n;
	return out;
}

static void load_vectors(void)
{
	FILE *f = fopen(VECTORS_DIR "/sts/cases.txt", "r");
	if (f == NULL) {
		perror(VECTORS_DIR "/sts/cases.txt");
		exit(99);
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct vector *cur = NULL;
	while ((n = getline(&line, &cap, f)) >= 0) {
		while (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		char *sp = strchr(line, ' ');
		const char *val = sp ? sp + 1 : "";
		if (sp)
			*sp = '\0';
		if (strcmp(line, "case") == 0) {
			vectors = realloc(vectors, (nvectors + 1) * sizeof *vectors);
			if (vectors == NULL)
				exit(99);
			cur = &vectors[nvectors++];
			memset(cur, 0, sizeof *cur);
			cur->max_age = cur->err_line = cur->err_col = cur->errors = cur->warnings =
				-1;
			snprintf(cur->name, sizeof cur->name, "%s", val);
			continue;
		}
		if (cur == NULL) {
			fprintf(stderr, "cases.txt: '%s' outside a case\n", line);
			exit(99);
		}
		if (strcmp(line, "policy") == 0) {
			cur->kind = VEC_POLICY;
			snprintf(cur->file, sizeof cur->file, "%s", val);
		} else if (strcmp(line, "synth") == 0) {
			cur->kind = VEC_SYNTH;
			cur->size = strtoul(val, NULL, 10);
		} else if (strcmp(line, "synthmx") == 0) {
			cur->kind = VEC_SYNTHMX;
			cur->size = strtoul(val, NULL, 10);
		} else if (strcmp(line, "txt") == 0) {
			if (cur->ntxt == VEC_TXT_MAX)
				exit(99);
			cur->kind = VEC_TXT;
			cur->txt[cur->ntxt] = unescape(val, &cur->txtlen[cur->ntxt]);
			cur->ntxt++;
		} else if (strcmp(line, "pattern") == 0) {
			cur->kind = VEC_MX;
			cur->pattern = unescape(val, &cur->plen);
		} else if (strcmp(line, "host") == 0) {
			cur->host = unescape(val, &cur->hlen);
		} else if (strcmp(line, "expect") == 0) {
			snprintf(cur->expect, sizeof cur->expect, "%s", val);
		} else if (strcmp(line, "mode") == 0) {
			snprintf(cur->mode, sizeof cur->mode, "%s", val);
		} else if (strcmp(line, "max_age") == 0) {
			cur->max_age = strtol(val, NULL, 10);
		} else if (strcmp(line, "mx") == 0) {
			if (cur->nmx == VEC_MX_MAX || (cur->mx[cur->nmx] = strdup(val)) == NULL)
				exit(99);
			cur->nmx++;
			cur->check_mx = true;
		} else if (strcmp(line, "id") == 0) {
			snprintf(cur->id, sizeof cur->id, "%s", val);
		} else if (strcmp(line, "error") == 0) {
			char *end;
			cur->err_line = strtol(val, &end, 10);
			cur->err_col = strtol(end + 1, &end, 10);
			snprintf(cur->err, sizeof cur->err, "%s", *end ? end + 1 : "");
		} else if (strcmp(line, "errors") == 0) {
			cur->errors = strtol(val, NULL, 10);
		} else if (strcmp(line, "warnings") == 0) {
			cur->warnings = strtol(val, NULL, 10);
		} else if (strcmp(line, "source") == 0 || strcmp(line, "note") == 0 ||
			   strcmp(line, "end") == 0) {
			/* provenance / terminator */
		} else {
			fprintf(stderr, "cases.txt: unknown key '%s'\n", line);
			exit(99);
		}
	}
	free(line);
	fclose(f);
	for (size_t i = 0; i < nvectors; i++) {
		if (vectors[i].kind == VEC_NONE || vectors[i].expect[0] == '\0') {
			fprintf(stderr, "cases.txt: case %s is incomplete\n", vectors[i].name);
			exit(99);
		}
	}
}

static char *read_vector_file(const char *rel, size_t *len)
{
	char path[512];
	snprintf(path, sizeof path, VECTORS_DIR "/sts/%s", rel);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	char *buf = malloc(STS_POLICY_MAX + 2);
	ck_assert_ptr_nonnull(buf);
	*len = fread(buf, 1, STS_POLICY_MAX + 2, f);
	fclose(f);
	return buf;
}

static void check_report(const struct vector *v, const struct sts_report *rep)
{
	if (v->warnings >= 0)
		ck_assert_msg(rep->warnings.n == (size_t)v->warnings,
			      "%s: %zu warnings, expected %ld", v->name, rep->warnings.n,
			      v->warnings);
	if (v->errors >= 0)
		ck_assert_msg(rep->errors.n + rep->errors.dropped == (size_t)v->errors,
			      "%s: %zu errors, expected %ld", v->name, rep->errors.n, v->errors);
	if (v->err_line >= 0) {
		ck_assert_msg(rep->errors.n > 0, "%s: no error", v->name);
		const struct sts_problem *e = &rep->errors.item[0];
		ck_assert_msg(e->line == (uint32_t)v->err_line &&
				      e->column == (uint32_t)v->err_col &&
				      strncmp(e->reason, v->err, strlen(v->err)) == 0,
			      "%s: first error %u:%u %s, expected %ld:%ld %s", v->name, e->line,
			      e->column, e->reason, v->err_line, v->err_col, v->err);
	}
}

static void run_policy_vector(const struct vector *v)
{
	size_t len;
	char *buf = v->kind == VEC_POLICY  ? read_vector_file(v->file, &len)
		    : v->kind == VEC_SYNTH ? synth(v->size, &len)
					   : synthmx(v->size, &len);
	struct sts_policy pol;
	struct sts_report rep;
	int rc = sts_policy_parse(buf, len, &pol, &rep);
	free(buf);
	bool valid = strcmp(v->expect, "valid") == 0;
	ck_assert_msg((rc == MXTLS_OK) == valid, "%s: rc %d (%s)", v->name, rc,
		      rep.errors.n ? rep.errors.item[0].reason : "-");
	check_report(v, &rep);
	if (rc != MXTLS_OK)
		return;
	ck_assert_str_eq(sts_policy_mode_name(pol.mode), v->mode);
	ck_assert_int_eq(pol.max_age, v->max_age);
	if (v->check_mx) {
		ck_assert_msg(pol.nmx == v->nmx, "%s: %zu mx", v->name, pol.nmx);
		for (size_t i = 0; i < v->nmx; i++)
			ck_assert_str_eq(pol.mx[i], v->mx[i]);
	} else if (v->kind == VEC_SYNTHMX) {
		ck_assert_uint_eq(pol.nmx, v->size);
	}
	sts_policy_clear(&pol);
}

/* A TXT RRset: selection, then the parser on the chosen record. */
static void run_txt_vector(const struct vector *v)
{
	struct sts_txt_span spans[VEC_TXT_MAX];
	for (size_t i = 0; i < v->ntxt; i++)
		spans[i] = (struct sts_txt_span){v->txt[i], v->txtlen[i]};
	size_t which = 0;
	enum sts_txt_choice choice = sts_txt_select(spans, v->ntxt, &which);
	bool valid = strcmp(v->expect, "valid") == 0;
	if (v->ntxt > 1 && choice != STS_TXT_ONE) {
		/* The wording of "none" / "more than one" is the lint's (checked by the CLI test);
		 * here the selection itself is what counts. */
		ck_assert_msg(!valid, "%s: selection gave %d", v->name, choice);
		ck_assert_int_eq(v->err_line, 0);
		ck_assert(strstr(v->err, choice == STS_TXT_MANY ? "more than one" : "no record"));
		return;
	}
	struct sts_txt txt;
	struct sts_report rep;
	int rc = sts_txt_parse(spans[which].p, spans[which].len, &txt, &rep);
	ck_assert_msg((rc == MXTLS_OK) == valid, "%s: rc %d (%s)", v->name, rc,
		      rep.errors.n ? rep.errors.item[0].reason : "-");
	if (v->ntxt == 1) {
		check_report(v, &rep);
	} else if (v->err_line >= 1) { /* the lint numbers problems by record */
		ck_assert_uint_eq(which + 1, (size_t)v->err_line);
		ck_assert_uint_eq(rep.errors.item[0].column, (uint32_t)v->err_col);
	}
	if (rc == MXTLS_OK)
		ck_assert_str_eq(txt.id, v->id);
}

START_TEST(vector_case)
{
	const struct vector *v = &vectors[_i];
	switch (v->kind) {
	case VEC_POLICY:
	case VEC_SYNTH:
	case VEC_SYNTHMX:
		run_policy_vector(v);
		break;
	case VEC_TXT:
		run_txt_vector(v);
		break;
	case VEC_MX:
		ck_assert_msg(sts_mx_match(v->pattern, v->plen, v->host ? v->host : "", v->hlen) ==
				      (strcmp(v->expect, "match") == 0),
			      "%s: wrong match verdict", v->name);
		break;
	case VEC_NONE:
		ck_abort_msg("%s: no input", v->name);
	}
}
END_TEST

static Suite *sts_suite(void)
{
	load_vectors();
	Suite *s = suite_create("sts");
	TCase *tc = tcase_create("txt");
	tcase_add_loop_test(tc, txt_parse, 0, ARRAY_LEN(txt_cases));
	tcase_add_test(tc, txt_limits);
	tcase_add_loop_test(tc, txt_select, 0, ARRAY_LEN(select_cases));
	tcase_add_test(tc, txt_owner);
	suite_add_tcase(s, tc);
	tc = tcase_create("policy");
	tcase_add_loop_test(tc, policy_parse, 0, ARRAY_LEN(policy_cases));
	tcase_add_test(tc, policy_limits);
	suite_add_tcase(s, tc);
	tc = tcase_create("mx");
	tcase_add_loop_test(tc, mx_match, 0, ARRAY_LEN(mx_cases));
	tcase_add_test(tc, mx_match_policy);
	suite_add_tcase(s, tc);
	tc = tcase_create("vectors");
	tcase_add_loop_test(tc, vector_case, 0, (int)nvectors);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(sts_suite)
