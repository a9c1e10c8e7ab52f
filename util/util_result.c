/* SPDX-License-Identifier: MIT */
/* mxtls_result_name(): RFC 8460 §4.3 result type names. */
#include <mxtls/result.h>

const char *mxtls_result_name(enum mxtls_result result)
{
	switch (result) {
	case MXTLS_RESULT_OK:
		return "ok";
	case MXTLS_RESULT_STARTTLS_NOT_SUPPORTED:
		return "starttls-not-supported";
	case MXTLS_RESULT_CERTIFICATE_HOST_MISMATCH:
		return "certificate-host-mismatch";
	case MXTLS_RESULT_CERTIFICATE_EXPIRED:
		return "certificate-expired";
	case MXTLS_RESULT_CERTIFICATE_NOT_TRUSTED:
		return "certificate-not-trusted";
	case MXTLS_RESULT_VALIDATION_FAILURE:
		return "validation-failure";
	case MXTLS_RESULT_TLSA_INVALID:
		return "tlsa-invalid";
	case MXTLS_RESULT_DNSSEC_INVALID:
		return "dnssec-invalid";
	case MXTLS_RESULT_DANE_REQUIRED:
		return "dane-required";
	case MXTLS_RESULT_STS_POLICY_FETCH_ERROR:
		return "sts-policy-fetch-error";
	case MXTLS_RESULT_STS_POLICY_INVALID:
		return "sts-policy-invalid";
	case MXTLS_RESULT_STS_WEBPKI_INVALID:
		return "sts-webpki-invalid";
	}
	return "unknown";
}
