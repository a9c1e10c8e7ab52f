/* SPDX-License-Identifier: MIT */
/* Writing a drop file as the submitting user (delivery_drop.h), and mxtls_queue_drop(). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <mxtls/error.h>

#include "delivery/delivery_drop.h"
#include "delivery/delivery_queue.h"
#include "delivery/delivery_spool.h"
#include "delivery/delivery_wake.h"
#include "validator/mxtls_ctx.h"

static int io_fail(char *err, size_t errlen, const char *what, int e)
{
	snprintf(err, errlen, "%s: %s", what, strerror(e));
	return MXTLS_E_IO;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* 32 hex digits from getrandom(2): names nobody else can guess (they cannot list either). */
static int random_name(char out[33])
{
	unsigned char r[16];
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		return errno != 0 ? errno : EIO;
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	return 0;
}

/*
 * The maildrop must be a directory that others cannot list and whose files only their owner
 * may rename or remove (the sticky bit, POSIX chmod(2) S_ISVTX); anything else is a set-up to
 * refuse rather than to write a user's mail into.
 */
static int open_drop_dir(const char *queue_dir, int *out, char *err, size_t errlen)
{
	char path[4096];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", queue_dir, DELIVERY_DROP_DIR) >=
	    sizeof path)
		return io_fail(err, errlen, queue_dir, ENAMETOOLONG);
	/* O_PATH: this user may search the directory, not read it, and needs no more. */
	int fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			snprintf(err, errlen,
				 "%s: missing (the queue's owner makes it: run any mxtls queue command "
				 "as that user)",
				 path);
		else if (e == EACCES)
			snprintf(err, errlen,
				 "%s: %s (the state directory and its queue/ must be searchable by "
				 "all: mode 0711)",
				 path, strerror(e));
		else
			io_fail(err, errlen, path, e);
		return MXTLS_E_IO;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode) || (st.st_mode & S_ISVTX) == 0 ||
	    (st.st_mode & (S_IROTH | S_IRGRP)) != 0) {
		close(fd);
		snprintf(err, errlen, "%s: not a private drop directory (mode 3733 expected)", path);
		return MXTLS_E_IO;
	}
	*out = fd;
	return MXTLS_OK;
}

int delivery_drop_write(const char *queue_dir, const struct mxtls_submission *s, char *err,
			size_t errlen)
{
	struct util_buf head;
	util_buf_init(&head, DELIVERY_DROP_HEAD_MAX);
	int rc = delivery_drop_format_head(s, &head);
	if (rc != MXTLS_OK) {
		util_buf_free(&head);
		if (rc == MXTLS_E_INVAL)
			snprintf(err, errlen,
				 "a sender, name or recipient argument longer than %u bytes, or "
				 "more than %d recipient arguments",
				 DELIVERY_DROP_FIELD_MAX, MXTLS_QUEUE_RCPT_MAX);
		return rc;
	}
	int dfd;
	rc = open_drop_dir(queue_dir, &dfd, err, errlen);
	if (rc != MXTLS_OK) {
		util_buf_free(&head);
		return rc;
	}
	/* The space kept for the daemon's bookkeeping (delivery_spool.h) is not the drop's to
	 * take either: the file would wait in the maildrop anyway. */
	struct statvfs vfs;
	if (fstatvfs(dfd, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < head.len + s->len + DELIVERY_SPOOL_RESERVE) {
		snprintf(err, errlen, "cannot write the drop file: %s (the last %zu KiB are kept "
			 "for deliveries)", strerror(ENOSPC), DELIVERY_SPOOL_RESERVE / 1024);
		close(dfd);
		util_buf_free(&head);
		return MXTLS_E_IO;
	}
	char name[33], tmp[sizeof DELIVERY_DROP_TEMP_PREFIX + 33];
	int e = random_name(name), fd = -1;
	if (e == 0) {
		snprintf(tmp, sizeof tmp, "%s%s", DELIVERY_DROP_TEMP_PREFIX, name);
		/* O_EXCL|O_NOFOLLOW: never through a name someone else made. */
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
		e = fd < 0 ? errno : 0;
	}
	if (e != 0) {
		close(dfd);
		util_buf_free(&head);
		return io_fail(err, errlen, "cannot create a drop file", e);
	}
	const char *done = tmp; /* the name to remove on failure */
	/* 0640 whatever the umask: the maildrop's set-group-ID bit gave the file the queue
	 * owner's group (POSIX mkdir(2)/open(2): group from the directory), so it may read it. */
	if (fchmod(fd, 0640) != 0)
		e = errno;
	if (e == 0)
		e = write_all(fd, head.data, head.len);
	if (e == 0)
		e = write_all(fd, s->data, s->len);
	/* POSIX fsync(2): the bytes are on disk before the name says the file is complete. */
	if (e == 0 && fsync(fd) != 0)
		e = errno;
	if (e == 0) {
		if (renameat2(dfd, tmp, dfd, name, RENAME_NOREPLACE) != 0)
			e = errno;
		else
			done = name;
	}
	/* The new name must be durable too; fsync(2) of the directory would say so, but this
	 * user may not open it (no read permission), so the whole file system is synced:
	 * syncfs(2) reports write-back errors since Linux 5.8. */
	if (e == 0 && syncfs(fd) != 0)
		e = errno;
	if (close(fd) != 0 && e == 0)
		e = errno;
	if (e != 0)
		unlinkat(dfd, done, 0);
	close(dfd);
	util_buf_free(&head);
	return e == 0 ? MXTLS_OK : io_fail(err, errlen, "cannot write the drop file", e);
}

int mxtls_queue_may_open(struct mxtls_ctx *ctx)
{
	return ctx != NULL && ctx->state_dir != NULL && delivery_queue_may_open(ctx->state_dir);
}

int mxtls_queue_drop(struct mxtls_ctx *ctx, const struct mxtls_submission *s, char *err,
		     size_t errlen)
{
	char scratch[1], path[4096];
	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof scratch;
	}
	err[0] = '\0';
	if (ctx == NULL || s == NULL)
		return MXTLS_E_INVAL;
	if (ctx->state_dir == NULL) {
		snprintf(err, errlen, "no state directory: the queue lives in STATE_DIR/queue/");
		return MXTLS_E_CONFIG;
	}
	int rc = delivery_submit_check(s, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	if ((size_t)snprintf(path, sizeof path, "%s/queue", ctx->state_dir) >= sizeof path) {
		snprintf(err, errlen, "state-dir: path too long");
		return MXTLS_E_CONFIG;
	}
	rc = delivery_drop_write(path, s, err, errlen);
	if (rc == MXTLS_OK)
		delivery_wake_send(path); /* the daemon picks it up now, not at its next round */
	return rc;
}
