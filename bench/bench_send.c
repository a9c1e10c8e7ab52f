/* SPDX-License-Identifier: MIT */
/* bench_send: messages per second over STARTTLS, mxtls's SMTP client vs smtplib and swaks. */
/*
 * A benchmark, not a test: it prints figures and never asserts a speed.  Every message is
 * checked (the client's replies, and the receiver's own count of accepted messages must equal
 * the senders' count), and a wrong or failed one stops the run (exit 1).
 *
 * Runs on loopback inside a network namespace (tests/net/run-with-dns.sh creates one; as
 * registered in meson.build); as a normal user the wrapper skips it (exit 77).
 *
 * The receiver (forked at start, one thread per connection, GnuTLS server side): a self-signed
 * ECDSA P-256 certificate for mx.bench.test made at start with GnuTLS' x509 API; it answers
 * EHLO (PIPELINING, SIZE, 8BITMIME, STARTTLS), STARTTLS, MAIL, RCPT, DATA (the message is read
 * and discarded), RSET, NOOP, QUIT; replies to pipelined commands go out in one write.
 *
 * The message: 2048 bytes (headers and 72-column text), one recipient.  The senders:
 *   mxtls    smtp_session_start() (smtp/smtp_client.h, internal) on one libevent loop, with
 *            SMTP_TLS_REQUIRED, SNI mx.bench.test, and the validator's verify callback
 *            (host_verify(), validator/host_verify.h) doing a real DANE-EE check against the
 *            TLSA record 3 1 1 <SHA-256 of the certificate's key>; MAIL, RCPT and DATA are
 *            pipelined (RFC 2920) because the server offers it.
 *   python   /usr/bin/python3 smtplib (bench_send_peer.py): starttls() with a context that
 *            does not verify, sendmail(); one command at a time.  Concurrent sessions are
 *            separate processes.
 *   swaks    one process per message: swaks --tls --data @FILE (no verification, no
 *            pipelining); concurrent sessions are concurrent processes.
 * Rows:
 *   a1  one connection per message (TCP + TLS handshake + EHLO twice + 1 message + QUIT),
 *       one session at a time
 *   a8  the same with 8 sessions at a time
 *   b1  100 messages per connection, one session at a time
 *   b8  100 messages per connection, 8 sessions at a time
 *   a1q, a8q, b1q, b8q  the same with a receiver that sets TCP_QUICKACK before every read.
 *       A sender that writes twice in a row without waiting for a reply (the TLS Finished,
 *       then EHLO) has its second write held by Nagle's algorithm until the first is ACKed,
 *       and a Linux receiver with nothing to send delays that ACK by about 40 ms.  Neither
 *       mxtls nor smtplib sets TCP_NODELAY, so the plain rows show that stall (once per
 *       connection) and the q rows what the senders do without it.  The receiver itself sets
 *       TCP_NODELAY (it batches its replies), so it causes no such stall of its own.
 * Timing: each (row, sender) gets -t seconds of wall time (default 3), split into -r rounds
 * (default 3) interleaved across the senders.  A round starts sessions until its time is up
 * and lets the running ones finish; its rate is messages / (time of the last 250 - start).
 * The median round is shown, with the spread (max - min) / median.  CPU per message is over all
 * rounds: the sender's (the bench process for mxtls, the Python processes' own process_time(),
 * and for swaks its processes' user + system time, start-up included, as it is paid per
 * message) and the receiver's (/proc/PID/stat), which shows what each sender costs the server.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <mxtls/config.h>
#include <mxtls/context.h>
#include <mxtls/error.h>

#include "dane/dane_tlsa.h"
#include "delivery/delivery_tlsrpt.h"
#include "delivery/delivery_tlsrpt_result.h"
#include "smtp/smtp_client.h"
#include "smtp/smtp_data.h"
#include "util/util_buf.h"
#include "validator/host_verify.h"

#include "bench_util.h"

#define SERVER_NAME "mx.bench.test"
#define MSG_SIZE    2048
#define TXNS_MAX    100
#define CONC_MAX    8
#define ROUNDS_MAX  15
#define LINE_CAP    16384

static void die(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void die(const char *what, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "bench_send: %s: ", what);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static double cpu_self(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_children(void)
{
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static struct {
	double seconds;
	int rounds;
	const char *rows;
	const char *only;
	const char *python;
	const char *script;
	const char *swaks;
	uint16_t port;
	char tmp[256];
	char msgfile[300];
} opt = {.seconds = 3,
	 .rounds = 3,
	 .rows = "a1,a8,b1,b8,a1q,a8q,b1q,b8q",
	 .python = "/usr/bin/python3",
	 .script = BENCH_SEND_PEER_SCRIPT,
	 .swaks = "swaks",
	 .port = 2525};

/* ---- the certificate -------------------------------------------------------------------- */

static struct {
	gnutls_datum_t cert_pem, key_pem;
	char tlsa[16 + 64 + 1]; /* "3 1 1 <hex>" */
} pki;

static void gt(int rc, const char *what)
{
	if (rc < 0)
		die(what, "%s", gnutls_strerror(rc));
}

static void make_certificate(void)
{
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	gt(gnutls_x509_privkey_init(&key), "gnutls_x509_privkey_init");
	gt(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
	   "gnutls_x509_privkey_generate");
	gt(gnutls_x509_crt_init(&crt), "gnutls_x509_crt_init");
	gt(gnutls_x509_crt_set_version(crt, 3), "set_version");
	unsigned char serial[8];
	gt(gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial), "gnutls_rnd");
	serial[0] &= 0x7f;
	gt(gnutls_x509_crt_set_serial(crt, serial, sizeof serial), "set_serial");
	time_t now = time(NULL);
	gt(gnutls_x509_crt_set_activation_time(crt, now - 3600), "set_activation_time");
	gt(gnutls_x509_crt_set_expiration_time(crt, now + 7 * 86400), "set_expiration_time");
	gt(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, SERVER_NAME,
					 strlen(SERVER_NAME)),
	   "set_dn");
	gt(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, SERVER_NAME,
						strlen(SERVER_NAME), GNUTLS_FSAN_SET),
	   "set_san");
	gt(gnutls_x509_crt_set_basic_constraints(crt, 0, -1), "set_basic_constraints");
	gt(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE), "set_key_usage");
	gt(gnutls_x509_crt_set_key(crt, key), "set_key");
	gt(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), "sign");
	gt(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pki.cert_pem), "export cert");
	gt(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &pki.key_pem), "export key");
	/* RFC 6698 §2.1.2: selector 1 is the DER SubjectPublicKeyInfo, matching type 1 SHA-256. */
	gnutls_pubkey_t pub;
	gnutls_datum_t spki;
	unsigned char digest[32];
	gt(gnutls_pubkey_init(&pub), "gnutls_pubkey_init");
	gt(gnutls_pubkey_import_x509(pub, crt, 0), "gnutls_pubkey_import_x509");
	gt(gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki), "gnutls_pubkey_export2");
	gt(gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, digest), "gnutls_hash_fast");
	int k = snprintf(pki.tlsa, sizeof pki.tlsa, "3 1 1 ");
	for (size_t i = 0; i < sizeof digest; i++)
		k += snprintf(pki.tlsa + k, sizeof pki.tlsa - (size_t)k, "%02x", digest[i]);
	gnutls_free(spki.data);
	gnutls_pubkey_deinit(pub);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
}

/* ---- the receiver (a forked child; one thread per connection) ----------------------------- */

struct server_stats {
	atomic_ulong messages; /* 250 sent after a final "." */
	atomic_ulong handshakes;
	atomic_ulong connections;
	atomic_ulong errors; /* connections that ended without QUIT (I/O or TLS errors) */
	atomic_int quickack; /* set TCP_QUICKACK before every read: no delayed ACKs */
	char last_tls[128];  /* the description of a recent session (racy; for display) */
};

static struct server_stats *stats; /* shared with the child (MAP_SHARED) */
static pid_t server_pid;
static gnutls_certificate_credentials_t server_cred;

struct conn {
	int fd;
	bool quickack;
	gnutls_session_t tls;
	char in[LINE_CAP];
	size_t in_off, in_len;
	char out[4096];
	size_t out_len;
};

/* Before a read in quick-ACK mode: ACK what arrives next at once instead of waiting up to the
 * delayed-ACK timeout (40 ms on Linux) for data to carry the ACK (tcp(7), TCP_QUICKACK: the
 * kernel may leave that mode again, so it is set before every read). */
static void quick_ack(const struct conn *c)
{
	if (c->quickack) {
		int one = 1;
		setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
	}
}

static ssize_t tls_pull(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
	struct conn *c = ptr;
	quick_ack(c);
	ssize_t n = recv(c->fd, data, len, 0);
	if (n < 0)
		gnutls_transport_set_errno(c->tls, errno);
	return n;
}

static ssize_t tls_push(gnutls_transport_ptr_t ptr, const giovec_t *iov, int iovcnt)
{
	struct conn *c = ptr;
	struct msghdr mh = {.msg_iov = (struct iovec *)(void *)iov, .msg_iovlen = (size_t)iovcnt};
	ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
	if (n < 0)
		gnutls_transport_set_errno(c->tls, errno);
	return n;
}

static int tls_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
	struct conn *c = ptr;
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	return poll(&p, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
}

static bool conn_flush(struct conn *c)
{
	size_t off = 0;
	while (off < c->out_len) {
		ssize_t n = c->tls != NULL
				    ? gnutls_record_send(c->tls, c->out + off, c->out_len - off)
				    : send(c->fd, c->out + off, c->out_len - off, MSG_NOSIGNAL);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED || (n < 0 && errno == EINTR))
			continue;
		if (n <= 0)
			return false;
		off += (size_t)n;
	}
	c->out_len = 0;
	return true;
}

static bool reply(struct conn *c, const char *text)
{
	size_t n = strlen(text);
	if (c->out_len + n > sizeof c->out && !conn_flush(c))
		return false;
	memcpy(c->out + c->out_len, text, n);
	c->out_len += n;
	return true;
}

/* The next line without its CRLF (NUL-terminated in place); NULL at EOF or on error.  Replies
 * are flushed only when no complete line is buffered, so pipelined commands get one write. */
static char *conn_line(struct conn *c)
{
	for (;;) {
		char *nl = memchr(c->in + c->in_off, '\n', c->in_len - c->in_off);
		if (nl != NULL) {
			char *line = c->in + c->in_off;
			c->in_off = (size_t)(nl - c->in) + 1;
			*nl = '\0';
			if (nl > line && nl[-1] == '\r')
				nl[-1] = '\0';
			return line;
		}
		if (c->out_len > 0 && !conn_flush(c))
			return NULL;
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
		if (c->in_len == sizeof c->in)
			return NULL; /* a line longer than LINE_CAP */
		ssize_t n;
		if (c->tls == NULL)
			quick_ack(c);
		do {
			n = c->tls != NULL
				    ? gnutls_record_recv(c->tls, c->in + c->in_len,
							 sizeof c->in - c->in_len)
				    : recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
		} while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED ||
			 (n < 0 && errno == EINTR));
		if (n <= 0)
			return NULL;
		c->in_len += (size_t)n;
	}
}

static bool verb(const char *line, const char *v)
{
	size_t n = strlen(v);
	return strncasecmp(line, v, n) == 0 && (line[n] == '\0' || line[n] == ' ');
}

static bool serve_session(struct conn *c)
{
	if (!reply(c, "220 " SERVER_NAME " ESMTP bench_send\r\n"))
		return false;
	char *line;
	while ((line = conn_line(c)) != NULL) {
		bool ok;
		if (verb(line, "EHLO")) {
			ok = reply(c,
				   "250-" SERVER_NAME "\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n"
				   "250-8BITMIME\r\n") &&
			     reply(c, c->tls == NULL ? "250-STARTTLS\r\n250 ENHANCEDSTATUSCODES\r\n"
						     : "250 ENHANCEDSTATUSCODES\r\n");
		} else if (verb(line, "HELO")) {
			ok = reply(c, "250 " SERVER_NAME "\r\n");
		} else if (verb(line, "STARTTLS") && c->tls == NULL) {
			if (!reply(c, "220 2.0.0 Ready to start TLS\r\n") || !conn_flush(c))
				return false;
			c->in_off = c->in_len =
				0; /* RFC 3207 §4: nothing pipelined after STARTTLS */
			if (gnutls_init(&c->tls, GNUTLS_SERVER | GNUTLS_NO_SIGNAL) < 0) {
				c->tls = NULL;
				return false;
			}
			gnutls_set_default_priority(c->tls);
			gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, server_cred);
			gnutls_certificate_server_set_request(c->tls, GNUTLS_CERT_IGNORE);
			gnutls_transport_set_ptr(c->tls, c);
			gnutls_transport_set_pull_function(c->tls, tls_pull);
			gnutls_transport_set_pull_timeout_function(c->tls, tls_pull_timeout);
			gnutls_transport_set_vec_push_function(c->tls, tls_push);
			int rc;
			do {
				rc = gnutls_handshake(c->tls);
			} while (rc < 0 && !gnutls_error_is_fatal(rc));
			if (rc < 0)
				return false;
			atomic_fetch_add(&stats->handshakes, 1);
			char *desc = gnutls_session_get_desc(c->tls);
			if (desc != NULL)
				snprintf(stats->last_tls, sizeof stats->last_tls, "%s", desc);
			gnutls_free(desc);
			continue;
		} else if (verb(line, "MAIL") || strncasecmp(line, "MAIL FROM:", 10) == 0) {
			ok = reply(c, "250 2.1.0 Ok\r\n");
		} else if (verb(line, "RCPT") || strncasecmp(line, "RCPT TO:", 8) == 0) {
			ok = reply(c, "250 2.1.5 Ok\r\n");
		} else if (verb(line, "DATA")) {
			if (!reply(c, "354 End data with <CR><LF>.<CR><LF>\r\n"))
				return false;
			while ((line = conn_line(c)) != NULL && strcmp(line, ".") != 0)
				;
			if (line == NULL)
				return false;
			atomic_fetch_add(&stats->messages, 1);
			ok = reply(c, "250 2.0.0 Ok: queued\r\n");
		} else if (verb(line, "RSET") || verb(line, "NOOP")) {
			ok = reply(c, "250 2.0.0 Ok\r\n");
		} else if (verb(line, "QUIT")) {
			reply(c, "221 2.0.0 Bye\r\n");
			conn_flush(c);
			if (c->tls != NULL)
				gnutls_bye(c->tls, GNUTLS_SHUT_WR);
			return true;
		} else {
			ok = reply(c, "502 5.5.2 Command not recognized\r\n");
		}
		if (!ok)
			return false;
	}
	return false;
}

static void *serve_thread(void *arg)
{
	struct conn *c = arg;
	atomic_fetch_add(&stats->connections, 1);
	if (!serve_session(c))
		atomic_fetch_add(&stats->errors, 1);
	if (c->tls != NULL)
		gnutls_deinit(c->tls);
	close(c->fd);
	free(c);
	return NULL;
}

static void server_main(int lfd)
{
	gt(gnutls_certificate_allocate_credentials(&server_cred), "credentials");
	gt(gnutls_certificate_set_x509_key_mem(server_cred, &pki.cert_pem, &pki.key_pem,
					       GNUTLS_X509_FMT_PEM),
	   "set_x509_key_mem");
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
				continue;
			_exit(3);
		}
		struct conn *c = calloc(1, sizeof *c);
		pthread_t t;
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->quickack = atomic_load(&stats->quickack) != 0;
		/* The receiver batches its replies itself; without Nagle, GnuTLS's server flight
		 * (written in two parts) is not held back waiting for the client's ACK. */
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (pthread_create(&t, &attr, serve_thread, c) != 0) {
			close(fd);
			free(c);
		}
	}
}

static void server_start(void)
{
	stats = mmap(NULL, sizeof *stats, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		     0);
	if (stats == MAP_FAILED)
		die("mmap", "%s", strerror(errno));
	memset(stats, 0, sizeof *stats);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(opt.port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 512) != 0)
		die("listen on 127.0.0.1", "port %u: %s", opt.port, strerror(errno));
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		die("fork", "%s", strerror(errno));
	if (pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		server_main(lfd);
		_exit(0);
	}
	close(lfd);
	server_pid = pid;
}

static void server_stop(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
		server_pid = 0;
	}
}

/* The receiver's CPU time (user + system, all threads) from /proc. */
static double server_cpu(void)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)server_pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	unsigned long ut = 0, st = 0;
	/* Fields after the command: state(3) ... utime(14) stime(15). */
	if (p == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ---- the message ------------------------------------------------------------------------ */

static unsigned char message[MSG_SIZE];
static struct util_buf payload;
static struct smtp_data_info payload_info;

static void make_message(void)
{
	int k = snprintf((char *)message, sizeof message,
			 "From: Sender <sender@client.bench.test>\n"
			 "To: Recipient <rcpt@bench.test>\n"
			 "Subject: bench_send test message\n"
			 "Date: Wed, 25 Nov 2026 12:00:00 +0000\n"
			 "Message-ID: <bench-send@client.bench.test>\n"
			 "MIME-Version: 1.0\n"
			 "Content-Type: text/plain; charset=us-ascii\n\n");
	size_t n = (size_t)k;
	static const char words[] = "the quick brown fox jumps over the lazy dog; ";
	while (n < MSG_SIZE) {
		size_t line = MSG_SIZE - n < 73 ? MSG_SIZE - n : 73; /* 72 columns + LF */
		for (size_t i = 0; i + 1 < line; i++)
			message[n + i] = (unsigned char)words[(n + i) % (sizeof words - 1)];
		message[n + line - 1] = '\n';
		n += line;
	}
	util_buf_init(&payload, 1 << 20);
	if (smtp_data_encode(message, sizeof message, &payload, &payload_info) != MXTLS_OK)
		die("smtp_data_encode", "failed");
	snprintf(opt.msgfile, sizeof opt.msgfile, "%s/message.eml", opt.tmp);
	FILE *f = fopen(opt.msgfile, "w");
	if (f == NULL || fwrite(message, 1, sizeof message, f) != sizeof message || fclose(f) != 0)
		die(opt.msgfile, "cannot write");
}

/* ---- mxtls ------------------------------------------------------------------------------ */

static struct {
	struct dane_tlsa tlsa;
	struct host_dane_result dane;
	struct decision_host host;
	unsigned long verified;
} dv;

static void set_tlsa(const char *text)
{
	dane_tlsa_clear(&dv.tlsa);
	if (dane_tlsa_from_text(text, strlen(text), &dv.tlsa) != MXTLS_OK)
		die("dane_tlsa_from_text", "%s", text);
	memset(&dv.dane, 0, sizeof dv.dane);
	dv.dane.state = HOST_DANE_USABLE;
	dv.dane.tlsa = &dv.tlsa;
	dv.dane.ntlsa = 1;
	dv.dane.usable = dane_tlsa_select(dv.dane.tlsa, 1);
	dv.dane.nnames = 1;
	snprintf(dv.dane.names[0], sizeof dv.dane.names[0], "%s", SERVER_NAME);
	snprintf(dv.dane.tbd, sizeof dv.dane.tbd, "%s", SERVER_NAME);
	memset(&dv.host, 0, sizeof dv.host);
	snprintf(dv.host.name, sizeof dv.host.name, "%s", SERVER_NAME);
	snprintf(dv.host.sni, sizeof dv.host.sni, "%s", SERVER_NAME);
	dv.host.dane = &dv.dane;
	dv.host.security = SEC_DANE;
	dv.host.tls_required = dv.host.dane_auth = true;
}

/* The verify callback: what validator/deliver.c does for a DANE host. */
static enum mxtls_result on_verify(void *arg, const uint8_t *const *der, const size_t *len,
				   size_t n, char *why, size_t whylen)
{
	(void)arg;
	struct host_verify_outcome out;
	enum mxtls_result r = host_verify(&dv.host, NULL, der, len, n, (int64_t)time(NULL), &out);
	snprintf(why, whylen, "%s", out.reason);
	if (r == MXTLS_RESULT_OK && strcmp(out.method, "dane") == 0)
		dv.verified++;
	return r;
}

struct runner;
struct slot {
	struct runner *run;
	struct smtp_session_req req;
	struct smtp_txn txns[TXNS_MAX];
	struct smtp_brief rcpt[TXNS_MAX];
};

struct runner {
	struct event_base *base;
	size_t ntxns;
	bool record; /* each session's TLS-RPT result is recorded, as deliver.c does */
	double t0, stop, last;
	unsigned long messages, sessions;
	int inflight;
	bool expect_fail; /* the negative control: the session must fail; its result is kept */
	struct smtp_session_result failed;
	char tls_version[16], tls_suite[128];
	struct slot slots[CONC_MAX];
};

static const char *const rcpts[] = {"rcpt@bench.test"};

/* TLS-RPT recording as the delivery agent does it (deliver.c report_session(): the result
 * derived from the decision, handed to the context's store), for the "with recording" sender.
 * The decision is the DANE host of dv for the domain bench.test. */
static struct {
	struct mxtls_ctx *ctx;
	struct decision d;
	struct host_addr addr;
	char dir[600];
	unsigned long recorded;
	double cpu; /* CPU seconds spent recording (flushes included) */
} rpt;

static void rpt_setup(void)
{
	snprintf(rpt.dir, sizeof rpt.dir, "%s/state", opt.tmp);
	struct mxtls_config *cfg;
	char err[256] = "";
	if (mxtls_config_new(&cfg) != MXTLS_OK ||
	    mxtls_config_set(cfg, "state-dir", rpt.dir, err, sizeof err) != MXTLS_OK ||
	    mxtls_ctx_new(cfg, &rpt.ctx, err, sizeof err) != MXTLS_OK)
		die("TLS-RPT context", "%s", err);
	mxtls_config_free(cfg);
	snprintf(rpt.d.domain, sizeof rpt.d.domain, "bench.test");
	rpt.addr.family = AF_INET;
	uint32_t lo = htonl(INADDR_LOOPBACK);
	memcpy(rpt.addr.addr, &lo, 4);
}

static void rpt_record(const struct smtp_session_result *res)
{
	struct deliver_tlsrpt_facts f = {
		.d = &rpt.d,
		.h = &dv.host,
		.addr = &rpt.addr,
		.result = MXTLS_RESULT_OK,
		.local_ip = res->local_ip,
		.helo = res->server_name,
	};
	struct timespec a, b;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	if (!deliver_tlsrpt_emit(&f, delivery_tlsrpt_recorder, rpt.ctx))
		die("TLS-RPT", "out of memory");
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	rpt.cpu += (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	rpt.recorded++;
}

/* The sessions the store counted for the day (all successes under the TLSA base domain). */
static uint64_t rpt_stored(void)
{
	struct tlsrpt_store *st;
	struct tlsrpt_day *day = NULL;
	char err[256] = "";
	if (delivery_tlsrpt_store(rpt.ctx, false, &st, err, sizeof err) != MXTLS_OK ||
	    tlsrpt_store_load(st, (int64_t)time(NULL) / 86400, SERVER_NAME, &day, err,
			      sizeof err) != MXTLS_OK)
		die("TLS-RPT store", "%s", err);
	uint64_t n = 0;
	for (size_t i = 0; i < day->npolicies; i++)
		n += day->policies[i].successes;
	tlsrpt_day_free(day);
	return n;
}

static void on_session(void *arg, const struct smtp_session_result *res);

static void slot_start(struct slot *s)
{
	struct runner *run = s->run;
	memset(s->txns, 0, sizeof s->txns);
	memset(s->rcpt, 0, sizeof s->rcpt);
	for (size_t i = 0; i < run->ntxns; i++)
		s->txns[i] = (struct smtp_txn){.mail_from = "sender@client.bench.test",
					       .rcpts = rcpts,
					       .nrcpts = 1,
					       .payload = &payload,
					       .info = payload_info,
					       .rcpt = &s->rcpt[i]};
	s->req = (struct smtp_session_req){.family = AF_INET,
					   .port = opt.port,
					   .helo = "client.bench.test",
					   .tls = SMTP_TLS_REQUIRED,
					   .sni = SERVER_NAME,
					   .verify = on_verify,
					   .txns = s->txns,
					   .ntxns = run->ntxns};
	uint32_t lo = htonl(INADDR_LOOPBACK);
	memcpy(s->req.addr, &lo, 4);
	smtp_timeouts_default(&s->req.timeouts);
	s->req.timeouts.connect = s->req.timeouts.quit = 10000;
	int rc = smtp_session_start(run->base, &s->req, on_session, s, NULL);
	if (rc != MXTLS_OK)
		die("smtp_session_start", "%s", mxtls_strerror(rc));
	run->inflight++;
}

static void on_session(void *arg, const struct smtp_session_result *res)
{
	struct slot *s = arg;
	struct runner *run = s->run;
	run->inflight--;
	if (run->expect_fail) {
		run->failed = *res;
		event_base_loopbreak(run->base);
		return;
	}
	if (res->stage != SMTP_STAGE_DONE || res->error != MXTLS_OK || !res->tls ||
	    res->txns_done != run->ntxns)
		die("mxtls session", "stage %s, %s, tls %d, %zu of %zu messages: %s",
		    smtp_stage_name(res->stage), mxtls_strerror(res->error), res->tls,
		    res->txns_done, run->ntxns, res->reason);
	for (size_t i = 0; i < run->ntxns; i++)
		if (s->txns[i].mail.code != 250 || s->rcpt[i].code != 250 ||
		    s->txns[i].data.code != 250)
			die("mxtls session", "message %zu: MAIL %d, RCPT %d, DATA %d", i,
			    s->txns[i].mail.code, s->rcpt[i].code, s->txns[i].data.code);
	if (run->record)
		rpt_record(res);
	run->messages += run->ntxns;
	run->sessions++;
	run->last = bench_now(CLOCK_MONOTONIC);
	snprintf(run->tls_version, sizeof run->tls_version, "%s", res->tls_version);
	snprintf(run->tls_suite, sizeof run->tls_suite, "%s", res->tls_suite);
	if (run->last < run->stop)
		slot_start(s);
	else if (run->inflight == 0)
		event_base_loopbreak(run->base);
}

static struct event_base *client_base;

static struct runner the_run; /* the mxtls sender of the current measurement */

/* Sends for `seconds` with conc sessions of ntxns messages; returns messages. */
static unsigned long run_mxtls(int conc, size_t ntxns, bool record, double seconds,
			       double *elapsed, char *tls, size_t tlslen)
{
	memset(&the_run, 0, sizeof the_run);
	the_run.base = client_base;
	the_run.ntxns = ntxns;
	the_run.record = record;
	unsigned long verified0 = dv.verified;
	the_run.t0 = bench_now(CLOCK_MONOTONIC);
	the_run.stop = the_run.t0 + seconds;
	for (int i = 0; i < conc; i++) {
		the_run.slots[i].run = &the_run;
		slot_start(&the_run.slots[i]);
	}
	event_base_dispatch(the_run.base);
	if (dv.verified - verified0 != the_run.sessions)
		die("mxtls", "%lu DANE verifications for %lu sessions", dv.verified - verified0,
		    the_run.sessions);
	*elapsed = the_run.last - the_run.t0;
	snprintf(tls, tlslen, "%s", the_run.tls_suite);
	return the_run.messages;
}

/* ---- co-processes ----------------------------------------------------------------------- */

struct child {
	pid_t pid;
	int in, out; /* its stdin (we write), its stdout (we read) */
};

static void spawn(struct child *c, char *const argv[], bool pipes)
{
	int to[2] = {-1, -1}, from[2] = {-1, -1};
	if (pipes && (pipe2(to, O_CLOEXEC) != 0 || pipe2(from, O_CLOEXEC) != 0))
		die("pipe", "%s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		die("fork", "%s", strerror(errno));
	if (pid == 0) {
		if (pipes) {
			dup2(to[0], STDIN_FILENO);
			dup2(from[1], STDOUT_FILENO);
		} else {
			int null = open("/dev/null", O_RDWR);
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "bench_send: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	c->pid = pid;
	c->in = c->out = -1;
	if (pipes) {
		close(to[0]);
		close(from[1]);
		c->in = to[1];
		c->out = from[0];
	}
}

/* One line from fd within timeout_s (without its LF); false on EOF or timeout. */
static bool read_line(int fd, char *buf, size_t cap, double timeout_s)
{
	size_t n = 0;
	double end = bench_now(CLOCK_MONOTONIC) + timeout_s;
	while (n + 1 < cap) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int ms = (int)((end - bench_now(CLOCK_MONOTONIC)) * 1000);
		if (ms <= 0 || poll(&p, 1, ms) <= 0)
			return false;
		ssize_t r = read(fd, buf + n, 1);
		if (r <= 0)
			return false;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return true;
}

static unsigned long run_python(int conc, size_t ntxns, double seconds, double *elapsed,
				double *cpu, char *tls, size_t tlslen)
{
	struct child kids[CONC_MAX];
	char port[16], txns[16];
	snprintf(port, sizeof port, "%u", opt.port);
	snprintf(txns, sizeof txns, "%zu", ntxns);
	char *argv[] = {
		(char *)opt.python, (char *)opt.script, "127.0.0.1", port, opt.msgfile, txns, NULL};
	for (int i = 0; i < conc; i++)
		spawn(&kids[i], argv, true);
	char line[512];
	for (int i = 0; i < conc; i++)
		if (!read_line(kids[i].out, line, sizeof line, 30) || strcmp(line, "ready") != 0)
			die("bench_send_peer.py", "not ready: '%s'", line);
	char go[64];
	int len = snprintf(go, sizeof go, "go %.3f\n", seconds);
	for (int i = 0; i < conc; i++)
		if (write(kids[i].in, go, (size_t)len) != len)
			die("bench_send_peer.py", "cannot write to it");
	unsigned long total = 0;
	*elapsed = 0;
	*cpu = 0;
	for (int i = 0; i < conc; i++) {
		if (!read_line(kids[i].out, line, sizeof line, seconds + 60))
			die("bench_send_peer.py", "no result");
		unsigned long m;
		double last, c;
		char version[32], cipher[96];
		if (sscanf(line, "done %lu %lf %lf %31s %95s", &m, &last, &c, version, cipher) != 5)
			die("bench_send_peer.py", "%s", line);
		total += m;
		*cpu += c;
		if (last > *elapsed)
			*elapsed = last;
		snprintf(tls, tlslen, "%s %s", version, cipher);
		close(kids[i].in);
		close(kids[i].out);
		int st;
		waitpid(kids[i].pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			die("bench_send_peer.py", "exit status %d", st);
	}
	return total;
}

static unsigned long run_swaks(int conc, double seconds, double *elapsed, double *cpu)
{
	char server[64], data[320];
	snprintf(server, sizeof server, "127.0.0.1:%u", opt.port);
	snprintf(data, sizeof data, "@%s", opt.msgfile);
	char *argv[] = {(char *)opt.swaks,
			"--server",
			server,
			"--tls",
			"--helo",
			"client.bench.test",
			"--from",
			"sender@client.bench.test",
			"--to",
			"rcpt@bench.test",
			"--data",
			data,
			"--silent",
			"2",
			NULL};
	pid_t pids[CONC_MAX] = {0};
	int inflight = 0;
	unsigned long done = 0;
	double c0 = cpu_children();
	double t0 = bench_now(CLOCK_MONOTONIC), stop = t0 + seconds, last = t0;
	for (int i = 0; i < conc; i++) {
		struct child c;
		spawn(&c, argv, false);
		pids[i] = c.pid;
		inflight++;
	}
	while (inflight > 0) {
		int st;
		pid_t pid = waitpid(-1, &st, 0);
		if (pid < 0)
			die("waitpid", "%s", strerror(errno));
		if (pid == server_pid)
			die("receiver", "exited (status %d)", st);
		int i = 0;
		while (i < conc && pids[i] != pid)
			i++;
		if (i == conc)
			continue;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			die("swaks", "exit status %d (run it by hand: %s --server %s --tls)", st,
			    opt.swaks, server);
		done++;
		last = bench_now(CLOCK_MONOTONIC);
		inflight--;
		pids[i] = 0;
		if (last < stop) {
			struct child c;
			spawn(&c, argv, false);
			pids[i] = c.pid;
			inflight++;
		}
	}
	*elapsed = last - t0;
	*cpu = cpu_children() - c0;
	return done;
}

/* ---- rows ------------------------------------------------------------------------------- */

enum impl { IMPL_MXTLS, IMPL_MXTLS_RPT, IMPL_PYTHON, IMPL_SWAKS, IMPL_COUNT };
static const char *const impl_names[IMPL_COUNT] = {"mxtls smtp_session (DANE-EE)",
						   "mxtls + TLS-RPT recording", "python smtplib",
						   "swaks"};

struct row {
	const char *key, *label;
	int conc;
	size_t ntxns;
	bool quickack; /* the receiver ACKs at once (no delayed ACK) */
};

static const struct row rows[] = {
	{"a1", "a1  1 msg/conn, 1 at a time", 1, 1, false},
	{"a8", "a8  1 msg/conn, 8 at a time", 8, 1, false},
	{"b1", "b1  100 msgs/conn, 1 at a time", 1, 100, false},
	{"b8", "b8  100 msgs/conn, 8 at a time", 8, 100, false},
	{"a1q", "a1q as a1, receiver quick-ACKs", 1, 1, true},
	{"a8q", "a8q as a8, receiver quick-ACKs", 8, 1, true},
	{"b1q", "b1q as b1, receiver quick-ACKs", 1, 100, true},
	{"b8q", "b8q as b8, receiver quick-ACKs", 8, 100, true},
};
#define NROWS (sizeof rows / sizeof rows[0])

struct measure {
	bool on;
	double rate[ROUNDS_MAX];
	unsigned long messages;
	double cpu, server_cpu;
	char tls[160];
};

static void measure_one(const struct row *r, enum impl im, int round, struct measure *m)
{
	double secs = opt.seconds / opt.rounds, elapsed = 0, cpu = 0;
	atomic_store(&stats->quickack, r->quickack ? 1 : 0);
	unsigned long before = atomic_load(&stats->messages);
	double s0 = server_cpu();
	unsigned long n = 0;
	char tls[160] = "";
	switch (im) {
	case IMPL_MXTLS:
	case IMPL_MXTLS_RPT: {
		double c0 = cpu_self();
		n = run_mxtls(r->conc, r->ntxns, im == IMPL_MXTLS_RPT, secs, &elapsed, tls,
			      sizeof tls);
		cpu = cpu_self() - c0;
		break;
	}
	case IMPL_PYTHON:
		n = run_python(r->conc, r->ntxns, secs, &elapsed, &cpu, tls, sizeof tls);
		break;
	case IMPL_SWAKS:
		n = run_swaks(r->conc, secs, &elapsed, &cpu);
		break;
	case IMPL_COUNT:
		break;
	}
	/* The receiver counts before it replies 250: give its threads a moment. */
	for (int i = 0; i < 100 && atomic_load(&stats->messages) - before < n; i++)
		usleep(1000);
	unsigned long got = atomic_load(&stats->messages) - before;
	if (got != n)
		die(impl_names[im], "sent %lu messages, the receiver accepted %lu", n, got);
	m->rate[round] = elapsed > 0 ? (double)n / elapsed : 0;
	m->messages += n;
	m->cpu += cpu;
	m->server_cpu += server_cpu() - s0;
	if (tls[0] != '\0')
		snprintf(m->tls, sizeof m->tls, "%s", tls);
	else if (im == IMPL_SWAKS)
		snprintf(m->tls, sizeof m->tls, "(server) %s", stats->last_tls);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench_send [-t SECONDS] [-r ROUNDS] [-o ROWS] [-i PEERS] [-P PYTHON]\n"
		"                  [-s SCRIPT] [-S SWAKS] [-p PORT]\n"
		"  Run inside a network namespace: bash tests/net/run-with-dns.sh bench_send ...\n"
		"  -t SECONDS  wall time per (row, sender), split into rounds (default 3)\n"
		"  -r ROUNDS   interleaved rounds (default 3)\n"
		"  -o ROWS     rows among a1,a8,b1,b8,a1q,a8q,b1q,b8q (default all)\n"
		"  -i PEERS    peers measured beside mxtls: python,swaks (default), one of them,\n"
		"              or none\n"
		"  -P PATH     the Python for the smtplib peer (default /usr/bin/python3)\n"
		"  -s PATH     the peer script (default %s)\n"
		"  -S PATH     swaks (default: swaks on PATH)\n"
		"  -p PORT     the receiver's port on 127.0.0.1 (default 2525)\n",
		BENCH_SEND_PEER_SCRIPT);
}

static bool in_list(const char *list, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = list; (p = strstr(p, key)) != NULL; p += n)
		if ((p == list || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return true;
	return false;
}

static void on_exit_cleanup(void)
{
	server_stop();
	if (opt.msgfile[0] != '\0')
		unlink(opt.msgfile);
	if (opt.tmp[0] != '\0')
		rmdir(opt.tmp);
}

static bool have_swaks(void)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd,
		 "command -v %s >/dev/null 2>&1 && "
		 "perl -MNet::SSLeay -e1 >/dev/null 2>&1",
		 opt.swaks);
	return system(cmd) == 0;
}

int main(int argc, char **argv)
{
	int c;
	while ((c = getopt(argc, argv, "t:r:o:i:P:s:S:p:h")) != -1) {
		switch (c) {
		case 't':
			opt.seconds = atof(optarg);
			break;
		case 'r':
			opt.rounds = atoi(optarg);
			break;
		case 'o':
			opt.rows = optarg;
			break;
		case 'i':
			opt.only = optarg;
			break;
		case 'P':
			opt.python = optarg;
			break;
		case 's':
			opt.script = optarg;
			break;
		case 'S':
			opt.swaks = optarg;
			break;
		case 'p':
			opt.port = (uint16_t)atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (opt.seconds <= 0 || opt.rounds < 1 || opt.rounds > ROUNDS_MAX)
		die("options", "-t must be > 0 and -r from 1 to %d", ROUNDS_MAX);
	if (getenv("MXTLS_TEST_NETNS") == NULL && getenv("BENCH_SEND_ANY_NETWORK") == NULL) {
		printf("SKIP: run inside a network namespace (tests/net/run-with-dns.sh "
		       "bench_send), or set BENCH_SEND_ANY_NETWORK=1\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	const char *tmpdir = getenv("TMPDIR");
	snprintf(opt.tmp, sizeof opt.tmp, "%s/bench-send.XXXXXX",
		 tmpdir != NULL && tmpdir[0] != '\0' ? tmpdir : "/tmp");
	if (mkdtemp(opt.tmp) == NULL)
		die("mkdtemp", "%s", strerror(errno));
	atexit(on_exit_cleanup);

	bool want[IMPL_COUNT] = {true, true, true, true};
	if (opt.only != NULL) {
		want[IMPL_PYTHON] = in_list(opt.only, "python");
		want[IMPL_SWAKS] = in_list(opt.only, "swaks");
	}
	const char *why_no[IMPL_COUNT] = {NULL};
	if (want[IMPL_PYTHON] && access(opt.python, X_OK) != 0) {
		want[IMPL_PYTHON] = false;
		why_no[IMPL_PYTHON] = "not found";
	}
	if (want[IMPL_SWAKS] && !have_swaks()) {
		want[IMPL_SWAKS] = false;
		why_no[IMPL_SWAKS] = "swaks or Net::SSLeay (libnet-ssleay-perl) not installed";
	}

	make_certificate();
	make_message();
	rpt_setup();
	set_tlsa(pki.tlsa);
	server_start();
	client_base = event_base_new();
	if (client_base == NULL)
		die("event_base_new", "failed");

	printf("bench_send: messages per second over STARTTLS to a local receiver\n");
	printf("receiver: this program, forked; one thread per connection; GnuTLS %s, default "
	       "priorities; self-signed ECDSA P-256 certificate for %s\n",
	       gnutls_check_version(NULL), SERVER_NAME);
	printf("message: %d bytes, 1 recipient; TLSA %s\n", MSG_SIZE, pki.tlsa);
	for (int i = 0; i < IMPL_COUNT; i++)
		if (why_no[i] != NULL)
			printf("peer %s left out: %s\n", impl_names[i], why_no[i]);

	/* Negative control: a TLSA record that does not match must stop the session before any
	 * mail, which shows that the verification in the figures is real. */
	{
		char wrong[sizeof pki.tlsa];
		snprintf(wrong, sizeof wrong, "%s", pki.tlsa);
		size_t n = strlen(wrong);
		wrong[n - 1] = wrong[n - 1] == '0' ? '1' : '0';
		set_tlsa(wrong);
		unsigned long before = atomic_load(&stats->messages);
		memset(&the_run, 0, sizeof the_run);
		the_run.base = client_base;
		the_run.ntxns = 1;
		the_run.expect_fail = true;
		the_run.slots[0].run = &the_run;
		slot_start(&the_run.slots[0]);
		event_base_dispatch(client_base);
		const struct smtp_session_result *f = &the_run.failed;
		if (f->error != MXTLS_E_TLS || f->stage != SMTP_STAGE_VERIFY || f->txns_done != 0)
			die("negative control",
			    "a session with a wrong TLSA record ended with stage "
			    "%s, %s (%s)",
			    smtp_stage_name(f->stage), mxtls_strerror(f->error), f->reason);
		for (int i = 0; i < 100 && atomic_load(&stats->connections) == 0; i++)
			usleep(1000);
		if (atomic_load(&stats->messages) != before)
			die("negative control", "a message went out despite the TLSA mismatch");
		set_tlsa(pki.tlsa);
		printf("negative control: with the TLSA digest's last digit changed, the session "
		       "stops at %s (%s: %s), no message sent\n",
		       smtp_stage_name(f->stage), mxtls_result_name(f->tls_result), f->reason);
	}
	/* Warm-up: 20 sessions, untimed. */
	for (int i = 0; i < 20; i++) {
		double e;
		char tls[160];
		run_mxtls(1, 1, i % 2 == 1, 0.0, &e, tls, sizeof tls);
	}
	printf("%.1f s per (row, sender) in %d interleaved rounds; rates are messages per "
	       "second of wall time, median round\n\n",
	       opt.seconds, opt.rounds);
	fflush(stdout);

	static struct measure m[NROWS][IMPL_COUNT];
	for (size_t ri = 0; ri < NROWS; ri++) {
		const struct row *r = &rows[ri];
		if (!in_list(opt.rows, r->key))
			continue;
		for (int im = 0; im < IMPL_COUNT; im++)
			m[ri][im].on = want[im] && !(im == IMPL_SWAKS && r->ntxns > 1);
		for (int round = 0; round < opt.rounds; round++)
			for (int im = 0; im < IMPL_COUNT; im++)
				if (m[ri][im].on)
					measure_one(r, (enum impl)im, round, &m[ri][im]);
	}

	printf("%-34s %-30s %9s %7s %11s %11s %10s  %s\n", "row", "sender", "msgs/s", "spread",
	       "cpu ms/msg", "recv ms/msg", "mxtls/this", "TLS");
	for (size_t ri = 0; ri < NROWS; ri++) {
		const struct row *r = &rows[ri];
		if (!in_list(opt.rows, r->key))
			continue;
		double ref = 0;
		for (int im = 0; im < IMPL_COUNT; im++) {
			struct measure *x = &m[ri][im];
			if (!x->on)
				continue;
			double spread, rate = bench_median(x->rate, (size_t)opt.rounds, NULL, NULL, &spread);
			if (im == IMPL_MXTLS)
				ref = rate;
			char ratio[16] = "";
			if (im != IMPL_MXTLS && rate > 0 && ref > 0)
				snprintf(ratio, sizeof ratio, "%.2f", ref / rate);
			printf("%-34s %-30s %9.1f %6.1f%% %11.3f %11.3f %10s  %s\n",
			       im == 0 ? r->label : "", impl_names[im], rate, spread * 100,
			       x->messages ? x->cpu * 1e3 / (double)x->messages : 0,
			       x->messages ? x->server_cpu * 1e3 / (double)x->messages : 0, ratio,
			       x->tls);
		}
	}
	/* RFC 8460 recording, the budget: under 2 % of a delivery.  The sender's CPU per
	 * message is the cost (the wall-clock rate also waits for the receiver). */
	for (size_t ri = 0; ri < NROWS; ri++) {
		const struct measure *a = &m[ri][IMPL_MXTLS], *b = &m[ri][IMPL_MXTLS_RPT];
		if (!a->on || !b->on || a->messages == 0 || b->messages == 0)
			continue;
		double ca = a->cpu / (double)a->messages, cb = b->cpu / (double)b->messages;
		double ra = bench_median(a->rate, (size_t)opt.rounds, NULL, NULL, NULL);
		double rb = bench_median(b->rate, (size_t)opt.rounds, NULL, NULL, NULL);
		printf("TLS-RPT recording %-4s sender CPU %+.1f%% per message (%.3f -> %.3f ms), "
		       "rate %+.1f%%\n",
		       rows[ri].key, ca > 0 ? (cb / ca - 1) * 100 : 0, ca * 1e3, cb * 1e3,
		       ra > 0 ? (rb / ra - 1) * 100 : 0);
	}
	/* The recording itself, timed around each call: the figure the noise above cannot
	 * blur, against the CPU one delivery session costs (row a1: one message per session). */
	const struct measure *a1 = &m[0][IMPL_MXTLS];
	if (rpt.recorded > 0 && a1->on && a1->messages > 0) {
		double per = rpt.cpu / (double)rpt.recorded, session = a1->cpu / (double)a1->messages;
		printf("TLS-RPT recording: %.2f us CPU per session (%lu sessions, flushes "
		       "included) = %.2f%% of a one-message delivery's %.3f ms (a1)\n",
		       per * 1e6, rpt.recorded, per / session * 100, session * 1e3);
	}
	uint64_t stored = rpt_stored();
	if (stored != rpt.recorded)
		die("TLS-RPT", "%lu sessions recorded, the store counts %llu", rpt.recorded,
		    (unsigned long long)stored);
	printf("TLS-RPT store: %llu sessions counted, as recorded\n", (unsigned long long)stored);
	printf("\n  cpu ms/msg: the sender's CPU per message (swaks: its processes, start-up "
	       "included); recv ms/msg: the receiver's\n"
	       "  mxtls/this: mxtls's msgs/s / this sender's (above 1: mxtls is faster)\n");
	printf("  receiver: %lu connections, %lu TLS handshakes, %lu messages, %lu connections "
	       "ended without QUIT\n",
	       atomic_load(&stats->connections), atomic_load(&stats->handshakes),
	       atomic_load(&stats->messages), atomic_load(&stats->errors));
	event_base_free(client_base);
	mxtls_ctx_free(rpt.ctx);
	char rm[700];
	snprintf(rm, sizeof rm, "rm -rf '%s'", rpt.dir);
	if (system(rm) != 0)
		fprintf(stderr, "bench_send: %s left behind\n", rpt.dir);
	return 0;
}
