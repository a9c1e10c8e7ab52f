/* SPDX-License-Identifier: MIT */
/* Whether a domain's MTA-STS policy can move from testing to enforce (include/mxtls/reports.h):
 * what senders reported over the window, and what a live audit sees now. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mxtls/audit.h>
#include <mxtls/check.h>
#include <mxtls/error.h>
#include <mxtls/reports.h>

#include "owner/owner_reports.h"
#include "tlsrpt/tlsrpt_inbox.h"
#include "util/util_dnsname.h"
#include "validator/mxtls_ctx.h"

#define READY_DAY      86400
#define READY_MIN_ORGS 3
#define READY_MIN_DAYS 14
/* The most reasons listed; the rest are counted in the last one. */
#define READY_REASONS_MAX 64

struct ready_reason {
	const char *kind; /* static */
	char *text;
};

struct mxtls_ready {
	const char *verdict;
	const char *audit;
	unsigned orgs, days;
	struct ready_reason reason[READY_REASONS_MAX];
	size_t nreason;
	size_t dropped;
};

static void add(struct mxtls_ready *v, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add(struct mxtls_ready *v, const char *kind, const char *fmt, ...)
{
	if (v->nreason == READY_REASONS_MAX) {
		v->dropped++;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	char *t = NULL;
	if (vasprintf(&t, fmt, ap) < 0)
		t = NULL;
	va_end(ap);
	if (t == NULL) {
		v->dropped++;
		return;
	}
	v->reason[v->nreason++] = (struct ready_reason){kind, t};
}

/* The result types a domain owner causes (issue 18): certificate-*, starttls-not-supported,
 * sts-* and validation-failure.  The DANE types (tlsa-invalid, dnssec-invalid, dane-required)
 * do not bear on the MTA-STS mode, and unknown types are the reporter's. */
static bool attributable(const char *type)
{
	return strncmp(type, "certificate-", 12) == 0 || strncmp(type, "sts-", 4) == 0 ||
	       strcmp(type, "starttls-not-supported") == 0 ||
	       strcmp(type, "validation-failure") == 0;
}

/* Whether a failure's MX host is one of the domain's: sts-* failures concern the policy, not a
 * host; otherwise the host is in today's MX set, or a name below the domain. */
static bool own_host(const char *mx, const char *domain, const struct mxtls_decision *d)
{
	if (mx[0] == '\0')
		return true;
	size_t ml = strlen(mx), dl = strlen(domain);
	if (strcasecmp(mx, domain) == 0 ||
	    (ml > dl && mx[ml - dl - 1] == '.' && strcasecmp(mx + ml - dl, domain) == 0))
		return true;
	for (size_t i = 0; d != NULL && i < mxtls_decision_host_count(d); i++)
		if (strcasecmp(mx, mxtls_decision_host_name(d, i)) == 0)
			return true;
	return false;
}

/* The reports' side: thresholds and failures.  Returns whether failures block. */
/* Whether the owner explained failures of type at mx: "TYPE" or "TYPE@HOST" (any case). */
static bool explained(const struct mxtls_ready_req *req, const char *type, const char *mx)
{
	for (size_t i = 0; i < req->nexplained; i++) {
		const char *e = req->explained[i];
		const char *at = strchr(e, '@');
		size_t tl = at != NULL ? (size_t)(at - e) : strlen(e);
		if (strlen(type) == tl && strncasecmp(e, type, tl) == 0 &&
		    (at == NULL || strcasecmp(at + 1, mx) == 0))
			return true;
	}
	return false;
}

static int reports_side(struct mxtls_reports *r, const struct mxtls_ready_req *req,
			const char *domain, unsigned min_orgs, unsigned min_days,
			struct mxtls_ready *v, bool *blocks, bool *short_data, char *err,
			size_t errlen)
{
	int64_t now = mxtls_ctx_now(r->ctx);
	int64_t today = now - ((now % READY_DAY) + READY_DAY) % READY_DAY;
	int64_t from = today - (int64_t)(min_days - 1) * READY_DAY, to = today + READY_DAY;
	struct tlsrpt_inbox_summary s;
	int rc = tlsrpt_inbox_summary(r->inbox, domain, from, to, &s, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	int64_t first = 0;
	rc = tlsrpt_inbox_first(r->inbox, domain, &first, err, errlen);
	v->orgs = (unsigned)s.norgs;
	v->days = first != 0 && first <= today ? (unsigned)((today - first) / READY_DAY) + 1 : 0;
	tlsrpt_inbox_summary_clear(&s);
	if (rc != MXTLS_OK)
		return rc;
	/* The MX set, to tell the domain's hosts from others a report names. */
	struct mxtls_decision *d = NULL;
	char derr[256];
	if (mxtls_decide(r->ctx, domain, &d, derr, sizeof derr) != MXTLS_OK)
		d = NULL;
	struct tlsrpt_inbox_blame *b = NULL;
	size_t nb = 0;
	rc = tlsrpt_inbox_blame(r->inbox, domain, from, to, &b, &nb, err, errlen);
	/* One line per (result type, host), its reporters listed; rows come most first. */
	for (size_t i = 0; rc == MXTLS_OK && i < nb; i++) {
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(b[k].result_type, b[i].result_type) == 0 &&
			       strcmp(b[k].mx, b[i].mx) == 0;
		if (seen)
			continue;
		uint64_t total = 0;
		char orgs[400] = "";
		size_t used = 0;
		for (size_t k = i; k < nb; k++) {
			if (strcmp(b[k].result_type, b[i].result_type) != 0 ||
			    strcmp(b[k].mx, b[i].mx) != 0)
				continue;
			total += b[k].n;
			int w = snprintf(orgs + used, sizeof orgs - used, "%s%s", used ? ", " : "",
					 b[k].org);
			if (w > 0 && (size_t)w < sizeof orgs - used)
				used += (size_t)w;
		}
		bool caused = attributable(b[i].result_type) && own_host(b[i].mx, domain, d);
		bool excused = caused && explained(req, b[i].result_type, b[i].mx);
		bool counts = caused && !excused;
		*blocks = *blocks || counts;
		add(v, counts ? "failures" : "note",
		    "%llu failed session%s: %s%s%s (reported by %s)%s", (unsigned long long)total,
		    total == 1 ? "" : "s", b[i].result_type, b[i].mx[0] ? " at " : "", b[i].mx,
		    orgs,
		    excused  ? ": explained by the owner (--explain), not blocking"
		    : counts ? ""
			     : ": not caused by the domain's MTA-STS set-up, not blocking");
	}
	tlsrpt_inbox_blame_free(b, nb);
	mxtls_decision_free(d);
	if (rc != MXTLS_OK)
		return rc;
	if (v->orgs < min_orgs) {
		*short_data = true;
		add(v, "data", "%u organisation%s reported over the last %u days; %u needed",
		    v->orgs, v->orgs == 1 ? "" : "s", min_days, min_orgs);
	}
	if (v->days < min_days) {
		*short_data = true;
		add(v, "data", "the first report is %u day%s old; %u needed", v->days,
		    v->days == 1 ? "" : "s", min_days);
	}
	return MXTLS_OK;
}

/* The live side: mxtls audit's errors block. */
static int audit_side(struct mxtls_reports *r, const char *domain, struct mxtls_ready *v,
		      bool *blocks, bool *short_data)
{
	struct mxtls_audit_req req = {.domain = domain};
	struct mxtls_audit *a = NULL;
	char err[512] = "";
	int rc = mxtls_audit(r->ctx, &req, &a, err, sizeof err);
	if (rc == MXTLS_E_NOMEM)
		return rc;
	if (rc != MXTLS_OK || !mxtls_audit_complete(a)) {
		v->audit = "failed";
		*short_data = true;
		add(v, "data", "the live audit could not run: %s",
		    err[0] ? err : "the time limit cut it short");
		mxtls_audit_free(a);
		return MXTLS_OK;
	}
	v->audit = mxtls_audit_errors(a) > 0 ? "errors" : "ok";
	for (size_t i = 0; i < mxtls_audit_count(a); i++) {
		if (strcmp(mxtls_audit_severity(a, i), "error") != 0)
			continue;
		*blocks = true;
		const char *host = mxtls_audit_host(a, i);
		add(v, "audit", "%s%s%s: %s", mxtls_audit_code(a, i), host ? " " : "",
		    host ? host : "", mxtls_audit_message(a, i));
	}
	mxtls_audit_free(a);
	return MXTLS_OK;
}

int mxtls_reports_ready(struct mxtls_reports *r, const struct mxtls_ready_req *req,
			struct mxtls_ready **out, char *err, size_t errlen)
{
	char domain[256];
	if (r == NULL || req == NULL || req->domain == NULL || out == NULL)
		return MXTLS_E_INVAL;
	if (!util_dnsname_canon(req->domain, strlen(req->domain), domain, sizeof domain)) {
		snprintf(err, errlen, "not a domain name: %s", req->domain);
		return MXTLS_E_INVAL;
	}
	unsigned min_orgs = req->min_orgs ? req->min_orgs : READY_MIN_ORGS;
	unsigned min_days = req->min_days ? req->min_days : READY_MIN_DAYS;
	struct mxtls_ready *v = calloc(1, sizeof *v);
	if (v == NULL)
		return MXTLS_E_NOMEM;
	v->audit = "not-run";
	bool blocks = false, short_data = false;
	if (req->nexplained > 0 && req->explained == NULL) {
		mxtls_ready_free(v);
		return MXTLS_E_INVAL;
	}
	int rc = reports_side(r, req, domain, min_orgs, min_days, v, &blocks, &short_data, err,
			      errlen);
	if (rc == MXTLS_OK && !req->no_audit)
		rc = audit_side(r, domain, v, &blocks, &short_data);
	if (rc != MXTLS_OK) {
		mxtls_ready_free(v);
		return rc;
	}
	/* Worst first: what blocks (failures, then the audit), then missing data, then notes. */
	static const char *const order[] = {"failures", "audit", "data", "note"};
	struct ready_reason sorted[READY_REASONS_MAX];
	size_t n = 0;
	for (size_t o = 0; o < 4; o++)
		for (size_t i = 0; i < v->nreason; i++)
			if (strcmp(v->reason[i].kind, order[o]) == 0)
				sorted[n++] = v->reason[i];
	memcpy(v->reason, sorted, n * sizeof sorted[0]);
	v->verdict = blocks ? "not-ready" : short_data ? "not-enough-data" : "ready";
	*out = v;
	return MXTLS_OK;
}

void mxtls_ready_free(struct mxtls_ready *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->nreason; i++)
		free(v->reason[i].text);
	free(v);
}

const char *mxtls_ready_verdict(const struct mxtls_ready *v)
{
	return v != NULL ? v->verdict : NULL;
}

unsigned mxtls_ready_orgs(const struct mxtls_ready *v)
{
	return v != NULL ? v->orgs : 0;
}

unsigned mxtls_ready_days(const struct mxtls_ready *v)
{
	return v != NULL ? v->days : 0;
}

const char *mxtls_ready_audit(const struct mxtls_ready *v)
{
	return v != NULL ? v->audit : NULL;
}

size_t mxtls_ready_reason_count(const struct mxtls_ready *v)
{
	return v != NULL ? v->nreason : 0;
}

const char *mxtls_ready_reason_kind(const struct mxtls_ready *v, size_t i)
{
	return v != NULL && i < v->nreason ? v->reason[i].kind : NULL;
}

const char *mxtls_ready_reason(const struct mxtls_ready *v, size_t i)
{
	return v != NULL && i < v->nreason ? v->reason[i].text : NULL;
}
