/* SPDX-License-Identifier: MIT */
/* util_file_private(): database files readable by their owner only (util_file.h). */
#include "util/util_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* fd's file made 0600 when it is this user's and group or others have any access. */
static int tighten(int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return -1;
	if ((st.st_mode & 077) == 0 || st.st_uid != geteuid())
		return 0;
	return fchmod(fd, st.st_mode & 0700);
}

int util_file_private(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || tighten(fd) != 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		if (fd >= 0)
			close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	static const char *const suffix[] = {"-wal", "-shm", "-journal"};
	char p[4200];
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		if ((size_t)snprintf(p, sizeof p, "%s%s", path, suffix[i]) >= sizeof p)
			continue;
		/* Only existing ones, and no error when missing: SQLite makes them later. */
		int cfd = open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (cfd >= 0) {
			tighten(cfd);
			close(cfd);
		}
	}
	return 0;
}
