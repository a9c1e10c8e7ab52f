/* SPDX-License-Identifier: MIT */
/* tlsrpt/tlsrpt_sqlite.h: the one way tlsrpt/ opens its SQLite files. */
#include "tlsrpt/tlsrpt_sqlite.h"

#include <errno.h>
#include <sys/stat.h>

#include <mxtls/error.h>

#include "util/util_errmsg.h"

/* Another process (the daemon, a report run, ingest) may hold the write lock briefly. */
#define TLSRPT_SQLITE_BUSY_MS 5000

int tlsrpt_sqlite_open(const char *path, bool create, bool durable, const char *what, sqlite3 **out,
		       char *err, size_t errlen)
{
	struct stat sb;
	if (!create && stat(path, &sb) != 0 && errno == ENOENT)
		return MXTLS_E_NOTFOUND;
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	int rc = MXTLS_OK;
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		rc = db != NULL ? MXTLS_E_IO : MXTLS_E_NOMEM;
	} else {
		sqlite3_busy_timeout(db, TLSRPT_SQLITE_BUSY_MS);
		/* WAL: readers never block the writer. */
		if (sqlite3_exec(db,
				 durable ? "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
					   " PRAGMA foreign_keys = ON;"
					 : "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
					   " PRAGMA foreign_keys = ON;",
				 NULL, NULL, NULL) != SQLITE_OK)
			rc = sqlite3_errcode(db) == SQLITE_NOMEM ? MXTLS_E_NOMEM : MXTLS_E_IO;
	}
	if (rc != MXTLS_OK) {
		util_errmsg(err, errlen, "%s %s: %s", what, path,
			    db != NULL ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return rc;
	}
	*out = db;
	return MXTLS_OK;
}
