/* SPDX-License-Identifier: MIT */
/* RFC 6376 signing: the DKIM-Signature header field for a message, rsa-sha256 or ed25519-sha256. */
#ifndef MXTLS_DKIM_SIGN_H
#define MXTLS_DKIM_SIGN_H

#include <stddef.h>
#include <stdint.h>

/* The largest PEM key file read, and the largest message signed. */
#define DKIM_KEY_PEM_MAX (64 * 1024)
#define DKIM_MESSAGE_MAX ((size_t)1 << 30)
/* RSA keys shorter than this are refused (RFC 8301 §3.2: signers MUST use at least 1024 bits). */
#define DKIM_RSA_BITS_MIN 1024
/* The header field is folded so that no line is longer than this (RFC 5322 §2.1.1: 78). */
#define DKIM_FOLD_COLUMN 78

/* A private signing key: RSA (rsa-sha256) or Ed25519 (ed25519-sha256, RFC 8463).  Opaque. */
struct dkim_key;

/*
 * Loads a PEM private key (PKCS#1 "RSA PRIVATE KEY" or PKCS#8 "PRIVATE KEY", unencrypted) from
 * pem[0..len) (borrowed).  On success *out receives a key the caller frees with dkim_key_free().
 * MXTLS_E_SYNTAX for text that is not such a key, MXTLS_E_CONFIG for a key of another kind
 * (DSA, ECDSA, RSA-PSS) or an RSA key shorter than DKIM_RSA_BITS_MIN, MXTLS_E_LIMIT above
 * DKIM_KEY_PEM_MAX, MXTLS_E_NOMEM.  *out is set only on success.
 */
int dkim_key_load_pem(const char *pem, size_t len, struct dkim_key **out);

/* Frees k; dkim_key_free(NULL) is a no-op. */
void dkim_key_free(struct dkim_key *k);

/* "rsa-sha256" or "ed25519-sha256": the a= value of k.  Static string. */
const char *dkim_key_algorithm(const struct dkim_key *k);

struct dkim_sign_params {
	const char *domain;   /* d=, borrowed: letters, digits, '-', '.' (A-labels) */
	const char *selector; /* s=, borrowed: as domain, '_' allowed too */
	int64_t timestamp;    /* t=, Unix seconds: injected, never read from the clock here */
	/*
	 * The names of the fields to sign, NULL-terminated, borrowed; NULL for the default
	 * (dkim_sign_default_headers).  Each name is listed in h= once per instance present in
	 * the message; From is always listed once more than it is present (oversigned), so that
	 * a From field added later breaks the signature (RFC 6376 §8.15).
	 */
	const char *const *headers;
};

/* The default names to sign: From, To, Cc, Subject, Date, Message-ID, In-Reply-To,
 * References, MIME-Version, Content-Type, Content-Transfer-Encoding, Reply-To, Sender. */
extern const char *const dkim_sign_default_headers[];

/*
 * Signs msg[0..len) (borrowed; header fields, an empty line, the body; CRLF or LF line ends)
 * with k: c=relaxed/relaxed, no l= tag (the whole body is signed), folded at
 * DKIM_FOLD_COLUMN.  On success *out receives the "DKIM-Signature: ..." header field with
 * its final CRLF, NUL-terminated, to prepend to the message (the caller frees it with
 * free()), and *out_len its length.  MXTLS_E_INVAL for a bad domain or selector,
 * MXTLS_E_SYNTAX for a message whose header cannot be walked or that has no From field
 * (RFC 6376 §5.4: From MUST be signed), MXTLS_E_LIMIT above DKIM_MESSAGE_MAX or
 * DKIM_FIELDS_MAX fields, MXTLS_E_INTERNAL when GnuTLS fails, MXTLS_E_NOMEM.  Pure apart from
 * the signature itself (no clock, no I/O).  *out is set only on success.
 */
int dkim_sign(const struct dkim_key *k, const struct dkim_sign_params *p, const char *msg,
	      size_t len, char **out, size_t *out_len);

#endif
