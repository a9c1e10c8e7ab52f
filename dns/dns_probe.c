/* SPDX-License-Identifier: MIT */
/* The proof that DNSSEC validation works: the trust anchor's own zone must validate as secure. */
#include "dns/dns_probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <mxtls/error.h>

#include "dns/dns_resolver.h"

/* DNSKEY (RFC 4034 §2): every signed zone has one at its apex, signed by itself. */
#define DNS_TYPE_DNSKEY 48

enum probe_state {
	PROBE_IDLE, /* never run, or failed long enough ago to try again */
	PROBE_RUNNING,
	PROBE_PROVEN,
	PROBE_FAILED,
};

struct dns_probe_wait {
	struct dns_probe *p;
	struct dns_probe_wait *prev, *next;
	dns_probe_callback cb;
	void *arg;
};

struct dns_probe {
	struct dns_resolver *r; /* borrowed */
	struct event *notify;   /* answers waits from the loop once the outcome is known */
	struct dns_query *q;    /* the running lookup */
	enum probe_state state;
	struct timespec failed_at;
	char zone[DNS_NAME_TEXT_MAX];
	char why[512];
	struct dns_probe_wait *waits;
};

static void unlink_wait(struct dns_probe_wait *w)
{
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		w->p->waits = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
}

/* Answers every wait with the outcome, one at a time from the head: a callback may cancel
 * another wait (or add one, which is then answered too). */
static void on_notify(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct dns_probe *p = arg;
	while (p->waits != NULL && (p->state == PROBE_PROVEN || p->state == PROBE_FAILED)) {
		struct dns_probe_wait *w = p->waits;
		unlink_wait(w);
		w->cb(w->arg, p->state == PROBE_PROVEN, p->why);
		free(w);
	}
}

static void on_dnskey(void *arg, struct dns_answer *ans)
{
	struct dns_probe *p = arg;
	p->q = NULL;
	const char *z = p->zone;
	if (ans == NULL) {
		snprintf(p->why, sizeof p->why,
			 "DNSSEC validation could not be checked: out of memory");
	} else if (ans->outcome == DNS_DATA && ans->security == DNS_SECURE) {
		p->state = PROBE_PROVEN;
		p->why[0] = '\0';
	} else if (ans->outcome == DNS_ERR_BOGUS) {
		snprintf(
			p->why, sizeof p->why,
			"DNSSEC validation does not work: the DNSKEY records of the trust anchor's "
			"zone %s are bogus (%s): a wrong trust anchor, or a wrong clock",
			z, ans->why != NULL ? ans->why : "validation failed");
	} else if (ans->outcome >= DNS_ERR_SERVFAIL) {
		snprintf(p->why, sizeof p->why,
			 "DNSSEC validation could not be checked: the DNSKEY lookup of the trust "
			 "anchor's zone %s failed (%s): the root servers may be unreachable (a "
			 "forwarder can be set with --unbound-conf)",
			 z, dns_outcome_name(ans->outcome));
	} else {
		snprintf(p->why, sizeof p->why,
			 "DNSSEC validation does not work: the DNSKEY lookup of the trust anchor's "
			 "zone %s answered %s %s, not secure data: the trust anchor does not cover "
			 "it",
			 z, dns_security_name(ans->security), dns_outcome_name(ans->outcome));
	}
	dns_answer_free(ans);
	if (p->state != PROBE_PROVEN) {
		p->state = PROBE_FAILED;
		clock_gettime(CLOCK_MONOTONIC, &p->failed_at);
	}
	on_notify(-1, 0, p);
}

struct dns_probe *dns_probe_new(struct dns_resolver *r, struct event_base *base, const char *zone)
{
	struct dns_probe *p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	p->r = r;
	snprintf(p->zone, sizeof p->zone, "%s", zone);
	p->notify = evtimer_new(base, on_notify, p);
	if (p->notify == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

void dns_probe_free(struct dns_probe *p)
{
	if (p == NULL)
		return;
	if (p->q != NULL)
		dns_query_cancel(p->q);
	while (p->waits != NULL) {
		struct dns_probe_wait *w = p->waits;
		unlink_wait(w);
		free(w);
	}
	event_free(p->notify);
	free(p);
}

bool dns_probe_proven(const struct dns_probe *p)
{
	return p != NULL && p->state == PROBE_PROVEN;
}

static bool retry_due(const struct dns_probe *p)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec - p->failed_at.tv_sec >= DNS_PROBE_RETRY_S;
}

int dns_probe_wait(struct dns_probe *p, dns_probe_callback cb, void *arg,
		   struct dns_probe_wait **out)
{
	if (p->state == PROBE_FAILED && retry_due(p))
		p->state = PROBE_IDLE;
	struct dns_probe_wait *w = calloc(1, sizeof *w);
	if (w == NULL)
		return MXTLS_E_NOMEM;
	*w = (struct dns_probe_wait){.p = p, .cb = cb, .arg = arg};
	if (p->state == PROBE_IDLE) {
		int rc = dns_resolve(p->r, p->zone, DNS_TYPE_DNSKEY, on_dnskey, p, &p->q);
		if (rc == MXTLS_E_NOMEM) {
			free(w);
			return rc;
		}
		p->state = PROBE_RUNNING;
		if (rc != MXTLS_OK) {
			/* Not proven is failed (never "insecure"): the wait is answered so. */
			snprintf(p->why, sizeof p->why,
				 "DNSSEC validation could not be checked: the resolver refused the "
				 "DNSKEY lookup of %s (%s)",
				 p->zone, mxtls_strerror(rc));
			p->state = PROBE_FAILED;
			clock_gettime(CLOCK_MONOTONIC, &p->failed_at);
		}
	}
	w->next = p->waits;
	if (p->waits != NULL)
		p->waits->prev = w;
	p->waits = w;
	if (p->state != PROBE_RUNNING) {
		static const struct timeval now = {0, 0};
		if (evtimer_add(p->notify, &now) != 0) {
			unlink_wait(w);
			free(w);
			return MXTLS_E_NOMEM;
		}
	}
	if (out != NULL)
		*out = w;
	return MXTLS_OK;
}

void dns_probe_wait_cancel(struct dns_probe_wait *w)
{
	if (w == NULL)
		return;
	unlink_wait(w);
	free(w);
}
