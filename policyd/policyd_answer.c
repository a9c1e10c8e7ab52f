/* SPDX-License-Identifier: MIT */
/* From a delivery decision to the answer Postfix's smtp_tls_policy_maps understands. */
#include "policyd/policyd_answer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/sts_fetch.h>

static const struct {
	const char *name;
	enum policyd_host_security sec;
} security_names[] = {
	{"dane", POLICYD_SEC_DANE},
	{"dane-encrypt", POLICYD_SEC_DANE_ENCRYPT},
	{"mta-sts", POLICYD_SEC_MTA_STS},
	{"mta-sts-testing", POLICYD_SEC_MTA_STS_TESTING},
	{"opportunistic", POLICYD_SEC_OPPORTUNISTIC},
	{"excluded", POLICYD_SEC_EXCLUDED},
	{"unreachable", POLICYD_SEC_UNREACHABLE},
};

int policyd_facts_from_decision(const struct mxtls_decision *d, struct policyd_facts *f)
{
	memset(f, 0, sizeof *f);
	f->domain = mxtls_decision_domain(d);
	f->reason = mxtls_decision_reason(d);
	const char *mode = mxtls_decision_mode(d);
	if (strcmp(mode, "tempfail") == 0) {
		f->mode = POLICYD_MODE_TEMPFAIL;
		return 0;
	}
	if (strcmp(mode, "undeliverable") == 0) {
		f->mode = POLICYD_MODE_UNDELIVERABLE;
		return 0;
	}
	f->mode = POLICYD_MODE_DECIDED;
	size_t n = mxtls_decision_host_count(d);
	if (n > POLICYD_FACTS_HOSTS_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *sec = mxtls_decision_host_security(d, i);
		f->hosts[i].name = mxtls_decision_host_name(d, i);
		f->hosts[i].security = POLICYD_SEC_UNREACHABLE;
		for (size_t k = 0; k < sizeof security_names / sizeof security_names[0]; k++)
			if (strcmp(sec, security_names[k].name) == 0)
				f->hosts[i].security = security_names[k].sec;
		f->hosts[i].sts_match = mxtls_decision_host_sts_match(d, i);
	}
	f->nhosts = n;
	const struct mxtls_sts_policy *p = mxtls_decision_sts(d);
	f->sts_mode = p != NULL ? mxtls_sts_policy_mode(p) : NULL;
	if (f->sts_mode != NULL) {
		size_t np = mxtls_sts_policy_mx_count(p);
		if (np > 0 && (f->owned = calloc(np, sizeof *f->owned)) == NULL)
			return -1;
		for (size_t i = 0; i < np; i++)
			f->owned[i] = mxtls_sts_policy_mx(p, i);
		f->patterns = f->owned;
		f->npatterns = np;
		f->max_age = mxtls_sts_policy_max_age(p);
	}
	return 0;
}

void policyd_facts_clear(struct policyd_facts *f)
{
	free(f->owned);
	f->owned = NULL;
	f->patterns = NULL;
	f->npatterns = 0;
}

struct out {
	char *p;
	size_t len, cap;
	bool overflow;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
	if (o->overflow)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->overflow = true;
		return;
	}
	o->len += (size_t)n;
}

static size_t finish(struct out *o);

/* The whole answer is one fixed text. */
static size_t literal(struct out *o, const char *text)
{
	put(o, "%s", text);
	return finish(o);
}

static size_t finish(struct out *o)
{
	if (o->overflow) {
		if (o->cap > 0)
			o->p[0] = '\0';
		return 0;
	}
	return o->len;
}

/* "TEMP <reason>": the reason reduced to printable ASCII on one line.  Postfix logs it with
 * the deferral, so it is whole: one over TEMP_REASON_MAX bytes (the library's are shorter) is
 * cut at a space and marked " ...", never in the middle of a name. */
#define TEMP_REASON_MAX 600
static size_t temp(struct out *o, const char *reason)
{
	put(o, "TEMP ");
	const char *r = reason != NULL && reason[0] != '\0' ? reason : "lookup failed";
	size_t n = strlen(r);
	bool cut = n > TEMP_REASON_MAX;
	if (cut) {
		n = TEMP_REASON_MAX - 4;
		while (n > 0 && r[n] != ' ')
			n--;
		if (n == 0)
			n = TEMP_REASON_MAX - 4;
	}
	for (size_t i = 0; i < n; i++) {
		char c = r[i];
		put(o, "%c", (unsigned char)c >= ' ' && (unsigned char)c < 0x7f ? c : '?');
	}
	if (cut)
		put(o, " ...");
	return finish(o);
}

/* Host h is named before: as a literal pattern, or as an earlier matching host. */
static bool host_listed(const struct policyd_facts *f, size_t h)
{
	const char *name = f->hosts[h].name;
	for (size_t i = 0; i < f->npatterns; i++)
		if (strncmp(f->patterns[i], "*.", 2) != 0 && strcmp(f->patterns[i], name) == 0)
			return true;
	for (size_t k = 0; k < h; k++)
		if (f->hosts[k].sts_match == 1 && strcmp(f->hosts[k].name, name) == 0)
			return true;
	return false;
}

/* Postfix 3.10 TLSRPT attributes: which policy the session ran under, for its reports.  The
 * names are those Postfix's smtp_tls_policy parser takes (policy_type, policy_domain,
 * policy_ttl, mx_host_pattern, policy_string; read again in its 3.10 sources for issue 16);
 * policy_ttl is the policy's max_age, as other MTA-STS socketmap servers send it. */
static void tlsrpt_attributes(struct out *o, const struct policyd_facts *f)
{
	put(o, " policy_type=sts policy_domain=%s policy_ttl=%lld", f->domain, (long long)f->max_age);
	for (size_t i = 0; i < f->npatterns; i++)
		put(o, " mx_host_pattern=%s", f->patterns[i]);
	put(o, " { policy_string = version: STSv1 } { policy_string = mode: %s }", f->sts_mode);
	for (size_t i = 0; i < f->npatterns; i++)
		put(o, " { policy_string = mx: %s }", f->patterns[i]);
	put(o, " { policy_string = max_age: %lld }", (long long)f->max_age);
}

size_t policyd_answer(const struct policyd_facts *f, const struct policyd_answer_opts *o, char *out,
		      size_t outlen)
{
	struct out w = {out, 0, outlen, outlen == 0};
	if (!w.overflow)
		out[0] = '\0';
	if (f->mode == POLICYD_MODE_UNDELIVERABLE)
		return literal(&w, "NOTFOUND ");
	if (f->mode == POLICYD_MODE_TEMPFAIL)
		return o->fail_open ? literal(&w, "NOTFOUND ") : temp(&w, f->reason);

	bool enforce = f->sts_mode != NULL && strcmp(f->sts_mode, "enforce") == 0;
	bool testing = f->sts_mode != NULL && strcmp(f->sts_mode, "testing") == 0;
	size_t ndane = 0, nencrypt = 0, nother = 0;
	for (size_t i = 0; i < f->nhosts; i++) {
		enum policyd_host_security s = f->hosts[i].security;
		if (s == POLICYD_SEC_DANE)
			ndane++;
		else if (s == POLICYD_SEC_DANE_ENCRYPT)
			nencrypt++;
		else if (s != POLICYD_SEC_UNREACHABLE)
			nother++;
	}
	if (ndane + nencrypt + nother == 0)
		return o->fail_open ? literal(&w, "NOTFOUND ")
				    : temp(&w, "no MX host can be reached");
	/*
	 * Decision D1: DANE before MTA-STS, per host.  Every usable host has usable TLSA:
	 * Postfix must do DANE and nothing else (dane-only).  Postfix's dane-only never falls
	 * back to encryption for a host whose TLSA records are all unusable ("DANE-encrypt"),
	 * while its dane level does exactly what RFC 7672 §2.2 asks for such a host (TLS
	 * without authentication), so any DANE-encrypt host, or any host without TLSA, makes
	 * the answer "dane".  With an enforce policy, a DANE-encrypt host needs the Web PKI on
	 * top (D1): that is "secure" when no host has usable TLSA.
	 *
	 * Some hosts with usable TLSA and an enforce policy for the others: one answer cannot
	 * say both "DANE here" and "Web PKI there".  "secure" would let a Web-valid certificate
	 * override a failing TLSA match (RFC 8461 §2 forbids it) and would refuse a valid
	 * DANE-EE self-signed certificate; "dane" would leave the other hosts opportunistic,
	 * open to STARTTLS stripping.  dane-only is the safer answer: mail goes only to hosts
	 * DANE authenticates, and waits in the queue if none of them answers (doc/policyd.md).
	 */
	if (ndane > 0 && (enforce || (nencrypt == 0 && nother == 0)))
		return literal(&w, "OK dane-only");
	if (!enforce && ndane + nencrypt > 0)
		return literal(&w, "OK dane");
	if (enforce) {
		/* RFC 8461 §4.1: Postfix's "match=.example.com" would accept any depth below
		 * example.com, so "*." patterns are never passed on.  The names are the literal
		 * patterns, in policy order, then the MX hosts the decision found matching a
		 * pattern (sts_match: the library's own §4.1 matcher), in MX order. */
		size_t n = 0;
		for (size_t i = 0; i < f->npatterns; i++)
			if (strncmp(f->patterns[i], "*.", 2) != 0)
				put(&w, "%s%s", n++ == 0 ? "OK secure match=" : ":", f->patterns[i]);
		for (size_t h = 0; h < f->nhosts; h++)
			if (f->hosts[h].sts_match == 1 && !host_listed(f, h))
				put(&w, "%s%s", n++ == 0 ? "OK secure match=" : ":", f->hosts[h].name);
		if (n == 0)
			return o->fail_open ? literal(&w, "NOTFOUND ")
					    : temp(&w, "no MX host matches the MTA-STS policy");
		put(&w, " servername=hostname");
		if (o->tlsrpt)
			tlsrpt_attributes(&w, f);
		return finish(&w);
	}
	if (testing && o->tlsrpt) {
		/* testing: nothing is enforced (may), but Postfix reports under the policy. */
		put(&w, "OK may");
		tlsrpt_attributes(&w, f);
		return finish(&w);
	}
	return literal(&w, "NOTFOUND ");
}
