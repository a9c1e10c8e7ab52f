/* SPDX-License-Identifier: MIT */
/* Body files of the spool (delivery_spool.h): the durable write order lives here. */
#include "delivery/delivery_spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mxtls/error.h>

static int io_fail(char *err, size_t errlen, const char *what, int e)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s", what, strerror(e));
	return MXTLS_E_IO;
}

int delivery_spool_open(struct delivery_spool *sp, const char *queue_dir, char *err, size_t errlen)
{
	char path[4096];
	sp->dir_fd = sp->lock_fd = -1;
	sp->exclusive = false;
	/* 0711 (set by delivery_drop_open() too, the umask aside): others reach maildrop/. */
	if (mkdir(queue_dir, 0711) != 0 && errno != EEXIST)
		return io_fail(err, errlen, queue_dir, errno);
	if ((size_t)snprintf(path, sizeof path, "%s/%s", queue_dir, DELIVERY_SPOOL_MSG_DIR) >=
	    sizeof path)
		return io_fail(err, errlen, queue_dir, ENAMETOOLONG);
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return io_fail(err, errlen, path, errno);
	sp->dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dir_fd < 0)
		return io_fail(err, errlen, path, errno);
	snprintf(path, sizeof path, "%s/%s", queue_dir, DELIVERY_SPOOL_LOCK);
	sp->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (sp->lock_fd < 0) {
		int e = errno;
		delivery_spool_close(sp);
		return io_fail(err, errlen, path, e);
	}
	if (flock(sp->lock_fd, LOCK_EX | LOCK_NB) == 0) {
		sp->exclusive = true;
		return MXTLS_OK;
	}
	if (flock(sp->lock_fd, LOCK_SH) != 0) {
		int e = errno;
		delivery_spool_close(sp);
		return io_fail(err, errlen, path, e);
	}
	return MXTLS_OK;
}

void delivery_spool_share(struct delivery_spool *sp)
{
	if (sp->exclusive && flock(sp->lock_fd, LOCK_SH) == 0)
		sp->exclusive = false;
}

void delivery_spool_close(struct delivery_spool *sp)
{
	if (sp->dir_fd >= 0)
		close(sp->dir_fd);
	if (sp->lock_fd >= 0)
		close(sp->lock_fd);
	sp->dir_fd = sp->lock_fd = -1;
}

static void temp_name(char *buf, size_t len, const char *id)
{
	snprintf(buf, len, "%s%s", DELIVERY_SPOOL_TMP_PREFIX, id);
}

int delivery_spool_write_temp(struct delivery_spool *sp, const char *id, const void *data,
			      size_t len, char *err, size_t errlen)
{
	char tmp[64];
	temp_name(tmp, sizeof tmp, id);
	int fd = openat(sp->dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return io_fail(err, errlen, "cannot create a spool file", errno);
	const char *p = data;
	size_t left = len;
	int e = 0;
	while (left > 0) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : EIO;
			break;
		}
		p += n;
		left -= (size_t)n;
	}
	/* The file's data must be on disk before its name is (rename below). */
	if (e == 0 && fsync(fd) != 0)
		e = errno;
	if (close(fd) != 0 && e == 0)
		e = errno;
	if (e != 0) {
		unlinkat(sp->dir_fd, tmp, 0);
		return io_fail(err, errlen, "cannot write the message to the spool", e);
	}
	return MXTLS_OK;
}

int delivery_spool_room(struct delivery_spool *sp, size_t len, char *err, size_t errlen)
{
	struct statvfs vfs;
	if (fstatvfs(sp->dir_fd, &vfs) != 0)
		return MXTLS_OK;
	uint64_t avail = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
	if (avail >= (uint64_t)len + DELIVERY_SPOOL_RESERVE)
		return MXTLS_OK;
	snprintf(err, errlen,
		 "the queue's file system is full (%llu bytes free; the message needs %zu and "
		 "%zu are kept for deliveries): %s",
		 (unsigned long long)avail, len, DELIVERY_SPOOL_RESERVE, strerror(ENOSPC));
	return MXTLS_E_IO;
}

int delivery_spool_commit(struct delivery_spool *sp, const char *id, char *err, size_t errlen)
{
	char tmp[64];
	temp_name(tmp, sizeof tmp, id);
	if (renameat2(sp->dir_fd, tmp, sp->dir_fd, id, RENAME_NOREPLACE) != 0) {
		int e = errno;
		unlinkat(sp->dir_fd, tmp, 0);
		if (e == EEXIST)
			return MXTLS_E_LIMIT;
		return io_fail(err, errlen, "cannot rename the spool file", e);
	}
	/* The new name must be on disk before the message is acknowledged. */
	if (fsync(sp->dir_fd) != 0) {
		int e = errno;
		delivery_spool_remove(sp, id);
		return io_fail(err, errlen, "cannot sync the spool directory", e);
	}
	return MXTLS_OK;
}

int delivery_spool_remove(struct delivery_spool *sp, const char *id)
{
	char tmp[64];
	temp_name(tmp, sizeof tmp, id);
	unlinkat(sp->dir_fd, tmp, 0);
	int rc = unlinkat(sp->dir_fd, id, 0) == 0 || errno == ENOENT ? MXTLS_OK : MXTLS_E_IO;
	return delivery_spool_sync(sp) == MXTLS_OK ? rc : MXTLS_E_IO;
}

bool delivery_spool_exists(struct delivery_spool *sp, const char *id)
{
	struct stat st;
	return fstatat(sp->dir_fd, id, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int delivery_spool_read(struct delivery_spool *sp, const char *id, struct util_buf *out)
{
	int fd = openat(sp->dir_fd, id, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? MXTLS_E_NOTFOUND : MXTLS_E_IO;
	char buf[65536];
	ssize_t n;
	int rc = MXTLS_OK;
	while (rc == MXTLS_OK && (n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		rc = n < 0 ? MXTLS_E_IO : util_buf_append(out, buf, (size_t)n);
	}
	close(fd);
	return rc;
}

int delivery_spool_walk(struct delivery_spool *sp, int (*fn)(void *arg, const char *name),
			void *arg)
{
	int fd = dup(sp->dir_fd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return MXTLS_E_IO;
	}
	rewinddir(d);
	struct dirent *e;
	int rc = MXTLS_OK;
	while (rc == MXTLS_OK && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		rc = fn(arg, e->d_name);
	}
	closedir(d);
	return rc;
}

int delivery_spool_unlink(struct delivery_spool *sp, const char *name)
{
	return unlinkat(sp->dir_fd, name, 0) == 0 || errno == ENOENT ? MXTLS_OK : MXTLS_E_IO;
}

int delivery_spool_sync(struct delivery_spool *sp)
{
	return fsync(sp->dir_fd) == 0 ? MXTLS_OK : MXTLS_E_IO;
}
