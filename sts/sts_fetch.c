/* SPDX-License-Identifier: MIT */
/* HTTPS fetch of MTA-STS policies (RFC 8461 §3.3): the policy rules over http/'s GET. */
#include "sts/sts_fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mxtls/error.h>

#include "http/http_client.h"
#include "util/util_dnsname.h"

struct sts_fetcher {
	struct http_client *http;
	struct sts_fetch_opts opts;
	char *ca_file;
	struct sts_fetch *fetches; /* doubly linked list of pending fetches */
};

struct sts_fetch {
	struct sts_fetcher *f;
	struct http_transfer *transfer;
	sts_fetch_callback cb;
	void *arg;
	struct sts_fetch *prev, *next;
};

const char *sts_fetch_status_name(enum sts_fetch_status s)
{
	static const char *const names[] = {"ok", "connect", "tls", "http-status",
					    "content-type", "too-large", "timeout", "error",
					    "certificate"};
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

void sts_fetch_result_clear(struct sts_fetch_result *r)
{
	if (r == NULL)
		return;
	free(r->body);
	free(r->peer_pem);
	memset(r, 0, sizeof *r);
}

bool sts_fetch_content_type_ok(const char *ct)
{
	if (ct == NULL)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	static const char want[] = "text/plain";
	if (strncasecmp(ct, want, sizeof want - 1) != 0)
		return false;
	ct += sizeof want - 1;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	/* RFC 8461 §3.2: parameters (a charset) may follow; the media type must end here. */
	return *ct == '\0' || *ct == ';';
}

static void unlink_fetch(struct sts_fetcher *f, struct sts_fetch *t)
{
	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		f->fetches = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
}

/* Turns a finished transfer into a result (RFC 8461 §3.3 rules) and hands it over. */
static void on_response(void *arg, struct http_response *hr)
{
	struct sts_fetch *t = arg;
	struct sts_fetch_result r;
	memset(&r, 0, sizeof r);
	r.http_status = hr->status;
	snprintf(r.content_type, sizeof r.content_type, "%s", hr->content_type);
	r.peer_pem = hr->peer_pem;
	hr->peer_pem = NULL;

	switch (hr->outcome) {
	case HTTP_DONE:
		break;
	case HTTP_E_TOO_LARGE:
		r.status = STS_FETCH_TOO_LARGE;
		snprintf(r.reason, sizeof r.reason, "policy body larger than %d bytes",
			 STS_POLICY_MAX);
		break;
	case HTTP_E_CONNECT:
		r.status = STS_FETCH_CONNECT;
		break;
	case HTTP_E_TLS:
		r.status = STS_FETCH_TLS;
		break;
	case HTTP_E_CERT:
		r.status = STS_FETCH_CERT;
		break;
	case HTTP_E_TIMEOUT:
		r.status = STS_FETCH_TIMEOUT;
		break;
	default:
		r.status = STS_FETCH_ERROR;
		break;
	}
	if (hr->outcome != HTTP_DONE) {
		if (r.reason[0] == '\0')
			snprintf(r.reason, sizeof r.reason, "%s", hr->reason);
	} else if (hr->status != 200) {
		/* RFC 8461 §3.3: only 200 is a policy; redirects MUST NOT be followed. */
		r.status = STS_FETCH_HTTP;
		snprintf(r.reason, sizeof r.reason, "HTTP status %ld%s", hr->status,
			 hr->status >= 300 && hr->status < 400
				 ? " (redirects are not followed, RFC 8461 §3.3)"
				 : "");
	} else if (!sts_fetch_content_type_ok(hr->has_content_type ? hr->content_type : NULL)) {
		r.status = STS_FETCH_CONTENT_TYPE;
		bool ct = hr->has_content_type;
		snprintf(r.reason, sizeof r.reason, "Content-Type %s%s%s, not text/plain",
			 ct ? "'" : "", ct ? r.content_type : "missing", ct ? "'" : "");
	} else {
		r.status = STS_FETCH_OK;
		r.body = hr->body;
		r.len = hr->len;
		hr->body = NULL;
	}
	struct sts_fetcher *f = t->f;
	sts_fetch_callback cb = t->cb;
	void *cb_arg = t->arg;
	unlink_fetch(f, t);
	free(t);
	cb(cb_arg, &r);
	sts_fetch_result_clear(&r);
}

int sts_fetcher_new(struct event_base *base, const struct sts_fetch_opts *opts,
		    struct sts_fetcher **out)
{
	struct sts_fetcher *f = calloc(1, sizeof *f);
	if (f == NULL)
		return MXTLS_E_NOMEM;
	if (opts != NULL)
		f->opts = *opts;
	if (f->opts.connect_timeout_ms == 0)
		f->opts.connect_timeout_ms = 5000;
	if (f->opts.total_timeout_ms == 0)
		f->opts.total_timeout_ms = 10000;
	if (f->opts.port == 0)
		f->opts.port = 443;
	f->opts.ca_file = NULL;
	if (opts != NULL && opts->ca_file != NULL && (f->ca_file = strdup(opts->ca_file)) == NULL) {
		free(f);
		return MXTLS_E_NOMEM;
	}
	int rc = http_client_new(base, &f->http);
	if (rc != MXTLS_OK) {
		free(f->ca_file);
		free(f);
		return rc;
	}
	*out = f;
	return MXTLS_OK;
}

void sts_fetcher_free(struct sts_fetcher *f)
{
	if (f == NULL)
		return;
	while (f->fetches != NULL)
		sts_fetch_cancel(f->fetches);
	http_client_free(f->http);
	free(f->ca_file);
	free(f);
}

int sts_fetch_start(struct sts_fetcher *f, const char *domain, const char *const *addrs,
		    size_t naddrs, sts_fetch_callback cb, void *arg, struct sts_fetch **out)
{
	char dom[UTIL_DNSNAME_MAX + 1];
	if (f == NULL || domain == NULL || cb == NULL || naddrs == 0 || addrs == NULL ||
	    !util_dnsname_canon(domain, strlen(domain), dom, sizeof dom) ||
	    strlen(dom) + sizeof "mta-sts." > sizeof dom)
		return MXTLS_E_INVAL;
	for (size_t i = 0; i < naddrs; i++)
		if (addrs[i] == NULL || strpbrk(addrs[i], ",[] ") != NULL || addrs[i][0] == '\0')
			return MXTLS_E_INVAL;
	/* RFC 8461 §3.3: the policy host is mta-sts.<domain>, the path fixed. */
	char url[UTIL_DNSNAME_MAX + 64];
	snprintf(url, sizeof url, "https://mta-sts.%s:%u/.well-known/mta-sts.txt", dom,
		 (unsigned)f->opts.port);
	struct sts_fetch *t = calloc(1, sizeof *t);
	if (t == NULL)
		return MXTLS_E_NOMEM;
	t->f = f;
	t->cb = cb;
	t->arg = arg;
	/* No redirect, no proxy, no cache, TLS 1.2 or later, verified chain and name: see
	 * http_client_start().  The leaf certificate comes back so that sts_resolve can insist
	 * on a DNS-ID (RFC 8461 §3.3). */
	struct http_request req = {
		.method = HTTP_GET,
		.url = url,
		.addrs = addrs,
		.naddrs = naddrs,
		.ca_file = f->ca_file,
		.connect_timeout_ms = f->opts.connect_timeout_ms,
		.total_timeout_ms = f->opts.total_timeout_ms,
		.max_body = STS_POLICY_MAX,
		.want_peer_cert = true,
	};
	int rc = http_client_start(f->http, &req, on_response, t, &t->transfer);
	if (rc != MXTLS_OK) {
		free(t);
		return rc;
	}
	t->next = f->fetches;
	if (t->next != NULL)
		t->next->prev = t;
	f->fetches = t;
	if (out != NULL)
		*out = t;
	return MXTLS_OK;
}

void sts_fetch_cancel(struct sts_fetch *t)
{
	if (t == NULL)
		return;
	http_client_cancel(t->transfer);
	unlink_fetch(t->f, t);
	free(t);
}
