/* SPDX-License-Identifier: MIT */
/* The TLSA record of a certificate's key, as publish prints and audit proposes it
 * (owner/owner_tlsa.h). */
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "dane/dane_cert.h"
#include "dane/dane_tlsa.h"
#include "owner/owner_tlsa.h"

int owner_tlsa_spki(const uint8_t *der, size_t len, uint8_t usage, char **out)
{
	uint8_t *data = NULL;
	size_t n = 0;
	int rc = dane_cert_association(der, len, 1, 1, &data, &n);
	if (rc != MXTLS_OK)
		return rc;
	uint8_t *rdata = malloc(3 + n);
	if (rdata == NULL) {
		free(data);
		return MXTLS_E_NOMEM;
	}
	rdata[0] = usage;
	rdata[1] = 1;
	rdata[2] = 1;
	memcpy(rdata + 3, data, n);
	free(data);
	struct dane_tlsa t;
	rc = dane_tlsa_from_rdata(rdata, 3 + n, &t);
	free(rdata);
	if (rc != MXTLS_OK)
		return rc;
	if (!t.usable || t.text == NULL) {
		dane_tlsa_clear(&t);
		return MXTLS_E_INTERNAL;
	}
	*out = t.text;
	t.text = NULL;
	dane_tlsa_clear(&t);
	return MXTLS_OK;
}
