/* SPDX-License-Identifier: MIT */
/* Unit tests for delivery/: address lists (hostile first), mailboxes, ids, input rules, header
 * fix-up, and the spool on a temporary directory (accept, list, manage, durability order,
 * damaged rows). */
#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mxtls/mxtls.h>

#include "delivery/delivery_addrlist.h"
#include "delivery/delivery_dsn.h"
#include "delivery/delivery_header.h"
#include "delivery/delivery_id.h"
#include "delivery/delivery_input.h"
#include "delivery/delivery_mailbox.h"
#include "delivery/delivery_queue.h"
#include "delivery/delivery_retry.h"
#include "test_main.h"

#define NOLEN ((size_t)-1)

/* ---- RFC 5322 address lists: hostile and malformed first ---- */

static const struct addrlist_case {
	const char *in;
	size_t len;
	int rc;
	const char *want; /* addresses joined by "|"; a bare local part ends in "!" */
	const char *why;  /* substring of the reason when rc != 0 */
} addrlist_cases[] = {
	{"a@b\0c", 5, MXTLS_E_SYNTAX, "", "not allowed"},
	{"a@b\r\n", NOLEN, MXTLS_E_SYNTAX, "", "not allowed"},
	{"(unterminated", NOLEN, MXTLS_E_SYNTAX, "", "unterminated comment"},
	{"a@b (x\\", NOLEN, MXTLS_E_SYNTAX, "", "unterminated comment"},
	{"((((((((((((((((((((((((((((((((((x))))))))))))))))))))))))))))))))))", NOLEN,
	 MXTLS_E_LIMIT, "", "nested too deep"},
	{"a@b)", NOLEN, MXTLS_E_SYNTAX, "", "unbalanced ')'"},
	{"\"unterminated@b", NOLEN, MXTLS_E_SYNTAX, "", "unterminated quoted string"},
	{"a@[1.2.3.4", NOLEN, MXTLS_E_SYNTAX, "", "unterminated domain literal"},
	{"a@[1.[2]", NOLEN, MXTLS_E_SYNTAX, "", "'[' inside a domain literal"},
	{"<>", NOLEN, MXTLS_E_SYNTAX, "", "empty <>"},
	{"<a@b", NOLEN, MXTLS_E_SYNTAX, "", "expected '>'"},
	{"<a>", NOLEN, MXTLS_E_SYNTAX, "", "no '@'"},
	{"a@", NOLEN, MXTLS_E_SYNTAX, "", "atoms separated by dots"},
	{"a@b..c", NOLEN, MXTLS_E_SYNTAX, "", "atoms separated by dots"},
	{".a@b", NOLEN, MXTLS_E_SYNTAX, "", "words separated by dots"},
	{"a.@b", NOLEN, MXTLS_E_SYNTAX, "", "words separated by dots"},
	{"John Smith@example.com", NOLEN, MXTLS_E_SYNTAX, "", "words separated by dots"},
	{"g: a@b, h: c@d;;", NOLEN, MXTLS_E_SYNTAX, "a@b", "group inside a group"},
	{"g: a@b", NOLEN, MXTLS_E_SYNTAX, "a@b", "not ended by ';'"},
	{"a@b; c@d", NOLEN, MXTLS_E_SYNTAX, "a@b", "';' outside a group"},
	{"a@b c@d", NOLEN, MXTLS_E_SYNTAX, "a@b", "expected ','"},
	{"a@b <c@d>", NOLEN, MXTLS_E_SYNTAX, "a@b", "expected ','"},
	{"<@x,@y a@b>", NOLEN, MXTLS_E_SYNTAX, "", "malformed source route"},
	{"a@b\x01", NOLEN, MXTLS_E_SYNTAX, "", "not allowed"},
	{"x@[a]]", NOLEN, MXTLS_E_SYNTAX, "x@[a]", "unbalanced ']'"},
	/* Valid lists. */
	{"", NOLEN, 0, "", NULL},
	{"  \t (only a comment) ", NOLEN, 0, "", NULL},
	{"a@b", NOLEN, 0, "a@b", NULL},
	{"Bob <bob@example.com>, (c) \"j d\"@example.org", NOLEN, 0,
	 "bob@example.com|\"j d\"@example.org", NULL},
	{"\"Smith, John\" <js@example.com>", NOLEN, 0, "js@example.com", NULL},
	{"undisclosed-recipients:;", NOLEN, 0, "", NULL},
	{"team: a@b, C <c@d>; , e@f", NOLEN, 0, "a@b|c@d|e@f", NULL},
	{"a@b,,, ,c@d,", NOLEN, 0, "a@b|c@d", NULL},                          /* obs-addr-list */
	{"<@route1,@route2:a@b>", NOLEN, 0, "a@b", NULL},                     /* obs-route */
	{"a . b (x) @ (y) example . com", NOLEN, 0, "a.b@example.com", NULL}, /* obs CFWS */
	{"Mr. Smith <a@b>", NOLEN, 0, "a@b", NULL},                           /* obs-phrase */
	{"a@[192.0.2.1]", NOLEN, 0, "a@[192.0.2.1]", NULL},
	{"(a (nested \\) comment) here)a@b", NOLEN, 0, "a@b", NULL},
	{"root, <x@y>", NOLEN, 0, "root!|x@y", NULL},
	{"J\xc3\xb6rg <j@example.de>", NOLEN, 0, "j@example.de", NULL}, /* RFC 6532 name */
};

static int collect(void *arg, const char *addr, size_t len, bool has_domain)
{
	char *out = arg;
	ck_assert_uint_eq(strlen(addr), len);
	if (out[0] != '\0')
		strcat(out, "|");
	strcat(out, addr);
	if (!has_domain)
		strcat(out, "!");
	return 0;
}

START_TEST(addrlist_parse)
{
	const struct addrlist_case *c = &addrlist_cases[_i];
	size_t len = c->len == NOLEN ? strlen(c->in) : c->len;
	char got[2048] = "";
	const char *why = NULL;
	int rc = delivery_addrlist_parse(c->in, len, collect, got, &why);
	ck_assert_msg(rc == c->rc, "case %d '%s': rc %d, wanted %d (%s)", _i, c->in, rc, c->rc,
		      why ? why : "");
	ck_assert_str_eq(got, c->want);
	if (c->why != NULL)
		ck_assert_msg(why != NULL && strstr(why, c->why) != NULL, "case %d: reason '%s'",
			      _i, why ? why : "(none)");
	else
		ck_assert_ptr_null(why);
}
END_TEST

static int stop_at_second(void *arg, const char *addr, size_t len, bool has_domain)
{
	int *n = arg;
	return ++*n == 2 ? 12345 : 0;
}

START_TEST(addrlist_callback_stops)
{
	int n = 0;
	const char *why;
	ck_assert_int_eq(delivery_addrlist_parse("a@b, c@d, e@f", 13, stop_at_second, &n, &why),
			 12345);
	ck_assert_int_eq(n, 2);
}
END_TEST

START_TEST(addrlist_long)
{
	char in[1200];
	memset(in, 'a', 600);
	memcpy(in + 600, "@b", 3);
	char got[2048] = "";
	const char *why;
	ck_assert_int_eq(delivery_addrlist_parse(in, strlen(in), collect, got, &why),
			 MXTLS_E_LIMIT);
	ck_assert_ptr_nonnull(strstr(why, "longer than 512"));
}
END_TEST

/* ---- RFC 5321 mailboxes ---- */

static const struct mailbox_case {
	const char *in;
	const char *why; /* NULL: valid; else a substring of the reason */
} mailbox_cases[] = {
	{"", "empty address"},
	{"a", "no domain"},
	{"@b", "empty local part"},
	{"a@", "empty domain"},
	{"a b@c", "not allowed in an unquoted"},
	{"a..b@c", "two dots"},
	{"a.@c", "end of the local part"},
	{"a@-b", "not allowed in a domain"},
	{"a@b-", "ending in a hyphen"},
	{"a@b..c", "empty label"},
	{"a@b_c", "not allowed in a domain"},
	{"\"a\x01\"@b", "control or non-ASCII"},
	{"\"a\"b\"@c", "a quote inside"},
	{"j\xc3\xb6@b", "SMTPUTF8"},
	{"a@[300.1.1.1]", "invalid IPv4"},
	{"a@[IPv6:zz::1]", "invalid IPv6"},
	{"a@[x]", "invalid address literal"},
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@b", "longer than 64"},
	{"a@bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.c", "longer than 63"},
	{"a@b", NULL},
	{"first.last+tag@example.com", NULL},
	{"\"john doe\"@example.com", NULL},
	{"\"a@b\"@example.com", NULL},
	{"a@[192.0.2.1]", NULL},
	{"a@[IPv6:2001:db8::1]", NULL},
	{"a@[x-tag:data]", NULL},
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@b", NULL}, /* 64 */
};

START_TEST(mailbox_check)
{
	const struct mailbox_case *c = &mailbox_cases[_i];
	const char *why = delivery_mailbox_check(c->in, strlen(c->in));
	if (c->why == NULL)
		ck_assert_msg(why == NULL, "'%s' rejected: %s", c->in, why);
	else
		ck_assert_msg(why != NULL && strstr(why, c->why) != NULL, "'%s': got '%s'", c->in,
			      why ? why : "(valid)");
}
END_TEST

START_TEST(mailbox_lengths)
{
	char a[300];
	memset(a, 'a', 64);
	a[64] = '@';
	/* 64 + 1 + 189 = 254: the longest mailbox; one more is too long. */
	for (int i = 0; i < 189; i++)
		a[65 + i] = (i % 60 == 59) ? '.' : 'b';
	a[254] = '\0';
	ck_assert_ptr_null(delivery_mailbox_check(a, 254));
	a[254] = 'c';
	a[255] = '\0';
	ck_assert_ptr_nonnull(strstr(delivery_mailbox_check(a, 255), "254"));
	ck_assert_ptr_nonnull(strstr(delivery_mailbox_check("a\0@b", 4), "NUL"));
}
END_TEST

/* ---- queue ids ---- */

START_TEST(id_format)
{
	char id[DELIVERY_ID_LEN + 1];
	delivery_id_format(0x123456789ABCDULL, 0xFEDCBA9u, id);
	ck_assert_str_eq(id, "123456789ABCDFEDCBA9");
	delivery_id_format(0, 0, id);
	ck_assert_str_eq(id, "00000000000000000000");
	delivery_id_format(UINT64_MAX, UINT32_MAX, id); /* reduced modulo 16^13, 28 bits */
	ck_assert_str_eq(id, "FFFFFFFFFFFFFFFFFFFF");
	/* Sortable: a later time sorts after, whatever the random part. */
	char a[DELIVERY_ID_LEN + 1], b[DELIVERY_ID_LEN + 1];
	delivery_id_format(1000000, 0xFFFFFFF, a);
	delivery_id_format(1000001, 0, b);
	ck_assert_int_lt(strcmp(a, b), 0);
}
END_TEST

static const struct {
	const char *s;
	size_t len;
	bool ok;
} id_cases[] = {
	{"../../../etc/passwd0", NOLEN, false},
	{"123456789ABCDFEDCBA9\0", 21, false},
	{"123456789abcdfedcba9", NOLEN, false},
	{"123456789ABCDFEDCBA", NOLEN, false},
	{"123456789ABCDFEDCBA90", NOLEN, false},
	{".tmp-123456789ABCDFE", NOLEN, false},
	{"", NOLEN, false},
	{"123456789ABCDFEDCBA9", NOLEN, true},
};

START_TEST(id_valid)
{
	size_t len = id_cases[_i].len == NOLEN ? strlen(id_cases[_i].s) : id_cases[_i].len;
	ck_assert_int_eq(delivery_id_valid(id_cases[_i].s, len), id_cases[_i].ok);
}
END_TEST

/* ---- sendmail input rules ---- */

static const struct input_case {
	const char *in;
	size_t len;
	bool dot_ends;
	int rc;
	const char *want;
} input_cases[] = {
	{"a\0b\n", 4, false, MXTLS_E_SYNTAX, ""},
	{"", NOLEN, true, 0, ""},
	{"a", NOLEN, true, 0, "a\r\n"},
	{"a\nb\r\nc", NOLEN, true, 0, "a\r\nb\r\nc\r\n"},
	{"a\n.\nb\n", NOLEN, true, 0, "a\r\n"},
	{"a\r\n.\r\nb\n", NOLEN, true, 0, "a\r\n"},
	{"a\n.\nb\n", NOLEN, false, 0, "a\r\n.\r\nb\r\n"},
	{"a\n..\nb\n", NOLEN, true, 0, "a\r\n..\r\nb\r\n"},
	{"a\n. \n", NOLEN, true, 0, "a\r\n. \r\n"},
	{".", NOLEN, true, 0, ""},
	{"From jane Tue Dec  1 00:00:00 2026\nSubject: x\n", NOLEN, true, 0, "Subject: x\r\n"},
	{"Subject: x\nFrom y\n", NOLEN, true, 0, "Subject: x\r\nFrom y\r\n"},
	{"a\rb\n", NOLEN, true, 0, "a\rb\r\n"},
};

START_TEST(input_normalize)
{
	const struct input_case *c = &input_cases[_i];
	struct util_buf out;
	util_buf_init(&out, 4096);
	const char *why = NULL;
	size_t len = c->len == NOLEN ? strlen(c->in) : c->len;
	ck_assert_int_eq(delivery_input_normalize(c->in, len, c->dot_ends, &out, &why), c->rc);
	ck_assert_str_eq(out.data ? out.data : "", c->want);
	ck_assert_int_eq(why != NULL, c->rc != 0);
	util_buf_free(&out);
}
END_TEST

START_TEST(input_cap)
{
	struct util_buf out;
	util_buf_init(&out, 5);
	const char *why;
	ck_assert_int_eq(delivery_input_normalize("abcd\n", 5, false, &out, &why), MXTLS_E_LIMIT);
	util_buf_free(&out);
}
END_TEST

/* ---- header fix-up ---- */

static const struct fixup_case {
	const char *in;
	bool date, mid, from; /* add these */
	const char *want;
} fixup_cases[] = {
	/* No header at all: the fields, an empty line, then the text as body. */
	{"hello\r\n", true, true, true, "Date: D\r\nFrom: F\r\nMessage-ID: <M>\r\n\r\nhello\r\n"},
	{"", true, true, true, "Date: D\r\nFrom: F\r\nMessage-ID: <M>\r\n\r\n"},
	/* A line that is not a field ends the header: an empty line is put before it. */
	{"Subject: s\r\nnot a field\r\n", true, false, false,
	 "Subject: s\r\nDate: D\r\n\r\nnot a field\r\n"},
	/* Bcc removed with its continuation lines, any case. */
	{"To: a@b\r\nbcC: x@y,\r\n z@w\r\nSubject: s\r\n\r\nBcc: body@stays\r\n", false, false,
	 false, "To: a@b\r\nSubject: s\r\n\r\nBcc: body@stays\r\n"},
	{"Subject: s\r\n\r\n", false, true, false, "Subject: s\r\nMessage-ID: <M>\r\n\r\n"},
	{" leading continuation\r\n", false, false, true,
	 "From: F\r\n\r\n leading continuation\r\n"},
	{": empty name\r\n\r\n", false, false, true, "From: F\r\n\r\n: empty name\r\n\r\n"},
};

START_TEST(header_fixup)
{
	const struct fixup_case *c = &fixup_cases[_i];
	struct delivery_fixup fx = {.date = c->date ? "D" : NULL,
				    .message_id = c->mid ? "<M>" : NULL,
				    .from = c->from ? "F" : NULL,
				    .remove_bcc = true};
	struct util_buf out;
	util_buf_init(&out, 4096);
	ck_assert_int_eq(delivery_header_fixup(c->in, strlen(c->in), &fx, &out), MXTLS_OK);
	ck_assert_str_eq(out.data, c->want);
	util_buf_free(&out);
}
END_TEST

START_TEST(header_has)
{
	struct delivery_has h;
	const char *m = "date: x\r\nMESSAGE-ID: <y>\r\nX-From: z\r\n\r\nFrom: body\r\n";
	delivery_header_has(m, strlen(m), &h);
	ck_assert(h.date && h.message_id && !h.from);
	m = "Resent-From: a\r\nFrom : b\r\n\r\n"; /* "From " (space) is no field name */
	delivery_header_has(m, strlen(m), &h);
	ck_assert(!h.date && !h.message_id && !h.from);
}
END_TEST

START_TEST(header_date_from)
{
	char d[40];
	delivery_header_date(0, d);
	ck_assert_str_eq(d, "Thu, 01 Jan 1970 00:00:00 +0000");
	delivery_header_date(1796540400, d);
	ck_assert_str_eq(d, "Sun, 06 Dec 2026 07:00:00 +0000");
	delivery_header_date(INT64_MAX, d); /* beyond four-digit years: the epoch */
	ck_assert_str_eq(d, "Thu, 01 Jan 1970 00:00:00 +0000");
	struct util_buf b;
	util_buf_init(&b, 1024);
	ck_assert_int_eq(delivery_header_from("Jane \"J\" D\\oe", "j@h", &b), MXTLS_OK);
	ck_assert_str_eq(b.data, "\"Jane \\\"J\\\" D\\\\oe\" <j@h>");
	util_buf_reset(&b);
	ck_assert_int_eq(delivery_header_from(NULL, "j@h", &b), MXTLS_OK);
	ck_assert_str_eq(b.data, "j@h");
	util_buf_reset(&b);
	ck_assert_int_eq(delivery_header_from("x\r\nBcc: injected", "j@h", &b), MXTLS_E_INVAL);
	util_buf_free(&b);
}
END_TEST

/* ---- the spool on a temporary directory ---- */

static char tmpdir[256];
static char logbuf[8192];
static int64_t pinned = 1796540400; /* 2026-12-06T07:00:00Z */

static int64_t pinned_clock(void *arg)
{
	return pinned;
}

static void log_line(void *arg, enum mxtls_log_level level, const char *line)
{
	strncat(logbuf, line, sizeof logbuf - strlen(logbuf) - 2);
	strcat(logbuf, "\n");
}

static struct mxtls_ctx *new_ctx(void)
{
	struct mxtls_config *cfg;
	struct mxtls_ctx *ctx;
	char dir[300];
	snprintf(dir, sizeof dir, "%s/state", tmpdir);
	ck_assert_int_eq(mxtls_config_new(&cfg), MXTLS_OK);
	ck_assert_int_eq(mxtls_config_set(cfg, "state-dir", dir, NULL, 0), MXTLS_OK);
	ck_assert_int_eq(mxtls_ctx_new(cfg, &ctx, NULL, 0), MXTLS_OK);
	mxtls_config_free(cfg);
	mxtls_ctx_set_clock(ctx, pinned_clock, NULL);
	mxtls_ctx_set_log(ctx, MXTLS_LOG_WARNING, log_line, NULL);
	return ctx;
}

static void setup_tmp(void)
{
	snprintf(tmpdir, sizeof tmpdir, "%s/mxtls-delivery-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	logbuf[0] = '\0';
}

static void teardown_tmp(void)
{
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Entries of the msg/ directory, sorted names joined by "|". */
static void msg_files(char *out, size_t len)
{
	char dir[300];
	snprintf(dir, sizeof dir, "%s/state/queue/msg", tmpdir);
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	ck_assert_int_ge(n, 0);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' || strncmp(names[i]->d_name, ".tmp-", 5) == 0) {
			if (out[0] != '\0')
				strncat(out, "|", len - strlen(out) - 1);
			strncat(out, names[i]->d_name, len - strlen(out) - 1);
		}
		free(names[i]);
	}
	free(names);
}

static int submit(struct mxtls_queue *q, const char *msg, const char *const *rcpt, size_t n,
		  unsigned flags, char id[MXTLS_QUEUE_ID_SIZE], char *err, size_t errlen)
{
	struct mxtls_submission s = {.data = msg,
				     .len = strlen(msg),
				     .rcpt = rcpt,
				     .nrcpt = n,
				     .flags = flags,
				     .login = "jane",
				     .host = "host.example"};
	return mxtls_queue_submit(q, &s, id, err, errlen);
}

static const struct submit_case {
	const char *msg;
	const char *rcpt; /* one argument, or NULL */
	const char *sender;
	const char *name;
	unsigned flags;
	int rc;
	const char *why; /* substring of err */
} submit_cases[] = {
	{"x\n", "bad@@x", NULL, NULL, 0, MXTLS_E_INVAL, "recipient"},
	{"x\n", "a@b", "bad sender@x", NULL, 0, MXTLS_E_INVAL, "sender"},
	{"x\n", "a@b", NULL, "evil\nBcc: x@y", 0, MXTLS_E_INVAL, "full name"},
	{"x\n", NULL, NULL, NULL, 0, MXTLS_E_INVAL, "no recipients"},
	{"To: a@@b\n\nx\n", NULL, NULL, NULL, MXTLS_SUBMIT_RCPT_FROM_HEADERS, MXTLS_E_SYNTAX, "To"},
	{"Subject: none\n\nx\n", NULL, NULL, NULL, MXTLS_SUBMIT_RCPT_FROM_HEADERS, MXTLS_E_SYNTAX,
	 "no recipient"},
	{"To: undisclosed-recipients:;\n\nx\n", NULL, NULL, NULL, MXTLS_SUBMIT_RCPT_FROM_HEADERS,
	 MXTLS_E_SYNTAX, "no recipient"},
	{"To: a@b\n\nnul \0 inside\n", "a@b", NULL, NULL, 0, MXTLS_OK, NULL}, /* cut at the NUL */
};

START_TEST(submit_rejects)
{
	const struct submit_case *c = &submit_cases[_i];
	struct mxtls_ctx *ctx = new_ctx();
	struct mxtls_queue *q;
	char err[512] = "", id[MXTLS_QUEUE_ID_SIZE], files[512];
	ck_assert_int_eq(mxtls_queue_open(ctx, MXTLS_QUEUE_CLEANUP, &q, err, sizeof err), MXTLS_OK);
	const char *rcpt[1] = {c->rcpt};
	struct mxtls_submission s = {.data = c->msg,
				     .len = strlen(c->msg),
				     .rcpt = rcpt,
				     .nrcpt = c->rcpt ? 1 : 0,
				     .flags = c->flags,
				     .login = "jane",
				     .host = "host.example",
				     .sender = c->sender,
				     .full_name = c->name};
	int rc = mxtls_queue_submit(q, &s, id, err, sizeof err);
	ck_assert_msg(rc == c->rc, "case %d: rc %d (%s)", _i, rc, err);
	if (c->why != NULL)
		ck_assert_msg(strstr(err, c->why) != NULL, "case %d: '%s'", _i, err);
	if (rc != MXTLS_OK) {
		msg_files(files, sizeof files);
		ck_assert_str_eq(files, "");
	}
	mxtls_queue_close(q);
	mxtls_ctx_free(ctx);
}
END_TEST

START_TEST(submit_nul_rejected)
{
	struct mxtls_ctx *ctx = new_ctx();
	struct mxtls_queue *q;
	char err[512] = "", id[MXTLS_QUEUE_ID_SIZE];
	ck_assert_int_eq(mxtls_queue_open(ctx, MXTLS_QUEUE_CLEANUP, &q, err, sizeof err), MXTLS_OK);
	const char *rcpt[] = {"a@b"};
	struct mxtls_submission s = {
		.data = "x\0y\n", .len = 4, .rcpt = rcpt, .nrcpt = 1, .login = "jane"};
	ck_assert_int_eq(mxtls_queue_submit(q, &s, id, err, sizeof err), MXTLS_E_SYNTAX);
	ck_assert_ptr_nonnull(strstr(err, "NUL"));
	mxtls_queue_close(q);
	mxtls_ctx_free(ctx);
}
END_TEST

START_TEST(spool_accept_and_manage)
{
	struct mxtls_ctx *ctx = new_ctx();
	struct mxtls_queue *q;
	char err[512] = "", id1[MXTLS_QUEUE_ID_SIZE], id2[MXTLS_QUEUE_ID_SIZE], files[512];
	ck_assert_int_eq(mxtls_queue_open(ctx, MXTLS_QUEUE_CLEANUP, &q, err, sizeof err), MXTLS_OK);
	const char *rcpt[] = {"Bob <bob@example.com>, root", "bob@example.com"};
	ck_assert_int_eq(submit(q, "Subject: one\nBcc: hidden@example.net\n\nbody\n.\nafter\n",
				rcpt, 2, MXTLS_SUBMIT_DOT_ENDS | MXTLS_SUBMIT_RCPT_FROM_HEADERS,
				id1, err, sizeof err),
			 MXTLS_OK);
	ck_assert(delivery_id_valid(id1, strlen(id1)));
	ck_assert_int_eq(submit(q, "Subject: two\n\nx\n", rcpt + 1, 1, 0, id2, err, sizeof err),
			 MXTLS_OK);
	ck_assert_int_lt(strcmp(id1, id2), 0);

	/* The body as queued: fields added exactly, Bcc gone, the dot rule applied. */
	char *body;
	size_t len;
	ck_assert_int_eq(mxtls_queue_body(q, id1, &body, &len), MXTLS_OK);
	char want[512];
	snprintf(want, sizeof want,
		 "Subject: one\r\nDate: Sun, 06 Dec 2026 07:00:00 +0000\r\n"
		 "From: jane@host.example\r\nMessage-ID: <%s@host.example>\r\n\r\nbody\r\n",
		 id1);
	ck_assert_str_eq(body, want);
	ck_assert_uint_eq(len, strlen(want));
	mxtls_free(body);

	struct mxtls_queue_list *l;
	ck_assert_int_eq(mxtls_queue_list(q, NULL, &l, err, sizeof err), MXTLS_OK);
	ck_assert_uint_eq(mxtls_queue_list_count(l), 2);
	ck_assert_str_eq(mxtls_queue_list_id(l, 0), id1);
	ck_assert_str_eq(mxtls_queue_list_sender(l, 0), "jane@host.example");
	ck_assert_int_eq(mxtls_queue_list_size(l, 0), (int64_t)strlen(want));
	ck_assert_int_eq(mxtls_queue_list_queued_at(l, 0), pinned);
	ck_assert_ptr_null(mxtls_queue_list_problem(l, 0));
	ck_assert_uint_eq(mxtls_queue_list_rcpt_count(l, 0), 3);
	ck_assert_str_eq(mxtls_queue_list_rcpt(l, 0, 0), "bob@example.com");
	ck_assert_str_eq(mxtls_queue_list_rcpt(l, 0, 1), "root@host.example");
	ck_assert_str_eq(mxtls_queue_list_rcpt(l, 0, 2), "hidden@example.net");
	ck_assert_str_eq(mxtls_queue_list_rcpt_state(l, 0, 0), "pending");
	ck_assert_int_eq(mxtls_queue_list_rcpt_attempts(l, 0, 0), 0);
	ck_assert_int_eq(mxtls_queue_list_rcpt_next_attempt(l, 0, 0), pinned);
	ck_assert_ptr_null(mxtls_queue_list_rcpt_last_host(l, 0, 0));
	ck_assert_ptr_null(mxtls_queue_list_rcpt(l, 0, 3));
	ck_assert_ptr_null(mxtls_queue_list_id(l, 2));
	mxtls_queue_list_free(l);

	/* hold, release, flush, delete, and their errors. */
	ck_assert_int_eq(mxtls_queue_hold(q, id1, err, sizeof err), MXTLS_OK);
	ck_assert_int_eq(mxtls_queue_list(q, id1, &l, err, sizeof err), MXTLS_OK);
	ck_assert_str_eq(mxtls_queue_list_rcpt_state(l, 0, 2), "held");
	mxtls_queue_list_free(l);
	pinned += 100;
	ck_assert_int_eq(mxtls_queue_flush(q, NULL, err, sizeof err), MXTLS_OK);
	ck_assert_int_eq(mxtls_queue_list(q, NULL, &l, err, sizeof err), MXTLS_OK);
	ck_assert_str_eq(mxtls_queue_list_rcpt_state(l, 0, 0), "held"); /* held stays held */
	ck_assert_int_eq(mxtls_queue_list_rcpt_next_attempt(l, 1, 0), pinned - 100); /* due */
	mxtls_queue_list_free(l);
	ck_assert_int_eq(mxtls_queue_release(q, id1, err, sizeof err), MXTLS_OK);
	ck_assert_int_eq(mxtls_queue_list(q, id1, &l, err, sizeof err), MXTLS_OK);
	ck_assert_str_eq(mxtls_queue_list_rcpt_state(l, 0, 0), "pending");
	ck_assert_int_eq(mxtls_queue_list_rcpt_next_attempt(l, 0, 0), pinned);
	mxtls_queue_list_free(l);
	ck_assert_int_eq(mxtls_queue_hold(q, "00000000000000000000", err, sizeof err),
			 MXTLS_E_NOTFOUND);
	ck_assert_int_eq(mxtls_queue_release(q, "../x", err, sizeof err), MXTLS_E_INVAL);
	ck_assert_int_eq(mxtls_queue_list(q, "00000000000000000000", &l, err, sizeof err),
			 MXTLS_E_NOTFOUND);
	ck_assert_int_eq(mxtls_queue_delete(q, id1, err, sizeof err), MXTLS_OK);
	ck_assert_int_eq(mxtls_queue_delete(q, id1, err, sizeof err), MXTLS_E_NOTFOUND);
	msg_files(files, sizeof files);
	ck_assert_str_eq(files, id2);
	ck_assert_int_eq(mxtls_queue_list(q, NULL, &l, err, sizeof err), MXTLS_OK);
	ck_assert_uint_eq(mxtls_queue_list_count(l), 1);
	mxtls_queue_list_free(l);
	ck_assert_str_eq(logbuf, "");
	mxtls_queue_close(q);
	mxtls_ctx_free(ctx);
}
END_TEST

/* ---- durability order: failures and crashes at each point ---- */

struct fault_plan {
	const char *point;
	enum delivery_fault what;
};

static enum delivery_fault inject(void *arg, const char *point)
{
	const struct fault_plan *p = arg;
	return strcmp(point, p->point) == 0 ? p->what : DELIVERY_FAULT_NONE;
}

static const struct fault_case {
	struct fault_plan plan;
	const char *left;   /* what msg/ holds right after: "", "temp" or "body" */
	const char *logged; /* what the reopen logs */
} fault_cases[] = {
	{{DELIVERY_FAULT_TEMP_WRITTEN, DELIVERY_FAULT_FAIL}, "", ""},
	{{DELIVERY_FAULT_BODY_DURABLE, DELIVERY_FAULT_FAIL}, "", ""},
	{{DELIVERY_FAULT_TEMP_WRITTEN, DELIVERY_FAULT_CRASH}, "temp", "event=queue-temp-removed"},
	{{DELIVERY_FAULT_BODY_DURABLE, DELIVERY_FAULT_CRASH}, "body", "event=queue-orphan-removed"},
};

START_TEST(durability_order)
{
	const struct fault_case *c = &fault_cases[_i];
	struct mxtls_ctx *ctx = new_ctx();
	struct mxtls_queue *q;
	char err[512] = "", id0[MXTLS_QUEUE_ID_SIZE], id[MXTLS_QUEUE_ID_SIZE], files[512];
	const char *rcpt[] = {"a@example.com"};
	ck_assert_int_eq(mxtls_queue_open(ctx, MXTLS_QUEUE_CLEANUP, &q, err, sizeof err), MXTLS_OK);
	ck_assert_int_eq(submit(q, "Subject: kept\n\nx\n", rcpt, 1, 0, id0, err, sizeof err),
			 MXTLS_OK);
	q->fault = inject;
	q->fault_arg = (void *)&c->plan;
	ck_assert_int_ne(submit(q, "Subject: lost\n\nx\n", rcpt, 1, 0, id, err, sizeof err),
			 MXTLS_OK);
	/* Nothing of the failed message is visible in the index. */
	struct mxtls_queue_list *l;
	ck_assert_int_eq(mxtls_queue_list(q, NULL, &l, err, sizeof err), MXTLS_OK);
	ck_assert_uint_eq(mxtls_queue_list_count(l), 1);
	ck_assert_str_eq(mxtls_queue_list_id(l, 0), id0);
	mxtls_queue_list_free(l);
	msg_files(files, sizeof files);
	if (strcmp(c->left, "") == 0) {
		ck_assert_str_eq(files, id0);
	} else {
		char *bar = strchr(files, '|');
		ck_assert_msg(bar != NULL, "files: %s", files);
		if (strcmp(c->left, "temp") == 0)
			ck_assert_int_eq(strncmp(files, ".tmp-", 5), 0);
		else
			ck_assert_int_eq(strncmp(bar + 1, id0, DELIVERY_ID_LEN) != 0 ||
						 strncmp(files, id0, DELIVERY_ID_LEN) != 0,
					 1);
	}
	mxtls_queue_close(q);
	/* Opened for a submission (no clean-up asked for): the leftovers stay. */
	char before[512];
	snprintf(before, sizeof before, "%s", files);
	ck_assert_int_eq(mxtls_queue_open(ctx, 0, &q, err, sizeof err), MXTLS_OK);
	msg_files(files, sizeof files);
	ck_assert_str_eq(files, before);
	ck_assert_str_eq(logbuf, "");
	mxtls_queue_close(q);
	/* Reopened with clean-up (nobody else in the spool): the leftovers are removed with a
	 * log line. */
	ck_assert_int_eq(mxtls_queue_open(ctx, MXTLS_QUEUE_CLEANUP, &q, err, sizeof err), MXTLS_OK);
	msg_files(files, sizeof files);
	ck_assert_str_eq(files, id0);
	ck_assert_msg(strstr(logbuf, c->logged) != NULL, "log: %s", logbuf);
	if (c->logged[0] == '\0')
		ck_assert_str_eq(logbuf, "");
	mxtls_queue_close(q);
	mxtls_ctx_free(ctx);
}
END_TEST

START_TEST(cleanup_waits_for_others)
{
	/* A second user of the spool keeps a body without its row from being removed: it may be
	 * between the two writes. */
	struct mxtls_ctx *ctx = new_ctx();
	struct mxtls_queue *q1, *q2;
	char err[512] = "", id[MXTLS_QUEUE_ID_SIZE], files[512];
	const char *rcpt[] = {"a@example.com"};
	ck_assert_int_eq(mxtls_queue_open(ctx, MXTLS_QUEUE_CLEANUP, &q1, err, sizeof err),
			 MXTLS_OK);
	struct fault_plan plan = {DELIVERY_FAULT_BODY_DURABLE, DELIVERY_FAULT_CRASH};
	q1->fault = inject;
	q1->fault_arg = &plan;
	ck_assert_int_ne(submit(q1, "x\n", rcpt, 1, 0, id, err, sizeof err), MXTLS_OK);
	ck_assert_int_eq(mxtls_queue_open(ctx, MXTLS_QUEUE_CLEANUP, &q2, err, sizeof err),
			 MXTLS_OK);
	msg_files(files, sizeof files);
	ck_assert_uint_eq(strlen(files), DELIVERY_ID_LEN); /* still there */
	ck_assert_str_eq(logbuf, "");
	mxtls_queue_close(q2);
	mxtls_queue_close(q1);
	mxtls_ctx_free(ctx);
}
END_TEST

/* ---- damaged rows and missing bodies: reported, not fatal ---- */

static const char *const damage_sql[] = {
	"UPDATE recipients SET state = 'bogus' WHERE message_id = '@'",
	"UPDATE recipients SET next_attempt = 'soon' WHERE message_id = '@'",
	"UPDATE messages SET id = 'not-an-id' WHERE id = '@';"
	"UPDATE recipients SET message_id = 'not-an-id' WHERE message_id = '@'",
};

/* Opens the queue of a fresh context and queues two one-recipient messages, id1 then id2. */
static struct mxtls_queue *open_with_two(struct mxtls_ctx *ctx, char *id1, char *id2)
{
	struct mxtls_queue *q;
	char err[512] = "";
	const char *rcpt[] = {"a@example.com"};
	ck_assert_int_eq(mxtls_queue_open(ctx, MXTLS_QUEUE_CLEANUP, &q, err, sizeof err), MXTLS_OK);
	ck_assert_int_eq(submit(q, "x\n", rcpt, 1, 0, id1, err, sizeof err), MXTLS_OK);
	ck_assert_int_eq(submit(q, "y\n", rcpt, 1, 0, id2, err, sizeof err), MXTLS_OK);
	return q;
}

START_TEST(damaged_row_reported)
{
	struct mxtls_ctx *ctx = new_ctx();
	char err[512] = "", id1[MXTLS_QUEUE_ID_SIZE], id2[MXTLS_QUEUE_ID_SIZE];
	struct mxtls_queue *q = open_with_two(ctx, id1, id2);
	char path[400], sql[400];
	snprintf(path, sizeof path, "%s/state/queue/index.sqlite", tmpdir);
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	/* Each '@' of the statement is id1. */
	size_t n = 0;
	for (const char *p = damage_sql[_i]; *p != '\0' && n + DELIVERY_ID_LEN < sizeof sql; p++) {
		if (*p == '@') {
			memcpy(sql + n, id1, DELIVERY_ID_LEN);
			n += DELIVERY_ID_LEN;
		} else {
			sql[n++] = *p;
		}
	}
	sql[n] = '\0';
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	struct mxtls_queue_list *l;
	ck_assert_int_eq(mxtls_queue_list(q, NULL, &l, err, sizeof err), MXTLS_OK);
	ck_assert_uint_eq(mxtls_queue_list_count(l), 1);
	ck_assert_str_eq(mxtls_queue_list_id(l, 0), id2);
	mxtls_queue_list_free(l);
	ck_assert_msg(strstr(logbuf, "event=queue-row-damaged") != NULL, "log: %s", logbuf);
	mxtls_queue_close(q);
	mxtls_ctx_free(ctx);
}
END_TEST

START_TEST(missing_body_reported)
{
	struct mxtls_ctx *ctx = new_ctx();
	char err[512] = "", id1[MXTLS_QUEUE_ID_SIZE], id2[MXTLS_QUEUE_ID_SIZE], path[400];
	struct mxtls_queue *q = open_with_two(ctx, id1, id2);
	snprintf(path, sizeof path, "%s/state/queue/msg/%s", tmpdir, id1);
	ck_assert_int_eq(unlink(path), 0);
	struct mxtls_queue_list *l;
	ck_assert_int_eq(mxtls_queue_list(q, NULL, &l, err, sizeof err), MXTLS_OK);
	ck_assert_uint_eq(mxtls_queue_list_count(l), 2);
	ck_assert_str_eq(mxtls_queue_list_problem(l, 0), "body file missing");
	ck_assert_ptr_null(mxtls_queue_list_problem(l, 1));
	mxtls_queue_list_free(l);
	ck_assert_ptr_nonnull(strstr(logbuf, "event=queue-body-missing"));
	char *body;
	size_t len;
	ck_assert_int_eq(mxtls_queue_body(q, id1, &body, &len), MXTLS_E_NOTFOUND);
	mxtls_queue_close(q);
	mxtls_ctx_free(ctx);
}
END_TEST

/* ---- RFC 3464 delivery status notifications: hostile first ---- */

#define DSN_QID "0123456789ABCDEF0123"
static const char dsn_headers[] = "From: Alice <alice@example.org>\r\nTo: bob@example.net\r\n"
				  "Subject: hello\r\nMessage-ID: <m1@example.org>\r\n\r\n";
static const char dsn_reply[] = "550-5.1.1 The email account that you tried to reach does not "
				"exist.\r\n550 5.1.1 Please check the address.";

/* The pinned case of tests/dsn/dsn-tool.c ("basic"): one failed recipient. */
static void dsn_basic(struct delivery_dsn *d, struct delivery_dsn_rcpt *r)
{
	*r = (struct delivery_dsn_rcpt){
		.addr = "bob@example.net",
		.orig_rcpt = "Bob@Example.NET",
		.action = DELIVERY_DSN_FAILED,
		.status = "5.1.1",
		.remote_mta = "mx1.example.net",
		.reply = dsn_reply,
		.reply_len = sizeof dsn_reply - 1,
		.last_attempt = 1796126460, /* Tue, 01 Dec 2026 12:01:00 +0000 */
	};
	*d = (struct delivery_dsn){
		.reporting_mta = "mail.example.org",
		.queue_id = DSN_QID,
		.envid = "ENV-42",
		.sender = "alice@example.org",
		.arrival = 1796126400,
		.now = 1796126470,
		.headers = dsn_headers,
		.headers_len = sizeof dsn_headers - 1,
		.rcpts = r,
		.nrcpts = 1,
	};
}

/* Builds d; asserts MXTLS_OK, CRLF-only line ends, no line over maxline, 7-bit only and a
 * terminating NUL.  Caller frees the result. */
static char *dsn_ok(const struct delivery_dsn *d, size_t maxline, size_t *len_out)
{
	char *out = NULL;
	size_t len = 0;
	const char *why = NULL;
	int rc = delivery_dsn_build(d, &out, &len, &why);
	ck_assert_msg(rc == MXTLS_OK, "rc %d why %s", rc, why ? why : "-");
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(strlen(out), len);
	size_t line = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)out[i];
		ck_assert_msg(c < 0x80, "8-bit byte at %zu", i);
		if (c == '\r') {
			ck_assert_msg(i + 1 < len && out[i + 1] == '\n', "bare CR at %zu", i);
			i++;
			line = 0;
			continue;
		}
		ck_assert_msg(c != '\n', "bare LF at %zu", i);
		ck_assert_msg(c >= 0x20 || c == '\t', "control byte %u at %zu", c, i);
		ck_assert_msg(++line <= maxline, "line over %zu octets at %zu", maxline, i);
	}
	ck_assert_msg(len >= 2 && out[len - 2] == '\r' && out[len - 1] == '\n', "no final CRLF");
	if (len_out != NULL)
		*len_out = len;
	return out;
}

static const struct dsn_reject_case {
	const char *sender, *addr, *status, *remote, *host, *qid;
	const char *why;
} dsn_reject_cases[] = {
	/* RFC 5321 §4.5.5: never to the null reverse-path. */
	{"", "b@x", "5.1.1", "mx", "h", DSN_QID, "4.5.5"},
	{NULL, "b@x", "5.1.1", "mx", "h", DSN_QID, "4.5.5"},
	{"a@x\r\nBcc: evil@x", "b@x", "5.1.1", "mx", "h", DSN_QID, "sender"},
	{"a@x>", "b@x", "5.1.1", "mx", "h", DSN_QID, "sender"},
	{"a@x", "b@x\r\nX: y", "5.1.1", "mx", "h", DSN_QID, "recipient"},
	{"a@x", "b@x\xc3\xa9", "5.1.1", "mx", "h", DSN_QID, "recipient"},
	{"a@x", "", "5.1.1", "mx", "h", DSN_QID, "recipient"},
	{"a@x", "b@x", "5.1", "mx", "h", DSN_QID, "status"},
	{"a@x", "b@x", "6.1.1", "mx", "h", DSN_QID, "status"},
	{"a@x", "b@x", "5.1.1000", "mx", "h", DSN_QID, "status"},
	{"a@x", "b@x", "5.1.1 ", "mx", "h", DSN_QID, "status"},
	{"a@x", "b@x", "5.1.1", "mx x", "h", DSN_QID, "remote MTA"},
	{"a@x", "b@x", "5.1.1", "mx", "h\n", DSN_QID, "reporting MTA"},
	{"a@x", "b@x", "5.1.1", "mx", "", DSN_QID, "reporting MTA"},
	{"a@x", "b@x", "5.1.1", "mx", "h", "Q-1", "queue id"},
	{"a@x", "b@x", "5.1.1", "mx", "h", "", "queue id"},
};

START_TEST(dsn_rejects)
{
	const struct dsn_reject_case *c = &dsn_reject_cases[_i];
	struct delivery_dsn d;
	struct delivery_dsn_rcpt r;
	dsn_basic(&d, &r);
	d.sender = c->sender;
	r.addr = c->addr;
	r.status = c->status;
	r.remote_mta = c->remote;
	d.reporting_mta = c->host;
	d.queue_id = c->qid;
	char *out = (char *)"untouched";
	size_t len = 7;
	const char *why = NULL;
	ck_assert_int_eq(delivery_dsn_build(&d, &out, &len, &why), MXTLS_E_INVAL);
	ck_assert_str_eq(out, "untouched"); /* all-or-nothing */
	ck_assert_uint_eq(len, 7);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, c->why) != NULL, "why '%s' lacks '%s'", why, c->why);
}
END_TEST

START_TEST(dsn_too_long_token)
{
	struct delivery_dsn d;
	struct delivery_dsn_rcpt r;
	dsn_basic(&d, &r);
	char addr[DELIVERY_DSN_TOKEN_MAX + 2];
	memset(addr, 'a', sizeof addr - 1);
	addr[sizeof addr - 1] = '\0';
	addr[1] = '@';
	r.addr = addr;
	char *out = NULL;
	size_t len = 0;
	ck_assert_int_eq(delivery_dsn_build(&d, &out, &len, NULL), MXTLS_E_INVAL);
	addr[DELIVERY_DSN_TOKEN_MAX] = '\0'; /* exactly at the cap: accepted */
	out = dsn_ok(&d, 998, NULL);
	free(out);
}
END_TEST

/* A reply with CR, LF, NUL, controls and 8-bit bytes: one unfolded Diagnostic-Code line, no
 * injected field, each bad byte a '?'. */
START_TEST(dsn_reply_hostile)
{
	static const char reply[] = "550 5.7.1 a\r\nX-Injected: yes\r\n\r\nb\0c\x01\x1b\x7f"
				    "\xc3\xa9 \t d\re\nf\r\n";
	struct delivery_dsn d;
	struct delivery_dsn_rcpt r;
	dsn_basic(&d, &r);
	r.reply = reply;
	r.reply_len = sizeof reply - 1;
	char *out = dsn_ok(&d, 78, NULL);
	ck_assert_ptr_nonnull(strstr(out, "\r\nDiagnostic-Code: smtp; 550 5.7.1 a X-Injected: yes "
					  "b?c????? d e f\r\nLast-Attempt-Date: "));
	ck_assert_ptr_null(strstr(out, "\r\nX-Injected"));
	ck_assert_ptr_nonnull(
		strstr(out, "\r\n    The server said: 550 5.7.1 a X-Injected: yes b?c????? d e f\r\n"));
	free(out);
}
END_TEST

/* A 2000-byte reply without a space: folded into pieces of at most 77 bytes, every byte kept. */
START_TEST(dsn_reply_2000)
{
	char reply[2000];
	memset(reply, 'z', sizeof reply);
	struct delivery_dsn d;
	struct delivery_dsn_rcpt r;
	dsn_basic(&d, &r);
	r.reply = reply;
	r.reply_len = sizeof reply;
	char *out = dsn_ok(&d, 78, NULL);
	const char *p = strstr(out, "\r\nDiagnostic-Code: smtp;\r\n z");
	ck_assert_ptr_nonnull(p);
	const char *end = strstr(p, "\r\nLast-Attempt-Date:");
	ck_assert_ptr_nonnull(end);
	size_t z = 0;
	for (const char *q = p + strlen("\r\nDiagnostic-Code: smtp;"); q < end; q++) {
		if (*q == 'z')
			z++;
		else
			ck_assert_msg(*q != ' ' || q[-1] == '\n', "space not from folding");
	}
	ck_assert_uint_eq(z, 2000);
	free(out);
}
END_TEST

/* Every RFC 8460 result type: named in the report and explained in the text. */
START_TEST(dsn_result_types)
{
	enum mxtls_result rt = (enum mxtls_result)_i;
	struct delivery_dsn d;
	struct delivery_dsn_rcpt r;
	dsn_basic(&d, &r);
	r.tls_result = rt;
	r.status = "4.7.5";
	char *out = dsn_ok(&d, 78, NULL);
	char want[128];
	const char *words = delivery_dsn_tls_words(rt);
	if (rt == MXTLS_RESULT_OK) {
		ck_assert_ptr_null(words);
		ck_assert_ptr_null(strstr(out, "X-Mxtls-TLS-Result"));
		ck_assert_ptr_null(strstr(out, "Security"));
	} else {
		ck_assert_ptr_nonnull(words);
		ck_assert_str_ne(mxtls_result_name(rt), "unknown");
		snprintf(want, sizeof want, "\r\nX-Mxtls-TLS-Result: %s\r\n", mxtls_result_name(rt));
		ck_assert_ptr_nonnull(strstr(out, want));
		snprintf(want, sizeof want, "    Security (TLS report result %s):",
			 mxtls_result_name(rt));
		ck_assert_ptr_nonnull(strstr(out, want));
	}
	free(out);
}
END_TEST

START_TEST(dsn_words_exact)
{
	ck_assert_str_eq(delivery_dsn_tls_words(MXTLS_RESULT_STARTTLS_NOT_SUPPORTED),
			 "the receiving server did not offer STARTTLS, and the recipient's domain "
			 "requires encryption (DANE or MTA-STS); the message was not sent "
			 "unencrypted.");
	ck_assert_ptr_null(delivery_dsn_tls_words((enum mxtls_result)99));
}
END_TEST

/* Delay warning vs failure: subject, Action, Will-Retry-Until only for delayed recipients. */
START_TEST(dsn_delay_vs_failure)
{
	struct delivery_dsn d;
	struct delivery_dsn_rcpt r[2];
	dsn_basic(&d, &r[0]);
	r[0].will_retry_until = 1796558400; /* ignored: a failed recipient is not retried */
	r[1] = r[0];
	r[1].addr = "late@example.net";
	r[1].orig_rcpt = NULL;
	r[1].action = DELIVERY_DSN_DELAYED;
	r[1].status = "4.4.1";
	r[1].remote_mta = "";
	r[1].reply = NULL;
	r[1].reply_len = 0;
	d.rcpts = r;
	d.nrcpts = 2;
	char *out = dsn_ok(&d, 78, NULL);
	ck_assert_ptr_nonnull(strstr(out, "\r\nSubject: Undelivered Mail Returned to Sender\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "Message-ID: <1796126470.failure." DSN_QID
					  "@mail.example.org>\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "\r\nFinal-Recipient: rfc822; bob@example.net\r\n"
					  "Action: failed\r\nStatus: 5.1.1\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nFinal-Recipient: rfc822; late@example.net\r\n"
					  "Action: delayed\r\nStatus: 4.4.1\r\n"
					  "Last-Attempt-Date: Tue, 01 Dec 2026 12:01:00 +0000\r\n"
					  "Will-Retry-Until: Sun, 06 Dec 2026 12:00:00 +0000\r\n"));
	const char *first = strstr(out, "Will-Retry-Until");
	ck_assert_ptr_nonnull(first);
	ck_assert_ptr_null(strstr(first + 1, "Will-Retry-Until"));
	ck_assert_ptr_nonnull(
		strstr(out, "    Last attempt: Tue, 01 Dec 2026 12:01:00 +0000; no receiving"));
	free(out);
	d.delay = true;
	out = dsn_ok(&d, 78, NULL);
	ck_assert_ptr_nonnull(strstr(out, "\r\nSubject: Delayed Mail (still being retried)\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "Message-ID: <1796126470.delay."));
	ck_assert_ptr_nonnull(strstr(out, "This is a warning only"));
	ck_assert_ptr_nonnull(strstr(out, "Content-Description: Message Headers\r\n"));
	free(out);
}
END_TEST

/* The boundary never occurs in a part: original headers holding the first candidate push it
 * to the next; 8-bit headers go quoted-printable, byte for byte. */
START_TEST(dsn_boundary_and_8bit)
{
	static const char h[] = "Subject: x\r\nX-B: --=_dsn_" DSN_QID "_0\r\n\r\n";
	struct delivery_dsn d;
	struct delivery_dsn_rcpt r;
	dsn_basic(&d, &r);
	d.headers = h;
	d.headers_len = sizeof h - 1;
	char *out = dsn_ok(&d, 998, NULL);
	ck_assert_ptr_nonnull(strstr(out, "boundary=\"=_dsn_" DSN_QID "_1\"\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nSubject: x\r\nX-B: --=_dsn_" DSN_QID "_0\r\n"
					  "\r\n--=_dsn_" DSN_QID "_1--\r\n"));
	free(out);
	static const char h8[] = "Subject: J\xc3\xb6rg =\r\nX-Nul: a\0b\r\n";
	d.headers = h8;
	d.headers_len = sizeof h8 - 1;
	out = dsn_ok(&d, 76, NULL); /* 76: the text and quoted-printable lines */
	ck_assert_ptr_nonnull(strstr(out, "Content-Type: text/rfc822-headers\r\n"
					  "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
					  "Subject: J=C3=B6rg =3D\r\nX-Nul: a=00b\r\n\r\n--=_dsn_"));
	free(out);
	d.headers = NULL;
	d.headers_len = 0;
	out = dsn_ok(&d, 78, NULL);
	ck_assert_ptr_nonnull(strstr(out, "Content-Type: text/rfc822-headers\r\n\r\n\r\n--=_dsn_"
					  DSN_QID "_0--\r\n"));
	free(out);
}
END_TEST

/* One case pinned byte for byte (times pinned; the same input as tests/dsn's "basic"). */
START_TEST(dsn_pinned)
{
	static const char want[] =
	"From: Mail Delivery System <MAILER-DAEMON@mail.example.org>\r\n"
	"To: <alice@example.org>\r\n"
	"Subject: Undelivered Mail Returned to Sender\r\n"
	"Date: Tue, 01 Dec 2026 12:01:10 +0000\r\n"
	"Message-ID: <1796126470.failure.0123456789ABCDEF0123@mail.example.org>\r\n"
	"Auto-Submitted: auto-replied\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/report; report-type=delivery-status;\r\n"
	"\tboundary=\"=_dsn_0123456789ABCDEF0123_0\"\r\n"
	"\r\n"
	"This is a MIME-encapsulated message.\r\n"
	"\r\n"
	"--=_dsn_0123456789ABCDEF0123_0\r\n"
	"Content-Description: Notification\r\n"
	"Content-Type: text/plain; charset=us-ascii\r\n"
	"\r\n"
	"This is the mail system at host mail.example.org.\r\n"
	"\r\n"
	"Your message of Tue, 01 Dec 2026 12:00:00 +0000 (queue id\r\n"
	"0123456789ABCDEF0123) could not be delivered to one or more recipients; it\r\n"
	"is returned to you here. Each recipient is listed below with the reason. The\r\n"
	"delivery report and the header of your message are attached.\r\n"
	"\r\n"
	"<bob@example.net>: delivery failed (status 5.1.1).\r\n"
	"    Last attempt: Tue, 01 Dec 2026 12:01:00 +0000, at mx1.example.net.\r\n"
	"    The server said: 550-5.1.1 The email account that you tried to reach\r\n"
	"    does not exist. 550 5.1.1 Please check the address.\r\n"
	"\r\n"
	"--=_dsn_0123456789ABCDEF0123_0\r\n"
	"Content-Description: Delivery report\r\n"
	"Content-Type: message/delivery-status\r\n"
	"\r\n"
	"Reporting-MTA: dns; mail.example.org\r\n"
	"Original-Envelope-Id: ENV-42\r\n"
	"Arrival-Date: Tue, 01 Dec 2026 12:00:00 +0000\r\n"
	"\r\n"
	"Original-Recipient: rfc822; Bob@Example.NET\r\n"
	"Final-Recipient: rfc822; bob@example.net\r\n"
	"Action: failed\r\n"
	"Status: 5.1.1\r\n"
	"Remote-MTA: dns; mx1.example.net\r\n"
	"Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach\r\n"
	" does not exist. 550 5.1.1 Please check the address.\r\n"
	"Last-Attempt-Date: Tue, 01 Dec 2026 12:01:00 +0000\r\n"
	"\r\n"
	"--=_dsn_0123456789ABCDEF0123_0\r\n"
	"Content-Description: Undelivered Message Headers\r\n"
	"Content-Type: text/rfc822-headers\r\n"
	"\r\n"
	"From: Alice <alice@example.org>\r\n"
	"To: bob@example.net\r\n"
	"Subject: hello\r\n"
	"Message-ID: <m1@example.org>\r\n"
	"\r\n"
	"--=_dsn_0123456789ABCDEF0123_0--\r\n";
	struct delivery_dsn d;
	struct delivery_dsn_rcpt r;
	dsn_basic(&d, &r);
	size_t len;
	char *out = dsn_ok(&d, 78, &len);
	ck_assert_str_eq(out, want);
	ck_assert_uint_eq(len, sizeof want - 1);
	free(out);
}
END_TEST


/* delivery_retry_after(): hostile bounds first (overflow of the doubling and of the lifetime
 * end), then Postfix's schedule (300, 600, 1200, 2400, 4000, 4000 ...). */
static const struct retry_case {
	struct delivery_retry r;
	int64_t queued_at, now, attempts;
	bool expired;
	int64_t next; /* when not expired */
} retry_cases[] = {
	/* the doubling stops at retry_max, however many attempts */
	{{300, 4000, 432000}, 0, 1000, INT64_MAX, false, 5000},
	{{1, INT64_MAX, INT64_MAX}, 0, 10, 200, false, INT64_MAX},
	/* a lifetime end past INT64_MAX stays there */
	{{300, 4000, INT64_MAX}, INT64_MAX - 10, INT64_MAX - 5, 1, false, INT64_MAX},
	/* at and after the lifetime end: expired (also a security deferral) */
	{{300, 4000, 432000}, 1000, 1000 + 432000, 9, true, 0},
	{{300, 4000, 432000}, 1000, 1000 + 432001, 9, true, 0},
	{{1, 1, 1}, 5, 6, 1, true, 0},
	/* the last attempt falls on the lifetime end, not after it */
	{{300, 4000, 432000}, 0, 431000, 20, false, 432000},
	{{300, 4000, 432000}, 0, 431999, 1, false, 432000},
	/* the schedule */
	{{300, 4000, 432000}, 0, 100, 1, false, 400},
	{{300, 4000, 432000}, 0, 100, 2, false, 700},
	{{300, 4000, 432000}, 0, 100, 3, false, 1300},
	{{300, 4000, 432000}, 0, 100, 4, false, 2500},
	{{300, 4000, 432000}, 0, 100, 5, false, 4100},
	{{300, 4000, 432000}, 0, 100, 6, false, 4100},
	{{1, 1, 100}, 0, 10, 7, false, 11},
};

START_TEST(retry_table)
{
	const struct retry_case *c = &retry_cases[_i];
	struct delivery_retry_verdict v =
		delivery_retry_after(&c->r, c->queued_at, c->now, c->attempts);
	ck_assert_msg(v.expired == c->expired, "case %d: expired %d", _i, v.expired);
	if (!c->expired)
		ck_assert_msg(v.next_attempt == c->next, "case %d: next %lld, want %lld", _i,
			      (long long)v.next_attempt, (long long)c->next);
}
END_TEST

static Suite *delivery_suite(void)
{
	Suite *s = suite_create("delivery");
	TCase *tc = tcase_create("addrlist");
	tcase_add_loop_test(tc, addrlist_parse, 0, ARRAY_LEN(addrlist_cases));
	tcase_add_test(tc, addrlist_callback_stops);
	tcase_add_test(tc, addrlist_long);
	tcase_add_loop_test(tc, mailbox_check, 0, ARRAY_LEN(mailbox_cases));
	tcase_add_test(tc, mailbox_lengths);
	suite_add_tcase(s, tc);
	tc = tcase_create("pure");
	tcase_add_test(tc, id_format);
	tcase_add_loop_test(tc, id_valid, 0, ARRAY_LEN(id_cases));
	tcase_add_loop_test(tc, input_normalize, 0, ARRAY_LEN(input_cases));
	tcase_add_test(tc, input_cap);
	tcase_add_loop_test(tc, header_fixup, 0, ARRAY_LEN(fixup_cases));
	tcase_add_test(tc, header_has);
	tcase_add_test(tc, header_date_from);
	tcase_add_loop_test(tc, retry_table, 0, ARRAY_LEN(retry_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("dsn");
	tcase_add_loop_test(tc, dsn_rejects, 0, ARRAY_LEN(dsn_reject_cases));
	tcase_add_test(tc, dsn_too_long_token);
	tcase_add_test(tc, dsn_reply_hostile);
	tcase_add_test(tc, dsn_reply_2000);
	tcase_add_loop_test(tc, dsn_result_types, MXTLS_RESULT_OK, MXTLS_RESULT_STS_WEBPKI_INVALID + 1);
	tcase_add_test(tc, dsn_words_exact);
	tcase_add_test(tc, dsn_delay_vs_failure);
	tcase_add_test(tc, dsn_boundary_and_8bit);
	tcase_add_test(tc, dsn_pinned);
	suite_add_tcase(s, tc);
	tc = tcase_create("spool");
	tcase_add_checked_fixture(tc, setup_tmp, teardown_tmp);
	tcase_add_loop_test(tc, submit_rejects, 0, ARRAY_LEN(submit_cases));
	tcase_add_test(tc, submit_nul_rejected);
	tcase_add_test(tc, spool_accept_and_manage);
	tcase_add_loop_test(tc, durability_order, 0, ARRAY_LEN(fault_cases));
	tcase_add_test(tc, cleanup_waits_for_others);
	tcase_add_loop_test(tc, damaged_row_reported, 0, ARRAY_LEN(damage_sql));
	tcase_add_test(tc, missing_body_reported);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(delivery_suite)
