/* SPDX-License-Identifier: MIT */
/* What a domain owner publishes (mxtls publish): policy file, TXT and TLSA lines.  Pure. */
#ifndef MXTLS_OWNER_PUBLISH_TEXT_H
#define MXTLS_OWNER_PUBLISH_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sts/sts_policy.h"

/*
 * max_age of the policies publish writes.  RFC 8461 §3.2 expects "weeks or greater".
 * testing: one week, the lowest value in that range (a testing policy is edited while the
 * reports come in, and a stale cached copy costs nothing: failures are only reported).
 * enforce: two weeks, long enough that an attacker who blocks the policy host for days cannot
 * make senders forget the policy, short enough that a wrong policy ages out in a fortnight.
 */
#define OWNER_MAX_AGE_TESTING 604800u
#define OWNER_MAX_AGE_ENFORCE 1209600u

/* A policy id: 14 digits of UTC time (YYYYMMDDhhmmss) and 16 hex digits of a hash of the
 * policy text (RFC 8461 §3.1: 1-32 letters and digits). */
#define OWNER_ID_LEN 30

/*
 * The policy file (RFC 8461 §3.2) for mode (enforce or testing) with one literal mx line per
 * name of mx[0..nmx) (borrowed; canonicalised to lower case without the root dot, duplicates
 * dropped, order kept).  Never a "*." pattern: a wildcard would also cover hosts that are not
 * MX hosts today and whose certificates publish has not seen (§10.4), and it matches a single
 * label only, so it saves nothing over listing the hosts.  Lines end in CRLF, the ABNF's line
 * end (every sender accepts it; LF-only is an erratum).  The text is parsed back with the
 * sender's parser (sts_policy_parse()) before it is returned.
 * On success *out (caller frees with free()) is set.  Returns MXTLS_OK, MXTLS_E_INVAL (no
 * names, a mode other than enforce/testing), MXTLS_E_SYNTAX (a name that is not a host name,
 * or text the parser rejects: a bug), MXTLS_E_NOMEM.
 */
int owner_policy_text(enum sts_mode mode, const char *const *mx, size_t nmx, char **out);

/* The id for policy text (p, len) at time now (Unix seconds, UTC) into out (NUL-terminated):
 * the same text at the same second gives the same id, any other text another id. */
void owner_policy_id(const char *p, size_t len, int64_t now, char out[OWNER_ID_LEN + 1]);

/*
 * The id to publish for the policy text (p, len): prev_id when the previously published
 * policy (prev, prevlen; NULL when there is none) is byte for byte the same text and prev_id is
 * a valid id (1-32 letters and digits), so re-running publish is idempotent; otherwise a new
 * one from owner_policy_id().  out gets STS_TXT_ID_MAX + 1 bytes.  Returns true when prev_id
 * was kept.
 */
bool owner_policy_id_choose(const char *p, size_t len, const char *prev, size_t prevlen,
			    const char *prev_id, int64_t now, char out[33]);

/*
 * Finds the id of the _mta-sts record of domain in a zone text written by publish before
 * (zone, len; borrowed, untrusted): the line "_mta-sts.<domain>. IN TXT "v=STSv1; id=<id>"".
 * Returns true and fills out (33 bytes) when found and valid.
 */
bool owner_zone_prev_id(const char *zone, size_t len, const char *domain, char out[33]);

/* The TXT data "v=STSv1; id=<id>" for id (1-32 letters and digits), parsed back with
 * sts_txt_parse().  *out caller frees.  MXTLS_OK, MXTLS_E_SYNTAX (bad id), MXTLS_E_NOMEM. */
int owner_sts_txt(const char *id, char **out);

/*
 * The _smtp._tls TXT data (RFC 8460 §3) for the report URIs rua[0..n) (n >= 1): one record
 * "v=TLSRPTv1; rua=URI,URI" (a second record would make senders send no reports at all).
 * Each URI must be "mailto:" with an address (a local part of letters, digits, the slash
 * and .-_+=%'*?^`{|}~#$&; a host name) or "https://" with a host name, an optional port and
 * path; commas, "!", ";", spaces, quotes, backslashes and controls are refused (§3: "," and
 * "!" must be percent-encoded).  owner/ may not include tlsrpt/ (ARCHITECTURE.md), so this is
 * a small check of its own; the unit tests parse every record it builds with tlsrpt_rua_parse().
 * *out caller frees.  MXTLS_OK, MXTLS_E_SYNTAX (*why, static, says which URI is bad and how),
 * MXTLS_E_INVAL (n == 0), MXTLS_E_LIMIT (record longer than 8192), MXTLS_E_NOMEM.
 */
int owner_tlsrpt_txt(const char *const *rua, size_t n, char **out, const char **why);

/*
 * A zone-file line "<owner>. IN TXT "<s1>" "<s2>"..." for the TXT data text (printable ASCII
 * without '"' and '\\'), split into character-strings of at most 255 bytes (RFC 1035 §3.3).
 * *out caller frees (no newline).  MXTLS_OK, MXTLS_E_SYNTAX, MXTLS_E_NOMEM.
 */
int owner_txt_line(const char *owner, const char *text, char **out);

/* "_25._tcp.<host>. IN TLSA <rdata>" (RFC 7672 §2.2: port 25, TCP) for rdata "U S M hex".
 * *out caller frees (no newline).  MXTLS_OK, MXTLS_E_SYNTAX (host), MXTLS_E_NOMEM. */
int owner_tlsa_line(const char *host, const char *rdata, char **out);

/* One MX host as publish saw it. */
struct owner_host {
	const char *name; /* canonical host name */
	unsigned preference;
	bool dnssec;             /* MX and address lookups secure: senders look up its TLSA */
	const char *const *tlsa; /* "3 1 1 hex" of each key presented now (one per distinct key
				    over the host's addresses) */
	size_t ntlsa;
	const char *issuer; /* "2 1 1 hex" of the next certificate of the chain, or NULL */
};

/* What publish prints, gathered. */
struct owner_publish_view {
	const char *domain; /* canonical */
	const char *policy; /* the policy file text */
	enum sts_mode mode;
	const char *id;
	bool id_reused;
	const char *sts_txt;    /* owner_sts_txt() */
	const char *tlsrpt_txt; /* owner_tlsrpt_txt(), or NULL */
	const struct owner_host *hosts;
	size_t nhosts;
	int64_t now;
};

/* The zone-file text: records with comments (";") on the order of publication, the hosts
 * in unsigned zones (their TLSA lines commented out) and rollover advice.  *out caller frees.
 * MXTLS_OK, MXTLS_E_SYNTAX (a name), MXTLS_E_NOMEM. */
int owner_zone_text(const struct owner_publish_view *v, char **out);

#endif
