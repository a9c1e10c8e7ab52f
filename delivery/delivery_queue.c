/* SPDX-License-Identifier: MIT */
/* mxtls_queue_open/close and management (hold, release, flush, delete) of the spool. */
#include "delivery/delivery_queue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mxtls/error.h>

#include "delivery/delivery_id.h"
#include "delivery/delivery_wake.h"
#include "util/util_log.h"
#include "validator/mxtls_ctx.h"

enum delivery_fault delivery_queue_fault(struct mxtls_queue *q, const char *point)
{
	return q->fault != NULL ? q->fault(q->fault_arg, point) : DELIVERY_FAULT_NONE;
}

bool delivery_queue_may_open(const char *state_dir)
{
	struct stat st;
	uid_t uid = geteuid();
	if (uid == 0)
		return true;
	if (stat(state_dir, &st) != 0)
		return errno == ENOENT; /* created by mxtls_queue_open(), owned by this user */
	return st.st_uid == uid;
}

/* Only root and the state directory's owner use the spool; anyone else submits through the
 * maildrop (mxtls_queue_drop()).  Told so before anything is created. */
static int check_user(const char *state_dir, char *err, size_t errlen)
{
	struct stat st;
	if (delivery_queue_may_open(state_dir))
		return MXTLS_OK;
	if (stat(state_dir, &st) != 0) {
		snprintf(err, errlen, "state-dir %s: %s", state_dir, strerror(errno));
		return MXTLS_E_IO;
	}
	snprintf(err, errlen,
		 "the queue in %s belongs to uid %u; only root and that user may open it (other "
		 "users submit through its maildrop)",
		 state_dir, (unsigned)st.st_uid);
	return MXTLS_E_IO;
}

struct cleanup {
	struct mxtls_queue *q;
	int removed;
};

/* Removes a stale temporary file or a body without an index row (an interrupted
 * submission or deletion); leaves everything else alone. */
static int clean_entry(void *arg, const char *name)
{
	struct cleanup *c = arg;
	const struct util_log *log = &c->q->ctx->log;
	size_t plen = strlen(DELIVERY_SPOOL_TMP_PREFIX);
	if (strncmp(name, DELIVERY_SPOOL_TMP_PREFIX, plen) == 0) {
		if (delivery_spool_unlink(&c->q->spool, name) == MXTLS_OK) {
			c->removed++;
			util_log_kv(log, MXTLS_LOG_WARNING, 0, "queue-temp-removed", "file", name,
				    "reason", "interrupted submission", NULL);
		}
		return MXTLS_OK;
	}
	if (!delivery_id_valid(name, strlen(name)))
		return MXTLS_OK;
	bool found;
	if (delivery_index_exists(c->q->index, name, &found) != MXTLS_OK || found)
		return MXTLS_OK;
	if (delivery_spool_unlink(&c->q->spool, name) == MXTLS_OK) {
		c->removed++;
		util_log_kv(log, MXTLS_LOG_WARNING, 0, "queue-orphan-removed", "id", name, "reason",
			    "body file without an index row", NULL);
	}
	return MXTLS_OK;
}

int mxtls_queue_open(struct mxtls_ctx *ctx, unsigned flags, struct mxtls_queue **out, char *err,
		     size_t errlen)
{
	char scratch[1], path[4096];
	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof scratch;
	}
	err[0] = '\0';
	if (ctx == NULL || out == NULL)
		return MXTLS_E_INVAL;
	if (ctx->state_dir == NULL) {
		snprintf(err, errlen, "no state directory: the queue lives in STATE_DIR/queue/");
		return MXTLS_E_CONFIG;
	}
	int rc = check_user(ctx->state_dir, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	if (mkdir(ctx->state_dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "state-dir %s: %s", ctx->state_dir, strerror(errno));
		return MXTLS_E_IO;
	}
	struct mxtls_queue *q = calloc(1, sizeof *q);
	if (q == NULL)
		return MXTLS_E_NOMEM;
	q->ctx = ctx;
	q->drop.drop_fd = q->drop.claim_fd = q->drop.corrupt_fd = -1;
	snprintf(path, sizeof path, "%s/queue", ctx->state_dir);
	rc = delivery_spool_open(&q->spool, path, err, errlen);
	if (rc != MXTLS_OK) {
		free(q);
		return rc;
	}
	rc = delivery_drop_open(&q->drop, path, err, errlen);
	if (rc != MXTLS_OK) {
		mxtls_queue_close(q);
		return rc;
	}
	snprintf(path, sizeof path, "%s/queue/%s", ctx->state_dir, DELIVERY_INDEX_FILE);
	rc = delivery_index_open(path, &q->index, err, errlen);
	if (rc != MXTLS_OK) {
		mxtls_queue_close(q);
		return rc;
	}
	/* With the lock exclusive nobody is between writing a body and adding its rows. */
	if ((flags & MXTLS_QUEUE_CLEANUP) != 0 && q->spool.exclusive) {
		struct cleanup c = {.q = q};
		delivery_spool_walk(&q->spool, clean_entry, &c);
		if (c.removed > 0)
			delivery_spool_sync(&q->spool);
	}
	delivery_spool_share(&q->spool);
	*out = q;
	return MXTLS_OK;
}

void mxtls_queue_close(struct mxtls_queue *q)
{
	if (q == NULL)
		return;
	delivery_index_close(q->index);
	delivery_drop_close(&q->drop);
	delivery_spool_close(&q->spool);
	free(q);
}

static int check_id(const char *id, char *err, size_t errlen)
{
	if (id != NULL && delivery_id_valid(id, strlen(id)))
		return MXTLS_OK;
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "not a queue id (20 characters of 0-9 and A-F)");
	return MXTLS_E_INVAL;
}

static int update(struct mxtls_queue *q, enum delivery_index_op op, const char *id, char *err,
		  size_t errlen)
{
	int rc = check_id(id, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	rc = delivery_index_update(q->index, op, id, mxtls_ctx_now(q->ctx), err, errlen);
	if (rc == MXTLS_OK && op != DELIVERY_OP_HOLD)
		delivery_queue_wake(q);
	return rc;
}

void delivery_queue_wake(struct mxtls_queue *q)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/queue", q->ctx->state_dir);
	delivery_wake_send(dir);
}

int mxtls_queue_hold(struct mxtls_queue *q, const char *id, char *err, size_t errlen)
{
	return update(q, DELIVERY_OP_HOLD, id, err, errlen);
}

int mxtls_queue_release(struct mxtls_queue *q, const char *id, char *err, size_t errlen)
{
	return update(q, DELIVERY_OP_RELEASE, id, err, errlen);
}

int mxtls_queue_flush(struct mxtls_queue *q, const char *id, char *err, size_t errlen)
{
	if (id == NULL) {
		int rc = delivery_index_update(q->index, DELIVERY_OP_FLUSH, NULL,
					       mxtls_ctx_now(q->ctx), err, errlen);
		if (rc == MXTLS_OK)
			delivery_queue_wake(q);
		return rc;
	}
	return update(q, DELIVERY_OP_FLUSH, id, err, errlen);
}

int mxtls_queue_delete(struct mxtls_queue *q, const char *id, char *err, size_t errlen)
{
	int rc = check_id(id, err, errlen);
	if (rc == MXTLS_OK)
		rc = delivery_index_delete(q->index, id, err, errlen);
	/* The rows go first: a crash before the unlink leaves an orphan body, removed at the
	 * next open, never a row without its body. */
	if (rc == MXTLS_OK && delivery_spool_remove(&q->spool, id) != MXTLS_OK)
		util_log_kv(&q->ctx->log, MXTLS_LOG_WARNING, 0, "queue-body-not-removed", "id", id,
			    NULL);
	return rc;
}

int mxtls_queue_body(struct mxtls_queue *q, const char *id, char **data, size_t *len)
{
	if (check_id(id, NULL, 0) != MXTLS_OK)
		return MXTLS_E_INVAL;
	struct util_buf b;
	util_buf_init(&b, MXTLS_QUEUE_MESSAGE_MAX + 1);
	int rc = delivery_spool_read(&q->spool, id, &b);
	if (rc == MXTLS_OK)
		rc = util_buf_take(&b, data, len);
	util_buf_free(&b);
	return rc;
}
