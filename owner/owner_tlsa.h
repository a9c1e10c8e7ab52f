/* SPDX-License-Identifier: MIT */
/* The TLSA record data of a certificate's key (mxtls publish prints it, mxtls audit proposes it).
 */
#ifndef MXTLS_OWNER_TLSA_H
#define MXTLS_OWNER_TLSA_H

#include <stddef.h>
#include <stdint.h>

/*
 * RFC 6698 §2.1: "usage 1 1 hex" (SubjectPublicKeyInfo, SHA2-256) of the DER certificate (der,
 * len; borrowed), in the canonical text of dane/.  On success *out (caller frees) is set.
 * Returns MXTLS_OK, MXTLS_E_SYNTAX (not DER), MXTLS_E_NOMEM, MXTLS_E_INTERNAL.
 */
int owner_tlsa_spki(const uint8_t *der, size_t len, uint8_t usage, char **out);

#endif
