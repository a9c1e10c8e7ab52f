/* SPDX-License-Identifier: MIT */
/* The wake-up datagram (delivery_wake.h). */
#include "delivery/delivery_wake.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/*
 * A socket path is limited to 108 bytes (sun_path) and a state directory may be longer, so
 * the path goes through the directory's descriptor: /proc/self/fd/N/wake resolves to
 * queue_dir/wake for bind() and sendto() alike (Linux).
 */
static int wake_addr(const char *queue_dir, int *dir_fd, struct sockaddr_un *sa)
{
	*dir_fd = open(queue_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dir_fd < 0)
		return -1;
	*sa = (struct sockaddr_un){.sun_family = AF_UNIX};
	snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", *dir_fd,
		 DELIVERY_WAKE_SOCKET);
	return 0;
}

int delivery_wake_bind(const char *queue_dir, char *err, size_t errlen)
{
	int dir_fd;
	struct sockaddr_un sa;
	if (wake_addr(queue_dir, &dir_fd, &sa) != 0) {
		snprintf(err, errlen, "%s: %s", queue_dir, strerror(errno));
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		unlinkat(dir_fd, DELIVERY_WAKE_SOCKET, 0);
		if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
			snprintf(err, errlen, "%s/%s: %s", queue_dir, DELIVERY_WAKE_SOCKET,
				 strerror(errno));
			close(fd);
			fd = -1;
		} else {
			/* Users who submit through the maildrop wake the daemon too: a datagram
			 * only makes it look at the maildrop and the index a little sooner. */
			(void)fchmodat(dir_fd, DELIVERY_WAKE_SOCKET, 0622, 0);
		}
	} else {
		snprintf(err, errlen, "socket: %s", strerror(errno));
	}
	close(dir_fd);
	return fd;
}

void delivery_wake_unbind(const char *queue_dir, int fd)
{
	if (fd < 0)
		return;
	int dir_fd = open(queue_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd >= 0) {
		unlinkat(dir_fd, DELIVERY_WAKE_SOCKET, 0);
		close(dir_fd);
	}
	close(fd);
}

void delivery_wake_send(const char *queue_dir)
{
	int dir_fd;
	struct sockaddr_un sa;
	if (wake_addr(queue_dir, &dir_fd, &sa) != 0)
		return;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		(void)sendto(fd, "w", 1, MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof sa);
		close(fd);
	}
	close(dir_fd);
}
