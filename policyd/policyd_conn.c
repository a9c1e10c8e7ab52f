/* SPDX-License-Identifier: MIT */
/* One socketmap client connection: netstring requests in, replies out in request order. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "policyd/policyd_log.h"
#include "policyd/policyd_netstring.h"
#include "policyd/policyd_server.h"

/* Requests read ahead of their replies on one connection; beyond this, reading pauses. */
#define CONN_PIPELINE_MAX 1024
/* Replies not yet taken by a slow reader; beyond this, reading pauses. */
#define CONN_OUTPUT_MAX (1024 * 1024)

/* One request whose reply is not written yet. */
struct slot {
	struct policyd_waiter w; /* first: a waiter is a slot (policyd_conn_wake) */
	struct conn *conn;
	struct slot *next;
	char *reply;             /* owned, framed; NULL until ready */
	size_t len;
};

struct conn {
	struct policyd_server *srv;
	struct bufferevent *bev;
	struct conn *prev, *next;
	struct slot *head, *tail;
	size_t npending;
	uint64_t id;
	char peer[80];
	bool paused;
	bool failed;  /* out of memory: closed once the request being handled is done */
	bool closing; /* no more requests: closed once every reply owed is written */
};

const char *policyd_conn_peer(const struct conn *c)
{
	return c->peer;
}

static void slot_free(struct slot *s)
{
	policyd_waiter_detach(&s->w);
	free(s->reply);
	free(s);
}

void policyd_conn_close(struct conn *c)
{
	struct policyd_server *srv = c->srv;
	while (c->head != NULL) {
		struct slot *s = c->head;
		c->head = s->next;
		slot_free(s);
	}
	bufferevent_free(c->bev);
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

static void read_requests(struct conn *c);

/* Stops reading; the connection closes once the replies owed before this point are written
 * (a client that half-closes, or sends a bad frame after good requests, gets those). */
static void finish_then_close(struct conn *c)
{
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	if (c->head == NULL && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		policyd_conn_close(c);
}

/* Writes the replies that are ready at the head of the queue. */
static void flush(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	while (c->head != NULL && c->head->reply != NULL) {
		struct slot *s = c->head;
		evbuffer_add(out, s->reply, s->len);
		c->head = s->next;
		if (c->head == NULL)
			c->tail = NULL;
		c->npending--;
		slot_free(s);
	}
	if (c->head == NULL && !c->closing) {
		/* Idle from now on: the timeout counts from the last reply, not the last read. */
		struct timeval idle = {(time_t)c->srv->opts.idle_timeout, 0};
		bufferevent_set_timeouts(c->bev, &idle, NULL);
	}
	if (c->closing)
		return;
	if (c->paused && c->npending < CONN_PIPELINE_MAX / 2 &&
	    evbuffer_get_length(out) < CONN_OUTPUT_MAX / 2) {
		c->paused = false;
		bufferevent_enable(c->bev, EV_READ);
		read_requests(c); /* what arrived while paused */
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
		/* Nothing queued before it: straight out, the common case of a cache hit. */
		evbuffer_add(bufferevent_get_output(c->bev), framed, len);
		return;
	}
	struct slot *s = push(c);
	if (s == NULL || (s->reply = malloc(len)) == NULL) {
		policyd_log(MXTLS_LOG_ERROR, "out-of-memory", "peer", c->peer, (const char *)NULL);
		c->failed = true; /* the reply order can no longer be kept */
		return;
	}
	memcpy(s->reply, framed, len);
	s->len = len;
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
		policyd_waiter_detach(&s->w);
		s->reply = malloc(len);
		if (s->reply == NULL) {
			policyd_log(MXTLS_LOG_ERROR, "out-of-memory", "peer", s->conn->peer,
				    (const char *)NULL);
			policyd_conn_close(s->conn);
			continue;
		}
		memcpy(s->reply, framed, len);
		s->len = len;
		if (s == s->conn->head)
			flush(s->conn);
	}
}

/* Decodes and answers every complete request in the input buffer. */
static void read_requests(struct conn *c)
{
	struct policyd_server *srv = c->srv;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t frame_max = srv->opts.max_request + POLICYD_NETSTRING_DIGITS_MAX + 2;
	while (!c->closing) {
		size_t len = evbuffer_get_length(in);
		if (len == 0)
			return;
		if (c->npending >= CONN_PIPELINE_MAX ||
		    evbuffer_get_length(bufferevent_get_output(c->bev)) >= CONN_OUTPUT_MAX) {
			c->paused = true;
			bufferevent_disable(c->bev, EV_READ);
			return;
		}
		size_t want = len < frame_max ? len : frame_max;
		const char *data = (const char *)evbuffer_pullup(in, (ev_ssize_t)want);
		const char *payload;
		size_t plen, used;
		enum policyd_netstring r =
			policyd_netstring_decode(data, want, srv->opts.max_request, &payload, &plen,
						 &used);
		if (r == POLICYD_NETSTRING_MORE)
			return;
		if (r != POLICYD_NETSTRING_DONE) {
			/* Framing is lost: nothing after this can be trusted to be a request. */
			srv->stats.bad_frames++;
			char max[24];
			snprintf(max, sizeof max, "%zu", srv->opts.max_request);
			policyd_log(MXTLS_LOG_WARNING, "bad-request", "peer", c->peer, "reason",
				    policyd_netstring_name(r), "max-request", max,
				    "action", "closing after the replies owed", (const char *)NULL);
			finish_then_close(c);
			return;
		}
		policyd_server_request(srv, c, payload, plen);
		evbuffer_drain(in, used);
		if (c->failed) {
			policyd_conn_close(c);
			return;
		}
	}
}

static void on_read(struct bufferevent *bev, void *arg)
{
	read_requests(arg);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	if (c->closing && c->head == NULL) {
		policyd_conn_close(c); /* the output is empty: this callback says so */
		return;
	}
	if (c->paused)
		flush(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	if ((what & BEV_EVENT_TIMEOUT) && c->npending > 0) {
		/* Silent because it waits for our replies, not idle. */
		bufferevent_enable(bev, EV_READ);
		return;
	}
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && !c->closing) {
		/* The client is done sending (a half-close): answer what it asked, then close. */
		finish_then_close(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		policyd_log(MXTLS_LOG_DEBUG, "idle-timeout", "peer", c->peer, (const char *)NULL);
	policyd_conn_close(c);
}

struct conn *policyd_conn_new(struct policyd_server *s, int fd, const char *peer)
{
	struct conn *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		free(c);
		return NULL;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* fails harmlessly on unix */
	c->srv = s;
	c->id = ++s->next_conn_id;
	snprintf(c->peer, sizeof c->peer, "%llu/%s", (unsigned long long)c->id, peer);
	struct timeval idle = {(time_t)s->opts.idle_timeout, 0};
	bufferevent_set_timeouts(c->bev, &idle, NULL);
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_enable(c->bev, EV_READ);
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	s->stats.connections++;
	policyd_log(MXTLS_LOG_DEBUG, "connect", "peer", c->peer, (const char *)NULL);
	return c;
}
