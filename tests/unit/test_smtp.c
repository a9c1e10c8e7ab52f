/* SPDX-License-Identifier: MIT */
/* Unit tests for smtp/: the reply parser and EHLO keywords, hostile input first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "smtp/smtp_data.h"
#include "smtp/smtp_reply.h"
#include "test_main.h"

static const struct reply_case {
	const char *in;
	size_t len; /* 0: strlen(in) */
	enum smtp_parse rc;
	int code;
	size_t used;        /* for DONE; 0: the whole input */
	size_t nlines;
	const char *text;   /* DONE: the joined text; INVALID: a substring of the reason */
	const char *enhanced;
} cases[] = {
	/* Not a reply. */
	{"hello\r\n", 0, SMTP_PARSE_INVALID, 0, 0, 0, "three-digit", NULL},
	{"25\r\n", 0, SMTP_PARSE_INVALID, 0, 0, 0, "three-digit", NULL},
	{"150 one-xx\r\n", 0, SMTP_PARSE_INVALID, 0, 0, 0, "three-digit", NULL},
	{"650 six\r\n", 0, SMTP_PARSE_INVALID, 0, 0, 0, "three-digit", NULL},
	{"2x0 x\r\n", 0, SMTP_PARSE_INVALID, 0, 0, 0, "three-digit", NULL},
	{"250x\r\n", 0, SMTP_PARSE_INVALID, 0, 0, 0, "neither", NULL},
	{"250-a\r\n251 b\r\n", 0, SMTP_PARSE_INVALID, 0, 0, 0, "different codes", NULL},
	{"250 a\0b\r\n", 9, SMTP_PARSE_INVALID, 0, 0, 0, "control byte", NULL},
	{"250 a\rb\r\n", 0, SMTP_PARSE_INVALID, 0, 0, 0, "control byte", NULL},
	{"250 a\x1b[31m\r\n", 0, SMTP_PARSE_INVALID, 0, 0, 0, "control byte", NULL},
	{"250 \xc3\x28\r\n", 0, SMTP_PARSE_INVALID, 0, 0, 0, "UTF-8", NULL},
	{"250 \xed\xa0\x80\r\n", 0, SMTP_PARSE_INVALID, 0, 0, 0, "UTF-8", NULL}, /* surrogate */
	/* Incomplete: read more. */
	{"", 0, SMTP_PARSE_MORE, 0, 0, 0, NULL, NULL},
	{"250 ok", 0, SMTP_PARSE_MORE, 0, 0, 0, NULL, NULL},
	{"250 ok\r", 0, SMTP_PARSE_MORE, 0, 0, 0, NULL, NULL},
	{"250-first\r\n", 0, SMTP_PARSE_MORE, 0, 0, 0, NULL, NULL},
	{"250-first\r\n250-sec", 0, SMTP_PARSE_MORE, 0, 0, 0, NULL, NULL},
	/* Replies. */
	{"220 mx.example.test ESMTP\r\n", 0, SMTP_PARSE_DONE, 220, 0, 1, "mx.example.test ESMTP",
	 ""},
	{"250\r\n", 0, SMTP_PARSE_DONE, 250, 0, 1, "", ""},
	{"454 4.7.0 TLS not available\n", 0, SMTP_PARSE_DONE, 454, 0, 1,
	 "4.7.0 TLS not available", "4.7.0"},
	{"550 5.1.1\r\n", 0, SMTP_PARSE_DONE, 550, 0, 1, "5.1.1", "5.1.1"},
	{"550 4.1.1 wrong class\r\n", 0, SMTP_PARSE_DONE, 550, 0, 1, "4.1.1 wrong class", ""},
	{"550 5.1234.1 too long\r\n", 0, SMTP_PARSE_DONE, 550, 0, 1, "5.1234.1 too long", ""},
	{"250-a\r\n250-\r\n250 c\r\n354 go\r\n", 0, SMTP_PARSE_DONE, 250, 20, 3, "a\n\nc", ""},
	{"250 caf\xc3\xa9\tok\r\nleftover", 0, SMTP_PARSE_DONE, 250, 14, 1, "caf\xc3\xa9\tok", ""},
};

START_TEST(reply_parse)
{
	const struct reply_case *c = &cases[_i];
	size_t len = c->len ? c->len : strlen(c->in);
	struct smtp_reply r;
	memset(&r, 0xa5, sizeof r); /* untouched unless DONE */
	size_t used = 12345;
	const char *why = NULL;
	enum smtp_parse rc = smtp_reply_parse((const uint8_t *)c->in, len, &r, &used, &why);
	ck_assert_msg(rc == c->rc, "case %d: rc %d, expected %d (%s)", _i, rc, c->rc,
		      why ? why : "-");
	if (rc == SMTP_PARSE_INVALID) {
		ck_assert_ptr_nonnull(why);
		ck_assert_msg(strstr(why, c->text) != NULL, "case %d: reason '%s'", _i, why);
	}
	if (rc != SMTP_PARSE_DONE) {
		ck_assert_uint_eq(used, 12345);
		return;
	}
	ck_assert_int_eq(r.code, c->code);
	ck_assert_uint_eq(used, c->used ? c->used : len);
	ck_assert_uint_eq(r.nlines, c->nlines);
	ck_assert_str_eq(r.text, c->text);
	ck_assert_uint_eq(r.text_len, strlen(c->text));
	ck_assert_str_eq(r.enhanced, c->enhanced);
	smtp_reply_clear(&r);
}
END_TEST

/* The caps are errors, never truncations: a line over SMTP_LINE_MAX, too many lines. */
START_TEST(reply_caps)
{
	size_t cap = SMTP_LINE_MAX + 16;
	char *buf = malloc(cap + 4);
	ck_assert_ptr_nonnull(buf);
	struct smtp_reply r;
	size_t used;
	const char *why = NULL;
	/* Exactly SMTP_LINE_MAX bytes before CRLF: accepted. */
	memset(buf, 'x', SMTP_LINE_MAX);
	memcpy(buf, "250 ", 4);
	memcpy(buf + SMTP_LINE_MAX, "\r\n", 2);
	ck_assert_int_eq(smtp_reply_parse((uint8_t *)buf, SMTP_LINE_MAX + 2, &r, &used, &why),
			 SMTP_PARSE_DONE);
	ck_assert_uint_eq(r.text_len, SMTP_LINE_MAX - 4);
	smtp_reply_clear(&r);
	/* One more byte: refused, whether or not the LF has arrived yet. */
	memset(buf, 'x', SMTP_LINE_MAX + 1);
	memcpy(buf, "250 ", 4);
	memcpy(buf + SMTP_LINE_MAX + 1, "\r\n", 2);
	ck_assert_int_eq(smtp_reply_parse((uint8_t *)buf, SMTP_LINE_MAX + 3, &r, &used, &why),
			 SMTP_PARSE_INVALID);
	ck_assert_int_eq(smtp_reply_parse((uint8_t *)buf, SMTP_LINE_MAX + 2, &r, &used, &why),
			 SMTP_PARSE_INVALID);
	ck_assert_ptr_nonnull(strstr(why, "longer than 2048 bytes"));
	free(buf);

	/* SMTP_REPLY_LINES_MAX continuation lines and a last one: one too many. */
	size_t n = SMTP_REPLY_LINES_MAX + 1;
	buf = malloc(n * 8 + 1);
	ck_assert_ptr_nonnull(buf);
	size_t off = 0;
	for (size_t i = 0; i < n; i++)
		off += (size_t)sprintf(buf + off, "250%c%02zu\r\n", i + 1 < n ? '-' : ' ', i % 100);
	ck_assert_int_eq(smtp_reply_parse((uint8_t *)buf, off, &r, &used, &why),
			 SMTP_PARSE_INVALID);
	ck_assert_ptr_nonnull(strstr(why, "more than 128 lines"));
	/* Without the first line: exactly the cap, accepted. */
	ck_assert_int_eq(smtp_reply_parse((uint8_t *)buf + 8, off - 8, &r, &used, &why),
			 SMTP_PARSE_DONE);
	ck_assert_uint_eq(r.nlines, SMTP_REPLY_LINES_MAX);
	smtp_reply_clear(&r);
	free(buf);
}
END_TEST

/* A reply arriving one byte at a time is parsed once, when its last line is complete. */
START_TEST(reply_split_reads)
{
	const char *in = "250-mx.example.test\r\n250-STARTTLS\r\n250 SIZE 1000\r\n";
	size_t len = strlen(in);
	for (size_t k = 0; k < len; k++) {
		struct smtp_reply r;
		size_t used;
		ck_assert_int_eq(smtp_reply_parse((const uint8_t *)in, k, &r, &used, NULL),
				 SMTP_PARSE_MORE);
	}
	struct smtp_reply r;
	size_t used;
	ck_assert_int_eq(smtp_reply_parse((const uint8_t *)in, len, &r, &used, NULL),
			 SMTP_PARSE_DONE);
	ck_assert_uint_eq(used, len);
	smtp_reply_clear(&r);
}
END_TEST

static const struct ehlo_case {
	const char *reply;
	bool ok, starttls, pipelining, eightbit, utf8, enhanced, size;
	uint64_t size_max;
} ehlos[] = {
	{"550 no\r\n", false, 0, 0, 0, 0, 0, 0, 0},
	/* The greeting line is not a keyword, even when it looks like one. */
	{"250 STARTTLS\r\n", true, 0, 0, 0, 0, 0, 0, 0},
	{"250-mx\r\n250-starttls\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
	 "250-ENHANCEDSTATUSCODES\r\n250 SIZE 10240000\r\n",
	 true, 1, 1, 1, 1, 1, 1, 10240000},
	/* Look-alikes and parameters. */
	{"250-mx\r\n250-STARTTLSX\r\n250-XSTARTTLS\r\n250 SIZE\r\n", true, 0, 0, 0, 0, 0, 1, 0},
	{"250-mx\r\n250-SIZE 12a\r\n250 SIZE 99999999999999999999999\r\n", true, 0, 0, 0, 0, 0, 1,
	 0},
	{"250-mx\r\n250 SIZE 18446744073709551615\r\n", true, 0, 0, 0, 0, 0, 1, UINT64_MAX},
};

START_TEST(ehlo_keywords)
{
	const struct ehlo_case *c = &ehlos[_i];
	struct smtp_reply r;
	size_t used;
	ck_assert_int_eq(smtp_reply_parse((const uint8_t *)c->reply, strlen(c->reply), &r, &used,
					  NULL),
			 SMTP_PARSE_DONE);
	struct smtp_ehlo e;
	ck_assert_int_eq(smtp_ehlo_parse(&r, &e), c->ok);
	ck_assert_int_eq(e.starttls, c->starttls);
	ck_assert_int_eq(e.pipelining, c->pipelining);
	ck_assert_int_eq(e.eightbitmime, c->eightbit);
	ck_assert_int_eq(e.smtputf8, c->utf8);
	ck_assert_int_eq(e.enhancedstatuscodes, c->enhanced);
	ck_assert_int_eq(e.size, c->size);
	ck_assert_uint_eq(e.size_max, c->size_max);
	smtp_reply_clear(&r);
}
END_TEST

static const struct data_case {
	const char *in;
	size_t len; /* 0: strlen(in) */
	int rc;
	const char *out;
	size_t size, longest;
	bool eightbit;
} datas[] = {
	{"", 0, MXTLS_E_SYNTAX, NULL, 0, 0, false},
	{"a\0b\n", 4, MXTLS_E_SYNTAX, NULL, 0, 0, false},
	{"Subject: x\r\n\r\nbody\r\n", 0, MXTLS_OK, "Subject: x\r\n\r\nbody\r\n.\r\n", 20, 10,
	 false},
	/* Bare LF and bare CR become CRLF; a missing final line end is added. */
	{"a\nb\rc", 0, MXTLS_OK, "a\r\nb\r\nc\r\n.\r\n", 9, 1, false},
	{"a\r\r\nb", 0, MXTLS_OK, "a\r\n\r\nb\r\n.\r\n", 8, 1, false},
	/* Dot-stuffing: a leading dot is doubled, also a lone one and one after a bare LF. */
	{".\n..x\nok.\n.", 0, MXTLS_OK, "..\r\n...x\r\nok.\r\n..\r\n.\r\n", 16, 3, false},
	{"caf\xc3\xa9\n", 0, MXTLS_OK, "caf\xc3\xa9\r\n.\r\n", 7, 5, true},
};

START_TEST(data_encode)
{
	const struct data_case *c = &datas[_i];
	struct util_buf b;
	util_buf_init(&b, 1 << 20);
	ck_assert_int_eq(util_buf_append_str(&b, "MAIL"), MXTLS_OK);
	struct smtp_data_info info = {99, 99, true};
	size_t len = c->len ? c->len : strlen(c->in);
	ck_assert_int_eq(smtp_data_encode((const unsigned char *)c->in, len, &b, &info), c->rc);
	if (c->rc != MXTLS_OK) {
		ck_assert_str_eq(b.data, "MAIL"); /* untouched */
		ck_assert_uint_eq(info.size, 99);
	} else {
		ck_assert_str_eq(b.data + 4, c->out);
		ck_assert_uint_eq(info.size, c->size);
		ck_assert_uint_eq(info.longest, c->longest);
		ck_assert_int_eq(info.eightbit, c->eightbit);
	}
	util_buf_free(&b);
}
END_TEST

/* The buffer's cap is an error and leaves the buffer as it was (no half message). */
START_TEST(data_cap)
{
	struct util_buf b;
	util_buf_init(&b, 12);
	ck_assert_int_eq(util_buf_append_str(&b, "x"), MXTLS_OK);
	struct smtp_data_info info;
	ck_assert_int_eq(smtp_data_encode((const unsigned char *)"hello\nworld\n", 12, &b, &info),
			 MXTLS_E_LIMIT);
	ck_assert_uint_eq(b.len, 1);
	ck_assert_str_eq(b.data, "x");
	ck_assert_int_eq(smtp_data_encode((const unsigned char *)"hi\n", 3, &b, &info), MXTLS_OK);
	ck_assert_str_eq(b.data, "xhi\r\n.\r\n");
	util_buf_free(&b);
}
END_TEST

static Suite *smtp_suite(void)
{
	Suite *s = suite_create("smtp");
	TCase *tc = tcase_create("reply");
	tcase_add_loop_test(tc, reply_parse, 0, ARRAY_LEN(cases));
	tcase_add_test(tc, reply_caps);
	tcase_add_test(tc, reply_split_reads);
	tcase_add_loop_test(tc, ehlo_keywords, 0, ARRAY_LEN(ehlos));
	suite_add_tcase(s, tc);
	tc = tcase_create("data");
	tcase_add_loop_test(tc, data_encode, 0, ARRAY_LEN(datas));
	tcase_add_test(tc, data_cap);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(smtp_suite)
