/* SPDX-License-Identifier: MIT */
/* Unit tests for tlsrpt/tlsrpt_mime.c: the TLS report read out of a mail message (hostile input
 * first), every message of vectors/tlsrpt-mail/, the caps, and the round trip from
 * tlsrpt/tlsrpt_mail.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "tlsrpt/tlsrpt_mail.h"
#include "tlsrpt/tlsrpt_mime.h"
#include "test_main.h"

#ifndef VECTORS_DIR
#error "VECTORS_DIR must name the vectors/ folder"
#endif

#define NOLEN ((size_t)-1) /* use strlen() */

/* The file vectors/tlsrpt-mail/<name>, malloc'd; NULL when it cannot be read. */
static char *slurp(const char *name, size_t *n)
{
	char path[512];
	snprintf(path, sizeof path, "%s/tlsrpt-mail/%s", VECTORS_DIR, name);
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			char *nb = realloc(buf, cap);
			ck_assert_ptr_nonnull(nb);
			buf = nb;
		}
		size_t r = fread(buf + len, 1, cap - len, f);
		if (r == 0)
			break;
		len += r;
	}
	fclose(f);
	*n = len;
	return buf;
}

/* ---- focused cases: hostile and malformed first ---- */

#define CT     "Content-Type: multipart/report; report-type=tlsrpt; boundary=b\r\n"
#define GZHEAD "Content-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\n"
#define JSHEAD "Content-Type: application/tlsrpt+json\r\n"
/* a message with the header CT, then body */
#define MSG(body) CT "\r\n" body
/* one report part, base64, whose text is b64 */
#define ONE(b64) MSG("--b\r\n" GZHEAD "\r\n" b64 "\r\n--b--\r\n")

static const struct str_case {
	const char *in;
	size_t len;
	int rc;
	const char *reason; /* substring of err when rc != MXTLS_OK */
	const char *report; /* expected decoded bytes when rc == MXTLS_OK */
	size_t report_len;
} str_cases[] = {
	/* the header section */
	{"", 0, MXTLS_E_SYNTAX, "does not end with an empty line", NULL, 0},
	{CT, NOLEN, MXTLS_E_SYNTAX, "does not end with an empty line", NULL, 0},
	{"\r\n--b\r\n" GZHEAD "\r\nQUJD\r\n--b--\r\n", NOLEN, MXTLS_E_SYNTAX, "no Content-Type",
	 NULL, 0},
	{"Subject: a\0b\r\n" CT "\r\n", sizeof("Subject: a\0b\r\n" CT "\r\n") - 1, MXTLS_E_SYNTAX,
	 "NUL byte", NULL, 0},
	{"Subject: a\rb\r\n" CT "\r\n", NOLEN, MXTLS_E_SYNTAX, "bare CR", NULL, 0},
	{" Subject: a\r\n" CT "\r\n", NOLEN, MXTLS_E_SYNTAX, "continuation line", NULL, 0},
	{"Subject a\r\n" CT "\r\n", NOLEN, MXTLS_E_SYNTAX, "not a field", NULL, 0},
	{": a\r\n" CT "\r\n", NOLEN, MXTLS_E_SYNTAX, "not a field", NULL, 0},
	{"Sub\xe9ject: a\r\n" CT "\r\n", NOLEN, MXTLS_E_SYNTAX, "not a field", NULL, 0},
	{CT CT "\r\n", NOLEN, MXTLS_E_SYNTAX, "more than one Content-Type", NULL, 0},
	{"TLS-Report-Domain: a\r\ntls-report-domain: b\r\n" CT "\r\n", NOLEN, MXTLS_E_SYNTAX,
	 "more than one TLS-Report-Domain", NULL, 0},
	{"From: a\r\nFrom: b\r\n" CT "\r\n", NOLEN, MXTLS_E_SYNTAX, "more than one From", NULL, 0},
	/* the top-level Content-Type */
	{"Content-Type: multipart/report; report-type=tlsrpt; boundary=b (x\r\n\r\n", NOLEN,
	 MXTLS_E_SYNTAX, "unclosed comment", NULL, 0},
	{"Content-Type: multipart\r\n\r\n", NOLEN, MXTLS_E_SYNTAX, "type/subtype", NULL, 0},
	{"Content-Type: /report\r\n\r\n", NOLEN, MXTLS_E_SYNTAX, "type/subtype", NULL, 0},
	{"Content-Type: multipart/report report-type=tlsrpt\r\n\r\n", NOLEN, MXTLS_E_SYNTAX,
	 "other than ';'", NULL, 0},
	{"Content-Type: multipart/report; =tlsrpt\r\n\r\n", NOLEN, MXTLS_E_SYNTAX, "without a name",
	 NULL, 0},
	{"Content-Type: multipart/report; report-type\r\n\r\n", NOLEN, MXTLS_E_SYNTAX,
	 "without '='", NULL, 0},
	{"Content-Type: multipart/report; report-type=\"tlsrpt\r\n\r\n", NOLEN, MXTLS_E_SYNTAX,
	 "neither a token", NULL, 0},
	{"Content-Type: multipart/report; report-type=tls/rpt\r\n\r\n", NOLEN, MXTLS_E_SYNTAX,
	 "other than ';'", NULL, 0},
	{"Content-Type: multipart/report; boundary=a; boundary=b; report-type=tlsrpt\r\n\r\n",
	 NOLEN, MXTLS_E_SYNTAX, "two boundary", NULL, 0},
	{"Content-Type: multipart/report; report-type=tlsrpt; report-type=tlsrpt; boundary=b\r\n"
	 "\r\n",
	 NOLEN, MXTLS_E_SYNTAX, "two report-type", NULL, 0},
	{"Content-Type: multipart/report; report-type=tlsrpt; boundary=\"b \"\r\n\r\n", NOLEN,
	 MXTLS_E_SYNTAX, "1-70", NULL, 0},
	{"Content-Type: multipart/report; report-type=tlsrpt; boundary=\"\"\r\n\r\n", NOLEN,
	 MXTLS_E_SYNTAX, "1-70", NULL, 0},
	{"Content-Type: multipart/report; report-type=tlsrpt; boundary=\"a*b\"\r\n\r\n", NOLEN,
	 MXTLS_E_SYNTAX, "1-70", NULL, 0},
	{"Content-Type: multipart/report; report-type=tlsrpt; boundary="
	 "12345678901234567890123456789012345678901234567890123456789012345678901\r\n\r\n",
	 NOLEN, MXTLS_E_SYNTAX, "1-70", NULL, 0},
	{"Content-Type: multipart/mixed; report-type=tlsrpt; boundary=b\r\n\r\n", NOLEN,
	 MXTLS_E_SYNTAX, "not multipart/report", NULL, 0},
	{"Content-Type: multipart/report; boundary=b\r\n\r\n", NOLEN, MXTLS_E_SYNTAX,
	 "without a report-type", NULL, 0},
	{"Content-Type: multipart/report; report-type=tlsrpt2; boundary=b\r\n\r\n", NOLEN,
	 MXTLS_E_SYNTAX, "not tlsrpt", NULL, 0},
	{"Content-Type: multipart/report; report-type=tlsrpt; boundary*0=b\r\n\r\n", NOLEN,
	 MXTLS_E_SYNTAX, "without a boundary", NULL, 0},
	/* the body */
	{MSG(""), NOLEN, MXTLS_E_SYNTAX, "no delimiter line", NULL, 0},
	{MSG("-b\r\n"), NOLEN, MXTLS_E_SYNTAX, "no delimiter line", NULL, 0},
	{MSG(" --b\r\n--b--\r\n"), NOLEN, MXTLS_E_SYNTAX, "close delimiter before", NULL, 0},
	{MSG("--b--\r\n"), NOLEN, MXTLS_E_SYNTAX, "close delimiter before", NULL, 0},
	{MSG("--b\r\n" GZHEAD "\r\nQUJD\r\n"), NOLEN, MXTLS_E_SYNTAX, "no close delimiter", NULL,
	 0},
	{MSG("--b\r\n" GZHEAD "\r\nQUJD\r\n--b"), NOLEN, MXTLS_E_SYNTAX, "no close delimiter", NULL,
	 0},
	{MSG("--b\r\n" GZHEAD "\r\nQUJD\r\n--bb--\r\n"), NOLEN, MXTLS_E_SYNTAX,
	 "begins with the boundary", NULL, 0},
	{MSG("--b x\r\n"), NOLEN, MXTLS_E_SYNTAX, "begins with the boundary", NULL, 0},
	{MSG("--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n"), NOLEN, MXTLS_E_SYNTAX,
	 "no application/tlsrpt+gzip", NULL, 0},
	{MSG("--b\r\n" GZHEAD "\r\nQUJD\r\n--b\r\n" JSHEAD "\r\n{}\r\n--b--\r\n"), NOLEN,
	 MXTLS_E_SYNTAX, "more than one", NULL, 0},
	{MSG("--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\n" JSHEAD
	     "\r\n{}\r\n--c--\r\n--b\r\n" JSHEAD "\r\n{}\r\n--b--\r\n"),
	 NOLEN, MXTLS_E_SYNTAX, "more than one", NULL, 0},
	{MSG("--b\r\nContent-Type: multipart/mixed\r\n\r\n--b--\r\n"), NOLEN, MXTLS_E_SYNTAX,
	 "nested multipart without a boundary", NULL, 0},
	{MSG("--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\n"
	     "Content-Type: multipart/mixed; boundary=d\r\n\r\n--d--\r\n--c--\r\n--b--\r\n"),
	 NOLEN, MXTLS_E_SYNTAX, "more than one level", NULL, 0},
	{MSG("--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\n" JSHEAD
	     "\r\n{}\r\n--b--\r\n"),
	 NOLEN, MXTLS_E_SYNTAX, "no close delimiter", NULL, 0},
	{MSG("--b\r\n hidden: x\r\n\r\n--b--\r\n"), NOLEN, MXTLS_E_SYNTAX, "continuation line",
	 NULL, 0},
	{MSG("--b\r\nnot a header\r\n\r\n--b--\r\n"), NOLEN, MXTLS_E_SYNTAX, "not a field", NULL,
	 0},
	/* the transfer encoding */
	{MSG("--b\r\n" JSHEAD "Content-Transfer-Encoding: quoted-printable\r\n\r\n{}\r\n--b--\r\n"),
	 NOLEN, MXTLS_E_SYNTAX, "quoted-printable", NULL, 0},
	{MSG("--b\r\n" JSHEAD "Content-Transfer-Encoding: x-uuencode\r\n\r\n{}\r\n--b--\r\n"),
	 NOLEN, MXTLS_E_SYNTAX, "unknown Content-Transfer-Encoding", NULL, 0},
	{MSG("--b\r\n" JSHEAD "Content-Transfer-Encoding: base64 7bit\r\n\r\n{}\r\n--b--\r\n"),
	 NOLEN, MXTLS_E_SYNTAX, "not one token", NULL, 0},
	{MSG("--b\r\n" JSHEAD "Content-Transfer-Encoding: 7bit\r\nContent-Transfer-Encoding: 7bit"
	     "\r\n\r\n{}\r\n--b--\r\n"),
	 NOLEN, MXTLS_E_SYNTAX, "more than one Content-Transfer-Encoding", NULL, 0},
	{MSG("--b\r\n" JSHEAD "\r\n{\"\xc3\xa9\"}\r\n--b--\r\n"), NOLEN, MXTLS_E_SYNTAX,
	 "8-bit byte in a 7bit", NULL, 0},
	{MSG("--b\r\n" JSHEAD "Content-Transfer-Encoding: 8bit\r\n\r\n{\0}\r\n--b--\r\n"),
	 sizeof MSG("--b\r\n" JSHEAD "Content-Transfer-Encoding: 8bit\r\n\r\n{\0}\r\n--b--\r\n") -
		 1,
	 MXTLS_E_SYNTAX, "NUL byte in a 7bit or 8bit", NULL, 0},
	{MSG("--b\r\n" JSHEAD "\r\n--b--\r\n"), NOLEN, MXTLS_E_SYNTAX, "empty", NULL, 0},
	{MSG("--b\r\n" JSHEAD "--b--\r\n"), NOLEN, MXTLS_E_SYNTAX, "empty", NULL, 0},
	{ONE(""), NOLEN, MXTLS_E_SYNTAX, "empty", NULL, 0},
	{ONE("QUJ"), NOLEN, MXTLS_E_SYNTAX, "inside a 4-character group", NULL, 0},
	{ONE("QUJDR"), NOLEN, MXTLS_E_SYNTAX, "inside a 4-character group", NULL, 0},
	{ONE("QQ="), NOLEN, MXTLS_E_SYNTAX, "inside a 4-character group", NULL, 0},
	{ONE("Q==="), NOLEN, MXTLS_E_SYNTAX, "misplaced '='", NULL, 0},
	{ONE("=QUJD"), NOLEN, MXTLS_E_SYNTAX, "misplaced '='", NULL, 0},
	{ONE("QU=D"), NOLEN, MXTLS_E_SYNTAX, "misplaced '='", NULL, 0},
	{ONE("QQ==QUJD"), NOLEN, MXTLS_E_SYNTAX, "after the '=' padding", NULL, 0},
	{ONE("QQ===="), NOLEN, MXTLS_E_SYNTAX, "after the '=' padding", NULL, 0},
	{ONE("QR=="), NOLEN, MXTLS_E_SYNTAX, "non-zero pad bits", NULL, 0},
	{ONE("QUJ="), NOLEN, MXTLS_E_SYNTAX, "non-zero pad bits", NULL, 0},
	{ONE("QU-D"), NOLEN, MXTLS_E_SYNTAX, "not base64 (0x2d)", NULL, 0},
	{ONE("QU_D"), NOLEN, MXTLS_E_SYNTAX, "not base64 (0x5f)", NULL, 0},
	{ONE("QUJD\f"), NOLEN, MXTLS_E_SYNTAX, "not base64 (0x0c)", NULL, 0},
	{ONE("QUJD\x80"), NOLEN, MXTLS_E_SYNTAX, "not base64 (0x80)", NULL, 0},
	/* valid ones */
	{ONE("QUJD"), NOLEN, MXTLS_OK, NULL, "ABC", 3},
	{ONE("QQ=="), NOLEN, MXTLS_OK, NULL, "A", 1},
	{ONE("QUI="), NOLEN, MXTLS_OK, NULL, "AB", 2},
	{ONE("QUE="), NOLEN, MXTLS_OK, NULL, "AA", 2},
	{ONE(" Q U\tJ\r\nD \r\n\r\nQQ\r\n= =\t"), NOLEN, MXTLS_OK, NULL, "ABCA", 4},
	{ONE("AAEC/+//"), NOLEN, MXTLS_OK, NULL, "\0\1\2\377\357\377", 6},
	{MSG("--b\r\n" JSHEAD "Content-Transfer-Encoding: binary\r\n\r\n{\0}\r\n--b--\r\n"),
	 sizeof MSG("--b\r\n" JSHEAD "Content-Transfer-Encoding: binary\r\n\r\n{\0}\r\n--b--\r\n") -
		 1,
	 MXTLS_OK, NULL, "{\0}", 3},
	{MSG("--b\r\n" JSHEAD "Content-Transfer-Encoding: 8bit (c)\r\n\r\n{\"\xc3\xa9\"}\r\n--b--"),
	 NOLEN, MXTLS_OK, NULL, "{\"\xc3\xa9\"}", 6},
	/* the line break before a delimiter belongs to it; the one before belongs to the part */
	{MSG("--b\r\n" JSHEAD "\r\n{}\r\n\r\n--b--\r\n"), NOLEN, MXTLS_OK, NULL, "{}\r\n", 4},
	{MSG("--b\n" JSHEAD "\n{}\n--b--\n"), NOLEN, MXTLS_OK, NULL, "{}", 2},
	/* no blank line after the report's header: an empty body */
	{MSG("--b\r\nContent-Type: text/plain\r\n--b\r\n" JSHEAD "\r\n1\r\n--b--"), NOLEN, MXTLS_OK,
	 NULL, "1", 1},
	/* a part without header fields is text/plain */
	{MSG("--b\r\n\r\nhello\r\n--b\r\n" JSHEAD "\r\n1\r\n--b--"), NOLEN, MXTLS_OK, NULL, "1", 1},
	/* parameters any case, quoted, commented, a trailing ';', white space before ':' */
	{"content-type : Multipart/Report (r) ; Report-Type = \"TlsRpt\" ;BOUNDARY=\"b\";\r\n\r\n"
	 "--b\r\ncontent-TYPE: Application/TLSRPT+JSON;charset=\"utf-8\"\r\n\r\n1\r\n--b--\r\n",
	 NOLEN, MXTLS_OK, NULL, "1", 1},
	/* an mbox "From " line, a folded Content-Type, a boundary with the RFC 2046 specials */
	{"From sender@example.com Sun Dec  6 09:13:52 2026\r\nContent-Type: multipart/report;\r\n"
	 "\treport-type=tlsrpt;\r\n boundary=\"'()+_,-./:=? x\"\r\n\r\n--'()+_,-./:=? x\r\n" JSHEAD
	 "\r\n1\r\n--'()+_,-./:=? x--\r\n",
	 NOLEN, MXTLS_OK, NULL, "1", 1},
	/* a boundary that is a prefix of the nested one, and the nested ones' epilogue */
	{MSG("--b\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\npre\r\n--b2\r\n" JSHEAD
	     "\r\n1\r\n--b2--\r\nepi\r\n--b--\r\n"),
	 NOLEN, MXTLS_E_SYNTAX, "begins with the boundary", NULL, 0},
	{MSG("--b\r\nContent-Type: multipart/alternative; boundary=c\r\n\r\npre\r\n--c\r\n" JSHEAD
	     "\r\n1\r\n--c--\r\nepi\r\n--b--\r\n"),
	 NOLEN, MXTLS_OK, NULL, "1", 1},
	/* 70 characters */
	{"Content-Type: multipart/report; report-type=tlsrpt; boundary="
	 "1234567890123456789012345678901234567890123456789012345678901234567890\r\n\r\n"
	 "--1234567890123456789012345678901234567890123456789012345678901234567890\r\n" JSHEAD
	 "\r\n1\r\n--1234567890123456789012345678901234567890123456789012345678901234567890--",
	 NOLEN, MXTLS_OK, NULL, "1", 1},
};

START_TEST(str_parse)
{
	const struct str_case *c = &str_cases[_i];
	size_t len = c->len == NOLEN ? strlen(c->in) : c->len;
	/* exactly len bytes, so that a read past the end is seen under ASan */
	char *copy = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, c->in, len);
	struct tlsrpt_mime m;
	memset(&m, 0xa5, sizeof m);
	char err[200];
	int rc = tlsrpt_mime_parse(copy, len, &m, err, sizeof err);
	free(copy);
	ck_assert_msg(rc == c->rc, "case %d: rc %d, expected %d (%s)", _i, rc, c->rc, err);
	if (rc != MXTLS_OK) {
		ck_assert_msg(strstr(err, c->reason) != NULL, "case %d: reason '%s' lacks '%s'", _i,
			      err, c->reason);
		/* all-or-nothing: *out is empty */
		ck_assert_ptr_null(m.report);
		ck_assert_ptr_null(m.from);
		ck_assert_ptr_null(m.report_domain);
		ck_assert_uint_eq(m.report_len, 0);
		return;
	}
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(m.report_len, c->report_len);
	ck_assert_mem_eq(m.report, c->report, c->report_len);
	ck_assert_uint_eq(m.report[m.report_len], 0);
	tlsrpt_mime_clear(&m);
	tlsrpt_mime_clear(&m); /* zeroed: a second clear is harmless */
}
END_TEST

START_TEST(bad_arguments)
{
	struct tlsrpt_mime m;
	char err[8] = "x";
	ck_assert_int_eq(tlsrpt_mime_parse(ONE("QUJD"), strlen(ONE("QUJD")), NULL, err, sizeof err),
			 MXTLS_E_INVAL);
	ck_assert_int_eq(tlsrpt_mime_parse(NULL, 1, &m, NULL, 0), MXTLS_E_INVAL);
	ck_assert_int_eq(tlsrpt_mime_parse(NULL, 0, &m, err, sizeof err), MXTLS_E_SYNTAX);
	/* a small err buffer holds the start of the reason */
	ck_assert_str_eq(err, "the hea");
	ck_assert_int_eq(tlsrpt_mime_parse(ONE("QUJD"), strlen(ONE("QUJD")), &m, NULL, 0),
			 MXTLS_OK);
	ck_assert_uint_eq(m.kind, TLSRPT_MIME_GZIP);
	tlsrpt_mime_clear(&m);
	tlsrpt_mime_clear(NULL);
}
END_TEST

/* The header values: unfolded, trimmed, absent ones NULL. */
START_TEST(header_values)
{
	static const char msg[] =
		"Received: from x\r\n\tby y\r\n"
		"FROM:  \"Reports\" <r@sender.example> \t\r\n"
		"Subject: Report Domain: example.net\r\n  Submitter: s.example\r\n"
		"Message-Id:<1@s.example>\r\n"
		"TLS-Report-Domain:\r\n example.net\r\n" CT "\r\n--b\r\n" JSHEAD
		"\r\n{}\r\n--b--\r\n";
	struct tlsrpt_mime m;
	char err[200];
	ck_assert_int_eq(tlsrpt_mime_parse(msg, sizeof msg - 1, &m, err, sizeof err), MXTLS_OK);
	ck_assert_uint_eq(m.kind, TLSRPT_MIME_JSON);
	ck_assert_str_eq(m.from, "\"Reports\" <r@sender.example>");
	ck_assert_str_eq(m.subject, "Report Domain: example.net  Submitter: s.example");
	ck_assert_str_eq(m.message_id, "<1@s.example>");
	ck_assert_str_eq(m.report_domain, "example.net");
	ck_assert_ptr_null(m.report_submitter);
	tlsrpt_mime_clear(&m);
	ck_assert_ptr_null(m.from);
}
END_TEST

/* ---- the caps ---- */

/* A message: CT, nfields extra fields "X: v", a report part of report_len bytes (8bit). */
static char *big_message(size_t nfields, size_t field_len, size_t nparts, size_t report_len,
			 size_t *n)
{
	size_t cap = 1024 + nfields * (field_len + 8) + nparts * 16 + report_len * 2;
	char *b = malloc(cap);
	ck_assert_ptr_nonnull(b);
	size_t o = 0;
	for (size_t i = 0; i < nfields; i++) {
		memcpy(b + o, "X: ", 3);
		o += 3;
		memset(b + o, 'v', field_len - 3);
		o += field_len - 3;
		memcpy(b + o, "\r\n", 2);
		o += 2;
	}
	o += (size_t)sprintf(b + o, "%s\r\n", CT);
	for (size_t i = 1; i < nparts; i++)
		o += (size_t)sprintf(b + o, "--b\r\n\r\n\r\n");
	o += (size_t)sprintf(b + o, "--b\r\nContent-Type: application/tlsrpt+json\r\n"
				    "Content-Transfer-Encoding: 8bit\r\n\r\n");
	memset(b + o, '1', report_len);
	o += report_len;
	o += (size_t)sprintf(b + o, "\r\n--b--\r\n");
	ck_assert_uint_le(o, cap);
	*n = o;
	return b;
}

static const struct cap_case {
	size_t nfields, field_len, nparts, report_len;
	int rc;
	const char *reason;
} cap_cases[] = {
	{TLSRPT_MIME_FIELDS_MAX, 10, 1, 1, MXTLS_E_LIMIT, "more than 500 header fields"},
	{TLSRPT_MIME_FIELDS_MAX - 1, 10, 1, 1, MXTLS_OK, NULL},
	{1, TLSRPT_MIME_FIELD_MAX + 1, 1, 1, MXTLS_E_LIMIT, "longer than 16384"},
	{1, TLSRPT_MIME_FIELD_MAX, 1, 1, MXTLS_OK, NULL},
	{0, 0, TLSRPT_MIME_PARTS_MAX + 1, 1, MXTLS_E_LIMIT, "more than 64 body parts"},
	{0, 0, TLSRPT_MIME_PARTS_MAX, 1, MXTLS_OK, NULL},
	{0, 0, 1, TLSRPT_MIME_DECODED_MAX + 1, MXTLS_E_LIMIT, "more than 16777216 bytes"},
	{0, 0, 1, TLSRPT_MIME_DECODED_MAX, MXTLS_OK, NULL},
};

START_TEST(caps)
{
	const struct cap_case *c = &cap_cases[_i];
	size_t n;
	char *msg = big_message(c->nfields, c->field_len, c->nparts, c->report_len, &n);
	struct tlsrpt_mime m;
	char err[200];
	int rc = tlsrpt_mime_parse(msg, n, &m, err, sizeof err);
	free(msg);
	ck_assert_msg(rc == c->rc, "case %d: rc %d, expected %d (%s)", _i, rc, c->rc, err);
	if (rc == MXTLS_OK) {
		ck_assert_uint_eq(m.report_len, c->report_len);
		tlsrpt_mime_clear(&m);
	} else {
		ck_assert_msg(strstr(err, c->reason) != NULL, "case %d: '%s'", _i, err);
		ck_assert_ptr_null(m.report);
	}
}
END_TEST

/* The message cap, and the decoded cap through base64 (the bytes counted after decoding). */
START_TEST(caps_size)
{
	size_t n = TLSRPT_MIME_MESSAGE_MAX + 1;
	char *msg = malloc(n);
	ck_assert_ptr_nonnull(msg);
	memset(msg, 'a', n);
	struct tlsrpt_mime m;
	char err[200];
	ck_assert_int_eq(tlsrpt_mime_parse(msg, n, &m, err, sizeof err), MXTLS_E_LIMIT);
	ck_assert_ptr_nonnull(strstr(err, "more than 33554432 bytes"));
	/* (cap / 3 + 1) groups of "AAAA": cap + 3 bytes */
	static const char head[] = CT "\r\n--b\r\n" GZHEAD "\r\n";
	static const char tail[] = "\r\n--b--\r\n";
	for (int over = 0; over < 2; over++) {
		size_t groups = TLSRPT_MIME_DECODED_MAX / 3 + (size_t)over;
		size_t o = 0;
		memcpy(msg, head, sizeof head - 1);
		o += sizeof head - 1;
		for (size_t g = 0; g < groups; g++) {
			memcpy(msg + o, "AAAA", 4);
			o += 4;
			if (g % 19 == 18) {
				memcpy(msg + o, "\r\n", 2);
				o += 2;
			}
		}
		memcpy(msg + o, tail, sizeof tail - 1);
		o += sizeof tail - 1;
		int rc = tlsrpt_mime_parse(msg, o, &m, err, sizeof err);
		if (over) {
			ck_assert_int_eq(rc, MXTLS_E_LIMIT);
			ck_assert_ptr_nonnull(strstr(err, "more than 16777216 bytes"));
		} else {
			ck_assert_int_eq(rc, MXTLS_OK);
			ck_assert_uint_eq(m.report_len, TLSRPT_MIME_DECODED_MAX / 3 * 3);
			tlsrpt_mime_clear(&m);
		}
	}
	free(msg);
}
END_TEST

/* ---- vectors/tlsrpt-mail/ (README.md gives each file's provenance) ---- */

static const struct vector_case {
	const char *file;
	int rc;
	enum tlsrpt_mime_kind kind;
	const char *expect; /* the file the decoded report must equal (OK only) */
	size_t cut;         /* bytes of expect's end not in the part (its final LF) */
	const char *reason; /* substring of err (failures only) */
} vector_cases[] = {
	{"bad-report-type.eml", MXTLS_E_SYNTAX, 0, NULL, 0, "report-type is not tlsrpt"},
	{"no-boundary.eml", MXTLS_E_SYNTAX, 0, NULL, 0, "without a boundary parameter"},
	{"two-reports.eml", MXTLS_E_SYNTAX, 0, NULL, 0, "more than one"},
	{"bad-base64-char.eml", MXTLS_E_SYNTAX, 0, NULL, 0, "not base64 (0x21)"},
	{"bad-base64-padding.eml", MXTLS_E_SYNTAX, 0, NULL, 0, "inside a 4-character group"},
	{"no-close-delimiter.eml", MXTLS_E_SYNTAX, 0, NULL, 0, "no close delimiter"},
	{"boundary-prefix-line.eml", MXTLS_E_SYNTAX, 0, NULL, 0, "begins with the boundary"},
	{"nested-too-deep.eml", MXTLS_E_SYNTAX, 0, NULL, 0, "more than one level"},
	{"quoted-printable.eml", MXTLS_E_SYNTAX, 0, NULL, 0, "quoted-printable"},
	{"not-multipart.eml", MXTLS_E_SYNTAX, 0, NULL, 0, "not multipart/report"},
	{"mxtls-built.eml", MXTLS_OK, TLSRPT_MIME_GZIP, "report.json.gz", 0, NULL},
	{"big-sender-quoted.eml", MXTLS_OK, TLSRPT_MIME_GZIP, "report.json.gz", 0, NULL},
	{"upper-case-unquoted.eml", MXTLS_OK, TLSRPT_MIME_GZIP, "report.json.gz", 0, NULL},
	{"lf-only.eml", MXTLS_OK, TLSRPT_MIME_GZIP, "report.json.gz", 0, NULL},
	{"preamble-epilogue.eml", MXTLS_OK, TLSRPT_MIME_GZIP, "report.json.gz", 0, NULL},
	{"nested-mixed.eml", MXTLS_OK, TLSRPT_MIME_GZIP, "report.json.gz", 0, NULL},
	{"json-base64.eml", MXTLS_OK, TLSRPT_MIME_JSON, "report.json", 0, NULL},
	{"json-7bit.eml", MXTLS_OK, TLSRPT_MIME_JSON, "report.json", 1, NULL},
};

START_TEST(vectors)
{
	const struct vector_case *c = &vector_cases[_i];
	size_t n, en;
	char *msg = slurp(c->file, &n);
	ck_assert_msg(msg != NULL, "cannot read %s", c->file);
	struct tlsrpt_mime m;
	char err[200];
	int rc = tlsrpt_mime_parse(msg, n, &m, err, sizeof err);
	free(msg);
	ck_assert_msg(rc == c->rc, "%s: rc %d, expected %d (%s)", c->file, rc, c->rc, err);
	if (rc != MXTLS_OK) {
		ck_assert_msg(strstr(err, c->reason) != NULL, "%s: '%s' lacks '%s'", c->file, err,
			      c->reason);
		return;
	}
	char *expect = slurp(c->expect, &en);
	ck_assert_ptr_nonnull(expect);
	ck_assert_uint_eq(m.kind, c->kind);
	ck_assert_uint_eq(m.report_len, en - c->cut);
	ck_assert_mem_eq(m.report, expect, en - c->cut);
	ck_assert_str_eq(m.report_domain, "example.net");
	ck_assert_ptr_nonnull(m.report_submitter);
	ck_assert_ptr_nonnull(m.from);
	ck_assert_ptr_nonnull(m.subject);
	ck_assert_ptr_nonnull(m.message_id);
	free(expect);
	tlsrpt_mime_clear(&m);
}
END_TEST

/* mxtls-built.eml is what tlsrpt_mail_build() makes of report.json.gz and these fields: this
 * test builds it again and compares (MXTLS_WRITE_VECTORS=1 in the environment rewrites it). */
START_TEST(own_mail)
{
	size_t gzlen, oldlen = 0;
	char *gz = slurp("report.json.gz", &gzlen);
	ck_assert_ptr_nonnull(gz);
	struct tlsrpt_mail_in in = {
		.policy_domain = "example.net",
		.submitter = "mail.example.com",
		.from = "tlsrpt@mail.example.com",
		.to = "tlsrpt@example.net",
		.date = 1796558400, /* 2026-12-06T12:00:00Z */
		.day = 20792,       /* 2026-12-05 */
		.message_id = "20261206.1@mail.example.com",
		.report_id = "2026-12-05.example.net@mail.example.com",
		.boundary = "=_mxtls-20261206.1",
		.filename = "mail.example.com!example.net!1796428800!1796515200.json.gz",
		.report = (const uint8_t *)gz,
		.report_len = gzlen,
	};
	char *built = NULL;
	size_t n = 0;
	ck_assert_int_eq(tlsrpt_mail_build(&in, &built, &n), MXTLS_OK);
	const char *w = getenv("MXTLS_WRITE_VECTORS");
	if (w != NULL && strcmp(w, "1") == 0) {
		FILE *f = fopen(VECTORS_DIR "/tlsrpt-mail/mxtls-built.eml", "wb");
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(fwrite(built, 1, n, f), n);
		fclose(f);
	}
	char *old = slurp("mxtls-built.eml", &oldlen);
	ck_assert_ptr_nonnull(old);
	ck_assert_uint_eq(oldlen, n);
	ck_assert_mem_eq(old, built, n);
	free(old);

	struct tlsrpt_mime m;
	char err[200];
	ck_assert_int_eq(tlsrpt_mime_parse(built, n, &m, err, sizeof err), MXTLS_OK);
	ck_assert_uint_eq(m.kind, TLSRPT_MIME_GZIP);
	ck_assert_uint_eq(m.report_len, gzlen);
	ck_assert_mem_eq(m.report, gz, gzlen);
	ck_assert_str_eq(m.report_domain, "example.net");
	ck_assert_str_eq(m.report_submitter, "mail.example.com");
	ck_assert_str_eq(m.from, "tlsrpt@mail.example.com");
	ck_assert_str_eq(m.message_id, "<20261206.1@mail.example.com>");
	ck_assert_str_eq(m.subject, "Report Domain: example.net Submitter: mail.example.com "
				    "Report-ID: <2026-12-05.example.net@mail.example.com>");
	tlsrpt_mime_clear(&m);
	free(built);
	free(gz);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("tlsrpt_mime");
	TCase *t = tcase_create("strings");
	tcase_add_loop_test(t, str_parse, 0, (int)ARRAY_LEN(str_cases));
	tcase_add_test(t, bad_arguments);
	tcase_add_test(t, header_values);
	suite_add_tcase(s, t);
	t = tcase_create("caps");
	tcase_set_timeout(t, 60);
	tcase_add_loop_test(t, caps, 0, (int)ARRAY_LEN(cap_cases));
	tcase_add_test(t, caps_size);
	suite_add_tcase(s, t);
	t = tcase_create("vectors");
	tcase_add_loop_test(t, vectors, 0, (int)ARRAY_LEN(vector_cases));
	tcase_add_test(t, own_mail);
	suite_add_tcase(s, t);
	return s;
}

MXTLS_TEST_MAIN(make_suite)
