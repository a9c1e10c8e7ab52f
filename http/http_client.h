/* SPDX-License-Identifier: MIT */
/* HTTPS requests (GET, POST) on the event loop, pinned to addresses our resolver found: the
 * only user of libcurl. */
#ifndef MXTLS_HTTP_HTTP_CLIENT_H
#define MXTLS_HTTP_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

/* A response body larger than this is refused when the request names no cap of its own. */
#define HTTP_CLIENT_BODY_MAX_DEFAULT 65536
/* The most addresses one request may be pinned to. */
#define HTTP_CLIENT_ADDRS_MAX 16

/* How a transfer ended.  Only HTTP_DONE has a status code; any status counts as done. */
enum http_outcome {
	HTTP_DONE = 0,      /* a complete response arrived (any status code) */
	HTTP_E_CONNECT = 1, /* no TCP connection (refused, unreachable, no usable address) */
	HTTP_E_TLS = 2,     /* the TLS handshake failed (version, ciphers, reset) */
	HTTP_E_CERT = 3,    /* the certificate is not valid for the host (untrusted chain,
			     * wrong name, expired) */
	HTTP_E_TIMEOUT = 4, /* connect or total time limit reached */
	HTTP_E_TOO_LARGE = 5, /* response body over the cap: a failure, never a truncation */
	HTTP_E_ERROR = 6,   /* anything else (protocol error, out of memory) */
};

/* Static names: "done", "connect", "tls", "certificate", "timeout", "too-large", "error". */
const char *http_outcome_name(enum http_outcome o);

enum http_method {
	HTTP_GET = 0,
	HTTP_POST = 1,
};

struct http_request {
	enum http_method method;
	const char *url;            /* https://host[:port][/path]; see http_url_parse() */
	const char *const *addrs;   /* the host's addresses (IPv4/IPv6 text) from the caller's
				     * resolver: the only ones contacted; at most
				     * HTTP_CLIENT_ADDRS_MAX */
	size_t naddrs;
	const char *ca_file;        /* PEM roots; NULL: the system store */
	unsigned connect_timeout_ms; /* 0: 5000 */
	unsigned total_timeout_ms;  /* 0: 10000 */
	size_t max_body;            /* response body cap; 0: HTTP_CLIENT_BODY_MAX_DEFAULT */
	const void *body;           /* POST only: the request body (copied), may be NULL if 0 */
	size_t body_len;
	const char *content_type;   /* POST only: its Content-Type (no CR/LF), NULL: none */
	bool want_peer_cert;        /* fill http_response.peer_pem */
};

struct http_response {
	enum http_outcome outcome;
	long status;            /* the HTTP status code; 0 when no response arrived */
	char content_type[128]; /* as received ("" when absent) */
	bool has_content_type;  /* the header was present */
	char *body;             /* owned, NUL-terminated (may hold NULs before len); HTTP_DONE
				 * only, else NULL */
	size_t len;
	char *peer_pem;         /* owned: the server's leaf certificate (PEM) when asked for and
				 * TLS completed, else NULL */
	char reason[256];       /* why, for anything but HTTP_DONE (libcurl's words) */
};

/* Frees what r owns and zeroes it; NULL is a no-op. */
void http_response_clear(struct http_response *r);

struct http_client;

/*
 * A client whose transfers run on base (borrowed; must outlive it).  On success *out is set;
 * free with http_client_free().  Returns MXTLS_OK, MXTLS_E_NOMEM, MXTLS_E_CONFIG (libcurl
 * could not be initialised).
 */
int http_client_new(struct event_base *base, struct http_client **out);

/* Cancels every transfer (their callbacks are not called) and frees c; NULL is a no-op. */
void http_client_free(struct http_client *c);

/* Called once, from the event loop; r is borrowed for the call (take r->body or r->peer_pem
 * by moving them).  The callback may start and cancel transfers, but must not free the
 * client. */
typedef void (*http_client_callback)(void *arg, struct http_response *r);

struct http_transfer;

/*
 * Starts req (borrowed for the call; everything needed later is copied).  https only, to the
 * URL's host at req->addrs only (CURLOPT_RESOLVE; libcurl never resolves a name itself), the
 * certificate verified against the CA file and the host name, TLS 1.2 or later, no redirect
 * followed, no proxy, a fresh connection not kept for reuse.  cb runs later, never inside this
 * call.  *out (may be NULL) receives a handle for http_client_cancel(), valid until cb runs.
 * Returns MXTLS_OK, MXTLS_E_INVAL (bad URL, no or bad address, a body on a GET, a bad content
 * type), MXTLS_E_NOMEM (also when libcurl refuses an option).
 */
int http_client_start(struct http_client *c, const struct http_request *req,
		      http_client_callback cb, void *arg, struct http_transfer **out);

/* Cancels a pending transfer; its callback is not called.  NULL is a no-op. */
void http_client_cancel(struct http_transfer *t);

#endif
