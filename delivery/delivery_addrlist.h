/* SPDX-License-Identifier: MIT */
/* RFC 5322 §3.4 address lists (To, Cc, Bcc field bodies), with the §4.4 obsolete forms.  Pure. */
#ifndef MXTLS_DELIVERY_ADDRLIST_H
#define MXTLS_DELIVERY_ADDRLIST_H

#include <stdbool.h>
#include <stddef.h>

/* Nesting of comments accepted; deeper is an error (RFC 5322 sets no limit). */
#define DELIVERY_COMMENT_DEPTH_MAX 32
/* The longest addr-spec handed to the callback (after comments and folding are removed). */
#define DELIVERY_ADDRSPEC_MAX 512

/*
 * Called for each mailbox of the list, in order: addr is its addr-spec with comments and
 * white space removed (the local part's words joined by ".", a quoted string kept with its
 * quotes), NUL-terminated, borrowed for the call.  has_domain is false for a bare local part
 * ("root"), which RFC 5322 does not allow but sendmail(1) accepts; the caller decides.
 * Returns 0 to go on, or a non-zero value that the parser returns at once.
 */
typedef int (*delivery_addr_fn)(void *arg, const char *addr, size_t len, bool has_domain);

/*
 * Parses an address-list (p, len: one unfolded field body; any bytes): mailboxes, name-addrs,
 * groups ("undisclosed-recipients:;"), quoted strings, nested comments, obs-route, empty list
 * elements and CFWS around dots.  Display names are read and dropped.  An empty or all-blank
 * list is valid (no callback).  Returns 0 (MXTLS_OK), MXTLS_E_SYNTAX with a static reason in
 * *why, MXTLS_E_LIMIT (an addr-spec longer than DELIVERY_ADDRSPEC_MAX or comments nested too
 * deep; reason in *why), or the callback's non-zero value.  Mailboxes before the error have
 * already been reported.
 */
int delivery_addrlist_parse(const char *p, size_t len, delivery_addr_fn fn, void *arg,
			    const char **why);

#endif
