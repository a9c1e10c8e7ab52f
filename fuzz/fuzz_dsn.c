/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: a DSN (delivery/delivery_dsn.c) built from a random SMTP reply and a random
 * original header section, with the output invariants checked: CRLF only, lines <= 998 octets,
 * 7-bit without control bytes, the boundary only at the four delimiters, and only known fields
 * (or continuation lines) in the message/delivery-status part. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "delivery/delivery_dsn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count(const char *hay, size_t n, const char *needle, size_t nl)
{
	size_t c = 0;
	const char *p = hay, *end = hay + n;
	while ((p = memmem(p, (size_t)(end - p), needle, nl)) != NULL) {
		c++;
		p++;
	}
	return c;
}

static bool known_field(const char *l, size_t n)
{
	static const char *const names[] = {"Reporting-MTA:",    "Original-Envelope-Id:",
					    "Arrival-Date:",     "Original-Recipient:",
					    "Final-Recipient:",  "Action:",
					    "Status:",           "Remote-MTA:",
					    "Diagnostic-Code:",  "Last-Attempt-Date:",
					    "Will-Retry-Until:", "X-Mxtls-TLS-Result:"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (n >= strlen(names[i]) && memcmp(l, names[i], strlen(names[i])) == 0)
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	uint8_t flags = data[0];
	size_t split = ((size_t)data[1] | (size_t)data[2] << 8) % (size - 2);
	const char *reply = (const char *)data + 3;
	size_t reply_len = split > size - 3 ? size - 3 : split;
	const char *headers = reply + reply_len;
	size_t headers_len = size - 3 - reply_len;
	struct delivery_dsn_rcpt r[2] = {
		{.addr = "a@example.net",
		 .action = DELIVERY_DSN_FAILED,
		 .status = "5.1.1",
		 .remote_mta = "mx.example.net",
		 .reply = reply,
		 .reply_len = reply_len,
		 .last_attempt = 1796126460,
		 .tls_result = (enum mxtls_result)(flags % 12)},
		{.addr = "b@example.net",
		 .action = DELIVERY_DSN_DELAYED,
		 .status = "4.7.5",
		 .reply = headers,
		 .reply_len = headers_len,
		 .will_retry_until = 1796558400},
	};
	struct delivery_dsn d = {.reporting_mta = "mail.example.org",
				 .queue_id = "0123456789ABCDEF0123",
				 .sender = "s@example.org",
				 .arrival = 1796126400,
				 .now = 1796126470,
				 .delay = (flags & 0x80) != 0,
				 .headers = headers,
				 .headers_len = headers_len,
				 .rcpts = r,
				 .nrcpts = 1 + ((flags >> 4) & 1)};
	char *out = NULL;
	size_t len = 0;
	if (delivery_dsn_build(&d, &out, &len, NULL) != MXTLS_OK)
		__builtin_trap();
	size_t line = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)out[i];
		if (c == '\r') {
			if (i + 1 >= len || out[i + 1] != '\n')
				__builtin_trap();
			i++;
			line = 0;
			continue;
		}
		if (c == '\n' || c > 0x7e || (c < 0x20 && c != '\t') || ++line > 998)
			__builtin_trap();
	}
	const char *b = strstr(out, "boundary=\"");
	if (b == NULL)
		__builtin_trap();
	b += 10;
	const char *q = strchr(b, '"');
	char delim[140] = "\r\n--";
	if (q == NULL || (size_t)(q - b) > 100)
		__builtin_trap();
	memcpy(delim + 4, b, (size_t)(q - b));
	size_t dl = 4 + (size_t)(q - b);
	/* RFC 2046 §5.1.1: the boundary appears only as the delimiters: 3 parts and the close. */
	if (count(out, len, delim + 2, dl - 2) != 4 || count(out, len, delim, dl) != 4)
		__builtin_trap();
	/* The status part begins right after the second delimiter and its part header. */
	static const char st_head[] = "\r\nContent-Description: Delivery report\r\n"
				      "Content-Type: message/delivery-status\r\n\r\n";
	const char *st = memmem(out, len, delim, dl);
	st = st != NULL ? memmem(st + dl, len - (size_t)(st + dl - out), delim, dl) : NULL;
	if (st == NULL || strncmp(st + dl, st_head, sizeof st_head - 1) != 0)
		__builtin_trap();
	st += dl + sizeof st_head - 1;
	const char *st_end = memmem(st, len - (size_t)(st - out), delim, dl);
	if (st_end == NULL)
		__builtin_trap();
	for (const char *l = st; l < st_end;) {
		const char *e = memmem(l, (size_t)(st_end - l), "\r\n", 2);
		size_t n = (size_t)((e != NULL ? e : st_end) - l);
		if (n > 0 && l[0] != ' ' && !known_field(l, n))
			__builtin_trap();
		l += n + 2;
	}
	free(out);
	return 0;
}
