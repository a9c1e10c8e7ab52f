/* SPDX-License-Identifier: MIT */
/* RFC 8460 §5.3: one aggregate report as an RFC 5322 mail message (multipart/report).  Pure. */
#ifndef MXTLS_TLSRPT_MAIL_H
#define MXTLS_TLSRPT_MAIL_H

#include <stddef.h>
#include <stdint.h>

/* RFC 5322 §2.1.1: lines SHOULD stay within 78 characters (folded where they can be) and MUST
 * stay within 998; every line written here is within TLSRPT_MAIL_LINE_MAX but a single word
 * that cannot be folded (a long domain in TLS-Report-Domain), which is within 998. */
#define TLSRPT_MAIL_LINE_MAX 78
/* The longest Message-ID and report-id accepted (without angle brackets). */
#define TLSRPT_MAIL_ID_MAX 250
/* The longest §5.1 file name accepted (a sender and a policy domain of 253 and two times). */
#define TLSRPT_MAIL_FILENAME_MAX 600
/* RFC 2046 §5.1.1: a boundary has 1 to 70 characters. */
#define TLSRPT_MAIL_BOUNDARY_MAX 70
/* The largest attachment (the gzip bytes): the cap on the report JSON (tlsrpt_report.h). */
#define TLSRPT_MAIL_REPORT_MAX (64u * 1024 * 1024)

/* What the message says.  Every pointer is borrowed. */
struct tlsrpt_mail_in {
	const char *policy_domain; /* TLS-Report-Domain: a host name in A-labels */
	const char *submitter;     /* TLS-Report-Submitter: a host name, the domain of from */
	const char *from;          /* From: the report's contact-info, an addr-spec */
	const char *to;            /* To: the addr-spec of a mailto rua destination */
	int64_t date;              /* Date: Unix seconds (1970 to 9999), written in UTC "+0000" */
	int64_t day;               /* the report's UTC day, days since 1970-01-01 (text part) */
	const char *message_id;    /* Message-ID without "<" ">": dot-atom-text "@" dot-atom-text */
	const char *report_id;     /* the report's report-id, the same form (Subject) */
	const char *boundary;      /* 1-70 RFC 2046 bcharsnospace; must not start a text line */
	const char *filename;      /* the RFC 8460 §5.1 file name: letters, digits, "!._-" */
	const uint8_t *report;     /* the gzip-compressed report JSON, report_len > 0 bytes */
	size_t report_len;
};

/*
 * Builds the complete message (RFC 5322, CRLF line ends): From, To, Date, Message-ID, Subject
 * ("Report Domain: <PD> Submitter: <submitter> Report-ID: <<report-id>>", RFC 8460 §5.3,
 * folded at its spaces to keep lines within TLSRPT_MAIL_LINE_MAX), TLS-Report-Domain,
 * TLS-Report-Submitter, TLS-Required: No (RFC 8689 §5), MIME-Version, Content-Type
 * multipart/report; report-type="tlsrpt"; then a text/plain part naming the policy domain, the
 * day and the submitter, and the report as application/tlsrpt+gzip, base64 in 76-character
 * lines, Content-Disposition attachment with the file name.  The same input gives the same
 * bytes.  On success *out (NUL-terminated; caller frees with free()) and *outlen are set.
 * Returns MXTLS_OK, MXTLS_E_INVAL (a field missing or malformed, the From domain not the
 * submitter, the boundary starting a line of the text part), MXTLS_E_LIMIT (report_len above
 * TLSRPT_MAIL_REPORT_MAX), MXTLS_E_NOMEM.
 */
int tlsrpt_mail_build(const struct tlsrpt_mail_in *in, char **out, size_t *outlen);

/*
 * Base64 (RFC 2045 §6.8) of (in, len) in lines of 76 characters, each ended by CRLF (the last
 * one too, when len > 0), appended to buf (cap bytes, NUL-terminated after it).  Returns the
 * number of characters written (without the NUL), or 0 when cap is smaller than
 * tlsrpt_mail_base64_size(len) + 1.
 */
size_t tlsrpt_mail_base64(const uint8_t *in, size_t len, char *buf, size_t cap);

/* The characters tlsrpt_mail_base64() writes for len bytes (without the NUL). */
size_t tlsrpt_mail_base64_size(size_t len);

#endif
