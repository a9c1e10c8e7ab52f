/* SPDX-License-Identifier: MIT */
/* Bounded parsers of DNS rdata (RFC 1035 §3.3): MX, TXT, and domain names.  Pure. */
#ifndef MXTLS_DNS_RDATA_H
#define MXTLS_DNS_RDATA_H

#include <stddef.h>
#include <stdint.h>

/* Presentation form of a name, without the root dot, plus NUL: 253 + 1. */
#define DNS_NAME_TEXT_MAX 254
/* The longest TXT record we join (the strings of one record, concatenated). */
#define DNS_TXT_MAX 4096

/*
 * Converts an uncompressed wire-format name (p, len) to lower-case presentation form without
 * the trailing dot ("." for the root) into out (DNS_NAME_TEXT_MAX bytes).  Labels may contain
 * only letters, digits, '-' and '_'; anything else (dots, NULs, spaces inside a label) is
 * rejected rather than escaped, since no host name we dial may contain it.  *used receives the
 * wire length consumed.  Returns MXTLS_OK, MXTLS_E_TRUNCATED, MXTLS_E_SYNTAX (compression
 * pointer, bad label byte), MXTLS_E_LIMIT (name too long).
 */
int dns_rdata_name(const uint8_t *p, size_t len, char *out, size_t *used);

/* An MX record: preference and exchange (presentation form, "." for a null MX, RFC 7505). */
struct dns_mx {
	uint16_t preference;
	char exchange[DNS_NAME_TEXT_MAX];
};

/* Parses MX rdata; the exchange must fill the rest of the rdata exactly.  As dns_rdata_name(). */
int dns_rdata_mx(const uint8_t *p, size_t len, struct dns_mx *out);

/*
 * Joins the character-strings of one TXT record without separators (RFC 8461 §3.1, RFC 8460
 * §3) into out (cap bytes, NUL-terminated; the text may contain any byte but NUL).  Returns
 * MXTLS_OK with *outlen set, MXTLS_E_TRUNCATED (a string runs past the rdata), MXTLS_E_SYNTAX
 * (a NUL byte), MXTLS_E_LIMIT (longer than cap - 1).
 */
int dns_rdata_txt(const uint8_t *p, size_t len, char *out, size_t cap, size_t *outlen);

#endif
