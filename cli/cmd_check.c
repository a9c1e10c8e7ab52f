/* SPDX-License-Identifier: MIT */
/* mxtls check DOMAIN [--connect [--tlsrpt-record]]: the delivery decision for a domain, per MX
 * host; with --tlsrpt-record each probe counts in the day's TLS reports (RFC 8460). */
#include <stdio.h>
#include <string.h>

#include "cli_env.h"
#include "cli_exit.h"
#include "cli_json.h"
#include "cli_policy.h"

enum { O_CONNECT, O_TLSRPT_RECORD };

static const struct cli_opt check_options[] = {
	{"connect", 0, CLI_FLAG, O_CONNECT, NULL,
	 "connect to each usable MX host, run STARTTLS and check its certificate (no mail)"},
	{"tlsrpt-record", 0, CLI_FLAG, O_TLSRPT_RECORD, NULL,
	 "with --connect: record each probe as a TLS-RPT session in STATE_DIR/tlsrpt.sqlite, as a "
	 "delivery would (mxtls tlsrpt report)"},
	{NULL, 0, 0, 0, NULL, NULL},
};

/* The --connect verdict of one host. */
struct probe_out {
	bool tried;       /* false: excluded or unreachable, not contacted */
	int rc;           /* MXTLS_OK: a verdict; else no answer */
	struct mxtls_probe_info info; /* result, reason, tls_version, addresses */
};

/* A failure that counts against the domain: a host with a TLS requirement that failed. */
static bool required_failed(const char *security, const struct probe_out *p)
{
	bool required = strcmp(security, "dane") == 0 || strcmp(security, "dane-encrypt") == 0 ||
			strcmp(security, "mta-sts") == 0;
	return required && p->tried && (p->rc != MXTLS_OK || p->info.result != MXTLS_RESULT_OK);
}

static const char *probe_word(const struct probe_out *p)
{
	if (!p->tried)
		return "not contacted";
	if (p->rc != MXTLS_OK)
		return p->rc == MXTLS_E_TIMEOUT ? "timeout" : "no connection";
	return mxtls_result_name(p->info.result);
}

static void print_text(FILE *out, const struct mxtls_decision *d, const struct probe_out *pr,
		       bool connect)
{
	fprintf(out, "domain: %s\n", mxtls_decision_domain(d));
	fprintf(out, "mode: %s (%s)\n", mxtls_decision_mode(d), mxtls_decision_reason(d));
	if (strcmp(mxtls_decision_mx_status(d), "skipped") == 0)
		fprintf(out, "mx lookup: skipped (a next-hop host: its name comes from the "
			     "configuration and counts as secure, RFC 7672 section 2.2.2)\n");
	else if (strcmp(mxtls_decision_mx_status(d), "tempfail") == 0)
		/* No usable answer, so no DNSSEC status either: say what failed instead. */
		fprintf(out, "mx lookup: failed, no usable answer (%s)\n",
			strncmp(mxtls_decision_reason(d), "MX lookup failed: ", 18) == 0
				? mxtls_decision_reason(d) + 18
				: "see mode above");
	else
		fprintf(out, "mx lookup: %s, %s%s\n", mxtls_decision_mx_status(d),
			mxtls_decision_mx_secure(d) ? "dnssec secure" : "dnssec insecure",
			mxtls_decision_mx_implicit(d) ? ", implicit MX (no MX records)" : "");
	for (size_t i = 0; i < mxtls_decision_host_count(d); i++) {
		fprintf(out, "  %u %s\n", mxtls_decision_host_preference(d, i),
			mxtls_decision_host_name(d, i));
		fprintf(out, "      security: %s -- %s\n", mxtls_decision_host_security(d, i),
			mxtls_decision_host_reason(d, i));
		fprintf(out, "      addresses (dnssec %s):", mxtls_decision_host_dnssec(d, i));
		for (size_t k = 0; k < mxtls_decision_host_addr_count(d, i); k++)
			fprintf(out, " %s", mxtls_decision_host_addr(d, i, k));
		fputc('\n', out);
		for (size_t k = 0; k < mxtls_decision_host_tlsa_count(d, i); k++) {
			int usable;
			const char *why;
			const char *rec = mxtls_decision_host_tlsa(d, i, k, &usable, &why);
			fprintf(out, "      tlsa: %s (%s%s%s)\n", rec != NULL ? rec : "?",
				usable ? "usable" : "unusable", usable ? "" : ": ",
				usable ? "" : why != NULL ? why : "");
		}
		int m = mxtls_decision_host_sts_match(d, i);
		if (m >= 0)
			fprintf(out, "      mta-sts: %s the policy\n", m ? "listed in" : "not listed in");
		fprintf(out, "      tls server name: %s\n", mxtls_decision_host_sni(d, i));
		if (connect)
			fprintf(out, "      connect: %s%s%s -- %s\n", probe_word(&pr[i]),
				pr[i].info.tls_version[0] ? ", " : "", pr[i].info.tls_version,
				pr[i].info.reason);
	}
	const struct mxtls_sts_policy *p = mxtls_decision_sts(d);
	const char *txt = mxtls_sts_policy_txt(p);
	const char *txt_why = mxtls_sts_policy_txt_reason(p);
	fprintf(out, "mta-sts record: %s%s%s%s", mxtls_sts_policy_txt_state(p),
		txt != NULL && txt[0] ? " \"" : "", txt != NULL && txt[0] ? txt : "",
		txt != NULL && txt[0] ? "\"" : "");
	/* Why there is no usable record: absent, invalid, or the lookup failed. */
	if (txt_why != NULL && strcmp(mxtls_sts_policy_txt_state(p), "valid") != 0)
		fprintf(out, " (%s)", txt_why);
	fputc('\n', out);
	if (mxtls_sts_policy_fetched(p) && mxtls_sts_policy_fetch_result(p) != MXTLS_RESULT_OK)
		fprintf(out, "mta-sts fetch: %s (%s)\n",
			mxtls_result_name(mxtls_sts_policy_fetch_result(p)),
			mxtls_sts_policy_fetch_error(p));
	fprintf(out, "mta-sts policy source: %s\n", mxtls_sts_policy_source(p));
	if (mxtls_sts_policy_mode(p) != NULL) {
		fprintf(out, "mta-sts policy: mode %s, max_age %lld, mx", mxtls_sts_policy_mode(p),
			(long long)mxtls_sts_policy_max_age(p));
		for (size_t k = 0; k < mxtls_sts_policy_mx_count(p); k++)
			fprintf(out, " %s", mxtls_sts_policy_mx(p, k));
		fputc('\n', out);
	}
	const char *rpt = mxtls_decision_tlsrpt(d);
	if (strcmp(mxtls_decision_tlsrpt_state(d), "error") == 0) /* rpt: what went wrong */
		fprintf(out, "tls-rpt record: error (lookup failed: %s)\n", rpt[0] ? rpt : "?");
	else
		fprintf(out, "tls-rpt record: %s%s%s%s\n", mxtls_decision_tlsrpt_state(d),
			rpt[0] ? " \"" : "", rpt, rpt[0] ? "\"" : "");
}

/* Does text tell of a lookup that got no answer at all (SERVFAIL, REFUSED, a timeout)? */
static bool no_answer(const char *text)
{
	return text != NULL && (strstr(text, "servfail") != NULL ||
				strstr(text, "SERVFAIL") != NULL || strstr(text, "timeout") != NULL ||
				strstr(text, "timed out") != NULL);
}

/*
 * When lookups went unanswered, the usual cause on a new machine is that the built-in
 * resolver (recursion from the root) cannot reach the root name servers: say so, on stderr.
 */
static void hint_unanswered(struct cli_env *env, const struct mxtls_decision *d)
{
	bool seen = no_answer(mxtls_decision_reason(d)) ||
		    no_answer(mxtls_sts_policy_txt_reason(mxtls_decision_sts(d)));
	for (size_t i = 0; i < mxtls_decision_host_count(d); i++)
		seen |= no_answer(mxtls_decision_host_reason(d, i));
	if (!seen)
		return;
	const char *conf = mxtls_config_get(env->cfg, "unbound-conf");
	if (conf != NULL)
		cli_errorf(env, "hint: DNS lookups got no answer (SERVFAIL or timeout).  If every "
				"domain fails like this, check that the servers named in unbound-conf "
				"%s answer from this host and return DNSSEC records.  Run with -v to "
				"see each lookup.",
			   conf);
	else
		cli_errorf(env, "hint: DNS lookups got no answer (SERVFAIL or timeout).  If every "
				"domain fails like this, this host may not reach the root name servers "
				"(port 53 blocked, no direct Internet access): give --unbound-conf FILE "
				"(or unbound-conf = FILE in mxtls.conf) with a forward-zone for \".\" to "
				"a resolver that returns DNSSEC records; mxtls still validates itself.  "
				"Run with -v to see each lookup.  See mxtls(1), --unbound-conf.");
}

static void print_json(FILE *outf, const struct mxtls_decision *d, const struct probe_out *pr,
		       bool connect)
{
	struct cli_json j;
	cli_json_init(&j, outf);
	cli_json_object_begin(&j, NULL);
	cli_json_string(&j, "domain", mxtls_decision_domain(d));
	cli_json_string(&j, "mode", mxtls_decision_mode(d));
	cli_json_string(&j, "reason", mxtls_decision_reason(d));
	cli_json_string(&j, "mx_status", mxtls_decision_mx_status(d));
	cli_json_bool(&j, "mx_secure", mxtls_decision_mx_secure(d));
	cli_json_bool(&j, "implicit_mx", mxtls_decision_mx_implicit(d));
	cli_json_array_begin(&j, "mx");
	for (size_t i = 0; i < mxtls_decision_host_count(d); i++) {
		cli_json_object_begin(&j, NULL);
		cli_json_string(&j, "host", mxtls_decision_host_name(d, i));
		cli_json_int(&j, "preference", mxtls_decision_host_preference(d, i));
		cli_json_string(&j, "dnssec", mxtls_decision_host_dnssec(d, i));
		cli_json_array_begin(&j, "addresses");
		for (size_t k = 0; k < mxtls_decision_host_addr_count(d, i); k++)
			cli_json_string(&j, NULL, mxtls_decision_host_addr(d, i, k));
		cli_json_array_end(&j);
		cli_json_array_begin(&j, "tlsa");
		for (size_t k = 0; k < mxtls_decision_host_tlsa_count(d, i); k++) {
			int usable;
			const char *why;
			const char *rec = mxtls_decision_host_tlsa(d, i, k, &usable, &why);
			cli_json_object_begin(&j, NULL);
			cli_json_string(&j, "record", rec);
			cli_json_bool(&j, "usable", usable);
			cli_json_string(&j, "reason", why);
			cli_json_object_end(&j);
		}
		cli_json_array_end(&j);
		int m = mxtls_decision_host_sts_match(d, i);
		if (m < 0)
			cli_json_null(&j, "sts_match");
		else
			cli_json_bool(&j, "sts_match", m);
		cli_json_string(&j, "security", mxtls_decision_host_security(d, i));
		cli_json_string(&j, "reason", mxtls_decision_host_reason(d, i));
		cli_json_string(&j, "sni", mxtls_decision_host_sni(d, i));
		if (connect) {
			cli_json_string(&j, "result", pr[i].tried && pr[i].rc == MXTLS_OK
							      ? mxtls_result_name(pr[i].info.result)
							      : NULL);
			cli_json_string(&j, "connect", probe_word(&pr[i]));
			cli_json_string(&j, "connect_reason", pr[i].info.reason);
			cli_json_string(&j, "tls_version",
					pr[i].info.tls_version[0] ? pr[i].info.tls_version : NULL);
		}
		cli_json_object_end(&j);
	}
	cli_json_array_end(&j);
	const struct mxtls_sts_policy *p = mxtls_decision_sts(d);
	cli_json_object_begin(&j, "sts");
	const char *txt = mxtls_sts_policy_txt(p);
	cli_json_string(&j, "txt_state", mxtls_sts_policy_txt_state(p));
	cli_json_string(&j, "txt", txt != NULL && txt[0] ? txt : NULL);
	cli_json_string(&j, "txt_reason", mxtls_sts_policy_txt_reason(p));
	cli_json_string(&j, "source", mxtls_sts_policy_source(p));
	cli_json_bool(&j, "fetched", mxtls_sts_policy_fetched(p));
	cli_json_string(&j, "fetch_result",
			mxtls_sts_policy_fetched(p)
				? mxtls_result_name(mxtls_sts_policy_fetch_result(p)) : NULL);
	cli_json_string(&j, "fetch_error", mxtls_sts_policy_fetch_error(p));
	cli_json_policy(&j, p);
	cli_json_object_end(&j);
	const char *rpt = mxtls_decision_tlsrpt(d);
	cli_json_string(&j, "tlsrpt_state", mxtls_decision_tlsrpt_state(d));
	cli_json_string(&j, "tlsrpt", rpt[0] ? rpt : NULL);
	cli_json_object_end(&j);
	fputc('\n', outf);
}

/*
 * --tlsrpt-record: what the probes add to today's TLS reports, as a delivery records it
 * (RFC 8460 §4.2; delivery/deliver.c): a failed MTA-STS policy fetch once; a probe that
 * reached a verdict is one session (its verdict is what a report says: MTA-STS testing
 * failures are failures); a host excluded by the MTA-STS policy counts as validation-failure
 * (decision D10) and one whose TLSA lookup failed as dnssec-invalid; a probe that got no
 * answer or was refused before TLS is no session.  Returns an exit code.
 */
static int record_probes(struct cli_env *env, struct mxtls_ctx *ctx,
			 const struct mxtls_decision *d, const struct probe_out *pr, size_t n)
{
	char err[512] = "";
	int rc = mxtls_tlsrpt_record_skipped(ctx, d, MXTLS_TLSRPT_DISCOVERY, err, sizeof err);
	for (size_t i = 0; i < n && (rc == MXTLS_OK || rc == MXTLS_E_NOTFOUND); i++) {
		const struct mxtls_probe_info *p = &pr[i].info;
		if (!pr[i].tried)
			rc = mxtls_tlsrpt_record_skipped(ctx, d, i, err, sizeof err);
		else if (pr[i].rc == MXTLS_OK)
			rc = mxtls_tlsrpt_record_decision(ctx, d, i, p->result, p->sending_ip,
							  p->receiving_ip, p->receiving_helo,
							  p->reason, err, sizeof err);
	}
	if (rc == MXTLS_OK || rc == MXTLS_E_NOTFOUND)
		return EXIT_OK;
	cli_errorf(env, "TLS-RPT results not recorded: %s", err[0] ? err : mxtls_strerror(rc));
	return rc == MXTLS_E_CONFIG ? EXIT_CONFIG : rc == MXTLS_E_IO ? EXIT_TEMPFAIL : EXIT_SOFTWARE;
}

static int run_check(struct cli_env *env)
{
	if (env->npos != 1) {
		cli_errorf(env, "check takes one DOMAIN");
		return EXIT_USAGE;
	}
	bool connect = false, record = false;
	for (size_t i = 0; i < env->ngiven; i++) {
		connect |= env->given[i].id == O_CONNECT;
		record |= env->given[i].id == O_TLSRPT_RECORD;
	}
	if (record && !connect) {
		cli_errorf(env, "--tlsrpt-record needs --connect (only probes are sessions)");
		return EXIT_USAGE;
	}
	if (record && mxtls_config_get(env->cfg, "state-dir") == NULL) {
		cli_errorf(env, "--tlsrpt-record needs a state directory (--state-dir DIR or state-dir "
				"in mxtls.conf): the results are kept in STATE_DIR/tlsrpt.sqlite");
		return EXIT_CONFIG;
	}
	/* One -v shows each DNS lookup too (debug lines): that is what check is for. */
	if (env->verbose == 1)
		env->verbose = 2;
	struct mxtls_ctx *ctx;
	/* check creates no state directory, unless it is to record results there. */
	int ex = record ? cli_open_ctx(env, &ctx) : cli_open_ctx_readonly(env, &ctx);
	if (ex != EXIT_OK)
		return ex;
	char err[512] = "";
	struct mxtls_decision *d = NULL;
	/* "[host]": a next-hop host, decided without an MX lookup (Postfix's relayhost =
	 * [host]; RFC 7672 §2.2.2). */
	const char *name = env->pos[0];
	size_t nlen = strlen(name);
	char host[256];
	unsigned flags = 0;
	if (nlen > 2 && name[0] == '[' && name[nlen - 1] == ']' && nlen - 2 < sizeof host) {
		memcpy(host, name + 1, nlen - 2);
		host[nlen - 2] = '\0';
		name = host;
		flags = MXTLS_DECIDE_NO_MX;
	}
	int rc = mxtls_decide_flags(ctx, name, flags, &d, err, sizeof err);
	if (rc != MXTLS_OK) {
		cli_errorf(env, "%s", err[0] ? err : mxtls_strerror(rc));
		mxtls_ctx_free(ctx);
		return rc == MXTLS_E_INVAL ? EXIT_USAGE : rc == MXTLS_E_CONFIG ? EXIT_CONFIG
											: EXIT_SOFTWARE;
	}
	size_t n = mxtls_decision_host_count(d);
	struct probe_out pr[64] = {0};
	bool failed = false;
	for (size_t i = 0; connect && i < n && i < 64; i++) {
		pr[i].rc = mxtls_decision_probe2(ctx, d, i, &pr[i].info);
		pr[i].tried = pr[i].rc != MXTLS_E_NOTFOUND;
		failed |= required_failed(mxtls_decision_host_security(d, i), &pr[i]);
	}
	int rec = record ? record_probes(env, ctx, d, pr, n < 64 ? n : 64) : EXIT_OK;
	if (env->json)
		print_json(env->out, d, pr, connect);
	else
		print_text(env->out, d, pr, connect);
	hint_unanswered(env, d);
	const char *mode = mxtls_decision_mode(d);
	/* tempfail: try later (75); undeliverable: the domain takes no mail (69); with --connect,
	 * a host that must be authenticated and was not: a negative verdict (1). */
	ex = strcmp(mode, "tempfail") == 0 ? EXIT_TEMPFAIL
	     : strcmp(mode, "undeliverable") == 0 ? EXIT_UNAVAILABLE
	     : failed ? EXIT_NEGATIVE : EXIT_OK;
	if (rec != EXIT_OK)
		ex = rec; /* the results asked for were not kept: that comes first */
	mxtls_decision_free(d);
	mxtls_ctx_free(ctx);
	return ex;
}

const struct cli_command cli_cmd_check = {
	.name = "check",
	.usage = "DOMAIN|[HOST] [--connect [--tlsrpt-record]]",
	.summary = "show the delivery policy of DOMAIN per MX host (DANE, MTA-STS, TLS-RPT); "
		   "[HOST]: of that relay host itself, without an MX lookup",
	.options = check_options,
	.run = run_check,
};
