/* SPDX-License-Identifier: MIT */
/* HTTPS fetch of an MTA-STS policy (RFC 8461 §3.3) on the event loop, through http/. */
#ifndef MXTLS_STS_STS_FETCH_H
#define MXTLS_STS_STS_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sts/sts_policy.h" /* STS_POLICY_MAX: the largest body accepted */

struct event_base;

enum sts_fetch_status {
	STS_FETCH_OK = 0,       /* HTTP 200, text/plain, body within the cap */
	STS_FETCH_CONNECT = 1,  /* no TCP connection (refused, unreachable, no address) */
	STS_FETCH_TLS = 2,      /* the TLS handshake failed (protocol version, ciphers, reset) */
	STS_FETCH_HTTP = 3,     /* a status other than 200 (a redirect is not followed) */
	STS_FETCH_CONTENT_TYPE = 4, /* not text/plain (decision D6) */
	STS_FETCH_TOO_LARGE = 5, /* body over STS_POLICY_MAX: a failure, never a truncation */
	STS_FETCH_TIMEOUT = 6,  /* connect or total time limit reached */
	STS_FETCH_ERROR = 7,    /* anything else (protocol error, out of memory) */
	STS_FETCH_CERT = 8,     /* the certificate is not valid for the host (untrusted chain,
				 * wrong name, expired): RFC 8460 sts-webpki-invalid */
};

/* Static names: "ok", "connect", "tls", "http-status", "content-type", "too-large", "timeout",
 * "error", "certificate". */
const char *sts_fetch_status_name(enum sts_fetch_status s);

struct sts_fetch_result {
	enum sts_fetch_status status;
	long http_status;       /* 0 when no response arrived */
	char content_type[128]; /* as received ("" when absent) */
	char *body;             /* owned, NUL-terminated (may hold NULs before len); NULL unless OK */
	size_t len;
	char *peer_pem;         /* owned: the server's leaf certificate (PEM), when TLS completed,
				 * so the caller can apply its own DNS-ID rules (RFC 8461 §3.3) */
	char reason[256];       /* why, for anything but OK */
};

/* Frees what r owns and zeroes it; NULL is a no-op. */
void sts_fetch_result_clear(struct sts_fetch_result *r);

/*
 * RFC 8461 §3.2 and decision D6: true when the Content-Type header value ct (NUL-terminated,
 * may be NULL) is the media type text/plain, in any case, with or without parameters.
 * Pure.
 */
bool sts_fetch_content_type_ok(const char *ct);

struct sts_fetch_opts {
	const char *ca_file;        /* PEM roots; NULL: the system store */
	unsigned connect_timeout_ms; /* 0: 5000 */
	unsigned total_timeout_ms;  /* 0: 10000 */
	uint16_t port;              /* 0: 443 (tests may use another) */
};

struct sts_fetcher;

/*
 * A fetcher whose transfers run on base (borrowed; must outlive it).  opts is copied.  On
 * success *out is set; free with sts_fetcher_free().  Returns MXTLS_OK, MXTLS_E_NOMEM,
 * MXTLS_E_CONFIG (the HTTP client could not be initialised).
 */
int sts_fetcher_new(struct event_base *base, const struct sts_fetch_opts *opts,
		    struct sts_fetcher **out);

/* Cancels every transfer (their callbacks are not called) and frees f; NULL is a no-op. */
void sts_fetcher_free(struct sts_fetcher *f);

/* Called once, from the event loop; r is borrowed for the call (take r->body by moving it).
 * The callback may start and cancel fetches, but must not free the fetcher. */
typedef void (*sts_fetch_callback)(void *arg, struct sts_fetch_result *r);

struct sts_fetch;

/*
 * GETs https://mta-sts.<domain>/.well-known/mta-sts.txt (RFC 8461 §3.3), connecting only to
 * addrs[0..naddrs) (IPv4 or IPv6 text, resolved by the caller's DNSSEC-aware resolver so one
 * resolver configuration governs everything).  The certificate is verified against the CA
 * file (or system store) and the host name by http/; no redirect is followed, no proxy is
 * used, nothing is cached.  cb runs later, never inside this call.  *out (may be NULL)
 * receives a handle for sts_fetch_cancel(), valid until cb runs.  Returns MXTLS_OK,
 * MXTLS_E_INVAL (bad domain, no address, an address that is not numeric IPv4 or IPv6 text,
 * more than HTTP_CLIENT_ADDRS_MAX), MXTLS_E_NOMEM (also when the HTTP client refuses an
 * option).
 */
int sts_fetch_start(struct sts_fetcher *f, const char *domain, const char *const *addrs,
		    size_t naddrs, sts_fetch_callback cb, void *arg, struct sts_fetch **out);

/* Cancels a pending fetch; its callback is not called. */
void sts_fetch_cancel(struct sts_fetch *t);

#endif
