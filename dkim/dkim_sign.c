/* SPDX-License-Identifier: MIT */
/* RFC 6376 signing: the DKIM-Signature header field for a message, rsa-sha256 or ed25519-sha256. */
#include "dkim_sign.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <mxtls/error.h>

#include "dkim_canon.h"
#include "util/util_buf.h"

struct dkim_key {
	gnutls_privkey_t key;
	bool ed25519;
};

const char *const dkim_sign_default_headers[] = {
	"From",
	"To",
	"Cc",
	"Subject",
	"Date",
	"Message-ID",
	"In-Reply-To",
	"References",
	"MIME-Version",
	"Content-Type",
	"Content-Transfer-Encoding",
	"Reply-To",
	"Sender",
	NULL,
};

/* The signed header data and the header field built: both far below this. */
#define DKIM_HEADER_DATA_MAX (DKIM_FIELDS_MAX * (size_t)DKIM_FIELD_MAX)
#define DKIM_SIG_FIELD_MAX   (16 * 1024)
/* The longest field name a caller may ask to sign. */
#define DKIM_NAME_MAX 128

int dkim_key_load_pem(const char *pem, size_t len, struct dkim_key **out)
{
	if (len > DKIM_KEY_PEM_MAX)
		return MXTLS_E_LIMIT;
	if (len == 0 || memchr(pem, '\0', len) != NULL)
		return MXTLS_E_SYNTAX;
	struct dkim_key *k = calloc(1, sizeof *k);
	if (k == NULL)
		return MXTLS_E_NOMEM;
	if (gnutls_privkey_init(&k->key) < 0) {
		free(k);
		return MXTLS_E_NOMEM;
	}
	gnutls_datum_t d = {(unsigned char *)(uintptr_t)pem, (unsigned int)len};
	int rc = MXTLS_OK;
	if (gnutls_privkey_import_x509_raw(k->key, &d, GNUTLS_X509_FMT_PEM, NULL,
					   GNUTLS_PKCS_PLAIN) < 0) {
		rc = MXTLS_E_SYNTAX;
	} else {
		unsigned int bits = 0;
		int alg = gnutls_privkey_get_pk_algorithm(k->key, &bits);
		if (alg == GNUTLS_PK_RSA && bits >= DKIM_RSA_BITS_MIN)
			k->ed25519 = false;
		else if (alg == GNUTLS_PK_EDDSA_ED25519)
			k->ed25519 = true;
		else
			rc = MXTLS_E_CONFIG;
	}
	if (rc != MXTLS_OK) {
		dkim_key_free(k);
		return rc;
	}
	*out = k;
	return MXTLS_OK;
}

void dkim_key_free(struct dkim_key *k)
{
	if (k == NULL)
		return;
	gnutls_privkey_deinit(k->key);
	free(k);
}

const char *dkim_key_algorithm(const struct dkim_key *k)
{
	return k->ed25519 ? "ed25519-sha256" : "rsa-sha256";
}

/* d= and s=: DNS labels (LDH, '_' also for selectors), dot-separated, no empty label. */
static bool valid_name(const char *s, bool selector)
{
	size_t n = s != NULL ? strlen(s) : 0;
	if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '.' || (selector && c == '_');
		if (!ok || (c == '.' && s[i + 1] == '.'))
			return false;
	}
	return true;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 (RFC 4648 §4, with padding) of p[0..n) into out, which has room for 4*((n+2)/3)+1. */
static size_t base64(const unsigned char *p, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

/* The header field being written, with the column of its current line for folding. */
struct folder {
	struct util_buf *b;
	size_t col;
	int rc;
};

/* Appends an atom t[0..n), preceded by one SP (when space) or by a fold when the line would
 * grow past DKIM_FOLD_COLUMN. */
static void put(struct folder *f, const char *t, size_t n, bool space)
{
	if (f->rc != 0)
		return;
	if (f->col + (space ? 1 : 0) + n > DKIM_FOLD_COLUMN && f->col > 1) {
		f->rc = util_buf_append(f->b, "\r\n\t", 3);
		f->col = 1;
	} else if (space) {
		f->rc = util_buf_append_byte(f->b, ' ');
		f->col++;
	}
	if (f->rc == 0)
		f->rc = util_buf_append(f->b, t, n);
	f->col += n;
}

/* Appends a base64 value, split (folded) wherever the line is full: RFC 6376 §3.5 allows FWS
 * anywhere in the bh= and b= values. */
static void put_b64(struct folder *f, const char *t, size_t n)
{
	while (n > 0 && f->rc == 0) {
		size_t room = f->col < DKIM_FOLD_COLUMN ? DKIM_FOLD_COLUMN - f->col : 0;
		if (room == 0) {
			f->rc = util_buf_append(f->b, "\r\n\t", 3);
			f->col = 1;
			continue;
		}
		size_t k = n < room ? n : room;
		f->rc = util_buf_append(f->b, t, k);
		f->col += k;
		t += k;
		n -= k;
	}
}

static int hash_emit(void *arg, const char *p, size_t n)
{
	return gnutls_hash(*(gnutls_hash_hd_t *)arg, p, n) < 0 ? MXTLS_E_INTERNAL : 0;
}

/* bh=: the SHA-256 of the relaxed canonical body (RFC 6376 §3.7), base64. */
static int body_hash(const char *body, size_t len, char out[45])
{
	gnutls_hash_hd_t h;
	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		return MXTLS_E_INTERNAL;
	struct dkim_body_canon c;
	dkim_body_canon_init(&c, hash_emit, &h);
	int rc = dkim_body_canon_update(&c, body, len);
	if (rc == 0)
		rc = dkim_body_canon_final(&c);
	unsigned char digest[32];
	gnutls_hash_deinit(h, digest);
	if (rc == 0)
		base64(digest, sizeof digest, out);
	return rc;
}

struct fields {
	struct dkim_field f[DKIM_FIELDS_MAX];
	bool used[DKIM_FIELDS_MAX];
	size_t n;
};

static size_t count_named(const struct fields *fs, const char *msg, const char *name)
{
	size_t c = 0;
	for (size_t i = 0; i < fs->n; i++)
		if (dkim_canon_name_eq(msg + fs->f[i].start, fs->f[i].name_len, name, strlen(name)))
			c++;
	return c;
}

/* RFC 6376 §5.4.2: each name in h= takes the last instance not yet taken, bottom up; a name
 * with no instance left (an oversigned one) contributes nothing to the hash. */
static int add_signed_field(struct fields *fs, const char *msg, const char *name,
			    struct util_buf *data)
{
	for (size_t i = fs->n; i-- > 0;) {
		if (fs->used[i] || !dkim_canon_name_eq(msg + fs->f[i].start, fs->f[i].name_len,
						       name, strlen(name)))
			continue;
		fs->used[i] = true;
		return dkim_canon_header_relaxed(msg + fs->f[i].start, fs->f[i].len, data);
	}
	return 0;
}

/* The h= list being written. */
struct hlist {
	struct folder *f;
	bool first;
};

/* Lists name in h= once per instance present (once more when oversign), in lower case, one
 * atom each so that a fold falls only before a colon, and appends each instance's canonical
 * form to data. */
static int add_name(struct hlist *h, struct fields *fs, const char *msg, const char *name,
		    bool oversign, struct util_buf *data)
{
	size_t nl = strlen(name);
	char tmp[DKIM_NAME_MAX + 3];
	if (nl == 0 || nl > DKIM_NAME_MAX)
		return MXTLS_E_INVAL;
	for (size_t c = 0; c < nl; c++)
		if ((unsigned char)name[c] <= 32 || (unsigned char)name[c] >= 127 ||
		    name[c] == ':' || name[c] == ';')
			return MXTLS_E_INVAL;
	size_t times = count_named(fs, msg, name) + (oversign ? 1 : 0);
	for (size_t t = 0; t < times; t++) {
		size_t o = 0;
		if (h->first) {
			tmp[o++] = 'h';
			tmp[o++] = '=';
		} else {
			tmp[o++] = ':';
		}
		for (size_t c = 0; c < nl; c++) {
			char ch = name[c];
			tmp[o++] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
		}
		put(h->f, tmp, o, h->first);
		h->first = false;
		int rc = add_signed_field(fs, msg, name, data);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Builds the field up to and including "b=" (the b= value empty, as §3.7 hashes it), listing
 * every name in h= and appending the signed fields' canonical form to data in that order. */
static int build_unsigned(const struct dkim_key *k, const struct dkim_sign_params *p,
			  struct fields *fs, const char *msg, const char *bh,
			  struct util_buf *field, struct util_buf *data)
{
	struct folder f = {field, 0, 0};
	char tmp[320];
	put(&f, "DKIM-Signature:", 15, false);
	put(&f, "v=1;", 4, true);
	int n = snprintf(tmp, sizeof tmp, "a=%s;", dkim_key_algorithm(k));
	put(&f, tmp, (size_t)n, true);
	put(&f, "c=relaxed/relaxed;", 18, true);
	n = snprintf(tmp, sizeof tmp, "d=%s;", p->domain);
	put(&f, tmp, (size_t)n, true);
	n = snprintf(tmp, sizeof tmp, "s=%s;", p->selector);
	put(&f, tmp, (size_t)n, true);
	n = snprintf(tmp, sizeof tmp, "t=%" PRId64 ";", p->timestamp);
	put(&f, tmp, (size_t)n, true);

	const char *const *names = p->headers != NULL ? p->headers : dkim_sign_default_headers;
	struct hlist h = {&f, true};
	bool from_listed = false;
	int rc = 0;
	for (size_t i = 0; names[i] != NULL && rc == 0; i++) {
		bool is_from = dkim_canon_name_eq(names[i], strlen(names[i]), "From", 4);
		if (is_from && from_listed)
			continue;
		from_listed = from_listed || is_from;
		rc = add_name(&h, fs, msg, names[i], is_from, data);
	}
	/* §5.4: From MUST be signed, even when a caller's list forgets it. */
	if (rc == 0 && !from_listed)
		rc = add_name(&h, fs, msg, "From", true, data);
	if (rc != 0)
		return rc;
	put(&f, ";", 1, false);
	/* bh= (48 octets) is one atom: it fits on a line of its own. */
	int n2 = snprintf(tmp, sizeof tmp, "bh=%s;", bh);
	put(&f, tmp, (size_t)n2, true);
	put(&f, "b=", 2, true);
	if (f.rc != 0)
		return f.rc;
	/* §3.7: the DKIM-Signature field itself, canonicalised, b= empty, no final CRLF. */
	rc = dkim_canon_header_relaxed(field->data, field->len, data);
	if (rc == 0)
		data->len -= 2;
	return rc;
}

/* RFC 8463 §3: ed25519-sha256 signs (PureEdDSA) the SHA-256 hash of the data; rsa-sha256
 * is RSASSA-PKCS1-v1_5 with SHA-256 over the data (RFC 6376 §3.3.1). */
static int sign_data(const struct dkim_key *k, const struct util_buf *data, gnutls_datum_t *sig)
{
	gnutls_datum_t d = {(unsigned char *)data->data, (unsigned int)data->len};
	if (k->ed25519) {
		unsigned char digest[32];
		if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data->data, data->len, digest) < 0)
			return MXTLS_E_INTERNAL;
		gnutls_datum_t h = {digest, sizeof digest};
		return gnutls_privkey_sign_data2(k->key, GNUTLS_SIGN_EDDSA_ED25519, 0, &h, sig) < 0
			       ? MXTLS_E_INTERNAL
			       : 0;
	}
	return gnutls_privkey_sign_data2(k->key, GNUTLS_SIGN_RSA_SHA256, 0, &d, sig) < 0
		       ? MXTLS_E_INTERNAL
		       : 0;
}

int dkim_sign(const struct dkim_key *k, const struct dkim_sign_params *p, const char *msg,
	      size_t len, char **out, size_t *out_len)
{
	if (k == NULL || p == NULL || !valid_name(p->domain, false) ||
	    !valid_name(p->selector, true) || p->timestamp < 0)
		return MXTLS_E_INVAL;
	if (len > DKIM_MESSAGE_MAX)
		return MXTLS_E_LIMIT;
	struct fields *fs = calloc(1, sizeof *fs);
	if (fs == NULL)
		return MXTLS_E_NOMEM;
	size_t pos = 0;
	int rc;
	struct dkim_field f;
	while ((rc = dkim_canon_field_next(msg, len, &pos, &f)) == 1) {
		if (fs->n == DKIM_FIELDS_MAX) {
			rc = MXTLS_E_LIMIT;
			break;
		}
		fs->f[fs->n++] = f;
	}
	if (rc == 0 && count_named(fs, msg, "From") == 0)
		rc = MXTLS_E_SYNTAX;
	char bh[45];
	if (rc == 0)
		rc = body_hash(msg + pos, len - pos, bh);
	struct util_buf field, data;
	util_buf_init(&field, DKIM_SIG_FIELD_MAX);
	util_buf_init(&data, DKIM_HEADER_DATA_MAX);
	if (rc == 0)
		rc = build_unsigned(k, p, fs, msg, bh, &field, &data);
	gnutls_datum_t sig = {NULL, 0};
	if (rc == 0)
		rc = sign_data(k, &data, &sig);
	if (rc == 0) {
		char *s64 = malloc(4 * ((sig.size + 2) / 3) + 1);
		if (s64 == NULL) {
			rc = MXTLS_E_NOMEM;
		} else {
			size_t n = base64(sig.data, sig.size, s64);
			/* The column after "b=": the last line of the field so far. */
			size_t col = field.len;
			for (size_t i = field.len; i > 0; i--)
				if (field.data[i - 1] == '\n') {
					col = field.len - i; /* the TAB counts as one column */
					break;
				}
			struct folder fo = {&field, col, 0};
			put_b64(&fo, s64, n);
			rc = fo.rc;
			if (rc == 0)
				rc = util_buf_append(&field, "\r\n", 2);
			free(s64);
		}
		gnutls_free(sig.data);
	}
	char *res = NULL;
	size_t res_len = 0;
	if (rc == 0)
		rc = util_buf_take(&field, &res, &res_len);
	util_buf_free(&field);
	util_buf_free(&data);
	free(fs);
	if (rc != 0)
		return rc;
	*out = res;
	*out_len = res_len;
	return MXTLS_OK;
}
