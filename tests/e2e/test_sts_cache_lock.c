/* SPDX-License-Identifier: MIT */
/* A policy cache locked by another process: the application's loop keeps running, no downgrade. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>

#include <mxtls/mxtls.h>

/* Longer than the cache's busy timeout (5 s): a read that waits for it gives up first. */
#define HOLD_SECONDS 7
/* The loop's timer ticks this often; a tick later than LATE_MS means the loop was blocked. */
#define TICK_MS 20
#define LATE_MS 1000

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

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct slot {
	struct mxtls_decision *d;
	int err;
	int done;
	double at; /* when the callback ran */
};

static void on_decided(void *arg, struct mxtls_decision *d, int err)
{
	struct slot *s = arg;
	*s = (struct slot){d, err, 1, now_ms()};
}

/* The loop's own work: a timer that records the longest gap between its ticks. */
struct ticker {
	double last, worst;
	unsigned ticks;
};

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct ticker *t = arg;
	double n = now_ms();
	if (n - t->last > t->worst)
		t->worst = n - t->last;
	t->last = n;
	t->ticks++;
}

/* Decides domain on base and waits for it; returns the slot. */
static struct slot decide(struct mxtls_ctx *ctx, struct event_base *base, const char *domain)
{
	struct slot s = {0};
	char err[256] = "";
	int rc = mxtls_decide_start(ctx, domain, on_decided, &s, NULL, err, sizeof err);
	if (rc != MXTLS_OK) {
		s.err = rc;
		printf("# decide_start %s: %s\n", domain, err);
		return s;
	}
	while (!s.done)
		event_base_loop(base, EVLOOP_ONCE);
	return s;
}

/*
 * Another process holding the cache's lock the way a backup or a `sqlite3` prompt can: an
 * exclusive transaction with a write, in exclusive locking mode, which in WAL mode keeps every
 * other connection from reading.  Writes a byte to ready once the lock is held, then holds it
 * for seconds and exits without committing.
 */
static pid_t hold_lock(const char *path, unsigned seconds)
{
	int p[2];
	if (pipe(p) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		sqlite3 *db;
		if (sqlite3_open(path, &db) != SQLITE_OK ||
		    sqlite3_exec(db,
				 "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE;"
				 " INSERT OR REPLACE INTO fetch_failure VALUES"
				 " ('lock.invalid', 'x', 0, 'held by the test');",
				 NULL, NULL, NULL) != SQLITE_OK)
			_exit(2);
		(void)!write(p[1], "x", 1);
		sleep(seconds);
		_exit(0);
	}
	close(p[1]);
	char c;
	ssize_t n = pid > 0 ? read(p[0], &c, 1) : -1;
	close(p[0]);
	if (n != 1) {
		if (pid > 0)
			waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

/* A context on base with state-dir state; NULL on failure. */
static struct mxtls_ctx *ctx_on(struct event_base *base, const char *state)
{
	char err[256] = "";
	struct mxtls_config *cfg;
	struct mxtls_ctx *ctx = NULL;
	if (mxtls_config_new(&cfg) != MXTLS_OK)
		return NULL;
	if (mxtls_config_set(cfg, "unbound-conf", getenv("MXTLS_TEST_UNBOUND_CONF"), err,
			     sizeof err) != MXTLS_OK ||
	    mxtls_config_set(cfg, "ca-file", getenv("MXTLS_TEST_CA_FILE"), err, sizeof err) !=
		    MXTLS_OK ||
	    mxtls_config_set(cfg, "state-dir", state, err, sizeof err) != MXTLS_OK ||
	    mxtls_ctx_new(cfg, &ctx, err, sizeof err) != MXTLS_OK ||
	    mxtls_ctx_set_event_base(ctx, base) != MXTLS_OK) {
		fprintf(stderr, "set-up: %s\n", err);
		mxtls_ctx_free(ctx);
		ctx = NULL;
	}
	mxtls_config_free(cfg);
	return ctx;
}

int main(void)
{
	char state[] = "/tmp/mxtls-lock-XXXXXX", err[256] = "", path[128], diag[512];
	if (mkdtemp(state) == NULL)
		return 1;
	snprintf(path, sizeof path, "%s/sts-cache.sqlite", state);
	struct event_base *base = event_base_new();

	/* A first context creates the cache file (caching nothing for enforce.sts.test) and
	 * closes it: exclusive locking mode can only be taken while no connection is open. */
	struct mxtls_ctx *ctx = ctx_on(base, state);
	if (ctx == NULL)
		return 1;
	struct slot warm = decide(ctx, base, "plain.test");
	check(warm.err == MXTLS_OK && warm.d != NULL &&
		      strcmp(mxtls_decision_mode(warm.d), "opportunistic") == 0,
	      "warm-up decision: plain.test is opportunistic", NULL);
	mxtls_decision_free(warm.d);
	mxtls_ctx_free(ctx);
	if ((ctx = ctx_on(base, state)) == NULL)
		return 1;

	pid_t holder = hold_lock(path, HOLD_SECONDS);
	check(holder > 0, "another process holds the cache's lock", NULL);

	/* An uncached MTA-STS domain: its decision needs the cache, which waits for the lock. */
	struct ticker t = {.last = now_ms()};
	struct event *tick = event_new(base, -1, EV_PERSIST, on_tick, &t);
	struct timeval tv = {0, TICK_MS * 1000};
	event_add(tick, &tv);
	double t0 = now_ms();
	struct slot cold = {0};
	int rc = mxtls_decide_start(ctx, "enforce.sts.test", on_decided, &cold, NULL, err,
				    sizeof err);
	double start_ms = now_ms() - t0;
	snprintf(diag, sizeof diag, "rc %d (%s), returned after %.0f ms", rc, err, start_ms);
	check(rc == MXTLS_OK && start_ms < LATE_MS,
	      "decide_start returns at once while the cache is locked", diag);
	/* A second decision started and cancelled while its cache read is in flight: no callback
	 * into freed memory (AddressSanitizer), none at all. */
	struct slot *gone = calloc(1, sizeof *gone);
	struct mxtls_decide_op *op = NULL;
	check(gone != NULL && mxtls_decide_start(ctx, "testing.sts.test", on_decided, gone, &op,
						 err, sizeof err) == MXTLS_OK,
	      "decide_start (to be cancelled during its cache read)", err);
	mxtls_decide_cancel(op);
	free(gone);
	while (rc == MXTLS_OK && !cold.done)
		event_base_loop(base, EVLOOP_ONCE);
	on_tick(-1, 0, &t); /* the time since the last tick counts too */
	snprintf(diag, sizeof diag, "longest gap between %u ticks of a %d ms timer: %.1f ms",
		 t.ticks, TICK_MS, t.worst);
	printf("# locked cache: %s; the decision ended after %.0f ms\n", diag, cold.at - t0);
	check(t.ticks > 10 && t.worst < LATE_MS,
	      "the loop's timer keeps running while the cache is locked", diag);
	snprintf(diag, sizeof diag, "err %d mode %s: %s", cold.err,
		 cold.d != NULL ? mxtls_decision_mode(cold.d) : "-",
		 cold.d != NULL ? mxtls_decision_reason(cold.d) : "-");
	/* The busy timeout (5 s) ends before the lock (7 s): the cache could not be read, and
	 * not knowing the cached policy is a temporary failure, never "no policy". */
	check(cold.d != NULL && strcmp(mxtls_decision_mode(cold.d), "tempfail") == 0,
	      "an unreadable cache makes the decision tempfail", diag);
	mxtls_decision_free(cold.d);

	int status = -1;
	check(holder > 0 && waitpid(holder, &status, 0) == holder && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 0,
	      "the lock holder exits, releasing the lock", NULL);
	/* Once the lock is gone the same domain is decided, and its policy is enforced. */
	struct slot after = decide(ctx, base, "enforce.sts.test");
	snprintf(diag, sizeof diag, "err %d mode %s", after.err,
		 after.d != NULL ? mxtls_decision_mode(after.d) : "-");
	check(after.d != NULL && strcmp(mxtls_decision_mode(after.d), "mta-sts-enforce") == 0,
	      "after the lock is released: enforce.sts.test is mta-sts-enforce", diag);
	mxtls_decision_free(after.d);

	event_free(tick);
	mxtls_ctx_free(ctx);
	event_base_free(base);
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", state);
	if (system(cmd) != 0)
		return 1;
	printf("1..%d\n", count);
	return failures == 0 ? 0 : 1;
}
