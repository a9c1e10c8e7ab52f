/* SPDX-License-Identifier: MIT */
/* The public MTA-STS lint API: mxtls_sts_lint_policy() and mxtls_sts_lint_txt() over sts/. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>
#include <mxtls/sts.h>

#include "sts/sts_mx.h"
#include "sts/sts_policy.h"
#include "sts/sts_problem.h"
#include "sts/sts_txt.h"
#include "util/util_text.h"

_Static_assert(MXTLS_STS_POLICY_MAX == STS_POLICY_MAX, "public and internal caps differ");

static const char more_problems[] = "further problems were found but are not listed";

struct mxtls_sts_lint {
	bool valid;
	bool have_policy; /* policy holds a parsed, valid policy */
	bool have_txt;    /* txt holds a parsed, valid record */
	struct sts_problems errors;
	struct sts_problems warnings;
	struct sts_policy policy;
	struct sts_txt txt;
};

void mxtls_sts_lint_free(struct mxtls_sts_lint *l)
{
	if (l == NULL)
		return;
	sts_policy_clear(&l->policy);
	free(l);
}

int mxtls_sts_lint_policy(const char *text, size_t len, struct mxtls_sts_lint **out)
{
	if ((text == NULL && len > 0) || out == NULL)
		return MXTLS_E_INVAL;
	struct mxtls_sts_lint *l = calloc(1, sizeof *l);
	if (l == NULL)
		return MXTLS_E_NOMEM;
	struct sts_report report;
	int rc = sts_policy_parse(text, len, &l->policy, &report);
	if (rc == MXTLS_E_NOMEM) {
		free(l);
		return rc;
	}
	l->valid = l->have_policy = rc == MXTLS_OK;
	l->errors = report.errors;
	l->warnings = report.warnings;
	*out = l;
	return MXTLS_OK;
}

/* Copies a record's problems, with the record's position as their line. */
static void add_all(struct sts_problems *to, const struct sts_problems *from, uint32_t record)
{
	for (size_t i = 0; i < from->n; i++)
		sts_problem_add(to, record, from->item[i].column, from->item[i].reason);
	to->dropped += from->dropped;
}

/* A record that looks like an MTA-STS record but is not one that selection keeps. */
static bool looks_like_sts(const char *p, size_t len)
{
	static const char v[] = "v=sts";
	if (len < sizeof v - 1)
		return false;
	for (size_t i = 0; i < sizeof v - 1; i++) {
		if (util_lower((uint8_t)p[i]) != v[i])
			return false;
	}
	return true;
}

int mxtls_sts_lint_txt(const char *const *records, const size_t *lens, size_t n,
		       struct mxtls_sts_lint **out)
{
	if ((n > 0 && (records == NULL || lens == NULL)) || out == NULL)
		return MXTLS_E_INVAL;
	for (size_t i = 0; i < n; i++) {
		if (records[i] == NULL && lens[i] > 0)
			return MXTLS_E_INVAL;
	}
	struct mxtls_sts_lint *l = calloc(1, sizeof *l);
	struct sts_txt_span *spans = calloc(n ? n : 1, sizeof *spans);
	if (l == NULL || spans == NULL) {
		free(l);
		free(spans);
		return MXTLS_E_NOMEM;
	}
	for (size_t i = 0; i < n; i++)
		spans[i] = (struct sts_txt_span){records[i], lens[i]};
	size_t which = 0;
	struct sts_report report;
	switch (sts_txt_select(spans, n, &which)) {
	case STS_TXT_NONE:
		if (n == 1) { /* the parser says precisely why the only record is not one */
			(void)sts_txt_parse(spans[0].p, spans[0].len, &l->txt, &report);
			add_all(&l->errors, &report.errors, 1);
		} else {
			sts_problem_add(
				&l->errors, 0, 0,
				"no record begins with v=STSv1; (RFC 8461 section 3.1): the "
				"domain has no MTA-STS policy");
		}
		break;
	case STS_TXT_MANY:
		/* RFC 8461 §3.1: if the number of resulting records is not one, no policy. */
		sts_problem_add(&l->errors, 0, 0,
				"more than one record begins with v=STSv1; (RFC 8461 section 3.1): "
				"no policy is available");
		for (size_t i = 0; i < n; i++) {
			if (sts_txt_is_candidate(spans[i].p, spans[i].len))
				sts_problem_add(&l->errors, (uint32_t)(i + 1), 0,
						"one of several records that begin with v=STSv1;");
		}
		break;
	case STS_TXT_ONE:
		l->valid = l->have_txt = sts_txt_parse(spans[which].p, spans[which].len, &l->txt,
						       &report) == MXTLS_OK;
		add_all(&l->errors, &report.errors, (uint32_t)(which + 1));
		add_all(&l->warnings, &report.warnings, (uint32_t)(which + 1));
		break;
	}
	for (size_t i = 0; i < n && n > 1; i++) {
		if (looks_like_sts(spans[i].p, spans[i].len) &&
		    !sts_txt_is_candidate(spans[i].p, spans[i].len))
			sts_problem_add(&l->warnings, (uint32_t)(i + 1), 0,
					"a record that does not begin with v=STSv1; is discarded "
					"(RFC 8461 section 3.1)");
	}
	free(spans);
	*out = l;
	return MXTLS_OK;
}

int mxtls_sts_lint_valid(const struct mxtls_sts_lint *l)
{
	return l != NULL && l->valid;
}

static size_t count(const struct sts_problems *p)
{
	return p->n + (p->dropped > 0);
}

static const char *item(const struct sts_problems *p, size_t i, unsigned *line, unsigned *column)
{
	unsigned ln = 0, col = 0;
	const char *reason = NULL;
	if (i < p->n) {
		ln = p->item[i].line;
		col = p->item[i].column;
		reason = p->item[i].reason;
	} else if (i == p->n && p->dropped > 0) {
		reason = more_problems;
	}
	if (line != NULL)
		*line = ln;
	if (column != NULL)
		*column = col;
	return reason;
}

size_t mxtls_sts_lint_errors(const struct mxtls_sts_lint *l)
{
	return l != NULL ? count(&l->errors) : 0;
}

size_t mxtls_sts_lint_warnings(const struct mxtls_sts_lint *l)
{
	return l != NULL ? count(&l->warnings) : 0;
}

const char *mxtls_sts_lint_error(const struct mxtls_sts_lint *l, size_t i, unsigned *line,
				 unsigned *column)
{
	static const struct sts_problems none;
	return item(l != NULL ? &l->errors : &none, i, line, column);
}

const char *mxtls_sts_lint_warning(const struct mxtls_sts_lint *l, size_t i, unsigned *line,
				   unsigned *column)
{
	static const struct sts_problems none;
	return item(l != NULL ? &l->warnings : &none, i, line, column);
}

const char *mxtls_sts_lint_version(const struct mxtls_sts_lint *l)
{
	return l != NULL && l->have_policy ? l->policy.version : NULL;
}

const char *mxtls_sts_lint_mode(const struct mxtls_sts_lint *l)
{
	return l != NULL && l->have_policy ? sts_policy_mode_name(l->policy.mode) : NULL;
}

int64_t mxtls_sts_lint_max_age(const struct mxtls_sts_lint *l)
{
	return l != NULL && l->have_policy ? (int64_t)l->policy.max_age : -1;
}

size_t mxtls_sts_lint_mx_count(const struct mxtls_sts_lint *l)
{
	return l != NULL && l->have_policy ? l->policy.nmx : 0;
}

const char *mxtls_sts_lint_mx(const struct mxtls_sts_lint *l, size_t i)
{
	return l != NULL && l->have_policy && i < l->policy.nmx ? l->policy.mx[i] : NULL;
}

int mxtls_sts_lint_mx_match(const struct mxtls_sts_lint *l, const char *host)
{
	size_t which;
	if (l == NULL || !l->have_policy || host == NULL ||
	    !sts_mx_match_policy(&l->policy, host, strlen(host), &which))
		return -1;
	return (int)which;
}

const char *mxtls_sts_lint_id(const struct mxtls_sts_lint *l)
{
	return l != NULL && l->have_txt ? l->txt.id : NULL;
}
