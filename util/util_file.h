/* SPDX-License-Identifier: MIT */
/* Private database files in a state directory that other users may pass through (mode 0711,
 * for the queue's maildrop): made 0600 before SQLite would create them with 0644. */
#ifndef MXTLS_UTIL_FILE_H
#define MXTLS_UTIL_FILE_H

#include <stddef.h>

/*
 * Creates path with mode 0600 when missing (never through a symbolic link), and makes an
 * existing one of this user, and its SQLite companions (-wal, -shm, -journal), 0600 when other
 * users may read it.  SQLite gives its journal and WAL files the database file's mode, so the
 * whole database stays private.  Returns 0, or -1 with errno set and the reason in err.
 */
int util_file_private(const char *path, char *err, size_t errlen);

#endif
