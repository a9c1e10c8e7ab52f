/* SPDX-License-Identifier: MIT */
/* The delivery queue in STATE_DIR/queue/: submission (the sendmail interface) and management. */
#ifndef MXTLS_QUEUE_H
#define MXTLS_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include <mxtls/context.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MXTLS_API
#define MXTLS_API __attribute__((visibility("default")))
#endif

/* A queue id is 20 characters of [0-9A-F] (sortable by submission time); with its NUL: */
#define MXTLS_QUEUE_ID_SIZE 21
/* The largest message accepted for the queue (as mxtls_send()). */
#define MXTLS_QUEUE_MESSAGE_MAX (200u * 1024 * 1024)
/* The most recipients of one message. */
#define MXTLS_QUEUE_RCPT_MAX 1000

struct mxtls_queue;

/* Flags of mxtls_queue_open(). */
enum mxtls_queue_open_flag {
	/* Remove what interrupted submissions and deletions left (temporary files, body files
	 * without an index row), each with a warning log line, when no one else has the queue
	 * open.  It walks the whole spool, so the management commands and the daemon ask for it
	 * and submission (the hot path) does not. */
	MXTLS_QUEUE_CLEANUP = 1,
};

/*
 * Opens the queue in ctx's state directory (creating STATE_DIR/queue/ with mode 0711 when
 * missing, and in it maildrop/ with mode 3733, pickup/ and corrupt/ with 0700; the index and
 * lock files are 0600).  Only root and the owner of the state directory may open it
 * (mxtls_queue_may_open()); anyone else submits with mxtls_queue_drop() (MXTLS_E_IO here, with
 * that reason).  flags: enum mxtls_queue_open_flag.  On success *out is set; caller frees with
 * mxtls_queue_close().  Returns MXTLS_OK, MXTLS_E_CONFIG (no state directory), MXTLS_E_IO
 * (reason in err), MXTLS_E_NOMEM.
 */
MXTLS_API int mxtls_queue_open(struct mxtls_ctx *ctx, unsigned flags, struct mxtls_queue **out,
			       char *err, size_t errlen);
/* Closes q; NULL is a no-op. */
MXTLS_API void mxtls_queue_close(struct mxtls_queue *q);

/* Flags of a submission. */
enum mxtls_submit_flag {
	MXTLS_SUBMIT_RCPT_FROM_HEADERS = 1, /* sendmail -t: add the To, Cc and Bcc addresses */
	MXTLS_SUBMIT_DOT_ENDS = 2,          /* without sendmail -i: a lone "." line ends it */
};

/* One message from a local program (all borrowed for the call). */
struct mxtls_submission {
	const void *data; /* the message as read (LF or CRLF line ends) */
	size_t len;
	const char *sender;      /* envelope sender (-f); "" or "<>": none; NULL: login@host */
	const char *full_name;   /* display name of an added From (-F); NULL: none */
	const char *const *rcpt; /* recipients (each an address list, as sendmail takes them) */
	size_t nrcpt;
	unsigned flags;    /* enum mxtls_submit_flag */
	const char *login; /* the submitting user's login name (required) */
	const char *host;  /* this host's name, for addresses without a domain and Message-ID;
			    * NULL: gethostname() */
};

/*
 * Queues a message as sendmail(1) does: line ends made CRLF, the lone-dot rule, recipients
 * checked (RFC 5321 Mailbox syntax; an address without a domain gets "@host"), Date,
 * Message-ID and From added when missing (RFC 5322 §3.6), Bcc removed.  Returns only once the
 * body file and the index rows are durable (MXTLS_OK, the queue id in id); on any failure
 * nothing of the message is left in the queue.  Errors: MXTLS_E_INVAL (a bad sender, recipient
 * argument or full name, or no recipient argument without MXTLS_SUBMIT_RCPT_FROM_HEADERS),
 * MXTLS_E_SYNTAX (a bad message: a NUL byte, a bad address in To/Cc/Bcc, no recipient at all),
 * MXTLS_E_LIMIT (larger than MXTLS_QUEUE_MESSAGE_MAX or more than MXTLS_QUEUE_RCPT_MAX
 * recipients), MXTLS_E_IO (the spool cannot take it now: disk full, permissions),
 * MXTLS_E_NOMEM.  The reason is in err.
 */
MXTLS_API int mxtls_queue_submit(struct mxtls_queue *q, const struct mxtls_submission *s,
				 char id[MXTLS_QUEUE_ID_SIZE], char *err, size_t errlen);

/*
 * Unprivileged submission (doc/queue-security.md).  A user who may not open the queue writes
 * the submission as a drop file into STATE_DIR/queue/maildrop/ (mode 3733: anyone may create a
 * file there, nobody else may list it or touch another's file); the queue's owner moves drop
 * files into the queue with mxtls_queue_pickup(), the delivery daemon on start, on every
 * wake-up and on a timer.  The login name is then the drop file owner's, never a byte of it.
 */

/* True when this process may open ctx's queue with mxtls_queue_open(): it runs as root or as
 * the owner of the state directory (or the directory does not exist yet). */
MXTLS_API int mxtls_queue_may_open(struct mxtls_ctx *ctx);

/*
 * Checks s with the rules of mxtls_queue_submit() (so a bad message is refused now, with the
 * same codes) and writes it as a drop file: under a temporary name, mode 0640 (its group, the
 * maildrop's, is the queue owner's), synced, renamed, and the file system synced (the user
 * cannot open the directory to sync it alone).  s->login and s->host are not written: pickup
 * takes the login from the file's owner.  Returns only once the drop file is durable (MXTLS_OK);
 * on any failure nothing is left.  Errors: as mxtls_queue_submit(), and MXTLS_E_CONFIG (no
 * state directory); MXTLS_E_IO when the maildrop cannot take it now (missing, not searchable,
 * disk full).  The reason is in err.
 */
MXTLS_API int mxtls_queue_drop(struct mxtls_ctx *ctx, const struct mxtls_submission *s,
			       char *err, size_t errlen);

/*
 * Moves up to max drop files into q with the sendmail rules, removing each only once its
 * message is durable in the queue; a drop file that is bad (not a regular file, hard-linked,
 * too large, of an unknown or privileged owner, unparsable, refused by the rules) is moved to
 * STATE_DIR/queue/corrupt/ with a warning log line naming the owner's uid, and pickup goes on.
 * *taken (may be NULL) is set to the number of files handled.  Returns MXTLS_OK, MXTLS_E_IO or
 * MXTLS_E_NOMEM when the queue cannot take messages now (the file waits for the next call).
 */
MXTLS_API int mxtls_queue_pickup(struct mxtls_queue *q, size_t max, size_t *taken, char *err,
				 size_t errlen);

/* Drop files not picked up yet (they are in no list). */
MXTLS_API size_t mxtls_queue_maildrop_count(struct mxtls_queue *q);

/*
 * Queued messages with their recipients still waiting (delivered and bounced ones are left
 * out), ordered by id; id NULL: all messages, else just that one.  A row that cannot be read
 * (damaged) is left out with a warning log line; a message whose body file is missing is
 * listed, with a warning log line and mxtls_queue_list_problem() set.  On success *out is set;
 * caller frees with mxtls_queue_list_free().  Returns MXTLS_OK, MXTLS_E_NOTFOUND (id given
 * and not queued), MXTLS_E_INVAL (id malformed), MXTLS_E_IO, MXTLS_E_NOMEM.
 */
struct mxtls_queue_list;
MXTLS_API int mxtls_queue_list(struct mxtls_queue *q, const char *id, struct mxtls_queue_list **out,
			       char *err, size_t errlen);
MXTLS_API void mxtls_queue_list_free(struct mxtls_queue_list *l);
/* Accessors; strings borrowed from l; out of range gives NULL / 0 / -1. */
MXTLS_API size_t mxtls_queue_list_count(const struct mxtls_queue_list *l);
MXTLS_API const char *mxtls_queue_list_id(const struct mxtls_queue_list *l, size_t i);
MXTLS_API const char *mxtls_queue_list_sender(const struct mxtls_queue_list *l, size_t i);
MXTLS_API int64_t mxtls_queue_list_size(const struct mxtls_queue_list *l, size_t i);
MXTLS_API int64_t mxtls_queue_list_queued_at(const struct mxtls_queue_list *l, size_t i);
/* NULL, or why the message cannot be delivered as it is ("body file missing"). */
MXTLS_API const char *mxtls_queue_list_problem(const struct mxtls_queue_list *l, size_t i);
MXTLS_API size_t mxtls_queue_list_rcpt_count(const struct mxtls_queue_list *l, size_t i);
MXTLS_API const char *mxtls_queue_list_rcpt(const struct mxtls_queue_list *l, size_t i, size_t j);
/* "pending", "deferred" or "held". */
MXTLS_API const char *mxtls_queue_list_rcpt_state(const struct mxtls_queue_list *l, size_t i,
						  size_t j);
MXTLS_API int64_t mxtls_queue_list_rcpt_attempts(const struct mxtls_queue_list *l, size_t i,
						 size_t j);
MXTLS_API int64_t mxtls_queue_list_rcpt_next_attempt(const struct mxtls_queue_list *l, size_t i,
						     size_t j);
/* NULL until a delivery attempt sets them. */
MXTLS_API const char *mxtls_queue_list_rcpt_last_host(const struct mxtls_queue_list *l, size_t i,
						      size_t j);
MXTLS_API const char *mxtls_queue_list_rcpt_last_reply(const struct mxtls_queue_list *l, size_t i,
						       size_t j);
MXTLS_API const char *mxtls_queue_list_rcpt_result_type(const struct mxtls_queue_list *l, size_t i,
							size_t j);

/*
 * Reads message id's body file (as queued: CRLF line ends).  On success *data (NUL-terminated,
 * caller frees with mxtls_free()) and *len are set.  Returns MXTLS_OK, MXTLS_E_INVAL (id
 * malformed), MXTLS_E_NOTFOUND (no such body file), MXTLS_E_IO, MXTLS_E_NOMEM.
 */
MXTLS_API int mxtls_queue_body(struct mxtls_queue *q, const char *id, char **data, size_t *len);

/* Management.  Each returns MXTLS_OK, MXTLS_E_INVAL (id malformed), MXTLS_E_NOTFOUND (not
 * queued), MXTLS_E_IO (reason in err). */
/* Removes the message (index rows first, then the body file). */
MXTLS_API int mxtls_queue_delete(struct mxtls_queue *q, const char *id, char *err, size_t errlen);
/* Puts the message's waiting recipients on hold: the daemon leaves them alone. */
MXTLS_API int mxtls_queue_hold(struct mxtls_queue *q, const char *id, char *err, size_t errlen);
/* Releases held recipients: pending (never tried) or deferred, due now. */
MXTLS_API int mxtls_queue_release(struct mxtls_queue *q, const char *id, char *err, size_t errlen);
/* Makes the message's (id NULL: every message's) pending and deferred recipients due now. */
MXTLS_API int mxtls_queue_flush(struct mxtls_queue *q, const char *id, char *err, size_t errlen);

/* The delivery daemon (`mxtls queue run`): its settings, CLI.md's names in comments. */
struct mxtls_queue_run_opts {
	int64_t retry_min;      /* retry-min: seconds before the first retry (>= 1; 300) */
	int64_t retry_max;      /* retry-max: the longest wait between attempts (>= retry_min;
				 * 4000) */
	int64_t lifetime;       /* queue-lifetime: seconds until a deferred recipient is
				 * returned to its sender (>= 1; 432000) */
	int64_t delay_warning;  /* delay-warning: seconds until a delay notice; 0: none (0) */
	unsigned concurrency;   /* concurrency: deliveries at a time (>= 1; 100) */
	unsigned concurrency_per_domain; /* concurrency-per-domain: to one domain (>= 1; 20) */
	const char *helo;       /* helo: the EHLO and Reporting-MTA name; NULL: the context's */
	const char *const *dkim_keys; /* dkim-key: "DOMAIN:SELECTOR:KEYFILE" each */
	size_t ndkim_keys;
	const char *const *listen; /* --listen HOST:PORT: the SMTP submission listener */
	size_t nlisten;
	const char *const *allow;  /* --allow CIDR: clients allowed besides loopback */
	size_t nallow;
	int once;                  /* --once: process what is due now, then return */
	unsigned shutdown_timeout; /* seconds SIGTERM waits for sessions in flight (30) */
	int64_t sts_refresh;       /* seconds between background MTA-STS refreshes; 0: none
				    * (3600, as mxtls policyd) */
	int64_t sts_refresh_age;   /* refresh cached policies fetched this long ago (43200) */
	/* Called with "READY=1" once the daemon serves and "STOPPING=1" when it stops (for
	 * systemd's sd_notify); may be NULL. */
	void (*notify)(void *arg, const char *state);
	void *notify_arg;
};

/* Fills o with the defaults above. */
MXTLS_API void mxtls_queue_run_opts_init(struct mxtls_queue_run_opts *o);

/*
 * Runs the delivery daemon over q on the context's event loop until SIGTERM or SIGINT (then
 * sessions in flight get shutdown_timeout seconds to finish; what is cut short stays queued),
 * or with once set until what was due at the start is done.  One daemon per queue: a second
 * gets MXTLS_E_TEMPFAIL.  Returns MXTLS_OK after a clean stop, MXTLS_E_CONFIG (a bad setting
 * or DKIM key, a listen address that cannot be bound), MXTLS_E_TEMPFAIL, MXTLS_E_IO,
 * MXTLS_E_NOMEM; the reason is in err.
 */
MXTLS_API int mxtls_queue_run(struct mxtls_queue *q, const struct mxtls_queue_run_opts *o,
			      char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
