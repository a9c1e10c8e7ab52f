/* SPDX-License-Identifier: MIT */
/* HTTPS requests with libcurl's multi interface on libevent, pinned to the caller's addresses. */
#include "http/http_client.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <mxtls/error.h>

#include "http/http_url.h"
#include "mxtls_build.h"
#include "util/util_buf.h"

struct http_client {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct http_transfer *transfers; /* doubly linked list of pending transfers */
};

struct http_transfer {
	struct http_client *c;
	CURL *easy;
	struct curl_slist *resolve;
	struct curl_slist *headers;
	char *post; /* the request body (a copy) */
	size_t max_body;
	bool want_peer_cert;
	http_client_callback cb;
	void *arg;
	struct util_buf body; /* capped at max_body */
	bool too_large;
	bool nomem;
	char errbuf[CURL_ERROR_SIZE];
	struct http_transfer *prev, *next;
};

/* One per socket libcurl asks us to watch. */
struct sock_watch {
	struct event *ev;
};

const char *http_outcome_name(enum http_outcome o)
{
	static const char *const names[] = {"done",    "connect",   "tls",  "certificate",
					    "timeout", "too-large", "error"};
	return (unsigned)o < sizeof names / sizeof names[0] ? names[o] : "?";
}

void http_response_clear(struct http_response *r)
{
	if (r == NULL)
		return;
	free(r->body);
	free(r->peer_pem);
	memset(r, 0, sizeof *r);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void check_done(struct http_client *c);

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct http_client *c = arg;
	int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
	int running;
	curl_multi_socket_action(c->multi, fd, flags, &running);
	check_done(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct http_client *c = arg;
	int running;
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(c);
}

/* CURLMOPT_SOCKETFUNCTION: start, change or stop watching a socket. */
static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct http_client *c = userp;
	struct sock_watch *w = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (w != NULL) {
			if (w->ev != NULL)
				event_free(w->ev);
			free(w);
			curl_multi_assign(c->multi, s, NULL);
		}
		return 0;
	}
	short ev = EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) |
		   (what & CURL_POLL_OUT ? EV_WRITE : 0);
	if (w == NULL) {
		w = calloc(1, sizeof *w);
		if (w == NULL)
			return -1;
		curl_multi_assign(c->multi, s, w);
	} else if (w->ev != NULL) {
		event_free(w->ev);
	}
	w->ev = event_new(c->base, s, ev, on_socket_event, c);
	if (w->ev == NULL || event_add(w->ev, NULL) != 0)
		return -1;
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: libcurl wants to be called back after timeout_ms (-1: never). */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_client *c = userp;
	if (timeout_ms < 0) {
		evtimer_del(c->timer);
		return 0;
	}
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	return evtimer_add(c->timer, &tv) == 0 ? 0 : -1;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_transfer *t = arg;
	size_t n = size * nmemb;
	/* Over the cap is a failure, never a truncation; either way 0 makes libcurl stop the
	 * transfer here (CURLE_WRITE_ERROR). */
	int rc = util_buf_append(&t->body, p, n);
	if (rc == MXTLS_E_LIMIT)
		t->too_large = true;
	else if (rc != MXTLS_OK)
		t->nomem = true;
	return rc == MXTLS_OK ? n : 0;
}

/* CURLOPT_RESOLVER_START_FUNCTION: libcurl is about to resolve a name itself, which means the
 * CURLOPT_RESOLVE entry did not cover it.  Refused: only our resolver's addresses are used. */
static int refuse_resolve(void *resolver_state, void *reserved, void *userdata)
{
	return 1;
}

static void unlink_transfer(struct http_transfer *t)
{
	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		t->c->transfers = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
}

static void free_transfer(struct http_transfer *t)
{
	unlink_transfer(t);
	curl_multi_remove_handle(t->c->multi, t->easy);
	curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->resolve);
	curl_slist_free_all(t->headers);
	free(t->post);
	util_buf_free(&t->body);
	free(t);
}

/* The leaf certificate as libcurl's certinfo reports it ("Cert:" entry of certificate 0). */
static char *leaf_pem(CURL *easy)
{
	struct curl_certinfo *ci = NULL;
	if (curl_easy_getinfo(easy, CURLINFO_CERTINFO, &ci) != CURLE_OK || ci == NULL ||
	    ci->num_of_certs < 1)
		return NULL;
	for (struct curl_slist *s = ci->certinfo[0]; s != NULL; s = s->next)
		if (strncmp(s->data, "Cert:", 5) == 0)
			return strdup(s->data + 5);
	return NULL;
}

static enum http_outcome classify(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		return HTTP_E_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return HTTP_E_TIMEOUT;
	case CURLE_PEER_FAILED_VERIFICATION: /* untrusted, expired, wrong name */
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return HTTP_E_CERT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
		return HTTP_E_TLS;
	case CURLE_FILESIZE_EXCEEDED:
		return HTTP_E_TOO_LARGE;
	default:
		return HTTP_E_ERROR;
	}
}

/* Turns a finished transfer into a response and hands it over. */
static void complete(struct http_transfer *t, CURLcode rc)
{
	struct http_response r;
	memset(&r, 0, sizeof r);
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r.status);
	const char *ct = NULL;
	if (curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL) {
		snprintf(r.content_type, sizeof r.content_type, "%s", ct);
		r.has_content_type = true;
	}
	if (t->want_peer_cert)
		r.peer_pem = leaf_pem(t->easy);

	if (t->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
		r.outcome = HTTP_E_TOO_LARGE;
		snprintf(r.reason, sizeof r.reason, "response body larger than %zu bytes",
			 t->max_body);
	} else if (t->nomem) {
		r.outcome = HTTP_E_ERROR;
		snprintf(r.reason, sizeof r.reason, "out of memory");
	} else if (rc != CURLE_OK) {
		r.outcome = classify(rc);
		snprintf(r.reason, sizeof r.reason, "%s",
			 t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
	} else if (util_buf_take(&t->body, &r.body, &r.len) != MXTLS_OK) {
		r.outcome = HTTP_E_ERROR;
		snprintf(r.reason, sizeof r.reason, "out of memory");
	} else {
		r.outcome = HTTP_DONE;
	}
	http_client_callback cb = t->cb;
	void *arg = t->arg;
	free_transfer(t);
	cb(arg, &r);
	http_response_clear(&r);
}

static void check_done(struct http_client *c)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct http_transfer *t = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		complete(t, m->data.result);
	}
}

int http_client_new(struct event_base *base, struct http_client **out)
{
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return MXTLS_E_CONFIG;
	struct http_client *c = calloc(1, sizeof *c);
	if (c == NULL)
		return MXTLS_E_NOMEM;
	c->base = base;
	c->multi = curl_multi_init();
	c->timer = evtimer_new(base, on_timer, c);
	if (c->multi == NULL || c->timer == NULL) {
		http_client_free(c);
		return MXTLS_E_NOMEM;
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	*out = c;
	return MXTLS_OK;
}

void http_client_free(struct http_client *c)
{
	if (c == NULL)
		return;
	while (c->transfers != NULL)
		free_transfer(c->transfers);
	if (c->multi != NULL)
		curl_multi_cleanup(c->multi);
	if (c->timer != NULL)
		event_free(c->timer);
	free(c);
}

static bool request_ok(const struct http_request *req)
{
	if (req->url == NULL || req->addrs == NULL || req->naddrs == 0)
		return false;
	if (req->method == HTTP_GET)
		return req->body_len == 0 && req->content_type == NULL;
	if (req->method != HTTP_POST || (req->body == NULL && req->body_len != 0))
		return false;
	/* A header value: no line break may end it early and start another header. */
	return req->content_type == NULL ||
	       (req->content_type[0] != '\0' && strpbrk(req->content_type, "\r\n") == NULL &&
		strlen(req->content_type) < 200);
}

/* Every option of one transfer; false when libcurl refuses one.  An option refused (out of
 * memory, or one it lacks) stops the request: a transfer without RESOLVE, PROTOCOLS_STR,
 * VERIFYPEER, ... is not the pinned, verified request the callers rely on. */
static bool set_options(struct http_transfer *t, const struct http_request *req, const char *url)
{
	CURL *e = t->easy;
	long connect_ms = req->connect_timeout_ms ? (long)req->connect_timeout_ms : 5000L;
	long total_ms = req->total_timeout_ms ? (long)req->total_timeout_ms : 10000L;
	bool ok = true;
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_URL, url);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)t);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
	/* The addresses our DNSSEC-validating resolver found, and no others. */
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_RESOLVE, t->resolve);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_RESOLVER_START_FUNCTION, refuse_resolve);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	/* RFC 8461 §3.3: redirects MUST NOT be followed (nor are they for reports).  No proxy
	 * from the environment. */
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_PROXY, "");
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	/* RFC 8460 §3 lets a report sender skip the certificate check (MAY); we never do. */
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (t->want_peer_cert)
		ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_CERTINFO, 1L);
	/* A reused connection reports no certificate: every request is a fresh connection
	 * (policies and reports are sent rarely anyway). */
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	if (req->ca_file != NULL) {
		ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
		ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	}
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, total_ms);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->max_body);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_USERAGENT, "mxtls/" MXTLS_VERSION);
	if (req->method == HTTP_POST) {
		ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_POST, 1L);
		ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->post);
		ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
						   (curl_off_t)req->body_len);
		ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
	}
	return ok;
}

/* The headers of a POST: its Content-Type (libcurl's default, form-urlencoded, would be
 * wrong) and no "Expect: 100-continue" round trip. */
static struct curl_slist *post_headers(const char *content_type)
{
	char line[256];
	snprintf(line, sizeof line, "Content-Type:%s%s", content_type ? " " : "",
		 content_type ? content_type : "");
	struct curl_slist *h = curl_slist_append(NULL, line);
	struct curl_slist *h2 = h != NULL ? curl_slist_append(h, "Expect:") : NULL;
	if (h2 == NULL)
		curl_slist_free_all(h);
	return h2;
}

int http_client_start(struct http_client *c, const struct http_request *req,
		      http_client_callback cb, void *arg, struct http_transfer **out)
{
	if (c == NULL || req == NULL || cb == NULL || !request_ok(req))
		return MXTLS_E_INVAL;
	struct http_url u;
	char url[HTTP_URL_MAX + UTIL_DNSNAME_MAX + 16];
	char entry[UTIL_DNSNAME_MAX + 16 + HTTP_CLIENT_ADDRS_MAX * (INET6_ADDRSTRLEN + 3)];
	if (http_url_parse(req->url, &u) != MXTLS_OK || req->naddrs > HTTP_CLIENT_ADDRS_MAX ||
	    http_url_format(&u, url, sizeof url) != MXTLS_OK ||
	    http_url_resolve_entry(u.host, u.port, req->addrs, req->naddrs, entry, sizeof entry) !=
		    MXTLS_OK)
		return MXTLS_E_INVAL;
	struct http_transfer *t = calloc(1, sizeof *t);
	if (t == NULL)
		return MXTLS_E_NOMEM;
	t->c = c;
	t->cb = cb;
	t->arg = arg;
	t->max_body = req->max_body ? req->max_body : HTTP_CLIENT_BODY_MAX_DEFAULT;
	t->want_peer_cert = req->want_peer_cert;
	util_buf_init(&t->body, t->max_body);
	t->easy = curl_easy_init();
	t->resolve = curl_slist_append(NULL, entry);
	bool ok = t->easy != NULL && t->resolve != NULL;
	if (ok && req->method == HTTP_POST) {
		/* One byte more so an empty body is still a pointer libcurl sends 0 bytes of. */
		t->post = malloc(req->body_len + 1);
		t->headers = post_headers(req->content_type);
		ok = t->post != NULL && t->headers != NULL;
		if (t->post != NULL && req->body_len > 0)
			memcpy(t->post, req->body, req->body_len);
	}
	if (!ok || !set_options(t, req, url)) {
		curl_easy_cleanup(t->easy);
		curl_slist_free_all(t->resolve);
		curl_slist_free_all(t->headers);
		free(t->post);
		free(t);
		return MXTLS_E_NOMEM;
	}
	t->next = c->transfers;
	if (t->next != NULL)
		t->next->prev = t;
	c->transfers = t;
	if (curl_multi_add_handle(c->multi, t->easy) != CURLM_OK) {
		free_transfer(t);
		return MXTLS_E_NOMEM;
	}
	if (out != NULL)
		*out = t;
	return MXTLS_OK;
}

void http_client_cancel(struct http_transfer *t)
{
	if (t != NULL)
		free_transfer(t);
}
