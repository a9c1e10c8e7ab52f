/* SPDX-License-Identifier: MIT */
/* A TLS report received by mail (RFC 8460 §5.3): the report part (tlsrpt/tlsrpt_mime.c) and the
 * DKIM signature of the submitter's domain (dkim/dkim_verify.c), the key looked up through the
 * context's DNSSEC-validating resolver. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mxtls/error.h>
#include <mxtls/reports.h>

#include "dkim/dkim_verify.h"
#include "dns/dns_rdata.h"
#include "dns/dns_resolver.h"
#include "owner/owner_reports.h"
#include "tlsrpt/tlsrpt_mime.h"
#include "tlsrpt/tlsrpt_read.h"
#include "util/util_dnsname.h"
#include "util/util_errmsg.h"
#include "validator/mxtls_ctx.h"

/* RFC 8460 §3: "the reporting domain SHOULD ... sign" with a key whose service type is
 * tlsrpt (or any). */
#define REPORT_DKIM_SERVICE "tlsrpt"

/* Whether the signing domain d speaks for the submitter: the same name, or a parent of it (a
 * report submitted as mail.example.org signed by example.org). */
static bool speaks_for(const char *d, const char *submitter)
{
	size_t dl = strlen(d), sl = strlen(submitter);
	return strcasecmp(d, submitter) == 0 || (sl > dl && submitter[sl - dl - 1] == '.' &&
						 strcasecmp(submitter + sl - dl, d) == 0);
}

/* The key record of sig through the validating resolver, its TXT strings joined (RFC 6376
 * §3.6.2.2).  A lookup that fails, or fails validation, is a temperror: never "no key". */
static void key_and_verify(struct mxtls_reports *r, const char *msg, size_t len,
			   const struct dkim_sig *sig, struct dkim_result *res)
{
	memset(res, 0, sizeof *res);
	snprintf(res->domain, sizeof res->domain, "%s", sig->domain);
	snprintf(res->selector, sizeof res->selector, "%s", sig->selector);
	char name[300], err[256];
	struct dns_resolver *resolver;
	struct dns_answer *a = NULL;
	if (dkim_verify_key_name(sig, name, sizeof name) != MXTLS_OK) {
		res->verdict = DKIM_PERMERROR;
		util_errmsg(res->reason, sizeof res->reason, "no key name for d=%s s=%s",
			    sig->domain, sig->selector);
		return;
	}
	if (mxtls_ctx_resolver(r->ctx, &resolver, err, sizeof err) != MXTLS_OK ||
	    dns_resolve_sync(resolver, name, DNS_TYPE_TXT, &a) != MXTLS_OK || a == NULL) {
		res->verdict = DKIM_TEMPERROR;
		util_errmsg(res->reason, sizeof res->reason, "the key lookup %s could not run",
			    name);
		dns_answer_free(a);
		return;
	}
	if (a->outcome != DNS_DATA || a->n == 0) {
		bool gone = a->outcome == DNS_NXDOMAIN || a->outcome == DNS_NODATA;
		res->verdict = gone ? DKIM_PERMERROR : DKIM_TEMPERROR;
		util_errmsg(res->reason, sizeof res->reason, "key %s: %s", name,
			    gone ? "no such record" : dns_outcome_name(a->outcome));
		dns_answer_free(a);
		return;
	}
	/* One key record is expected; with several, each is tried (RFC 6376 §3.6.2.2 lets the
	 * verifier pick; trying all refuses nothing valid). */
	res->verdict = DKIM_PERMERROR;
	util_errmsg(res->reason, sizeof res->reason, "key %s: not a key record", name);
	for (size_t i = 0; i < a->n; i++) {
		char rec[DKIM_KEY_RECORD_MAX + 1];
		size_t rl = 0;
		if (dns_rdata_txt(a->rdata[i], a->rdlen[i], rec, sizeof rec, &rl) != MXTLS_OK)
			continue;
		struct dkim_result one;
		dkim_verify(msg, len, sig, rec, rl, REPORT_DKIM_SERVICE, mxtls_ctx_now(r->ctx),
			    &one);
		if (one.verdict == DKIM_PASS || i == 0)
			*res = one;
		if (one.verdict == DKIM_PASS)
			break;
	}
	dns_answer_free(a);
}

static const char *verdict_name(enum dkim_verdict v)
{
	switch (v) {
	case DKIM_PASS:
		return "pass";
	case DKIM_FAIL:
		return "fail";
	case DKIM_TEMPERROR:
		return "temperror";
	default:
		return "permerror";
	}
}

/* RFC 8460 §3: a signature by the submitter's domain that verifies, with a key for tlsrpt.
 * Returns true on a pass; dkim (dlen bytes) says what was found either way, and *temporary
 * whether a key lookup of the submitter's signature failed (try again later: never "no key"). */
static bool dkim_check(struct mxtls_reports *r, const char *msg, size_t len, const char *submitter,
		       char *dkim, size_t dlen, bool *temporary)
{
	*temporary = false;
	struct dkim_sig sigs[DKIM_VERIFY_SIGS_MAX];
	size_t n = 0, ignored = 0;
	if (dkim_verify_find(msg, len, sigs, DKIM_VERIFY_SIGS_MAX, &n, &ignored) != MXTLS_OK ||
	    n == 0) {
		util_errmsg(dkim, dlen, "none: the message carries no DKIM signature");
		return false;
	}
	if (submitter == NULL) {
		util_errmsg(dkim, dlen,
			    "none: no TLS-Report-Submitter field names the signer to trust");
		return false;
	}
	bool tried = false;
	for (size_t i = 0; i < n; i++) {
		if (sigs[i].status != MXTLS_OK) {
			if (!tried)
				util_errmsg(dkim, dlen, "permerror: %s", sigs[i].reason);
			continue;
		}
		if (!speaks_for(sigs[i].domain, submitter)) {
			if (!tried)
				util_errmsg(dkim, dlen,
					    "none: signed by d=%s, not by the submitter %s",
					    sigs[i].domain, submitter);
			continue;
		}
		struct dkim_result res;
		key_and_verify(r, msg, len, &sigs[i], &res);
		tried = true;
		*temporary = *temporary || res.verdict == DKIM_TEMPERROR;
		if (res.verdict == DKIM_PASS && !res.testing) {
			util_errmsg(dkim, dlen, "pass d=%s s=%s", res.domain, res.selector);
			return true;
		}
		util_errmsg(dkim, dlen, "%s d=%s s=%s: %s",
			    res.verdict == DKIM_PASS ? "testing" : verdict_name(res.verdict),
			    res.domain, res.selector,
			    res.verdict == DKIM_PASS ? "the key says t=y (treated as unsigned)"
						     : res.reason);
	}
	return false;
}

int owner_reports_ingest_mail(struct mxtls_reports *r, const char *msg, size_t len,
			      const char *source, const char *origin, unsigned flags,
			      struct mxtls_ingest_result *res)
{
	struct tlsrpt_mime m;
	char why[300] = "";
	int rc = tlsrpt_mime_parse(msg, len, &m, why, sizeof why);
	if (rc == MXTLS_E_NOMEM)
		return rc;
	if (rc != MXTLS_OK) {
		res->status = MXTLS_INGEST_REFUSED;
		snprintf(res->why, sizeof res->why,
			 "not a TLS report (neither JSON, gzip nor a "
			 "report message): %s",
			 why);
		return MXTLS_OK;
	}
	char submitter[256];
	const char *sub = NULL;
	if (m.report_submitter != NULL &&
	    util_dnsname_canon(m.report_submitter, strlen(m.report_submitter), submitter,
			       sizeof submitter))
		sub = submitter;
	bool temporary = false;
	bool pass = dkim_check(r, msg, len, sub, res->dkim, sizeof res->dkim, &temporary);
	if (!pass && (flags & MXTLS_INGEST_ACCEPT_UNSIGNED) == 0) {
		/* A key that could not be looked up now is not a bad signature: the report is
		 * kept for another try, not refused. */
		res->status = temporary ? MXTLS_INGEST_RETRY : MXTLS_INGEST_REFUSED;
		snprintf(res->why, sizeof res->why, "%s",
			 temporary ? "the DKIM key could not be looked up now: try again later"
				   : "no valid DKIM signature of the submitter's domain (RFC 8460 "
				     "section 3); --accept-unsigned stores it all the same");
		tlsrpt_mime_clear(&m);
		return MXTLS_OK;
	}
	char stored_dkim[400];
	snprintf(stored_dkim, sizeof stored_dkim, "%s%s",
		 pass ? "" : "accepted unsigned: ", res->dkim);
	if (m.kind == TLSRPT_MIME_GZIP) {
		char *json = NULL;
		size_t jlen = 0;
		rc = tlsrpt_read_gunzip(m.report, m.report_len, TLSRPT_READ_JSON_MAX, &json, &jlen);
		if (rc == MXTLS_OK)
			rc = owner_reports_store_json(r, json, jlen, "mail", origin, stored_dkim,
						      res);
		else if (rc != MXTLS_E_NOMEM) {
			res->status = MXTLS_INGEST_REFUSED;
			snprintf(res->why, sizeof res->why, "the report part: %s",
				 rc == MXTLS_E_LIMIT ? "inflates past the limit (16 MiB)"
						     : "corrupt or truncated gzip");
			rc = MXTLS_OK;
		}
		free(json);
	} else {
		rc = owner_reports_store_json(r, (const char *)m.report, m.report_len, "mail",
					      origin, stored_dkim, res);
	}
	(void)source;
	tlsrpt_mime_clear(&m);
	return rc;
}
