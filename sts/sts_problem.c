/* SPDX-License-Identifier: MIT */
/* Capped problem lists for the MTA-STS parsers' reports. */
#include "sts/sts_problem.h"

#include <assert.h>
#include <string.h>

void sts_problem_report_init(struct sts_report *r)
{
	memset(r, 0, sizeof *r);
}

void sts_problem_add(struct sts_problems *list, uint32_t line, uint32_t column, const char *reason)
{
	assert(reason != NULL);
	if (list->n == STS_PROBLEMS_MAX) {
		list->dropped++;
		return;
	}
	list->item[list->n++] = (struct sts_problem){line, column, reason};
}
