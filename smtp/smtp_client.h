/* SPDX-License-Identifier: MIT */
/* The outbound SMTP client: one session with one server address, on a libevent loop. */
#ifndef MXTLS_SMTP_CLIENT_H
#define MXTLS_SMTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mxtls/result.h>

#include "smtp/smtp_data.h"
#include "smtp/smtp_reply.h"

struct event_base;

/* Per-step time limits in milliseconds.  RFC 5321 §4.5.3.2 gives the minimums (in minutes):
 * greeting 5, MAIL 5, RCPT 5, DATA initiation 2, each data block 3, DATA termination 10. */
struct smtp_timeouts {
	unsigned connect;    /* TCP connect (not in RFC 5321; 30 s) */
	unsigned greeting;   /* §4.5.3.2.1: the 220 banner */
	unsigned ehlo;       /* EHLO/HELO reply (5 min, as MAIL) */
	unsigned starttls;   /* STARTTLS reply and the handshake (5 min) */
	unsigned mail;       /* §4.5.3.2.2 */
	unsigned rcpt;       /* §4.5.3.2.3 */
	unsigned data_init;  /* §4.5.3.2.4: the 354 */
	unsigned data_block; /* §4.5.3.2.5: no write progress for this long */
	unsigned data_done;  /* §4.5.3.2.6: the reply to the final "." */
	unsigned quit;       /* QUIT reply, RSET (not in RFC 5321; 10 s) */
};

/* Fills t with the RFC 5321 §4.5.3.2 values (and 30 s / 10 s for connect / quit). */
void smtp_timeouts_default(struct smtp_timeouts *t);

enum smtp_tls_mode {
	SMTP_TLS_NONE = 0,     /* never STARTTLS (a cleartext retry of an opportunistic host) */
	SMTP_TLS_MAY = 1,      /* STARTTLS when offered; cleartext otherwise */
	SMTP_TLS_REQUIRED = 2, /* STARTTLS or nothing: never a byte of mail in cleartext */
};

/*
 * Called once after the handshake with the presented chain (der[i], len[i], leaf first; all
 * borrowed for the call).  Returns MXTLS_RESULT_OK to go on, anything else to end the session
 * (an RFC 8460 result type) with a reason written to why (whylen bytes).  The client does not
 * know what is checked: that is the validator's business (ARCHITECTURE.md convention 12).
 */
typedef enum mxtls_result (*smtp_verify_fn)(void *arg, const uint8_t *const *der,
					     const size_t *len, size_t n, char *why, size_t whylen);

/* One reply, condensed: the code, the RFC 3463 status and the text (lines joined by ' '). */
struct smtp_brief {
	int code;          /* 0: no reply (never sent, or the session ended first) */
	char enhanced[16];
	char text[320];
	bool local;        /* made up by the client (e.g. SIZE too large), not sent by the server */
};

/* One mail transaction: MAIL FROM, RCPT TO per recipient, DATA.  The caller owns everything
 * and keeps it alive until the session's callback has run. */
struct smtp_txn {
	const char *mail_from;   /* reverse-path without <>; "" for the null sender */
	const char *const *rcpts; /* forward-paths without <> */
	size_t nrcpts;
	const struct util_buf *payload; /* smtp_data_encode() output, "."-terminated */
	struct smtp_data_info info;     /* from smtp_data_encode() */
	bool smtputf8;           /* some address or header needs SMTPUTF8 (RFC 6531) */
	bool requiretls;         /* MAIL FROM ... REQUIRETLS (RFC 8689 §4): sent only inside TLS
				  * to a server that offers it there; else refused locally, 5.7.30 */
	/* Results, written by the session: */
	struct smtp_brief mail;
	struct smtp_brief *rcpt; /* nrcpts entries, caller-allocated */
	struct smtp_brief data;  /* the reply to the final "." (or to DATA when it failed) */
	bool done;               /* the transaction reached its end: every recipient has a reply */
};

/* Where a session stopped. */
enum smtp_stage {
	SMTP_STAGE_CONNECT = 0,
	SMTP_STAGE_GREETING,
	SMTP_STAGE_EHLO,
	SMTP_STAGE_STARTTLS,
	SMTP_STAGE_HANDSHAKE,
	SMTP_STAGE_VERIFY,
	SMTP_STAGE_MAIL,
	SMTP_STAGE_RCPT,
	SMTP_STAGE_DATA,
	SMTP_STAGE_QUIT,
	SMTP_STAGE_DONE,
};

/* Static names: "connect", "greeting", ..., "done". */
const char *smtp_stage_name(enum smtp_stage s);

struct smtp_session_result {
	enum smtp_stage stage;   /* SMTP_STAGE_DONE: every transaction ran (whatever the replies) */
	int error;               /* MXTLS_OK, or why the session ended early: MXTLS_E_IO
				  * (connection), MXTLS_E_TIMEOUT, MXTLS_E_SYNTAX (not SMTP),
				  * MXTLS_E_TLS (TLS could not be had or was not good enough) */
	enum mxtls_result tls_result; /* with MXTLS_E_TLS: the RFC 8460 type */
	char reason[320];        /* for logs: what happened, in English */
	bool connected;
	bool tls;                /* the mail went (or would have gone) inside TLS */
	bool starttls_offered;
	char tls_version[16];
	char tls_suite[128];
	bool used_helo;          /* EHLO was refused and HELO used (never when TLS is required) */
	struct smtp_brief last;  /* the last reply the server sent */
	size_t txns_done;        /* transactions that reached their end */
	/* For TLS reports (RFC 8460 §4.4 sending-mta-ip, receiving-mx-helo); "" when unknown: */
	char local_ip[46];       /* our end of the connection, as inet_ntop() writes it */
	char server_name[256];   /* the name the server gave: first word of its EHLO reply
				  * (cleartext), else of its greeting (RFC 5321 §4.2, §4.1.1.1) */
};

struct smtp_session_req {
	int family;              /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint16_t port;           /* 0 means 25 */
	const char *helo;        /* our host name for EHLO/HELO (borrowed) */
	enum smtp_tls_mode tls;
	const char *sni;         /* server name for TLS (borrowed; NULL: none) */
	smtp_verify_fn verify;   /* NULL: any certificate is accepted */
	void *verify_arg;
	struct smtp_timeouts timeouts;
	struct smtp_txn *txns;   /* run in order over the one connection (borrowed); with none,
				  * the session ends with QUIT after EHLO (a probe) */
	size_t ntxns;
	/* Called as soon as txns[i] has ended (done set: every recipient has its reply), before
	 * the next transaction starts; may be NULL.  It must not cancel the session. */
	void (*txn_done)(void *arg, size_t i, bool tls); /* tls: the session is inside TLS */
	void *txn_done_arg;
};

/* True when path (a reverse- or forward-path without <>) can go on a MAIL FROM / RCPT TO line:
 * at most 256 octets (RFC 5321 §4.5.3.1.3), no control byte, space or angle bracket; "" only
 * with empty_ok (the null sender).  smtp_session_start() refuses a transaction without it. */
bool smtp_path_ok(const char *path, bool empty_ok);

/* True when name can go on an EHLO / HELO line: 1-255 octets, no control byte, space or angle
 * bracket.  smtp_session_start() refuses a request without it. */
bool smtp_helo_ok(const char *name);

/* Called once from the event loop when the session has ended; res is borrowed for the call. */
typedef void (*smtp_session_callback)(void *arg, const struct smtp_session_result *res);

struct smtp_session;

/*
 * Opens a session to req's address on base and runs req's transactions (req and what it points
 * to are borrowed until cb runs).  The walk: connect, 220 greeting, EHLO (HELO only when TLS
 * is not required), STARTTLS when the mode asks for it and the server offers it, the
 * handshake, verify(), EHLO again, then per transaction MAIL FROM (SIZE, BODY=8BITMIME,
 * SMTPUTF8 as needed), RCPT TO, DATA, the payload, and finally QUIT.  With PIPELINING
 * (RFC 2920) MAIL, RCPT and DATA go out together.  With SMTP_TLS_REQUIRED nothing but EHLO,
 * STARTTLS and QUIT is ever sent in cleartext.
 * cb runs later, never from inside this call.  Returns MXTLS_OK (*out, may be NULL, gets a
 * handle for smtp_session_cancel(), valid until cb runs), MXTLS_E_INVAL (a transaction
 * without recipients, an address with a control character or angle bracket), MXTLS_E_NOMEM.
 */
int smtp_session_start(struct event_base *base, const struct smtp_session_req *req,
		       smtp_session_callback cb, void *arg, struct smtp_session **out);

/* Closes the connection at once; the callback is not called.  Not from inside the session's
 * own verify function or callback (the session is in use there). */
void smtp_session_cancel(struct smtp_session *s);

#endif
