/* SPDX-License-Identifier: MIT */
/* MTA-STS policy discovery, fetch and caching (RFC 8461 §3.1-§3.3, §5.1), on the event loop. */
#include "validator/sts_resolve.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "dane/dane_dnsid.h"
#include "dns/dns_rdata.h"
#include "sts/sts_cache_async.h"
#include "sts/sts_cache_claim.h"
#include "sts/sts_policy.h"
#include "sts/sts_txt.h"
#include "util/util_dnsname.h"

/* The most addresses of the policy host handed to the fetch. */
#define POLICY_HOST_ADDRS_MAX 8

struct sts_resolve {
	struct dns_resolver *r;
	struct sts_fetcher *f;
	struct sts_cache *c;
	sts_resolve_callback cb;
	void *arg;
	int64_t now;
	bool refresh;
	bool no_backoff;
	const struct util_log *log;
	uint64_t log_id;
	struct sts_resolve_result *res;
	struct sts_cache_entry cached; /* the cached entry, if have_cached */
	bool have_cached;
	struct sts_cache_failure failure; /* the last failed fetch, if have_failure */
	bool have_failure;
	struct sts_cache_op *cache_op; /* the cache read, running beside the TXT lookup */
	bool cache_failed;             /* the cache could not be read */
	bool txt_done;                 /* the TXT answer is in res (waiting for the cache read) */
	char host[UTIL_DNSNAME_MAX + 16]; /* mta-sts.<domain> */
	struct dns_query *txt_q;
	struct dns_query *addr_q[2];
	struct dns_answer *addr_ans[2];
	int addr_pending;
	struct sts_fetch *fetch;
	struct sts_cache_claim *claim; /* fleet mode: waiting for another member's fetch */
	bool fleet_fetch;              /* fleet mode: this fetch may hold the domain's lease */
};

const char *sts_source_name(enum sts_source s)
{
	return s == STS_SOURCE_NETWORK ? "network" : s == STS_SOURCE_CACHE ? "cache" : "none";
}

const char *sts_txt_state_name(enum sts_txt_state s)
{
	static const char *const names[] = {"absent", "valid", "invalid", "multiple", "error"};
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

void sts_resolve_result_free(struct sts_resolve_result *r)
{
	if (r == NULL)
		return;
	sts_cache_entry_clear(&r->policy);
	free(r);
}

static bool cached_valid(const struct sts_resolve *s)
{
	/* RFC 8461 §3.2: a policy is cached for at most max_age seconds from its fetch. */
	return s->have_cached && s->now < s->cached.expires_at;
}

static void finish(struct sts_resolve *s)
{
	struct sts_resolve_result *res = s->res;
	if (s->cache_failed) {
		/* Not knowing the cached policy is not "no policy" (convention 2): the caller
		 * gets no result, which a decision turns into a temporary failure. */
		sts_resolve_result_free(res);
		res = NULL;
	} else {
		if (res->source == STS_SOURCE_NONE && cached_valid(s)) {
			/* RFC 8461 §3.3 and §5.1 (STS-10, STS-34): no live policy, a valid
			 * cached one. */
			res->source = STS_SOURCE_CACHE;
			res->policy = s->cached;
			memset(&s->cached, 0, sizeof s->cached);
		}
		util_log_kv(s->log, MXTLS_LOG_INFO, s->log_id, "sts-policy", "domain", res->domain,
			    "txt", sts_txt_state_name(res->txt), "id",
			    res->txt_id[0] ? res->txt_id : NULL, "source",
			    sts_source_name(res->source), "mode",
			    res->source != STS_SOURCE_NONE ? sts_policy_mode_name(res->policy.mode)
							   : NULL,
			    "fetch", res->fetched ? mxtls_result_name(res->fetch_result) : NULL,
			    "error", res->fetch_error[0] ? res->fetch_error : NULL,
			    (const char *)NULL);
	}
	sts_cache_entry_clear(&s->cached);
	for (int i = 0; i < 2; i++)
		dns_answer_free(s->addr_ans[i]);
	sts_resolve_callback cb = s->cb;
	void *arg = s->arg;
	free(s);
	cb(arg, res);
}

/* A failed fetch: remember it for the back-off, note it on the cached entry, alert. */
__attribute__((format(printf, 3, 4))) static void fetch_failed(struct sts_resolve *s,
							       enum mxtls_result type,
							       const char *fmt, ...)
{
	struct sts_resolve_result *res = s->res;
	res->fetch_result = type;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->fetch_error, sizeof res->fetch_error, fmt, ap);
	va_end(ap);
	/* RFC 8461 §3.3 (STS-18): no new attempt for this id for a while.  The cache writes are
	 * queued to its worker: the loop does not wait for them. */
	sts_cache_async_note_failure(s->c, res->domain, res->txt_id, s->now, res->fetch_error,
				     s->log, s->log_id);
	if (s->have_cached) {
		sts_cache_async_touch(s->c, res->domain, s->now, res->fetch_error, s->log,
				      s->log_id);
		/* RFC 8461 §10.2 (STS-36): refresh failures are alerted on, unless the cached
		 * policy is "none" (an opt-out being torn down). */
		if (s->cached.mode != STS_MODE_NONE)
			util_log_kv(s->log, MXTLS_LOG_WARNING, s->log_id, "sts-refresh-failed",
				    "domain", res->domain, "cached_id", s->cached.id, "error",
				    res->fetch_error, (const char *)NULL);
	}
	finish(s);
}

/* A fetched body that passed every check: parse it, store it (RFC 8461 §3.2, §3.3). */
static void fetch_succeeded(struct sts_resolve *s, struct sts_fetch_result *fr)
{
	struct sts_resolve_result *res = s->res;
	struct sts_policy policy;
	struct sts_report report;
	if (sts_policy_parse(fr->body, fr->len, &policy, &report) != MXTLS_OK) {
		const struct sts_problem *p = report.errors.n > 0 ? &report.errors.item[0] : NULL;
		fetch_failed(s, MXTLS_RESULT_STS_POLICY_INVALID, "invalid policy: line %u: %s",
			     p ? p->line : 0, p ? p->reason : "syntax error");
		return;
	}
	struct sts_cache_entry *e = &res->policy;
	snprintf(e->domain, sizeof e->domain, "%s", res->domain);
	snprintf(e->id, sizeof e->id, "%s", res->txt_id);
	e->text = fr->body;
	e->len = fr->len;
	fr->body = NULL;
	e->mode = policy.mode;
	e->max_age = policy.max_age;
	e->mx = policy.mx;
	e->nmx = policy.nmx;
	policy.mx = NULL;
	policy.nmx = 0;
	sts_policy_clear(&policy);
	e->fetched_at = s->now;
	e->expires_at = s->now + (int64_t)e->max_age;
	e->last_checked = s->now;
	if (s->have_cached && strcmp(s->cached.id, e->id) == 0 &&
	    (s->cached.len != e->len || memcmp(s->cached.text, e->text, e->len) != 0)) {
		/* The publisher changed the policy without changing the TXT id (RFC 8461 §3.1
		 * says the id MUST change): noticed here, at refresh, and logged. */
		res->changed_same_id = true;
		util_log_kv(s->log, MXTLS_LOG_WARNING, s->log_id, "sts-policy-changed-same-id",
			    "domain", res->domain, "id", e->id, (const char *)NULL);
	}
	res->source = STS_SOURCE_NETWORK;
	res->fetch_result = MXTLS_RESULT_OK;
	/* A write that fails is logged as sts-cache-write-failed by the cache, from the loop. */
	if (sts_cache_async_put(s->c, e, s->log, s->log_id) != MXTLS_OK)
		util_log_kv(s->log, MXTLS_LOG_WARNING, s->log_id, "sts-cache-write-failed", "domain",
			    res->domain, "reason", "out of memory", (const char *)NULL);
	finish(s);
}

static void on_fetch(void *arg, struct sts_fetch_result *fr)
{
	struct sts_resolve *s = arg;
	s->fetch = NULL;
	switch (fr->status) {
	case STS_FETCH_OK:
		/* RFC 8461 §3.3 (STS-13): the policy host's certificate must carry a DNS-ID for
		 * it; http/'s name check would also accept a subject CN, so the SAN is checked
		 * here. */
		if (fr->peer_pem == NULL ||
		    !dane_dnsid_pem_matches(fr->peer_pem, strlen(fr->peer_pem), s->host)) {
			fetch_failed(s, MXTLS_RESULT_STS_WEBPKI_INVALID,
				     "certificate of %s has no matching DNS-ID (subject alternative "
				     "name); the common name is not used",
				     s->host);
			return;
		}
		fetch_succeeded(s, fr);
		return;
	case STS_FETCH_CERT:
		fetch_failed(s, MXTLS_RESULT_STS_WEBPKI_INVALID, "%s: %s", s->host, fr->reason);
		return;
	case STS_FETCH_CONTENT_TYPE: /* decision D6 */
		fetch_failed(s, MXTLS_RESULT_STS_POLICY_INVALID, "%s", fr->reason);
		return;
	default:
		fetch_failed(s, MXTLS_RESULT_STS_POLICY_FETCH_ERROR, "%s: %s", s->host, fr->reason);
		return;
	}
}

/* The policy host's addresses from our own resolver, then the HTTPS request. */
static void addresses_done(struct sts_resolve *s)
{
	char text[POLICY_HOST_ADDRS_MAX][INET6_ADDRSTRLEN];
	const char *addrs[POLICY_HOST_ADDRS_MAX];
	size_t n = 0;
	const char *error = NULL;
	for (int i = 0; i < 2; i++) {
		const struct dns_answer *a = s->addr_ans[i];
		if (a == NULL) {
			error = "out of memory";
			continue;
		}
		if (a->outcome != DNS_DATA && a->outcome != DNS_NODATA &&
		    a->outcome != DNS_NXDOMAIN) {
			error = a->why != NULL ? a->why : dns_outcome_name(a->outcome);
			continue;
		}
		size_t want = i == 0 ? 4 : 16;
		for (size_t k = 0; a->outcome == DNS_DATA && k < a->n; k++)
			if (a->rdlen[k] == want && n < POLICY_HOST_ADDRS_MAX &&
			    inet_ntop(i == 0 ? AF_INET : AF_INET6, a->rdata[k], text[n],
				      sizeof text[n]) != NULL) {
				addrs[n] = text[n];
				n++;
			}
	}
	if (n == 0) {
		fetch_failed(s, MXTLS_RESULT_STS_POLICY_FETCH_ERROR, "%s: %s", s->host,
			     error != NULL ? error : "no address records");
		return;
	}
	int rc = sts_fetch_start(s->f, s->res->domain, addrs, n, on_fetch, s, &s->fetch);
	if (rc != MXTLS_OK)
		fetch_failed(s, MXTLS_RESULT_STS_POLICY_FETCH_ERROR, "fetch could not start: %s",
			     mxtls_strerror(rc));
}

static void on_addr(struct sts_resolve *s, struct dns_answer *a, int which)
{
	s->addr_q[which] = NULL;
	s->addr_ans[which] = a;
	if (--s->addr_pending == 0)
		addresses_done(s);
}

static void on_a(void *arg, struct dns_answer *a)
{
	on_addr(arg, a, 0);
}

static void on_aaaa(void *arg, struct dns_answer *a)
{
	on_addr(arg, a, 1);
}

static void start_fetch(struct sts_resolve *s)
{
	s->fleet_fetch = sts_cache_shared(s->c);
	s->res->fetched = true;
	s->addr_pending = 2;
	int rc = dns_resolve(s->r, s->host, DNS_TYPE_A, on_a, s, &s->addr_q[0]);
	if (rc == MXTLS_OK) {
		rc = dns_resolve(s->r, s->host, DNS_TYPE_AAAA, on_aaaa, s, &s->addr_q[1]);
		if (rc != MXTLS_OK) {
			dns_query_cancel(s->addr_q[0]);
			s->addr_q[0] = NULL;
		}
	}
	if (rc != MXTLS_OK)
		fetch_failed(s, MXTLS_RESULT_STS_POLICY_FETCH_ERROR, "%s: lookup could not start: %s",
			     s->host, mxtls_strerror(rc));
}

/* Fleet mode: the claim's answer, another member's fetch of this id or "fetch it yourself". */
static void on_claim(void *arg, struct sts_cache_read *r)
{
	struct sts_resolve *s = arg;
	s->claim = NULL;
	if (r->rc == MXTLS_OK) {
		/* Fetched over HTTPS by another member moments ago (RFC 8461 §3.3: the current
		 * id, so no fetch); finish() serves it as a cached policy. */
		sts_cache_entry_clear(&s->cached);
		s->cached = r->entry;
		memset(&r->entry, 0, sizeof r->entry);
		s->have_cached = true;
		s->have_failure = false;
		finish(s);
		return;
	}
	if (r->rc == MXTLS_E_TIMEOUT)
		util_log_kv(s->log, MXTLS_LOG_INFO, s->log_id, "fleet-fetch-wait-ended", "domain",
			    s->res->domain, "reason", "another member's fetch took too long",
			    (const char *)NULL);
	start_fetch(s);
}

/* A fetch is due: alone, or for a refresh (whose lease sts_cache_sync.c took), at once; in a
 * fleet, after the claim, so that members meeting a domain together fetch it once. */
static void begin_fetch(struct sts_resolve *s)
{
	if (s->refresh || !sts_cache_shared(s->c) ||
	    sts_cache_claim_start(s->c, s->res->domain, s->res->txt_id, on_claim, s, &s->claim) !=
		    MXTLS_OK)
		start_fetch(s);
}

/* RFC 8461 §3.1 record selection and parsing over the TXT RRset a (DNS_DATA). */
static void select_record(struct sts_resolve_result *res, const struct dns_answer *a)
{
	/* Every record's joined text in one buffer: a record's text is shorter than its rdata.
	 * All records take part: leaving some out could hide the one v=STSv1 record. */
	size_t total = 1;
	for (size_t i = 0; i < a->n; i++)
		total += a->rdlen[i] + 1;
	struct sts_txt_span *spans = calloc(a->n > 0 ? a->n : 1, sizeof *spans);
	char *buf = malloc(total);
	if (spans == NULL || buf == NULL) {
		/* Not knowing the records is not "no record" (convention 2). */
		res->txt = STS_TXT_STATE_ERROR;
		snprintf(res->txt_reason, sizeof res->txt_reason, "out of memory");
		free(spans);
		free(buf);
		return;
	}
	size_t n = 0, off = 0;
	for (size_t i = 0; i < a->n; i++) {
		size_t len;
		/* A malformed record takes no part in the selection. */
		if (dns_rdata_txt(a->rdata[i], a->rdlen[i], buf + off, a->rdlen[i] + 1, &len) !=
		    MXTLS_OK)
			continue;
		spans[n++] = (struct sts_txt_span){buf + off, len};
		off += len + 1;
	}
	size_t which = 0;
	enum sts_txt_choice ch = sts_txt_select(spans, n, &which);
	if (ch == STS_TXT_NONE) {
		res->txt = STS_TXT_STATE_ABSENT;
		snprintf(res->txt_reason, sizeof res->txt_reason,
			 "no TXT record begins with v=STSv1");
	} else if (ch == STS_TXT_MANY) {
		res->txt = STS_TXT_STATE_MULTIPLE;
		snprintf(res->txt_reason, sizeof res->txt_reason,
			 "more than one v=STSv1 record (RFC 8461 §3.1: no policy)");
	} else {
		snprintf(res->txt_text, sizeof res->txt_text, "%.*s",
			 (int)(spans[which].len < sizeof res->txt_text ? spans[which].len
								       : sizeof res->txt_text - 1),
			 spans[which].p);
		struct sts_txt txt;
		struct sts_report rep;
		if (sts_txt_parse(spans[which].p, spans[which].len, &txt, &rep) == MXTLS_OK) {
			res->txt = STS_TXT_STATE_VALID;
			snprintf(res->txt_id, sizeof res->txt_id, "%s", txt.id);
		} else {
			res->txt = STS_TXT_STATE_INVALID;
			snprintf(res->txt_reason, sizeof res->txt_reason, "invalid record: %s",
				 rep.errors.n ? rep.errors.item[0].reason : "syntax error");
		}
	}
	free(spans);
	free(buf);
}

static void txt_and_cache_done(struct sts_resolve *s);

/* The cache's answer, read by its worker while the TXT lookup runs. */
static void on_cache_read(void *arg, struct sts_cache_read *r)
{
	struct sts_resolve *s = arg;
	s->cache_op = NULL;
	if (r->rc == MXTLS_OK) {
		s->cached = r->entry;
		memset(&r->entry, 0, sizeof r->entry);
		s->have_cached = true;
	}
	if (r->rc == MXTLS_OK || r->rc == MXTLS_E_NOTFOUND) {
		s->failure = r->failure;
		s->have_failure = r->has_failure;
	} else {
		/* SQLITE_BUSY after the busy timeout, an I/O error, a damaged row. */
		s->cache_failed = true;
		util_log_kv(s->log, MXTLS_LOG_WARNING, s->log_id, "sts-cache-read-failed",
			    "domain", s->res->domain, "reason",
			    r->why[0] ? r->why : mxtls_strerror(r->rc), (const char *)NULL);
	}
	if (s->txt_done)
		txt_and_cache_done(s);
}

/* RFC 8461 §3.1: the TXT RRset decides whether (and which) policy is current. */
static void on_txt(void *arg, struct dns_answer *a)
{
	struct sts_resolve *s = arg;
	struct sts_resolve_result *res = s->res;
	s->txt_q = NULL;
	if (a == NULL) {
		res->txt = STS_TXT_STATE_ERROR;
		snprintf(res->txt_reason, sizeof res->txt_reason, "out of memory");
		s->txt_done = true;
		if (s->cache_op == NULL)
			txt_and_cache_done(s);
		return;
	}
	res->txt_answered = a->outcome == DNS_NXDOMAIN || a->outcome == DNS_NODATA ||
			    a->outcome == DNS_DATA;
	res->txt_ttl = a->ttl;
	if (a->outcome == DNS_NXDOMAIN || a->outcome == DNS_NODATA) {
		res->txt = STS_TXT_STATE_ABSENT;
		snprintf(res->txt_reason, sizeof res->txt_reason, "no TXT record at _mta-sts.%s",
			 res->domain);
	} else if (a->outcome != DNS_DATA) {
		/* A failed lookup is not "no policy": a cached policy still applies (STS-34). */
		res->txt = STS_TXT_STATE_ERROR;
		snprintf(res->txt_reason, sizeof res->txt_reason, "TXT lookup failed: %s",
			 a->why != NULL ? a->why : dns_outcome_name(a->outcome));
	} else {
		select_record(res, a);
	}
	dns_answer_free(a);
	s->txt_done = true;
	if (s->cache_op == NULL)
		txt_and_cache_done(s);
}

/* Both the TXT answer and the cache read are in: serve, fetch, or hold back. */
static void txt_and_cache_done(struct sts_resolve *s)
{
	struct sts_resolve_result *res = s->res;
	if (s->cache_failed || res->txt != STS_TXT_STATE_VALID) {
		finish(s);
		return;
	}
	/* RFC 8461 §5.1 step 1 and §3.3: an unchanged id within max_age is served from the
	 * cache without HTTPS; a new id (or a refresh) fetches. */
	if (cached_valid(s) && strcmp(s->cached.id, res->txt_id) == 0 && !s->refresh) {
		finish(s);
		return;
	}
	int64_t until;
	if (s->have_failure && !s->no_backoff &&
	    sts_cache_failure_backoff(&s->failure, res->txt_id, s->now, &until)) {
		res->backoff = true;
		snprintf(res->fetch_error, sizeof res->fetch_error,
			 "fetch of id %s failed recently; next attempt after %lld", res->txt_id,
			 (long long)until);
		finish(s);
		return;
	}
	begin_fetch(s);
}

int sts_resolve_start(struct dns_resolver *r, struct sts_fetcher *f, struct sts_cache *c,
		      const struct sts_resolve_req *req, sts_resolve_callback cb, void *arg,
		      struct sts_resolve **out)
{
	char domain[UTIL_DNSNAME_MAX + 1], owner[UTIL_DNSNAME_MAX + 1];
	if (r == NULL || f == NULL || c == NULL || req == NULL || req->domain == NULL ||
	    cb == NULL ||
	    !util_dnsname_canon(req->domain, strlen(req->domain), domain, sizeof domain) ||
	    sts_txt_owner(domain, strlen(domain), owner, sizeof owner) != MXTLS_OK)
		return MXTLS_E_INVAL;
	struct sts_resolve *s = calloc(1, sizeof *s);
	if (s == NULL || (s->res = calloc(1, sizeof *s->res)) == NULL) {
		free(s);
		return MXTLS_E_NOMEM;
	}
	s->r = r;
	s->f = f;
	s->c = c;
	s->cb = cb;
	s->arg = arg;
	s->now = req->now;
	s->refresh = req->refresh;
	s->no_backoff = req->no_backoff;
	s->log = req->log;
	s->log_id = req->log_id;
	snprintf(s->res->domain, sizeof s->res->domain, "%s", domain);
	snprintf(s->host, sizeof s->host, "mta-sts.%s", domain);
	/* The cache read and the TXT lookup run at once; neither waits on the loop. */
	int rc = sts_cache_async_read(c, domain, on_cache_read, s, &s->cache_op);
	if (rc != MXTLS_OK)
		goto fail;
	rc = dns_resolve(r, owner, DNS_TYPE_TXT, on_txt, s, &s->txt_q);
	if (rc != MXTLS_OK) {
		sts_cache_async_cancel(s->cache_op);
		goto fail;
	}
	if (out != NULL)
		*out = s;
	return MXTLS_OK;
fail:
	sts_resolve_result_free(s->res);
	free(s);
	return rc;
}

void sts_resolve_cancel(struct sts_resolve *s)
{
	if (s == NULL)
		return;
	if (s->txt_q != NULL)
		dns_query_cancel(s->txt_q);
	for (int i = 0; i < 2; i++) {
		if (s->addr_q[i] != NULL)
			dns_query_cancel(s->addr_q[i]);
		dns_answer_free(s->addr_ans[i]);
	}
	if (s->fetch != NULL)
		sts_fetch_cancel(s->fetch);
	/* A fetch given up gives its lease back: the members waiting for it fetch themselves. */
	if (s->fleet_fetch && (s->fetch != NULL || s->addr_pending > 0))
		sts_cache_async_release(s->c, s->res->domain);
	sts_cache_claim_cancel(s->claim);
	sts_cache_async_cancel(s->cache_op); /* its callback will not run */
	sts_cache_entry_clear(&s->cached);
	sts_resolve_result_free(s->res);
	free(s);
}
