/* SPDX-License-Identifier: MIT */
/* The persistent MTA-STS policy cache (RFC 8461 §3.3, §5.1): SQLite, behind a worker thread. */
#ifndef MXTLS_STS_CACHE_H
#define MXTLS_STS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store_redis.h"
#include "sts/sts_policy.h"
#include "util/util_log.h"

/* The file name of the cache under --state-dir. */
#define STS_CACHE_FILE "sts-cache.sqlite"

/* How long one SQLite statement waits for another process's lock before it fails (MXTLS_E_IO). */
#define STS_CACHE_BUSY_MS 5000

/* One cached policy: what was fetched, when, and how the last check went. */
struct sts_cache_entry {
	char domain[256];   /* the policy domain, lower case */
	char id[40];        /* the TXT record's id when the policy was fetched */
	char *text;         /* owned: the policy body exactly as received */
	size_t len;
	enum sts_mode mode; /* parsed fields, for lookups without re-parsing */
	uint32_t max_age;
	char **mx;          /* owned: nmx patterns */
	size_t nmx;
	int64_t fetched_at;   /* Unix seconds of the successful fetch this policy came from */
	int64_t expires_at;   /* fetched_at + max_age (RFC 8461 §3.2) */
	int64_t last_checked; /* last refresh attempt, successful or not */
	char *last_error;     /* owned: why the last refresh failed; NULL when it succeeded */
};

/* Frees what e owns and zeroes it; NULL is a no-op. */
void sts_cache_entry_clear(struct sts_cache_entry *e);

/* Fills *dst with a copy of src that owns its own memory (release with sts_cache_entry_clear()).
 * Returns MXTLS_OK or MXTLS_E_NOMEM (dst untouched). */
int sts_cache_entry_copy(struct sts_cache_entry *dst, const struct sts_cache_entry *src);

/* The last failed fetch of a domain's policy (RFC 8461 §3.3 back-off). */
struct sts_cache_failure {
	char id[40];       /* the TXT id whose fetch failed */
	int64_t failed_at; /* Unix seconds */
};

/*
 * The cache.  One worker thread owns the SQLite connection and runs every request in the order
 * it was made (FIFO), so a request never overtakes an earlier write.  The functions here hand
 * the request to the worker and wait for it: they block (up to
 * STS_CACHE_BUSY_MS per statement when another process holds the lock) and are for blocking
 * callers (the CLI, tests).  Code on an event loop uses sts/sts_cache_async.h, whose requests
 * never touch SQLite on the calling thread.
 */
struct sts_cache;

/*
 * Opens (creating if needed) the cache database at path, in WAL mode: a process killed in the
 * middle of a write leaves the previous entry or the new one, never a mixture.  Waits for the
 * worker to open it.  On success *out is set; close with sts_cache_close().  Returns MXTLS_OK,
 * MXTLS_E_IO (reason in err: cannot open, not a database, locked), MXTLS_E_NOMEM.
 */
int sts_cache_open(const char *path, struct sts_cache **out, char *err, size_t errlen);

/*
 * As sts_cache_open() without waiting: the worker opens the database before its first request
 * (and again before the next one while that fails, each failed request ending MXTLS_E_IO).  For
 * callers on an event loop, whose first decision must not wait for a locked file.  Returns
 * MXTLS_OK, MXTLS_E_NOMEM (thread or memory).
 */
int sts_cache_open_lazy(const char *path, struct sts_cache **out);

/*
 * Closes c; NULL is a no-op.  Writes already requested are completed first (durability), except
 * that once one fails while closing the rest are abandoned (a lock held by another process would
 * otherwise hold up the close by STS_CACHE_BUSY_MS per write).  Reads in flight end without
 * their callback.  Call from the loop thread; every asynchronous read should have finished or
 * been cancelled.  Called from inside a read callback, the close completes when it returns.
 */
void sts_cache_close(struct sts_cache *c);

/*
 * Reads the entry of domain (lower case).  On MXTLS_OK *out is filled (release with
 * sts_cache_entry_clear()).  Returns MXTLS_E_NOTFOUND when there is none, whether or not it
 * expired (expiry is the caller's decision: it has the clock), MXTLS_E_IO (also for a row whose
 * mode is not one sts_cache_put() writes), MXTLS_E_NOMEM.
 */
int sts_cache_get(struct sts_cache *c, const char *domain, struct sts_cache_entry *out);

/*
 * Stores e (borrowed), replacing any entry of the same domain, in one transaction.
 * Returns MXTLS_OK, MXTLS_E_INVAL (no domain, or a mode outside enum sts_mode), MXTLS_E_IO.
 */
int sts_cache_put(struct sts_cache *c, const struct sts_cache_entry *e);

/*
 * Records a refresh attempt of domain's entry at now without changing the policy: error NULL
 * for success (clears last_error), else the reason.  Returns MXTLS_OK, MXTLS_E_NOTFOUND,
 * MXTLS_E_IO.
 */
int sts_cache_touch(struct sts_cache *c, const char *domain, int64_t now, const char *error);

/* Removes domain's entry and its fetch failure.  Returns MXTLS_OK, MXTLS_E_NOTFOUND, MXTLS_E_IO. */
int sts_cache_delete(struct sts_cache *c, const char *domain);

/*
 * Calls fn for every entry, ordered by domain (e is borrowed for the call), on the caller's
 * thread after the worker has read them all.  A non-zero return from fn stops the walk and is
 * returned.  Returns MXTLS_OK or MXTLS_E_IO, MXTLS_E_NOMEM otherwise.
 */
int sts_cache_foreach(struct sts_cache *c, int (*fn)(void *arg, const struct sts_cache_entry *e),
		      void *arg);

/* Number of entries, or a negative error. */
long sts_cache_count(struct sts_cache *c);

/*
 * RFC 8461 §3.3 (STS-18, decision D11): after a failed fetch of policy id for domain, no new
 * attempt for that id for STS_FETCH_BACKOFF seconds.  sts_cache_note_failure() records one
 * (id as in the TXT record, error the reason); sts_cache_backoff() says whether a fetch of id
 * at now must wait (and until when, in *until, may be NULL); sts_cache_failure_backoff() says
 * the same from a failure already read (pure).  A success clears the failure (sts_cache_put()
 * does).
 */
#define STS_FETCH_BACKOFF 300
int sts_cache_note_failure(struct sts_cache *c, const char *domain, const char *id, int64_t now,
			   const char *error);
bool sts_cache_backoff(struct sts_cache *c, const char *domain, const char *id, int64_t now,
		       int64_t *until);
bool sts_cache_failure_backoff(const struct sts_cache_failure *f, const char *id, int64_t now,
			       int64_t *until);

/*
 * Fleet mode (doc/fleet.md): the members of a fleet share their policies in Redis
 * (sts/sts_cache_fleet.h).  The local file stays the first truth of each member: every policy is
 * written there first and read from there; Redis only adds what another member fetched (a newer
 * fetch is copied into the local file) and receives what this member fetched.  Redis down, slow
 * or holding garbage leaves the member with its local cache: never "no policy".
 */
struct sts_cache_fleet_opts {
	const struct store_redis_opts *redis; /* copied */
	const char *member;                   /* this member's name (copied) */
	unsigned lease_ms;                    /* how long a fetch lease outlives a dead holder */
	unsigned wait_ms; /* how long a member waits for another's first fetch (sts_cache_claim.h) */
	int64_t (*now)(void *arg);            /* the clock for expiry (the context's) */
	void *now_arg;
	const struct util_log *log; /* fleet events, emitted on the thread that uses the cache */
};

/* Joins c to a fleet; call once, after opening and before the first request.  Returns MXTLS_OK,
 * MXTLS_E_INVAL (already joined), MXTLS_E_NOMEM. */
int sts_cache_join_fleet(struct sts_cache *c, const struct sts_cache_fleet_opts *o);

#define STS_FLEET_MEMBERS_MAX 32

/* What `mxtls store status` shows of the fleet side. */
struct sts_cache_fleet_status {
	bool joined;       /* false: no shared-store, the rest is empty */
	char member[256];
	bool reachable;    /* PING answered */
	long rtt_us;
	char error[256];   /* why not reachable, or the last failure */
	long policies;     /* mxtls:sts:* keys (-1 unknown) */
	long leases;       /* fetch leases held now (-1 unknown) */
	long answers;      /* mxtls:answer:* keys: policyd's sealed answers (-1 unknown) */
	int64_t last_sync; /* Unix seconds of this process's last write to Redis; 0 none */
	unsigned long failures, reconnects;
	size_t nmembers;
	struct {
		char name[256];
		int64_t last_sync;
		long policies;
	} members[STS_FLEET_MEMBERS_MAX];
};

/* Asks Redis now (at most one connect and a few commands, each bounded).  Returns MXTLS_OK
 * (with reachable false when Redis did not answer), MXTLS_E_NOMEM. */
int sts_cache_fleet_status(struct sts_cache *c, struct sts_cache_fleet_status *out);

#endif
