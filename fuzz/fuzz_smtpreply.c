/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: SMTP replies as a hostile server sends them (smtp/smtp_reply.c), parsed
 * reply after reply as the client does, each then read as an EHLO reply. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smtp/smtp_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	while (off < size) {
		struct smtp_reply r;
		size_t used = 0;
		const char *why = NULL;
		enum smtp_parse rc = smtp_reply_parse(data + off, size - off, &r, &used, &why);
		if (rc == SMTP_PARSE_INVALID && why == NULL)
			__builtin_trap();
		if (rc != SMTP_PARSE_DONE)
			break;
		/* Invariants: progress within the input, a code in range, text within the caps. */
		if (used == 0 || used > size - off || r.code < 200 || r.code > 599 || r.nlines == 0 ||
		    r.nlines > SMTP_REPLY_LINES_MAX || strlen(r.text) != r.text_len ||
		    r.text_len > r.nlines * (SMTP_LINE_MAX + 1))
			__builtin_trap();
		struct smtp_ehlo e;
		if (smtp_ehlo_parse(&r, &e) != (r.code >= 200 && r.code < 300))
			__builtin_trap();
		smtp_reply_clear(&r);
		off += used;
	}
	return 0;
}
