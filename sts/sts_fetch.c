/* SPDX-License-Identifier: MIT */
/* HTTPS fetch of MTA-STS policies (RFC 8461 §3.3) with libcurl's multi interface on libevent. */
#include "sts/sts_fetch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <mxtls/error.h>

#include "mxtls_build.h"
#include "util/util_buf.h"
#include "util/util_dnsname.h"

struct sts_fetcher {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct sts_fetch_opts opts;
	char *ca_file;
	struct sts_fetch *transfers; /* doubly linked list of pending transfers */
};

struct sts_fetch {
	struct sts_fetcher *f;
	CURL *easy;
	struct curl_slist *resolve;
	sts_fetch_callback cb;
	void *arg;
	struct util_buf body; /* capped at STS_POLICY_MAX */
	bool too_large;
	bool nomem;
	char errbuf[CURL_ERROR_SIZE];
	struct sts_fetch *prev, *next;
};

/* One per socket libcurl asks us to watch. */
struct sock_watch {
	struct event *ev;
	struct sts_fetcher *f;
};

const char *sts_fetch_status_name(enum sts_fetch_status s)
{
	static const char *const names[] = {"ok", "connect", "tls", "http-status",
					    "content-type", "too-large", "timeout", "error",
					    "certificate"};
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

void sts_fetch_result_clear(struct sts_fetch_result *r)
{
	if (r == NULL)
		return;
	free(r->body);
	free(r->peer_pem);
	memset(r, 0, sizeof *r);
}

bool sts_fetch_content_type_ok(const char *ct)
{
	if (ct == NULL)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	static const char want[] = "text/plain";
	if (strncasecmp(ct, want, sizeof want - 1) != 0)
		return false;
	ct += sizeof want - 1;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	/* RFC 8461 §3.2: parameters (a charset) may follow; the media type must end here. */
	return *ct == '\0' || *ct == ';';
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void check_done(struct sts_fetcher *f);

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct sts_fetcher *f = arg;
	int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
	int running;
	curl_multi_socket_action(f->multi, fd, flags, &running);
	check_done(f);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sts_fetcher *f = arg;
	int running;
	curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(f);
}

/* CURLMOPT_SOCKETFUNCTION: start, change or stop watching a socket. */
static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct sts_fetcher *f = userp;
	struct sock_watch *w = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (w != NULL) {
			if (w->ev != NULL)
				event_free(w->ev);
			free(w);
			curl_multi_assign(f->multi, s, NULL);
		}
		return 0;
	}
	short ev = EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) |
		   (what & CURL_POLL_OUT ? EV_WRITE : 0);
	if (w == NULL) {
		w = calloc(1, sizeof *w);
		if (w == NULL)
			return -1;
		w->f = f;
		curl_multi_assign(f->multi, s, w);
	} else if (w->ev != NULL) {
		event_free(w->ev);
	}
	w->ev = event_new(f->base, s, ev, on_socket_event, f);
	if (w->ev == NULL || event_add(w->ev, NULL) != 0)
		return -1;
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: libcurl wants to be called back after timeout_ms (-1: never). */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct sts_fetcher *f = userp;
	if (timeout_ms < 0) {
		evtimer_del(f->timer);
		return 0;
	}
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	return evtimer_add(f->timer, &tv) == 0 ? 0 : -1;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sts_fetch *t = arg;
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

static void unlink_transfer(struct sts_fetch *t)
{
	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		t->f->transfers = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
}

static void free_transfer(struct sts_fetch *t)
{
	unlink_transfer(t);
	curl_multi_remove_handle(t->f->multi, t->easy);
	curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->resolve);
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

static enum sts_fetch_status classify(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		return STS_FETCH_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return STS_FETCH_TIMEOUT;
	case CURLE_PEER_FAILED_VERIFICATION: /* untrusted, expired, wrong name */
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return STS_FETCH_CERT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
		return STS_FETCH_TLS;
	case CURLE_FILESIZE_EXCEEDED:
		return STS_FETCH_TOO_LARGE;
	default:
		return STS_FETCH_ERROR;
	}
}

/* Turns a finished transfer into a result (RFC 8461 §3.3 rules) and hands it over. */
static void complete(struct sts_fetch *t, CURLcode rc)
{
	struct sts_fetch_result r;
	memset(&r, 0, sizeof r);
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r.http_status);
	const char *ct = NULL;
	if (curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL)
		snprintf(r.content_type, sizeof r.content_type, "%s", ct);
	r.peer_pem = leaf_pem(t->easy);

	if (t->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
		r.status = STS_FETCH_TOO_LARGE;
		snprintf(r.reason, sizeof r.reason, "policy body larger than %d bytes",
			 STS_POLICY_MAX);
	} else if (t->nomem) {
		r.status = STS_FETCH_ERROR;
		snprintf(r.reason, sizeof r.reason, "out of memory");
	} else if (rc != CURLE_OK) {
		r.status = classify(rc);
		snprintf(r.reason, sizeof r.reason, "%s", t->errbuf[0] ? t->errbuf
									: curl_easy_strerror(rc));
	} else if (r.http_status != 200) {
		/* RFC 8461 §3.3: only 200 is a policy; redirects MUST NOT be followed. */
		r.status = STS_FETCH_HTTP;
		snprintf(r.reason, sizeof r.reason, "HTTP status %ld%s", r.http_status,
			 r.http_status >= 300 && r.http_status < 400
				 ? " (redirects are not followed, RFC 8461 §3.3)"
				 : "");
	} else if (!sts_fetch_content_type_ok(ct)) {
		r.status = STS_FETCH_CONTENT_TYPE;
		snprintf(r.reason, sizeof r.reason, "Content-Type %s%s%s, not text/plain",
			 ct ? "'" : "", ct ? r.content_type : "missing", ct ? "'" : "");
	} else {
		r.status = STS_FETCH_OK;
		if (util_buf_take(&t->body, &r.body, &r.len) != MXTLS_OK) {
			r.status = STS_FETCH_ERROR;
			snprintf(r.reason, sizeof r.reason, "out of memory");
		}
	}
	sts_fetch_callback cb = t->cb;
	void *arg = t->arg;
	free_transfer(t);
	cb(arg, &r);
	sts_fetch_result_clear(&r);
}

static void check_done(struct sts_fetcher *f)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(f->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct sts_fetch *t = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		complete(t, m->data.result);
	}
}

int sts_fetcher_new(struct event_base *base, const struct sts_fetch_opts *opts,
		    struct sts_fetcher **out)
{
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return MXTLS_E_CONFIG;
	struct sts_fetcher *f = calloc(1, sizeof *f);
	if (f == NULL)
		return MXTLS_E_NOMEM;
	f->base = base;
	if (opts != NULL)
		f->opts = *opts;
	if (f->opts.connect_timeout_ms == 0)
		f->opts.connect_timeout_ms = 5000;
	if (f->opts.total_timeout_ms == 0)
		f->opts.total_timeout_ms = 10000;
	if (f->opts.port == 0)
		f->opts.port = 443;
	f->opts.ca_file = NULL;
	if (opts != NULL && opts->ca_file != NULL && (f->ca_file = strdup(opts->ca_file)) == NULL)
		goto nomem;
	f->multi = curl_multi_init();
	f->timer = evtimer_new(base, on_timer, f);
	if (f->multi == NULL || f->timer == NULL)
		goto nomem;
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
	*out = f;
	return MXTLS_OK;
nomem:
	sts_fetcher_free(f);
	return MXTLS_E_NOMEM;
}

void sts_fetcher_free(struct sts_fetcher *f)
{
	if (f == NULL)
		return;
	while (f->transfers != NULL)
		free_transfer(f->transfers);
	if (f->multi != NULL)
		curl_multi_cleanup(f->multi);
	if (f->timer != NULL)
		event_free(f->timer);
	free(f->ca_file);
	free(f);
}

/* CURLOPT_RESOLVE entry "mta-sts.<domain>:<port>:addr1,[v6addr],...". */
static struct curl_slist *resolve_entry(const char *host, uint16_t port, const char *const *addrs,
					size_t naddrs)
{
	size_t cap = strlen(host) + 16;
	for (size_t i = 0; i < naddrs; i++)
		cap += strlen(addrs[i]) + 3;
	char *s = malloc(cap);
	if (s == NULL)
		return NULL;
	size_t len = (size_t)snprintf(s, cap, "%s:%u:", host, (unsigned)port);
	for (size_t i = 0; i < naddrs; i++) {
		bool v6 = strchr(addrs[i], ':') != NULL;
		len += (size_t)snprintf(s + len, cap - len, "%s%s%s%s", i ? "," : "", v6 ? "[" : "",
					addrs[i], v6 ? "]" : "");
	}
	struct curl_slist *l = curl_slist_append(NULL, s);
	free(s);
	return l;
}

int sts_fetch_start(struct sts_fetcher *f, const char *domain, const char *const *addrs,
		    size_t naddrs, sts_fetch_callback cb, void *arg, struct sts_fetch **out)
{
	char dom[UTIL_DNSNAME_MAX + 1];
	if (f == NULL || domain == NULL || cb == NULL || naddrs == 0 || addrs == NULL ||
	    !util_dnsname_canon(domain, strlen(domain), dom, sizeof dom) ||
	    strlen(dom) + sizeof "mta-sts." > sizeof dom)
		return MXTLS_E_INVAL;
	for (size_t i = 0; i < naddrs; i++)
		if (addrs[i] == NULL || strpbrk(addrs[i], ",[] ") != NULL || addrs[i][0] == '\0')
			return MXTLS_E_INVAL;
	char host[UTIL_DNSNAME_MAX + 16], url[UTIL_DNSNAME_MAX + 64];
	snprintf(host, sizeof host, "mta-sts.%s", dom);
	/* RFC 8461 §3.3: the policy host is mta-sts.<domain>, the path fixed. */
	snprintf(url, sizeof url, "https://%s:%u/.well-known/mta-sts.txt", host,
		 (unsigned)f->opts.port);
	struct sts_fetch *t = calloc(1, sizeof *t);
	if (t == NULL)
		return MXTLS_E_NOMEM;
	t->f = f;
	t->cb = cb;
	t->arg = arg;
	util_buf_init(&t->body, STS_POLICY_MAX);
	t->easy = curl_easy_init();
	t->resolve = resolve_entry(host, f->opts.port, addrs, naddrs);
	if (t->easy == NULL || t->resolve == NULL) {
		curl_easy_cleanup(t->easy);
		curl_slist_free_all(t->resolve);
		free(t);
		return MXTLS_E_NOMEM;
	}
	CURL *e = t->easy;
	/* An option libcurl refuses (out of memory, or one it lacks) stops the fetch: a transfer
	 * without RESOLVE, PROTOCOLS_STR, VERIFYPEER, ... is not what RFC 8461 §3.3 asks for. */
	bool ok = true;
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_URL, url);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)t);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_RESOLVE, t->resolve);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	/* RFC 8461 §3.3: redirects MUST NOT be followed.  No proxy from the environment. */
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_PROXY, "");
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_CERTINFO, 1L);
	/* A reused connection reports no certificate, and the DNS-ID check needs one: every
	 * fetch is a fresh connection (policies are fetched rarely anyway). */
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	if (f->ca_file != NULL) {
		ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_CAINFO, f->ca_file);
		ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	}
	ok &= CURLE_OK ==
	      curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)f->opts.connect_timeout_ms);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)f->opts.total_timeout_ms);
	ok &= CURLE_OK ==
	      curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)STS_POLICY_MAX);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	ok &= CURLE_OK == curl_easy_setopt(e, CURLOPT_USERAGENT, "mxtls/" MXTLS_VERSION);
	if (!ok) {
		curl_easy_cleanup(t->easy);
		curl_slist_free_all(t->resolve);
		free(t);
		return MXTLS_E_NOMEM;
	}
	t->next = f->transfers;
	if (t->next != NULL)
		t->next->prev = t;
	f->transfers = t;
	if (curl_multi_add_handle(f->multi, e) != CURLM_OK) {
		free_transfer(t);
		return MXTLS_E_NOMEM;
	}
	if (out != NULL)
		*out = t;
	return MXTLS_OK;
}

void sts_fetch_cancel(struct sts_fetch *t)
{
	if (t != NULL)
		free_transfer(t);
}
