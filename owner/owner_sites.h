/* SPDX-License-Identifier: MIT */
/* mxtls serve: what is served, one generation per load (certificates, keys, policies). */
#ifndef MXTLS_OWNER_SITES_H
#define MXTLS_OWNER_SITES_H

#include <stddef.h>
#include <time.h>

#include <gnutls/abstract.h>

#include "owner/owner_config.h"

/* One policy domain: the host mta-sts.<domain>. */
struct owner_site {
	char *domain; /* owned, lower-case */
	char *policy; /* owned: the file's bytes, checked by the sender's parser */
	size_t policy_len;
	gnutls_pcert_st *pcert; /* owned: the chain, leaf first */
	unsigned npcert;
	gnutls_privkey_t key; /* owned */
};

/* Everything one load read.  A generation is never changed once loaded: a reload builds a
 * new one, and the old one stays alive as long as a handshake may still use its keys. */
struct owner_sites {
	struct owner_site *site; /* sorted by domain */
	size_t n;
	struct timespec retired;   /* CLOCK_MONOTONIC time it stopped being current; 0 while so */
	struct owner_sites *older; /* retired generations, newest first */
};

/*
 * Loads every domain of c: DIR/<domain>.txt (at most STS_POLICY_MAX bytes, valid by the
 * sender's rules), the chain and the key (the key must match the leaf, the leaf must name
 * mta-sts.<domain>).  On MXTLS_OK *out is set (free with owner_sites_free()); otherwise the
 * first problem is in err and the result is MXTLS_E_CONFIG, MXTLS_E_IO or MXTLS_E_NOMEM.
 */
int owner_sites_load(const struct mxtls_serve_config *c, struct owner_sites **out, char *err,
		     size_t errlen);

/* The site of a lower-case domain (len bytes), NULL if it is not served. Borrowed. */
const struct owner_site *owner_sites_find(const struct owner_sites *s, const char *domain,
					  size_t len);

/* Frees one generation and every older one; NULL is a no-op. */
void owner_sites_free(struct owner_sites *s);

#endif
