/* SPDX-License-Identifier: MIT */
/* TLSA record parsing and usability (RFC 6698 §2, RFC 7672 §3.1, RFC 7671 §9). */
#include "dane/dane_tlsa.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <mxtls/error.h>

#include "util/util_buf.h"
#include "util/util_reader.h"
#include "util/util_text.h"

/* The "problem" that is no verdict on the record: finish() turns it into MXTLS_E_NOMEM, so
 * that running out of memory never makes a usable record look unusable (a downgrade). */
static const char no_memory[] = "out of memory";

/* Checks Full(0) data: selector 0 must be a DER certificate, selector 1 a DER SPKI. */
static const char *full_data_problem(uint8_t selector, const uint8_t *data, size_t len)
{
	gnutls_datum_t d = {(unsigned char *)data, (unsigned int)len};
	if (selector == DANE_SELECTOR_CERT) {
		gnutls_x509_crt_t crt;
		if (gnutls_x509_crt_init(&crt) < 0)
			return no_memory;
		int rc = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
		gnutls_x509_crt_deinit(crt);
		if (rc == GNUTLS_E_MEMORY_ERROR)
			return no_memory;
		return rc < 0 ? "Full(0) data is not a DER certificate" : NULL;
	}
	gnutls_pubkey_t key;
	if (gnutls_pubkey_init(&key) < 0)
		return no_memory;
	int rc = gnutls_pubkey_import(key, &d, GNUTLS_X509_FMT_DER);
	gnutls_pubkey_deinit(key);
	if (rc == GNUTLS_E_MEMORY_ERROR)
		return no_memory;
	return rc < 0 ? "Full(0) data is not a DER SubjectPublicKeyInfo" : NULL;
}

/* RFC 7672 §3.1.3 and RFC 6698 §4.1: which records an SMTP client may use. */
static const char *usability_problem(const struct dane_tlsa *t)
{
	if (t->usage == DANE_USAGE_PKIX_TA || t->usage == DANE_USAGE_PKIX_EE)
		return "PKIX usages 0 and 1 are unusable for SMTP (RFC 7672 section 3.1.3)";
	if (t->usage != DANE_USAGE_DANE_TA && t->usage != DANE_USAGE_DANE_EE)
		return "unknown certificate usage";
	if (t->selector != DANE_SELECTOR_CERT && t->selector != DANE_SELECTOR_SPKI)
		return "unknown selector";
	switch (t->mtype) {
	case DANE_MTYPE_FULL:
		if (t->len == 0)
			return "empty association data";
		if (t->len > DANE_TLSA_DATA_MAX)
			return "association data too long";
		return full_data_problem(t->selector, t->data, t->len);
	case DANE_MTYPE_SHA256:
		return t->len == 32 ? NULL : "SHA2-256 data is not 32 bytes";
	case DANE_MTYPE_SHA512:
		return t->len == 64 ? NULL : "SHA2-512 data is not 64 bytes";
	default:
		return "unknown matching type";
	}
}

/* Sets the canonical text "U S M hex" of a well-formed record. */
static int make_text(struct dane_tlsa *t)
{
	struct util_buf b;
	util_buf_init(&b, 16 + 2 * t->len); /* sized to the record: rdata may exceed our cap */
	int rc = util_buf_appendf(&b, "%u %u %u ", t->usage, t->selector, t->mtype);
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < t->len && rc == MXTLS_OK; i++) {
		char pair[2] = {hex[t->data[i] >> 4], hex[t->data[i] & 15]};
		rc = util_buf_append(&b, pair, 2);
	}
	if (t->len == 0 && rc == MXTLS_OK)
		rc = util_buf_append_byte(&b, '-');
	size_t n;
	if (rc == MXTLS_OK)
		rc = util_buf_take(&b, &t->text, &n);
	util_buf_free(&b);
	return rc;
}

/* Fills the verdict fields of a parsed record; *rec becomes *out only on success. */
static int finish(struct dane_tlsa *rec, const char *problem, struct dane_tlsa *out)
{
	if (problem == NULL)
		problem = usability_problem(rec);
	if (problem == no_memory) {
		dane_tlsa_clear(rec);
		return MXTLS_E_NOMEM;
	}
	rec->usable = problem == NULL;
	rec->reason = problem;
	*out = *rec;
	return MXTLS_OK;
}

int dane_tlsa_from_rdata(const uint8_t *p, size_t len, struct dane_tlsa *out)
{
	struct dane_tlsa t = {0};
	struct util_reader r;
	util_reader_init(&r, p, len);
	if (util_reader_u8(&r, &t.usage) != MXTLS_OK || util_reader_u8(&r, &t.selector) != MXTLS_OK ||
	    util_reader_u8(&r, &t.mtype) != MXTLS_OK) {
		t.text = strdup("(truncated rdata)");
		if (t.text == NULL)
			return MXTLS_E_NOMEM;
		return finish(&t, "truncated rdata", out);
	}
	const uint8_t *data;
	size_t n;
	util_reader_rest(&r, &data, &n);
	if (n > 0) {
		t.data = malloc(n);
		if (t.data == NULL)
			return MXTLS_E_NOMEM;
		memcpy(t.data, data, n);
	}
	t.len = n;
	if (make_text(&t) != MXTLS_OK) {
		dane_tlsa_clear(&t);
		return MXTLS_E_NOMEM;
	}
	return finish(&t, NULL, out);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads a decimal field 0-255 at *i; false when there is none. */
static bool read_field(const char *p, size_t len, size_t *i, uint8_t *out)
{
	while (*i < len && util_is_wsp((uint8_t)p[*i]))
		(*i)++;
	size_t start = *i;
	unsigned v = 0;
	while (*i < len && p[*i] >= '0' && p[*i] <= '9' && *i - start < 3)
		v = v * 10 + (unsigned)(p[(*i)++] - '0');
	if (*i == start || v > 255 || (*i < len && !util_is_wsp((uint8_t)p[*i])))
		return false;
	*out = (uint8_t)v;
	return true;
}

int dane_tlsa_from_text(const char *p, size_t len, struct dane_tlsa *out)
{
	struct dane_tlsa t = {0};
	const char *problem = NULL;
	size_t i = 0;
	if (memchr(p, '\0', len) != NULL)
		problem = "NUL byte in record text";
	else if (len > 16 + 2 * DANE_TLSA_DATA_MAX)
		problem = "record text too long";
	else if (!read_field(p, len, &i, &t.usage) || !read_field(p, len, &i, &t.selector) ||
		 !read_field(p, len, &i, &t.mtype))
		problem = "expected 'usage selector mtype hex'";
	if (problem == NULL) {
		t.data = malloc(len / 2 + 1);
		if (t.data == NULL)
			return MXTLS_E_NOMEM;
		int hi = -1;
		for (; i < len && problem == NULL; i++) {
			if (util_is_wsp((uint8_t)p[i]))
				continue;
			int v = hexval(p[i]);
			if (v < 0)
				problem = "association data is not hexadecimal";
			else if (hi < 0)
				hi = v;
			else {
				t.data[t.len++] = (uint8_t)(hi << 4 | v);
				hi = -1;
			}
		}
		if (problem == NULL && hi >= 0)
			problem = "odd number of hex digits";
	}
	if (problem != NULL) {
		free(t.data);
		t.data = NULL;
		t.len = 0;
		t.text = strndup(p, len);
		if (t.text == NULL)
			return MXTLS_E_NOMEM;
		return finish(&t, problem, out);
	}
	if (make_text(&t) != MXTLS_OK) {
		dane_tlsa_clear(&t);
		return MXTLS_E_NOMEM;
	}
	return finish(&t, NULL, out);
}

void dane_tlsa_clear(struct dane_tlsa *t)
{
	if (t == NULL)
		return;
	free(t->data);
	free(t->text);
	memset(t, 0, sizeof *t);
}

size_t dane_tlsa_select(struct dane_tlsa *set, size_t n)
{
	/* RFC 7671 §9: per (usage, selector), the strongest digest present wins. */
	uint8_t best[4][2] = {{0}};
	for (size_t i = 0; i < n; i++) {
		const struct dane_tlsa *t = &set[i];
		if (t->usable && t->mtype > best[t->usage][t->selector])
			best[t->usage][t->selector] = t->mtype;
	}
	size_t usable = 0;
	for (size_t i = 0; i < n; i++) {
		struct dane_tlsa *t = &set[i];
		if (!t->usable)
			continue;
		if (t->mtype != DANE_MTYPE_FULL && t->mtype < best[t->usage][t->selector]) {
			t->usable = false;
			t->reason = "a stronger digest is published for this usage and selector "
				    "(RFC 7671 section 9)";
			continue;
		}
		usable++;
	}
	return usable;
}
