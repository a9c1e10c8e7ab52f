/* SPDX-License-Identifier: MIT */
/* Offline DANE (RFC 7672) authentication of a certificate chain, and TLSA record data. */
#ifndef MXTLS_DANE_H
#define MXTLS_DANE_H

#include <stddef.h>
#include <stdint.h>

#include <mxtls/context.h>
#include <mxtls/result.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MXTLS_API
#define MXTLS_API __attribute__((visibility("default")))
#endif

/* The outcome of mxtls_dane_verify_pem(): verdict, matched record, and each record's fate. */
struct mxtls_dane_check;

/*
 * Authenticates the PEM chain (pem, len; leaf first, as a server sends it) against TLSA records
 * given as presentation text "U S M HEX" (tlsa[0..ntlsa), borrowed), with the rules of RFC 7672
 * for SMTP.  host is the TLSA base domain (the MX host name); nexthop (may be NULL) the
 * recipient domain when the MX lookup was secure, also accepted by DANE-TA name checks.  at is
 * the validation time in Unix seconds.  Malformed or unusable records are skipped and reported,
 * never an error.  ctx (borrowed) receives one log line per verdict.
 * On success *out is set; caller frees it with mxtls_dane_check_free().  Returns MXTLS_OK
 * (whatever the verdict), MXTLS_E_SYNTAX (no certificate in pem, a block that is not base64,
 * or a certificate that is not structurally DER: its Certificate, tbsCertificate and
 * subjectPublicKeyInfo cannot be located), MXTLS_E_LIMIT (more than 16 certificates),
 * MXTLS_E_INVAL, MXTLS_E_NOMEM.
 * Certificates are parsed as X.509 only when the verification needs them: a structurally
 * valid certificate that does not parse is accepted when it is never used (DANE-EE, with either
 * selector, matches on the leaf's DER and parses nothing), and makes the verdict a failure when
 * it is used (it is never a DANE-TA anchor or a link of the path).
 */
MXTLS_API int mxtls_dane_verify_pem(struct mxtls_ctx *ctx, const char *pem, size_t len,
				    const char *host, const char *nexthop,
				    const char *const *tlsa, size_t ntlsa, int64_t at,
				    struct mxtls_dane_check **out);

/* Frees c; NULL is a no-op. */
MXTLS_API void mxtls_dane_check_free(struct mxtls_dane_check *c);

/* MXTLS_RESULT_OK when authenticated, else the RFC 8460 result type of the failure. */
MXTLS_API enum mxtls_result mxtls_dane_check_result(const struct mxtls_dane_check *c);

/* Why, in English (borrowed from c). */
MXTLS_API const char *mxtls_dane_check_reason(const struct mxtls_dane_check *c);

/* The index of the record that authenticated, or -1. */
MXTLS_API int mxtls_dane_check_matched(const struct mxtls_dane_check *c);

/* The number of records given, and how many were usable (after RFC 7671 §9 selection). */
MXTLS_API size_t mxtls_dane_check_records(const struct mxtls_dane_check *c);
MXTLS_API size_t mxtls_dane_check_usable(const struct mxtls_dane_check *c);

/* Record i in canonical form "U S M hex" (or as given, when malformed); borrowed from c. */
MXTLS_API const char *mxtls_dane_check_record_text(const struct mxtls_dane_check *c, size_t i);

/* Why record i is unusable, or NULL when it was usable; borrowed from c. */
MXTLS_API const char *mxtls_dane_check_record_problem(const struct mxtls_dane_check *c, size_t i);

/*
 * The TLSA record "U S M hex" that publishes the first certificate of the PEM text (pem, len).
 * usage 0-3, selector 0-1, mtype 0-2.  Selector 1 is the subjectPublicKeyInfo exactly as it
 * appears in the certificate (RFC 6698 §2.1.2), never a re-encoding.  On success *out is set;
 * caller frees it with mxtls_free().  Returns MXTLS_OK, MXTLS_E_INVAL (a field out of range),
 * MXTLS_E_SYNTAX (no certificate, a certificate that is not structurally DER, or a first
 * certificate that does not parse as X.509; those after the first are not parsed),
 * MXTLS_E_NOMEM.
 */
MXTLS_API int mxtls_dane_tlsa_from_pem(const char *pem, size_t len, int usage, int selector,
				       int mtype, char **out);

#ifdef __cplusplus
}
#endif
#endif
