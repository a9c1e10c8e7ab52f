/* SPDX-License-Identifier: MIT */
/* mxtls publish: the lookups (MX set, each host's chain, through validator/) behind
 * include/mxtls/publish.h; the text is made by owner_publish_text.c. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/check.h>
#include <mxtls/error.h>
#include <mxtls/publish.h>

#include "owner/owner_publish_text.h"
#include "owner/owner_tlsa.h"
#include "util/util_dnsname.h"
#include "validator/mxtls_decision_view.h"

/* The most different keys one MX host may present over its addresses; more is an error. */
#define OWNER_HOST_KEYS_MAX 8

struct publish_host {
	char *name;
	unsigned preference;
	int dnssec;
	char *tlsa[OWNER_HOST_KEYS_MAX]; /* "3 1 1 hex" of each distinct key */
	size_t ntlsa;
	char *issuer; /* "2 1 1 hex" or NULL */
};

struct mxtls_publish {
	char domain[256];
	enum sts_mode mode;
	char *policy;
	char id[33];
	bool id_kept;
	char *sts_txt;
	char *tlsrpt_txt;
	char *zone;
	struct publish_host *hosts;
	size_t nhosts;
};

void mxtls_publish_free(struct mxtls_publish *p)
{
	if (p == NULL)
		return;
	for (size_t k = 0; k < p->nhosts; k++) {
		free(p->hosts[k].name);
		for (size_t t = 0; t < p->hosts[k].ntlsa; t++)
			free(p->hosts[k].tlsa[t]);
		free(p->hosts[k].issuer);
	}
	free(p->hosts);
	free(p->policy);
	free(p->sts_txt);
	free(p->tlsrpt_txt);
	free(p->zone);
	free(p);
}

/* Adds the 3 1 1 of the leaf (der, len) to h unless it is there already. */
static int add_key(struct publish_host *h, const uint8_t *der, size_t len)
{
	char *t = NULL;
	int rc = owner_tlsa_spki(der, len, 3, &t);
	if (rc != MXTLS_OK)
		return rc;
	for (size_t k = 0; k < h->ntlsa; k++) {
		if (strcmp(h->tlsa[k], t) == 0) {
			free(t);
			return MXTLS_OK;
		}
	}
	if (h->ntlsa == OWNER_HOST_KEYS_MAX) {
		free(t);
		return MXTLS_E_LIMIT;
	}
	h->tlsa[h->ntlsa++] = t;
	return MXTLS_OK;
}

/* Connects to every address of host i of d (a TLSA record must match whichever one a sender
 * reaches, RFC 7672 §2.2.3) and fills h from the chains presented.  Every failure is
 * MXTLS_E_TEMPFAIL with err naming the host: nothing is published from a partial picture. */
static int host_look(struct mxtls_ctx *ctx, const struct mxtls_decision *d, size_t i,
		     struct publish_host *h, char *err, size_t errlen)
{
	const char *name = mxtls_decision_host_name(d, i);
	h->preference = mxtls_decision_host_preference(d, i);
	h->name = strdup(name);
	if (h->name == NULL)
		return MXTLS_E_NOMEM;
	h->dnssec = mxtls_decision_mx_secure(d) &&
		    strcmp(mxtls_decision_host_dnssec(d, i), "secure") == 0;
	size_t naddr = mxtls_decision_host_addr_count(d, i);
	if (naddr == 0) {
		snprintf(err, errlen, "MX host %s: no address", name);
		return MXTLS_E_TEMPFAIL;
	}
	int rc = MXTLS_OK;
	for (size_t k = 0; k < naddr && rc == MXTLS_OK; k++) {
		const char *addr = mxtls_decision_host_addr(d, i, k);
		struct mxtls_probe_info info;
		struct mxtls_probe_chain chain;
		rc = mxtls_decision_probe_chain(ctx, d, i, k, &info, &chain);
		if (rc == MXTLS_E_NOMEM)
			return rc;
		if (rc != MXTLS_OK) {
			snprintf(err, errlen, "MX host %s (%s): %s", name, addr, info.reason);
			return MXTLS_E_TEMPFAIL;
		}
		if (chain.n == 0) {
			snprintf(err, errlen, "MX host %s (%s): no TLS session (%s)", name, addr,
				 info.reason);
			return MXTLS_E_TEMPFAIL;
		}
		rc = add_key(h, chain.der[0], chain.len[0]);
		/* The next certificate, when sent, is the issuer a DANE-TA record could pin
		 * (advice only: a garbled one is left out). */
		if (rc == MXTLS_OK && chain.n > 1 && h->issuer == NULL &&
		    owner_tlsa_spki(chain.der[1], chain.len[1], 2, &h->issuer) == MXTLS_E_NOMEM)
			rc = MXTLS_E_NOMEM;
		mxtls_probe_chain_clear(&chain);
		if (rc == MXTLS_E_SYNTAX) {
			snprintf(err, errlen, "MX host %s (%s): its certificate is not DER", name,
				 addr);
			return MXTLS_E_TEMPFAIL;
		}
		if (rc == MXTLS_E_LIMIT) {
			snprintf(err, errlen, "MX host %s: more than %d different keys", name,
				 OWNER_HOST_KEYS_MAX);
			return MXTLS_E_TEMPFAIL;
		}
	}
	return rc;
}

/* The decision's MX set, every host looked at. */
static int look(struct mxtls_ctx *ctx, struct mxtls_publish *p, char *err, size_t errlen)
{
	struct mxtls_decision *d = NULL;
	int rc = mxtls_decide(ctx, p->domain, &d, err, errlen);
	if (rc != MXTLS_OK)
		return rc == MXTLS_E_INVAL || rc == MXTLS_E_CONFIG || rc == MXTLS_E_NOMEM
			       ? rc
			       : MXTLS_E_TEMPFAIL;
	const char *mx = mxtls_decision_mx_status(d);
	if (strcmp(mx, "null-mx") == 0 || strcmp(mx, "nxdomain") == 0) {
		snprintf(err, errlen, "%s receives no mail (%s)", p->domain, mx);
		rc = MXTLS_E_NOTFOUND;
	} else if (strcmp(mx, "ok") != 0 || mxtls_decision_host_count(d) == 0) {
		snprintf(err, errlen, "the MX lookup of %s failed: %s", p->domain,
			 mxtls_decision_reason(d));
		rc = MXTLS_E_TEMPFAIL;
	}
	size_t n = rc == MXTLS_OK ? mxtls_decision_host_count(d) : 0;
	if (n > 0 && (p->hosts = calloc(n, sizeof *p->hosts)) == NULL)
		rc = MXTLS_E_NOMEM;
	for (size_t i = 0; i < n && rc == MXTLS_OK; i++) {
		p->nhosts = i + 1;
		if (strcmp(mxtls_decision_host_security(d, i), "unreachable") == 0) {
			snprintf(err, errlen, "MX host %s: %s", mxtls_decision_host_name(d, i),
				 mxtls_decision_host_reason(d, i));
			rc = MXTLS_E_TEMPFAIL;
			break;
		}
		/* RFC 5321 §5.1: an MX names a host; an address can be neither an mx pattern
		 * (RFC 8461 §4.1) nor a TLSA base domain (RFC 7672 §2.2.3). */
		const char *name = mxtls_decision_host_name(d, i);
		unsigned char a[16];
		if (inet_pton(AF_INET, name, a) == 1 || inet_pton(AF_INET6, name, a) == 1) {
			snprintf(err, errlen,
				 "MX host %s is an address, not a name: MTA-STS and DANE cannot "
				 "name it (RFC 5321 section 5.1)",
				 name);
			rc = MXTLS_E_SYNTAX;
			break;
		}
		rc = host_look(ctx, d, i, &p->hosts[i], err, errlen);
	}
	mxtls_decision_free(d);
	return rc;
}

static int build(struct mxtls_ctx *ctx, const struct mxtls_publish_req *req,
		 struct mxtls_publish *p, char *err, size_t errlen)
{
	const char **names = calloc(p->nhosts, sizeof *names);
	struct owner_host *oh = calloc(p->nhosts, sizeof *oh);
	int rc = names == NULL || oh == NULL ? MXTLS_E_NOMEM : MXTLS_OK;
	for (size_t k = 0; k < p->nhosts && rc == MXTLS_OK; k++) {
		names[k] = p->hosts[k].name;
		oh[k] = (struct owner_host){
			.name = p->hosts[k].name,
			.preference = p->hosts[k].preference,
			.dnssec = p->hosts[k].dnssec,
			.tlsa = (const char *const *)p->hosts[k].tlsa,
			.ntlsa = p->hosts[k].ntlsa,
			.issuer = p->hosts[k].issuer,
		};
	}
	if (rc == MXTLS_OK)
		rc = owner_policy_text(p->mode, names, p->nhosts, &p->policy);
	if (rc == MXTLS_OK) {
		char prev_id[33];
		bool have =
			req->prev_zone != NULL &&
			owner_zone_prev_id(req->prev_zone, req->prev_zone_len, p->domain, prev_id);
		p->id_kept = owner_policy_id_choose(p->policy, strlen(p->policy), req->prev_policy,
						    req->prev_policy_len, have ? prev_id : NULL,
						    mxtls_ctx_now(ctx), p->id);
		rc = owner_sts_txt(p->id, &p->sts_txt);
	}
	if (rc == MXTLS_OK) {
		struct owner_publish_view v = {
			.domain = p->domain,
			.policy = p->policy,
			.mode = p->mode,
			.id = p->id,
			.id_reused = p->id_kept,
			.sts_txt = p->sts_txt,
			.tlsrpt_txt = p->tlsrpt_txt,
			.hosts = oh,
			.nhosts = p->nhosts,
			.now = mxtls_ctx_now(ctx),
		};
		rc = owner_zone_text(&v, &p->zone);
	}
	if (rc != MXTLS_OK && rc != MXTLS_E_NOMEM)
		snprintf(err, errlen, "cannot build the records: %s", mxtls_strerror(rc));
	free(names);
	free(oh);
	return rc;
}

int mxtls_publish(struct mxtls_ctx *ctx, const struct mxtls_publish_req *req,
		  struct mxtls_publish **out, char *err, size_t errlen)
{
	char dummy[8];
	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof dummy;
	}
	err[0] = '\0';
	if (ctx == NULL || req == NULL || req->domain == NULL || out == NULL ||
	    (req->nrua > 0 && req->rua == NULL)) {
		snprintf(err, errlen, "invalid arguments");
		return MXTLS_E_INVAL;
	}
	struct mxtls_publish *p = calloc(1, sizeof *p);
	if (p == NULL)
		return MXTLS_E_NOMEM;
	p->mode = req->enforce ? STS_MODE_ENFORCE : STS_MODE_TESTING;
	int rc = MXTLS_OK;
	if (!util_dnsname_canon(req->domain, strlen(req->domain), p->domain, sizeof p->domain)) {
		snprintf(err, errlen, "not a domain name: %s", req->domain);
		rc = MXTLS_E_INVAL;
	}
	/* The arguments are checked before anything is looked up. */
	if (rc == MXTLS_OK && req->nrua > 0) {
		const char *why = NULL;
		rc = owner_tlsrpt_txt(req->rua, req->nrua, &p->tlsrpt_txt, &why);
		if (rc == MXTLS_E_SYNTAX || rc == MXTLS_E_LIMIT) {
			snprintf(err, errlen, "--rua: %s", why != NULL ? why : "invalid");
			rc = MXTLS_E_INVAL;
		}
	}
	if (rc == MXTLS_OK)
		rc = look(ctx, p, err, errlen);
	if (rc == MXTLS_OK)
		rc = build(ctx, req, p, err, errlen);
	if (rc != MXTLS_OK) {
		if (rc == MXTLS_E_NOMEM)
			snprintf(err, errlen, "%s", mxtls_strerror(rc));
		mxtls_publish_free(p);
		return rc;
	}
	*out = p;
	return MXTLS_OK;
}

const char *mxtls_publish_domain(const struct mxtls_publish *p)
{
	return p != NULL ? p->domain : NULL;
}

const char *mxtls_publish_policy(const struct mxtls_publish *p)
{
	return p != NULL ? p->policy : NULL;
}

const char *mxtls_publish_mode(const struct mxtls_publish *p)
{
	return p != NULL ? sts_policy_mode_name(p->mode) : NULL;
}

unsigned long mxtls_publish_max_age(const struct mxtls_publish *p)
{
	if (p == NULL)
		return 0;
	return p->mode == STS_MODE_ENFORCE ? OWNER_MAX_AGE_ENFORCE : OWNER_MAX_AGE_TESTING;
}

const char *mxtls_publish_id(const struct mxtls_publish *p)
{
	return p != NULL ? p->id : NULL;
}

int mxtls_publish_id_kept(const struct mxtls_publish *p)
{
	return p != NULL && p->id_kept;
}

const char *mxtls_publish_sts_record(const struct mxtls_publish *p)
{
	return p != NULL ? p->sts_txt : NULL;
}

const char *mxtls_publish_tlsrpt_record(const struct mxtls_publish *p)
{
	return p != NULL ? p->tlsrpt_txt : NULL;
}

const char *mxtls_publish_zone(const struct mxtls_publish *p)
{
	return p != NULL ? p->zone : NULL;
}

size_t mxtls_publish_host_count(const struct mxtls_publish *p)
{
	return p != NULL ? p->nhosts : 0;
}

static const struct publish_host *ph(const struct mxtls_publish *p, size_t i)
{
	return p != NULL && i < p->nhosts ? &p->hosts[i] : NULL;
}

const char *mxtls_publish_host_name(const struct mxtls_publish *p, size_t i)
{
	return ph(p, i) != NULL ? ph(p, i)->name : NULL;
}

unsigned mxtls_publish_host_preference(const struct mxtls_publish *p, size_t i)
{
	return ph(p, i) != NULL ? ph(p, i)->preference : 0;
}

int mxtls_publish_host_dnssec(const struct mxtls_publish *p, size_t i)
{
	return ph(p, i) != NULL ? ph(p, i)->dnssec : 0;
}

size_t mxtls_publish_host_tlsa_count(const struct mxtls_publish *p, size_t i)
{
	return ph(p, i) != NULL ? ph(p, i)->ntlsa : 0;
}

const char *mxtls_publish_host_tlsa(const struct mxtls_publish *p, size_t i, size_t k)
{
	return ph(p, i) != NULL && k < ph(p, i)->ntlsa ? ph(p, i)->tlsa[k] : NULL;
}

const char *mxtls_publish_host_issuer_tlsa(const struct mxtls_publish *p, size_t i)
{
	return ph(p, i) != NULL ? ph(p, i)->issuer : NULL;
}
