/* SPDX-License-Identifier: MIT */
/* The outbound SMTP client (RFC 5321, RFC 3207, RFC 2920): one session, explicit states. */
#include "smtp/smtp_client.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include <mxtls/error.h>

#include "smtp/smtp_tls.h"
#include "util/util_buf.h"

/* Room for the largest reply the parser accepts, plus one more line in flight. */
#define SMTP_IN_MAX ((SMTP_LINE_MAX + 2) * (SMTP_REPLY_LINES_MAX + 1))
/* The longest command line sent, CRLF included (RFC 5321 §4.5.3.1.4: 512 octets); MAIL FROM
 * with a SMTP_PATH_MAX path and every parameter fits.  The output buffer's cap is this times
 * the commands that can await a reply at once (MAIL, every RCPT and DATA when pipelining), so
 * that a pipelined group never outgrows it whatever the number of recipients. */
#define SMTP_CMD_MAX 512
/* The longest address accepted in MAIL FROM / RCPT TO (RFC 5321 §4.5.3.1.3: 256 octets). */
#define SMTP_PATH_MAX 256
/* The longest EHLO name. */
#define SMTP_HELO_MAX 255
/* The most certificates handed to verify(). */
#define SMTP_CHAIN_MAX 16

enum cmd { CMD_GREETING, CMD_EHLO, CMD_HELO, CMD_STARTTLS, CMD_MAIL, CMD_RCPT, CMD_DATA,
	   CMD_DOT, CMD_RSET, CMD_QUIT };

struct pending {
	enum cmd cmd;
	size_t rcpt; /* CMD_RCPT: which recipient */
};

struct smtp_session {
	struct event_base *base;
	struct smtp_session_req req;
	smtp_session_callback cb;
	void *arg;
	int fd;
	struct event *ev_read, *ev_write, *ev_timer, *ev_done;
	bool connecting;
	bool handshaking;
	bool finished;
	struct smtp_tls *tls;
	/* Output: command text, then (after a 354) the payload, borrowed from the transaction. */
	struct util_buf out;
	size_t out_off;
	const uint8_t *seg;
	size_t seg_len, seg_off;
	/* Input: bytes read and not yet parsed into replies. */
	uint8_t *in;
	size_t in_len;
	/* Replies awaited, in order (RFC 2920 §3.1: replies come in command order). */
	struct pending *q;
	size_t qhead, qlen, qcap;
	struct smtp_ehlo ehlo;
	size_t txn;        /* the current transaction */
	size_t accepted;   /* its recipients accepted so far */
	struct smtp_session_result res;
};

void smtp_timeouts_default(struct smtp_timeouts *t)
{
	*t = (struct smtp_timeouts){
		.connect = 30000,
		.greeting = 300000,
		.ehlo = 300000,
		.starttls = 300000,
		.mail = 300000,
		.rcpt = 300000,
		.data_init = 120000,
		.data_block = 180000,
		.data_done = 600000,
		.quit = 10000,
	};
}

const char *smtp_stage_name(enum smtp_stage s)
{
	static const char *const names[] = {
		[SMTP_STAGE_CONNECT] = "connect",   [SMTP_STAGE_GREETING] = "greeting",
		[SMTP_STAGE_EHLO] = "ehlo",         [SMTP_STAGE_STARTTLS] = "starttls",
		[SMTP_STAGE_HANDSHAKE] = "handshake", [SMTP_STAGE_VERIFY] = "verify",
		[SMTP_STAGE_MAIL] = "mail",         [SMTP_STAGE_RCPT] = "rcpt",
		[SMTP_STAGE_DATA] = "data",         [SMTP_STAGE_QUIT] = "quit",
		[SMTP_STAGE_DONE] = "done",
	};
	return (unsigned)s <= SMTP_STAGE_DONE ? names[s] : "unknown";
}

/* ---- ending ---------------------------------------------------------------------------- */

static void close_connection(struct smtp_session *s)
{
	if (s->ev_read != NULL)
		event_del(s->ev_read);
	if (s->ev_write != NULL)
		event_del(s->ev_write);
	if (s->ev_timer != NULL)
		event_del(s->ev_timer);
	if (s->tls != NULL) {
		smtp_tls_close_notify(s->tls);
		smtp_tls_free(s->tls);
		s->tls = NULL;
	}
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
}

static void session_free(struct smtp_session *s)
{
	close_connection(s);
	if (s->ev_read != NULL)
		event_free(s->ev_read);
	if (s->ev_write != NULL)
		event_free(s->ev_write);
	if (s->ev_timer != NULL)
		event_free(s->ev_timer);
	if (s->ev_done != NULL)
		event_free(s->ev_done);
	util_buf_free(&s->out);
	free(s->in);
	free(s->q);
	free(s);
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct smtp_session *s = arg;
	s->cb(s->arg, &s->res);
	session_free(s);
}

/* Ends the session: records why, closes the connection, and reports from the loop. */
static void finish(struct smtp_session *s, int error, enum mxtls_result tls_result,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void finish(struct smtp_session *s, int error, enum mxtls_result tls_result,
		   const char *fmt, ...)
{
	if (s->finished)
		return;
	s->finished = true;
	s->res.error = error;
	s->res.tls_result = error == MXTLS_E_TLS ? tls_result : MXTLS_RESULT_OK;
	if (error == MXTLS_OK)
		s->res.stage = SMTP_STAGE_DONE;
	if (fmt != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(s->res.reason, sizeof s->res.reason, fmt, ap);
		va_end(ap);
	}
	close_connection(s);
	event_active(s->ev_done, EV_TIMEOUT, 0);
}

/* ---- output ---------------------------------------------------------------------------- */

static void expect(struct smtp_session *s, enum cmd cmd, size_t rcpt)
{
	/* qcap was sized for the largest pipelined group when the session started. */
	if (s->qhead + s->qlen == s->qcap) {
		memmove(s->q, s->q + s->qhead, s->qlen * sizeof *s->q);
		s->qhead = 0;
	}
	s->q[s->qhead + s->qlen++] = (struct pending){cmd, rcpt};
}

/* Queues one command line (fmt without CRLF) and the reply it awaits. */
static int command(struct smtp_session *s, enum cmd cmd, size_t rcpt, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int command(struct smtp_session *s, enum cmd cmd, size_t rcpt, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = util_buf_vappendf(&s->out, fmt, ap);
	va_end(ap);
	if (rc == MXTLS_OK)
		rc = util_buf_append(&s->out, "\r\n", 2);
	if (rc != MXTLS_OK) {
		finish(s, MXTLS_E_NOMEM, MXTLS_RESULT_OK, "cannot queue a command: %s",
		       mxtls_strerror(rc));
		return rc;
	}
	expect(s, cmd, rcpt);
	return MXTLS_OK;
}

static bool output_pending(const struct smtp_session *s)
{
	return s->out_off < s->out.len || (s->seg != NULL && s->seg_off < s->seg_len);
}

static unsigned cmd_timeout(const struct smtp_session *s, enum cmd cmd)
{
	const struct smtp_timeouts *t = &s->req.timeouts;
	switch (cmd) {
	case CMD_GREETING: return t->greeting;
	case CMD_EHLO:
	case CMD_HELO: return t->ehlo;
	case CMD_STARTTLS: return t->starttls;
	case CMD_MAIL: return t->mail;
	case CMD_RCPT: return t->rcpt;
	case CMD_DATA: return t->data_init;
	case CMD_DOT: return t->data_done;
	case CMD_RSET:
	case CMD_QUIT: return t->quit;
	}
	return t->quit;
}

/* The timer runs for whatever the session waits on now (re-armed after every step). */
static void arm_timer(struct smtp_session *s)
{
	if (s->finished)
		return;
	unsigned ms;
	if (s->connecting)
		ms = s->req.timeouts.connect;
	else if (s->handshaking)
		ms = s->req.timeouts.starttls;
	else if (s->seg != NULL && s->seg_off < s->seg_len)
		ms = s->req.timeouts.data_block;
	else if (s->qlen > 0)
		ms = cmd_timeout(s, s->q[s->qhead].cmd);
	else
		ms = s->req.timeouts.quit;
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
	evtimer_add(s->ev_timer, &tv);
}

/* Writes what is queued; returns false when the session ended. */
static bool flush(struct smtp_session *s, bool *blocked)
{
	*blocked = false;
	while (output_pending(s)) {
		const uint8_t *p;
		size_t n;
		bool in_seg = s->out_off >= s->out.len;
		if (!in_seg) {
			p = (const uint8_t *)s->out.data + s->out_off;
			n = s->out.len - s->out_off;
		} else {
			p = s->seg + s->seg_off;
			n = s->seg_len - s->seg_off;
		}
		size_t sent = 0;
		if (s->tls != NULL) {
			const char *why = NULL;
			enum smtp_io io = smtp_tls_send(s->tls, p, n, &sent, &why);
			if (io == SMTP_IO_WANT_READ || io == SMTP_IO_WANT_WRITE) {
				*blocked = true;
				return true;
			}
			if (io != SMTP_IO_DONE) {
				finish(s, MXTLS_E_IO, MXTLS_RESULT_OK, "TLS write failed: %s",
				       why != NULL ? why : "?");
				return false;
			}
		} else {
			ssize_t w = send(s->fd, p, n, MSG_NOSIGNAL);
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
				*blocked = true;
				return true;
			}
			if (w <= 0) {
				finish(s, MXTLS_E_IO, MXTLS_RESULT_OK, "write failed: %s",
				       strerror(errno));
				return false;
			}
			sent = (size_t)w;
		}
		if (!in_seg)
			s->out_off += sent;
		else
			s->seg_off += sent;
		if (in_seg)
			arm_timer(s); /* §4.5.3.2.5: the limit is per block, progress restarts it */
	}
	util_buf_reset(&s->out);
	s->out_off = 0;
	if (s->seg != NULL && s->seg_off == s->seg_len)
		s->seg = NULL;
	return true;
}

/* ---- replies --------------------------------------------------------------------------- */

static void brief_from(struct smtp_brief *b, const struct smtp_reply *r)
{
	b->code = r->code;
	b->local = false;
	snprintf(b->enhanced, sizeof b->enhanced, "%s", r->enhanced);
	size_t k = 0;
	for (size_t i = 0; i < r->text_len && k + 1 < sizeof b->text; i++)
		b->text[k++] = r->text[i] == '\n' ? ' ' : r->text[i];
	b->text[k] = '\0';
}

static void brief_local(struct smtp_brief *b, int code, const char *enhanced, const char *text)
{
	b->code = code;
	b->local = true;
	snprintf(b->enhanced, sizeof b->enhanced, "%s", enhanced);
	snprintf(b->text, sizeof b->text, "%s", text);
}

static void begin_transaction(struct smtp_session *s);

/* The current transaction ended; the next one (after RSET when the server is mid-way). */
static void end_transaction(struct smtp_session *s, bool need_rset)
{
	s->req.txns[s->txn].done = true;
	s->res.txns_done++;
	if (s->req.txn_done != NULL)
		s->req.txn_done(s->req.txn_done_arg, s->txn, s->res.tls);
	s->txn++;
	s->accepted = 0;
	if (s->txn < s->req.ntxns && need_rset) {
		s->res.stage = SMTP_STAGE_MAIL;
		command(s, CMD_RSET, 0, "RSET");
		return;
	}
	begin_transaction(s);
}

static void quit(struct smtp_session *s)
{
	s->res.stage = SMTP_STAGE_QUIT;
	command(s, CMD_QUIT, 0, "QUIT");
}

static void send_rcpt(struct smtp_session *s, size_t i)
{
	const struct smtp_txn *t = &s->req.txns[s->txn];
	command(s, CMD_RCPT, i, "RCPT TO:<%s>", t->rcpts[i]);
}

/* MAIL FROM with the parameters the message needs and the server offers. */
static void begin_transaction(struct smtp_session *s)
{
	while (s->txn < s->req.ntxns) {
		struct smtp_txn *t = &s->req.txns[s->txn];
		const char *refuse = NULL, *code = NULL;
		int rcode = 0;
		/* RFC 6531 §3.2: a message that needs SMTPUTF8 is not sent to a server without it. */
		if (t->smtputf8 && !s->ehlo.smtputf8) {
			rcode = 553, code = "5.6.7",
			refuse = "the message needs SMTPUTF8, which the server does not offer";
		} else if (t->requiretls && (!s->res.tls || !s->ehlo.requiretls)) {
			/* RFC 8689 §4.2.1: REQUIRETLS goes only to a server that offers it in its
			 * EHLO reply inside TLS; §5 of the same: 5.7.30 when none does. */
			rcode = 550, code = "5.7.30",
			refuse = s->res.tls ? "REQUIRETLS is required, and the server does not offer it"
					    : "REQUIRETLS is required, and the session is not inside TLS";
		} else if (s->ehlo.size && s->ehlo.size_max > 0 && t->info.size > s->ehlo.size_max) {
			/* RFC 1870 §6: a message larger than the announced SIZE is not sent. */
			rcode = 552, code = "5.3.4",
			refuse = "the message is larger than the server's SIZE limit";
		}
		if (refuse == NULL)
			break;
		for (size_t i = 0; i < t->nrcpts; i++)
			brief_local(&t->rcpt[i], rcode, code, refuse);
		brief_local(&t->mail, rcode, code, refuse);
		t->done = true;
		s->res.txns_done++;
		if (s->req.txn_done != NULL)
			s->req.txn_done(s->req.txn_done_arg, s->txn, s->res.tls);
		s->txn++;
	}
	if (s->txn == s->req.ntxns) {
		quit(s);
		return;
	}
	struct smtp_txn *t = &s->req.txns[s->txn];
	char params[96] = "";
	size_t k = 0;
	if (s->ehlo.size)
		k += (size_t)snprintf(params + k, sizeof params - k, " SIZE=%zu", t->info.size);
	/* RFC 6152: 8-bit content is labelled when the server can take it; when it cannot, the
	 * message goes unlabelled, as MTAs do in practice (there is no lossless downgrade here). */
	if (t->info.eightbit && s->ehlo.eightbitmime)
		k += (size_t)snprintf(params + k, sizeof params - k, " BODY=8BITMIME");
	if (t->smtputf8)
		k += (size_t)snprintf(params + k, sizeof params - k, " SMTPUTF8");
	if (t->requiretls)
		snprintf(params + k, sizeof params - k, " REQUIRETLS");
	s->res.stage = SMTP_STAGE_MAIL;
	s->accepted = 0;
	if (command(s, CMD_MAIL, 0, "MAIL FROM:<%s>%s", t->mail_from, params) != MXTLS_OK)
		return;
	if (s->ehlo.pipelining) {
		/* RFC 2920 §3.1: MAIL, RCPT and DATA may go as one group; the replies are read
		 * in order. */
		for (size_t i = 0; i < t->nrcpts; i++)
			send_rcpt(s, i);
		command(s, CMD_DATA, 0, "DATA");
	}
}

static void send_ehlo(struct smtp_session *s)
{
	s->res.stage = SMTP_STAGE_EHLO;
	command(s, CMD_EHLO, 0, "EHLO %s", s->req.helo);
}

static void start_handshake(struct smtp_session *s)
{
	const char *why = NULL;
	int rc = smtp_tls_new(s->fd, s->req.sni, &s->tls, &why);
	if (rc != MXTLS_OK) {
		finish(s, rc, MXTLS_RESULT_VALIDATION_FAILURE, "cannot set up TLS: %s",
		       why != NULL ? why : "?");
		return;
	}
	s->res.stage = SMTP_STAGE_HANDSHAKE;
	s->handshaking = true;
}

/* After the handshake: the validator's verdict, then EHLO again (RFC 3207 §4.2). */
static void after_handshake(struct smtp_session *s)
{
	s->handshaking = false;
	smtp_tls_describe(s->tls, s->res.tls_version, sizeof s->res.tls_version, s->res.tls_suite,
			  sizeof s->res.tls_suite);
	s->res.stage = SMTP_STAGE_VERIFY;
	if (s->req.verify != NULL) {
		const uint8_t *der[SMTP_CHAIN_MAX];
		size_t len[SMTP_CHAIN_MAX];
		size_t n = smtp_tls_peer_chain(s->tls, der, len, SMTP_CHAIN_MAX);
		char why[256] = "";
		enum mxtls_result r;
		if (n > SMTP_CHAIN_MAX) {
			r = MXTLS_RESULT_VALIDATION_FAILURE;
			snprintf(why, sizeof why, "the server sent %zu certificates (at most %d)",
				 n, SMTP_CHAIN_MAX);
		} else {
			r = s->req.verify(s->req.verify_arg, der, len, n, why, sizeof why);
		}
		if (r != MXTLS_RESULT_OK) {
			finish(s, MXTLS_E_TLS, r, "certificate not accepted: %s", why);
			return;
		}
	}
	s->res.tls = true;
	/* RFC 3207 §4.2: forget what the server said before TLS, ask again. */
	memset(&s->ehlo, 0, sizeof s->ehlo);
	send_ehlo(s);
}

static bool is2xx(int code)
{
	return code >= 200 && code < 300;
}

/* The first word of a greeting or EHLO reply: the server's name (RFC 5321 §4.2: "220 "
 * domain, "250 " domain).  Kept only when it is printable ASCII without space; else "". */
static void take_server_name(struct smtp_session *s, const struct smtp_reply *r)
{
	const char *t = r->text != NULL ? r->text : "";
	size_t n = 0;
	while (t[n] > ' ' && t[n] < 0x7f && n + 1 < sizeof s->res.server_name)
		n++;
	if (t[n] != '\0' && t[n] != ' ' && t[n] != '\n')
		n = 0; /* a control byte, or longer than a name can be */
	memcpy(s->res.server_name, t, n);
	s->res.server_name[n] = '\0';
}

/* Our address on the connection (RFC 8460 §4.4 sending-mta-ip). */
static void take_local_ip(struct smtp_session *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getsockname(s->fd, (struct sockaddr *)&ss, &len) != 0)
		return;
	const void *a = ss.ss_family == AF_INET6
				? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
				: (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
	if (inet_ntop(ss.ss_family, a, s->res.local_ip, sizeof s->res.local_ip) == NULL)
		s->res.local_ip[0] = '\0';
}

static void on_ehlo(struct smtp_session *s, const struct smtp_reply *r)
{
	if (!is2xx(r->code)) {
		if (s->tls == NULL && s->req.tls != SMTP_TLS_REQUIRED) {
			/* RFC 5321 §3.2: a server that does not know EHLO gets HELO; never when TLS
			 * is required, since HELO cannot offer STARTTLS. */
			s->res.used_helo = true;
			command(s, CMD_HELO, 0, "HELO %s", s->req.helo);
			return;
		}
		if (s->tls == NULL)
			finish(s, MXTLS_E_TLS, MXTLS_RESULT_STARTTLS_NOT_SUPPORTED,
			       "EHLO refused (%d), so no STARTTLS, and TLS is required", r->code);
		else
			finish(s, MXTLS_E_TEMPFAIL, MXTLS_RESULT_OK, "EHLO refused after TLS: %d %s",
			       r->code, s->res.last.text);
		return;
	}
	smtp_ehlo_parse(r, &s->ehlo);
	if (s->tls == NULL) {
		take_server_name(s, r);
		s->res.starttls_offered = s->ehlo.starttls;
		if (s->req.tls != SMTP_TLS_NONE && s->ehlo.starttls) {
			s->res.stage = SMTP_STAGE_STARTTLS;
			command(s, CMD_STARTTLS, 0, "STARTTLS");
			return;
		}
		if (s->req.tls == SMTP_TLS_REQUIRED) {
			/* Nothing but QUIT follows in cleartext (RFC 7672 §2.2, RFC 8461 §5). */
			finish(s, MXTLS_E_TLS, MXTLS_RESULT_STARTTLS_NOT_SUPPORTED,
			       "the server does not offer STARTTLS, and TLS is required");
			return;
		}
	}
	begin_transaction(s);
}

static void on_starttls(struct smtp_session *s, const struct smtp_reply *r)
{
	if (r->code == 220) {
		/* RFC 3207 §5 (and CVE-2011-0411): bytes after the 220 came in cleartext and
		 * must not be taken as if they were part of the TLS session. */
		if (s->in_len > 0) {
			finish(s, MXTLS_E_SYNTAX, MXTLS_RESULT_OK,
			       "the server sent %zu bytes after its 220 to STARTTLS", s->in_len);
			return;
		}
		/* Nor is a 220 that came before STARTTLS itself went out (it arrived in the
		 * same read as the EHLO reply): it answers nothing. */
		if (output_pending(s)) {
			finish(s, MXTLS_E_SYNTAX, MXTLS_RESULT_OK,
			       "the server sent its 220 to STARTTLS before the command");
			return;
		}
		start_handshake(s);
		return;
	}
	if (s->req.tls == SMTP_TLS_REQUIRED) {
		finish(s, MXTLS_E_TLS, MXTLS_RESULT_STARTTLS_NOT_SUPPORTED,
		       "STARTTLS refused: %d %s", r->code, s->res.last.text);
		return;
	}
	begin_transaction(s); /* opportunistic: on in cleartext */
}

static void on_txn_reply(struct smtp_session *s, const struct pending *p,
			 const struct smtp_reply *r)
{
	struct smtp_txn *t = &s->req.txns[s->txn];
	bool piped = s->ehlo.pipelining;
	switch (p->cmd) {
	case CMD_MAIL:
		brief_from(&t->mail, r);
		if (is2xx(r->code)) {
			s->res.stage = SMTP_STAGE_RCPT;
			if (!piped)
				send_rcpt(s, 0);
			return;
		}
		/* Every recipient shares the MAIL refusal. */
		for (size_t i = 0; i < t->nrcpts; i++)
			t->rcpt[i] = t->mail;
		if (!piped)
			end_transaction(s, true);
		return; /* pipelined: the RCPT and DATA replies still come, and are skipped */
	case CMD_RCPT:
		if (!is2xx(t->mail.code))
			return;
		brief_from(&t->rcpt[p->rcpt], r);
		if (is2xx(r->code))
			s->accepted++;
		if (piped) {
			if (p->rcpt + 1 == t->nrcpts)
				s->res.stage = SMTP_STAGE_DATA; /* DATA's reply is next */
			return;
		}
		if (p->rcpt + 1 < t->nrcpts) {
			send_rcpt(s, p->rcpt + 1);
		} else if (s->accepted > 0) {
			s->res.stage = SMTP_STAGE_DATA;
			command(s, CMD_DATA, 0, "DATA");
		} else {
			end_transaction(s, true);
		}
		return;
	case CMD_DATA:
		if (r->code == 354) {
			if (s->accepted == 0) {
				/* RFC 2920 §3.1: DATA was accepted though no recipient was; end it
				 * with an empty message, which the server must refuse. */
				command(s, CMD_DOT, 0, ".");
				return;
			}
			s->res.stage = SMTP_STAGE_DATA;
			s->seg = (const uint8_t *)t->payload->data;
			s->seg_len = t->payload->len;
			s->seg_off = 0;
			expect(s, CMD_DOT, 0);
			return;
		}
		if (is2xx(r->code)) {
			/* RFC 5321 §4.3.2: DATA gets 354 or a failure.  A 2xx here would record a
			 * message that was never sent as accepted. */
			finish(s, MXTLS_E_SYNTAX, MXTLS_RESULT_OK, "DATA answered %d, not 354",
			       r->code);
			return;
		}
		if (s->accepted > 0)
			brief_from(&t->data, r);
		end_transaction(s, true);
		return;
	case CMD_DOT:
		if (s->accepted > 0)
			brief_from(&t->data, r);
		end_transaction(s, false);
		return;
	default:
		return;
	}
}

static void on_reply(struct smtp_session *s, const struct smtp_reply *r)
{
	brief_from(&s->res.last, r);
	if (s->seg != NULL && s->seg_off < s->seg_len) {
		/* RFC 5321 §4.1.1.4: the reply to "." follows the whole message.  One that comes
		 * while the payload is still going out answers nothing, and acting on it would
		 * put the next command in the middle of the message. */
		finish(s, MXTLS_E_SYNTAX, MXTLS_RESULT_OK,
		       "reply %d before the end of the message data", r->code);
		return;
	}
	if (s->qlen == 0) {
		finish(s, MXTLS_E_SYNTAX, MXTLS_RESULT_OK, "unexpected reply %d from the server",
		       r->code);
		return;
	}
	struct pending p = s->q[s->qhead];
	s->qhead++;
	s->qlen--;
	if (s->qlen == 0)
		s->qhead = 0;
	switch (p.cmd) {
	case CMD_GREETING:
		if (r->code != 220) {
			/* RFC 5321 §3.1: 554 means "no service here"; we QUIT and try elsewhere. */
			finish(s, MXTLS_E_TEMPFAIL, MXTLS_RESULT_OK, "greeting refused: %d %s",
			       r->code, s->res.last.text);
			return;
		}
		take_server_name(s, r);
		send_ehlo(s);
		return;
	case CMD_EHLO:
		on_ehlo(s, r);
		return;
	case CMD_HELO:
		if (!is2xx(r->code)) {
			finish(s, MXTLS_E_TEMPFAIL, MXTLS_RESULT_OK, "HELO refused: %d %s", r->code,
			       s->res.last.text);
			return;
		}
		begin_transaction(s);
		return;
	case CMD_STARTTLS:
		on_starttls(s, r);
		return;
	case CMD_RSET:
		begin_transaction(s);
		return;
	case CMD_QUIT:
		finish(s, MXTLS_OK, MXTLS_RESULT_OK, "done");
		return;
	default:
		on_txn_reply(s, &p, r);
		return;
	}
}

/* Parses every complete reply in the input; returns false when the session ended. */
static bool parse_input(struct smtp_session *s)
{
	while (s->in_len > 0 && !s->finished && !s->handshaking) {
		struct smtp_reply r = {0};
		size_t used = 0;
		const char *why = NULL;
		enum smtp_parse pr = smtp_reply_parse(s->in, s->in_len, &r, &used, &why);
		if (pr == SMTP_PARSE_MORE) {
			if (s->in_len >= SMTP_IN_MAX)
				finish(s, MXTLS_E_SYNTAX, MXTLS_RESULT_OK, "reply too long");
			break;
		}
		if (pr != SMTP_PARSE_DONE) {
			finish(s, pr == SMTP_PARSE_NOMEM ? MXTLS_E_NOMEM : MXTLS_E_SYNTAX,
			       MXTLS_RESULT_OK, "not an SMTP reply: %s", why != NULL ? why : "?");
			break;
		}
		memmove(s->in, s->in + used, s->in_len - used);
		s->in_len -= used;
		on_reply(s, &r);
		smtp_reply_clear(&r);
	}
	return !s->finished;
}

/* Reads once; returns false when the session ended. */
static bool read_some(struct smtp_session *s, bool *blocked)
{
	*blocked = false;
	size_t room = SMTP_IN_MAX - s->in_len;
	if (room == 0)
		return parse_input(s);
	size_t got = 0;
	if (s->tls != NULL) {
		const char *why = NULL;
		enum smtp_io io = smtp_tls_recv(s->tls, s->in + s->in_len, room, &got, &why);
		if (io == SMTP_IO_WANT_READ || io == SMTP_IO_WANT_WRITE) {
			*blocked = true;
			return true;
		}
		if (io != SMTP_IO_DONE) {
			if (s->res.stage == SMTP_STAGE_QUIT)
				finish(s, MXTLS_OK, MXTLS_RESULT_OK, "done (closed after QUIT)");
			else
				finish(s, MXTLS_E_IO, MXTLS_RESULT_OK, "%s",
				       why != NULL ? why : "TLS read failed");
			return false;
		}
	} else {
		ssize_t n = recv(s->fd, s->in + s->in_len, room, 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			*blocked = true;
			return true;
		}
		if (n <= 0) {
			if (s->res.stage == SMTP_STAGE_QUIT)
				finish(s, MXTLS_OK, MXTLS_RESULT_OK, "done (closed after QUIT)");
			else
				finish(s, MXTLS_E_IO, MXTLS_RESULT_OK, "%s",
				       n == 0 ? "connection closed by the server" : strerror(errno));
			return false;
		}
		got = (size_t)n;
	}
	s->in_len += got;
	return parse_input(s);
}

/* ---- the loop -------------------------------------------------------------------------- */

static void pump(struct smtp_session *s)
{
	for (int guard = 0; guard < 10000 && !s->finished; guard++) {
		bool want_write = false;
		if (s->handshaking) {
			const char *why = NULL;
			enum smtp_io io = smtp_tls_handshake(s->tls, &why);
			if (io == SMTP_IO_WANT_READ || io == SMTP_IO_WANT_WRITE) {
				want_write = io == SMTP_IO_WANT_WRITE;
				if (want_write)
					event_add(s->ev_write, NULL);
				else
					event_del(s->ev_write);
				return;
			}
			if (io != SMTP_IO_DONE) {
				finish(s, MXTLS_E_TLS, MXTLS_RESULT_VALIDATION_FAILURE,
				       "TLS handshake failed: %s", why != NULL ? why : "?");
				return;
			}
			after_handshake(s);
			arm_timer(s);
			continue;
		}
		bool wblocked = false, rblocked = false;
		if (!flush(s, &wblocked))
			return;
		size_t before = s->qlen + s->out.len;
		bool was_handshaking = s->handshaking;
		if (!read_some(s, &rblocked))
			return;
		bool progressed = s->qlen + s->out.len != before || s->handshaking != was_handshaking;
		if (progressed)
			arm_timer(s);
		if (s->handshaking || (output_pending(s) && !wblocked))
			continue;
		if (!rblocked)
			continue; /* GnuTLS may hold more records than the socket shows */
		if (output_pending(s))
			event_add(s->ev_write, NULL);
		else
			event_del(s->ev_write);
		return;
	}
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct smtp_session *s = arg;
	if (s->connecting) {
		int err = 0;
		socklen_t len = sizeof err;
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err == EINPROGRESS)
			return;
		if (err != 0) {
			finish(s, MXTLS_E_IO, MXTLS_RESULT_OK, "connect: %s", strerror(err));
			return;
		}
		s->connecting = false;
		s->res.connected = true;
		take_local_ip(s);
		s->res.stage = SMTP_STAGE_GREETING;
		event_add(s->ev_read, NULL);
		event_del(s->ev_write);
		expect(s, CMD_GREETING, 0);
		arm_timer(s);
	}
	pump(s);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct smtp_session *s = arg;
	if (s->res.stage == SMTP_STAGE_QUIT) {
		finish(s, MXTLS_OK, MXTLS_RESULT_OK, "done (no reply to QUIT)");
		return;
	}
	finish(s, MXTLS_E_TIMEOUT, MXTLS_RESULT_OK, "timed out in %s",
	       smtp_stage_name(s->res.stage));
}

/* ---- start ----------------------------------------------------------------------------- */

/* An address or name we would put on a command line: printable, no space, no <>. */
static bool word_ok(const char *p, size_t max, bool empty_ok)
{
	if (p == NULL)
		return false;
	size_t n = strlen(p);
	if (n > max || (n == 0 && !empty_ok))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c <= 0x20 || c == 0x7f || c == '<' || c == '>')
			return false;
	}
	return true;
}

bool smtp_path_ok(const char *path, bool empty_ok)
{
	return word_ok(path, SMTP_PATH_MAX, empty_ok);
}

bool smtp_helo_ok(const char *name)
{
	return word_ok(name, SMTP_HELO_MAX, false);
}

static bool req_ok(const struct smtp_session_req *req)
{
	if ((req->ntxns > 0 && req->txns == NULL) || !smtp_helo_ok(req->helo))
		return false;
	if (req->family != AF_INET && req->family != AF_INET6)
		return false;
	for (size_t i = 0; i < req->ntxns; i++) {
		const struct smtp_txn *t = &req->txns[i];
		if (t->nrcpts == 0 || t->rcpt == NULL || t->payload == NULL ||
		    !smtp_path_ok(t->mail_from, true))
			return false;
		for (size_t k = 0; k < t->nrcpts; k++)
			if (!smtp_path_ok(t->rcpts[k], false))
				return false;
	}
	return true;
}

int smtp_session_start(struct event_base *base, const struct smtp_session_req *req,
		       smtp_session_callback cb, void *arg, struct smtp_session **out)
{
	if (base == NULL || req == NULL || cb == NULL || !req_ok(req))
		return MXTLS_E_INVAL;
	struct smtp_session *s = calloc(1, sizeof *s);
	if (s == NULL)
		return MXTLS_E_NOMEM;
	s->fd = -1;
	s->base = base;
	s->req = *req;
	s->cb = cb;
	s->arg = arg;
	size_t most = 0;
	for (size_t i = 0; i < req->ntxns; i++) {
		req->txns[i].done = false;
		req->txns[i].mail = (struct smtp_brief){0};
		req->txns[i].data = (struct smtp_brief){0};
		for (size_t k = 0; k < req->txns[i].nrcpts; k++)
			req->txns[i].rcpt[k] = (struct smtp_brief){0};
		if (req->txns[i].nrcpts > most)
			most = req->txns[i].nrcpts;
	}
	s->qcap = most + 8;
	util_buf_init(&s->out, s->qcap * SMTP_CMD_MAX);
	s->q = calloc(s->qcap, sizeof *s->q);
	s->in = malloc(SMTP_IN_MAX);
	s->ev_timer = evtimer_new(base, on_timeout, s);
	s->ev_done = event_new(base, -1, 0, on_done, s);
	if (s->q == NULL || s->in == NULL || s->ev_timer == NULL || s->ev_done == NULL)
		goto nomem;

	struct sockaddr_storage ss = {0};
	socklen_t sslen;
	uint16_t port = req->port != 0 ? req->port : 25;
	if (req->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, req->addr, 4);
		sslen = sizeof *sin;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, req->addr, 16);
		sslen = sizeof *sin6;
	}
	s->res.stage = SMTP_STAGE_CONNECT;
	s->fd = socket(req->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		finish(s, MXTLS_E_IO, MXTLS_RESULT_OK, "socket: %s", strerror(errno));
	} else {
		/* Commands go out in whole groups, one write each; Nagle would only hold EHLO back
		 * behind the unacknowledged TLS Finished (about 40 ms per connection). */
		int one = 1;
		(void)setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		s->ev_read = event_new(base, s->fd, EV_READ | EV_PERSIST, on_io, s);
		s->ev_write = event_new(base, s->fd, EV_WRITE | EV_PERSIST, on_io, s);
		if (s->ev_read == NULL || s->ev_write == NULL)
			goto nomem;
		if (connect(s->fd, (struct sockaddr *)&ss, sslen) < 0 && errno != EINPROGRESS) {
			finish(s, MXTLS_E_IO, MXTLS_RESULT_OK, "connect: %s", strerror(errno));
		} else {
			s->connecting = true;
			event_add(s->ev_write, NULL);
			arm_timer(s);
		}
	}
	if (out != NULL)
		*out = s;
	return MXTLS_OK;
nomem:
	session_free(s);
	return MXTLS_E_NOMEM;
}

void smtp_session_cancel(struct smtp_session *s)
{
	if (s != NULL)
		session_free(s);
}
