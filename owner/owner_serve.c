/* SPDX-License-Identifier: MIT */
/* mxtls serve: the HTTPS daemon (libmicrohttpd on GnuTLS) serving MTA-STS policies. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include <mxtls/error.h>
#include <mxtls/serve.h>

#include "owner/owner_config.h"
#include "owner/owner_inbox.h"
#include "owner/owner_route.h"
#include "owner/owner_sites.h"

/* The sweeper looks at the connections this often. */
#define SWEEP_INTERVAL_MS 500
/* Threads per listen address: a slow request (a report being stored) does not hold up the others. */
#define SERVE_THREADS 4

/*
 * One accepted connection, from libmicrohttpd's "started" notification to its "closed" one.
 *
 * libmicrohttpd's connection timeout counts idle time only: a client that sends one header
 * byte every second (slowloris) is never idle for long and would hold its connection, and a
 * slot of --max-connections, forever.  The sweeper therefore cuts every connection older than
 * max-connection-time with shutdown(2) (never close(2): the descriptor stays libmicrohttpd's,
 * which then sees the end of the stream and cleans up).  The list is changed only under the
 * server's lock, and the "closed" notification comes before libmicrohttpd closes the
 * descriptor, so the sweeper never shuts down a number that a new connection has reused.
 */
struct tracked {
	struct tracked *prev, *next;
	int fd;
	struct timespec start;
	bool cut;
};

struct mxtls_serve {
	struct mxtls_serve_config *cfg; /* owned copy */
	struct MHD_Daemon *daemon[OWNER_CONFIG_LISTEN_MAX];
	size_t ndaemons;
	pthread_mutex_t lock;      /* guards sites, conns, stopping */
	pthread_cond_t wake;       /* the sweeper's timer; signalled to stop */
	struct owner_sites *sites; /* the current generation; older ones hang off it */
	struct tracked *conns;
	struct owner_inbox *inbox; /* the report store; NULL without reports-path */
	pthread_t sweeper;
	bool sweeper_started;
	bool stopping;
};

/* libmicrohttpd's certificate callback (a GnuTLS retrieve function) carries no argument of
 * ours, so the one running server is reached through this pointer: set before the daemons
 * start, cleared after they stopped (thread creation and join order those accesses). */
static struct mxtls_serve *running;
static pthread_mutex_t running_lock = PTHREAD_MUTEX_INITIALIZER;

static struct timespec now_mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t;
}

static double seconds_since(struct timespec then, struct timespec now)
{
	return (double)(now.tv_sec - then.tv_sec) + (double)(now.tv_nsec - then.tv_nsec) / 1e9;
}

/* The policy domain of a TLS session's SNI name, or -1 (no name, or not mta-sts.<domain>). */
static int sni_domain(gnutls_session_t session, char *out, size_t outlen)
{
	char name[OWNER_ROUTE_DOMAIN_MAX + sizeof OWNER_ROUTE_PREFIX + 2];
	size_t len = sizeof name;
	unsigned type;
	if (gnutls_server_name_get(session, name, &len, &type, 0) < 0 || type != GNUTLS_NAME_DNS)
		return -1;
	return owner_route_domain(name, len, 0, out, outlen);
}

/* RFC 8461 §3.3: the policy host presents a certificate valid for "mta-sts.<domain>"; the
 * handshake picks the domain from SNI.  A name we do not serve gets no certificate at all
 * (the handshake fails) rather than some other domain's. */
static int pick_certificate(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
			    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
			    gnutls_pcert_st **pcert, unsigned int *pcert_length,
			    gnutls_privkey_t *pkey)
{
	char domain[OWNER_ROUTE_DOMAIN_MAX + 1];
	int n = sni_domain(session, domain, sizeof domain);
	struct mxtls_serve *s = running;
	if (n < 0 || s == NULL)
		return -1;
	int rc = -1;
	pthread_mutex_lock(&s->lock);
	const struct owner_site *site = owner_sites_find(s->sites, domain, (size_t)n);
	if (site != NULL) {
		/* The generation outlives every handshake that took its keys (owner_sites.h). */
		*pcert = site->pcert;
		*pcert_length = site->npcert;
		*pkey = site->key;
		rc = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static void track(void *cls, struct MHD_Connection *conn, void **socket_context,
		  enum MHD_ConnectionNotificationCode toe)
{
	struct mxtls_serve *s = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		struct tracked *t = calloc(1, sizeof *t);
		if (t == NULL || ci == NULL) {
			free(t);
			return; /* not tracked: the idle timeout still applies */
		}
		t->fd = ci->connect_fd;
		t->start = now_mono();
		pthread_mutex_lock(&s->lock);
		t->next = s->conns;
		if (s->conns != NULL)
			s->conns->prev = t;
		s->conns = t;
		pthread_mutex_unlock(&s->lock);
		*socket_context = t;
		return;
	}
	struct tracked *t = *socket_context;
	if (t == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		s->conns = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	pthread_mutex_unlock(&s->lock);
	free(t);
	*socket_context = NULL;
}

static void *sweep(void *arg)
{
	struct mxtls_serve *s = arg;
	pthread_mutex_lock(&s->lock);
	while (!s->stopping) {
		struct timespec now = now_mono();
		for (struct tracked *t = s->conns; t != NULL; t = t->next)
			if (!t->cut &&
			    seconds_since(t->start, now) >= s->cfg->max_connection_time) {
				shutdown(t->fd, SHUT_RDWR);
				t->cut = true;
			}
		struct timespec until = now;
		until.tv_nsec += SWEEP_INTERVAL_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->wake, &s->lock, &until);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static enum MHD_Result reply(struct MHD_Connection *conn, int status, const char *body, size_t len,
			     const char *allow)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	/* RFC 8461 §3.3: the policy is served as "text/plain" (the error bodies too). */
	enum MHD_Result ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	if (ok == MHD_YES && allow != NULL)
		ok = MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	if (ok == MHD_YES)
		ok = MHD_queue_response(conn, (unsigned)status, r);
	MHD_destroy_response(r);
	return ok;
}

static const char *reason(int status)
{
	switch (status) {
	case 400:
		return "bad request: no Host header\n";
	case 404:
		return "not found\n";
	case 405:
		return "method not allowed\n";
	case 421:
		return "misdirected request: the Host header does not name this host\n";
	default:
		return "internal error\n";
	}
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct mxtls_serve *s = cls;
	/* The body of a report upload, and its end: the request was routed at its headers. */
	if (*con_cls != NULL)
		return owner_inbox_handle(s->inbox, conn, upload_data, upload_data_size, con_cls);
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	char domain[OWNER_ROUTE_DOMAIN_MAX + 1];
	int n = ci != NULL ? sni_domain((gnutls_session_t)ci->tls_session, domain, sizeof domain)
			   : -1;
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	struct owner_request req = {
		.method = method,
		.method_len = strlen(method),
		.host = host,
		.host_len = host != NULL ? strlen(host) : 0,
		.path = url,
		.path_len = strlen(url),
		.sni_domain = n >= 0 ? domain : NULL,
		.sni_len = n >= 0 ? (size_t)n : 0,
		.reports_path = s->cfg->reports_path,
		.reports_path_len = s->cfg->reports_path != NULL ? strlen(s->cfg->reports_path) : 0,
	};
	const char *allow = NULL;
	int status = owner_route(&req, &allow);
	if (status == OWNER_ROUTE_REPORT)
		return owner_inbox_handle(s->inbox, conn, upload_data, upload_data_size, con_cls);
	/* Answered at once, before any request body: a body is never read (libmicrohttpd then
	 * closes the connection after the reply). */
	if (status != 200) {
		const char *r = reason(status);
		if (status == 405 && allow != NULL && strcmp(allow, "POST") == 0)
			owner_inbox_log_refusal(s->inbox, conn, status,
						"method not allowed at the report endpoint");
		return reply(conn, status, r, strlen(r), allow);
	}
	pthread_mutex_lock(&s->lock);
	const struct owner_site *site = owner_sites_find(s->sites, domain, (size_t)n);
	enum MHD_Result rc;
	if (site != NULL) {
		rc = reply(conn, 200, site->policy, site->policy_len, NULL);
	} else {
		/* The domain was dropped by a reload after this connection's handshake. */
		rc = reply(conn, 421, reason(421), strlen(reason(421)), NULL);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* libmicrohttpd's request-completed callback: frees a report upload. */
static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	owner_inbox_done(con_cls);
}

/* "HOST:PORT" or "[V6]:PORT" -> a bound, listening socket. */
static int listen_on(const char *spec, int *out, char *err, size_t errlen)
{
	char host[256];
	const char *colon = strrchr(spec, ':');
	const char *h = spec;
	size_t hlen = (size_t)(colon - spec);
	if (hlen >= 2 && spec[0] == '[' && spec[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof host || colon[1] == '\0') {
		snprintf(err, errlen, "listen: expected HOST:PORT, got '%s'", spec);
		return MXTLS_E_CONFIG;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai;
	int g = getaddrinfo(host, colon + 1, &hints, &ai);
	if (g != 0) {
		snprintf(err, errlen, "listen %s: %s", spec, gai_strerror(g));
		return MXTLS_E_CONFIG;
	}
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	int one = 1;
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	}
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
		snprintf(err, errlen, "listen %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return MXTLS_E_IO;
	}
	freeaddrinfo(ai);
	*out = fd;
	return MXTLS_OK;
}

static int start_daemon(struct mxtls_serve *s, const char *spec, char *err, size_t errlen)
{
	int fd;
	int rc = listen_on(spec, &fd, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	const struct mxtls_serve_config *c = s->cfg;
	/* One option and its values per line. */
	/* clang-format off */
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
		handle, s,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
		/* RFC 8461 §3.3: the certificate of mta-sts.<domain>, chosen by SNI */
		MHD_OPTION_HTTPS_CERT_CALLBACK, &pick_certificate,
		MHD_OPTION_NOTIFY_CONNECTION, &track, s,
		/* a report upload's buffer, whether the request ended well or not */
		MHD_OPTION_NOTIFY_COMPLETED, &completed, s,
		/* idle time only: the lifetime cap is the sweeper's */
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)c->timeout,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)c->max_connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)c->max_per_ip,
		/* request line and headers beyond this: 431 */
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, c->max_header_bytes,
		/* a report's parse and its fsync'd commit (or a store busy for up to 5 s) hold
		 * the thread serving it: with one thread, policy GETs on that address waited.
		 * libmicrohttpd divides CONNECTION_LIMIT among the pool's threads and keeps
		 * the per-IP count in one place, so both caps hold as before. */
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)SERVE_THREADS,
		MHD_OPTION_END);
	/* clang-format on */
	if (d == NULL) {
		close(fd);
		snprintf(err, errlen, "listen %s: libmicrohttpd could not start", spec);
		return MXTLS_E_IO;
	}
	s->daemon[s->ndaemons++] = d;
	return MXTLS_OK;
}

int mxtls_serve_start(const struct mxtls_serve_config *c, struct mxtls_serve **out, char *err,
		      size_t errlen)
{
	if (c == NULL || out == NULL)
		return MXTLS_E_INVAL;
	if (c->nlisten == 0) {
		snprintf(err, errlen, "nothing to listen on: listen HOST:PORT is needed");
		return MXTLS_E_CONFIG;
	}
	if (c->reports_path != NULL && c->reports_store == NULL) {
		snprintf(err, errlen, "reports-path %s: reports-store FILE is needed too",
			 c->reports_path);
		return MXTLS_E_CONFIG;
	}
	struct mxtls_serve *s = calloc(1, sizeof *s);
	if (s == NULL)
		return MXTLS_E_NOMEM;
	if ((s->cfg = owner_config_dup(c)) == NULL) {
		free(s);
		return MXTLS_E_NOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);
	int rc = owner_sites_load(s->cfg, &s->sites, err, errlen);
	if (rc == MXTLS_OK)
		rc = owner_inbox_open(s->cfg, &s->inbox, err, errlen);
	if (rc != MXTLS_OK) {
		mxtls_serve_stop(s);
		return rc;
	}
	pthread_mutex_lock(&running_lock);
	if (running != NULL) {
		pthread_mutex_unlock(&running_lock);
		snprintf(err, errlen, "another mxtls serve runs in this process");
		mxtls_serve_stop(s);
		return MXTLS_E_INVAL;
	}
	running = s;
	pthread_mutex_unlock(&running_lock);
	if (pthread_create(&s->sweeper, NULL, sweep, s) != 0) {
		snprintf(err, errlen, "cannot start a thread");
		mxtls_serve_stop(s);
		return MXTLS_E_NOMEM;
	}
	s->sweeper_started = true;
	for (size_t i = 0; i < s->cfg->nlisten; i++) {
		rc = start_daemon(s, s->cfg->listen[i], err, errlen);
		if (rc != MXTLS_OK) {
			mxtls_serve_stop(s);
			return rc;
		}
	}
	*out = s;
	return MXTLS_OK;
}

int mxtls_serve_reload(struct mxtls_serve *s, char *err, size_t errlen)
{
	if (s == NULL)
		return MXTLS_E_INVAL;
	struct owner_sites *fresh;
	int rc = owner_sites_load(s->cfg, &fresh, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	struct timespec now = now_mono();
	/* A retired generation is freed once no connection can still use its keys: every
	 * connection is cut at max-connection-time, and closed within a sweep after that. */
	double keep = (double)s->cfg->max_connection_time + 10.0;
	pthread_mutex_lock(&s->lock);
	struct owner_sites *old = s->sites;
	old->retired = now;
	fresh->older = old;
	s->sites = fresh;
	struct owner_sites *prev = fresh, *g = old, *dead = NULL;
	while (g != NULL) {
		if (seconds_since(g->retired, now) > keep) {
			prev->older = NULL;
			dead = g; /* g and everything older */
			break;
		}
		prev = g;
		g = g->older;
	}
	pthread_mutex_unlock(&s->lock);
	owner_sites_free(dead);
	return MXTLS_OK;
}

size_t mxtls_serve_domains(const struct mxtls_serve *s)
{
	return s != NULL && s->sites != NULL ? s->sites->n : 0;
}

void mxtls_serve_stop(struct mxtls_serve *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->ndaemons; i++)
		MHD_stop_daemon(s->daemon[i]);
	if (s->sweeper_started) {
		pthread_mutex_lock(&s->lock);
		s->stopping = true;
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->sweeper, NULL);
	}
	pthread_mutex_lock(&running_lock);
	if (running == s)
		running = NULL;
	pthread_mutex_unlock(&running_lock);
	owner_sites_free(s->sites);
	owner_inbox_close(s->inbox);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	mxtls_serve_config_free(s->cfg);
	free(s);
}
