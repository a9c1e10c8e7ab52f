/* SPDX-License-Identifier: MIT */
/* The answer cache on disk (SQLite): what a restarted server answers from before any lookup. */
#ifndef MXTLS_POLICYD_STORE_H
#define MXTLS_POLICYD_STORE_H

#include <stddef.h>
#include <stdint.h>

struct policyd_store;

/*
 * Opens (creating if needed) state_dir/policyd.sqlite.  fingerprint names the settings the
 * answers depend on: rows written under another fingerprint are never loaded.  On success
 * *out is set (close with policyd_store_close()).  Returns 0, or -1 with a reason in err.
 */
int policyd_store_open(const char *state_dir, const char *fingerprint,
		       struct policyd_store **out, char *err, size_t errlen);

/* Deletes expired rows and rows of another fingerprint, then calls fn for each remaining row
 * (strings borrowed for the call).  Returns the number of rows loaded, or -1 on a read error. */
long policyd_store_load(struct policyd_store *s, int64_t now,
			void (*fn)(void *arg, const char *key, const char *answer, size_t len,
				   int64_t expires, int64_t ttl),
			void *arg);

/* Records an answer; writes are batched in a transaction until policyd_store_commit().
 * Returns 0, or -1 on a write error (logged by the caller; the memory cache is unaffected). */
int policyd_store_put(struct policyd_store *s, const char *key, const char *answer, size_t len,
		      int64_t expires, int64_t ttl);

/* Forgets every row (the settings changed). */
int policyd_store_clear(struct policyd_store *s);

/* Commits the open batch, if any.  Returns 0, or -1. */
int policyd_store_commit(struct policyd_store *s);

/* Commits and closes; NULL is a no-op. */
void policyd_store_close(struct policyd_store *s);

#endif
