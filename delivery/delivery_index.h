/* SPDX-License-Identifier: MIT */
/* The queue index (SQLite, WAL, synchronous=FULL): one row per message, one per recipient.
 * The only SQLite user of delivery/ (it moves behind store/ when that room exists). */
#ifndef MXTLS_DELIVERY_INDEX_H
#define MXTLS_DELIVERY_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DELIVERY_INDEX_FILE "index.sqlite"
/* How long a writer waits for another one's transaction. */
#define DELIVERY_INDEX_BUSY_MS 30000

struct delivery_index;

/* A message row and one of its recipient rows, as stored (strings borrowed for a callback). */
struct delivery_msg_row {
	const char *id, *sender;
	int64_t size, queued_at;
	bool requiretls;   /* the envelope asked for REQUIRETLS (RFC 8689 §4) */
	bool tls_optional; /* "TLS-Required: No" in the header (RFC 8689 §5) */
	bool tlsrpt_report; /* a TLS report (RFC 8460 §5.3): its sessions are not counted */
};
struct delivery_rcpt_row {
	const char *recipient, *state;
	int64_t attempts, next_attempt;
	const char *last_host, *last_reply, *result_type; /* NULL when none */
	const char *damaged; /* NULL, or why the row cannot be read as stored (a wrong type) */
};

/* What hold / release / flush do to a message's waiting recipients. */
enum delivery_index_op {
	DELIVERY_OP_HOLD,    /* pending, deferred -> held */
	DELIVERY_OP_RELEASE, /* held -> pending (never tried) or deferred, due now */
	DELIVERY_OP_FLUSH,   /* pending, deferred: due now */
};

/* Opens (creating when missing) the index at path.  On MXTLS_OK *out is set (caller frees with
 * delivery_index_close()); else MXTLS_E_IO with the reason in err. */
int delivery_index_open(const char *path, struct delivery_index **out, char *err, size_t errlen);
void delivery_index_close(struct delivery_index *ix);

/* Adds a message and its recipients (state pending, due at m->queued_at) in one durable
 * transaction.  Returns MXTLS_OK, or MXTLS_E_IO (nothing added; reason in err). */
int delivery_index_insert(struct delivery_index *ix, const struct delivery_msg_row *m,
			  const char *const *rcpts, size_t n, char *err, size_t errlen);

/* Sets *found to whether message id has a row.  MXTLS_OK or MXTLS_E_IO. */
int delivery_index_exists(struct delivery_index *ix, const char *id, bool *found);

/* Removes message id and its recipients.  MXTLS_OK, MXTLS_E_NOTFOUND, MXTLS_E_IO. */
int delivery_index_delete(struct delivery_index *ix, const char *id, char *err, size_t errlen);

/* Applies op to message id (NULL: every message; only with DELIVERY_OP_FLUSH) at time now.
 * MXTLS_OK, MXTLS_E_NOTFOUND (no such message), MXTLS_E_IO. */
int delivery_index_update(struct delivery_index *ix, enum delivery_index_op op, const char *id,
			  int64_t now, char *err, size_t errlen);

/* Calls fn for every recipient row not delivered or bounced (of message id, or of all when
 * id is NULL), ordered by message id then recipient order.  fn returning non-zero stops the
 * walk and is returned.  MXTLS_OK or MXTLS_E_IO. */
typedef int (*delivery_index_row_fn)(void *arg, const struct delivery_msg_row *m,
				     const struct delivery_rcpt_row *r);
int delivery_index_list(struct delivery_index *ix, const char *id, delivery_index_row_fn fn,
			void *arg, char *err, size_t errlen);

/* A recipient row that is due, with its message's columns (strings borrowed for fn). */
struct delivery_due_row {
	const char *id, *sender, *recipient;
	int64_t seq, attempts, queued_at, rowid;
	bool requiretls, warned, tls_optional, tlsrpt_report;
	const char *damaged; /* NULL, or why the row cannot be used as stored */
};
typedef int (*delivery_index_due_fn)(void *arg, const struct delivery_due_row *d);

/* Calls fn for at most limit pending or deferred recipient rows whose next attempt is at or
 * before now (with untried, also the rows never tried yet, whenever due), oldest due first.
 * fn returning non-zero stops the walk and is returned.  MXTLS_OK or MXTLS_E_IO. */
int delivery_index_due(struct delivery_index *ix, int64_t now, bool untried, size_t limit,
		       delivery_index_due_fn fn, void *arg, char *err, size_t errlen);

/* Sets *when to the earliest next attempt of a waiting recipient (INT64_MAX: none). */
int delivery_index_next_due(struct delivery_index *ix, int64_t *when);

/* One recipient's result, for delivery_index_settle() (strings borrowed, may be NULL). */
struct delivery_settle {
	int64_t seq;
	const char *state; /* "deferred", "delivered" or "bounced" */
	int64_t attempts, next_attempt;
	const char *last_host, *last_reply, *result_type;
};

/* One message's results for delivery_index_settle_many(). */
struct delivery_settle_msg {
	const char *id;
	const struct delivery_settle *rows;
	size_t n;
	bool warned;   /* set the message's delay-warning flag */
	bool finished; /* out: no recipient waits any more; its rows are gone */
};

/*
 * Records the results of one session (several messages) in one durable transaction.  A
 * recipient held or deleted meanwhile keeps its state unless the result is final (delivered,
 * bounced).  A message none of whose recipients waits any more loses its rows and gets
 * finished set (the caller removes the body file).  MXTLS_OK, or MXTLS_E_IO with nothing
 * changed (every finished false).
 */
int delivery_index_settle_many(struct delivery_index *ix, struct delivery_settle_msg *msgs,
			       size_t n, char *err, size_t errlen);

/* Sets a damaged message (id: its waiting recipients) or recipient row (id NULL: rowid)
 * aside: state held, why in last_reply.  MXTLS_OK or MXTLS_E_IO. */
int delivery_index_set_aside(struct delivery_index *ix, const char *id, int64_t rowid,
			     const char *why, char *err, size_t errlen);

#endif
