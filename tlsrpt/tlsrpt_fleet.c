/* SPDX-License-Identifier: MIT */
/* RFC 8460 §4.4 for a fleet: members' reports of one day and domain merged into one report. */
#include "tlsrpt/tlsrpt_fleet.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "tlsrpt/tlsrpt_read.h"

/*
 * Why a merge of whole reports, and not counters added up in Redis.  Each member keeps its
 * results in its own SQLite file (tlsrpt_store.c) and gives the fleet its whole day for a
 * domain as the report it would have sent alone, replacing its previous copy.  Writing the same
 * thing twice changes nothing, so a member that lost Redis in the middle of a day simply gives
 * its whole day again when Redis is back, and nothing is counted twice or lost; increments
 * (HINCRBY) would need to know which of them Redis had already applied.  The merge reads each
 * copy with the reader of received reports, because a copy comes from Redis: it is checked
 * like any report from elsewhere.
 */

static const char *nz(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

static int cmp_str(const char *a, const char *b)
{
	a = nz(a);
	b = nz(b);
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

static int cmp_vec(const char *const *a, size_t na, const char *const *b, size_t nb)
{
	for (size_t i = 0; i < na && i < nb; i++) {
		int c = strcmp(a[i], b[i]);
		if (c != 0)
			return c;
	}
	return (na > nb) - (na < nb);
}

static int cmp_policy(const void *pa, const void *pb)
{
	const struct tlsrpt_policy *a = pa, *b = pb;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	int c = cmp_vec(a->strings, a->nstrings, b->strings, b->nstrings);
	return c != 0 ? c : cmp_vec(a->mx, a->nmx, b->mx, b->nmx);
}

static int cmp_failure(const void *pa, const void *pb)
{
	const struct tlsrpt_failure *a = pa, *b = pb;
	const char *fa[] = {a->result_type,        a->sending_mta_ip, a->receiving_mx_hostname,
			    a->receiving_mx_helo,  a->receiving_ip,   a->additional_information,
			    a->failure_reason_code};
	const char *fb[] = {b->result_type,        b->sending_mta_ip, b->receiving_mx_hostname,
			    b->receiving_mx_helo,  b->receiving_ip,   b->additional_information,
			    b->failure_reason_code};
	for (size_t i = 0; i < sizeof fa / sizeof fa[0]; i++) {
		int c = cmp_str(fa[i], fb[i]);
		if (c != 0)
			return c;
	}
	return 0;
}

static bool type_of(const char *name, enum tlsrpt_policy_type *out)
{
	static const struct {
		const char *name;
		enum tlsrpt_policy_type type;
	} types[] = {{"tlsa", TLSRPT_POLICY_TLSA},
		     {"sts", TLSRPT_POLICY_STS},
		     {"no-policy-found", TLSRPT_POLICY_NONE}};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcmp(name, types[i].name) == 0) {
			*out = types[i].type;
			return true;
		}
	return false;
}

/* a += b within TLSRPT_COUNT_MAX. */
static bool add(uint64_t *a, uint64_t b)
{
	if (b > TLSRPT_COUNT_MAX || *a > TLSRPT_COUNT_MAX - b)
		return false;
	*a += b;
	return true;
}

static bool dup_vec(char *const *src, size_t n, const char *const **out)
{
	char **v = n > 0 ? calloc(n, sizeof *v) : NULL;
	if (n > 0 && v == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((v[i] = strdup(src[i])) == NULL) {
			tlsrpt_strings_free(v, i);
			return false;
		}
	*out = (const char *const *)v;
	return true;
}

struct merged {
	struct tlsrpt_policy *p;
	size_t n, cap;
};

/* Adds one failure-details element to p (merged with an equal one). */
static int add_failure(struct tlsrpt_policy *p, const struct tlsrpt_read_failure *rf)
{
	struct tlsrpt_failure key = {rf->result_type,           rf->sending_mta_ip,
				     rf->receiving_mx_hostname, rf->receiving_mx_helo,
				     rf->receiving_ip,          rf->additional_information,
				     rf->failure_reason_code,   rf->failed_session_count};
	struct tlsrpt_failure *f = (struct tlsrpt_failure *)(uintptr_t)p->details;
	for (size_t i = 0; i < p->ndetails; i++)
		if (cmp_failure(&f[i], &key) == 0)
			return add(&f[i].count, rf->failed_session_count) ? MXTLS_OK
									  : MXTLS_E_LIMIT;
	f = realloc(f, (p->ndetails + 1) * sizeof *f);
	if (f == NULL)
		return MXTLS_E_NOMEM;
	p->details = f;
	struct tlsrpt_failure *n = &f[p->ndetails];
	memset(n, 0, sizeof *n);
	p->ndetails++; /* freed with the policy from here on, whatever fails next */
	const char **dst[] = {&n->result_type,           &n->sending_mta_ip,
			      &n->receiving_mx_hostname, &n->receiving_mx_helo,
			      &n->receiving_ip,          &n->additional_information,
			      &n->failure_reason_code};
	const char *src[] = {key.result_type,        key.sending_mta_ip, key.receiving_mx_hostname,
			     key.receiving_mx_helo,  key.receiving_ip,   key.additional_information,
			     key.failure_reason_code};
	for (size_t i = 0; i < sizeof dst / sizeof dst[0]; i++)
		if (nz(src[i]) != NULL && (*dst[i] = strdup(src[i])) == NULL)
			return MXTLS_E_NOMEM;
	n->count = rf->failed_session_count;
	return MXTLS_OK;
}

/* Adds one member's policy (already checked) to m. */
static int add_policy(struct merged *m, enum tlsrpt_policy_type type,
		      const struct tlsrpt_read_policy *rp, const char *domain)
{
	struct tlsrpt_policy key = {.type = type,
				    .strings = (const char *const *)rp->policy_string,
				    .nstrings = rp->npolicy_string,
				    .mx = (const char *const *)rp->mx_host,
				    .nmx = rp->nmx_host};
	struct tlsrpt_policy *p = NULL;
	for (size_t i = 0; i < m->n && p == NULL; i++)
		if (cmp_policy(&m->p[i], &key) == 0)
			p = &m->p[i];
	if (p == NULL) {
		if (m->n == m->cap) {
			size_t cap = m->cap ? 2 * m->cap : 4;
			struct tlsrpt_policy *g = realloc(m->p, cap * sizeof *g);
			if (g == NULL)
				return MXTLS_E_NOMEM;
			m->p = g;
			m->cap = cap;
		}
		p = &m->p[m->n++];
		memset(p, 0, sizeof *p);
		p->type = type;
		if ((p->domain = strdup(domain)) == NULL ||
		    !dup_vec(rp->policy_string, rp->npolicy_string, &p->strings))
			return MXTLS_E_NOMEM;
		p->nstrings = rp->npolicy_string;
		if (!dup_vec(rp->mx_host, rp->nmx_host, &p->mx))
			return MXTLS_E_NOMEM;
		p->nmx = rp->nmx_host;
	}
	if (!add(&p->successes, rp->total_successful) || !add(&p->failures, rp->total_failure))
		return MXTLS_E_LIMIT;
	for (size_t i = 0; i < rp->nfailures; i++) {
		int rc = add_failure(p, &rp->failures[i]);
		if (rc != MXTLS_OK)
			return rc;
	}
	return MXTLS_OK;
}

/* Whether every policy of r is of domain and of a known type (else the reason in why). */
static bool usable(const struct tlsrpt_read_report *r, const char *domain, char *why, size_t whylen)
{
	for (size_t i = 0; i < r->npolicies; i++) {
		enum tlsrpt_policy_type t;
		if (!type_of(r->policies[i].policy_type, &t)) {
			snprintf(why, whylen, "policy-type %.40s", r->policies[i].policy_type);
			return false;
		}
		if (strcmp(r->policies[i].policy_domain, domain) != 0) {
			snprintf(why, whylen, "a policy of %.200s in the report of %.200s",
				 r->policies[i].policy_domain, domain);
			return false;
		}
	}
	return true;
}

int tlsrpt_fleet_merge(const char *const *json, const size_t *len, size_t n, const char *domain,
		       struct tlsrpt_day **out, size_t *skipped, char *err, size_t errlen)
{
	*out = NULL;
	if (skipped != NULL)
		*skipped = 0;
	if (n > TLSRPT_FLEET_MEMBERS_MAX) {
		snprintf(err, errlen, "%zu member reports, more than %d", n,
			 TLSRPT_FLEET_MEMBERS_MAX);
		return MXTLS_E_LIMIT;
	}
	struct tlsrpt_day *d = calloc(1, sizeof *d);
	if (d == NULL)
		return MXTLS_E_NOMEM;
	struct merged m = {NULL, 0, 0};
	int rc = MXTLS_OK;
	bool reason_kept = false;
	for (size_t i = 0; i < n && rc == MXTLS_OK; i++) {
		struct tlsrpt_read_report r;
		char why[460] = "";
		int prc = tlsrpt_read_parse(json[i], len[i], &r, why, sizeof why);
		if (prc == MXTLS_E_NOMEM) {
			rc = prc;
			break;
		}
		if (prc != MXTLS_OK || !usable(&r, domain, why, sizeof why)) {
			if (skipped != NULL)
				(*skipped)++;
			if (!reason_kept)
				snprintf(err, errlen, "a member's report left out: %s", why);
			reason_kept = true;
			tlsrpt_read_clear(&r);
			continue;
		}
		for (size_t k = 0; k < r.npolicies && rc == MXTLS_OK; k++) {
			enum tlsrpt_policy_type t = TLSRPT_POLICY_NONE;
			type_of(r.policies[k].policy_type, &t); /* usable() checked it */
			rc = add_policy(&m, t, &r.policies[k], domain);
		}
		tlsrpt_read_clear(&r);
	}
	d->policies = m.p;
	d->npolicies = m.n;
	if (rc != MXTLS_OK) {
		tlsrpt_day_free(d);
		if (rc == MXTLS_E_LIMIT)
			snprintf(err, errlen, "a count above %llu", TLSRPT_COUNT_MAX);
		return rc;
	}
	if (d->npolicies > 1) /* qsort() of an empty (NULL) array is undefined */
		qsort(d->policies, d->npolicies, sizeof *d->policies, cmp_policy);
	for (size_t i = 0; i < d->npolicies; i++)
		if (d->policies[i].ndetails > 1)
			qsort((void *)(uintptr_t)d->policies[i].details, d->policies[i].ndetails,
			      sizeof *d->policies[i].details, cmp_failure);
	*out = d;
	return MXTLS_OK;
}
