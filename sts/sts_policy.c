/* SPDX-License-Identifier: MIT */
/* The MTA-STS policy file: RFC 8461 §3.2 grammar, line by line, through the bounded reader. */
#include "sts/sts_policy.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "util/util_dnsname.h"
#include "util/util_reader.h"
#include "util/util_text.h"

/* Longest field name: RFC 8461 §3.2 sts-policy-ext-name = (ALPHA / DIGIT) *31(...). */
#define NAME_MAX_LEN 32

struct span {
	const uint8_t *p;
	size_t len;
};

/* Parser state: what has been seen so far, and where problems go. */
struct state {
	struct sts_report *report;
	bool have_version, have_mode, have_max_age;
	enum sts_mode mode;
	uint32_t max_age;
	struct span *mx;   /* owned: nmx spans into the input (mx_cap allocated) */
	size_t nmx, mx_cap;
	size_t *mx_index;  /* owned: 2 * mx_cap slots, the duplicate index of grow_mx() */
	bool seen_version, seen_mode, seen_max_age; /* a line of that field, valid or not */
	size_t mx_lines;                            /* mx lines seen, valid or not */
	bool skipped_line; /* a line was unreadable (NUL, bare CR): its fields are unknown */
	bool limit;        /* a cap was exceeded */
	bool nomem;
};

static void error(struct state *st, uint32_t line, uint32_t col, const char *reason)
{
	sts_problem_add(&st->report->errors, line, col, reason);
}

static void warning(struct state *st, uint32_t line, uint32_t col, const char *reason)
{
	sts_problem_add(&st->report->warnings, line, col, reason);
}

static bool span_is(const uint8_t *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	return n == l && memcmp(p, lit, l) == 0;
}

/* Equal but for letter case: the mistake case-sensitive literals invite (for the messages). */
static bool span_is_nocase(const uint8_t *p, size_t n, const char *lit)
{
	if (n != strlen(lit))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (util_lower(p[i]) != util_lower((uint8_t)lit[i]))
			return false;
	}
	return true;
}

/* A literal and the reason given when a value equals it but for letter case. */
struct case_hint {
	const char *literal;
	const char *reason;
};

/* The reason of the hint whose literal (p, n) equals but for case; else fallback. */
static const char *case_hint(const uint8_t *p, size_t n, const struct case_hint *h, size_t nh,
			     const char *fallback)
{
	for (size_t i = 0; i < nh; i++)
		if (span_is_nocase(p, n, h[i].literal))
			return h[i].reason;
	return fallback;
}

const char *sts_policy_mode_name(enum sts_mode mode)
{
	switch (mode) {
	case STS_MODE_ENFORCE:
		return "enforce";
	case STS_MODE_TESTING:
		return "testing";
	case STS_MODE_NONE:
		return "none";
	}
	return NULL;
}

/*
 * RFC 8461 §3.2 sts-policy-ext-value: sts-policy-vchar [*(%x20 / sts-policy-vchar)
 * sts-policy-vchar], vchar = %x21-7E / UTF8-2 / UTF8-3 / UTF8-4.  Leading and trailing white
 * space have already been taken off.  Sets *col (0-based offset) at a problem.
 */
static const char *ext_value_problem(const uint8_t *v, size_t n, size_t *col)
{
	if (n == 0)
		return "a field has no value (RFC 8461 section 3.2)";
	for (size_t i = 0; i < n;) {
		uint8_t c = v[i];
		*col = i;
		if (c == '\t')
			return "a TAB inside a field value (the RFC 8461 section 3.2 grammar "
			       "allows "
			       "only spaces inside a value)";
		if (c < 0x20 || c == 0x7f)
			return "a control character in a field value (RFC 8461 section 3.2)";
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t l = util_utf8_seq(v + i, n - i);
		if (l == 0)
			return "a field value is not valid UTF-8 (RFC 8461 section 3.2)";
		i += l;
	}
	return NULL;
}

/*
 * RFC 8461 §3.2: sts-policy-mx-value = ["*."] Domain, Domain as in RFC 5321 §4.1.2 (LDH labels
 * that start and end with a letter or digit, no trailing dot); IDNs MUST be A-labels.
 * Sets *col (0-based offset) at a problem.
 */
static const char *mx_problem(const uint8_t *v, size_t n, size_t *col)
{
	*col = 0;
	if (n == 0)
		return "an mx field has no value (RFC 8461 section 3.2)";
	if (n > STS_POLICY_MX_LEN_MAX)
		return "an mx pattern is longer than 255 characters";
	size_t i = 0;
	if (n >= 2 && v[0] == '*' && v[1] == '.')
		i = 2; /* a wildcard is the whole left-most label, and only that */
	if (n - i > UTIL_DNSNAME_MAX)
		return "an mx pattern's domain is longer than 253 characters";
	if (n - i >= 2 && v[n - 1] == '.' && v[n - 2] != '.')
		n--; /* a final dot: not a Domain of RFC 5321, but unambiguous (see parse_line) */
	if (i == n)
		return "an mx pattern '*.' lacks its domain";
	while (i < n) {
		size_t start = i;
		for (; i < n && v[i] != '.'; i++) {
			uint8_t c = v[i];
			*col = i;
			if (c >= 0x80)
				return "an mx pattern must be written in A-labels (xn--...), not "
				       "UTF-8 "
				       "(RFC 8461 section 3.2)";
			if (c == '*')
				return "'*' may only be the whole left-most label of an mx pattern "
				       "(RFC 8461 section 3.2)";
			if (c == ',')
				return "one mx pattern per mx line: a list is not a domain name "
				       "(RFC 8461 section 3.2)";
			if (!util_is_alpha(c) && !util_is_digit(c) && c != '-')
				return "an mx pattern is not a domain name: only letters, digits, "
				       "'-' "
				       "and '.' (RFC 5321 section 4.1.2)";
		}
		*col = start;
		if (i == start)
			return "an mx pattern has an empty label";
		if (i - start > 63)
			return "an mx pattern has a label longer than 63 characters";
		if (v[start] == '-' || v[i - 1] == '-')
			return "a label of an mx pattern starts or ends with '-' (RFC 5321 section "
			       "4.1.2)";
		if (i < n)
			i++;
	}
	return NULL;
}

static bool same_pattern(const struct span *a, const uint8_t *p, size_t n)
{
	if (a->len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (util_lower(a->p[i]) != util_lower(p[i]))
			return false;
	}
	return true;
}

/* FNV-1a over the lower-cased pattern: patterns differing only in case are duplicates. */
static uint32_t pattern_hash(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)util_lower(p[i])) * 16777619u;
	return h;
}

/* Makes room for one more pattern: the span array and its duplicate index (open addressing,
 * at most half full) both double.  No count cap: the 64 KiB body cap bounds the patterns to
 * STS_POLICY_MX_MAX (issue 14: a count cap tighter than the byte cap turned a valid enforce
 * policy into "no policy"). */
static bool grow_mx(struct state *st)
{
	if (st->nmx < st->mx_cap)
		return true;
	size_t cap = st->mx_cap == 0 ? 16 : st->mx_cap * 2;
	struct span *mx = realloc(st->mx, cap * sizeof *mx);
	if (mx == NULL)
		return false;
	st->mx = mx;
	size_t *index = calloc(cap * 2, sizeof *index); /* slot: 1 + span index, 0 empty */
	if (index == NULL)
		return false;
	for (size_t i = 0; i < st->nmx; i++) {
		size_t k = pattern_hash(mx[i].p, mx[i].len) & (cap * 2 - 1);
		while (index[k] != 0)
			k = (k + 1) & (cap * 2 - 1);
		index[k] = i + 1;
	}
	free(st->mx_index);
	st->mx_index = index;
	st->mx_cap = cap;
	return true;
}

static void add_mx(struct state *st, const uint8_t *v, size_t n, uint32_t line)
{
	if (!grow_mx(st)) {
		st->nomem = true;
		return;
	}
	size_t mask = st->mx_cap * 2 - 1;
	size_t k = pattern_hash(v, n) & mask;
	for (; st->mx_index[k] != 0; k = (k + 1) & mask) {
		if (same_pattern(&st->mx[st->mx_index[k] - 1], v, n)) {
			warning(st, line, 0, "a duplicate mx pattern is ignored");
			return;
		}
	}
	st->mx[st->nmx] = (struct span){v, n};
	st->mx_index[k] = ++st->nmx;
}

/* RFC 8461 §3.2: sts-policy-max-age-value = 1*10(DIGIT); at most 31557600 (D3: clamped). */
static void parse_max_age(struct state *st, const uint8_t *v, size_t n, uint32_t line, uint32_t col)
{
	uint64_t value = 0;
	for (size_t i = 0; i < n; i++) {
		if (!util_is_digit(v[i])) {
			error(st, line, col + (uint32_t)i,
			      "max_age must be a number of 1 to 10 decimal digits (RFC 8461 "
			      "section "
			      "3.2)");
			return;
		}
		if (i < 10)
			value = value * 10 + (uint64_t)(v[i] - '0');
	}
	if (n == 0) {
		error(st, line, col, "max_age has no value (RFC 8461 section 3.2)");
		return;
	}
	if (n > 10) {
		error(st, line, col, "max_age has more than 10 digits (RFC 8461 section 3.2)");
		return;
	}
	if (st->have_max_age) {
		warning(st, line, 0, "a second max_age field is ignored: the first one counts");
		return;
	}
	if (value > STS_POLICY_MAX_AGE_MAX) {
		warning(st, line, col,
			"max_age is above the maximum of 31557600 seconds (RFC 8461 section 3.2): "
			"clamped to 31557600 (mxtls decision D3)");
		value = STS_POLICY_MAX_AGE_MAX;
	}
	st->have_max_age = true;
	st->max_age = (uint32_t)value;
}

/* Why a line does not begin "name:"; i is where the name ended. */
static const char *name_problem(const uint8_t *l, size_t n, size_t i, uint32_t line)
{
	if (i == 0) {
		if (line == 1 && n >= 3 && l[0] == 0xef && l[1] == 0xbb && l[2] == 0xbf)
			return "the policy starts with a UTF-8 byte order mark, which the RFC 8461 "
			       "section 3.2 grammar does not allow";
		if (l[0] == '#')
			return "comment lines are not part of the RFC 8461 section 3.2 grammar";
		if (util_is_wsp(l[0]))
			return "a line starts with white space (RFC 8461 section 3.2 grammar)";
		return "a line must start with a field name: a letter or digit (RFC 8461 section "
		       "3.2)";
	}
	if (i > NAME_MAX_LEN)
		return "a field name is longer than 32 characters (RFC 8461 section 3.2)";
	size_t j = i;
	while (j < n && util_is_wsp(l[j]))
		j++;
	if (j > i && j < n && l[j] == ':')
		return "white space before ':' (RFC 8461 section 3.2: the name is followed by ':' "
		       "directly)";
	if (i < n && l[i] == '=')
		return "expected 'name: value', found '=' (this looks like a TXT record, not a "
		       "policy)";
	return "expected ':' after the field name (RFC 8461 section 3.2: 'name: value' lines)";
}

/* One line (without its terminator): RFC 8461 §3.2 sts-policy-field *WSP. */
static void parse_line(struct state *st, const uint8_t *l, size_t n, uint32_t line)
{
	if (n == 0) {
		error(st, line, 0,
		      "an empty line (not allowed by the RFC 8461 section 3.2 grammar)");
		return;
	}
	/* sts-policy-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".") */
	size_t i = 0;
	if (util_is_alpha(l[0]) || util_is_digit(l[0])) {
		while (i < n && (util_is_alpha(l[i]) || util_is_digit(l[i]) || l[i] == '_' ||
				 l[i] == '-' || l[i] == '.'))
			i++;
	}
	if (i == 0 || i > NAME_MAX_LEN || i == n || l[i] != ':') {
		/* A known field name on a malformed line: its error is this one, not "missing". */
		if (span_is(l, i, "version"))
			st->seen_version = true;
		else if (span_is(l, i, "mode"))
			st->seen_mode = true;
		else if (span_is(l, i, "max_age"))
			st->seen_max_age = true;
		else if (span_is(l, i, "mx"))
			st->mx_lines++;
		error(st, line, (uint32_t)(i > NAME_MAX_LEN ? 1 : i + 1),
		      name_problem(l, n, i, line));
		return;
	}
	const uint8_t *name = l;
	size_t name_len = i;
	/* sts-policy-field-delim = ":" *WSP; trailing *WSP belongs to the record grammar. */
	i++;
	while (i < n && util_is_wsp(l[i]))
		i++;
	size_t end = n;
	while (end > i && util_is_wsp(l[end - 1]))
		end--;
	const uint8_t *v = l + i;
	size_t vn = end - i;
	uint32_t vcol = (uint32_t)(i + 1);
	size_t off = 0;
	const char *problem;

	/* Field names and literal values are case-sensitive (RFC 8461 §3.2, RFC 7405 %s). */
	if (span_is(name, name_len, "version")) {
		st->seen_version = true;
		if (!span_is(v, vn, "STSv1")) {
			error(st, line, vcol,
			      span_is_nocase(v, vn, "STSv1")
				      ? "version must be STSv1, written exactly so: values are "
					"case-sensitive (RFC 8461 section 3.2)"
				      : "version must be STSv1 (RFC 8461 section 3.2)");
			return;
		}
		if (st->have_version)
			warning(st, line, 0, "a second version field is ignored");
		st->have_version = true;
	} else if (span_is(name, name_len, "mode")) {
		enum sts_mode mode;
		st->seen_mode = true;
		if (span_is(v, vn, "enforce"))
			mode = STS_MODE_ENFORCE;
		else if (span_is(v, vn, "testing"))
			mode = STS_MODE_TESTING;
		else if (span_is(v, vn, "none"))
			mode = STS_MODE_NONE;
		else {
			/* Static reasons (sts_problem.h): one per value a wrong case comes close to. */
			static const struct case_hint modes[] = {
				{"enforce", "mode is not one of enforce, testing, none: values are "
					    "case-sensitive, write \"enforce\" (RFC 8461 section 3.2)"},
				{"testing", "mode is not one of enforce, testing, none: values are "
					    "case-sensitive, write \"testing\" (RFC 8461 section 3.2)"},
				{"none", "mode is not one of enforce, testing, none: values are "
					 "case-sensitive, write \"none\" (RFC 8461 section 3.2)"},
			};
			const char *why = case_hint(v, vn, modes, sizeof modes / sizeof modes[0],
						    "mode is not one of enforce, testing, none (RFC "
						    "8461 section 3.2)");
			error(st, line, vcol, why);
			return;
		}
		/* RFC 8461 §3.2 / STS-27: a repeated field other than mx: the first one counts. */
		if (st->have_mode) {
			warning(st, line, 0,
				"a second mode field is ignored: the first one counts");
			return;
		}
		st->have_mode = true;
		st->mode = mode;
	} else if (span_is(name, name_len, "max_age")) {
		st->seen_max_age = true;
		parse_max_age(st, v, vn, line, vcol);
	} else if (span_is(name, name_len, "mx")) {
		/* RFC 8461 §3.2: each mx pattern MUST be on its own line. */
		st->mx_lines++;
		problem = mx_problem(v, vn, &off);
		if (problem != NULL) {
			error(st, line, vcol + (uint32_t)off, problem);
			return;
		}
		if (v[vn - 1] == '.') {
			/* Rejecting the whole policy for this would turn an enforce policy into no
			 * policy at all (fail open); the pattern means the same without the dot. */
			warning(st, line, vcol + (uint32_t)vn - 1,
				"an mx pattern ends with a dot (not a Domain of RFC 5321); the dot "
				"is "
				"ignored");
			vn--;
		}
		add_mx(st, v, vn, line);
	} else {
		problem = ext_value_problem(v, vn, &off);
		if (problem != NULL) {
			error(st, line, vcol + (uint32_t)off, problem);
			return;
		}
		/* RFC 8461 §3.2: fields not specified here SHALL be ignored.  "Mode:" is such a
		 * field: say so, since the mode then goes missing. */
		static const struct case_hint fields[] = {
			{"version", "an unknown field is ignored: field names are case-sensitive, so "
				    "this is not the version field (RFC 8461 section 3.2)"},
			{"mode", "an unknown field is ignored: field names are case-sensitive, so this "
				 "is not the mode field (RFC 8461 section 3.2)"},
			{"max_age", "an unknown field is ignored: field names are case-sensitive, so "
				    "this is not the max_age field (RFC 8461 section 3.2)"},
			{"mx", "an unknown field is ignored: field names are case-sensitive, so this is "
			       "not an mx field (RFC 8461 section 3.2)"},
		};
		const char *why = case_hint(name, name_len, fields, sizeof fields / sizeof fields[0],
					    "an unknown field is ignored (RFC 8461 section 3.2)");
		warning(st, line, 1, why);
	}
}

/* A line the bounded reader refused (a NUL or a bare CR): report it and skip past its LF. */
static void bad_line(struct state *st, struct util_reader *r, uint32_t line)
{
	size_t avail = util_reader_remaining(r);
	const uint8_t *s = r->p + r->pos;
	st->skipped_line = true;
	size_t i = 0;
	for (; i < avail && s[i] != '\n'; i++) {
		if (s[i] == '\0') {
			error(st, line, (uint32_t)(i + 1), "a NUL byte in the policy");
			break;
		}
		if (s[i] == '\r' && (i + 1 == avail || s[i + 1] != '\n')) {
			/* RFC 8461 §3.2: sts-policy-term = LF / CRLF (mxtls decision D5). */
			error(st, line, (uint32_t)(i + 1),
			      "a bare CR: lines end in LF or CRLF (RFC 8461 section 3.2, mxtls "
			      "decision D5)");
			break;
		}
	}
	while (i < avail && s[i] != '\n')
		i++;
	const uint8_t *skipped;
	(void)util_reader_bytes(r, i < avail ? i + 1 : i, &skipped);
}

/* Turns the collected spans into owned strings; all-or-nothing. */
static int build(struct state *st, struct sts_policy *out)
{
	struct sts_policy pol = {.version = "STSv1", .mode = st->mode, .max_age = st->max_age};
	if (st->nmx > 0) {
		pol.mx = calloc(st->nmx, sizeof *pol.mx);
		if (pol.mx == NULL)
			return MXTLS_E_NOMEM;
	}
	for (size_t i = 0; i < st->nmx; i++) {
		pol.mx[i] = malloc(st->mx[i].len + 1);
		if (pol.mx[i] == NULL) {
			sts_policy_clear(&pol);
			return MXTLS_E_NOMEM;
		}
		memcpy(pol.mx[i], st->mx[i].p, st->mx[i].len);
		pol.mx[i][st->mx[i].len] = '\0';
		pol.nmx++;
	}
	pol.warnings = st->report->warnings;
	*out = pol;
	return MXTLS_OK;
}

int sts_policy_parse(const void *p, size_t len, struct sts_policy *out, struct sts_report *report)
{
	struct sts_report local;
	if (report == NULL)
		report = &local;
	sts_problem_report_init(report);
	if (p == NULL)
		len = 0;
	struct state st = {.report = report};
	/* RFC 8461 §3.3: senders may cap the size; over the cap is an error, not a truncation. */
	if (len > STS_POLICY_MAX) {
		const uint8_t *b = p;
		uint32_t line = 1;
		for (size_t i = 0; i < STS_POLICY_MAX; i++)
			line += b[i] == '\n';
		error(&st, line, 0,
		      "the policy is larger than 64 KiB (65536 bytes), the most mxtls accepts "
		      "(RFC 8461 section 3.3 lets senders cap the size)");
		return MXTLS_E_LIMIT;
	}
	if (len == 0) {
		error(&st, 1, 0, "the policy is empty");
		return MXTLS_E_SYNTAX;
	}
	struct util_reader r;
	util_reader_init(&r, p, len);
	uint32_t line = 0, first_empty = 0; /* the first of a run of empty lines */
	for (;;) {
		const uint8_t *l;
		size_t n;
		enum util_line_end end;
		int rc = util_reader_line(&r, STS_POLICY_MAX, &l, &n, &end);
		if (rc == MXTLS_E_NOTFOUND)
			break;
		line++;
		if (rc == MXTLS_OK && n == 0) {
			if (first_empty == 0)
				first_empty = line;
			continue;
		}
		if (first_empty != 0) {
			/* An empty line between fields is outside the grammar: invalid. */
			parse_line(&st, (const uint8_t *)"", 0, first_empty);
			first_empty = 0;
		}
		if (rc != MXTLS_OK) { /* MXTLS_E_SYNTAX; no line can exceed the whole input */
			bad_line(&st, &r, line);
			continue;
		}
		parse_line(&st, l, n, line);
		if (st.nomem)
			break;
	}
	if (first_empty != 0 && first_empty > 1)
		/* Empty lines after the last field are outside the grammar too, but they change
		 * nothing, and rejecting an enforce policy for them would fail open. */
		warning(&st, first_empty, 0,
			"empty lines at the end of the policy are ignored (not in the RFC 8461 "
			"section 3.2 grammar)");
	else if (first_empty == 1)
		parse_line(&st, (const uint8_t *)"", 0, first_empty);
	int rc = MXTLS_OK;
	if (st.nomem) {
		rc = MXTLS_E_NOMEM;
		goto out;
	}
	/* RFC 8461 §3.2: version, mode and max_age are required; mx at least once unless the
	 * mode is none.  A field whose only line was wrong, or that may sit on an unreadable
	 * line, already has its error. */
	bool quiet = st.skipped_line;
	/* A missing version points at line 1, where a policy starts with "version: STSv1". */
	if (!st.have_version && !st.seen_version && !quiet)
		error(&st, 1, 0,
		      "the version field is missing: a policy starts with 'version: STSv1' "
		      "(RFC 8461 section 3.2)");
	if (!st.have_mode && !st.seen_mode && !quiet)
		error(&st, line, 0, "the mode field is missing (RFC 8461 section 3.2)");
	if (!st.have_max_age && !st.seen_max_age && !quiet)
		error(&st, line, 0, "the max_age field is missing (RFC 8461 section 3.2)");
	if (st.have_mode && st.mode != STS_MODE_NONE && st.mx_lines == 0 && !quiet)
		error(&st, line, 0,
		      "no mx field: at least one is required unless mode is none (RFC 8461 section "
		      "3.2)");
	if (report->errors.n + report->errors.dropped > 0)
		rc = st.limit ? MXTLS_E_LIMIT : MXTLS_E_SYNTAX;
	else
		rc = build(&st, out);
out:
	free(st.mx);
	free(st.mx_index);
	return rc;
}

void sts_policy_clear(struct sts_policy *policy)
{
	if (policy == NULL)
		return;
	for (size_t i = 0; i < policy->nmx; i++)
		free(policy->mx[i]);
	free(policy->mx);
	memset(policy, 0, sizeof *policy);
}
