/* SPDX-License-Identifier: MIT */
/* TLS-RPT recording cost: mxtls_tlsrpt_record() per session (one SQLite transaction each, WAL,
 * synchronous=NORMAL) in a fresh state directory, for successes and for failures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mxtls/mxtls.h>

#include "bench_util.h"

#define ROUNDS    5
#define PER_ROUND 5000

static const char *const lines[] = {"version: STSv1", "mode: enforce", "mx: mx1.example.net",
				    "mx: mx2.example.net", "max_age: 604800"};
static const char *const mx[] = {"mx1.example.net", "mx2.example.net"};

static double round_us(struct mxtls_ctx *ctx, enum mxtls_result result, int distinct)
{
	struct mxtls_tlsrpt_session s;
	mxtls_tlsrpt_session_init(&s);
	s.policy_type = MXTLS_TLSRPT_STS;
	s.policy_domain = "example.net";
	s.policy_strings = lines;
	s.npolicy_strings = 5;
	s.mx_hosts = mx;
	s.nmx_hosts = 2;
	s.result = result;
	s.sending_mta_ip = "192.0.2.1";
	s.receiving_mx_hostname = "mx1.example.net";
	char ip[64], err[256];
	double t0 = bench_now(CLOCK_MONOTONIC);
	for (int i = 0; i < PER_ROUND; i++) {
		if (distinct) {
			snprintf(ip, sizeof ip, "2001:db8::%x:%x", distinct, i);
			s.receiving_ip = ip;
		} else {
			s.receiving_ip = "198.51.100.1";
		}
		if (mxtls_tlsrpt_record(ctx, &s, err, sizeof err) != MXTLS_OK) {
			fprintf(stderr, "bench-tlsrpt: %s\n", err);
			exit(1);
		}
	}
	return (bench_now(CLOCK_MONOTONIC) - t0) * 1e6 / PER_ROUND;
}

int main(void)
{
	char dir[] = "/tmp/mxtls-bench-tlsrpt.XXXXXX";
	if (mkdtemp(dir) == NULL)
		return 1;
	struct mxtls_config *cfg;
	struct mxtls_ctx *ctx;
	char err[256];
	if (mxtls_config_new(&cfg) != MXTLS_OK ||
	    mxtls_config_set(cfg, "state-dir", dir, err, sizeof err) != MXTLS_OK ||
	    mxtls_ctx_new(cfg, &ctx, err, sizeof err) != MXTLS_OK)
		return 1;
	mxtls_config_free(cfg);
	const struct {
		const char *what;
		enum mxtls_result r;
		int distinct;
	} kinds[] = {
		{"success (counter update)", MXTLS_RESULT_OK, 0},
		{"failure, same details (count + 1)", MXTLS_RESULT_CERTIFICATE_EXPIRED, 0},
		{"failure, new details each (row insert)", MXTLS_RESULT_CERTIFICATE_EXPIRED, 1},
	};
	printf("mxtls_tlsrpt_record(): %d rounds of %d sessions, one transaction each, WAL, "
	       "synchronous=NORMAL, %s\n",
	       ROUNDS, PER_ROUND, dir);
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		double v[ROUNDS], lo, hi;
		for (int r = 0; r < ROUNDS; r++)
			v[r] = round_us(ctx, kinds[k].r, kinds[k].distinct ? r + 1 : 0);
		double med = bench_median(v, ROUNDS, &lo, &hi, NULL);
		printf("  %-40s median %6.1f us/record (%.1f-%.1f), %.0f records/s\n",
		       kinds[k].what, med, lo, hi, 1e6 / med);
	}
	mxtls_ctx_free(ctx);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
