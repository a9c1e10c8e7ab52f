/* SPDX-License-Identifier: MIT */
/* RFC 8460 §5.3: one aggregate report as an RFC 5322 mail message (multipart/report).  Pure. */
#include "tlsrpt/tlsrpt_mail.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mxtls/error.h>

#include "tlsrpt/tlsrpt_report.h"
#include "tlsrpt/tlsrpt_rua.h"
#include "util/util_buf.h"
#include "util/util_dnsname.h"
#include "util/util_text.h"

/* The last second written in Date: 9999-12-31T23:59:59Z (four-digit years, RFC 5322 §3.3). */
#define DATE_LAST 253402300799LL
/* The last day tlsrpt_day_format() writes, less one (the text names the next day too). */
#define DAY_LAST 2932895
/* Width of the text part's lines (well within TLSRPT_MAIL_LINE_MAX). */
#define TEXT_WIDTH 72
/* Room for everything but the base64 lines: the header, the text part, the part headers. */
#define FIXED_MAX 16384

/* ---- base64 (RFC 2045 §6.8) ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t tlsrpt_mail_base64_size(size_t len)
{
	size_t chars = (len + 2) / 3 * 4;
	return chars + (chars + 75) / 76 * 2;
}

size_t tlsrpt_mail_base64(const uint8_t *in, size_t len, char *buf, size_t cap)
{
	size_t need = tlsrpt_mail_base64_size(len);
	if (buf == NULL || cap < need + 1 || (in == NULL && len > 0))
		return 0;
	size_t o = 0, col = 0;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		buf[o++] = b64[v >> 18 & 63];
		buf[o++] = b64[v >> 12 & 63];
		buf[o++] = i + 1 < len ? b64[v >> 6 & 63] : '=';
		buf[o++] = i + 2 < len ? b64[v & 63] : '=';
		/* RFC 2045 §6.8: "no more than 76 characters" per encoded line */
		col += 4;
		if (col == 76 || i + 3 >= len) {
			buf[o++] = '\r';
			buf[o++] = '\n';
			col = 0;
		}
	}
	buf[o] = '\0';
	return o;
}

/* ---- checks on the input ---- */

static bool host_name(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	return n > 0 && s[n - 1] != '.' && util_dnsname_valid(s, n, false);
}

static bool address(const char *s)
{
	return s != NULL && tlsrpt_addr_valid(s, strlen(s));
}

/* RFC 5322 §3.2.3 atext. */
static bool is_atext(uint8_t c)
{
	return util_is_alpha(c) || util_is_digit(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* RFC 5322 §3.2.3 dot-atom-text over (p, n). */
static bool dot_atom_text(const char *p, size_t n)
{
	if (n == 0 || p[0] == '.' || p[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '.' ? p[i + 1] == '.' : !is_atext((uint8_t)p[i]))
			return false;
	}
	return true;
}

/* RFC 5322 §3.6.4 msg-id without its brackets, restricted to dot-atom-text "@" dot-atom-text
 * (no obsolete forms, no domain literal): also the form RFC 8460 §5.3 gives the Report-ID. */
static bool msg_id(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	const char *at = n > 0 ? strchr(s, '@') : NULL;
	if (at == NULL || n > TLSRPT_MAIL_ID_MAX)
		return false;
	size_t l = (size_t)(at - s);
	return dot_atom_text(s, l) && dot_atom_text(at + 1, n - l - 1);
}

/* RFC 2046 §5.1.1 bcharsnospace (the space is refused too: no folding inside it). */
static bool boundary_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	if (n == 0 || n > TLSRPT_MAIL_BOUNDARY_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];
		if (!util_is_alpha(c) && !util_is_digit(c) && strchr("'()+_,-./:=?", c) == NULL)
			return false;
	}
	return true;
}

/* RFC 8460 §5.1 file name characters (what tlsrpt_report_filename() writes): nothing that a
 * quoted-string would have to escape and nothing a file system would read as a path. */
static bool filename_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	if (n == 0 || n > TLSRPT_MAIL_FILENAME_MAX || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];
		if (!util_is_alpha(c) && !util_is_digit(c) && strchr("!._-", c) == NULL)
			return false;
	}
	return true;
}

static bool same_name(const char *a, const char *b)
{
	size_t n = strlen(a);
	if (n != strlen(b))
		return false;
	for (size_t i = 0; i < n; i++)
		if (util_lower((uint8_t)a[i]) != util_lower((uint8_t)b[i]))
			return false;
	return true;
}

static bool input_ok(const struct tlsrpt_mail_in *in)
{
	return host_name(in->policy_domain) && host_name(in->submitter) && address(in->from) &&
	       address(in->to) &&
	       /* RFC 8460 §5.3: the submitter is the domain of the contact (RPT-22) */
	       same_name(tlsrpt_addr_domain(in->from), in->submitter) && in->date >= 0 &&
	       in->date <= DATE_LAST && in->day >= 0 && in->day <= DAY_LAST &&
	       msg_id(in->message_id) && msg_id(in->report_id) && boundary_ok(in->boundary) &&
	       filename_ok(in->filename) && in->report != NULL && in->report_len > 0;
}

/* ---- writing ---- */

/*
 * A header field "Name: tok tok ...", folded (RFC 5322 §2.2.3: CRLF inserted before a space)
 * so that no line exceeds TLSRPT_MAIL_LINE_MAX when the words allow; never before the first
 * word.  No word holds a space or a control (the input checks see to that).
 */
static int field(struct util_buf *b, const char *name, const char *const *tok, size_t n)
{
	int rc = util_buf_appendf(b, "%s:", name);
	size_t col = strlen(name) + 1, first = col;
	for (size_t i = 0; rc == MXTLS_OK && i < n; i++) {
		size_t l = strlen(tok[i]);
		if (col > first && col + 1 + l > TLSRPT_MAIL_LINE_MAX) {
			rc = util_buf_append_str(b, "\r\n");
			col = 0;
		}
		if (rc == MXTLS_OK)
			rc = util_buf_appendf(b, " %s", tok[i]);
		col += 1 + l;
	}
	return rc == MXTLS_OK ? util_buf_append_str(b, "\r\n") : rc;
}

static int field1(struct util_buf *b, const char *name, const char *value)
{
	return field(b, name, &value, 1);
}

/* Text (words separated by single spaces) wrapped at TEXT_WIDTH, CRLF after each line. */
static int wrap(struct util_buf *b, const char *text)
{
	int rc = MXTLS_OK;
	size_t col = 0;
	for (const char *w = text; rc == MXTLS_OK && *w != '\0';) {
		size_t l = strcspn(w, " ");
		if (col > 0 && col + 1 + l > TEXT_WIDTH) {
			rc = util_buf_append_str(b, "\r\n");
			col = 0;
		}
		if (rc == MXTLS_OK && col > 0)
			rc = util_buf_append_byte(b, ' ');
		if (rc == MXTLS_OK)
			rc = util_buf_append(b, w, l);
		col += (col > 0) + l;
		w += l;
		w += *w == ' ';
	}
	return rc == MXTLS_OK ? util_buf_append_str(b, "\r\n") : rc;
}

/* RFC 5322 §3.3 date-time in UTC: "Sun, 06 Dec 2026 12:00:00 +0000". */
static void rfc5322_date(int64_t t, char buf[64])
{
	static const char days[][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm); /* no time zone, no I/O: pure arithmetic */
	snprintf(buf, 64, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* RFC 2046 §5.1.1: the delimiter "--" boundary must not begin a line of a part. */
static bool starts_a_line(const char *text, size_t n, const char *boundary)
{
	size_t bl = strlen(boundary);
	for (size_t i = 0; i < n; i++) {
		if ((i == 0 || text[i - 1] == '\n') && n - i >= bl + 2 && text[i] == '-' &&
		    text[i + 1] == '-' && memcmp(text + i + 2, boundary, bl) == 0)
			return true;
	}
	return false;
}

/* Part 1 (RFC 6522 §3: human-readable), written into t. */
static int text_part(struct util_buf *t, const struct tlsrpt_mail_in *in)
{
	char day[11], next[11];
	tlsrpt_day_format(in->day, day);
	tlsrpt_day_format(in->day + 1, next);
	int rc = util_buf_appendf(t,
				  "This is an aggregate TLS report (SMTP TLS Reporting, RFC 8460) "
				  "from %s for the policy domain %s, covering the UTC day %s "
				  "(%sT00:00:00Z to %sT00:00:00Z).",
				  in->submitter, in->policy_domain, day, day, next);
	if (rc != MXTLS_OK)
		return rc;
	struct util_buf w;
	util_buf_init(&w, FIXED_MAX);
	rc = wrap(&w, t->data);
	if (rc == MXTLS_OK)
		rc = util_buf_append_str(&w, "\r\n");
	util_buf_reset(t);
	if (rc == MXTLS_OK)
		rc = util_buf_appendf(t,
				      "The report is the attached file %s (gzip-compressed JSON, "
				      "application/tlsrpt+gzip). Report-ID: <%s>",
				      in->filename, in->report_id);
	if (rc == MXTLS_OK)
		rc = wrap(&w, t->data);
	util_buf_reset(t);
	if (rc == MXTLS_OK)
		rc = util_buf_append(t, w.data, w.len);
	util_buf_free(&w);
	return rc;
}

static int build(struct util_buf *b, const struct tlsrpt_mail_in *in)
{
	char date[64], mid[TLSRPT_MAIL_ID_MAX + 3], rid[TLSRPT_MAIL_ID_MAX + 3];
	char ctype_b[TLSRPT_MAIL_BOUNDARY_MAX + 16], fname[TLSRPT_MAIL_FILENAME_MAX + 16];
	rfc5322_date(in->date, date);
	snprintf(mid, sizeof mid, "<%s>", in->message_id);
	snprintf(rid, sizeof rid, "<%s>", in->report_id);
	snprintf(ctype_b, sizeof ctype_b, "boundary=\"%s\"", in->boundary);
	snprintf(fname, sizeof fname, "filename=\"%s\"", in->filename);

	struct util_buf text;
	util_buf_init(&text, FIXED_MAX);
	int rc = text_part(&text, in);
	if (rc == MXTLS_OK && starts_a_line(text.data, text.len, in->boundary))
		rc = MXTLS_E_INVAL;

	/* RFC 8460 §5.3 Subject: "Report" FWS "Domain:" FWS domain FWS "Submitter:" FWS domain
	 * FWS "Report-ID:" FWS "<" id-left "@" id-right ">"  (keywords case-sensitive). */
	const char *subject[] = {
		"Report",     "Domain:", in->policy_domain, "Submitter:", in->submitter,
		"Report-ID:", rid};
	const char *ctype[] = {"multipart/report;", "report-type=\"tlsrpt\";", ctype_b};
	const char *disp[] = {"attachment;", fname};
	if (rc == MXTLS_OK)
		rc = field1(b, "From", in->from);
	if (rc == MXTLS_OK)
		rc = field1(b, "To", in->to);
	if (rc == MXTLS_OK)
		rc = field1(b, "Date", date);
	if (rc == MXTLS_OK)
		rc = field1(b, "Message-ID", mid);
	if (rc == MXTLS_OK)
		rc = field(b, "Subject", subject, sizeof subject / sizeof *subject);
	/* RFC 8460 §5.3: both MUST be present (and are signed: dkim_sign() callers list them). */
	if (rc == MXTLS_OK)
		rc = field1(b, "TLS-Report-Domain", in->policy_domain);
	if (rc == MXTLS_OK)
		rc = field1(b, "TLS-Report-Submitter", in->submitter);
	/* RFC 8460 §3 and §5.3: reports go through despite TLS failures; RFC 8689 §5 says so to
	 * the MTAs on the way. */
	if (rc == MXTLS_OK)
		rc = field1(b, "TLS-Required", "No");
	if (rc == MXTLS_OK)
		rc = field1(b, "MIME-Version", "1.0");
	/* RFC 8460 §5.3 and RFC 6522: multipart/report; report-type="tlsrpt" */
	if (rc == MXTLS_OK)
		rc = field(b, "Content-Type", ctype, sizeof ctype / sizeof *ctype);
	if (rc == MXTLS_OK)
		rc = util_buf_appendf(b, "\r\n--%s\r\n", in->boundary);
	if (rc == MXTLS_OK)
		rc = field1(b, "Content-Type", "text/plain; charset=us-ascii");
	if (rc == MXTLS_OK)
		rc = field1(b, "Content-Transfer-Encoding", "7bit");
	if (rc == MXTLS_OK)
		rc = util_buf_append_str(b, "\r\n");
	if (rc == MXTLS_OK)
		rc = util_buf_append(b, text.data, text.len);
	util_buf_free(&text);
	if (rc == MXTLS_OK)
		rc = util_buf_appendf(b, "--%s\r\n", in->boundary);
	/* RFC 8460 §5.3: the compressed report is application/tlsrpt+gzip (§6.2), base64, an
	 * attachment with the §5.1 file name. */
	if (rc == MXTLS_OK)
		rc = field1(b, "Content-Type", "application/tlsrpt+gzip");
	if (rc == MXTLS_OK)
		rc = field1(b, "Content-Transfer-Encoding", "base64");
	if (rc == MXTLS_OK)
		rc = field(b, "Content-Disposition", disp, sizeof disp / sizeof *disp);
	if (rc == MXTLS_OK)
		rc = util_buf_append_str(b, "\r\n");
	if (rc != MXTLS_OK)
		return rc;
	size_t need = tlsrpt_mail_base64_size(in->report_len);
	char *enc = malloc(need + 1);
	if (enc == NULL)
		return MXTLS_E_NOMEM;
	tlsrpt_mail_base64(in->report, in->report_len, enc, need + 1);
	rc = util_buf_append(b, enc, need);
	free(enc);
	if (rc == MXTLS_OK)
		rc = util_buf_appendf(b, "--%s--\r\n", in->boundary);
	return rc;
}

int tlsrpt_mail_build(const struct tlsrpt_mail_in *in, char **out, size_t *outlen)
{
	if (in == NULL || out == NULL || outlen == NULL || !input_ok(in))
		return MXTLS_E_INVAL;
	if (in->report_len > TLSRPT_MAIL_REPORT_MAX)
		return MXTLS_E_LIMIT;
	struct util_buf b;
	util_buf_init(&b, FIXED_MAX + tlsrpt_mail_base64_size(in->report_len));
	int rc = build(&b, in);
	if (rc == MXTLS_OK)
		rc = util_buf_take(&b, out, outlen);
	util_buf_free(&b);
	return rc;
}
