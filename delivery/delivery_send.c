/* SPDX-License-Identifier: MIT */
/* The public delivery API (include/mxtls/send.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <mxtls/error.h>
#include <mxtls/send.h>

#include "delivery/deliver.h"
#include "delivery/delivery_tlsrpt.h"
#include "validator/mxtls_ctx.h"

struct mxtls_delivery {
	size_t n;
	char **rcpt;              /* owned copies */
	struct deliver_rcpt *res; /* owned */
};

struct mxtls_send_op {
	struct deliver_run *run;
	const struct mxtls_message *m;
	void (*cb)(void *arg, struct mxtls_delivery *dl);
	void *arg;
};

void mxtls_delivery_free(struct mxtls_delivery *dl)
{
	if (dl == NULL)
		return;
	for (size_t i = 0; dl->rcpt != NULL && i < dl->n; i++)
		free(dl->rcpt[i]);
	free(dl->rcpt);
	free(dl->res);
	free(dl);
}

static struct mxtls_delivery *copy_results(const struct mxtls_message *m,
					   const struct deliver_rcpt *res, size_t n)
{
	struct mxtls_delivery *dl = calloc(1, sizeof *dl);
	if (dl == NULL)
		return NULL;
	dl->n = n;
	dl->rcpt = calloc(n, sizeof *dl->rcpt);
	dl->res = malloc(n * sizeof *dl->res);
	if (dl->rcpt == NULL || dl->res == NULL) {
		mxtls_delivery_free(dl);
		return NULL;
	}
	memcpy(dl->res, res, n * sizeof *dl->res);
	for (size_t i = 0; i < n; i++)
		if ((dl->rcpt[i] = strdup(m->to[i])) == NULL) {
			mxtls_delivery_free(dl);
			return NULL;
		}
	return dl;
}

static void on_delivered(void *arg, const struct deliver_rcpt *res, size_t n)
{
	struct mxtls_send_op *op = arg;
	struct mxtls_delivery *dl = copy_results(op->m, res, n);
	op->cb(op->arg, dl);
	free(op);
}

/* RFC 5321 §4.1.2 in the small: local@domain, and what the SMTP client puts on a command line
 * (smtp_path_ok(): no space, control byte or angle bracket, at most 256 octets). */
static bool address_ok(const char *a, bool allow_empty)
{
	if (a != NULL && a[0] == '\0')
		return allow_empty;
	const char *at = a != NULL ? strrchr(a, '@') : NULL;
	return smtp_path_ok(a, false) && at != NULL && at != a && at[1] != '\0';
}

int mxtls_send_start(struct mxtls_ctx *ctx, const struct mxtls_message *m,
		     void (*cb)(void *arg, struct mxtls_delivery *dl), void *arg,
		     struct mxtls_send_op **opp, char *err, size_t errlen)
{
	if (ctx == NULL || m == NULL || cb == NULL || err == NULL || errlen == 0)
		return MXTLS_E_INVAL;
	if (m->nto == 0 || m->nto > DELIVER_RCPTS_MAX || m->to == NULL) {
		snprintf(err, errlen, "between 1 and %d recipients are needed", DELIVER_RCPTS_MAX);
		return MXTLS_E_INVAL;
	}
	if (!address_ok(m->from, true)) {
		snprintf(err, errlen, "bad sender address '%s'", m->from != NULL ? m->from : "");
		return MXTLS_E_INVAL;
	}
	for (size_t i = 0; i < m->nto; i++)
		if (!address_ok(m->to[i], false)) {
			snprintf(err, errlen, "bad recipient address '%s'",
				 m->to[i] != NULL ? m->to[i] : "");
			return MXTLS_E_INVAL;
		}
	const char *helo = m->helo != NULL ? m->helo : ctx->helo;
	if (!smtp_helo_ok(helo)) {
		snprintf(err, errlen, "bad EHLO name '%s'", helo);
		return MXTLS_E_INVAL;
	}
	struct event_base *base;
	struct dns_resolver *r;
	struct sts_fetcher *f;
	struct sts_cache *c;
	struct dane_pkix *pkix = NULL;
	int rc = mxtls_ctx_base(ctx, &base, err, errlen);
	if (rc == MXTLS_OK)
		rc = mxtls_ctx_lookups(ctx, &r, &f, &c, err, errlen);
	if (rc == MXTLS_OK)
		rc = mxtls_ctx_pkix(ctx, &pkix, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	struct mxtls_send_op *op = calloc(1, sizeof *op);
	if (op == NULL)
		return MXTLS_E_NOMEM;
	*op = (struct mxtls_send_op){.m = m, .cb = cb, .arg = arg};
	struct deliver_req req = {
		.from = m->from,
		.rcpts = m->to,
		.nrcpts = m->nto,
		.msg = m->data,
		.len = m->len,
		.helo = helo,
		.timeouts = ctx->timeouts,
		.now = mxtls_ctx_now(ctx),
		.log = &ctx->log,
		.log_id = mxtls_ctx_decision_id(ctx),
		/* RFC 8460: sessions are recorded where there is a state directory to keep
		 * them (STATE_DIR/tlsrpt.sqlite). */
		.tlsrpt = ctx->state_dir != NULL ? delivery_tlsrpt_recorder : NULL,
		.tlsrpt_arg = ctx,
	};
	rc = deliver_start(base, r, f, c, pkix, &req, on_delivered, op, &op->run);
	if (rc != MXTLS_OK) {
		free(op);
		snprintf(err, errlen, "%s",
			 rc == MXTLS_E_SYNTAX ? "the message is empty or holds a NUL byte"
			 : rc == MXTLS_E_LIMIT ? "the message is too large"
			 : rc == MXTLS_E_INVAL ? "bad address or EHLO name"
					       : mxtls_strerror(rc));
		return rc;
	}
	if (opp != NULL)
		*opp = op;
	return MXTLS_OK;
}

void mxtls_send_cancel(struct mxtls_send_op *op)
{
	if (op == NULL)
		return;
	deliver_cancel(op->run);
	free(op);
}

struct blocking {
	bool done;
	struct mxtls_delivery *dl;
};

static void on_blocking(void *arg, struct mxtls_delivery *dl)
{
	struct blocking *b = arg;
	b->done = true;
	b->dl = dl;
}

int mxtls_send(struct mxtls_ctx *ctx, const struct mxtls_message *m, struct mxtls_delivery **out,
	       char *err, size_t errlen)
{
	if (out == NULL)
		return MXTLS_E_INVAL;
	struct blocking b = {0};
	struct mxtls_send_op *op = NULL;
	int rc = mxtls_send_start(ctx, m, on_blocking, &b, &op, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	rc = mxtls_ctx_wait(ctx, &b.done, err, errlen);
	if (rc != MXTLS_OK) {
		/* The delivery must not outlive b (on this stack) nor call back later. */
		if (b.done)
			mxtls_delivery_free(b.dl);
		else
			mxtls_send_cancel(op);
		return rc;
	}
	if (b.dl == NULL) {
		snprintf(err, errlen, "out of memory");
		return MXTLS_E_NOMEM;
	}
	*out = b.dl;
	return MXTLS_OK;
}

static const struct deliver_rcpt *at(const struct mxtls_delivery *dl, size_t i)
{
	return dl != NULL && i < dl->n ? &dl->res[i] : NULL;
}

size_t mxtls_delivery_count(const struct mxtls_delivery *dl)
{
	return dl != NULL ? dl->n : 0;
}

const char *mxtls_delivery_recipient(const struct mxtls_delivery *dl, size_t i)
{
	return at(dl, i) != NULL ? dl->rcpt[i] : NULL;
}

const char *mxtls_delivery_status(const struct mxtls_delivery *dl, size_t i)
{
	const struct deliver_rcpt *r = at(dl, i);
	return r != NULL ? deliver_status_name(r->status) : NULL;
}

const char *mxtls_delivery_mx(const struct mxtls_delivery *dl, size_t i)
{
	const struct deliver_rcpt *r = at(dl, i);
	return r != NULL ? r->mx : NULL;
}

int mxtls_delivery_tls(const struct mxtls_delivery *dl, size_t i)
{
	const struct deliver_rcpt *r = at(dl, i);
	return r != NULL ? r->tls : -1;
}

const char *mxtls_delivery_security(const struct mxtls_delivery *dl, size_t i)
{
	const struct deliver_rcpt *r = at(dl, i);
	return r != NULL && r->has_security ? decision_security_name(r->security) : NULL;
}

int mxtls_delivery_reply_code(const struct mxtls_delivery *dl, size_t i)
{
	const struct deliver_rcpt *r = at(dl, i);
	return r != NULL ? r->reply.code : -1;
}

const char *mxtls_delivery_reply_status(const struct mxtls_delivery *dl, size_t i)
{
	const struct deliver_rcpt *r = at(dl, i);
	return r != NULL ? r->reply.enhanced : NULL;
}

const char *mxtls_delivery_reply_text(const struct mxtls_delivery *dl, size_t i)
{
	const struct deliver_rcpt *r = at(dl, i);
	return r != NULL ? r->reply.text : NULL;
}

int mxtls_delivery_reply_local(const struct mxtls_delivery *dl, size_t i)
{
	const struct deliver_rcpt *r = at(dl, i);
	return r != NULL ? r->reply.local : -1;
}

const char *mxtls_delivery_result_type(const struct mxtls_delivery *dl, size_t i)
{
	const struct deliver_rcpt *r = at(dl, i);
	return r != NULL && r->result_type != MXTLS_RESULT_OK ? mxtls_result_name(r->result_type)
							       : NULL;
}

const char *mxtls_delivery_detail(const struct mxtls_delivery *dl, size_t i)
{
	const struct deliver_rcpt *r = at(dl, i);
	return r != NULL ? r->detail : NULL;
}
