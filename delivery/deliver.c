/* SPDX-License-Identifier: MIT */
/* Delivery of messages to their recipients' MX hosts, enforcing each domain's decision; several
 * messages to one domain share its sessions (one transaction each). */
#include "delivery/deliver.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include <mxtls/error.h>

#include "smtp/smtp_data.h"
#include "util/util_buf.h"
#include "util/util_dnsname.h"
#include "validator/host_verify.h"

/* The largest message accepted (after CRLF normalisation and dot-stuffing). */
#define DELIVER_MESSAGE_MAX ((size_t)200 * 1024 * 1024)

const char *deliver_status_name(enum deliver_status s)
{
	switch (s) {
	case DELIVER_DELIVERED: return "delivered";
	case DELIVER_DEFERRED: return "deferred";
	case DELIVER_BOUNCED: return "bounced";
	}
	return "unknown";
}

struct deliver_run;

/* One message of the run, encoded once for every domain's sessions. */
struct run_msg {
	struct deliver_msg m;
	size_t first;              /* its first recipient's index in run->results */
	struct util_buf payload;
	struct smtp_data_info info;
	bool smtputf8;
};

/* One message's recipients in one domain: one transaction of that domain's sessions. */
struct job_txn {
	size_t msg;                /* index into run->msgs */
	size_t *idx;               /* indices into run->results */
	const char **rcpts;
	struct smtp_brief *briefs;
	size_t n;
	bool finished;             /* its recipients have their outcome */
};

/* The recipients of one domain, and where their delivery stands. */
struct domain_job {
	struct deliver_run *run;
	char domain[DNS_NAME_TEXT_MAX];
	struct job_txn *tx;        /* one per message with recipients here */
	size_t ntx;
	struct smtp_txn *live;     /* the transactions of the session in flight ... */
	size_t *live_tx;           /* ... and the job_txn each one is */
	size_t nlive;
	struct decision_run *dq;
	struct decision *d;
	size_t host, addr;         /* the next candidate */
	bool cleartext_retry;      /* this attempt is the cleartext retry of the same address */
	bool attempted;            /* some host was contacted: its failure is the one reported */
	bool tls_failed;           /* ... unless a host failed TLS first: that one (note_failure) */
	bool requiretls_skipped;   /* a host was left out for REQUIRETLS (not authenticated) */
	struct smtp_session *sess;
	enum smtp_tls_mode sess_tls; /* what the session in flight was asked to do */
	bool verify_ran;             /* its certificate was checked: verify holds the outcome */
	struct host_verify_outcome verify;
	/* The last failure, for the recipients if no host takes the mail. */
	enum mxtls_result last_result;
	char last_detail[1024];
	char last_mx[DNS_NAME_TEXT_MAX];
	struct smtp_brief last_reply;
	bool last_has_security;
	enum decision_security last_security;
	bool done;
};

struct deliver_run {
	struct event_base *base;
	struct dns_resolver *r;
	struct sts_fetcher *f;
	struct sts_cache *c;
	const struct dane_pkix *pkix;
	struct deliver_req req;
	deliver_callback cb;
	void *arg;
	struct run_msg *msgs;      /* req's message, then req->more[] */
	size_t nmsgs;
	size_t nresults;
	struct deliver_rcpt *results;
	struct domain_job *jobs;
	size_t njobs;
	size_t pending;
	struct event *ev_done;
};

static void run_free(struct deliver_run *run)
{
	for (size_t i = 0; i < run->njobs; i++) {
		struct domain_job *j = &run->jobs[i];
		if (j->sess != NULL)
			smtp_session_cancel(j->sess);
		if (j->dq != NULL)
			decision_cancel(j->dq);
		decision_free(j->d);
		for (size_t t = 0; j->tx != NULL && t < j->ntx; t++) {
			free(j->tx[t].idx);
			free(j->tx[t].rcpts);
			free(j->tx[t].briefs);
		}
		free(j->tx);
		free(j->live);
		free(j->live_tx);
	}
	if (run->ev_done != NULL)
		event_free(run->ev_done);
	for (size_t i = 0; run->msgs != NULL && i < run->nmsgs; i++)
		util_buf_free(&run->msgs[i].payload);
	free(run->msgs);
	free(run->jobs);
	free(run->results);
	free(run);
}

static void on_all_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct deliver_run *run = arg;
	run->cb(run->arg, run->results, run->nresults);
	run_free(run);
}

static void log_kv(const struct deliver_run *run, enum mxtls_log_level level, const char *event,
		   ...) __attribute__((sentinel));
static void log_kv(const struct deliver_run *run, enum mxtls_log_level level, const char *event,
		   ...)
{
	if (run->req.log == NULL || !util_log_enabled(run->req.log, level))
		return;
	/* util_log_kv takes a sentinel-terminated list; at most six pairs are passed here. */
	va_list ap;
	va_start(ap, event);
	const char *kv[12] = {0};
	for (int i = 0; i < 12; i++) {
		kv[i] = va_arg(ap, const char *);
		if (kv[i] == NULL)
			break;
	}
	va_end(ap);
	util_log_kv(run->req.log, level, run->req.log_id, event, kv[0], kv[1], kv[2], kv[3], kv[4],
		    kv[5], kv[6], kv[7], kv[8], kv[9], kv[10], kv[11], NULL);
}

static void job_done(struct domain_job *j)
{
	j->done = true;
	decision_free(j->d);
	j->d = NULL;
	if (--j->run->pending == 0)
		event_active(j->run->ev_done, EV_TIMEOUT, 0);
}

/* A recipient's outcome made up locally: no server refused it.  The detail names the last
 * host and what went wrong there (with the server's words, if any). */
static void settle_one(const struct domain_job *j, struct deliver_rcpt *res, enum deliver_status st,
		       int code, const char *enh, enum mxtls_result rt, const char *detail)
{
	res->status = st;
	snprintf(res->mx, sizeof res->mx, "%s", j->last_mx);
	res->tls = false;
	res->has_security = j->last_has_security;
	res->security = j->last_security;
	res->reply = (struct smtp_brief){.code = code, .local = true};
	snprintf(res->reply.enhanced, sizeof res->reply.enhanced, "%s", enh);
	snprintf(res->reply.text, sizeof res->reply.text, "%s %.*s", enh,
		 (int)(sizeof res->reply.text - 16), detail);
	res->result_type = rt;
	snprintf(res->detail, sizeof res->detail, "%s", detail);
}

/* Every recipient of j still without an outcome gets the same one, made up locally. */
static void settle_all(struct domain_job *j, enum deliver_status st, int code, const char *enh,
		       enum mxtls_result rt, const char *detail)
{
	for (size_t t = 0; t < j->ntx; t++) {
		struct job_txn *tx = &j->tx[t];
		for (size_t k = 0; !tx->finished && k < tx->n; k++)
			settle_one(j, &j->run->results[tx->idx[k]], st, code, enh, rt, detail);
		tx->finished = true;
	}
	log_kv(j->run, st == DELIVER_BOUNCED ? MXTLS_LOG_WARNING : MXTLS_LOG_INFO, "domain-result",
	       "domain", j->domain, "status", deliver_status_name(st), "why", detail,
	       "result_type", rt != MXTLS_RESULT_OK ? mxtls_result_name(rt) : "-", NULL);
	job_done(j);
}

static void try_next(struct domain_job *j);

static enum mxtls_result on_verify(void *arg, const uint8_t *const *der, const size_t *len,
				   size_t n, char *why, size_t whylen)
{
	struct domain_job *j = arg;
	const struct decision_host *h = &j->d->hosts[j->host];
	enum mxtls_result r = host_verify(h, j->run->pkix, der, len, n, j->run->req.now, &j->verify);
	j->verify_ran = true;
	snprintf(why, whylen, "%s", j->verify.reason);
	if (r != MXTLS_RESULT_OK && j->run->req.tls_optional) {
		/* RFC 8689 §5: the failure is logged (and would be reported), not enforced. */
		log_kv(j->run, MXTLS_LOG_WARNING, "tls-required-no", "domain", j->domain, "host",
		       h->name, "result_type", mxtls_result_name(r), "why", j->verify.reason, NULL);
		return MXTLS_RESULT_OK;
	}
	if (j->verify.reported != MXTLS_RESULT_OK && r == MXTLS_RESULT_OK)
		log_kv(j->run, MXTLS_LOG_WARNING, "sts-testing-failure", "domain", j->domain, "host",
		       h->name, "result_type", mxtls_result_name(j->verify.reported), "why",
		       j->verify.reason, NULL);
	return r;
}

/*
 * Records why host h failed, for the recipients if no host takes the mail.  RFC 8460 §4.3: the
 * domain owner must hear of the TLS failure, so the first failure with a TLS result type stays
 * the reason of the whole attempt (its host, result type and reply); a later failure (a
 * refused connection at the next MX, another TLS failure) is only added to the detail.
 */
static void note_failure(struct domain_job *j, const struct decision_host *h,
			 enum mxtls_result rt, const char *reason, const struct smtp_brief *reply)
{
	if (j->tls_failed) {
		size_t used = strlen(j->last_detail);
		if (used + 16 < sizeof j->last_detail)
			snprintf(j->last_detail + used, sizeof j->last_detail - used, "; then %s: %s",
				 h->name, reason);
		return;
	}
	j->tls_failed = rt != MXTLS_RESULT_OK;
	j->last_result = rt;
	snprintf(j->last_detail, sizeof j->last_detail, "%s: %s", h->name, reason);
	snprintf(j->last_mx, sizeof j->last_mx, "%s", h->name);
	j->last_reply = *reply;
	j->last_has_security = true;
	j->last_security = h->security;
}

/* Hands one TLS-RPT result to the caller's recorder (deliver_req.tlsrpt). */
static void report(struct domain_job *j, const struct decision_host *h, const struct host_addr *a,
		   enum mxtls_result result, const char *code, const struct smtp_session_result *sr)
{
	struct deliver_run *run = j->run;
	if (run->req.tlsrpt == NULL)
		return;
	struct deliver_tlsrpt_facts f = {
		.d = j->d,
		.sts = j->d->sts,
		.h = h,
		.addr = a,
		.result = result,
		.reason_code = result != MXTLS_RESULT_OK ? code : NULL,
		.local_ip = sr != NULL && sr->local_ip[0] != '\0' ? sr->local_ip : NULL,
		.helo = sr != NULL && sr->server_name[0] != '\0' ? sr->server_name : NULL,
	};
	if (!deliver_tlsrpt_emit(&f, run->req.tlsrpt, run->req.tlsrpt_arg))
		log_kv(run, MXTLS_LOG_WARNING, "tlsrpt-not-recorded", "domain", j->domain, "why",
		       "out of memory", NULL);
}

/*
 * RFC 8460 §4.2: the session just ended was one TLS attempt on a new connection, a success
 * when a policy-compliant TLS session was established, a failure when it was not.  The
 * verdict the report needs is the policy's, not what was enforced: an MTA-STS testing failure
 * (RFC 8461 §5) and a failure waived by "TLS-Required: No" (RFC 8689 §5) are failures here.
 */
static void report_session(struct domain_job *j, const struct decision_host *h,
			   const struct smtp_session_result *sr)
{
	if (!sr->connected || j->sess_tls == SMTP_TLS_NONE)
		return; /* no connection, or the cleartext retry after a failed handshake */
	const struct host_addr *a = &h->dane->addrs[j->addr];
	if (j->verify_ran && j->verify.reported != MXTLS_RESULT_OK)
		report(j, h, a, j->verify.reported, j->verify.reason, sr);
	else if (sr->error == MXTLS_E_TLS && sr->tls_result != MXTLS_RESULT_OK)
		report(j, h, a, sr->tls_result, sr->reason, sr);
	else if (sr->tls)
		report(j, h, a, MXTLS_RESULT_OK, NULL, sr);
	else if (sr->stage >= SMTP_STAGE_MAIL)
		/* The mail went (or was to go) in cleartext: no STARTTLS, or it was refused
		 * (RFC 8460 §4.3.1; the checklist's Impl for a refused STARTTLS). */
		report(j, h, a, MXTLS_RESULT_STARTTLS_NOT_SUPPORTED,
		       sr->starttls_offered ? "STARTTLS refused" : "STARTTLS not offered", sr);
	/* Else the session ended before TLS for another reason: transient (§4.3.4). */
}

/* Transaction l of the session has ended: each recipient has the server's own answer. */
static void txn_results(struct domain_job *j, size_t l, bool tls)
{
	struct deliver_run *run = j->run;
	const struct smtp_txn *txn = &j->live[l];
	struct job_txn *tx = &j->tx[j->live_tx[l]];
	if (tx->finished)
		return;
	tx->finished = true;
	const struct decision_host *h = &j->d->hosts[j->host];
	for (size_t k = 0; k < tx->n; k++) {
		struct deliver_rcpt *res = &run->results[tx->idx[k]];
		struct smtp_brief b = tx->briefs[k];
		if (b.code >= 200 && b.code < 300)
			b = txn->data; /* accepted at RCPT: the final word is DATA's */
		res->reply = b;
		res->status = b.code >= 200 && b.code < 300   ? DELIVER_DELIVERED
			      : b.code >= 500 && b.code < 600 ? DELIVER_BOUNCED
							      : DELIVER_DEFERRED;
		snprintf(res->mx, sizeof res->mx, "%s", h->name);
		res->tls = tls;
		res->has_security = true;
		res->security = h->security;
		res->result_type = MXTLS_RESULT_OK;
		snprintf(res->detail, sizeof res->detail, "%s %s%s",
			 b.code >= 200 && b.code < 300 ? "accepted by" : "refused by", h->name,
			 tls ? " over TLS" : " in cleartext");
	}
	if (run->req.txn_done != NULL)
		run->req.txn_done(run->req.txn_done_arg, tx->msg, run->results, tx->idx, tx->n);
}

/* From the session, as each transaction ends (RFC 5321 §4.1.1.4: the reply to the end of
 * data is the server's acceptance), so that the caller can make the result durable before
 * the session goes on. */
static void on_txn_done(void *arg, size_t l, bool tls)
{
	struct domain_job *j = arg;
	if (l < j->nlive)
		txn_results(j, l, tls);
}

static void on_session(void *arg, const struct smtp_session_result *sr)
{
	struct domain_job *j = arg;
	struct deliver_run *run = j->run;
	j->sess = NULL;
	const struct decision_host *h = &j->d->hosts[j->host];
	report_session(j, h, sr);
	log_kv(run, MXTLS_LOG_INFO, "attempt", "domain", j->domain, "host", h->name, "security",
	       decision_security_name(h->security), "tls", sr->tls ? "yes" : "no", "stage",
	       smtp_stage_name(sr->stage), "why", sr->reason, NULL);
	size_t done = 0;
	for (size_t l = 0; l < j->nlive; l++) {
		if (!j->live[l].done)
			continue;
		done++;
		txn_results(j, l, sr->tls); /* a no-op when txn_done had it */
	}
	if (done == j->nlive) {
		job_done(j);
		return;
	}
	/* The session ended before (the rest of) its transactions: remember why, and take what
	 * is left elsewhere. */
	j->attempted = true;
	note_failure(j, h, sr->error == MXTLS_E_TLS ? sr->tls_result : MXTLS_RESULT_OK,
		     sr->reason, &sr->last);
	if (sr->error == MXTLS_E_TLS && sr->stage == SMTP_STAGE_HANDSHAKE &&
	    (!h->tls_required || run->req.tls_optional) && !j->cleartext_retry) {
		/* RFC 7672 §2.2 (DANE-11): without a TLS requirement, a failed handshake may be
		 * followed by a cleartext attempt to the same address. */
		j->cleartext_retry = true;
	} else {
		j->cleartext_retry = false;
		j->addr++;
	}
	try_next(j);
}

/* Fills j->live with the transactions still without an outcome, for the next session. */
static size_t live_txns(struct domain_job *j)
{
	struct deliver_run *run = j->run;
	j->nlive = 0;
	for (size_t t = 0; t < j->ntx; t++) {
		struct job_txn *tx = &j->tx[t];
		if (tx->finished)
			continue;
		const struct run_msg *m = &run->msgs[tx->msg];
		memset(tx->briefs, 0, tx->n * sizeof *tx->briefs);
		j->live[j->nlive] = (struct smtp_txn){
			.mail_from = m->m.from,
			.rcpts = tx->rcpts,
			.nrcpts = tx->n,
			.payload = &m->payload,
			.info = m->info,
			.smtputf8 = m->smtputf8,
			.requiretls = run->req.requiretls,
			.rcpt = tx->briefs,
		};
		j->live_tx[j->nlive++] = t;
	}
	return j->nlive;
}

/* The next usable host and address in preference order, or the end of the line. */
static void try_next(struct domain_job *j)
{
	struct deliver_run *run = j->run;
	struct decision *d = j->d;
	/* RFC 8689 §5: with REQUIRETLS on the envelope, TLS-Required is ignored. */
	bool optional = run->req.tls_optional && !run->req.requiretls;
	for (; j->host < d->nhosts; j->host++, j->addr = 0, j->cleartext_retry = false) {
		struct decision_host *h = &d->hosts[j->host];
		if (h->security == SEC_UNREACHABLE || (h->security == SEC_EXCLUDED && !optional)) {
			enum mxtls_result rt;
			const char *code;
			if (deliver_tlsrpt_skip(h, &rt, &code)) /* D10; RFC 8460 §4.3.2 */
				report(j, h, NULL, rt, code, NULL);
			if (h->security == SEC_EXCLUDED && !j->attempted) {
				/* D10: a host skipped for the STS mx patterns counts as a failure; the
				 * failure of a host actually contacted says more, and is kept. */
				j->last_result = MXTLS_RESULT_VALIDATION_FAILURE;
				snprintf(j->last_detail, sizeof j->last_detail, "%s: %s", h->name,
					 h->why);
				snprintf(j->last_mx, sizeof j->last_mx, "%s", h->name);
				j->last_has_security = true;
				j->last_security = h->security;
			}
			continue;
		}
		if (run->req.requiretls && h->security != SEC_DANE && h->security != SEC_MTA_STS) {
			/* RFC 8689 §4.2.1: the next hop must be authenticated (DANE, or the Web PKI
			 * under an MTA-STS policy). */
			j->requiretls_skipped = true;
			continue;
		}
		if (j->addr >= h->dane->naddrs)
			continue;
		const struct host_addr *a = &h->dane->addrs[j->addr];
		struct smtp_session_req sreq = {
			.family = a->family,
			.port = run->req.port,
			.helo = run->req.helo,
			.tls = h->tls_required && !optional ? SMTP_TLS_REQUIRED
			       : j->cleartext_retry	    ? SMTP_TLS_NONE
							    : SMTP_TLS_MAY,
			.sni = h->sni,
			.verify = on_verify,
			.verify_arg = j,
			.timeouts = run->req.timeouts,
			.txns = j->live,
			.ntxns = live_txns(j),
			.txn_done = on_txn_done,
			.txn_done_arg = j,
		};
		memcpy(sreq.addr, a->addr, sizeof sreq.addr);
		j->sess_tls = sreq.tls;
		j->verify_ran = false;
		int rc = smtp_session_start(run->base, &sreq, on_session, j, &j->sess);
		if (rc == MXTLS_OK)
			return;
		const struct smtp_brief none = {0};
		note_failure(j, h, MXTLS_RESULT_OK, mxtls_strerror(rc), &none);
	}
	if (run->req.requiretls && j->requiretls_skipped && !j->attempted) {
		/* No host could be authenticated: REQUIRETLS cannot be met here, now or later
		 * (RFC 8689 §4.2.1: the message is returned, 5.7.30). */
		settle_all(j, DELIVER_BOUNCED, 550, "5.7.30",
			   MXTLS_RESULT_OK,
			   "REQUIRETLS is required, and no MX host is authenticated by DANE or "
			   "MTA-STS");
		return;
	}
	/* No host is left: defer, never bounce for a TLS reason (RFC 7672 §2.2, RFC 8461 §5). */
	if (j->last_detail[0] == '\0')
		snprintf(j->last_detail, sizeof j->last_detail, "no MX host could be used");
	settle_all(j, DELIVER_DEFERRED, 451,
		   j->last_result != MXTLS_RESULT_OK ? "4.7.5" : "4.4.1", j->last_result,
		   j->last_detail);
}

static void on_decision(void *arg, struct decision *d)
{
	struct domain_job *j = arg;
	j->dq = NULL;
	j->d = d;
	if (d == NULL) {
		settle_all(j, DELIVER_DEFERRED, 451, "4.3.0", MXTLS_RESULT_OK,
			   "out of memory while deciding");
		return;
	}
	enum mxtls_result rt;
	const char *code;
	if (deliver_tlsrpt_discovery_failed(d->sts, &rt, &code))
		/* RFC 8460 §4.3.2: the policy could not be fetched or was invalid. */
		report(j, NULL, NULL, rt, code, NULL);
	switch (d->mode) {
	case MODE_UNDELIVERABLE:
		/* RFC 7505 §4.2 (null MX, 5.1.10) and RFC 5321 §5.1 (no such domain, 5.1.2). */
		if (d->mx.status == MX_LOOKUP_NULL_MX)
			settle_all(j, DELIVER_BOUNCED, 556, "5.1.10", MXTLS_RESULT_OK, d->why);
		else
			settle_all(j, DELIVER_BOUNCED, 550, "5.1.2", MXTLS_RESULT_OK, d->why);
		return;
	case MODE_TEMPFAIL:
		settle_all(j, DELIVER_DEFERRED, 451, "4.4.3", MXTLS_RESULT_OK, d->why);
		return;
	default:
		try_next(j);
		return;
	}
}

/* A forward-path's domain (after the last '@'), or NULL. */
static const char *domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');
	return at != NULL && at != addr && at[1] != '\0' ? at + 1 : NULL;
}

static bool has_8bit(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

/* The job of domain canon, added when new. */
static struct domain_job *job_for(struct deliver_run *run, const char *canon)
{
	for (size_t k = 0; k < run->njobs; k++)
		if (strcmp(run->jobs[k].domain, canon) == 0)
			return &run->jobs[k];
	struct domain_job *j = &run->jobs[run->njobs++];
	j->run = run;
	snprintf(j->domain, sizeof j->domain, "%s", canon);
	return j;
}

/* The transaction of message m in job j, added when new (messages come in order, so it is
 * the last one or none). */
static struct job_txn *txn_for(struct domain_job *j, size_t m)
{
	if (j->ntx > 0 && j->tx[j->ntx - 1].msg == m)
		return &j->tx[j->ntx - 1];
	struct job_txn *tx = &j->tx[j->ntx++];
	tx->msg = m;
	return tx;
}

/* Splits the recipients by domain, one job each, and each job by message, one transaction
 * each.  Two passes: the first counts (every array is sized for what it holds), the second
 * fills in.  which[i] is the job of result i. */
static int group(struct deliver_run *run)
{
	size_t *which = calloc(run->nresults, sizeof *which);
	size_t *last = calloc(run->nresults, sizeof *last); /* per job: last message + 1 */
	run->jobs = calloc(run->nresults, sizeof *run->jobs);
	if (which == NULL || last == NULL || run->jobs == NULL) {
		free(which);
		free(last);
		return MXTLS_E_NOMEM;
	}
	int rc = MXTLS_OK;
	for (size_t m = 0, i = 0; m < run->nmsgs && rc == MXTLS_OK; m++) {
		for (size_t k = 0; k < run->msgs[m].m.nrcpts; k++, i++) {
			const char *a = run->msgs[m].m.rcpts[k];
			const char *dom = smtp_path_ok(a, false) ? domain_of(a) : NULL;
			char canon[DNS_NAME_TEXT_MAX];
			if (dom == NULL || !util_dnsname_canon(dom, strlen(dom), canon, sizeof canon)) {
				rc = MXTLS_E_INVAL;
				break;
			}
			struct domain_job *j = job_for(run, canon);
			which[i] = (size_t)(j - run->jobs);
			if (last[which[i]] != m + 1) { /* this message's first recipient here */
				last[which[i]] = m + 1;
				j->ntx++;
			}
		}
	}
	free(last);
	for (size_t k = 0; k < run->njobs && rc == MXTLS_OK; k++) {
		struct domain_job *j = &run->jobs[k];
		j->tx = calloc(j->ntx, sizeof *j->tx);
		j->live = calloc(j->ntx, sizeof *j->live);
		j->live_tx = calloc(j->ntx, sizeof *j->live_tx);
		if (j->tx == NULL || j->live == NULL || j->live_tx == NULL)
			rc = MXTLS_E_NOMEM;
	}
	/* Count the recipients of each transaction, then fill them in. */
	for (int pass = 0; pass < 2 && rc == MXTLS_OK; pass++) {
		for (size_t k = 0; k < run->njobs; k++)
			run->jobs[k].ntx = 0;
		for (size_t m = 0, i = 0; m < run->nmsgs; m++) {
			for (size_t k = 0; k < run->msgs[m].m.nrcpts; k++, i++) {
				struct job_txn *tx = txn_for(&run->jobs[which[i]], m);
				if (pass == 0) {
					tx->n++;
					continue;
				}
				tx->idx[tx->n] = i;
				tx->rcpts[tx->n] = run->msgs[m].m.rcpts[k];
				tx->n++;
			}
		}
		for (size_t k = 0; pass == 0 && k < run->njobs; k++) {
			struct domain_job *j = &run->jobs[k];
			for (size_t t = 0; t < j->ntx; t++) {
				struct job_txn *tx = &j->tx[t];
				tx->idx = calloc(tx->n, sizeof *tx->idx);
				tx->rcpts = calloc(tx->n, sizeof *tx->rcpts);
				tx->briefs = calloc(tx->n, sizeof *tx->briefs);
				if (tx->idx == NULL || tx->rcpts == NULL || tx->briefs == NULL)
					rc = MXTLS_E_NOMEM;
				tx->n = 0;
			}
		}
	}
	free(which);
	return rc;
}

/* Takes req's messages into run->msgs, encoded for DATA. */
static int take_messages(struct deliver_run *run, const struct deliver_req *req)
{
	run->nmsgs = 1 + req->nmore;
	run->msgs = calloc(run->nmsgs, sizeof *run->msgs);
	if (run->msgs == NULL)
		return MXTLS_E_NOMEM;
	int rc = MXTLS_OK;
	for (size_t i = 0; i < run->nmsgs; i++) {
		struct run_msg *m = &run->msgs[i];
		m->m = i == 0 ? (struct deliver_msg){.from = req->from,
						     .rcpts = req->rcpts,
						     .nrcpts = req->nrcpts,
						     .msg = req->msg,
						     .len = req->len}
			      : req->more[i - 1];
		util_buf_init(&m->payload, DELIVER_MESSAGE_MAX);
		if (rc != MXTLS_OK)
			continue;
		if (!smtp_path_ok(m->m.from, true) || m->m.rcpts == NULL || m->m.nrcpts == 0 ||
		    m->m.nrcpts > DELIVER_RCPTS_MAX ||
		    run->nresults + m->m.nrcpts > DELIVER_RESULTS_MAX) {
			rc = MXTLS_E_INVAL;
			continue;
		}
		m->first = run->nresults;
		run->nresults += m->m.nrcpts;
		rc = smtp_data_encode(m->m.msg, m->m.len, &m->payload, &m->info);
		/* RFC 6531 §3.2: a non-ASCII envelope address needs SMTPUTF8. */
		m->smtputf8 = has_8bit(m->m.from);
		for (size_t k = 0; k < m->m.nrcpts; k++)
			m->smtputf8 = m->smtputf8 || has_8bit(m->m.rcpts[k]);
	}
	return rc;
}

int deliver_start(struct event_base *base, struct dns_resolver *r, struct sts_fetcher *f,
		  struct sts_cache *c, const struct dane_pkix *pkix, const struct deliver_req *req,
		  deliver_callback cb, void *arg, struct deliver_run **out)
{
	/* What the SMTP client would refuse is refused here: a bad EHLO name or address is the
	 * caller's error, not a reason to defer the message at every host. */
	if (base == NULL || r == NULL || f == NULL || c == NULL || req == NULL || cb == NULL ||
	    !smtp_helo_ok(req->helo) || (req->nmore > 0 && req->more == NULL) ||
	    req->nmore >= DELIVER_RESULTS_MAX)
		return MXTLS_E_INVAL;
	struct deliver_run *run = calloc(1, sizeof *run);
	if (run == NULL)
		return MXTLS_E_NOMEM;
	run->base = base;
	run->r = r;
	run->f = f;
	run->c = c;
	run->pkix = pkix;
	run->req = *req;
	run->cb = cb;
	run->arg = arg;
	int rc = take_messages(run, req);
	run->req.more = NULL; /* copied into run->msgs; the caller's array may go now */
	run->req.nmore = 0;
	if (rc == MXTLS_OK) {
		run->results = calloc(run->nresults, sizeof *run->results);
		run->ev_done = event_new(base, -1, 0, on_all_done, run);
		if (run->results == NULL || run->ev_done == NULL)
			rc = MXTLS_E_NOMEM;
	}
	if (rc == MXTLS_OK)
		rc = group(run);
	if (rc != MXTLS_OK) {
		run_free(run);
		return rc;
	}
	run->pending = run->njobs;
	for (size_t k = 0; k < run->njobs; k++) {
		struct domain_job *j = &run->jobs[k];
		struct decision_req dr = {.domain = j->domain, .now = req->now, .log = req->log,
					  .log_id = req->log_id};
		rc = decision_start(r, f, c, &dr, on_decision, j, &j->dq);
		if (rc != MXTLS_OK) {
			/* This domain cannot be decided now; the others go on. */
			snprintf(j->last_detail, sizeof j->last_detail, "cannot start the lookups: %s",
				 mxtls_strerror(rc));
			settle_all(j, DELIVER_DEFERRED, 451, "4.3.0", MXTLS_RESULT_OK, j->last_detail);
		}
	}
	if (out != NULL)
		*out = run;
	return MXTLS_OK;
}

void deliver_cancel(struct deliver_run *run)
{
	if (run != NULL)
		run_free(run);
}
