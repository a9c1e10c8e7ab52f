/* SPDX-License-Identifier: MIT */
/* A TLS report POSTed to an https rua (RFC 8460 §5.4), its host resolved by our resolver.
 * validator/ joins dns/ and http/ here as it joins dns/ and sts/: http/ never sees the resolver
 * (ARCHITECTURE.md: http → util), and tlsrpt/ builds the report without any DNS. */
#include "validator/report_post.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "http/http_url.h"

/* The most addresses of the report host handed to the post (as for a policy host). */
#define REPORT_HOST_ADDRS_MAX 8

struct report_post {
	struct http_client *c;
	char *url;
	char *body;
	size_t len;
	struct http_post_opts opts;
	char *ca_file;
	http_post_callback cb;
	void *arg;
	char host[UTIL_DNSNAME_MAX + 1];
	struct dns_query *q[2];
	struct dns_answer *ans[2];
	int pending;
	struct http_post *post;
};

static void free_post(struct report_post *p)
{
	for (int i = 0; i < 2; i++) {
		dns_query_cancel(p->q[i]);
		dns_answer_free(p->ans[i]);
	}
	http_post_cancel(p->post);
	free(p->url);
	free(p->body);
	free(p->ca_file);
	free(p);
}

static void finish(struct report_post *p, const struct http_post_result *res)
{
	http_post_callback cb = p->cb;
	void *arg = p->arg;
	p->post = NULL; /* finished or never started: nothing to cancel */
	free_post(p);
	cb(arg, res);
}

__attribute__((format(printf, 2, 3))) static void fail(struct report_post *p, const char *fmt,
							 ...)
{
	struct http_post_result res;
	memset(&res, 0, sizeof res);
	res.outcome = HTTP_E_CONNECT;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res.reason, sizeof res.reason, fmt, ap);
	va_end(ap);
	finish(p, &res);
}

static void on_posted(void *arg, const struct http_post_result *res)
{
	finish(arg, res);
}

/* Both answers are in: pick the usable addresses and post. */
static void addresses_done(struct report_post *p)
{
	char text[REPORT_HOST_ADDRS_MAX][INET6_ADDRSTRLEN];
	const char *addrs[REPORT_HOST_ADDRS_MAX];
	size_t n = 0;
	char why[2][160] = {"", ""};
	static const char *const type[2] = {"A", "AAAA"};
	for (int i = 0; i < 2; i++) {
		const struct dns_answer *a = p->ans[i];
		if (a == NULL) {
			fail(p, "DNS: %s %s: out of memory", p->host, type[i]);
			return;
		}
		/* Secure or insecure answers are used; a bogus one means someone is tampering
		 * with the host's records, so nothing is sent anywhere (RFC 4035 §4.3). */
		if (a->outcome == DNS_ERR_BOGUS || a->security == DNS_BOGUS) {
			fail(p, "DNS: %s %s: bogus (DNSSEC validation failed%s%s)", p->host, type[i],
			     a->why ? ": " : "", a->why ? a->why : "");
			return;
		}
		snprintf(why[i], sizeof why[i], "%s %s", type[i],
			 a->outcome == DNS_DATA ? "data" : dns_outcome_name(a->outcome));
		if (a->outcome != DNS_DATA)
			continue;
		size_t want = i == 0 ? 4 : 16;
		for (size_t k = 0; k < a->n && n < REPORT_HOST_ADDRS_MAX; k++)
			if (a->rdlen[k] == want &&
			    inet_ntop(i == 0 ? AF_INET : AF_INET6, a->rdata[k], text[n],
				      sizeof text[n]) != NULL) {
				addrs[n] = text[n];
				n++;
			}
	}
	if (n == 0) {
		fail(p, "DNS: no address for %s (%s, %s)", p->host, why[0], why[1]);
		return;
	}
	int rc = http_post_tlsrpt(p->c, p->url, addrs, n, p->body, p->len, &p->opts, on_posted, p,
				  &p->post);
	if (rc != MXTLS_OK)
		fail(p, "post could not start: %s", mxtls_strerror(rc));
}

static void on_addr(struct report_post *p, struct dns_answer *a, int which)
{
	p->q[which] = NULL;
	p->ans[which] = a;
	if (--p->pending == 0)
		addresses_done(p);
}

static void on_a(void *arg, struct dns_answer *a)
{
	on_addr(arg, a, 0);
}

static void on_aaaa(void *arg, struct dns_answer *a)
{
	on_addr(arg, a, 1);
}

int report_post_start(struct dns_resolver *r, struct http_client *c, const char *url,
		      const void *body, size_t len, const struct http_post_opts *opts,
		      http_post_callback cb, void *arg, struct report_post **out)
{
	struct http_url u;
	if (r == NULL || c == NULL || cb == NULL || (body == NULL && len > 0) ||
	    http_url_parse(url, &u) != MXTLS_OK)
		return MXTLS_E_INVAL;
	struct report_post *p = calloc(1, sizeof *p);
	if (p == NULL)
		return MXTLS_E_NOMEM;
	p->c = c;
	p->cb = cb;
	p->arg = arg;
	p->len = len;
	memcpy(p->host, u.host, sizeof p->host);
	if (opts != NULL)
		p->opts = *opts;
	p->opts.ca_file = NULL;
	p->url = strdup(url);
	p->body = malloc(len + 1);
	if (p->url == NULL || p->body == NULL ||
	    (opts != NULL && opts->ca_file != NULL &&
	     (p->opts.ca_file = p->ca_file = strdup(opts->ca_file)) == NULL)) {
		free_post(p);
		return MXTLS_E_NOMEM;
	}
	if (len > 0)
		memcpy(p->body, body, len);
	p->pending = 2;
	int rc = dns_resolve(r, p->host, DNS_TYPE_A, on_a, p, &p->q[0]);
	if (rc == MXTLS_OK)
		rc = dns_resolve(r, p->host, DNS_TYPE_AAAA, on_aaaa, p, &p->q[1]);
	if (rc != MXTLS_OK) {
		free_post(p);
		return rc;
	}
	if (out != NULL)
		*out = p;
	return MXTLS_OK;
}

void report_post_cancel(struct report_post *p)
{
	if (p != NULL)
		free_post(p);
}
