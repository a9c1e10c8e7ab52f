/* SPDX-License-Identifier: MIT */
/* The queue owner's side of the maildrop (delivery_drop.h): its directories, and pickup of drop
 * files, each treated as hostile until proven a drop file of a known, unprivileged user. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mxtls/error.h>

#include "delivery/delivery_drop.h"
#include "delivery/delivery_queue.h"
#include "util/util_log.h"
#include "validator/mxtls_ctx.h"

static int io_fail(char *err, size_t errlen, const char *what, int e)
{
	snprintf(err, errlen, "%s: %s", what, strerror(e));
	return MXTLS_E_IO;
}

/* Opens (making it when missing) directory name of dir_fd with exactly mode when it is ours. */
static int sub_dir(int dir_fd, const char *name, mode_t mode, int *out)
{
	if (mkdirat(dir_fd, name, 0700) != 0 && errno != EEXIST)
		return errno;
	int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return e;
	}
	/* Set after mkdir, which the umask trims (and which ignores S_ISVTX and S_ISGID). */
	if (st.st_uid == geteuid() && (st.st_mode & 07777) != mode && fchmod(fd, mode) != 0) {
		int e = errno;
		close(fd);
		return e;
	}
	*out = fd;
	return 0;
}

int delivery_drop_open(struct delivery_drop_dirs *d, const char *queue_dir, char *err,
		       size_t errlen)
{
	d->drop_fd = d->claim_fd = d->corrupt_fd = -1;
	int qfd = open(queue_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (qfd < 0)
		return io_fail(err, errlen, queue_dir, errno);
	struct stat st;
	int e = fstat(qfd, &st) != 0 ? errno : 0;
	/* Searchable by all (to reach maildrop/), listable by none. */
	if (e == 0 && st.st_uid == geteuid() && (st.st_mode & 07777) != 0711 &&
	    fchmod(qfd, 0711) != 0)
		e = errno;
	/* maildrop/: anyone may create files (w, x), nobody but the owner list them (no r);
	 * S_ISVTX: only a file's owner (or the directory's) may rename or remove it (POSIX
	 * rename(2)/unlink(2)); S_ISGID: files get the directory's group, the queue owner's, which
	 * the 0640 of a drop file lets read them even when the pickup does not run as root. */
	if (e == 0)
		e = sub_dir(qfd, DELIVERY_DROP_DIR, S_ISVTX | S_ISGID | 0733, &d->drop_fd);
	if (e == 0)
		e = sub_dir(qfd, DELIVERY_DROP_CLAIMED, 0700, &d->claim_fd);
	if (e == 0)
		e = sub_dir(qfd, DELIVERY_DROP_CORRUPT, 0700, &d->corrupt_fd);
	close(qfd);
	if (e != 0) {
		delivery_drop_close(d);
		return io_fail(err, errlen, "cannot set up the maildrop", e);
	}
	return MXTLS_OK;
}

void delivery_drop_close(struct delivery_drop_dirs *d)
{
	if (d->drop_fd >= 0)
		close(d->drop_fd);
	if (d->claim_fd >= 0)
		close(d->claim_fd);
	if (d->corrupt_fd >= 0)
		close(d->corrupt_fd);
	d->drop_fd = d->claim_fd = d->corrupt_fd = -1;
}

struct pickup {
	struct mxtls_queue *q;
	const struct util_log *log;
	char *err;
	size_t errlen;
};

static void uid_text(char *buf, size_t len, long uid)
{
	if (uid < 0)
		snprintf(buf, len, "unknown");
	else
		snprintf(buf, len, "%ld", uid);
}

/* Moves claimed file name into corrupt/ (under a fresh name if taken; removed when it cannot
 * be moved), with a warning line: a bad drop file never stops the pickup. */
static void set_aside(struct pickup *p, const char *name, long uid, const char *reason)
{
	struct delivery_drop_dirs *d = &p->q->drop;
	char uidbuf[24], alt[40];
	uid_text(uidbuf, sizeof uidbuf, uid);
	const char *kept = name;
	if (renameat2(d->claim_fd, name, d->corrupt_fd, name, RENAME_NOREPLACE) != 0) {
		unsigned char r[8] = {0};
		if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
			memset(r, 0, sizeof r);
		snprintf(alt, sizeof alt, "x%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3],
			 r[4], r[5], r[6], r[7]);
		kept = alt;
		if (renameat2(d->claim_fd, name, d->corrupt_fd, alt, RENAME_NOREPLACE) != 0) {
			kept = NULL;
			if (unlinkat(d->claim_fd, name, 0) != 0)
				unlinkat(d->claim_fd, name, AT_REMOVEDIR);
		}
	}
	util_log_kv(p->log, MXTLS_LOG_WARNING, 0, "maildrop-set-aside", "file", name, "uid", uidbuf,
		    "reason", reason, "kept-as",
		    kept != NULL ? kept : "(removed: cannot move it to corrupt/)", NULL);
}

/* Reads fd (a regular file) whole, refusing more than DELIVERY_DROP_FILE_MAX bytes. */
static int read_file(int fd, struct util_buf *out)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return MXTLS_E_IO;
		if (n == 0)
			return MXTLS_OK;
		int rc = util_buf_append(out, buf, (size_t)n);
		if (rc != MXTLS_OK)
			return rc;
	}
}

/*
 * One claimed file.  Returns MXTLS_OK when it was dealt with (queued and removed, or set
 * aside); MXTLS_E_TEMPFAIL when it must wait for a later call for a reason of this host (no
 * descriptor free, the passwd database not answering) while pickup goes on; else the queue's
 * failure (stop: the file stays in pickup/ for the next call).
 */
static int take(struct pickup *p, const char *name)
{
	struct delivery_drop_dirs *d = &p->q->drop;
	/* O_NOFOLLOW: a symbolic link is not followed (ELOOP); O_NONBLOCK: a FIFO does not
	 * block the open, nor does a lease its owner holds (EWOULDBLOCK); O_NOCTTY: a terminal
	 * would not become ours.  Only then is the file looked at, through the descriptor. */
	int fd = openat(d->claim_fd, name,
			O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	if (fd < 0) {
		int e = errno;
		long uid = fstatat(d->claim_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
				   ? (long)st.st_uid
				   : -1;
		if (e == ENOMEM)
			return MXTLS_E_NOMEM;
		if (e == EMFILE || e == ENFILE || e == EINTR) /* ours, not the file's fault */
			return MXTLS_E_TEMPFAIL;
		if (e == ENOENT) /* gone (nobody else can reach pickup/): nothing to do */
			return MXTLS_E_TEMPFAIL;
		set_aside(p, name, uid,
			  e == ELOOP ? "a symbolic link" : "cannot be opened (not a regular file?)");
		return MXTLS_OK;
	}
	const char *bad = NULL;
	if (fstat(fd, &st) != 0)
		bad = "cannot be examined";
	else if (!S_ISREG(st.st_mode))
		bad = "not a regular file";
	else if (st.st_nlink != 1)
		/* Another name for the same file: it may be someone else's (or root's) file
		 * that the dropping user linked here; only a file with this one name is a drop. */
		bad = "hard-linked (more than one name)";
	else if (st.st_uid == 0 || st.st_uid == geteuid())
		/* They submit directly; a drop file of theirs can only be a planted link. */
		bad = "owned by root or the queue's owner";
	else if ((uint64_t)st.st_size > DELIVERY_DROP_FILE_MAX)
		bad = "too large";
	char pwbuf[16384];
	struct passwd pw, *pwp = NULL;
	if (bad == NULL) {
		int e = getpwuid_r(st.st_uid, &pw, pwbuf, sizeof pwbuf, &pwp);
		/* POSIX getpwuid_r(3): 0 and no entry is "not found"; an error (a directory
		 * service that does not answer) is no verdict on the file. */
		if (e != 0 && e != ENOENT && e != ESRCH && e != EBADF && e != EPERM) {
			char uidbuf[24];
			uid_text(uidbuf, sizeof uidbuf, (long)st.st_uid);
			util_log_kv(p->log, MXTLS_LOG_WARNING, 0, "maildrop-owner-unknown-now",
				    "file", name, "uid", uidbuf, "reason", strerror(e), NULL);
			close(fd);
			return MXTLS_E_TEMPFAIL;
		}
		if (e != 0 || pwp == NULL || pw.pw_name == NULL || pw.pw_name[0] == '\0')
			bad = "the owner has no passwd entry";
	}
	struct util_buf buf;
	util_buf_init(&buf, DELIVERY_DROP_FILE_MAX);
	int rc = MXTLS_OK;
	if (bad == NULL) {
		rc = read_file(fd, &buf);
		if (rc == MXTLS_E_LIMIT)
			bad = "too large";
		else if (rc == MXTLS_E_IO)
			bad = "cannot be read";
	}
	close(fd);
	if (rc == MXTLS_E_NOMEM) {
		util_buf_free(&buf);
		return rc;
	}
	struct delivery_drop drop;
	const char *why = NULL;
	if (bad == NULL) {
		rc = delivery_drop_parse(buf.data, buf.len, &drop, &why);
		if (rc == MXTLS_E_NOMEM) {
			util_buf_free(&buf);
			return rc;
		}
		if (rc != MXTLS_OK)
			bad = why;
	}
	if (bad != NULL) {
		char reason[256];
		snprintf(reason, sizeof reason, "%s%s", bad == why ? "not a drop file: " : "", bad);
		set_aside(p, name, (long)st.st_uid, reason);
		util_buf_free(&buf);
		return MXTLS_OK;
	}
	struct mxtls_submission s = {.data = drop.msg,
				     .len = drop.msg_len,
				     .sender = drop.sender,
				     .full_name = drop.full_name,
				     .rcpt = (const char *const *)drop.rcpt,
				     .nrcpt = drop.nrcpt,
				     .flags = drop.flags,
				     .login = pw.pw_name,
				     .host = NULL};
	char id[MXTLS_QUEUE_ID_SIZE], uidbuf[24];
	uid_text(uidbuf, sizeof uidbuf, (long)st.st_uid);
	rc = delivery_submit_untrusted(p->q, &s, id, p->err, p->errlen);
	if (rc == MXTLS_OK) {
		util_log_kv(p->log, MXTLS_LOG_INFO, 0, "maildrop-queued", "id", id, "uid", uidbuf,
			    "login", pw.pw_name, "sender",
			    drop.sender != NULL ? drop.sender : "(none: -f not given)", NULL);
		/* Only now, with the message durable in the queue, may the drop file go.  A crash
		 * before this unlink queues it once more at the next pickup (at least once). */
		if (unlinkat(d->claim_fd, name, 0) != 0)
			util_log_kv(p->log, MXTLS_LOG_WARNING, 0, "maildrop-not-removed", "file",
				    name, "id", id, NULL);
	} else if (rc == MXTLS_E_INVAL || rc == MXTLS_E_SYNTAX || rc == MXTLS_E_LIMIT) {
		/* The rules refuse it (mxtls sendmail checked it, so the file was written by
		 * something else, or the rules differ now): the user is not told, the log is. */
		char reason[600];
		snprintf(reason, sizeof reason, "refused by the sendmail rules: %s",
			 p->err[0] != '\0' ? p->err : mxtls_strerror(rc));
		util_log_kv(p->log, MXTLS_LOG_WARNING, 0, "maildrop-refused", "file", name, "uid",
			    uidbuf, "login", pw.pw_name, "reason", reason, NULL);
		set_aside(p, name, (long)st.st_uid, reason);
		p->err[0] = '\0';
		rc = MXTLS_OK;
	}
	delivery_drop_free(&drop);
	util_buf_free(&buf);
	return rc;
}

/* Up to max entries of dir_fd (name not beginning with a dot), as a malloc'ed array. */
static int list_names(int dir_fd, size_t max, char ***names, size_t *n)
{
	*names = NULL;
	*n = 0;
	int fd = dup(dir_fd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return MXTLS_E_IO;
	}
	rewinddir(dir);
	char **v = NULL;
	size_t cap = 0;
	int rc = MXTLS_OK;
	struct dirent *e;
	while (*n < max && (e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (*n == cap) {
			size_t ncap = cap == 0 ? 16 : cap * 2;
			char **grown = realloc(v, ncap * sizeof *v);
			if (grown == NULL) {
				rc = MXTLS_E_NOMEM;
				break;
			}
			v = grown;
			cap = ncap;
		}
		if ((v[*n] = strdup(e->d_name)) == NULL) {
			rc = MXTLS_E_NOMEM;
			break;
		}
		(*n)++;
	}
	closedir(dir);
	*names = v;
	return rc;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Removes temporary files of writers killed mid-way (and any other name beginning with a dot,
 * which pickup never takes) once old.  ctime, not mtime: the writer may set mtime
 * (utimensat(2)) but not ctime. */
static void remove_stale(struct pickup *p)
{
	int dfd = p->q->drop.drop_fd, fd = dup(dfd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	rewinddir(dir);
	int64_t now = mxtls_ctx_now(p->q->ctx);
	struct dirent *e;
	struct stat st;
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] != '.' || strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0 ||
		    fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    (int64_t)st.st_ctim.tv_sec + DELIVERY_DROP_TEMP_MAX_AGE > now)
			continue;
		if (unlinkat(dfd, e->d_name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) == 0) {
			char uidbuf[24];
			uid_text(uidbuf, sizeof uidbuf, (long)st.st_uid);
			util_log_kv(p->log, MXTLS_LOG_WARNING, 0, "maildrop-temp-removed", "file",
				    e->d_name, "uid", uidbuf, "reason", "interrupted submission",
				    NULL);
		}
	}
	closedir(dir);
}

int delivery_drop_pickup(struct mxtls_queue *q, size_t max, size_t *taken, char *err,
			 size_t errlen)
{
	char scratch[1];
	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof scratch;
	}
	err[0] = '\0';
	size_t done = 0;
	if (taken != NULL)
		*taken = 0;
	if (q == NULL)
		return MXTLS_E_INVAL;
	struct delivery_drop_dirs *d = &q->drop;
	struct pickup p = {.q = q, .log = &q->ctx->log, .err = err, .errlen = errlen};
	char **names;
	size_t n;
	/* One pickup at a time (say a daemon and a queue run --once): two would both take a file
	 * an earlier call left in pickup/ and queue it twice.  When another is at work, this call
	 * has nothing to do.  Only the queue owner can open pickup/ to lock it. */
	if (flock(d->claim_fd, LOCK_EX | LOCK_NB) != 0)
		return errno == EWOULDBLOCK ? MXTLS_OK
					    : io_fail(err, errlen, "cannot lock pickup/", errno);
	/* First what an earlier pickup claimed and did not finish (it crashed, or the queue
	 * could not take it), then new drop files. */
	int rc = list_names(d->claim_fd, max, &names, &n);
	for (size_t i = 0; rc == MXTLS_OK && i < n; i++) {
		rc = take(&p, names[i]);
		done += rc == MXTLS_OK;
		if (rc == MXTLS_E_TEMPFAIL)
			rc = MXTLS_OK; /* left in pickup/, the first taken next time */
	}
	free_names(names, n);
	if (rc == MXTLS_OK && done < max) {
		remove_stale(&p);
		rc = list_names(d->drop_fd, max - done, &names, &n);
		for (size_t i = 0; rc == MXTLS_OK && i < n; i++) {
			/* Claimed by a rename into pickup/ (0700): from here on its writer can
			 * neither rename nor replace nor remove it by name. */
			if (renameat2(d->drop_fd, names[i], d->claim_fd, names[i],
				      RENAME_NOREPLACE) != 0) {
				if (errno != ENOENT && errno != EEXIST)
					util_log_kv(p.log, MXTLS_LOG_WARNING, 0,
						    "maildrop-not-claimed", "file", names[i],
						    "reason", strerror(errno), NULL);
				continue;
			}
			rc = take(&p, names[i]);
			done += rc == MXTLS_OK;
			if (rc == MXTLS_E_TEMPFAIL)
				rc = MXTLS_OK;
		}
		free_names(names, n);
	}
	/* The removals and moves of this call made durable together. */
	if (done > 0) {
		fsync(d->claim_fd);
		fsync(d->corrupt_fd);
		fsync(d->drop_fd);
	}
	flock(d->claim_fd, LOCK_UN);
	if (rc == MXTLS_E_IO && err[0] == '\0')
		snprintf(err, errlen, "cannot read the maildrop");
	if (taken != NULL)
		*taken = done;
	return rc;
}

static size_t count_in(int dir_fd)
{
	char **names;
	size_t n;
	if (list_names(dir_fd, SIZE_MAX, &names, &n) != MXTLS_OK)
		n = 0;
	free_names(names, n);
	return n;
}

size_t delivery_drop_waiting(struct mxtls_queue *q)
{
	return count_in(q->drop.claim_fd) + count_in(q->drop.drop_fd);
}

int mxtls_queue_pickup(struct mxtls_queue *q, size_t max, size_t *taken, char *err,
		       size_t errlen)
{
	return delivery_drop_pickup(q, max, taken, err, errlen);
}

size_t mxtls_queue_maildrop_count(struct mxtls_queue *q)
{
	return q != NULL ? delivery_drop_waiting(q) : 0;
}
