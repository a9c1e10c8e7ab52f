/* SPDX-License-Identifier: MIT */
/* Internal: the server state shared by the listener/lifecycle code and the connections. */
#ifndef MXTLS_POLICYD_SERVER_H
#define MXTLS_POLICYD_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mxtls/mxtls.h>

#include "policyd/policyd.h"
#include "policyd/policyd_cache.h"
#include "policyd/policyd_conn.h"

struct event_base;
struct conn;

/* A library context and the decisions still running on it: a reload swaps in a new one and
 * frees the old one when its last decision is done. */
struct ctx_gen {
	struct mxtls_ctx *ctx;
	unsigned refs; /* the server's reference (while current) + running decisions */
};

struct policyd_stats {
	uint64_t requests, hits, misses, decisions, refreshes;
	uint64_t notfound;   /* keys not looked up: parent, IP literal, other port, not a name */
	uint64_t temp;       /* decisions that answered TEMP */
	uint64_t bad_frames; /* connections closed for a bad netstring */
	uint64_t connections;
};

struct policyd_server {
	struct event_base *base;
	struct policyd_options opts;   /* owned (a reload replaces it) */
	struct mxtls_config *cfg;      /* owned after a reload; else NULL (borrowed args->cfg) */
	const struct policyd_run_args *args;
	struct ctx_gen *gen;           /* the current context */
	struct policyd_cache cache;
	struct policyd_store *store;   /* NULL when the state directory is unusable */
	char fingerprint[64];
	char answer_scope[48]; /* fleet mode: the scope of shared answers */
	struct conn *conns;            /* all open connections */
	size_t nconns;
	struct policyd_idle_list idle; /* the idle ones, idle the longest first */
	uint64_t next_conn_id;
	struct policyd_stats stats;
	int64_t last_full_sweep;       /* when a full cache was last swept for room */
	bool stopping;
};

/* Seconds of the wall clock, cached per loop iteration. */
int64_t policyd_server_now(struct policyd_server *s);

/*
 * Answers one request (payload of a decoded netstring, borrowed for the call) on conn: from
 * the cache when it holds a current answer, else by starting (or joining) a decision.
 */
void policyd_server_request(struct policyd_server *s, struct conn *c, const char *payload,
			    size_t plen);

/* Connections (policyd_conn.c). */
struct conn *policyd_conn_new(struct policyd_server *s, int fd, const char *peer);
void policyd_conn_close(struct conn *c);
/*
 * At max-connections, closes the connections idle the longest so that one more fits (each
 * logged, peer is the new client's, for the log).  False when that is not possible (every
 * connection busy): the caller refuses the new connection.  Never call it from a connection's
 * own callback (it frees connections at once).
 */
bool policyd_conn_make_room(struct policyd_server *s, const char *peer);
/* Queues a reply (framed netstring, copied) in request order. */
void policyd_conn_reply(struct conn *c, const char *framed, size_t len);
/* Queues a place for a reply that entry e will give; it is filled when e gets its answer. */
int policyd_conn_wait(struct conn *c, struct policyd_entry *e);
/* Fills every request waiting for e with e's answer (or with framed, len when e has none). */
void policyd_conn_wake(struct policyd_entry *e, const char *framed, size_t len);
/* The connection's number and peer, for log lines. */
const char *policyd_conn_peer(const struct conn *c);

#endif
