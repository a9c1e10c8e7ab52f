/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the fleet's TLS report merge (tlsrpt/tlsrpt_fleet.c, issue 20).  The input
 * is up to 8 members' copies separated by 0xff bytes (a byte no UTF-8 JSON holds), merged for
 * the domain example.test; the result must be one the report writer takes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "tlsrpt/tlsrpt_fleet.h"
#include "tlsrpt/tlsrpt_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *json[8];
	size_t len[8], n = 0, start = 0;
	for (size_t i = 0; i <= size && n < 8; i++)
		if (i == size || data[i] == 0xff) {
			json[n] = (const char *)data + start;
			len[n++] = i - start;
			start = i + 1;
		}
	struct tlsrpt_day *d = NULL;
	size_t skipped = 0;
	char err[512] = "";
	int rc = tlsrpt_fleet_merge(json, len, n, "example.test", &d, &skipped, err, sizeof err);
	if (rc != MXTLS_OK) {
		if ((rc != MXTLS_E_LIMIT && rc != MXTLS_E_NOMEM) || d != NULL)
			__builtin_trap();
		return 0;
	}
	if (skipped > n || (skipped > 0 && err[0] == '\0'))
		__builtin_trap();
	for (size_t i = 0; i < d->npolicies; i++) {
		const struct tlsrpt_policy *p = &d->policies[i];
		if (strcmp(p->domain, "example.test") != 0 || p->successes > TLSRPT_COUNT_MAX ||
		    p->failures > TLSRPT_COUNT_MAX)
			__builtin_trap();
		for (size_t k = 0; k < p->ndetails; k++)
			if (p->details[k].result_type == NULL || p->details[k].count > TLSRPT_COUNT_MAX)
				__builtin_trap();
	}
	if (d->npolicies > 0) {
		struct tlsrpt_report_in in = {.organization = "o",
					      .contact = "a@b.test",
					      .submitter = "b.test",
					      .day = 20000,
					      .policies = d->policies,
					      .npolicies = d->npolicies};
		char *out;
		size_t outlen;
		int wrc = tlsrpt_report_json(&in, &out, &outlen);
		if (wrc == MXTLS_OK)
			free(out);
		else if (wrc != MXTLS_E_LIMIT && wrc != MXTLS_E_NOMEM)
			__builtin_trap(); /* the merge let through what the writer refuses */
	}
	tlsrpt_day_free(d);
	return 0;
}
