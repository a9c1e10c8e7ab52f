/* SPDX-License-Identifier: MIT */
/* Unit tests for util/: bounded reader, capped buffer, log lines, config-text parser, clock. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <mxtls/error.h>

#include "test_main.h"
#include "util/util_buf.h"
#include "util/util_clock.h"
#include "util/util_dnsname.h"
#include "util/util_kv.h"
#include "util/util_log.h"
#include "util/util_reader.h"
#include "util/util_text.h"

/* ---- bounded reader: lines (hostile input first) ---- */

static const struct line_case {
	const char *in;
	size_t len;
	size_t max;
	int rc;
	const char *line; /* expected line when rc == MXTLS_OK */
	enum util_line_end end;
	size_t pos_after;
} line_cases[] = {
	{"ab\0c\n", 5, 100, MXTLS_E_SYNTAX, NULL, 0, 0},   /* embedded NUL */
	{"ab\rc\n", 5, 100, MXTLS_E_SYNTAX, NULL, 0, 0},   /* bare CR inside */
	{"abc\r", 4, 100, MXTLS_E_SYNTAX, NULL, 0, 0},     /* CR at the very end */
	{"abcdef\n", 7, 5, MXTLS_E_LIMIT, NULL, 0, 0},     /* too long, terminated */
	{"abcdef", 6, 5, MXTLS_E_LIMIT, NULL, 0, 0},       /* too long, unterminated */
	{"", 0, 5, MXTLS_E_NOTFOUND, NULL, 0, 0},          /* nothing left */
	{"abcde\n", 6, 5, MXTLS_OK, "abcde", UTIL_LINE_LF, 6}, /* exactly at the cap */
	{"abcde", 5, 5, MXTLS_OK, "abcde", UTIL_LINE_EOF, 5},
	{"ab\r\ncd", 6, 100, MXTLS_OK, "ab", UTIL_LINE_CRLF, 4},
	{"\n", 1, 0, MXTLS_OK, "", UTIL_LINE_LF, 1},
	{"\r\n", 2, 0, MXTLS_OK, "", UTIL_LINE_CRLF, 2},
	{"x\xff\x80y\n", 5, 100, MXTLS_OK, "x\xff\x80y", UTIL_LINE_LF, 5}, /* 8-bit passes through */
};

START_TEST(reader_line)
{
	const struct line_case *c = &line_cases[_i];
	struct util_reader r;
	util_reader_init(&r, c->in, c->len);
	const uint8_t *line = NULL;
	size_t n = 0;
	enum util_line_end end = 0;
	int rc = util_reader_line(&r, c->max, &line, &n, &end);
	ck_assert_int_eq(rc, c->rc);
	if (rc != MXTLS_OK) {
		ck_assert_uint_eq(r.pos, 0); /* all-or-nothing: position unchanged */
		return;
	}
	ck_assert_uint_eq(n, strlen(c->line));
	ck_assert_mem_eq(line, c->line, n);
	ck_assert_int_eq(end, c->end);
	ck_assert_uint_eq(r.pos, c->pos_after);
}
END_TEST

START_TEST(reader_ints_truncated)
{
	const uint8_t in[] = {0x12, 0x34, 0x56};
	struct util_reader r;
	util_reader_init(&r, in, sizeof in);
	uint32_t v32 = 7;
	ck_assert_int_eq(util_reader_u32(&r, &v32), MXTLS_E_TRUNCATED);
	ck_assert_uint_eq(v32, 7); /* untouched */
	ck_assert_uint_eq(r.pos, 0);
	uint16_t v16;
	ck_assert_int_eq(util_reader_u16(&r, &v16), MXTLS_OK);
	ck_assert_uint_eq(v16, 0x1234);
	ck_assert_int_eq(util_reader_u16(&r, &v16), MXTLS_E_TRUNCATED);
	uint8_t v8;
	ck_assert_int_eq(util_reader_u8(&r, &v8), MXTLS_OK);
	ck_assert_uint_eq(v8, 0x56);
	ck_assert(util_reader_at_end(&r));
	ck_assert_int_eq(util_reader_u8(&r, &v8), MXTLS_E_TRUNCATED);
}
END_TEST

START_TEST(reader_bytes_and_rest)
{
	const uint8_t in[] = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04};
	struct util_reader r;
	util_reader_init(&r, in, sizeof in);
	const uint8_t *p = NULL;
	ck_assert_int_eq(util_reader_bytes(&r, 9, &p), MXTLS_E_TRUNCATED);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(util_reader_bytes(&r, SIZE_MAX, &p), MXTLS_E_TRUNCATED);
	uint32_t v;
	ck_assert_int_eq(util_reader_u32(&r, &v), MXTLS_OK);
	ck_assert_uint_eq(v, 0xdeadbeefu);
	size_t n;
	util_reader_rest(&r, &p, &n);
	ck_assert_uint_eq(n, 4);
	ck_assert_ptr_eq(p, in + 4);
	ck_assert_uint_eq(util_reader_remaining(&r), 0);
	util_reader_init(&r, NULL, 10); /* NULL input reads as empty */
	ck_assert_uint_eq(util_reader_remaining(&r), 0);
}
END_TEST

/* ---- capped buffer ---- */

START_TEST(buf_cap_is_an_error_not_a_truncation)
{
	struct util_buf b;
	util_buf_init(&b, 8);
	ck_assert_int_eq(util_buf_append(&b, "12345", 5), MXTLS_OK);
	ck_assert_int_eq(util_buf_append(&b, "6789", 4), MXTLS_E_LIMIT);
	ck_assert_uint_eq(b.len, 5); /* nothing of the failed append */
	ck_assert_str_eq(b.data, "12345");
	ck_assert_int_eq(util_buf_appendf(&b, "%d", 1234), MXTLS_E_LIMIT);
	ck_assert_str_eq(b.data, "12345");
	ck_assert_int_eq(util_buf_append(&b, "678", 3), MXTLS_OK); /* exactly the cap */
	ck_assert_str_eq(b.data, "12345678");
	ck_assert_int_eq(util_buf_append_byte(&b, 'x'), MXTLS_E_LIMIT);
	ck_assert_int_eq(util_buf_append(&b, "", 0), MXTLS_OK);
	ck_assert_int_eq(util_buf_append(&b, "x", SIZE_MAX), MXTLS_E_LIMIT); /* no overflow */
	util_buf_free(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.max, 8);
	util_buf_free(NULL);
}
END_TEST

START_TEST(buf_grows_binary_and_take)
{
	struct util_buf b;
	util_buf_init(&b, 100000);
	for (int i = 0; i < 10000; i++)
		ck_assert_int_eq(util_buf_append(&b, "a\0b", 3), MXTLS_OK);
	ck_assert_uint_eq(b.len, 30000);
	ck_assert_int_eq(b.data[30000], '\0');
	ck_assert_int_eq(b.data[29998], '\0');
	util_buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(util_buf_appendf(&b, "%s=%d", "k", 42), MXTLS_OK);
	char *s;
	size_t n;
	ck_assert_int_eq(util_buf_take(&b, &s, &n), MXTLS_OK);
	ck_assert_str_eq(s, "k=42");
	ck_assert_uint_eq(n, 4);
	ck_assert_ptr_null(b.data);
	free(s);
	ck_assert_int_eq(util_buf_take(&b, &s, &n), MXTLS_OK); /* empty buffer: "" */
	ck_assert_str_eq(s, "");
	ck_assert_uint_eq(n, 0);
	free(s);
}
END_TEST

/* ---- log values and lines ---- */

static const struct value_case {
	const char *in;
	size_t len;
	const char *out;
} value_cases[] = {
	{"x\ny=forged", 10, "\"x\\ny=forged\""}, /* cannot start a new line or a key */
	{"a b", 3, "\"a b\""},
	{"k=v", 3, "\"k=v\""},
	{"q\"\\", 3, "\"q\\\"\\\\\""},
	{"\x01\x7f\xc3\xa9", 4, "\"\\x01\\x7f\\xc3\\xa9\""},
	{"\t\r", 2, "\"\\t\\r\""},
	{"a\0b", 3, "\"a\\x00b\""},
	{"", 0, "\"\""},
	{"mx1.example.com", 15, "mx1.example.com"},
	{"3-1-1", 5, "3-1-1"},
};

START_TEST(log_value_quoting)
{
	const struct value_case *c = &value_cases[_i];
	struct util_buf b;
	util_buf_init(&b, 256);
	ck_assert_int_eq(util_log_append_value(&b, c->in, c->len), MXTLS_OK);
	ck_assert_str_eq(b.data, c->out);
	util_buf_free(&b);
}
END_TEST

START_TEST(log_value_over_cap_appends_nothing)
{
	struct util_buf b;
	util_buf_init(&b, 6);
	ck_assert_int_eq(util_buf_append_str(&b, "k="), MXTLS_OK);
	ck_assert_int_eq(util_log_append_value(&b, "a b c", 5), MXTLS_E_LIMIT);
	ck_assert_str_eq(b.data, "k=");
	util_buf_free(&b);
}
END_TEST

struct captured {
	int calls;
	enum mxtls_log_level level;
	char line[UTIL_LOG_LINE_MAX + 1];
};

static void capture(void *arg, enum mxtls_log_level level, const char *line)
{
	struct captured *c = arg;
	c->calls++;
	c->level = level;
	snprintf(c->line, sizeof c->line, "%s", line);
}

START_TEST(log_lines_and_levels)
{
	struct captured c = {0};
	struct util_log log = {.fn = capture, .arg = &c, .max = MXTLS_LOG_INFO};
	util_log_kv(&log, MXTLS_LOG_DEBUG, 1, "dropped", "k", "v", NULL);
	ck_assert_int_eq(c.calls, 0);
	util_log_kv(&log, MXTLS_LOG_WARNING, 42, "tlsa-lookup", "host", "mx1.example.com",
		    "status", "bogus data", "reason", NULL, NULL);
	ck_assert_int_eq(c.calls, 1);
	ck_assert_int_eq(c.level, MXTLS_LOG_WARNING);
	ck_assert_str_eq(c.line, "id=42 event=tlsa-lookup host=mx1.example.com status=\"bogus data\" reason=-");
	util_log_kv(NULL, MXTLS_LOG_ERROR, 1, "x", NULL); /* no log: nothing, no crash */
	log.fn = NULL;
	ck_assert(!util_log_enabled(&log, MXTLS_LOG_ERROR));
}
END_TEST

START_TEST(log_overlong_line_is_replaced_not_cut)
{
	struct captured c = {0};
	struct util_log log = {.fn = capture, .arg = &c, .max = MXTLS_LOG_DEBUG};
	static char big[UTIL_LOG_LINE_MAX + 10];
	memset(big, 'a', sizeof big - 1);
	util_log_kv(&log, MXTLS_LOG_INFO, 7, "reply", "text", big, NULL);
	ck_assert_int_eq(c.calls, 1);
	ck_assert_str_eq(c.line, "id=7 event=log-line-dropped reason=too-long");
}
END_TEST

START_TEST(log_level_names)
{
	ck_assert_str_eq(mxtls_log_level_name(MXTLS_LOG_ERROR), "error");
	ck_assert_str_eq(mxtls_log_level_name(MXTLS_LOG_WARNING), "warning");
	ck_assert_str_eq(mxtls_log_level_name(MXTLS_LOG_INFO), "info");
	ck_assert_str_eq(mxtls_log_level_name(MXTLS_LOG_DEBUG), "debug");
	ck_assert_str_eq(mxtls_log_level_name((enum mxtls_log_level)99), "unknown");
}
END_TEST

/* ---- config text parser ---- */

struct kv_seen {
	char text[1024]; /* "line:key=value|" records */
	const char *reject_key; /* the handler refuses this key */
};

static int kv_collect(void *arg, size_t line, const char *k, size_t klen, const char *v,
		      size_t vlen, const char **reason)
{
	struct kv_seen *s = arg;
	if (s->reject_key != NULL && strlen(s->reject_key) == klen &&
	    memcmp(s->reject_key, k, klen) == 0) {
		*reason = "rejected by handler";
		return MXTLS_E_CONFIG;
	}
	size_t used = strlen(s->text);
	snprintf(s->text + used, sizeof s->text - used, "%zu:%.*s=%.*s|", line, (int)klen, k,
		 (int)vlen, v);
	return MXTLS_OK;
}

static const struct kv_case {
	const char *in;
	size_t len; /* 0: strlen(in) */
	int rc;
	size_t err_line;
	const char *err_reason; /* substring */
	const char *seen;
} kv_cases[] = {
	{"a = 1\nb\0 = 2\n", 13, MXTLS_E_SYNTAX, 2, "NUL", "1:a=1|"},
	{"a = 1\rb = 2\n", 0, MXTLS_E_SYNTAX, 1, "carriage return", ""},
	{"just words\n", 0, MXTLS_E_SYNTAX, 1, "expected 'key = value'", ""},
	{"= value\n", 0, MXTLS_E_SYNTAX, 1, "missing key", ""},
	{"Key = v\n", 0, MXTLS_E_SYNTAX, 1, "invalid key", ""},
	{"-key = v\n", 0, MXTLS_E_SYNTAX, 1, "invalid key", ""},
	{"my key = v\n", 0, MXTLS_E_SYNTAX, 1, "invalid key", ""},
	{"key =   \n", 0, MXTLS_E_SYNTAX, 1, "missing value", ""},
	{"key = a\x01z\n", 0, MXTLS_E_SYNTAX, 1, "control character", ""},
	{"\n\n# c\nbad\n", 0, MXTLS_E_SYNTAX, 4, "expected", ""},
	{"ok = 1\nreject = 2\n", 0, MXTLS_E_CONFIG, 2, "rejected by handler", "1:ok=1|"},
	{"", 0, MXTLS_OK, 0, NULL, ""},
	{"# only a comment", 0, MXTLS_OK, 0, NULL, ""},
	{"  \t\n   # indented comment\n", 0, MXTLS_OK, 0, NULL, ""},
	{"ca-file = /etc/ssl/x.pem\r\nstate-dir=/var/lib/m\n", 0, MXTLS_OK, 0, NULL,
	 "1:ca-file=/etc/ssl/x.pem|2:state-dir=/var/lib/m|"},
	{"\tk9 \t=\t a # not a comment = still value \t", 0, MXTLS_OK, 0, NULL,
	 "1:k9=a # not a comment = still value|"},
	{"path = /a b/c\té", 0, MXTLS_OK, 0, NULL, "1:path=/a b/c\té|"},
};

START_TEST(kv_parse)
{
	const struct kv_case *c = &kv_cases[_i];
	struct kv_seen seen = {.text = "", .reject_key = "reject"};
	struct util_kv_handler h = {.pair = kv_collect, .arg = &seen};
	struct util_kv_error err = {0, NULL};
	size_t len = c->len ? c->len : strlen(c->in);
	int rc = util_kv_parse(c->in, len, &h, &err);
	ck_assert_int_eq(rc, c->rc);
	ck_assert_str_eq(seen.text, c->seen);
	if (c->rc != MXTLS_OK) {
		ck_assert_uint_eq(err.line, c->err_line);
		ck_assert_ptr_nonnull(strstr(err.reason, c->err_reason));
	}
}
END_TEST

START_TEST(kv_line_cap)
{
	static char text[UTIL_KV_LINE_MAX + 64];
	memset(text, 'a', sizeof text);
	memcpy(text, "k = ", 4);
	struct kv_seen seen = {.text = ""};
	struct util_kv_handler h = {.pair = kv_collect, .arg = &seen};
	struct util_kv_error err = {0, NULL};
	ck_assert_int_eq(util_kv_parse(text, sizeof text, &h, &err), MXTLS_E_LIMIT);
	ck_assert_uint_eq(err.line, 1);
	ck_assert_str_eq(err.reason, "line too long");
	/* exactly at the cap is fine */
	ck_assert_int_eq(util_kv_parse(text, UTIL_KV_LINE_MAX, &h, &err), MXTLS_OK);
}
END_TEST

/* ---- errors and clock ---- */

START_TEST(strerror_covers_every_code)
{
	for (int e = MXTLS_OK; e >= MXTLS_E_INTERNAL; e--) {
		const char *s = mxtls_strerror(e);
		ck_assert_ptr_nonnull(s);
		ck_assert_str_ne(s, "unknown error");
		for (int f = e + 1; f <= MXTLS_OK; f++)
			ck_assert_str_ne(s, mxtls_strerror(f)); /* each text is distinct */
	}
	ck_assert_str_eq(mxtls_strerror(MXTLS_E_INTERNAL - 1), "unknown error");
	ck_assert_str_eq(mxtls_strerror(1), "unknown error");
	ck_assert_str_eq(mxtls_strerror(MXTLS_E_LIMIT), "a size limit was reached");
}
END_TEST

START_TEST(clock_injection)
{
	int64_t pinned = 1780272000; /* 2026-06-01T00:00:00Z */
	struct util_clock c = {.now = util_clock_fixed, .arg = &pinned};
	ck_assert_int_eq(util_clock_now(&c), 1780272000);
	pinned++;
	ck_assert_int_eq(util_clock_now(&c), 1780272001);
	int64_t sys = util_clock_now(NULL);
	ck_assert_int_gt(sys, 1700000000); /* the system clock is after 2023 */
}
END_TEST

/* ---- DNS names as reference identifiers (RFC 6125 §6.4.3, RFC 8461 §4.1) ---- */

static const struct name_case {
	const char *pattern;
	size_t plen; /* 0: strlen */
	const char *host;
	bool match;
} name_cases[] = {
	{"mx.example.com\0.evil", 20, "mx.example.com", false}, /* embedded NUL */
	{"*.example.com", 0, "example.com", false},             /* * is one whole label */
	{"*.example.com", 0, "a.mx.example.com", false},
	{"*.example.com", 0, ".example.com", false},
	{"mx*.example.com", 0, "mx1.example.com", false},        /* partial-label wildcard */
	{"*", 0, "com", false},
	{"*.*.example.com", 0, "a.b.example.com", false},
	{"a.*.example.com", 0, "a.b.example.com", false},
	{"", 0, "", false},
	{"mx..example.com", 0, "mx..example.com", false},        /* empty label */
	{"-mx.example.com", 0, "-mx.example.com", false},
	{"mx.example.com", 0, "mx.example.com.evil", false},
	{"*.example.com", 0, "mailexample.com", false},
	{"mx.example.com", 0, "MX.Example.COM", true},
	{"*.example.com", 0, "mail.example.com", true},
	{"*.Example.Com", 0, "MAIL.example.com.", true},         /* root dot ignored */
	{"mx.example.com.", 0, "mx.example.com", true},
	{"*.xn--bcher-kva.example", 0, "mx.xn--bcher-kva.example", true},
};

START_TEST(dnsname_match)
{
	const struct name_case *c = &name_cases[_i];
	size_t plen = c->plen ? c->plen : strlen(c->pattern);
	ck_assert_msg(util_dnsname_match(c->pattern, plen, c->host, strlen(c->host)) == c->match,
		      "%s vs %s", c->pattern, c->host);
}
END_TEST

START_TEST(dnsname_valid)
{
	char long_label[70];
	memset(long_label, 'a', 64);
	strcpy(long_label + 64, ".com");
	ck_assert(!util_dnsname_valid(long_label, strlen(long_label), false));
	long_label[1] = '.'; /* now "a." + 62 a's + ".com": labels of 1 and 62 */
	ck_assert(util_dnsname_valid(long_label, strlen(long_label), false));
	ck_assert(util_dnsname_valid("_25._tcp.mx.example.com", 23, false));
	ck_assert(!util_dnsname_valid("*.example.com", 13, false));
	ck_assert(util_dnsname_valid("*.example.com", 13, true));
	ck_assert(!util_dnsname_valid("a b.com", 7, false));
	ck_assert(!util_dnsname_valid("a..", 3, false));
}
END_TEST

START_TEST(dnsname_canon)
{
	char out[8] = "keep";
	ck_assert(!util_dnsname_canon("a b", 3, out, sizeof out));
	ck_assert(!util_dnsname_canon("", 0, out, sizeof out));
	ck_assert(!util_dnsname_canon("*.a.b", 5, out, sizeof out));
	ck_assert(!util_dnsname_canon("abcd.efgh", 9, out, sizeof out)); /* does not fit */
	ck_assert_str_eq(out, "keep");
	ck_assert(util_dnsname_canon("MX.Ab.", 6, out, sizeof out));
	ck_assert_str_eq(out, "mx.ab");
	ck_assert(util_dnsname_canon("abc.efg", 7, out, sizeof out)); /* exactly fits */
	ck_assert_str_eq(out, "abc.efg");
}
END_TEST

/* Issue 14: reasons shown to people were cut in the middle of a word ("for key bogus.)"). */
static const struct fit_case {
	size_t cap;
	const char *in, *out;
} fit_cases[] = {
	{0, "abc", NULL},                            /* nothing written */
	{4, "abcdef", ""},                           /* no room even for " ..." */
	{5, "abcdef", ""},                           /* room for " ..." alone: nothing */
	{6, "abcdef", "a ..."},                      /* one word: cut where it must be */
	{7, "abcdef", "abcdef"},                     /* fits exactly (6 + NUL) */
	{16, "for key bogus.test. while building", "for key ..."},
	{23, "for key bogus.test. while building", "for key ..."},
	{24, "for key bogus.test. while building", "for key bogus.test. ..."},
	{16, "for    key    bogus.test.", "for    key ..."}, /* runs of spaces */
	{12, "a b c d e f g h", "a b c d ..."},
	{12, "", ""},
};

START_TEST(text_fit)
{
	const struct fit_case *c = &fit_cases[_i];
	char out[64];
	memset(out, 'X', sizeof out);
	size_t n = util_text_fit(out, c->cap, c->in);
	if (c->out == NULL) {
		ck_assert_uint_eq(n, 0);
		ck_assert_int_eq(out[0], 'X');
		return;
	}
	ck_assert_str_eq(out, c->out);
	ck_assert_uint_eq(n, strlen(c->out));
	ck_assert_uint_lt(n, c->cap);
}
END_TEST

static Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("reader");
	tcase_add_loop_test(tc, reader_line, 0, ARRAY_LEN(line_cases));
	tcase_add_test(tc, reader_ints_truncated);
	tcase_add_test(tc, reader_bytes_and_rest);
	suite_add_tcase(s, tc);
	tc = tcase_create("buf");
	tcase_add_test(tc, buf_cap_is_an_error_not_a_truncation);
	tcase_add_test(tc, buf_grows_binary_and_take);
	suite_add_tcase(s, tc);
	tc = tcase_create("log");
	tcase_add_loop_test(tc, log_value_quoting, 0, ARRAY_LEN(value_cases));
	tcase_add_test(tc, log_value_over_cap_appends_nothing);
	tcase_add_test(tc, log_lines_and_levels);
	tcase_add_test(tc, log_overlong_line_is_replaced_not_cut);
	tcase_add_test(tc, log_level_names);
	tcase_add_loop_test(tc, text_fit, 0, sizeof fit_cases / sizeof fit_cases[0]);
	suite_add_tcase(s, tc);
	tc = tcase_create("kv");
	tcase_add_loop_test(tc, kv_parse, 0, ARRAY_LEN(kv_cases));
	tcase_add_test(tc, kv_line_cap);
	suite_add_tcase(s, tc);
	tc = tcase_create("dnsname");
	tcase_add_loop_test(tc, dnsname_match, 0, ARRAY_LEN(name_cases));
	tcase_add_test(tc, dnsname_valid);
	tcase_add_test(tc, dnsname_canon);
	suite_add_tcase(s, tc);
	tc = tcase_create("misc");
	tcase_add_test(tc, strerror_covers_every_code);
	tcase_add_test(tc, clock_injection);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(util_suite)
