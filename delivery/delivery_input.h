/* SPDX-License-Identifier: MIT */
/* The sendmail(1) input rules: line ends, the lone-dot terminator, a leading mbox "From " line.
 * Pure. */
#ifndef MXTLS_DELIVERY_INPUT_H
#define MXTLS_DELIVERY_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/util_buf.h"

/*
 * Copies the message read from a local program (in, len; any bytes) into out with every line
 * ended by CRLF (LF and CRLF accepted; a missing final line end is added).  When dot_ends is
 * true (sendmail without -i / -oi) a line holding a single "." ends the message and it and
 * everything after it are dropped.  A first line beginning with "From " (an mbox separator,
 * not a header field) is dropped, as sendmail does.  Returns MXTLS_OK, MXTLS_E_SYNTAX (a NUL
 * byte; reason in *why), MXTLS_E_LIMIT (out's cap), MXTLS_E_NOMEM; out is appended to.
 */
int delivery_input_normalize(const char *in, size_t len, bool dot_ends, struct util_buf *out,
			     const char **why);

#endif
