/* SPDX-License-Identifier: MIT */
/* RFC 6376 verification: DKIM-Signature and key record parsing, hashing, GnuTLS check.  Pure. */
#ifndef MXTLS_DKIM_VERIFY_H
#define MXTLS_DKIM_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Caps.  Input beyond a cap is a permerror with a reason, never a pass.
 * DKIM_VERIFY_SIGS_MAX: DKIM-Signature fields looked at per message, from the top; the rest
 *   are counted in dkim_verify_find()'s *ignored and never verified.
 * DKIM_SIG_FIELD_MAX: the longest DKIM-Signature field (name, colon, value with its folding).
 * DKIM_TAGS_MAX: tags in one tag-list (signature or key record).
 * DKIM_H_MAX: names in h= (each instance of an oversigned name counts).
 * DKIM_KEY_RECORD_MAX: the key record (the TXT strings joined by the caller).
 * DKIM_RSA_BITS_MAX / DKIM_VERIFY_RSA_BITS_MIN: RSA key sizes accepted (RFC 8301 §3.2: verifiers
 *   MUST NOT consider signatures with keys under 1024 bits valid).
 */
#define DKIM_VERIFY_SIGS_MAX     8
#define DKIM_SIG_FIELD_MAX       (16 * 1024)
#define DKIM_TAGS_MAX            32
#define DKIM_H_MAX               64
#define DKIM_KEY_RECORD_MAX      4096
#define DKIM_RSA_BITS_MAX        8192
#define DKIM_VERIFY_RSA_BITS_MIN 1024
/* d= and s= (253 octets, a DNS name), the decoded b= (an 8192-bit RSA signature) and p=, the
 * s= service list of a key record, a reason. */
#define DKIM_NAME_MAX    253
#define DKIM_B_MAX       (DKIM_RSA_BITS_MAX / 8)
#define DKIM_P_MAX       1200
#define DKIM_H_TEXT_MAX  2048
#define DKIM_SERVICE_MAX 256
#define DKIM_REASON_MAX  160

/* The verdict for one signature (RFC 6376 §6.1 SUCCESS / PERMFAIL / TEMPFAIL, with PERMFAIL
 * split into a signature that does not verify and one that cannot be evaluated). */
enum dkim_verdict {
	DKIM_PASS = 0,      /* the signature verifies with an acceptable key */
	DKIM_FAIL = 1,      /* bad signature, body hash mismatch, or expired (x=) */
	DKIM_PERMERROR = 2, /* malformed signature or key record, unacceptable or revoked key */
	DKIM_TEMPERROR = 3, /* the caller's key lookup failed temporarily (set by the caller) */
};

enum dkim_alg { DKIM_ALG_RSA_SHA256 = 1, DKIM_ALG_ED25519_SHA256 = 2 };
enum dkim_canon_alg { DKIM_CANON_SIMPLE = 0, DKIM_CANON_RELAXED = 1 };

/*
 * One DKIM-Signature field, parsed.  Filled by dkim_sig_parse() (or dkim_verify_find()) even
 * when the field is refused: status is then negative, reason says why, and domain / selector
 * hold d= and s= if they were read before the error (empty otherwise).  The offsets are into
 * the field as given to dkim_sig_parse() (dkim_verify_find(): into the message).
 */
struct dkim_sig {
	int status;                    /* MXTLS_OK, or MXTLS_E_SYNTAX / MXTLS_E_LIMIT */
	char reason[DKIM_REASON_MAX];  /* "" when status is MXTLS_OK */
	size_t field_start, field_len; /* the field, without its final line end */
	size_t b_start, b_end;         /* the b= value (after "b=", up to ';' or the end) */
	enum dkim_alg alg;
	enum dkim_canon_alg hcanon, bcanon;
	char domain[DKIM_NAME_MAX + 1];      /* d=, lower case */
	char selector[DKIM_NAME_MAX + 1];    /* s=, lower case */
	char auid_domain[DKIM_NAME_MAX + 1]; /* the domain of i= (lower case), or d= without i= */
	unsigned char b[DKIM_B_MAX];
	size_t b_len;
	unsigned char bh[32];
	char h_text[DKIM_H_TEXT_MAX]; /* the h= names, NUL-separated */
	size_t h_off[DKIM_H_MAX], h_len[DKIM_H_MAX], h_count;
	bool has_t, has_x;
	int64_t t, x;
};

/*
 * Parses one DKIM-Signature header field, field[0..len) (borrowed: the name, the colon and the
 * value with its folding, CRLF or bare LF, with or without the final line end), RFC 6376 §3.5
 * with §3.2's tag-list syntax, into *s (always written).  Returns s->status: MXTLS_OK, or
 * MXTLS_E_SYNTAX for a field that is malformed or uses what mxtls refuses (rsa-sha1, l=, a
 * q= without dns/txt, an i= outside d=, duplicate tags, ...), MXTLS_E_LIMIT past a cap; the
 * reason is in s->reason.  Pure.
 */
int dkim_sig_parse(const char *field, size_t len, struct dkim_sig *s);

/*
 * The DKIM-Signature fields of msg[0..len) (borrowed; header fields, an empty line, the body;
 * line ends CRLF or bare LF), top to bottom: at most max (<= DKIM_VERIFY_SIGS_MAX is enough)
 * are parsed into sigs[0..*n); *ignored counts those beyond max.  MXTLS_OK (with *n possibly
 * 0), MXTLS_E_SYNTAX when the header cannot be walked (a line that is not a field),
 * MXTLS_E_LIMIT past DKIM_FIELDS_MAX fields or DKIM_MESSAGE_MAX bytes; on error *n and
 * *ignored are 0.  Pure.
 */
int dkim_verify_find(const char *msg, size_t len, struct dkim_sig *sigs, size_t max, size_t *n,
		     size_t *ignored);

/*
 * The DNS name of s's key, "<s>._domainkey.<d>" (no final dot), NUL-terminated in out[0..size).
 * MXTLS_OK; MXTLS_E_INVAL when s was refused; MXTLS_E_LIMIT when it does not fit in size or is
 * longer than 253 octets.
 */
int dkim_verify_key_name(const struct dkim_sig *s, char *out, size_t size);

/* A key record (RFC 6376 §3.6.1), parsed. */
struct dkim_keyrec {
	bool ed25519; /* k=ed25519 (RFC 8463); else k=rsa, the default */
	bool revoked; /* p= empty */
	bool testing; /* t=y */
	bool strict;  /* t=s: the i= domain must be d= itself */
	unsigned char p[DKIM_P_MAX];
	size_t p_len;
	char services[DKIM_SERVICE_MAX]; /* s= as given, FWS removed; "*" when absent */
};

/*
 * Parses a key record rec[0..len) (borrowed; the caller joins the TXT strings) into *k.
 * MXTLS_OK (a revoked key parses: k->revoked), or MXTLS_E_SYNTAX (malformed, v= not DKIM1 or
 * not first, an unknown k=, an h= without sha256, no p=, duplicate tags), MXTLS_E_LIMIT past
 * DKIM_KEY_RECORD_MAX / DKIM_TAGS_MAX / DKIM_P_MAX / DKIM_SERVICE_MAX; *reason (a static
 * string) says why.  *k is set only on success.  Pure.
 */
int dkim_key_parse(const char *rec, size_t len, struct dkim_keyrec *k, const char **reason);

/*
 * Whether k may be used for service (e.g. "tlsrpt", "email"; borrowed): s= absent, "*", or a
 * colon-separated list naming service (RFC 6376 §3.6.1, RFC 8460 §3).
 */
bool dkim_key_allows_service(const struct dkim_keyrec *k, const char *service);

/* The outcome for one signature. */
struct dkim_result {
	enum dkim_verdict verdict;
	bool testing;                     /* the key says t=y (RFC 6376 §3.6.1: such a
					     signature MUST be treated as unsigned) */
	char domain[DKIM_NAME_MAX + 1];   /* d=, or "" when not read */
	char selector[DKIM_NAME_MAX + 1]; /* s=, or "" */
	char reason[DKIM_REASON_MAX];     /* one line; "" for a pass */
};

/*
 * Verifies signature s, found in msg[0..len) by dkim_verify_find() (all borrowed), with the key
 * record rec[0..rec_len) that the caller found at dkim_verify_key_name(s), for service (e.g.
 * "tlsrpt"), at now (Unix seconds, injected).  Writes *r:
 *   permerror: s refused by the parser, a key record that is malformed, revoked, of another
 *     algorithm than a=, not for service, t=s with i= in a subdomain, RSA under 1024 or over
 *     DKIM_RSA_BITS_MAX bits, a message past a cap;
 *   fail: x= before now, body hash mismatch, signature not verifying;
 *   pass otherwise.
 * Pure apart from GnuTLS (no clock, no I/O).
 */
void dkim_verify(const char *msg, size_t len, const struct dkim_sig *s, const char *rec,
		 size_t rec_len, const char *service, int64_t now, struct dkim_result *r);

/*
 * The result when the caller's lookup of s's key gave no record: temporary (SERVFAIL, timeout,
 * a bogus DNSSEC answer) gives DKIM_TEMPERROR, otherwise (NXDOMAIN, no TXT) DKIM_PERMERROR
 * (RFC 6376 §6.1.2); why (borrowed, may be NULL) goes into the reason.
 */
void dkim_verify_no_key(const struct dkim_sig *s, bool temporary, const char *why,
			struct dkim_result *r);

/* "pass", "fail", "permerror", "temperror".  Static string. */
const char *dkim_verdict_name(enum dkim_verdict v);

#endif
