/* SPDX-License-Identifier: MIT */
/* The _mta-sts TXT record: RFC 8461 §3.1 grammar, record selection and owner name.  Pure. */
#include "sts/sts_txt.h"

#include <string.h>

#include <mxtls/error.h>

#include "util/util_dnsname.h"
#include "util/util_reader.h"
#include "util/util_text.h"

static const char version_field[] = "v=STSv1";
#define VERSION_LEN (sizeof version_field - 1)

/* RFC 8461 §3.1 sts-ext-value: 1*(%x21-3A / %x3C / %x3E-7E), i.e. no "=", ";", SP or CTL. */
static bool is_ext_value_char(uint8_t c)
{
	return c >= 0x21 && c <= 0x7e && c != '=' && c != ';';
}

/* RFC 8461 §3.1 sts-ext-name after its first character: ALPHA / DIGIT / "_" / "-" / ".". */
static bool is_ext_name_char(uint8_t c)
{
	return util_is_alpha(c) || util_is_digit(c) || c == '_' || c == '-' || c == '.';
}

/* The next byte without consuming it; false at the end. */
static bool peek(const struct util_reader *r, uint8_t *c)
{
	if (util_reader_at_end(r))
		return false;
	*c = r->p[r->pos];
	return true;
}

static void skip(struct util_reader *r)
{
	uint8_t c;
	(void)util_reader_u8(r, &c);
}

/* Consumes bytes while pred holds; returns how many. */
static size_t skip_while(struct util_reader *r, bool (*pred)(uint8_t))
{
	size_t n = 0;
	uint8_t c;
	while (peek(r, &c) && pred(c)) {
		skip(r);
		n++;
	}
	return n;
}

/* Consumes the literal s if the input continues with it (case-sensitive, RFC 7405 %s). */
static bool accept(struct util_reader *r, const char *s)
{
	size_t n = strlen(s);
	if (util_reader_remaining(r) < n || memcmp(r->p + r->pos, s, n) != 0)
		return false;
	const uint8_t *unused;
	(void)util_reader_bytes(r, n, &unused);
	return true;
}

static uint32_t column(const struct util_reader *r)
{
	return (uint32_t)(r->pos + 1);
}

bool sts_txt_is_candidate(const char *p, size_t len)
{
	if (p == NULL || len < VERSION_LEN + 1 || memcmp(p, version_field, VERSION_LEN) != 0)
		return false;
	/* RFC 8461 §3.1 keeps records beginning "v=STSv1;"; D4 also allows *WSP before ";". */
	size_t i = VERSION_LEN;
	while (i < len && util_is_wsp((uint8_t)p[i]))
		i++;
	return i < len && p[i] == ';';
}

enum sts_txt_choice sts_txt_select(const struct sts_txt_span *records, size_t n, size_t *index)
{
	size_t found = 0, which = 0;
	for (size_t i = 0; i < n; i++) {
		if (sts_txt_is_candidate(records[i].p, records[i].len)) {
			if (found++ == 0)
				which = i;
		}
	}
	/* RFC 8461 §3.1: if the number of resulting records is not one, senders MUST assume
	 * the recipient domain does not have an available MTA-STS policy. */
	if (found == 0)
		return STS_TXT_NONE;
	if (found > 1)
		return STS_TXT_MANY;
	if (index != NULL)
		*index = which;
	return STS_TXT_ONE;
}

/* The id value at the reader: 1*32(ALPHA / DIGIT), then the end of the field.  On a problem
 * *col is the column of the offending character (the 33rd for a long id). */
static const char *read_id(struct util_reader *r, char *id, uint32_t *col)
{
	const uint8_t *start = r->p + r->pos;
	uint32_t start_col = column(r);
	size_t n = 0;
	uint8_t c;
	while (peek(r, &c) && (util_is_alpha(c) || util_is_digit(c))) {
		skip(r);
		n++;
	}
	*col = column(r);
	if (peek(r, &c) && !util_is_wsp(c) && c != ';')
		return "the id must consist of letters and digits only (RFC 8461 section 3.1)";
	if (n == 0)
		return "the id is empty (RFC 8461 section 3.1: 1 to 32 letters and digits)";
	*col = start_col + STS_TXT_ID_MAX;
	if (n > STS_TXT_ID_MAX)
		return "the id is longer than 32 characters (RFC 8461 section 3.1)";
	memcpy(id, start, n);
	id[n] = '\0';
	return NULL;
}

/* An extension field at the reader (RFC 8461 §3.1 sts-extension); *name_len gets its length. */
static const char *read_extension(struct util_reader *r, size_t *name_len, uint32_t *col)
{
	uint8_t c;
	*col = column(r);
	if (!peek(r, &c) || c == ';')
		return "empty field (two ';' in a row)";
	if (!util_is_alpha(c) && !util_is_digit(c))
		return "a field name must start with a letter or digit (RFC 8461 section 3.1)";
	size_t n = skip_while(r, is_ext_name_char);
	*name_len = n;
	if (n > 32) /* the column stays at the name's start */
		return "a field name is longer than 32 characters (RFC 8461 section 3.1)";
	*col = column(r);
	if (!accept(r, "="))
		return "expected '=' after the field name";
	*col = column(r);
	if (skip_while(r, is_ext_value_char) == 0)
		return "a field has an empty value (RFC 8461 section 3.1)";
	*col = column(r);
	if (peek(r, &c) && !util_is_wsp(c) && c != ';')
		return "a field value contains '=' or a control character (RFC 8461 section 3.1)";
	return NULL;
}

/* Checks the record's bytes as a whole: NUL and non-ASCII bytes, with their position. */
static const char *scan_bytes(const char *p, size_t len, uint32_t *col)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)p[i];
		*col = (uint32_t)(i + 1);
		if (c == '\0')
			return "a NUL byte in the record";
		/* RFC 8461 §3.1: MTA-STS TXT records MUST be US-ASCII. */
		if (c >= 0x80)
			return "a byte that is not US-ASCII (RFC 8461 section 3.1: records MUST be "
			       "US-ASCII)";
	}
	return NULL;
}

static int fail(struct sts_report *report, uint32_t col, const char *reason)
{
	sts_problem_add(&report->errors, 1, col, reason);
	return MXTLS_E_SYNTAX;
}

int sts_txt_parse(const char *p, size_t len, struct sts_txt *out, struct sts_report *report)
{
	struct sts_report local;
	if (report == NULL)
		report = &local;
	sts_problem_report_init(report);
	if (p == NULL)
		len = 0;
	if (len > STS_TXT_MAX) {
		sts_problem_add(&report->errors, 1, 0, "the record is longer than 65535 bytes");
		return MXTLS_E_LIMIT;
	}
	uint32_t col = 0;
	const char *problem = scan_bytes(p, len, &col);
	if (problem != NULL)
		return fail(report, col, problem);

	struct util_reader r;
	util_reader_init(&r, p, len);
	struct sts_txt txt;
	memset(&txt, 0, sizeof txt);
	/* RFC 8461 §3.1: the record MUST begin with the version field, %s"v=STSv1". */
	if (len == 0)
		return fail(report, 0, "the record is empty");
	if (!accept(&r, version_field))
		return fail(
			report, 1,
			len >= 2 && memcmp(p, "v=", 2) == 0
				? "the version must be exactly v=STSv1 (RFC 8461 section 3.1)"
				: "the record does not begin with v=STSv1 (RFC 8461 section 3.1)");
	uint8_t c;
	if (peek(&r, &c) && !util_is_wsp(c) && c != ';')
		return fail(report, 1,
			    "the version must be exactly v=STSv1 (RFC 8461 section 3.1)");
	uint32_t ws_col = column(&r);
	size_t ws = skip_while(&r, util_is_wsp);
	if (!accept(&r, ";"))
		return fail(
			report, column(&r),
			"v=STSv1 must be followed by ';' and the id field (RFC 8461 section 3.1)");
	if (ws > 0)
		sts_problem_add(
			&txt.warnings, 1, ws_col,
			"white space before the ';' after v=STSv1: accepted (mxtls decision "
			"D4), but senders that look for the literal prefix \"v=STSv1;\" "
			"discard the record (RFC 8461 erratum 6285)");
	skip_while(&r, util_is_wsp);

	bool have_id = false;
	size_t fields = 0;
	while (!util_reader_at_end(&r)) {
		uint32_t field_col = column(&r);
		fields++;
		if (!have_id && accept(&r, "id=")) {
			/* RFC 8461 §3.1: sts-id = %s"id=" 1*32(ALPHA / DIGIT). */
			problem = read_id(&r, txt.id, &col);
			if (problem != NULL)
				return fail(report, col, problem);
			have_id = true;
			if (fields > 1)
				sts_problem_add(&txt.warnings, 1, field_col,
						"the id is not the first field after v=STSv1 as in "
						"the RFC 8461 grammar: accepted");
		} else {
			/* RFC 8461 §3.1: unknown fields are ignored; a second id or v field is an
			 * extension by the grammar, and the first one counts (STS-07). */
			size_t name_len = 0;
			problem = read_extension(&r, &name_len, &col);
			if (problem != NULL)
				return fail(report, col, problem);
			if (name_len == 2 && memcmp(p + field_col - 1, "id", 2) == 0)
				sts_problem_add(
					&txt.warnings, 1, field_col,
					"a second id field is ignored: the first one counts");
			else if (name_len == 1 && p[field_col - 1] == 'v')
				sts_problem_add(&txt.warnings, 1, field_col,
						"a second v field is ignored");
		}
		uint32_t end_col = column(&r);
		ws = skip_while(&r, util_is_wsp);
		if (util_reader_at_end(&r)) {
			if (ws > 0)
				sts_problem_add(&txt.warnings, 1, end_col,
						"white space at the end of the record (not in the "
						"RFC 8461 grammar): accepted");
			break;
		}
		if (!accept(&r, ";"))
			return fail(report, column(&r), "expected ';' between fields");
		skip_while(&r, util_is_wsp); /* the optional final field-delim may end the record */
	}
	if (!have_id)
		return fail(report, 0, "the id field is missing (RFC 8461 section 3.1)");
	report->warnings = txt.warnings;
	*out = txt;
	return MXTLS_OK;
}

int sts_txt_owner(const char *domain, size_t dlen, char *out, size_t cap)
{
	static const char prefix[] = "_mta-sts.";
	if (domain == NULL || out == NULL)
		return MXTLS_E_SYNTAX;
	if (dlen > 1 && domain[dlen - 1] == '.' && domain[dlen - 2] != '.')
		dlen--;
	if (!util_dnsname_valid(domain, dlen, false) || domain[dlen - 1] == '.')
		return MXTLS_E_SYNTAX;
	size_t need = sizeof prefix - 1 + dlen;
	if (need > UTIL_DNSNAME_MAX || need + 1 > cap)
		return MXTLS_E_LIMIT;
	memcpy(out, prefix, sizeof prefix - 1);
	memcpy(out + sizeof prefix - 1, domain, dlen);
	out[need] = '\0';
	return MXTLS_OK;
}
