/* SPDX-License-Identifier: MIT */
/* The delivery daemon's SMTP submission listener (mxtls queue run --listen): sockets to queue. */
#ifndef MXTLS_DELIVERY_LISTENER_H
#define MXTLS_DELIVERY_LISTENER_H

#include <stddef.h>

#include <event2/event.h>

#include <mxtls/queue.h>

/*
 * Local programs hand messages to the queue over SMTP (delivery_smtpd_session.h has the
 * protocol).  Never an open relay: a client whose address is neither loopback (127.0.0.0/8,
 * ::1, and those as IPv4-mapped IPv6) nor inside one of the allow CIDRs gets
 * "554 5.7.1 Access denied" and is closed at accept, before any command is read.  The final
 * reply to DATA is written only after delivery_queue_enqueue() returned (synchronously: it
 * fsyncs), so "250 2.0.0 Ok: queued as ID" means the message is durable.
 */

/* Defaults of the options left 0. */
#define DELIVERY_LISTENER_TIMEOUT         300 /* seconds idle per command (RFC 5321 §4.5.3.2.7) */
#define DELIVERY_LISTENER_MAX_CONNECTIONS 100
/* Replies written but not yet taken by the client; beyond this, reading pauses. */
#define DELIVERY_LISTENER_OUTPUT_MAX (64 * 1024)

struct delivery_listener_opts {
	const char *const *listen; /* "HOST:PORT" or "[V6]:PORT", HOST an IP address */
	size_t nlisten;
	const char *const *allow; /* CIDRs ("10.0.0.0/8", "2001:db8::/32", or an address) allowed
				   * besides loopback */
	size_t nallow;
	const char *hostname;     /* the greeting / EHLO name; NULL: the context's helo name */
	unsigned timeout;         /* idle seconds per command; 0: DELIVERY_LISTENER_TIMEOUT */
	unsigned max_connections; /* 0: DELIVERY_LISTENER_MAX_CONNECTIONS */
	/* Called after each message is durable, before its 250 is written; may be NULL.  It must
	 * not close the listener (it runs inside a connection's callback). */
	void (*on_queued)(void *arg, const char *id);
	void *arg;
};

struct delivery_listener;

/*
 * Starts listening on every o->listen address on base (borrowed, as q is: both must outlive
 * the listener).  On success *out is set; caller frees with delivery_listener_close().
 * Returns MXTLS_OK, MXTLS_E_CONFIG (no address, a malformed address or CIDR, a bad hostname;
 * the reason in err), MXTLS_E_IO (an address cannot be bound: in use, not local),
 * MXTLS_E_NOMEM.  All-or-nothing: on failure nothing listens.
 */
int delivery_listener_open(struct event_base *base, struct mxtls_queue *q,
			   const struct delivery_listener_opts *o, struct delivery_listener **out,
			   char *err, size_t errlen);

/* Stops accepting and drops every session (a message not yet acknowledged with 250 is not
 * queued; its client sends it again).  NULL is a no-op. */
void delivery_listener_close(struct delivery_listener *l);

/* Parses a CIDR as the allow option takes it into family (AF_INET / AF_INET6), the network
 * address (16 bytes; IPv4 in the first 4) and the prefix length.  Pure.  Returns NULL or a
 * static reason.  Exposed for the unit tests. */
const char *delivery_listener_parse_cidr(const char *s, int *family, unsigned char addr[16],
					 unsigned *prefix);

#endif
