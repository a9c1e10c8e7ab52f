/* SPDX-License-Identifier: MIT */
/* bench_decision: a cold DANE + MTA-STS decision's time against its critical path, DNS delayed. */
/*
 * A benchmark, not a test: it prints figures and never asserts a speed.  It does check every
 * decision (mode, per-host security, policy source) and every step's answer, and stops with
 * exit 1 on a wrong one, so nothing can look fast by being wrong.
 *
 * Runs inside the test network: bash tests/net/run-with-dns.sh --https \
 *     --pre bench/bench_decision_zones.sh build/bench/bench_decision [options]
 * Without MXTLS_TEST_UNBOUND_CONF and MXTLS_TEST_CA_FILE it prints SKIP and exits 77.
 *
 * Set-up (once per delay D): bench/dns_delay_proxy.py listens on 127.0.53.7:53 (UDP and TCP)
 * and answers every query D ms after it arrived, with nsd's (127.0.53.1) answer.  libunbound
 * gets the test network's unbound.conf plus `forward-zone: "." -> 127.0.53.7`, so every query
 * it sends, including the DS/DNSKEY queries of DNSSEC validation, costs one round trip of D.
 * bench/policy_delay_server.py serves rtt.sts.test's policy on 127.0.44.9:443 and costs each
 * HTTPS round trip D as well (3 D per fetch: TCP, TLS 1.3, GET).
 *
 * Two domains of the same shape (bench_decision_zones.sh): MX 10 mx1 (a secure TLSA 3 1 1),
 * MX 20 mx2 (no TLSA, not in the policy), an MTA-STS enforce policy naming mx1:
 *   enforce.sts.test   policy host: the test network's nginx (127.0.44.1), not delayed
 *   rtt.sts.test       policy host: policy_delay_server.py, D ms away
 * Expected decision: mode mta-sts-enforce, mx1 dane, mx2 excluded, policy from the network.
 * Per run, per D and per domain, fresh contexts (each with an empty state directory, so no
 * cached policy, and a new libunbound, so no cached answers):
 *
 *   W  "decision, chain primed": the context first decides testing.sts.test (same zone, a
 *      policy on nginx, no record in common with the measured domains), which primes
 *      libunbound's trust chain (DNSKEY/DS of ., test., sts.test.) and its server RTT estimate,
 *      creates the resolver thread, the HTTP client and the cache database.  Then
 *      mxtls_decide() of the domain is timed.  This is a cold decision as a running MTA makes
 *      it for a domain it has not seen: nothing about the domain is cached.
 *   C  "decision, fully cold" (enforce.sts.test only): mxtls_decide() on a brand-new context:
 *      the time includes creating the resolver, fetcher and cache and validating the chain
 *      from the root trust anchor (a process's first decision).
 *   S  "steps": the context is set up and primed as in W (timing the set-up and the first
 *      lookup on the way, for C), then every lookup of the decision is timed alone, one after
 *      the other, on its resolver (internal API: dns_resolve_sync(), sts_fetch_start()):
 *        MX; A, AAAA, TLSA _25._tcp of mx1 and of mx2; TXT _mta-sts; A, AAAA of the policy
 *        host; the HTTPS GET of the policy; TXT _smtp._tls.
 *
 * From S (per run, then the median over runs):
 *   dane branch = MX + max over hosts h of (max(A_h, AAAA_h) + TLSA_h)
 *   sts branch  = TXT _mta-sts + max(A_sts, AAAA_sts) + HTTPS
 *   critical    = max(dane branch, sts branch, TXT _smtp._tls)
 *     the dependency chains of the decision (A and AAAA go out together, as the library sends
 *     them); a decision cannot be faster than this.
 *   sum = the sum of all twelve steps: what a sequential implementation would pay.
 *   cold critical = set-up + (first lookup on a fresh resolver - MX) + critical, where the
 *     first lookup is MX testing.sts.test (answer + validation chain from the root key).
 * The proxy's log gives the queries each decision sent (count, repeats) and, with -v, their
 * times; the trace of the median W decision at the largest D is always printed per domain.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/event.h>

#include <mxtls/check.h>
#include <mxtls/config.h>
#include <mxtls/context.h>
#include <mxtls/error.h>
#include <mxtls/sts_fetch.h>

#include "dns/dns_resolver.h"
#include "sts/sts_fetch.h"
#include "validator/mxtls_ctx.h"

#include "bench_util.h"

#define WARM_DOMAIN "testing.sts.test"
#define RTT_ADDR    "127.0.44.9"
#define PROXY_ADDR  "127.0.53.7"
#define NSD_ADDR    "127.0.53.1"
#define RUNS_MAX    101
#define DELAYS_MAX  8
#define TRACE_MAX   256

static void die(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void die(const char *what, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "bench_decision: %s: ", what);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* ---- options and the temporary directory ------------------------------------------------ */

static struct {
	int runs;
	double delays[DELAYS_MAX];
	size_t ndelays;
	const char *python;
	const char *proxy_script;
	const char *policy_script;
	char policy_cert[300], policy_key[300];
	bool verbose;
	char tmp[256];
	char conf[300];
	const char *ca_file;
	unsigned serial; /* state directories */
} opt = {.runs = 5,
	 .python = "/usr/bin/python3",
	 .proxy_script = BENCH_DNS_PROXY_SCRIPT,
	 .policy_script = BENCH_POLICY_SERVER_SCRIPT};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void cleanup_tmp(void)
{
	if (opt.tmp[0] != '\0')
		nftw(opt.tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The test network's unbound.conf, with every query forwarded to the delaying proxy. */
static void write_conf(const char *src)
{
	FILE *in = fopen(src, "r");
	if (in == NULL)
		die(src, "%s", strerror(errno));
	snprintf(opt.conf, sizeof opt.conf, "%s/unbound-proxy.conf", opt.tmp);
	FILE *out = fopen(opt.conf, "w");
	if (out == NULL)
		die(opt.conf, "%s", strerror(errno));
	char line[1024];
	while (fgets(line, sizeof line, in) != NULL) {
		if (strstr(line, "forward-zone") != NULL || strstr(line, "stub-zone") != NULL)
			die(src,
			    "already has a forward or stub zone; cannot route it to the proxy");
		fputs(line, out);
	}
	/* Forwarding, not a stub: with a stub, the NS records in nsd's answers would send later
	 * queries straight to 127.0.53.1.  nsd is authoritative for every zone, so it answers the
	 * forwarded queries (RD is ignored) just as it answers the iterator. */
	fprintf(out,
		"\n# bench_decision: every query through the delaying proxy\n"
		"forward-zone:\n\tname: \".\"\n\tforward-addr: %s\n",
		PROXY_ADDR);
	fclose(in);
	if (fclose(out) != 0)
		die(opt.conf, "%s", strerror(errno));
}

/* ---- the proxy and the delayed policy host (co-processes) ------------------------------ */

static struct {
	pid_t pid, policy_pid;
	char log[300];
} proxy;

static void stop_child(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	waitpid(*pid, NULL, 0);
	*pid = 0;
}

static void proxy_stop(void)
{
	stop_child(&proxy.pid);
	stop_child(&proxy.policy_pid);
}

/* Starts argv (a Python script) and waits until it prints "ready". */
static pid_t start_ready(char *const argv[])
{
	const char *name = strrchr(argv[1], '/') != NULL ? strrchr(argv[1], '/') + 1 : argv[1];
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0)
		die("pipe", "%s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		die("fork", "%s", strerror(errno));
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		execv(argv[0], argv);
		fprintf(stderr, "bench_decision: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	char buf[64] = "";
	size_t len = 0;
	struct pollfd p = {.fd = fds[0], .events = POLLIN};
	while (len < sizeof buf - 1 && strchr(buf, '\n') == NULL) {
		if (poll(&p, 1, 10000) <= 0)
			die(name, "not ready after 10 s");
		ssize_t n = read(fds[0], buf + len, sizeof buf - 1 - len);
		if (n <= 0)
			die(name, "exited before it was ready (see above)");
		len += (size_t)n;
		buf[len] = '\0';
	}
	close(fds[0]);
	if (strncmp(buf, "ready", 5) != 0)
		die(name, "said '%s' instead of ready", buf);
	return pid;
}

static void proxy_start(double delay_ms)
{
	snprintf(proxy.log, sizeof proxy.log, "%s/proxy-%g.log", opt.tmp, delay_ms);
	char delay[32];
	snprintf(delay, sizeof delay, "%g", delay_ms);
	char *dns[] = {(char *)opt.python,
		       (char *)opt.proxy_script,
		       "--listen",
		       PROXY_ADDR,
		       "--upstream",
		       NSD_ADDR,
		       "--delay-ms",
		       delay,
		       "--log",
		       proxy.log,
		       NULL};
	proxy.pid = start_ready(dns);
	char *https[] = {(char *)opt.python,
			 (char *)opt.policy_script,
			 "--listen",
			 RTT_ADDR,
			 "--cert",
			 opt.policy_cert,
			 "--key",
			 opt.policy_key,
			 "--mx",
			 "mx1.rtt.sts.test",
			 "--delay-ms",
			 delay,
			 NULL};
	proxy.policy_pid = start_ready(https);
}

struct qline {
	double t0, t1;
	char proto[4];
	char name[256];
	unsigned type;
	int rcode;
};

/* The proxy's log lines of queries that arrived in [from, to]. */
static size_t proxy_read(double from, double to, struct qline *out, size_t max)
{
	FILE *f = fopen(proxy.log, "r");
	if (f == NULL)
		return 0;
	size_t n = 0;
	struct qline q;
	int bytes;
	while (fscanf(f, "%lf %lf %3s %255s %u %d %d", &q.t0, &q.t1, q.proto, q.name, &q.type,
		      &q.rcode, &bytes) == 7)
		if (q.t0 >= from && q.t0 <= to && n < max)
			out[n++] = q;
	fclose(f);
	return n;
}

static const char *type_name(unsigned t)
{
	switch (t) {
	case 1:
		return "A";
	case 2:
		return "NS";
	case 5:
		return "CNAME";
	case 6:
		return "SOA";
	case 15:
		return "MX";
	case 16:
		return "TXT";
	case 28:
		return "AAAA";
	case 43:
		return "DS";
	case 48:
		return "DNSKEY";
	case 52:
		return "TLSA";
	}
	return "?";
}

/* Queries asked more than once in the window (retransmissions, or lookups not merged). */
static size_t repeats(const struct qline *q, size_t n)
{
	size_t r = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (q[i].type == q[j].type && strcmp(q[i].name, q[j].name) == 0) {
				r++;
				break;
			}
	return r;
}

static int cmp_qline(const void *a, const void *b)
{
	const struct qline *x = a, *y = b;
	return x->t0 < y->t0 ? -1 : x->t0 > y->t0;
}

static void print_trace(const char *title, double start, double end, struct qline *q, size_t n)
{
	qsort(q, n, sizeof *q, cmp_qline);
	printf("%s: %zu queries, decision done at +%.1f ms\n", title, n, (end - start) * 1e3);
	printf("   sent ms  answered ms  query\n");
	for (size_t i = 0; i < n; i++)
		printf("  %+8.1f  %+11.1f  %s %s %s%s\n", (q[i].t0 - start) * 1e3,
		       (q[i].t1 - start) * 1e3, q[i].name, type_name(q[i].type), q[i].proto,
		       q[i].rcode == 0   ? ""
		       : q[i].rcode == 3 ? " NXDOMAIN"
					 : " (error)");
}

/* ---- contexts and decisions ------------------------------------------------------------- */

static struct mxtls_ctx *new_ctx(void)
{
	char dir[320], err[256];
	snprintf(dir, sizeof dir, "%s/state-%u", opt.tmp, opt.serial++);
	if (mkdir(dir, 0700) != 0)
		die(dir, "%s", strerror(errno));
	struct mxtls_config *cfg;
	if (mxtls_config_new(&cfg) != MXTLS_OK)
		die("mxtls_config_new", "out of memory");
	if (mxtls_config_set(cfg, "unbound-conf", opt.conf, err, sizeof err) != MXTLS_OK ||
	    mxtls_config_set(cfg, "ca-file", opt.ca_file, err, sizeof err) != MXTLS_OK ||
	    mxtls_config_set(cfg, "state-dir", dir, err, sizeof err) != MXTLS_OK)
		die("mxtls_config_set", "%s", err);
	struct mxtls_ctx *ctx;
	if (mxtls_ctx_new(cfg, &ctx, err, sizeof err) != MXTLS_OK)
		die("mxtls_ctx_new", "%s", err);
	mxtls_config_free(cfg);
	return ctx;
}

static void expect(bool ok, const char *domain, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void expect(bool ok, const char *domain, const char *fmt, ...)
{
	if (ok)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "bench_decision: wrong decision for %s: ", domain);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* The library's log lines during the timed decision, with their times.  The "sts-policy" line
 * marks the end of the MTA-STS branch (policy fetched, parsed and stored). */
#define LOGS_MAX 16
static struct {
	double start;
	size_t n;
	double t[LOGS_MAX];
	char line[LOGS_MAX][160];
} logs;

static void on_log(void *arg, enum mxtls_log_level level, const char *line)
{
	(void)arg;
	(void)level;
	if (logs.n == LOGS_MAX)
		return;
	logs.t[logs.n] = bench_now(CLOCK_MONOTONIC);
	snprintf(logs.line[logs.n++], sizeof logs.line[0], "%s", line);
}

/* When the line with event=<event> was logged, relative to the decision's start; -1: never. */
static double log_time(const char *event)
{
	char key[64];
	snprintf(key, sizeof key, "event=%s ", event);
	for (size_t i = 0; i < logs.n; i++)
		if (strstr(logs.line[i], key) != NULL)
			return logs.t[i] - logs.start;
	return -1;
}

static void print_logs(void)
{
	for (size_t i = 0; i < logs.n; i++)
		printf("  %+8.1f ms  log: %s\n", (logs.t[i] - logs.start) * 1e3, logs.line[i]);
}

/* Decides domain and checks the outcome; returns the wall time of mxtls_decide(). */
static double decide(struct mxtls_ctx *ctx, const char *domain, double *t_start, double *t_end)
{
	char err[256] = "";
	struct mxtls_decision *d = NULL;
	logs.n = 0;
	double t0 = logs.start = bench_now(CLOCK_MONOTONIC);
	int rc = mxtls_decide(ctx, domain, &d, err, sizeof err);
	double t1 = bench_now(CLOCK_MONOTONIC);
	if (rc != MXTLS_OK)
		die("mxtls_decide", "%s: %s (%s)", domain, mxtls_strerror(rc), err);
	const char *mode = mxtls_decision_mode(d);
	const struct mxtls_sts_policy *p = mxtls_decision_sts(d);
	bool enforce = strcmp(domain, WARM_DOMAIN) != 0;
	expect(strcmp(mode, enforce ? "mta-sts-enforce" : "mta-sts-testing") == 0, domain,
	       "mode %s (%s)", mode, mxtls_decision_reason(d));
	expect(mxtls_decision_host_count(d) == 2, domain, "%zu hosts",
	       mxtls_decision_host_count(d));
	const char *s0 = mxtls_decision_host_security(d, 0);
	const char *s1 = mxtls_decision_host_security(d, 1);
	expect(strcmp(s0, enforce ? "dane" : "mta-sts-testing") == 0, domain, "host 0 %s (%s)", s0,
	       mxtls_decision_host_reason(d, 0));
	expect(strcmp(s1, enforce ? "excluded" : "mta-sts-testing") == 0, domain, "host 1 %s (%s)",
	       s1, mxtls_decision_host_reason(d, 1));
	expect(p != NULL && strcmp(mxtls_sts_policy_source(p), "network") == 0, domain,
	       "policy source %s (%s)", p != NULL ? mxtls_sts_policy_source(p) : "(none)",
	       p != NULL ? mxtls_sts_policy_fetch_error(p) : "");
	mxtls_decision_free(d);
	if (t_start != NULL)
		*t_start = t0;
	if (t_end != NULL)
		*t_end = t1;
	return t1 - t0;
}

/* ---- the domains and their single steps ------------------------------------------------- */

static const struct scenario {
	const char *domain;
	const char *policy_addr;
	const char *policy_label;
	bool cold; /* also measure C */
} scenarios[] = {
	{"enforce.sts.test", "127.0.44.1", "nginx, not delayed", true},
	{"rtt.sts.test", RTT_ADDR, "D away (3 D per fetch)", false},
};
#define NSCEN (sizeof scenarios / sizeof scenarios[0])

enum step {
	ST_MX,
	ST_A1,
	ST_AAAA1,
	ST_TLSA1,
	ST_A2,
	ST_AAAA2,
	ST_TLSA2,
	ST_TXT,
	ST_ASTS,
	ST_AAAASTS,
	ST_HTTPS,
	ST_RPT,
	ST_COUNT
};

static const struct {
	const char *label;
	const char *prefix; /* the name is prefix + domain */
	uint16_t type;
	enum dns_outcome outcome; /* what the answer must be (all secure) */
} steps[ST_COUNT] = {
	[ST_MX] = {"MX", "", DNS_TYPE_MX, DNS_DATA},
	[ST_A1] = {"A mx1", "mx1.", DNS_TYPE_A, DNS_DATA},
	[ST_AAAA1] = {"AAAA mx1", "mx1.", DNS_TYPE_AAAA, DNS_NODATA},
	[ST_TLSA1] = {"TLSA mx1", "_25._tcp.mx1.", DNS_TYPE_TLSA, DNS_DATA},
	[ST_A2] = {"A mx2", "mx2.", DNS_TYPE_A, DNS_DATA},
	[ST_AAAA2] = {"AAAA mx2", "mx2.", DNS_TYPE_AAAA, DNS_NODATA},
	[ST_TLSA2] = {"TLSA mx2", "_25._tcp.mx2.", DNS_TYPE_TLSA, DNS_NXDOMAIN},
	[ST_TXT] = {"TXT _mta-sts", "_mta-sts.", DNS_TYPE_TXT, DNS_DATA},
	[ST_ASTS] = {"A mta-sts", "mta-sts.", DNS_TYPE_A, DNS_DATA},
	[ST_AAAASTS] = {"AAAA mta-sts", "mta-sts.", DNS_TYPE_AAAA, DNS_NODATA},
	[ST_HTTPS] = {"HTTPS GET policy", NULL, 0, DNS_DATA},
	[ST_RPT] = {"TXT _smtp._tls", "_smtp._tls.", DNS_TYPE_TXT, DNS_NXDOMAIN},
};

struct fetch_wait {
	bool done;
	enum sts_fetch_status status;
	char reason[256];
	bool enforce;
};

static void on_fetch(void *arg, struct sts_fetch_result *r)
{
	struct fetch_wait *w = arg;
	w->done = true;
	w->status = r->status;
	snprintf(w->reason, sizeof w->reason, "%s", r->reason);
	w->enforce = r->body != NULL && strstr(r->body, "mode: enforce") != NULL;
}

struct step_run {
	double setup; /* creating the resolver, fetcher and cache of a fresh context */
	double first; /* the first lookup on the fresh resolver (MX of WARM_DOMAIN) */
	double t[ST_COUNT];
};

static double lookup(struct dns_resolver *r, const char *name, uint16_t type, enum dns_outcome want,
		     char *addr, size_t addrlen)
{
	struct dns_answer *a = NULL;
	double t0 = bench_now(CLOCK_MONOTONIC);
	int rc = dns_resolve_sync(r, name, type, &a);
	double t = bench_now(CLOCK_MONOTONIC) - t0;
	if (rc != MXTLS_OK)
		die("dns_resolve_sync", "%s: %s", name, mxtls_strerror(rc));
	if (a->outcome != want || a->security != DNS_SECURE)
		die("lookup", "%s %s: %s, %s (expected %s, secure)%s%s", name, type_name(type),
		    dns_outcome_name(a->outcome), dns_security_name(a->security),
		    dns_outcome_name(want), a->why ? ": " : "", a->why ? a->why : "");
	if (addr != NULL && a->n > 0 && a->rdlen[0] == 4)
		inet_ntop(AF_INET, a->rdata[0], addr, (socklen_t)addrlen);
	dns_answer_free(a);
	return t;
}

static void measure_steps(const struct scenario *sc, struct step_run *sr)
{
	struct mxtls_ctx *ctx = new_ctx();
	char err[256] = "";
	struct dns_resolver *r;
	struct sts_fetcher *f;
	struct sts_cache *c;
	/* What mxtls_decide_start() creates on a new context, timed for the fully cold case. */
	double t0 = bench_now(CLOCK_MONOTONIC);
	if (mxtls_ctx_resolver(ctx, &r, err, sizeof err) != MXTLS_OK ||
	    mxtls_ctx_fetcher(ctx, &f, err, sizeof err) != MXTLS_OK ||
	    mxtls_ctx_cache(ctx, &c, err, sizeof err) != MXTLS_OK)
		die("context set-up", "%s", err);
	sr->setup = bench_now(CLOCK_MONOTONIC) - t0;
	sr->first = lookup(r, WARM_DOMAIN, DNS_TYPE_MX, DNS_DATA, NULL, 0);
	decide(ctx, WARM_DOMAIN, NULL, NULL); /* primes the rest, as for the W decisions */

	char sts_addr[INET_ADDRSTRLEN] = "";
	for (int s = 0; s < ST_COUNT; s++) {
		if (s == ST_HTTPS) {
			struct event_base *base;
			if (mxtls_ctx_base(ctx, &base, err, sizeof err) != MXTLS_OK)
				die("mxtls_ctx_base", "%s", err);
			if (strcmp(sts_addr, sc->policy_addr) != 0)
				die("lookup", "mta-sts.%s is %s, expected %s", sc->domain, sts_addr,
				    sc->policy_addr);
			const char *addrs[1] = {sts_addr};
			struct fetch_wait w = {0};
			t0 = bench_now(CLOCK_MONOTONIC);
			int rc = sts_fetch_start(f, sc->domain, addrs, 1, on_fetch, &w, NULL);
			if (rc != MXTLS_OK)
				die("sts_fetch_start", "%s", mxtls_strerror(rc));
			while (!w.done)
				event_base_loop(base, EVLOOP_ONCE);
			sr->t[s] = bench_now(CLOCK_MONOTONIC) - t0;
			if (w.status != STS_FETCH_OK || !w.enforce)
				die("policy fetch", "%s: %s", sts_fetch_status_name(w.status),
				    w.reason);
			continue;
		}
		char name[300];
		snprintf(name, sizeof name, "%s%s", steps[s].prefix, sc->domain);
		sr->t[s] = lookup(r, name, steps[s].type, steps[s].outcome,
				  s == ST_ASTS ? sts_addr : NULL, sizeof sts_addr);
	}
	mxtls_ctx_free(ctx);
}

static double max2(double a, double b)
{
	return a > b ? a : b;
}

static double fabs_diff(double a, double b)
{
	return a > b ? a - b : b - a;
}

static double branch_dane(const struct step_run *s)
{
	const double *t = s->t;
	return t[ST_MX] + max2(max2(t[ST_A1], t[ST_AAAA1]) + t[ST_TLSA1],
			       max2(t[ST_A2], t[ST_AAAA2]) + t[ST_TLSA2]);
}

static double branch_sts(const struct step_run *s)
{
	const double *t = s->t;
	return t[ST_TXT] + max2(t[ST_ASTS], t[ST_AAAASTS]) + t[ST_HTTPS];
}

static double critical(const struct step_run *s)
{
	return max2(max2(branch_dane(s), branch_sts(s)), s->t[ST_RPT]);
}

static double sum(const struct step_run *s)
{
	double x = 0;
	for (int i = 0; i < ST_COUNT; i++)
		x += s->t[i];
	return x;
}

/* ---- one delay -------------------------------------------------------------------------- */

struct result {
	double warm[RUNS_MAX], crit[RUNS_MAX], total[RUNS_MAX], dane[RUNS_MAX], sts[RUNS_MAX];
	double step[ST_COUNT][RUNS_MAX];
	double warm_start[RUNS_MAX], warm_end[RUNS_MAX], sts_done[RUNS_MAX];
	size_t warm_q[RUNS_MAX], warm_rep[RUNS_MAX];
	/* C (fully cold) */
	double cold[RUNS_MAX], crit_cold[RUNS_MAX], setup[RUNS_MAX], first[RUNS_MAX];
	double cold_start[RUNS_MAX], cold_end[RUNS_MAX];
	size_t cold_q[RUNS_MAX], cold_rep[RUNS_MAX];
};

struct delay_result {
	double d;
	struct result sc[NSCEN];
};

static void run_delay(struct delay_result *res)
{
	proxy_start(res->d);
	for (int r = 0; r < opt.runs; r++) {
		for (size_t k = 0; k < NSCEN; k++) {
			const struct scenario *sc = &scenarios[k];
			struct result *x = &res->sc[k];
			/* W: primed chain, cold domain. */
			struct mxtls_ctx *ctx = new_ctx();
			decide(ctx, WARM_DOMAIN, NULL, NULL);
			mxtls_ctx_set_log(ctx, MXTLS_LOG_DEBUG, on_log, NULL);
			x->warm[r] = decide(ctx, sc->domain, &x->warm_start[r], &x->warm_end[r]);
			x->sts_done[r] = log_time("sts-policy");
			mxtls_ctx_free(ctx);
			if (opt.verbose) {
				printf("D=%g %s run %d, decision W: the library's log\n", res->d,
				       sc->domain, r + 1);
				print_logs();
			}
			/* C: fully cold. */
			if (sc->cold) {
				ctx = new_ctx();
				x->cold[r] =
					decide(ctx, sc->domain, &x->cold_start[r], &x->cold_end[r]);
				mxtls_ctx_free(ctx);
			}
			/* S: the steps. */
			struct step_run sr;
			measure_steps(sc, &sr);
			for (int s = 0; s < ST_COUNT; s++)
				x->step[s][r] = sr.t[s];
			x->crit[r] = critical(&sr);
			x->dane[r] = branch_dane(&sr);
			x->sts[r] = branch_sts(&sr);
			x->total[r] = sum(&sr);
			x->setup[r] = sr.setup;
			x->first[r] = sr.first;
			x->crit_cold[r] = sr.setup + (sr.first - sr.t[ST_MX]) + x->crit[r];
			if (opt.verbose)
				printf("D=%g %s run %d: W %.1f ms, C %.1f ms, critical %.1f ms, "
				       "sum %.1f ms\n",
				       res->d, sc->domain, r + 1, x->warm[r] * 1e3,
				       sc->cold ? x->cold[r] * 1e3 : 0, x->crit[r] * 1e3,
				       x->total[r] * 1e3);
		}
	}
	/* The answers' log lines are written when they are sent: wait for the last one. */
	usleep(100000);
	static struct qline q[TRACE_MAX];
	for (size_t k = 0; k < NSCEN; k++) {
		struct result *x = &res->sc[k];
		for (int r = 0; r < opt.runs; r++) {
			size_t n = proxy_read(x->warm_start[r], x->warm_end[r], q, TRACE_MAX);
			x->warm_q[r] = n;
			x->warm_rep[r] = repeats(q, n);
			if (opt.verbose) {
				char title[96];
				snprintf(title, sizeof title, "D=%g %s run %d, decision W", res->d,
					 scenarios[k].domain, r + 1);
				print_trace(title, x->warm_start[r], x->warm_end[r], q, n);
			}
			if (scenarios[k].cold) {
				n = proxy_read(x->cold_start[r], x->cold_end[r], q, TRACE_MAX);
				x->cold_q[r] = n;
				x->cold_rep[r] = repeats(q, n);
			}
		}
	}
	proxy_stop();
}

static double med(const double *v)
{
	return bench_median(v, (size_t)opt.runs, NULL, NULL, NULL);
}

static double medz(const size_t *v)
{
	double x[RUNS_MAX];
	for (int i = 0; i < opt.runs; i++)
		x[i] = (double)v[i];
	return bench_median(x, (size_t)opt.runs, NULL, NULL, NULL);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench_decision [-n RUNS] [-D MS[,MS...]] [-P PYTHON] [-v]\n"
		"  Run inside the test network: bash tests/net/run-with-dns.sh --https \\\n"
		"      --pre bench/bench_decision_zones.sh bench_decision ...\n"
		"  -n RUNS   runs per delay (default 5; the median is shown)\n"
		"  -D LIST   delays (round-trip times) in ms (default 0,50,200)\n"
		"  -P PATH   the Python that runs the proxies (default /usr/bin/python3)\n"
		"  -v        per-run figures, the library's log and every decision's query trace\n"
		"  The co-processes: %s\n"
		"                    %s\n",
		BENCH_DNS_PROXY_SCRIPT, BENCH_POLICY_SERVER_SCRIPT);
}

static void on_exit_cleanup(void)
{
	proxy_stop();
	cleanup_tmp();
}

int main(int argc, char **argv)
{
	const char *dlist = "0,50,200";
	int c;
	while ((c = getopt(argc, argv, "n:D:P:vh")) != -1) {
		switch (c) {
		case 'n':
			opt.runs = atoi(optarg);
			if (opt.runs < 1 || opt.runs > RUNS_MAX)
				die("-n", "between 1 and %d", RUNS_MAX);
			break;
		case 'D':
			dlist = optarg;
			break;
		case 'P':
			opt.python = optarg;
			break;
		case 'v':
			opt.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	char *list = strdup(dlist), *save = NULL;
	for (char *tok = strtok_r(list, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (opt.ndelays == DELAYS_MAX)
			die("-D", "at most %d delays", DELAYS_MAX);
		char *end;
		double d = strtod(tok, &end);
		if (*end != '\0' || d < 0 || d > 350)
			die("-D",
			    "'%s': a delay in ms from 0 to 350 (above libunbound's 376 ms first "
			    "timeout for a new server, queries would be sent twice)",
			    tok);
		opt.delays[opt.ndelays++] = d;
	}
	free(list);

	const char *ub = getenv("MXTLS_TEST_UNBOUND_CONF");
	const char *pki = getenv("MXTLS_TEST_PKI_DIR");
	opt.ca_file = getenv("MXTLS_TEST_CA_FILE");
	if (ub == NULL || opt.ca_file == NULL || pki == NULL) {
		printf("SKIP: needs the test network with policy hosts: run under "
		       "tests/net/run-with-dns.sh --https --pre bench/bench_decision_zones.sh\n");
		return 77;
	}
	snprintf(opt.policy_cert, sizeof opt.policy_cert, "%s/mta-sts.rtt.sts.test.pem", pki);
	snprintf(opt.policy_key, sizeof opt.policy_key, "%s/mta-sts.rtt.sts.test.key", pki);
	if (access(opt.policy_cert, R_OK) != 0) {
		printf("SKIP: %s missing: run with --pre bench/bench_decision_zones.sh\n",
		       opt.policy_cert);
		return 77;
	}
	if (access(opt.python, X_OK) != 0) {
		printf("SKIP: %s not found (it runs the DNS proxy)\n", opt.python);
		return 77;
	}
	const char *tmpdir = getenv("TMPDIR");
	snprintf(opt.tmp, sizeof opt.tmp, "%s/bench-decision.XXXXXX",
		 tmpdir != NULL && tmpdir[0] != '\0' ? tmpdir : "/tmp");
	if (mkdtemp(opt.tmp) == NULL)
		die("mkdtemp", "%s", strerror(errno));
	atexit(on_exit_cleanup);
	signal(SIGPIPE, SIG_IGN);
	write_conf(ub);

	printf("bench_decision: cold decisions (DANE on mx1 + MTA-STS enforce) against their "
	       "critical path\n");
	printf("libunbound forwards every query to %s, which answers D ms after each query "
	       "arrives (nsd %s behind it).\n",
	       PROXY_ADDR, NSD_ADDR);
	for (size_t k = 0; k < NSCEN; k++)
		printf("  %-17s policy host %s: %s\n", scenarios[k].domain,
		       scenarios[k].policy_addr, scenarios[k].policy_label);
	printf("%d runs per D, median shown; every context is new, with an empty state "
	       "directory.\n\n",
	       opt.runs);
	fflush(stdout);

	static struct delay_result res[DELAYS_MAX];
	for (size_t i = 0; i < opt.ndelays; i++) {
		res[i].d = opt.delays[i];
		run_delay(&res[i]);
	}

	printf("(1) decision with the trust chain primed (W): times in ms, median of %d runs\n",
	       opt.runs);
	printf("%-17s %5s %9s %9s %9s %9s %9s %9s %9s %8s %9s\n", "domain", "D", "decision",
	       "critical", "dane", "sts", "sts done", "sum", "dec/crit", "sum/crit", "queries");
	for (size_t k = 0; k < NSCEN; k++)
		for (size_t i = 0; i < opt.ndelays; i++) {
			const struct result *x = &res[i].sc[k];
			double w = med(x->warm), cr = med(x->crit), s = med(x->total);
			printf("%-17s %5g %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %9.2f %8.2f "
			       "%6.0f/%-2.0f\n",
			       scenarios[k].domain, res[i].d, w * 1e3, cr * 1e3, med(x->dane) * 1e3,
			       med(x->sts) * 1e3, med(x->sts_done) * 1e3, s * 1e3, w / cr, s / cr,
			       medz(x->warm_q), medz(x->warm_rep));
		}
	printf("  critical = max(dane, sts, TXT _smtp._tls), from the steps in (2): dane = MX + "
	       "max_h(max(A,AAAA) + TLSA),\n"
	       "  sts = TXT _mta-sts + max(A,AAAA) of mta-sts + HTTPS; sum = all twelve steps "
	       "one after the other\n"
	       "  sts done = when the decision's MTA-STS branch ended (its sts-policy log line: "
	       "fetched, parsed, stored)\n"
	       "  queries = DNS queries the proxy saw during the decision / of which repeats\n\n");

	printf("(2) the steps, each timed alone on a primed resolver (ms, median)\n");
	printf("%-18s", "step");
	for (size_t k = 0; k < NSCEN; k++)
		for (size_t i = 0; i < opt.ndelays; i++) {
			char h[48];
			snprintf(h, sizeof h, "%.*s D=%g", 7, scenarios[k].domain, res[i].d);
			printf(" %15s", h);
		}
	printf("\n");
	for (int s = 0; s < ST_COUNT; s++) {
		printf("%-18s", steps[s].label);
		for (size_t k = 0; k < NSCEN; k++)
			for (size_t i = 0; i < opt.ndelays; i++)
				printf(" %15.1f", med(res[i].sc[k].step[s]) * 1e3);
		printf("\n");
	}
	printf("\n");

	for (size_t k = 0; k < NSCEN; k++) {
		if (!scenarios[k].cold)
			continue;
		printf("(3) decision for %s on a brand-new context (C, fully cold): ms, median\n",
		       scenarios[k].domain);
		printf("%6s %10s %10s %18s %10s %12s %9s\n", "D", "decision", "critical",
		       "decision/critical", "set-up", "first lookup", "queries");
		for (size_t i = 0; i < opt.ndelays; i++) {
			const struct result *x = &res[i].sc[k];
			double cd = med(x->cold), cc = med(x->crit_cold);
			printf("%6g %10.1f %10.1f %18.2f %10.1f %12.1f %6.0f/%-2.0f\n", res[i].d,
			       cd * 1e3, cc * 1e3, cd / cc, med(x->setup) * 1e3,
			       med(x->first) * 1e3, medz(x->cold_q), medz(x->cold_rep));
		}
		printf("  critical = set-up + (first lookup - MX) + the critical path of (1); "
		       "set-up = resolver, fetcher and cache of a new context;\n"
		       "  first lookup = MX %s on a new resolver (answer, then DNSKEY/DS from the "
		       "root key down)\n\n",
		       WARM_DOMAIN);
	}

	/* The median W decision at the largest delay, query by query. */
	size_t big = 0;
	for (size_t i = 1; i < opt.ndelays; i++)
		if (res[i].d > res[big].d)
			big = i;
	snprintf(proxy.log, sizeof proxy.log, "%s/proxy-%g.log", opt.tmp, res[big].d);
	for (size_t k = 0; k < NSCEN; k++) {
		const struct result *x = &res[big].sc[k];
		double m = med(x->warm);
		int pick = 0;
		for (int r = 1; r < opt.runs; r++)
			if (fabs_diff(x->warm[r], m) < fabs_diff(x->warm[pick], m))
				pick = r;
		static struct qline q[TRACE_MAX];
		size_t n = proxy_read(x->warm_start[pick], x->warm_end[pick], q, TRACE_MAX);
		char title[128];
		snprintf(title, sizeof title, "(4) the median decision (W) for %s at D=%g",
			 scenarios[k].domain, res[big].d);
		print_trace(title, x->warm_start[pick], x->warm_end[pick], q, n);
		printf("  %+8.1f            MTA-STS branch done (sts-policy log line)\n\n",
		       x->sts_done[pick] * 1e3);
	}
	return 0;
}
