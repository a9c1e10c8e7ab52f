/* SPDX-License-Identifier: MIT */
/* RFC 5321 §4.1.2 Mailbox syntax (envelope addresses) and its length limits.  Pure. */
#ifndef MXTLS_DELIVERY_MAILBOX_H
#define MXTLS_DELIVERY_MAILBOX_H

#include <stddef.h>

/* RFC 5321 §4.5.3.1.1: local-part at most 64 octets; §4.5.3.1.2: domain at most 255;
 * §4.5.3.1.3: a path at most 256 octets including the angle brackets, so a mailbox at most
 * 254. */
#define DELIVERY_LOCAL_MAX   64
#define DELIVERY_DOMAIN_MAX  255
#define DELIVERY_MAILBOX_MAX 254

/*
 * Checks that s (len bytes, any bytes) is exactly an RFC 5321 Mailbox: Local-part "@"
 * (Domain / address-literal), US-ASCII only (SMTPUTF8 addresses are not accepted yet).
 * Returns NULL when it is, else a static English reason.
 */
const char *delivery_mailbox_check(const char *s, size_t len);

#endif
