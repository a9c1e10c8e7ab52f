/* SPDX-License-Identifier: MIT */
/* The daemon's DKIM signing keys (the dkim-key setting, DOMAIN:SELECTOR:KEYFILE) and the choice
 * of key for a message: the one for its From domain (RFC 6376 §3.5 d=; DMARC's alignment). */
#ifndef MXTLS_DELIVERY_DKIM_H
#define MXTLS_DELIVERY_DKIM_H

#include <stddef.h>
#include <stdint.h>

struct delivery_dkim;

/*
 * Loads the keys of specs[0..n) ("DOMAIN:SELECTOR:KEYFILE" each; the key file a PEM private
 * key, read once here: the daemon reads it, submitting users never do).  One key per domain.
 * On MXTLS_OK *out is set (NULL when n is 0; free with delivery_dkim_free()).  MXTLS_E_CONFIG
 * with the reason in err: a malformed spec, a domain given twice, an unreadable or unusable
 * key (as dkim_key_load_pem()).  MXTLS_E_NOMEM.
 */
int delivery_dkim_load(const char *const *specs, size_t n, struct delivery_dkim **out, char *err,
		       size_t errlen);
void delivery_dkim_free(struct delivery_dkim *d);

/*
 * The DKIM-Signature field for msg (CRLF, as queued) when its From field's domain has a key:
 * *sig (free()) and *sig_len set, *domain the d= used.  When no key fits (no From, a From with
 * several mailboxes, another domain) MXTLS_OK with *sig NULL: the message goes unsigned, as it
 * came.  Errors (MXTLS_E_*, reason in err) come from signing; the caller decides.
 */
int delivery_dkim_sign(const struct delivery_dkim *d, const char *msg, size_t len, int64_t now,
		       char **sig, size_t *sig_len, const char **domain, char *err,
		       size_t errlen);

#endif
