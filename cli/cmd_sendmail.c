/* SPDX-License-Identifier: MIT */
/* mxtls sendmail [-t] [-i|-oi] [-f ADDR] [-F NAME] [--] [RCPT ...]: queue a message from stdin. */
#include <errno.h>
#include <stdbool.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_env.h"
#include "cli_exit.h"

enum { O_T, O_I, O_O, O_F, O_FULLNAME, O_B };

static const struct cli_opt sendmail_options[] = {
	{"extract-recipients", 't', CLI_FLAG, O_T, NULL,
	 "also send to the To, Cc and Bcc addresses of the message"},
	{"ignore-dots", 'i', CLI_FLAG, O_I, NULL,
	 "a line with a single dot does not end the message"},
	{"sendmail-option", 'o', CLI_VALUE, O_O, "X",
	 "sendmail -oX: -oi is -i; other -o options are accepted and ignored"},
	{"sender", 'f', CLI_VALUE, O_F, "ADDR", "envelope sender (default: LOGIN@HOST; \"\" none)"},
	{"full-name", 'F', CLI_VALUE, O_FULLNAME, "NAME", "display name of an added From field"},
	{"body-type", 'B', CLI_VALUE, O_B, "TYPE",
	 "sendmail -B (7BIT, 8BITMIME): accepted and ignored"},
	{NULL, 0, 0, 0, NULL, NULL},
};

/* Reads standard input up to max bytes: 0, 1 (larger than max) or -1 (read error). */
static int read_stdin(size_t max, char **data, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	if (buf == NULL)
		return -1;
	for (;;) {
		if (n == cap) {
			char *grown = cap <= max ? realloc(buf, cap * 2) : NULL;
			if (grown == NULL) {
				free(buf);
				return cap > max ? 1 : -1;
			}
			buf = grown;
			cap *= 2;
		}
		ssize_t got = read(STDIN_FILENO, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			free(buf);
			return -1;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	if (n > max) {
		free(buf);
		return 1;
	}
	*data = buf;
	*len = n;
	return 0;
}

/* The submitting user's login name (sendmail uses the real user). */
static const char *login_name(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(getuid());
	if (pw != NULL && pw->pw_name != NULL && pw->pw_name[0] != '\0')
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "uid%u", (unsigned)getuid());
	return buf;
}

static int exit_for(int rc)
{
	switch (rc) {
	case MXTLS_E_INVAL:
		return EXIT_USAGE;
	case MXTLS_E_SYNTAX:
	case MXTLS_E_LIMIT:
		return EXIT_DATAERR;
	case MXTLS_E_CONFIG:
		return EXIT_CONFIG;
	default:
		return EXIT_TEMPFAIL; /* disk full, permissions, out of memory: try again later */
	}
}

static int run(struct cli_env *env)
{
	struct mxtls_submission s = {
		.flags = MXTLS_SUBMIT_DOT_ENDS, .rcpt = env->pos, .nrcpt = env->npos};
	for (size_t i = 0; i < env->ngiven; i++) {
		const struct cli_given *g = &env->given[i];
		switch (g->id) {
		case O_T:
			s.flags |= MXTLS_SUBMIT_RCPT_FROM_HEADERS;
			break;
		case O_I:
			s.flags &= ~(unsigned)MXTLS_SUBMIT_DOT_ENDS;
			break;
		case O_O:
			if (strcmp(g->value, "i") == 0)
				s.flags &= ~(unsigned)MXTLS_SUBMIT_DOT_ENDS;
			break;
		case O_F:
			s.sender = g->value;
			break;
		case O_FULLNAME:
			s.full_name = g->value;
			break;
		default:
			break;
		}
	}
	if (s.nrcpt == 0 && (s.flags & MXTLS_SUBMIT_RCPT_FROM_HEADERS) == 0) {
		cli_errorf(env, "no recipients: give them as arguments, or -t to read the header");
		return EXIT_USAGE;
	}
	char login[256];
	s.login = login_name(login, sizeof login);
	struct mxtls_ctx *ctx = NULL;
	int status = cli_open_ctx(env, &ctx);
	if (status != EXIT_OK)
		return status;
	char *data = NULL;
	int r = read_stdin(MXTLS_QUEUE_MESSAGE_MAX, &data, &s.len);
	if (r != 0) {
		cli_errorf(env,
			   r > 0 ? "the message is larger than %u bytes"
				 : "cannot read the message from standard input",
			   MXTLS_QUEUE_MESSAGE_MAX);
		mxtls_ctx_free(ctx);
		return r > 0 ? EXIT_DATAERR : EXIT_TEMPFAIL;
	}
	s.data = data;
	char err[1024] = "", id[MXTLS_QUEUE_ID_SIZE];
	struct mxtls_queue *q = NULL;
	int rc;
	/* Root and the queue's owner write into the queue; anyone else leaves a drop file in its
	 * maildrop for the owner to pick up (doc/queue-security.md). */
	bool direct = mxtls_queue_may_open(ctx);
	if (direct) {
		rc = mxtls_queue_open(ctx, 0, &q, err, sizeof err);
		if (rc == MXTLS_OK)
			rc = mxtls_queue_submit(q, &s, id, err, sizeof err);
	} else {
		rc = mxtls_queue_drop(ctx, &s, err, sizeof err);
	}
	if (rc != MXTLS_OK) {
		cli_errorf(env, "message not queued: %s", err[0] ? err : mxtls_strerror(rc));
		status = exit_for(rc);
	} else if (env->verbose > 0) {
		if (direct)
			cli_errorf(env, "queued as %s", id);
		else
			cli_errorf(env, "left in the maildrop for the queue's owner to pick up");
	}
	mxtls_queue_close(q);
	free(data);
	mxtls_ctx_free(ctx);
	return status;
}

const struct cli_command cli_cmd_sendmail = {
	.name = "sendmail",
	.usage = "[-t] [-i|-oi] [-f ADDR] [-F NAME] [--] [RCPT ...]",
	.summary = "queue a message from standard input (the sendmail(1) interface)",
	.details =
		"Reads an RFC 5322 message on standard input and queues it in STATE_DIR/queue/.\n"
		"Adds Date, Message-ID and From when missing (From: NAME from -F and the\n"
		"envelope sender, else LOGIN@HOST) and removes Bcc. Without -i a line with a\n"
		"single dot ends the message. Recipients (arguments, and with -t the To, Cc and\n"
		"Bcc addresses) must be RFC 5321 mailboxes; one without a domain gets @HOST.\n"
		"Silent on success; exit 0 only once the message is durable, 64 usage (a bad\n"
		"argument or recipient), 65 bad message (e.g. -t and no recipient), 75 the queue\n"
		"cannot take it now (disk full, permissions), with nothing of it left behind.\n"
		"Root and the owner of the state directory write into the queue; other users\n"
		"leave the message in STATE_DIR/queue/maildrop/ (only they can read it there),\n"
		"and exit 0 once it is durable there; the delivery daemon picks it up, with\n"
		"their login name as the default sender. See mxtls(1) for the permissions.",
	.options = sendmail_options,
	.run = run,
};
