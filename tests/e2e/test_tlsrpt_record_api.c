/* SPDX-License-Identifier: MIT */
/* The TLS-RPT recording API of an embedding MTA (include/mxtls/tlsrpt.h), public headers only:
 * mxtls_tlsrpt_record_decision() and mxtls_tlsrpt_record_skipped() on decisions made on the
 * test network (run-with-dns.sh --tap --smtp), with mxtls_decision_probe2() giving a session's
 * facts; what each returns, and the reports mxtls_tlsrpt_report() then writes (one file per
 * policy domain recorded).  The report contents are asserted by e2e-check-tlsrpt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mxtls/mxtls.h>

static int failures, count;

static void check(int ok, const char *what, const char *diag)
{
	count++;
	printf("%s %d - %s\n", ok ? "ok" : "not ok", count, what);
	if (!ok) {
		failures++;
		if (diag != NULL && diag[0] != '\0')
			printf("# %s\n", diag);
	}
}

static struct mxtls_ctx *open_ctx(const char *state)
{
	struct mxtls_config *cfg;
	struct mxtls_ctx *ctx = NULL;
	char err[512] = "";
	if (mxtls_config_new(&cfg) != MXTLS_OK)
		return NULL;
	if (mxtls_config_set(cfg, "unbound-conf", getenv("MXTLS_TEST_UNBOUND_CONF"), err,
			     sizeof err) != MXTLS_OK ||
	    mxtls_config_set(cfg, "ca-file", getenv("MXTLS_TEST_CA_FILE"), err, sizeof err) !=
		    MXTLS_OK ||
	    mxtls_config_set(cfg, "tlsrpt-organization", "mxtls e2e", err, sizeof err) !=
		    MXTLS_OK ||
	    mxtls_config_set(cfg, "tlsrpt-contact", "tlsrpt@sender.test", err, sizeof err) !=
		    MXTLS_OK ||
	    (state != NULL &&
	     mxtls_config_set(cfg, "state-dir", state, err, sizeof err) != MXTLS_OK) ||
	    mxtls_ctx_new(cfg, &ctx, err, sizeof err) != MXTLS_OK)
		fprintf(stderr, "set-up: %s\n", err);
	mxtls_config_free(cfg);
	return ctx;
}

static struct mxtls_decision *decide(struct mxtls_ctx *ctx, const char *domain)
{
	struct mxtls_decision *d = NULL;
	char err[512] = "";
	int rc = mxtls_decide(ctx, domain, &d, err, sizeof err);
	char what[300];
	snprintf(what, sizeof what, "decided %s", domain);
	check(rc == MXTLS_OK && d != NULL, what, err);
	return d;
}

int main(void)
{
	char state[] = "/tmp/mxtls-tlsrpt-api.XXXXXX";
	if (mkdtemp(state) == NULL)
		return 1;
	char store[600], out[600];
	snprintf(store, sizeof store, "%s/state", state); /* created by the first record */
	snprintf(out, sizeof out, "%s/out", state);
	struct mxtls_ctx *ctx = open_ctx(store);
	if (ctx == NULL)
		return 1;
	char err[512] = "";

	/* stsbadcert.sts.test: mx1's certificate is untrusted, mx2's good (MTA-STS enforce). */
	struct mxtls_decision *bad = decide(ctx, "stsbadcert.sts.test");
	if (bad == NULL)
		return 1;
	struct mxtls_probe_info p;
	int rc = mxtls_decision_probe2(ctx, bad, 0, &p);
	check(rc == MXTLS_OK && p.result == MXTLS_RESULT_CERTIFICATE_NOT_TRUSTED && p.connected &&
		      strcmp(p.receiving_ip, "127.0.10.140") == 0 && p.sending_ip[0] != '\0' &&
		      p.receiving_helo[0] != '\0' && p.tls_version[0] == '\0',
	      "probe2 mx1.stsbadcert: certificate-not-trusted, both addresses, helo, no TLS",
	      p.reason);
	rc = mxtls_tlsrpt_record_decision(ctx, bad, 0, p.result, p.sending_ip, p.receiving_ip,
					  p.receiving_helo, p.reason, err, sizeof err);
	check(rc == MXTLS_OK, "record_decision: the failed session", err);
	struct mxtls_probe_info p2;
	rc = mxtls_decision_probe2(ctx, bad, 1, &p2);
	check(rc == MXTLS_OK && p2.result == MXTLS_RESULT_OK && p2.tls_version[0] != '\0' &&
		      strcmp(p2.receiving_ip, "127.0.10.141") == 0,
	      "probe2 mx2.stsbadcert: ok over TLS", p2.reason);
	rc = mxtls_tlsrpt_record_decision(ctx, bad, 1, MXTLS_RESULT_OK, NULL, NULL, NULL, NULL, err,
					  sizeof err);
	check(rc == MXTLS_OK, "record_decision: a successful session, everything unknown", err);
	check(mxtls_tlsrpt_record_decision(ctx, bad, 2, MXTLS_RESULT_OK, NULL, NULL, NULL, NULL,
					   err, sizeof err) == MXTLS_E_INVAL,
	      "record_decision: host out of range is MXTLS_E_INVAL", NULL);
	check(mxtls_tlsrpt_record_decision(ctx, bad, 0, (enum mxtls_result)999, NULL, NULL, NULL,
					   NULL, err, sizeof err) == MXTLS_E_INVAL,
	      "record_decision: an unknown result is MXTLS_E_INVAL", NULL);
	check(mxtls_tlsrpt_record_decision(ctx, bad, 0, MXTLS_RESULT_VALIDATION_FAILURE, NULL,
					   "not-an-address", NULL, NULL, err,
					   sizeof err) == MXTLS_E_INVAL,
	      "record_decision: a receiving_ip that is no address is MXTLS_E_INVAL", NULL);
	check(mxtls_tlsrpt_record_decision(NULL, bad, 0, MXTLS_RESULT_OK, NULL, NULL, NULL, NULL,
					   err, sizeof err) == MXTLS_E_INVAL &&
		      mxtls_tlsrpt_record_decision(ctx, NULL, 0, MXTLS_RESULT_OK, NULL, NULL, NULL,
						   NULL, err, sizeof err) == MXTLS_E_INVAL,
	      "record_decision: NULL ctx or decision is MXTLS_E_INVAL", NULL);
	check(mxtls_tlsrpt_record_skipped(ctx, bad, 0, err, sizeof err) == MXTLS_E_NOTFOUND &&
		      mxtls_tlsrpt_record_skipped(ctx, bad, MXTLS_TLSRPT_DISCOVERY, err,
						  sizeof err) == MXTLS_E_NOTFOUND,
	      "record_skipped: a usable host, a discovery that worked: MXTLS_E_NOTFOUND", NULL);
	check(mxtls_tlsrpt_record_skipped(ctx, bad, 7, err, sizeof err) == MXTLS_E_INVAL,
	      "record_skipped: host out of range is MXTLS_E_INVAL", NULL);

	/* stsmismatch.sts.test: the only MX is not in the enforce policy (excluded, D10). */
	struct mxtls_decision *mis = decide(ctx, "stsmismatch.sts.test");
	if (mis == NULL)
		return 1;
	check(mxtls_decision_probe2(ctx, mis, 0, &p) == MXTLS_E_NOTFOUND && !p.connected &&
		      p.reason[0] != '\0',
	      "probe2 of an excluded host: MXTLS_E_NOTFOUND with the reason", p.reason);
	check(mxtls_tlsrpt_record_decision(ctx, mis, 0, MXTLS_RESULT_OK, NULL, NULL, NULL, NULL,
					   err, sizeof err) == MXTLS_E_INVAL,
	      "record_decision: an excluded host is MXTLS_E_INVAL (never contacted)", NULL);
	rc = mxtls_tlsrpt_record_skipped(ctx, mis, 0, err, sizeof err);
	check(rc == MXTLS_OK, "record_skipped: the excluded host (validation-failure)", err);

	/* notfound.sts.test: the policy fetch gets 404 (sts-policy-fetch-error). */
	struct mxtls_decision *nf = decide(ctx, "notfound.sts.test");
	if (nf == NULL)
		return 1;
	rc = mxtls_tlsrpt_record_skipped(ctx, nf, MXTLS_TLSRPT_DISCOVERY, err, sizeof err);
	check(rc == MXTLS_OK, "record_skipped: the failed policy discovery", err);

	/* The day's reports: one file per policy domain recorded. */
	char day[16];
	time_t now = time(NULL);
	strftime(day, sizeof day, "%Y-%m-%d", gmtime(&now));
	char **paths = NULL;
	size_t n = 0;
	rc = mxtls_tlsrpt_report(ctx, day, NULL, out, &paths, &n, err, sizeof err);
	check(rc == MXTLS_OK && n == 3 && strstr(paths[0], "!notfound.sts.test!") != NULL &&
		      strstr(paths[1], "!stsbadcert.sts.test!") != NULL &&
		      strstr(paths[2], "!stsmismatch.sts.test!") != NULL,
	      "report: notfound, stsbadcert, stsmismatch", err);
	mxtls_tlsrpt_paths_free(paths, n);

	/* Without a state directory nothing can be kept: MXTLS_E_CONFIG. */
	struct mxtls_ctx *bare = open_ctx(NULL);
	check(bare != NULL, "a context without state-dir", NULL);
	if (bare != NULL) {
		err[0] = '\0';
		rc = mxtls_tlsrpt_record_decision(bare, bad, 1, MXTLS_RESULT_OK, NULL, NULL, NULL,
						  NULL, err, sizeof err);
		check(rc == MXTLS_E_CONFIG && err[0] != '\0',
		      "record_decision without state-dir: MXTLS_E_CONFIG, with a reason", err);
	}
	mxtls_decision_free(bad);
	mxtls_decision_free(mis);
	mxtls_decision_free(nf);
	mxtls_ctx_free(bare);
	mxtls_ctx_free(ctx);
	printf("1..%d\n", count);
	return failures == 0 ? 0 : 1;
}
