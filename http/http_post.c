/* SPDX-License-Identifier: MIT */
/* Sending a TLS report over HTTPS POST (RFC 8460 §5.4) to addresses the caller resolved. */
#include "http/http_post.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

struct http_post {
	struct http_transfer *transfer;
	http_post_callback cb;
	void *arg;
};

/* Replaces control characters (a reason comes from libcurl or the network) by spaces. */
static void one_line(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

void http_post_result_from(const struct http_response *r, struct http_post_result *out)
{
	memset(out, 0, sizeof *out);
	out->outcome = r->outcome;
	out->status = r->status;
	const char *why = r->reason;
	switch (r->outcome) {
	case HTTP_DONE:
		/* RFC 8460 §5.4: "a successful response (typically 200 or 201)": any 2xx. */
		out->ok = r->status >= 200 && r->status <= 299;
		if (!out->ok)
			snprintf(out->reason, sizeof out->reason, "HTTP %ld", r->status);
		break;
	case HTTP_E_CERT:
		snprintf(out->reason, sizeof out->reason, "TLS: certificate not trusted: %s", why);
		break;
	case HTTP_E_TLS:
		snprintf(out->reason, sizeof out->reason, "TLS: %s", why);
		break;
	case HTTP_E_CONNECT:
		snprintf(out->reason, sizeof out->reason, "connect: %s", why);
		break;
	case HTTP_E_TIMEOUT:
		snprintf(out->reason, sizeof out->reason, "timeout: %s", why);
		break;
	default: /* HTTP_E_TOO_LARGE says it in its reason */
		snprintf(out->reason, sizeof out->reason, "%s", why[0] ? why : "error");
		break;
	}
	one_line(out->reason);
}

static void on_response(void *arg, struct http_response *r)
{
	struct http_post *p = arg;
	struct http_post_result res;
	http_post_result_from(r, &res);
	http_post_callback cb = p->cb;
	void *cb_arg = p->arg;
	free(p);
	cb(cb_arg, &res);
}

int http_post_tlsrpt(struct http_client *c, const char *url, const char *const *addrs,
		     size_t naddrs, const void *body, size_t len, const struct http_post_opts *opts,
		     http_post_callback cb, void *arg, struct http_post **out)
{
	if (c == NULL || cb == NULL || (body == NULL && len > 0))
		return MXTLS_E_INVAL;
	struct http_post *p = calloc(1, sizeof *p);
	if (p == NULL)
		return MXTLS_E_NOMEM;
	p->cb = cb;
	p->arg = arg;
	struct http_request req = {
		.method = HTTP_POST,
		.url = url,
		.addrs = addrs,
		.naddrs = naddrs,
		.max_body = HTTP_POST_RESPONSE_MAX,
		.body = body,
		.body_len = len,
		.content_type = HTTP_POST_TLSRPT_CONTENT_TYPE,
	};
	if (opts != NULL) {
		req.ca_file = opts->ca_file;
		req.connect_timeout_ms = opts->connect_timeout_ms;
		req.total_timeout_ms = opts->total_timeout_ms;
		if (opts->max_response != 0)
			req.max_body = opts->max_response;
	}
	int rc = http_client_start(c, &req, on_response, p, &p->transfer);
	if (rc != MXTLS_OK) {
		free(p);
		return rc;
	}
	if (out != NULL)
		*out = p;
	return MXTLS_OK;
}

void http_post_cancel(struct http_post *p)
{
	if (p == NULL)
		return;
	http_client_cancel(p->transfer);
	free(p);
}
