/* SPDX-License-Identifier: MIT */
/* Security verdicts: the RFC 8460 (TLS-RPT) result types, kept apart from enum mxtls_error. */
#ifndef MXTLS_RESULT_H
#define MXTLS_RESULT_H

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MXTLS_API
#define MXTLS_API __attribute__((visibility("default")))
#endif

/*
 * The outcome of authenticating one TLS session (RFC 8460 §4.3).  MXTLS_RESULT_OK is success;
 * every other value names the failure exactly as a TLS report would.  Values are explicit and
 * never reused.
 */
enum mxtls_result {
	MXTLS_RESULT_OK = 0,
	MXTLS_RESULT_STARTTLS_NOT_SUPPORTED = 1,    /* §4.3.1 starttls-not-supported */
	MXTLS_RESULT_CERTIFICATE_HOST_MISMATCH = 2, /* §4.3.1 certificate-host-mismatch */
	MXTLS_RESULT_CERTIFICATE_EXPIRED = 3,       /* §4.3.1 certificate-expired */
	MXTLS_RESULT_CERTIFICATE_NOT_TRUSTED = 4,   /* §4.3.1 certificate-not-trusted */
	MXTLS_RESULT_VALIDATION_FAILURE = 5,        /* §4.3.1 validation-failure */
	MXTLS_RESULT_TLSA_INVALID = 6,              /* §4.3.2.1 tlsa-invalid */
	MXTLS_RESULT_DNSSEC_INVALID = 7,            /* §4.3.2.1 dnssec-invalid */
	MXTLS_RESULT_DANE_REQUIRED = 8,             /* §4.3.2.1 dane-required */
	MXTLS_RESULT_STS_POLICY_FETCH_ERROR = 9,    /* §4.3.2.2 sts-policy-fetch-error */
	MXTLS_RESULT_STS_POLICY_INVALID = 10,       /* §4.3.2.2 sts-policy-invalid */
	MXTLS_RESULT_STS_WEBPKI_INVALID = 11,       /* §4.3.2.2 sts-webpki-invalid */
};

/* The RFC 8460 name ("certificate-expired"); "ok" for MXTLS_RESULT_OK; "unknown" otherwise.
 * Static string. */
MXTLS_API const char *mxtls_result_name(enum mxtls_result result);

#ifdef __cplusplus
}
#endif
#endif
