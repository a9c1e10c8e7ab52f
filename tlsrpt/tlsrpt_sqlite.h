/* SPDX-License-Identifier: MIT */
/* Opening the SQLite files of tlsrpt/ (the sender's results and outbox, the received reports). */
#ifndef MXTLS_TLSRPT_SQLITE_H
#define MXTLS_TLSRPT_SQLITE_H

#include <stdbool.h>
#include <stddef.h>

#include <sqlite3.h>

/*
 * Opens path read-write (with create, creating it) with a busy timeout of 5 s, WAL, foreign
 * keys, and synchronous FULL (durable: a commit is on disk when it returns) or NORMAL (a crash
 * loses at most the last commits).  what names the file in err ("tlsrpt store").  On MXTLS_OK
 * *out is set (sqlite3_close() it).  Returns MXTLS_E_NOTFOUND (no file and !create),
 * MXTLS_E_IO, MXTLS_E_NOMEM.
 */
int tlsrpt_sqlite_open(const char *path, bool create, bool durable, const char *what, sqlite3 **out,
		       char *err, size_t errlen);

#endif
