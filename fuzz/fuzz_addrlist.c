/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: To/Cc/Bcc field bodies as a local program hands them to sendmail -t
 * (delivery/delivery_addrlist.c), each address then through the RFC 5321 mailbox check; the
 * whole input also as a message whose header fields are walked (delivery/delivery_header.c). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mxtls/error.h>

#include "delivery/delivery_addrlist.h"
#include "delivery/delivery_header.h"
#include "delivery/delivery_mailbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int each(void *arg, const char *addr, size_t len, bool has_domain)
{
	size_t *count = arg;
	/* Invariants: a NUL-terminated addr-spec within the cap, no NUL, CR or LF inside, "@"
	 * exactly when a domain was read. */
	if (len == 0 || len > DELIVERY_ADDRSPEC_MAX || strlen(addr) != len ||
	    strpbrk(addr, "\r\n") != NULL || (has_domain && strchr(addr, '@') == NULL))
		__builtin_trap();
	const char *why = delivery_mailbox_check(addr, len);
	if (why != NULL && why[0] == '\0')
		__builtin_trap();
	(*count)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	const char *why = NULL;
	size_t count = 0;
	int rc = delivery_addrlist_parse(p, size, each, &count, &why);
	if (rc != MXTLS_OK && (why == NULL || why[0] == '\0'))
		__builtin_trap();
	if (rc != MXTLS_OK && rc != MXTLS_E_SYNTAX && rc != MXTLS_E_LIMIT)
		__builtin_trap();
	/* The header walk must make progress and stay inside the input. */
	struct delivery_field f;
	size_t pos = 0, last = 0;
	bool blank;
	while (delivery_header_next(p, size, &pos, &f, &blank)) {
		if (pos <= last && last != 0)
			__builtin_trap();
		if (f.end > size || f.start >= f.end || f.name_len == 0)
			__builtin_trap();
		last = pos;
	}
	if (pos > size)
		__builtin_trap();
	/* The daemon's reading of "TLS-Required: No" (RFC 8689 §5) rides on the same walk. */
	(void)delivery_header_tls_required_no(p, size);
	return 0;
}
