/* SPDX-License-Identifier: MIT */
/* The MTA-STS cache's SQLite connection, used by one thread at a time (sts/sts_cache.c's worker). */
#ifndef MXTLS_STS_CACHE_DB_H
#define MXTLS_STS_CACHE_DB_H

#include "sts/sts_cache.h"

/*
 * The blocking operations behind the functions of the same name in sts/sts_cache.h (same
 * arguments, results and ownership), on one connection that must not be used by two threads at
 * once.  Only sts/sts_cache.c calls them, from its worker thread.
 */
struct sts_cache_db;

int sts_cache_db_open(const char *path, struct sts_cache_db **out, char *err, size_t errlen);
void sts_cache_db_close(struct sts_cache_db *c);
int sts_cache_db_get(struct sts_cache_db *c, const char *domain, struct sts_cache_entry *out);
int sts_cache_db_put(struct sts_cache_db *c, const struct sts_cache_entry *e);
int sts_cache_db_touch(struct sts_cache_db *c, const char *domain, int64_t now,
		       const char *error);
int sts_cache_db_delete(struct sts_cache_db *c, const char *domain);
int sts_cache_db_foreach(struct sts_cache_db *c,
			 int (*fn)(void *arg, const struct sts_cache_entry *e), void *arg);
long sts_cache_db_count(struct sts_cache_db *c);

/* At most limit entries whose domain sorts after `after` ("" for the first), in domain order,
 * each handed to fn as sts_cache_db_foreach() does; *visited the number read (fewer than limit:
 * the end was reached).  For work done a page at a time (the fleet re-sync). */
int sts_cache_db_foreach_after(struct sts_cache_db *c, const char *after, int limit,
			       int (*fn)(void *arg, const struct sts_cache_entry *e), void *arg,
			       int *visited);
int sts_cache_db_note_failure(struct sts_cache_db *c, const char *domain, const char *id,
			      int64_t now, const char *error);

/* The recorded fetch failure of domain: MXTLS_OK (*out set), MXTLS_E_NOTFOUND, MXTLS_E_IO,
 * MXTLS_E_NOMEM. */
int sts_cache_db_failure(struct sts_cache_db *c, const char *domain,
			 struct sts_cache_failure *out);

/* SQLite's text for the last error on c (borrowed until the next call on c). */
const char *sts_cache_db_errmsg(struct sts_cache_db *c);

#endif
