/* SPDX-License-Identifier: MIT */
/* Unprivileged submission through STATE_DIR/queue/maildrop/ (doc/queue-security.md): the drop
 * file format (pure: delivery_drop.c), writing one as the submitting user
 * (delivery_drop_write.c) and the queue owner's pickup (delivery_drop_pickup.c). */
#ifndef MXTLS_DELIVERY_DROP_H
#define MXTLS_DELIVERY_DROP_H

#include <stddef.h>

#include <mxtls/queue.h>

#include "util/util_buf.h"

struct mxtls_queue;

#define DELIVERY_DROP_DIR     "maildrop" /* mode 3733: anyone drops, nobody else lists */
#define DELIVERY_DROP_CLAIMED "pickup"   /* 0700: files taken out of reach of their writers */
#define DELIVERY_DROP_CORRUPT "corrupt"  /* 0700: drop files set aside, for the administrator */
/* Drop files being written: "." + this + 32 hex digits; pickup skips names beginning with a
 * dot, and removes them once DELIVERY_DROP_TEMP_MAX_AGE old (a killed sendmail's leftover). */
#define DELIVERY_DROP_TEMP_PREFIX  ".tmp-"
#define DELIVERY_DROP_TEMP_MAX_AGE 3600
/* The first line of every drop file (format version 1). */
#define DELIVERY_DROP_MAGIC "MXTLS-DROP 1\n"
/* Caps: one sender, full name or recipient argument; everything before the message. */
#define DELIVERY_DROP_FIELD_MAX (16u * 1024)
#define DELIVERY_DROP_HEAD_MAX  (1024u * 1024)
/* The largest drop file: a larger one is set aside unread. */
#define DELIVERY_DROP_FILE_MAX ((size_t)MXTLS_QUEUE_MESSAGE_MAX + DELIVERY_DROP_HEAD_MAX)

/*
 * One parsed drop file.  Format (every length decimal, 1 to 10 digits, no leading zero; the
 * fields in exactly this order; nothing after the message):
 *
 *   "MXTLS-DROP 1\n"
 *   "F" FLAGS "\n"                    enum mxtls_submit_flag bits, no others
 *   [ "S" LEN ":" SENDER "\n" ]       -f as given ("" for the null sender); absent: no -f
 *   [ "N" LEN ":" NAME "\n" ]         -F as given; absent: no -F
 *   { "R" LEN ":" RCPT "\n" }         each recipient argument, at most MXTLS_QUEUE_RCPT_MAX
 *   "M" LEN ":" MESSAGE               the message as read from standard input, to the end
 *
 * Nothing in it names the user: the login is the file owner's (never a byte of the file).
 */
struct delivery_drop {
	unsigned flags;
	char *sender;    /* NULL: no -f */
	char *full_name; /* NULL: no -F */
	char **rcpt;     /* nrcpt strings (NULL when 0) */
	size_t nrcpt;
	const char *msg; /* borrowed from the parsed bytes */
	size_t msg_len;
};

/*
 * Parses a drop file (data, len; untrusted, any bytes).  Strict: a wrong magic, an unknown
 * flag, a field out of order or repeated, a length with a leading zero or beyond its cap, a NUL
 * in a sender, name or recipient, more than MXTLS_QUEUE_RCPT_MAX recipients, a message longer
 * than MXTLS_QUEUE_MESSAGE_MAX, or any byte missing or left over is an error.  On success *out
 * is set (free with delivery_drop_free(); out->msg points into data).  Returns MXTLS_OK,
 * MXTLS_E_SYNTAX, MXTLS_E_TRUNCATED, MXTLS_E_LIMIT (reason in *why, static), MXTLS_E_NOMEM.
 */
int delivery_drop_parse(const void *data, size_t len, struct delivery_drop *out, const char **why);
/* Frees what delivery_drop_parse() allocated; NULL is a no-op. */
void delivery_drop_free(struct delivery_drop *d);

/*
 * Appends to out everything of s's drop file before the message bytes: magic, flags, sender,
 * full name, recipients and "M" LEN ":" (the message, s->data, follows it to the end).  The
 * login and host of s are not written.  Returns MXTLS_OK, MXTLS_E_INVAL (a NUL-free string too
 * long, or too many recipients, or a message beyond MXTLS_QUEUE_MESSAGE_MAX), as
 * util_buf_append().
 */
int delivery_drop_format_head(const struct mxtls_submission *s, struct util_buf *out);

/*
 * As the submitting user: writes s as a drop file into queue_dir/maildrop/ (a temporary name,
 * mode 0640, fsync; renamed; syncfs for the directory entry, which this user cannot open).
 * Returns only once it is durable (MXTLS_OK); otherwise nothing is left.  MXTLS_E_IO (reason
 * in err), MXTLS_E_INVAL, MXTLS_E_NOMEM.
 */
int delivery_drop_write(const char *queue_dir, const struct mxtls_submission *s, char *err,
			size_t errlen);

/* The queue owner's handles on the three directories (delivery_drop_pickup.c). */
struct delivery_drop_dirs {
	int drop_fd;    /* maildrop/ */
	int claim_fd;   /* pickup/ */
	int corrupt_fd; /* corrupt/ */
};

/*
 * As the queue's owner: makes (or repairs the modes of) maildrop/ (3733), pickup/ and corrupt/
 * (0700) in queue_dir, and queue_dir itself 0711 when it is this user's, then opens them.
 * Returns MXTLS_OK or MXTLS_E_IO (reason in err); on failure d holds no descriptor.
 */
int delivery_drop_open(struct delivery_drop_dirs *d, const char *queue_dir, char *err,
		       size_t errlen);
void delivery_drop_close(struct delivery_drop_dirs *d);

/*
 * As the queue's owner: moves up to max drop files into the queue with mxtls_queue_submit()'s
 * rules (the login is the file owner's name).  A drop file is removed only once its message is
 * durable in the queue.  A bad one (not a regular file, hard-linked, too large, owned by root or
 * the queue owner or an unknown uid, unparsable, or refused by the sendmail rules) is moved to
 * corrupt/ with a warning log line naming the owner uid, and pickup goes on.  *taken (may be
 * NULL) counts the files handled (queued or set aside).  Returns MXTLS_OK, or MXTLS_E_IO /
 * MXTLS_E_NOMEM when the queue cannot take messages now (the file stays for the next call).
 */
int delivery_drop_pickup(struct mxtls_queue *q, size_t max, size_t *taken, char *err,
			 size_t errlen);

/* Drop files waiting for pickup (in maildrop/ and pickup/; temporary files not counted). */
size_t delivery_drop_waiting(struct mxtls_queue *q);

#endif
