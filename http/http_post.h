/* SPDX-License-Identifier: MIT */
/* Sending a TLS report over HTTPS POST (RFC 8460 §5.4) to addresses the caller resolved. */
#ifndef MXTLS_HTTP_HTTP_POST_H
#define MXTLS_HTTP_HTTP_POST_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http_client.h"

/* RFC 8460 §5.4 (and §6.4, the media type registration): a gzip-compressed report. */
#define HTTP_POST_TLSRPT_CONTENT_TYPE "application/tlsrpt+gzip"

/* The collector's answer is not used; anything longer than this is refused all the same. */
#define HTTP_POST_RESPONSE_MAX 65536

struct http_post_opts {
	const char *ca_file;         /* PEM roots; NULL: the system store */
	unsigned connect_timeout_ms; /* 0: 5000 */
	unsigned total_timeout_ms;   /* 0: 10000 (a whole report upload) */
	size_t max_response;         /* response body cap; 0: HTTP_POST_RESPONSE_MAX */
};

struct http_post_result {
	bool ok;                   /* a 2xx status arrived (RFC 8460 §5.4) */
	enum http_outcome outcome; /* how the transfer ended */
	long status;               /* HTTP status; 0 when no response arrived */
	char reason[320];          /* one line, "" when ok: "HTTP 500", "TLS: certificate not
				    * trusted: ...", "connect: ...", "timeout: ...", ... */
};

/*
 * RFC 8460 §5.4: the upload succeeded only when a 2xx status arrived ("typically 200 or 201");
 * any other status, a TLS, certificate or connection failure, a timeout or a response over the
 * cap is a failure.  Fills *out from r (borrowed) with a one-line reason (control characters
 * become spaces).  Pure.
 */
void http_post_result_from(const struct http_response *r, struct http_post_result *out);

/* Called once, from the event loop; r is borrowed for the call. */
typedef void (*http_post_callback)(void *arg, const struct http_post_result *r);

struct http_post;

/*
 * POSTs body[0..len) (copied) with Content-Type application/tlsrpt+gzip to url (https only,
 * see http_url_parse()), connecting only to addrs[0..naddrs) (IPv4 or IPv6 text from the
 * caller's resolver), on c (borrowed; must outlive the post).  The certificate is verified
 * against opts->ca_file (or the system store) and the URL's host: RFC 8460 §3 lets a sender
 * skip that check (MAY); we do not.  No redirect is followed.  cb runs later, never inside
 * this call.  *out (may be NULL) receives a handle for http_post_cancel(), valid until cb
 * runs.  Returns MXTLS_OK, MXTLS_E_INVAL (bad URL or address, NULL body with len > 0),
 * MXTLS_E_NOMEM.
 */
int http_post_tlsrpt(struct http_client *c, const char *url, const char *const *addrs,
		     size_t naddrs, const void *body, size_t len, const struct http_post_opts *opts,
		     http_post_callback cb, void *arg, struct http_post **out);

/* Cancels a pending post; its callback is not called.  NULL is a no-op. */
void http_post_cancel(struct http_post *p);

#endif
