/* SPDX-License-Identifier: MIT */
/* From a delivery decision to the answer Postfix's smtp_tls_policy_maps understands. */
#ifndef MXTLS_POLICYD_ANSWER_H
#define MXTLS_POLICYD_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mxtls/check.h>

/* The longest answer payload: Postfix refuses socketmap replies over socketmap_max_reply_size
 * (100000 bytes by default), netstring framing included.  Issue 14: the old 16384 could not
 * hold the match= list of a valid 64 KiB policy; an answer that does not fit is TEMP (closed). */
#define POLICYD_ANSWER_MAX (100000 - 16)
/* As many hosts as a decision has (MX_LOOKUP_HOSTS_MAX); policy patterns are not capped. */
#define POLICYD_FACTS_HOSTS_MAX 32

enum policyd_host_security {
	POLICYD_SEC_DANE,          /* secure usable TLSA */
	POLICYD_SEC_DANE_ENCRYPT,  /* secure TLSA, all unusable: encryption required */
	POLICYD_SEC_MTA_STS,
	POLICYD_SEC_MTA_STS_TESTING,
	POLICYD_SEC_OPPORTUNISTIC,
	POLICYD_SEC_EXCLUDED,      /* STS enforce, the host matches no pattern */
	POLICYD_SEC_UNREACHABLE,   /* a DNS error: never contacted */
};

enum policyd_mode {
	POLICYD_MODE_DECIDED,       /* MX hosts known: see hosts[] and the policy */
	POLICYD_MODE_TEMPFAIL,      /* lookups failed: defer */
	POLICYD_MODE_UNDELIVERABLE, /* NXDOMAIN or null MX: Postfix bounces on its own */
};

/* What the answer is made from: the parts of a decision that matter to Postfix.  Strings are
 * borrowed (from the decision, or from a test's table). */
struct policyd_facts {
	const char *domain;
	enum policyd_mode mode;
	const char *reason;         /* one line, for TEMP */
	size_t nhosts;
	struct {
		const char *name;
		enum policyd_host_security security;
		int sts_match;      /* 1 / 0 when an enforce or testing policy lists / does not
				     * list the host; -1 without one */
	} hosts[POLICYD_FACTS_HOSTS_MAX];
	const char *sts_mode;       /* "enforce", "testing", "none"; NULL without a policy */
	size_t npatterns;
	const char *const *patterns; /* the policy's mx lines, in order (unique, as the parser
				      * keeps them); borrowed, or owned when from a decision */
	int64_t max_age;
	const char **owned;         /* what policyd_facts_clear() frees */
};

struct policyd_answer_opts {
	bool tlsrpt;    /* add Postfix 3.10 TLSRPT attributes to MTA-STS answers */
	bool fail_open; /* this domain answers NOTFOUND instead of TEMP */
};

/* Fills *f from d (borrowed: f points into d, which must outlive it; release f with
 * policyd_facts_clear()).  Returns 0, or -1 when d has more hosts than the facts hold or
 * memory ran out (then the answer must be TEMP). */
int policyd_facts_from_decision(const struct mxtls_decision *d, struct policyd_facts *f);

/* Frees what policyd_facts_from_decision() allocated; a table's facts own nothing. */
void policyd_facts_clear(struct policyd_facts *f);

/*
 * The socketmap reply payload for f (without netstring framing), written to out (outlen
 * bytes, NUL-terminated): "OK dane-only", "OK dane", "OK secure match=... servername=hostname",
 * "NOTFOUND " or "TEMP <reason>"; see doc/policyd.md for the rules and why.  Returns the length,
 * or 0 when out is too small.  Pure.
 */
size_t policyd_answer(const struct policyd_facts *f, const struct policyd_answer_opts *o, char *out,
		      size_t outlen);

#endif
