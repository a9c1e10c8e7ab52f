/* SPDX-License-Identifier: MIT */
/* mxtls send --from ADDR --to ADDR... [--helo NAME] [FILE|-]: deliver one message directly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_env.h"
#include "cli_exit.h"
#include "cli_io.h"
#include "cli_json.h"

enum { O_FROM, O_TO, O_HELO };

/* The largest message read (the library's own cap). */
#define SEND_MESSAGE_MAX ((size_t)200 * 1024 * 1024)
#define SEND_RCPTS_MAX 1000

static const struct cli_opt send_options[] = {
	{"from", 0, CLI_VALUE, O_FROM, "ADDR", "envelope sender (MAIL FROM; \"\" for none)"},
	{"to", 0, CLI_VALUE, O_TO, "ADDR", "envelope recipient (RCPT TO), repeatable"},
	{"helo", 0, CLI_VALUE, O_HELO, "NAME", "name sent in EHLO (default: this host's name)"},
	{NULL, 0, 0, 0, NULL, NULL},
};

static void print_json(FILE *out, const struct mxtls_delivery *dl)
{
	struct cli_json j;
	cli_json_init(&j, out);
	cli_json_object_begin(&j, NULL);
	cli_json_array_begin(&j, "recipients");
	for (size_t i = 0; i < mxtls_delivery_count(dl); i++) {
		cli_json_object_begin(&j, NULL);
		cli_json_string(&j, "recipient", mxtls_delivery_recipient(dl, i));
		cli_json_string(&j, "status", mxtls_delivery_status(dl, i));
		const char *mx = mxtls_delivery_mx(dl, i);
		cli_json_string(&j, "mx", mx[0] ? mx : NULL);
		cli_json_bool(&j, "tls", mxtls_delivery_tls(dl, i) == 1);
		cli_json_string(&j, "security", mxtls_delivery_security(dl, i));
		cli_json_object_begin(&j, "reply");
		cli_json_int(&j, "code", mxtls_delivery_reply_code(dl, i));
		const char *st = mxtls_delivery_reply_status(dl, i);
		cli_json_string(&j, "status", st[0] ? st : NULL);
		cli_json_string(&j, "text", mxtls_delivery_reply_text(dl, i));
		cli_json_bool(&j, "local", mxtls_delivery_reply_local(dl, i) == 1);
		cli_json_object_end(&j);
		cli_json_string(&j, "result_type", mxtls_delivery_result_type(dl, i));
		cli_json_string(&j, "detail", mxtls_delivery_detail(dl, i));
		cli_json_object_end(&j);
	}
	cli_json_array_end(&j);
	cli_json_object_end(&j);
	fputc('\n', out);
}

static void print_text(FILE *out, const struct mxtls_delivery *dl)
{
	for (size_t i = 0; i < mxtls_delivery_count(dl); i++) {
		const char *mx = mxtls_delivery_mx(dl, i);
		const char *sec = mxtls_delivery_security(dl, i);
		const char *rt = mxtls_delivery_result_type(dl, i);
		const char *status = mxtls_delivery_status(dl, i);
		fprintf(out, "%s: %s", mxtls_delivery_recipient(dl, i), status);
		if (mx[0] && strcmp(status, "delivered") == 0)
			fprintf(out, " via %s (%s, %s)", mx, sec != NULL ? sec : "-",
				mxtls_delivery_tls(dl, i) == 1 ? "TLS" : "no TLS");
		else if (mx[0])
			fprintf(out, ", last tried %s (%s)", mx, sec != NULL ? sec : "-");
		/* The text of a reply begins with its RFC 3463 status when it has one. */
		fprintf(out, ": %d %s%s", mxtls_delivery_reply_code(dl, i),
			mxtls_delivery_reply_text(dl, i),
			mxtls_delivery_reply_local(dl, i) == 1 ? " (mxtls)" : "");
		if (rt != NULL)
			fprintf(out, " [%s]", rt);
		fputc('\n', out);
	}
}

static int run_send(struct cli_env *env)
{
	const char *from = NULL, *helo = NULL;
	const char **to = calloc(SEND_RCPTS_MAX, sizeof *to);
	if (to == NULL)
		return EXIT_SOFTWARE;
	size_t nto = 0;
	int ex = EXIT_OK;
	for (size_t i = 0; i < env->ngiven && ex == EXIT_OK; i++) {
		switch (env->given[i].id) {
		case O_FROM:
			from = env->given[i].value;
			break;
		case O_HELO:
			helo = env->given[i].value;
			break;
		case O_TO:
			if (nto == SEND_RCPTS_MAX) {
				cli_errorf(env, "at most %d recipients", SEND_RCPTS_MAX);
				ex = EXIT_USAGE;
			} else {
				to[nto++] = env->given[i].value;
			}
			break;
		}
	}
	if (ex == EXIT_OK && (from == NULL || nto == 0)) {
		cli_errorf(env, "send needs --from ADDR and at least one --to ADDR");
		ex = EXIT_USAGE;
	}
	if (ex == EXIT_OK && env->npos > 1) {
		cli_errorf(env, "send takes at most one FILE (or - for standard input)");
		ex = EXIT_USAGE;
	}
	if (ex != EXIT_OK) {
		free(to);
		return ex;
	}
	char err[512] = "";
	char *data = NULL;
	size_t len = 0;
	const char *path = env->npos == 1 ? env->pos[0] : "-";
	if (cli_read_file(path, SEND_MESSAGE_MAX, &data, &len, err, sizeof err) != 0) {
		cli_errorf(env, "%s", err);
		free(to);
		return EXIT_DATAERR;
	}
	struct mxtls_ctx *ctx;
	ex = cli_open_ctx(env, &ctx);
	if (ex != EXIT_OK) {
		free(data);
		free(to);
		return ex;
	}
	struct mxtls_message m = {.from = from, .to = to, .nto = nto, .data = data, .len = len,
				  .helo = helo};
	struct mxtls_delivery *dl = NULL;
	int rc = mxtls_send(ctx, &m, &dl, err, sizeof err);
	if (rc != MXTLS_OK) {
		cli_errorf(env, "%s", err[0] ? err : mxtls_strerror(rc));
		ex = rc == MXTLS_E_INVAL                               ? EXIT_USAGE
		     : rc == MXTLS_E_SYNTAX || rc == MXTLS_E_LIMIT     ? EXIT_DATAERR
		     : rc == MXTLS_E_CONFIG || rc == MXTLS_E_IO        ? EXIT_CONFIG
									: EXIT_SOFTWARE;
	} else {
		if (env->json)
			print_json(env->out, dl);
		else
			print_text(env->out, dl);
		/* CLI.md: 0 every recipient accepted; 69 any bounced; else 75 any deferred. */
		bool bounced = false, deferred = false;
		for (size_t i = 0; i < mxtls_delivery_count(dl); i++) {
			const char *s = mxtls_delivery_status(dl, i);
			bounced |= strcmp(s, "bounced") == 0;
			deferred |= strcmp(s, "deferred") == 0;
		}
		ex = bounced ? EXIT_UNAVAILABLE : deferred ? EXIT_TEMPFAIL : EXIT_OK;
	}
	mxtls_delivery_free(dl);
	mxtls_ctx_free(ctx);
	free(data);
	free(to);
	return ex;
}

const struct cli_command cli_cmd_send = {
	.name = "send",
	.usage = "--from ADDR --to ADDR [--to ADDR ...] [--helo NAME] [FILE|-]",
	.summary = "deliver a message to the recipients' MX hosts, enforcing DANE / MTA-STS",
	.options = send_options,
	.run = run_send,
};
