/* SPDX-License-Identifier: MIT */
/* Message bodies as files in STATE_DIR/queue/msg/: written under a temporary name, synced,
 * renamed, and the directory synced; plus the spool lock. */
#ifndef MXTLS_DELIVERY_SPOOL_H
#define MXTLS_DELIVERY_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/util_buf.h"

#define DELIVERY_SPOOL_MSG_DIR "msg"
#define DELIVERY_SPOOL_LOCK    "lock"
/* Temporary body files: ".tmp-" + id; removed when found by the cleaner. */
#define DELIVERY_SPOOL_TMP_PREFIX ".tmp-"

struct delivery_spool {
	int dir_fd;     /* STATE_DIR/queue/msg */
	int lock_fd;    /* STATE_DIR/queue/lock, flock()ed shared for the spool's life */
	bool exclusive; /* the lock was exclusive at open: nobody else is in the spool */
};

/*
 * Opens the spool in queue_dir (creating queue_dir and msg/ with mode 0700 when missing) and
 * takes the lock: exclusive when nobody else holds it (sp->exclusive; the caller may then
 * clean up), then shared.  Returns MXTLS_OK, or MXTLS_E_IO with the reason in err.
 */
int delivery_spool_open(struct delivery_spool *sp, const char *queue_dir, char *err, size_t errlen);
/* Turns an exclusive lock into a shared one (after the clean-up); then closes nothing. */
void delivery_spool_share(struct delivery_spool *sp);
void delivery_spool_close(struct delivery_spool *sp);

/* Free space kept for the daemon's own bookkeeping: a submission is refused (as the disk
 * being full) unless the message leaves this much free, so that the index can still record
 * deliveries and bounces when submissions have filled the disk (Postfix's queue_minfree has
 * the same purpose).  The index's WAL may grow to 512 KiB plus one transaction before it is
 * checkpointed (delivery_index.c); a DSN or two fit in the rest. */
#define DELIVERY_SPOOL_RESERVE ((size_t)1024 * 1024)

/* MXTLS_OK when the spool's file system has len + DELIVERY_SPOOL_RESERVE bytes free for an
 * unprivileged writer, else MXTLS_E_IO with the reason in err (an unknown free space counts as
 * enough: the write itself then decides). */
int delivery_spool_room(struct delivery_spool *sp, size_t len, char *err, size_t errlen);

/* Writes data to the temporary file of id and syncs it.  On failure nothing is left; the
 * reason (e.g. "No space left on device") is in err.  MXTLS_OK or MXTLS_E_IO. */
int delivery_spool_write_temp(struct delivery_spool *sp, const char *id, const void *data,
			      size_t len, char *err, size_t errlen);
/* Renames id's temporary file to id (never replacing one: MXTLS_E_LIMIT when id exists, the
 * temporary file then removed) and syncs the directory.  MXTLS_OK or MXTLS_E_IO. */
int delivery_spool_commit(struct delivery_spool *sp, const char *id, char *err, size_t errlen);
/* Removes id's body (and a temporary file of it) and syncs the directory. */
int delivery_spool_remove(struct delivery_spool *sp, const char *id);
/* True when id's body file exists. */
bool delivery_spool_exists(struct delivery_spool *sp, const char *id);
/* Reads id's body into out (appended).  MXTLS_OK, MXTLS_E_NOTFOUND, MXTLS_E_IO, as
 * util_buf_append(). */
int delivery_spool_read(struct delivery_spool *sp, const char *id, struct util_buf *out);

/* Calls fn for each entry of msg/ (name borrowed); fn returning non-zero stops the walk. */
int delivery_spool_walk(struct delivery_spool *sp, int (*fn)(void *arg, const char *name),
			void *arg);
/* Removes the entry name of msg/ (no directory sync: call delivery_spool_sync()). */
int delivery_spool_unlink(struct delivery_spool *sp, const char *name);
int delivery_spool_sync(struct delivery_spool *sp);

#endif
