/* SPDX-License-Identifier: MIT */
/* Bounded rdata parsers: every byte is read through util_reader. */
#include "dns/dns_rdata.h"

#include <stdbool.h>
#include <string.h>

#include <mxtls/error.h>

#include "util/util_reader.h"
#include "util/util_text.h"

static bool label_byte(uint8_t c)
{
	return util_is_alpha(c) || util_is_digit(c) || c == '-' || c == '_';
}

/* Reads a name from r into out; see dns_rdata_name(). */
static int read_name(struct util_reader *r, char *out)
{
	size_t start = r->pos, n = 0;
	for (;;) {
		uint8_t l;
		int rc = util_reader_u8(r, &l);
		if (rc != MXTLS_OK)
			goto fail_rc;
		if (l == 0)
			break;
		if (l > 63) {
			rc = MXTLS_E_SYNTAX; /* compression pointers are not allowed in rdata we get */
			goto fail_rc;
		}
		const uint8_t *label;
		rc = util_reader_bytes(r, l, &label);
		if (rc != MXTLS_OK)
			goto fail_rc;
		if (n + (n > 0) + l > DNS_NAME_TEXT_MAX - 1) {
			rc = MXTLS_E_LIMIT;
			goto fail_rc;
		}
		if (n > 0)
			out[n++] = '.';
		for (size_t i = 0; i < l; i++) {
			if (!label_byte(label[i])) {
				rc = MXTLS_E_SYNTAX;
				goto fail_rc;
			}
			out[n++] = util_lower(label[i]);
		}
		continue;
	fail_rc:
		r->pos = start;
		return rc;
	}
	if (n == 0)
		out[n++] = '.';
	out[n] = '\0';
	return MXTLS_OK;
}

int dns_rdata_name(const uint8_t *p, size_t len, char *out, size_t *used)
{
	struct util_reader r;
	util_reader_init(&r, p, len);
	char tmp[DNS_NAME_TEXT_MAX];
	int rc = read_name(&r, tmp);
	if (rc != MXTLS_OK)
		return rc;
	memcpy(out, tmp, strlen(tmp) + 1);
	*used = r.pos;
	return MXTLS_OK;
}

int dns_rdata_mx(const uint8_t *p, size_t len, struct dns_mx *out)
{
	struct util_reader r;
	util_reader_init(&r, p, len);
	struct dns_mx mx;
	int rc = util_reader_u16(&r, &mx.preference);
	if (rc == MXTLS_OK)
		rc = read_name(&r, mx.exchange);
	if (rc == MXTLS_OK && !util_reader_at_end(&r))
		rc = MXTLS_E_SYNTAX; /* trailing bytes after the exchange */
	if (rc == MXTLS_OK)
		*out = mx;
	return rc;
}

static int txt_join(const uint8_t *p, size_t len, char *out, size_t cap, size_t *outlen)
{
	struct util_reader r;
	util_reader_init(&r, p, len);
	size_t n = 0;
	while (!util_reader_at_end(&r)) {
		uint8_t l;
		const uint8_t *s;
		int rc = util_reader_u8(&r, &l);
		if (rc == MXTLS_OK)
			rc = util_reader_bytes(&r, l, &s);
		if (rc != MXTLS_OK)
			return rc;
		if (memchr(s, '\0', l) != NULL)
			return MXTLS_E_SYNTAX;
		if (cap == 0 || n + l > cap - 1)
			return MXTLS_E_LIMIT;
		memcpy(out + n, s, l);
		n += l;
	}
	if (cap == 0)
		return MXTLS_E_LIMIT;
	out[n] = '\0';
	*outlen = n;
	return MXTLS_OK;
}

int dns_rdata_txt(const uint8_t *p, size_t len, char *out, size_t cap, size_t *outlen)
{
	int rc = txt_join(p, len, out, cap, outlen);
	if (rc != MXTLS_OK && cap > 0)
		out[0] = '\0'; /* nothing half-built is left behind */
	return rc;
}
