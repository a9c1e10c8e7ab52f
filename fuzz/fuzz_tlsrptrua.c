/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the RFC 8460 §3 _smtp._tls record (tlsrpt/tlsrpt_rua.c): the input as one
 * record and, split at LF, as an RRset; then the mail report (tlsrpt/tlsrpt_mail.c) with the
 * input as the attachment, a parsed mailto destination as To, and the input as boundary. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mxtls/error.h>

#include "tlsrpt/tlsrpt_mail.h"
#include "tlsrpt/tlsrpt_rua.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RRSET_MAX      16
#define MAIL_INPUT_MAX 4096

static void check_text(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > TLSRPT_RUA_URI_MAX)
		__builtin_trap();
	for (size_t i = 0; i < n; i++)
		if ((uint8_t)t[i] < 0x20 || (uint8_t)t[i] >= 0x7f)
			__builtin_trap();
}

/* Invariants of a result: OK has destinations (valid ones), a failure a reason and nothing. */
static void check_result(const struct tlsrpt_rua *r, int rc)
{
	if ((rc == MXTLS_OK) != (r->status == TLSRPT_RUA_OK))
		__builtin_trap();
	if (rc != MXTLS_OK) {
		if (r->reason[0] == '\0' || r->dest != NULL || r->ndest != 0 ||
		    r->skipped != NULL || r->nskipped != 0)
			__builtin_trap();
		if (rc != MXTLS_E_SYNTAX && rc != MXTLS_E_LIMIT && rc != MXTLS_E_NOTFOUND &&
		    rc != MXTLS_E_NOMEM)
			__builtin_trap();
		return;
	}
	if (r->ndest == 0 || r->ndest + r->nskipped > TLSRPT_RUA_URIS_MAX || r->reason[0] != '\0')
		__builtin_trap();
	for (size_t i = 0; i < r->ndest; i++) {
		const struct tlsrpt_rua_dest *d = &r->dest[i];
		check_text(d->text);
		if (d->why != NULL)
			__builtin_trap();
		if (d->kind == TLSRPT_DEST_MAILTO) {
			if (!tlsrpt_addr_valid(d->text, strlen(d->text)))
				__builtin_trap();
		} else if (d->kind != TLSRPT_DEST_HTTPS ||
			   strncasecmp(d->text, "https://", 8) != 0) {
			__builtin_trap();
		}
		for (size_t j = 0; j < i; j++) /* no duplicates */
			if (r->dest[j].kind == d->kind && strcmp(r->dest[j].text, d->text) == 0)
				__builtin_trap();
	}
	for (size_t i = 0; i < r->nskipped; i++) {
		check_text(r->skipped[i].text);
		if (r->skipped[i].kind != TLSRPT_DEST_SKIPPED || r->skipped[i].why == NULL)
			__builtin_trap();
	}
}

/* CRLF only, lines within 998, 7-bit printable; the boundary delimits exactly three times. */
static void check_mail(const char *m, size_t n, const char *boundary)
{
	size_t start = 0, delims = 0, closes = 0, bl = strlen(boundary);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)m[i];
		if (c == '\n') {
			if (i == 0 || m[i - 1] != '\r' || i - 1 - start > 998)
				__builtin_trap();
			const char *l = m + start;
			size_t ll = i - 1 - start;
			if (ll >= bl + 2 && l[0] == '-' && l[1] == '-' &&
			    memcmp(l + 2, boundary, bl) == 0) {
				if (ll == bl + 2)
					delims++;
				else if (ll == bl + 4 && l[bl + 2] == '-' && l[bl + 3] == '-')
					closes++;
				else
					__builtin_trap(); /* a line that begins like a delimiter */
			}
			start = i + 1;
		} else if (c == '\r' ? i + 1 >= n || m[i + 1] != '\n' : c < 0x20 || c >= 0x7f) {
			__builtin_trap();
		}
	}
	if (start != n || delims != 2 || closes != 1)
		__builtin_trap();
}

static void mail(const uint8_t *data, size_t size, const char *to)
{
	char boundary[TLSRPT_MAIL_BOUNDARY_MAX + 1] = "=_b";
	struct tlsrpt_mail_in in = {
		.policy_domain = "example.net",
		.submitter = "mail.example.com",
		.from = "tlsrpt@mail.example.com",
		.to = to != NULL ? to : "reports@example.net",
		.date = 1796558400,
		.day = 20792,
		.message_id = "1@mail.example.com",
		.report_id = "2026-12-05.1@mail.example.com",
		.boundary = boundary,
		.filename = "mail.example.com!example.net!1796428800!1796515200.json.gz",
		.report = data,
		.report_len = size,
	};
	char *out = NULL;
	size_t n = 0;
	int rc = tlsrpt_mail_build(&in, &out, &n);
	/* every usable mailto destination is an acceptable To */
	if (rc != (size == 0 ? MXTLS_E_INVAL : MXTLS_OK))
		__builtin_trap();
	if (rc == MXTLS_OK) {
		check_mail(out, n, boundary);
		free(out);
	}
	/* the input as the boundary: refused, or a message it delimits correctly */
	if (size == 0 || size > TLSRPT_MAIL_BOUNDARY_MAX || memchr(data, 0, size) != NULL)
		return;
	memcpy(boundary, data, size);
	boundary[size] = '\0';
	rc = tlsrpt_mail_build(&in, &out, &n);
	if (rc == MXTLS_OK) {
		check_mail(out, n, boundary);
		free(out);
	} else if (rc != MXTLS_E_INVAL) {
		__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct tlsrpt_rua r;
	int rc = tlsrpt_rua_parse(text, size, &r);
	check_result(&r, rc);
	/* a valid record is a candidate of record selection */
	if (rc == MXTLS_OK && !tlsrpt_rua_is_candidate(text, size))
		__builtin_trap();
	const char *to = NULL;
	for (size_t i = 0; rc == MXTLS_OK && i < r.ndest && to == NULL; i++)
		if (r.dest[i].kind == TLSRPT_DEST_MAILTO)
			to = r.dest[i].text;
	if (size <= MAIL_INPUT_MAX)
		mail(data, size, to);
	tlsrpt_rua_free(&r);

	/* The input as an RRset, one record per line. */
	struct tlsrpt_rua_span set[RRSET_MAX];
	size_t nset = 0, start = 0, candidates = 0;
	for (size_t i = 0; i <= size && nset < RRSET_MAX; i++) {
		if (i == size || data[i] == '\n') {
			set[nset] = (struct tlsrpt_rua_span){text + start, i - start};
			candidates += tlsrpt_rua_is_candidate(set[nset].p, set[nset].len);
			nset++;
			start = i + 1;
		}
	}
	rc = tlsrpt_rua_discover(set, nset, &r);
	check_result(&r, rc);
	if ((candidates == 0 && (r.status != TLSRPT_RUA_NONE || rc != MXTLS_E_NOTFOUND)) ||
	    (candidates > 1 && (r.status != TLSRPT_RUA_MULTIPLE || rc != MXTLS_E_NOTFOUND)) ||
	    (candidates == 1 &&
	     (r.status == TLSRPT_RUA_NONE || r.status == TLSRPT_RUA_MULTIPLE || r.record >= nset ||
	      !tlsrpt_rua_is_candidate(set[r.record].p, set[r.record].len))))
		__builtin_trap();
	tlsrpt_rua_free(&r);
	return 0;
}
