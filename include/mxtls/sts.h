/* SPDX-License-Identifier: MIT */
/* MTA-STS (RFC 8461) linting: a policy file or _mta-sts TXT records checked by the sender's rules.
 */
#ifndef MXTLS_STS_H
#define MXTLS_STS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MXTLS_API
#define MXTLS_API __attribute__((visibility("default")))
#endif

/* The largest policy body mxtls accepts; a larger one is invalid (never truncated). */
#define MXTLS_STS_POLICY_MAX 65536

/* The outcome of a lint: the verdict, every problem found, and what was parsed. */
struct mxtls_sts_lint;

/*
 * Checks a policy body (text, len; borrowed; any bytes, need not be NUL-terminated) with
 * exactly the rules mxtls applies to a fetched policy (RFC 8461 §3.2 grammar; LF or CRLF line
 * ends; max_age above 31557600 clamped with a warning).  On success *out is set, whatever the
 * verdict; caller frees it with mxtls_sts_lint_free().  Returns MXTLS_OK, MXTLS_E_INVAL,
 * MXTLS_E_NOMEM.
 */
MXTLS_API int mxtls_sts_lint_policy(const char *text, size_t len, struct mxtls_sts_lint **out);

/*
 * Checks the n TXT records found at _mta-sts.<domain> (records[i] of lens[i] bytes, each the
 * joined character-strings of one record; borrowed): RFC 8461 §3.1 selection (records not
 * beginning with "v=STSv1;" are discarded, exactly one must remain) and grammar.  n may be 1.
 * As mxtls_sts_lint_policy() otherwise.
 */
MXTLS_API int mxtls_sts_lint_txt(const char *const *records, const size_t *lens, size_t n,
				 struct mxtls_sts_lint **out);

/* Frees l; NULL is a no-op. */
MXTLS_API void mxtls_sts_lint_free(struct mxtls_sts_lint *l);

/* 1 when a sender would use the policy (or discover a policy through the records), else 0. */
MXTLS_API int mxtls_sts_lint_valid(const struct mxtls_sts_lint *l);

/* The number of errors (0 when valid) and of warnings. */
MXTLS_API size_t mxtls_sts_lint_errors(const struct mxtls_sts_lint *l);
MXTLS_API size_t mxtls_sts_lint_warnings(const struct mxtls_sts_lint *l);

/*
 * Error or warning i: its reason (static English text), or NULL when i is out of range.
 * *line (may be NULL) receives the 1-based line of a policy, or for TXT records the 1-based
 * position of the record in the input; 0 for a problem of the input as a whole (such as "more
 * problems than listed").  *column (may be NULL) receives the 1-based byte offset in that line
 * or record, 0 when the problem concerns all of it.
 */
MXTLS_API const char *mxtls_sts_lint_error(const struct mxtls_sts_lint *l, size_t i, unsigned *line,
					   unsigned *column);
MXTLS_API const char *mxtls_sts_lint_warning(const struct mxtls_sts_lint *l, size_t i,
					     unsigned *line, unsigned *column);

/* The parsed policy of a valid lint (NULL / -1 / 0 otherwise, and for TXT records): version
 * ("STSv1"), mode ("enforce", "testing" or "none"), max_age in seconds, and the mx patterns as
 * written.  Strings are borrowed from l. */
MXTLS_API const char *mxtls_sts_lint_version(const struct mxtls_sts_lint *l);
MXTLS_API const char *mxtls_sts_lint_mode(const struct mxtls_sts_lint *l);
MXTLS_API int64_t mxtls_sts_lint_max_age(const struct mxtls_sts_lint *l);
MXTLS_API size_t mxtls_sts_lint_mx_count(const struct mxtls_sts_lint *l);
MXTLS_API const char *mxtls_sts_lint_mx(const struct mxtls_sts_lint *l, size_t i);

/*
 * RFC 8461 §4.1: the index of the first mx pattern of a valid policy lint that the MX host
 * name host (NUL-terminated, borrowed) matches ("*." stands for exactly one left-most label;
 * case and one trailing dot are ignored), or -1 when none does (or l holds no policy).
 */
MXTLS_API int mxtls_sts_lint_mx_match(const struct mxtls_sts_lint *l, const char *host);

/* The policy id of a valid TXT lint (1-32 letters and digits), else NULL.  Borrowed from l. */
MXTLS_API const char *mxtls_sts_lint_id(const struct mxtls_sts_lint *l);

#ifdef __cplusplus
}
#endif
#endif
