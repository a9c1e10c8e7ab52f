/* SPDX-License-Identifier: MIT */
/* mxtls publish DOMAIN [--mode testing|enforce] [--rua URI ...] [--out DIR]: what the owner of
 * DOMAIN publishes for MTA-STS (RFC 8461), TLS-RPT (RFC 8460) and DANE (RFC 7672), from the
 * MX set and the certificates its hosts present now. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_env.h"
#include "cli_exit.h"
#include "cli_io.h"
#include "cli_json.h"

enum { O_MODE, O_RUA, O_OUT };

static const struct cli_opt publish_options[] = {
	{"mode", 0, CLI_VALUE, O_MODE, "MODE",
	 "the policy mode: testing (the default; failures are only reported) or enforce"},
	{"rua", 0, CLI_VALUE, O_RUA, "URI",
	 "where TLS reports go (mailto: or https:), repeatable: one _smtp._tls record lists all"},
	{"out", 0, CLI_VALUE, O_OUT, "DIR",
	 "also write DIR/mta-sts.txt (the policy) and DIR/zone.txt (the records); the id of an "
	 "earlier run there is kept while the policy text is unchanged"},
	{NULL, 0, 0, 0, NULL, NULL},
};

/* The cap on the earlier files read back from --out DIR (a policy is at most 64 KB). */
#define PUBLISH_PREV_MAX 65536

/* Reads DIR/name into *data when it exists; a missing file is not an error (-> NULL). */
static int read_prev(struct cli_env *env, const char *dir, const char *name, char **data,
		     size_t *len)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	*data = NULL;
	*len = 0;
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	char err[512];
	if (cli_read_file(path, PUBLISH_PREV_MAX, data, len, err, sizeof err) != 0) {
		cli_errorf(env, "%s", err);
		return -1;
	}
	return 0;
}

/* DIR/name, written whole (cli_write_file()). */
static int write_file(struct cli_env *env, const char *dir, const char *name, const char *text)
{
	char path[4096], err[4400];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (cli_write_file(path, text, strlen(text), err, sizeof err) == 0)
		return 0;
	cli_errorf(env, "%s", err);
	return -1;
}

/* The policy file as zone-file comments, so that standard output stays one zone file. */
static void print_policy_comment(FILE *out, const struct mxtls_publish *p)
{
	fprintf(out,
		"; The policy file mta-sts.txt (CRLF line ends), to serve at\n"
		";   https://mta-sts.%s/.well-known/mta-sts.txt (Content-Type: text/plain):\n",
		mxtls_publish_domain(p));
	const char *s = mxtls_publish_policy(p);
	while (*s != '\0') {
		size_t n = strcspn(s, "\r\n");
		fprintf(out, ";   %.*s\n", (int)n, s);
		s += n;
		s += strspn(s, "\r\n");
	}
}

static void print_json(FILE *out, const struct mxtls_publish *p, const char *dir)
{
	struct cli_json j;
	cli_json_init(&j, out);
	cli_json_object_begin(&j, NULL);
	cli_json_string(&j, "domain", mxtls_publish_domain(p));
	cli_json_string(&j, "mode", mxtls_publish_mode(p));
	cli_json_int(&j, "max_age", (int64_t)mxtls_publish_max_age(p));
	cli_json_string(&j, "policy", mxtls_publish_policy(p));
	cli_json_object_begin(&j, "sts");
	cli_json_string(&j, "record", mxtls_publish_sts_record(p));
	cli_json_string(&j, "id", mxtls_publish_id(p));
	cli_json_bool(&j, "id_kept", mxtls_publish_id_kept(p));
	cli_json_object_end(&j);
	cli_json_string(&j, "tlsrpt", mxtls_publish_tlsrpt_record(p));
	cli_json_array_begin(&j, "mx");
	for (size_t i = 0; i < mxtls_publish_host_count(p); i++) {
		cli_json_object_begin(&j, NULL);
		cli_json_string(&j, "host", mxtls_publish_host_name(p, i));
		cli_json_int(&j, "preference", mxtls_publish_host_preference(p, i));
		cli_json_bool(&j, "dnssec", mxtls_publish_host_dnssec(p, i));
		cli_json_array_begin(&j, "tlsa");
		for (size_t k = 0; k < mxtls_publish_host_tlsa_count(p, i); k++)
			cli_json_string(&j, NULL, mxtls_publish_host_tlsa(p, i, k));
		cli_json_array_end(&j);
		cli_json_string(&j, "issuer_tlsa", mxtls_publish_host_issuer_tlsa(p, i));
		cli_json_object_end(&j);
	}
	cli_json_array_end(&j);
	cli_json_string(&j, "zone", mxtls_publish_zone(p));
	cli_json_string(&j, "out", dir);
	cli_json_object_end(&j);
	fputc('\n', out);
}

static int exit_of(int rc)
{
	if (rc == MXTLS_E_NOTFOUND)
		return EXIT_NEGATIVE;
	if (rc == MXTLS_E_SYNTAX) /* the DNS data: an MX record that names an address */
		return EXIT_DATAERR;
	return cli_exit_of(rc);
}

static int run_publish(struct cli_env *env)
{
	if (env->npos != 1) {
		cli_errorf(env, "publish takes one DOMAIN");
		return EXIT_USAGE;
	}
	struct mxtls_publish_req req = {.domain = env->pos[0]};
	const char *dir = NULL;
	const char **rua = calloc(env->ngiven + 1, sizeof *rua);
	if (rua == NULL)
		return EXIT_SOFTWARE;
	int ex = EXIT_OK;
	for (size_t i = 0; i < env->ngiven && ex == EXIT_OK; i++) {
		const char *v = env->given[i].value;
		switch (env->given[i].id) {
		case O_MODE:
			if (strcmp(v, "testing") != 0 && strcmp(v, "enforce") != 0) {
				cli_errorf(env, "--mode is testing or enforce, not %s", v);
				ex = EXIT_USAGE;
			}
			req.enforce = strcmp(v, "enforce") == 0;
			break;
		case O_RUA:
			rua[req.nrua++] = v;
			break;
		case O_OUT:
			dir = v;
			break;
		}
	}
	req.rua = rua;
	char *prev_policy = NULL, *prev_zone = NULL;
	if (ex == EXIT_OK && dir != NULL &&
	    (read_prev(env, dir, "mta-sts.txt", &prev_policy, &req.prev_policy_len) != 0 ||
	     read_prev(env, dir, "zone.txt", &prev_zone, &req.prev_zone_len) != 0))
		ex = EXIT_CONFIG;
	req.prev_policy = prev_policy;
	req.prev_zone = prev_zone;
	struct mxtls_ctx *ctx = NULL;
	if (ex == EXIT_OK)
		ex = cli_open_ctx_readonly(env, &ctx);
	struct mxtls_publish *p = NULL;
	if (ex == EXIT_OK) {
		char err[1024] = "";
		int rc = mxtls_publish(ctx, &req, &p, err, sizeof err);
		if (rc != MXTLS_OK) {
			cli_errorf(env, "%s", err[0] ? err : mxtls_strerror(rc));
			ex = exit_of(rc);
		}
	}
	/* Files first: what is printed is what was written. */
	if (ex == EXIT_OK && dir != NULL &&
	    (write_file(env, dir, "mta-sts.txt", mxtls_publish_policy(p)) != 0 ||
	     write_file(env, dir, "zone.txt", mxtls_publish_zone(p)) != 0))
		ex = EXIT_CONFIG;
	if (ex == EXIT_OK && env->json) {
		print_json(env->out, p, dir);
	} else if (ex == EXIT_OK) {
		print_policy_comment(env->out, p);
		fputs(mxtls_publish_zone(p), env->out);
	}
	mxtls_publish_free(p);
	mxtls_ctx_free(ctx);
	free(prev_policy);
	free(prev_zone);
	free(rua);
	return ex;
}

const struct cli_command cli_cmd_publish = {
	.name = "publish",
	.usage = "DOMAIN [--mode testing|enforce] [--rua URI ...] [--out DIR]",
	.summary = "print the MTA-STS policy, TXT and TLSA records to publish for DOMAIN",
	.details = "Looks up DOMAIN's MX hosts, connects to each on port 25 and takes the\n"
		   "certificate it presents after STARTTLS. Prints zone-file lines: the policy\n"
		   "file (as comments), _mta-sts TXT, _smtp._tls TXT (with --rua) and TLSA 3 1 1\n"
		   "per MX host. Every MX host must answer with TLS, else nothing is printed\n"
		   "(exit 75). Exit 0 ok, 1 DOMAIN receives no mail, 64 bad arguments, 65 an MX\n"
		   "names an IP address, 75 a lookup or connection failed, 78 --out DIR unusable.",
	.options = publish_options,
	.run = run_publish,
};
