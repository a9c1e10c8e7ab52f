/* SPDX-License-Identifier: MIT */
/* Queue ids: fixed-width, sortable by submission time, unique with a random tail.  Pure. */
#ifndef MXTLS_DELIVERY_ID_H
#define MXTLS_DELIVERY_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * An id is 13 upper-case hex digits of the submission time in microseconds since the Unix
 * epoch (sortable until the year 2255) followed by 7 hex digits of randomness: 20 characters
 * of [0-9A-F].  Ids are also file names in the spool, so nothing else may ever pass for one.
 */
#define DELIVERY_ID_LEN         20
#define DELIVERY_ID_TIME_DIGITS 13

/* Writes the id for (usec, rnd) and a NUL into out (DELIVERY_ID_LEN + 1 bytes).  Only the
 * low 28 bits of rnd are used; usec beyond 13 hex digits is reduced modulo 16^13. */
void delivery_id_format(uint64_t usec, uint32_t rnd, char out[DELIVERY_ID_LEN + 1]);

/* True when s (len bytes; need not be NUL-terminated) is exactly a well-formed id. */
bool delivery_id_valid(const char *s, size_t len);

#endif
