/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: drop files as any local user can write them into STATE_DIR/queue/maildrop/
 * (delivery/delivery_drop.c).  Invariants: every error has a reason; a parsed file written back
 * with delivery_drop_format_head() and its message is the input, byte for byte (the format has
 * one spelling per content, so nothing is read that the writer would not have written). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mxtls/error.h>

#include "delivery/delivery_drop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct delivery_drop d;
	const char *why = NULL;
	int rc = delivery_drop_parse(data, size, &d, &why);
	if (rc != MXTLS_OK) {
		if (why == NULL || why[0] == '\0')
			__builtin_trap();
		if (rc != MXTLS_E_SYNTAX && rc != MXTLS_E_TRUNCATED && rc != MXTLS_E_LIMIT &&
		    rc != MXTLS_E_NOMEM)
			__builtin_trap();
		return 0;
	}
	if (d.msg < (const char *)data || d.msg + d.msg_len != (const char *)data + size)
		__builtin_trap();
	struct mxtls_submission s = {.data = d.msg,
				     .len = d.msg_len,
				     .sender = d.sender,
				     .full_name = d.full_name,
				     .rcpt = (const char *const *)d.rcpt,
				     .nrcpt = d.nrcpt,
				     .flags = d.flags};
	struct util_buf head;
	util_buf_init(&head, DELIVERY_DROP_HEAD_MAX);
	if (delivery_drop_format_head(&s, &head) != MXTLS_OK)
		__builtin_trap();
	if (head.len + d.msg_len != size || memcmp(head.data, data, head.len) != 0)
		__builtin_trap();
	util_buf_free(&head);
	delivery_drop_free(&d);
	return 0;
}
