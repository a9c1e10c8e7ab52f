/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the TLS report read out of a mail message (tlsrpt/tlsrpt_mime.c): the input
 * as a message, and the input as the report of a message built by tlsrpt/tlsrpt_mail.c (CRLF
 * and LF-only), which must come back byte for byte. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "tlsrpt/tlsrpt_mail.h"
#include "tlsrpt/tlsrpt_mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ROUND_TRIP_MAX 4096

static void check_value(const char *v)
{
	if (v == NULL)
		return;
	size_t n = strlen(v);
	if (n > TLSRPT_MIME_FIELD_MAX || strpbrk(v, "\r\n") != NULL)
		__builtin_trap();
	if (n > 0 && (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t'))
		__builtin_trap();
}

/* Invariants of a result: OK has a report within the cap, a failure a reason and nothing. */
static void check(const struct tlsrpt_mime *m, int rc, const char *err)
{
	if (rc != MXTLS_OK) {
		if (rc != MXTLS_E_SYNTAX && rc != MXTLS_E_LIMIT && rc != MXTLS_E_NOMEM)
			__builtin_trap();
		if (err[0] == '\0' || strchr(err, '\n') != NULL || m->report != NULL ||
		    m->report_len != 0 || m->from != NULL || m->subject != NULL ||
		    m->message_id != NULL || m->report_domain != NULL ||
		    m->report_submitter != NULL || m->kind != 0)
			__builtin_trap();
		return;
	}
	if (err[0] != '\0' || m->report == NULL || m->report_len == 0 ||
	    m->report_len > TLSRPT_MIME_DECODED_MAX || m->report[m->report_len] != 0 ||
	    (m->kind != TLSRPT_MIME_GZIP && m->kind != TLSRPT_MIME_JSON))
		__builtin_trap();
	check_value(m->from);
	check_value(m->subject);
	check_value(m->message_id);
	check_value(m->report_domain);
	check_value(m->report_submitter);
}

static void round_trip(const uint8_t *data, size_t size)
{
	struct tlsrpt_mail_in in = {
		.policy_domain = "example.net",
		.submitter = "mail.example.com",
		.from = "tlsrpt@mail.example.com",
		.to = "reports@example.net",
		.date = 1796558400,
		.day = 20792,
		.message_id = "1@mail.example.com",
		.report_id = "2026-12-05.1@mail.example.com",
		.boundary = "=_mxtls-b",
		.filename = "mail.example.com!example.net!1796428800!1796515200.json.gz",
		.report = data,
		.report_len = size,
	};
	char *msg = NULL;
	size_t n = 0;
	if (tlsrpt_mail_build(&in, &msg, &n) != MXTLS_OK)
		__builtin_trap();
	for (int lf = 0; lf < 2; lf++) {
		if (lf) { /* the same message with LF line ends */
			size_t o = 0;
			for (size_t i = 0; i < n; i++)
				if (!(msg[i] == '\r' && i + 1 < n && msg[i + 1] == '\n'))
					msg[o++] = msg[i];
			n = o;
		}
		struct tlsrpt_mime m;
		char err[160];
		int rc = tlsrpt_mime_parse(msg, n, &m, err, sizeof err);
		check(&m, rc, err);
		if (rc != MXTLS_OK || m.kind != TLSRPT_MIME_GZIP || m.report_len != size ||
		    memcmp(m.report, data, size) != 0 || m.report_domain == NULL ||
		    strcmp(m.report_domain, "example.net") != 0 || m.report_submitter == NULL ||
		    strcmp(m.report_submitter, "mail.example.com") != 0 || m.message_id == NULL ||
		    strcmp(m.message_id, "<1@mail.example.com>") != 0)
			__builtin_trap();
		tlsrpt_mime_clear(&m);
	}
	free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlsrpt_mime m;
	char err[160];
	int rc = tlsrpt_mime_parse((const char *)data, size, &m, err, sizeof err);
	check(&m, rc, err);
	tlsrpt_mime_clear(&m);
	if (size > 0 && size <= ROUND_TRIP_MAX)
		round_trip(data, size);
	return 0;
}
