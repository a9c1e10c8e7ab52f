/* SPDX-License-Identifier: MIT */
/* Problems (errors and warnings) the pure MTA-STS parsers report: a static reason and a place. */
#ifndef MXTLS_STS_PROBLEM_H
#define MXTLS_STS_PROBLEM_H

#include <stddef.h>
#include <stdint.h>

/* The most problems of one kind a report keeps; further ones are only counted. */
#define STS_PROBLEMS_MAX 32

/*
 * One problem.  line is 1-based (a TXT record is a single line, so always 1 there); column is
 * the 1-based byte offset inside that line, 0 when the problem concerns the whole line or the
 * whole input.  reason is a static English sentence (never freed, never NULL).
 */
struct sts_problem {
	uint32_t line;
	uint32_t column;
	const char *reason;
};

/* A capped list of problems: n kept in item[], dropped more were found but not kept. */
struct sts_problems {
	size_t n;
	size_t dropped;
	struct sts_problem item[STS_PROBLEMS_MAX];
};

/* What a parser found wrong (errors) or questionable but accepted (warnings). */
struct sts_report {
	struct sts_problems errors;
	struct sts_problems warnings;
};

/* Empties a report. */
void sts_problem_report_init(struct sts_report *r);

/* Appends a problem (reason static, not NULL); counts it in dropped when the list is full. */
void sts_problem_add(struct sts_problems *list, uint32_t line, uint32_t column, const char *reason);

#endif
