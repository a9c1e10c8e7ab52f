/* SPDX-License-Identifier: MIT */
/* Unit tests for the SMTP submission listener's pure parts: the command parser, the session
 * machine (hostile input first, every script fed whole and byte by byte) and the CIDR parser. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>
#include <mxtls/queue.h>

#include "delivery/delivery_listener.h"
#include "delivery/delivery_smtpd_cmd.h"
#include "delivery/delivery_smtpd_session.h"
#include "test_main.h"

#define NOLEN ((size_t)-1) /* use strlen() */

/* ---- the command parser ---- */

static const struct cmd_case {
	const char *line;
	size_t len;
	bool esmtp, utf8;
	const char *reply; /* prefix of the refusal; NULL: accepted */
	enum delivery_smtpd_verb verb;
	const char *path; /* expected path when accepted (MAIL/RCPT) or helo (EHLO/HELO) */
	uint64_t size;    /* expected SIZE (0: none given) */
	enum delivery_smtpd_body body;
	bool smtputf8, requiretls;
} cmd_cases[] = {
	/* hostile and malformed first */
	{"NO\0OP", 5, true, false, "500 5.5.2", DELIVERY_SMTPD_UNKNOWN, NULL, 0, 0, 0, 0},
	{"RCPT TO:<a@b.example\r>", NOLEN, true, false, "500 5.5.2", 0, NULL, 0, 0, 0, 0},
	{"RCPT TO:<a@b.exa\x01mple>", NOLEN, true, false, "500 5.5.2", 0, NULL, 0, 0, 0, 0},
	{"RCPT TO:<a@b.example>\x7f", NOLEN, true, false, "500 5.5.2", 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<a@b.example>\tSIZE=1", NOLEN, true, false, "500 5.5.2", 0, NULL, 0, 0, 0, 0},
	{"", 0, true, false, "500 5.5.1", DELIVERY_SMTPD_UNKNOWN, NULL, 0, 0, 0, 0},
	{"XYZZY", NOLEN, true, false, "500 5.5.1", DELIVERY_SMTPD_UNKNOWN, NULL, 0, 0, 0, 0},
	{"EHLOX a", NOLEN, true, false, "500 5.5.1", DELIVERY_SMTPD_UNKNOWN, NULL, 0, 0, 0, 0},
	{" EHLO a", NOLEN, true, false, "500 5.5.1", DELIVERY_SMTPD_UNKNOWN, NULL, 0, 0, 0, 0},
	{"STARTTLS", NOLEN, true, false, "502 5.5.1", DELIVERY_SMTPD_STARTTLS, NULL, 0, 0, 0, 0},
	{"EHLO", NOLEN, true, false, "501 5.5.4", DELIVERY_SMTPD_EHLO, NULL, 0, 0, 0, 0},
	{"EHLO ", NOLEN, true, false, "501 5.5.4", DELIVERY_SMTPD_EHLO, NULL, 0, 0, 0, 0},
	{"EHLO a b", NOLEN, true, false, "501 5.5.4", DELIVERY_SMTPD_EHLO, NULL, 0, 0, 0, 0},
	{"EHLO h\xc3\xa9", NOLEN, true, false, "501 5.5.4", DELIVERY_SMTPD_EHLO, NULL, 0, 0, 0, 0},
	{"HELO", NOLEN, true, false, "501 5.5.4", DELIVERY_SMTPD_HELO, NULL, 0, 0, 0, 0},
	{"DATA x", NOLEN, true, false, "501 5.5.4", DELIVERY_SMTPD_DATA, NULL, 0, 0, 0, 0},
	{"RSET x", NOLEN, true, false, "501 5.5.4", DELIVERY_SMTPD_RSET, NULL, 0, 0, 0, 0},
	{"QUIT now", NOLEN, true, false, "501 5.5.4", DELIVERY_SMTPD_QUIT, NULL, 0, 0, 0, 0},
	{"VRFY", NOLEN, true, false, "501 5.5.4", DELIVERY_SMTPD_VRFY, NULL, 0, 0, 0, 0},
	{"VRFY ", NOLEN, true, false, "501 5.5.4", DELIVERY_SMTPD_VRFY, NULL, 0, 0, 0, 0},
	/* MAIL: syntax */
	{"MAIL", NOLEN, true, false, "501 5.5.4", DELIVERY_SMTPD_MAIL, NULL, 0, 0, 0, 0},
	{"MAIL TO:<a@b.example>", NOLEN, true, false, "501 5.5.4", DELIVERY_SMTPD_MAIL, NULL, 0, 0,
	 0, 0},
	{"MAIL FROM:a@b.example", NOLEN, true, false, "501 5.5.4", DELIVERY_SMTPD_MAIL, NULL, 0, 0,
	 0, 0},
	{"MAIL FROM:<a@b.example", NOLEN, true, false, "501 5.5.4", DELIVERY_SMTPD_MAIL, NULL, 0, 0,
	 0, 0},
	{"MAIL FROM:<a@b.example>x", NOLEN, true, false, "501 5.5.4", 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<a@b.example> ", NOLEN, true, false, "501 5.5.4", 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<a@b.example>  SIZE=1", NOLEN, true, false, "501 5.5.4", 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<a>b@c.example>", NOLEN, true, false, "501 5.5.4", 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<a@>", NOLEN, true, false, "501 5.1.7", 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<@b.example>", NOLEN, true, false, "501 5.1.7", 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<a b@c.example>", NOLEN, true, false, "501 5.1.7", 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<a..b@c.example>", NOLEN, true, false, "501 5.1.7", 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<a@-c.example>", NOLEN, true, false, "501 5.1.7", 0, NULL, 0, 0, 0, 0},
	/* MAIL: parameters (RFC 5321 §4.1.2 esmtp-param; 555 5.5.4 for unknown/duplicate) */
	{"MAIL FROM:<a@b.example> SIZE=1 SIZE=2", NOLEN, true, false, "555 5.5.4 Duplicate", 0,
	 NULL, 0, 0, 0, 0},
	{"MAIL FROM:<a@b.example> REQUIRETLS REQUIRETLS", NOLEN, true, false, "555 5.5.4 Duplicate",
	 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<a@b.example> BODY=7BIT body=8BITMIME", NOLEN, true, false,
	 "555 5.5.4 Duplicate", 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<a@b.example> FOO=1", NOLEN, true, false, "555 5.5.4 Unsupported", 0, NULL, 0,
	 0, 0, 0},
	{"MAIL FROM:<a@b.example> RET=HDRS", NOLEN, true, false, "555", 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<a@b.example> BODY=BINARYMIME", NOLEN, true, false, "555", 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<a@b.example> BODY", NOLEN, true, false, "555", 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<a@b.example> REQUIRETLS=yes", NOLEN, true, false, "555", 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<a@b.example> SMTPUTF8=1", NOLEN, true, false, "555", 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<a@b.example> SIZE", NOLEN, true, false, "555", 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<a@b.example> SIZE=", NOLEN, true, false, "555", 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<a@b.example> SIZE=-1", NOLEN, true, false, "555", 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<a@b.example> SIZE=1x", NOLEN, true, false, "555", 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<a@b.example> SIZE=123456789012345678901", NOLEN, true, false, "555", 0, NULL,
	 0, 0, 0, 0},
	{"MAIL FROM:<a@b.example> SIZE=1=2", NOLEN, true, false, "555", 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<a@b.example> -X", NOLEN, true, false, "555", 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<a@b.example> X_Y", NOLEN, true, false, "555", 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<a@b.example> SIZE=\xc3\xa9", NOLEN, true, false, "555", 0, NULL, 0, 0, 0, 0},
	/* parameters only after EHLO (RFC 5321 §4.1.1.11) */
	{"MAIL FROM:<a@b.example> SIZE=1", NOLEN, false, false, "555", 0, NULL, 0, 0, 0, 0},
	/* RCPT */
	{"RCPT TO:<>", NOLEN, true, false, "501 5.1.3", DELIVERY_SMTPD_RCPT, NULL, 0, 0, 0, 0},
	{"RCPT TO:<user>", NOLEN, true, false, "501 5.1.3", DELIVERY_SMTPD_RCPT, NULL, 0, 0, 0, 0},
	{"RCPT TO:<Postmaster>", NOLEN, true, false, "501 5.1.3", 0, NULL, 0, 0, 0, 0},
	{"RCPT TO:<a@[300.1.1.1]>", NOLEN, true, false, "501 5.1.3", 0, NULL, 0, 0, 0, 0},
	{"RCPT TO:<a@b.example> NOTIFY=NEVER", NOLEN, true, false, "555", 0, NULL, 0, 0, 0, 0},
	{"RCPT TO:<a@b.example> SIZE=1", NOLEN, true, false, "555", 0, NULL, 0, 0, 0, 0},
	{"RCPT TO:a@b.example", NOLEN, true, false, "501 5.5.4", 0, NULL, 0, 0, 0, 0},
	{"RCPT FROM:<a@b.example>", NOLEN, true, false, "501 5.5.4", 0, NULL, 0, 0, 0, 0},
	{"RCPT TO:<@relay.example:>", NOLEN, true, false, "501 5.1.3", 0, NULL, 0, 0, 0, 0},
	{"RCPT TO:<@relay.example>", NOLEN, true, false, "501 5.1.3", 0, NULL, 0, 0, 0, 0},
	{"RCPT TO:<relay.example:a@b.example>", NOLEN, true, false, "501 5.1.3", 0, NULL, 0, 0, 0,
	 0},
	/* 8-bit paths: UTF-8 only with SMTPUTF8 (RFC 6531 §3.3; else 553 5.6.7) */
	{"RCPT TO:<jos\xc3\xa9@b.example>", NOLEN, true, false, "553 5.6.7", 0, NULL, 0, 0, 0, 0},
	{"RCPT TO:<a@b\xc3\xa9.example>", NOLEN, true, false, "553 5.6.7", 0, NULL, 0, 0, 0, 0},
	{"MAIL FROM:<jos\xc3\xa9@b.example>", NOLEN, true, false, "553 5.6.7", 0, NULL, 0, 0, 0, 0},
	{"RCPT TO:<jos\xff@b.example>", NOLEN, true, true, "501 5.1.3", 0, NULL, 0, 0, 0, 0},
	{"RCPT TO:<jos\xc3@b.example>", NOLEN, true, true, "501 5.1.3", 0, NULL, 0, 0, 0, 0},
	{"RCPT TO:<jos\xed\xa0\x80@b.example>", NOLEN, true, true, "501 5.1.3", 0, NULL, 0, 0, 0,
	 0},
	{"RCPT TO:<jos\xc3\xa9@b.example>", NOLEN, true, true, NULL, DELIVERY_SMTPD_RCPT,
	 "jos\xc3\xa9@b.example", 0, 0, 0, 0},
	{"MAIL FROM:<jos\xc3\xa9@b.example> SMTPUTF8", NOLEN, true, false, NULL,
	 DELIVERY_SMTPD_MAIL, "jos\xc3\xa9@b.example", 0, 0, true, 0},
	/* caps: RFC 5321 §4.5.3.1.4 line (510 + CRLF), §4.5.3.1.3 path (256 with brackets) */
	{"NOOP xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	 511, true, false, "500 5.5.2 Line too long", 0, NULL, 0, 0, 0, 0},
	{"NOOP xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	 510, true, false, NULL, DELIVERY_SMTPD_NOOP, NULL, 0, 0, 0, 0},
	/* filled in by make_long_paths(): 256 octets accepted, 257 refused */
	{NULL, 0, true, false, NULL, DELIVERY_SMTPD_RCPT, NULL, 0, 0, 0, 0},
	{NULL, 0, true, false, "501 5.5.4 Path too long", DELIVERY_SMTPD_RCPT, NULL, 0, 0, 0, 0},
	/* accepted */
	{"EHLO client.example", NOLEN, false, false, NULL, DELIVERY_SMTPD_EHLO, "client.example", 0,
	 0, 0, 0},
	{"ehlo [127.0.0.1]", NOLEN, false, false, NULL, DELIVERY_SMTPD_EHLO, "[127.0.0.1]", 0, 0, 0,
	 0},
	{"HELO localhost", NOLEN, false, false, NULL, DELIVERY_SMTPD_HELO, "localhost", 0, 0, 0, 0},
	{"MAIL FROM:<>", NOLEN, false, false, NULL, DELIVERY_SMTPD_MAIL, "", 0, 0, 0, 0},
	{"mail from:<a@b.example>", NOLEN, false, false, NULL, DELIVERY_SMTPD_MAIL, "a@b.example",
	 0, 0, 0, 0},
	{"MAIL FROM: <a@b.example>", NOLEN, false, false, NULL, DELIVERY_SMTPD_MAIL, "a@b.example",
	 0, 0, 0, 0},
	{"MAIL FROM:<a@b.example> SIZE=100 BODY=8BITMIME SMTPUTF8 REQUIRETLS", NOLEN, true, false,
	 NULL, DELIVERY_SMTPD_MAIL, "a@b.example", 100, DELIVERY_SMTPD_BODY_8BITMIME, true, true},
	{"MAIL FROM:<> requiretls body=7bit", NOLEN, true, false, NULL, DELIVERY_SMTPD_MAIL, "", 0,
	 DELIVERY_SMTPD_BODY_7BIT, false, true},
	{"MAIL FROM:<a@b.example> SIZE=99999999999999999999", NOLEN, true, false, NULL,
	 DELIVERY_SMTPD_MAIL, "a@b.example", UINT64_MAX, 0, 0, 0},
	{"MAIL FROM:<a@b.example> SIZE=0", NOLEN, true, false, NULL, DELIVERY_SMTPD_MAIL,
	 "a@b.example", 0, 0, 0, 0},
	{"RCPT TO:<a@b.example>", NOLEN, true, false, NULL, DELIVERY_SMTPD_RCPT, "a@b.example", 0,
	 0, 0, 0},
	{"RCPT TO:<\"a b\"@b.example>", NOLEN, true, false, NULL, DELIVERY_SMTPD_RCPT,
	 "\"a b\"@b.example", 0, 0, 0, 0},
	{"RCPT TO:<a@[192.0.2.1]>", NOLEN, true, false, NULL, DELIVERY_SMTPD_RCPT, "a@[192.0.2.1]",
	 0, 0, 0, 0},
	{"RCPT TO:<a@[IPv6:2001:db8::1]>", NOLEN, true, false, NULL, DELIVERY_SMTPD_RCPT,
	 "a@[IPv6:2001:db8::1]", 0, 0, 0, 0},
	{"RCPT TO:<@r1.example,@[192.0.2.9]:u@dest.example>", NOLEN, true, false, NULL,
	 DELIVERY_SMTPD_RCPT, "u@dest.example", 0, 0, 0, 0},
	{"DATA", NOLEN, true, false, NULL, DELIVERY_SMTPD_DATA, NULL, 0, 0, 0, 0},
	{"rset", NOLEN, true, false, NULL, DELIVERY_SMTPD_RSET, NULL, 0, 0, 0, 0},
	{"NOOP", NOLEN, true, false, NULL, DELIVERY_SMTPD_NOOP, NULL, 0, 0, 0, 0},
	{"NOOP anything at all", NOLEN, true, false, NULL, DELIVERY_SMTPD_NOOP, NULL, 0, 0, 0, 0},
	{"HELP", NOLEN, true, false, NULL, DELIVERY_SMTPD_HELP, NULL, 0, 0, 0, 0},
	{"HELP MAIL", NOLEN, true, false, NULL, DELIVERY_SMTPD_HELP, NULL, 0, 0, 0, 0},
	{"VRFY postmaster", NOLEN, true, false, NULL, DELIVERY_SMTPD_VRFY, NULL, 0, 0, 0, 0},
	{"QUIT", NOLEN, true, false, NULL, DELIVERY_SMTPD_QUIT, NULL, 0, 0, 0, 0},
};

/* The two path-cap rows: "RCPT TO:<" local(64) "@" domain ">" with the path 256 / 257 octets. */
static char long_path[2][400];

static void make_long_paths(void)
{
	for (int k = 0; k < 2; k++) {
		/* 64 + 1 + domain + 2 brackets = 256 + k: domain of 189 + k octets in labels of
		 * at most 63. */
		size_t dlen = 189 + (size_t)k;
		char dom[256];
		size_t n = 0;
		while (n < dlen) {
			size_t label = dlen - n > 63 ? 62 : dlen - n;
			memset(dom + n, 'd', label);
			n += label;
			if (n < dlen)
				dom[n++] = '.';
		}
		dom[n] = '\0';
		char local[65];
		memset(local, 'l', 64);
		local[64] = '\0';
		snprintf(long_path[k], sizeof long_path[k], "RCPT TO:<%s@%s>", local, dom);
	}
}

START_TEST(cmd_parse)
{
	const struct cmd_case *t = &cmd_cases[_i];
	const char *line = t->line;
	size_t len = t->len;
	char want_path[300] = "";
	if (line == NULL) {
		make_long_paths();
		int k = t->reply == NULL ? 0 : 1;
		line = long_path[k];
		len = strlen(line);
		ck_assert_uint_eq(len, strlen("RCPT TO:") + 256 + (size_t)k);
		snprintf(want_path, sizeof want_path, "%.*s", (int)(len - 10), line + 9);
	} else if (len == NOLEN) {
		len = strlen(line);
	}
	const char *expect_path = t->line == NULL ? want_path : t->path;
	struct delivery_smtpd_cmd c;
	const char *why = delivery_smtpd_cmd_parse(line, len, t->esmtp, t->utf8, &c);
	if (t->reply == NULL) {
		ck_assert_msg(why == NULL, "case %d: refused: %s", _i, why);
	} else {
		ck_assert_msg(why != NULL, "case %d: accepted, expected %s", _i, t->reply);
		ck_assert_msg(strncmp(why, t->reply, strlen(t->reply)) == 0,
			      "case %d: got '%s', expected '%s'", _i, why, t->reply);
		if (t->verb != DELIVERY_SMTPD_UNKNOWN)
			ck_assert_int_eq(c.verb, t->verb);
		return;
	}
	ck_assert_int_eq(c.verb, t->verb);
	if (t->verb == DELIVERY_SMTPD_EHLO || t->verb == DELIVERY_SMTPD_HELO)
		ck_assert_str_eq(c.helo, t->path);
	if (t->verb == DELIVERY_SMTPD_MAIL || t->verb == DELIVERY_SMTPD_RCPT) {
		ck_assert_str_eq(c.path, expect_path);
		ck_assert_uint_eq(c.path_len, strlen(expect_path));
	}
	ck_assert_int_eq(c.has_size, t->size != 0 || strstr(line, "SIZE=0") != NULL);
	ck_assert_uint_eq(c.size, t->size);
	ck_assert_int_eq(c.body, t->body);
	ck_assert_int_eq(c.smtputf8, t->smtputf8);
	ck_assert_int_eq(c.requiretls, t->requiretls);
}
END_TEST

/* ---- the session machine ---- */

#define EHLO_R                                                                                     \
	"250-mx.test\r\n250-PIPELINING\r\n250-SIZE 209715200\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"  \
	"250 ENHANCEDSTATUSCODES\r\n"
#define EHLO_R10                                                                                   \
	"250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"         \
	"250 ENHANCEDSTATUSCODES\r\n"
#define ENV   "EHLO c\r\nMAIL FROM:<s@a.example>\r\nRCPT TO:<r@b.example>\r\nDATA\r\n"
#define ENV_R EHLO_R "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
#define Q1    "250 2.0.0 Ok: queued as ID1\r\n"

/* Rows leave the trailing fields they do not need at zero. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct session_case {
	const char *name;
	const char *in;
	size_t len;
	const char *out;              /* every reply, in order */
	bool closed;                  /* the session ended (CLOSE) */
	size_t max_message, max_rcpt; /* 0: the queue's caps */
	int queue_rc;                 /* what the fake queue answers */
	size_t queued;                /* messages handed to the queue */
	/* the last message handed to the queue */
	const char *sender, *rcpts; /* rcpts joined with ',' */
	const char *msg;
	size_t msg_len;
	bool requiretls;
} session_cases[] = {
	/* hostile first */
	{"endless line", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	 NOLEN, "", false},
	{"line of 513 octets", NULL, 0, "500 5.5.2 Line too long\r\n", true},
	{"line of 512 octets", NULL, 0, "250 2.0.0 Ok\r\n", false},
	{"NUL in a command", "NO\0OP\r\nNOOP\r\n", sizeof "NO\0OP\r\nNOOP\r\n" - 1,
	 "500 5.5.2 Syntax error: NUL or control byte in the command\r\n250 2.0.0 Ok\r\n", false},
	{"bare LF ends no command", "NOOP\nNOOP\r\n", NOLEN,
	 "500 5.5.2 Syntax error: a command must end with CRLF\r\n250 2.0.0 Ok\r\n", false},
	{"too many errors",
	 "X\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\nX\r\n"
	 "X\r\nX\r\nX\r\nX\r\nX\r\nNOOP\r\n",
	 NOLEN,
	 "500 5.5.1 Command unrecognized\r\n500 5.5.1 Command unrecognized\r\n"
	 "500 5.5.1 Command unrecognized\r\n500 5.5.1 Command unrecognized\r\n"
	 "500 5.5.1 Command unrecognized\r\n500 5.5.1 Command unrecognized\r\n"
	 "500 5.5.1 Command unrecognized\r\n500 5.5.1 Command unrecognized\r\n"
	 "500 5.5.1 Command unrecognized\r\n500 5.5.1 Command unrecognized\r\n"
	 "500 5.5.1 Command unrecognized\r\n500 5.5.1 Command unrecognized\r\n"
	 "500 5.5.1 Command unrecognized\r\n500 5.5.1 Command unrecognized\r\n"
	 "500 5.5.1 Command unrecognized\r\n500 5.5.1 Command unrecognized\r\n"
	 "500 5.5.1 Command unrecognized\r\n500 5.5.1 Command unrecognized\r\n"
	 "500 5.5.1 Command unrecognized\r\n500 5.5.1 Command unrecognized\r\n"
	 "421 4.7.0 Too many errors\r\n",
	 true},
	{"bare LF in DATA: refused at once, closed", ENV "a\nb\r\n.\r\n", NOLEN,
	 ENV_R "554 5.5.2 Bare CR or LF in the message; use CRLF line ends\r\n", true, 0, 0, 0, 0},
	{"bare CR in DATA", ENV "a\rb\r\n.\r\n", NOLEN,
	 ENV_R "554 5.5.2 Bare CR or LF in the message; use CRLF line ends\r\n", true, 0, 0, 0, 0},
	{"LF.LF is no end of data (smuggling)", ENV "a\n.\nMAIL FROM:<x@y.example>\r\n.\r\n", NOLEN,
	 ENV_R "554 5.5.2 Bare CR or LF in the message; use CRLF line ends\r\n", true, 0, 0, 0, 0},
	{"dot CR without LF", ENV ".\rx\r\n.\r\n", NOLEN,
	 ENV_R "554 5.5.2 Bare CR or LF in the message; use CRLF line ends\r\n", true, 0, 0, 0, 0},
	{"NUL in DATA: refused, session goes on", ENV "a\0b\r\n.\r\nNOOP\r\n",
	 sizeof(ENV "a\0b\r\n.\r\nNOOP\r\n") - 1,
	 ENV_R "554 5.6.0 NUL byte in the message\r\n250 2.0.0 Ok\r\n", false, 0, 0, 0, 0},
	/* order (RFC 5321 §4.1.4), pipelined (RFC 2920) */
	{"MAIL before EHLO", "MAIL FROM:<a@b.example>\r\n", NOLEN, "503 5.5.1 Send EHLO first\r\n",
	 false},
	{"RCPT before MAIL", "EHLO c\r\nRCPT TO:<a@b.example>\r\n", NOLEN,
	 EHLO_R "503 5.5.1 Need MAIL before RCPT\r\n", false},
	{"DATA before MAIL", "EHLO c\r\nDATA\r\n", NOLEN,
	 EHLO_R "503 5.5.1 Need MAIL before DATA\r\n", false},
	{"DATA without a recipient", "EHLO c\r\nMAIL FROM:<>\r\nDATA\r\n", NOLEN,
	 EHLO_R "250 2.1.0 Ok\r\n554 5.5.1 No valid recipients\r\n", false},
	{"nested MAIL", "EHLO c\r\nMAIL FROM:<>\r\nMAIL FROM:<>\r\n", NOLEN,
	 EHLO_R "250 2.1.0 Ok\r\n503 5.5.1 Sender already given\r\n", false},
	{"pipelined, MAIL refused: RCPT and DATA refused in order",
	 "EHLO c\r\nMAIL FROM:<bad\r\nRCPT TO:<r@b.example>\r\nDATA\r\nNOOP\r\n", NOLEN,
	 EHLO_R "501 5.5.4 Syntax: MAIL FROM:<address>\r\n503 5.5.1 Need MAIL before RCPT\r\n"
		"503 5.5.1 Need MAIL before DATA\r\n250 2.0.0 Ok\r\n",
	 false},
	{"pipelined, bad RCPT among good ones",
	 "EHLO c\r\nMAIL FROM:<s@a.example>\r\nRCPT TO:<r1@b.example>\r\nRCPT TO:<bad>\r\n"
	 "RCPT TO:<r2@b.example>\r\nDATA\r\nHello\r\n.\r\nQUIT\r\n",
	 NOLEN,
	 EHLO_R "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n501 5.1.3 Bad recipient address syntax\r\n"
		"250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n" Q1 "221 2.0.0 Bye\r\n",
	 true, 0, 0, MXTLS_OK, 1, "s@a.example", "r1@b.example,r2@b.example", "Hello\r\n", NOLEN},
	{"two messages pipelined",
	 ENV "one\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<x@c.example>\r\nDATA\r\ntwo\r\n.\r\n", NOLEN,
	 ENV_R Q1 "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n" Q1,
	 false, 0, 0, MXTLS_OK, 2, "", "x@c.example", "two\r\n", NOLEN},
	{"RSET forgets the transaction",
	 "EHLO c\r\nMAIL FROM:<>\r\nRSET\r\nRCPT TO:<a@b.example>\r\n", NOLEN,
	 EHLO_R "250 2.1.0 Ok\r\n250 2.0.0 Ok\r\n503 5.5.1 Need MAIL before RCPT\r\n", false},
	{"EHLO again forgets the transaction",
	 "EHLO c\r\nMAIL FROM:<>\r\nEHLO c\r\nRCPT TO:<a@b.example>\r\n", NOLEN,
	 EHLO_R "250 2.1.0 Ok\r\n" EHLO_R "503 5.5.1 Need MAIL before RCPT\r\n", false},
	{"HELO: no ESMTP parameters", "HELO c\r\nMAIL FROM:<> SIZE=1\r\nMAIL FROM:<>\r\n", NOLEN,
	 "250 mx.test\r\n555 5.5.4 Unsupported or malformed parameter\r\n250 2.1.0 Ok\r\n", false},
	{"QUIT ends it; nothing after is read", "QUIT\r\nNOOP\r\n", NOLEN, "221 2.0.0 Bye\r\n",
	 true},
	{"STARTTLS is not offered", "EHLO c\r\nSTARTTLS\r\n", NOLEN,
	 EHLO_R "502 5.5.1 STARTTLS not offered\r\n", false},
	{"NOOP HELP VRFY", "NOOP\r\nHELP\r\nVRFY x\r\n", NOLEN,
	 "250 2.0.0 Ok\r\n214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP\r\n"
	 "252 2.0.0 Cannot VRFY user; send mail and it will be delivered\r\n",
	 false},
	/* caps at the exact boundary and one over */
	{"3 recipients with a cap of 3, the 4th: 452",
	 "EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<a@x.example>\r\nRCPT TO:<b@x.example>\r\n"
	 "RCPT TO:<c@x.example>\r\nRCPT TO:<d@x.example>\r\nDATA\r\nx\r\n.\r\n",
	 NOLEN,
	 EHLO_R "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
		"452 4.5.3 Too many recipients\r\n354 End data with <CR><LF>.<CR><LF>\r\n" Q1,
	 false, 0, 3, MXTLS_OK, 1, "", "a@x.example,b@x.example,c@x.example", "x\r\n", NOLEN},
	{"a repeated recipient counts once",
	 "EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<a@x.example>\r\nRCPT TO:<a@x.example>\r\nDATA\r\n"
	 "x\r\n.\r\n",
	 NOLEN,
	 EHLO_R "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with "
		"<CR><LF>.<CR><LF>\r\n" Q1,
	 false, 0, 0, MXTLS_OK, 1, "", "a@x.example", "x\r\n", NOLEN},
	{"SIZE= at the cap", "EHLO c\r\nMAIL FROM:<> SIZE=10\r\n", NOLEN,
	 EHLO_R10 "250 2.1.0 Ok\r\n", false, 10},
	{"SIZE= one over the cap", "EHLO c\r\nMAIL FROM:<> SIZE=11\r\n", NOLEN,
	 EHLO_R10 "552 5.3.4 Message size exceeds fixed maximum message size\r\n", false, 10},
	{"SIZE= at the queue's cap", "EHLO c\r\nMAIL FROM:<> SIZE=209715200\r\n", NOLEN,
	 EHLO_R "250 2.1.0 Ok\r\n", false},
	{"SIZE= one over the queue's cap", "EHLO c\r\nMAIL FROM:<> SIZE=209715201\r\n", NOLEN,
	 EHLO_R "552 5.3.4 Message size exceeds fixed maximum message size\r\n", false},
	{"message at the cap (10 octets)", ENV "12345678\r\n.\r\n", NOLEN,
	 EHLO_R10 "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n" Q1,
	 false, 10, 0, MXTLS_OK, 1, "s@a.example", "r@b.example", "12345678\r\n", NOLEN},
	{"message one over the cap: refused, never truncated", ENV "123456789\r\n.\r\nNOOP\r\n",
	 NOLEN,
	 EHLO_R10 "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
		  "552 5.3.4 Message size exceeds fixed maximum message size\r\n250 2.0.0 Ok\r\n",
	 false, 10, 0, MXTLS_OK, 0},
	/* DATA transparency (RFC 5321 §4.5.2) */
	{"dot-unstuffing", ENV "..a\r\n.b\r\n...\r\n. \r\nx.\r\n.\r\n", NOLEN, ENV_R Q1, false, 0,
	 0, MXTLS_OK, 1, "s@a.example", "r@b.example", ".a\r\nb\r\n..\r\n \r\nx.\r\n", NOLEN},
	{"empty message", ENV ".\r\n", NOLEN, ENV_R Q1, false, 0, 0, MXTLS_OK, 1, "s@a.example",
	 "r@b.example", "", NOLEN},
	{"8-bit content kept as sent", ENV "Subject: \xc3\xa9\r\n\r\n\xff\xfe body\r\n.\r\n", NOLEN,
	 ENV_R Q1, false, 0, 0, MXTLS_OK, 1, "s@a.example", "r@b.example",
	 "Subject: \xc3\xa9\r\n\r\n\xff\xfe body\r\n", NOLEN},
	{"no final CRLF before the dot is not an end", ENV "a.\r\n\r\n.\r\n", NOLEN, ENV_R Q1,
	 false, 0, 0, MXTLS_OK, 1, "s@a.example", "r@b.example", "a.\r\n\r\n", NOLEN},
	/* envelope flags */
	{"null sender, REQUIRETLS recorded",
	 "EHLO c\r\nMAIL FROM:<> REQUIRETLS\r\nRCPT TO:<r@b.example>\r\nDATA\r\nx\r\n.\r\n", NOLEN,
	 EHLO_R "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n" Q1, false,
	 0, 0, MXTLS_OK, 1, "", "r@b.example", "x\r\n", NOLEN, true},
	{"REQUIRETLS not carried over to the next transaction",
	 "EHLO c\r\nMAIL FROM:<> REQUIRETLS\r\nRSET\r\nMAIL FROM:<>\r\nRCPT TO:<r@b.example>\r\n"
	 "DATA\r\nx\r\n.\r\n",
	 NOLEN,
	 EHLO_R "250 2.1.0 Ok\r\n250 2.0.0 Ok\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with "
		"<CR><LF>.<CR><LF>\r\n" Q1,
	 false, 0, 0, MXTLS_OK, 1, "", "r@b.example", "x\r\n", NOLEN, false},
	{"UTF-8 recipient without SMTPUTF8",
	 "EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<\xc3\xa9@b.example>\r\n", NOLEN,
	 EHLO_R "250 2.1.0 Ok\r\n553 5.6.7 Non-ASCII address without SMTPUTF8\r\n", false},
	{"UTF-8 paths with SMTPUTF8",
	 "EHLO c\r\nMAIL FROM:<\xc3\xa9@a.example> SMTPUTF8\r\nRCPT TO:<\xc3\xa9@b.example>\r\n"
	 "DATA\r\nx\r\n.\r\n",
	 NOLEN, EHLO_R "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n" Q1,
	 false, 0, 0, MXTLS_OK, 1, "\xc3\xa9@a.example", "\xc3\xa9@b.example", "x\r\n", NOLEN},
	/* the queue's answer */
	{"disk full: 452 4.3.1, the session goes on", ENV "x\r\n.\r\nNOOP\r\n", NOLEN,
	 ENV_R "452 4.3.1 Insufficient system storage\r\n250 2.0.0 Ok\r\n", false, 0, 0, MXTLS_E_IO,
	 1, "s@a.example", "r@b.example", "x\r\n", NOLEN},
	{"queue limit: 552", ENV "x\r\n.\r\n", NOLEN,
	 ENV_R "552 5.3.4 Message size exceeds fixed maximum message size\r\n", false, 0, 0,
	 MXTLS_E_LIMIT, 1, "s@a.example", "r@b.example", "x\r\n", NOLEN},
	{"other queue error: 451", ENV "x\r\n.\r\n", NOLEN,
	 ENV_R "451 4.3.0 Local error in processing\r\n", false, 0, 0, MXTLS_E_NOMEM, 1,
	 "s@a.example", "r@b.example", "x\r\n", NOLEN},
};
#pragma GCC diagnostic pop

/* What a run of a script gave. */
struct run {
	struct util_buf out;
	bool closed;
	size_t queued;
	char sender[300], rcpts[4096];
	struct util_buf msg;
	bool requiretls;
};

/* Feeds in to a session chunk bytes at a time (keeping what it left untaken, as the
 * listener does) and records everything. */
static void run_script(const struct session_case *t, const char *in, size_t len, size_t chunk,
		       struct run *r)
{
	size_t max_message = t->max_message ? t->max_message : MXTLS_QUEUE_MESSAGE_MAX;
	size_t max_rcpt = t->max_rcpt ? t->max_rcpt : MXTLS_QUEUE_RCPT_MAX;
	struct delivery_smtpd_session *s =
		delivery_smtpd_session_new("mx.test", max_message, max_rcpt);
	ck_assert_ptr_nonnull(s);
	memset(r, 0, sizeof *r);
	util_buf_init(&r->out, 1u << 20);
	util_buf_init(&r->msg, MXTLS_QUEUE_MESSAGE_MAX);
	struct util_buf pending;
	util_buf_init(&pending, 1u << 20);
	size_t fed = 0;
	while (!r->closed) {
		if (fed < len) {
			size_t n = len - fed < chunk ? len - fed : chunk;
			ck_assert_int_eq(util_buf_append(&pending, in + fed, n), MXTLS_OK);
			fed += n;
		}
		bool progress = true;
		while (progress && !r->closed) {
			size_t used = 0;
			enum delivery_smtpd_action a = delivery_smtpd_session_input(
				s, pending.data ? pending.data : "", pending.len, &used, &r->out);
			ck_assert_uint_le(used, pending.len);
			memmove(pending.data, pending.data + used, pending.len - used);
			pending.len -= used;
			progress = a == DELIVERY_SMTPD_ENQUEUE;
			if (a == DELIVERY_SMTPD_CLOSE)
				r->closed = true;
			if (a == DELIVERY_SMTPD_ENQUEUE) {
				r->queued++;
				snprintf(r->sender, sizeof r->sender, "%s",
					 delivery_smtpd_session_sender(s));
				size_t n;
				const char *const *rc = delivery_smtpd_session_rcpts(s, &n);
				r->rcpts[0] = '\0';
				for (size_t i = 0; i < n; i++) {
					if (i > 0)
						strcat(r->rcpts, ",");
					strcat(r->rcpts, rc[i]);
				}
				size_t ml;
				const char *m = delivery_smtpd_session_message(s, &ml);
				util_buf_reset(&r->msg);
				ck_assert_int_eq(util_buf_append(&r->msg, m, ml), MXTLS_OK);
				r->requiretls = delivery_smtpd_session_requiretls(s);
				delivery_smtpd_session_queued(s, t->queue_rc, "ID1", &r->out);
			}
		}
		/* A partial line stays below the line cap (the listener's buffer bound). */
		if (!r->closed)
			ck_assert_uint_lt(pending.len, DELIVERY_SMTPD_LINE_MAX);
		if (fed == len)
			break;
	}
	util_buf_free(&pending);
	delivery_smtpd_session_free(s);
}

static void check_run(const struct session_case *t, const struct run *r, const char *how)
{
	const char *got = r->out.data ? r->out.data : "";
	ck_assert_msg(strcmp(got, t->out) == 0, "%s (%s): replies\n%s\nexpected\n%s", t->name, how,
		      got, t->out);
	ck_assert_msg(r->closed == t->closed, "%s (%s): closed %d", t->name, how, r->closed);
	ck_assert_msg(r->queued == t->queued, "%s (%s): queued %zu", t->name, how, r->queued);
	if (t->queued == 0)
		return;
	ck_assert_str_eq(r->sender, t->sender);
	ck_assert_str_eq(r->rcpts, t->rcpts);
	size_t ml = t->msg_len == NOLEN ? strlen(t->msg) : t->msg_len;
	ck_assert_uint_eq(r->msg.len, ml);
	ck_assert_mem_eq(r->msg.len ? r->msg.data : "", t->msg, ml);
	ck_assert_int_eq(r->requiretls, t->requiretls);
}

START_TEST(session_script)
{
	const struct session_case *t = &session_cases[_i];
	char line[600];
	const char *in = t->in;
	size_t len = t->len == NOLEN && in != NULL ? strlen(in) : t->len;
	if (in == NULL) {
		/* "NOOP x...x" CRLF of 512 octets (the cap) or 513 (one over). */
		size_t total = strstr(t->name, "513") != NULL ? 513 : 512;
		memcpy(line, "NOOP ", 5);
		memset(line + 5, 'x', total - 7);
		memcpy(line + total - 2, "\r\n", 2);
		in = line;
		len = total;
	}
	struct run whole, bytes;
	run_script(t, in, len, len ? len : 1, &whole);
	check_run(t, &whole, "whole");
	run_script(t, in, len, 1, &bytes);
	check_run(t, &bytes, "byte by byte");
	util_buf_free(&whole.out);
	util_buf_free(&whole.msg);
	util_buf_free(&bytes.out);
	util_buf_free(&bytes.msg);
}
END_TEST

/* MXTLS_QUEUE_RCPT_MAX recipients exactly, then one over: 452 4.5.3 (RFC 5321 §4.5.3.1.10). */
START_TEST(session_rcpt_cap)
{
	struct delivery_smtpd_session *s = delivery_smtpd_session_new(
		"mx.test", MXTLS_QUEUE_MESSAGE_MAX, MXTLS_QUEUE_RCPT_MAX);
	struct util_buf out;
	util_buf_init(&out, 1u << 20);
	size_t used;
	const char *head = "EHLO c\r\nMAIL FROM:<>\r\n";
	ck_assert_int_eq(delivery_smtpd_session_input(s, head, strlen(head), &used, &out),
			 DELIVERY_SMTPD_MORE);
	for (int i = 0; i <= MXTLS_QUEUE_RCPT_MAX; i++) {
		char cmd[64];
		snprintf(cmd, sizeof cmd, "RCPT TO:<r%d@x.example>\r\n", i);
		util_buf_reset(&out);
		ck_assert_int_eq(delivery_smtpd_session_input(s, cmd, strlen(cmd), &used, &out),
				 DELIVERY_SMTPD_MORE);
		ck_assert_uint_eq(used, strlen(cmd));
		ck_assert_str_eq(out.data, i < MXTLS_QUEUE_RCPT_MAX
						   ? "250 2.1.5 Ok\r\n"
						   : "452 4.5.3 Too many recipients\r\n");
	}
	const char *data = "DATA\r\nx\r\n.\r\n";
	util_buf_reset(&out);
	ck_assert_int_eq(delivery_smtpd_session_input(s, data, strlen(data), &used, &out),
			 DELIVERY_SMTPD_ENQUEUE);
	size_t n;
	delivery_smtpd_session_rcpts(s, &n);
	ck_assert_uint_eq(n, MXTLS_QUEUE_RCPT_MAX);
	util_buf_free(&out);
	delivery_smtpd_session_free(s);
}
END_TEST

/* A reply buffer that cannot take the reply ends the session (never a lost reply). */
START_TEST(session_output_cap)
{
	struct delivery_smtpd_session *s = delivery_smtpd_session_new("mx.test", 100, 10);
	struct util_buf out;
	util_buf_init(&out, 20);
	size_t used;
	ck_assert_int_eq(delivery_smtpd_session_input(s, "EHLO c\r\n", 8, &used, &out),
			 DELIVERY_SMTPD_CLOSE);
	util_buf_free(&out);
	delivery_smtpd_session_free(s);
	ck_assert_ptr_null(delivery_smtpd_session_new("", 100, 10));
	ck_assert_ptr_null(delivery_smtpd_session_new("a\r\nb", 100, 10));
}
END_TEST

/* ---- the allow CIDRs ---- */

static const struct cidr_case {
	const char *in;
	const char *reason; /* substring; NULL: accepted */
	int family;
	unsigned prefix;
} cidr_cases[] = {
	{"", "expected ADDRESS", 0, 0},
	{"/8", "expected ADDRESS", 0, 0},
	{"10.0.0.0/", "not a number", 0, 0},
	{"10.0.0.0/08", "not a number", 0, 0},
	{"10.0.0.0/8x", "not a number", 0, 0},
	{"10.0.0.0/-1", "not a number", 0, 0},
	{"10.0.0.0/33", "longer than the address", 0, 0},
	{"::/129", "longer than the address", 0, 0},
	{"10.1.0.0/8", "host bits", 0, 0},
	{"2001:db8::1/32", "host bits", 0, 0},
	{"example.net/8", "not an IPv4 or IPv6", 0, 0},
	{"10.0.0/8", "not an IPv4 or IPv6", 0, 0},
	{"10.0.0.0/8", NULL, AF_INET, 8},
	{"10.9.9.1", NULL, AF_INET, 32},
	{"0.0.0.0/0", NULL, AF_INET, 0},
	{"2001:db8::/32", NULL, AF_INET6, 32},
	{"::1", NULL, AF_INET6, 128},
};

START_TEST(cidr_parse)
{
	const struct cidr_case *t = &cidr_cases[_i];
	int family = -1;
	unsigned char addr[16];
	unsigned prefix = 999;
	const char *why = delivery_listener_parse_cidr(t->in, &family, addr, &prefix);
	if (t->reason != NULL) {
		ck_assert_msg(why != NULL && strstr(why, t->reason) != NULL, "%s: got %s", t->in,
			      why ? why : "accepted");
		return;
	}
	ck_assert_msg(why == NULL, "%s: %s", t->in, why);
	ck_assert_int_eq(family, t->family);
	ck_assert_uint_eq(prefix, t->prefix);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("smtpd");
	TCase *tc = tcase_create("cmd");
	tcase_add_loop_test(tc, cmd_parse, 0, ARRAY_LEN(cmd_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("session");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, session_script, 0, ARRAY_LEN(session_cases));
	tcase_add_test(tc, session_rcpt_cap);
	tcase_add_test(tc, session_output_cap);
	suite_add_tcase(s, tc);
	tc = tcase_create("cidr");
	tcase_add_loop_test(tc, cidr_parse, 0, ARRAY_LEN(cidr_cases));
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(make_suite)
