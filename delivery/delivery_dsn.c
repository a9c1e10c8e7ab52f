/* SPDX-License-Identifier: MIT */
/* RFC 3464 delivery status notifications in an RFC 6522 multipart/report (delivery_dsn.h). */
#include "delivery/delivery_dsn.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "delivery/delivery_header.h"
#include "util/util_buf.h"

/* Text lines of the human-readable part wrap here (the header fields fold at DSN_WIDTH). */
#define TEXT_WIDTH 76
/* Quoted-printable lines: RFC 2045 §6.7 (5): at most 76 characters. */
#define QP_WIDTH 76
/* Boundaries tried before giving up (each one found in a part rules out only itself). */
#define BOUNDARY_TRIES 100000

const char *delivery_dsn_tls_words(enum mxtls_result result)
{
	switch (result) {
	case MXTLS_RESULT_OK:
		return NULL;
	case MXTLS_RESULT_STARTTLS_NOT_SUPPORTED:
		return "the receiving server did not offer STARTTLS, and the recipient's domain "
		       "requires encryption (DANE or MTA-STS); the message was not sent "
		       "unencrypted.";
	case MXTLS_RESULT_CERTIFICATE_HOST_MISMATCH:
		return "the receiving server's certificate is not issued for the server's name, "
		       "so it may be an impostor; the recipient's domain requires a matching "
		       "certificate (MTA-STS), and the message was not sent to it.";
	case MXTLS_RESULT_CERTIFICATE_EXPIRED:
		return "the receiving server's certificate has expired, and the recipient's "
		       "domain requires a valid one (MTA-STS); the message was not sent to it.";
	case MXTLS_RESULT_CERTIFICATE_NOT_TRUSTED:
		return "the receiving server's certificate is not signed by a trusted "
		       "certification authority (it may be self-signed), and the recipient's "
		       "domain requires a trusted one (MTA-STS); the message was not sent to it.";
	case MXTLS_RESULT_VALIDATION_FAILURE:
		return "the encrypted connection to the receiving server could not be set up or "
		       "verified (the TLS handshake failed); the recipient's domain requires a "
		       "verified connection, and the message was not sent unprotected.";
	case MXTLS_RESULT_TLSA_INVALID:
		return "the recipient's domain publishes DANE (TLSA) records for the server, but "
		       "the server's certificate matches none of them: the server may be an "
		       "impostor or the records are out of date; the message was not sent to it.";
	case MXTLS_RESULT_DNSSEC_INVALID:
		return "the DNSSEC signatures on the recipient's DNS records did not validate, "
		       "so its servers and security policy cannot be trusted; the message was not "
		       "sent. The domain's DNS administrator must repair the signatures.";
	case MXTLS_RESULT_DANE_REQUIRED:
		return "the recipient's domain requires DANE, but no usable DANE (TLSA) record "
		       "could be obtained for its server; the message was not sent without it.";
	case MXTLS_RESULT_STS_POLICY_FETCH_ERROR:
		return "the recipient's domain announces an MTA-STS policy, but the policy could "
		       "not be downloaded from its web server (mta-sts.<domain>); the message was "
		       "held rather than sent without the policy's protection.";
	case MXTLS_RESULT_STS_POLICY_INVALID:
		return "the recipient's domain publishes an MTA-STS policy that is malformed; "
		       "the message was held rather than sent without the policy's protection.";
	case MXTLS_RESULT_STS_WEBPKI_INVALID:
		return "the web server that publishes the recipient's domain's MTA-STS policy "
		       "presented a certificate that could not be validated, so the policy cannot "
		       "be trusted; the message was held rather than sent without its protection.";
	}
	return NULL;
}

/* A required or optional token: printable ASCII (no CR, LF, controls or 8-bit bytes, which a
 * header field cannot carry), at most DELIVERY_DSN_TOKEN_MAX bytes; space allowed only when
 * space_ok (quoted local parts).  NULL and "" are "absent". */
static bool token_ok(const char *s, bool space_ok, const char *forbid)
{
	size_t n = strlen(s);
	if (n > DELIVERY_DSN_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e || (c == ' ' && !space_ok) ||
		    (forbid != NULL && strchr(forbid, c) != NULL))
			return false;
	}
	return true;
}

static bool present(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* A host name for "dns;" fields, From and Message-ID: letters, digits, '.', '-', '_'. */
static bool host_ok(const char *s)
{
	if (!present(s) || strlen(s) > 255)
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_'))
			return false;
	return true;
}

/* RFC 3463 §2: status-code = class "." subject "." detail; class = "2"/"4"/"5";
 * subject and detail 1*3digit. */
static bool status_ok(const char *s)
{
	if (s == NULL || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return false;
	const char *p = s + 2;
	for (int part = 0; part < 2; part++) {
		int digits = 0;
		while (*p >= '0' && *p <= '9' && digits < 4) {
			p++;
			digits++;
		}
		if (digits < 1 || digits > 3)
			return false;
		if (part == 0 && *p++ != '.')
			return false;
	}
	return *p == '\0';
}

static int validate(const struct delivery_dsn *in, const char **why)
{
	/* RFC 5321 §4.5.5: a DSN is never sent to a null reverse-path (it would be answered by
	 * another notification: the loop the null sender exists to stop); RFC 3464 §2 sends
	 * the DSN to the envelope sender, so there is nobody to send it to. */
	if (in->sender == NULL || in->sender[0] == '\0')
		return *why = "null reverse-path: no delivery status notification (RFC 5321 4.5.5)",
		       MXTLS_E_INVAL;
	if (!token_ok(in->sender, true, "<>"))
		return *why = "sender not printable US-ASCII or too long", MXTLS_E_INVAL;
	if (!host_ok(in->reporting_mta))
		return *why = "reporting MTA is not a host name", MXTLS_E_INVAL;
	if (!present(in->queue_id) || strlen(in->queue_id) > 64 ||
	    strspn(in->queue_id,
		   "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") !=
		    strlen(in->queue_id))
		return *why = "queue id missing or not alphanumeric", MXTLS_E_INVAL;
	if (in->envid != NULL && !token_ok(in->envid, false, NULL))
		return *why = "envelope id not printable US-ASCII or too long", MXTLS_E_INVAL;
	if (in->nrcpts == 0 || in->rcpts == NULL)
		return *why = "no recipients", MXTLS_E_INVAL;
	if (in->headers == NULL && in->headers_len != 0)
		return *why = "headers NULL with a length", MXTLS_E_INVAL;
	for (size_t i = 0; i < in->nrcpts; i++) {
		const struct delivery_dsn_rcpt *r = &in->rcpts[i];
		if (!present(r->addr) || !token_ok(r->addr, true, "<>"))
			return *why = "recipient missing, too long or not printable US-ASCII",
			       MXTLS_E_INVAL;
		if (r->orig_rcpt != NULL && !token_ok(r->orig_rcpt, true, NULL))
			return *why = "original recipient too long or not printable US-ASCII",
			       MXTLS_E_INVAL;
		if (r->action != DELIVERY_DSN_FAILED && r->action != DELIVERY_DSN_DELAYED)
			return *why = "unknown action", MXTLS_E_INVAL;
		if (!status_ok(r->status))
			return *why = "status is not an RFC 3463 status code", MXTLS_E_INVAL;
		if (present(r->remote_mta) && !host_ok(r->remote_mta))
			return *why = "remote MTA is not a host name", MXTLS_E_INVAL;
		if (r->reply == NULL && r->reply_len != 0)
			return *why = "reply NULL with a length", MXTLS_E_INVAL;
	}
	return MXTLS_OK;
}

/* The untrusted reply as one line of printable US-ASCII: line breaks (CR, LF in any
 * combination) and tabs become spaces, runs of white space one space, other control bytes and
 * 8-bit bytes '?' (message/delivery-status is US-ASCII text, RFC 3464 §2.1.3; folding below is
 * the only way a line break may appear in a field, RFC 5322 §2.2.3). */
static int sanitize(const char *s, size_t n, struct util_buf *out)
{
	bool space = false;
	int rc = MXTLS_OK;
	for (size_t i = 0; i < n && rc == MXTLS_OK; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = true;
			continue;
		}
		if (space && out->len > 0)
			rc = util_buf_append_byte(out, ' ');
		space = false;
		if (rc == MXTLS_OK)
			rc = util_buf_append_byte(out, c < 0x20 || c > 0x7e ? '?' : c);
	}
	return rc;
}

/*
 * Appends text (printable US-ASCII, words separated by single spaces) to out, which is at
 * column col of a line: words go on the line while it stays within width; a line break is
 * CRLF followed by cont (" " for a folded header field, an indent for text).  A word longer
 * than a line is cut into pieces, each on its own line.  Every line stays <= width octets.
 */
static int flow(struct util_buf *out, size_t col, bool need_space, size_t width, const char *cont,
		const char *text, size_t len)
{
	size_t contlen = strlen(cont);
	size_t i = 0;
	int rc = MXTLS_OK;
	while (i < len && rc == MXTLS_OK) {
		const char *sp = memchr(text + i, ' ', len - i);
		size_t wl = (sp != NULL ? (size_t)(sp - text) : len) - i;
		const char *w = text + i;
		i += wl + (sp != NULL ? 1 : 0);
		while (wl > 0 && rc == MXTLS_OK) {
			size_t sep = need_space ? 1 : 0;
			if (col + sep + wl > width && (col > contlen || need_space)) {
				/* RFC 5322 §2.2.3: fold before white space. */
				rc = util_buf_appendf(out, "\r\n%s", cont);
				col = contlen;
				need_space = false;
				continue;
			}
			size_t take = wl <= width - col - sep ? wl : width - col - sep;
			if (sep != 0)
				rc = util_buf_append_byte(out, ' ');
			if (rc == MXTLS_OK)
				rc = util_buf_append(out, w, take);
			col += sep + take;
			w += take;
			wl -= take;
			need_space = true;
		}
	}
	return rc;
}

/* One header field "Name: value" (value already printable US-ASCII), folded, with CRLF. */
static int field(struct util_buf *out, const char *name, const char *text, size_t len)
{
	int rc = util_buf_appendf(out, "%s:", name);
	if (rc == MXTLS_OK)
		rc = flow(out, strlen(name) + 1, true, DELIVERY_DSN_WIDTH, " ", text, len);
	if (rc == MXTLS_OK)
		rc = util_buf_append(out, "\r\n", 2);
	return rc;
}

static int fieldf(struct util_buf *out, struct util_buf *tmp, const char *name, const char *fmt,
		  ...) __attribute__((format(printf, 4, 5)));
static int fieldf(struct util_buf *out, struct util_buf *tmp, const char *name, const char *fmt,
		  ...)
{
	va_list ap;
	va_start(ap, fmt);
	util_buf_reset(tmp);
	int rc = util_buf_vappendf(tmp, fmt, ap);
	va_end(ap);
	if (rc == MXTLS_OK)
		rc = field(out, name, tmp->len > 0 ? tmp->data : "", tmp->len);
	return rc;
}

/* A paragraph of the text part: tmp holds it; wrapped at TEXT_WIDTH, indented by indent. */
static int para(struct util_buf *out, const char *indent, struct util_buf *tmp)
{
	int rc = util_buf_append_str(out, indent);
	if (rc == MXTLS_OK && tmp->len > 0)
		rc = flow(out, strlen(indent), false, TEXT_WIDTH, indent, tmp->data, tmp->len);
	if (rc == MXTLS_OK)
		rc = util_buf_append(out, "\r\n", 2);
	return rc;
}

static int paraf(struct util_buf *out, struct util_buf *tmp, const char *indent, const char *fmt,
		 ...) __attribute__((format(printf, 4, 5)));
static int paraf(struct util_buf *out, struct util_buf *tmp, const char *indent, const char *fmt,
		 ...)
{
	va_list ap;
	va_start(ap, fmt);
	util_buf_reset(tmp);
	int rc = util_buf_vappendf(tmp, fmt, ap);
	va_end(ap);
	if (rc == MXTLS_OK)
		rc = para(out, indent, tmp);
	return rc;
}

static int text_part(const struct delivery_dsn *in, struct util_buf *out, struct util_buf *tmp,
		     struct util_buf *reply)
{
	char date[40];
	delivery_header_date(in->arrival, date);
	int rc = paraf(out, tmp, "", "This is the mail system at host %s.", in->reporting_mta);
	if (rc == MXTLS_OK)
		rc = util_buf_append(out, "\r\n", 2);
	if (rc == MXTLS_OK && !in->delay)
		rc = paraf(out, tmp, "",
			   "Your message of %s (queue id %s) could not be delivered to one or "
			   "more recipients; it is returned to you here. Each recipient is "
			   "listed below with the reason. The delivery report and the header of "
			   "your message are attached.",
			   date, in->queue_id);
	if (rc == MXTLS_OK && in->delay)
		rc = paraf(out, tmp, "",
			   "Your message of %s (queue id %s) has not yet been delivered to one "
			   "or more recipients. This is a warning only: the mail system keeps "
			   "trying, and you do not need to send the message again. Each "
			   "recipient is listed below with the reason for the delay.",
			   date, in->queue_id);
	for (size_t i = 0; i < in->nrcpts && rc == MXTLS_OK; i++) {
		const struct delivery_dsn_rcpt *r = &in->rcpts[i];
		rc = util_buf_append(out, "\r\n", 2);
		if (rc == MXTLS_OK)
			rc = paraf(out, tmp, "", "<%s>: %s (status %s).", r->addr,
				   r->action == DELIVERY_DSN_FAILED ? "delivery failed"
								    : "delivery delayed",
				   r->status);
		if (rc == MXTLS_OK && r->last_attempt != 0) {
			delivery_header_date(r->last_attempt, date);
			if (present(r->remote_mta))
				rc = paraf(out, tmp, "    ", "Last attempt: %s, at %s.", date,
					   r->remote_mta);
			else
				rc = paraf(out, tmp, "    ",
					   "Last attempt: %s; no receiving server was reached.",
					   date);
		}
		if (rc == MXTLS_OK && r->reply_len > 0) {
			util_buf_reset(reply);
			rc = sanitize(r->reply, r->reply_len, reply);
			if (rc == MXTLS_OK && reply->len > 0)
				rc = paraf(out, tmp, "    ", "The server said: %s", reply->data);
		}
		const char *words = delivery_dsn_tls_words(r->tls_result);
		if (rc == MXTLS_OK && words != NULL)
			rc = paraf(out, tmp, "    ", "Security (TLS report result %s): %s",
				   mxtls_result_name(r->tls_result), words);
		if (rc == MXTLS_OK && r->action == DELIVERY_DSN_DELAYED &&
		    r->will_retry_until != 0) {
			delivery_header_date(r->will_retry_until, date);
			rc = paraf(out, tmp, "    ",
				   "Delivery will be retried until %s; after that the message is "
				   "returned to you.",
				   date);
		}
	}
	return rc;
}

static int status_part(const struct delivery_dsn *in, struct util_buf *out, struct util_buf *tmp,
		       struct util_buf *reply)
{
	char date[40];
	/* RFC 3464 §2.2: the per-message fields. */
	int rc = fieldf(out, tmp, "Reporting-MTA", "dns; %s", in->reporting_mta);
	if (rc == MXTLS_OK && present(in->envid))
		rc = fieldf(out, tmp, "Original-Envelope-Id", "%s", in->envid);
	delivery_header_date(in->arrival, date);
	if (rc == MXTLS_OK)
		rc = fieldf(out, tmp, "Arrival-Date", "%s", date);
	/* RFC 3464 §2.3: one block of per-recipient fields each, after an empty line. */
	for (size_t i = 0; i < in->nrcpts && rc == MXTLS_OK; i++) {
		const struct delivery_dsn_rcpt *r = &in->rcpts[i];
		rc = util_buf_append(out, "\r\n", 2);
		if (rc == MXTLS_OK && present(r->orig_rcpt))
			rc = fieldf(out, tmp, "Original-Recipient", "rfc822; %s", r->orig_rcpt);
		if (rc == MXTLS_OK)
			rc = fieldf(out, tmp, "Final-Recipient", "rfc822; %s", r->addr);
		if (rc == MXTLS_OK)
			rc = fieldf(out, tmp, "Action", "%s",
				    r->action == DELIVERY_DSN_FAILED ? "failed" : "delayed");
		if (rc == MXTLS_OK)
			rc = fieldf(out, tmp, "Status", "%s", r->status);
		if (rc == MXTLS_OK && present(r->remote_mta))
			rc = fieldf(out, tmp, "Remote-MTA", "dns; %s", r->remote_mta);
		if (rc == MXTLS_OK && r->reply_len > 0) {
			util_buf_reset(reply);
			rc = sanitize(r->reply, r->reply_len, reply);
			/* RFC 3464 §2.3.6: diagnostic-type ";" *text, folded. */
			if (rc == MXTLS_OK && reply->len > 0)
				rc = fieldf(out, tmp, "Diagnostic-Code", "smtp; %s", reply->data);
		}
		if (rc == MXTLS_OK && r->last_attempt != 0) {
			delivery_header_date(r->last_attempt, date);
			rc = fieldf(out, tmp, "Last-Attempt-Date", "%s", date);
		}
		if (rc == MXTLS_OK && r->action == DELIVERY_DSN_DELAYED &&
		    r->will_retry_until != 0) {
			/* RFC 3464 §2.3.9: only for delayed recipients. */
			delivery_header_date(r->will_retry_until, date);
			rc = fieldf(out, tmp, "Will-Retry-Until", "%s", date);
		}
		/* RFC 3464 §2.4: an extension field for the RFC 8460 result type. */
		if (rc == MXTLS_OK && r->tls_result != MXTLS_RESULT_OK)
			rc = fieldf(out, tmp, "X-Mxtls-TLS-Result", "%s",
				    mxtls_result_name(r->tls_result));
	}
	return rc;
}

/* True when the header section can go as it is in a 7bit part: US-ASCII, CR and LF only as
 * CRLF, no NUL, lines <= 998 octets (RFC 2045 §2.7, RFC 5322 §2.1.1). */
static bool headers_7bit(const char *h, size_t n)
{
	size_t line = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];
		if (c == '\r') {
			if (i + 1 >= n || h[i + 1] != '\n')
				return false;
			i++;
			line = 0;
			continue;
		}
		if (c == '\n' || c == 0 || c > 0x7e || (c < 0x20 && c != '\t'))
			return false;
		if (++line > 998)
			return false;
	}
	return true;
}

/* RFC 2045 §6.7 quoted-printable of h: CRLF stays a line break; every other byte outside
 * printable US-ASCII (bare CR, bare LF, NUL, 8-bit) and '=' become =XX; white space before a
 * line break is encoded (rule 3); soft line breaks keep lines <= QP_WIDTH. */
static int qp(const char *h, size_t n, struct util_buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0;
	int rc = MXTLS_OK;
	for (size_t i = 0; i < n && rc == MXTLS_OK; i++) {
		unsigned char c = (unsigned char)h[i];
		if (c == '\r' && i + 1 < n && h[i + 1] == '\n') {
			rc = util_buf_append(out, "\r\n", 2);
			i++;
			col = 0;
			continue;
		}
		bool at_eol = i + 1 == n || (h[i + 1] == '\r' && i + 2 < n && h[i + 2] == '\n');
		bool literal =
			(c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_eol);
		size_t w = literal ? 1 : 3;
		/* Room for the soft break '=' unless this is the last thing on the line. */
		if (col + w > QP_WIDTH - (at_eol ? 0 : 1)) {
			rc = util_buf_append(out, "=\r\n", 3);
			col = 0;
		}
		if (rc == MXTLS_OK && literal)
			rc = util_buf_append_byte(out, c);
		else if (rc == MXTLS_OK) {
			char e[3] = {'=', hex[c >> 4], hex[c & 15]};
			rc = util_buf_append(out, e, 3);
		}
		col += w;
	}
	return rc;
}

/* The header section without the empty line that ends it, then CRLF (none when empty). */
static int headers_part(const struct delivery_dsn *in, struct util_buf *out, bool *encoded)
{
	size_t n = in->headers_len;
	while (n > 0 && (in->headers[n - 1] == '\n' || in->headers[n - 1] == '\r'))
		n--;
	*encoded = !headers_7bit(in->headers, n);
	if (n == 0)
		return MXTLS_OK;
	int rc = *encoded ? qp(in->headers, n, out) : util_buf_append(out, in->headers, n);
	if (rc == MXTLS_OK)
		rc = util_buf_append(out, "\r\n", 2);
	return rc;
}

static bool contains(const struct util_buf *b, const char *needle, size_t nlen)
{
	return b->len >= nlen && memmem(b->data, b->len, needle, nlen) != NULL;
}

static int assemble(const struct delivery_dsn *in, struct util_buf *out, struct util_buf *parts,
		    bool encoded, const char **why)
{
	/* RFC 2046 §5.1.1: the boundary must not occur in any part; it is made from the queue
	 * id and a counter, and the next counter is tried while "--boundary" is found. */
	char boundary[128];
	bool clash = true;
	for (unsigned k = 0; k < BOUNDARY_TRIES && clash; k++) {
		snprintf(boundary, sizeof boundary, "--=_dsn_%s_%u", in->queue_id, k);
		size_t bl = strlen(boundary);
		clash = contains(&parts[0], boundary, bl) || contains(&parts[1], boundary, bl) ||
			contains(&parts[2], boundary, bl);
	}
	if (clash)
		return *why = "no boundary absent from the parts", MXTLS_E_INTERNAL;
	const char *b = boundary + 2;
	char date[40];
	delivery_header_date(in->now, date);
	int rc = util_buf_appendf(
		out,
		"From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
		"To: <%s>\r\n"
		"Subject: %s\r\n"
		"Date: %s\r\n"
		"Message-ID: <%" PRId64 ".%s.%s@%s>\r\n"
		/* RFC 3834 §5: a notification is auto-replied, so no one auto-answers it. */
		"Auto-Submitted: auto-replied\r\n"
		"MIME-Version: 1.0\r\n"
		/* RFC 6522 §3: multipart/report; report-type=delivery-status (RFC 3464 §2). */
		"Content-Type: multipart/report; report-type=delivery-status;\r\n"
		"\tboundary=\"%s\"\r\n"
		"\r\n"
		"This is a MIME-encapsulated message.\r\n"
		"\r\n"
		"--%s\r\n"
		"Content-Description: Notification\r\n"
		"Content-Type: text/plain; charset=us-ascii\r\n"
		"\r\n",
		in->reporting_mta, in->sender,
		in->delay ? "Delayed Mail (still being retried)"
			  : "Undelivered Mail Returned to Sender",
		date, in->now, in->delay ? "delay" : "failure", in->queue_id, in->reporting_mta, b,
		b);
	if (rc == MXTLS_OK)
		rc = util_buf_append(out, parts[0].data, parts[0].len);
	if (rc == MXTLS_OK)
		rc = util_buf_appendf(out,
				      "\r\n--%s\r\n"
				      "Content-Description: Delivery report\r\n"
				      "Content-Type: message/delivery-status\r\n"
				      "\r\n",
				      b);
	if (rc == MXTLS_OK)
		rc = util_buf_append(out, parts[1].data, parts[1].len);
	if (rc == MXTLS_OK)
		rc = util_buf_appendf(
			out,
			"\r\n--%s\r\n"
			"Content-Description: %s\r\n"
			"Content-Type: text/rfc822-headers\r\n"
			"%s"
			"\r\n",
			b, in->delay ? "Message Headers" : "Undelivered Message Headers",
			encoded ? "Content-Transfer-Encoding: quoted-printable\r\n" : "");
	if (rc == MXTLS_OK && parts[2].len > 0)
		rc = util_buf_append(out, parts[2].data, parts[2].len);
	if (rc == MXTLS_OK)
		rc = util_buf_appendf(out, "\r\n--%s--\r\n", b);
	return rc;
}

int delivery_dsn_build(const struct delivery_dsn *in, char **out, size_t *out_len, const char **why)
{
	const char *dummy;
	if (why == NULL)
		why = &dummy;
	*why = NULL;
	int rc = validate(in, why);
	if (rc != MXTLS_OK)
		return rc;
	struct util_buf parts[3], msg, tmp, reply;
	for (int i = 0; i < 3; i++)
		util_buf_init(&parts[i], DELIVERY_DSN_MAX);
	util_buf_init(&msg, DELIVERY_DSN_MAX);
	util_buf_init(&tmp, DELIVERY_DSN_MAX);
	util_buf_init(&reply, DELIVERY_DSN_MAX);
	bool encoded = false;
	rc = text_part(in, &parts[0], &tmp, &reply);
	if (rc == MXTLS_OK)
		rc = status_part(in, &parts[1], &tmp, &reply);
	if (rc == MXTLS_OK)
		rc = headers_part(in, &parts[2], &encoded);
	if (rc == MXTLS_OK)
		rc = assemble(in, &msg, parts, encoded, why);
	if (rc == MXTLS_OK)
		rc = util_buf_take(&msg, out, out_len);
	if (rc == MXTLS_E_LIMIT && *why == NULL)
		*why = "notification over DELIVERY_DSN_MAX";
	for (int i = 0; i < 3; i++)
		util_buf_free(&parts[i]);
	util_buf_free(&msg);
	util_buf_free(&tmp);
	util_buf_free(&reply);
	return rc;
}
