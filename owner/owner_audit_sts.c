/* SPDX-License-Identifier: MIT */
/* `mxtls audit`, MTA-STS (owner/owner_audit_sts.h): the _mta-sts record, the policy host and
 * the policy, judged with the sender's own parsers (mxtls_sts_lint_*). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <mxtls/error.h>
#include <mxtls/sts.h>

#include "owner/owner_audit_sts.h"

/* A fresh policy id for the fixes: the UTC time, digits only (RFC 8461 §3.1: 1-32 of
 * ALPHA / DIGIT), as `mxtls publish` makes them. */
static void fresh_id(long long now, char id[16])
{
	time_t t = (time_t)now;
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL || strftime(id, 16, "%Y%m%d%H%M%S", &tm) == 0)
		snprintf(id, 16, "%lld", now);
}

/* AUD-STS-01: the record itself. */
static bool txt_checks(const struct audit_sts_view *v, struct audit_findings *f, const char *owner)
{
	const char *st = v->txt_state != NULL ? v->txt_state : "absent";
	char fix[1200], id[16];
	fresh_id(v->now, id);
	if (strcmp(st, "absent") == 0) {
		snprintf(
			fix, sizeof fix,
			"run `mxtls publish %s`: it prints the policy file and the _mta-sts record "
			"(start with mode testing)",
			v->domain);
		/* Without MTA-STS only DANE protects the domain; when every host has it, that is
		 * enough for DANE senders (most senders do MTA-STS only). */
		audit_add(
			f, v->every_host_dane ? AUDIT_INFO : AUDIT_WARNING, "sts-txt-missing",
			owner, fix,
			v->every_host_dane
				? "no MTA-STS record: senders that do not do DANE deliver without "
				  "authentication"
				: "no MTA-STS record: an attacker on the path can strip STARTTLS "
				  "and "
				  "read mail to %s",
			v->domain);
		return false;
	}
	if (strcmp(st, "multiple") == 0) {
		snprintf(fix, sizeof fix,
			 "keep exactly one TXT record at _mta-sts.%s. beginning \"v=STSv1;\" and "
			 "delete the others",
			 v->domain);
		audit_add(f, AUDIT_ERROR, "sts-txt-multiple", owner, fix,
			  "more than one v=STSv1 record: senders ignore the policy (RFC 8461 "
			  "section 3.1)");
		return false;
	}
	if (strcmp(st, "error") == 0) {
		if (v->zone_bogus)
			return false;
		audit_add(
			f, AUDIT_ERROR, "dns-failure", owner,
			"make the name servers of the zone answer TXT queries (and sign correctly)",
			"%s", v->txt_reason != NULL ? v->txt_reason : "no answer");
		return false;
	}
	if (strcmp(st, "valid") != 0) {
		snprintf(fix, sizeof fix, "publish _mta-sts.%s. IN TXT \"v=STSv1; id=%s\"",
			 v->domain, id);
		audit_add(f, AUDIT_ERROR, "sts-txt-invalid", owner, fix,
			  "the record \"%s\" is not valid: %s", v->txt != NULL ? v->txt : "",
			  v->txt_reason != NULL ? v->txt_reason : "it does not parse");
		return false;
	}
	/* Valid: what the strict parser accepted with a warning (e.g. white space before ";",
	 * which some senders reject, erratum 6285). */
	struct mxtls_sts_lint *l = NULL;
	const char *rec = v->txt != NULL ? v->txt : "";
	size_t len = strlen(rec);
	if (mxtls_sts_lint_txt(&rec, &len, 1, &l) == MXTLS_OK) {
		for (size_t i = 0; i < mxtls_sts_lint_warnings(l); i++) {
			unsigned col = 0;
			const char *why = mxtls_sts_lint_warning(l, i, NULL, &col);
			snprintf(fix, sizeof fix, "publish _mta-sts.%s. IN TXT \"v=STSv1; id=%s\"",
				 v->domain, id);
			audit_add(f, AUDIT_WARNING, "sts-txt-lint", owner, fix,
				  "\"%s\", column %u: %s", rec, col, why);
		}
	}
	mxtls_sts_lint_free(l);
	return true;
}

/* AUD-STS-03/04: the policy host.  The fetch error text is the sender's own. */
static bool fetch_checks(const struct audit_sts_view *v, struct audit_findings *f, const char *ph)
{
	char fix[1200];
	const char *why = v->fetch_error != NULL ? v->fetch_error : "no policy was fetched";
	if (!v->fetched) {
		audit_add(f, AUDIT_ERROR, "sts-policy-fetch", ph,
			  "check that the policy host resolves and answers HTTPS on port 443",
			  "the policy was not fetched: %s", why);
		return false;
	}
	switch (v->fetch_result) {
	case MXTLS_RESULT_OK:
		return v->body != NULL;
	case MXTLS_RESULT_STS_WEBPKI_INVALID:
		snprintf(fix, sizeof fix,
			 "serve %s with a certificate from a public CA (the whole chain) whose "
			 "subjectAltName includes %s",
			 ph, ph);
		audit_add(f, AUDIT_ERROR, "sts-policy-host-cert", ph, fix,
			  "senders cannot authenticate the policy host: %s", why);
		return false;
	case MXTLS_RESULT_STS_POLICY_INVALID:
		audit_add(f, AUDIT_ERROR, "sts-policy-invalid", ph,
			  "correct the policy file (`mxtls sts lint FILE` lists each problem with "
			  "its "
			  "line), then change the id of the _mta-sts record",
			  "the policy does not parse: %s", why);
		return false;
	default:
		snprintf(fix, sizeof fix,
			 "serve https://%s/.well-known/mta-sts.txt with status 200, no redirect, "
			 "Content-Type: text/plain, under 64 KB (`mxtls serve` does)",
			 ph);
		audit_add(f, AUDIT_ERROR, "sts-policy-fetch", ph, fix,
			  "senders cannot fetch the policy: %s", why);
		return false;
	}
}

/* RFC 8461 §3.2 allows LF and CRLF (erratum 6253); some strict parsers demand CRLF. */
static bool lf_only(const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] == '\n' && (i == 0 || b[i - 1] != '\r'))
			return true;
	return false;
}

/* AUD-STS-05/06/07/09: the policy body and what it says about the MX set. */
static enum audit_sts_mode policy_checks(const struct audit_sts_view *v, struct audit_findings *f,
					 const char *ph, bool *covered)
{
	struct mxtls_sts_lint *l = NULL;
	if (mxtls_sts_lint_policy(v->body, v->body_len, &l) != MXTLS_OK ||
	    !mxtls_sts_lint_valid(l)) {
		/* The fetch already parsed it; a disagreement would be a bug. */
		mxtls_sts_lint_free(l);
		return AUDIT_STS_NONE;
	}
	char fix[1200], id[16];
	fresh_id(v->now, id);
	for (size_t i = 0; i < mxtls_sts_lint_warnings(l); i++) {
		unsigned line = 0;
		const char *why = mxtls_sts_lint_warning(l, i, &line, NULL);
		audit_add(
			f, AUDIT_WARNING, "sts-policy-lint", ph,
			"remove the line from the policy file, then change the id of the _mta-sts "
			"record",
			"line %u: %s", line, why);
	}
	if (lf_only(v->body, v->body_len))
		audit_add(f, AUDIT_INFO, "sts-policy-lint", ph,
			  "end the lines with CRLF (RFC 8461 section 3.2 allows both)",
			  "the policy's lines end in LF alone: valid, but some strict parsers want "
			  "CRLF");
	const char *mode = mxtls_sts_lint_mode(l);
	enum audit_sts_mode m = strcmp(mode, "enforce") == 0   ? AUDIT_STS_ENFORCE
				: strcmp(mode, "testing") == 0 ? AUDIT_STS_TESTING
							       : AUDIT_STS_NONE;
	long long max_age = (long long)mxtls_sts_lint_max_age(l);
	if (m != AUDIT_STS_NONE && max_age < AUDIT_STS_MAX_AGE_MIN)
		audit_add(
			f, AUDIT_WARNING, "sts-max-age", ph,
			"max_age: 1209600 (two weeks; RFC 8461 section 3.2 expects weeks or more)",
			"max_age %lld is under a week: a sender forgets the policy soon and is "
			"open to a downgrade at the next refetch",
			max_age);
	/* AUD-STS-09: "*.domain" matches every host of the domain, DHCP names included. */
	char wild[300];
	snprintf(wild, sizeof wild, "*.%s", v->domain);
	for (size_t k = 0; k < mxtls_sts_lint_mx_count(l); k++)
		if (strcasecmp(mxtls_sts_lint_mx(l, k), wild) == 0)
			audit_add(
				f, AUDIT_INFO, "sts-mx-wildcard", ph,
				"list the MX hosts by name, or a subdomain only mail hosts use",
				"the pattern %s lets any host of the domain receive mail (RFC 8461 "
				"section 10.4)",
				wild);
	/* AUD-STS-07 */
	for (size_t i = 0; i < v->nmx && m != AUDIT_STS_NONE; i++) {
		bool ok = mxtls_sts_lint_mx_match(l, v->mx_hosts[i]) >= 0;
		if (covered != NULL)
			covered[i] = ok;
		if (ok)
			continue;
		snprintf(fix, sizeof fix,
			 "add the line \"mx: %s\" to the policy file, then change the record to "
			 "_mta-sts.%s. IN TXT \"v=STSv1; id=%s\"",
			 v->mx_hosts[i], v->domain, id);
		audit_add(
			f, m == AUDIT_STS_ENFORCE ? AUDIT_ERROR : AUDIT_WARNING,
			"sts-mx-not-covered", v->mx_hosts[i], fix,
			m == AUDIT_STS_ENFORCE
				? "the MX host matches no mx pattern of the policy: senders never "
				  "deliver to it"
				: "the MX host matches no mx pattern of the policy: senders would "
				  "never deliver to it under enforce");
	}
	mxtls_sts_lint_free(l);
	return m;
}

enum audit_sts_mode audit_sts(const struct audit_sts_view *v, struct audit_findings *f,
			      bool *covered)
{
	char owner[300], ph[300];
	snprintf(owner, sizeof owner, "_mta-sts.%s", v->domain);
	snprintf(ph, sizeof ph, "mta-sts.%s", v->domain);
	for (size_t i = 0; covered != NULL && i < v->nmx; i++)
		covered[i] = false;
	if (!txt_checks(v, f, owner))
		return AUDIT_STS_NONE;
	if (v->changed_same_id) {
		char fix[1200], id[16];
		fresh_id(v->now, id);
		snprintf(fix, sizeof fix,
			 "publish _mta-sts.%s. IN TXT \"v=STSv1; id=%s\" (a new id at every change "
			 "of the policy file)",
			 v->domain, id);
		/* AUD-STS-02: senders with the old body cached never fetch the new one. */
		audit_add(
			f, AUDIT_ERROR, "sts-id-unchanged", owner, fix,
			"the policy changed but its id did not: senders that cached the old policy "
			"keep using it until max_age runs out");
	}
	if (!fetch_checks(v, f, ph))
		return AUDIT_STS_NONE;
	return policy_checks(v, f, ph, covered);
}

void audit_sts_readiness(const char *domain, struct audit_findings *f, size_t would_break)
{
	char fix[1200];
	if (would_break == 0) {
		snprintf(fix, sizeof fix,
			 "set \"mode: enforce\" in the policy file and change the id of "
			 "_mta-sts.%s (watch the TLS reports of the first days)",
			 domain);
		audit_add(f, AUDIT_INFO, "sts-ready-for-enforce", NULL, fix,
			  "mode testing: nothing the audit sees would stop mail under enforce");
	} else {
		audit_add(f, AUDIT_INFO, "sts-not-ready", NULL,
			  "fix the warnings marked \"under enforce\" first",
			  "mode testing: %zu finding%s would stop mail under enforce", would_break,
			  would_break == 1 ? "" : "s");
	}
}
