/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the submission listener's command parser (delivery_smtpd_cmd_parse) on the
 * input as one line, and the session machine (delivery_smtpd_session_input) fed the input as
 * client bytes, whole and in chunks, with the invariants checked: the same replies however the
 * input is split, every reply a CRLF-ended "DDD " or "DDD-" line, a queued message within the
 * caps with CRLF line ends only, what is left untaken below the line cap, accepted paths that
 * are C strings of the stated length within RFC 5321's caps. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "delivery/delivery_smtpd_cmd.h"
#include "delivery/delivery_smtpd_session.h"
#include "util/util_buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MESSAGE 2048
#define MAX_RCPT    4

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static void parse_one(const uint8_t *data, size_t size, uint8_t flags)
{
	struct delivery_smtpd_cmd c;
	const char *why =
		delivery_smtpd_cmd_parse((const char *)data, size, flags & 1, flags & 2, &c);
	if (why != NULL) {
		/* A complete reply: "4xx x.y.z text" or "5xx x.y.z text", no CR or LF. */
		check(strlen(why) > 10 && (why[0] == '4' || why[0] == '5') && why[3] == ' ' &&
		      why[4] == why[0] && strpbrk(why, "\r\n") == NULL);
		return;
	}
	check(c.verb != DELIVERY_SMTPD_UNKNOWN && c.verb != DELIVERY_SMTPD_STARTTLS);
	check(size <= DELIVERY_SMTPD_LINE_MAX - 2);
	check(strlen(c.path) == c.path_len && c.path_len <= 254);
	check(strlen(c.helo) <= DELIVERY_SMTPD_HELO_MAX);
	for (size_t i = 0; i < c.path_len; i++) {
		uint8_t b = (uint8_t)c.path[i];
		check(b >= 0x20 && b != 0x7f);
		/* 8-bit only where SMTPUTF8 allows it. */
		if (b >= 0x80)
			check(c.verb == DELIVERY_SMTPD_MAIL ? c.smtputf8 : (flags & 2) != 0);
	}
	if (c.verb == DELIVERY_SMTPD_RCPT)
		check(c.path_len > 0 && memchr(c.path, '@', c.path_len) != NULL);
}

/* Every reply line "DDD" SP/"-" ... CRLF, with no other CR or LF. */
static void check_replies(const char *out, size_t len)
{
	size_t i = 0;
	while (i < len) {
		const char *crlf = memmem(out + i, len - i, "\r\n", 2);
		check(crlf != NULL);
		size_t n = (size_t)(crlf - (out + i));
		check(n >= 4 && out[i] >= '2' && out[i] <= '5' &&
		      (out[i + 3] == ' ' || out[i + 3] == '-'));
		check(memchr(out + i, '\n', n) == NULL && memchr(out + i, '\r', n) == NULL);
		i += n + 2;
	}
}

/* A queued message: within the cap, CR only before LF and LF only after CR, ends with CRLF. */
static void check_message(struct delivery_smtpd_session *s)
{
	size_t len, n;
	const char *m = delivery_smtpd_session_message(s, &len);
	check(len <= MAX_MESSAGE);
	for (size_t i = 0; i < len; i++) {
		if (m[i] == '\r')
			check(i + 1 < len && m[i + 1] == '\n');
		if (m[i] == '\n')
			check(i > 0 && m[i - 1] == '\r');
		check(m[i] != '\0');
	}
	check(len == 0 || (len >= 2 && m[len - 2] == '\r' && m[len - 1] == '\n'));
	delivery_smtpd_session_rcpts(s, &n);
	check(n >= 1 && n <= MAX_RCPT);
	check(strlen(delivery_smtpd_session_sender(s)) <= 254);
}

/* Feeds data in chunks of chunk bytes as the listener does; the replies go to out. */
static void run(const uint8_t *data, size_t size, size_t chunk, int queue_rc, struct util_buf *out)
{
	struct delivery_smtpd_session *s =
		delivery_smtpd_session_new("fuzz.test", MAX_MESSAGE, MAX_RCPT);
	if (s == NULL)
		return;
	char *pending = malloc(size + 1);
	size_t plen = 0, fed = 0;
	bool closed = false;
	while (!closed && pending != NULL) {
		size_t n = size - fed < chunk ? size - fed : chunk;
		memcpy(pending + plen, data + fed, n);
		plen += n;
		fed += n;
		for (;;) {
			size_t used = 0;
			enum delivery_smtpd_action a =
				delivery_smtpd_session_input(s, pending, plen, &used, out);
			check(used <= plen);
			memmove(pending, pending + used, plen - used);
			plen -= used;
			if (a == DELIVERY_SMTPD_CLOSE) {
				closed = true;
				break;
			}
			if (a != DELIVERY_SMTPD_ENQUEUE)
				break;
			check_message(s);
			delivery_smtpd_session_queued(s, queue_rc, "0123456789ABCDEF0123", out);
		}
		if (!closed)
			check(plen < DELIVERY_SMTPD_LINE_MAX);
		if (fed == size)
			break;
	}
	free(pending);
	delivery_smtpd_session_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	data++;
	size--;
	parse_one(data, size, flags);
	static const int rcs[] = {MXTLS_OK, MXTLS_E_IO, MXTLS_E_LIMIT, MXTLS_E_NOMEM};
	int rc = rcs[(flags >> 2) & 3];
	size_t chunk = 1 + (flags >> 4); /* 1..16 */
	struct util_buf whole, pieces;
	util_buf_init(&whole, 1u << 24);
	util_buf_init(&pieces, 1u << 24);
	run(data, size, size ? size : 1, rc, &whole);
	run(data, size, chunk, rc, &pieces);
	check_replies(whole.data ? whole.data : "", whole.len);
	/* The replies must not depend on how the bytes were split. */
	check(whole.len == pieces.len &&
	      (whole.len == 0 || memcmp(whole.data, pieces.data, whole.len) == 0));
	util_buf_free(&whole);
	util_buf_free(&pieces);
	return 0;
}
