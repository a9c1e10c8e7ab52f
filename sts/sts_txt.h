/* SPDX-License-Identifier: MIT */
/* The _mta-sts TXT record (RFC 8461 §3.1): owner name, record selection and parsing.  Pure. */
#ifndef MXTLS_STS_TXT_H
#define MXTLS_STS_TXT_H

#include <stdbool.h>
#include <stddef.h>

#include "sts/sts_problem.h"

/* The longest policy id (RFC 8461 §3.1: sts-id = "id=" 1*32(ALPHA / DIGIT)). */
#define STS_TXT_ID_MAX 32

/* The longest record text looked at: a TXT RRset cannot carry more in one DNS message. */
#define STS_TXT_MAX 65535

/* A parsed, valid record. */
struct sts_txt {
	char id[STS_TXT_ID_MAX + 1];  /* NUL-terminated, 1-32 letters and digits */
	struct sts_problems warnings; /* accepted deviations (e.g. D4 "v=STSv1 ;") */
};

/*
 * Parses one record's text (p, len; borrowed; the character-strings of one TXT record already
 * joined without separators, RFC 8461 §3.1).  On MXTLS_OK *out is set.  Otherwise *out is
 * untouched and the function returns MXTLS_E_SYNTAX (the record is invalid: no policy is
 * discovered through it) or MXTLS_E_LIMIT (longer than STS_TXT_MAX).  report (may be NULL) is
 * always filled: the errors that made the record invalid (each with a reason and the 1-based
 * column) and the warnings.
 */
int sts_txt_parse(const char *p, size_t len, struct sts_txt *out, struct sts_report *report);

/*
 * True when (p, len) takes part in record selection: RFC 8461 §3.1 keeps only records that
 * begin with "v=STSv1;" (and mxtls decision D4 also keeps "v=STSv1" *WSP ";").
 */
bool sts_txt_is_candidate(const char *p, size_t len);

/* One TXT record's joined text (borrowed). */
struct sts_txt_span {
	const char *p;
	size_t len;
};

enum sts_txt_choice {
	STS_TXT_NONE = 0, /* no record begins with v=STSv1;: the domain has no MTA-STS */
	STS_TXT_ONE = 1,  /* exactly one: parse records[*index] */
	STS_TXT_MANY = 2, /* more than one: no policy is available (RFC 8461 §3.1) */
};

/*
 * RFC 8461 §3.1 record selection over the n records of one RRset (borrowed): discards those
 * that are not candidates (sts_txt_is_candidate()) and says whether none, exactly one or more
 * than one is left.  With STS_TXT_ONE, *index (may be NULL) is that record's position.
 */
enum sts_txt_choice sts_txt_select(const struct sts_txt_span *records, size_t n, size_t *index);

/*
 * Writes the owner name of a domain's record, "_mta-sts." + domain (RFC 8461 §3.1), into out
 * (cap bytes, NUL-terminated).  domain (dlen bytes, borrowed) is a host name in presentation
 * form (A-labels); one trailing root dot is dropped.  Returns MXTLS_OK, MXTLS_E_SYNTAX (not a
 * host name), MXTLS_E_LIMIT (the owner name would exceed 253 characters, or cap is too small).
 */
int sts_txt_owner(const char *domain, size_t dlen, char *out, size_t cap);

#endif
