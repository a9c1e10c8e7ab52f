/* SPDX-License-Identifier: MIT */
/* A context's network steps of sending a TLS report (RFC 8460 §3, §5.4), each waiting for its
 * answer on the context's loop: the _smtp._tls TXT lookup and the HTTPS POST.  The send run
 * (delivery/delivery_tlsrpt_send.c) does one at a time. */
#ifndef MXTLS_VALIDATOR_REPORT_IO_H
#define MXTLS_VALIDATOR_REPORT_IO_H

#include <stddef.h>

struct mxtls_ctx;

/* The most TXT records of one _smtp._tls RRset taken; more is a failed lookup (fail closed:
 * one beyond the cap could be a second v=TLSRPTv1 record, which means no reports). */
#define REPORT_TXT_MAX 64

/* The TXT records of one RRset, each record's character-strings joined without anything
 * between them (RFC 8460 §3). */
struct report_txt {
	char *rec[REPORT_TXT_MAX]; /* owned */
	size_t len[REPORT_TXT_MAX];
	size_t n;
};
void report_txt_clear(struct report_txt *t);

/*
 * Looks up the TXT RRset at _smtp._tls.<domain> with ctx's validating resolver (secure and
 * insecure answers are used: RFC 8460 §3 does not ask for DNSSEC).  MXTLS_OK with out->n
 * records (0: NXDOMAIN or NODATA, the domain publishes none), MXTLS_E_TEMPFAIL (SERVFAIL, a
 * bogus answer, a timeout, too many records: a failure to learn the record is not "no
 * record"), MXTLS_E_NOMEM, MXTLS_E_INVAL (a name too long); why says what happened.
 */
int report_txt_lookup(struct mxtls_ctx *ctx, const char *domain, struct report_txt *out,
		      char *why, size_t whylen);

/*
 * POSTs body[0..len) to the https URI url as application/tlsrpt+gzip (RFC 8460 §5.4) through
 * validator/report_post.c (the host's addresses from ctx's resolver, the certificate checked
 * against ctx's ca-file), with an HTTP client the context keeps.  MXTLS_OK when a 2xx status
 * came (why: "HTTP 200"); MXTLS_E_TEMPFAIL for any other outcome, MXTLS_E_INVAL for a URI
 * that cannot be used, MXTLS_E_NOMEM; why says what happened.
 */
int report_https_post(struct mxtls_ctx *ctx, const char *url, const void *body, size_t len,
		      char *why, size_t whylen);

#endif
