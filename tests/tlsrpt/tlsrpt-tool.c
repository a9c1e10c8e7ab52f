/* SPDX-License-Identifier: MIT */
/* Test helper on the public API only: records a fixed day of TLS-RPT results (fill) and writes
 * that day's reports (report), as an embedding MTA would.  Used by tests/tlsrpt/check-reports.py.
 *
 *   tlsrpt-tool fill STATE_DIR          records the scenario below on 2026-12-05 (pinned clock)
 *   tlsrpt-tool report STATE_DIR DIR    mxtls_tlsrpt_report() for 2026-12-05, prints the paths
 *   tlsrpt-tool prune STATE_DIR DAYS    mxtls_tlsrpt_prune() on 2026-12-05 keeping DAYS days
 * It links against libmxtls alone, so a public function missing from libmxtls.map fails here.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/mxtls.h>

/* 2026-12-05T12:00:00Z: every result lands on that UTC day. */
#define NOON 1796472000

static int64_t pinned(void *arg)
{
	return *(const int64_t *)arg;
}

static const char *const sts_lines[] = {"version: STSv1", "mode: testing", "mx: mx1.sts.example",
					"mx: *.backup.sts.example", "max_age: 86400"};
static const char *const sts_mx[] = {"mx1.sts.example", "*.backup.sts.example"};
static const char *const tlsa_rr[] = {
	"3 1 1 8d02536c887482bc34ff54e41d2ba659bf85b341a0a20afadb5813dcfbcf286d"};
static const char *const tlsa_mx[] = {"mx.dane.example"};

/* The scenario: what check-reports.py expects, counted by hand.
 *   sts.example (sts): 10 successes; 2 certificate-expired from 192.0.2.1 to mx1 (one entry,
 *     count 2); 1 starttls-not-supported (a second entry) -> summary 10/3.
 *   dane.example (tlsa): 3 successes, 1 tlsa-invalid with a hostile HELO and reason code.
 *   none.example (no-policy-found): 2 successes, no failures.
 *   a sts.example session at 23:59:59Z the day before: not in the report. */
static int fill(struct mxtls_ctx *ctx, int64_t *now)
{
	char err[256] = "";
	int rc = MXTLS_OK;
	struct mxtls_tlsrpt_session s;
#define RECORD()                                                                                   \
	do {                                                                                       \
		if ((rc = mxtls_tlsrpt_record(ctx, &s, err, sizeof err)) != MXTLS_OK) {            \
			fprintf(stderr, "record: %s %s\n", mxtls_strerror(rc), err);               \
			return rc;                                                                 \
		}                                                                                  \
	} while (0)
	*now = NOON - 12 * 3600 - 1; /* 2026-12-04T23:59:59Z */
	mxtls_tlsrpt_session_init(&s);
	s.policy_type = MXTLS_TLSRPT_STS;
	s.policy_domain = "sts.example";
	s.policy_strings = sts_lines;
	s.npolicy_strings = 5;
	s.mx_hosts = sts_mx;
	s.nmx_hosts = 2;
	RECORD();
	*now = NOON;
	for (int i = 0; i < 10; i++)
		RECORD();
	s.result = MXTLS_RESULT_CERTIFICATE_EXPIRED;
	s.sending_mta_ip = "192.0.2.1";
	s.receiving_mx_hostname = "mx1.sts.example";
	s.receiving_ip = "198.51.100.7";
	s.receiving_mx_helo = "mx1.sts.example\r\nsecond line";
	RECORD();
	RECORD();
	s.result = MXTLS_RESULT_STARTTLS_NOT_SUPPORTED;
	s.receiving_mx_hostname = "mx2.backup.sts.example";
	s.receiving_ip = "2001:db8::25";
	s.receiving_mx_helo = NULL;
	RECORD();

	mxtls_tlsrpt_session_init(&s);
	s.policy_type = MXTLS_TLSRPT_TLSA;
	s.policy_domain = "DANE.example."; /* stored canonical: dane.example */
	s.policy_strings = tlsa_rr;
	s.npolicy_strings = 1;
	s.mx_hosts = tlsa_mx;
	s.nmx_hosts = 1;
	for (int i = 0; i < 3; i++)
		RECORD();
	s.result = MXTLS_RESULT_TLSA_INVALID;
	s.sending_mta_ip = "2001:db8::1";
	s.receiving_mx_hostname = "mx.dane.example";
	s.receiving_mx_helo = "mx \"quoted\" \\ \x01\x1f caf\xc3\xa9 \xff";
	s.failure_reason_code = "no TLSA record matched";
	s.additional_information = "https://sender.example/tlsrpt/help";
	RECORD();

	mxtls_tlsrpt_session_init(&s);
	s.policy_domain = "none.example";
	RECORD();
	RECORD();
	return MXTLS_OK;
#undef RECORD
}

int main(int argc, char **argv)
{
	bool fill_cmd = argc == 3 && strcmp(argv[1], "fill") == 0;
	bool report_cmd = argc == 4 && strcmp(argv[1], "report") == 0;
	bool prune_cmd = argc == 4 && strcmp(argv[1], "prune") == 0;
	if (!fill_cmd && !report_cmd && !prune_cmd) {
		fprintf(stderr, "usage: tlsrpt-tool fill STATE_DIR | report STATE_DIR DIR | "
				"prune STATE_DIR DAYS\n");
		return 64;
	}
	struct mxtls_config *cfg;
	struct mxtls_ctx *ctx;
	char err[512] = "";
	if (mxtls_config_new(&cfg) != MXTLS_OK ||
	    mxtls_config_set(cfg, "state-dir", argv[2], err, sizeof err) != MXTLS_OK ||
	    mxtls_config_set(cfg, "tlsrpt-organization", "mxtls test \"org\"", err, sizeof err) !=
		    MXTLS_OK ||
	    mxtls_config_set(cfg, "tlsrpt-contact", "tlsrpt@reports.sender.example", err,
			     sizeof err) != MXTLS_OK ||
	    mxtls_ctx_new(cfg, &ctx, err, sizeof err) != MXTLS_OK) {
		fprintf(stderr, "set-up: %s\n", err);
		return 78;
	}
	mxtls_config_free(cfg);
	int64_t now = NOON;
	mxtls_ctx_set_clock(ctx, pinned, &now);
	int rc;
	if (fill_cmd) {
		rc = fill(ctx, &now);
	} else if (prune_cmd) {
		rc = mxtls_tlsrpt_prune(ctx, (unsigned)strtoul(argv[3], NULL, 10), err, sizeof err);
		if (rc != MXTLS_OK)
			fprintf(stderr, "prune: %s %s\n", mxtls_strerror(rc), err);
	} else {
		char **paths;
		size_t n;
		rc = mxtls_tlsrpt_report(ctx, "2026-12-05", NULL, argv[3], &paths, &n, err,
					 sizeof err);
		if (rc != MXTLS_OK)
			fprintf(stderr, "report: %s %s\n", mxtls_strerror(rc), err);
		for (size_t i = 0; rc == MXTLS_OK && i < n; i++)
			printf("%s\n", paths[i]);
		if (rc == MXTLS_OK)
			mxtls_tlsrpt_paths_free(paths, n);
	}
	mxtls_ctx_free(ctx);
	return rc == MXTLS_OK ? 0 : 1;
}
