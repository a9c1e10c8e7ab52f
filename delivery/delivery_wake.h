/* SPDX-License-Identifier: MIT */
/* Waking the delivery daemon when mail arrives: a datagram to STATE_DIR/queue/wake.  Nothing
 * depends on it (the daemon also looks at the index every minute); it only saves the wait. */
#ifndef MXTLS_DELIVERY_WAKE_H
#define MXTLS_DELIVERY_WAKE_H

#include <stddef.h>

#define DELIVERY_WAKE_SOCKET "wake"

/* The daemon's end: a non-blocking datagram socket bound at queue_dir/wake (a stale one is
 * replaced; the daemon lock says nobody else serves the queue).  Returns the descriptor, or -1
 * with the reason in err. */
int delivery_wake_bind(const char *queue_dir, char *err, size_t errlen);

/* Removes the socket file again. */
void delivery_wake_unbind(const char *queue_dir, int fd);

/* Sends a wake-up; silent when no daemon listens or the socket is full (it wakes anyway). */
void delivery_wake_send(const char *queue_dir);

#endif
