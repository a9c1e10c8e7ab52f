/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the MTA-STS policy parser (sts/sts_policy.c) and mx pattern matching
 * (sts/sts_mx.c) on what it accepts. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <mxtls/error.h>

#include "sts/sts_mx.h"
#include "sts/sts_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The number of lines in the input, as the parser counts them. */
static size_t count_lines(const uint8_t *data, size_t size)
{
	size_t lines = 0;
	for (size_t i = 0; i < size && i < STS_POLICY_MAX; i++)
		lines += data[i] == '\n';
	return lines + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sts_policy pol;
	struct sts_report rep;
	int rc = sts_policy_parse(data, size, &pol, &rep);
	size_t lines = count_lines(data, size);
	/* Invariants: every problem has a reason and a line inside the input. */
	for (size_t i = 0; i < rep.errors.n; i++) {
		if (rep.errors.item[i].reason == NULL || rep.errors.item[i].line < 1 ||
		    rep.errors.item[i].line > lines)
			__builtin_trap();
	}
	for (size_t i = 0; i < rep.warnings.n; i++) {
		if (rep.warnings.item[i].reason == NULL || rep.warnings.item[i].line < 1 ||
		    rep.warnings.item[i].line > lines)
			__builtin_trap();
	}
	if (rc != MXTLS_OK) {
		if ((rc != MXTLS_E_SYNTAX && rc != MXTLS_E_LIMIT && rc != MXTLS_E_NOMEM) ||
		    (rc != MXTLS_E_NOMEM && rep.errors.n == 0))
			__builtin_trap();
		return 0;
	}
	/* A valid policy: no errors, no NUL, sane fields; each pattern covers a host built
	 * from it, and "*" never covers its own parent domain. */
	if (rep.errors.n != 0 || size > STS_POLICY_MAX || memchr(data, '\0', size) != NULL ||
	    pol.max_age > STS_POLICY_MAX_AGE_MAX || sts_policy_mode_name(pol.mode) == NULL ||
	    (pol.mode != STS_MODE_NONE && pol.nmx == 0) || pol.nmx > STS_POLICY_MX_MAX)
		__builtin_trap();
	for (size_t i = 0; i < pol.nmx; i++) {
		const char *p = pol.mx[i];
		size_t n = strlen(p);
		if (n == 0 || n > STS_POLICY_MX_LEN_MAX)
			__builtin_trap();
		char host[STS_POLICY_MX_LEN_MAX + 8];
		if (p[0] == '*' && n <= 252) { /* "mx" + pattern without "*" is a host name */
			snprintf(host, sizeof host, "mx%s", p + 1);
			if (!sts_mx_match(p, n, host, strlen(host)) ||
			    sts_mx_match(p, n, p + 2, n - 2) ||
			    !sts_mx_match_policy(&pol, host, strlen(host), NULL))
				__builtin_trap();
		} else if (p[0] != '*' && !sts_mx_match(p, n, p, n)) {
			__builtin_trap();
		}
	}
	sts_policy_clear(&pol);
	return 0;
}
