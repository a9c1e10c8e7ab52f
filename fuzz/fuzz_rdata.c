/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the DNS rdata parsers (dns/dns_rdata.c): names, MX, TXT. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mxtls/error.h>

#include "dns/dns_rdata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[DNS_NAME_TEXT_MAX];
	size_t used;
	if (dns_rdata_name(data, size, name, &used) == MXTLS_OK &&
	    (used > size || strlen(name) >= DNS_NAME_TEXT_MAX))
		__builtin_trap();
	struct dns_mx mx;
	if (dns_rdata_mx(data, size, &mx) == MXTLS_OK && strlen(mx.exchange) == 0)
		__builtin_trap();
	char txt[DNS_TXT_MAX];
	size_t n;
	if (dns_rdata_txt(data, size, txt, sizeof txt, &n) == MXTLS_OK &&
	    (n >= sizeof txt || strlen(txt) != n))
		__builtin_trap();
	return 0;
}
