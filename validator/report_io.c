/* SPDX-License-Identifier: MIT */
/* The TLS report's network steps on a context (report_io.h). */
#include "validator/report_io.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "dns/dns_rdata.h"
#include "dns/dns_resolver.h"
#include "util/util_errmsg.h"
#include "validator/mxtls_ctx.h"
#include "validator/report_post.h"

void report_txt_clear(struct report_txt *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->rec[i]);
	memset(t, 0, sizeof *t);
}

int report_txt_lookup(struct mxtls_ctx *ctx, const char *domain, struct report_txt *out,
		      char *why, size_t whylen)
{
	memset(out, 0, sizeof *out);
	char name[300];
	if ((size_t)snprintf(name, sizeof name, "_smtp._tls.%s", domain) >= sizeof name) {
		util_errmsg(why, whylen, "_smtp._tls.%s: name too long", domain);
		return MXTLS_E_INVAL;
	}
	struct dns_resolver *r;
	char err[200] = "";
	int rc = mxtls_ctx_resolver(ctx, &r, err, sizeof err);
	if (rc != MXTLS_OK) {
		util_errmsg(why, whylen, "%s TXT: %s", name, err[0] ? err : mxtls_strerror(rc));
		return rc == MXTLS_E_NOMEM ? rc : MXTLS_E_TEMPFAIL;
	}
	struct dns_answer *ans = NULL;
	rc = dns_resolve_sync(r, name, DNS_TYPE_TXT, &ans);
	if (rc != MXTLS_OK || ans == NULL) {
		util_errmsg(why, whylen, "%s TXT: %s", name, mxtls_strerror(rc));
		dns_answer_free(ans);
		return rc == MXTLS_E_NOMEM ? rc : MXTLS_E_TEMPFAIL;
	}
	if (ans->outcome >= DNS_ERR_SERVFAIL || ans->security == DNS_BOGUS) {
		util_errmsg(why, whylen, "%s TXT: %s", name,
			    ans->security == DNS_BOGUS ? "bogus" : dns_outcome_name(ans->outcome));
		rc = MXTLS_E_TEMPFAIL;
	} else if (ans->outcome != DNS_DATA) {
		util_errmsg(why, whylen, "%s: no TXT record (%s)", name,
			    dns_outcome_name(ans->outcome));
	} else if (ans->n > REPORT_TXT_MAX) {
		util_errmsg(why, whylen, "%s: more than %d TXT records", name, REPORT_TXT_MAX);
		rc = MXTLS_E_TEMPFAIL;
	}
	for (size_t i = 0; rc == MXTLS_OK && ans->outcome == DNS_DATA && i < ans->n; i++) {
		/* A TXT rdata of L bytes holds fewer than L bytes of text. */
		size_t cap = ans->rdlen[i] + 1, len = 0;
		char *buf = malloc(cap);
		if (buf == NULL) {
			rc = MXTLS_E_NOMEM;
			break;
		}
		if (dns_rdata_txt(ans->rdata[i], ans->rdlen[i], buf, cap, &len) != MXTLS_OK) {
			/* Malformed rdata from a validating resolver: the RRset is unusable. */
			free(buf);
			util_errmsg(why, whylen, "%s: a malformed TXT record", name);
			rc = MXTLS_E_TEMPFAIL;
			break;
		}
		out->rec[out->n] = buf;
		out->len[out->n++] = len;
	}
	dns_answer_free(ans);
	if (rc != MXTLS_OK)
		report_txt_clear(out);
	return rc;
}

struct post_wait {
	bool done;
	struct http_post_result res;
};

static void on_posted(void *arg, const struct http_post_result *r)
{
	struct post_wait *w = arg;
	w->res = *r;
	w->done = true;
}

int report_https_post(struct mxtls_ctx *ctx, const char *url, const void *body, size_t len,
		      char *why, size_t whylen)
{
	struct dns_resolver *r;
	struct http_client *http = NULL;
	char err[200] = "";
	int rc = mxtls_ctx_resolver(ctx, &r, err, sizeof err);
	if (rc == MXTLS_OK)
		rc = mxtls_ctx_http(ctx, &http, err, sizeof err);
	struct http_post_opts o = {.ca_file = ctx->ca_file};
	struct post_wait w = {0};
	if (rc == MXTLS_OK)
		rc = report_post_start(r, http, url, body, len, &o, on_posted, &w, NULL);
	if (rc == MXTLS_OK)
		rc = mxtls_ctx_wait(ctx, &w.done, err, sizeof err);
	if (rc != MXTLS_OK) {
		util_errmsg(why, whylen, "%s: %s", url, err[0] ? err : mxtls_strerror(rc));
		return rc == MXTLS_E_INVAL || rc == MXTLS_E_NOMEM ? rc : MXTLS_E_TEMPFAIL;
	}
	if (!w.res.ok) {
		util_errmsg(why, whylen, "%s: %s", url, w.res.reason);
		return MXTLS_E_TEMPFAIL;
	}
	util_errmsg(why, whylen, "%s: HTTP %ld", url, w.res.status);
	return MXTLS_OK;
}
