/* SPDX-License-Identifier: MIT */
/* libunbound on libevent: asynchronous validating lookups with per-query timeouts. */
#include "dns/dns_resolver.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <mxtls/error.h>
#include <unbound.h>

#include "dns/dns_anchor.h"
#include "dns/dns_probe.h"
#include "util/util_dnsname.h"
#include "util/util_log.h"

#define DNS_DEFAULT_TIMEOUT_MS 10000

struct dns_query {
	struct dns_resolver *r;
	struct dns_query *prev, *next; /* pending list */
	struct event *timer;
	int async_id;
	uint16_t type;
	char name[DNS_NAME_TEXT_MAX];
	dns_callback cb;
	void *arg;
	struct timespec started; /* CLOCK_MONOTONIC, for the log line */
};

struct dns_resolver {
	struct ub_ctx *ub;
	struct event_base *base; /* borrowed */
	struct event *readable;  /* ub_fd() became readable */
	struct timeval timeout;
	struct dns_query *pending;
	struct dns_probe *probe; /* does validation work? (dns/dns_probe.h) */
	const struct util_log *log; /* borrowed, may be NULL: one debug line per answer */
};

const char *dns_security_name(enum dns_security s)
{
	switch (s) {
	case DNS_SECURE:
		return "secure";
	case DNS_INSECURE:
		return "insecure";
	case DNS_BOGUS:
		return "bogus";
	}
	return "unknown";
}

const char *dns_outcome_name(enum dns_outcome o)
{
	switch (o) {
	case DNS_DATA:
		return "data";
	case DNS_NODATA:
		return "nodata";
	case DNS_NXDOMAIN:
		return "nxdomain";
	case DNS_ERR_SERVFAIL:
		return "servfail";
	case DNS_ERR_TIMEOUT:
		return "timeout";
	case DNS_ERR_MALFORMED:
		return "malformed";
	case DNS_ERR_BOGUS:
		return "bogus";
	}
	return "unknown";
}

void dns_answer_free(struct dns_answer *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++)
		free(a->rdata[i]);
	free(a->rdata);
	free(a->rdlen);
	free(a->why);
	free(a);
}

static void unlink_query(struct dns_query *q)
{
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		q->r->pending = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	if (q->timer != NULL)
		event_free(q->timer);
}

static struct dns_answer *new_answer(const struct dns_query *q, enum dns_outcome o,
				     enum dns_security s, const char *why)
{
	struct dns_answer *a = calloc(1, sizeof *a);
	if (a == NULL)
		return NULL;
	a->outcome = o;
	a->security = s;
	a->type = q->type;
	memcpy(a->qname, q->name, sizeof a->qname); /* canonical since dns_resolve() */
	memcpy(a->canonname, a->qname, sizeof a->canonname);
	if (why != NULL && (a->why = strdup(why)) == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

/* RFC 7672 §2.1.1: classify libunbound's result into an answer or a lookup error. */
static struct dns_answer *classify(const struct dns_query *q, int err, struct ub_result *res)
{
	if (err != 0 || res == NULL)
		return new_answer(q, DNS_ERR_SERVFAIL, DNS_INSECURE, ub_strerror(err));
	if (res->bogus)
		return new_answer(q, DNS_ERR_BOGUS, DNS_BOGUS,
				  res->why_bogus ? res->why_bogus : "DNSSEC validation failed");
	enum dns_security sec = res->secure ? DNS_SECURE : DNS_INSECURE;
	enum dns_outcome o;
	switch (res->rcode) {
	case 0:
		o = res->havedata ? DNS_DATA : DNS_NODATA;
		break;
	case 3:
		o = DNS_NXDOMAIN;
		break;
	case 1:
		return new_answer(q, DNS_ERR_MALFORMED, sec, "FORMERR");
	default: /* SERVFAIL, NOTIMP, REFUSED, ... */
		return new_answer(q, DNS_ERR_SERVFAIL, sec, res->rcode == 2 ? "SERVFAIL" : "error rcode");
	}
	struct dns_answer *a = new_answer(q, o, sec, NULL);
	if (a == NULL)
		return NULL;
	a->ttl = res->ttl > 0 ? (uint32_t)res->ttl : 0;
	if (res->canonname != NULL &&
	    !util_dnsname_canon(res->canonname, strlen(res->canonname), a->canonname,
				sizeof a->canonname)) {
		a->outcome = DNS_ERR_MALFORMED;
		return a;
	}
	if (o != DNS_DATA)
		return a;
	size_t n = 0;
	while (res->data[n] != NULL)
		n++;
	a->rdata = calloc(n ? n : 1, sizeof *a->rdata);
	a->rdlen = calloc(n ? n : 1, sizeof *a->rdlen);
	if (a->rdata == NULL || a->rdlen == NULL) {
		dns_answer_free(a);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = res->len[i] > 0 ? (size_t)res->len[i] : 0;
		a->rdata[i] = malloc(len ? len : 1);
		if (a->rdata[i] == NULL) {
			dns_answer_free(a);
			return NULL;
		}
		memcpy(a->rdata[i], res->data[i], len);
		a->rdlen[i] = len;
		a->n = i + 1;
	}
	return a;
}

static const char *type_name(uint16_t type, char *buf, size_t len)
{
	switch (type) {
	case DNS_TYPE_A: return "A";
	case DNS_TYPE_CNAME: return "CNAME";
	case DNS_TYPE_MX: return "MX";
	case DNS_TYPE_TXT: return "TXT";
	case DNS_TYPE_AAAA: return "AAAA";
	case 48: return "DNSKEY";
	case DNS_TYPE_TLSA: return "TLSA";
	}
	snprintf(buf, len, "TYPE%u", (unsigned)type);
	return buf;
}

/* At debug level: what a lookup gave and how long it took (id 0: a lookup is not tied to one
 * decision).  a may be NULL (out of memory). */
static void log_answer(const struct dns_query *q, const struct dns_answer *a)
{
	if (!util_log_enabled(q->r->log, MXTLS_LOG_DEBUG))
		return;
	struct timespec now;
	long long ms = 0;
	if (clock_gettime(CLOCK_MONOTONIC, &now) == 0)
		ms = (long long)(now.tv_sec - q->started.tv_sec) * 1000 +
		     (now.tv_nsec - q->started.tv_nsec) / 1000000;
	char tbuf[16], records[24], elapsed[24];
	snprintf(records, sizeof records, "%zu", a != NULL ? a->n : 0);
	snprintf(elapsed, sizeof elapsed, "%lld", ms);
	util_log_kv(q->r->log, MXTLS_LOG_DEBUG, 0, "dns", "qname", q->name, "type",
		    type_name(q->type, tbuf, sizeof tbuf), "outcome",
		    a != NULL ? dns_outcome_name(a->outcome) : "out-of-memory", "dnssec",
		    a != NULL ? dns_security_name(a->security) : NULL, "records", records, "ms",
		    elapsed, "why", a != NULL ? a->why : NULL, (const char *)NULL);
}

void dns_resolver_set_log(struct dns_resolver *r, const struct util_log *log)
{
	r->log = log;
}

static void on_result(void *arg, int err, struct ub_result *res)
{
	struct dns_query *q = arg;
	struct dns_answer *a = classify(q, err, res);
	if (res != NULL)
		ub_resolve_free(res);
	log_answer(q, a);
	unlink_query(q);
	dns_callback cb = q->cb;
	void *cbarg = q->arg;
	free(q);
	cb(cbarg, a);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct dns_query *q = arg;
	ub_cancel(q->r->ub, q->async_id);
	struct dns_answer *a = new_answer(q, DNS_ERR_TIMEOUT, DNS_INSECURE, "lookup timed out");
	log_answer(q, a);
	unlink_query(q);
	dns_callback cb = q->cb;
	void *cbarg = q->arg;
	free(q);
	cb(cbarg, a);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct dns_resolver *r = arg;
	ub_process(r->ub);
}

int dns_resolver_new(struct event_base *base, const char *unbound_conf, const char *root_key,
		     unsigned timeout_ms, struct dns_resolver **out, char *err, size_t errlen)
{
	struct dns_resolver *r = calloc(1, sizeof *r);
	if (r == NULL)
		return MXTLS_E_NOMEM;
	r->base = base;
	if (timeout_ms == 0)
		timeout_ms = DNS_DEFAULT_TIMEOUT_MS;
	r->timeout.tv_sec = timeout_ms / 1000;
	r->timeout.tv_usec = (timeout_ms % 1000) * 1000;
	r->ub = ub_ctx_create();
	if (r->ub == NULL) {
		free(r);
		return MXTLS_E_NOMEM;
	}
	int rc;
	char zone[DNS_NAME_TEXT_MAX] = ".";
	if (unbound_conf != NULL) {
		rc = ub_ctx_config(r->ub, unbound_conf);
		if (rc != 0)
			snprintf(err, errlen, "unbound-conf %s: %s", unbound_conf, ub_strerror(rc));
		/* A set-up that cannot validate is refused, never run as "all insecure". */
		else if (dns_anchor_zone(r->ub, unbound_conf, zone, sizeof zone, err, errlen) !=
			 MXTLS_OK)
			rc = -1;
	} else if (access(root_key, R_OK) != 0) {
		/* libunbound reads the file only at the first lookup: say it now. */
		snprintf(err, errlen, "DNSSEC trust anchor %s: %s", root_key, strerror(errno));
		rc = -1;
	} else {
		/* DANE-01: we validate ourselves, from the root, with the root trust anchor. */
		rc = ub_ctx_add_ta_file(r->ub, root_key);
		if (rc != 0)
			snprintf(err, errlen, "DNSSEC trust anchor %s: %s", root_key, ub_strerror(rc));
	}
	if (rc == 0 && (r->probe = dns_probe_new(r, base, zone)) == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	if (rc == 0 && (rc = ub_ctx_async(r->ub, 1)) != 0)
		snprintf(err, errlen, "libunbound: %s", ub_strerror(rc));
	if (rc == 0) {
		r->readable = event_new(base, ub_fd(r->ub), EV_READ | EV_PERSIST, on_readable, r);
		if (r->readable == NULL || event_add(r->readable, NULL) != 0) {
			snprintf(err, errlen, "cannot watch the resolver's descriptor");
			rc = -1;
		}
	}
	if (rc != 0) {
		dns_resolver_free(r);
		return MXTLS_E_CONFIG;
	}
	*out = r;
	return MXTLS_OK;
}

void dns_resolver_free(struct dns_resolver *r)
{
	if (r == NULL)
		return;
	dns_probe_free(r->probe);
	while (r->pending != NULL)
		dns_query_cancel(r->pending);
	if (r->readable != NULL)
		event_free(r->readable);
	ub_ctx_delete(r->ub);
	free(r);
}

struct dns_probe *dns_resolver_probe(struct dns_resolver *r)
{
	return r->probe;
}

int dns_resolve(struct dns_resolver *r, const char *name, uint16_t type, dns_callback cb,
		void *arg, struct dns_query **qout)
{
	char canon[DNS_NAME_TEXT_MAX] = ".";
	if (r == NULL || name == NULL || cb == NULL ||
	    (strcmp(name, ".") != 0 && !util_dnsname_canon(name, strlen(name), canon, sizeof canon)))
		return MXTLS_E_INVAL;
	struct dns_query *q = calloc(1, sizeof *q);
	if (q == NULL)
		return MXTLS_E_NOMEM;
	q->r = r;
	q->type = type;
	q->cb = cb;
	q->arg = arg;
	memcpy(q->name, canon, sizeof q->name);
	(void)clock_gettime(CLOCK_MONOTONIC, &q->started);
	q->timer = evtimer_new(r->base, on_timeout, q);
	if (q->timer == NULL) {
		free(q);
		return MXTLS_E_NOMEM;
	}
	if (ub_resolve_async(r->ub, q->name, type, 1 /* IN */, q, on_result, &q->async_id) != 0) {
		event_free(q->timer);
		free(q);
		return MXTLS_E_TEMPFAIL;
	}
	if (evtimer_add(q->timer, &r->timeout) != 0) {
		/* Without its timer a lookup could wait forever. */
		ub_cancel(r->ub, q->async_id);
		event_free(q->timer);
		free(q);
		return MXTLS_E_TEMPFAIL;
	}
	q->next = r->pending;
	if (r->pending != NULL)
		r->pending->prev = q;
	r->pending = q;
	if (qout != NULL)
		*qout = q;
	return MXTLS_OK;
}

void dns_query_cancel(struct dns_query *q)
{
	if (q == NULL)
		return;
	ub_cancel(q->r->ub, q->async_id);
	unlink_query(q);
	free(q);
}

struct sync_wait {
	struct dns_answer *answer;
	bool done;
	struct event_base *base;
};

static void on_sync(void *arg, struct dns_answer *ans)
{
	struct sync_wait *w = arg;
	w->answer = ans;
	w->done = true;
	event_base_loopbreak(w->base);
}

int dns_resolve_sync(struct dns_resolver *r, const char *name, uint16_t type,
		     struct dns_answer **out)
{
	struct sync_wait w = {.base = r->base};
	int rc = dns_resolve(r, name, type, on_sync, &w, NULL);
	if (rc != MXTLS_OK)
		return rc;
	while (!w.done)
		event_base_loop(r->base, EVLOOP_ONCE);
	if (w.answer == NULL)
		return MXTLS_E_NOMEM;
	*out = w.answer;
	return MXTLS_OK;
}
