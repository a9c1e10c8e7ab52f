/* SPDX-License-Identifier: MIT */
/*
 * The scheduler (delivery_sched.h).
 *
 * The unit of work is a job: the due recipients of up to SCHED_BATCH_MAX messages in one
 * domain, delivered by one deliver_start() run, so that they share its sessions (one SMTP
 * transaction per message; one TLS handshake and one decision for all).  Per domain rather
 * than per message so that a recipient's result is committed as soon as its own server has
 * answered (a crash re-sends at most the recipients in flight, issue 15), and so that the
 * per-domain limit counts sessions.  The index is the only state that matters: the in-flight
 * set just keeps a tick from starting the same recipients twice, and a crash loses nothing
 * but the attempts in flight.
 */
#include "delivery/delivery_sched.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <mxtls/error.h>

#include "delivery/delivery_bounce.h"
#include "delivery/delivery_header.h"
#include "delivery/delivery_inflight.h"
#include "delivery/delivery_queue.h"
#include "delivery/delivery_tlsrpt.h"
#include "util/util_buf.h"
#include "util/util_dnsname.h"
#include "util/util_log.h"
#include "delivery/deliver.h"
#include "validator/mxtls_ctx.h"

/* How many due rows one tick reads at most before it starts what it found: a queue blocked
 * by one domain's limit must not make every tick walk the whole index. */
#define SCHED_SCAN_MAX 20000
/* The longest sleep between two looks at the index (new mail also wakes the daemon). */
#define SCHED_IDLE_MAX_S 60
/* Messages in one job (one session per host).  Postfix reuses a connection for up to 100
 * deliveries by default; 50 keeps one slow message from holding many others back. */
#define SCHED_BATCH_MAX 50
/* Results the index could not record are tried again this often; at the end of a run (--once,
 * a stop) they are given up after this many more tries. */
#define SCHED_SETTLE_RETRY_S 5
#define SCHED_SETTLE_TRIES_AT_END 3

/* One message of a job: its due recipients in the job's domain. */
struct job_msg {
	struct job *job;
	char id[MXTLS_QUEUE_ID_SIZE];
	char *sender;
	int64_t queued_at;
	bool warned;
	size_t n, cap;
	char **rcpt;
	int64_t *seq, *attempts;
	struct util_buf msg; /* the message as sent: a DKIM-Signature, then the queued body */
	size_t body_off;     /* where the queued body starts in msg */
	bool sent;           /* part of the deliver run (its body could be read) */
	bool classified;     /* its results are in the job's w[] (notifications queued) */
	bool settled;        /* ... and recorded in the index */
};

struct settle_work;
struct delivery_settle_msg;

struct job {
	struct delivery_sched *s;
	struct job *next;
	char domain[256];
	bool requiretls, tls_optional, tlsrpt_report; /* every message of a job has the same */
	bool started;
	struct job_msg **m;
	size_t nm;
	struct deliver_run *run;
	size_t *sent_map; /* the deliver run's message i is m[sent_map[i]] */
	/* The results, until the index has them (see park()). */
	struct settle_work *w; /* one per message, m's order */
	struct delivery_settle_msg *sm;
	size_t nsm;
	unsigned settle_tries;
};

struct delivery_sched {
	struct mxtls_queue *q;
	struct mxtls_ctx *ctx;
	struct event_base *base;
	struct delivery_sched_opts o;
	struct dns_resolver *r;
	struct sts_fetcher *f;
	struct sts_cache *c;
	struct dane_pkix *pkix;
	struct event *ev_tick;
	struct job *running; /* jobs with a deliver_run */
	size_t nrunning;
	struct job *unsettled; /* done, but the index could not record the results yet */
	struct event *ev_settle;
	struct job *batch; /* a tick's candidates, not started yet */
	size_t nbatch, scanned;
	struct delivery_inflight *inflight; /* (id, domain) -> struct job_msg, batch and running */
	bool stopping, idle_called;
	int64_t once_until;
	delivery_sched_idle_fn idle;
	void *arg;
	struct delivery_sched_stats stats;
};

static void work_free_all(struct job *j);

static void msg_free(struct job_msg *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->rcpt[i]);
	free(m->rcpt);
	free(m->seq);
	free(m->attempts);
	free(m->sender);
	util_buf_free(&m->msg);
	free(m);
}

/* Frees j and takes its messages out of the in-flight set. */
static void job_free(struct job *j)
{
	if (j == NULL)
		return;
	for (size_t i = 0; i < j->nm; i++) {
		delivery_inflight_del(j->s->inflight, j->m[i]->id, j->domain);
		msg_free(j->m[i]);
	}
	free(j->m);
	free(j->sent_map);
	work_free_all(j);
	free(j);
}

static void log_kv(struct delivery_sched *s, enum mxtls_log_level level, const char *event, ...)
{
	va_list ap;
	va_start(ap, event);
	util_log_kv_v(&s->ctx->log, level, 0, event, ap);
	va_end(ap);
}

/* A recipient's domain, lower case (the part after the last '@'). */
static void domain_of(const char *addr, char out[256])
{
	/* The same canonical name deliver.c groups by (util_dnsname_canon), so that one domain
	 * written two ways is one job; a name it refuses is kept as written (deliver_start()
	 * then refuses the address). */
	const char *at = strrchr(addr, '@');
	const char *dom = at != NULL ? at + 1 : "";
	if (!util_dnsname_canon(dom, strlen(dom), out, 256))
		snprintf(out, 256, "%s", dom);
}

static size_t domain_load(const struct delivery_sched *s, const char *domain)
{
	size_t n = 0;
	for (const struct job *j = s->running; j != NULL; j = j->next)
		n += strcmp(j->domain, domain) == 0;
	for (const struct job *j = s->batch; j != NULL; j = j->next)
		n += strcmp(j->domain, domain) == 0;
	return n;
}

static bool msg_add(struct job_msg *m, const struct delivery_due_row *d)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 4;
		char **r = realloc(m->rcpt, cap * sizeof *r);
		if (r != NULL)
			m->rcpt = r;
		int64_t *sq = realloc(m->seq, cap * sizeof *sq);
		if (sq != NULL)
			m->seq = sq;
		int64_t *at = realloc(m->attempts, cap * sizeof *at);
		if (at != NULL)
			m->attempts = at;
		if (r == NULL || sq == NULL || at == NULL)
			return false;
		m->cap = cap;
	}
	if ((m->rcpt[m->n] = strdup(d->recipient)) == NULL)
		return false;
	m->seq[m->n] = d->seq;
	m->attempts[m->n] = d->attempts;
	m->n++;
	return true;
}

/* A job of this tick for the domain and flags with room for one more message, or a new one
 * when the limits allow (NULL: they do not, or out of memory). */
static struct job *batch_job(struct delivery_sched *s, const char *domain,
			     const struct delivery_due_row *d)
{
	for (struct job *j = s->batch; j != NULL; j = j->next)
		if (j->nm < SCHED_BATCH_MAX && j->requiretls == d->requiretls &&
		    j->tls_optional == d->tls_optional && j->tlsrpt_report == d->tlsrpt_report &&
		    strcmp(j->domain, domain) == 0)
			return j;
	if (s->nrunning + s->nbatch >= s->o.concurrency ||
	    domain_load(s, domain) >= s->o.concurrency_per_domain)
		return NULL;
	struct job *j = calloc(1, sizeof *j);
	if (j == NULL || (j->m = calloc(SCHED_BATCH_MAX, sizeof *j->m)) == NULL) {
		free(j);
		return NULL;
	}
	j->s = s;
	memcpy(j->domain, domain, sizeof j->domain);
	j->requiretls = d->requiretls;
	j->tls_optional = d->tls_optional;
	j->tlsrpt_report = d->tlsrpt_report;
	j->next = s->batch;
	s->batch = j;
	s->nbatch++;
	return j;
}

/* A new message entry of job j for row d, registered as in flight. */
static struct job_msg *job_add_msg(struct job *j, const struct delivery_due_row *d)
{
	struct job_msg *m = calloc(1, sizeof *m);
	if (m == NULL || (m->sender = strdup(d->sender)) == NULL) {
		free(m);
		return NULL;
	}
	m->job = j;
	snprintf(m->id, sizeof m->id, "%s", d->id);
	m->queued_at = d->queued_at;
	m->warned = d->warned;
	util_buf_init(&m->msg, MXTLS_QUEUE_MESSAGE_MAX + 64 * 1024);
	if (delivery_inflight_put(j->s->inflight, m->id, j->domain, m) != MXTLS_OK) {
		msg_free(m);
		return NULL;
	}
	j->m[j->nm++] = m;
	return m;
}

/* One due row: joins its message's entry in this tick's jobs, or starts one (in a job of the
 * same domain when there is room, else a new job when the limits allow).  Returns non-zero
 * to end the walk. */
static int on_due(void *arg, const struct delivery_due_row *d)
{
	struct delivery_sched *s = arg;
	if (++s->scanned > SCHED_SCAN_MAX)
		return 1;
	if (d->damaged != NULL) {
		char err[256];
		log_kv(s, MXTLS_LOG_ERROR, "queue-row-damaged", "id", d->id != NULL ? d->id : "-",
		       "why", d->damaged, "action", "set aside (held)", NULL);
		if (delivery_index_set_aside(s->q->index, NULL, d->rowid, d->damaged, err,
					     sizeof err) == MXTLS_OK)
			s->stats.set_aside++;
		return 0;
	}
	char domain[256];
	domain_of(d->recipient, domain);
	struct job_msg *m = delivery_inflight_get(s->inflight, d->id, domain);
	if (m != NULL) /* in a running job: in flight; in one of this tick's: one more rcpt */
		return m->job->started ? 0 : !msg_add(m, d);
	struct job *j = batch_job(s, domain, d);
	if (j == NULL)
		return s->nrunning + s->nbatch >= s->o.concurrency ? 1 : 0;
	m = job_add_msg(j, d);
	return m == NULL || !msg_add(m, d);
}

/* "CODE X.Y.Z text" of a reply, or the detail when no reply was had. */
static void reply_line(const struct deliver_rcpt *r, char *out, size_t len)
{
	const char *enh = r->reply.enhanced, *text = r->reply.text;
	size_t el = strlen(enh);
	if (r->reply.code == 0)
		snprintf(out, len, "%s", r->detail);
	else if (el == 0 || (strncmp(text, enh, el) == 0 && (text[el] == ' ' || text[el] == 0)))
		snprintf(out, len, "%d %s", r->reply.code, text); /* the text starts with it */
	else
		snprintf(out, len, "%d %s %s", r->reply.code, enh, text);
}

static void schedule(struct delivery_sched *s);

/* Takes j off the running list and frees it. */
static void job_finish(struct job *j)
{
	struct delivery_sched *s = j->s;
	for (struct job **p = &s->running; *p != NULL; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			s->nrunning--;
			break;
		}
	job_free(j);
	schedule(s);
}

/* The message for a notification: the queued body without our signature. */
static void bounce_msg(const struct job_msg *m, struct delivery_bounce_msg *b)
{
	*b = (struct delivery_bounce_msg){
		.id = m->id,
		.sender = m->sender,
		.queued_at = m->queued_at,
		.body = m->msg.data != NULL ? m->msg.data + m->body_off : NULL,
		.body_len = m->msg.len - m->body_off,
	};
}

/* One message's share of an attempt's results: index rows and notifications. */
struct settle_work {
	struct delivery_settle *rows;
	struct delivery_dsn_rcpt *failed, *delayed;
	size_t nfailed, ndelayed;
	char (*reply)[1100];
	char (*host)[256]; /* the rows' last_host: copies, since a parked row outlives the results */
	bool warn;
};

static void work_free(struct settle_work *w)
{
	free(w->rows);
	free(w->failed);
	free(w->delayed);
	free(w->reply);
	free(w->host);
}

/* Turns message m's results res[0..m->n) into w (rows, DSN recipients), logging each. */
static bool classify(struct delivery_sched *s, const struct job_msg *m,
		     const struct deliver_rcpt *res, int64_t now, struct settle_work *w)
{
	size_t n = m->n;
	*w = (struct settle_work){
		.rows = calloc(n, sizeof *w->rows),
		.failed = calloc(n, sizeof *w->failed),
		.delayed = calloc(n, sizeof *w->delayed),
		.reply = calloc(n, sizeof *w->reply),
		.host = calloc(n, sizeof *w->host),
	};
	if (w->rows == NULL || w->failed == NULL || w->delayed == NULL || w->reply == NULL ||
	    w->host == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct deliver_rcpt *r = &res[i];
		struct delivery_settle *row = &w->rows[i];
		reply_line(r, w->reply[i], sizeof w->reply[i]);
		snprintf(w->host[i], sizeof w->host[i], "%s", r->mx);
		const char *rt = r->result_type != MXTLS_RESULT_OK ? mxtls_result_name(r->result_type)
								   : NULL;
		*row = (struct delivery_settle){.seq = m->seq[i],
						.attempts = m->attempts[i] + 1,
						.next_attempt = now,
						.last_host = r->mx[0] ? w->host[i] : NULL,
						.last_reply = w->reply[i],
						.result_type = rt};
		struct delivery_dsn_rcpt dr = {
			.addr = m->rcpt[i],
			.status = r->reply.enhanced[0] ? r->reply.enhanced : NULL,
			.remote_mta = w->host[i],
			.reply = w->reply[i],
			.reply_len = strlen(w->reply[i]),
			.last_attempt = now,
			.tls_result = r->result_type,
		};
		const char *event = "queue-delivered";
		if (r->status == DELIVER_DELIVERED) {
			row->state = "delivered";
			s->stats.delivered++;
		} else if (r->status == DELIVER_BOUNCED) {
			row->state = "bounced";
			dr.status = dr.status != NULL ? dr.status : "5.0.0";
			w->failed[w->nfailed++] = dr;
			event = "queue-bounced";
		} else {
			struct delivery_retry_verdict v =
				delivery_retry_after(&s->o.retry, m->queued_at, now, row->attempts);
			if (v.expired) {
				/* Also for a TLS failure: after the whole lifetime, not one attempt,
				 * so an attacker cannot turn a downgrade into a bounce. */
				row->state = "bounced";
				dr.status = dr.status != NULL ? dr.status : "4.4.7";
				w->failed[w->nfailed++] = dr;
				event = "queue-expired";
			} else {
				row->state = "deferred";
				row->next_attempt = v.next_attempt;
				s->stats.deferred++;
				event = "queue-deferred";
				if (s->o.delay_warning > 0 && !m->warned &&
				    now - m->queued_at >= s->o.delay_warning) {
					dr.action = DELIVERY_DSN_DELAYED;
					dr.status = dr.status != NULL ? dr.status : "4.0.0";
					dr.will_retry_until = m->queued_at + s->o.retry.lifetime;
					w->delayed[w->ndelayed++] = dr;
					w->warn = true;
				}
			}
		}
		char attempts[24], next[24];
		snprintf(attempts, sizeof attempts, "%" PRId64, row->attempts);
		snprintf(next, sizeof next, "%" PRId64, row->next_attempt);
		log_kv(s, r->status == DELIVER_DELIVERED ? MXTLS_LOG_INFO : MXTLS_LOG_WARNING, event,
		       "id", m->id, "rcpt", m->rcpt[i], "host", r->mx[0] ? r->mx : "-", "tls",
		       r->tls ? "yes" : "no", "reply", w->reply[i], "result_type", rt ? rt : "-",
		       "attempts", attempts, "next_attempt",
		       strcmp(row->state, "deferred") == 0 ? next : "-", NULL);
	}
	return true;
}

/* Queues message m's notifications.  The bounce is durable before its recipients are marked
 * (the caller settles afterwards): a crash in between sends it twice, never not at all. */
static void notify_sender(struct delivery_sched *s, const struct job_msg *m, struct settle_work *w,
			  int64_t now)
{
	struct delivery_bounce_msg bm;
	bounce_msg(m, &bm);
	char err[512] = "", nid[MXTLS_QUEUE_ID_SIZE];
	if (w->nfailed > 0) {
		int rc = delivery_bounce_queue(s->q, s->o.helo, &bm, w->failed, w->nfailed, false, now,
					       nid, err, sizeof err);
		if (rc != MXTLS_OK) {
			log_kv(s, MXTLS_LOG_ERROR, "queue-bounce-failed", "id", m->id, "why", err,
			       "action", "kept deferred; the bounce is tried again", NULL);
			for (size_t i = 0; i < m->n; i++)
				if (strcmp(w->rows[i].state, "bounced") == 0) {
					w->rows[i].state = "deferred";
					w->rows[i].next_attempt = now + s->o.retry.retry_min;
				}
		} else {
			s->stats.bounced += w->nfailed;
			if (nid[0] != '\0') {
				s->stats.notifications++;
				log_kv(s, MXTLS_LOG_INFO, "queue-bounce", "id", m->id, "to", m->sender,
				       "dsn_id", nid, NULL);
			} else {
				log_kv(s, MXTLS_LOG_WARNING, "queue-bounce-not-sent", "id", m->id,
				       "why", "the null sender gets no notification", NULL);
			}
		}
	}
	if (w->warn) {
		int rc = delivery_bounce_queue(s->q, s->o.helo, &bm, w->delayed, w->ndelayed, true,
					       now, nid, err, sizeof err);
		if (rc != MXTLS_OK) {
			w->warn = false;
			log_kv(s, MXTLS_LOG_ERROR, "queue-delay-warning-failed", "id", m->id, "why",
			       err, NULL);
		} else if (nid[0] != '\0') {
			s->stats.notifications++;
		}
	}
}

static void work_free_all(struct job *j)
{
	for (size_t k = 0; j->w != NULL && k < j->nm; k++)
		work_free(&j->w[k]);
	free(j->w);
	free(j->sm);
	j->w = NULL;
	j->sm = NULL;
}

/* Records j's results in one durable transaction, then removes the bodies of the messages
 * that are done.  False when the index could not take them (a full disk, an I/O error). */
static bool try_settle(struct job *j)
{
	struct delivery_sched *s = j->s;
	char err[512] = "";
	if (delivery_index_settle_many(s->q->index, j->sm, j->nsm, err, sizeof err) != MXTLS_OK) {
		j->settle_tries++;
		char tries[24];
		snprintf(tries, sizeof tries, "%u", j->settle_tries);
		log_kv(s, MXTLS_LOG_ERROR, "queue-result-not-recorded", "why", err, "tries", tries,
		       "action", "kept in flight; recording is tried again", NULL);
		return false;
	}
	for (size_t k = 0; k < j->nsm; k++) {
		if (!j->sm[k].finished)
			continue;
		if (delivery_spool_remove(&s->q->spool, j->sm[k].id) != MXTLS_OK)
			log_kv(s, MXTLS_LOG_WARNING, "queue-body-remove-failed", "id", j->sm[k].id,
			       NULL);
		log_kv(s, MXTLS_LOG_INFO, "queue-removed", "id", j->sm[k].id, NULL);
	}
	return true;
}

/* Results the index could not take are kept, with their messages still in flight, and
 * recorded later: attempting those recipients again before their results are recorded would
 * send the mail twice at every attempt (a full disk would turn into a mail loop).  While any
 * result waits, no new delivery starts. */
static void park(struct job *j)
{
	struct delivery_sched *s = j->s;
	for (struct job **p = &s->running; *p != NULL; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			s->nrunning--;
			break;
		}
	j->next = s->unsettled;
	s->unsettled = j;
	struct timeval tv = {SCHED_SETTLE_RETRY_S, 0};
	if (!evtimer_pending(s->ev_settle, NULL))
		evtimer_add(s->ev_settle, &tv);
}

static void maybe_idle(struct delivery_sched *s);

/* Drops the parked results: their recipients will be tried again (and may get the mail
 * twice).  Only when the run ends (--once, or a stop) with the index still refusing them. */
static void drop_unsettled(struct delivery_sched *s)
{
	while (s->unsettled != NULL) {
		struct job *j = s->unsettled;
		s->unsettled = j->next;
		log_kv(s, MXTLS_LOG_ERROR, "queue-result-lost", "domain", j->domain, "action",
		       "the recipients are tried again at the next run", NULL);
		s->stats.results_lost += j->nsm;
		job_free(j);
	}
}

static void on_settle_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct delivery_sched *s = arg;
	bool progress = false;
	for (struct job **p = &s->unsettled; *p != NULL;) {
		struct job *j = *p;
		if (try_settle(j)) {
			*p = j->next;
			job_free(j);
			progress = true;
		} else {
			p = &j->next;
		}
	}
	bool give_up = s->unsettled != NULL && (s->stopping || s->o.once) &&
		       s->unsettled->settle_tries > SCHED_SETTLE_TRIES_AT_END;
	if (give_up) {
		/* The run ends here: starting anything more would deliver what was just
		 * delivered again (its results are not recorded). */
		drop_unsettled(s);
		s->stopping = true;
	}
	if (s->unsettled != NULL) {
		struct timeval tv = {SCHED_SETTLE_RETRY_S, 0};
		evtimer_add(s->ev_settle, &tv);
	} else if (progress || give_up) {
		schedule(s);
	}
}

/* Classifies message k's results and queues its notifications, once. */
static void classify_once(struct job *j, size_t k, const struct deliver_rcpt *res, int64_t now)
{
	struct job_msg *m = j->m[k];
	if (m->classified || !classify(j->s, m, res, now, &j->w[k]))
		return;
	m->classified = true;
	notify_sender(j->s, m, &j->w[k], now);
}

/*
 * One message's transaction has ended (its server answered the end of data): its results
 * are made durable now, before the session goes on to the next message, so that a crash
 * re-sends at most the transaction in flight (issue 15).  When the index cannot take them
 * they wait for the end of the session (on_result) and are parked there if need be.
 */
static void on_txn_done(void *arg, size_t msg, const struct deliver_rcpt *results,
			const size_t *idx, size_t n)
{
	struct job *j = arg;
	struct delivery_sched *s = j->s;
	size_t k = j->sent_map[msg];
	struct job_msg *m = j->m[k];
	if (m->classified || n != m->n)
		return;
	struct deliver_rcpt *res = calloc(n, sizeof *res);
	if (res == NULL)
		return; /* on_result has them too */
	for (size_t i = 0; i < n; i++)
		res[i] = results[idx[i]];
	classify_once(j, k, res, mxtls_ctx_now(s->ctx));
	free(res);
	if (!m->classified)
		return;
	struct delivery_settle_msg one = {
		.id = m->id, .rows = j->w[k].rows, .n = m->n, .warned = j->w[k].warn};
	char err[512] = "";
	if (delivery_index_settle_many(s->q->index, &one, 1, err, sizeof err) != MXTLS_OK) {
		log_kv(s, MXTLS_LOG_WARNING, "queue-result-not-recorded", "id", m->id, "why", err,
		       "action", "tried again when the session ends", NULL);
		return;
	}
	m->settled = true;
	if (one.finished) {
		if (delivery_spool_remove(&s->q->spool, m->id) != MXTLS_OK)
			log_kv(s, MXTLS_LOG_WARNING, "queue-body-remove-failed", "id", m->id, NULL);
		log_kv(s, MXTLS_LOG_INFO, "queue-removed", "id", m->id, NULL);
	}
}

/* The deliver run's results, in the order of the messages sent (each m->n of them). */
static void on_result(void *arg, const struct deliver_rcpt *res, size_t n)
{
	struct job *j = arg;
	struct delivery_sched *s = j->s;
	j->run = NULL;
	int64_t now = mxtls_ctx_now(s->ctx);
	size_t off = 0;
	bool ok = j->w != NULL && j->sm != NULL;
	for (size_t k = 0; ok && k < j->nm; k++) {
		struct job_msg *m = j->m[k];
		if (!m->sent)
			continue;
		if (off + m->n > n) {
			ok = false;
			break;
		}
		classify_once(j, k, res + off, now);
		off += m->n;
		if (!m->classified) {
			ok = false;
			break;
		}
		if (!m->settled)
			j->sm[j->nsm++] = (struct delivery_settle_msg){
				.id = m->id, .rows = j->w[k].rows, .n = m->n, .warned = j->w[k].warn};
	}
	if (!ok) {
		log_kv(s, MXTLS_LOG_ERROR, "queue-result-lost", "why",
		       "out of memory: the recipients are tried again", NULL);
		job_finish(j);
		return;
	}
	if (try_settle(j))
		job_finish(j);
	else
		park(j);
}

/* Settles every message of j that is part of the run with one made-up result (a job that
 * could not start). */
static void settle_local(struct job *j, enum deliver_status st, int code, const char *enh,
			 const char *why)
{
	size_t n = 0;
	for (size_t k = 0; k < j->nm; k++)
		n += j->m[k]->sent ? j->m[k]->n : 0;
	struct deliver_rcpt *res = calloc(n > 0 ? n : 1, sizeof *res);
	if (res == NULL) {
		job_finish(j);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		res[i].status = st;
		res[i].reply = (struct smtp_brief){.code = code, .local = true};
		snprintf(res[i].reply.enhanced, sizeof res[i].reply.enhanced, "%s", enh);
		snprintf(res[i].reply.text, sizeof res[i].reply.text, "%s", why);
		snprintf(res[i].detail, sizeof res[i].detail, "%s", why);
	}
	on_result(j, res, n);
	free(res);
}

/* Reads message m's body and signs it; false when the body cannot be had (then it is set
 * aside: a damaged or missing body file must not stop the rest of the queue). */
static bool load_body(struct delivery_sched *s, struct job_msg *m, int64_t now)
{
	struct util_buf body;
	util_buf_init(&body, MXTLS_QUEUE_MESSAGE_MAX + 1);
	int rc = delivery_spool_read(&s->q->spool, m->id, &body);
	if (rc != MXTLS_OK) {
		const char *why = rc == MXTLS_E_NOTFOUND ? "body file missing: set aside"
							  : "body file unreadable: set aside";
		char err[256];
		log_kv(s, MXTLS_LOG_ERROR, "queue-body-damaged", "id", m->id, "why", why, NULL);
		if (delivery_index_set_aside(s->q->index, m->id, 0, why, err, sizeof err) ==
		    MXTLS_OK)
			s->stats.set_aside++;
		util_buf_free(&body);
		return false;
	}
	char *sig = NULL, err[512] = "";
	size_t sig_len = 0;
	const char *dkim_domain = NULL;
	if (delivery_dkim_sign(s->o.dkim, body.data, body.len, now, &sig, &sig_len, &dkim_domain,
			       err, sizeof err) != MXTLS_OK)
		log_kv(s, MXTLS_LOG_WARNING, "dkim-sign-failed", "id", m->id, "why", err, NULL);
	rc = MXTLS_OK;
	if (sig != NULL)
		rc = util_buf_append(&m->msg, sig, sig_len);
	m->body_off = m->msg.len;
	if (rc == MXTLS_OK)
		rc = util_buf_append(&m->msg, body.data, body.len);
	free(sig);
	util_buf_free(&body);
	/* Out of memory: the message stays as it is, for the next tick. */
	return rc == MXTLS_OK;
}

/* Reads the bodies, signs them and starts the delivery; a job that cannot start is settled. */
static void job_start(struct job *j)
{
	struct delivery_sched *s = j->s;
	j->started = true;
	j->next = s->running;
	s->running = j;
	s->nrunning++;
	int64_t now = mxtls_ctx_now(s->ctx);
	struct deliver_msg *more = calloc(j->nm, sizeof *more);
	j->sent_map = calloc(j->nm, sizeof *j->sent_map);
	j->w = calloc(j->nm, sizeof *j->w);
	j->sm = calloc(j->nm, sizeof *j->sm);
	size_t nsent = 0;
	if (j->sent_map == NULL || j->w == NULL || j->sm == NULL) {
		free(more);
		more = NULL;
	}
	for (size_t k = 0; more != NULL && k < j->nm; k++) {
		struct job_msg *m = j->m[k];
		if (!load_body(s, m, now))
			continue;
		m->sent = true;
		j->sent_map[nsent] = k;
		more[nsent++] = (struct deliver_msg){.from = m->sender,
						     .rcpts = (const char *const *)m->rcpt,
						     .nrcpts = m->n,
						     .msg = (const unsigned char *)m->msg.data,
						     .len = m->msg.len};
	}
	if (nsent == 0) {
		free(more);
		job_finish(j);
		return;
	}
	struct deliver_req req = {
		.from = more[0].from,
		.rcpts = more[0].rcpts,
		.nrcpts = more[0].nrcpts,
		.msg = more[0].msg,
		.len = more[0].len,
		.more = more + 1,
		.nmore = nsent - 1,
		.helo = s->o.helo,
		.timeouts = s->ctx->timeouts,
		.now = now,
		.log = &s->ctx->log,
		.log_id = mxtls_ctx_decision_id(s->ctx),
		.tls_optional = j->tls_optional,
		.requiretls = j->requiretls,
		.txn_done = on_txn_done,
		.txn_done_arg = j,
		/* RFC 8460 §3: the delivery of a TLS report is not counted in the next one. */
		.tlsrpt = s->ctx->state_dir != NULL && !j->tlsrpt_report ? delivery_tlsrpt_recorder
									: NULL,
		.tlsrpt_arg = s->ctx,
	};
	int rc = deliver_start(s->base, s->r, s->f, s->c, s->pkix, &req, on_result, j, &j->run);
	free(more); /* deliver_start() copied the message list */
	if (rc == MXTLS_OK)
		return;
	if (rc == MXTLS_E_NOMEM)
		settle_local(j, DELIVER_DEFERRED, 451, "4.3.0", "out of memory");
	else
		settle_local(j, DELIVER_BOUNCED, 554, "5.6.0",
			     rc == MXTLS_E_INVAL ? "a bad address in the envelope"
			     : rc == MXTLS_E_LIMIT ? "the message is too large"
						   : "the message is empty or holds a NUL byte");
}

static void maybe_idle(struct delivery_sched *s)
{
	if (s->nrunning > 0 || s->unsettled != NULL || s->idle_called || s->idle == NULL)
		return;
	s->idle_called = true;
	s->idle(s->arg);
}

/* Arms the next look at the index: soon when asked, else when the next row is due. */
static void arm(struct delivery_sched *s, int64_t seconds)
{
	struct timeval tv = {(time_t)seconds, 0};
	event_add(s->ev_tick, &tv);
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct delivery_sched *s = arg;
	if (s->stopping) {
		maybe_idle(s);
		return;
	}
	int64_t now = mxtls_ctx_now(s->ctx);
	char err[512];
	s->scanned = 0;
	if (s->nrunning < s->o.concurrency && s->unsettled == NULL &&
	    delivery_index_due(s->q->index, s->o.once ? s->once_until : now, s->o.once, SIZE_MAX,
			       on_due, s, err, sizeof err) < 0)
		log_kv(s, MXTLS_LOG_ERROR, "queue-index-read-failed", "why", err, NULL);
	/* Oldest first: the batch was built by prepending. */
	struct job *rev = NULL;
	while (s->batch != NULL) {
		struct job *j = s->batch;
		s->batch = j->next;
		j->next = rev;
		rev = j;
	}
	s->nbatch = 0;
	while (rev != NULL) {
		struct job *j = rev;
		rev = j->next;
		job_start(j);
	}
	if (s->o.once) {
		/* Jobs settle from the loop; when the last is done and nothing due is left, the
		 * next tick finds nothing and the run ends. */
		if (s->nrunning == 0)
			maybe_idle(s);
		return;
	}
	int64_t next = INT64_MAX;
	delivery_index_next_due(s->q->index, &next);
	int64_t wait = next == INT64_MAX ? SCHED_IDLE_MAX_S : next - now;
	arm(s, wait < 1 ? 1 : wait > SCHED_IDLE_MAX_S ? SCHED_IDLE_MAX_S : wait);
}

/* After a job: look again at once (a slot is free), from the loop. */
static void schedule(struct delivery_sched *s)
{
	if (s->stopping) {
		maybe_idle(s);
		return;
	}
	event_active(s->ev_tick, EV_TIMEOUT, 0);
}

void delivery_sched_kick(struct delivery_sched *s)
{
	if (!s->stopping)
		event_active(s->ev_tick, EV_TIMEOUT, 0);
}

int delivery_sched_new(struct mxtls_queue *q, struct event_base *base,
		       const struct delivery_sched_opts *o, delivery_sched_idle_fn idle, void *arg,
		       struct delivery_sched **out, char *err, size_t errlen)
{
	struct delivery_sched *s = calloc(1, sizeof *s);
	if (s == NULL)
		return MXTLS_E_NOMEM;
	*s = (struct delivery_sched){.q = q, .ctx = q->ctx, .base = base, .o = *o, .idle = idle,
				     .arg = arg};
	int rc = (s->inflight = delivery_inflight_new()) != NULL ? MXTLS_OK : MXTLS_E_NOMEM;
	if (rc == MXTLS_OK)
		rc = mxtls_ctx_lookups(s->ctx, &s->r, &s->f, &s->c, err, errlen);
	if (rc == MXTLS_OK)
		rc = mxtls_ctx_pkix(s->ctx, &s->pkix, err, errlen);
	if (rc == MXTLS_OK && ((s->ev_tick = evtimer_new(base, tick, s)) == NULL ||
			       (s->ev_settle = evtimer_new(base, on_settle_timer, s)) == NULL))
		rc = MXTLS_E_NOMEM;
	if (rc != MXTLS_OK) {
		if (s->ev_tick != NULL)
			event_free(s->ev_tick);
		delivery_inflight_free(s->inflight);
		free(s);
		return rc;
	}
	s->once_until = mxtls_ctx_now(s->ctx);
	event_active(s->ev_tick, EV_TIMEOUT, 0);
	*out = s;
	return MXTLS_OK;
}

void delivery_sched_stop(struct delivery_sched *s)
{
	s->stopping = true;
	event_active(s->ev_tick, EV_TIMEOUT, 0);
}

size_t delivery_sched_running(const struct delivery_sched *s)
{
	return s->nrunning;
}

const struct delivery_sched_stats *delivery_sched_stats(const struct delivery_sched *s)
{
	return &s->stats;
}

void delivery_sched_free(struct delivery_sched *s)
{
	if (s == NULL)
		return;
	while (s->running != NULL) {
		struct job *j = s->running;
		s->running = j->next;
		if (j->run != NULL)
			deliver_cancel(j->run);
		job_free(j);
	}
	drop_unsettled(s);
	if (s->ev_tick != NULL)
		event_free(s->ev_tick);
	if (s->ev_settle != NULL)
		event_free(s->ev_settle);
	delivery_inflight_free(s->inflight);
	free(s);
}
