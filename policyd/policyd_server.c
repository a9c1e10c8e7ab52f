/* SPDX-License-Identifier: MIT */
/* The policy server: listeners, the answer path (cache, then decision), signals, timers. */
#include "policyd/policyd_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "policyd/policyd_answer.h"
#include "policyd/policyd_key.h"
#include "policyd/policyd_log.h"
#include "policyd/policyd_netstring.h"
#include "policyd/policyd_notify.h"
#include "policyd/policyd_store.h"

#define EX_SOFTWARE_ 70
#define EX_CONFIG_ 78

/* A refresh-ahead starts when a served answer has less than this share of its TTL left. */
#define REFRESH_AHEAD_DIVISOR 10

struct job {
	struct job *prev, *next; /* all running decisions, for the shutdown */
	struct policyd_server *srv;
	struct policyd_entry *entry;
	struct ctx_gen *gen;
	struct mxtls_decide_op *op;
	struct mxtls_shared_get *shared; /* fleet mode: looking up another member's answer */
	struct timespec started;
	bool detached;    /* entry is not in the cache (it was full): freed when done */
	bool refresh;     /* a refresh-ahead: the entry still serves its current answer */
};

struct listener_set {
	struct evconnlistener *l[POLICYD_LISTEN_MAX + 1];
	size_t n;
	char *unlink_path; /* the unix socket to remove at exit */
};

static struct listener_set listeners;
static struct event *ev_term, *ev_int, *ev_hup, *ev_commit, *ev_sweep, *ev_refresh;
static struct mxtls_sts_refresh_op *refresh_op;
static struct job *jobs;

static void job_unlink(struct job *j)
{
	if (j->prev != NULL)
		j->prev->next = j->next;
	else
		jobs = j->next;
	if (j->next != NULL)
		j->next->prev = j->prev;
}

int64_t policyd_server_now(struct policyd_server *s)
{
	struct timeval tv;
	if (event_base_gettimeofday_cached(s->base, &tv) != 0)
		gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec;
}

/* ---- library contexts ---- */

static struct ctx_gen *gen_new(struct policyd_server *s, const struct mxtls_config *cfg,
			       char *err, size_t errlen)
{
	struct ctx_gen *g = calloc(1, sizeof *g);
	if (g == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	int rc = mxtls_ctx_new(cfg, &g->ctx, err, errlen);
	if (rc != MXTLS_OK) {
		if (rc != MXTLS_E_CONFIG)
			snprintf(err, errlen, "%s", mxtls_strerror(rc));
		free(g);
		return NULL;
	}
	enum mxtls_log_level lib = s->args->verbose >= 2   ? MXTLS_LOG_DEBUG
				   : s->args->verbose == 1 ? MXTLS_LOG_INFO
							   : MXTLS_LOG_WARNING;
	mxtls_ctx_set_log(g->ctx, lib, policyd_log_library, NULL);
	if (mxtls_ctx_set_event_base(g->ctx, s->base) != MXTLS_OK) {
		snprintf(err, errlen, "cannot attach the library to the event loop");
		mxtls_ctx_free(g->ctx);
		free(g);
		return NULL;
	}
	g->refs = 1;
	return g;
}

static void gen_free(evutil_socket_t fd, short what, void *arg)
{
	struct ctx_gen *g = arg;
	mxtls_ctx_free(g->ctx);
	free(g);
}

/* Drops a reference.  The last one may be dropped from inside one of the context's own
 * callbacks, so the context goes on the next turn of the loop, never under its caller. */
static void gen_release(struct policyd_server *s, struct ctx_gen *g)
{
	if (g == NULL || --g->refs > 0)
		return;
	struct timeval now = {0, 0};
	if (s->stopping || event_base_once(s->base, -1, EV_TIMEOUT, gen_free, g, &now) != 0)
		gen_free(-1, 0, g);
}

/* ---- answers ---- */

/* The size of a cache key: a domain, or "[host]" for a next-hop host. */
#define POLICYD_KEY_TEXT_MAX 258

/* A "[host]" cache key's host into out; false for a domain key. */
static bool unbracket(const char *key, char *out, size_t outlen)
{
	size_t n = strlen(key);
	if (n < 3 || key[0] != '[' || key[n - 1] != ']' || n - 2 >= outlen)
		return false;
	memcpy(out, key + 1, n - 2);
	out[n - 2] = '\0';
	return true;
}

/* --fail-open names domains; a "[host]" key is matched by its host. */
static bool fail_open(const struct policyd_options *o, const char *key)
{
	char host[POLICYD_KEY_TEXT_MAX];
	const char *domain = unbracket(key, host, sizeof host) ? host : key;
	size_t dlen = strlen(domain);
	for (size_t i = 0; i < o->nfail_open; i++) {
		const char *f = o->fail_open[i];
		size_t flen = strlen(f);
		if (strcmp(f, "*") == 0 || strcmp(f, domain) == 0)
			return true;
		if (f[0] == '.' && dlen > flen && strcmp(domain + dlen - flen, f) == 0)
			return true;
	}
	return false;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void job_finish(struct job *j, const char *payload, size_t plen, int64_t ttl, bool keep,
		       const char *mode)
{
	struct policyd_server *s = j->srv;
	struct policyd_entry *e = j->entry;
	int64_t now = policyd_server_now(s);
	e->op = NULL;
	/* Answers may be up to ~100 KB (Postfix's reply limit): framed on the heap, to size. */
	static const char oom_framed[] = "18:TEMP out of memory,";
	size_t fcap = plen + 24;
	char *framed = malloc(fcap);
	size_t flen = framed != NULL ? policyd_netstring_encode(payload, plen, framed, fcap) : 0;
	const char *wake = framed != NULL ? framed : oom_framed;
	size_t wake_len = framed != NULL ? flen : sizeof oom_framed - 1;
	if (j->refresh && !keep && e->framed != NULL && now < e->expires) {
		/* A refresh-ahead that failed: the current answer stays in force until it
		 * expires (its DNS answers are still valid); the next request tries again. */
		policyd_log(MXTLS_LOG_WARNING, "refresh-failed", "domain", e->key, "answer",
			    payload, (const char *)NULL);
		job_unlink(j);
		gen_release(s, j->gen);
		free(framed);
		free(j);
		return;
	}
	if (policyd_cache_set_answer(e, payload, plen, now + ttl, ttl) != 0)
		policyd_log(MXTLS_LOG_ERROR, "out-of-memory", "domain", e->key, (const char *)NULL);
	if (keep && s->store != NULL &&
	    policyd_store_put(s->store, e->key, payload, plen, now + ttl, ttl) != 0)
		policyd_log(MXTLS_LOG_WARNING, "store-failed", "domain", e->key, (const char *)NULL);
	char ms[32], t[24];
	snprintf(ms, sizeof ms, "%.1f", ms_since(&j->started));
	snprintf(t, sizeof t, "%lld", (long long)ttl);
	char answer[256];
	snprintf(answer, sizeof answer, "%.*s", (int)(plen < 255 ? plen : 255), payload);
	policyd_log(MXTLS_LOG_INFO, j->refresh ? "refreshed" : "decided", "domain", e->key,
		    "mode", mode, "answer", answer, "ttl", t, "ms", ms, (const char *)NULL);
	job_unlink(j);
	policyd_conn_wake(e, wake, wake_len);
	free(framed);
	gen_release(j->srv, j->gen);
	if (j->detached)
		policyd_entry_free(e);
	free(j);
}

static void on_decided(void *arg, struct mxtls_decision *d, int err)
{
	struct job *j = arg;
	struct policyd_server *s = j->srv;
	const struct policyd_options *o = &s->opts;
	/* POLICYD_ANSWER_MAX is ~100 KB: on the heap, not the loop's stack. */
	char oom_payload[] = "TEMP out of memory";
	char *payload = malloc(POLICYD_ANSWER_MAX);
	size_t payload_cap = POLICYD_ANSWER_MAX;
	if (payload == NULL) {
		mxtls_decision_free(d);
		job_finish(j, oom_payload, sizeof oom_payload - 1, o->temp_ttl, false, "error");
		return;
	}
	size_t plen = 0;
	struct policyd_facts f;
	struct policyd_answer_opts ao = {.tlsrpt = o->tlsrpt,
					 .fail_open = fail_open(o, j->entry->key)};
	const char *mode = "error";
	if (d == NULL) {
		plen = (size_t)snprintf(payload, payload_cap, "TEMP %s", mxtls_strerror(err));
		if (ao.fail_open)
			plen = (size_t)snprintf(payload, payload_cap, "NOTFOUND ");
	} else {
		mode = mxtls_decision_mode(d);
		if (policyd_facts_from_decision(d, &f) == 0)
			plen = policyd_answer(&f, &ao, payload, payload_cap);
		policyd_facts_clear(&f);
		if (plen == 0)
			plen = (size_t)snprintf(payload, payload_cap, "TEMP %s",
						"the decision does not fit in one answer");
	}
	/* A TEMP (or its fail-open NOTFOUND) is kept briefly and never written to disk. */
	bool transient = d == NULL || strcmp(mode, "tempfail") == 0 ||
			 strncmp(payload, "TEMP ", 5) == 0;
	int64_t ttl = o->temp_ttl;
	if (!transient) {
		ttl = mxtls_decision_ttl(d);
		if (ttl < (int64_t)o->min_ttl)
			ttl = o->min_ttl;
		if (ttl > (int64_t)o->max_ttl)
			ttl = o->max_ttl;
		/* --min-ttl never keeps an answer past its MTA-STS policy's max_age (RFC 8461
		 * §5.1; the lab's sts-max-age scenario found it did). */
		int64_t limit = mxtls_decision_ttl_limit(d);
		if (ttl > limit)
			ttl = limit;
	}
	if (strncmp(payload, "TEMP ", 5) == 0)
		s->stats.temp++;
	/* Fleet mode: the other members may answer from it until it expires (a TEMP never). */
	struct mxtls_ctx *ctx = j->gen->ctx;
	if (!transient && mxtls_shared_answers(ctx) &&
	    mxtls_shared_answer_put(ctx, s->answer_scope, j->entry->key, payload, plen,
				    policyd_server_now(s) + ttl) != MXTLS_OK)
		policyd_log(MXTLS_LOG_DEBUG, "fleet-answer-not-shared", "domain", j->entry->key,
			    (const char *)NULL);
	/* The mode string belongs to d: log before it goes. */
	char mode_copy[32];
	snprintf(mode_copy, sizeof mode_copy, "%s", mode);
	mxtls_decision_free(d);
	job_finish(j, payload, plen, ttl, !transient, mode_copy);
	free(payload);
}

static void decide(struct job *j);

/* Fleet mode: another member's answer (sealed with the fleet's key, checked by the library). */
static void on_shared(void *arg, int rc, const char *answer, size_t len, int64_t expires)
{
	struct job *j = arg;
	struct policyd_server *s = j->srv;
	j->shared = NULL;
	int64_t now = policyd_server_now(s);
	int64_t ttl = expires - now;
	if (ttl > (int64_t)s->opts.max_ttl)
		ttl = s->opts.max_ttl;
	/* A refresh-ahead takes only an answer that lasts longer than the one it refreshes. */
	if (rc == MXTLS_OK && ttl >= 1 && (!j->refresh || expires > j->entry->expires)) {
		job_finish(j, answer, len, ttl, true, "fleet");
		return;
	}
	decide(j);
}

/* Starts a decision for e; on a synchronous failure answers e's waiters at once. */
static void start_decision(struct policyd_server *s, struct policyd_entry *e, bool detached,
			   bool refresh)
{
	struct job *j = calloc(1, sizeof *j);
	if (j == NULL) {
		static const char temp[] = "TEMP out of memory";
		char framed[64];
		size_t flen = policyd_netstring_encode(temp, sizeof temp - 1, framed, sizeof framed);
		policyd_conn_wake(e, framed, flen);
		if (detached)
			policyd_entry_free(e);
		return;
	}
	*j = (struct job){.srv = s, .entry = e, .gen = s->gen, .detached = detached,
			  .refresh = refresh};
	clock_gettime(CLOCK_MONOTONIC, &j->started);
	j->next = jobs;
	if (jobs != NULL)
		jobs->prev = j;
	jobs = j;
	s->gen->refs++;
	e->op = j;
	s->stats.decisions++;
	if (refresh)
		s->stats.refreshes++;
	/* Fleet mode: another member's answer, if one is shared and still valid, spares the
	 * lookups; anything else (none, expired, forged, Redis away) means deciding here. */
	if (mxtls_shared_answers(s->gen->ctx) &&
	    mxtls_shared_answer_get(s->gen->ctx, s->answer_scope, e->key, on_shared, j,
				    &j->shared) == MXTLS_OK)
		return;
	decide(j);
}

/* Starts the decision of j's entry with the context's lookups. */
static void decide(struct job *j)
{
	struct policyd_server *s = j->srv;
	struct policyd_entry *e = j->entry;
	char err[256] = "";
	char host[POLICYD_KEY_TEXT_MAX];
	unsigned flags = 0;
	const char *name = e->key;
	if (unbracket(e->key, host, sizeof host)) {
		flags = MXTLS_DECIDE_NO_MX; /* RFC 7672 §2.2.2: Postfix's "[host]" */
		name = host;
	}
	int rc = mxtls_decide_flags_start(s->gen->ctx, name, flags, on_decided, j, &j->op, err,
					  sizeof err);
	if (rc == MXTLS_OK)
		return;
	/* Not a name the library can decide (MXTLS_E_INVAL): Postfix's own default applies. */
	const char *answer = rc == MXTLS_E_INVAL ? "NOTFOUND " : "TEMP cannot start the lookups";
	policyd_log(MXTLS_LOG_WARNING, "decide-failed", "domain", e->key, "reason",
		    err[0] ? err : mxtls_strerror(rc), (const char *)NULL);
	job_finish(j, answer, strlen(answer), s->opts.temp_ttl, false, "error");
}

/* A short fixed answer (PERM, NOTFOUND, TEMP ...). */
static void reply_text(struct conn *c, const char *payload)
{
	char framed[256];
	size_t n = policyd_netstring_encode(payload, strlen(payload), framed, sizeof framed);
	policyd_conn_reply(c, framed, n);
}

void policyd_server_request(struct policyd_server *s, struct conn *c, const char *payload,
			    size_t plen)
{
	s->stats.requests++;
	struct policyd_request req;
	if (policyd_request_parse(payload, plen, &req) != 0) {
		policyd_log(MXTLS_LOG_WARNING, "bad-request", "peer", policyd_conn_peer(c), "reason",
			    req.why, (const char *)NULL);
		reply_text(c, "PERM malformed request");
		return;
	}
	if (req.kind != POLICYD_KEY_DOMAIN) {
		/* Parent-domain probes, IP literals, other ports: no policy of ours applies, and
		 * Postfix's own smtp_tls_security_level decides. */
		s->stats.notfound++;
		if (policyd_log_enabled(MXTLS_LOG_DEBUG))
			policyd_log(MXTLS_LOG_DEBUG, "request", "peer", policyd_conn_peer(c), "kind",
				    policyd_key_kind_name(req.kind), "reason", req.why,
				    "answer", "NOTFOUND", (const char *)NULL);
		reply_text(c, "NOTFOUND ");
		return;
	}
	int64_t now = policyd_server_now(s);
	/* "[host]" is its own answer (decided without an MX lookup): its own cache key. */
	char bracketed[sizeof req.domain + 2];
	const char *key = req.domain;
	if (req.no_mx) {
		snprintf(bracketed, sizeof bracketed, "[%s]", req.domain);
		key = bracketed;
	}
	struct policyd_entry *e = policyd_cache_find(&s->cache, key);
	if (e != NULL && e->framed != NULL && now < e->expires) {
		s->stats.hits++;
		if (policyd_log_enabled(MXTLS_LOG_DEBUG))
			policyd_log(MXTLS_LOG_DEBUG, "request", "peer", policyd_conn_peer(c), "domain",
				    key, "source", "cache", (const char *)NULL);
		policyd_conn_reply(c, e->framed, e->framed_len);
		int64_t margin = e->ttl / REFRESH_AHEAD_DIVISOR;
		if (e->op == NULL && !s->stopping && e->expires - now <= (margin > 1 ? margin : 1))
			start_decision(s, e, false, true);
		return;
	}
	s->stats.misses++;
	bool detached = false;
	if (e == NULL) {
		e = policyd_cache_add(&s->cache, key);
		if (e == NULL && now != s->last_full_sweep) {
			/* Full: make room from the expired answers, at most once a second (a sweep
			 * walks the whole table). */
			s->last_full_sweep = now;
			policyd_cache_sweep(&s->cache, now);
			e = policyd_cache_add(&s->cache, key);
		}
		if (e == NULL) {
			e = policyd_entry_new(key);
			detached = true;
			if (e == NULL) {
				reply_text(c, "TEMP out of memory");
				return;
			}
		}
	}
	if (policyd_conn_wait(c, e) != 0) {
		if (detached)
			policyd_entry_free(e);
		return;
	}
	struct job *running = e->op;
	if (running != NULL)
		running->refresh = false; /* someone waits for it now */
	else
		start_decision(s, e, detached, false);
}

/* ---- listeners ---- */

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct policyd_server *s = arg;
	char peer[INET6_ADDRSTRLEN + 8] = "unix";
	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) {
		char host[INET6_ADDRSTRLEN];
		uint16_t port;
		if (sa->sa_family == AF_INET) {
			const struct sockaddr_in *in = (const struct sockaddr_in *)(void *)sa;
			inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
			port = ntohs(in->sin_port);
		} else {
			const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(void *)sa;
			inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
			port = ntohs(in6->sin6_port);
		}
		snprintf(peer, sizeof peer, "%s:%u", host, port);
	}
	if (s->stopping) {
		policyd_log(MXTLS_LOG_WARNING, "connection-refused", "peer", peer, "reason",
			    "shutting down", (const char *)NULL);
		evutil_closesocket(fd);
		return;
	}
	/* At the limit the connections idle the longest make room (issue 14: idle clients of
	 * any local process must not lock Postfix out); only a limit full of connections that
	 * are owed replies refuses a new one. */
	if (!policyd_conn_make_room(s, peer)) {
		char busy[24], idle[24];
		snprintf(busy, sizeof busy, "%zu", s->nconns - s->idle.n);
		snprintf(idle, sizeof idle, "%zu", s->idle.n);
		policyd_log(MXTLS_LOG_WARNING, "connection-refused", "peer", peer, "reason",
			    "max-connections reached", "busy", busy, "idle", idle,
			    (const char *)NULL);
		evutil_closesocket(fd);
		return;
	}
	evutil_make_socket_nonblocking(fd);
	if (policyd_conn_new(s, fd, peer) == NULL) {
		policyd_log(MXTLS_LOG_ERROR, "out-of-memory", "peer", peer, (const char *)NULL);
		evutil_closesocket(fd);
	}
}

static int listen_tcp(struct policyd_server *s, const char *spec, char *err, size_t errlen)
{
	char host[256];
	const char *port;
	if (spec[0] == '[') {
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
	if (host[0] == '\0' || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 ||
	    atoi(port) < 1 || atoi(port) > 65535)
		goto bad;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	int gai = getaddrinfo(host, port, &hints, &ai);
	if (gai != 0) {
		snprintf(err, errlen, "--listen %s: %s", spec, gai_strerror(gai));
		return -1;
	}
	struct evconnlistener *l = evconnlistener_new_bind(
		s->base, on_accept, s, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
		1024, ai->ai_addr, (int)ai->ai_addrlen);
	int e = errno;
	freeaddrinfo(ai);
	if (l == NULL) {
		snprintf(err, errlen, "--listen %s: %s", spec, strerror(e));
		return -1;
	}
	listeners.l[listeners.n++] = l;
	return 0;
bad:
	snprintf(err, errlen, "--listen %s: expected HOST:PORT or [IPV6]:PORT, PORT from 1 to 65535",
		 spec);
	return -1;
}

static int listen_unix(struct policyd_server *s, const char *path, unsigned mode, char *err,
		       size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "--socket %s: path too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	struct stat st;
	/* A socket left by an earlier run goes; any other file is not ours to remove. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "--socket %s: exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	/* The umask keeps the socket closed between bind() and chmod(). */
	mode_t old_mask = umask(0777);
	int bound = fd >= 0 ? bind(fd, (struct sockaddr *)&sa, sizeof sa) : -1;
	umask(old_mask);
	if (fd < 0 || bound != 0 || chmod(path, mode) != 0 || listen(fd, 1024) != 0) {
		snprintf(err, errlen, "--socket %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct evconnlistener *l =
		evconnlistener_new(s->base, on_accept, s, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (l == NULL) {
		close(fd);
		snprintf(err, errlen, "--socket %s: out of memory", path);
		return -1;
	}
	listeners.l[listeners.n++] = l;
	listeners.unlink_path = strdup(path);
	return 0;
}

static void close_listeners(void)
{
	for (size_t i = 0; i < listeners.n; i++)
		evconnlistener_free(listeners.l[i]);
	listeners.n = 0;
	if (listeners.unlink_path != NULL)
		unlink(listeners.unlink_path);
	free(listeners.unlink_path);
	listeners.unlink_path = NULL;
}

/* ---- life cycle ---- */

/* v2: the TLSRPT attributes gained policy_ttl, so answers stored by v1 are not reused. */
static void set_fingerprint(struct policyd_server *s)
{
	snprintf(s->fingerprint, sizeof s->fingerprint, "v2 tlsrpt=%d", s->opts.tlsrpt ? 1 : 0);
	/* The same in the fleet's shared answers (mxtls:answer:SCOPE:DOMAIN): members made
	 * with other options never take each other's answers. */
	snprintf(s->answer_scope, sizeof s->answer_scope, "policyd-v2-tlsrpt=%d",
		 s->opts.tlsrpt ? 1 : 0);
}

static void on_loaded(void *arg, const char *key, const char *answer, size_t len,
		      int64_t expires, int64_t ttl)
{
	struct policyd_server *s = arg;
	if (policyd_cache_find(&s->cache, key) != NULL)
		return;
	struct policyd_entry *e = policyd_cache_add(&s->cache, key);
	if (e != NULL && policyd_cache_set_answer(e, answer, len, expires, ttl) != 0)
		policyd_cache_remove(&s->cache, e);
}

static void open_store(struct policyd_server *s, const struct mxtls_config *cfg)
{
	const char *dir = mxtls_config_get(cfg, "state-dir");
	char err[512];
	if (dir == NULL) {
		policyd_log(MXTLS_LOG_WARNING, "store-disabled", "reason", "no state directory",
			    (const char *)NULL);
		return;
	}
	if (policyd_store_open(dir, s->fingerprint, &s->store, err, sizeof err) != 0) {
		policyd_log(MXTLS_LOG_WARNING, "store-disabled", "reason", err, (const char *)NULL);
		return;
	}
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long n = policyd_store_load(s->store, policyd_server_now(s), on_loaded, s);
	char count[24], ms[32];
	snprintf(count, sizeof count, "%ld", n);
	snprintf(ms, sizeof ms, "%.1f", ms_since(&t0));
	policyd_log(n < 0 ? MXTLS_LOG_WARNING : MXTLS_LOG_INFO, "store-loaded", "answers", count,
		    "ms", ms, (const char *)NULL);
}

static void on_commit(evutil_socket_t fd, short what, void *arg)
{
	struct policyd_server *s = arg;
	if (s->store != NULL && policyd_store_commit(s->store) != 0)
		policyd_log(MXTLS_LOG_WARNING, "store-failed", "reason", "commit", (const char *)NULL);
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct policyd_server *s = arg;
	policyd_cache_sweep(&s->cache, policyd_server_now(s));
}

static void on_sts_refreshed(void *arg, size_t refreshed, size_t failed)
{
	refresh_op = NULL;
}

static void on_refresh_timer(evutil_socket_t fd, short what, void *arg)
{
	struct policyd_server *s = arg;
	if (refresh_op != NULL || s->stopping)
		return;
	char err[256];
	/* RFC 8461 §3.3, §10.2: renew cached policies before they expire, a few at a time. */
	if (mxtls_sts_refresh_start(s->gen->ctx, s->opts.sts_refresh_age, 4, 2000,
				    on_sts_refreshed, s, &refresh_op, err, sizeof err) != MXTLS_OK)
		policyd_log(MXTLS_LOG_WARNING, "sts-refresh-failed", "reason", err,
			    (const char *)NULL);
}

static void arm_refresh(struct policyd_server *s)
{
	if (s->opts.sts_refresh == 0) {
		event_del(ev_refresh);
		return;
	}
	struct timeval tv = {(time_t)s->opts.sts_refresh, 0};
	event_add(ev_refresh, &tv);
}

static bool same_listeners(const struct policyd_options *a, const struct policyd_options *b)
{
	if (a->nlisten != b->nlisten || (a->socket == NULL) != (b->socket == NULL) ||
	    (a->socket != NULL && strcmp(a->socket, b->socket) != 0) ||
	    a->socket_mode != b->socket_mode)
		return false;
	for (size_t i = 0; i < a->nlisten; i++)
		if (strcmp(a->listen[i], b->listen[i]) != 0)
			return false;
	return true;
}

static void mark_stale(void *arg, struct policyd_entry *e)
{
	e->expires = 0;
}

/* SIGHUP: new settings and a new library context; the answers are recomputed. */
static void reload(struct policyd_server *s)
{
	policyd_notify("RELOADING=1");
	char err[512] = "";
	struct mxtls_config *cfg = NULL;
	struct policyd_options opts;
	if (s->args->reload == NULL) {
		policyd_log(MXTLS_LOG_INFO, "reload", "result", "cache flushed", (const char *)NULL);
	} else if (s->args->reload(s->args->reload_arg, &cfg, &opts, err, sizeof err) != 0) {
		policyd_log(MXTLS_LOG_ERROR, "reload-failed", "reason", err, "action",
			    "keeping the running configuration", (const char *)NULL);
		policyd_notify("READY=1");
		return;
	} else {
		struct ctx_gen *g = gen_new(s, cfg, err, sizeof err);
		if (g == NULL) {
			policyd_log(MXTLS_LOG_ERROR, "reload-failed", "reason", err, "action",
				    "keeping the running configuration", (const char *)NULL);
			mxtls_config_free(cfg);
			policyd_options_free(&opts);
			policyd_notify("READY=1");
			return;
		}
		if (!same_listeners(&s->opts, &opts))
			policyd_log(MXTLS_LOG_WARNING, "reload", "note",
				    "listen, socket and socket-mode change only on restart",
				    (const char *)NULL);
		/* Keep the sockets as they are: the running ones stay described. */
		for (size_t i = 0; i < opts.nlisten; i++)
			free(opts.listen[i]);
		opts.nlisten = 0;
		free(opts.socket);
		opts.socket = NULL;
		for (size_t i = 0; i < s->opts.nlisten; i++) {
			opts.listen[i] = s->opts.listen[i];
			s->opts.listen[i] = NULL;
		}
		opts.nlisten = s->opts.nlisten;
		opts.socket = s->opts.socket;
		opts.socket_mode = s->opts.socket_mode;
		s->opts.socket = NULL;
		s->opts.nlisten = 0;
		policyd_options_free(&s->opts);
		s->opts = opts;
		if (refresh_op != NULL) {
			mxtls_sts_refresh_cancel(refresh_op);
			refresh_op = NULL;
		}
		gen_release(s, s->gen);
		s->gen = g;
		mxtls_config_free(s->cfg);
		s->cfg = cfg;
		arm_refresh(s);
		policyd_log(MXTLS_LOG_INFO, "reload", "result", "configuration reloaded",
			    (const char *)NULL);
	}
	/* Answers depend on the settings: forget them all (running decisions finish first). */
	policyd_cache_sweep(&s->cache, INT64_MAX);
	policyd_cache_foreach(&s->cache, mark_stale, NULL);
	s->cache.max = s->opts.cache_size;
	set_fingerprint(s);
	if (s->store != NULL)
		policyd_store_clear(s->store);
	policyd_store_close(s->store);
	s->store = NULL;
	open_store(s, s->cfg != NULL ? s->cfg : s->args->cfg);
	policyd_notify("READY=1");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct policyd_server *s = arg;
	if (sig == SIGHUP) {
		reload(s);
		return;
	}
	policyd_notify("STOPPING=1");
	policyd_log(MXTLS_LOG_INFO, "stopping", "signal", sig == SIGTERM ? "TERM" : "INT",
		    (const char *)NULL);
	s->stopping = true;
	event_base_loopbreak(s->base);
}

static void cancel_jobs(void)
{
	while (jobs != NULL) {
		struct job *j = jobs;
		job_unlink(j);
		mxtls_decide_cancel(j->op);
		mxtls_shared_answer_cancel(j->shared);
		gen_release(j->srv, j->gen);
		j->entry->op = NULL;
		if (j->detached)
			policyd_entry_free(j->entry);
		free(j);
	}
}

static void log_stats(const struct policyd_server *s, const char *event)
{
	char v[9][24];
	const uint64_t *f[9] = {&s->stats.requests, &s->stats.hits,    &s->stats.misses,
				&s->stats.decisions, &s->stats.refreshes, &s->stats.notfound,
				&s->stats.temp,     &s->stats.bad_frames, &s->stats.connections};
	for (size_t i = 0; i < 9; i++)
		snprintf(v[i], sizeof v[i], "%llu", (unsigned long long)*f[i]);
	char cached[24];
	snprintf(cached, sizeof cached, "%zu", s->cache.count);
	policyd_log(MXTLS_LOG_INFO, event, "requests", v[0], "hits", v[1], "misses", v[2],
		    "decisions", v[3], "refreshes", v[4], "not-looked-up", v[5],
		    "temp-decisions", v[6],
		    "bad-frames", v[7], "connections", v[8], "cached", cached, (const char *)NULL);
}

int policyd_run(const struct policyd_run_args *args)
{
	struct policyd_server s = {.args = args};
	int status = 0;
	char err[512] = "";
	policyd_log_set_level(args->verbose >= 2 ? MXTLS_LOG_DEBUG : MXTLS_LOG_INFO);
	signal(SIGPIPE, SIG_IGN);

	/* Copy the settings: a reload replaces them. */
	policyd_options_init(&s.opts);
	const struct policyd_options *o = args->opts;
	s.opts = *o;
	s.opts.socket = o->socket != NULL ? strdup(o->socket) : NULL;
	for (size_t i = 0; i < o->nlisten; i++)
		s.opts.listen[i] = strdup(o->listen[i]);
	for (size_t i = 0; i < o->nfail_open; i++)
		s.opts.fail_open[i] = strdup(o->fail_open[i]);
	if (s.opts.nlisten == 0 && s.opts.socket == NULL) {
		policyd_log(MXTLS_LOG_ERROR, "config", "reason",
			    "nothing to listen on: give --listen HOST:PORT or --socket PATH",
			    (const char *)NULL);
		policyd_options_free(&s.opts);
		return EX_CONFIG_;
	}
	if (s.opts.min_ttl > s.opts.max_ttl) {
		policyd_log(MXTLS_LOG_ERROR, "config", "reason", "min-ttl is above max-ttl",
			    (const char *)NULL);
		policyd_options_free(&s.opts);
		return EX_CONFIG_;
	}
	s.base = event_base_new();
	if (s.base == NULL || policyd_cache_init(&s.cache, s.opts.cache_size) != 0) {
		policyd_log(MXTLS_LOG_ERROR, "out-of-memory", (const char *)NULL);
		status = EX_SOFTWARE_;
		goto out;
	}
	s.gen = gen_new(&s, args->cfg, err, sizeof err);
	if (s.gen == NULL) {
		policyd_log(MXTLS_LOG_ERROR, "config", "reason", err, (const char *)NULL);
		status = EX_CONFIG_;
		goto out;
	}
	for (size_t i = 0; i < s.opts.nlisten; i++)
		if (listen_tcp(&s, s.opts.listen[i], err, sizeof err) != 0)
			goto bind_failed;
	if (s.opts.socket != NULL &&
	    listen_unix(&s, s.opts.socket, s.opts.socket_mode, err, sizeof err) != 0)
		goto bind_failed;
	set_fingerprint(&s);
	open_store(&s, args->cfg);

	ev_term = evsignal_new(s.base, SIGTERM, on_signal, &s);
	ev_int = evsignal_new(s.base, SIGINT, on_signal, &s);
	ev_hup = evsignal_new(s.base, SIGHUP, on_signal, &s);
	ev_commit = event_new(s.base, -1, EV_PERSIST, on_commit, &s);
	ev_sweep = event_new(s.base, -1, EV_PERSIST, on_sweep, &s);
	ev_refresh = event_new(s.base, -1, EV_PERSIST, on_refresh_timer, &s);
	struct timeval one = {1, 0}, minute = {60, 0};
	if (ev_term == NULL || ev_int == NULL || ev_hup == NULL || ev_commit == NULL ||
	    ev_sweep == NULL || ev_refresh == NULL || event_add(ev_term, NULL) != 0 ||
	    event_add(ev_int, NULL) != 0 || event_add(ev_hup, NULL) != 0 ||
	    event_add(ev_commit, &one) != 0 || event_add(ev_sweep, &minute) != 0) {
		policyd_log(MXTLS_LOG_ERROR, "out-of-memory", (const char *)NULL);
		status = EX_SOFTWARE_;
		goto out;
	}
	arm_refresh(&s);

	char where[1024] = "";
	for (size_t i = 0; i < s.opts.nlisten; i++)
		snprintf(where + strlen(where), sizeof where - strlen(where), "%s%s",
			 i ? "," : "", s.opts.listen[i]);
	char cached[24], pid[24];
	snprintf(cached, sizeof cached, "%zu", s.cache.count);
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	policyd_log(MXTLS_LOG_INFO, "ready", "listen", where[0] ? where : NULL, "socket",
		    s.opts.socket, "cached", cached, "pid", pid, "version", mxtls_version(),
		    (const char *)NULL);
	policyd_notify("READY=1");

	if (event_base_dispatch(s.base) < 0) {
		policyd_log(MXTLS_LOG_ERROR, "event-loop-failed", (const char *)NULL);
		status = EX_SOFTWARE_;
	}
	s.stopping = true;
	log_stats(&s, "stopped");
	goto out;

bind_failed:
	policyd_log(MXTLS_LOG_ERROR, "listen-failed", "reason", err, (const char *)NULL);
	status = EX_CONFIG_;
out:
	s.stopping = true; /* the loop is over: contexts are freed at once */
	close_listeners();
	while (s.conns != NULL)
		policyd_conn_close(s.conns);
	if (refresh_op != NULL)
		mxtls_sts_refresh_cancel(refresh_op);
	refresh_op = NULL;
	cancel_jobs();
	if (s.cache.buckets != NULL)
		policyd_cache_free(&s.cache);
	policyd_store_close(s.store);
	gen_release(&s, s.gen);
	mxtls_config_free(s.cfg);
	policyd_options_free(&s.opts);
	struct event **evs[] = {&ev_term, &ev_int, &ev_hup, &ev_commit, &ev_sweep, &ev_refresh};
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++) {
		if (*evs[i] != NULL)
			event_free(*evs[i]);
		*evs[i] = NULL;
	}
	if (s.base != NULL)
		event_base_free(s.base);
	return status;
}
