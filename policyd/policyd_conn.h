/* SPDX-License-Identifier: MIT */
/* Internal: the idle list, which says which connection to close when policyd is full. */
#ifndef MXTLS_POLICYD_CONN_H
#define MXTLS_POLICYD_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * At --max-connections a new client closes the connection idle the longest instead of being
 * refused (issue 14): otherwise idle connections of any local process lock Postfix out for up
 * to the idle timeout.  Idle means nothing in progress: no reply owed (no decision waited
 * for, no request read ahead), no reply unsent, not closing.  Only idle connections are on
 * the list, ordered by when they became idle: a connection leaves it when a request arrives
 * and goes back at the tail when its last reply is written, so the head is the longest idle
 * and the choice is O(1).  A busy connection is never on the list, so it is never chosen.
 * The list is pure (no I/O, no clock): the caller passes the time.
 */

/* A connection's place on the list (embedded in the connection). */
struct policyd_idle_link {
	struct policyd_idle_link *prev, *next;
	int64_t since; /* when it became idle, seconds */
	bool listed;
};

struct policyd_idle_list {
	struct policyd_idle_link *head, *tail; /* head: idle the longest */
	size_t n;
};

/* Puts k at the tail (idle from now); a no-op when k is listed already, so that only
 * activity (a request, which removes it) moves a connection back. */
void policyd_conn_idle_add(struct policyd_idle_list *l, struct policyd_idle_link *k, int64_t now);
/* Takes k off the list; a no-op when it is not on it. */
void policyd_conn_idle_remove(struct policyd_idle_list *l, struct policyd_idle_link *k);
/* The link idle the longest (borrowed, still listed), or NULL when none is idle. */
struct policyd_idle_link *policyd_conn_idle_oldest(const struct policyd_idle_list *l);
/*
 * How many idle connections to close so that one more fits under max when open are open and
 * idle of them idle: 0 when there is room, -1 when even closing every idle one would not make
 * room (every connection is busy): the new connection is refused.
 */
long policyd_conn_idle_to_close(size_t open, size_t idle, size_t max);

#endif
