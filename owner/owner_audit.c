/* SPDX-License-Identifier: MIT */
/* mxtls audit: the lookups and sessions behind include/mxtls/audit.h, all on the context's loop.
 *
 * Three phases, each bounded by one timer for the whole audit:
 *   1. the sender's decision (MX ∥ _mta-sts TXT → HTTPS policy ∥ _smtp._tls; then per host
 *      A/AAAA → TLSA), with the policy fetched even when the cached id is current;
 *   2. at once: an SMTP session to every address of every MX host (STARTTLS, the chain kept),
 *      the lookups that say why a host is unreachable or whether TLSA hides in an unsigned zone,
 *      and a POST to each https rua;
 *   3. the judgement, pure (owner_audit_sts.c, owner_audit_host.c).
 * Phase 2 in parallel is what keeps the audit short: a domain with 4 hosts of 2 addresses each
 * and one host down costs one connect timeout, not eight sessions in a row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <mxtls/audit.h>
#include <mxtls/check.h>
#include <mxtls/error.h>
#include <mxtls/sts_fetch.h>

#include "dns/dns_resolver.h"
#include "owner/owner_audit_finding.h"
#include "owner/owner_audit_host.h"
#include "owner/owner_audit_sts.h"
#include "tlsrpt/tlsrpt_rua.h"
#include "util/util_dnsname.h"
#include "validator/mxtls_ctx.h"
#include "validator/mxtls_decision_view.h"
#include "validator/report_post.h"

#define AUDIT_TIME_LIMIT_DEFAULT_MS 60000u

struct mxtls_audit {
	char domain[256];
	char mode[32];
	int64_t elapsed_ms;
	bool complete;
	struct audit_findings f;
};

/* Per MX host: the sessions and the audit's own lookups. */
struct host_state {
	char addr[HOST_DANE_ADDRS_MAX][46];
	const char *addr_ptr[HOST_DANE_ADDRS_MAX];
	struct mxtls_addr_probe *probe[HOST_DANE_ADDRS_MAX];
	struct mxtls_addr_probe_op *op[HOST_DANE_ADDRS_MAX];
	struct dns_query *aq, *tq;
	enum audit_dns addr_lookup, tlsa_lookup;
	size_t insecure_tlsa;
};

/* One rua destination: an https collector and what the POST to it got, or a mailto: address
 * and what the MX lookup of its domain found (AUD-RPT-03). */
struct post_state {
	char *uri;
	bool mailto;
	struct report_post *op;
	struct dns_query *q;
	bool done;
	struct http_post_result res;
	enum audit_dns mx;
	bool null_mx, nxdomain;
	char why[200];
};

/* What a callback needs to find its place: a host (i) and an address (k), or a post (i). */
struct slot {
	struct run *run;
	size_t i, k;
};

struct run {
	struct mxtls_ctx *ctx;
	struct dns_resolver *resolver;
	struct event *timer;
	bool done, timed_out;
	size_t pending;
	struct mxtls_decide_op *dop;
	struct mxtls_decision *md;
	int derr;
	struct dns_query *mxq;
	enum audit_dns mx_lookup;
	char mx_why[300];
	bool no_mail; /* NXDOMAIN or null MX */
	struct host_state *hs;
	size_t nh;
	struct post_state *posts;
	size_t nposts;
	struct slot *slots;
	size_t nslots;
};

static void finished_one(struct run *r)
{
	if (--r->pending == 0)
		r->done = true;
}

static void on_time_limit(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct run *r = arg;
	r->timed_out = true;
	r->done = true;
}

static struct slot *slot_new(struct run *r, size_t i, size_t k)
{
	struct slot *s = &r->slots[r->nslots++];
	*s = (struct slot){.run = r, .i = i, .k = k};
	return s;
}

static enum audit_dns dns_class(const struct dns_answer *a)
{
	if (a == NULL)
		return AUDIT_DNS_FAILED;
	if (a->outcome == DNS_ERR_BOGUS)
		return AUDIT_DNS_BOGUS;
	if (a->outcome == DNS_DATA)
		return AUDIT_DNS_DATA;
	if (a->outcome == DNS_NODATA || a->outcome == DNS_NXDOMAIN)
		return AUDIT_DNS_NONE;
	return AUDIT_DNS_FAILED;
}

/* ---- phase 1 --------------------------------------------------------------------------- */

static void on_decided(void *arg, struct mxtls_decision *md, int err)
{
	struct run *r = arg;
	r->dop = NULL;
	r->md = md;
	r->derr = err;
	finished_one(r);
}

static void on_mx(void *arg, struct dns_answer *a)
{
	struct run *r = arg;
	r->mxq = NULL;
	r->mx_lookup = dns_class(a);
	snprintf(r->mx_why, sizeof r->mx_why, "%s",
		 a != NULL && a->why != NULL ? a->why
		 : a != NULL                 ? dns_outcome_name(a->outcome)
					     : "out of memory");
	dns_answer_free(a);
	finished_one(r);
}

/* ---- phase 2 --------------------------------------------------------------------------- */

static void on_probe(void *arg, struct mxtls_addr_probe *res)
{
	struct slot *s = arg;
	struct host_state *h = &s->run->hs[s->i];
	h->op[s->k] = NULL;
	h->probe[s->k] = res;
	finished_one(s->run);
}

static void on_addr_lookup(void *arg, struct dns_answer *a)
{
	struct slot *s = arg;
	struct host_state *h = &s->run->hs[s->i];
	h->aq = NULL;
	h->addr_lookup = dns_class(a);
	dns_answer_free(a);
	finished_one(s->run);
}

static void on_tlsa_lookup(void *arg, struct dns_answer *a)
{
	struct slot *s = arg;
	struct host_state *h = &s->run->hs[s->i];
	h->tq = NULL;
	h->tlsa_lookup = dns_class(a);
	if (h->tlsa_lookup == AUDIT_DNS_DATA)
		h->insecure_tlsa = a->n;
	dns_answer_free(a);
	finished_one(s->run);
}

/* RFC 7505: a null MX is one record of preference 0 naming the root (rdata 00 00 00). */
static bool is_null_mx(const struct dns_answer *a)
{
	return a->n == 1 && a->rdlen[0] == 3 && a->rdata[0][0] == 0 && a->rdata[0][1] == 0 &&
	       a->rdata[0][2] == 0;
}

static void on_rua_mx(void *arg, struct dns_answer *a)
{
	struct slot *s = arg;
	struct post_state *p = &s->run->posts[s->i];
	p->q = NULL;
	p->done = true;
	p->mx = dns_class(a);
	p->null_mx = a != NULL && p->mx == AUDIT_DNS_DATA && is_null_mx(a);
	p->nxdomain = a != NULL && a->outcome == DNS_NXDOMAIN;
	snprintf(p->why, sizeof p->why, "%s",
		 a == NULL        ? "out of memory"
		 : a->why != NULL ? a->why
		 : p->null_mx     ? "null MX"
				  : dns_outcome_name(a->outcome));
	dns_answer_free(a);
	finished_one(s->run);
}

static void on_posted(void *arg, const struct http_post_result *res)
{
	struct slot *s = arg;
	struct post_state *p = &s->run->posts[s->i];
	p->op = NULL;
	p->done = true;
	p->res = *res;
	finished_one(s->run);
}

/* The gzip of the two bytes "{}" (Python: gzip.compress(b"{}", mtime=0)): a body a collector
 * may refuse (it is no report) but that proves it takes a POST of application/tlsrpt+gzip.
 * Sending a real report would put a made-up session into the owner's statistics. */
static const unsigned char probe_body[] = {31,  139, 8, 0,  0,   0,   0,   0, 2, 3, 171,
					   174, 5,   0, 67, 191, 166, 163, 2, 0, 0, 0};

static int start_posts(struct run *r, const char *record)
{
	struct tlsrpt_rua rua;
	if (record == NULL || tlsrpt_rua_parse(record, strlen(record), &rua) != MXTLS_OK)
		return MXTLS_OK; /* judged in phase 3 */
	struct http_client *http = NULL;
	char err[200];
	int rc = mxtls_ctx_http(r->ctx, &http, err, sizeof err);
	for (size_t k = 0; k < rua.ndest && rc == MXTLS_OK; k++) {
		struct post_state *p = &r->posts[r->nposts];
		bool mailto = rua.dest[k].kind == TLSRPT_DEST_MAILTO;
		if (asprintf(&p->uri, "%s%s", mailto ? "mailto:" : "", rua.dest[k].text) < 0) {
			p->uri = NULL;
			rc = MXTLS_E_NOMEM;
			break;
		}
		r->nposts++;
		if (rua.dest[k].kind == TLSRPT_DEST_MAILTO) {
			/* Reports arrive by mail: the address's domain must take mail. */
			p->mailto = true;
			rc = dns_resolve(r->resolver, tlsrpt_addr_domain(rua.dest[k].text),
					 DNS_TYPE_MX, on_rua_mx, slot_new(r, r->nposts - 1, 0),
					 &p->q);
			if (rc == MXTLS_OK)
				r->pending++;
			else if (rc != MXTLS_E_NOMEM) {
				p->done = true;
				p->mx = AUDIT_DNS_FAILED;
				snprintf(p->why, sizeof p->why, "%s", mxtls_strerror(rc));
				rc = MXTLS_OK;
			}
			continue;
		}
		struct http_post_opts o = {.ca_file = r->ctx->ca_file};
		rc = report_post_start(r->resolver, http, p->uri, probe_body, sizeof probe_body, &o,
				       on_posted, slot_new(r, r->nposts - 1, 0), &p->op);
		if (rc == MXTLS_OK)
			r->pending++;
		else if (rc != MXTLS_E_NOMEM) {
			/* A URI the parser took but the uploader does not: judged as a failure. */
			p->done = true;
			p->res = (struct http_post_result){.outcome = HTTP_E_CONNECT};
			snprintf(p->res.reason, sizeof p->res.reason, "%s", mxtls_strerror(rc));
			rc = MXTLS_OK;
		}
	}
	tlsrpt_rua_free(&rua);
	return rc;
}

static int start_host(struct run *r, size_t i)
{
	const struct mxtls_decision *md = r->md;
	const struct decision_host *dh = &mxtls_decision_inner(md)->hosts[i];
	struct host_state *h = &r->hs[i];
	const char *name = dh->name;
	char qname[300];
	int rc = MXTLS_OK;
	if (dh->security == SEC_UNREACHABLE) {
		/* Why: the decision keeps the reason text; the class (bogus or not) comes from a
		 * lookup of our own, answered from the resolver's cache. */
		bool tlsa = dh->dane != NULL && dh->dane->tlsa_failed;
		if (tlsa)
			snprintf(qname, sizeof qname, "_25._tcp.%s",
				 dh->dane->tbd[0] ? dh->dane->tbd : name);
		else
			snprintf(qname, sizeof qname, "%s", name);
		rc = dns_resolve(r->resolver, qname, tlsa ? DNS_TYPE_TLSA : DNS_TYPE_A,
				 tlsa ? on_tlsa_lookup : on_addr_lookup, slot_new(r, i, 0),
				 tlsa ? &h->tq : &h->aq);
		if (rc == MXTLS_OK)
			r->pending++;
		return rc == MXTLS_E_NOMEM ? rc : MXTLS_OK;
	}
	size_t naddr = mxtls_decision_host_addr_count(md, i);
	for (size_t k = 0; k < naddr && rc == MXTLS_OK; k++) {
		snprintf(h->addr[k], sizeof h->addr[k], "%s", mxtls_decision_host_addr(md, i, k));
		h->addr_ptr[k] = h->addr[k];
		rc = mxtls_addr_probe_start(r->ctx, md, i, k, on_probe, slot_new(r, i, k),
					    &h->op[k]);
		if (rc == MXTLS_OK)
			r->pending++;
	}
	/* RFC 7672 §2.2: senders look for TLSA only behind secure addresses; the audit looks
	 * anyway, to tell the owner that records there protect nothing. */
	if (rc == MXTLS_OK && dh->dane != NULL && !dh->dane->tlsa_looked_up && !dh->ip_literal) {
		snprintf(qname, sizeof qname, "_25._tcp.%s", name);
		if (dns_resolve(r->resolver, qname, DNS_TYPE_TLSA, on_tlsa_lookup,
				slot_new(r, i, 0), &h->tq) == MXTLS_OK)
			r->pending++;
	}
	return rc;
}

static void cancel_all(struct run *r)
{
	mxtls_decide_cancel(r->dop);
	r->dop = NULL;
	dns_query_cancel(r->mxq);
	r->mxq = NULL;
	for (size_t i = 0; i < r->nh; i++) {
		for (size_t k = 0; k < HOST_DANE_ADDRS_MAX; k++) {
			mxtls_addr_probe_cancel(r->hs[i].op[k]);
			r->hs[i].op[k] = NULL;
		}
		dns_query_cancel(r->hs[i].aq);
		dns_query_cancel(r->hs[i].tq);
		r->hs[i].aq = r->hs[i].tq = NULL;
	}
	for (size_t i = 0; i < r->nposts; i++) {
		report_post_cancel(r->posts[i].op);
		r->posts[i].op = NULL;
		dns_query_cancel(r->posts[i].q);
		r->posts[i].q = NULL;
	}
}

/* Runs the loop until everything pending has called back or the time limit fires. */
static int wait_all(struct run *r, char *err, size_t errlen)
{
	r->done = r->pending == 0 || r->timed_out;
	int rc = mxtls_ctx_wait(r->ctx, &r->done, err, errlen);
	if (rc != MXTLS_OK || r->timed_out)
		cancel_all(r);
	return rc;
}

/* ---- phase 3 --------------------------------------------------------------------------- */

static void tlsrpt_checks(struct run *r, struct audit_findings *f, const char *domain,
			  bool protected_domain)
{
	const char *state = mxtls_decision_tlsrpt_state(r->md);
	const char *text = mxtls_decision_tlsrpt(r->md);
	char owner[300], fix[1200];
	snprintf(owner, sizeof owner, "_smtp._tls.%s", domain);
	snprintf(fix, sizeof fix,
		 "publish _smtp._tls.%s. IN TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@%s\" (or an https: "
		 "collector; `mxtls publish --rua` prints it)",
		 domain, domain);
	if (strcmp(state, "absent") == 0) {
		/* AUD-STS-15: without reports, the owner of a policy learns of failures last. */
		audit_add(f, protected_domain ? AUDIT_WARNING : AUDIT_INFO, "tlsrpt-missing", owner,
			  fix,
			  "no TLS-RPT record: senders cannot tell you when TLS to your MX hosts "
			  "fails");
		return;
	}
	if (strcmp(state, "error") == 0) {
		if (r->mx_lookup != AUDIT_DNS_BOGUS) /* else part of the dnssec-bogus finding */
			audit_add(f, AUDIT_WARNING, "dns-failure", owner,
				  "make the name servers of the zone answer TXT queries (and sign "
				  "correctly)",
				  "the TXT lookup failed: senders send no reports");
		return;
	}
	if (strcmp(state, "multiple") == 0) {
		audit_add(f, AUDIT_WARNING, "tlsrpt-invalid", owner,
			  "keep exactly one v=TLSRPTv1 record",
			  "more than one v=TLSRPTv1 record: senders send no reports (RFC 8460 "
			  "section 3)");
		return;
	}
	struct tlsrpt_rua rua;
	int rc = tlsrpt_rua_parse(text, strlen(text), &rua);
	if (rc == MXTLS_E_NOMEM) {
		f->nomem = true;
		return;
	}
	if (rc != MXTLS_OK) {
		audit_add(f, AUDIT_WARNING, "tlsrpt-invalid", owner, fix,
			  "\"%s\" is not valid: %s: senders send no reports", text, rua.reason);
		tlsrpt_rua_free(&rua);
		return;
	}
	for (size_t k = 0; k < rua.nskipped; k++)
		audit_add(f, AUDIT_WARNING, "tlsrpt-invalid", owner,
			  "use a mailto: or https: URI (commas, \"!\" and \";\" percent-encoded)",
			  "rua %s is not used by senders: %s", rua.skipped[k].text,
			  rua.skipped[k].why);
	tlsrpt_rua_free(&rua);
	/* AUD-RPT-03: each https collector must take a POST. */
	for (size_t k = 0; k < r->nposts; k++) {
		const struct post_state *p = &r->posts[k];
		if (!p->done)
			continue;
		if (p->mailto) {
			bool takes_mail = (p->mx == AUDIT_DNS_DATA && !p->null_mx) ||
					  (p->mx == AUDIT_DNS_NONE && !p->nxdomain);
			if (!takes_mail)
				audit_add(
					f, AUDIT_WARNING, "tlsrpt-endpoint", p->uri,
					"send the reports to an address whose domain receives mail",
					"reports to mailto:%s cannot be delivered: the MX lookup "
					"of "
					"its domain found %s",
					p->uri, p->why);
			continue;
		}
		long st = p->res.status;
		bool answers = p->res.ok || st == 400 || st == 415 || st == 422;
		if (!answers)
			audit_add(f, AUDIT_WARNING, "tlsrpt-endpoint", p->uri,
				  "make the collector accept POST of application/tlsrpt+gzip with "
				  "a 2xx answer, over HTTPS with a valid certificate (RFC 8460 "
				  "section 5.4)",
				  "the collector does not take reports: %s", p->res.reason);
	}
}

/* The findings of the whole domain: the policy, every host, DANE coverage, TLS-RPT. */
static void judge(struct run *r, struct mxtls_audit *a, int64_t now)
{
	struct audit_findings *f = &a->f;
	const struct mxtls_decision *md = r->md;
	const struct decision *d = mxtls_decision_inner(md);
	size_t n = r->nh;
	const char **names = calloc(n + 1, sizeof *names);
	bool *covered = calloc(n + 1, sizeof *covered);
	struct dane_pkix *pkix = NULL;
	char err[256];
	if (names == NULL || covered == NULL ||
	    mxtls_ctx_pkix(r->ctx, &pkix, err, sizeof err) != MXTLS_OK) {
		f->nomem = true;
		free(names);
		free(covered);
		return;
	}
	size_t dane_hosts = 0;
	for (size_t i = 0; i < n; i++) {
		names[i] = d->hosts[i].name;
		const struct host_dane_result *hd = d->hosts[i].dane;
		dane_hosts += hd != NULL && hd->state == HOST_DANE_USABLE;
	}
	if (r->mx_lookup == AUDIT_DNS_BOGUS)
		audit_add(f, AUDIT_ERROR, "dnssec-bogus", NULL,
			  "fix the DNSSEC signatures of the zone (or the DS record at its parent)",
			  "the MX lookup of %s fails DNSSEC validation (%s): no validating sender "
			  "can deliver",
			  a->domain, r->mx_why);
	else if (n > 0 && !d->mx.secure)
		audit_add(
			f, AUDIT_INFO, "dnssec-unsigned", NULL,
			"sign the zone with DNSSEC to let DANE senders authenticate your MX hosts",
			"the MX records of %s are not DNSSEC-signed: DANE is not possible",
			a->domain);
	const struct mxtls_sts_policy *sp = mxtls_decision_sts(md);
	size_t blen = 0;
	const char *body = mxtls_sts_policy_text(sp, &blen);
	bool fresh = mxtls_sts_policy_fetched(sp) &&
		     mxtls_sts_policy_fetch_result(sp) == MXTLS_RESULT_OK;
	struct audit_sts_view sv = {
		.domain = a->domain,
		.txt_state = mxtls_sts_policy_txt_state(sp),
		.txt = mxtls_sts_policy_txt(sp),
		.txt_reason = mxtls_sts_policy_txt_reason(sp),
		.fetched = mxtls_sts_policy_fetched(sp),
		.fetch_result = mxtls_sts_policy_fetch_result(sp),
		.fetch_error = mxtls_sts_policy_fetch_error(sp),
		.changed_same_id = mxtls_sts_policy_changed_same_id(sp),
		.body = fresh ? body : NULL,
		.body_len = fresh ? blen : 0,
		.mx_hosts = names,
		.nmx = n,
		.every_host_dane = n > 0 && dane_hosts == n,
		.zone_bogus = r->mx_lookup == AUDIT_DNS_BOGUS,
		.now = now,
	};
	enum audit_sts_mode mode = audit_sts(&sv, f, covered);
	size_t would_break = 0;
	for (size_t i = 0; i < n; i++) {
		const struct decision_host *dh = &d->hosts[i];
		struct host_state *h = &r->hs[i];
		struct audit_host_view hv = {
			.name = dh->name,
			.dane = dh->dane,
			.unreachable = dh->security == SEC_UNREACHABLE,
			.why = dh->why,
			.addr_lookup = h->addr_lookup,
			.tlsa_lookup = h->tlsa_lookup,
			.insecure_tlsa = h->insecure_tlsa,
			.sts = mode,
			.covered = covered[i],
			.addr_text = h->addr_ptr,
			.probe = h->probe,
			.naddr = dh->dane != NULL ? dh->dane->naddrs : 0,
			.pkix = pkix,
			.now = now,
		};
		would_break += audit_host(&hv, f);
	}
	/* Every sender defers when no address of any host takes a session. */
	size_t probed = 0, answered = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < HOST_DANE_ADDRS_MAX; k++)
			if (r->hs[i].probe[k] != NULL) {
				probed++;
				answered += r->hs[i].probe[k]->connected;
			}
	if (probed > 0 && answered == 0)
		audit_add(f, AUDIT_ERROR, "mx-unreachable", NULL,
			  "make at least one MX host accept connections on port 25 from anywhere",
			  "no address of any MX host took an SMTP connection: every sender defers "
			  "mail to %s",
			  a->domain);
	/* AUD-DANE-15: one host without DANE is the one an attacker steers mail to. */
	if (dane_hosts > 0 && dane_hosts < n)
		for (size_t i = 0; i < n; i++) {
			const struct host_dane_result *hd = d->hosts[i].dane;
			if (d->hosts[i].security == SEC_UNREACHABLE ||
			    (hd != NULL && hd->state == HOST_DANE_USABLE))
				continue;
			char fix[1200];
			snprintf(fix, sizeof fix,
				 "publish TLSA records at _25._tcp.%s (`mxtls publish %s` prints "
				 "them)",
				 d->hosts[i].name, a->domain);
			audit_add(
				f, AUDIT_WARNING, "tlsa-partial", d->hosts[i].name, fix,
				"the host has no usable DNSSEC-signed TLSA records while other MX "
				"hosts do: DANE senders deliver to it without authentication");
		}
	tlsrpt_checks(r, f, a->domain, mode != AUDIT_STS_NONE || dane_hosts > 0);
	if (mode == AUDIT_STS_TESTING)
		audit_sts_readiness(a->domain, f, would_break);
	free(names);
	free(covered);
}

/* RFC 7505 / RFC 5321 §5.1: a domain that takes no mail has nothing for senders to check. */
static void no_mail(struct run *r, struct mxtls_audit *a)
{
	if (strcmp(mxtls_decision_mx_status(r->md), "nxdomain") == 0)
		audit_add(&a->f, AUDIT_ERROR, "mx-nxdomain", NULL,
			  "check the spelling, or publish the domain and its MX records",
			  "%s does not exist (NXDOMAIN): no mail can be delivered to it",
			  a->domain);
	else
		audit_add(&a->f, AUDIT_INFO, "mx-null", NULL, "",
			  "%s publishes a null MX (RFC 7505): it receives no mail, so MTA-STS, "
			  "DANE and TLS-RPT do not apply",
			  a->domain);
	a->complete = true;
}

/* What did not finish before the time limit, so that the owner knows what was not judged. */
static void note_incomplete(struct run *r, struct audit_findings *f, unsigned limit_ms)
{
	const struct decision *d = mxtls_decision_inner(r->md);
	for (size_t i = 0; i < r->nh; i++)
		for (size_t k = 0; k < HOST_DANE_ADDRS_MAX; k++)
			if (r->hs[i].addr_ptr[k] != NULL && r->hs[i].probe[k] == NULL)
				audit_add(f, AUDIT_INFO, "audit-incomplete", d->hosts[i].name,
					  "run the audit again with a longer --time-limit",
					  "%s: the session had not ended after %u ms: not checked",
					  r->hs[i].addr[k], limit_ms);
	for (size_t k = 0; k < r->nposts; k++)
		if (!r->posts[k].done)
			audit_add(f, AUDIT_INFO, "audit-incomplete", r->posts[k].uri,
				  "run the audit again with a longer --time-limit",
				  "the %s had not ended after %u ms: not checked",
				  r->posts[k].mailto ? "MX lookup" : "POST", limit_ms);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void run_free(struct run *r)
{
	cancel_all(r);
	if (r->timer != NULL)
		event_free(r->timer);
	for (size_t i = 0; i < r->nh; i++)
		for (size_t k = 0; k < HOST_DANE_ADDRS_MAX; k++)
			if (r->hs[i].probe[k] != NULL) {
				mxtls_probe_chain_clear(&r->hs[i].probe[k]->chain);
				free(r->hs[i].probe[k]);
			}
	for (size_t i = 0; i < r->nposts; i++)
		free(r->posts[i].uri);
	free(r->posts);
	free(r->hs);
	free(r->slots);
	mxtls_decision_free(r->md);
}

/* Phase 1: the decision; on MX trouble, the lookup that says whether it is DNSSEC's. */
static int phase_decide(struct run *r, struct mxtls_audit *a, char *err, size_t errlen)
{
	int rc = mxtls_decide_flags_start(r->ctx, a->domain, MXTLS_DECIDE_STS_REFRESH, on_decided,
					  r, &r->dop, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	r->pending = 1;
	rc = wait_all(r, err, errlen);
	if (rc == MXTLS_OK && r->timed_out) {
		snprintf(err, errlen,
			 "the time limit ran out before the sender's decision for %s (MX, "
			 "addresses, TLSA, the MTA-STS policy fetch) was made",
			 a->domain);
		return MXTLS_E_TEMPFAIL;
	}
	if (rc == MXTLS_OK && r->derr != MXTLS_OK)
		rc = r->derr;
	if (rc != MXTLS_OK)
		return rc;
	snprintf(a->mode, sizeof a->mode, "%s", mxtls_decision_mode(r->md));
	const char *mx = mxtls_decision_mx_status(r->md);
	if (strcmp(mx, "null-mx") == 0 || strcmp(mx, "nxdomain") == 0) {
		r->no_mail = true; /* one finding says it; nothing else applies */
		return MXTLS_OK;
	}
	if (strcmp(mx, "tempfail") != 0)
		return MXTLS_OK;
	rc = dns_resolve(r->resolver, a->domain, DNS_TYPE_MX, on_mx, r, &r->mxq);
	if (rc == MXTLS_OK) {
		r->pending = 1;
		rc = wait_all(r, err, errlen);
	}
	if (rc == MXTLS_OK && !r->timed_out && r->mx_lookup == AUDIT_DNS_BOGUS)
		return MXTLS_OK; /* a finding: the rest (policy, TLS-RPT) is still audited */
	if (rc == MXTLS_OK || rc == MXTLS_E_TEMPFAIL) {
		snprintf(err, errlen, "the MX lookup of %s failed: %s", a->domain,
			 mxtls_decision_reason(r->md));
		return MXTLS_E_TEMPFAIL;
	}
	return rc;
}

/* Phase 2: everything at once. */
static int phase_contact(struct run *r, char *err, size_t errlen)
{
	const struct decision *d = mxtls_decision_inner(r->md);
	r->nh = d->mx.status == MX_LOOKUP_OK || d->no_mx ? d->nhosts : 0;
	size_t slots = r->nh * (HOST_DANE_ADDRS_MAX + 2) + TLSRPT_RUA_URIS_MAX + 1;
	r->hs = calloc(r->nh + 1, sizeof *r->hs);
	r->slots = calloc(slots, sizeof *r->slots);
	r->posts = calloc(TLSRPT_RUA_URIS_MAX + 1, sizeof *r->posts);
	if (r->hs == NULL || r->slots == NULL || r->posts == NULL)
		return MXTLS_E_NOMEM;
	r->pending = 0;
	int rc = MXTLS_OK;
	for (size_t i = 0; i < r->nh && rc == MXTLS_OK; i++)
		rc = start_host(r, i);
	if (rc == MXTLS_OK && strcmp(mxtls_decision_tlsrpt_state(r->md), "found") == 0)
		rc = start_posts(r, mxtls_decision_tlsrpt(r->md));
	if (rc != MXTLS_OK) {
		snprintf(err, errlen, "%s", mxtls_strerror(rc));
		return rc;
	}
	return wait_all(r, err, errlen);
}

int mxtls_audit(struct mxtls_ctx *ctx, const struct mxtls_audit_req *req, struct mxtls_audit **out,
		char *err, size_t errlen)
{
	char dummy[8];
	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof dummy;
	}
	err[0] = '\0';
	if (ctx == NULL || req == NULL || req->domain == NULL || out == NULL) {
		snprintf(err, errlen, "invalid arguments");
		return MXTLS_E_INVAL;
	}
	int64_t t0 = mono_ms();
	struct mxtls_audit *a = calloc(1, sizeof *a);
	if (a == NULL)
		return MXTLS_E_NOMEM;
	if (!util_dnsname_canon(req->domain, strlen(req->domain), a->domain, sizeof a->domain)) {
		snprintf(err, errlen, "not a domain name: %s", req->domain);
		free(a);
		return MXTLS_E_INVAL;
	}
	unsigned limit = req->time_limit_ms ? req->time_limit_ms : AUDIT_TIME_LIMIT_DEFAULT_MS;
	struct run r = {.ctx = ctx};
	struct event_base *base;
	int rc = mxtls_ctx_base(ctx, &base, err, errlen);
	if (rc == MXTLS_OK)
		rc = mxtls_ctx_resolver(ctx, &r.resolver, err, errlen);
	if (rc == MXTLS_OK) {
		struct dane_pkix *pkix;
		rc = mxtls_ctx_pkix(ctx, &pkix, err, errlen); /* before any lookup: 78, not 75 */
	}
	if (rc == MXTLS_OK && (r.timer = evtimer_new(base, on_time_limit, &r)) == NULL)
		rc = MXTLS_E_NOMEM;
	if (rc == MXTLS_OK) {
		struct timeval tv = {.tv_sec = limit / 1000, .tv_usec = (limit % 1000) * 1000};
		evtimer_add(r.timer, &tv);
		rc = phase_decide(&r, a, err, errlen);
	}
	if (rc == MXTLS_OK && r.no_mail) {
		no_mail(&r, a);
	} else if (rc == MXTLS_OK) {
		rc = phase_contact(&r, err, errlen);
	}
	if (rc == MXTLS_OK && !r.no_mail) {
		judge(&r, a, mxtls_ctx_now(ctx));
		a->complete = !r.timed_out;
		if (r.timed_out)
			note_incomplete(&r, &a->f, limit);
		audit_findings_sort(&a->f);
	}
	if (rc == MXTLS_OK && a->f.nomem)
		rc = MXTLS_E_NOMEM;
	run_free(&r);
	if (rc != MXTLS_OK) {
		if (rc == MXTLS_E_NOMEM)
			snprintf(err, errlen, "%s", mxtls_strerror(rc));
		mxtls_audit_free(a);
		return rc;
	}
	a->elapsed_ms = mono_ms() - t0;
	*out = a;
	return MXTLS_OK;
}

void mxtls_audit_free(struct mxtls_audit *a)
{
	if (a == NULL)
		return;
	audit_findings_clear(&a->f);
	free(a);
}

const char *mxtls_audit_domain(const struct mxtls_audit *a)
{
	return a != NULL ? a->domain : NULL;
}

const char *mxtls_audit_mode(const struct mxtls_audit *a)
{
	return a != NULL ? a->mode : NULL;
}

int64_t mxtls_audit_elapsed_ms(const struct mxtls_audit *a)
{
	return a != NULL ? a->elapsed_ms : 0;
}

int mxtls_audit_complete(const struct mxtls_audit *a)
{
	return a != NULL && a->complete;
}

size_t mxtls_audit_count(const struct mxtls_audit *a)
{
	return a != NULL ? a->f.n : 0;
}

size_t mxtls_audit_errors(const struct mxtls_audit *a)
{
	return a != NULL ? audit_findings_count(&a->f, AUDIT_ERROR) : 0;
}

static const struct audit_finding *item(const struct mxtls_audit *a, size_t i)
{
	return a != NULL && i < a->f.n ? &a->f.item[i] : NULL;
}

const char *mxtls_audit_severity(const struct mxtls_audit *a, size_t i)
{
	return item(a, i) != NULL ? audit_severity_name(item(a, i)->severity) : NULL;
}

const char *mxtls_audit_code(const struct mxtls_audit *a, size_t i)
{
	return item(a, i) != NULL ? item(a, i)->code : NULL;
}

const char *mxtls_audit_host(const struct mxtls_audit *a, size_t i)
{
	return item(a, i) != NULL ? item(a, i)->host : NULL;
}

const char *mxtls_audit_message(const struct mxtls_audit *a, size_t i)
{
	return item(a, i) != NULL ? item(a, i)->message : NULL;
}

const char *mxtls_audit_fix(const struct mxtls_audit *a, size_t i)
{
	return item(a, i) != NULL ? item(a, i)->fix : NULL;
}
