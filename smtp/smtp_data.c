/* SPDX-License-Identifier: MIT */
/* The DATA payload: CRLF normalisation and dot-stuffing (RFC 5321 §4.5.2, §2.3.8).  Pure. */
#include "smtp/smtp_data.h"

#include <string.h>

#include <mxtls/error.h>

int smtp_data_encode(const unsigned char *msg, size_t len, struct util_buf *out,
		     struct smtp_data_info *info)
{
	if (len == 0 || msg == NULL)
		return MXTLS_E_SYNTAX;
	if (memchr(msg, '\0', len) != NULL)
		return MXTLS_E_SYNTAX;
	size_t start_len = out->len;
	struct smtp_data_info in = {0, 0, false};
	size_t i = 0;
	int rc = MXTLS_OK;
	while (i < len && rc == MXTLS_OK) {
		/* One line: [i, e), then its terminator (CRLF, LF, CR, or the end of input). */
		size_t e = i;
		while (e < len && msg[e] != '\n' && msg[e] != '\r') {
			in.eightbit |= msg[e] >= 0x80;
			e++;
		}
		if (msg[i] == '.' && e > i)
			rc = util_buf_append_byte(out, '.'); /* RFC 5321 §4.5.2 transparency */
		if (rc == MXTLS_OK)
			rc = util_buf_append(out, msg + i, e - i);
		if (rc == MXTLS_OK)
			rc = util_buf_append(out, "\r\n", 2);
		if (e - i > in.longest)
			in.longest = e - i;
		in.size += e - i + 2;
		if (e < len && msg[e] == '\r' && e + 1 < len && msg[e + 1] == '\n')
			e++;
		i = e + 1;
	}
	if (rc == MXTLS_OK)
		rc = util_buf_append(out, ".\r\n", 3);
	if (rc != MXTLS_OK) {
		/* All-or-nothing: drop what this call appended. */
		out->len = start_len;
		if (out->data != NULL)
			out->data[start_len] = '\0';
		return rc;
	}
	*info = in;
	return MXTLS_OK;
}
