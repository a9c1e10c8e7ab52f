/* SPDX-License-Identifier: MIT */
/* mxtls sts lint: checks an MTA-STS policy file or _mta-sts TXT records with the sender's rules. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_env.h"
#include "cli_exit.h"
#include "cli_json.h"

/* The most --txt records (a TXT RRset larger than this does not fit a DNS message), and the
 * most --mx host names. */
#define TXT_ARGS_MAX 256
#define MX_ARGS_MAX  256

enum { O_TXT, O_MX };

static const struct cli_opt lint_options[] = {
	{"txt", 0, CLI_VALUE, O_TXT, "RECORD",
	 "check a _mta-sts TXT record instead of a policy (repeatable: the records of one RRset)"},
	{"mx", 0, CLI_VALUE, O_MX, "HOST",
	 "also say which mx pattern of the policy an MX host name matches (repeatable)"},
	{NULL, 0, 0, 0, NULL, NULL},
};

/*
 * Reads path ("-": standard input) into *data (caller frees with free()), at most
 * MXTLS_STS_POLICY_MAX + 1 bytes: enough for the library to see that a larger policy is over
 * its cap, which makes it invalid rather than unreadable.  Returns 0, or -1 with err set.
 */
static int read_policy(const char *path, char **data, size_t *len, char *err, size_t errlen)
{
	const size_t want = MXTLS_STS_POLICY_MAX + 1;
	int is_stdin = strcmp(path, "-") == 0;
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char *buf = malloc(want);
	size_t n = 0;
	int rc = 0;
	if (buf == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		rc = -1;
	}
	while (rc == 0 && n < want) {
		ssize_t got = read(fd, buf + n, want - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			rc = -1;
		} else if (got == 0) {
			break;
		} else {
			n += (size_t)got;
		}
	}
	if (!is_stdin)
		close(fd);
	if (rc != 0) {
		free(buf);
		return -1;
	}
	*data = buf;
	*len = n;
	return 0;
}

/* Prints the problems of one kind as text: "error: line 3, column 7: reason". */
static void print_problems_text(FILE *out, const struct mxtls_sts_lint *l, int warnings,
				const char *unit)
{
	size_t n = warnings ? mxtls_sts_lint_warnings(l) : mxtls_sts_lint_errors(l);
	for (size_t i = 0; i < n; i++) {
		unsigned line, col;
		const char *reason = warnings ? mxtls_sts_lint_warning(l, i, &line, &col)
					      : mxtls_sts_lint_error(l, i, &line, &col);
		fprintf(out, "%s: ", warnings ? "warning" : "error");
		if (line > 0 && col > 0)
			fprintf(out, "%s %u, column %u: ", unit, line, col);
		else if (line > 0)
			fprintf(out, "%s %u: ", unit, line);
		fprintf(out, "%s\n", reason);
	}
}

static void print_problems_json(struct cli_json *j, const struct mxtls_sts_lint *l, int warnings)
{
	cli_json_array_begin(j, warnings ? "warnings" : "errors");
	size_t n = warnings ? mxtls_sts_lint_warnings(l) : mxtls_sts_lint_errors(l);
	for (size_t i = 0; i < n; i++) {
		unsigned line, col;
		const char *reason = warnings ? mxtls_sts_lint_warning(l, i, &line, &col)
					      : mxtls_sts_lint_error(l, i, &line, &col);
		cli_json_object_begin(j, NULL);
		if (line > 0)
			cli_json_int(j, "line", line);
		else
			cli_json_null(j, "line");
		if (col > 0)
			cli_json_int(j, "column", col);
		else
			cli_json_null(j, "column");
		cli_json_string(j, "reason", reason);
		cli_json_object_end(j);
	}
	cli_json_array_end(j);
}

/* The hosts given with --mx, borrowed from argv. */
struct mx_hosts {
	const char *host[MX_ARGS_MAX];
	size_t n;
};

static void print_json(FILE *out, const struct mxtls_sts_lint *l, int txt,
		       const struct mx_hosts *mx)
{
	struct cli_json j;
	cli_json_init(&j, out);
	cli_json_object_begin(&j, NULL);
	cli_json_bool(&j, "valid", mxtls_sts_lint_valid(l));
	print_problems_json(&j, l, 0);
	print_problems_json(&j, l, 1);
	if (txt) {
		if (mxtls_sts_lint_valid(l)) {
			cli_json_object_begin(&j, "txt");
			cli_json_string(&j, "id", mxtls_sts_lint_id(l));
			cli_json_object_end(&j);
		} else {
			cli_json_null(&j, "txt");
		}
	} else if (mxtls_sts_lint_valid(l)) {
		cli_json_object_begin(&j, "policy");
		cli_json_string(&j, "version", mxtls_sts_lint_version(l));
		cli_json_string(&j, "mode", mxtls_sts_lint_mode(l));
		cli_json_int(&j, "max_age", mxtls_sts_lint_max_age(l));
		cli_json_array_begin(&j, "mx");
		for (size_t i = 0; i < mxtls_sts_lint_mx_count(l); i++)
			cli_json_string(&j, NULL, mxtls_sts_lint_mx(l, i));
		cli_json_array_end(&j);
		cli_json_object_end(&j);
	} else {
		cli_json_null(&j, "policy");
	}
	if (mx->n > 0) {
		cli_json_array_begin(&j, "mx_match");
		for (size_t i = 0; i < mx->n; i++) {
			int k = mxtls_sts_lint_mx_match(l, mx->host[i]);
			cli_json_object_begin(&j, NULL);
			cli_json_string(&j, "host", mx->host[i]);
			cli_json_string(&j, "pattern",
					k >= 0 ? mxtls_sts_lint_mx(l, (size_t)k) : NULL);
			cli_json_object_end(&j);
		}
		cli_json_array_end(&j);
	}
	cli_json_object_end(&j);
}

static void print_text(FILE *out, const struct mxtls_sts_lint *l, int txt,
		       const struct mx_hosts *mx)
{
	fprintf(out, "valid: %s\n", mxtls_sts_lint_valid(l) ? "yes" : "no");
	if (txt && mxtls_sts_lint_valid(l)) {
		fprintf(out, "id: %s\n", mxtls_sts_lint_id(l));
	} else if (mxtls_sts_lint_valid(l)) {
		fprintf(out, "version: %s\n", mxtls_sts_lint_version(l));
		fprintf(out, "mode: %s\n", mxtls_sts_lint_mode(l));
		fprintf(out, "max_age: %lld\n", (long long)mxtls_sts_lint_max_age(l));
		for (size_t i = 0; i < mxtls_sts_lint_mx_count(l); i++)
			fprintf(out, "mx: %s\n", mxtls_sts_lint_mx(l, i));
	}
	print_problems_text(out, l, 0, txt ? "record" : "line");
	print_problems_text(out, l, 1, txt ? "record" : "line");
	for (size_t i = 0; i < mx->n; i++) {
		int k = mxtls_sts_lint_mx_match(l, mx->host[i]);
		if (k >= 0)
			fprintf(out, "mx-match: %s: %s\n", mx->host[i],
				mxtls_sts_lint_mx(l, (size_t)k));
		else
			fprintf(out, "mx-match: %s: no pattern matches\n", mx->host[i]);
	}
}

static int run_lint(struct cli_env *env)
{
	const char *txt[TXT_ARGS_MAX];
	size_t lens[TXT_ARGS_MAX];
	size_t ntxt = 0;
	struct mx_hosts mx = {.n = 0};
	for (size_t i = 0; i < env->ngiven; i++) {
		if (env->given[i].id == O_MX) {
			if (mx.n == MX_ARGS_MAX) {
				cli_errorf(env, "more than %d --mx hosts", MX_ARGS_MAX);
				return EXIT_USAGE;
			}
			mx.host[mx.n++] = env->given[i].value;
			continue;
		}
		if (ntxt == TXT_ARGS_MAX) {
			cli_errorf(env, "more than %d --txt records", TXT_ARGS_MAX);
			return EXIT_USAGE;
		}
		txt[ntxt] = env->given[i].value;
		lens[ntxt] = strlen(txt[ntxt]);
		ntxt++;
	}
	if (env->npos > 1) {
		cli_errorf(env, "sts lint takes one FILE at most ('-' for standard input)");
		return EXIT_USAGE;
	}
	if (ntxt > 0 && env->npos > 0) {
		cli_errorf(env, "sts lint takes a FILE or --txt RECORD, not both");
		return EXIT_USAGE;
	}
	if (ntxt > 0 && mx.n > 0) {
		cli_errorf(env, "--mx applies to a policy, not to --txt records");
		return EXIT_USAGE;
	}
	struct mxtls_sts_lint *l = NULL;
	int rc;
	if (ntxt > 0) {
		rc = mxtls_sts_lint_txt(txt, lens, ntxt, &l);
	} else {
		const char *path = env->npos == 1 ? env->pos[0] : "-";
		char err[512], *data = NULL;
		size_t len = 0;
		/* Without a FILE a person at a terminal would otherwise wait on a silent command. */
		if (env->npos == 0 && isatty(STDIN_FILENO))
			cli_errorf(env, "reading the policy from standard input (end it with Ctrl-D, "
					"or give a FILE)");
		if (read_policy(path, &data, &len, err, sizeof err) != 0) {
			cli_errorf(env, "%s", err);
			return EXIT_DATAERR;
		}
		rc = mxtls_sts_lint_policy(data, len, &l);
		free(data);
	}
	if (rc != MXTLS_OK) {
		cli_errorf(env, "%s", mxtls_strerror(rc));
		return EXIT_SOFTWARE;
	}
	if (env->json)
		print_json(env->out, l, ntxt > 0, &mx);
	else
		print_text(env->out, l, ntxt > 0, &mx);
	int status = mxtls_sts_lint_valid(l) ? EXIT_OK : EXIT_NEGATIVE;
	mxtls_sts_lint_free(l);
	return status;
}

const struct cli_command cli_cmd_sts_lint = {
	.name = "sts lint",
	.usage = "[FILE|-] [--mx HOST ...] | --txt RECORD [--txt RECORD ...]",
	.summary =
		"check an MTA-STS policy file or _mta-sts TXT record as a sender would (RFC 8461)",
	.details = "Without FILE, or with '-', the policy is read from standard input; at a\n"
		   "terminal a note on standard error says so (end the input with Ctrl-D).",
	.options = lint_options,
	.run = run_lint,
};
