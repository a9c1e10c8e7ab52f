/* SPDX-License-Identifier: MIT */
/* mxtls_queue_submit: the sendmail(1) rules, then the durable write order of the spool. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <mxtls/error.h>

#include "delivery/delivery_addrlist.h"
#include "delivery/delivery_drop.h"
#include "delivery/delivery_header.h"
#include "delivery/delivery_id.h"
#include "delivery/delivery_input.h"
#include "delivery/delivery_mailbox.h"
#include "delivery/delivery_queue.h"
#include "util/util_log.h"
#include "validator/mxtls_ctx.h"

/* Recipients collected from the arguments and (with -t) the header, without duplicates. */
struct rcpts {
	char *v[MXTLS_QUEUE_RCPT_MAX];
	size_t n;
	const char *host;
	int fail_rc;       /* what a bad address is: MXTLS_E_INVAL (argument), _SYNTAX (header) */
	const char *where; /* "recipient", "To", ... */
	char *err;
	size_t errlen;
};

static void rcpts_free(struct rcpts *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i]);
	r->n = 0;
}

/* "user" + "@" + host for an address without a domain (sendmail qualifies them so). */
static int qualify(const char *addr, size_t len, bool has_domain, const char *host, char *out,
		   size_t outlen)
{
	int n = has_domain ? snprintf(out, outlen, "%.*s", (int)len, addr)
			   : snprintf(out, outlen, "%.*s@%s", (int)len, addr, host);
	return n >= 0 && (size_t)n < outlen ? MXTLS_OK : MXTLS_E_LIMIT;
}

static int add_rcpt(void *arg, const char *addr, size_t len, bool has_domain)
{
	struct rcpts *r = arg;
	char full[DELIVERY_ADDRSPEC_MAX + 300];
	const char *why = qualify(addr, len, has_domain, r->host, full, sizeof full) == MXTLS_OK
				  ? delivery_mailbox_check(full, strlen(full))
				  : "too long";
	if (why != NULL) {
		snprintf(r->err, r->errlen, "%s: address '%.*s': %s", r->where, (int)len, addr,
			 why);
		return r->fail_rc;
	}
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i], full) == 0)
			return MXTLS_OK;
	if (r->n == MXTLS_QUEUE_RCPT_MAX) {
		snprintf(r->err, r->errlen, "more than %d recipients", MXTLS_QUEUE_RCPT_MAX);
		return MXTLS_E_LIMIT;
	}
	if ((r->v[r->n] = strdup(full)) == NULL)
		return MXTLS_E_NOMEM;
	r->n++;
	return MXTLS_OK;
}

static int parse_list(struct rcpts *r, const char *p, size_t len)
{
	const char *why;
	int rc = delivery_addrlist_parse(p, len, add_rcpt, r, &why);
	if (rc != MXTLS_OK && why != NULL && why[0] != '\0')
		snprintf(r->err, r->errlen, "%s: %s", r->where, why);
	if (rc == MXTLS_E_SYNTAX || rc == MXTLS_E_LIMIT)
		return r->fail_rc == MXTLS_E_INVAL ? MXTLS_E_INVAL : rc;
	return rc;
}

/* -t: the addresses of every To, Cc and Bcc field (RFC 5322 §3.6.3). */
static int rcpts_from_header(struct rcpts *r, const char *msg, size_t len)
{
	struct delivery_field f;
	size_t pos = 0;
	bool blank;
	struct util_buf v;
	util_buf_init(&v, MXTLS_QUEUE_MESSAGE_MAX);
	int rc = MXTLS_OK;
	r->fail_rc = MXTLS_E_SYNTAX;
	while (rc == MXTLS_OK && delivery_header_next(msg, len, &pos, &f, &blank)) {
		static const char *const names[] = {"To", "Cc", "Bcc"};
		for (size_t i = 0; rc == MXTLS_OK && i < 3; i++) {
			if (!delivery_field_is(&f, names[i]))
				continue;
			util_buf_reset(&v);
			r->where = names[i];
			rc = delivery_field_unfold(&f, &v);
			if (rc == MXTLS_OK)
				rc = parse_list(r, v.data != NULL ? v.data : "", v.len);
		}
	}
	util_buf_free(&v);
	return rc;
}

/* The envelope sender: "" for the null sender, else a checked (qualified) mailbox. */
static int take_sender(const struct mxtls_submission *s, const char *host, char *out, size_t outlen,
		       char *err, size_t errlen)
{
	const char *p = s->sender;
	if (p == NULL) {
		if (qualify(s->login, strlen(s->login), false, host, out, outlen) != MXTLS_OK)
			goto bad;
	} else {
		size_t len = strlen(p);
		if (len >= 2 && p[0] == '<' && p[len - 1] == '>')
			p++, len -= 2;
		if (len == 0) {
			out[0] = '\0';
			return MXTLS_OK;
		}
		if (qualify(p, len, memchr(p, '@', len) != NULL, host, out, outlen) != MXTLS_OK)
			goto bad;
	}
	const char *why = delivery_mailbox_check(out, strlen(out));
	if (why == NULL)
		return MXTLS_OK;
	snprintf(err, errlen, "sender '%s': %s", out, why);
	return MXTLS_E_INVAL;
bad:
	snprintf(err, errlen, "sender: too long");
	return MXTLS_E_INVAL;
}

/*
 * A fresh id: the wall-clock time in microseconds and 28 random bits.  Not the context's
 * clock: a pinned clock (tests) would make ids of one second unordered, and seconds from one
 * clock with microseconds from another go backwards at a second boundary.
 */
static void new_id(char id[DELIVERY_ID_LEN + 1])
{
	struct timespec ts;
	uint32_t rnd = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		rnd = (uint32_t)ts.tv_nsec ^ (uint32_t)getpid() << 8;
	uint64_t usec = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	delivery_id_format(usec, rnd, id);
}

/* The message as it is queued: fields added, Bcc removed. */
static int build(const struct mxtls_submission *s, const char *id, const char *host,
		 const char *sender, const struct util_buf *in, int64_t now, struct util_buf *out)
{
	struct delivery_has has;
	delivery_header_has(in->data, in->len, &has);
	char date[40], mid[DELIVERY_ID_LEN + 300], addr[DELIVERY_ADDRSPEC_MAX + 300];
	struct util_buf from;
	util_buf_init(&from, 4096);
	delivery_header_date(now, date);
	snprintf(mid, sizeof mid, "<%s@%s>", id, host);
	int rc = MXTLS_OK;
	if (!has.from) {
		if (sender[0] != '\0')
			snprintf(addr, sizeof addr, "%s", sender);
		else
			qualify(s->login, strlen(s->login), false, host, addr, sizeof addr);
		rc = delivery_header_from(s->full_name, addr, &from);
	}
	struct delivery_fixup fx = {
		.date = has.date ? NULL : date,
		.message_id = has.message_id ? NULL : mid,
		.from = has.from ? NULL : from.data,
		.remove_bcc = true,
	};
	if (rc == MXTLS_OK)
		rc = delivery_header_fixup(in->data, in->len, &fx, out);
	util_buf_free(&from);
	return rc;
}

/* Body file, then index rows; undoes the body when the rows cannot be added. */
static int store(struct mxtls_queue *q, const char *id, const struct delivery_envelope *e,
		 const void *data, size_t len, int64_t now, char *err, size_t errlen)
{
	int rc = e->use_reserve ? MXTLS_OK : delivery_spool_room(&q->spool, len, err, errlen);
	if (rc == MXTLS_OK)
		rc = delivery_spool_write_temp(&q->spool, id, data, len, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	enum delivery_fault f = delivery_queue_fault(q, DELIVERY_FAULT_TEMP_WRITTEN);
	if (f == DELIVERY_FAULT_CRASH)
		return MXTLS_E_INTERNAL;
	if (f == DELIVERY_FAULT_FAIL) {
		delivery_spool_remove(&q->spool, id);
		snprintf(err, errlen, "injected failure after the body write");
		return MXTLS_E_IO;
	}
	rc = delivery_spool_commit(&q->spool, id, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	f = delivery_queue_fault(q, DELIVERY_FAULT_BODY_DURABLE);
	if (f == DELIVERY_FAULT_CRASH)
		return MXTLS_E_INTERNAL;
	struct delivery_msg_row row = {.id = id,
				       .sender = e->sender,
				       .size = (int64_t)len,
				       .queued_at = now,
				       .requiretls = e->requiretls,
				       .tls_optional = delivery_header_tls_required_no(data, len),
				       .tlsrpt_report = delivery_header_is_tls_report(data, len)};
	if (f == DELIVERY_FAULT_FAIL) {
		snprintf(err, errlen, "injected failure before the index commit");
		rc = MXTLS_E_IO;
	} else {
		rc = delivery_index_insert(q->index, &row, e->rcpts, e->n, err, errlen);
	}
	if (rc != MXTLS_OK)
		delivery_spool_remove(&q->spool, id);
	return rc;
}

/* What the sendmail rules make of a submission before it is stored. */
struct prepared {
	char host[256];
	char sender[DELIVERY_ADDRSPEC_MAX + 300];
	struct rcpts *r;
	struct util_buf in; /* the message: CRLF, cut at a lone dot, a warning field first */
};

static void prepared_free(struct prepared *p)
{
	if (p->r != NULL) {
		rcpts_free(p->r);
		free(p->r);
		p->r = NULL;
	}
	util_buf_free(&p->in);
}

/* A login name that may appear in a header field as it is: printable ASCII, no space or ':'. */
static bool login_plain(const char *login)
{
	for (const char *c = login; *c != '\0'; c++)
		if (*c <= ' ' || *c > '~' || *c == ':')
			return false;
	return true;
}

/*
 * sendmail's X-Authentication-Warning for a sender set with -f by an untrusted user (one
 * submitting through the maildrop), unless it is the user's own LOGIN@HOST: the envelope and
 * From then say what the user chose, and this field says who chose it.
 */
static int warn_sender(const struct mxtls_submission *s, const struct prepared *p,
		       struct util_buf *out)
{
	char own[DELIVERY_ADDRSPEC_MAX + 300];
	if (s->sender == NULL ||
	    (qualify(s->login, strlen(s->login), false, p->host, own, sizeof own) == MXTLS_OK &&
	     strcmp(own, p->sender) == 0))
		return MXTLS_OK;
	int rc = util_buf_append_str(out, "X-Authentication-Warning: ");
	if (rc == MXTLS_OK)
		rc = util_buf_append_str(out, p->host);
	if (rc == MXTLS_OK)
		rc = util_buf_append_str(out, ": ");
	if (rc == MXTLS_OK)
		rc = util_buf_append_str(out, s->login);
	if (rc == MXTLS_OK)
		rc = util_buf_append_str(out, " set sender to ");
	if (rc == MXTLS_OK)
		rc = util_buf_append_str(out, p->sender[0] != '\0' ? p->sender : "<>");
	if (rc == MXTLS_OK)
		rc = util_buf_append_str(out, " using -f\r\n");
	return rc;
}

/* The sendmail rules up to the stored form: sender, recipients, the message normalised. */
static int prepare(const struct mxtls_submission *s, bool untrusted, struct prepared *p, char *err,
		   size_t errlen)
{
	util_buf_init(&p->in, MXTLS_QUEUE_MESSAGE_MAX + 64 * 1024);
	if (s == NULL || s->login == NULL || s->login[0] == '\0' ||
	    (s->data == NULL && s->len > 0) || (s->rcpt == NULL && s->nrcpt > 0))
		return MXTLS_E_INVAL;
	if (untrusted && !login_plain(s->login)) {
		snprintf(err, errlen, "login name: not printable ASCII");
		return MXTLS_E_INVAL;
	}
	bool from_header = (s->flags & MXTLS_SUBMIT_RCPT_FROM_HEADERS) != 0;
	if (s->nrcpt == 0 && !from_header) {
		snprintf(err, errlen, "no recipients given");
		return MXTLS_E_INVAL;
	}
	if (s->len > MXTLS_QUEUE_MESSAGE_MAX) {
		snprintf(err, errlen, "the message is larger than %u bytes",
			 MXTLS_QUEUE_MESSAGE_MAX);
		return MXTLS_E_LIMIT;
	}
	char *host = p->host;
	if (s->host != NULL)
		snprintf(host, sizeof p->host, "%s", s->host);
	else if (gethostname(host, sizeof p->host - 1) != 0 || host[0] == '\0')
		snprintf(host, sizeof p->host, "localhost");
	host[sizeof p->host - 1] = '\0';
	int rc = take_sender(s, host, p->sender, sizeof p->sender, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	if (untrusted && (rc = warn_sender(s, p, &p->in)) != MXTLS_OK)
		return rc;

	struct rcpts *r = p->r = calloc(1, sizeof *r);
	if (r == NULL)
		return MXTLS_E_NOMEM;
	*r = (struct rcpts){.host = host,
			    .fail_rc = MXTLS_E_INVAL,
			    .where = "recipient",
			    .err = err,
			    .errlen = errlen};
	char where[300];
	for (size_t i = 0; rc == MXTLS_OK && i < s->nrcpt; i++) {
		if (s->rcpt[i] == NULL) {
			rc = MXTLS_E_INVAL;
			break;
		}
		snprintf(where, sizeof where, "recipient '%.200s'", s->rcpt[i]);
		r->where = where;
		rc = parse_list(r, s->rcpt[i], strlen(s->rcpt[i]));
	}
	const char *why = NULL;
	if (rc == MXTLS_OK) {
		rc = delivery_input_normalize(s->data, s->len,
					      (s->flags & MXTLS_SUBMIT_DOT_ENDS) != 0, &p->in, &why);
		if (why != NULL)
			snprintf(err, errlen, "%s", why);
	}
	if (rc == MXTLS_OK && from_header)
		rc = rcpts_from_header(r, p->in.data != NULL ? p->in.data : "", p->in.len);
	if (rc == MXTLS_OK && r->n == 0) {
		snprintf(err, errlen, "no recipient: To, Cc and Bcc hold no address");
		rc = MXTLS_E_SYNTAX;
	}
	return rc;
}

static int submit(struct mxtls_queue *q, const struct mxtls_submission *s, bool untrusted,
		  char id[MXTLS_QUEUE_ID_SIZE], char *err, size_t errlen)
{
	char scratch[1];
	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof scratch;
	}
	err[0] = '\0';
	if (q == NULL || id == NULL)
		return MXTLS_E_INVAL;
	struct prepared *p = calloc(1, sizeof *p);
	if (p == NULL)
		return MXTLS_E_NOMEM;
	int rc = prepare(s, untrusted, p, err, errlen);
	struct util_buf msg;
	util_buf_init(&msg, MXTLS_QUEUE_MESSAGE_MAX + 128 * 1024);
	int64_t now = mxtls_ctx_now(q->ctx);
	char qid[DELIVERY_ID_LEN + 1];
	/* A new id (and Message-ID) when, very rarely, the id is taken already. */
	for (int attempt = 0; rc == MXTLS_OK; attempt++) {
		new_id(qid);
		util_buf_reset(&msg);
		rc = build(s, qid, p->host, p->sender, &p->in, now, &msg);
		if (rc == MXTLS_E_INVAL)
			snprintf(err, errlen, "full name: a control character");
		if (rc != MXTLS_OK)
			break;
		struct delivery_envelope env = {
			.sender = p->sender, .rcpts = (const char *const *)p->r->v, .n = p->r->n};
		rc = store(q, qid, &env, msg.data, msg.len, now, err, errlen);
		if (rc != MXTLS_E_LIMIT) /* store()'s MXTLS_E_LIMIT: the id is taken */
			break;
		if (attempt == 3) {
			snprintf(err, errlen, "no free queue id");
			rc = MXTLS_E_IO;
			break;
		}
		rc = MXTLS_OK;
	}
	if (rc == MXTLS_E_LIMIT && err[0] == '\0')
		snprintf(err, errlen, "the message is too large");
	if (rc == MXTLS_OK) {
		memcpy(id, qid, sizeof qid);
		util_log_kv(&q->ctx->log, MXTLS_LOG_INFO, 0, "queue-accepted", "id", qid, "from",
			    p->sender, NULL);
		delivery_queue_wake(q);
	}
	prepared_free(p);
	free(p);
	util_buf_free(&msg);
	return rc;
}

int mxtls_queue_submit(struct mxtls_queue *q, const struct mxtls_submission *s,
		       char id[MXTLS_QUEUE_ID_SIZE], char *err, size_t errlen)
{
	return submit(q, s, false, id, err, errlen);
}

int delivery_submit_untrusted(struct mxtls_queue *q, const struct mxtls_submission *s,
			      char id[MXTLS_QUEUE_ID_SIZE], char *err, size_t errlen)
{
	return submit(q, s, true, id, err, errlen);
}

int delivery_submit_check(const struct mxtls_submission *s, char *err, size_t errlen)
{
	char scratch[1];
	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof scratch;
	}
	err[0] = '\0';
	struct prepared *p = calloc(1, sizeof *p);
	if (p == NULL)
		return MXTLS_E_NOMEM;
	int rc = prepare(s, true, p, err, errlen);
	struct util_buf msg;
	util_buf_init(&msg, MXTLS_QUEUE_MESSAGE_MAX + 128 * 1024);
	/* The fields the queue would add: an -F with a control character fails only here. */
	if (rc == MXTLS_OK) {
		char dummy[DELIVERY_ID_LEN + 1];
		memset(dummy, '0', DELIVERY_ID_LEN);
		dummy[DELIVERY_ID_LEN] = '\0';
		rc = build(s, dummy, p->host, p->sender, &p->in, 0, &msg);
		if (rc == MXTLS_E_INVAL)
			snprintf(err, errlen, "full name: a control character");
	}
	prepared_free(p);
	free(p);
	util_buf_free(&msg);
	return rc;
}

int delivery_queue_enqueue(struct mxtls_queue *q, const struct delivery_envelope *e,
			   const void *msg, size_t len, char id[MXTLS_QUEUE_ID_SIZE], char *err,
			   size_t errlen)
{
	if (e->n == 0 || e->n > MXTLS_QUEUE_RCPT_MAX) {
		snprintf(err, errlen, "between 1 and %d recipients are needed",
			 MXTLS_QUEUE_RCPT_MAX);
		return MXTLS_E_INVAL;
	}
	if (len > MXTLS_QUEUE_MESSAGE_MAX) {
		snprintf(err, errlen, "the message is larger than %u bytes",
			 MXTLS_QUEUE_MESSAGE_MAX);
		return MXTLS_E_LIMIT;
	}
	int64_t now = mxtls_ctx_now(q->ctx);
	char qid[DELIVERY_ID_LEN + 1];
	int rc = MXTLS_E_LIMIT;
	for (int attempt = 0; rc == MXTLS_E_LIMIT && attempt < 4; attempt++) {
		new_id(qid);
		rc = store(q, qid, e, msg, len, now, err, errlen);
	}
	if (rc == MXTLS_E_LIMIT) {
		snprintf(err, errlen, "no free queue id");
		rc = MXTLS_E_IO;
	}
	if (rc == MXTLS_OK) {
		memcpy(id, qid, sizeof qid);
		util_log_kv(&q->ctx->log, MXTLS_LOG_INFO, 0, "queue-accepted", "id", qid, "from",
			    e->sender, NULL);
		delivery_queue_wake(q);
	}
	return rc;
}
