/* SPDX-License-Identifier: MIT */
/* Delivery of one message to its recipients' MX hosts, enforcing each domain's decision. */
#include "validator/deliver.h"

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

/* The recipients of one domain, and where their delivery stands. */
struct domain_job {
	struct deliver_run *run;
	char domain[DNS_NAME_TEXT_MAX];
	size_t *idx;               /* indices into req->rcpts */
	const char **rcpts;
	struct smtp_brief *briefs;
	size_t n;
	struct decision_run *dq;
	struct decision *d;
	size_t host, addr;         /* the next candidate */
	bool cleartext_retry;      /* this attempt is the cleartext retry of the same address */
	bool attempted;            /* some host was contacted: its failure is the one reported */
	bool tls_failed;           /* ... unless a host failed TLS first: that one (note_failure) */
	struct smtp_session *sess;
	struct smtp_txn txn;
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
	struct util_buf payload;
	struct smtp_data_info info;
	bool smtputf8;
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
		free(j->idx);
		free(j->rcpts);
		free(j->briefs);
	}
	if (run->ev_done != NULL)
		event_free(run->ev_done);
	util_buf_free(&run->payload);
	free(run->jobs);
	free(run->results);
	free(run);
}

static void on_all_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct deliver_run *run = arg;
	run->cb(run->arg, run->results, run->req.nrcpts);
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

/* Every recipient of j gets the same outcome, made up locally. */
static void settle_all(struct domain_job *j, enum deliver_status st, int code, const char *enh,
		       enum mxtls_result rt, const char *detail)
{
	for (size_t k = 0; k < j->n; k++) {
		struct deliver_rcpt *res = &j->run->results[j->idx[k]];
		res->status = st;
		snprintf(res->mx, sizeof res->mx, "%s", j->last_mx);
		res->tls = false;
		res->has_security = j->last_has_security;
		res->security = j->last_security;
		/* The reply is ours: no server refused this recipient.  The detail names the
		 * last host and what went wrong there (with the server's words, if any). */
		res->reply = (struct smtp_brief){.code = code, .local = true};
		snprintf(res->reply.enhanced, sizeof res->reply.enhanced, "%s", enh);
		snprintf(res->reply.text, sizeof res->reply.text, "%s %.*s", enh,
			 (int)(sizeof res->reply.text - 16), detail);
		res->result_type = rt;
		snprintf(res->detail, sizeof res->detail, "%s", detail);
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

static void on_session(void *arg, const struct smtp_session_result *sr)
{
	struct domain_job *j = arg;
	struct deliver_run *run = j->run;
	j->sess = NULL;
	const struct decision_host *h = &j->d->hosts[j->host];
	log_kv(run, MXTLS_LOG_INFO, "attempt", "domain", j->domain, "host", h->name, "security",
	       decision_security_name(h->security), "tls", sr->tls ? "yes" : "no", "stage",
	       smtp_stage_name(sr->stage), "why", sr->reason, NULL);
	if (j->txn.done) {
		/* The transaction ran: each recipient has the server's own answer. */
		for (size_t k = 0; k < j->n; k++) {
			struct deliver_rcpt *res = &run->results[j->idx[k]];
			struct smtp_brief b = j->briefs[k];
			if (b.code >= 200 && b.code < 300)
				b = j->txn.data; /* accepted at RCPT: the final word is DATA's */
			res->reply = b;
			res->status = b.code >= 200 && b.code < 300   ? DELIVER_DELIVERED
				      : b.code >= 500 && b.code < 600 ? DELIVER_BOUNCED
								      : DELIVER_DEFERRED;
			snprintf(res->mx, sizeof res->mx, "%s", h->name);
			res->tls = sr->tls;
			res->has_security = true;
			res->security = h->security;
			res->result_type = MXTLS_RESULT_OK;
			snprintf(res->detail, sizeof res->detail, "%s %s%s", b.code >= 200 && b.code < 300
				 ? "accepted by" : "refused by", h->name, sr->tls ? " over TLS"
				 : " in cleartext");
		}
		job_done(j);
		return;
	}
	/* The session ended before the transaction: remember why, and try elsewhere. */
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

/* The next usable host and address in preference order, or the end of the line. */
static void try_next(struct domain_job *j)
{
	struct deliver_run *run = j->run;
	struct decision *d = j->d;
	bool optional = run->req.tls_optional;
	for (; j->host < d->nhosts; j->host++, j->addr = 0, j->cleartext_retry = false) {
		struct decision_host *h = &d->hosts[j->host];
		if (h->security == SEC_UNREACHABLE || (h->security == SEC_EXCLUDED && !optional)) {
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
			.txns = &j->txn,
			.ntxns = 1,
		};
		memcpy(sreq.addr, a->addr, sizeof sreq.addr);
		int rc = smtp_session_start(run->base, &sreq, on_session, j, &j->sess);
		if (rc == MXTLS_OK)
			return;
		const struct smtp_brief none = {0};
		note_failure(j, h, MXTLS_RESULT_OK, mxtls_strerror(rc), &none);
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

/* Splits the recipients by domain, one job each; every job's arrays are sized for its own
 * recipients (the job of each recipient is found first, then they are filled in). */
static int group(struct deliver_run *run)
{
	const struct deliver_req *req = &run->req;
	run->jobs = calloc(req->nrcpts, sizeof *run->jobs);
	size_t *which = calloc(req->nrcpts, sizeof *which); /* the job of each recipient */
	int rc = run->jobs != NULL && which != NULL ? MXTLS_OK : MXTLS_E_NOMEM;
	for (size_t i = 0; i < req->nrcpts && rc == MXTLS_OK; i++) {
		const char *dom = smtp_path_ok(req->rcpts[i], false) ? domain_of(req->rcpts[i]) : NULL;
		char canon[DNS_NAME_TEXT_MAX];
		if (dom == NULL || !util_dnsname_canon(dom, strlen(dom), canon, sizeof canon)) {
			rc = MXTLS_E_INVAL;
			break;
		}
		size_t k = 0;
		while (k < run->njobs && strcmp(run->jobs[k].domain, canon) != 0)
			k++;
		if (k == run->njobs) {
			run->njobs++;
			run->jobs[k].run = run;
			memcpy(run->jobs[k].domain, canon, sizeof canon);
		}
		which[i] = k;
		run->jobs[k].n++;
	}
	for (size_t k = 0; k < run->njobs && rc == MXTLS_OK; k++) {
		struct domain_job *j = &run->jobs[k];
		j->idx = calloc(j->n, sizeof *j->idx);
		j->rcpts = calloc(j->n, sizeof *j->rcpts);
		j->briefs = calloc(j->n, sizeof *j->briefs);
		if (j->idx == NULL || j->rcpts == NULL || j->briefs == NULL)
			rc = MXTLS_E_NOMEM;
		j->n = 0;
	}
	for (size_t i = 0; i < req->nrcpts && rc == MXTLS_OK; i++) {
		struct domain_job *j = &run->jobs[which[i]];
		j->idx[j->n] = i;
		j->rcpts[j->n] = req->rcpts[i];
		j->n++;
	}
	free(which);
	if (rc != MXTLS_OK)
		return rc;
	for (size_t k = 0; k < run->njobs; k++) {
		struct domain_job *j = &run->jobs[k];
		j->txn = (struct smtp_txn){
			.mail_from = req->from,
			.rcpts = j->rcpts,
			.nrcpts = j->n,
			.payload = &run->payload,
			.info = run->info,
			.smtputf8 = run->smtputf8,
			.rcpt = j->briefs,
		};
	}
	return MXTLS_OK;
}

int deliver_start(struct event_base *base, struct dns_resolver *r, struct sts_fetcher *f,
		  struct sts_cache *c, const struct dane_pkix *pkix, const struct deliver_req *req,
		  deliver_callback cb, void *arg, struct deliver_run **out)
{
	/* What the SMTP client would refuse is refused here: a bad EHLO name or address is the
	 * caller's error, not a reason to defer the message at every host. */
	if (base == NULL || r == NULL || f == NULL || c == NULL || req == NULL || cb == NULL ||
	    !smtp_path_ok(req->from, true) || !smtp_helo_ok(req->helo) || req->rcpts == NULL)
		return MXTLS_E_INVAL;
	if (req->nrcpts == 0 || req->nrcpts > DELIVER_RCPTS_MAX)
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
	util_buf_init(&run->payload, DELIVER_MESSAGE_MAX);
	int rc = smtp_data_encode(req->msg, req->len, &run->payload, &run->info);
	/* RFC 6531 §3.2: a non-ASCII envelope address needs SMTPUTF8. */
	run->smtputf8 = has_8bit(req->from);
	for (size_t i = 0; i < req->nrcpts; i++)
		run->smtputf8 = run->smtputf8 || has_8bit(req->rcpts[i]);
	run->results = calloc(req->nrcpts, sizeof *run->results);
	run->ev_done = event_new(base, -1, 0, on_all_done, run);
	if (rc == MXTLS_OK && (run->results == NULL || run->ev_done == NULL))
		rc = MXTLS_E_NOMEM;
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
