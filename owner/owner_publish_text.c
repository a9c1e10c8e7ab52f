/* SPDX-License-Identifier: MIT */
/* What a domain owner publishes (mxtls publish): policy file, TXT and TLSA lines.  Pure. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mxtls/error.h>

#include "owner/owner_publish_text.h"
#include "sts/sts_txt.h"
#include "util/util_dnsname.h"
#include "util/util_text.h"

/* The caps of RFC 8460 §3 as tlsrpt/ applies them (that room is out of reach from owner/). */
#define OWNER_TLSRPT_RECORD_MAX 8192
#define OWNER_TLSRPT_URI_MAX    2048
/* RFC 1035 §3.3: a character-string is at most 255 octets. */
#define OWNER_TXT_STRING_MAX 255

static bool in_list(char **names, size_t n, const char *s)
{
	for (size_t k = 0; k < n; k++)
		if (strcmp(names[k], s) == 0)
			return true;
	return false;
}

/* RFC 8461 §3.2:
 *   sts-policy-record  = sts-policy-field *WSP *(sts-policy-term *WSP)
 *   sts-policy-version = "version:" *WSP "STSv1"
 *   sts-policy-mode    = "mode:" *WSP ("testing" / "enforce" / "none")
 *   sts-policy-mx      = "mx:" *WSP sts-policy-mx-value     (one per host)
 *   sts-policy-max-age = "max_age:" *WSP 1*10DIGIT
 *   sts-policy-term    = CRLF                                (erratum 6253 adds LF) */
int owner_policy_text(enum sts_mode mode, const char *const *mx, size_t nmx, char **out)
{
	if (out == NULL || mx == NULL || nmx == 0 ||
	    (mode != STS_MODE_ENFORCE && mode != STS_MODE_TESTING))
		return MXTLS_E_INVAL;
	char **canon = calloc(nmx, sizeof *canon);
	if (canon == NULL)
		return MXTLS_E_NOMEM;
	size_t n = 0;
	int rc = MXTLS_OK;
	for (size_t k = 0; k < nmx && rc == MXTLS_OK; k++) {
		char name[STS_POLICY_MX_LEN_MAX + 1];
		if (mx[k] == NULL || !util_dnsname_canon(mx[k], strlen(mx[k]), name, sizeof name))
			rc = MXTLS_E_SYNTAX;
		else if (!in_list(canon, n, name) && (canon[n++] = strdup(name)) == NULL)
			rc = MXTLS_E_NOMEM;
	}
	char *text = NULL;
	size_t len = 0;
	FILE *f = rc == MXTLS_OK ? open_memstream(&text, &len) : NULL;
	if (rc == MXTLS_OK && f == NULL)
		rc = MXTLS_E_NOMEM;
	if (f != NULL) {
		fprintf(f, "version: STSv1\r\nmode: %s\r\n", sts_policy_mode_name(mode));
		for (size_t k = 0; k < n; k++)
			fprintf(f, "mx: %s\r\n", canon[k]);
		fprintf(f, "max_age: %u\r\n",
			mode == STS_MODE_ENFORCE ? OWNER_MAX_AGE_ENFORCE : OWNER_MAX_AGE_TESTING);
		if (fclose(f) != 0 || text == NULL)
			rc = MXTLS_E_NOMEM;
	}
	for (size_t k = 0; k < n; k++)
		free(canon[k]);
	free(canon);
	if (rc != MXTLS_OK) {
		free(text);
		return rc;
	}
	/* What we print must be what a sender accepts, with no warning. */
	struct sts_policy pol;
	struct sts_report rep;
	rc = sts_policy_parse(text, len, &pol, &rep);
	if (rc == MXTLS_OK) {
		bool same = pol.mode == mode && pol.nmx == n && rep.warnings.n == 0;
		sts_policy_clear(&pol);
		if (!same)
			rc = MXTLS_E_SYNTAX;
	} else if (rc != MXTLS_E_NOMEM) {
		rc = MXTLS_E_SYNTAX;
	}
	if (rc != MXTLS_OK) {
		free(text);
		return rc;
	}
	*out = text;
	return MXTLS_OK;
}

/* FNV-1a, 64 bits: the id only has to differ when the text differs (it is public, so no
 * secret or collision resistance against an adversary is involved: the owner writes both). */
static uint64_t text_hash(const char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325u;
	for (size_t k = 0; k < len; k++) {
		h ^= (uint8_t)p[k];
		h *= 0x100000001b3u;
	}
	return h;
}

void owner_policy_id(const char *p, size_t len, int64_t now, char out[OWNER_ID_LEN + 1])
{
	time_t t = (time_t)now;
	struct tm tm;
	if (now < 0 || gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999)
		memset(&tm, 0, sizeof tm);
	char stamp[64];
	snprintf(stamp, sizeof stamp, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	snprintf(out, OWNER_ID_LEN + 1, "%.14s%016llx", stamp,
		 (unsigned long long)text_hash(p, len));
}

/* RFC 8461 §3.1: sts-id-value = 1*32(ALPHA / DIGIT). */
static bool id_valid(const char *id, size_t len)
{
	if (len == 0 || len > STS_TXT_ID_MAX)
		return false;
	for (size_t k = 0; k < len; k++)
		if (!util_is_alpha((uint8_t)id[k]) && !util_is_digit((uint8_t)id[k]))
			return false;
	return true;
}

bool owner_policy_id_choose(const char *p, size_t len, const char *prev, size_t prevlen,
			    const char *prev_id, int64_t now, char out[33])
{
	if (prev != NULL && prev_id != NULL && prevlen == len && memcmp(prev, p, len) == 0 &&
	    id_valid(prev_id, strlen(prev_id))) {
		snprintf(out, STS_TXT_ID_MAX + 1, "%s", prev_id);
		return true;
	}
	owner_policy_id(p, len, now, out);
	return false;
}

bool owner_zone_prev_id(const char *zone, size_t len, const char *domain, char out[33])
{
	if (zone == NULL || domain == NULL)
		return false;
	char head[300];
	int hl = snprintf(head, sizeof head, "_mta-sts.%s. IN TXT \"v=STSv1; id=", domain);
	if (hl < 0 || (size_t)hl >= sizeof head)
		return false;
	size_t at = 0;
	while (at < len) {
		const char *nl = memchr(zone + at, '\n', len - at);
		size_t end = nl != NULL ? (size_t)(nl - zone) : len;
		const char *line = zone + at;
		size_t ll = end - at;
		if (ll > (size_t)hl && memcmp(line, head, (size_t)hl) == 0) {
			const char *id = line + hl;
			const char *q = memchr(id, '"', ll - (size_t)hl);
			if (q != NULL && id_valid(id, (size_t)(q - id))) {
				memcpy(out, id, (size_t)(q - id));
				out[q - id] = '\0';
				return true;
			}
		}
		at = end + 1;
	}
	return false;
}

int owner_sts_txt(const char *id, char **out)
{
	if (id == NULL || out == NULL)
		return MXTLS_E_INVAL;
	if (!id_valid(id, strlen(id)))
		return MXTLS_E_SYNTAX;
	char *t = NULL;
	if (asprintf(&t, "v=STSv1; id=%s", id) < 0)
		return MXTLS_E_NOMEM;
	/* RFC 8461 §3.1: the record must parse as senders parse it, with no warning. */
	struct sts_txt txt;
	struct sts_report rep;
	if (sts_txt_parse(t, strlen(t), &txt, &rep) != MXTLS_OK || strcmp(txt.id, id) != 0 ||
	    rep.warnings.n != 0) {
		free(t);
		return MXTLS_E_SYNTAX;
	}
	*out = t;
	return MXTLS_OK;
}

/* Characters allowed in a report URI as publish writes it: printable ASCII without those RFC
 * 8460 §3 says must be encoded (",", "!"), the field separator ";", and those a zone file or
 * a TXT string would need escaped ('"', '\\', space). */
static bool uri_char(uint8_t c)
{
	return c > 0x20 && c < 0x7f && c != ',' && c != '!' && c != ';' && c != '"' && c != '\\';
}

static bool pct_ok(const char *p, size_t len)
{
	for (size_t k = 0; k < len; k++) {
		if (!uri_char((uint8_t)p[k]))
			return false;
		if (p[k] == '%' && (k + 2 >= len || !isxdigit((unsigned char)p[k + 1]) ||
				    !isxdigit((unsigned char)p[k + 2])))
			return false;
	}
	return true;
}

static bool local_char(uint8_t c)
{
	return util_is_alpha(c) || util_is_digit(c) || strchr(".-_+=%'*/?^`{|}~#$&", c) != NULL;
}

/* "mailto:" local "@" host (RFC 8460 §3, RFC 6068). */
static const char *check_mailto(const char *u, size_t len)
{
	const char *at = NULL;
	for (size_t k = 0; k < len; k++)
		if (u[k] == '@')
			at = u + k;
	if (at == NULL || at == u)
		return "a mailto: URI needs an address local@host";
	size_t ll = (size_t)(at - u);
	if (ll > 64)
		return "the local part of a mailto: address is longer than 64";
	for (size_t k = 0; k < ll; k++)
		if (!local_char((uint8_t)u[k]) || u[0] == '.' || u[ll - 1] == '.')
			return "the local part of a mailto: address has a character that needs "
			       "encoding";
	if (!pct_ok(u, ll))
		return "a bad percent-encoding in a mailto: address";
	const char *host = at + 1;
	size_t hl = len - ll - 1;
	if (hl == 0 || host[hl - 1] == '.' || !util_dnsname_valid(host, hl, false) ||
	    memchr(host, '.', hl) == NULL)
		return "the domain of a mailto: address is not a host name";
	return NULL;
}

/* "https://" host [":" port] ["/" path] (RFC 8460 §3, RFC 9110 §4.2.2). */
static const char *check_https(const char *u, size_t len)
{
	size_t hl = 0;
	while (hl < len && u[hl] != ':' && u[hl] != '/')
		hl++;
	if (hl == 0 || u[hl - 1] == '.' || !util_dnsname_valid(u, hl, false) ||
	    memchr(u, '.', hl) == NULL)
		return "an https: URI needs a host name";
	size_t k = hl;
	if (k < len && u[k] == ':') {
		size_t d = ++k;
		unsigned long port = 0;
		while (k < len && util_is_digit((uint8_t)u[k]) && port <= 65535)
			port = port * 10 + (unsigned long)(u[k++] - '0');
		if (k == d || port == 0 || port > 65535)
			return "an https: URI has a bad port";
	}
	if (k < len && u[k] != '/')
		return "an https: URI has something other than a path after the host";
	if (!pct_ok(u + k, len - k))
		return "an https: URI has a character that needs encoding (, ! ; space \" \\)";
	return NULL;
}

int owner_tlsrpt_txt(const char *const *rua, size_t n, char **out, const char **why)
{
	const char *dummy;
	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (rua == NULL || n == 0 || out == NULL)
		return MXTLS_E_INVAL;
	for (size_t k = 0; k < n; k++) {
		const char *u = rua[k];
		if (u == NULL)
			return MXTLS_E_INVAL;
		size_t len = strlen(u);
		if (len > OWNER_TLSRPT_URI_MAX) {
			*why = "a report URI is longer than 2048";
			return MXTLS_E_LIMIT;
		}
		if (strncmp(u, "mailto:", 7) == 0)
			*why = check_mailto(u + 7, len - 7);
		else if (strncmp(u, "https://", 8) == 0)
			*why = check_https(u + 8, len - 8);
		else
			*why = "a report URI begins with mailto: or https:// (RFC 8460 section 3)";
		if (*why != NULL)
			return MXTLS_E_SYNTAX;
	}
	char *t = NULL;
	size_t tl = 0;
	FILE *f = open_memstream(&t, &tl);
	if (f == NULL)
		return MXTLS_E_NOMEM;
	/* RFC 8460 §3: tlsrpt-rua = "rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri) */
	fputs("v=TLSRPTv1; rua=", f);
	for (size_t k = 0; k < n; k++)
		fprintf(f, "%s%s", k > 0 ? "," : "", rua[k]);
	if (fclose(f) != 0 || t == NULL) {
		free(t);
		return MXTLS_E_NOMEM;
	}
	if (tl > OWNER_TLSRPT_RECORD_MAX) {
		free(t);
		*why = "the _smtp._tls record would be longer than 8192";
		return MXTLS_E_LIMIT;
	}
	*out = t;
	return MXTLS_OK;
}

int owner_txt_line(const char *owner, const char *text, char **out)
{
	if (owner == NULL || text == NULL || out == NULL)
		return MXTLS_E_INVAL;
	if (!util_dnsname_valid(owner, strlen(owner), false))
		return MXTLS_E_SYNTAX;
	for (const char *c = text; *c != '\0'; c++)
		if ((uint8_t)*c < 0x20 || (uint8_t)*c > 0x7e || *c == '"' || *c == '\\')
			return MXTLS_E_SYNTAX;
	char *t = NULL;
	size_t tl = 0;
	FILE *f = open_memstream(&t, &tl);
	if (f == NULL)
		return MXTLS_E_NOMEM;
	fprintf(f, "%s%s IN TXT", owner, owner[strlen(owner) - 1] == '.' ? "" : ".");
	size_t len = strlen(text);
	size_t at = 0;
	do {
		size_t chunk = len - at < OWNER_TXT_STRING_MAX ? len - at : OWNER_TXT_STRING_MAX;
		fprintf(f, " \"%.*s\"", (int)chunk, text + at);
		at += chunk;
	} while (at < len);
	if (fclose(f) != 0 || t == NULL) {
		free(t);
		return MXTLS_E_NOMEM;
	}
	*out = t;
	return MXTLS_OK;
}

int owner_tlsa_line(const char *host, const char *rdata, char **out)
{
	if (host == NULL || rdata == NULL || out == NULL)
		return MXTLS_E_INVAL;
	size_t hl = strlen(host);
	if (hl == 0 || !util_dnsname_valid(host, hl, false))
		return MXTLS_E_SYNTAX;
	for (const char *c = rdata; *c != '\0'; c++)
		if (!util_is_digit((uint8_t)*c) && *c != ' ' && !isxdigit((unsigned char)*c))
			return MXTLS_E_SYNTAX;
	if (asprintf(out, "_25._tcp.%.*s. IN TLSA %s", (int)(host[hl - 1] == '.' ? hl - 1 : hl),
		     host, rdata) < 0)
		return MXTLS_E_NOMEM;
	return MXTLS_OK;
}

static void zone_host(FILE *f, const struct owner_host *h, int *rc)
{
	fprintf(f, "; %s (preference %u): ", h->name, h->preference);
	if (h->dnssec)
		fputs("DNSSEC-signed, DANE senders look up this record.\n", f);
	else
		/* RFC 7672 §2.2: TLSA records are only looked up when the MX and address lookups
		 * are DNSSEC-secure; in an unsigned zone they do nothing. */
		fputs("not DNSSEC-signed (MX or address lookup insecure): senders never look\n"
		      "; up TLSA here (RFC 7672 section 2.2). Sign the zone, then publish:\n",
		      f);
	if (h->ntlsa > 1)
		fputs("; Its addresses present different keys: one record for each.\n", f);
	char *line = NULL;
	for (size_t k = 0; k < h->ntlsa; k++) {
		int r = owner_tlsa_line(h->name, h->tlsa[k], &line);
		if (r != MXTLS_OK) {
			*rc = r;
			return;
		}
		fprintf(f, "%s%s\n", h->dnssec ? "" : "; ", line);
		free(line);
	}
	/* RFC 7671 §8.1 and RFC 7672 §4: rollover. */
	fputs("; Rollover: 3 1 1 pins this key. Renew with the same key (e.g. certbot\n"
	      "; --reuse-key) and the record stays valid; for a new key, publish its 3 1 1\n"
	      "; beside this one at least two TTLs before the new certificate is deployed,\n"
	      "; and remove the old record only afterwards.\n",
	      f);
	if (h->issuer != NULL && owner_tlsa_line(h->name, h->issuer, &line) == MXTLS_OK) {
		fprintf(f,
			"; Or pin the issuing CA too (the server must keep sending it in its\n"
			"; chain, RFC 7671 section 5.2.2; valid across renewals by the same CA):\n"
			"; %s\n",
			line);
		free(line);
	}
}

int owner_zone_text(const struct owner_publish_view *v, char **out)
{
	if (v == NULL || out == NULL || v->domain == NULL || v->sts_txt == NULL || v->id == NULL)
		return MXTLS_E_INVAL;
	char *t = NULL;
	size_t tl = 0;
	FILE *f = open_memstream(&t, &tl);
	if (f == NULL)
		return MXTLS_E_NOMEM;
	int rc = MXTLS_OK;
	char *line = NULL;
	char owner[300];
	fprintf(f, "; mxtls publish %s: MTA-STS mode %s, %zu MX host%s.\n", v->domain,
		sts_policy_mode_name(v->mode), v->nhosts, v->nhosts == 1 ? "" : "s");
	/* RFC 8461 §8.1: the policy first, then the record that announces it. */
	fprintf(f,
		"; MTA-STS (RFC 8461 section 3): first serve the policy file (mta-sts.txt) at\n"
		";   https://mta-sts.%s/.well-known/mta-sts.txt\n"
		"; then publish this record (id %s).\n",
		v->domain, v->id_reused ? "unchanged: the policy text is the same" : "new");
	snprintf(owner, sizeof owner, "_mta-sts.%s", v->domain);
	rc = owner_txt_line(owner, v->sts_txt, &line);
	if (rc == MXTLS_OK) {
		fprintf(f, "%s\n", line);
		free(line);
		line = NULL;
	}
	if (rc == MXTLS_OK && v->tlsrpt_txt != NULL) {
		fputs("; TLS reporting (RFC 8460 section 3): where senders send their daily "
		      "reports.\n",
		      f);
		snprintf(owner, sizeof owner, "_smtp._tls.%s", v->domain);
		rc = owner_txt_line(owner, v->tlsrpt_txt, &line);
		if (rc == MXTLS_OK) {
			fprintf(f, "%s\n", line);
			free(line);
		}
	}
	if (rc == MXTLS_OK && v->nhosts > 0)
		fputs("; DANE (RFC 7672): TLSA of the certificate each MX host presents now.\n", f);
	for (size_t k = 0; k < v->nhosts && rc == MXTLS_OK; k++)
		zone_host(f, &v->hosts[k], &rc);
	if (fclose(f) != 0 || t == NULL) {
		free(t);
		return MXTLS_E_NOMEM;
	}
	if (rc != MXTLS_OK) {
		free(t);
		return rc;
	}
	*out = t;
	return MXTLS_OK;
}
