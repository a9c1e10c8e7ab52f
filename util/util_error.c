/* SPDX-License-Identifier: MIT */
/* mxtls_strerror(): the text of each error code. */
#include <mxtls/error.h>

const char *mxtls_strerror(int err)
{
	switch ((enum mxtls_error)err) {
	case MXTLS_OK:
		return "success";
	case MXTLS_E_NOMEM:
		return "out of memory";
	case MXTLS_E_INVAL:
		return "invalid argument";
	case MXTLS_E_LIMIT:
		return "a size limit was reached";
	case MXTLS_E_TRUNCATED:
		return "input ended unexpectedly";
	case MXTLS_E_SYNTAX:
		return "malformed input";
	case MXTLS_E_IO:
		return "input/output error";
	case MXTLS_E_NOTFOUND:
		return "not found";
	case MXTLS_E_CONFIG:
		return "configuration error";
	case MXTLS_E_TEMPFAIL:
		return "temporary failure";
	case MXTLS_E_DNSSEC:
		return "DNSSEC validation failed";
	case MXTLS_E_TLS:
		return "TLS failure";
	case MXTLS_E_TIMEOUT:
		return "timed out";
	case MXTLS_E_INTERNAL:
		return "internal error";
	}
	return "unknown error";
}
