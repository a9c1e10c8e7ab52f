/* SPDX-License-Identifier: MIT */
/* The MX step of RFC 7672 §2.2.1 (and RFC 7505 null MX, RFC 5321 §5.1 implicit MX). */
#include "validator/mx_lookup.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "util/util_text.h"

const char *mx_lookup_status_name(enum mx_lookup_status s)
{
	switch (s) {
	case MX_LOOKUP_OK:
		return "ok";
	case MX_LOOKUP_NULL_MX:
		return "null-mx";
	case MX_LOOKUP_NXDOMAIN:
		return "nxdomain";
	case MX_LOOKUP_TEMPFAIL:
		return "tempfail";
	}
	return "?";
}

static bool looks_like_ip(const char *name)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

/* Sorts by preference; equal preferences keep their order in the answer (a deterministic
 * choice: RFC 5321 §5.1 lets a sender randomise them, which makes tests flaky). */
static void sort_hosts(struct mx_host *h, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct mx_host cur = h[i];
		size_t j = i;
		while (j > 0 && h[j - 1].preference > cur.preference) {
			h[j] = h[j - 1];
			j--;
		}
		h[j] = cur;
	}
}

__attribute__((format(printf, 3, 4))) static void fail(struct mx_lookup_result *out,
							 enum mx_lookup_status st, const char *fmt,
							 ...)
{
	out->status = st;
	out->n = 0;
	va_list ap;
	va_start(ap, fmt);
	char text[1024];
	vsnprintf(text, sizeof text, fmt, ap);
	util_text_fit(out->reason, sizeof out->reason, text);
	va_end(ap);
}

void mx_lookup_from_answer(const struct dns_answer *ans, struct mx_lookup_result *out)
{
	memset(out, 0, sizeof *out);
	snprintf(out->domain, sizeof out->domain, "%s", ans->qname);
	snprintf(out->expanded, sizeof out->expanded, "%s", ans->canonname);
	out->secure = ans->security == DNS_SECURE;
	out->ttl = ans->ttl;

	switch (ans->outcome) {
	case DNS_NXDOMAIN:
		fail(out, MX_LOOKUP_NXDOMAIN, "%s does not exist (NXDOMAIN%s)", ans->qname,
		     out->secure ? ", DNSSEC-secure" : "");
		return;
	case DNS_NODATA:
		/* RFC 5321 §5.1: no MX records, the domain itself is the server (preference 0).
		 * RFC 7672 §2.2.2 runs the same host algorithm for it. */
		out->implicit = true;
		out->n = 1;
		out->hosts[0].preference = 0;
		snprintf(out->hosts[0].name, sizeof out->hosts[0].name, "%s", ans->qname);
		out->hosts[0].ip_literal = looks_like_ip(ans->qname);
		return;
	case DNS_DATA:
		break;
	default:
		/* RFC 7672 §2.1.2: a failure that prevents deciding where to connect delays
		 * delivery; there is no fallback to the domain's A records. */
		fail(out, MX_LOOKUP_TEMPFAIL, "MX lookup failed: %s%s%s%s",
		     dns_outcome_name(ans->outcome), ans->why ? " (" : "", ans->why ? ans->why : "",
		     ans->why ? ")" : "");
		return;
	}

	size_t nnull = 0;
	for (size_t i = 0; i < ans->n; i++) {
		struct dns_mx mx;
		if (dns_rdata_mx(ans->rdata[i], ans->rdlen[i], &mx) != MXTLS_OK) {
			fail(out, MX_LOOKUP_TEMPFAIL, "malformed MX record in the answer for %s",
			     ans->qname);
			return;
		}
		if (strcmp(mx.exchange, ".") == 0) {
			nnull++;
			continue;
		}
		if (out->n == MX_LOOKUP_HOSTS_MAX) {
			/* Keep the most preferred: replace the worst kept host if this one is better. */
			size_t worst = 0;
			for (size_t j = 1; j < out->n; j++)
				if (out->hosts[j].preference >= out->hosts[worst].preference)
					worst = j;
			if (mx.preference >= out->hosts[worst].preference)
				continue;
			memmove(&out->hosts[worst], &out->hosts[worst + 1],
				(out->n - worst - 1) * sizeof out->hosts[0]);
			out->n--;
		}
		struct mx_host *h = &out->hosts[out->n++];
		h->preference = mx.preference;
		memcpy(h->name, mx.exchange, sizeof h->name);
		h->ip_literal = looks_like_ip(mx.exchange);
	}
	if (out->n == 0 && nnull > 0) {
		/* RFC 7505 §3: a single "0 ." record; we accept any preference and duplicates, since
		 * no host could be reached either way. */
		fail(out, MX_LOOKUP_NULL_MX, "%s accepts no mail (null MX, RFC 7505)", ans->qname);
		return;
	}
	/* RFC 7505 §4.3 leaves a "." among real MX hosts undefined: the real hosts are used. */
	sort_hosts(out->hosts, out->n);
}

struct mx_lookup {
	struct dns_query *q;
	mx_lookup_callback cb;
	void *arg;
};

static void on_mx(void *arg, struct dns_answer *ans)
{
	struct mx_lookup *m = arg;
	struct mx_lookup_result res;
	if (ans == NULL) {
		memset(&res, 0, sizeof res);
		res.status = MX_LOOKUP_TEMPFAIL;
		snprintf(res.reason, sizeof res.reason, "out of memory");
	} else {
		mx_lookup_from_answer(ans, &res);
	}
	dns_answer_free(ans);
	m->cb(m->arg, &res);
	free(m);
}

int mx_lookup_start(struct dns_resolver *r, const char *domain, mx_lookup_callback cb, void *arg,
		    struct mx_lookup **out)
{
	struct mx_lookup *m = calloc(1, sizeof *m);
	if (m == NULL)
		return MXTLS_E_NOMEM;
	m->cb = cb;
	m->arg = arg;
	int rc = dns_resolve(r, domain, DNS_TYPE_MX, on_mx, m, &m->q);
	if (rc != MXTLS_OK) {
		free(m);
		return rc;
	}
	if (out != NULL)
		*out = m;
	return MXTLS_OK;
}

void mx_lookup_cancel(struct mx_lookup *m)
{
	if (m == NULL)
		return;
	dns_query_cancel(m->q);
	free(m);
}
