/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the bounded DER certificate walk and chain import (dane/dane_cert.c). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "dane/dane_cert.h"
#include "dane/dane_tlsa.h"
#include "dane/dane_verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as one DER certificate: the walk, the chain made from it, the association data
 * of every selector and matching type, DANE-EE on its own SPKI digest, and the lazy parse. */
static void as_der(const uint8_t *data, size_t size)
{
	struct dane_cert_parts parts;
	bool located = dane_cert_locate(data, size, &parts) == MXTLS_OK;
	if (located && (parts.tbs < data || parts.tbs_len > size ||
			parts.tbs + parts.tbs_len > data + size || parts.spki < parts.tbs ||
			parts.spki_len > parts.tbs_len ||
			parts.spki + parts.spki_len > parts.tbs + parts.tbs_len))
		__builtin_trap();
	struct dane_chain c;
	const uint8_t *der[1] = {data};
	size_t len[1] = {size};
	int rc = dane_chain_from_der(der, len, 1, &c);
	if (rc == MXTLS_E_NOMEM)
		return;
	if ((rc == MXTLS_OK) != located)
		__builtin_trap(); /* the chain accepts exactly what the walk accepts */
	if (rc != MXTLS_OK) {
		if (c.n != 0)
			__builtin_trap();
		return;
	}
	uint8_t rdata[3 + 32] = {DANE_USAGE_DANE_EE, DANE_SELECTOR_SPKI, DANE_MTYPE_SHA256};
	bool have_digest = false;
	for (uint8_t sel = 0; sel <= DANE_SELECTOR_SPKI; sel++) {
		for (uint8_t mt = 0; mt <= DANE_MTYPE_SHA512; mt++) {
			uint8_t *a;
			size_t n;
			rc = dane_cert_association(c.certs[0].der, c.certs[0].len, sel, mt, &a, &n);
			if (rc == MXTLS_E_NOMEM)
				continue;
			if (rc != MXTLS_OK)
				__builtin_trap();
			if (mt == DANE_MTYPE_FULL && (sel == DANE_SELECTOR_CERT
							      ? n != size || memcmp(a, data, n) != 0
							      : n != parts.spki_len ||
									memcmp(a, parts.spki, n) != 0))
				__builtin_trap();
			if (sel == DANE_SELECTOR_SPKI && mt == DANE_MTYPE_SHA256 && n == 32) {
				memcpy(rdata + 3, a, 32);
				have_digest = true;
			}
			free(a);
		}
	}
	/* DANE-EE with the certificate's own SPKI digest authenticates it, parse or no parse. */
	struct dane_tlsa t;
	if (have_digest && dane_tlsa_from_rdata(rdata, sizeof rdata, &t) == MXTLS_OK) {
		const char *names[1] = {"mx.example.test"};
		struct dane_verdict v;
		dane_verify(&c, &t, 1, names, 1, 0, &v);
		if (v.result != MXTLS_RESULT_OK || v.matched != 0)
			__builtin_trap();
		dane_tlsa_clear(&t);
	}
	(void)dane_chain_cert(&c, 0); /* GnuTLS's X.509 parse: may fail, must not crash */
	dane_chain_clear(&c);
}

/* The input as PEM text: the block scanner and base64 decoding. */
static void as_pem(const uint8_t *data, size_t size)
{
	struct dane_chain c;
	if (dane_chain_from_pem((const char *)data, size, &c) != MXTLS_OK) {
		if (c.n != 0)
			__builtin_trap();
		return;
	}
	if (c.n == 0 || c.n > DANE_CHAIN_MAX)
		__builtin_trap();
	for (size_t i = 0; i < c.n; i++) {
		struct dane_cert_parts parts;
		if (dane_cert_locate(c.certs[i].der, c.certs[i].len, &parts) != MXTLS_OK)
			__builtin_trap();
	}
	dane_chain_clear(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	as_der(data, size);
	as_pem(data, size);
	return 0;
}
