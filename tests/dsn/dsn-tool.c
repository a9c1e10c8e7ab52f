/* SPDX-License-Identifier: MIT */
/* Writes the DSNs of a few fixed cases (tests/dsn/check-dsn.py parses them back) to DIR/NAME.eml.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "delivery/delivery_dsn.h"

#define QID "0123456789ABCDEF0123"

static int write_case(const char *dir, const char *name, const struct delivery_dsn *d)
{
	char *out = NULL;
	size_t len = 0;
	const char *why = NULL;
	int rc = delivery_dsn_build(d, &out, &len, &why);
	if (rc != MXTLS_OK) {
		fprintf(stderr, "%s: delivery_dsn_build: %d %s\n", name, rc, why ? why : "");
		return 1;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/%s.eml", dir, name);
	FILE *f = fopen(path, "wb");
	int bad = f == NULL || fwrite(out, 1, len, f) != len;
	if (f != NULL && fclose(f) != 0)
		bad = 1;
	free(out);
	if (bad)
		fprintf(stderr, "%s: cannot write %s\n", name, path);
	return bad;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: dsn-tool DIR\n");
		return 2;
	}
	static const char basic_headers[] = "From: Alice <alice@example.org>\r\n"
					    "To: bob@example.net\r\n"
					    "Subject: hello\r\n"
					    "Message-ID: <m1@example.org>\r\n"
					    "\r\n";
	static const char basic_reply[] = "550-5.1.1 The email account that you tried to reach "
					  "does not exist.\r\n550 5.1.1 Please check the address.";
	struct delivery_dsn_rcpt basic_r = {
		.addr = "bob@example.net",
		.orig_rcpt = "Bob@Example.NET",
		.action = DELIVERY_DSN_FAILED,
		.status = "5.1.1",
		.remote_mta = "mx1.example.net",
		.reply = basic_reply,
		.reply_len = sizeof basic_reply - 1,
		.last_attempt = 1796126460,
	};
	struct delivery_dsn basic = {
		.reporting_mta = "mail.example.org",
		.queue_id = QID,
		.envid = "ENV-42",
		.sender = "alice@example.org",
		.arrival = 1796126400,
		.now = 1796126470,
		.headers = basic_headers,
		.headers_len = sizeof basic_headers - 1,
		.rcpts = &basic_r,
		.nrcpts = 1,
	};

	static const char tls_reply[] = "454 4.7.0 TLS not available due to local problem";
	struct delivery_dsn_rcpt tls_r[2] = {
		{.addr = "carol@dane.example",
		 .action = DELIVERY_DSN_DELAYED,
		 .status = "4.7.5",
		 .remote_mta = "mx.dane.example",
		 .last_attempt = 1796130000,
		 .will_retry_until = 1796558400,
		 .tls_result = MXTLS_RESULT_TLSA_INVALID},
		{.addr = "dave@sts.example",
		 .action = DELIVERY_DSN_DELAYED,
		 .status = "4.7.5",
		 .remote_mta = "mx.sts.example",
		 .reply = tls_reply,
		 .reply_len = sizeof tls_reply - 1,
		 .last_attempt = 1796130001,
		 .will_retry_until = 1796558400,
		 .tls_result = MXTLS_RESULT_STARTTLS_NOT_SUPPORTED},
	};
	struct delivery_dsn tls = {
		.reporting_mta = "mail.example.org",
		.queue_id = QID,
		.sender = "alice@example.org",
		.arrival = 1796126400,
		.now = 1796130100,
		.delay = true,
		.headers = basic_headers,
		.headers_len = sizeof basic_headers - 1,
		.rcpts = tls_r,
		.nrcpts = 2,
	};

	/* Hostile: a reply with CR, LF, NUL, controls, 8-bit bytes and a 2000-byte word; headers
	 * with 8-bit bytes, a bare LF, a 1500-byte line and the first boundary inside. */
	static char reply[2200];
	size_t rl = 0;
	static const char r0[] = "550 5.7.1 bad\r\nX-Injected: yes\r\n\0nul\x01\x1b[31m\xff end ";
	memcpy(reply, r0, sizeof r0 - 1);
	rl += sizeof r0 - 1;
	memset(reply + rl, 'x', 2000);
	rl += 2000;
	static char headers[4000];
	size_t hl = 0;
	const char *h1 =
		"Subject: J\xc3\xb6rg\r\nX-Bare: a\nb\r\nX-B: --=_dsn_" QID "_0\r\nX-Long: ";
	memcpy(headers, h1, strlen(h1));
	hl += strlen(h1);
	memset(headers + hl, 'y', 1500);
	hl += 1500;
	memcpy(headers + hl, "\r\n\r\n", 4);
	hl += 4;
	struct delivery_dsn_rcpt hostile_r = {
		.addr = "\"odd local\"@example.net",
		.action = DELIVERY_DSN_FAILED,
		.status = "5.7.1",
		.remote_mta = "mx2.example.net",
		.reply = reply,
		.reply_len = rl,
		.last_attempt = 1796126460,
		.tls_result = MXTLS_RESULT_DNSSEC_INVALID,
	};
	struct delivery_dsn hostile = {
		.reporting_mta = "mail.example.org",
		.queue_id = QID,
		.sender = "alice@example.org",
		.arrival = 1796126400,
		.now = 1796126470,
		.headers = headers,
		.headers_len = hl,
		.rcpts = &hostile_r,
		.nrcpts = 1,
	};
	int bad = write_case(argv[1], "basic", &basic);
	bad |= write_case(argv[1], "tls-delay", &tls);
	bad |= write_case(argv[1], "hostile", &hostile);
	return bad;
}
