/* SPDX-License-Identifier: MIT */
/* RFC 8460 §4: reading a TLS report received from another organisation (jansson), and §5.2's
 * gzip (zlib), tolerating the deviations real reporters make.  Pure. */
#include "tlsrpt/tlsrpt_read.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

#include <mxtls/error.h>

#include "util/util_text.h"

/*
 * RFC 8460 §4.4, the shape read here (members in any order; others ignored):
 *
 *   { "organization-name": string,            required
 *     "date-range": { "start-datetime": date-time, "end-datetime": date-time },  required
 *     "contact-info": string,                 null or missing tolerated
 *     "report-id": string,                    required
 *     "policies": [ {                         required, at least one
 *         "policy": { "policy-type": string, "policy-string": [string...],
 *                     "policy-domain": string, "mx-host": [string...] },
 *         "summary": { "total-successful-session-count": count,
 *                      "total-failure-session-count": count },
 *         "failure-details": [ { "result-type": string, "sending-mta-ip": string,
 *             "receiving-mx-hostname": string, "receiving-mx-helo": string,
 *             "receiving-ip": string, "failed-session-count": count,
 *             "additional-information": string, "failure-reason-code": string } ... ] } ... ] }
 *
 *   count = a JSON integer 0 .. 2^53 - 1 (I-JSON, RFC 7493 §2.2)
 */

/* I-JSON (RFC 7493 §2.2): integers beyond 2^53 - 1 are not interoperable. */
#define COUNT_MAX 9007199254740991LL
/* Longest date-time read: "YYYY-MM-DDThh:mm:ss" + a fraction + "+hh:mm"; fractions longer than
 * nanoseconds carry nothing a day's report needs. */
#define DATETIME_MAX 48
#define DAY          86400
/* Paths in reasons: "policies[9999].failure-details[99999].receiving-mx-hostname" fits. */
#define PATH_MAX_LEN 96

struct ctx {
	char *err;
	size_t errlen;
	unsigned quirks;
	size_t nstrings;  /* policy-string and mx-host elements so far (TLSRPT_READ_STRINGS_MAX) */
	size_t nfailures; /* failure-details elements so far (TLSRPT_READ_FAILURES_MAX) */
};

static int why(struct ctx *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void path_fmt(char p[PATH_MAX_LEN], const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A member path for reasons ("policies[2].summary"); a longer one is cut (it is only shown). */
static void path_fmt(char p[PATH_MAX_LEN], const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p, PATH_MAX_LEN, fmt, ap);
	va_end(ap);
}

/* Writes the one-line reason and returns rc. */
static int why(struct ctx *c, int rc, const char *fmt, ...)
{
	if (c->err != NULL && c->errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
		/* One line: jansson's messages quote the input ("near '...'"), which may hold
		 * a line break or another control character. */
		for (char *e = c->err; *e != '\0'; e++)
			if ((unsigned char)*e < 0x20 || *e == 0x7f)
				*e = '?';
	}
	return rc;
}

/* ---- RFC 3339 date-time ---- */

static bool digits(const char *s, size_t n, int *v)
{
	int x = 0;
	for (size_t i = 0; i < n; i++) {
		if (!util_is_digit((uint8_t)s[i]))
			return false;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return true;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
	static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (era arithmetic: 400-year
 * eras of 146097 days, the year starting in March so that the leap day comes last). */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t yy = (int64_t)y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * RFC 3339 §5.6 (the grammar this parser implements, strictly):
 *
 *   date-time      = full-date "T" full-time          ; §5.6 NOTE: "t" and "z" too
 *   full-date      = date-fullyear "-" date-month "-" date-mday
 *   date-fullyear  = 4DIGIT
 *   date-month     = 2DIGIT  ; 01-12
 *   date-mday      = 2DIGIT  ; 01-28, 01-29, 01-30, 01-31 by month and year
 *   full-time      = partial-time time-offset
 *   partial-time   = time-hour ":" time-minute ":" time-second [time-secfrac]
 *   time-hour      = 2DIGIT  ; 00-23
 *   time-minute    = 2DIGIT  ; 00-59
 *   time-second    = 2DIGIT  ; 00-58, 00-59, 00-60 (a leap second: read as the next second,
 *                            ;   POSIX time has none)
 *   time-secfrac   = "." 1*DIGIT                      ; read, then dropped (whole seconds)
 *   time-offset    = "Z" / time-numoffset
 *   time-numoffset = ("+" / "-") time-hour ":" time-minute
 *
 * Quirk: a date-time without time-offset (Microsoft's reports) is read as UTC and *nozone set.
 * Returns false for anything else, including a space instead of "T".
 */
static bool datetime_parse(const char *s, size_t n, int64_t *t, bool *nozone)
{
	int y, mo, d, h, mi, se;
	if (n < 19 || n > DATETIME_MAX || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
		return false;
	if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
	    !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 || se > 60)
		return false;
	size_t i = 19;
	if (i < n && s[i] == '.') {
		size_t f = ++i;
		while (i < n && util_is_digit((uint8_t)s[i]))
			i++;
		if (i == f)
			return false; /* "." without a digit */
	}
	int64_t offset = 0;
	*nozone = false;
	if (i == n) {
		*nozone = true;
	} else if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n) {
		/* UTC */
	} else if ((s[i] == '+' || s[i] == '-') && n - i == 6 && s[i + 3] == ':') {
		int oh, om;
		if (!digits(s + i + 1, 2, &oh) || !digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
			return false;
		/* local = UTC + offset, so UTC = local - offset ("-00:00": UTC, §4.3) */
		offset = (int64_t)(oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
	} else {
		return false;
	}
	*t = days_from_civil(y, mo, d) * DAY + h * 3600 + mi * 60 + se - offset;
	return true;
}

/* ---- members ---- */

static void lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = util_lower((uint8_t)*s);
}

/* Domain names: lower case, one trailing dot dropped (RFC 8460 §4.4 names are compared as
 * host names; "example.com." and "Example.COM" name the same domain). */
static void domain_norm(char *s)
{
	lower(s);
	size_t n = strlen(s);
	if (n > 0 && s[n - 1] == '.')
		s[n - 1] = '\0';
}

/* A copy of a JSON string value (jansson refuses \u0000 without JSON_ALLOW_NUL; the length is
 * checked anyway, so that no string ever holds a NUL).  NULL with *rc set on failure. */
static char *dup_string(struct ctx *c, const json_t *v, const char *path, int *rc)
{
	const char *s = json_string_value(v);
	if (s == NULL) {
		*rc = why(c, MXTLS_E_SYNTAX, "%s: not a string", path);
		return NULL;
	}
	size_t n = json_string_length(v);
	if (memchr(s, '\0', n) != NULL) {
		*rc = why(c, MXTLS_E_SYNTAX, "%s: holds a NUL", path);
		return NULL;
	}
	char *d = malloc(n + 1);
	if (d == NULL) {
		*rc = MXTLS_E_NOMEM;
		return NULL;
	}
	memcpy(d, s, n + 1);
	*rc = MXTLS_OK;
	return d;
}

/* obj.key as a required, non-empty string into *out. */
static int req_string(struct ctx *c, const json_t *obj, const char *key, const char *path,
		      char **out)
{
	char p[PATH_MAX_LEN];
	path_fmt(p, "%s%s%s", path, path[0] != '\0' ? "." : "", key);
	const json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return why(c, MXTLS_E_SYNTAX, "%s: missing", p);
	int rc;
	char *s = dup_string(c, v, p, &rc);
	if (s == NULL)
		return rc;
	if (s[0] == '\0') {
		free(s);
		return why(c, MXTLS_E_SYNTAX, "%s: empty", p);
	}
	*out = s;
	return MXTLS_OK;
}

/* obj.key as an optional string: *out stays NULL when the member is missing. */
static int opt_string(struct ctx *c, const json_t *obj, const char *key, const char *path,
		      char **out)
{
	const json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return MXTLS_OK;
	char p[PATH_MAX_LEN];
	path_fmt(p, "%s.%s", path, key);
	int rc;
	*out = dup_string(c, v, p, &rc);
	return rc;
}

/* obj.key as a count: a JSON integer 0 .. 2^53 - 1 (I-JSON).  5.0 is not one. */
static int req_count(struct ctx *c, const json_t *obj, const char *key, const char *path,
		     uint64_t *out)
{
	const json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return why(c, MXTLS_E_SYNTAX, "%s.%s: missing", path, key);
	if (!json_is_integer(v))
		return why(c, MXTLS_E_SYNTAX, "%s.%s: not an integer", path, key);
	json_int_t n = json_integer_value(v);
	if (n < 0 || n > COUNT_MAX)
		return why(c, MXTLS_E_SYNTAX, "%s.%s: not an integer from 0 to 2^53-1", path, key);
	*out = (uint64_t)n;
	return MXTLS_OK;
}

/* Appends one string element to (*arr, *n), counting it against TLSRPT_READ_STRINGS_MAX. */
static int push_string(struct ctx *c, char ***arr, size_t *n, size_t cap, const json_t *v,
		       const char *path, bool domain)
{
	if (++c->nstrings > TLSRPT_READ_STRINGS_MAX)
		return why(c, MXTLS_E_LIMIT, "%s: more than %d policy-string and mx-host elements",
			   path, TLSRPT_READ_STRINGS_MAX);
	if (*n == cap) /* callers size the array: never reached */
		return MXTLS_E_INTERNAL;
	int rc;
	char *s = dup_string(c, v, path, &rc);
	if (s == NULL)
		return rc;
	if (domain)
		domain_norm(s);
	(*arr)[(*n)++] = s;
	return MXTLS_OK;
}

/* A JSON array of strings into a new (*arr, *n). */
static int string_array(struct ctx *c, const json_t *a, const char *path, bool domain, char ***arr,
			size_t *n)
{
	size_t len = json_array_size(a);
	if (len > TLSRPT_READ_STRINGS_MAX - c->nstrings)
		return why(c, MXTLS_E_LIMIT, "%s: more than %d policy-string and mx-host elements",
			   path, TLSRPT_READ_STRINGS_MAX);
	if (len == 0)
		return MXTLS_OK;
	*arr = calloc(len, sizeof **arr);
	if (*arr == NULL)
		return MXTLS_E_NOMEM;
	for (size_t i = 0; i < len; i++) {
		char p[PATH_MAX_LEN];
		path_fmt(p, "%s[%zu]", path, i);
		int rc = push_string(c, arr, n, len, json_array_get(a, i), p, domain);
		if (rc != MXTLS_OK)
			return rc;
	}
	return MXTLS_OK;
}

static void free_strings(char **a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(a[i]);
	free(a);
}

/* Quirk: policy-string ["[\"version: STSv1\",\"mode: testing\",...]"]: one element holding a JSON
 * array of strings.  Unwrapped into its elements; anything else in one element is kept as is. */
static int unwrap_policy_string(struct ctx *c, struct tlsrpt_read_policy *p, const char *path)
{
	if (p->npolicy_string != 1)
		return MXTLS_OK;
	const char *s = p->policy_string[0];
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	if (*s != '[')
		return MXTLS_OK;
	json_t *a = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
	bool strings = json_is_array(a) && json_array_size(a) > 0;
	for (size_t i = 0; strings && i < json_array_size(a); i++)
		strings = json_is_string(json_array_get(a, i));
	if (!strings) {
		json_decref(a);
		return MXTLS_OK;
	}
	c->nstrings--; /* the wrapper is replaced by its elements */
	char **arr = NULL;
	size_t n = 0;
	char p2[PATH_MAX_LEN];
	path_fmt(p2, "%s[0](unwrapped)", path);
	int rc = string_array(c, a, p2, false, &arr, &n);
	json_decref(a);
	if (rc != MXTLS_OK) {
		free_strings(arr, n);
		return rc;
	}
	free_strings(p->policy_string, p->npolicy_string);
	p->policy_string = arr;
	p->npolicy_string = n;
	c->quirks |= TLSRPT_QUIRK_POLICY_STRING_JSON;
	return MXTLS_OK;
}

/* The "policy" object of policies[i] (RFC 8460 §4.4 "policy"). */
static int read_policy_object(struct ctx *c, const json_t *pol, const char *path,
			      struct tlsrpt_read_policy *p)
{
	if (!json_is_object(pol))
		return why(c, MXTLS_E_SYNTAX, "%s: %s", path,
			   pol == NULL ? "missing" : "not an object");
	int rc = req_string(c, pol, "policy-type", path, &p->policy_type);
	if (rc != MXTLS_OK)
		return rc;
	lower(p->policy_type);
	if ((rc = req_string(c, pol, "policy-domain", path, &p->policy_domain)) != MXTLS_OK)
		return rc;
	domain_norm(p->policy_domain);
	if (p->policy_domain[0] == '\0')
		return why(c, MXTLS_E_SYNTAX, "%s.policy-domain: empty", path);

	char pp[PATH_MAX_LEN];
	path_fmt(pp, "%s.policy-string", path);
	const json_t *ps = json_object_get(pol, "policy-string");
	if (ps != NULL) { /* absent for no-policy-found */
		if (!json_is_array(ps))
			return why(c, MXTLS_E_SYNTAX, "%s: not an array", pp);
		if ((rc = string_array(c, ps, pp, false, &p->policy_string, &p->npolicy_string)) !=
		    MXTLS_OK)
			return rc;
		if ((rc = unwrap_policy_string(c, p, pp)) != MXTLS_OK)
			return rc;
	}

	/* mx-host: an array per erratum 6241; RFC 8460's own example sends one string. */
	path_fmt(pp, "%s.mx-host", path);
	const json_t *mx = json_object_get(pol, "mx-host");
	if (json_is_string(mx)) {
		c->quirks |= TLSRPT_QUIRK_MX_HOST_STRING;
		p->mx_host = calloc(1, sizeof *p->mx_host);
		if (p->mx_host == NULL)
			return MXTLS_E_NOMEM;
		return push_string(c, &p->mx_host, &p->nmx_host, 1, mx, pp, true);
	}
	if (mx != NULL && !json_is_array(mx))
		return why(c, MXTLS_E_SYNTAX, "%s: not a string or an array", pp);
	return mx != NULL ? string_array(c, mx, pp, true, &p->mx_host, &p->nmx_host) : MXTLS_OK;
}

/* One failure-details element (RFC 8460 §4.4; result types §4.3, unknown ones kept). */
static int read_failure(struct ctx *c, const json_t *o, const char *path,
			struct tlsrpt_read_failure *f)
{
	if (!json_is_object(o))
		return why(c, MXTLS_E_SYNTAX, "%s: not an object", path);
	int rc = req_string(c, o, "result-type", path, &f->result_type);
	if (rc != MXTLS_OK)
		return rc;
	lower(f->result_type);
	if ((rc = req_count(c, o, "failed-session-count", path, &f->failed_session_count)) !=
		    MXTLS_OK ||
	    (rc = opt_string(c, o, "sending-mta-ip", path, &f->sending_mta_ip)) != MXTLS_OK ||
	    (rc = opt_string(c, o, "receiving-mx-hostname", path, &f->receiving_mx_hostname)) !=
		    MXTLS_OK ||
	    (rc = opt_string(c, o, "receiving-mx-helo", path, &f->receiving_mx_helo)) != MXTLS_OK ||
	    (rc = opt_string(c, o, "receiving-ip", path, &f->receiving_ip)) != MXTLS_OK ||
	    (rc = opt_string(c, o, "additional-information", path, &f->additional_information)) !=
		    MXTLS_OK ||
	    (rc = opt_string(c, o, "failure-reason-code", path, &f->failure_reason_code)) !=
		    MXTLS_OK)
		return rc;
	if (f->receiving_mx_hostname != NULL)
		domain_norm(f->receiving_mx_hostname);
	if (f->sending_mta_ip == NULL) /* quirk: Microsoft leaves it out */
		c->quirks |= TLSRPT_QUIRK_NO_SENDING_IP;
	return MXTLS_OK;
}

/* One policies[] element. */
static int read_policy(struct ctx *c, const json_t *e, size_t i, struct tlsrpt_read_policy *p)
{
	char path[PATH_MAX_LEN];
	path_fmt(path, "policies[%zu]", i);
	if (!json_is_object(e))
		return why(c, MXTLS_E_SYNTAX, "%s: not an object", path);
	char pp[PATH_MAX_LEN];
	path_fmt(pp, "%s.policy", path);
	int rc = read_policy_object(c, json_object_get(e, "policy"), pp, p);
	if (rc != MXTLS_OK)
		return rc;

	path_fmt(pp, "%s.summary", path);
	const json_t *sum = json_object_get(e, "summary");
	if (!json_is_object(sum))
		return why(c, MXTLS_E_SYNTAX, "%s: %s", pp,
			   sum == NULL ? "missing" : "not an object");
	if ((rc = req_count(c, sum, "total-successful-session-count", pp, &p->total_successful)) !=
		    MXTLS_OK ||
	    (rc = req_count(c, sum, "total-failure-session-count", pp, &p->total_failure)) !=
		    MXTLS_OK)
		return rc;

	path_fmt(pp, "%s.failure-details", path);
	const json_t *fd = json_object_get(e, "failure-details");
	if (fd == NULL) {
		/* Quirk: failures counted but not detailed.  No key and no failures is normal
		 * (Google leaves the key out of a clean day's report). */
		if (p->total_failure > 0)
			c->quirks |= TLSRPT_QUIRK_NO_FAILURE_DETAILS;
		return MXTLS_OK;
	}
	if (!json_is_array(fd))
		return why(c, MXTLS_E_SYNTAX, "%s: not an array", pp);
	size_t n = json_array_size(fd);
	if (n > TLSRPT_READ_FAILURES_MAX - c->nfailures)
		return why(c, MXTLS_E_LIMIT, "%s: more than %d failure-details elements", pp,
			   TLSRPT_READ_FAILURES_MAX);
	c->nfailures += n;
	if (n == 0)
		return MXTLS_OK;
	p->failures = calloc(n, sizeof *p->failures);
	if (p->failures == NULL)
		return MXTLS_E_NOMEM;
	for (size_t j = 0; j < n; j++) {
		char fp[PATH_MAX_LEN];
		path_fmt(fp, "%s[%zu]", pp, j);
		p->nfailures = j + 1; /* so that a half-read element is freed */
		if ((rc = read_failure(c, json_array_get(fd, j), fp, &p->failures[j])) != MXTLS_OK)
			return rc;
	}
	return MXTLS_OK;
}

/* date-range (RFC 8460 §4.4): start <= end. */
static int read_range(struct ctx *c, const json_t *root, struct tlsrpt_read_report *r)
{
	const json_t *dr = json_object_get(root, "date-range");
	if (!json_is_object(dr))
		return why(c, MXTLS_E_SYNTAX, "date-range: %s",
			   dr == NULL ? "missing" : "not an object");
	static const char *const keys[2] = {"start-datetime", "end-datetime"};
	int64_t *t[2] = {&r->start, &r->end};
	for (int k = 0; k < 2; k++) {
		const json_t *v = json_object_get(dr, keys[k]);
		if (v == NULL)
			return why(c, MXTLS_E_SYNTAX, "date-range.%s: missing", keys[k]);
		if (!json_is_string(v))
			return why(c, MXTLS_E_SYNTAX, "date-range.%s: not a string", keys[k]);
		bool nozone;
		if (!datetime_parse(json_string_value(v), json_string_length(v), t[k], &nozone))
			return why(c, MXTLS_E_SYNTAX, "date-range.%s: not an RFC 3339 date-time",
				   keys[k]);
		if (nozone)
			c->quirks |= TLSRPT_QUIRK_DATE_NO_ZONE;
	}
	if (r->start > r->end)
		return why(c, MXTLS_E_SYNTAX, "date-range: end-datetime before start-datetime");
	/* RFC 8460 §4.4's example ends the day at 23:59:59Z; ending at the next day's 00:00:00Z
	 * (as §4.1's "00:00-24:00 UTC" reads, and as mxtls's own sender writes) is noted. */
	int64_t sday = r->start >= 0 ? r->start / DAY : -((-r->start + DAY - 1) / DAY);
	if (r->end == (sday + 1) * DAY)
		c->quirks |= TLSRPT_QUIRK_END_NEXT_DAY;
	return MXTLS_OK;
}

static int read_report(struct ctx *c, const json_t *root, struct tlsrpt_read_report *r)
{
	if (!json_is_object(root))
		return why(c, MXTLS_E_SYNTAX, "the report is not a JSON object");
	int rc = req_string(c, root, "organization-name", "", &r->organization_name);
	if (rc != MXTLS_OK || (rc = read_range(c, root, r)) != MXTLS_OK)
		return rc;
	const json_t *ci = json_object_get(root, "contact-info");
	if (json_is_null(ci))
		c->quirks |= TLSRPT_QUIRK_CONTACT_NULL;
	else if (ci != NULL && (r->contact_info = dup_string(c, ci, "contact-info", &rc)) == NULL)
		return rc;
	if ((rc = req_string(c, root, "report-id", "", &r->report_id)) != MXTLS_OK)
		return rc;

	const json_t *pa = json_object_get(root, "policies");
	if (!json_is_array(pa))
		return why(c, MXTLS_E_SYNTAX, "policies: %s",
			   pa == NULL ? "missing" : "not an array");
	size_t n = json_array_size(pa);
	if (n == 0)
		return why(c, MXTLS_E_SYNTAX, "policies: empty");
	if (n > TLSRPT_READ_POLICIES_MAX)
		return why(c, MXTLS_E_LIMIT, "policies: more than %d elements",
			   TLSRPT_READ_POLICIES_MAX);
	r->policies = calloc(n, sizeof *r->policies);
	if (r->policies == NULL)
		return MXTLS_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		r->npolicies = i + 1; /* so that a half-read element is freed */
		if ((rc = read_policy(c, json_array_get(pa, i), i, &r->policies[i])) != MXTLS_OK)
			return rc;
	}
	r->quirks = c->quirks;
	return MXTLS_OK;
}

int tlsrpt_read_parse(const char *json, size_t len, struct tlsrpt_read_report *out, char *err,
		      size_t errlen)
{
	struct ctx c = {.err = err, .errlen = errlen};
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL || (json == NULL && len > 0))
		return MXTLS_E_INVAL;
	memset(out, 0, sizeof *out);
	if (len > TLSRPT_READ_JSON_MAX)
		return why(&c, MXTLS_E_LIMIT, "report larger than %u bytes", TLSRPT_READ_JSON_MAX);
	if (len == 0)
		return why(&c, MXTLS_E_SYNTAX, "empty");
	/* I-JSON (RFC 7493 §2.3): no duplicate member names.  jansson also refuses invalid UTF-8,
	 * \u0000 (no JSON_ALLOW_NUL), anything after the text (no JSON_DISABLE_EOF_CHECK) and a
	 * top level that is not an object or array (no JSON_DECODE_ANY). */
	json_error_t je;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		if (json_error_code(&je) == json_error_out_of_memory)
			return MXTLS_E_NOMEM;
		return why(&c, MXTLS_E_SYNTAX, "not JSON: line %d column %d: %s", je.line,
			   je.column, je.text);
	}
	int rc = read_report(&c, root, out);
	json_decref(root);
	if (rc != MXTLS_OK)
		tlsrpt_read_clear(out);
	return rc;
}

void tlsrpt_read_clear(struct tlsrpt_read_report *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->npolicies; i++) {
		struct tlsrpt_read_policy *p = &r->policies[i];
		free(p->policy_type);
		free(p->policy_domain);
		free_strings(p->policy_string, p->npolicy_string);
		free_strings(p->mx_host, p->nmx_host);
		for (size_t j = 0; j < p->nfailures; j++) {
			struct tlsrpt_read_failure *f = &p->failures[j];
			free(f->result_type);
			free(f->sending_mta_ip);
			free(f->receiving_mx_hostname);
			free(f->receiving_mx_helo);
			free(f->receiving_ip);
			free(f->additional_information);
			free(f->failure_reason_code);
		}
		free(p->failures);
	}
	free(r->policies);
	free(r->organization_name);
	free(r->contact_info);
	free(r->report_id);
	memset(r, 0, sizeof *r);
}

/* ---- gzip (RFC 8460 §5.2; RFC 1952) ---- */

/* First output buffer; it doubles up to the cap. */
#define GUNZIP_FIRST (64u * 1024)

int tlsrpt_read_gunzip(const unsigned char *gz, size_t len, size_t cap, char **out, size_t *outlen)
{
	if (out == NULL || outlen == NULL || (gz == NULL && len > 0))
		return MXTLS_E_INVAL;
	if (len == 0)
		return MXTLS_E_SYNTAX;
	if (cap > SIZE_MAX - 2)
		cap = SIZE_MAX - 2;
	/* Room for cap + 1 bytes (one more than allowed shows a bomb) and the NUL. */
	size_t limit = cap + 2, size = limit < GUNZIP_FIRST ? limit : GUNZIP_FIRST, n = 0;
	char *buf = malloc(size);
	if (buf == NULL)
		return MXTLS_E_NOMEM;
	z_stream z;
	memset(&z, 0, sizeof z);
	/* windowBits 15 + 16: exactly one gzip member, header and CRC-32/ISIZE trailer checked. */
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		free(buf);
		return MXTLS_E_NOMEM;
	}
	const unsigned char *in = gz;
	size_t left = len;
	int rc = MXTLS_E_SYNTAX, zr = Z_OK;
	for (;;) {
		if (z.avail_in == 0 && left > 0) {
			z.next_in = (Bytef *)(uintptr_t)in;
			z.avail_in = left > UINT32_MAX ? UINT32_MAX : (uInt)left;
			in += z.avail_in;
			left -= z.avail_in;
		}
		/* Output goes to buf[n .. size - 1), the last byte kept for the NUL. */
		if (n + 1 == size) {
			if (size == limit) {
				rc = MXTLS_E_LIMIT; /* cap + 1 bytes out: over the cap */
				break;
			}
			size_t ns = size > limit / 2 ? limit : size * 2;
			char *nb = realloc(buf, ns);
			if (nb == NULL) {
				rc = MXTLS_E_NOMEM;
				break;
			}
			buf = nb;
			size = ns;
		}
		size_t room = size - 1 - n;
		z.next_out = (Bytef *)buf + n;
		z.avail_out = room > UINT32_MAX ? UINT32_MAX : (uInt)room;
		uInt before = z.avail_out;
		zr = inflate(&z, Z_NO_FLUSH);
		n += before - z.avail_out;
		if (n > cap) {
			rc = MXTLS_E_LIMIT;
			break;
		}
		if (zr == Z_STREAM_END) {
			/* Bytes after the member: a second member or garbage, refused. */
			rc = z.avail_in == 0 && left == 0 ? MXTLS_OK : MXTLS_E_SYNTAX;
			break;
		}
		if (zr == Z_MEM_ERROR) {
			rc = MXTLS_E_NOMEM;
			break;
		}
		if (zr == Z_BUF_ERROR && z.avail_in == 0 && left == 0)
			break; /* truncated: the input ended inside the member */
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			break; /* Z_DATA_ERROR (corrupt, bad CRC), Z_NEED_DICT, Z_STREAM_ERROR */
		if (zr == Z_OK && z.avail_in == 0 && left == 0 && z.avail_out > 0)
			break; /* all input taken, room left, no end: truncated */
	}
	inflateEnd(&z);
	if (rc != MXTLS_OK) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	char *shrunk = realloc(buf, n + 1);
	*out = shrunk != NULL ? shrunk : buf;
	*outlen = n;
	return MXTLS_OK;
}
