/* SPDX-License-Identifier: MIT */
/* mxtls_queue_list and its accessors: the index rows checked, damaged ones set aside. */
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "delivery/delivery_id.h"
#include "delivery/delivery_queue.h"
#include "util/util_log.h"
#include "validator/mxtls_ctx.h"

struct list_rcpt {
	char *addr, *state, *last_host, *last_reply, *result_type;
	int64_t attempts, next_attempt;
};

struct list_msg {
	char *id, *sender;
	const char *problem; /* static */
	int64_t size, queued_at;
	struct list_rcpt *rcpt;
	size_t nrcpt;
};

struct mxtls_queue_list {
	struct list_msg *msg;
	size_t n, alloc;
};

static void free_rcpt(struct list_rcpt *r)
{
	free(r->addr);
	free(r->state);
	free(r->last_host);
	free(r->last_reply);
	free(r->result_type);
}

void mxtls_queue_list_free(struct mxtls_queue_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++) {
		for (size_t j = 0; j < l->msg[i].nrcpt; j++)
			free_rcpt(&l->msg[i].rcpt[j]);
		free(l->msg[i].rcpt);
		free(l->msg[i].id);
		free(l->msg[i].sender);
	}
	free(l->msg);
	free(l);
}

/* strdup() that keeps NULL; sets *bad on failure. */
static char *dup_opt(const char *s, bool *bad)
{
	if (s == NULL)
		return NULL;
	char *d = strdup(s);
	if (d == NULL)
		*bad = true;
	return d;
}

struct walk {
	struct mxtls_queue *q;
	struct mxtls_queue_list *l;
};

/* Why a row cannot be listed as it is, or NULL. */
static const char *row_damage(const struct delivery_msg_row *m, const struct delivery_rcpt_row *r)
{
	if (r->damaged != NULL)
		return r->damaged;
	if (m->id == NULL || !delivery_id_valid(m->id, strlen(m->id)))
		return "a malformed queue id";
	if (m->sender == NULL || r->recipient == NULL || r->state == NULL)
		return "an empty column";
	if (strcmp(r->state, "pending") != 0 && strcmp(r->state, "deferred") != 0 &&
	    strcmp(r->state, "held") != 0)
		return "an unknown state";
	if (m->size < 0 || r->attempts < 0)
		return "a negative number";
	return NULL;
}

static int add_row(void *arg, const struct delivery_msg_row *m, const struct delivery_rcpt_row *r)
{
	struct walk *w = arg;
	struct mxtls_queue_list *l = w->l;
	const char *why = row_damage(m, r);
	if (why != NULL) {
		util_log_kv(&w->q->ctx->log, MXTLS_LOG_WARNING, 0, "queue-row-damaged", "id", m->id,
			    "recipient", r->recipient, "reason", why, NULL);
		return MXTLS_OK;
	}
	bool bad = false;
	if (l->n == 0 || strcmp(l->msg[l->n - 1].id, m->id) != 0) {
		if (l->n == l->alloc) {
			size_t alloc = l->alloc ? l->alloc * 2 : 16;
			struct list_msg *grown = realloc(l->msg, alloc * sizeof *grown);
			if (grown == NULL)
				return MXTLS_E_NOMEM;
			l->msg = grown;
			l->alloc = alloc;
		}
		struct list_msg *msg = &l->msg[l->n];
		memset(msg, 0, sizeof *msg);
		msg->id = dup_opt(m->id, &bad);
		msg->sender = dup_opt(m->sender, &bad);
		msg->size = m->size;
		msg->queued_at = m->queued_at;
		l->n++;
		if (bad)
			return MXTLS_E_NOMEM;
		if (!delivery_spool_exists(&w->q->spool, m->id)) {
			msg->problem = "body file missing";
			util_log_kv(&w->q->ctx->log, MXTLS_LOG_WARNING, 0, "queue-body-missing",
				    "id", m->id, NULL);
		}
	}
	struct list_msg *msg = &l->msg[l->n - 1];
	struct list_rcpt *grown = realloc(msg->rcpt, (msg->nrcpt + 1) * sizeof *grown);
	if (grown == NULL)
		return MXTLS_E_NOMEM;
	msg->rcpt = grown;
	struct list_rcpt *rc = &msg->rcpt[msg->nrcpt++];
	*rc = (struct list_rcpt){
		.addr = dup_opt(r->recipient, &bad),
		.state = dup_opt(r->state, &bad),
		.last_host = dup_opt(r->last_host, &bad),
		.last_reply = dup_opt(r->last_reply, &bad),
		.result_type = dup_opt(r->result_type, &bad),
		.attempts = r->attempts,
		.next_attempt = r->next_attempt,
	};
	return bad ? MXTLS_E_NOMEM : MXTLS_OK;
}

int mxtls_queue_list(struct mxtls_queue *q, const char *id, struct mxtls_queue_list **out,
		     char *err, size_t errlen)
{
	if (id != NULL && !delivery_id_valid(id, strlen(id)))
		return MXTLS_E_INVAL;
	struct mxtls_queue_list *l = calloc(1, sizeof *l);
	if (l == NULL)
		return MXTLS_E_NOMEM;
	struct walk w = {.q = q, .l = l};
	int rc = delivery_index_list(q->index, id, add_row, &w, err, errlen);
	if (rc == MXTLS_OK && id != NULL && l->n == 0) {
		bool found = false;
		rc = delivery_index_exists(q->index, id, &found);
		if (rc == MXTLS_OK && !found)
			rc = MXTLS_E_NOTFOUND;
	}
	if (rc != MXTLS_OK) {
		mxtls_queue_list_free(l);
		return rc;
	}
	*out = l;
	return MXTLS_OK;
}

static const struct list_msg *msg_at(const struct mxtls_queue_list *l, size_t i)
{
	return l != NULL && i < l->n ? &l->msg[i] : NULL;
}

static const struct list_rcpt *rcpt_at(const struct mxtls_queue_list *l, size_t i, size_t j)
{
	const struct list_msg *m = msg_at(l, i);
	return m != NULL && j < m->nrcpt ? &m->rcpt[j] : NULL;
}

size_t mxtls_queue_list_count(const struct mxtls_queue_list *l)
{
	return l != NULL ? l->n : 0;
}

#define MSG_FIELD(name, type, field, none)                                                         \
	type mxtls_queue_list_##name(const struct mxtls_queue_list *l, size_t i)                   \
	{                                                                                          \
		const struct list_msg *m = msg_at(l, i);                                           \
		return m != NULL ? m->field : none;                                                \
	}
MSG_FIELD(id, const char *, id, NULL)
MSG_FIELD(sender, const char *, sender, NULL)
MSG_FIELD(size, int64_t, size, -1)
MSG_FIELD(queued_at, int64_t, queued_at, -1)
MSG_FIELD(problem, const char *, problem, NULL)
MSG_FIELD(rcpt_count, size_t, nrcpt, 0)

#define RCPT_FIELD(name, type, field, none)                                                        \
	type mxtls_queue_list_##name(const struct mxtls_queue_list *l, size_t i, size_t j)         \
	{                                                                                          \
		const struct list_rcpt *r = rcpt_at(l, i, j);                                      \
		return r != NULL ? r->field : none;                                                \
	}
RCPT_FIELD(rcpt, const char *, addr, NULL)
RCPT_FIELD(rcpt_state, const char *, state, NULL)
RCPT_FIELD(rcpt_attempts, int64_t, attempts, -1)
RCPT_FIELD(rcpt_next_attempt, int64_t, next_attempt, -1)
RCPT_FIELD(rcpt_last_host, const char *, last_host, NULL)
RCPT_FIELD(rcpt_last_reply, const char *, last_reply, NULL)
RCPT_FIELD(rcpt_result_type, const char *, result_type, NULL)
