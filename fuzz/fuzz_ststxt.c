/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the _mta-sts TXT record parser, record selection and owner names
 * (sts/sts_txt.c).  The input is one record; split at LF it is also an RRset. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mxtls/error.h>

#include "sts/sts_txt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RRSET_MAX 16

static void check_report(const struct sts_report *rep, int rc)
{
	/* Invariants: an invalid record has exactly one error with a reason; a valid one none. */
	if ((rc == MXTLS_OK) != (rep->errors.n == 0))
		__builtin_trap();
	if (rc != MXTLS_OK && (rep->errors.n != 1 || rep->errors.item[0].reason == NULL))
		__builtin_trap();
	for (size_t i = 0; i < rep->warnings.n; i++) {
		if (rep->warnings.item[i].reason == NULL || rep->warnings.item[i].line != 1)
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct sts_txt txt;
	struct sts_report rep;
	int rc = sts_txt_parse(text, size, &txt, &rep);
	check_report(&rep, rc);
	if (rc == MXTLS_OK) {
		size_t n = strlen(txt.id);
		if (n == 0 || n > STS_TXT_ID_MAX)
			__builtin_trap();
		/* A valid record is always a candidate of record selection. */
		if (!sts_txt_is_candidate(text, size))
			__builtin_trap();
	} else if (rc != MXTLS_E_SYNTAX && rc != MXTLS_E_LIMIT) {
		__builtin_trap();
	}

	/* The input as an RRset, one record per line. */
	struct sts_txt_span set[RRSET_MAX];
	size_t nset = 0, start = 0, candidates = 0;
	for (size_t i = 0; i <= size && nset < RRSET_MAX; i++) {
		if (i == size || data[i] == '\n') {
			set[nset] = (struct sts_txt_span){text + start, i - start};
			candidates += sts_txt_is_candidate(set[nset].p, set[nset].len);
			nset++;
			start = i + 1;
		}
	}
	size_t which = 99;
	enum sts_txt_choice choice = sts_txt_select(set, nset, &which);
	if ((candidates == 0 && choice != STS_TXT_NONE) ||
	    (candidates == 1 && (choice != STS_TXT_ONE || which >= nset)) ||
	    (candidates > 1 && choice != STS_TXT_MANY))
		__builtin_trap();

	char owner[300];
	if (sts_txt_owner(text, size, owner, sizeof owner) == MXTLS_OK &&
	    (strncmp(owner, "_mta-sts.", 9) != 0 || strlen(owner) > 253))
		__builtin_trap();
	return 0;
}
