/* SPDX-License-Identifier: MIT */
/* The domain owner's side: what to publish for MTA-STS, TLS-RPT and DANE (mxtls publish). */
#ifndef MXTLS_PUBLISH_H
#define MXTLS_PUBLISH_H

#include <stddef.h>

#include <mxtls/context.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MXTLS_API
#define MXTLS_API __attribute__((visibility("default")))
#endif

/* What to publish for a domain, as seen now.  Opaque; free with mxtls_publish_free(). */
struct mxtls_publish;

struct mxtls_publish_req {
	const char *domain;     /* the mail domain (borrowed) */
	int enforce;            /* 0: policy mode testing (the default); 1: enforce */
	const char *const *rua; /* TLS-RPT report URIs (borrowed); nrua 0: no _smtp._tls */
	size_t nrua;
	/* What was published before (e.g. the files of an earlier run), both may be NULL: when
	 * prev_policy is byte for byte the new policy text and prev_zone holds its _mta-sts
	 * record, that record's id is kept (re-running is idempotent); otherwise a new id. */
	const char *prev_policy;
	size_t prev_policy_len;
	const char *prev_zone;
	size_t prev_zone_len;
};

/*
 * Looks up domain's MX set (ctx's resolver, running its loop: blocking), connects to every
 * address of every MX host on port 25, runs STARTTLS and takes the certificate chain it presents,
 * and builds: the MTA-STS policy file (literal mx names of every MX host; max_age one week for
 * testing, two for enforce), the _mta-sts record with its id (RFC 8461 §3.1), the _smtp._tls record
 * for rua (RFC 8460 §3), and the TLSA records "3 1 1" of each host's certificate (RFC 7672 §3.1),
 * with comments and rollover advice, as zone-file text.  Nothing partial: every MX host must
 * be reached and complete a TLS handshake, else there is no result.
 * On success *out is set.  Returns MXTLS_OK; MXTLS_E_INVAL (req, domain or a rua URI is bad:
 * err says which); MXTLS_E_NOTFOUND (the domain receives no mail: null MX, NXDOMAIN);
 * MXTLS_E_TEMPFAIL (a lookup failed, or an MX host could not be reached, offers no STARTTLS
 * or its handshake failed: err names the host); MXTLS_E_SYNTAX (an MX record names an IP
 * address, which no policy or TLSA record can name); MXTLS_E_CONFIG; MXTLS_E_NOMEM.
 */
MXTLS_API int mxtls_publish(struct mxtls_ctx *ctx, const struct mxtls_publish_req *req,
			    struct mxtls_publish **out, char *err, size_t errlen);

/* Frees p; NULL is a no-op. */
MXTLS_API void mxtls_publish_free(struct mxtls_publish *p);

/* The domain (canonical); the policy file text (CRLF lines); its mode ("testing" or
 * "enforce") and max_age; the policy id; 1 when the id was kept from prev_zone, else 0.
 * All borrowed from p. */
MXTLS_API const char *mxtls_publish_domain(const struct mxtls_publish *p);
MXTLS_API const char *mxtls_publish_policy(const struct mxtls_publish *p);
MXTLS_API const char *mxtls_publish_mode(const struct mxtls_publish *p);
MXTLS_API unsigned long mxtls_publish_max_age(const struct mxtls_publish *p);
MXTLS_API const char *mxtls_publish_id(const struct mxtls_publish *p);
MXTLS_API int mxtls_publish_id_kept(const struct mxtls_publish *p);

/* The TXT data of _mta-sts.<domain> ("v=STSv1; id=..."), of _smtp._tls.<domain> (NULL
 * without rua), and the whole zone-file text with comments.  Borrowed from p. */
MXTLS_API const char *mxtls_publish_sts_record(const struct mxtls_publish *p);
MXTLS_API const char *mxtls_publish_tlsrpt_record(const struct mxtls_publish *p);
MXTLS_API const char *mxtls_publish_zone(const struct mxtls_publish *p);

/* The MX hosts in preference order: name, preference, whether DNSSEC-signed (the MX and
 * address lookups were secure: TLSA is looked up by senders), the "3 1 1 hex" TLSA data of
 * the keys presented now (every address is contacted; one record per distinct key, usually
 * one), and the "2 1 1 hex" of the next certificate in the chain (the issuer, for rollover;
 * NULL when the server sent only its own).  For i or k out of range: NULL or 0.  Borrowed
 * from p. */
MXTLS_API size_t mxtls_publish_host_count(const struct mxtls_publish *p);
MXTLS_API const char *mxtls_publish_host_name(const struct mxtls_publish *p, size_t i);
MXTLS_API unsigned mxtls_publish_host_preference(const struct mxtls_publish *p, size_t i);
MXTLS_API int mxtls_publish_host_dnssec(const struct mxtls_publish *p, size_t i);
MXTLS_API size_t mxtls_publish_host_tlsa_count(const struct mxtls_publish *p, size_t i);
MXTLS_API const char *mxtls_publish_host_tlsa(const struct mxtls_publish *p, size_t i, size_t k);
MXTLS_API const char *mxtls_publish_host_issuer_tlsa(const struct mxtls_publish *p, size_t i);

#ifdef __cplusplus
}
#endif
#endif
