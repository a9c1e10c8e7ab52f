/* SPDX-License-Identifier: MIT */
/*
 * mxtls_tlsrpt_send(): a day's TLS reports to their destinations (RFC 8460 §3, §5).
 *
 * Each report is built once and kept in the store's outbox (tlsrpt_outbox.c) before anything
 * is sent, so that every later attempt sends the same bytes with the same report-id and a run
 * that is repeated (the timer fires again, an operator runs it by hand) sends nothing twice.
 * Per report and attempt: the _smtp._tls record is looked up now (§3 does not let a sender
 * cache it past its TTL, and a run a day apart gains nothing from caching), then every rua
 * destination is tried in the record's order; one acceptance delivers the report (§3: "not
 * delivered until one endpoint accepted it").  Mail reports are handed to this state
 * directory's queue (tlsrpt/ never includes delivery/; this file joins them), HTTPS reports
 * are POSTed through http/.  The lookups and uploads run one at a time: a send run handles a
 * day's few hundred domains at most, once a day, so simplicity wins over concurrency here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

#include <mxtls/error.h>
#include <mxtls/queue.h>
#include <mxtls/tlsrpt.h>

#include "delivery/delivery_queue.h"
#include "delivery/delivery_tlsrpt.h"
#include "delivery/delivery_tlsrpt_fleet.h"
#include "tlsrpt/tlsrpt_mail.h"
#include "tlsrpt/tlsrpt_outbox.h"
#include "tlsrpt/tlsrpt_report.h"
#include "tlsrpt/tlsrpt_rua.h"
#include "util/util_errmsg.h"
#include "util/util_log.h"
#include "validator/mxtls_ctx.h"
#include "validator/report_io.h"

const char *mxtls_tlsrpt_send_status_name(enum mxtls_tlsrpt_send_status s)
{
	switch (s) {
	case MXTLS_TLSRPT_SENT: return "sent";
	case MXTLS_TLSRPT_ALREADY_SENT: return "already-sent";
	case MXTLS_TLSRPT_RETRY: return "retry";
	case MXTLS_TLSRPT_GAVE_UP: return "gave-up";
	case MXTLS_TLSRPT_NO_DESTINATION: return "no-destination";
	case MXTLS_TLSRPT_SKIPPED: return "skipped";
	}
	return "unknown";
}

void mxtls_tlsrpt_sent_free(struct mxtls_tlsrpt_sent *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].domain);
		free(v[i].detail);
	}
	free(v);
}

/* What one run needs, beside the context. */
struct send_run {
	struct mxtls_ctx *ctx;
	const struct mxtls_tlsrpt_send_opts *opts;
	char submitter[256];
	struct tlsrpt_store *st;
	struct mxtls_queue *q; /* opened on the first mail destination */
	int64_t now;
};

/* Appends "; text" (or text) to the one-line detail d (cap bytes). */
static void add_detail(char *d, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add_detail(char *d, size_t cap, const char *fmt, ...)
{
	size_t used = strlen(d);
	if (used > 0 && used + 2 < cap) {
		memcpy(d + used, "; ", 3);
		used += 2;
	}
	if (used + 1 >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d + used, cap - used, fmt, ap);
	va_end(ap);
	for (char *c = d + used; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
}

/*
 * RFC 8460 §3 discovery for domain: the TXT RRset at _smtp._tls.<domain>
 * (validator/report_io.c), then tlsrpt_rua_discover().  MXTLS_OK (*rua usable),
 * MXTLS_E_NOTFOUND (no record, several, an invalid one: the domain takes no reports; why says
 * so), MXTLS_E_TEMPFAIL (the lookup failed: try again later), MXTLS_E_NOMEM.
 */
static int discover(struct send_run *run, const char *domain, struct tlsrpt_rua *rua, char *why,
		    size_t whylen)
{
	struct report_txt txt;
	int rc = report_txt_lookup(run->ctx, domain, &txt, why, whylen);
	if (rc == MXTLS_E_INVAL)
		return MXTLS_E_NOTFOUND;
	if (rc != MXTLS_OK)
		return rc;
	struct tlsrpt_rua_span spans[REPORT_TXT_MAX];
	for (size_t i = 0; i < txt.n; i++)
		spans[i] = (struct tlsrpt_rua_span){txt.rec[i], txt.len[i]};
	rc = tlsrpt_rua_discover(spans, txt.n, rua);
	if (rc != MXTLS_OK && rc != MXTLS_E_NOMEM) {
		if (txt.n > 0 || why[0] == '\0')
			util_errmsg(why, whylen, "_smtp._tls.%s: %s", domain, rua->reason);
		rc = MXTLS_E_NOTFOUND;
	}
	report_txt_clear(&txt);
	return rc;
}

/* Whether the send options hold a dkim-key for domain ("DOMAIN:SELECTOR:KEYFILE"). */
static bool has_dkim_key(const struct mxtls_tlsrpt_send_opts *o, const char *domain)
{
	size_t dl = strlen(domain);
	for (size_t i = 0; o != NULL && i < o->ndkim_keys; i++) {
		const char *k = o->dkim_keys[i];
		const char *c = strchr(k, ':');
		size_t kl = c != NULL ? (size_t)(c - k) : 0;
		while (kl > 0 && k[kl - 1] == '.')
			kl--;
		if (kl == dl && strncasecmp(k, domain, dl) == 0)
			return true;
	}
	return false;
}

/* 16 random bytes as 32 hex digits (Message-ID and MIME boundary). */
static int random_hex(char out[33])
{
	uint8_t b[16];
	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
		return MXTLS_E_INTERNAL;
	for (size_t i = 0; i < sizeof b; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return MXTLS_OK;
}

/*
 * RFC 8460 §5.3: the report as mail to addr, queued in this state directory's queue (which
 * signs it with the reporting domain's dkim-key when it sends, and delivers it despite TLS
 * failures: TLS-Required: No, §3).  MXTLS_OK once it is durably queued.
 */
static int send_mail(struct send_run *run, const struct tlsrpt_outbox_row *row, const char *addr,
		     char *why, size_t whylen)
{
	struct mxtls_ctx *ctx = run->ctx;
	if (!has_dkim_key(run->opts, run->submitter)) {
		util_errmsg(why, whylen,
			    "mailto:%s: no dkim-key for %s (RFC 8460 §3: a mail report must be "
			    "DKIM-signed by the reporting domain)",
			    addr, run->submitter);
		return MXTLS_E_CONFIG;
	}
	char rnd[33], boundary[48], msgid[400];
	if (random_hex(rnd) != MXTLS_OK) {
		util_errmsg(why, whylen, "mailto:%s: no random bytes", addr);
		return MXTLS_E_INTERNAL;
	}
	snprintf(boundary, sizeof boundary, "tlsrpt-%s", rnd);
	snprintf(msgid, sizeof msgid, "tlsrpt.%s@%s", rnd, run->submitter);
	struct tlsrpt_mail_in in = {
		.policy_domain = row->domain,
		.submitter = run->submitter,
		.from = ctx->tlsrpt_contact,
		.to = addr,
		.date = run->now,
		.day = row->day,
		.message_id = msgid,
		.report_id = row->report_id,
		.boundary = boundary,
		.filename = row->filename,
		.report = row->report,
		.report_len = row->report_len,
	};
	char *msg = NULL;
	size_t len = 0;
	int rc = tlsrpt_mail_build(&in, &msg, &len);
	if (rc != MXTLS_OK) {
		util_errmsg(why, whylen, "mailto:%s: the report mail cannot be built: %s", addr,
			    mxtls_strerror(rc));
		return rc;
	}
	char qerr[256] = "";
	if (run->q == NULL)
		rc = mxtls_queue_open(ctx, 0, &run->q, qerr, sizeof qerr);
	char id[MXTLS_QUEUE_ID_SIZE] = "";
	if (rc == MXTLS_OK) {
		const char *rcpts[] = {addr};
		/* The envelope sender is the contact: a bounce of the report reaches a person. */
		struct delivery_envelope env = {.sender = ctx->tlsrpt_contact, .rcpts = rcpts, .n = 1};
		rc = delivery_queue_enqueue(run->q, &env, msg, len, id, qerr, sizeof qerr);
	}
	free(msg);
	if (rc != MXTLS_OK) {
		util_errmsg(why, whylen, "mailto:%s: not queued: %s", addr,
			    qerr[0] != '\0' ? qerr : mxtls_strerror(rc));
		return rc;
	}
	delivery_queue_wake(run->q);
	util_errmsg(why, whylen, "mailto:%s queued as %s", addr, id);
	return MXTLS_OK;
}

/* RFC 8460 §5.4: POST the gzipped report to url; only a 2xx is success. */
static int send_https(struct send_run *run, const struct tlsrpt_outbox_row *row, const char *url,
		      char *why, size_t whylen)
{
	return report_https_post(run->ctx, url, row->report, row->report_len, why, whylen);
}

/* One attempt at row's delivery; row's state, times and texts are updated (not stored). */
static int attempt(struct send_run *run, struct tlsrpt_outbox_row *row, char *detail,
		   size_t cap)
{
	struct tlsrpt_rua rua;
	memset(&rua, 0, sizeof rua);
	char why[600] = "";
	int rc = discover(run, row->domain, &rua, why, sizeof why);
	if (rc == MXTLS_E_NOMEM)
		return rc;
	bool delivered = false;
	char where[600] = "";
	if (rc == MXTLS_E_NOTFOUND) {
		/* §3: no single valid record: the domain asked for no reports. */
		row->state = TLSRPT_OUTBOX_NO_DESTINATION;
		add_detail(detail, cap, "%s", why);
	} else if (rc == MXTLS_OK) {
		for (size_t i = 0; i < rua.ndest; i++) {
			why[0] = '\0';
			int r = rua.dest[i].kind == TLSRPT_DEST_MAILTO
					? send_mail(run, row, rua.dest[i].text, why, sizeof why)
					: send_https(run, row, rua.dest[i].text, why, sizeof why);
			if (r == MXTLS_E_NOMEM) {
				tlsrpt_rua_free(&rua);
				return r;
			}
			add_detail(detail, cap, "%s", why);
			if (r == MXTLS_OK && !delivered) {
				delivered = true;
				snprintf(where, sizeof where, "%s", rua.dest[i].text);
			}
		}
		for (size_t i = 0; i < rua.nskipped; i++)
			add_detail(detail, cap, "%s skipped: %s", rua.skipped[i].text,
				   rua.skipped[i].why);
	} else {
		add_detail(detail, cap, "%s", why);
	}
	tlsrpt_rua_free(&rua);
	row->attempts++;
	free(row->last_error);
	row->last_error = strdup(detail);
	if (delivered) {
		row->state = TLSRPT_OUTBOX_DELIVERED;
		free(row->delivered_to);
		row->delivered_to = strdup(where);
	} else if (row->state == TLSRPT_OUTBOX_PENDING) {
		int64_t next = tlsrpt_outbox_next_try(row->first_try, run->now, row->attempts);
		if (next < 0)
			row->state = TLSRPT_OUTBOX_GAVE_UP;
		else
			row->next_try = next;
	}
	return row->last_error != NULL && (!delivered || row->delivered_to != NULL)
		       ? MXTLS_OK
		       : MXTLS_E_NOMEM;
}

/* Where domain's report of day stands after this run, into *out.  fleet_day: the fleet's
 * merged results to report (fleet mode), NULL for this member's own. */
static int send_one(struct send_run *run, int64_t day, const char *domain,
		    const struct tlsrpt_day *fleet_day, struct mxtls_tlsrpt_sent *out, char *err,
		    size_t errlen)
{
	char detail[1500] = "";
	struct tlsrpt_outbox_row row;
	int rc = tlsrpt_outbox_get(run->st, day, domain, &row, err, errlen);
	if (rc == MXTLS_E_NOTFOUND) {
		struct delivery_tlsrpt_built b;
		rc = fleet_day != NULL ? delivery_tlsrpt_build_day(run->ctx, fleet_day, day, domain,
								   run->submitter, &b, err, errlen)
				       : delivery_tlsrpt_build(run->ctx, run->st, day, domain,
							       run->submitter, &b, err, errlen);
		if (rc != MXTLS_OK)
			return rc;
		if (b.json == NULL || (run->ctx->tlsrpt_failures_only && b.failures == 0)) {
			out->status = MXTLS_TLSRPT_SKIPPED;
			out->detail = strdup(b.json == NULL ? "no results"
							    : "no failures (tlsrpt-send = failures)");
			delivery_tlsrpt_built_clear(&b);
			return out->detail != NULL ? MXTLS_OK : MXTLS_E_NOMEM;
		}
		struct tlsrpt_outbox_row fresh = {
			.day = day,
			.domain = (char *)domain,
			.report_id = b.report_id,
			.filename = b.name,
			.report = b.gz,
			.report_len = b.gzlen,
			.state = TLSRPT_OUTBOX_PENDING,
			.first_try = run->now,
			.next_try = run->now,
		};
		rc = tlsrpt_outbox_add(run->st, &fresh, err, errlen);
		delivery_tlsrpt_built_clear(&b);
		if (rc == MXTLS_OK)
			rc = tlsrpt_outbox_get(run->st, day, domain, &row, err, errlen);
	}
	if (rc != MXTLS_OK)
		return rc;
	enum tlsrpt_outbox_state before = row.state;
	if (row.state == TLSRPT_OUTBOX_PENDING && row.next_try <= run->now) {
		rc = attempt(run, &row, detail, sizeof detail);
		if (rc == MXTLS_OK)
			rc = tlsrpt_outbox_update(run->st, &row, err, errlen);
		if (rc != MXTLS_OK) {
			tlsrpt_outbox_row_clear(&row);
			return rc;
		}
	} else {
		snprintf(detail, sizeof detail, "%s",
			 row.state == TLSRPT_OUTBOX_DELIVERED ? row.delivered_to : row.last_error);
	}
	switch (row.state) {
	case TLSRPT_OUTBOX_DELIVERED:
		out->status = before == TLSRPT_OUTBOX_PENDING ? MXTLS_TLSRPT_SENT
							      : MXTLS_TLSRPT_ALREADY_SENT;
		break;
	case TLSRPT_OUTBOX_NO_DESTINATION:
		out->status = MXTLS_TLSRPT_NO_DESTINATION;
		break;
	case TLSRPT_OUTBOX_GAVE_UP:
		out->status = MXTLS_TLSRPT_GAVE_UP;
		if (before == TLSRPT_OUTBOX_PENDING)
			util_log_kv(&run->ctx->log, MXTLS_LOG_ERROR, 0, "tlsrpt-gave-up", "domain",
				    domain, "report_id", row.report_id, "why", detail, NULL);
		break;
	case TLSRPT_OUTBOX_PENDING:
		out->status = MXTLS_TLSRPT_RETRY;
		out->next_try = row.next_try;
		break;
	}
	if (before == TLSRPT_OUTBOX_PENDING && row.state != TLSRPT_OUTBOX_GAVE_UP)
		util_log_kv(&run->ctx->log,
			    row.state == TLSRPT_OUTBOX_DELIVERED ? MXTLS_LOG_INFO : MXTLS_LOG_WARNING,
			    0, "tlsrpt-send", "domain", domain, "state",
			    tlsrpt_outbox_state_name(row.state), "detail", detail, NULL);
	out->detail = strdup(detail);
	tlsrpt_outbox_row_clear(&row);
	return out->detail != NULL ? MXTLS_OK : MXTLS_E_NOMEM;
}

/* Fleet mode: the member whose turn it is sends the fleet's merged report; the others say who. */
static int send_fleet_one(struct send_run *run, struct tlsrpt_fleet_run *fleet, int64_t day,
			  const char *domain, struct mxtls_tlsrpt_sent *out, char *err,
			  size_t errlen)
{
	struct tlsrpt_outbox_row row;
	int rc = tlsrpt_outbox_get(run->st, day, domain, &row, err, errlen);
	if (rc != MXTLS_OK && rc != MXTLS_E_NOTFOUND)
		return rc;
	bool have = rc == MXTLS_OK;
	if (have)
		tlsrpt_outbox_row_clear(&row);
	enum tlsrpt_fleet_turn turn;
	struct tlsrpt_day *merged = NULL;
	char holder[1200], detail[1400];
	rc = delivery_tlsrpt_fleet_turn(fleet, domain, have, &turn, &merged, holder,
					sizeof holder, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	if (err[0] != '\0') /* a member's copy was left out (garbage in Redis) */
		util_log_kv(&run->ctx->log, MXTLS_LOG_WARNING, 0, "tlsrpt-fleet-copy-rejected",
			    "domain", domain, "why", err, NULL);
	err[0] = '\0';
	switch (turn) {
	case TLSRPT_FLEET_OURS:
		rc = send_one(run, day, domain, merged, out, err, errlen);
		tlsrpt_day_free(merged);
		return rc;
	case TLSRPT_FLEET_THEIRS:
		out->status = MXTLS_TLSRPT_SKIPPED;
		snprintf(detail, sizeof detail, "sent by the fleet member %s", holder);
		break;
	case TLSRPT_FLEET_WAITING:
		out->status = MXTLS_TLSRPT_RETRY;
		out->next_try = run->now + 3600;
		snprintf(detail, sizeof detail, "waiting for the day's results of %s", holder);
		break;
	}
	out->detail = strdup(detail);
	return out->detail != NULL ? MXTLS_OK : MXTLS_E_NOMEM;
}

/* One send run per state directory at a time (an flock held for the run): two runs at once
 * could both find a report pending and send it twice. */
static int lock_run(struct mxtls_ctx *ctx, int *fd, char *err, size_t errlen)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/tlsrpt-send.lock", ctx->state_dir);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0) {
		util_errmsg(err, errlen, "%s: %s", path, strerror(errno));
		return MXTLS_E_IO;
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(*fd);
		*fd = -1;
		util_errmsg(err, errlen, "%s: %s", path,
			    e == EWOULDBLOCK ? "another tlsrpt send run is working" : strerror(e));
		return e == EWOULDBLOCK ? MXTLS_E_TEMPFAIL : MXTLS_E_IO;
	}
	return MXTLS_OK;
}

int mxtls_tlsrpt_send(struct mxtls_ctx *ctx, const char *day,
		      const struct mxtls_tlsrpt_send_opts *opts, struct mxtls_tlsrpt_sent **out,
		      size_t *n, char *err, size_t errlen)
{
	if (ctx == NULL || day == NULL || out == NULL || n == NULL)
		return MXTLS_E_INVAL;
	*out = NULL;
	*n = 0;
	int64_t dn;
	if (tlsrpt_day_parse(day, &dn) != MXTLS_OK) {
		util_errmsg(err, errlen, "'%s' is not a day YYYY-MM-DD", day);
		return MXTLS_E_INVAL;
	}
	struct send_run run = {.ctx = ctx, .opts = opts, .now = mxtls_ctx_now(ctx)};
	if (run.now / TLSRPT_DAY_SECONDS < dn) {
		util_errmsg(err, errlen, "%s has not begun yet (UTC)", day);
		return MXTLS_E_INVAL;
	}
	int rc = delivery_tlsrpt_settings(ctx, run.submitter, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	if (ctx->state_dir == NULL) {
		util_errmsg(err, errlen, "no state-dir: there are no results to send");
		return MXTLS_E_CONFIG;
	}
	rc = delivery_tlsrpt_store(ctx, false, &run.st, err, errlen);
	if (rc == MXTLS_E_NOTFOUND)
		return MXTLS_OK; /* nothing was ever recorded */
	if (rc != MXTLS_OK)
		return rc;
	int lock = -1;
	if ((rc = lock_run(ctx, &lock, err, errlen)) != MXTLS_OK)
		return rc;
	char **domains = NULL;
	size_t nd = 0;
	/* Fleet mode (doc/fleet.md): this member gives its day to the fleet first; the domains
	 * are then the fleet's. */
	struct tlsrpt_fleet_run *fleet = NULL;
	if (ctx->shared != NULL)
		rc = delivery_tlsrpt_fleet_begin(ctx, run.st, dn, run.submitter, run.now, &fleet,
						 &domains, &nd, err, errlen);
	else
		rc = tlsrpt_store_domains(run.st, dn, &domains, &nd, err, errlen);
	struct mxtls_tlsrpt_sent *v = nd > 0 ? calloc(nd, sizeof *v) : NULL;
	if (rc == MXTLS_OK && nd > 0 && v == NULL)
		rc = MXTLS_E_NOMEM;
	size_t k = 0;
	for (size_t i = 0; rc == MXTLS_OK && i < nd; i++) {
		v[k].domain = domains[i];
		domains[i] = NULL;
		rc = fleet != NULL ? send_fleet_one(&run, fleet, dn, v[k].domain, &v[k], err, errlen)
				   : send_one(&run, dn, v[k].domain, NULL, &v[k], err, errlen);
		k++;
	}
	if (rc == MXTLS_OK && ctx->tlsrpt_keep_days > 0)
		rc = mxtls_tlsrpt_prune(ctx, ctx->tlsrpt_keep_days, err, errlen);
	tlsrpt_strings_free(domains, nd);
	delivery_tlsrpt_fleet_end(fleet);
	if (run.q != NULL)
		mxtls_queue_close(run.q);
	close(lock);
	if (rc != MXTLS_OK) {
		mxtls_tlsrpt_sent_free(v, k);
		return rc;
	}
	*out = v;
	*n = k;
	return MXTLS_OK;
}
