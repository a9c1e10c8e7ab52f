/* SPDX-License-Identifier: MIT */
/* RFC 8460 §3: the _smtp._tls TXT record: record selection and the rua= destinations.  Pure. */
#ifndef MXTLS_TLSRPT_RUA_H
#define MXTLS_TLSRPT_RUA_H

#include <stdbool.h>
#include <stddef.h>

/* The longest record parsed (its character-strings concatenated); longer ones are invalid. */
#define TLSRPT_RUA_RECORD_MAX 8192
/* The most URIs one record may list (over all rua= fields, usable or not); more is invalid. */
#define TLSRPT_RUA_URIS_MAX 64
/* The longest single URI; a longer one makes the record invalid. */
#define TLSRPT_RUA_URI_MAX 2048
/* The longest mailto address after percent-decoding (RFC 5321 §4.5.3.1.3: a path of 256
 * octets with its angle brackets) and its local part (§4.5.3.1.1). */
#define TLSRPT_ADDR_MAX       254
#define TLSRPT_ADDR_LOCAL_MAX 64

/* One TXT record of the RRset: its character-strings already concatenated without anything
 * between them (RFC 8460 §3, the caller does that).  Borrowed; any bytes, NUL included. */
struct tlsrpt_rua_span {
	const char *p;
	size_t len;
};

enum tlsrpt_rua_status {
	TLSRPT_RUA_OK = 0,       /* exactly one record, valid, at least one usable URI */
	TLSRPT_RUA_NONE = 1,     /* no record begins with "v=TLSRPTv1" *WSP ";" */
	TLSRPT_RUA_MULTIPLE = 2, /* more than one does: no reports (RFC 8460 §3) */
	TLSRPT_RUA_INVALID = 3,  /* the one record breaks the §3 grammar, a cap, or has no usable
				    URI: no reports */
};

enum tlsrpt_dest_kind {
	TLSRPT_DEST_MAILTO = 1,  /* text: the addr-spec, percent-decoded, domain in lower case */
	TLSRPT_DEST_HTTPS = 2,   /* text: the URI exactly as published */
	TLSRPT_DEST_SKIPPED = 3, /* text: the URI as published; why says why it is not used */
};

struct tlsrpt_rua_dest {
	enum tlsrpt_dest_kind kind;
	char *text;      /* owned by the struct tlsrpt_rua, NUL-terminated */
	const char *why; /* static; NULL unless kind == TLSRPT_DEST_SKIPPED */
};

/* The outcome of discovery.  Free with tlsrpt_rua_free(). */
struct tlsrpt_rua {
	enum tlsrpt_rua_status status;
	char reason[160]; /* why not OK ("" when OK); static text, printable ASCII */
	size_t record;    /* with OK/INVALID: the index of the chosen record in the RRset */
	/* Only with status OK: the usable destinations in record order, duplicates removed, then
	 * the skipped URIs (unsupported scheme, unusable address) in record order. */
	struct tlsrpt_rua_dest *dest;
	size_t ndest;
	struct tlsrpt_rua_dest *skipped;
	size_t nskipped;
};

/*
 * RFC 8460 §3 record selection: true when (p, len) begins with "v=TLSRPTv1" (case-sensitive)
 * followed by *WSP ";" (the version and the first field-delim of the ABNF).  Every other record
 * is discarded.  Pure.
 */
bool tlsrpt_rua_is_candidate(const char *p, size_t len);

/*
 * Parses one record (p, len, borrowed, untrusted) with the RFC 8460 §3 ABNF into *out.
 * Returns MXTLS_OK (out->status OK), MXTLS_E_SYNTAX (INVALID: grammar, no usable URI),
 * MXTLS_E_LIMIT (INVALID: longer than TLSRPT_RUA_RECORD_MAX, more than TLSRPT_RUA_URIS_MAX
 * URIs, a URI longer than TLSRPT_RUA_URI_MAX), MXTLS_E_NOMEM, MXTLS_E_INVAL (out NULL, or p
 * NULL with len > 0).  Apart from MXTLS_E_INVAL, *out is always set: on failure it holds the
 * status and reason and no destinations (nothing to free, though tlsrpt_rua_free() is safe).
 */
int tlsrpt_rua_parse(const char *p, size_t len, struct tlsrpt_rua *out);

/*
 * Discovery over the TXT RRset at _smtp._tls.<domain> (rrset[0..n), borrowed): discards the
 * records that are not candidates (tlsrpt_rua_is_candidate()); none left gives NONE, more than
 * one MULTIPLE (both MXTLS_E_NOTFOUND: no TLSRPT for the domain); exactly one is parsed as
 * tlsrpt_rua_parse() does, with its return codes.  *out as tlsrpt_rua_parse() says.
 */
int tlsrpt_rua_discover(const struct tlsrpt_rua_span *rrset, size_t n, struct tlsrpt_rua *out);

/* Frees what *r holds and zeroes its lists; r NULL is a no-op. */
void tlsrpt_rua_free(struct tlsrpt_rua *r);

/*
 * A mail address as RFC 5322 §3.4.1 addr-spec restricted to what a report is sent to: a
 * dot-atom or quoted-string local part of 1-TLSRPT_ADDR_LOCAL_MAX octets (printable US-ASCII),
 * "@", a host name (LDH labels as util_dnsname_valid() says, no trailing dot); at most
 * TLSRPT_ADDR_MAX octets.  No CR, LF, NUL or other control can pass.  Pure.
 */
bool tlsrpt_addr_valid(const char *p, size_t len);

/* The domain part of a valid address (after the last "@"). */
const char *tlsrpt_addr_domain(const char *addr);

#endif
