/* SPDX-License-Identifier: MIT */
/* The DANE host algorithm of RFC 7672 §2.2.2 and §2.1.3, on the event loop. */
#include "validator/host_dane.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "util/util_dnsname.h"
#include "util/util_text.h"

enum { ANS_A = 0, ANS_AAAA = 1 };

struct host_dane {
	struct dns_resolver *r;
	host_dane_callback cb;
	void *arg;
	uint16_t port;
	bool mx_secure, implicit, no_tlsa;
	char nexthop[DNS_NAME_TEXT_MAX];          /* "" when not given */
	char nexthop_expanded[DNS_NAME_TEXT_MAX]; /* "" when not given */
	struct host_dane_result *res;
	/* The address step: A and AAAA in parallel. */
	struct dns_query *addr_q[2];
	struct dns_answer *addr_ans[2];
	int addr_pending;
	/* Then one query at a time: the CNAME probe, then TLSA per candidate. */
	struct dns_query *q;
	char cands[2][DNS_NAME_TEXT_MAX];
	size_t ncands, cand;
	bool tlsa_seen_insecure; /* an insecure TLSA RRset was skipped */
};

const char *host_dane_state_name(enum host_dane_state s)
{
	switch (s) {
	case HOST_DANE_UNREACHABLE:
		return "unreachable";
	case HOST_DANE_NONE:
		return "none";
	case HOST_DANE_USABLE:
		return "dane";
	case HOST_DANE_ENCRYPT:
		return "dane-encrypt";
	}
	return "?";
}

void host_dane_result_free(struct host_dane_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->ntlsa; i++)
		dane_tlsa_clear(&r->tlsa[i]);
	free(r->tlsa);
	free(r);
}

static void note_ttl(struct host_dane_result *res, const struct dns_answer *a)
{
	if (a->ttl < res->ttl)
		res->ttl = a->ttl;
}

static void add_name(struct host_dane_result *res, const char *name)
{
	if (name[0] == '\0' || res->nnames == HOST_DANE_NAMES_MAX)
		return;
	for (size_t i = 0; i < res->nnames; i++)
		if (strcmp(res->names[i], name) == 0)
			return;
	snprintf(res->names[res->nnames++], DNS_NAME_TEXT_MAX, "%s", name);
}

/*
 * RFC 7672 §3.2.2: the reference identifiers a DANE-TA certificate must match.  The TLSA base
 * domain always (it is also the SNI name, §8.1).  With a secure MX RRset (or a secure denial
 * for the implicit MX), also the next-hop domain and its CNAME expansion.  With an insecure MX
 * RRset only the MX host name is trustworthy (its secure CNAME expansion is the TBD).
 */
static void set_names(struct host_dane *h)
{
	struct host_dane_result *res = h->res;
	add_name(res, res->tbd);
	if (h->mx_secure) {
		add_name(res, h->nexthop);
		add_name(res, h->nexthop_expanded);
	} else {
		add_name(res, res->host);
	}
}

static void finish(struct host_dane *h)
{
	struct host_dane_result *res = h->res;
	if (res->state == HOST_DANE_USABLE || res->state == HOST_DANE_ENCRYPT)
		set_names(h);
	for (int i = 0; i < 2; i++)
		dns_answer_free(h->addr_ans[i]);
	h->res = NULL;
	host_dane_callback cb = h->cb;
	void *arg = h->arg;
	free(h);
	cb(arg, res);
}

__attribute__((format(printf, 3, 4))) static void conclude(struct host_dane *h,
							   enum host_dane_state st,
							   const char *fmt, ...)
{
	h->res->state = st;
	va_list ap;
	va_start(ap, fmt);
	char text[1024];
	vsnprintf(text, sizeof text, fmt, ap);
	util_text_fit(h->res->reason, sizeof h->res->reason, text);
	va_end(ap);
	finish(h);
}

static const char *why(const struct dns_answer *a)
{
	return a->why != NULL ? a->why : dns_outcome_name(a->outcome);
}

static bool is_error(const struct dns_answer *a)
{
	return a->outcome != DNS_DATA && a->outcome != DNS_NODATA && a->outcome != DNS_NXDOMAIN;
}

static void next_tlsa(struct host_dane *h);

/* Collects A and AAAA records; false when a record has the wrong length (malformed). */
static bool collect_addrs(struct host_dane_result *res, const struct dns_answer *a, int family)
{
	size_t want = family == AF_INET ? 4 : 16;
	for (size_t i = 0; a->outcome == DNS_DATA && i < a->n; i++) {
		if (a->rdlen[i] != want)
			return false;
		if (res->naddrs == HOST_DANE_ADDRS_MAX)
			continue;
		struct host_addr *ad = &res->addrs[res->naddrs++];
		ad->family = family;
		memcpy(ad->addr, a->rdata[i], want);
	}
	return true;
}

static void on_cname(void *arg, struct dns_answer *ans);

/*
 * RFC 7672 §2.2.2: "the SMTP client MUST first look up the A/AAAA records", then decides from
 * their DNSSEC status which TLSA base domains to try (checklist DANE-22, DANE-23).
 */
static void addresses_done(struct host_dane *h)
{
	struct host_dane_result *res = h->res;
	const struct dns_answer *a = h->addr_ans[ANS_A], *aaaa = h->addr_ans[ANS_AAAA];
	note_ttl(res, a);
	note_ttl(res, aaaa);
	/* Any error at any step makes the host unreachable (RFC 7672 §2.1.2, DANE-23). */
	for (int i = 0; i < 2; i++) {
		const struct dns_answer *x = h->addr_ans[i];
		if (is_error(x)) {
			conclude(h, HOST_DANE_UNREACHABLE, "%s lookup failed: %s",
				 i == ANS_A ? "A" : "AAAA", why(x));
			return;
		}
	}
	if (!collect_addrs(res, a, AF_INET) || !collect_addrs(res, aaaa, AF_INET6)) {
		conclude(h, HOST_DANE_UNREACHABLE, "malformed address record");
		return;
	}
	if (res->naddrs == 0) {
		conclude(h, HOST_DANE_UNREACHABLE, "%s",
			 a->outcome == DNS_NXDOMAIN ? "host name does not exist (NXDOMAIN)"
						    : "no A or AAAA records");
		return;
	}
	const struct dns_answer *data = a->outcome == DNS_DATA ? a : aaaa;
	snprintf(res->expanded, sizeof res->expanded, "%s", data->canonname);
	res->addr_secure = a->security == DNS_SECURE && aaaa->security == DNS_SECURE;
	if (h->no_tlsa) {
		conclude(h, HOST_DANE_NONE, "DANE does not apply to an address literal");
		return;
	}
	bool cname = strcmp(res->expanded, res->host) != 0;
	if (res->addr_secure) {
		/* Secure at every step: the expanded name first, then the original name
		 * (RFC 7672 §2.2.2, RFC 7671 §7). */
		if (cname)
			snprintf(h->cands[h->ncands++], DNS_NAME_TEXT_MAX, "%s", res->expanded);
		snprintf(h->cands[h->ncands++], DNS_NAME_TEXT_MAX, "%s", res->host);
		next_tlsa(h);
		return;
	}
	if (!cname) {
		/* SHOULD NOT look up TLSA for an insecure host: broken name servers of unsigned
		 * zones time out on TLSA queries, and the answer could not be trusted anyway. */
		conclude(h, HOST_DANE_NONE, "address records are not DNSSEC-signed: no TLSA lookup");
		return;
	}
	/* Insecure after a CNAME: only a secure first CNAME keeps the original name as a
	 * candidate.  libunbound reports the security of the whole chain, so the first CNAME is
	 * asked for separately (RFC 7672 §2.1.3). */
	int rc = dns_resolve(h->r, res->host, DNS_TYPE_CNAME, on_cname, h, &h->q);
	if (rc != MXTLS_OK)
		conclude(h, HOST_DANE_UNREACHABLE, "CNAME lookup could not start: %s",
			 mxtls_strerror(rc));
}

static void on_cname(void *arg, struct dns_answer *ans)
{
	struct host_dane *h = arg;
	h->q = NULL;
	if (ans == NULL) {
		conclude(h, HOST_DANE_UNREACHABLE, "out of memory");
		return;
	}
	note_ttl(h->res, ans);
	if (is_error(ans)) {
		/* RFC 7672 §2.1.3: an error during CNAME expansion fails the whole lookup. */
		conclude(h, HOST_DANE_UNREACHABLE, "CNAME lookup failed: %s", why(ans));
	} else if (ans->outcome == DNS_DATA && ans->security == DNS_SECURE) {
		snprintf(h->cands[h->ncands++], DNS_NAME_TEXT_MAX, "%s", h->res->host);
		dns_answer_free(ans);
		next_tlsa(h);
		return;
	} else {
		conclude(h, HOST_DANE_NONE,
			 "insecure CNAME to the address records: no TLSA lookup");
	}
	dns_answer_free(ans);
}

static void on_addr(void *arg, struct dns_answer *ans, int which)
{
	struct host_dane *h = arg;
	h->addr_q[which] = NULL;
	h->addr_ans[which] = ans;
	if (ans == NULL) {
		/* Out of memory: let the other lookup finish first, so that nothing is left
		 * pending when the result is delivered. */
		h->res->state = HOST_DANE_UNREACHABLE;
	}
	if (--h->addr_pending > 0)
		return;
	if (h->addr_ans[ANS_A] == NULL || h->addr_ans[ANS_AAAA] == NULL) {
		conclude(h, HOST_DANE_UNREACHABLE, "out of memory");
		return;
	}
	addresses_done(h);
}

static void on_a(void *arg, struct dns_answer *ans)
{
	on_addr(arg, ans, ANS_A);
}

static void on_aaaa(void *arg, struct dns_answer *ans)
{
	on_addr(arg, ans, ANS_AAAA);
}

/* A secure TLSA RRset at the current candidate: it is the TBD (RFC 7672 §2.2.3). */
static void take_tlsa(struct host_dane *h, const struct dns_answer *ans)
{
	struct host_dane_result *res = h->res;
	size_t n = ans->n;
	if (n > HOST_DANE_TLSA_MAX) {
		/* Convention 5: a cap is an error, not a truncation.  Keeping the first N could
		 * drop the one usable record and turn DANE into unauthenticated TLS. */
		conclude(h, HOST_DANE_UNREACHABLE, "more than %d TLSA records at _%u._tcp.%s",
			 HOST_DANE_TLSA_MAX, (unsigned)h->port, h->cands[h->cand]);
		return;
	}
	res->tlsa = calloc(n > 0 ? n : 1, sizeof *res->tlsa);
	if (res->tlsa == NULL) {
		conclude(h, HOST_DANE_UNREACHABLE, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (dane_tlsa_from_rdata(ans->rdata[i], ans->rdlen[i], &res->tlsa[i]) != MXTLS_OK) {
			conclude(h, HOST_DANE_UNREACHABLE, "out of memory");
			return;
		}
		res->ntlsa++;
	}
	snprintf(res->tbd, sizeof res->tbd, "%s", h->cands[h->cand]);
	/* RFC 7671 §9: unusable records are set aside, then digest agility. */
	res->usable = dane_tlsa_select(res->tlsa, res->ntlsa);
	if (res->usable > 0)
		conclude(h, HOST_DANE_USABLE, "secure TLSA RRset at _%u._tcp.%s: %zu of %zu usable",
			 (unsigned)h->port, res->tbd, res->usable, res->ntlsa);
	else
		/* RFC 7672 §2.2 and §2.2.3 (DANE-10, DANE-13): any secure TLSA record, even an
		 * unusable one, means the server supports STARTTLS: TLS becomes mandatory. */
		conclude(h, HOST_DANE_ENCRYPT,
			 "secure TLSA RRset at _%u._tcp.%s, no usable record: TLS required",
			 (unsigned)h->port, res->tbd);
}

static void on_tlsa(void *arg, struct dns_answer *ans)
{
	struct host_dane *h = arg;
	h->q = NULL;
	if (ans == NULL) {
		conclude(h, HOST_DANE_UNREACHABLE, "out of memory");
		return;
	}
	note_ttl(h->res, ans);
	if (is_error(ans)) {
		/* RFC 7672 §2.1.2: "the SMTP client MUST NOT deliver via that server" (DANE-07);
		 * a SERVFAIL is never read as "no TLSA" (PEERS.md, issue 7). */
		h->res->tlsa_failed = true;
		conclude(h, HOST_DANE_UNREACHABLE, "TLSA lookup at _%u._tcp.%s failed: %s",
			 (unsigned)h->port, h->cands[h->cand], why(ans));
	} else if (ans->outcome == DNS_DATA && ans->security == DNS_SECURE) {
		take_tlsa(h, ans);
	} else {
		/* Insecure, or no records: the next candidate (RFC 7672 §2.2.2, DANE-26). */
		h->tlsa_seen_insecure |= ans->outcome == DNS_DATA;
		h->cand++;
		dns_answer_free(ans);
		next_tlsa(h);
		return;
	}
	dns_answer_free(ans);
}

static void next_tlsa(struct host_dane *h)
{
	struct host_dane_result *res = h->res;
	if (h->cand == h->ncands) {
		conclude(h, HOST_DANE_NONE, "%s",
			 h->tlsa_seen_insecure ? "TLSA records are not DNSSEC-signed"
					       : "no TLSA records");
		return;
	}
	char qname[DNS_NAME_TEXT_MAX + 16];
	snprintf(qname, sizeof qname, "_%u._tcp.%s", (unsigned)h->port, h->cands[h->cand]);
	res->tlsa_looked_up = true;
	int rc = dns_resolve(h->r, qname, DNS_TYPE_TLSA, on_tlsa, h, &h->q);
	if (rc == MXTLS_E_INVAL) {
		/* The TLSA owner name would exceed 253 bytes: nothing can be published there. */
		h->cand++;
		next_tlsa(h);
	} else if (rc != MXTLS_OK) {
		conclude(h, HOST_DANE_UNREACHABLE, "TLSA lookup could not start: %s",
			 mxtls_strerror(rc));
	}
}

int host_dane_start(struct dns_resolver *r, const struct host_dane_req *req, host_dane_callback cb,
		    void *arg, struct host_dane **out)
{
	if (r == NULL || req == NULL || req->host == NULL || cb == NULL)
		return MXTLS_E_INVAL;
	char host[DNS_NAME_TEXT_MAX], nh[DNS_NAME_TEXT_MAX] = "", nhx[DNS_NAME_TEXT_MAX] = "";
	if (!util_dnsname_canon(req->host, strlen(req->host), host, sizeof host) ||
	    (req->nexthop != NULL &&
	     !util_dnsname_canon(req->nexthop, strlen(req->nexthop), nh, sizeof nh)) ||
	    (req->nexthop_expanded != NULL &&
	     !util_dnsname_canon(req->nexthop_expanded, strlen(req->nexthop_expanded), nhx,
				 sizeof nhx)))
		return MXTLS_E_INVAL;
	struct host_dane *h = calloc(1, sizeof *h);
	if (h == NULL || (h->res = calloc(1, sizeof *h->res)) == NULL) {
		free(h);
		return MXTLS_E_NOMEM;
	}
	h->r = r;
	h->cb = cb;
	h->arg = arg;
	h->port = req->port != 0 ? req->port : 25;
	h->mx_secure = req->mx_secure;
	h->implicit = req->implicit;
	h->no_tlsa = req->no_tlsa;
	memcpy(h->res->host, host, sizeof host);
	memcpy(h->nexthop, nh, sizeof nh);
	memcpy(h->nexthop_expanded, nhx, sizeof nhx);
	h->res->ttl = UINT32_MAX;
	h->addr_pending = 2;
	int rc = dns_resolve(r, h->res->host, DNS_TYPE_A, on_a, h, &h->addr_q[ANS_A]);
	if (rc == MXTLS_OK) {
		rc = dns_resolve(r, h->res->host, DNS_TYPE_AAAA, on_aaaa, h, &h->addr_q[ANS_AAAA]);
		if (rc != MXTLS_OK)
			dns_query_cancel(h->addr_q[ANS_A]);
	}
	if (rc != MXTLS_OK) {
		host_dane_result_free(h->res);
		free(h);
		return rc;
	}
	if (out != NULL)
		*out = h;
	return MXTLS_OK;
}

void host_dane_cancel(struct host_dane *h)
{
	if (h == NULL)
		return;
	for (int i = 0; i < 2; i++) {
		if (h->addr_q[i] != NULL)
			dns_query_cancel(h->addr_q[i]);
		dns_answer_free(h->addr_ans[i]);
	}
	if (h->q != NULL)
		dns_query_cancel(h->q);
	host_dane_result_free(h->res);
	free(h);
}
