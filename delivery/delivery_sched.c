/* SPDX-License-Identifier: MIT */
/*
 * The scheduler (delivery_sched.h).
 *
 * The unit of work is a job: one message's due recipients in one domain, delivered by one
 * deliver_start() run.  Per domain rather than per message so that a recipient's result is
 * committed as soon as its own server has answered (a crash re-sends at most the recipients
 * in flight, issue 15), and so that the per-domain limit counts sessions.  The index is the
 * only state that matters: the in-memory list of running jobs just keeps a tick from starting
 * the same recipients twice, and a crash loses nothing but the attempts in flight.
 */
#include "delivery/delivery_sched.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <mxtls/error.h>

#include "delivery/delivery_bounce.h"
#include "delivery/delivery_header.h"
#include "delivery/delivery_queue.h"
#include "util/util_buf.h"
#include "util/util_log.h"
#include "validator/deliver.h"
#include "validator/mxtls_ctx.h"

/* How many due rows one tick reads at most before it starts what it found: a queue blocked
 * by one domain's limit must not make every tick walk the whole index. */
#define SCHED_SCAN_MAX 20000
/* The longest sleep between two looks at the index (new mail also wakes the daemon). */
#define SCHED_IDLE_MAX_S 60

struct job {
	struct delivery_sched *s;
	struct job *next;
	char id[MXTLS_QUEUE_ID_SIZE];
	char domain[256];
	char *sender;
	int64_t queued_at;
	bool requiretls, warned;
	size_t n, cap;
	char **rcpt;
	int64_t *seq, *attempts;
	struct util_buf msg; /* the message as sent: a DKIM-Signature, then the queued body */
	size_t body_off;     /* where the queued body starts in msg */
	struct deliver_run *run;
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
	struct job *batch; /* a tick's candidates, not started yet */
	size_t nbatch, scanned;
	bool stopping, idle_called;
	int64_t once_until;
	delivery_sched_idle_fn idle;
	void *arg;
	struct delivery_sched_stats stats;
};

static void job_free(struct job *j)
{
	if (j == NULL)
		return;
	for (size_t i = 0; i < j->n; i++)
		free(j->rcpt[i]);
	free(j->rcpt);
	free(j->seq);
	free(j->attempts);
	free(j->sender);
	util_buf_free(&j->msg);
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
	const char *at = strrchr(addr, '@');
	snprintf(out, 256, "%s", at != NULL ? at + 1 : "");
	for (char *p = out; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
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

static struct job *find_job(struct job *list, const char *id, const char *domain)
{
	for (struct job *j = list; j != NULL; j = j->next)
		if (strcmp(j->id, id) == 0 && strcmp(j->domain, domain) == 0)
			return j;
	return NULL;
}

static bool job_add(struct job *j, const struct delivery_due_row *d)
{
	if (j->n == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 4;
		char **r = realloc(j->rcpt, cap * sizeof *r);
		if (r != NULL)
			j->rcpt = r;
		int64_t *sq = realloc(j->seq, cap * sizeof *sq);
		if (sq != NULL)
			j->seq = sq;
		int64_t *at = realloc(j->attempts, cap * sizeof *at);
		if (at != NULL)
			j->attempts = at;
		if (r == NULL || sq == NULL || at == NULL)
			return false;
		j->cap = cap;
	}
	if ((j->rcpt[j->n] = strdup(d->recipient)) == NULL)
		return false;
	j->seq[j->n] = d->seq;
	j->attempts[j->n] = d->attempts;
	j->n++;
	return true;
}

/* One due row: joins its (message, domain) job of this tick, or starts one when the limits
 * allow.  Returns non-zero to end the walk. */
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
	if (find_job(s->running, d->id, domain) != NULL)
		return 0; /* in flight */
	struct job *j = find_job(s->batch, d->id, domain);
	if (j == NULL) {
		if (s->nrunning + s->nbatch >= s->o.concurrency)
			return 1;
		if (domain_load(s, domain) >= s->o.concurrency_per_domain)
			return 0;
		j = calloc(1, sizeof *j);
		if (j == NULL || (j->sender = strdup(d->sender)) == NULL) {
			job_free(j);
			return 1;
		}
		j->s = s;
		snprintf(j->id, sizeof j->id, "%s", d->id);
		memcpy(j->domain, domain, sizeof j->domain);
		j->queued_at = d->queued_at;
		j->requiretls = d->requiretls;
		j->warned = d->warned;
		util_buf_init(&j->msg, MXTLS_QUEUE_MESSAGE_MAX + 64 * 1024);
		j->next = s->batch;
		s->batch = j;
		s->nbatch++;
	}
	return job_add(j, d) ? 0 : 1;
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

/* The message's header section for a notification: the queued body without our signature. */
static void bounce_msg(const struct job *j, struct delivery_bounce_msg *m)
{
	*m = (struct delivery_bounce_msg){
		.id = j->id,
		.sender = j->sender,
		.queued_at = j->queued_at,
		.body = j->msg.data != NULL ? j->msg.data + j->body_off : NULL,
		.body_len = j->msg.len - j->body_off,
	};
}

/* Per-recipient outcome of one attempt, turned into index rows and notifications. */
struct settle_work {
	struct delivery_settle *rows;
	struct delivery_dsn_rcpt *failed, *delayed;
	size_t nfailed, ndelayed;
	char (*reply)[1100];
};

static void on_result(void *arg, const struct deliver_rcpt *res, size_t n)
{
	struct job *j = arg;
	struct delivery_sched *s = j->s;
	j->run = NULL;
	int64_t now = mxtls_ctx_now(s->ctx);
	struct settle_work w = {
		.rows = calloc(n, sizeof *w.rows),
		.failed = calloc(n, sizeof *w.failed),
		.delayed = calloc(n, sizeof *w.delayed),
		.reply = calloc(n, sizeof *w.reply),
	};
	if (w.rows == NULL || w.failed == NULL || w.delayed == NULL || w.reply == NULL) {
		log_kv(s, MXTLS_LOG_ERROR, "queue-result-lost", "id", j->id, "why",
		       "out of memory: the recipients are tried again", NULL);
		goto out;
	}
	bool warn = false;
	for (size_t i = 0; i < n; i++) {
		const struct deliver_rcpt *r = &res[i];
		struct delivery_settle *row = &w.rows[i];
		reply_line(r, w.reply[i], sizeof w.reply[i]);
		const char *rt = r->result_type != MXTLS_RESULT_OK ? mxtls_result_name(r->result_type)
								   : NULL;
		*row = (struct delivery_settle){.seq = j->seq[i],
						.attempts = j->attempts[i] + 1,
						.next_attempt = now,
						.last_host = r->mx[0] ? r->mx : NULL,
						.last_reply = w.reply[i],
						.result_type = rt};
		struct delivery_dsn_rcpt dr = {
			.addr = j->rcpt[i],
			.status = r->reply.enhanced[0] ? r->reply.enhanced : NULL,
			.remote_mta = r->mx,
			.reply = w.reply[i],
			.reply_len = strlen(w.reply[i]),
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
			w.failed[w.nfailed++] = dr;
			event = "queue-bounced";
		} else {
			struct delivery_retry_verdict v =
				delivery_retry_after(&s->o.retry, j->queued_at, now, row->attempts);
			if (v.expired) {
				/* Also for a TLS failure: after the whole lifetime, not one attempt,
				 * so an attacker cannot turn a downgrade into a bounce. */
				row->state = "bounced";
				dr.status = dr.status != NULL ? dr.status : "4.4.7";
				w.failed[w.nfailed++] = dr;
				event = "queue-expired";
			} else {
				row->state = "deferred";
				row->next_attempt = v.next_attempt;
				s->stats.deferred++;
				event = "queue-deferred";
				if (s->o.delay_warning > 0 && !j->warned &&
				    now - j->queued_at >= s->o.delay_warning) {
					dr.action = DELIVERY_DSN_DELAYED;
					dr.status = dr.status != NULL ? dr.status : "4.0.0";
					dr.will_retry_until = j->queued_at + s->o.retry.lifetime;
					w.delayed[w.ndelayed++] = dr;
					warn = true;
				}
			}
		}
		char attempts[24], next[24];
		snprintf(attempts, sizeof attempts, "%" PRId64, row->attempts);
		snprintf(next, sizeof next, "%" PRId64, row->next_attempt);
		log_kv(s, r->status == DELIVER_DELIVERED ? MXTLS_LOG_INFO : MXTLS_LOG_WARNING, event,
		       "id", j->id, "rcpt", j->rcpt[i], "host", r->mx[0] ? r->mx : "-", "tls",
		       r->tls ? "yes" : "no", "reply", w.reply[i], "result_type", rt ? rt : "-",
		       "attempts", attempts, "next_attempt",
		       strcmp(row->state, "deferred") == 0 ? next : "-", NULL);
	}
	struct delivery_bounce_msg bm;
	bounce_msg(j, &bm);
	char err[512] = "", nid[MXTLS_QUEUE_ID_SIZE];
	if (w.nfailed > 0) {
		/* The bounce is durable before the recipients are marked: a crash in between
		 * sends it twice, never not at all. */
		int rc = delivery_bounce_queue(s->q, s->o.helo, &bm, w.failed, w.nfailed, false, now,
					       nid, err, sizeof err);
		if (rc != MXTLS_OK) {
			log_kv(s, MXTLS_LOG_ERROR, "queue-bounce-failed", "id", j->id, "why", err,
			       "action", "kept deferred; the bounce is tried again", NULL);
			for (size_t i = 0; i < n; i++)
				if (strcmp(w.rows[i].state, "bounced") == 0) {
					w.rows[i].state = "deferred";
					w.rows[i].next_attempt = now + s->o.retry.retry_min;
				}
		} else {
			s->stats.bounced += w.nfailed;
			if (nid[0] != '\0') {
				s->stats.notifications++;
				log_kv(s, MXTLS_LOG_INFO, "queue-bounce", "id", j->id, "to",
				       j->sender, "dsn_id", nid, NULL);
			} else {
				log_kv(s, MXTLS_LOG_WARNING, "queue-bounce-not-sent", "id", j->id,
				       "why", "the null sender gets no notification", NULL);
			}
		}
	}
	if (warn) {
		int rc = delivery_bounce_queue(s->q, s->o.helo, &bm, w.delayed, w.ndelayed, true,
					       now, nid, err, sizeof err);
		if (rc != MXTLS_OK) {
			warn = false;
			log_kv(s, MXTLS_LOG_ERROR, "queue-delay-warning-failed", "id", j->id, "why",
			       err, NULL);
		} else if (nid[0] != '\0') {
			s->stats.notifications++;
		}
	}
	bool finished = false;
	if (delivery_index_settle(s->q->index, j->id, w.rows, n, warn, &finished, err,
				  sizeof err) != MXTLS_OK)
		log_kv(s, MXTLS_LOG_ERROR, "queue-result-lost", "id", j->id, "why", err,
		       "action", "the recipients are tried again", NULL);
	else if (finished && delivery_spool_remove(&s->q->spool, j->id) != MXTLS_OK)
		log_kv(s, MXTLS_LOG_WARNING, "queue-body-remove-failed", "id", j->id, NULL);
	if (finished)
		log_kv(s, MXTLS_LOG_INFO, "queue-removed", "id", j->id, NULL);
out:
	free(w.rows);
	free(w.failed);
	free(w.delayed);
	free(w.reply);
	job_finish(j);
}

/* Settles every recipient of j with one made-up result (a job that could not start). */
static void settle_local(struct job *j, enum deliver_status st, int code, const char *enh,
			 const char *why)
{
	struct deliver_rcpt *res = calloc(j->n, sizeof *res);
	if (res == NULL) {
		job_finish(j);
		return;
	}
	for (size_t i = 0; i < j->n; i++) {
		res[i].status = st;
		res[i].reply = (struct smtp_brief){.code = code, .local = true};
		snprintf(res[i].reply.enhanced, sizeof res[i].reply.enhanced, "%s", enh);
		snprintf(res[i].reply.text, sizeof res[i].reply.text, "%s", why);
		snprintf(res[i].detail, sizeof res[i].detail, "%s", why);
	}
	on_result(j, res, j->n);
	free(res);
}

/* RFC 8689 §5: "TLS-Required: No" in the header section asks that a failed policy check not
 * stop the delivery (TLS is still tried first). */
static bool tls_required_no(const char *msg, size_t len)
{
	size_t pos = 0;
	bool blank, no = false;
	struct delivery_field f;
	while (delivery_header_next(msg, len, &pos, &f, &blank)) {
		if (!delivery_field_is(&f, "TLS-Required"))
			continue;
		const char *v = f.value;
		size_t vl = f.value_len;
		while (vl > 0 && (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n'))
			v++, vl--;
		while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t' || v[vl - 1] == '\r' ||
				  v[vl - 1] == '\n'))
			vl--;
		no = vl == 2 && strncasecmp(v, "No", 2) == 0;
	}
	return no;
}

/* Reads the body, signs it and starts the delivery; a job that cannot start is settled. */
static void job_start(struct job *j)
{
	struct delivery_sched *s = j->s;
	j->next = s->running;
	s->running = j;
	s->nrunning++;
	struct util_buf body;
	util_buf_init(&body, MXTLS_QUEUE_MESSAGE_MAX + 1);
	int rc = delivery_spool_read(&s->q->spool, j->id, &body);
	if (rc != MXTLS_OK) {
		/* A damaged or missing body file is set aside; the rest of the queue goes on. */
		const char *why = rc == MXTLS_E_NOTFOUND ? "body file missing: set aside"
							  : "body file unreadable: set aside";
		char err[256];
		log_kv(s, MXTLS_LOG_ERROR, "queue-body-damaged", "id", j->id, "why", why, NULL);
		if (delivery_index_set_aside(s->q->index, j->id, 0, why, err, sizeof err) ==
		    MXTLS_OK)
			s->stats.set_aside++;
		util_buf_free(&body);
		job_finish(j);
		return;
	}
	int64_t now = mxtls_ctx_now(s->ctx);
	char *sig = NULL, err[512] = "";
	size_t sig_len = 0;
	const char *dkim_domain = NULL;
	if (delivery_dkim_sign(s->o.dkim, body.data, body.len, now, &sig, &sig_len, &dkim_domain,
			       err, sizeof err) != MXTLS_OK)
		log_kv(s, MXTLS_LOG_WARNING, "dkim-sign-failed", "id", j->id, "why", err, NULL);
	rc = MXTLS_OK;
	if (sig != NULL)
		rc = util_buf_append(&j->msg, sig, sig_len);
	j->body_off = j->msg.len;
	if (rc == MXTLS_OK)
		rc = util_buf_append(&j->msg, body.data, body.len);
	free(sig);
	util_buf_free(&body);
	if (rc != MXTLS_OK) {
		settle_local(j, DELIVER_DEFERRED, 451, "4.3.0", "out of memory");
		return;
	}
	if (j->requiretls) {
		/* RFC 8689 §4.2.1: a REQUIRETLS message goes only to a next hop that offers
		 * REQUIRETLS over authenticated TLS; this client does not send it yet, so the
		 * message is returned rather than sent without its guarantee. */
		settle_local(j, DELIVER_BOUNCED, 550, "5.7.30",
			     "REQUIRETLS was asked for, and mxtls does not relay REQUIRETLS yet");
		return;
	}
	struct deliver_req req = {
		.from = j->sender,
		.rcpts = (const char *const *)j->rcpt,
		.nrcpts = j->n,
		.msg = (const unsigned char *)j->msg.data,
		.len = j->msg.len,
		.helo = s->o.helo,
		.timeouts = s->ctx->timeouts,
		.now = now,
		.log = &s->ctx->log,
		.log_id = mxtls_ctx_decision_id(s->ctx),
		.tls_optional = tls_required_no(j->msg.data + j->body_off, j->msg.len - j->body_off),
	};
	rc = deliver_start(s->base, s->r, s->f, s->c, s->pkix, &req, on_result, j, &j->run);
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
	if (s->nrunning > 0 || s->idle_called || s->idle == NULL)
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
	if (s->nrunning < s->o.concurrency &&
	    delivery_index_due(s->q->index, s->o.once ? s->once_until : now, SIZE_MAX, on_due, s,
			       err, sizeof err) < 0)
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
	int rc = mxtls_ctx_lookups(s->ctx, &s->r, &s->f, &s->c, err, errlen);
	if (rc == MXTLS_OK)
		rc = mxtls_ctx_pkix(s->ctx, &s->pkix, err, errlen);
	if (rc == MXTLS_OK && (s->ev_tick = evtimer_new(base, tick, s)) == NULL)
		rc = MXTLS_E_NOMEM;
	if (rc != MXTLS_OK) {
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
	if (s->ev_tick != NULL)
		event_free(s->ev_tick);
	free(s);
}
