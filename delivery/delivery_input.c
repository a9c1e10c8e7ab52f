/* SPDX-License-Identifier: MIT */
/* sendmail(1) input to a CRLF message (delivery_input.h). */
#include "delivery/delivery_input.h"

#include <string.h>

#include <mxtls/error.h>

int delivery_input_normalize(const char *in, size_t len, bool dot_ends, struct util_buf *out,
			     const char **why)
{
	*why = NULL;
	if (memchr(in, '\0', len) != NULL) {
		*why = "the message holds a NUL byte";
		return MXTLS_E_SYNTAX;
	}
	size_t pos = 0;
	bool first = true;
	while (pos < len) {
		const char *line = in + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - line) : len - pos;
		pos += n + (nl != NULL);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (first && n >= 5 && memcmp(line, "From ", 5) == 0) {
			first = false;
			continue;
		}
		first = false;
		if (dot_ends && n == 1 && line[0] == '.')
			break;
		int rc = util_buf_append(out, line, n);
		if (rc == MXTLS_OK)
			rc = util_buf_append(out, "\r\n", 2);
		if (rc != MXTLS_OK)
			return rc;
	}
	return MXTLS_OK;
}
