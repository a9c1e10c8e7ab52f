/* SPDX-License-Identifier: MIT */
/* The SMTP submission listener: accept (loopback and --allow only), sessions, queueing. */
#include "delivery/delivery_listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include <mxtls/error.h>

#include "delivery/delivery_header.h"
#include "delivery/delivery_queue.h"
#include "delivery/delivery_smtpd_session.h"
#include "util/util_log.h"
#include "validator/mxtls_ctx.h"

/* The replies to one read's worth of pipelined commands (at most bufferevent's 16 KiB read
 * plus a partial line; "EHLO c" CRLF repeated is the worst case, about 250 KiB); beyond it the
 * session ends (fail closed) rather than a reply being lost. */
#define DELIVERY_LISTENER_ROUND_MAX (1024 * 1024)

struct cidr {
	int family;
	unsigned char addr[16];
	unsigned prefix;
};

struct conn {
	struct delivery_listener *l;
	struct bufferevent *bev;
	struct delivery_smtpd_session *s;
	struct util_buf out; /* replies of one round, moved to bev's output */
	struct conn *prev, *next;
	char peer[INET6_ADDRSTRLEN + 8];
	bool closing; /* no more input: freed once the replies are written */
	bool paused;  /* reading stopped while the client is slow to take our replies */
};

struct delivery_listener {
	struct event_base *base;
	struct mxtls_queue *q;
	struct evconnlistener **ls;
	size_t nls;
	struct cidr *allow;
	size_t nallow;
	char hostname[256];
	unsigned timeout, max_connections;
	void (*on_queued)(void *arg, const char *id);
	void *arg;
	struct conn *conns;
	size_t nconns;
};

static const struct util_log *logger(const struct delivery_listener *l)
{
	return &l->q->ctx->log;
}

/* ---- addresses ---- */

const char *delivery_listener_parse_cidr(const char *s, int *family, unsigned char addr[16],
					 unsigned *prefix)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t hn = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (hn == 0 || hn >= sizeof host)
		return "expected ADDRESS or ADDRESS/PREFIX";
	memcpy(host, s, hn);
	host[hn] = '\0';
	memset(addr, 0, 16);
	unsigned max;
	if (inet_pton(AF_INET, host, addr) == 1) {
		*family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, addr) == 1) {
		*family = AF_INET6;
		max = 128;
	} else {
		return "not an IPv4 or IPv6 address";
	}
	*prefix = max;
	if (slash != NULL) {
		const char *d = slash + 1;
		if (d[0] == '\0' || strlen(d) > 3 || strspn(d, "0123456789") != strlen(d) ||
		    (d[0] == '0' && d[1] != '\0'))
			return "the prefix length is not a number";
		*prefix = (unsigned)atoi(d);
		if (*prefix > max)
			return "the prefix length is longer than the address";
	}
	/* Host bits set ("10.1.2.3/8") are more likely a typo than a wish: refused, as Postfix
	 * refuses them in mynetworks. */
	for (unsigned bit = *prefix; bit < max; bit++)
		if (addr[bit / 8] & (0x80u >> (bit % 8)))
			return "host bits are set after the prefix length";
	return NULL;
}

static bool in_cidr(const struct cidr *c, int family, const unsigned char *a)
{
	if (c->family != family)
		return false;
	unsigned full = c->prefix / 8, rest = c->prefix % 8;
	if (memcmp(c->addr, a, full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xffu << (8 - rest));
	return (c->addr[full] & mask) == (a[full] & mask);
}

/* Loopback (127.0.0.0/8, ::1) or inside an allow CIDR.  An IPv4-mapped IPv6 peer (a dual-stack
 * socket) is judged as the IPv4 address it is. */
static bool allowed(const struct delivery_listener *l, const struct sockaddr *sa)
{
	int family = sa->sa_family;
	unsigned char a[16] = {0};
	if (family == AF_INET) {
		memcpy(a, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	} else if (family == AF_INET6) {
		const struct in6_addr *in6 =
			&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(in6)) {
			family = AF_INET;
			memcpy(a, in6->s6_addr + 12, 4);
		} else {
			memcpy(a, in6->s6_addr, 16);
		}
	} else {
		return false;
	}
	static const struct cidr loop4 = {AF_INET, {127}, 8};
	static const struct cidr loop6 = {AF_INET6, {[15] = 1}, 128};
	if (in_cidr(&loop4, family, a) || in_cidr(&loop6, family, a))
		return true;
	for (size_t i = 0; i < l->nallow; i++)
		if (in_cidr(&l->allow[i], family, a))
			return true;
	return false;
}

static void peer_name(const struct sockaddr *sa, char *out, size_t cap)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
		port = ntohs(in->sin_port);
		snprintf(out, cap, "%s:%u", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
		port = ntohs(in6->sin6_port);
		snprintf(out, cap, "[%s]:%u", host, port);
	} else {
		snprintf(out, cap, "?");
	}
}

/* ---- connections ---- */

static void conn_free(struct conn *c)
{
	struct delivery_listener *l = c->l;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	l->nconns--;
	bufferevent_free(c->bev);
	delivery_smtpd_session_free(c->s);
	util_buf_free(&c->out);
	util_log_kv(logger(l), MXTLS_LOG_DEBUG, 0, "smtpd-close", "peer", c->peer, NULL);
	free(c);
}

/* Moves the replies of this round to the socket's output; false when memory ran out. */
static bool send_replies(struct conn *c)
{
	bool ok = c->out.len == 0 || bufferevent_write(c->bev, c->out.data, c->out.len) == 0;
	util_buf_reset(&c->out);
	return ok;
}

/* No more input: the connection goes once its replies are written (on_write). */
static void start_closing(struct conn *c)
{
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * RFC 6409 §8.2, §8.3: a submission service may add a missing Date and Message-ID.  Mail
 * without a Message-ID is refused by large receivers (Gmail answers 550 5.7.1), and the
 * programs that speak SMTP to a local relay often leave both out, so they are added here as
 * mxtls sendmail adds them.  out is empty when nothing is missing (or out of memory: the
 * message then goes as it came).
 */
static void add_missing_fields(const struct delivery_listener *l, const char *msg, size_t len,
			       struct util_buf *out)
{
	struct delivery_has has;
	delivery_header_has(msg, len, &has);
	if (has.date && has.message_id)
		return;
	char date[40], mid[400];
	unsigned char rnd[12] = {0};
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		memcpy(rnd, &ts, sizeof rnd < sizeof ts ? sizeof rnd : sizeof ts);
	}
	int k = snprintf(mid, sizeof mid, "<");
	for (size_t i = 0; i < sizeof rnd; i++)
		k += snprintf(mid + k, sizeof mid - (size_t)k, "%02X", rnd[i]);
	snprintf(mid + k, sizeof mid - (size_t)k, "@%s>", l->hostname);
	delivery_header_date(mxtls_ctx_now(l->q->ctx), date);
	struct delivery_fixup fx = {
		.date = has.date ? NULL : date,
		.message_id = has.message_id ? NULL : mid,
	};
	if (delivery_header_fixup(msg, len, &fx, out) != MXTLS_OK)
		util_buf_reset(out);
}

/* Queues the session's complete message and appends the final reply to DATA. */
static void enqueue(struct conn *c)
{
	struct delivery_listener *l = c->l;
	struct delivery_envelope e = {
		.sender = delivery_smtpd_session_sender(c->s),
		.requiretls = delivery_smtpd_session_requiretls(c->s),
	};
	e.rcpts = delivery_smtpd_session_rcpts(c->s, &e.n);
	size_t len;
	const char *msg = delivery_smtpd_session_message(c->s, &len);
	char id[MXTLS_QUEUE_ID_SIZE] = "", err[256] = "";
	double t0 = now_ms();
	struct util_buf fixed;
	util_buf_init(&fixed, MXTLS_QUEUE_MESSAGE_MAX + 64 * 1024);
	add_missing_fields(l, msg, len, &fixed);
	if (fixed.len > 0) {
		msg = fixed.data;
		len = fixed.len;
	}
	/* Synchronous: it fsyncs the body and commits the index (a few milliseconds); the
	 * final reply must wait for that anyway, and the loop has nothing faster to offer. */
	int rc = delivery_queue_enqueue(l->q, &e, msg, len, id, err, sizeof err);
	char ms[32], size[32], n[32];
	snprintf(ms, sizeof ms, "%.1f", now_ms() - t0);
	snprintf(size, sizeof size, "%zu", len);
	snprintf(n, sizeof n, "%zu", e.n);
	if (rc == MXTLS_OK)
		util_log_kv(logger(l), MXTLS_LOG_INFO, 0, "smtpd-queued", "peer", c->peer, "id", id,
			    "size", size, "rcpts", n, "ms", ms, NULL);
	else
		util_log_kv(logger(l), MXTLS_LOG_WARNING, 0, "smtpd-queue-failed", "peer", c->peer,
			    "error", mxtls_strerror(rc), "reason", err, NULL);
	util_buf_free(&fixed);
	delivery_smtpd_session_queued(c->s, rc, id, &c->out);
	if (rc == MXTLS_OK && l->on_queued != NULL)
		l->on_queued(l->arg, id);
}

/*
 * Feeds what the client sent to the session and writes the replies, in order.  Returns false
 * when c was freed.  Input left untaken is a partial line (at most DELIVERY_SMTPD_LINE_MAX
 * octets: the session fails closed beyond) or a CR / dot waiting for its next byte, so the
 * input buffer stays small whatever the client sends.
 */
static bool process(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer *outbuf = bufferevent_get_output(c->bev);
	while (!c->closing) {
		/* A client that pipelines commands and does not read the replies: stop reading
		 * until it does (on_write resumes). */
		if (evbuffer_get_length(outbuf) > DELIVERY_LISTENER_OUTPUT_MAX) {
			c->paused = true;
			bufferevent_disable(c->bev, EV_READ);
			break;
		}
		size_t len = evbuffer_get_length(in);
		if (len == 0)
			break;
		const char *data = (const char *)evbuffer_pullup(in, -1);
		if (data == NULL) {
			start_closing(c);
			break;
		}
		size_t used = 0;
		enum delivery_smtpd_action act =
			delivery_smtpd_session_input(c->s, data, len, &used, &c->out);
		evbuffer_drain(in, used);
		if (act == DELIVERY_SMTPD_ENQUEUE)
			enqueue(c);
		if (!send_replies(c) || act == DELIVERY_SMTPD_CLOSE) {
			start_closing(c);
			break;
		}
		if (act == DELIVERY_SMTPD_MORE)
			break;
	}
	if (c->closing && evbuffer_get_length(outbuf) == 0) {
		conn_free(c);
		return false;
	}
	return true;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	process(arg);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct conn *c = arg;
	/* Called when the output has drained (the low watermark is 0). */
	if (c->closing) {
		conn_free(c);
		return;
	}
	if (c->paused) {
		c->paused = false;
		bufferevent_enable(c->bev, EV_READ);
		process(c); /* the commands read ahead */
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct conn *c = arg;
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && !c->closing) {
		/* RFC 5321 §4.5.3.2: the server may close an idle session; 421 says why. */
		util_log_kv(logger(c->l), MXTLS_LOG_INFO, 0, "smtpd-timeout", "peer", c->peer,
			    NULL);
		util_buf_reset(&c->out);
		if (util_buf_appendf(&c->out, "421 4.4.2 %s Timeout, closing\r\n",
				     c->l->hostname) == MXTLS_OK &&
		    send_replies(c)) {
			start_closing(c);
			return; /* on_write frees it, or the write timeout does */
		}
	}
	/* The client half-closed after its last command: the replies owed (a 250 for a message
	 * now durable among them) are still written, then the connection goes. */
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && !c->closing &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0) {
		start_closing(c);
		return;
	}
	/* EOF with nothing owed (an unfinished message is dropped), an error, a write
	 * timeout. */
	conn_free(c);
}

/* Writes a one-line refusal straight to a fresh socket and closes it (no session). */
static void refuse(evutil_socket_t fd, const char *text)
{
	(void)!send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT);
	evutil_closesocket(fd);
}

static void on_accept(struct evconnlistener *ls, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	(void)ls;
	(void)salen;
	struct delivery_listener *l = arg;
	char peer[INET6_ADDRSTRLEN + 8];
	peer_name(sa, peer, sizeof peer);
	/* Never an open relay: only local programs and the networks the operator named. */
	if (!allowed(l, sa)) {
		util_log_kv(logger(l), MXTLS_LOG_WARNING, 0, "smtpd-denied", "peer", peer, "reason",
			    "not loopback and not in --allow", NULL);
		refuse(fd, "554 5.7.1 Access denied\r\n");
		return;
	}
	if (l->nconns >= l->max_connections) {
		util_log_kv(logger(l), MXTLS_LOG_WARNING, 0, "smtpd-refused", "peer", peer,
			    "reason", "max-connections reached", NULL);
		refuse(fd, "421 4.7.0 Too many connections, try again later\r\n");
		return;
	}
	struct conn *c = calloc(1, sizeof *c);
	if (c != NULL) {
		c->s = delivery_smtpd_session_new(l->hostname, MXTLS_QUEUE_MESSAGE_MAX,
						  MXTLS_QUEUE_RCPT_MAX);
		c->bev = bufferevent_socket_new(l->base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	if (c == NULL || c->s == NULL || c->bev == NULL) {
		util_log_kv(logger(l), MXTLS_LOG_ERROR, 0, "smtpd-refused", "peer", peer, "reason",
			    "out of memory", NULL);
		if (c != NULL) {
			delivery_smtpd_session_free(c->s);
			if (c->bev != NULL)
				bufferevent_free(c->bev); /* closes fd */
			else
				evutil_closesocket(fd);
			free(c);
		} else {
			evutil_closesocket(fd);
		}
		return;
	}
	c->l = l;
	snprintf(c->peer, sizeof c->peer, "%s", peer);
	util_buf_init(&c->out, DELIVERY_LISTENER_ROUND_MAX);
	c->next = l->conns;
	if (l->conns != NULL)
		l->conns->prev = c;
	l->conns = c;
	l->nconns++;
	util_log_kv(logger(l), MXTLS_LOG_DEBUG, 0, "smtpd-connect", "peer", peer, NULL);
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	struct timeval tv = {(time_t)l->timeout, 0};
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	if (delivery_smtpd_session_greeting(c->s, &c->out) != MXTLS_OK || !send_replies(c) ||
	    bufferevent_enable(c->bev, EV_READ | EV_WRITE) != 0)
		conn_free(c);
}

/* ---- opening and closing ---- */

/* "HOST:PORT" / "[V6]:PORT" with HOST an IP address (never a name: what a name resolves to
 * can change, and a listener must not end up on an unexpected interface). */
static int parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen, char *err,
			size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port;
	bool v6 = spec[0] == '[';
	if (v6) {
		const char *close = strchr(spec, ']');
		if (close == NULL || close[1] != ':' || (size_t)(close - spec - 1) >= sizeof host)
			goto bad;
		memcpy(host, spec + 1, (size_t)(close - spec - 1));
		host[close - spec - 1] = '\0';
		port = close + 2;
	} else {
		const char *colon = strrchr(spec, ':');
		if (colon == NULL || (size_t)(colon - spec) >= sizeof host)
			goto bad;
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = '\0';
		port = colon + 1;
	}
	if (port[0] == '\0' || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port) ||
	    atoi(port) < 1 || atoi(port) > 65535)
		goto bad;
	memset(ss, 0, sizeof *ss);
	if (!v6) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			goto bad;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)atoi(port));
		*sslen = sizeof *in;
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			goto bad;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)atoi(port));
		*sslen = sizeof *in6;
	}
	return MXTLS_OK;
bad:
	snprintf(err, errlen,
		 "--listen %s: expected IPV4:PORT or [IPV6]:PORT (an address, not a name), PORT "
		 "from 1 to 65535",
		 spec);
	return MXTLS_E_CONFIG;
}

void delivery_listener_close(struct delivery_listener *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->nls; i++)
		evconnlistener_free(l->ls[i]);
	while (l->conns != NULL)
		conn_free(l->conns);
	free(l->ls);
	free(l->allow);
	free(l);
}

int delivery_listener_open(struct event_base *base, struct mxtls_queue *q,
			   const struct delivery_listener_opts *o, struct delivery_listener **out,
			   char *err, size_t errlen)
{
	if (base == NULL || q == NULL || o == NULL || out == NULL) {
		snprintf(err, errlen, "delivery_listener_open: a required argument is NULL");
		return MXTLS_E_INVAL;
	}
	if (o->nlisten == 0) {
		snprintf(err, errlen, "--listen: no address to listen on");
		return MXTLS_E_CONFIG;
	}
	const char *name = o->hostname != NULL && o->hostname[0] != '\0' ? o->hostname
			   : q->ctx->helo[0] != '\0'                     ? q->ctx->helo
									 : "localhost";
	if (strlen(name) > 255 || strpbrk(name, " \t\r\n") != NULL) {
		snprintf(err, errlen,
			 "the listener's host name is unusable (at most 255 octets, "
			 "no white space)");
		return MXTLS_E_CONFIG;
	}
	struct delivery_listener *l = calloc(1, sizeof *l);
	if (l == NULL)
		goto nomem;
	l->base = base;
	l->q = q;
	strcpy(l->hostname, name);
	l->timeout = o->timeout != 0 ? o->timeout : DELIVERY_LISTENER_TIMEOUT;
	l->max_connections =
		o->max_connections != 0 ? o->max_connections : DELIVERY_LISTENER_MAX_CONNECTIONS;
	l->on_queued = o->on_queued;
	l->arg = o->arg;
	if (o->nallow > 0) {
		l->allow = calloc(o->nallow, sizeof *l->allow);
		if (l->allow == NULL)
			goto nomem;
	}
	for (size_t i = 0; i < o->nallow; i++) {
		struct cidr *c = &l->allow[i];
		const char *why =
			delivery_listener_parse_cidr(o->allow[i], &c->family, c->addr, &c->prefix);
		if (why != NULL) {
			snprintf(err, errlen, "--allow %s: %s", o->allow[i], why);
			delivery_listener_close(l);
			return MXTLS_E_CONFIG;
		}
		l->nallow++;
	}
	/* Every address is checked before any is bound: a typo binds nothing. */
	struct sockaddr_storage *ss = calloc(o->nlisten, sizeof *ss);
	socklen_t *sslen = calloc(o->nlisten, sizeof *sslen);
	l->ls = calloc(o->nlisten, sizeof *l->ls);
	if (ss == NULL || sslen == NULL || l->ls == NULL) {
		free(ss);
		free(sslen);
		goto nomem;
	}
	int rc = MXTLS_OK;
	for (size_t i = 0; i < o->nlisten && rc == MXTLS_OK; i++)
		rc = parse_listen(o->listen[i], &ss[i], &sslen[i], err, errlen);
	for (size_t i = 0; i < o->nlisten && rc == MXTLS_OK; i++) {
		unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC;
		if (ss[i].ss_family == AF_INET6)
			flags |= LEV_OPT_BIND_IPV6ONLY; /* "[::]:25" means IPv6 only */
		struct evconnlistener *ls = evconnlistener_new_bind(
			base, on_accept, l, flags, 128, (struct sockaddr *)&ss[i], (int)sslen[i]);
		if (ls == NULL) {
			snprintf(err, errlen, "--listen %s: %s", o->listen[i], strerror(errno));
			rc = MXTLS_E_IO;
			break;
		}
		l->ls[l->nls++] = ls;
	}
	free(ss);
	free(sslen);
	if (rc != MXTLS_OK) {
		delivery_listener_close(l);
		return rc;
	}
	for (size_t i = 0; i < o->nlisten; i++)
		util_log_kv(logger(l), MXTLS_LOG_INFO, 0, "smtpd-listening", "address",
			    o->listen[i], NULL);
	*out = l;
	return MXTLS_OK;
nomem:
	delivery_listener_close(l);
	snprintf(err, errlen, "out of memory");
	return MXTLS_E_NOMEM;
}
