/* SPDX-License-Identifier: MIT */
/* Delivery of messages to their recipients' MX hosts, enforcing each domain's decision; several
 * messages to one domain share its sessions.  (It was validator/deliver.h before the delivery
 * agent had a room of its own.) */
#ifndef MXTLS_DELIVERY_DELIVER_H
#define MXTLS_DELIVERY_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mxtls/result.h>

#include "delivery/delivery_tlsrpt_result.h"
#include "smtp/smtp_client.h"
#include "validator/decision.h"

struct dane_pkix;

/* The most recipients of one message (RFC 5321 §4.5.3.1.8 requires servers to take 100). */
#define DELIVER_RCPTS_MAX 1000
/* The most recipients of one request, all its messages together. */
#define DELIVER_RESULTS_MAX (100 * DELIVER_RCPTS_MAX)

enum deliver_status {
	DELIVER_DELIVERED = 0, /* the server accepted the message for this recipient (2xx) */
	DELIVER_DEFERRED = 1,  /* try again later: 4xx, or no acceptable server now */
	DELIVER_BOUNCED = 2,   /* permanent: 5xx from the server, null MX, NXDOMAIN */
};
const char *deliver_status_name(enum deliver_status s);

struct deliver_rcpt {
	enum deliver_status status;
	char mx[DNS_NAME_TEXT_MAX];  /* the host that answered (or last tried); "" when none */
	bool tls;                    /* the message went to mx inside TLS */
	bool has_security;
	enum decision_security security; /* of mx */
	struct smtp_brief reply;     /* the last reply for this recipient (local when made up) */
	enum mxtls_result result_type; /* for failures with a TLS reason: the RFC 8460 type */
	char detail[1024];           /* one line: what happened, for people */
};

/* A further message of a request, delivered over the same sessions (borrowed). */
struct deliver_msg {
	const char *from;
	const char *const *rcpts;
	size_t nrcpts;
	const unsigned char *msg;
	size_t len;
};

struct deliver_req {
	const char *from;            /* reverse-path ("" for the null sender) */
	const char *const *rcpts;
	size_t nrcpts;
	const unsigned char *msg;    /* the RFC 5322 message (any line ends) */
	size_t len;
	/* More messages (NULL / 0: none): each domain's recipients of all the messages go over
	 * one session per host, one transaction per message (RFC 5321 §3.3 allows several);
	 * results[] lists the first message's recipients, then each further message's. */
	const struct deliver_msg *more;
	size_t nmore;
	const char *helo;
	struct smtp_timeouts timeouts;
	uint16_t port;               /* 0 means 25 */
	int64_t now;
	const struct util_log *log;  /* may be NULL */
	uint64_t log_id;
	/* RFC 8689 §5 ("TLS-Required: No"): the sender asks that a DANE or MTA-STS failure not
	 * stop the message.  TLS is still tried first, with any certificate; a host the STS
	 * policy excludes may be used; DNS failures still defer. */
	bool tls_optional;
	/* RFC 8689 §4 (REQUIRETLS on the envelope): only hosts authenticated by DANE or an
	 * MTA-STS enforce policy are used, over TLS, and only if they offer REQUIRETLS there;
	 * TLS-Required is then ignored (§5).  With no such host the recipients fail (5.7.30). */
	bool requiretls;
	/* Called as soon as one message's transaction in one domain has ended, with the results
	 * (borrowed for the call: results[idx[0..n)], in the callback's numbering) of that
	 * message's recipients in that domain; may be NULL.  msg: 0 for req's message, i + 1 for
	 * more[i].  The same results come again in the final callback.  It must not cancel the
	 * run. */
	void (*txn_done)(void *arg, size_t msg, const struct deliver_rcpt *results,
			 const size_t *idx, size_t n);
	void *txn_done_arg;
	/* RFC 8460 §4: every TLS session attempt on a new connection, and every failure before
	 * one (an MTA-STS policy that could not be had, a host its policy excludes, a failed TLSA
	 * lookup), goes to tlsrpt as it happens; NULL: nothing is recorded (TLS reports
	 * themselves are never counted, §3).  Cleartext sessions after a failed handshake and
	 * sessions that end before TLS for other reasons (§4.3.4, transient) are left out. */
	deliver_tlsrpt_fn tlsrpt;
	void *tlsrpt_arg;
};

/* Called once from the loop; results[i] belongs to req->rcpts[i] (then to the further
 * messages' recipients, in order; borrowed for the call). */
typedef void (*deliver_callback)(void *arg, const struct deliver_rcpt *results, size_t n);

struct deliver_run;

/*
 * Delivers req's message: recipients are grouped by domain; every domain's decision runs at
 * once; then, per domain, the usable MX hosts are tried in preference order, each address in
 * turn, with what the decision requires (ARCHITECTURE.md: the SMTP client asks host_verify()
 * through its callback).  A host that fails a TLS requirement is skipped for the next one;
 * when none is left the recipients are deferred, never bounced for a TLS reason and never
 * sent in cleartext.  Opportunistic hosts whose TLS handshake fails are retried once in
 * cleartext (RFC 7672 §2.2, DANE-11).  All of req is borrowed until cb runs; the runtime
 * pieces must outlive the run.  When a session ends before every transaction did, the
 * transactions left go on at the next host.  Returns MXTLS_OK, MXTLS_E_INVAL (a message
 * without recipient, too many in all, a bad address or EHLO name: smtp_path_ok(),
 * smtp_helo_ok()), MXTLS_E_SYNTAX (a message empty or with a NUL byte), MXTLS_E_LIMIT (a
 * message too large), MXTLS_E_NOMEM.
 */
int deliver_start(struct event_base *base, struct dns_resolver *r, struct sts_fetcher *f,
		  struct sts_cache *c, const struct dane_pkix *pkix, const struct deliver_req *req,
		  deliver_callback cb, void *arg, struct deliver_run **out);

/* Stops everything; the callback is not called. */
void deliver_cancel(struct deliver_run *run);

#endif
