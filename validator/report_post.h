/* SPDX-License-Identifier: MIT */
/* A TLS report POSTed to an https rua (RFC 8460 §5.4), its host resolved by our resolver. */
#ifndef MXTLS_VALIDATOR_REPORT_POST_H
#define MXTLS_VALIDATOR_REPORT_POST_H

#include <stddef.h>

#include "dns/dns_resolver.h"
#include "http/http_post.h"

struct report_post;

/*
 * Looks up the A and AAAA records of url's host with r (borrowed; DNSSEC-validating), then
 * POSTs body[0..len) (copied) as application/tlsrpt+gzip with http_post_tlsrpt() on c
 * (borrowed), connecting only to the addresses found.  Secure and insecure answers are used;
 * a bogus answer for either type refuses the post (nothing is contacted), as does a host
 * without addresses.  Such a failure reaches cb with outcome HTTP_E_CONNECT and a reason that
 * begins "DNS: ".  r and c must run on the same event base.  cb runs later, never inside this
 * call.  *out (may be NULL) receives a handle for report_post_cancel(), valid until cb runs.
 * Returns MXTLS_OK, MXTLS_E_INVAL (bad URL, NULL body with len > 0), MXTLS_E_NOMEM,
 * MXTLS_E_TEMPFAIL (the resolver refused the lookups).
 */
int report_post_start(struct dns_resolver *r, struct http_client *c, const char *url,
		      const void *body, size_t len, const struct http_post_opts *opts,
		      http_post_callback cb, void *arg, struct report_post **out);

/* Cancels a pending post (lookups or upload); its callback is not called.  NULL: no-op. */
void report_post_cancel(struct report_post *p);

#endif
