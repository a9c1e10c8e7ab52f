/* SPDX-License-Identifier: MIT */
/* The RFC 8460 §4 result of one delivery session, from the decision that governed it. */
#include "delivery/delivery_tlsrpt_result.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* The lines of an MTA-STS policy body (LF or CRLF ends; RFC 8460 §4.5: "one string per
 * line"), as spans of text into a copy the caller frees.  Empty lines (none in a valid
 * policy) are left out. */
static char **policy_lines(const char *text, size_t len, char **copy, size_t *n)
{
	*n = 0;
	*copy = NULL;
	if (text == NULL || len == 0)
		return NULL;
	char *c = malloc(len + 1);
	char **v = calloc(len / 2 + 2, sizeof *v); /* a line takes at least two bytes */
	if (c == NULL || v == NULL) {
		free(c);
		free(v);
		return NULL;
	}
	memcpy(c, text, len);
	c[len] = '\0';
	for (char *p = c; p < c + len;) {
		char *e = memchr(p, '\n', (size_t)(c + len - p));
		char *end = e != NULL ? e : c + len;
		if (end > p && end[-1] == '\r')
			end[-1] = '\0';
		*end = '\0';
		if (*p != '\0')
			v[(*n)++] = p;
		p = end + 1;
	}
	*copy = c;
	return v;
}

static bool is_tlsa(enum decision_security s)
{
	return s == SEC_DANE || s == SEC_DANE_ENCRYPT;
}

static bool is_sts(enum decision_security s)
{
	return s == SEC_MTA_STS || s == SEC_MTA_STS_TESTING || s == SEC_EXCLUDED;
}

bool deliver_tlsrpt_emit(const struct deliver_tlsrpt_facts *f, deliver_tlsrpt_fn fn, void *arg)
{
	const struct decision *d = f->d;
	const struct decision_host *h = f->h;
	char ip[INET6_ADDRSTRLEN] = "";
	if (f->addr != NULL &&
	    inet_ntop(f->addr->family, f->addr->addr, ip, sizeof ip) == NULL)
		ip[0] = '\0';
	struct tlsrpt_failure fail = {
		.result_type = mxtls_result_name(f->result),
		.sending_mta_ip = f->local_ip,
		.receiving_mx_hostname = h != NULL ? h->name : NULL,
		.receiving_mx_helo = f->helo,
		.receiving_ip = ip[0] != '\0' ? ip : NULL,
		.failure_reason_code = f->reason_code,
	};
	struct tlsrpt_result r = {
		.domain = d->domain,
		.failure = f->result == MXTLS_RESULT_OK ? NULL : &fail,
	};
	const char *mx1[1];
	const char **strings = NULL;
	char *copy = NULL;
	bool ok = true;
	if (h != NULL && is_tlsa(h->security) && h->dane != NULL) {
		/* The TLSA base domain (RFC 7672 §2.2.3) is the policy domain of a DANE host. */
		r.type = TLSRPT_POLICY_TLSA;
		if (h->dane->tbd[0] != '\0')
			r.domain = h->dane->tbd;
		strings = calloc(h->dane->ntlsa + 1, sizeof *strings);
		ok = strings != NULL;
		for (size_t i = 0; ok && i < h->dane->ntlsa; i++)
			if (h->dane->tlsa[i].text != NULL)
				strings[r.nstrings++] = h->dane->tlsa[i].text;
		r.strings = strings;
		mx1[0] = h->name;
		r.mx = mx1;
		r.nmx = 1;
	} else if (h != NULL && h->security == SEC_UNREACHABLE && h->dane != NULL &&
		   h->dane->tlsa_failed) {
		/* The TLSA lookup failed: no valid records came from the resolver (RFC 8460
		 * §4.3.2 dnssec-invalid); the host is the only base domain known. */
		r.type = TLSRPT_POLICY_TLSA;
		r.domain = h->dane->expanded[0] != '\0' ? h->dane->expanded : h->name;
		mx1[0] = h->name;
		r.mx = mx1;
		r.nmx = 1;
	} else if (h == NULL || is_sts(h->security)) {
		r.type = TLSRPT_POLICY_STS;
		const struct sts_resolve_result *sts = f->sts;
		if (sts != NULL && sts->source != STS_SOURCE_NONE) {
			size_t n;
			strings = (const char **)policy_lines(sts->policy.text, sts->policy.len,
							      &copy, &n);
			ok = strings != NULL || n == 0;
			r.strings = strings;
			r.nstrings = n;
			r.mx = (const char *const *)sts->policy.mx;
			r.nmx = sts->policy.nmx;
		}
	} else {
		r.type = TLSRPT_POLICY_NONE;
	}
	if (ok)
		fn(arg, &r);
	free(strings);
	free(copy);
	return ok;
}

bool deliver_tlsrpt_skip(const struct decision_host *h, enum mxtls_result *result,
			 const char **code)
{
	if (h->security == SEC_EXCLUDED) {
		*result = MXTLS_RESULT_VALIDATION_FAILURE; /* D10 */
		*code = "mx not in the MTA-STS policy";
		return true;
	}
	if (h->security == SEC_UNREACHABLE && h->dane != NULL && h->dane->tlsa_failed) {
		*result = MXTLS_RESULT_DNSSEC_INVALID;
		*code = h->dane->reason;
		return true;
	}
	return false;
}

bool deliver_tlsrpt_discovery_failed(const struct sts_resolve_result *sts,
				     enum mxtls_result *result, const char **code)
{
	if (sts == NULL || !sts->fetched || sts->fetch_result == MXTLS_RESULT_OK)
		return false;
	*result = sts->fetch_result;
	*code = sts->fetch_error;
	return true;
}
