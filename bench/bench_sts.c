/* SPDX-License-Identifier: MIT */
/* bench_sts: MTA-STS parses and cached lookups per second, mxtls vs postfix-mta-sts-resolver. */
/*
 * A benchmark, not a test: it prints figures and never asserts a speed.  It does check every
 * result: each iteration's outcome is compared with what it must be and a wrong one stops the
 * run (exit 1), so no work can be optimised away and nothing can look fast by being wrong.
 *
 * (1) Policy parses: the same policy bodies (bytes) for every implementation:
 *       enforce, 2 mx, LF    the RFC 8461 §3.2 style policy most domains publish
 *       enforce, 20 mx, LF   a large provider's policy
 *       enforce, 2 mx, CRLF  the first one with CRLF line ends
 *     mxtls internal   sts_policy_parse() + sts_policy_clear(), the parse a sender makes on a
 *                      fetched body (validator/sts_resolve.c); checks mode, nmx, max_age.
 *     mxtls public     mxtls_sts_lint_policy() + accessors + mxtls_sts_lint_free(): the same
 *                      parse behind the public lint API (for scale); checks the same fields.
 *     peer             postfix-mta-sts-resolver's parse_mta_sts_policy() (utils.py) on the
 *                      body decoded as UTF-8, as its resolver calls it; checks version, mode,
 *                      the number of mx patterns and int(max_age).  It runs in Python, in a
 *                      co-process (bench_sts_peer.py) that this program drives over a pipe.
 *     The peer's parser splits lines and keys and validates nothing (its resolver then checks
 *     version, max_age range and mode); mxtls's applies the whole RFC 8461 §3.2 grammar.
 *
 * (2) Cached policy lookups through the public API, warm cache of -n domains (default 100000):
 *     fill     sts_cache_put() of every domain into <tmp>/sts-cache.sqlite (one transaction
 *              per call, as the library stores a fetched policy); rate reported.
 *     lookup   mxtls_sts_cache_show() on a context whose state-dir is <tmp>, for uniformly
 *              random domains; checks the id and the mode; mxtls_sts_policy_free().
 *     peer     SqliteCache (sqlite_cache.py, aiosqlite): set() for -t seconds (rate
 *              reported), the rest inserted in bulk by the helper; then get() of uniformly
 *              random domains, checking pol_id and mode.
 *     Also printed: the database file sizes and peak RSS (VmHWM, see status_kib()) of both
 *     processes after the fill and after the lookups.
 *
 * Timing: each (row, implementation) runs for -t seconds in total (default 1), split into -r
 * interleaved rounds (default 3) so that load from other processes hits all alike.  Rates are
 * operations per CPU second of the process (CLOCK_PROCESS_CPUTIME_ID here, time.process_time()
 * in the peer, whose SQLite connections run in threads of their own); the median round is
 * reported with the spread of the rounds.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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

#include <mxtls/config.h>
#include <mxtls/context.h>
#include <mxtls/error.h>
#include <mxtls/sts.h>
#include <mxtls/sts_fetch.h>

#include "sts/sts_cache.h"
#include "sts/sts_policy.h"

#include "bench_util.h"

#ifndef BENCH_STS_PEER_SCRIPT
#define BENCH_STS_PEER_SCRIPT "bench/bench_sts_peer.py"
#endif

#define ROUNDS_MAX    15
#define BATCH         32 /* operations between two looks at the clock (also in the peer) */
#define BODY_MAX      2048
#define DOMAIN_FMT    "domain%06u.example.com"
#define ID_FMT        "id%06u"
#define CACHE_MAX_AGE 604800u
#define PEER_DB       "peer-cache.sqlite"
#define REPLY_MAX     4096
#define WARMUP_S      0.1 /* untimed warm-up of each lookup implementation, in seconds */

static void cleanup(void);

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bench_sts: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(2);
}

/* A result failed its check: the one outcome that must stop a benchmark. */
static void wrong(const char *impl, const char *row, const char *detail)
{
	fprintf(stderr, "bench_sts: WRONG RESULT from %s on %s: %s\n", impl, row, detail);
	exit(1);
}

/*
 * A field of /proc/self/status in KiB (-1 when unavailable): VmHWM, the peak resident set of
 * this program, or VmRSS, the current one.  Not getrusage()'s ru_maxrss: Linux carries that
 * over execve(), so under `meson test` it reports the peak of the Python process that forked
 * the benchmark.
 */
static long status_kib(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t n = strlen(field);
	long kib = -1;
	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, field, n) == 0 && line[n] == ':') {
			kib = strtol(line + n + 1, NULL, 10);
			break;
		}
	if (f != NULL)
		fclose(f);
	return kib;
}

static long peak_rss_kib(void)
{
	return status_kib("VmHWM");
}

static long cur_rss_kib(void)
{
	return status_kib("VmRSS");
}

static long long file_size(const char *dir, const char *name)
{
	char path[1200];
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* ---- random domains ------------------------------------------------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static uint32_t rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(((rng_next(s) >> 32) * n) >> 32);
}

/* Domain i's policy, the same rule as bench_sts_peer.py's expected(). */
static enum sts_mode domain_mode(uint32_t i)
{
	return i % 10 == 0 ? STS_MODE_TESTING : STS_MODE_ENFORCE;
}

/* ---- measurement --------------------------------------------------------------------------- */

struct meas {
	double rate[ROUNDS_MAX]; /* operations per CPU second, per round */
	double wall, cpu;        /* totals over the rounds */
	uint64_t ops;
	bool done;
};

static void meas_add(struct meas *m, int round, uint64_t ops, double cpu, double wall)
{
	m->rate[round] = cpu > 0 ? (double)ops / cpu : 0;
	m->ops += ops;
	m->cpu += cpu;
	m->wall += wall;
	m->done = true;
}

/* Runs once(arg) in batches for secs of wall time; a false return is a wrong result. */
static void run_mx(bool (*once)(void *arg, const char **why), void *arg, const char *impl,
		   const char *row, double secs, struct meas *m, int round)
{
	const char *why = "?";
	uint64_t n = 0;
	double w0 = bench_now(CLOCK_MONOTONIC), c0 = bench_now(CLOCK_PROCESS_CPUTIME_ID), w1;
	do {
		for (int k = 0; k < BATCH; k++)
			if (!once(arg, &why))
				wrong(impl, row, why);
		n += BATCH;
		w1 = bench_now(CLOCK_MONOTONIC);
	} while (w1 - w0 < secs);
	meas_add(m, round, n, bench_now(CLOCK_PROCESS_CPUTIME_ID) - c0, w1 - w0);
}

/* ---- the peer: bench_sts_peer.py as a co-process -------------------------------------------- */

struct peer {
	pid_t pid;
	FILE *to, *from;
	char version[128];
};

static struct peer peer = {.pid = -1};

static void peer_stop(void)
{
	if (peer.pid <= 0)
		return;
	if (peer.to != NULL) {
		fputs("quit\n", peer.to);
		fclose(peer.to);
	}
	if (peer.from != NULL)
		fclose(peer.from);
	int st;
	waitpid(peer.pid, &st, 0);
	peer.pid = -1;
	peer.to = peer.from = NULL;
}

/* Sends one command line and reads the reply into reply; false when the peer is gone. */
__attribute__((format(printf, 3, 4))) static bool peer_call(char *reply, size_t cap,
							    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(peer.to, fmt, ap);
	va_end(ap);
	fputc('\n', peer.to);
	if (fflush(peer.to) != 0 || fgets(reply, (int)cap, peer.from) == NULL) {
		snprintf(reply, cap, "error the peer process ended");
		return false;
	}
	reply[strcspn(reply, "\n")] = '\0';
	return true;
}

/* Starts python on script; true when it can import the peer (version in peer.version). */
static bool peer_start(const char *python, const char *script, char *why, size_t cap)
{
	int to[2], from[2];
	if (pipe2(to, O_CLOEXEC) != 0)
		die("pipe", strerror(errno));
	if (pipe2(from, O_CLOEXEC) != 0)
		die("pipe", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		die("fork", strerror(errno));
	if (pid == 0) {
		if (dup2(to[0], 0) < 0 || dup2(from[1], 1) < 0)
			_exit(127);
		execlp(python, python, script, (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	peer.pid = pid;
	peer.to = fdopen(to[1], "w");
	peer.from = fdopen(from[0], "r");
	if (peer.to == NULL || peer.from == NULL)
		die("fdopen", strerror(errno));
	char reply[REPLY_MAX];
	if (peer_call(reply, sizeof reply, "hello") && strncmp(reply, "ok ", 3) == 0) {
		snprintf(peer.version, sizeof peer.version, "%.127s", reply + 3);
		return true;
	}
	snprintf(why, cap, "%.200s: %.3000s", python,
		 strncmp(reply, "unavailable ", 12) == 0 ? reply + 12 : reply);
	peer_stop();
	return false;
}

/* A timed peer command: "ok OPS CPU WALL" into m, "wrong ..." stops the run. */
static void peer_timed(struct meas *m, int round, const char *row, const char *cmd)
{
	char reply[REPLY_MAX];
	unsigned long long ops;
	double cpu, wall;
	peer_call(reply, sizeof reply, "%s", cmd);
	if (strncmp(reply, "wrong", 5) == 0)
		wrong(peer.version, row, reply);
	if (sscanf(reply, "ok %llu %lf %lf", &ops, &cpu, &wall) != 3)
		die("peer", reply);
	meas_add(m, round, ops, cpu, wall);
}

/* ---- the temporary directory ---------------------------------------------------------------- */

static char tmpdir[1024];

static void unlink_in_tmp(const char *name)
{
	char path[1200];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	unlink(path);
}

static void cleanup(void)
{
	peer_stop();
	if (tmpdir[0] == '\0')
		return;
	static const char *const names[] = {
		"body0",
		"body1",
		"body2",
		STS_CACHE_FILE,
		STS_CACHE_FILE "-wal",
		STS_CACHE_FILE "-shm",
		STS_CACHE_FILE "-journal",
		PEER_DB,
		PEER_DB "-wal",
		PEER_DB "-shm",
		PEER_DB "-journal",
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		unlink_in_tmp(names[i]);
	rmdir(tmpdir);
	tmpdir[0] = '\0';
}

/* ---- (1) policy parses ---------------------------------------------------------------------- */

struct body {
	const char *label;
	char text[BODY_MAX];
	size_t len;
	enum sts_mode mode;
	size_t nmx;
	uint32_t max_age;
	char file[1200]; /* the same bytes, for the peer */
};

/* What a parse must give: the body's fields, or (negative control) one more mx pattern. */
struct parse_arg {
	const struct body *b;
	size_t nmx;
};

static void make_bodies(struct body b[3])
{
	static const char two[] = "version: STSv1\nmode: enforce\nmx: mail.example.com\n"
				  "mx: *.example.net\nmax_age: 604800\n";
	b[0] = (struct body){.label = "enforce, 2 mx, LF",
			     .mode = STS_MODE_ENFORCE,
			     .nmx = 2,
			     .max_age = 604800};
	b[0].len = (size_t)snprintf(b[0].text, sizeof b[0].text, "%s", two);

	b[1] = (struct body){.label = "enforce, 20 mx, LF",
			     .mode = STS_MODE_ENFORCE,
			     .nmx = 20,
			     .max_age = 86400};
	size_t n = (size_t)snprintf(b[1].text, sizeof b[1].text, "version: STSv1\nmode: enforce\n");
	for (unsigned i = 0; i < 20; i++)
		n += (size_t)snprintf(b[1].text + n, sizeof b[1].text - n,
				      i % 4 == 3 ? "mx: *.pool%u.mail.example.net\n"
						 : "mx: mx%u.mail.example.com\n",
				      i);
	n += (size_t)snprintf(b[1].text + n, sizeof b[1].text - n, "max_age: 86400\n");
	b[1].len = n;

	b[2] = (struct body){.label = "enforce, 2 mx, CRLF",
			     .mode = STS_MODE_ENFORCE,
			     .nmx = 2,
			     .max_age = 604800};
	n = 0;
	for (const char *p = two; *p != '\0'; p++) {
		if (*p == '\n')
			b[2].text[n++] = '\r';
		b[2].text[n++] = *p;
	}
	b[2].len = n;

	for (int i = 0; i < 3; i++) {
		snprintf(b[i].file, sizeof b[i].file, "%s/body%d", tmpdir, i);
		FILE *f = fopen(b[i].file, "wb");
		if (f == NULL || fwrite(b[i].text, 1, b[i].len, f) != b[i].len || fclose(f) != 0)
			die(b[i].file, strerror(errno));
	}
}

static bool mx_parse_once(void *arg, const char **why)
{
	const struct parse_arg *a = arg;
	struct sts_policy pol;
	struct sts_report rep;
	int rc = sts_policy_parse(a->b->text, a->b->len, &pol, &rep);
	if (rc != MXTLS_OK) {
		*why = mxtls_strerror(rc);
		return false;
	}
	bool ok = pol.mode == a->b->mode && pol.nmx == a->nmx && pol.max_age == a->b->max_age;
	*why = "mode, mx count or max_age differ";
	sts_policy_clear(&pol);
	return ok;
}

static bool mx_lint_once(void *arg, const char **why)
{
	const struct parse_arg *a = arg;
	struct mxtls_sts_lint *l = NULL;
	int rc = mxtls_sts_lint_policy(a->b->text, a->b->len, &l);
	if (rc != MXTLS_OK) {
		*why = mxtls_strerror(rc);
		return false;
	}
	const char *mode = mxtls_sts_lint_mode(l);
	bool ok = mxtls_sts_lint_valid(l) && mode != NULL &&
		  strcmp(mode, sts_policy_mode_name(a->b->mode)) == 0 &&
		  mxtls_sts_lint_mx_count(l) == a->nmx &&
		  mxtls_sts_lint_max_age(l) == (int64_t)a->b->max_age;
	*why = "invalid, or mode, mx count or max_age differ";
	mxtls_sts_lint_free(l);
	return ok;
}

struct parse_impl {
	const char *name;
	bool (*once)(void *arg, const char **why); /* NULL: the peer */
};

static const struct parse_impl parse_impls[] = {
	{"mxtls sts_policy_parse", mx_parse_once},
	{"mxtls_sts_lint_policy", mx_lint_once},
	{"peer", NULL},
};
#define NPARSE (sizeof parse_impls / sizeof parse_impls[0])

static void peer_parse_cmd(char *cmd, size_t cap, const struct body *b, size_t nmx, double secs)
{
	snprintf(cmd, cap, "parse %s %s %zu %u %.6f", b->file, sts_policy_mode_name(b->mode), nmx,
		 b->max_age, secs);
}

/* ---- (2) cached lookups --------------------------------------------------------------------- */

struct lookup {
	struct mxtls_ctx *ctx;
	uint32_t n;
	uint64_t rng;
	bool flip; /* negative control: expect the other mode */
	char why[300];
};

static bool mx_lookup_once(void *arg, const char **why)
{
	struct lookup *l = arg;
	uint32_t i = rng_below(&l->rng, l->n);
	char d[64], id[16];
	snprintf(d, sizeof d, DOMAIN_FMT, i);
	struct mxtls_sts_policy *p = NULL;
	int rc = mxtls_sts_cache_show(l->ctx, d, &p, l->why, sizeof l->why);
	*why = l->why;
	if (rc != MXTLS_OK)
		return false;
	snprintf(id, sizeof id, ID_FMT, i);
	const char *mode = mxtls_sts_policy_mode(p), *pid = mxtls_sts_policy_id(p);
	bool ok = mode != NULL && pid != NULL &&
		  (strcmp(mode, sts_policy_mode_name(domain_mode(i))) == 0) != l->flip &&
		  strcmp(pid, id) == 0;
	if (!ok)
		snprintf(l->why, sizeof l->why, "%s: id %s mode %s", d, pid ? pid : "(null)",
			 mode ? mode : "(null)");
	mxtls_sts_policy_free(p);
	return ok;
}

/* Stores domains 0..n-1 with sts_cache_put(); *cpu and *wall receive the times. */
static void fill_mxtls(uint32_t n, double *cpu, double *wall)
{
	char path[1200], err[512];
	snprintf(path, sizeof path, "%s/%s", tmpdir, STS_CACHE_FILE);
	struct sts_cache *c = NULL;
	if (sts_cache_open(path, &c, err, sizeof err) != MXTLS_OK)
		die("sts_cache_open", err);
	int64_t now = (int64_t)time(NULL);
	double w0 = bench_now(CLOCK_MONOTONIC), c0 = bench_now(CLOCK_PROCESS_CPUTIME_ID);
	for (uint32_t i = 0; i < n; i++) {
		struct sts_cache_entry e;
		char text[512], mx1[300], mx2[300];
		char *mx[2] = {mx1, mx2};
		memset(&e, 0, sizeof e);
		snprintf(e.domain, sizeof e.domain, DOMAIN_FMT, i);
		snprintf(e.id, sizeof e.id, ID_FMT, i);
		snprintf(mx1, sizeof mx1, "mx1.%s", e.domain);
		snprintf(mx2, sizeof mx2, "mx2.%s", e.domain);
		e.mode = domain_mode(i);
		e.len = (size_t)snprintf(text, sizeof text,
					 "version: STSv1\nmode: %s\nmx: %s\nmx: %s\nmax_age: %u\n",
					 sts_policy_mode_name(e.mode), mx1, mx2, CACHE_MAX_AGE);
		e.text = text;
		e.max_age = CACHE_MAX_AGE;
		e.mx = mx;
		e.nmx = 2;
		e.fetched_at = e.last_checked = now;
		e.expires_at = now + CACHE_MAX_AGE;
		int rc = sts_cache_put(c, &e);
		if (rc != MXTLS_OK)
			die("sts_cache_put", mxtls_strerror(rc));
	}
	*cpu = bench_now(CLOCK_PROCESS_CPUTIME_ID) - c0;
	*wall = bench_now(CLOCK_MONOTONIC) - w0;
	if (sts_cache_count(c) != (long)n)
		die("sts_cache_count", "not the number of domains stored");
	sts_cache_close(c);
}

/* ---- output --------------------------------------------------------------------------------- */

struct summary {
	char op[64];
	double mx, peer; /* ops/s; 0 when not measured */
};

static struct summary sums[16];
static size_t nsums;

static void add_summary(const char *op, double mx, double pr)
{
	if (nsums == sizeof sums / sizeof sums[0])
		return;
	snprintf(sums[nsums].op, sizeof sums[nsums].op, "%s", op);
	sums[nsums].mx = mx;
	sums[nsums].peer = pr;
	nsums++;
}

/* One line of a detailed table; returns the median rate. */
static double print_line(const char *row, const char *impl, const struct meas *m, int rounds,
			 double ref)
{
	double spread, rate = bench_median(m->rate, (size_t)rounds, NULL, NULL, &spread);
	printf("%-22s %-34s %12.0f %9.2f %7.1f%% %6.0f%%", row, impl, rate,
	       rate > 0 ? 1e6 / rate : 0.0, 100 * spread, m->wall > 0 ? 100 * m->cpu / m->wall : 0);
	if (ref > 0 && rate > 0)
		printf(" %11.2f", ref / rate);
	printf("\n");
	return rate;
}

static void print_header(void)
{
	printf("%-22s %-34s %12s %9s %8s %7s %11s\n", "row", "implementation", "ops/s", "us/op",
	       "spread", "cpu/wall", "mxtls/this");
}

/* (2): fills both caches, then times lookups of random domains; prints rows and sizes. */
static void cache_section(uint32_t n, double secs, int rounds, bool have_peer, long rss_start,
			  long rss_parse)
{
	printf("\n(2) cached policy lookups, warm cache of %u domains (state-dir %s)\n", n, tmpdir);
	double fill_cpu, fill_wall;
	fill_mxtls(n, &fill_cpu, &fill_wall);
	long rss_fill = peak_rss_kib(), cur_fill = cur_rss_kib();
	long long db_size = file_size(tmpdir, STS_CACHE_FILE);

	char reply[REPLY_MAX];
	unsigned long long p_set = 0, p_bulk = 0;
	double p_set_cpu = 0, p_set_wall = 0, p_bulk_wall = 0;
	long p_rss_before = 0, p_rss_fill = 0, p_rss_get = 0;
	long long p_db_size = 0;
	if (have_peer) {
		if (!peer_call(reply, sizeof reply, "rss") ||
		    sscanf(reply, "ok %ld", &p_rss_before) != 1)
			die("peer rss", reply);
		if (!peer_call(reply, sizeof reply, "fill %s/%s %u %.6f", tmpdir, PEER_DB, n,
			       secs) ||
		    sscanf(reply, "ok %llu %lf %lf %llu %lf", &p_set, &p_set_cpu, &p_set_wall,
			   &p_bulk, &p_bulk_wall) != 5)
			die("peer fill", reply);
		if (!peer_call(reply, sizeof reply, "rss") ||
		    sscanf(reply, "ok %ld", &p_rss_fill) != 1)
			die("peer rss", reply);
		p_db_size = file_size(tmpdir, PEER_DB) + file_size(tmpdir, PEER_DB "-wal");
	}

	struct mxtls_config *cfg = NULL;
	struct lookup lk = {.n = n, .rng = 0x9e3779b97f4a7c15ULL};
	char err[512] = "";
	if (mxtls_config_new(&cfg) != MXTLS_OK ||
	    mxtls_config_set(cfg, "state-dir", tmpdir, err, sizeof err) != MXTLS_OK ||
	    mxtls_ctx_new(cfg, &lk.ctx, err, sizeof err) != MXTLS_OK)
		die("mxtls context", err);
	mxtls_config_free(cfg);

	/* Negative controls: a domain never stored is not found, and a wrong expectation fails. */
	struct mxtls_sts_policy *pol = NULL;
	char absent[64];
	snprintf(absent, sizeof absent, DOMAIN_FMT, n);
	if (mxtls_sts_cache_show(lk.ctx, absent, &pol, err, sizeof err) != MXTLS_E_NOTFOUND)
		wrong("mxtls_sts_cache_show", absent, "found, or not MXTLS_E_NOTFOUND");
	struct lookup lk_bad = lk;
	lk_bad.flip = true;
	const char *w;
	if (mx_lookup_once(&lk_bad, &w))
		wrong("mxtls_sts_cache_show", "negative control", "check passed the wrong mode");
	if (have_peer &&
	    (!peer_call(reply, sizeof reply, "absent %u", n) || strcmp(reply, "ok") != 0))
		wrong(peer.version, absent, reply);
	/* Warm-up, not timed: opens the cache, reads the upper B-tree pages (both sides). */
	struct meas warm;
	memset(&warm, 0, sizeof warm);
	run_mx(mx_lookup_once, &lk, "mxtls_sts_cache_show", "warm-up", WARMUP_S, &warm, 0);
	if (have_peer) {
		char cmd[64];
		snprintf(cmd, sizeof cmd, "get %u %.6f", n, WARMUP_S);
		peer_timed(&warm, 0, "warm-up", cmd);
	}

	struct meas lm[2];
	memset(lm, 0, sizeof lm);
	for (int round = 0; round < rounds; round++) {
		run_mx(mx_lookup_once, &lk, "mxtls_sts_cache_show", "lookup", secs / rounds, &lm[0],
		       round);
		if (have_peer) {
			char cmd[64];
			snprintf(cmd, sizeof cmd, "get %u %.6f", n, secs / rounds);
			peer_timed(&lm[1], round, "lookup", cmd);
		}
	}
	long rss_get = peak_rss_kib(), cur_get = cur_rss_kib();
	if (have_peer &&
	    (!peer_call(reply, sizeof reply, "rss") || sscanf(reply, "ok %ld", &p_rss_get) != 1))
		die("peer rss", reply);
	long long db_size_after =
		file_size(tmpdir, STS_CACHE_FILE) + file_size(tmpdir, STS_CACHE_FILE "-wal");

	print_header();
	double fill_rate = fill_cpu > 0 ? n / fill_cpu : 0;
	printf("%-22s %-34s %12.0f %9.2f %8s %6.0f%%\n", "fill (one put each)",
	       "mxtls sts_cache_put", fill_rate, fill_rate > 0 ? 1e6 / fill_rate : 0, "-",
	       100 * fill_cpu / fill_wall);
	double p_fill_rate = p_set_cpu > 0 ? p_set / p_set_cpu : 0;
	if (have_peer)
		printf("%-22s %-34s %12.0f %9.2f %8s %6.0f%% %11.2f\n", "", "peer SqliteCache.set",
		       p_fill_rate, p_fill_rate > 0 ? 1e6 / p_fill_rate : 0, "-",
		       p_set_wall > 0 ? 100 * p_set_cpu / p_set_wall : 0,
		       p_fill_rate > 0 ? fill_rate / p_fill_rate : 0);
	double l_mx =
		print_line("lookup, random domain", "mxtls_sts_cache_show", &lm[0], rounds, 0);
	double l_peer =
		lm[1].done ? print_line("", "peer SqliteCache.get", &lm[1], rounds, l_mx) : 0;
	add_summary("cache fill, one put each", fill_rate, p_fill_rate);
	add_summary("cache lookup, public API", l_mx, l_peer);

	printf("\n  mxtls fill: %u sts_cache_put() in %.2f s wall (%.0f/s wall)\n", n, fill_wall,
	       n / fill_wall);
	printf("  mxtls database: %.1f MiB after the fill (%.0f bytes/domain), %.1f MiB with WAL "
	       "after the lookups\n",
	       db_size / 1048576.0, (double)db_size / n, db_size_after / 1048576.0);
	printf("  mxtls peak RSS: %.1f MiB at start, %.1f after the parses, %.1f after the fill, "
	       "%.1f after the lookups (current %.1f / %.1f)\n",
	       rss_start / 1024.0, rss_parse / 1024.0, rss_fill / 1024.0, rss_get / 1024.0,
	       cur_fill / 1024.0, cur_get / 1024.0);
	if (have_peer) {
		printf("  peer fill: %llu set() in %.2f s wall (%.0f/s wall), then %llu rows in "
		       "bulk "
		       "in %.2f s\n",
		       p_set, p_set_wall, p_set_wall > 0 ? p_set / p_set_wall : 0, p_bulk,
		       p_bulk_wall);
		printf("  peer database: %.1f MiB (%.0f bytes/domain)\n", p_db_size / 1048576.0,
		       (double)p_db_size / n);
		printf("  peer peak RSS (python3 process): %.1f MiB before the fill, %.1f after "
		       "the "
		       "fill, %.1f after the lookups\n",
		       p_rss_before / 1024.0, p_rss_fill / 1024.0, p_rss_get / 1024.0);
	}
	mxtls_ctx_free(lk.ctx);
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-t SECONDS] [-r ROUNDS] [-n DOMAINS] [-P PYTHON|none] [-s SCRIPT]\n"
		"          [-d TMPDIR] [-o parse|cache]\n"
		"  -t  wall time per row and implementation, all rounds together (default 1)\n"
		"  -r  interleaved rounds (default 3, at most %d); the median round is reported\n"
		"  -n  domains in the warm cache (default 100000)\n"
		"  -P  the Python that runs the peer (default: /usr/bin/python3, then python3);\n"
		"      'none' measures mxtls alone\n"
		"  -s  the peer driver (default %s)\n"
		"  -d  where the temporary state directory is made (default $TMPDIR or /tmp)\n"
		"  -o  only the parse rows (1) or only the cache rows (2), e.g. for a profiler\n",
		argv0, ROUNDS_MAX, BENCH_STS_PEER_SCRIPT);
	exit(2);
}

int main(int argc, char **argv)
{
	double secs = 1.0;
	int rounds = 3;
	unsigned long ndomains = 100000;
	const char *python = NULL, *script = BENCH_STS_PEER_SCRIPT, *parent = getenv("TMPDIR");
	bool do_parse = true, do_cache = true;
	int opt;
	while ((opt = getopt(argc, argv, "t:r:n:P:s:d:o:h")) != -1) {
		switch (opt) {
		case 't':
			secs = strtod(optarg, NULL);
			if (!(secs > 0 && secs < 3600))
				usage(argv[0]);
			break;
		case 'r':
			rounds = atoi(optarg);
			if (rounds < 1 || rounds > ROUNDS_MAX)
				usage(argv[0]);
			break;
		case 'n':
			ndomains = strtoul(optarg, NULL, 10);
			if (ndomains < 1 || ndomains > 1000000)
				usage(argv[0]);
			break;
		case 'P':
			python = optarg;
			break;
		case 's':
			script = optarg;
			break;
		case 'd':
			parent = optarg;
			break;
		case 'o':
			do_parse = strcmp(optarg, "parse") == 0;
			do_cache = strcmp(optarg, "cache") == 0;
			if (!do_parse && !do_cache)
				usage(argv[0]);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc)
		usage(argv[0]);
	uint32_t n = (uint32_t)ndomains;
	signal(SIGPIPE, SIG_IGN); /* a dead peer shows as a failed write, not a dead benchmark */

	snprintf(tmpdir, sizeof tmpdir, "%s/bench_sts.XXXXXX",
		 parent != NULL && parent[0] != '\0' ? parent : "/tmp");
	if (strpbrk(tmpdir, " \t\n") != NULL) /* the peer's commands are split on blanks */
		die(tmpdir, "the temporary directory's path must not contain blanks (use -d)");
	if (mkdtemp(tmpdir) == NULL)
		die(tmpdir, strerror(errno));
	atexit(cleanup);

	/* The peer, unless disabled. */
	char why[REPLY_MAX] = "disabled with -P none";
	bool have_peer = false;
	if (python == NULL) {
		char why1[REPLY_MAX / 2 - 2], why2[REPLY_MAX / 2 - 2];
		have_peer = peer_start("/usr/bin/python3", script, why1, sizeof why1) ||
			    peer_start("python3", script, why2, sizeof why2);
		if (!have_peer)
			snprintf(why, sizeof why, "%s; %s", why1, why2);
	} else if (strcmp(python, "none") != 0) {
		have_peer = peer_start(python, script, why, sizeof why);
	}

	struct body bodies[3];
	make_bodies(bodies);

	printf("bench_sts: MTA-STS policy parses and cached policy lookups per second\n");
	printf("  peer: %s\n", have_peer ? peer.version : "not measured");
	if (!have_peer)
		printf("    (%s)\n", why);
	printf("  %.2f s per measurement in %d interleaved rounds; rates per CPU second of the "
	       "process, median round\n",
	       secs, rounds);
	printf("  every result is checked each iteration; each check is shown to fail once on a "
	       "wrong expectation\n");
	long rss_start = peak_rss_kib();

	/* (1) parses */
	if (do_parse) {
		printf("\n(1) policy parses: body bytes -> parsed policy, result checked\n");
		print_header();
	}
	for (int bi = 0; do_parse && bi < 3; bi++) {
		const struct body *b = &bodies[bi];
		struct meas m[NPARSE];
		memset(m, 0, sizeof m);
		struct parse_arg good = {b, b->nmx}, bad = {b, b->nmx + 1};
		char cmd[1400], reply[REPLY_MAX];
		const char *w;
		for (size_t k = 0; k < NPARSE; k++) {
			if (parse_impls[k].once == NULL)
				continue;
			if (parse_impls[k].once(&bad, &w))
				wrong(parse_impls[k].name, b->label,
				      "check passed a wrong mx count");
			for (int i = 0; i < 20; i++)
				if (!parse_impls[k].once(&good, &w))
					wrong(parse_impls[k].name, b->label, w);
		}
		if (have_peer) {
			peer_parse_cmd(cmd, sizeof cmd, b, b->nmx + 1, 0.0);
			peer_call(reply, sizeof reply, "%s", cmd);
			if (strncmp(reply, "wrong", 5) != 0)
				wrong(peer.version, b->label, "check passed a wrong mx count");
			struct meas warm; /* warm-up, not timed */
			memset(&warm, 0, sizeof warm);
			peer_parse_cmd(cmd, sizeof cmd, b, b->nmx, WARMUP_S / 5);
			peer_timed(&warm, 0, b->label, cmd);
		}
		for (int round = 0; round < rounds; round++)
			for (size_t k = 0; k < NPARSE; k++) {
				if (parse_impls[k].once != NULL) {
					run_mx(parse_impls[k].once, &good, parse_impls[k].name,
					       b->label, secs / rounds, &m[k], round);
				} else if (have_peer) {
					peer_parse_cmd(cmd, sizeof cmd, b, b->nmx, secs / rounds);
					peer_timed(&m[k], round, b->label, cmd);
				}
			}
		double ref = 0, rates[NPARSE] = {0};
		for (size_t k = 0; k < NPARSE; k++) {
			if (!m[k].done)
				continue;
			rates[k] = print_line(k == 0 ? b->label : "",
					      parse_impls[k].once ? parse_impls[k].name
								  : "peer parse_mta_sts_policy",
					      &m[k], rounds, ref);
			if (k == 0)
				ref = rates[k];
		}
		char op[64];
		snprintf(op, sizeof op, "parse %s (internal)", b->label);
		add_summary(op, rates[0], rates[2]);
		snprintf(op, sizeof op, "parse %s (public lint)", b->label);
		add_summary(op, rates[1], rates[2]);
	}
	long rss_parse = peak_rss_kib();

	if (do_cache)
		cache_section(n, secs, rounds, have_peer, rss_start, rss_parse);

	printf("\nsummary (ops per CPU second)\n");
	printf("%-42s %14s %14s %11s\n", "operation", "mxtls ops/s", "peer ops/s", "mxtls/peer");
	for (size_t i = 0; i < nsums; i++) {
		printf("%-42s %14.0f ", sums[i].op, sums[i].mx);
		if (sums[i].peer > 0)
			printf("%14.0f %11.2f\n", sums[i].peer, sums[i].mx / sums[i].peer);
		else
			printf("%14s %11s\n", "-", "-");
	}
	printf("\nmxtls/peer (mxtls/this) = mxtls ops/s / the peer's ops/s; > 1 means mxtls is "
	       "faster\n");

	cleanup();
	return 0;
}
