/* SPDX-License-Identifier: MIT */
/* Header fields of a CRLF message and the sendmail(1) fix-up (delivery_header.h). */
#include "delivery/delivery_header.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <mxtls/error.h>

/* The length of the line at pos without its CRLF, and where the next line starts. */
static size_t line_at(const char *msg, size_t len, size_t pos, size_t *next)
{
	const char *nl = memchr(msg + pos, '\n', len - pos);
	size_t end = nl != NULL ? (size_t)(nl - msg) : len;
	*next = nl != NULL ? end + 1 : len;
	if (end > pos && msg[end - 1] == '\r')
		end--;
	return end - pos;
}

/* RFC 5322 §2.2: field-name = 1*ftext; ftext = %d33-57 / %d59-126.  Returns the name's length
 * when the line starts a field ("name:"), else 0. */
static size_t field_name(const char *line, size_t n)
{
	size_t i = 0;
	while (i < n && line[i] != ':') {
		unsigned char c = (unsigned char)line[i];
		if (c < 33 || c > 126)
			return 0;
		i++;
	}
	return i < n && i > 0 ? i : 0;
}

bool delivery_header_next(const char *msg, size_t len, size_t *pos, struct delivery_field *f,
			  bool *blank)
{
	size_t next;
	size_t n = *pos < len ? line_at(msg, len, *pos, &next) : 0;
	*blank = false;
	if (*pos >= len)
		return false;
	if (n == 0) {
		*blank = true;
		*pos = next;
		return false;
	}
	size_t name_len = field_name(msg + *pos, n);
	if (name_len == 0)
		return false;
	f->start = *pos;
	f->name = msg + *pos;
	f->name_len = name_len;
	f->value = msg + *pos + name_len + 1;
	size_t value_end = *pos + n;
	/* RFC 5322 §2.2.3: continuation lines start with WSP. */
	while (next < len && (msg[next] == ' ' || msg[next] == '\t')) {
		size_t after;
		size_t m = line_at(msg, len, next, &after);
		value_end = next + m;
		next = after;
	}
	f->value_len = value_end - (size_t)(f->value - msg);
	f->end = next;
	*pos = next;
	return true;
}

bool delivery_field_is(const struct delivery_field *f, const char *name)
{
	return strlen(name) == f->name_len && strncasecmp(f->name, name, f->name_len) == 0;
}

int delivery_field_unfold(const struct delivery_field *f, struct util_buf *out)
{
	for (size_t i = 0; i < f->value_len; i++) {
		char c = f->value[i];
		if (c == '\r' || c == '\n')
			continue;
		int rc = util_buf_append_byte(out, (uint8_t)c);
		if (rc != MXTLS_OK)
			return rc;
	}
	return MXTLS_OK;
}

void delivery_header_has(const char *msg, size_t len, struct delivery_has *has)
{
	struct delivery_field f;
	size_t pos = 0;
	bool blank;
	memset(has, 0, sizeof *has);
	while (delivery_header_next(msg, len, &pos, &f, &blank)) {
		has->date |= delivery_field_is(&f, "Date");
		has->message_id |= delivery_field_is(&f, "Message-ID");
		has->from |= delivery_field_is(&f, "From");
	}
}

static int add_field(struct util_buf *out, const char *name, const char *value)
{
	if (value == NULL)
		return MXTLS_OK;
	return util_buf_appendf(out, "%s: %s\r\n", name, value);
}

int delivery_header_fixup(const char *msg, size_t len, const struct delivery_fixup *fx,
			  struct util_buf *out)
{
	struct delivery_field f;
	size_t pos = 0;
	bool blank;
	int rc = MXTLS_OK;
	while (rc == MXTLS_OK && delivery_header_next(msg, len, &pos, &f, &blank)) {
		if (fx->remove_bcc && delivery_field_is(&f, "Bcc"))
			continue;
		rc = util_buf_append(out, msg + f.start, f.end - f.start);
	}
	if (rc == MXTLS_OK)
		rc = add_field(out, "Date", fx->date);
	if (rc == MXTLS_OK)
		rc = add_field(out, "From", fx->from);
	if (rc == MXTLS_OK)
		rc = add_field(out, "Message-ID", fx->message_id);
	/* RFC 5322 §3.5: the body is separated from the header section by an empty line. */
	if (rc == MXTLS_OK)
		rc = util_buf_append(out, "\r\n", 2);
	if (rc == MXTLS_OK)
		rc = util_buf_append(out, msg + pos, len - pos);
	return rc;
}

void delivery_header_date(int64_t t, char out[40])
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 1900) {
		tt = 0; /* out of the four-digit years: the epoch rather than a malformed field */
		gmtime_r(&tt, &tm);
	}
	/* RFC 5322 §3.3: day-name "," day month year hour ":" minute ":" second zone */
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int delivery_header_from(const char *name, const char *addr, struct util_buf *out)
{
	if (name == NULL || name[0] == '\0')
		return util_buf_append_str(out, addr);
	for (const char *p = name; *p != '\0'; p++)
		if ((unsigned char)*p < 32 || *p == 127)
			return MXTLS_E_INVAL;
	/* RFC 5322 §3.2.4: a quoted-string display name, '"' and '\' as quoted-pairs. */
	int rc = util_buf_append_byte(out, '"');
	for (const char *p = name; rc == MXTLS_OK && *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			rc = util_buf_append_byte(out, '\\');
		if (rc == MXTLS_OK)
			rc = util_buf_append_byte(out, (uint8_t)*p);
	}
	if (rc == MXTLS_OK)
		rc = util_buf_appendf(out, "\" <%s>", addr);
	return rc;
}

bool delivery_header_is_tls_report(const char *msg, size_t len)
{
	size_t pos = 0;
	bool blank;
	struct delivery_field f;
	while (delivery_header_next(msg, len, &pos, &f, &blank))
		if (delivery_field_is(&f, "TLS-Report-Domain"))
			return true;
	return false;
}

bool delivery_header_tls_required_no(const char *msg, size_t len)
{
	size_t pos = 0;
	bool blank, no = false;
	struct delivery_field f;
	while (delivery_header_next(msg, len, &pos, &f, &blank)) {
		if (!delivery_field_is(&f, "TLS-Required"))
			continue;
		const char *v = f.value;
		size_t vl = f.value_len;
		while (vl > 0 && strchr(" \t\r\n", *v) != NULL)
			v++, vl--;
		while (vl > 0 && strchr(" \t\r\n", v[vl - 1]) != NULL)
			vl--;
		no = vl == 2 && strncasecmp(v, "No", 2) == 0;
	}
	return no;
}
