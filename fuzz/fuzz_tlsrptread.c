/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: a TLS report as received (tlsrpt/tlsrpt_read.c): the input parsed as JSON
 * (tlsrpt_read_parse), and inflated as gzip under a cap taken from its first byte
 * (tlsrpt_read_gunzip), the output then parsed too. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "tlsrpt/tlsrpt_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-free string; lower case (lower >= 1) and without a trailing dot (lower == 2: a domain
 * name) when the reader normalises it. */
static void check_string(const char *s, int lower)
{
	if (s == NULL)
		__builtin_trap();
	size_t n = strlen(s);
	int domain = lower == 2;
	for (size_t i = 0; lower && i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			__builtin_trap();
	if (domain && n > 0 && s[n - 1] == '.' && (n < 2 || s[n - 2] != '.'))
		__builtin_trap(); /* one trailing dot is dropped; only ".." can leave one */
}

/* Invariants of a result: OK has the required members within the caps; a failure a one-line
 * reason (for SYNTAX and LIMIT) and an empty report. */
static void check(const struct tlsrpt_read_report *r, int rc, const char *err)
{
	if (rc != MXTLS_OK) {
		if (rc != MXTLS_E_SYNTAX && rc != MXTLS_E_LIMIT && rc != MXTLS_E_NOMEM)
			__builtin_trap();
		if (rc != MXTLS_E_NOMEM && (err[0] == '\0' || strchr(err, '\n') != NULL))
			__builtin_trap();
		if (r->policies != NULL || r->npolicies != 0 || r->organization_name != NULL ||
		    r->report_id != NULL || r->contact_info != NULL || r->quirks != 0)
			__builtin_trap();
		return;
	}
	if (r->organization_name[0] == '\0' || r->report_id[0] == '\0' || r->start > r->end ||
	    r->npolicies == 0 || r->npolicies > TLSRPT_READ_POLICIES_MAX || r->quirks > 0x1ff)
		__builtin_trap();
	if (r->contact_info != NULL && (r->quirks & TLSRPT_QUIRK_CONTACT_NULL))
		__builtin_trap();
	size_t nf = 0, ns = 0;
	for (size_t i = 0; i < r->npolicies; i++) {
		const struct tlsrpt_read_policy *p = &r->policies[i];
		check_string(p->policy_type, 1); /* lower case only */
		check_string(p->policy_domain, 2);
		/* "" only for a no-policy-found policy that named no domain, with its quirk */
		if ((p->policy_domain[0] == '\0' &&
		     (strcmp(p->policy_type, "no-policy-found") != 0 ||
		      !(r->quirks & TLSRPT_QUIRK_NO_POLICY_DOMAIN))) ||
		    p->total_successful > 9007199254740991ULL || p->total_failure > 9007199254740991ULL)
			__builtin_trap();
		for (size_t j = 0; j < p->npolicy_string; j++)
			check_string(p->policy_string[j], 0);
		for (size_t j = 0; j < p->nmx_host; j++)
			check_string(p->mx_host[j], 2);
		for (size_t j = 0; j < p->nfailures; j++) {
			const struct tlsrpt_read_failure *f = &p->failures[j];
			check_string(f->result_type, 1);
			if (f->receiving_mx_hostname != NULL)
				check_string(f->receiving_mx_hostname, 2);
			if (f->sending_mta_ip == NULL && !(r->quirks & TLSRPT_QUIRK_NO_SENDING_IP))
				__builtin_trap();
			if (f->failed_session_count > 9007199254740991ULL)
				__builtin_trap();
		}
		nf += p->nfailures;
		ns += p->npolicy_string + p->nmx_host;
	}
	if (nf > TLSRPT_READ_FAILURES_MAX || ns > TLSRPT_READ_STRINGS_MAX)
		__builtin_trap();
}

static void parse(const char *json, size_t len)
{
	struct tlsrpt_read_report r;
	char err[256];
	memset(&r, 0xa5, sizeof r);
	int rc = tlsrpt_read_parse(json, len, &r, err, sizeof err);
	check(&r, rc, err);
	tlsrpt_read_clear(&r);
	/* a second parse gives the same verdict (pure) */
	if (tlsrpt_read_parse(json, len, &r, NULL, 0) != rc)
		__builtin_trap();
	tlsrpt_read_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse((const char *)data, size);

	/* gzip: the first byte picks the cap (0 to 255 KiB in 1 KiB steps, 255: the real cap) */
	if (size == 0)
		return 0;
	size_t cap = data[0] == 255 ? TLSRPT_READ_JSON_MAX : (size_t)data[0] * 1024;
	char *out = (char *)0x1;
	size_t outlen = 3;
	int rc = tlsrpt_read_gunzip(data + 1, size - 1, cap, &out, &outlen);
	if (rc == MXTLS_OK) {
		if (outlen > cap || out[outlen] != '\0')
			__builtin_trap();
		parse(out, outlen);
		free(out);
	} else if ((rc != MXTLS_E_SYNTAX && rc != MXTLS_E_LIMIT && rc != MXTLS_E_NOMEM) ||
		   out != (char *)0x1 || outlen != 3) {
		__builtin_trap();
	}
	return 0;
}
