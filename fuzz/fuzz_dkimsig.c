/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the DKIM-Signature tag-list parser, the key record parser and a whole
 * verification with fixed keys (dkim/dkim_verify.c).  The first byte picks which. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mxtls/error.h>

#include "dkim/dkim_verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keys whose private halves were thrown away (openssl, 2026-12): nothing verifies with them. */
static const char ed_rec[] = "v=DKIM1; k=ed25519; p=lSWKaY95gYc8o8w9xAZZxadUlJ0b5iO0YIpP6reTfZ0=";
static const char rsa_rec[] =
	"v=DKIM1; p="
	"MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDjIctVPmaEPI23yUU547gfri2Lkf3gXQZMzT/AceKcgoEo"
	"CYagCQyh1AZU8L1u78ZEadEutavLQ3WPbggrcxBe6Lm+D7Z748lKZIsRR1PCxlVHvEDz/jk6jrxo1KyyTMYx"
	"2EXOvk40IWVEpQAkLHr1rnxWpkNDOPT10alDxHmWfwIDAQAB";

static void check_sig(const char *field, size_t len, const struct dkim_sig *s, int rc)
{
	if (rc != s->status || (rc != MXTLS_OK && rc != MXTLS_E_SYNTAX && rc != MXTLS_E_LIMIT))
		__builtin_trap();
	if ((rc == MXTLS_OK) != (s->reason[0] == '\0'))
		__builtin_trap();
	if (memchr(s->reason, '\0', sizeof s->reason) == NULL)
		__builtin_trap();
	if (rc != MXTLS_OK)
		return;
	if ((s->alg != DKIM_ALG_RSA_SHA256 && s->alg != DKIM_ALG_ED25519_SHA256) ||
	    s->domain[0] == '\0' || s->selector[0] == '\0' || s->b_len == 0 ||
	    s->b_len > DKIM_B_MAX || s->h_count == 0 || s->h_count > DKIM_H_MAX ||
	    s->b_start > s->b_end || s->b_end > s->field_len || s->field_len > len ||
	    field[s->b_start - 1] != '=')
		__builtin_trap();
	bool from = false;
	for (size_t i = 0; i < s->h_count; i++) {
		const char *h = s->h_text + s->h_off[i];
		if (strlen(h) != s->h_len[i] || s->h_len[i] == 0)
			__builtin_trap();
		from = from || (s->h_len[i] == 4 && strncasecmp(h, "from", 4) == 0);
	}
	if (!from || (s->has_t && s->has_x && s->x <= s->t))
		__builtin_trap();
	/* the i= domain is d= or ends with "." d= */
	size_t al = strlen(s->auid_domain), dl = strlen(s->domain);
	if (al < dl || strcmp(s->auid_domain + al - dl, s->domain) != 0 ||
	    (al > dl && s->auid_domain[al - dl - 1] != '.'))
		__builtin_trap();
	char name[DKIM_NAME_MAX + 1];
	int kr = dkim_verify_key_name(s, name, sizeof name);
	if (kr != MXTLS_OK && kr != MXTLS_E_LIMIT)
		__builtin_trap();
	if (kr == MXTLS_OK && strstr(name, "._domainkey.") == NULL)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	int mode = data[0] % 3;
	const char *p = (const char *)data + 1;
	size_t n = size - 1;
	if (mode == 0) {
		/* The input as the value of a DKIM-Signature field. */
		char *field = malloc(n + 15);
		struct dkim_sig *s = malloc(sizeof *s);
		if (field == NULL || s == NULL)
			abort();
		memcpy(field, "DKIM-Signature:", 15);
		memcpy(field + 15, p, n);
		int rc = dkim_sig_parse(field, n + 15, s);
		check_sig(field, n + 15, s, rc);
		free(field);
		free(s);
	} else if (mode == 1) {
		struct dkim_keyrec *k = malloc(sizeof *k);
		if (k == NULL)
			abort();
		const char *why = NULL;
		int rc = dkim_key_parse(p, n, k, &why);
		if (rc != MXTLS_OK && (why == NULL || why[0] == '\0' ||
				       (rc != MXTLS_E_SYNTAX && rc != MXTLS_E_LIMIT)))
			__builtin_trap();
		if (rc == MXTLS_OK &&
		    (k->p_len > DKIM_P_MAX || k->revoked != (k->p_len == 0) ||
		     memchr(k->services, '\0', sizeof k->services) == NULL ||
		     (k->services[0] == '\0' && dkim_key_allows_service(k, "tlsrpt"))))
			__builtin_trap();
		free(k);
	} else {
		/* The input as a whole message, verified with fixed keys at a fixed instant: no
		 * signature the fuzzer makes can pass. */
		struct dkim_sig *sigs = malloc(DKIM_VERIFY_SIGS_MAX * sizeof *sigs);
		if (sigs == NULL)
			abort();
		size_t found = 0, ignored = 0;
		int rc = dkim_verify_find(p, n, sigs, DKIM_VERIFY_SIGS_MAX, &found, &ignored);
		if (rc != MXTLS_OK && rc != MXTLS_E_SYNTAX && rc != MXTLS_E_LIMIT)
			__builtin_trap();
		for (size_t i = 0; i < found; i++) {
			const struct dkim_sig *s = &sigs[i];
			if (s->field_start + s->field_len > n)
				__builtin_trap();
			if (s->status == MXTLS_OK && (s->b_start < s->field_start ||
						      s->b_end > s->field_start + s->field_len))
				__builtin_trap();
			struct dkim_result r;
			const char *rec = s->alg == DKIM_ALG_ED25519_SHA256 ? ed_rec : rsa_rec;
			dkim_verify(p, n, s, rec, strlen(rec), "tlsrpt", 1767225600, &r);
			if (r.verdict == DKIM_PASS || r.verdict > DKIM_TEMPERROR ||
			    r.reason[0] == '\0')
				__builtin_trap();
		}
		free(sigs);
	}
	return 0;
}
