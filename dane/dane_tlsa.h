/* SPDX-License-Identifier: MIT */
/* TLSA records (RFC 6698 §2): parsing from DNS rdata or text, and RFC 7672/7671 usability. */
#ifndef MXTLS_DANE_TLSA_H
#define MXTLS_DANE_TLSA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest association data (a Full(0) certificate or key): what TLSA rdata can carry
 * (65535 bytes less usage, selector and matching type).  Issue 14: a cap of 16384 made a
 * larger certificate's record "unusable", which turns DANE authentication into DANE-encrypt
 * (TLS without authentication): a downgrade.  Record text (dane_tlsa_from_text()) is bounded
 * by the same figure. */
#define DANE_TLSA_DATA_MAX (65535 - 3)

enum dane_usage {
	DANE_USAGE_PKIX_TA = 0,
	DANE_USAGE_PKIX_EE = 1,
	DANE_USAGE_DANE_TA = 2,
	DANE_USAGE_DANE_EE = 3,
};
enum dane_selector {
	DANE_SELECTOR_CERT = 0,
	DANE_SELECTOR_SPKI = 1,
};
enum dane_mtype {
	DANE_MTYPE_FULL = 0,
	DANE_MTYPE_SHA256 = 1,
	DANE_MTYPE_SHA512 = 2,
};

/*
 * One record.  A record that cannot be used is kept (marked unusable, with the reason) so that
 * callers can report it: RFC 6698 §4.1 and RFC 7672 §3.1.3 make such records "unusable", never
 * fatal for the RRset.
 */
struct dane_tlsa {
	uint8_t usage, selector, mtype;
	uint8_t *data;      /* owned association data; NULL when the text was malformed */
	size_t len;
	bool usable;
	const char *reason; /* static: why the record is unusable; NULL when usable */
	char *text;         /* owned: "U S M HEX" (canonical, lower-case hex) or the input as given */
};

/*
 * Parses wire-format TLSA rdata (p, len).  Always yields a record (usable or not) unless memory
 * runs out: truncated rdata (fewer than 3 bytes) gives an unusable record with a reason.
 * On success *out is filled; release it with dane_tlsa_clear().  Returns MXTLS_OK or
 * MXTLS_E_NOMEM (then *out is untouched).
 */
int dane_tlsa_from_rdata(const uint8_t *p, size_t len, struct dane_tlsa *out);

/*
 * Parses presentation text "U S M HEX" (p, len; as in a zone file, white space between fields,
 * the hex may be split by white space).  Malformed text gives an unusable record, not an error.
 * As dane_tlsa_from_rdata() otherwise.
 */
int dane_tlsa_from_text(const char *p, size_t len, struct dane_tlsa *out);

/* Frees what t owns and zeroes it; NULL is a no-op. */
void dane_tlsa_clear(struct dane_tlsa *t);

/*
 * RFC 7671 §9 digest algorithm agility over an RRset: for each (usage, selector) pair among the
 * usable records, Full(0) records stay usable and, of the digests, only those of the strongest
 * algorithm present (SHA2-512 over SHA2-256); the others are marked unusable with a reason.
 * Returns the number of records left usable.
 */
size_t dane_tlsa_select(struct dane_tlsa *set, size_t n);

#endif
