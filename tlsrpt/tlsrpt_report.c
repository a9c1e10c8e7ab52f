/* SPDX-License-Identifier: MIT */
/* RFC 8460 §4 report JSON (jansson), §5.2 gzip (zlib), §5.1 file name; UTC day arithmetic. */
#include "tlsrpt/tlsrpt_report.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

#include <mxtls/error.h>

#include "util/util_dnsname.h"

/* Last day tlsrpt_day_format() writes: 9999-12-31. */
#define DAY_LAST 2932896

const char *tlsrpt_policy_type_name(enum tlsrpt_policy_type t)
{
	/* RFC 8460 §4.4: "policy-type": one of "tlsa", "sts", "no-policy-found". */
	switch (t) {
	case TLSRPT_POLICY_TLSA:
		return "tlsa";
	case TLSRPT_POLICY_STS:
		return "sts";
	case TLSRPT_POLICY_NONE:
		return "no-policy-found";
	}
	return NULL;
}

/* ---- UTC days (proleptic Gregorian calendar, as RFC 3339 §5.6 full-date) ---- */

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* Days from 1970-01-01 to y-m-d, counting whole years then months: years are few here (at
 * most 8030), so a loop is clearer than the era arithmetic and fast enough. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t n = 0;
	for (int64_t yy = 1970; yy < y; yy++)
		n += leap(yy) ? 366 : 365;
	for (int mm = 1; mm < m; mm++)
		n += month_days(y, mm);
	return n + d - 1;
}

int tlsrpt_day_parse(const char *s, int64_t *day)
{
	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return MXTLS_E_SYNTAX;
	int v[8], k = 0;
	for (int i = 0; i < 10; i++) {
		if (i == 4 || i == 7)
			continue;
		if (s[i] < '0' || s[i] > '9')
			return MXTLS_E_SYNTAX;
		v[k++] = s[i] - '0';
	}
	int64_t y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
	int m = v[4] * 10 + v[5], d = v[6] * 10 + v[7];
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > month_days(y, m))
		return MXTLS_E_SYNTAX;
	*day = days_from_civil(y, m, d);
	return MXTLS_OK;
}

void tlsrpt_day_format(int64_t day, char buf[11])
{
	if (day < 0)
		day = 0;
	if (day > DAY_LAST)
		day = DAY_LAST;
	int64_t y = 1970;
	for (;;) {
		int64_t len = leap(y) ? 366 : 365;
		if (day < len)
			break;
		day -= len;
		y++;
	}
	int m = 1;
	while (day >= month_days(y, m)) {
		day -= month_days(y, m);
		m++;
	}
	/* The ranges above keep every field in its width: y 1970-9999, m 1-12, day 1-31. */
	char tmp[48];
	snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", (int)y, m, (int)day + 1);
	memcpy(buf, tmp, 10);
	buf[10] = '\0';
}

/* ---- the report JSON ---- */

/*
 * RFC 8460 §4.4 date-range: the full UTC day.  §4.1 says "00:00-24:00 UTC" while the §4.4
 * example ends the day at "T23:59:59Z"; the project's decision D9 (RFC-CHECKLIST.md) takes the
 * text: the range ends at 00:00:00Z of the next day, and the file name's end-timestamp is that
 * instant (the reading side accepts both forms).
 */
static int64_t day_begin(int64_t day)
{
	return day * TLSRPT_DAY_SECONDS;
}

static int64_t day_end(int64_t day)
{
	return day * TLSRPT_DAY_SECONDS + TLSRPT_DAY_SECONDS;
}

/* Adds key: string.  jansson refuses text that is not UTF-8 (json_string() gives NULL); it
 * escapes quotes, backslashes and control characters itself when dumping. */
static int put_string(json_t *obj, const char *key, const char *s)
{
	json_t *v = json_string(s);
	if (v == NULL)
		return MXTLS_E_SYNTAX;
	return json_object_set_new(obj, key, v) == 0 ? MXTLS_OK : MXTLS_E_NOMEM;
}

/* Adds key: string only when the value is known (RFC 8460 §4.4 optional members are left out,
 * never written as null). */
static int put_optional(json_t *obj, const char *key, const char *s)
{
	return s == NULL || s[0] == '\0' ? MXTLS_OK : put_string(obj, key, s);
}

static int put_count(json_t *obj, const char *key, uint64_t n)
{
	if (n > TLSRPT_COUNT_MAX)
		return MXTLS_E_LIMIT;
	json_t *v = json_integer((json_int_t)n);
	if (v == NULL)
		return MXTLS_E_NOMEM;
	return json_object_set_new(obj, key, v) == 0 ? MXTLS_OK : MXTLS_E_NOMEM;
}

/* key: [strings...] — an array even when empty or of one element (RFC 8460 §4.4: policy-string
 * and, per erratum 6241, mx-host are arrays). */
static int put_array(json_t *obj, const char *key, const char *const *s, size_t n)
{
	json_t *a = json_array();
	if (a == NULL)
		return MXTLS_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *v = s[i] != NULL ? json_string(s[i]) : NULL;
		if (v == NULL) {
			json_decref(a);
			return MXTLS_E_SYNTAX;
		}
		if (json_array_append_new(a, v) != 0) {
			json_decref(a);
			return MXTLS_E_NOMEM;
		}
	}
	return json_object_set_new(obj, key, a) == 0 ? MXTLS_OK : MXTLS_E_NOMEM;
}

/* Appends a new object to array and returns it (borrowed), or NULL when out of memory. */
static json_t *append_object(json_t *array)
{
	json_t *o = json_object();
	if (o == NULL || json_array_append_new(array, o) != 0)
		return NULL;
	return o;
}

/* One failure-details entry, members in the order of RFC 8460 §4.4. */
static int put_failure(json_t *details, const struct tlsrpt_failure *f)
{
	if (f->result_type == NULL || f->result_type[0] == '\0')
		return MXTLS_E_INVAL;
	json_t *o = append_object(details);
	if (o == NULL)
		return MXTLS_E_NOMEM;
	int rc = put_string(o, "result-type", f->result_type);
	if (rc == MXTLS_OK)
		rc = put_optional(o, "sending-mta-ip", f->sending_mta_ip);
	if (rc == MXTLS_OK)
		rc = put_optional(o, "receiving-mx-hostname", f->receiving_mx_hostname);
	if (rc == MXTLS_OK)
		rc = put_optional(o, "receiving-mx-helo", f->receiving_mx_helo);
	if (rc == MXTLS_OK)
		rc = put_optional(o, "receiving-ip", f->receiving_ip);
	if (rc == MXTLS_OK)
		rc = put_count(o, "failed-session-count", f->count);
	if (rc == MXTLS_OK)
		rc = put_optional(o, "additional-information", f->additional_information);
	if (rc == MXTLS_OK)
		rc = put_optional(o, "failure-reason-code", f->failure_reason_code);
	return rc;
}

/* One policies[] element: policy, summary, failure-details (RFC 8460 §4.4). */
static int put_policy(json_t *policies, const struct tlsrpt_policy *p)
{
	const char *type = tlsrpt_policy_type_name(p->type);
	if (type == NULL || p->domain == NULL || p->domain[0] == '\0')
		return MXTLS_E_INVAL;
	json_t *entry = append_object(policies);
	json_t *pol = json_object(), *sum = json_object(), *details = json_array();
	int rc = MXTLS_E_NOMEM;
	if (entry == NULL || pol == NULL || sum == NULL || details == NULL)
		goto out;
	if ((rc = put_string(pol, "policy-type", type)) != MXTLS_OK ||
	    (rc = put_array(pol, "policy-string", p->strings, p->nstrings)) != MXTLS_OK ||
	    (rc = put_string(pol, "policy-domain", p->domain)) != MXTLS_OK ||
	    (rc = put_array(pol, "mx-host", p->mx, p->nmx)) != MXTLS_OK)
		goto out;
	if ((rc = put_count(sum, "total-successful-session-count", p->successes)) != MXTLS_OK ||
	    (rc = put_count(sum, "total-failure-session-count", p->failures)) != MXTLS_OK)
		goto out;
	for (size_t i = 0; i < p->ndetails; i++)
		if ((rc = put_failure(details, &p->details[i])) != MXTLS_OK)
			goto out;
	rc = MXTLS_E_NOMEM;
	if (json_object_set(entry, "policy", pol) != 0 ||
	    json_object_set(entry, "summary", sum) != 0 ||
	    json_object_set(entry, "failure-details", details) != 0)
		goto out;
	rc = MXTLS_OK;
out:
	json_decref(pol);
	json_decref(sum);
	json_decref(details);
	return rc;
}

static int put_datetime(json_t *obj, const char *key, int64_t day, const char *time)
{
	char d[11], s[32];
	tlsrpt_day_format(day, d);
	snprintf(s, sizeof s, "%sT%sZ", d, time); /* RFC 3339 §5.6 date-time, UTC */
	return put_string(obj, key, s);
}

/* The whole report as a jansson object, members in the §4.4 order. */
static int build(const struct tlsrpt_report_in *in, const char *report_id, json_t **out)
{
	json_t *root = json_object(), *range = json_object(), *policies = json_array();
	int rc = MXTLS_E_NOMEM;
	if (root == NULL || range == NULL || policies == NULL)
		goto fail;
	if ((rc = put_string(root, "organization-name", in->organization)) != MXTLS_OK)
		goto fail;
	if ((rc = put_datetime(range, "start-datetime", in->day, "00:00:00")) != MXTLS_OK ||
	    (rc = put_datetime(range, "end-datetime", in->day + 1, "00:00:00")) != MXTLS_OK)
		goto fail;
	rc = MXTLS_E_NOMEM;
	if (json_object_set(root, "date-range", range) != 0)
		goto fail;
	if ((rc = put_string(root, "contact-info", in->contact)) != MXTLS_OK ||
	    (rc = put_string(root, "report-id", report_id)) != MXTLS_OK)
		goto fail;
	/* RFC 8460 §4.4: "policies" MUST be an array, even with one policy. */
	for (size_t i = 0; i < in->npolicies; i++)
		if ((rc = put_policy(policies, &in->policies[i])) != MXTLS_OK)
			goto fail;
	rc = MXTLS_E_NOMEM;
	if (json_object_set(root, "policies", policies) != 0)
		goto fail;
	json_decref(range);
	json_decref(policies);
	*out = root;
	return MXTLS_OK;
fail:
	json_decref(root);
	json_decref(range);
	json_decref(policies);
	return rc;
}

/* Dumps compact JSON plus a newline into a malloc'd string. */
static int dump(json_t *root, char **out, size_t *outlen)
{
	/* Compact, members in insertion order (jansson keeps it), UTF-8 as is: the smallest
	 * file, byte-identical for the same input. */
	char *s = json_dumps(root, JSON_COMPACT);
	if (s == NULL)
		return MXTLS_E_NOMEM;
	size_t n = strlen(s);
	if (n > TLSRPT_JSON_MAX) {
		free(s);
		return MXTLS_E_LIMIT;
	}
	char *t = realloc(s, n + 2);
	if (t == NULL) {
		free(s);
		return MXTLS_E_NOMEM;
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	*out = t;
	*outlen = n + 1;
	return MXTLS_OK;
}

int tlsrpt_report_json(const struct tlsrpt_report_in *in, char **out, size_t *outlen)
{
	if (in == NULL || out == NULL || outlen == NULL || in->organization == NULL ||
	    in->contact == NULL || in->organization[0] == '\0' || in->contact[0] == '\0' ||
	    in->npolicies == 0 || in->policies == NULL || in->day < 0 || in->day > DAY_LAST)
		return MXTLS_E_INVAL;
	const char *domain = in->policies[0].domain;
	if (in->report_id == NULL && (in->submitter == NULL || domain == NULL))
		return MXTLS_E_INVAL;
	json_t *root = NULL;
	int rc = build(in, in->report_id != NULL ? in->report_id : "", &root);
	if (rc != MXTLS_OK)
		return rc;
	char *s = NULL;
	size_t n = 0;
	rc = dump(root, &s, &n);
	if (rc == MXTLS_OK && in->report_id == NULL) {
		/* RFC 8460 §4.4 report-id: "a unique identifier ... whatever scheme they prefer".
		 * Day and domain make it unique per report; the content's CRC tells a later,
		 * fuller report of the same day apart.  The local@domain form is what the §5.3
		 * Subject's Report-ID wants. */
		uLong crc = crc32(0L, (const Bytef *)s, (uInt)n);
		char day[11], id[600];
		tlsrpt_day_format(in->day, day);
		int w = snprintf(id, sizeof id, "%s.%08lx.%s@%s", day, (unsigned long)crc, domain,
				 in->submitter);
		free(s);
		s = NULL;
		rc = w > 0 && (size_t)w < sizeof id ? put_string(root, "report-id", id)
						    : MXTLS_E_LIMIT;
		if (rc == MXTLS_OK)
			rc = dump(root, &s, &n);
	}
	json_decref(root);
	if (rc != MXTLS_OK)
		return rc;
	*out = s;
	*outlen = n;
	return MXTLS_OK;
}

/* ---- gzip (RFC 8460 §5.2: SHOULD compress; RFC 1952 format) ---- */

int tlsrpt_report_gzip(const void *in, size_t len, uint8_t **out, size_t *outlen)
{
	if (in == NULL || out == NULL || outlen == NULL)
		return MXTLS_E_INVAL;
	if (len > TLSRPT_JSON_MAX)
		return MXTLS_E_LIMIT;
	z_stream z;
	memset(&z, 0, sizeof z);
	/* windowBits 15 + 16: a gzip wrapper instead of zlib's. */
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return MXTLS_E_NOMEM;
	/* A fixed header: no name, no mtime, OS unknown, so output depends on input only. */
	gz_header h;
	memset(&h, 0, sizeof h);
	h.os = 255;
	uLong cap = deflateBound(&z, (uLong)len) + 32;
	uint8_t *buf = malloc(cap);
	if (buf == NULL || deflateSetHeader(&z, &h) != Z_OK) {
		free(buf);
		deflateEnd(&z);
		return MXTLS_E_NOMEM;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = buf;
	z.avail_out = (uInt)cap;
	int zr = deflate(&z, Z_FINISH);
	size_t n = (size_t)z.total_out;
	deflateEnd(&z);
	if (zr != Z_STREAM_END) {
		free(buf);
		return MXTLS_E_INTERNAL; /* deflateBound() promised room */
	}
	*out = buf;
	*outlen = n;
	return MXTLS_OK;
}

/* ---- RFC 8460 §5.1 file name ---- */

static bool plain_name(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	return n > 0 && s[n - 1] != '.' && util_dnsname_valid(s, n, false);
}

int tlsrpt_report_filename(const char *sender, const char *policy_domain, int64_t day, char *buf,
			   size_t cap)
{
	/* filename = sender "!" policy-domain "!" begin-timestamp "!" end-timestamp
	 *            [ "!" unique-id ] "." extension;  extension = "json" / "json.gz".
	 * No unique-id: one report per sender, domain and day. */
	if (!plain_name(sender) || !plain_name(policy_domain) || day < 0 || day > DAY_LAST ||
	    buf == NULL)
		return MXTLS_E_INVAL;
	int w = snprintf(buf, cap, "%s!%s!%" PRId64 "!%" PRId64 ".json.gz", sender, policy_domain,
			 day_begin(day), day_end(day));
	return w > 0 && (size_t)w < cap ? MXTLS_OK : MXTLS_E_LIMIT;
}

int tlsrpt_report_id_of(const char *json, size_t len, char *buf, size_t cap)
{
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	const char *id = json_string_value(json_object_get(root, "report-id"));
	int rc = id == NULL ? MXTLS_E_SYNTAX
	       : (size_t)snprintf(buf, cap, "%s", id) >= cap ? MXTLS_E_LIMIT
							     : MXTLS_OK;
	json_decref(root);
	return rc;
}
