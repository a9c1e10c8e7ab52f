/* SPDX-License-Identifier: MIT */
/* mxtls queue list|show|delete|hold|release|flush: the queue in STATE_DIR/queue/. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_env.h"
#include "cli_exit.h"
#include "cli_json.h"
#include "cli_policy.h"

/* Opens the queue: EXIT_OK with *q set, or the reason printed and an exit code. */
static int open_queue(struct cli_env *env, struct mxtls_ctx **ctx, struct mxtls_queue **q)
{
	int status = cli_open_ctx(env, ctx);
	if (status != EXIT_OK)
		return status;
	char err[1024] = "";
	int rc = mxtls_queue_open(*ctx, MXTLS_QUEUE_CLEANUP, q, err, sizeof err);
	if (rc == MXTLS_OK)
		return EXIT_OK;
	cli_errorf(env, "cannot open the queue: %s", err[0] ? err : mxtls_strerror(rc));
	mxtls_ctx_free(*ctx);
	*ctx = NULL;
	return rc == MXTLS_E_CONFIG ? EXIT_CONFIG : EXIT_TEMPFAIL;
}

static int exit_for(struct cli_env *env, int rc, const char *id, const char *err)
{
	switch (rc) {
	case MXTLS_OK:
		return EXIT_OK;
	case MXTLS_E_INVAL:
		cli_errorf(env, "'%s' is not a queue id (20 characters of 0-9 and A-F)", id);
		return EXIT_USAGE;
	case MXTLS_E_NOTFOUND:
		cli_errorf(env, "%s: no such message in the queue", id);
		return EXIT_NEGATIVE;
	default:
		cli_errorf(env, "%s", err[0] ? err : mxtls_strerror(rc));
		return EXIT_TEMPFAIL;
	}
}

static void json_list(struct cli_env *env, const struct mxtls_queue_list *l)
{
	struct cli_json j;
	cli_json_init(&j, env->out);
	cli_json_object_begin(&j, NULL);
	cli_json_array_begin(&j, "messages");
	for (size_t i = 0; i < mxtls_queue_list_count(l); i++) {
		cli_json_object_begin(&j, NULL);
		cli_json_string(&j, "id", mxtls_queue_list_id(l, i));
		cli_json_string(&j, "sender", mxtls_queue_list_sender(l, i));
		cli_json_int(&j, "size", mxtls_queue_list_size(l, i));
		cli_json_time(&j, "queued_at", mxtls_queue_list_queued_at(l, i));
		cli_json_array_begin(&j, "recipients");
		for (size_t k = 0; k < mxtls_queue_list_rcpt_count(l, i); k++) {
			cli_json_object_begin(&j, NULL);
			cli_json_string(&j, "recipient", mxtls_queue_list_rcpt(l, i, k));
			cli_json_string(&j, "state", mxtls_queue_list_rcpt_state(l, i, k));
			cli_json_int(&j, "attempts", mxtls_queue_list_rcpt_attempts(l, i, k));
			cli_json_time(&j, "next_attempt",
				      mxtls_queue_list_rcpt_next_attempt(l, i, k));
			cli_json_string(&j, "last_host", mxtls_queue_list_rcpt_last_host(l, i, k));
			cli_json_string(&j, "last_reply",
					mxtls_queue_list_rcpt_last_reply(l, i, k));
			cli_json_string(&j, "result_type",
					mxtls_queue_list_rcpt_result_type(l, i, k));
			cli_json_object_end(&j);
		}
		cli_json_array_end(&j);
		cli_json_object_end(&j);
	}
	cli_json_array_end(&j);
	cli_json_object_end(&j);
	fputc('\n', env->out);
}

static void text_list(struct cli_env *env, const struct mxtls_queue_list *l, size_t waiting)
{
	FILE *out = env->out;
	char t1[32], t2[32];
	for (size_t i = 0; i < mxtls_queue_list_count(l); i++) {
		const char *sender = mxtls_queue_list_sender(l, i);
		fprintf(out, "%s  %" PRId64 " bytes  %s  from <%s>%s%s\n",
			mxtls_queue_list_id(l, i), mxtls_queue_list_size(l, i),
			cli_when(mxtls_queue_list_queued_at(l, i), t1, sizeof t1), sender,
			mxtls_queue_list_problem(l, i) ? "  PROBLEM: " : "",
			mxtls_queue_list_problem(l, i) ? mxtls_queue_list_problem(l, i) : "");
		for (size_t k = 0; k < mxtls_queue_list_rcpt_count(l, i); k++) {
			const char *host = mxtls_queue_list_rcpt_last_host(l, i, k);
			const char *reply = mxtls_queue_list_rcpt_last_reply(l, i, k);
			const char *rt = mxtls_queue_list_rcpt_result_type(l, i, k);
			fprintf(out, "    %-8s %s  attempts %" PRId64 ", next %s",
				mxtls_queue_list_rcpt_state(l, i, k),
				mxtls_queue_list_rcpt(l, i, k),
				mxtls_queue_list_rcpt_attempts(l, i, k),
				cli_when(mxtls_queue_list_rcpt_next_attempt(l, i, k), t2,
					 sizeof t2));
			if (host != NULL)
				fprintf(out, ", last host %s", host);
			if (rt != NULL)
				fprintf(out, ", %s", rt);
			if (reply != NULL)
				fprintf(out, ": %s", reply);
			fputc('\n', out);
		}
	}
	if (mxtls_queue_list_count(l) == 0)
		fputs("the queue is empty\n", out);
	/* Drop files are not queued yet (no id, nothing to list but their number). */
	if (waiting > 0)
		fprintf(out, "%zu message%s waiting in the maildrop\n", waiting,
			waiting == 1 ? "" : "s");
}

static int run_list_or_show(struct cli_env *env, const char *id)
{
	struct mxtls_ctx *ctx;
	struct mxtls_queue *q;
	int status = open_queue(env, &ctx, &q);
	if (status != EXIT_OK)
		return status;
	struct mxtls_queue_list *l = NULL;
	char err[1024] = "";
	int rc = mxtls_queue_list(q, id, &l, err, sizeof err);
	status = exit_for(env, rc, id, err);
	if (rc == MXTLS_OK && env->json)
		json_list(env, l);
	else if (rc == MXTLS_OK)
		text_list(env, l, id == NULL ? mxtls_queue_maildrop_count(q) : 0);
	if (rc == MXTLS_OK && id != NULL && !env->json) {
		char *body = NULL;
		size_t len = 0;
		int brc = mxtls_queue_body(q, id, &body, &len);
		if (brc == MXTLS_OK) {
			fputs("\n", env->out);
			fwrite(body, 1, len, env->out);
		} else {
			cli_errorf(env, "%s: the body file cannot be read: %s", id,
				   mxtls_strerror(brc));
		}
		mxtls_free(body);
	}
	mxtls_queue_list_free(l);
	mxtls_queue_close(q);
	mxtls_ctx_free(ctx);
	return status;
}

static int run_list(struct cli_env *env)
{
	if (env->npos != 0) {
		cli_errorf(env, "queue list takes no arguments");
		return EXIT_USAGE;
	}
	return run_list_or_show(env, NULL);
}

static int run_show(struct cli_env *env)
{
	if (env->npos != 1) {
		cli_errorf(env, "queue show takes one ID");
		return EXIT_USAGE;
	}
	return run_list_or_show(env, env->pos[0]);
}

/* delete, hold, release, flush: one ID (flush: none for all). */
static int run_op(struct cli_env *env, const char *name,
		  int (*op)(struct mxtls_queue *, const char *, char *, size_t), bool optional)
{
	if (env->npos > 1 || (env->npos == 0 && !optional)) {
		cli_errorf(env, "queue %s takes %s", name, optional ? "at most one ID" : "one ID");
		return EXIT_USAGE;
	}
	const char *id = env->npos == 1 ? env->pos[0] : NULL;
	struct mxtls_ctx *ctx;
	struct mxtls_queue *q;
	int status = open_queue(env, &ctx, &q);
	if (status != EXIT_OK)
		return status;
	char err[1024] = "";
	status = exit_for(env, op(q, id, err, sizeof err), id, err);
	mxtls_queue_close(q);
	mxtls_ctx_free(ctx);
	return status;
}

static int run_delete(struct cli_env *env)
{
	return run_op(env, "delete", mxtls_queue_delete, false);
}

static int run_hold(struct cli_env *env)
{
	return run_op(env, "hold", mxtls_queue_hold, false);
}

static int run_release(struct cli_env *env)
{
	return run_op(env, "release", mxtls_queue_release, false);
}

static int run_flush(struct cli_env *env)
{
	return run_op(env, "flush", mxtls_queue_flush, true);
}

#define QUEUE_DETAILS_EXIT                                                                         \
	"Exit 0 done, 1 no such message, 64 usage (an ID that is not 20 characters of 0-9\n"       \
	"and A-F), 75 the queue cannot be used now."

const struct cli_command cli_cmd_queue_list = {
	.name = "queue list",
	.usage = "[--json]",
	.summary = "list queued messages and their waiting recipients",
	.details =
		"Per message: id, size, time queued (RFC 3339 UTC), sender; per recipient:\n"
		"state (pending, deferred, held), attempts, next attempt, last host, last reply\n"
		"and result type. Delivered and bounced recipients are not listed. --json:\n"
		"{\"messages\":[{\"id\",\"sender\",\"size\",\"queued_at\",\"recipients\":[{"
		"\"recipient\",\n"
		"\"state\",\"attempts\",\"next_attempt\",\"last_host\",\"last_reply\",\"result_"
		"type\"}]}]}.\n"
		"Damaged index rows are left out with a warning on stderr.",
	.run = run_list,
};

const struct cli_command cli_cmd_queue_show = {
	.name = "queue show",
	.usage = "ID",
	.summary = "show one queued message: its recipients and its content",
	.details = "As queue list for one message, then the message as queued (with --json only\n"
		   "the list entry). " QUEUE_DETAILS_EXIT,
	.run = run_show,
};

const struct cli_command cli_cmd_queue_delete = {
	.name = "queue delete",
	.usage = "ID",
	.summary = "remove a message from the queue without delivering it",
	.details = QUEUE_DETAILS_EXIT,
	.run = run_delete,
};

const struct cli_command cli_cmd_queue_hold = {
	.name = "queue hold",
	.usage = "ID",
	.summary = "put a message's waiting recipients on hold",
	.details = "Held recipients are not delivered until released. " QUEUE_DETAILS_EXIT,
	.run = run_hold,
};

const struct cli_command cli_cmd_queue_release = {
	.name = "queue release",
	.usage = "ID",
	.summary = "release held recipients: due now",
	.details = "Recipients never tried become pending, the others deferred; both due "
		   "now.\n" QUEUE_DETAILS_EXIT,
	.run = run_release,
};

const struct cli_command cli_cmd_queue_flush = {
	.name = "queue flush",
	.usage = "[ID]",
	.summary = "make pending and deferred recipients due now (all messages without ID)",
	.details = "Held recipients stay held. " QUEUE_DETAILS_EXIT,
	.run = run_flush,
};
