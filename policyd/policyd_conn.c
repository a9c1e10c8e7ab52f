/* SPDX-License-Identifier: MIT */
/* One socketmap client connection: netstring requests in, replies out in request order. */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "policyd/policyd_conn.h"
#include "policyd/policyd_log.h"
#include "policyd/policyd_netstring.h"
#include "policyd/policyd_server.h"

/* Requests read ahead of their replies on one connection; beyond this, reading pauses. */
#define CONN_PIPELINE_MAX 1024
/* Replies not yet taken by a slow reader; beyond this, reading pauses. */
#define CONN_OUTPUT_MAX (1024 * 1024)
/* One read() takes at most this much. */
#define CONN_READ_CHUNK 16384

/* One request whose reply could not be written when it was read: it waits for a decision,
 * or for an earlier request's reply. */
struct slot {
	struct policyd_waiter w; /* first: a waiter is a slot (policyd_conn_wake) */
	struct conn *conn;
	struct slot *next;
	const char *reply;       /* framed; NULL until ready */
	size_t len;
	bool owned;              /* reply was allocated for this slot */
};

/* Bytes of one direction: data[off, len) is what is left to use. */
struct bytes {
	char *data;
	size_t off, len, cap;
};

/*
 * The connection does its own reads and writes on a plain event rather than through a
 * bufferevent: one read() per readable event, every complete request answered, and the replies
 * written with one write() at the end; the write event is watched only while the socket is
 * full.  bench-policyd measured 5 system calls per batch of replies through a bufferevent
 * (readv, writev, FIONREAD, two epoll_ctl) against 2 this way.
 *
 * Every connection that owes nothing is also on the server's idle list (policyd_conn.h), so
 * that a new client at --max-connections can take the place of the one idle the longest:
 * the list changes at the two moments a connection's state does (a request arrives: off; its
 * last reply is written: back at the tail), which costs two pointer updates per request and
 * makes the choice O(1), where a scan of every connection's last activity would cost O(n) on
 * every accept at the limit, the moment the server is busiest.
 */
struct conn {
	struct policyd_idle_link idle; /* on srv->idle while it owes nothing */
	struct policyd_server *srv;
	int fd;
	struct event *rev, *wev;
	struct bytes in, out;
	struct conn *prev, *next;
	struct slot *head, *tail;
	size_t npending;
	uint64_t id;
	char peer[80];
	bool paused;   /* not reading: too many replies owed or unread */
	bool writing;  /* wev is armed: the socket was full */
	bool failed;   /* out of memory: the reply order cannot be kept, close */
	bool eof;      /* the client sent its last byte (a half-close) */
	bool closing;  /* no more requests: closed once every reply owed is written */
	bool busy;     /* inside process() (no recursion) */
	bool dead;     /* closed: freed from a callback of its own, never under a caller */
};

static const char oom_reply[] = "18:TEMP out of memory,";

/* ---- the idle list (pure) ---- */

void policyd_conn_idle_add(struct policyd_idle_list *l, struct policyd_idle_link *k, int64_t now)
{
	if (k->listed)
		return;
	k->prev = l->tail;
	k->next = NULL;
	if (l->tail != NULL)
		l->tail->next = k;
	else
		l->head = k;
	l->tail = k;
	k->since = now;
	k->listed = true;
	l->n++;
}

void policyd_conn_idle_remove(struct policyd_idle_list *l, struct policyd_idle_link *k)
{
	if (!k->listed)
		return;
	if (k->prev != NULL)
		k->prev->next = k->next;
	else
		l->head = k->next;
	if (k->next != NULL)
		k->next->prev = k->prev;
	else
		l->tail = k->prev;
	k->prev = k->next = NULL;
	k->listed = false;
	l->n--;
}

struct policyd_idle_link *policyd_conn_idle_oldest(const struct policyd_idle_list *l)
{
	return l->head;
}

long policyd_conn_idle_to_close(size_t open, size_t idle, size_t max)
{
	if (open < max)
		return 0;
	/* open can exceed max after a reload lowered it: make room for this one anyway. */
	size_t need = open - max + 1;
	return need <= idle ? (long)need : -1;
}

/* ---- connections ---- */

const char *policyd_conn_peer(const struct conn *c)
{
	return c->peer;
}

static void slot_free(struct slot *s)
{
	policyd_waiter_detach(&s->w);
	if (s->owned)
		free((char *)s->reply);
	free(s);
}

static void destroy(struct conn *c)
{
	struct policyd_server *srv = c->srv;
	policyd_conn_idle_remove(&srv->idle, &c->idle);
	while (c->head != NULL) {
		struct slot *s = c->head;
		c->head = s->next;
		slot_free(s);
	}
	event_free(c->rev);
	event_free(c->wev);
	close(c->fd);
	free(c->in.data);
	free(c->out.data);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->nconns--;
	policyd_log(MXTLS_LOG_DEBUG, "close", "peer", c->peer, (const char *)NULL);
	free(c);
}

void policyd_conn_close(struct conn *c)
{
	destroy(c);
}

/* Closes c from inside its own processing: the memory stays until a callback of its own
 * frees it, so every caller up the stack may still look at c->dead. */
static void kill_later(struct conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	policyd_conn_idle_remove(&c->srv->idle, &c->idle); /* never a candidate to close again */
	event_del(c->rev);
	event_del(c->wev);
	event_active(c->wev, EV_WRITE, 1);
}

/* Appends len bytes to b; false when memory ran out. */
static bool bytes_add(struct bytes *b, const char *p, size_t len)
{
	if (b->off > 0 && b->len + len > b->cap) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (d == NULL)
			return false;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	return true;
}

static size_t unsent(const struct conn *c)
{
	return c->out.len - c->out.off;
}

static void arm_read(struct conn *c)
{
	struct timeval idle = {(time_t)c->srv->opts.idle_timeout, 0};
	event_add(c->rev, &idle); /* (re)starts the idle timer too */
}

static void process(struct conn *c);

/*
 * Keeps c's place on the idle list right; called where its state settles (every reply
 * written, a new connection).  Idle: no reply owed (no decision waited for, no request read
 * ahead while paused), none unsent, not closing.  A request that is only partly read does
 * not make c busy: nothing is owed to it yet, and a client that trickles bytes must not be
 * able to hold its place that way.  Listed already: no change (only a request moves it).
 */
static void settle(struct conn *c)
{
	bool idle = c->head == NULL && unsent(c) == 0 && !c->paused && !c->closing && !c->dead &&
		    !c->busy;
	if (idle)
		policyd_conn_idle_add(&c->srv->idle, &c->idle, policyd_server_now(c->srv));
	else
		policyd_conn_idle_remove(&c->srv->idle, &c->idle);
}

/* Writes what it can of the output; watches the socket while it is full.  Returns false when
 * c is closed (kill_later(): its memory stays until its own callback frees it). */
static bool send_out(struct conn *c)
{
	while (unsent(c) > 0) {
		ssize_t n = send(c->fd, c->out.data + c->out.off, unsent(c), MSG_NOSIGNAL);
		if (n > 0) {
			c->out.off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!c->writing) {
				c->writing = true;
				event_add(c->wev, NULL);
			}
			return true;
		}
		policyd_log(MXTLS_LOG_DEBUG, "write-failed", "peer", c->peer, "reason",
			    n < 0 ? strerror(errno) : "closed", (const char *)NULL);
		kill_later(c);
		return false;
	}
	c->out.off = c->out.len = 0;
	if (c->writing) {
		c->writing = false;
		event_del(c->wev);
	}
	if (c->closing && c->head == NULL) {
		kill_later(c);
		return false;
	}
	/* Reading paused for a backlog that is gone now: resume from a callback of its own
	 * (on_writable), not down this call chain. */
	if (c->paused && !c->closing && c->npending < CONN_PIPELINE_MAX / 2)
		event_active(c->wev, EV_WRITE, 1);
	settle(c); /* everything written: idle from now unless a reply is still owed */
	return true;
}

/* Moves the replies that are ready at the head of the queue to the output, then resumes
 * reading when the backlog has gone down. */
static void flush(struct conn *c)
{
	bool owed = c->head != NULL;
	while (c->head != NULL && c->head->reply != NULL) {
		struct slot *s = c->head;
		if (!bytes_add(&c->out, s->reply, s->len))
			c->failed = true;
		c->head = s->next;
		if (c->head == NULL)
			c->tail = NULL;
		c->npending--;
		slot_free(s);
	}
	bool reading = !c->closing && !c->eof && !c->dead;
	if (owed && c->head == NULL && reading && !c->paused)
		arm_read(c); /* idle from now on: the timeout counts from the last reply */
	if (c->paused && !c->closing && !c->dead && c->npending < CONN_PIPELINE_MAX / 2 &&
	    unsent(c) < CONN_OUTPUT_MAX / 2) {
		c->paused = false;
		if (reading)
			arm_read(c);
		process(c); /* the requests that arrived while paused */
	}
}

static struct slot *push(struct conn *c)
{
	struct slot *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	s->conn = c;
	if (c->tail != NULL)
		c->tail->next = s;
	else
		c->head = s;
	c->tail = s;
	c->npending++;
	return s;
}

void policyd_conn_reply(struct conn *c, const char *framed, size_t len)
{
	if (c->head == NULL) {
		/* Nothing owed before it: straight to the output, the common case of a hit. */
		if (!bytes_add(&c->out, framed, len))
			c->failed = true;
		return;
	}
	struct slot *s = push(c);
	if (s == NULL) {
		c->failed = true; /* the reply order can no longer be kept */
		return;
	}
	char *copy = malloc(len);
	if (copy == NULL) {
		s->reply = oom_reply; /* the order is kept; this one request fails */
		s->len = sizeof oom_reply - 1;
		return;
	}
	memcpy(copy, framed, len);
	s->reply = copy;
	s->len = len;
	s->owned = true;
}

int policyd_conn_wait(struct conn *c, struct policyd_entry *e)
{
	struct slot *s = push(c);
	if (s == NULL) {
		c->failed = true;
		return -1;
	}
	policyd_waiter_add(e, &s->w);
	return 0;
}

void policyd_conn_wake(struct policyd_entry *e, const char *framed, size_t len)
{
	if (e->framed != NULL) {
		framed = e->framed;
		len = e->framed_len;
	}
	while (policyd_entry_has_waiters(e)) {
		struct slot *s = (struct slot *)(void *)e->waiters.next;
		struct conn *c = s->conn;
		policyd_waiter_detach(&s->w);
		char *copy = malloc(len);
		if (copy != NULL) {
			memcpy(copy, framed, len);
			s->reply = copy;
			s->len = len;
			s->owned = true;
		} else {
			s->reply = oom_reply; /* the order is kept; this one request fails */
			s->len = sizeof oom_reply - 1;
		}
		if (s != c->head || c->busy)
			continue; /* written when the replies before it are (or when process() ends) */
		flush(c);
		if (!c->dead)
			send_out(c);
	}
}

/* Answers every complete request in the input, then writes the replies.  c->busy keeps a
 * decision that finishes under policyd_server_request() from writing out of turn and this
 * function from running inside itself. */
static void process(struct conn *c)
{
	if (c->busy)
		return;
	struct policyd_server *srv = c->srv;
	c->busy = true;
	while (!c->closing && !c->paused && !c->failed && !c->dead) {
		if (c->npending >= CONN_PIPELINE_MAX || unsent(c) >= CONN_OUTPUT_MAX) {
			c->paused = true;
			event_del(c->rev);
			break;
		}
		const char *payload;
		size_t plen, used;
		enum policyd_netstring r = policyd_netstring_decode(
			c->in.data + c->in.off, c->in.len - c->in.off, srv->opts.max_request, &payload,
			&plen, &used);
		if (r == POLICYD_NETSTRING_MORE)
			break;
		if (r != POLICYD_NETSTRING_DONE) {
			/* Framing is lost: nothing after this can be trusted to be a request. */
			srv->stats.bad_frames++;
			char max[24];
			snprintf(max, sizeof max, "%zu", srv->opts.max_request);
			policyd_log(MXTLS_LOG_WARNING, "bad-request", "peer", c->peer, "reason",
				    policyd_netstring_name(r), "max-request", max, "action",
				    "closing after the replies owed", (const char *)NULL);
			c->closing = true;
			event_del(c->rev);
			break;
		}
		/* Activity: off the idle list while it is answered; back at the tail (the most
		 * recently active) once the reply is written (settle()). */
		policyd_conn_idle_remove(&srv->idle, &c->idle);
		policyd_server_request(srv, c, payload, plen);
		c->in.off += used;
	}
	/* After the client's last byte, what is left is at most a partial request. */
	if (c->eof && !c->paused)
		c->closing = true;
	/* Keep only the unread rest, at the front. */
	if (c->in.off == c->in.len) {
		c->in.off = c->in.len = 0;
	} else if (c->in.off > 0) {
		memmove(c->in.data, c->in.data + c->in.off, c->in.len - c->in.off);
		c->in.len -= c->in.off;
		c->in.off = 0;
	}
	c->busy = false;
	if (c->failed && !c->dead) {
		policyd_log(MXTLS_LOG_ERROR, "out-of-memory", "peer", c->peer, (const char *)NULL);
		kill_later(c);
	}
	if (c->dead)
		return;
	flush(c); /* replies that became ready while busy */
	if (!c->dead)
		send_out(c);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	if (what & EV_TIMEOUT) {
		if (c->npending > 0)
			return; /* silent because it waits for our replies, not idle */
		policyd_log(MXTLS_LOG_DEBUG, "idle-timeout", "peer", c->peer, (const char *)NULL);
		kill_later(c);
		return;
	}
	/* Room for one more full-size request beyond what is buffered. */
	size_t frame_max = c->srv->opts.max_request + POLICYD_NETSTRING_DIGITS_MAX + 2;
	size_t want = frame_max > CONN_READ_CHUNK ? frame_max : CONN_READ_CHUNK;
	if (c->in.cap - c->in.len < want) {
		char *d = realloc(c->in.data, c->in.len + want);
		if (d == NULL) {
			policyd_log(MXTLS_LOG_ERROR, "out-of-memory", "peer", c->peer,
				    (const char *)NULL);
			kill_later(c);
			return;
		}
		c->in.data = d;
		c->in.cap = c->in.len + want;
	}
	ssize_t n = recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		if (n < 0) {
			policyd_log(MXTLS_LOG_DEBUG, "read-failed", "peer", c->peer, "reason",
				    strerror(errno), (const char *)NULL);
			kill_later(c);
			return;
		}
		/* The client is done sending (a half-close): answer what it asked, then close. */
		c->eof = true;
		event_del(c->rev);
		process(c);
		return;
	}
	c->in.len += (size_t)n;
	process(c);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	if (c->dead) {
		destroy(c); /* kill_later() brought us here */
		return;
	}
	if (!send_out(c))
		return;
	if (unsent(c) == 0 && c->paused)
		flush(c); /* resumes reading */
}

struct conn *policyd_conn_new(struct policyd_server *s, int fd, const char *peer)
{
	struct conn *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->rev = event_new(s->base, fd, EV_READ | EV_PERSIST, on_readable, c);
	c->wev = event_new(s->base, fd, EV_WRITE | EV_PERSIST, on_writable, c);
	if (c->rev == NULL || c->wev == NULL) {
		if (c->rev != NULL)
			event_free(c->rev);
		if (c->wev != NULL)
			event_free(c->wev);
		free(c);
		return NULL;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* fails harmlessly on unix */
	c->fd = fd;
	c->srv = s;
	c->id = ++s->next_conn_id;
	snprintf(c->peer, sizeof c->peer, "%llu/%s", (unsigned long long)c->id, peer);
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	s->stats.connections++;
	arm_read(c);
	settle(c); /* idle until its first request */
	policyd_log(MXTLS_LOG_DEBUG, "connect", "peer", c->peer, (const char *)NULL);
	return c;
}

bool policyd_conn_make_room(struct policyd_server *s, const char *peer)
{
	long n = policyd_conn_idle_to_close(s->nconns, s->idle.n, s->opts.max_connections);
	if (n < 0)
		return false;
	int64_t now = policyd_server_now(s);
	for (; n > 0; n--) {
		struct policyd_idle_link *k = policyd_conn_idle_oldest(&s->idle);
		struct conn *c = (struct conn *)(void *)((char *)k - offsetof(struct conn, idle));
		char idle[24];
		snprintf(idle, sizeof idle, "%" PRId64, now > k->since ? now - k->since : 0);
		/* Postfix's socketmap client reconnects and asks again when it finds the
		 * connection closed (doc/policyd.md, Limits): an idle one costs it a reconnect. */
		policyd_log(MXTLS_LOG_INFO, "connection-evicted", "peer", c->peer, "idle-seconds",
			    idle, "reason", "max-connections reached", "new-peer", peer,
			    (const char *)NULL);
		/* Idle: no decision refers to it and none of its events is running, so it goes
		 * at once (the caller is the listener, not one of its callbacks). */
		destroy(c);
	}
	return true;
}
