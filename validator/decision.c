/* SPDX-License-Identifier: MIT */
/*
 * The per-domain decision, read top to bottom:
 *   1. start the MX lookup, the _mta-sts discovery and the _smtp._tls lookup together;
 *   2. when the MX set is known, run the DANE host algorithm for every host together;
 *   3. when everything is in, classify each host (decision D1 of RFC-CHECKLIST.md) and the
 *      domain, in decision_classify(), which is pure.
 */
#include "validator/decision.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <mxtls/error.h>

#include "dns/dns_probe.h"
#include "dns/dns_rdata.h"
#include "dns/dns_resolver.h"
#include "sts/sts_mx.h"
#include "util/util_dnsname.h"

const char *decision_security_name(enum decision_security s)
{
	switch (s) {
	case SEC_DANE: return "dane";
	case SEC_DANE_ENCRYPT: return "dane-encrypt";
	case SEC_MTA_STS: return "mta-sts";
	case SEC_MTA_STS_TESTING: return "mta-sts-testing";
	case SEC_OPPORTUNISTIC: return "opportunistic";
	case SEC_EXCLUDED: return "excluded";
	case SEC_UNREACHABLE: return "unreachable";
	}
	return "unknown";
}

const char *decision_mode_name(enum decision_mode m)
{
	switch (m) {
	case MODE_DANE: return "dane";
	case MODE_STS_ENFORCE: return "mta-sts-enforce";
	case MODE_STS_TESTING: return "mta-sts-testing";
	case MODE_OPPORTUNISTIC: return "opportunistic";
	case MODE_TEMPFAIL: return "tempfail";
	case MODE_UNDELIVERABLE: return "undeliverable";
	}
	return "unknown";
}

const char *tlsrpt_state_name(enum tlsrpt_state s)
{
	switch (s) {
	case TLSRPT_ABSENT: return "absent";
	case TLSRPT_FOUND: return "found";
	case TLSRPT_MULTIPLE: return "multiple";
	case TLSRPT_ERROR: return "error";
	}
	return "unknown";
}

void decision_free(struct decision *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->nhosts; i++)
		host_dane_result_free(d->hosts[i].dane);
	sts_resolve_result_free(d->sts);
	free(d);
}

/* ---- step 3: classification (pure) ------------------------------------------------------ */

/* RFC 8461 §4.1: the MX host name as found in the MX RRset against every pattern. */
static bool sts_matches(const struct sts_cache_entry *p, const char *host)
{
	for (size_t i = 0; i < p->nmx; i++)
		if (sts_mx_match(p->mx[i], strlen(p->mx[i]), host, strlen(host)))
			return true;
	return false;
}

static void classify_host(struct decision_host *h, enum sts_mode sts,
			  const struct sts_cache_entry *policy)
{
	const struct host_dane_result *dr = h->dane;
	h->sts_applies = sts == STS_MODE_ENFORCE || sts == STS_MODE_TESTING;
	/* RFC 8461 §4.1 and decision D2: an implicit MX host is the domain, matched as such. */
	h->sts_match = h->sts_applies && sts_matches(policy, h->name);
	bool enforce = sts == STS_MODE_ENFORCE, testing = sts == STS_MODE_TESTING;
	h->tls_required = h->dane_auth = h->pkix_auth = h->report_only = false;
	snprintf(h->sni, sizeof h->sni, "%s", h->name);

	if (dr == NULL || dr->state == HOST_DANE_UNREACHABLE) {
		/* RFC 7672 §2.1.2 (DANE-06, DANE-07, DANE-08): a host whose address or TLSA lookup
		 * failed is not contacted at all, not even in cleartext. */
		h->security = SEC_UNREACHABLE;
		snprintf(h->why, sizeof h->why, "%s", dr != NULL ? dr->reason : "lookup failed");
		return;
	}
	if (dr->state == HOST_DANE_USABLE) {
		/* RFC 7672 §2.2 (DANE-09) and D1: DANE alone decides; RFC 8461 §2: a DANE failure
		 * is never rescued by MTA-STS, and a DANE pass needs nothing from it. */
		h->security = SEC_DANE;
		h->tls_required = h->dane_auth = true;
		snprintf(h->sni, sizeof h->sni, "%s", dr->tbd); /* RFC 7672 §8.1 (DANE-48) */
		snprintf(h->why, sizeof h->why, "secure TLSA at _25._tcp.%s, %zu usable record%s%s",
			 dr->tbd, dr->usable, dr->usable == 1 ? "" : "s",
			 h->sts_applies && !h->sts_match
				 ? "; not in the MTA-STS policy, DANE decides (D1)" : "");
		return;
	}
	if (dr->state == HOST_DANE_ENCRYPT) {
		/* RFC 7672 §2.2 (DANE-10, DANE-13): TLS mandatory, no authentication from DANE.
		 * D1: an enforce policy still requires its own check on top, and one that does not
		 * list the host excludes it (DANE passes nothing here that could override it). */
		if (enforce && !h->sts_match) {
			h->security = SEC_EXCLUDED;
			snprintf(h->why, sizeof h->why,
				 "secure but unusable TLSA, and not in the MTA-STS enforce policy");
			return;
		}
		h->security = SEC_DANE_ENCRYPT;
		h->tls_required = true;
		h->pkix_auth = h->sts_match;
		h->report_only = testing;
		snprintf(h->sni, sizeof h->sni, "%s", dr->tbd);
		snprintf(h->why, sizeof h->why, "secure TLSA at _25._tcp.%s, no usable record: TLS "
			 "required%s", dr->tbd,
			 enforce ? ", plus the MTA-STS Web PKI check"
				 : testing ? ", MTA-STS testing checks reported" : "");
		return;
	}
	/* No DANE: the domain's MTA-STS policy (RFC 8461 §4, §5), else opportunistic TLS. */
	if (enforce) {
		if (h->sts_match) {
			h->security = SEC_MTA_STS;
			h->tls_required = h->pkix_auth = true;
			snprintf(h->why, sizeof h->why, "matches the MTA-STS enforce policy; %s",
				 dr->reason);
		} else {
			/* RFC 8461 §5 (STS-48): never deliver to a host the policy does not list. */
			h->security = SEC_EXCLUDED;
			snprintf(h->why, sizeof h->why, "matches no mx pattern of the MTA-STS enforce "
				 "policy");
		}
		return;
	}
	if (testing) {
		/* RFC 8461 §5 (STS-52): deliver as if valid; failures are only reported. */
		h->security = SEC_MTA_STS_TESTING;
		h->pkix_auth = h->report_only = true;
		snprintf(h->why, sizeof h->why, "MTA-STS testing (%s the policy); %s",
			 h->sts_match ? "in" : "not in", dr->reason);
		return;
	}
	h->security = SEC_OPPORTUNISTIC;
	snprintf(h->why, sizeof h->why, "%s", dr->reason);
}

void decision_classify(struct decision *d)
{
	d->sts_mode = STS_MODE_NONE;
	if (d->sts != NULL && d->sts->source != STS_SOURCE_NONE)
		d->sts_mode = d->sts->policy.mode; /* RFC 8461 §5: mode none = no policy */
	if (d->dnssec_broken[0] != '\0') {
		/* RFC 7672 §2.1.1 (DANE-01): "insecure" from a resolver that cannot validate
		 * means "not validated", not "not signed": DANE could be off without a word.
		 * Nothing is decided until the trust anchor's zone validates (dns/dns_probe.h). */
		d->mode = MODE_TEMPFAIL;
		snprintf(d->why, sizeof d->why, "%s", d->dnssec_broken);
		for (size_t i = 0; i < d->nhosts; i++) {
			struct decision_host *h = &d->hosts[i];
			classify_host(h, STS_MODE_NONE, NULL);
			h->security = SEC_UNREACHABLE;
			h->tls_required = h->dane_auth = h->pkix_auth = h->report_only = false;
			snprintf(h->why, sizeof h->why, "not used: DNSSEC validation is not proven");
		}
		return;
	}
	switch (d->mx.status) {
	case MX_LOOKUP_TEMPFAIL:
		/* RFC 7672 §2.1.2 (DANE-05): where to connect is unknown: delay. */
		d->mode = MODE_TEMPFAIL;
		snprintf(d->why, sizeof d->why, "%s", d->mx.reason);
		return;
	case MX_LOOKUP_NULL_MX:
	case MX_LOOKUP_NXDOMAIN:
		d->mode = MODE_UNDELIVERABLE;
		snprintf(d->why, sizeof d->why, "%s", d->mx.reason);
		return;
	case MX_LOOKUP_OK:
		break;
	}
	if (d->sts == NULL) {
		/* The discovery did not finish (out of memory): whether a policy applies is
		 * unknown, which is not the same as "no policy" (convention 2). */
		d->mode = MODE_TEMPFAIL;
		snprintf(d->why, sizeof d->why, "the MTA-STS discovery did not complete");
		for (size_t i = 0; i < d->nhosts; i++)
			classify_host(&d->hosts[i], STS_MODE_NONE, NULL);
		return;
	}
	size_t reachable = 0, dane = 0, excluded = 0;
	for (size_t i = 0; i < d->nhosts; i++) {
		struct decision_host *h = &d->hosts[i];
		classify_host(h, d->sts_mode, d->sts != NULL ? &d->sts->policy : NULL);
		if (h->security == SEC_UNREACHABLE)
			continue;
		reachable++;
		if (h->security == SEC_EXCLUDED)
			excluded++;
		if (h->security == SEC_DANE || h->security == SEC_DANE_ENCRYPT)
			dane++;
	}
	if (reachable == 0) {
		d->mode = MODE_TEMPFAIL;
		if (d->no_mx && d->nhosts == 1)
			snprintf(d->why, sizeof d->why, "the next-hop host cannot be used now: %.500s",
				 d->hosts[0].why);
		else
			snprintf(d->why, sizeof d->why,
				 "no MX host can be used now (DNS lookups failed)");
	} else if (dane == reachable) {
		d->mode = MODE_DANE;
		snprintf(d->why, sizeof d->why, "every reachable MX host has secure TLSA records");
	} else if (d->sts_mode == STS_MODE_ENFORCE) {
		d->mode = MODE_STS_ENFORCE;
		snprintf(d->why, sizeof d->why, "MTA-STS enforce policy from the %s%s",
			 sts_source_name(d->sts->source),
			 excluded == reachable ? "; no MX host matches it" : "");
	} else if (d->sts_mode == STS_MODE_TESTING) {
		d->mode = MODE_STS_TESTING;
		snprintf(d->why, sizeof d->why, "MTA-STS testing policy from the %s",
			 sts_source_name(d->sts->source));
	} else {
		d->mode = MODE_OPPORTUNISTIC;
		snprintf(d->why, sizeof d->why, "%s", dane > 0 ? "some MX hosts have DANE, others "
			 "have no protection" : "no DANE and no MTA-STS policy");
	}
}

/* ---- steps 1 and 2: the lookups --------------------------------------------------------- */

struct decision_run;
struct host_slot {
	struct decision_run *run;
	size_t i;
};

struct decision_run {
	struct decision *d;
	struct dns_resolver *r;
	decision_callback cb;
	void *arg;
	const struct util_log *log;
	struct mx_lookup *mxq;
	struct sts_resolve *stsq;
	struct dns_query *rptq;
	struct dns_probe_wait *probeq; /* waiting for the proof that validation works */
	struct host_dane *hostq[MX_LOOKUP_HOSTS_MAX];
	struct host_slot slots[MX_LOOKUP_HOSTS_MAX];
	unsigned pending;
};

static void log_decision(const struct decision_run *run)
{
	const struct decision *d = run->d;
	if (run->log == NULL)
		return;
	for (size_t i = 0; i < d->nhosts; i++)
		util_log_kv(run->log, MXTLS_LOG_INFO, d->id, "host", "domain", d->domain, "host",
			    d->hosts[i].name, "security",
			    decision_security_name(d->hosts[i].security), "why", d->hosts[i].why,
			    NULL);
	util_log_kv(run->log, MXTLS_LOG_INFO, d->id, "decision", "domain", d->domain, "mode",
		    decision_mode_name(d->mode), "why", d->why, NULL);
}

static void settle(struct decision_run *run)
{
	if (--run->pending > 0)
		return;
	decision_classify(run->d);
	log_decision(run);
	struct decision *d = run->d;
	decision_callback cb = run->cb;
	void *arg = run->arg;
	free(run);
	cb(arg, d);
}

static void on_host_slot(void *arg, struct host_dane_result *res)
{
	struct host_slot *slot = arg;
	struct decision_run *run = slot->run;
	size_t i = slot->i;
	run->hostq[i] = NULL;
	run->d->hosts[i].dane = res; /* NULL (out of memory) classifies as unreachable */
	settle(run);
}

/* RFC 7672 §2.2 (DANE-14): an address where a host name belongs gets no DANE and no lookup. */
static struct host_dane_result *literal_result(const char *name)
{
	struct host_dane_result *res = calloc(1, sizeof *res);
	if (res == NULL)
		return NULL;
	snprintf(res->host, sizeof res->host, "%s", name);
	const char *p = name;
	char tmp[DNS_NAME_TEXT_MAX];
	size_t n = strlen(name);
	if (n > 2 && name[0] == '[' && name[n - 1] == ']' && n - 2 < sizeof tmp) {
		memcpy(tmp, name + 1, n - 2);
		tmp[n - 2] = '\0';
		p = strncmp(tmp, "ipv6:", 5) == 0 || strncmp(tmp, "IPv6:", 5) == 0 ? tmp + 5 : tmp;
	}
	if (inet_pton(AF_INET, p, res->addrs[0].addr) == 1) {
		res->addrs[0].family = AF_INET;
		res->naddrs = 1;
	} else if (inet_pton(AF_INET6, p, res->addrs[0].addr) == 1) {
		res->addrs[0].family = AF_INET6;
		res->naddrs = 1;
	}
	res->state = res->naddrs > 0 ? HOST_DANE_NONE : HOST_DANE_UNREACHABLE;
	snprintf(res->reason, sizeof res->reason, "%s",
		 res->naddrs > 0 ? "an address literal in the MX record: no DANE (DANE-14)"
				 : "not a host name and not an address");
	return res;
}

/* Step 2 for the hosts of res (run->d->mx): each one's addresses and TLSA records at once;
 * run->pending counts the hosts whose lookups started. */
static void start_hosts(struct decision_run *run, const struct mx_lookup_result *res)
{
	struct decision *d = run->d;
	if (res->status == MX_LOOKUP_OK) {
		for (size_t i = 0; i < res->n; i++) {
			struct decision_host *h = &d->hosts[d->nhosts++];
			h->preference = res->hosts[i].preference;
			h->ip_literal = res->hosts[i].ip_literal;
			snprintf(h->name, sizeof h->name, "%s", res->hosts[i].name);
			if (h->ip_literal) {
				h->dane = literal_result(h->name);
				continue;
			}
			/* RFC 7672 §2.2.1: the host algorithm, separately for each MX host. */
			struct host_dane_req hr = {
				.host = h->name,
				.port = 25,
				.nexthop = d->domain,
				.nexthop_expanded = res->expanded,
				.mx_secure = res->secure,
				.implicit = res->implicit,
			};
			struct host_slot *slot = &run->slots[d->nhosts - 1];
			*slot = (struct host_slot){run, d->nhosts - 1};
			/* A host whose lookups cannot start has no result: unreachable. */
			if (host_dane_start(run->r, &hr, on_host_slot, slot,
					    &run->hostq[d->nhosts - 1]) == MXTLS_OK)
				run->pending++;
		}
	}
}

static void on_mx(void *arg, const struct mx_lookup_result *res)
{
	struct decision_run *run = arg;
	run->mxq = NULL;
	run->d->mx = *res;
	start_hosts(run, res);
	settle(run);
}

/*
 * RFC 7672 §2.2.2: a host name "from a trusted source" (local configuration: Postfix's [host]
 * next hop, a smarthost) is used as it is, without an MX lookup, and counts as secure, so its
 * own TLSA records decide.  It is also the policy domain for MTA-STS (RFC 8461 §3.4, STS-39,
 * decision D13), matched against its own policy like an implicit MX host; the _mta-sts and
 * _smtp._tls lookups run as for any domain.
 */
static void start_host_only(struct decision_run *run)
{
	struct decision *d = run->d;
	struct mx_lookup_result *mr = &d->mx;
	*mr = (struct mx_lookup_result){.status = MX_LOOKUP_OK, .secure = true, .ttl = UINT32_MAX,
					.n = 1};
	snprintf(mr->domain, sizeof mr->domain, "%s", d->domain);
	snprintf(mr->expanded, sizeof mr->expanded, "%s", d->domain);
	snprintf(mr->hosts[0].name, sizeof mr->hosts[0].name, "%s", d->domain);
	d->no_mx = true;
	start_hosts(run, mr);
}

static void on_sts(void *arg, struct sts_resolve_result *res)
{
	struct decision_run *run = arg;
	run->stsq = NULL;
	run->d->sts = res;
	settle(run);
}

static void on_probe(void *arg, bool works, const char *why)
{
	struct decision_run *run = arg;
	run->probeq = NULL;
	if (!works)
		snprintf(run->d->dnssec_broken, sizeof run->d->dnssec_broken, "%s", why);
	settle(run);
}

/* RFC 8460 §3: records that do not start with "v=TLSRPTv1" are discarded; one must remain. */
static void on_tlsrpt(void *arg, struct dns_answer *ans)
{
	struct decision_run *run = arg;
	struct decision *d = run->d;
	run->rptq = NULL;
	if (ans == NULL || ans->outcome >= DNS_ERR_SERVFAIL) {
		d->tlsrpt = TLSRPT_ERROR;
		snprintf(d->tlsrpt_text, sizeof d->tlsrpt_text, "%s",
			 ans != NULL ? dns_outcome_name(ans->outcome) : "out of memory");
	} else {
		size_t found = 0;
		for (size_t i = 0; ans->outcome == DNS_DATA && i < ans->n; i++) {
			char txt[512];
			size_t len = 0;
			if (dns_rdata_txt(ans->rdata[i], ans->rdlen[i], txt, sizeof txt, &len) !=
			    MXTLS_OK)
				continue;
			if (len < 10 || memcmp(txt, "v=TLSRPTv1", 10) != 0 ||
			    (len > 10 && txt[10] != ';' && txt[10] != ' ' && txt[10] != '\t'))
				continue;
			if (found++ == 0)
				snprintf(d->tlsrpt_text, sizeof d->tlsrpt_text, "%.*s", (int)len, txt);
		}
		d->tlsrpt = found == 0 ? TLSRPT_ABSENT : found == 1 ? TLSRPT_FOUND : TLSRPT_MULTIPLE;
	}
	dns_answer_free(ans);
	settle(run);
}

int decision_start(struct dns_resolver *r, struct sts_fetcher *f, struct sts_cache *c,
		   const struct decision_req *req, decision_callback cb, void *arg,
		   struct decision_run **out)
{
	if (r == NULL || f == NULL || c == NULL || req == NULL || req->domain == NULL ||
	    cb == NULL)
		return MXTLS_E_INVAL;
	struct decision_run *run = calloc(1, sizeof *run);
	struct decision *d = calloc(1, sizeof *d);
	if (run == NULL || d == NULL) {
		free(run);
		free(d);
		return MXTLS_E_NOMEM;
	}
	if (!util_dnsname_canon(req->domain, strlen(req->domain), d->domain, sizeof d->domain)) {
		free(run);
		free(d);
		return MXTLS_E_INVAL;
	}
	d->id = req->log_id;
	run->d = d;
	run->r = r;
	run->cb = cb;
	run->arg = arg;
	run->log = req->log;
	char rptname[DNS_NAME_TEXT_MAX + 16];
	snprintf(rptname, sizeof rptname, "_smtp._tls.%s", d->domain);
	struct sts_resolve_req sr = {.domain = d->domain, .now = req->now,
				     .refresh = req->sts_refresh,
				     .no_backoff = req->sts_no_backoff, .log = req->log,
				     .log_id = req->log_id};
	/* Step 1: three independent lookups, all at once; a next-hop host has no MX step. */
	int rc = req->no_mx ? MXTLS_OK : mx_lookup_start(r, d->domain, on_mx, run, &run->mxq);
	if (rc == MXTLS_OK) {
		rc = sts_resolve_start(r, f, c, &sr, on_sts, run, &run->stsq);
		if (rc == MXTLS_OK) {
			rc = dns_resolve(r, rptname, DNS_TYPE_TXT, on_tlsrpt, run, &run->rptq);
			if (rc != MXTLS_OK)
				sts_resolve_cancel(run->stsq);
		}
		if (rc != MXTLS_OK)
			mx_lookup_cancel(run->mxq);
	}
	if (rc != MXTLS_OK) {
		free(run);
		free(d);
		return rc;
	}
	run->pending = 2;
	if (req->no_mx)
		start_host_only(run); /* step 2 at once; each host adds to pending */
	else
		run->pending++;
	/* In parallel with the lookups: a resolver not yet proven to validate is probed once
	 * (then never again), so the first decision waits at most for its own critical path. */
	struct dns_probe *probe = dns_resolver_probe(r);
	if (!dns_probe_proven(probe)) {
		if (dns_probe_wait(probe, on_probe, run, &run->probeq) != MXTLS_OK) {
			decision_cancel(run);
			return MXTLS_E_NOMEM;
		}
		run->pending++;
	}
	if (out != NULL)
		*out = run;
	return MXTLS_OK;
}

void decision_cancel(struct decision_run *run)
{
	if (run == NULL)
		return;
	mx_lookup_cancel(run->mxq);
	sts_resolve_cancel(run->stsq);
	if (run->rptq != NULL)
		dns_query_cancel(run->rptq);
	dns_probe_wait_cancel(run->probeq);
	for (size_t i = 0; i < MX_LOOKUP_HOSTS_MAX; i++)
		if (run->hostq[i] != NULL)
			host_dane_cancel(run->hostq[i]);
	decision_free(run->d);
	free(run);
}
