/* SPDX-License-Identifier: MIT */
/* Unit tests for smtp/smtp_client.c: whole sessions against a scripted fake server on loopback. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <mxtls/error.h>
#include <mxtls/result.h>

#include "smtp/smtp_client.h"
#include "smtp/smtp_data.h"
#include "test_main.h"
#include "util/util_buf.h"

/*
 * The fake server runs in its own thread with blocking sockets and follows a script: send
 * these bytes, read up to that line, do a TLS handshake, ...  It never answers before it has
 * read what the script says comes first, so a client that sends too little waits (and the test
 * fails on a time limit) and one that sends too much is caught in the transcript: every byte the
 * server received, split into what came in cleartext and what came inside TLS.  The client runs
 * on a libevent loop in the test's own thread.  Nothing but 127.0.0.1 is used (meson runs this
 * binary in a network namespace of its own, through tests/net/run-with-dns.sh).
 */

/* How long the fake server waits for the client at any step before it gives up. */
#define SRV_WAIT_MS 6000
/* The client's time limits, unless a scenario shortens one. */
#define CLIENT_WAIT_MS 4000
/* A session that has not ended after this long has hung: the test fails. */
#define WATCHDOG_MS 20000
/* The most the fake server keeps of what it received. */
#define SRV_RX_MAX (64u << 20)

/* ---- the fake server ------------------------------------------------------------------- */

enum op {
	OP_END = 0,
	OP_SEND,     /* send arg (len bytes; 0: strlen) in one write */
	OP_LINE,     /* read up to and including the next CRLF */
	OP_UNTIL,    /* read up to and including the next arg */
	OP_SOME,     /* read at least one byte; consume what has arrived */
	OP_REPEAT,   /* send arg len times, in one write */
	OP_FILL,     /* send arg and then len bytes of 'x', in one write */
	OP_LINES,    /* send len lines of arg and 'x' up to SMTP_LINE_MAX, CRLF, in one write */
	OP_TLS,      /* the server side of a TLS handshake (arg: a GnuTLS priority string, NULL: the
		      * default); what follows goes inside TLS */
	OP_TLS_FAIL, /* the same, and it must fail */
	OP_CLOSE,    /* close the connection (FIN) */
	OP_RESET,    /* abort the connection (RST) */
	OP_EOF,      /* read until the client closes */
	OP_SIGNAL,   /* write a byte to the test's pipe */
	OP_WAIT,     /* wait until the test says go (after its event loop has ended) */
};

struct step {
	enum op op;
	const char *arg;
	size_t len;
};

struct fake {
	const struct step *script;
	size_t nsteps;
	int lfd, fd;
	int sig[2]; /* OP_SIGNAL: server → test */
	int go[2];  /* OP_WAIT: test → server */
	uint16_t port;
	pthread_t thread;
	gnutls_session_t tls;
	struct util_buf in;           /* every byte received (cleartext, then decrypted) */
	size_t in_off;                /* consumed by the script so far */
	struct util_buf plain, crypt; /* what came in cleartext, what came inside TLS */
	/* What happened. */
	size_t steps; /* steps completed */
	bool accepted, eof, timed_out, send_failed, handshake_ok;
	int handshake_rc;
	char sni[256];
	char version[32];
};

/* The server's certificate: self-signed EC P-256, made once at suite start. */
static gnutls_certificate_credentials_t srv_cred;
static gnutls_datum_t srv_der;

static void make_certificate(void)
{
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	ck_assert_int_eq(gnutls_x509_privkey_init(&key), 0);
	ck_assert_int_eq(
		gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					     GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
		0);
	ck_assert_int_eq(gnutls_x509_crt_init(&crt), 0);
	static const unsigned char serial[] = {0x4d, 0x58, 0x54, 0x4c, 0x53};
	const char *name = "mx.example.test";
	ck_assert_int_eq(gnutls_x509_crt_set_version(crt, 3), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_serial(crt, serial, sizeof serial), 0);
	/* Fixed dates: nothing checks them here (the client leaves that to verify()). */
	ck_assert_int_eq(gnutls_x509_crt_set_activation_time(crt, 1704067200), 0); /* 2024-01-01 */
	ck_assert_int_eq(gnutls_x509_crt_set_expiration_time(crt, 2524608000), 0); /* 2050-01-01 */
	ck_assert_int_eq(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, name,
						       (unsigned)strlen(name)),
			 0);
	ck_assert_int_eq(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, name,
							      (unsigned)strlen(name),
							      GNUTLS_FSAN_SET),
			 0);
	ck_assert_int_eq(gnutls_x509_crt_set_key(crt, key), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE), 0);
	ck_assert_int_eq(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);
	ck_assert_int_eq(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &srv_der), 0);
	ck_assert_int_eq(gnutls_certificate_allocate_credentials(&srv_cred), 0);
	ck_assert_int_eq(gnutls_certificate_set_x509_key(srv_cred, &crt, 1, key), 0);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
}

static void free_certificate(void)
{
	gnutls_certificate_free_credentials(srv_cred);
	gnutls_free(srv_der.data);
	srv_cred = NULL;
	srv_der = (gnutls_datum_t){NULL, 0};
}

/* Reads once; returns the byte count, 0 at the end, -1 on a time-out or error. */
static ssize_t srv_recv(struct fake *f)
{
	uint8_t tmp[16384];
	ssize_t n;
	for (;;) {
		if (f->fd < 0)
			return 0;
		if (f->tls != NULL) {
			n = gnutls_record_recv(f->tls, tmp, sizeof tmp);
			if (n == GNUTLS_E_INTERRUPTED)
				continue;
			if (n == GNUTLS_E_AGAIN) {
				f->timed_out = true;
				return -1;
			}
			if (n < 0) { /* reset, premature end, alert: the client is gone */
				f->eof = true;
				return 0;
			}
		} else {
			n = recv(f->fd, tmp, sizeof tmp, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				f->timed_out = true;
				return -1;
			}
			if (n < 0)
				n = 0; /* ECONNRESET: as good as an end */
		}
		break;
	}
	if (n == 0) {
		f->eof = true;
		return 0;
	}
	struct util_buf *rec = f->tls != NULL ? &f->crypt : &f->plain;
	if (util_buf_append(&f->in, tmp, (size_t)n) != MXTLS_OK ||
	    util_buf_append(rec, tmp, (size_t)n) != MXTLS_OK)
		return -1;
	return n;
}

/* Sends everything; a failure is recorded, not fatal (the client may have hung up first). */
static void srv_send(struct fake *f, const void *p, size_t len)
{
	const uint8_t *b = p;
	while (len > 0 && f->fd >= 0 && !f->send_failed) {
		ssize_t n;
		if (f->tls != NULL) {
			n = gnutls_record_send(f->tls, b, len);
			if (n == GNUTLS_E_INTERRUPTED)
				continue;
		} else {
			n = send(f->fd, b, len, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
		}
		if (n <= 0) {
			f->send_failed = true;
			return;
		}
		b += n;
		len -= (size_t)n;
	}
}

/* Reads until pat has arrived and consumes through it. */
static bool srv_until(struct fake *f, const char *pat)
{
	size_t plen = strlen(pat);
	size_t from = f->in_off;
	for (;;) {
		if (f->in.len >= from + plen) {
			const char *hit = memmem(f->in.data + from, f->in.len - from, pat, plen);
			if (hit != NULL) {
				f->in_off = (size_t)(hit - f->in.data) + plen;
				return true;
			}
			from = f->in.len - plen + 1;
		}
		if (srv_recv(f) <= 0)
			return false;
	}
}

/* Returns false when the handshake could not even be tried (*tried false) or failed. */
static bool srv_handshake(struct fake *f, const char *priority, bool *tried)
{
	*tried = false;
	if (gnutls_init(&f->tls, GNUTLS_SERVER | GNUTLS_NO_SIGNAL) < 0) {
		f->tls = NULL;
		return false;
	}
	int rc = priority != NULL ? gnutls_priority_set_direct(f->tls, priority, NULL)
				  : gnutls_set_default_priority(f->tls);
	if (rc < 0 || gnutls_credentials_set(f->tls, GNUTLS_CRD_CERTIFICATE, srv_cred) < 0)
		return false;
	*tried = true;
	gnutls_transport_set_int(f->tls, f->fd);
	do
		rc = gnutls_handshake(f->tls);
	while (rc == GNUTLS_E_INTERRUPTED);
	f->handshake_rc = rc;
	if (rc == GNUTLS_E_AGAIN)
		f->timed_out = true;
	if (rc < 0)
		return false;
	f->handshake_ok = true;
	size_t n = sizeof f->sni - 1;
	unsigned type = 0;
	if (gnutls_server_name_get(f->tls, f->sni, &n, &type, 0) < 0 || type != GNUTLS_NAME_DNS)
		f->sni[0] = '\0';
	const char *v = gnutls_protocol_get_name(gnutls_protocol_get_version(f->tls));
	snprintf(f->version, sizeof f->version, "%s", v != NULL ? v : "");
	return true;
}

static void srv_drop(struct fake *f)
{
	if (f->tls != NULL)
		gnutls_deinit(f->tls);
	f->tls = NULL;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

static bool srv_step(struct fake *f, const struct step *st)
{
	switch (st->op) {
	case OP_SEND:
		srv_send(f, st->arg, st->len != 0 ? st->len : strlen(st->arg));
		return true;
	case OP_REPEAT:
	case OP_LINES:
	case OP_FILL: {
		size_t alen = strlen(st->arg);
		size_t total = st->op == OP_REPEAT  ? alen * st->len
			       : st->op == OP_LINES ? (SMTP_LINE_MAX + 2) * st->len
						    : alen + st->len;
		char *b = malloc(total);
		if (b == NULL)
			return false;
		if (st->op == OP_REPEAT) {
			for (size_t i = 0; i < st->len; i++)
				memcpy(b + i * alen, st->arg, alen);
		} else if (st->op == OP_LINES) {
			for (size_t i = 0; i < st->len; i++) {
				char *line = b + i * (SMTP_LINE_MAX + 2);
				memset(line, 'x', SMTP_LINE_MAX);
				memcpy(line, st->arg, alen);
				memcpy(line + SMTP_LINE_MAX, "\r\n", 2);
			}
		} else {
			memcpy(b, st->arg, alen);
			memset(b + alen, 'x', st->len);
		}
		srv_send(f, b, total);
		free(b);
		return true;
	}
	case OP_LINE:
		return srv_until(f, "\r\n");
	case OP_UNTIL:
		return srv_until(f, st->arg);
	case OP_SOME:
		if (f->in_off == f->in.len && srv_recv(f) <= 0)
			return false;
		f->in_off = f->in.len;
		return true;
	case OP_TLS:
	case OP_TLS_FAIL: {
		if (f->in_off != f->in.len)
			return false;
		bool tried;
		bool ok = srv_handshake(f, st->arg, &tried);
		if (st->op == OP_TLS)
			return ok;
		srv_drop(f); /* a failed session is no use */
		if (getenv("MXTLS_TEST_DEBUG") != NULL)
			fprintf(stderr, "server handshake: %s\n", gnutls_strerror(f->handshake_rc));
		return tried && !ok && !f->timed_out;
	}
	case OP_CLOSE:
		srv_drop(f);
		return true;
	case OP_RESET: {
		struct linger lg = {1, 0};
		setsockopt(f->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		srv_drop(f);
		return true;
	}
	case OP_EOF:
		while (srv_recv(f) > 0)
			;
		f->in_off = f->in.len;
		return !f->timed_out;
	case OP_SIGNAL:
		return write(f->sig[1], "!", 1) == 1;
	case OP_WAIT: {
		struct pollfd p = {f->go[0], POLLIN, 0};
		char c;
		return poll(&p, 1, WATCHDOG_MS + SRV_WAIT_MS) == 1 && read(f->go[0], &c, 1) == 1;
	}
	case OP_END:
		break;
	}
	return false;
}

static void *srv_main(void *arg)
{
	struct fake *f = arg;
	struct pollfd p = {f->lfd, POLLIN, 0};
	if (poll(&p, 1, SRV_WAIT_MS) != 1)
		return NULL;
	f->fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (f->fd < 0)
		return NULL;
	f->accepted = true;
	struct timeval tv = {SRV_WAIT_MS / 1000, 0};
	setsockopt(f->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(f->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	for (const struct step *st = f->script; st->op != OP_END; st++) {
		if (!srv_step(f, st))
			break;
		f->steps++;
	}
	srv_drop(f);
	return NULL;
}

/* Listens on 127.0.0.1, an ephemeral port, and runs script in a thread.  rcvbuf > 0 shrinks
 * the receive buffer (so that a large payload blocks the client). */
static void fake_start(struct fake *f, const struct step *script, int rcvbuf)
{
	memset(f, 0, sizeof *f);
	f->script = script;
	while (script[f->nsteps].op != OP_END)
		f->nsteps++;
	f->fd = -1;
	util_buf_init(&f->in, SRV_RX_MAX);
	util_buf_init(&f->plain, SRV_RX_MAX);
	util_buf_init(&f->crypt, SRV_RX_MAX);
	ck_assert_int_eq(pipe2(f->sig, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(f->go, O_CLOEXEC), 0);
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(f->lfd, 0);
	if (rcvbuf > 0)
		ck_assert_int_eq(setsockopt(f->lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf),
				 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(listen(f->lfd, 4), 0);
	socklen_t len = sizeof sin;
	ck_assert_int_eq(getsockname(f->lfd, (struct sockaddr *)&sin, &len), 0);
	f->port = ntohs(sin.sin_port);
	ck_assert_int_eq(pthread_create(&f->thread, NULL, srv_main, f), 0);
}

/* Lets an OP_WAIT go on, stops a server still waiting to accept, and waits for the thread. */
static void fake_join(struct fake *f)
{
	ck_assert_int_eq(write(f->go[1], "!", 1), 1);
	shutdown(f->lfd, SHUT_RDWR);
	ck_assert_int_eq(pthread_join(f->thread, NULL), 0);
	close(f->lfd);
	close(f->sig[0]);
	close(f->sig[1]);
	close(f->go[0]);
	close(f->go[1]);
}

static void fake_free(struct fake *f)
{
	util_buf_free(&f->in);
	util_buf_free(&f->plain);
	util_buf_free(&f->crypt);
}

/* ---- the client side -------------------------------------------------------------------- */

struct harness {
	struct event_base *base;
	struct event *watchdog;
	struct smtp_session *session;
	int calls;
	bool hung;
	struct smtp_session_result res;
	/* verify() */
	enum mxtls_result verdict;
	int verify_calls;
	size_t chain_len;
	bool leaf_matches;
	bool break_in_verify; /* stop the loop from inside verify() */
};

static void on_session(void *arg, const struct smtp_session_result *res)
{
	struct harness *h = arg;
	h->calls++;
	h->res = *res;
	event_del(h->watchdog);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct harness *h = arg;
	h->hung = true;
	event_base_loopbreak(h->base);
}

/* The validator's stand-in: records what it saw, answers h->verdict. */
static enum mxtls_result on_verify(void *arg, const uint8_t *const *der, const size_t *len,
				   size_t n, char *why, size_t whylen)
{
	struct harness *h = arg;
	h->verify_calls++;
	h->chain_len = n;
	h->leaf_matches =
		n >= 1 && len[0] == srv_der.size && memcmp(der[0], srv_der.data, srv_der.size) == 0;
	if (h->verdict != MXTLS_RESULT_OK)
		snprintf(why, whylen, "the test says %s", mxtls_result_name(h->verdict));
	if (h->break_in_verify)
		event_base_loopbreak(h->base);
	return h->verdict;
}

static void harness_init(struct harness *h)
{
	memset(h, 0, sizeof *h);
	h->base = event_base_new();
	ck_assert_ptr_nonnull(h->base);
	h->watchdog = evtimer_new(h->base, on_watchdog, h);
	ck_assert_ptr_nonnull(h->watchdog);
	struct timeval tv = {WATCHDOG_MS / 1000, 0};
	evtimer_add(h->watchdog, &tv);
}

/* Runs the loop until nothing is left in it: the session must not leave an event behind. */
static void harness_run(struct harness *h)
{
	ck_assert_int_ge(event_base_dispatch(h->base), 0);
	ck_assert_msg(!h->hung, "the session hung (no callback after %d ms)", WATCHDOG_MS);
}

static void harness_free(struct harness *h)
{
	event_free(h->watchdog);
	event_base_free(h->base);
}

#define MAX_TXNS  2
#define MAX_RCPTS 4

struct mails {
	struct util_buf payload[MAX_TXNS];
	struct smtp_brief rcpt[MAX_TXNS][MAX_RCPTS];
	struct smtp_txn txn[MAX_TXNS];
	size_t n;
};

static void mails_add(struct mails *m, const char *from, const char *const *rcpts, size_t nrcpts,
		      const unsigned char *msg, size_t len, bool smtputf8)
{
	ck_assert_uint_lt(m->n, MAX_TXNS);
	size_t i = m->n++;
	util_buf_init(&m->payload[i], 64u << 20);
	struct smtp_txn *t = &m->txn[i];
	memset(t, 0, sizeof *t);
	ck_assert_int_eq(smtp_data_encode(msg, len, &m->payload[i], &t->info), MXTLS_OK);
	t->mail_from = from;
	t->rcpts = rcpts;
	t->nrcpts = nrcpts;
	t->payload = &m->payload[i];
	t->smtputf8 = smtputf8;
	t->rcpt = m->rcpt[i];
}

static void mails_free(struct mails *m)
{
	for (size_t i = 0; i < m->n; i++)
		util_buf_free(&m->payload[i]);
}

static void req_init(struct smtp_session_req *req, const struct fake *f, enum smtp_tls_mode mode,
		     struct mails *m, struct harness *h)
{
	memset(req, 0, sizeof *req);
	req->family = AF_INET;
	const uint8_t lo[4] = {127, 0, 0, 1};
	memcpy(req->addr, lo, sizeof lo);
	req->port = f != NULL ? f->port : 25;
	req->helo = "client.test";
	req->tls = mode;
	req->sni = "mx.example.test";
	req->verify = on_verify;
	req->verify_arg = h;
	struct smtp_timeouts *t = &req->timeouts;
	t->connect = t->greeting = t->ehlo = t->starttls = t->mail = t->rcpt = CLIENT_WAIT_MS;
	t->data_init = t->data_block = t->data_done = t->quit = CLIENT_WAIT_MS;
	req->txns = m->txn;
	req->ntxns = m->n;
}

/* Shows bytes with escapes, for failure messages (static buffer, truncated). */
static const char *esc(const char *p, size_t n)
{
	static char out[2][1200];
	static int which;
	char *o = out[which ^= 1];
	size_t k = 0;
	for (size_t i = 0; i < n && k + 8 < sizeof out[0]; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\r')
			k += (size_t)sprintf(o + k, "\\r");
		else if (c == '\n')
			k += (size_t)sprintf(o + k, "\\n");
		else if (c < 0x20 || c >= 0x7f || c == '\\')
			k += (size_t)sprintf(o + k, "\\x%02x", c);
		else
			o[k++] = (char)c;
	}
	if (k + 8 >= sizeof out[0])
		k += (size_t)sprintf(o + k, "...");
	o[k] = '\0';
	return o;
}

/* What the server received equals want (a prefix of it with prefix; a trailing QUIT may be
 * left off with quit_ok). */
static void expect_rx(const char *name, const char *what, const struct util_buf *got,
		      const char *want, bool prefix, bool quit_ok)
{
	const char *g = got->data != NULL ? got->data : "";
	size_t glen = got->len, wlen = strlen(want);
	if (quit_ok && glen >= wlen + 6 && memcmp(g + glen - 6, "QUIT\r\n", 6) == 0)
		glen -= 6;
	bool ok = prefix ? glen >= wlen && memcmp(g, want, wlen) == 0
			 : glen == wlen && memcmp(g, want, wlen) == 0;
	ck_assert_msg(ok, "%s: the server received in %s\n  \"%s\"\nexpected%s\n  \"%s\"", name,
		      what, esc(g, glen), prefix ? " (prefix)" : "", esc(want, wlen));
}

/* ---- scenarios --------------------------------------------------------------------------- */

/* The scripts and the scenario table read better laid out by hand. */
/* clang-format off */

/* Messages, their DATA payloads (smtp_data_encode(): CRLF, dot-stuffing, "."), SIZE values. */
#define MSG_A     "Subject: test\r\n\r\n.leading dot\nbody\r\n"
#define PAYLOAD_A "Subject: test\r\n\r\n..leading dot\r\nbody\r\n.\r\n"
#define SIZE_A    "37"
#define MSG_B     "hi\n"
#define PAYLOAD_B "hi\r\n.\r\n"
#define SIZE_B    "4"
#define MSG_8     "Subject: caf\xc3\xa9\r\n\r\nd\xc3\xa9j\xc3\xa0 vu\r\n"
#define PAYLOAD_8 MSG_8 ".\r\n"
#define SIZE_8    "29"

/* What the client sends. */
#define C_EHLO     "EHLO client.test\r\n"
#define C_HELO     "HELO client.test\r\n"
#define C_STARTTLS "STARTTLS\r\n"
#define C_MAIL_A   "MAIL FROM:<a@x> SIZE=" SIZE_A "\r\n"
#define C_RCPT(x)  "RCPT TO:<" x ">\r\n"
#define C_DATA     "DATA\r\n"
#define C_RSET     "RSET\r\n"
#define C_QUIT     "QUIT\r\n"

/* What the server says. */
#define R_EHLO       "250-mx.example.test\r\n250-SIZE 1000000\r\n250 ENHANCEDSTATUSCODES\r\n"
#define R_EHLO_TLS   "250-mx.example.test\r\n250-STARTTLS\r\n250 SIZE 1000000\r\n"
#define R_EHLO_PIPE  "250-mx.example.test\r\n250-PIPELINING\r\n250 SIZE 1000000\r\n"
#define R_EHLO_NOEXT "250 mx.example.test\r\n"

/* Script steps. */
#define S(x)     {OP_SEND, x, 0}
#define SN(x, n) {OP_SEND, x, n}
#define L        {OP_LINE, NULL, 0}
#define U(x)     {OP_UNTIL, x, 0}
#define DOT      U("\r\n.\r\n")
#define TLS      {OP_TLS, NULL, 0}
#define EOFS     {OP_EOF, NULL, 0}
#define CLOSE    {OP_CLOSE, NULL, 0}
#define SCRIPT(...) ((const struct step[]){__VA_ARGS__, {OP_END, NULL, 0}})

#define GREET    S("220 mx.example.test ESMTP fake\r\n")
#define OK_MAIL  S("250 2.1.0 sender ok\r\n")
#define OK_RCPT  S("250 2.1.5 recipient ok\r\n")
#define GO_DATA  S("354 go ahead\r\n")
#define OK_DATA  S("250 2.0.0 queued as 1\r\n")
#define BYE      S("221 2.0.0 bye\r\n")
#define STARTTLS L, S("220 2.0.0 ready for TLS\r\n"), TLS
/* MAIL, one RCPT, DATA, the payload: all accepted, in lockstep. */
#define DELIVER  L, OK_MAIL, L, OK_RCPT, L, GO_DATA, DOT, OK_DATA
#define QUIT_TAIL L, BYE, EOFS

/* Expected replies as recorded per transaction. */
struct want {
	int code;
	const char *enh;
	bool local;
};
#define W_MAIL {250, "2.1.0", false}
#define W_RCPT {250, "2.1.5", false}
#define W_DATA {250, "2.0.0", false}

struct scenario {
	const char *name;
	const struct step *script;
	enum smtp_tls_mode mode;
	const char *msg[MAX_TXNS];    /* one transaction per message (NULL ends) */
	const char *from;             /* NULL: "a@x"; "" is the null sender */
	const char *rcpts[MAX_RCPTS]; /* NULL ends; none: "b@y" */
	bool smtputf8;
	bool requiretls;         /* every transaction asks for REQUIRETLS (RFC 8689) */
	struct smtp_timeouts to; /* 0: CLIENT_WAIT_MS */
	/* Expected: the session result, ... */
	int error;
	enum smtp_stage stage;
	enum mxtls_result tls_result;
	bool tls, offered, helo;
	size_t txns_done;
	int last;        /* the last reply's code; 0: not checked */
	const char *why; /* a part of the reason; NULL: not checked */
	/* ... the replies recorded per transaction, ... */
	struct want mail[MAX_TXNS], data[MAX_TXNS], rcpt[MAX_TXNS][MAX_RCPTS];
	/* ... and what the server received: in cleartext, and inside TLS (NULL: no handshake
	 * completed; "" a handshake but nothing inside). */
	const char *rx_plain;
	const char *rx_tls;
	bool plain_prefix; /* rx_plain is a prefix (a ClientHello follows) */
	bool quit_ok;      /* a QUIT after rx_plain is allowed too */
};

static const struct scenario scenarios[] = {
	/* 1. Cleartext: MAIL with SIZE, RCPT, DATA, the dot-stuffed payload, QUIT. */
	{"plain", SCRIPT(GREET, L, S(R_EHLO), DELIVER, QUIT_TAIL), SMTP_TLS_MAY, {MSG_A},
	 .error = MXTLS_OK, .stage = SMTP_STAGE_DONE, .txns_done = 1, .last = 221, .mail = {W_MAIL},
	 .rcpt = {{W_RCPT}}, .data = {W_DATA},
	 .rx_plain = C_EHLO C_MAIL_A C_RCPT("b@y") C_DATA PAYLOAD_A C_QUIT},
	/* The null sender; no SIZE offered, so no SIZE parameter. */
	{"plain-null-sender", SCRIPT(GREET, L, S(R_EHLO_NOEXT), DELIVER, QUIT_TAIL), SMTP_TLS_MAY,
	 {MSG_B}, .from = "", .error = MXTLS_OK, .stage = SMTP_STAGE_DONE, .txns_done = 1,
	 .mail = {W_MAIL}, .rcpt = {{W_RCPT}}, .data = {W_DATA},
	 .rx_plain = C_EHLO "MAIL FROM:<>\r\n" C_RCPT("b@y") C_DATA PAYLOAD_B C_QUIT},
	/* SMTP_TLS_NONE never asks for STARTTLS, even when it is offered. */
	{"none-ignores-starttls", SCRIPT(GREET, L, S(R_EHLO_TLS), DELIVER, QUIT_TAIL),
	 SMTP_TLS_NONE, {MSG_A}, .error = MXTLS_OK, .stage = SMTP_STAGE_DONE, .offered = true,
	 .txns_done = 1, .mail = {W_MAIL}, .rcpt = {{W_RCPT}}, .data = {W_DATA},
	 .rx_plain = C_EHLO C_MAIL_A C_RCPT("b@y") C_DATA PAYLOAD_A C_QUIT},
	/* 2. STARTTLS offered, opportunistic: TLS, EHLO again, the mail inside.  The cleartext
	 * EHLO's SIZE 10 and PIPELINING are forgotten (RFC 3207 §4.2): the server runs in
	 * lockstep, so a pipelining client would stall it. */
	{"starttls-may", SCRIPT(GREET, L,
		S("250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 10\r\n250 STARTTLS\r\n"),
		STARTTLS, L, S(R_EHLO), DELIVER, QUIT_TAIL), SMTP_TLS_MAY, {MSG_A},
	 .error = MXTLS_OK, .stage = SMTP_STAGE_DONE, .tls = true, .offered = true, .txns_done = 1,
	 .mail = {W_MAIL}, .rcpt = {{W_RCPT}}, .data = {W_DATA}, .rx_plain = C_EHLO C_STARTTLS,
	 .rx_tls = C_EHLO C_MAIL_A C_RCPT("b@y") C_DATA PAYLOAD_A C_QUIT},
	/* STARTTLS required and had; PIPELINING offered inside TLS only; STARTTLS offered again
	 * inside TLS is not taken up. */
	{"starttls-required",
	 SCRIPT(GREET, L, S(R_EHLO_TLS), STARTTLS, L,
		S("250-mx.example.test\r\n250-STARTTLS\r\n250-PIPELINING\r\n250 SIZE 100000\r\n"),
		U(C_DATA),
		S("250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n"), DOT, OK_DATA, QUIT_TAIL),
	 SMTP_TLS_REQUIRED, {MSG_A}, .error = MXTLS_OK, .stage = SMTP_STAGE_DONE, .tls = true,
	 .offered = true, .txns_done = 1, .mail = {W_MAIL}, .rcpt = {{W_RCPT}}, .data = {W_DATA},
	 .rx_plain = C_EHLO C_STARTTLS,
	 .rx_tls = C_EHLO C_MAIL_A C_RCPT("b@y") C_DATA PAYLOAD_A C_QUIT},
	/* Pipelined replies inside TLS, one record each (GnuTLS may hold some back). */
	{"starttls-pipelined-records",
	 SCRIPT(GREET, L, S(R_EHLO_TLS), STARTTLS, L, S(R_EHLO_PIPE), U(C_DATA),
		S("250 2.1.0 ok\r\n"), S("250 2.1.5 ok\r\n"), S("550 5.1.1 no\r\n"),
		S("354 go\r\n"), DOT, OK_DATA, QUIT_TAIL),
	 SMTP_TLS_REQUIRED, {MSG_A}, .rcpts = {"b@y", "c@y"}, .error = MXTLS_OK,
	 .stage = SMTP_STAGE_DONE, .tls = true, .offered = true, .txns_done = 1, .mail = {W_MAIL},
	 .rcpt = {{W_RCPT, {550, "5.1.1", false}}}, .data = {W_DATA},
	 .rx_plain = C_EHLO C_STARTTLS,
	 .rx_tls = C_EHLO C_MAIL_A C_RCPT("b@y") C_RCPT("c@y") C_DATA PAYLOAD_A C_QUIT},
	/* The server closes after QUIT inside TLS without replying: that is still done. */
	{"starttls-close-after-quit",
	 SCRIPT(GREET, L, S(R_EHLO_TLS), STARTTLS, L, S(R_EHLO), DELIVER, L, CLOSE),
	 SMTP_TLS_REQUIRED, {MSG_A}, .why = "closed after QUIT", .error = MXTLS_OK,
	 .stage = SMTP_STAGE_DONE, .tls = true, .offered = true, .txns_done = 1, .mail = {W_MAIL},
	 .rcpt = {{W_RCPT}}, .data = {W_DATA}, .rx_plain = C_EHLO C_STARTTLS,
	 .rx_tls = C_EHLO C_MAIL_A C_RCPT("b@y") C_DATA PAYLOAD_A C_QUIT},
	/* A server that speaks TLS 1.2 only is fine ... */
	{"starttls-tls12", SCRIPT(GREET, L, S(R_EHLO_TLS), L, S("220 2.0.0 ready\r\n"),
		{OP_TLS, "NORMAL:-VERS-ALL:+VERS-TLS1.2", 0}, L, S(R_EHLO), DELIVER, QUIT_TAIL),
	 SMTP_TLS_REQUIRED, {MSG_A}, .error = MXTLS_OK, .stage = SMTP_STAGE_DONE, .tls = true,
	 .offered = true, .txns_done = 1, .mail = {W_MAIL}, .rcpt = {{W_RCPT}}, .data = {W_DATA},
	 .rx_plain = C_EHLO C_STARTTLS,
	 .rx_tls = C_EHLO C_MAIL_A C_RCPT("b@y") C_DATA PAYLOAD_A C_QUIT},
	/* ... one with TLS 1.1 at most is not (RFC 7671 §3, DANE-49): no handshake. */
	{"starttls-tls11-refused", SCRIPT(GREET, L, S(R_EHLO_TLS), L, S("220 2.0.0 ready\r\n"),
		{OP_TLS_FAIL, "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0", 0}), SMTP_TLS_MAY,
	 {MSG_A}, .why = "version", .error = MXTLS_E_TLS, .stage = SMTP_STAGE_HANDSHAKE,
	 .tls_result = MXTLS_RESULT_VALIDATION_FAILURE, .offered = true, .last = 220,
	 .rx_plain = C_EHLO C_STARTTLS},
	/* 3. TLS required, no STARTTLS: nothing after EHLO (but perhaps QUIT). */
	{"required-no-starttls", SCRIPT(GREET, L, S(R_EHLO), EOFS), SMTP_TLS_REQUIRED, {MSG_A},
	 .error = MXTLS_E_TLS, .stage = SMTP_STAGE_EHLO,
	 .tls_result = MXTLS_RESULT_STARTTLS_NOT_SUPPORTED, .last = 250, .rx_plain = C_EHLO,
	 .quit_ok = true},
	/* 4. TLS required, STARTTLS refused. */
	{"required-starttls-454",
	 SCRIPT(GREET, L, S(R_EHLO_TLS), L, S("454 4.7.0 TLS not available\r\n"), EOFS),
	 SMTP_TLS_REQUIRED, {MSG_A}, .error = MXTLS_E_TLS, .stage = SMTP_STAGE_STARTTLS,
	 .tls_result = MXTLS_RESULT_STARTTLS_NOT_SUPPORTED, .offered = true, .last = 454,
	 .rx_plain = C_EHLO C_STARTTLS, .quit_ok = true},
	/* Opportunistic, STARTTLS refused: on in cleartext. */
	{"may-starttls-454",
	 SCRIPT(GREET, L, S(R_EHLO_TLS), L, S("454 4.7.0 TLS not available\r\n"), DELIVER,
		QUIT_TAIL), SMTP_TLS_MAY, {MSG_A}, .error = MXTLS_OK, .stage = SMTP_STAGE_DONE,
	 .offered = true, .txns_done = 1, .mail = {W_MAIL}, .rcpt = {{W_RCPT}}, .data = {W_DATA},
	 .rx_plain = C_EHLO C_STARTTLS C_MAIL_A C_RCPT("b@y") C_DATA PAYLOAD_A C_QUIT},
	/* 5. EHLO refused: no HELO when TLS is required ... */
	{"required-ehlo-502", SCRIPT(GREET, L, S("502 5.5.1 unknown command\r\n"), EOFS),
	 SMTP_TLS_REQUIRED, {MSG_A}, .error = MXTLS_E_TLS, .stage = SMTP_STAGE_EHLO,
	 .tls_result = MXTLS_RESULT_STARTTLS_NOT_SUPPORTED, .last = 502, .rx_plain = C_EHLO,
	 .quit_ok = true},
	/* ... and HELO (no extensions, so no SIZE) when it may be cleartext. */
	{"may-ehlo-502-helo",
	 SCRIPT(GREET, L, S("502 5.5.1 unknown command\r\n"), L, S("250 mx.example.test\r\n"),
		DELIVER, QUIT_TAIL), SMTP_TLS_MAY, {MSG_A}, .error = MXTLS_OK,
	 .stage = SMTP_STAGE_DONE, .helo = true, .txns_done = 1, .mail = {W_MAIL},
	 .rcpt = {{W_RCPT}}, .data = {W_DATA},
	 .rx_plain = C_EHLO C_HELO "MAIL FROM:<a@x>\r\n" C_RCPT("b@y") C_DATA PAYLOAD_A C_QUIT},
	/* HELO refused too. */
	{"may-helo-refused",
	 SCRIPT(GREET, L, S("502 5.5.1 no\r\n"), L, S("421 4.3.2 go away\r\n"), EOFS), SMTP_TLS_MAY,
	 {MSG_A}, .error = MXTLS_E_TEMPFAIL, .stage = SMTP_STAGE_EHLO, .helo = true, .last = 421,
	 .rx_plain = C_EHLO C_HELO, .quit_ok = true},
	/* EHLO refused after the handshake. */
	{"ehlo-refused-inside-tls",
	 SCRIPT(GREET, L, S(R_EHLO_TLS), STARTTLS, L, S("554 5.7.0 no\r\n"), EOFS), SMTP_TLS_MAY,
	 {MSG_A}, .error = MXTLS_E_TEMPFAIL, .stage = SMTP_STAGE_EHLO, .tls = true, .offered = true,
	 .last = 554, .rx_plain = C_EHLO C_STARTTLS, .rx_tls = C_EHLO, .quit_ok = true},
	/* 7. STARTTLS response injection (RFC 3207 §5, CVE-2011-0411): bytes after the 220 in
	 * the same read.  Not in cleartext either, even when opportunistic. */
	{"starttls-injection-required",
	 SCRIPT(GREET, L, S(R_EHLO_TLS), L, S("220 go ahead\r\n250 injected\r\n"), EOFS),
	 SMTP_TLS_REQUIRED, {MSG_A}, .why = "after its 220", .error = MXTLS_E_SYNTAX,
	 .stage = SMTP_STAGE_STARTTLS, .offered = true, .last = 220, .rx_plain = C_EHLO C_STARTTLS},
	{"starttls-injection-may",
	 SCRIPT(GREET, L, S(R_EHLO_TLS), L, S("220 go ahead\r\n250 injected\r\n"), EOFS),
	 SMTP_TLS_MAY, {MSG_A}, .why = "after its 220", .error = MXTLS_E_SYNTAX,
	 .stage = SMTP_STAGE_STARTTLS, .offered = true, .last = 220, .rx_plain = C_EHLO C_STARTTLS},
	/* 8. The handshake fails: the server hangs up, or answers the ClientHello with text. */
	{"handshake-server-closes", SCRIPT(GREET, L, S(R_EHLO_TLS), L, S("220 ready\r\n"), CLOSE),
	 SMTP_TLS_REQUIRED, {MSG_A}, .error = MXTLS_E_TLS, .stage = SMTP_STAGE_HANDSHAKE,
	 .tls_result = MXTLS_RESULT_VALIDATION_FAILURE, .offered = true,
	 .rx_plain = C_EHLO C_STARTTLS},
	{"handshake-garbage",
	 SCRIPT(GREET, L, S(R_EHLO_TLS), L, S("220 ready\r\n"), {OP_SOME, NULL, 0},
		S("this is not TLS at all, sorry\r\n"), EOFS), SMTP_TLS_MAY, {MSG_A},
	 .error = MXTLS_E_TLS, .stage = SMTP_STAGE_HANDSHAKE,
	 .tls_result = MXTLS_RESULT_VALIDATION_FAILURE, .offered = true,
	 .rx_plain = C_EHLO C_STARTTLS "\x16\x03", .plain_prefix = true},
	/* 9. PIPELINING: MAIL, every RCPT and DATA before the first reply (the server reads up
	 * to DATA before it answers anything); mixed RCPT results. */
	{"pipelining-mixed", SCRIPT(GREET, L, S(R_EHLO_PIPE), U(C_DATA),
		S("250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 no such user\r\n"
		  "451 4.3.0 try later\r\n354 go ahead\r\n"),
		DOT, S("250 2.0.0 queued\r\n"), QUIT_TAIL), SMTP_TLS_MAY, {MSG_A},
	 .rcpts = {"b@y", "c@y", "d@y"}, .error = MXTLS_OK, .stage = SMTP_STAGE_DONE,
	 .txns_done = 1, .mail = {W_MAIL},
	 .rcpt = {{W_RCPT, {550, "5.1.1", false}, {451, "4.3.0", false}}}, .data = {W_DATA},
	 .rx_plain =
		 C_EHLO C_MAIL_A C_RCPT("b@y") C_RCPT("c@y") C_RCPT("d@y") C_DATA PAYLOAD_A C_QUIT},
	/* 10. Every recipient refused, no pipelining: no DATA. */
	{"all-rcpts-refused", SCRIPT(GREET, L, S(R_EHLO), L, OK_MAIL, L, S("550 5.1.1 no\r\n"), L,
		S("553 5.1.3 bad\r\n"), QUIT_TAIL), SMTP_TLS_MAY, {MSG_A}, .rcpts = {"b@y", "c@y"},
	 .error = MXTLS_OK, .stage = SMTP_STAGE_DONE, .txns_done = 1, .mail = {W_MAIL},
	 .rcpt = {{{550, "5.1.1", false}, {553, "5.1.3", false}}},
	 .rx_plain = C_EHLO C_MAIL_A C_RCPT("b@y") C_RCPT("c@y") C_QUIT},
	/* Pipelined and every recipient refused, but DATA got 354 anyway: "." alone. */
	{"pipelining-all-refused-354", SCRIPT(GREET, L, S(R_EHLO_PIPE), U(C_DATA),
		S("250 2.1.0 ok\r\n550 5.1.1 no\r\n354 go ahead\r\n"), L,
		S("554 5.5.1 no valid recipients\r\n"), QUIT_TAIL), SMTP_TLS_MAY, {MSG_A},
	 .error = MXTLS_OK, .stage = SMTP_STAGE_DONE, .txns_done = 1, .mail = {W_MAIL},
	 .rcpt = {{{550, "5.1.1", false}}},
	 .rx_plain = C_EHLO C_MAIL_A C_RCPT("b@y") C_DATA ".\r\n" C_QUIT},
	/* Pipelined, every recipient refused, DATA refused: nothing more. */
	{"pipelining-all-refused-554", SCRIPT(GREET, L, S(R_EHLO_PIPE), U(C_DATA),
		S("250 2.1.0 ok\r\n550 5.1.1 no\r\n554 5.5.1 no valid recipients\r\n"), QUIT_TAIL),
	 SMTP_TLS_MAY, {MSG_A}, .error = MXTLS_OK, .stage = SMTP_STAGE_DONE, .txns_done = 1,
	 .mail = {W_MAIL}, .rcpt = {{{550, "5.1.1", false}}},
	 .rx_plain = C_EHLO C_MAIL_A C_RCPT("b@y") C_DATA C_QUIT},
	/* DATA refused (not pipelined). */
	{"data-refused",
	 SCRIPT(GREET, L, S(R_EHLO), L, OK_MAIL, L, OK_RCPT, L, S("554 5.3.0 no data\r\n"),
		QUIT_TAIL), SMTP_TLS_MAY, {MSG_A}, .error = MXTLS_OK, .stage = SMTP_STAGE_DONE,
	 .txns_done = 1, .mail = {W_MAIL}, .rcpt = {{W_RCPT}}, .data = {{554, "5.3.0", false}},
	 .rx_plain = C_EHLO C_MAIL_A C_RCPT("b@y") C_DATA C_QUIT},
	/* 11. MAIL refused: every recipient gets the MAIL reply; no RCPT is sent ... */
	{"mail-refused",
	 SCRIPT(GREET, L, S(R_EHLO), L, S("550 5.7.1 sender refused\r\n"), QUIT_TAIL), SMTP_TLS_MAY,
	 {MSG_A}, .rcpts = {"b@y", "c@y"}, .error = MXTLS_OK, .stage = SMTP_STAGE_DONE,
	 .txns_done = 1, .mail = {{550, "5.7.1", false}},
	 .rcpt = {{{550, "5.7.1", false}, {550, "5.7.1", false}}},
	 .rx_plain = C_EHLO C_MAIL_A C_QUIT},
	/* ... pipelined, the RCPT and DATA replies that follow do not overwrite it ... */
	{"pipelining-mail-refused", SCRIPT(GREET, L, S(R_EHLO_PIPE), U(C_DATA),
		S("550 5.7.1 sender refused\r\n503 5.5.1 no sender\r\n503 5.5.1 no sender\r\n"
		  "503 5.5.1 no valid recipients\r\n"),
		QUIT_TAIL), SMTP_TLS_MAY, {MSG_A}, .rcpts = {"b@y", "c@y"}, .error = MXTLS_OK,
	 .stage = SMTP_STAGE_DONE, .txns_done = 1, .mail = {{550, "5.7.1", false}},
	 .rcpt = {{{550, "5.7.1", false}, {550, "5.7.1", false}}},
	 .rx_plain = C_EHLO C_MAIL_A C_RCPT("b@y") C_RCPT("c@y") C_DATA C_QUIT},
	/* ... and with a transaction after it, RSET comes first. */
	{"mail-refused-then-rset",
	 SCRIPT(GREET, L, S(R_EHLO), L, S("451 4.3.0 later\r\n"), L, S("250 2.0.0 reset\r\n"), L,
		OK_MAIL, L, OK_RCPT, L, GO_DATA, DOT, OK_DATA, QUIT_TAIL), SMTP_TLS_MAY,
	 {MSG_A, MSG_B}, .error = MXTLS_OK, .stage = SMTP_STAGE_DONE, .txns_done = 2,
	 .mail = {{451, "4.3.0", false}, W_MAIL}, .rcpt = {{{451, "4.3.0", false}}, {W_RCPT}},
	 .data = {{0}, W_DATA},
	 .rx_plain = C_EHLO C_MAIL_A C_RSET "MAIL FROM:<a@x> SIZE=" SIZE_B "\r\n" C_RCPT("b@y")
		 C_DATA PAYLOAD_B C_QUIT},
	/* 12. Two transactions on one connection, one QUIT. */
	{"two-transactions",
	 SCRIPT(GREET, L, S(R_EHLO), DELIVER, L, OK_MAIL, L, OK_RCPT, L, GO_DATA, DOT,
		S("250 2.0.0 queued as 2\r\n"), QUIT_TAIL), SMTP_TLS_MAY, {MSG_A, MSG_B},
	 .error = MXTLS_OK, .stage = SMTP_STAGE_DONE, .txns_done = 2, .mail = {W_MAIL, W_MAIL},
	 .rcpt = {{W_RCPT}, {W_RCPT}}, .data = {W_DATA, W_DATA},
	 .rx_plain = C_EHLO C_MAIL_A C_RCPT("b@y") C_DATA PAYLOAD_A
	 "MAIL FROM:<a@x> SIZE=" SIZE_B "\r\n" C_RCPT("b@y") C_DATA PAYLOAD_B C_QUIT},
	{"two-transactions-pipelined",
	 SCRIPT(GREET, L, S(R_EHLO_PIPE), U(C_DATA), S("250 2.1.0 a\r\n250 2.1.5 b\r\n354 c\r\n"),
		DOT, S("250 2.0.0 one\r\n"), U(C_DATA),
		S("250 2.1.0 a\r\n250 2.1.5 b\r\n354 c\r\n"), DOT, S("250 2.0.0 two\r\n"),
		QUIT_TAIL), SMTP_TLS_MAY, {MSG_A, MSG_B}, .error = MXTLS_OK,
	 .stage = SMTP_STAGE_DONE, .txns_done = 2, .mail = {W_MAIL, W_MAIL},
	 .rcpt = {{W_RCPT}, {W_RCPT}}, .data = {W_DATA, W_DATA},
	 .rx_plain = C_EHLO C_MAIL_A C_RCPT("b@y") C_DATA PAYLOAD_A
	 "MAIL FROM:<a@x> SIZE=" SIZE_B "\r\n" C_RCPT("b@y") C_DATA PAYLOAD_B C_QUIT},
	/* 13. SIZE 10: refused here (RFC 1870 §6), no MAIL; the next message fits. */
	{"size-too-large", SCRIPT(GREET, L, S("250-mx.example.test\r\n250 SIZE 10\r\n"), QUIT_TAIL),
	 SMTP_TLS_MAY, {MSG_A}, .rcpts = {"b@y", "c@y"}, .error = MXTLS_OK,
	 .stage = SMTP_STAGE_DONE, .txns_done = 1, .mail = {{552, "5.3.4", true}},
	 .rcpt = {{{552, "5.3.4", true}, {552, "5.3.4", true}}}, .rx_plain = C_EHLO C_QUIT},
	{"size-too-large-then-fits",
	 SCRIPT(GREET, L, S("250-mx.example.test\r\n250 SIZE 10\r\n"), DELIVER, QUIT_TAIL),
	 SMTP_TLS_MAY, {MSG_A, MSG_B}, .error = MXTLS_OK, .stage = SMTP_STAGE_DONE, .txns_done = 2,
	 .mail = {{552, "5.3.4", true}, W_MAIL}, .rcpt = {{{552, "5.3.4", true}}, {W_RCPT}},
	 .data = {{0}, W_DATA},
	 .rx_plain = C_EHLO "MAIL FROM:<a@x> SIZE=" SIZE_B "\r\n" C_RCPT("b@y")
		 C_DATA PAYLOAD_B C_QUIT},
	/* SMTPUTF8 needed, not offered (RFC 6531 §3.2). */
	/* RFC 8689 §4.2.1: REQUIRETLS offered inside TLS: MAIL FROM carries it. */
	{"requiretls-offered",
	 SCRIPT(GREET, L, S(R_EHLO_TLS), STARTTLS, L,
		S("250-mx.example.test\r\n250-REQUIRETLS\r\n250 SIZE 100000\r\n"), DELIVER,
		QUIT_TAIL),
	 SMTP_TLS_REQUIRED, {MSG_A}, .requiretls = true, .error = MXTLS_OK,
	 .stage = SMTP_STAGE_DONE, .tls = true, .offered = true, .txns_done = 1,
	 .mail = {W_MAIL}, .rcpt = {{W_RCPT}}, .data = {W_DATA}, .rx_plain = C_EHLO C_STARTTLS,
	 .rx_tls = C_EHLO "MAIL FROM:<a@x> SIZE=" SIZE_A " REQUIRETLS\r\n" C_RCPT("b@y") C_DATA
		   PAYLOAD_A C_QUIT},
	/* Offered only before TLS (RFC 3207 §4.2: forgotten), not inside: refused, 5.7.30. */
	{"requiretls-not-inside-tls",
	 SCRIPT(GREET, L, S("250-mx.example.test\r\n250-STARTTLS\r\n250 REQUIRETLS\r\n"),
		STARTTLS, L, S(R_EHLO), QUIT_TAIL),
	 SMTP_TLS_REQUIRED, {MSG_A}, .requiretls = true, .error = MXTLS_OK,
	 .stage = SMTP_STAGE_DONE, .tls = true, .offered = true, .txns_done = 1,
	 .mail = {{550, "5.7.30", true}}, .rcpt = {{{550, "5.7.30", true}}},
	 .rx_plain = C_EHLO C_STARTTLS, .rx_tls = C_EHLO C_QUIT},
	/* Offered in a session without TLS: refused, nothing sent. */
	{"requiretls-cleartext",
	 SCRIPT(GREET, L, S("250-mx.example.test\r\n250 REQUIRETLS\r\n"), QUIT_TAIL),
	 SMTP_TLS_MAY, {MSG_A}, .requiretls = true, .error = MXTLS_OK, .stage = SMTP_STAGE_DONE,
	 .txns_done = 1, .mail = {{550, "5.7.30", true}}, .rcpt = {{{550, "5.7.30", true}}},
	 .rx_plain = C_EHLO C_QUIT},
	{"smtputf8-not-offered", SCRIPT(GREET, L, S(R_EHLO), QUIT_TAIL), SMTP_TLS_MAY, {MSG_8},
	 .smtputf8 = true, .error = MXTLS_OK, .stage = SMTP_STAGE_DONE, .txns_done = 1,
	 .mail = {{553, "5.6.7", true}}, .rcpt = {{{553, "5.6.7", true}}},
	 .rx_plain = C_EHLO C_QUIT},
	/* 14. 8-bit content with 8BITMIME offered: BODY=8BITMIME; and SMTPUTF8 when needed. */
	{"8bitmime",
	 SCRIPT(GREET, L, S("250-mx\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 100\r\n"), DELIVER,
		QUIT_TAIL), SMTP_TLS_MAY, {MSG_8}, .error = MXTLS_OK, .stage = SMTP_STAGE_DONE,
	 .txns_done = 1, .mail = {W_MAIL}, .rcpt = {{W_RCPT}}, .data = {W_DATA},
	 .rx_plain = C_EHLO "MAIL FROM:<a@x> SIZE=" SIZE_8 " BODY=8BITMIME\r\n" C_RCPT("b@y")
		 C_DATA PAYLOAD_8 C_QUIT},
	{"8bitmime-smtputf8",
	 SCRIPT(GREET, L, S("250-mx\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 100\r\n"), DELIVER,
		QUIT_TAIL), SMTP_TLS_MAY, {MSG_8}, .from = "j\xc3\xb6rg@x",
	 .rcpts = {"\xc3\xa9l\xc3\xa8ve@y"}, .smtputf8 = true, .error = MXTLS_OK,
	 .stage = SMTP_STAGE_DONE, .txns_done = 1, .mail = {W_MAIL}, .rcpt = {{W_RCPT}},
	 .data = {W_DATA},
	 .rx_plain = C_EHLO "MAIL FROM:<j\xc3\xb6rg@x> SIZE=" SIZE_8
			    " BODY=8BITMIME SMTPUTF8\r\n" C_RCPT("\xc3\xa9l\xc3\xa8ve@y")
				    C_DATA PAYLOAD_8 C_QUIT},
	/* 8-bit content, no 8BITMIME: sent unlabelled (as smtp_client.c documents). */
	{"8bit-unlabelled", SCRIPT(GREET, L, S(R_EHLO), DELIVER, QUIT_TAIL), SMTP_TLS_MAY, {MSG_8},
	 .error = MXTLS_OK, .stage = SMTP_STAGE_DONE, .txns_done = 1, .mail = {W_MAIL},
	 .rcpt = {{W_RCPT}}, .data = {W_DATA},
	 .rx_plain = C_EHLO "MAIL FROM:<a@x> SIZE=" SIZE_8 "\r\n" C_RCPT("b@y")
		 C_DATA PAYLOAD_8 C_QUIT},
	/* 15. Hostile replies end the session as not-SMTP. */
	{"hostile-long-line", SCRIPT({OP_FILL, "220 ", 3000}, S("\r\n"), EOFS), SMTP_TLS_MAY,
	 {MSG_A}, .why = "longer than 2048 bytes", .error = MXTLS_E_SYNTAX, .stage = SMTP_STAGE_GREETING,
	 .rx_plain = ""},
	{"hostile-endless-line", SCRIPT({OP_FILL, "220 ", 4u << 20}, EOFS), SMTP_TLS_MAY, {MSG_A},
	 .why = "longer than 2048 bytes", .error = MXTLS_E_SYNTAX, .stage = SMTP_STAGE_GREETING,
	 .rx_plain = ""},
	{"hostile-200-lines", SCRIPT(GREET, L, {OP_REPEAT, "250-x\r\n", 200}, EOFS), SMTP_TLS_MAY,
	 {MSG_A}, .why = "more than 128 lines", .error = MXTLS_E_SYNTAX, .stage = SMTP_STAGE_EHLO,
	 .last = 220, .rx_plain = C_EHLO},
	/* SMTP_LINE_MAX-long lines (the longest allowed), more of them than SMTP_IN_MAX holds. */
	{"hostile-200-longest-lines", SCRIPT(GREET, L, {OP_LINES, "250-", 200}, EOFS), SMTP_TLS_MAY,
	 {MSG_A}, .why = "more than 128 lines", .error = MXTLS_E_SYNTAX, .stage = SMTP_STAGE_EHLO,
	 .last = 220, .rx_plain = C_EHLO},
	{"hostile-nul", SCRIPT(SN("220 mx\0 ESMTP\r\n", 15), EOFS), SMTP_TLS_MAY, {MSG_A},
	 .why = "control byte", .error = MXTLS_E_SYNTAX, .stage = SMTP_STAGE_GREETING,
	 .rx_plain = ""},
	{"hostile-2x0", SCRIPT(GREET, L, S("2x0 mx\r\n"), EOFS), SMTP_TLS_MAY, {MSG_A},
	 .why = "three-digit", .error = MXTLS_E_SYNTAX, .stage = SMTP_STAGE_EHLO, .last = 220,
	 .rx_plain = C_EHLO},
	{"hostile-mixed-codes", SCRIPT(GREET, L, S("250-mx\r\n251 SIZE 10\r\n"), EOFS),
	 SMTP_TLS_MAY, {MSG_A}, .why = "different codes", .error = MXTLS_E_SYNTAX,
	 .stage = SMTP_STAGE_EHLO, .last = 220, .rx_plain = C_EHLO},
	{"hostile-1xx", SCRIPT(GREET, L, S(R_EHLO), L, S("150 go on\r\n"), EOFS), SMTP_TLS_MAY,
	 {MSG_A}, .why = "three-digit", .error = MXTLS_E_SYNTAX, .stage = SMTP_STAGE_MAIL,
	 .last = 250, .rx_plain = C_EHLO C_MAIL_A},
	{"hostile-escape", SCRIPT(S("220 mx \x1b[2J\r\n"), EOFS), SMTP_TLS_MAY, {MSG_A},
	 .why = "control byte", .error = MXTLS_E_SYNTAX, .stage = SMTP_STAGE_GREETING,
	 .rx_plain = ""},
	/* A reply to "." before the payload was sent (in one write with the 354): not SMTP; the
	 * client must not take it for the end of the message or send anything after it. */
	{"hostile-reply-before-payload", SCRIPT(GREET, L, S(R_EHLO), L, OK_MAIL, L, OK_RCPT, L,
		S("354 go ahead\r\n250 2.0.0 thanks, already\r\n"), EOFS), SMTP_TLS_MAY, {MSG_A},
	 .why = "before the end of the message data", .error = MXTLS_E_SYNTAX,
	 .stage = SMTP_STAGE_DATA, .mail = {W_MAIL}, .rcpt = {{W_RCPT}}, .last = 250,
	 .rx_plain = C_EHLO C_MAIL_A C_RCPT("b@y") C_DATA},
	/* A 220 to STARTTLS that came before STARTTLS was even sent (with the EHLO reply, in one
	 * write): no handshake on the strength of it. */
	{"hostile-starttls-reply-before-command",
	 SCRIPT(GREET, L, S(R_EHLO_TLS "220 2.0.0 ready before you asked\r\n"), EOFS),
	 SMTP_TLS_REQUIRED, {MSG_A}, .why = "before the command", .error = MXTLS_E_SYNTAX,
	 .stage = SMTP_STAGE_STARTTLS, .offered = true, .last = 220, .rx_plain = C_EHLO},
	/* DATA answered 250 instead of 354: the message was never sent, so it must not look
	 * accepted (in lockstep and pipelined). */
	{"hostile-data-250",
	 SCRIPT(GREET, L, S(R_EHLO), L, OK_MAIL, L, OK_RCPT, L, S("250 2.0.0 ok, thanks\r\n"),
		EOFS), SMTP_TLS_MAY, {MSG_A}, .why = "not 354", .error = MXTLS_E_SYNTAX,
	 .stage = SMTP_STAGE_DATA, .mail = {W_MAIL}, .rcpt = {{W_RCPT}}, .last = 250,
	 .rx_plain = C_EHLO C_MAIL_A C_RCPT("b@y") C_DATA, .quit_ok = true},
	{"hostile-data-250-pipelined", SCRIPT(GREET, L, S(R_EHLO_PIPE), U(C_DATA),
		S("250 2.1.0 ok\r\n250 2.1.5 ok\r\n250 2.0.0 ok, thanks\r\n"), EOFS), SMTP_TLS_MAY,
	 {MSG_A}, .why = "not 354", .error = MXTLS_E_SYNTAX, .stage = SMTP_STAGE_DATA,
	 .mail = {W_MAIL}, .rcpt = {{W_RCPT}}, .last = 250,
	 .rx_plain = C_EHLO C_MAIL_A C_RCPT("b@y") C_DATA, .quit_ok = true},
	/* No transaction: a probe, EHLO (and TLS) then QUIT. */
	{"probe", SCRIPT(GREET, L, S(R_EHLO), QUIT_TAIL), SMTP_TLS_MAY, {NULL}, .error = MXTLS_OK,
	 .stage = SMTP_STAGE_DONE, .last = 221, .rx_plain = C_EHLO C_QUIT},
	{"probe-tls", SCRIPT(GREET, L, S(R_EHLO_TLS), STARTTLS, L, S(R_EHLO), QUIT_TAIL),
	 SMTP_TLS_REQUIRED, {NULL}, .error = MXTLS_OK, .stage = SMTP_STAGE_DONE, .tls = true,
	 .offered = true, .last = 221, .rx_plain = C_EHLO C_STARTTLS, .rx_tls = C_EHLO C_QUIT},
	{"probe-required-no-starttls", SCRIPT(GREET, L, S(R_EHLO), EOFS), SMTP_TLS_REQUIRED, {NULL},
	 .error = MXTLS_E_TLS, .stage = SMTP_STAGE_EHLO,
	 .tls_result = MXTLS_RESULT_STARTTLS_NOT_SUPPORTED, .rx_plain = C_EHLO, .quit_ok = true},
	/* Refused greetings are temporary failures (RFC 5321 §3.1). */
	{"greeting-554", SCRIPT(S("554 5.3.2 no service\r\n"), EOFS), SMTP_TLS_MAY, {MSG_A},
	 .error = MXTLS_E_TEMPFAIL, .stage = SMTP_STAGE_GREETING, .last = 554, .rx_plain = "",
	 .quit_ok = true},
	/* 16. Time limits and hang-ups. */
	{"timeout-greeting", SCRIPT(EOFS), SMTP_TLS_MAY, {MSG_A}, .to = {.greeting = 200},
	 .error = MXTLS_E_TIMEOUT, .stage = SMTP_STAGE_GREETING, .rx_plain = ""},
	{"timeout-mail", SCRIPT(GREET, L, S(R_EHLO), EOFS), SMTP_TLS_MAY, {MSG_A},
	 .to = {.mail = 200}, .error = MXTLS_E_TIMEOUT, .stage = SMTP_STAGE_MAIL, .last = 250,
	 .rx_plain = C_EHLO C_MAIL_A},
	{"timeout-starttls-handshake", SCRIPT(GREET, L, S(R_EHLO_TLS), L, S("220 ready\r\n"), EOFS),
	 SMTP_TLS_REQUIRED, {MSG_A}, .to = {.starttls = 200}, .error = MXTLS_E_TIMEOUT,
	 .stage = SMTP_STAGE_HANDSHAKE, .offered = true, .last = 220,
	 .rx_plain = C_EHLO C_STARTTLS "\x16\x03", .plain_prefix = true},
	/* Pipelined: MAIL and RCPT answered, DATA never; the stage says what was awaited. */
	{"timeout-data-init-pipelined",
	 SCRIPT(GREET, L, S(R_EHLO_PIPE), U(C_DATA), S("250 2.1.0 ok\r\n250 2.1.5 ok\r\n"), EOFS),
	 SMTP_TLS_MAY, {MSG_A}, .to = {.data_init = 200}, .error = MXTLS_E_TIMEOUT,
	 .stage = SMTP_STAGE_DATA, .mail = {W_MAIL}, .rcpt = {{W_RCPT}}, .last = 250,
	 .rx_plain = C_EHLO C_MAIL_A C_RCPT("b@y") C_DATA},
	{"timeout-data-done",
	 SCRIPT(GREET, L, S(R_EHLO), L, OK_MAIL, L, OK_RCPT, L, GO_DATA, DOT, EOFS), SMTP_TLS_MAY,
	 {MSG_A}, .to = {.data_done = 200}, .error = MXTLS_E_TIMEOUT, .stage = SMTP_STAGE_DATA,
	 .mail = {W_MAIL}, .rcpt = {{W_RCPT}}, .last = 354,
	 .rx_plain = C_EHLO C_MAIL_A C_RCPT("b@y") C_DATA PAYLOAD_A},
	{"close-after-quit", SCRIPT(GREET, L, S(R_EHLO), DELIVER, L, CLOSE), SMTP_TLS_MAY, {MSG_A},
	 .why = "closed after QUIT", .error = MXTLS_OK, .stage = SMTP_STAGE_DONE, .txns_done = 1,
	 .mail = {W_MAIL}, .rcpt = {{W_RCPT}}, .data = {W_DATA},
	 .rx_plain = C_EHLO C_MAIL_A C_RCPT("b@y") C_DATA PAYLOAD_A C_QUIT},
	{"silent-after-quit", SCRIPT(GREET, L, S(R_EHLO), DELIVER, L, EOFS), SMTP_TLS_MAY, {MSG_A},
	 .to = {.quit = 200}, .why = "no reply to QUIT", .error = MXTLS_OK,
	 .stage = SMTP_STAGE_DONE, .txns_done = 1, .mail = {W_MAIL}, .rcpt = {{W_RCPT}},
	 .data = {W_DATA}, .rx_plain = C_EHLO C_MAIL_A C_RCPT("b@y") C_DATA PAYLOAD_A C_QUIT},
	{"close-after-mail", SCRIPT(GREET, L, S(R_EHLO), L, CLOSE), SMTP_TLS_MAY, {MSG_A},
	 .error = MXTLS_E_IO, .stage = SMTP_STAGE_MAIL, .last = 250, .rx_plain = C_EHLO C_MAIL_A},
	/* A reset inside TLS: an I/O error, and no SIGPIPE when the client says goodbye. */
	{"reset-inside-tls", SCRIPT(GREET, L, S(R_EHLO_TLS), STARTTLS, L, {OP_RESET, NULL, 0}),
	 SMTP_TLS_REQUIRED, {MSG_A}, .error = MXTLS_E_IO, .stage = SMTP_STAGE_EHLO, .tls = true,
	 .offered = true, .last = 220, .rx_plain = C_EHLO C_STARTTLS, .rx_tls = C_EHLO},
};

/* clang-format on */

static void expect_brief(const char *name, const char *what, size_t t, size_t i,
			 const struct smtp_brief *got, const struct want *w)
{
	const char *enh = w->enh != NULL ? w->enh : "";
	ck_assert_msg(
		got->code == w->code && strcmp(got->enhanced, enh) == 0 && got->local == w->local,
		"%s: txn %zu %s %zu: got %d \"%s\" local=%d (%s), expected %d \"%s\" local=%d",
		name, t, what, i, got->code, got->enhanced, got->local, got->text, w->code, enh,
		w->local);
	if (got->code != 0)
		ck_assert_msg(got->text[0] != '\0', "%s: txn %zu %s: no text", name, t, what);
}

/* txn_done: called once per ended transaction, in order, with the transaction done. */
struct txn_calls {
	const struct mails *m;
	size_t n;
	bool out_of_order;
};

static void count_txn(void *arg, size_t i, bool tls)
{
	(void)tls;
	struct txn_calls *c = arg;
	if (i != c->n || i >= c->m->n || !c->m->txn[i].done)
		c->out_of_order = true;
	c->n++;
}

START_TEST(session_scripted)
{
	const struct scenario *sc = &scenarios[_i];
	const char *name = sc->name;
	struct fake f;
	fake_start(&f, sc->script, 0);
	struct harness h;
	harness_init(&h);
	struct mails m = {0};
	const char *const dflt[] = {"b@y"};
	const char *const *rcpts = dflt;
	size_t nrcpts = 1;
	if (sc->rcpts[0] != NULL) {
		rcpts = sc->rcpts;
		for (nrcpts = 0; nrcpts < MAX_RCPTS && rcpts[nrcpts] != NULL; nrcpts++)
			;
	}
	for (size_t i = 0; i < MAX_TXNS && sc->msg[i] != NULL; i++)
		mails_add(&m, sc->from != NULL ? sc->from : "a@x", rcpts, nrcpts,
			  (const unsigned char *)sc->msg[i], strlen(sc->msg[i]), sc->smtputf8);
	for (size_t i = 0; i < m.n; i++)
		m.txn[i].requiretls = sc->requiretls;
	struct smtp_session_req req;
	req_init(&req, &f, sc->mode, &m, &h);
	struct txn_calls calls = {.m = &m};
	req.txn_done = count_txn;
	req.txn_done_arg = &calls;
	const unsigned *over = &sc->to.connect;
	unsigned *t = &req.timeouts.connect;
	for (size_t i = 0; i < sizeof req.timeouts / sizeof *t; i++)
		if (over[i] != 0)
			t[i] = over[i];

	ck_assert_int_eq(smtp_session_start(h.base, &req, on_session, &h, &h.session), MXTLS_OK);
	ck_assert_ptr_nonnull(h.session);
	ck_assert_int_eq(h.calls, 0); /* never from inside smtp_session_start() */
	harness_run(&h);
	fake_join(&f);

	const struct smtp_session_result *r = &h.res;
	if (getenv("MXTLS_TEST_DEBUG") != NULL)
		fprintf(stderr, "%s: %s in %s: %s\n", name, mxtls_strerror(r->error),
			smtp_stage_name(r->stage), r->reason);
	ck_assert_msg(h.calls == 1, "%s: callback ran %d times", name, h.calls);
	ck_assert_msg(r->error == sc->error && r->stage == sc->stage,
		      "%s: ended with %s in %s (%s), expected %s in %s", name,
		      mxtls_strerror(r->error), smtp_stage_name(r->stage), r->reason,
		      mxtls_strerror(sc->error), smtp_stage_name(sc->stage));
	ck_assert_msg(r->tls_result == sc->tls_result, "%s: tls_result %s, expected %s (%s)", name,
		      mxtls_result_name(r->tls_result), mxtls_result_name(sc->tls_result),
		      r->reason);
	ck_assert_msg(r->reason[0] != '\0', "%s: no reason", name);
	if (sc->why != NULL)
		ck_assert_msg(strstr(r->reason, sc->why) != NULL, "%s: reason \"%s\", not \"%s\"",
			      name, r->reason, sc->why);
	ck_assert_msg(r->connected, "%s: not connected", name);
	ck_assert_msg(r->tls == sc->tls, "%s: tls %d", name, r->tls);
	ck_assert_msg(r->starttls_offered == sc->offered, "%s: starttls_offered %d", name,
		      r->starttls_offered);
	ck_assert_msg(r->used_helo == sc->helo, "%s: used_helo %d", name, r->used_helo);
	ck_assert_msg(r->txns_done == sc->txns_done, "%s: txns_done %zu, expected %zu", name,
		      r->txns_done, sc->txns_done);
	ck_assert_msg(calls.n == sc->txns_done && !calls.out_of_order,
		      "%s: txn_done called %zu times (out of order: %d), expected %zu", name, calls.n,
		      calls.out_of_order, sc->txns_done);
	if (sc->last != 0)
		ck_assert_msg(r->last.code == sc->last, "%s: last reply %d, expected %d", name,
			      r->last.code, sc->last);
	for (size_t i = 0; i < m.n; i++) {
		const struct smtp_txn *x = &m.txn[i];
		ck_assert_msg(x->done == (i < sc->txns_done), "%s: txn %zu done=%d", name, i,
			      x->done);
		expect_brief(name, "mail", i, 0, &x->mail, &sc->mail[i]);
		expect_brief(name, "data", i, 0, &x->data, &sc->data[i]);
		for (size_t k = 0; k < x->nrcpts; k++)
			expect_brief(name, "rcpt", i, k, &x->rcpt[k], &sc->rcpt[i][k]);
	}

	/* The server's side: the whole script ran, and what it received. */
	ck_assert_msg(f.accepted, "%s: the server saw no connection", name);
	ck_assert_msg(!f.timed_out, "%s: the server waited in vain at step %zu", name, f.steps);
	ck_assert_msg(f.steps == f.nsteps, "%s: the server stopped at step %zu of %zu", name,
		      f.steps, f.nsteps);
	if (sc->error == MXTLS_OK)
		ck_assert_msg(!f.send_failed, "%s: the client hung up on the server", name);
	expect_rx(name, "cleartext", &f.plain, sc->rx_plain, sc->plain_prefix, sc->quit_ok);
	if (sc->rx_tls == NULL) {
		ck_assert_msg(!f.handshake_ok && f.crypt.len == 0, "%s: a TLS session happened",
			      name);
		ck_assert_msg(h.verify_calls == 0, "%s: verify() ran without TLS", name);
		ck_assert_msg(r->tls_version[0] == '\0', "%s: tls_version \"%s\"", name,
			      r->tls_version);
	} else {
		ck_assert_msg(f.handshake_ok, "%s: no handshake (%s)", name,
			      gnutls_strerror(f.handshake_rc));
		expect_rx(name, "TLS", &f.crypt, sc->rx_tls, false, sc->quit_ok);
		/* RFC 7672 §8.1, RFC 8461 §7.1: SNI is the name the caller gave. */
		ck_assert_str_eq(f.sni, req.sni);
		char v[40];
		snprintf(v, sizeof v, "TLSv%s", f.version + 3);
		ck_assert_str_eq(r->tls_version, v);
		ck_assert_msg(strcmp(r->tls_version, "TLSv1.3") == 0 ||
				      strcmp(r->tls_version, "TLSv1.2") == 0,
			      "%s: %s", name, r->tls_version);
		ck_assert_msg(r->tls_suite[0] != '\0', "%s: no suite", name);
		/* verify() saw the server's own certificate, once. */
		ck_assert_int_eq(h.verify_calls, 1);
		ck_assert_uint_eq(h.chain_len, 1);
		ck_assert(h.leaf_matches);
	}
	/* TLS could not be had: not one byte of the mail went out in cleartext. */
	if (sc->mode == SMTP_TLS_REQUIRED || sc->error == MXTLS_E_TLS) {
		ck_assert_msg(memmem(f.plain.data != NULL ? f.plain.data : "", f.plain.len, "MAIL",
				     4) == NULL,
			      "%s: MAIL went out in cleartext", name);
	}
	mails_free(&m);
	harness_free(&h);
	fake_free(&f);
}
END_TEST

/* ---- verify() verdicts --------------------------------------------------------------------- */

static const enum mxtls_result verdicts[] = {
	MXTLS_RESULT_CERTIFICATE_HOST_MISMATCH,
	MXTLS_RESULT_CERTIFICATE_NOT_TRUSTED,
	MXTLS_RESULT_TLSA_INVALID,
};

/* 6. A verdict other than OK ends the session after the handshake: MXTLS_E_TLS with that
 * result, nothing sent inside TLS (not even EHLO), no MAIL anywhere. */
START_TEST(verify_refuses)
{
	struct fake f;
	fake_start(&f, SCRIPT(GREET, L, S(R_EHLO_TLS), STARTTLS, EOFS), 0);
	struct harness h;
	harness_init(&h);
	h.verdict = verdicts[_i];
	struct mails m = {0};
	const char *const rcpts[] = {"b@y"};
	mails_add(&m, "a@x", rcpts, 1, (const unsigned char *)MSG_A, strlen(MSG_A), false);
	struct smtp_session_req req;
	req_init(&req, &f, SMTP_TLS_REQUIRED, &m, &h);
	ck_assert_int_eq(smtp_session_start(h.base, &req, on_session, &h, NULL), MXTLS_OK);
	harness_run(&h);
	fake_join(&f);
	ck_assert_int_eq(h.calls, 1);
	ck_assert_int_eq(h.res.error, MXTLS_E_TLS);
	ck_assert_int_eq(h.res.tls_result, verdicts[_i]);
	ck_assert_int_eq(h.res.stage, SMTP_STAGE_VERIFY);
	ck_assert(!h.res.tls);
	ck_assert_uint_eq(h.res.txns_done, 0);
	ck_assert_ptr_nonnull(strstr(h.res.reason, mxtls_result_name(verdicts[_i])));
	ck_assert_int_eq(h.verify_calls, 1);
	ck_assert_uint_eq(h.chain_len, 1);
	ck_assert(h.leaf_matches); /* the DER the server sent, byte for byte */
	ck_assert(f.handshake_ok);
	ck_assert_str_eq(f.sni, "mx.example.test");
	ck_assert(!f.timed_out);
	ck_assert_uint_eq(f.steps, f.nsteps);
	expect_rx("verify", "cleartext", &f.plain, C_EHLO C_STARTTLS, false, false);
	expect_rx("verify", "TLS", &f.crypt, "", false, false);
	ck_assert_int_eq(m.txn[0].mail.code, 0);
	ck_assert(!m.txn[0].done);
	mails_free(&m);
	harness_free(&h);
	fake_free(&f);
}
END_TEST

/* No SNI when the caller gives no name. */
START_TEST(no_sni)
{
	struct fake f;
	fake_start(&f, SCRIPT(GREET, L, S(R_EHLO_TLS), STARTTLS, L, S(R_EHLO), DELIVER, QUIT_TAIL),
		   0);
	struct harness h;
	harness_init(&h);
	struct mails m = {0};
	const char *const rcpts[] = {"b@y"};
	mails_add(&m, "a@x", rcpts, 1, (const unsigned char *)MSG_B, strlen(MSG_B), false);
	struct smtp_session_req req;
	req_init(&req, &f, SMTP_TLS_REQUIRED, &m, &h);
	req.sni = NULL;
	req.verify = NULL; /* any certificate */
	ck_assert_int_eq(smtp_session_start(h.base, &req, on_session, &h, NULL), MXTLS_OK);
	harness_run(&h);
	fake_join(&f);
	ck_assert_int_eq(h.calls, 1);
	ck_assert_int_eq(h.res.error, MXTLS_OK);
	ck_assert(h.res.tls);
	ck_assert(f.handshake_ok);
	ck_assert_str_eq(f.sni, "");
	ck_assert_int_eq(h.verify_calls, 0);
	ck_assert_uint_eq(h.res.txns_done, 1);
	/* RFC 8460 §4.4 sending-mta-ip and receiving-mx-helo (the EHLO reply's name). */
	ck_assert_str_eq(h.res.local_ip, "127.0.0.1");
	ck_assert_str_eq(h.res.server_name, "mx.example.test");
	expect_rx("no-sni", "TLS", &f.crypt,
		  C_EHLO "MAIL FROM:<a@x> SIZE=" SIZE_B "\r\n" C_RCPT("b@y")
			  C_DATA PAYLOAD_B C_QUIT,
		  false, false);
	mails_free(&m);
	harness_free(&h);
	fake_free(&f);
}
END_TEST

/* ---- large payloads: partial writes, in cleartext and inside TLS ------------------------------
 */

/* A message of about 3 MiB: many writes return short or would block. */
static unsigned char *big_message(size_t lines, size_t *len)
{
	const size_t width = 78;
	unsigned char *msg = malloc(lines * (width + 2));
	ck_assert_ptr_nonnull(msg);
	size_t k = 0;
	for (size_t i = 0; i < lines; i++) {
		int n = snprintf((char *)msg + k, width + 1, "%s%08zu ", i % 7 == 0 ? "." : "", i);
		k += (size_t)n;
		for (size_t j = (size_t)n; j < width; j++)
			msg[k++] = (unsigned char)('a' + (i + j) % 26);
		msg[k++] = '\r';
		msg[k++] = '\n';
	}
	*len = k;
	return msg;
}

static const bool big_tls[] = {false, true};

START_TEST(large_payload)
{
	bool tls = big_tls[_i];
	/* (Compound literals here live as long as the function, which the server thread needs.) */
	const struct step *script = tls ? SCRIPT(GREET, L, S(R_EHLO_TLS), STARTTLS, L,
						 S(R_EHLO_NOEXT), DELIVER, QUIT_TAIL)
					: SCRIPT(GREET, L, S(R_EHLO_NOEXT), DELIVER, QUIT_TAIL);
	struct fake f;
	fake_start(&f, script, 16384);
	struct harness h;
	harness_init(&h);
	struct mails m = {0};
	const char *const rcpts[] = {"b@y"};
	size_t len;
	unsigned char *msg = big_message(40000, &len);
	mails_add(&m, "a@x", rcpts, 1, msg, len, false);
	free(msg);
	struct smtp_session_req req;
	req_init(&req, &f, tls ? SMTP_TLS_REQUIRED : SMTP_TLS_MAY, &m, &h);
	ck_assert_int_eq(smtp_session_start(h.base, &req, on_session, &h, NULL), MXTLS_OK);
	harness_run(&h);
	fake_join(&f);
	ck_assert_int_eq(h.calls, 1);
	ck_assert_msg(h.res.error == MXTLS_OK, "%s (server at step %zu of %zu, timed out %d)",
		      h.res.reason, f.steps, f.nsteps, f.timed_out);
	ck_assert_int_eq(h.res.tls, tls);
	ck_assert_uint_eq(h.res.txns_done, 1);
	ck_assert_int_eq(m.txn[0].data.code, 250);
	ck_assert(!f.timed_out);
	ck_assert_uint_eq(f.steps, f.nsteps);
	/* Every byte of the payload arrived, in order, once. */
	struct util_buf want;
	util_buf_init(&want, 64u << 20);
	ck_assert_int_eq(util_buf_appendf(&want, "%s%s%s%s", C_EHLO, "MAIL FROM:<a@x>\r\n",
					  C_RCPT("b@y"), C_DATA),
			 MXTLS_OK);
	ck_assert_int_eq(util_buf_append(&want, m.payload[0].data, m.payload[0].len), MXTLS_OK);
	ck_assert_int_eq(util_buf_append_str(&want, C_QUIT), MXTLS_OK);
	const struct util_buf *got = tls ? &f.crypt : &f.plain;
	ck_assert_uint_eq(got->len, want.len);
	ck_assert(memcmp(got->data, want.data, want.len) == 0);
	util_buf_free(&want);
	mails_free(&m);
	harness_free(&h);
	fake_free(&f);
}
END_TEST

/* RFC 2920: a thousand recipients with long addresses go out as one pipelined group (more than
 * 64 KiB of commands); every RCPT is answered and the message is delivered. */
#define MANY_RCPTS 1000
START_TEST(many_recipients_pipelined)
{
	struct fake f;
	fake_start(&f,
		   SCRIPT(GREET, L, S(R_EHLO_PIPE), U(C_DATA), OK_MAIL,
			  {OP_REPEAT, "250 2.1.5 recipient ok\r\n", MANY_RCPTS}, GO_DATA, DOT, OK_DATA,
			  QUIT_TAIL),
		   0);
	struct harness h;
	harness_init(&h);
	static char addr[MANY_RCPTS][96];
	static const char *rcpts[MANY_RCPTS];
	static struct smtp_brief briefs[MANY_RCPTS];
	struct util_buf want;
	util_buf_init(&want, 1u << 20);
	ck_assert_int_eq(util_buf_append_str(&want, C_EHLO "MAIL FROM:<a@x> SIZE=" SIZE_B "\r\n"),
			 MXTLS_OK);
	for (size_t i = 0; i < MANY_RCPTS; i++) {
		snprintf(addr[i], sizeof addr[i],
			 "recipient-%04zu-with-a-rather-long-local-part@example.test", i);
		rcpts[i] = addr[i];
		ck_assert_int_eq(util_buf_appendf(&want, "RCPT TO:<%s>\r\n", addr[i]), MXTLS_OK);
	}
	ck_assert_int_eq(util_buf_append_str(&want, C_DATA PAYLOAD_B C_QUIT), MXTLS_OK);
	ck_assert_uint_gt(want.len, 64u * 1024);
	struct mails m = {0};
	mails_add(&m, "a@x", rcpts, 1, (const unsigned char *)MSG_B, strlen(MSG_B), false);
	m.txn[0].nrcpts = MANY_RCPTS;
	m.txn[0].rcpt = briefs;
	struct smtp_session_req req;
	req_init(&req, &f, SMTP_TLS_MAY, &m, &h);
	ck_assert_int_eq(smtp_session_start(h.base, &req, on_session, &h, NULL), MXTLS_OK);
	harness_run(&h);
	fake_join(&f);
	ck_assert_int_eq(h.calls, 1);
	ck_assert_msg(h.res.error == MXTLS_OK, "%s in %s", h.res.reason,
		      smtp_stage_name(h.res.stage));
	ck_assert_uint_eq(h.res.txns_done, 1);
	ck_assert(m.txn[0].done);
	ck_assert_int_eq(m.txn[0].mail.code, 250);
	for (size_t i = 0; i < MANY_RCPTS; i++)
		ck_assert_msg(briefs[i].code == 250, "rcpt %zu: %d", i, briefs[i].code);
	ck_assert_int_eq(m.txn[0].data.code, 250);
	ck_assert(!f.timed_out);
	ck_assert_uint_eq(f.steps, f.nsteps);
	ck_assert_uint_eq(f.plain.len, want.len);
	ck_assert(memcmp(f.plain.data, want.data, want.len) == 0);
	util_buf_free(&want);
	mails_free(&m);
	harness_free(&h);
	fake_free(&f);
}
END_TEST

/* §4.5.3.2.5: a server that stops reading mid-payload; the data_block limit ends the session. */
START_TEST(timeout_data_block)
{
	struct fake f;
	fake_start(&f,
		   SCRIPT(GREET, L, S(R_EHLO_NOEXT), L, OK_MAIL, L, OK_RCPT, L, GO_DATA,
			  {OP_WAIT, NULL, 0}, EOFS),
		   4096);
	struct harness h;
	harness_init(&h);
	struct mails m = {0};
	const char *const rcpts[] = {"b@y"};
	size_t len;
	unsigned char *msg = big_message(160000, &len); /* 12.8 MB: more than any socket holds */
	mails_add(&m, "a@x", rcpts, 1, msg, len, false);
	free(msg);
	struct smtp_session_req req;
	req_init(&req, &f, SMTP_TLS_MAY, &m, &h);
	req.timeouts.data_block = 200;
	ck_assert_int_eq(smtp_session_start(h.base, &req, on_session, &h, NULL), MXTLS_OK);
	harness_run(&h);
	fake_join(&f);
	ck_assert_int_eq(h.calls, 1);
	ck_assert_msg(h.res.error == MXTLS_E_TIMEOUT, "%s", h.res.reason);
	ck_assert_int_eq(h.res.stage, SMTP_STAGE_DATA);
	ck_assert_uint_eq(h.res.txns_done, 0);
	ck_assert_int_eq(m.txn[0].data.code, 0);
	ck_assert(!m.txn[0].done);
	ck_assert(!f.timed_out);
	ck_assert_uint_eq(f.steps, f.nsteps);
	/* Part of the payload, never its end. */
	const char *head = C_EHLO "MAIL FROM:<a@x>\r\n" C_RCPT("b@y") C_DATA;
	expect_rx("data-block", "cleartext", &f.plain, head, true, false);
	ck_assert_uint_lt(f.plain.len, strlen(head) + m.payload[0].len);
	ck_assert_ptr_null(memmem(f.plain.data, f.plain.len, "\r\n.\r\n", 5));
	mails_free(&m);
	harness_free(&h);
	fake_free(&f);
}
END_TEST

/* ---- connect, bad requests, cancel -------------------------------------------------------- */

/* 17. Nothing listens: an I/O error at the connect stage. */
START_TEST(connect_refused)
{
	/* A port that is bound and not listening: nobody can take it meanwhile. */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	socklen_t slen = sizeof sin;
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
	struct harness h;
	harness_init(&h);
	struct mails m = {0};
	const char *const rcpts[] = {"b@y"};
	mails_add(&m, "a@x", rcpts, 1, (const unsigned char *)MSG_B, strlen(MSG_B), false);
	struct smtp_session_req req;
	req_init(&req, NULL, SMTP_TLS_MAY, &m, &h);
	req.port = ntohs(sin.sin_port);
	ck_assert_int_eq(smtp_session_start(h.base, &req, on_session, &h, NULL), MXTLS_OK);
	ck_assert_int_eq(h.calls, 0);
	harness_run(&h);
	ck_assert_int_eq(h.calls, 1);
	ck_assert_int_eq(h.res.error, MXTLS_E_IO);
	ck_assert_int_eq(h.res.stage, SMTP_STAGE_CONNECT);
	ck_assert(!h.res.connected);
	ck_assert_ptr_nonnull(strstr(h.res.reason, "refused"));
	ck_assert_uint_eq(h.res.txns_done, 0);
	close(fd);
	mails_free(&m);
	harness_free(&h);
}
END_TEST

/* The connect limit: a listener whose accept queue is full drops the SYN. */
START_TEST(connect_timeout)
{
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(listen(lfd, 0), 0);
	socklen_t slen = sizeof sin;
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &slen), 0);
	/* One connection, established, fills the queue (backlog 0 holds one). */
	int filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(connect(filler, (struct sockaddr *)&sin, sizeof sin), 0);
	struct harness h;
	harness_init(&h);
	struct mails m = {0};
	const char *const rcpts[] = {"b@y"};
	mails_add(&m, "a@x", rcpts, 1, (const unsigned char *)MSG_B, strlen(MSG_B), false);
	struct smtp_session_req req;
	req_init(&req, NULL, SMTP_TLS_MAY, &m, &h);
	req.port = ntohs(sin.sin_port);
	req.timeouts.connect = 200;
	ck_assert_int_eq(smtp_session_start(h.base, &req, on_session, &h, NULL), MXTLS_OK);
	harness_run(&h);
	ck_assert_int_eq(h.calls, 1);
	ck_assert_msg(h.res.error == MXTLS_E_TIMEOUT, "%s", h.res.reason);
	ck_assert_int_eq(h.res.stage, SMTP_STAGE_CONNECT);
	ck_assert(!h.res.connected);
	close(filler);
	close(lfd);
	mails_free(&m);
	harness_free(&h);
}
END_TEST

/* 18. Requests that must be refused before anything happens. */
enum bad {
	BAD_FROM_SPACE,
	BAD_FROM_ANGLE,
	BAD_FROM_CRLF,
	BAD_FROM_LONG,
	BAD_RCPT_ANGLE,
	BAD_RCPT_EMPTY,
	BAD_RCPT_DEL,
	BAD_NO_RCPTS,
	BAD_RCPT_ARRAY,
	BAD_HELO_CTRL,
	BAD_HELO_SPACE,
	BAD_HELO_EMPTY,
	BAD_HELO_NULL,
	BAD_TXNS_NULL,
	BAD_PAYLOAD_NULL,
	BAD_FAMILY,
	BAD_BASE,
	BAD_CB,
	BAD_COUNT,
};

START_TEST(invalid_request)
{
	struct harness h;
	harness_init(&h);
	struct mails m = {0};
	const char *rcpts[] = {"b@y", "c@y"};
	mails_add(&m, "a@x", rcpts, 2, (const unsigned char *)MSG_B, strlen(MSG_B), false);
	struct smtp_session_req req;
	struct fake dummy = {.port = 9};
	req_init(&req, &dummy, SMTP_TLS_MAY, &m, &h);
	char long_from[300];
	memset(long_from, 'a', sizeof long_from - 1);
	long_from[sizeof long_from - 1] = '\0';
	long_from[10] = '@';
	struct event_base *base = h.base;
	smtp_session_callback cb = on_session;
	switch ((enum bad)_i) {
	case BAD_FROM_SPACE:
		m.txn[0].mail_from = "a b@x";
		break;
	case BAD_FROM_ANGLE:
		m.txn[0].mail_from = "<a@x>";
		break;
	case BAD_FROM_CRLF:
		m.txn[0].mail_from = "a@x>\r\nRCPT TO:<evil@z";
		break;
	case BAD_FROM_LONG:
		m.txn[0].mail_from = long_from;
		break;
	case BAD_RCPT_ANGLE:
		rcpts[1] = "c@y> NOTIFY=NEVER";
		break;
	case BAD_RCPT_EMPTY:
		rcpts[1] = "";
		break;
	case BAD_RCPT_DEL:
		rcpts[0] = "b\x7f@y";
		break;
	case BAD_NO_RCPTS:
		m.txn[0].nrcpts = 0;
		break;
	case BAD_RCPT_ARRAY:
		m.txn[0].rcpt = NULL;
		break;
	case BAD_HELO_CTRL:
		req.helo = "client\x01.test";
		break;
	case BAD_HELO_SPACE:
		req.helo = "client.test MAIL";
		break;
	case BAD_HELO_EMPTY:
		req.helo = "";
		break;
	case BAD_HELO_NULL:
		req.helo = NULL;
		break;
	case BAD_TXNS_NULL:
		req.txns = NULL;
		break;
	case BAD_PAYLOAD_NULL:
		m.txn[0].payload = NULL;
		break;
	case BAD_FAMILY:
		req.family = AF_UNIX;
		break;
	case BAD_BASE:
		base = NULL;
		break;
	case BAD_CB:
		cb = NULL;
		break;
	case BAD_COUNT:
		break;
	}
	struct smtp_session *s = (struct smtp_session *)&h; /* must stay as it is */
	int rc = smtp_session_start(base, &req, cb, &h, &s);
	ck_assert_msg(rc == MXTLS_E_INVAL, "bad request %d: %s", _i, mxtls_strerror(rc));
	ck_assert_ptr_eq(s, (struct smtp_session *)&h);
	event_del(h.watchdog);
	harness_run(&h); /* nothing is left on the loop */
	ck_assert_int_eq(h.calls, 0);
	mails_free(&m);
	harness_free(&h);
}
END_TEST

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct harness *h = arg;
	char c;
	ck_assert_int_eq(read(fd, &c, 1), 1);
	smtp_session_cancel(h->session);
	h->session = NULL;
	event_del(h->watchdog);
}

/* 19. Cancelled while it waits for the EHLO reply: no callback, the connection is closed, and
 * nothing is left on the loop (ASan checks for leaks). */
START_TEST(cancel_mid_session)
{
	struct fake f;
	fake_start(&f, SCRIPT(GREET, L, {OP_SIGNAL, NULL, 0}, EOFS), 0);
	struct harness h;
	harness_init(&h);
	struct event *sig = event_new(h.base, f.sig[0], EV_READ, on_signal, &h);
	ck_assert_ptr_nonnull(sig);
	event_add(sig, NULL);
	struct mails m = {0};
	const char *const rcpts[] = {"b@y"};
	mails_add(&m, "a@x", rcpts, 1, (const unsigned char *)MSG_B, strlen(MSG_B), false);
	struct smtp_session_req req;
	req_init(&req, &f, SMTP_TLS_MAY, &m, &h);
	ck_assert_int_eq(smtp_session_start(h.base, &req, on_session, &h, &h.session), MXTLS_OK);
	harness_run(&h);
	fake_join(&f);
	ck_assert_int_eq(h.calls, 0);
	ck_assert_ptr_null(h.session);
	ck_assert(f.eof);
	ck_assert(!f.timed_out);
	ck_assert_uint_eq(f.steps, f.nsteps);
	expect_rx("cancel", "cleartext", &f.plain, C_EHLO, false, false);
	event_free(sig);
	mails_free(&m);
	harness_free(&h);
	fake_free(&f);
}
END_TEST

/* Cancelled before the loop ran (connecting to a live server, or to a port that refuses):
 * the callback never runs, nothing is left on the loop. */
static const bool cancel_refused[] = {false, true};

START_TEST(cancel_at_once)
{
	struct fake f;
	fake_start(&f, SCRIPT(EOFS), 0);
	int port_fd = -1;
	uint16_t port = f.port;
	if (cancel_refused[_i]) {
		port_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ck_assert_int_eq(bind(port_fd, (struct sockaddr *)&sin, sizeof sin), 0);
		socklen_t slen = sizeof sin;
		ck_assert_int_eq(getsockname(port_fd, (struct sockaddr *)&sin, &slen), 0);
		port = ntohs(sin.sin_port);
	}
	struct harness h;
	harness_init(&h);
	struct mails m = {0};
	const char *const rcpts[] = {"b@y"};
	mails_add(&m, "a@x", rcpts, 1, (const unsigned char *)MSG_B, strlen(MSG_B), false);
	struct smtp_session_req req;
	req_init(&req, &f, SMTP_TLS_MAY, &m, &h);
	req.port = port;
	ck_assert_int_eq(smtp_session_start(h.base, &req, on_session, &h, &h.session), MXTLS_OK);
	smtp_session_cancel(h.session);
	event_del(h.watchdog);
	harness_run(&h);
	fake_join(&f);
	ck_assert_int_eq(h.calls, 0);
	if (port_fd >= 0)
		close(port_fd);
	mails_free(&m);
	harness_free(&h);
	fake_free(&f);
}
END_TEST

/* Cancelled after the session ended but before its callback ran (verify() refused and stopped
 * the loop at once): the queued callback is dropped with the session. */
START_TEST(cancel_after_end)
{
	struct fake f;
	fake_start(&f, SCRIPT(GREET, L, S(R_EHLO_TLS), STARTTLS, EOFS), 0);
	struct harness h;
	harness_init(&h);
	h.verdict = MXTLS_RESULT_CERTIFICATE_NOT_TRUSTED;
	h.break_in_verify = true;
	struct mails m = {0};
	const char *const rcpts[] = {"b@y"};
	mails_add(&m, "a@x", rcpts, 1, (const unsigned char *)MSG_B, strlen(MSG_B), false);
	struct smtp_session_req req;
	req_init(&req, &f, SMTP_TLS_REQUIRED, &m, &h);
	ck_assert_int_eq(smtp_session_start(h.base, &req, on_session, &h, &h.session), MXTLS_OK);
	ck_assert_int_ge(event_base_dispatch(h.base), 0);
	ck_assert_int_eq(h.verify_calls, 1);
	ck_assert_int_eq(h.calls, 0);
	smtp_session_cancel(h.session);
	event_del(h.watchdog);
	harness_run(&h);
	fake_join(&f);
	ck_assert_int_eq(h.calls, 0);
	ck_assert(f.handshake_ok);
	ck_assert(!f.timed_out);
	ck_assert_uint_eq(f.steps, f.nsteps);
	expect_rx("cancel-after-end", "TLS", &f.crypt, "", false, false);
	mails_free(&m);
	harness_free(&h);
	fake_free(&f);
}
END_TEST

/* The messages the scenarios use encode as the tables say (a check on the tables). */
START_TEST(payloads_as_written)
{
	static const struct {
		const char *msg, *payload;
		size_t size;
		bool eightbit;
	} p[] = {
		{MSG_A, PAYLOAD_A, 37, false},
		{MSG_B, PAYLOAD_B, 4, false},
		{MSG_8, PAYLOAD_8, 29, true},
	};
	for (size_t i = 0; i < ARRAY_LEN(p); i++) {
		struct util_buf b;
		util_buf_init(&b, 4096);
		struct smtp_data_info info;
		ck_assert_int_eq(smtp_data_encode((const unsigned char *)p[i].msg, strlen(p[i].msg),
						  &b, &info),
				 MXTLS_OK);
		ck_assert_str_eq(b.data, p[i].payload);
		ck_assert_uint_eq(info.size, p[i].size);
		ck_assert_int_eq(info.eightbit, p[i].eightbit);
		util_buf_free(&b);
	}
	ck_assert_int_eq(atoi(SIZE_A), 37);
	ck_assert_int_eq(atoi(SIZE_B), 4);
	ck_assert_int_eq(atoi(SIZE_8), 29);
}
END_TEST

static Suite *smtp_client_suite(void)
{
	Suite *s = suite_create("smtp_client");
	TCase *tc = tcase_create("scripted");
	tcase_add_unchecked_fixture(tc, make_certificate, free_certificate);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, payloads_as_written);
	tcase_add_loop_test(tc, session_scripted, 0, ARRAY_LEN(scenarios));
	tcase_add_loop_test(tc, verify_refuses, 0, ARRAY_LEN(verdicts));
	tcase_add_test(tc, no_sni);
	tcase_add_loop_test(tc, large_payload, 0, ARRAY_LEN(big_tls));
	tcase_add_test(tc, many_recipients_pipelined);
	tcase_add_test(tc, timeout_data_block);
	tcase_add_test(tc, cancel_after_end);
	suite_add_tcase(s, tc);
	tc = tcase_create("lifecycle");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, connect_refused);
	tcase_add_test(tc, connect_timeout);
	tcase_add_loop_test(tc, invalid_request, 0, BAD_COUNT);
	tcase_add_test(tc, cancel_mid_session);
	tcase_add_loop_test(tc, cancel_at_once, 0, ARRAY_LEN(cancel_refused));
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(smtp_client_suite)
