/* SPDX-License-Identifier: MIT */
/* The MTA-STS policy file (RFC 8461 §3.2): a strict parser of its grammar.  Pure. */
#ifndef MXTLS_STS_POLICY_H
#define MXTLS_STS_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "sts/sts_problem.h"

/* The largest policy body accepted (RFC 8461 §3.3 suggests 64 KB); a larger one is an error. */
#define STS_POLICY_MAX 65536
/* The most mx patterns a policy can hold: implied by STS_POLICY_MAX, never a cap of its own
 * (the shortest mx line, "mx:a" and LF, is 5 bytes; the last needs no LF).  A count cap below
 * what the bytes allow would reject a valid enforce policy, which is a downgrade (issue 14). */
#define STS_POLICY_MX_MAX (STS_POLICY_MAX / 5 + 1)
/* The longest mx pattern: "*." plus a 253-character domain. */
#define STS_POLICY_MX_LEN_MAX 255
/* RFC 8461 §3.2: max_age has a maximum value of 31557600 (one year); larger values are
 * clamped to it with a warning (mxtls decision D3). */
#define STS_POLICY_MAX_AGE_MAX 31557600u

enum sts_mode {
	STS_MODE_ENFORCE = 1,
	STS_MODE_TESTING = 2,
	STS_MODE_NONE = 3,
};

/* A valid policy. */
struct sts_policy {
	const char *version; /* static "STSv1" */
	enum sts_mode mode;
	uint32_t max_age; /* seconds, at most STS_POLICY_MAX_AGE_MAX */
	char **mx;        /* owned: nmx NUL-terminated patterns as written ("*.x" or "x") */
	size_t nmx;       /* >= 1 unless mode is STS_MODE_NONE */
	struct sts_problems warnings; /* accepted deviations: clamped max_age, duplicates, ... */
};

/*
 * Parses a policy body (p, len; borrowed; any bytes).  On MXTLS_OK *out is set; release it
 * with sts_policy_clear().  Otherwise *out is untouched and the result is MXTLS_E_SYNTAX (the
 * policy is invalid), MXTLS_E_LIMIT (larger than STS_POLICY_MAX: also invalid) or
 * MXTLS_E_NOMEM.
 * report (may be NULL) is always filled: every error found (reason and 1-based line; problems
 * that concern the whole policy, such as a missing field, carry the last line's number) and
 * every warning.  Lines may end in LF or CRLF, the last one need not end at all; a bare CR, a
 * NUL byte, an empty line, or a line outside the grammar makes the policy invalid.
 */
int sts_policy_parse(const void *p, size_t len, struct sts_policy *out, struct sts_report *report);

/* Frees what policy owns and zeroes it; NULL is a no-op. */
void sts_policy_clear(struct sts_policy *policy);

/* "enforce", "testing", "none"; NULL for a value outside the enum. Static. */
const char *sts_policy_mode_name(enum sts_mode mode);

#endif
