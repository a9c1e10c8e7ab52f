/* SPDX-License-Identifier: MIT */
/*
 * mxtls_queue_run: the delivery daemon around the scheduler (delivery_sched.c).  It holds the
 * daemon lock (one daemon per spool), wakes the scheduler when mail arrives, refreshes cached
 * MTA-STS policies in the background (RFC 8461 §10.2: an attacker then has to block
 * discovery for a whole cache lifetime, not win one race at delivery time), and stops on
 * SIGTERM within a bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <event2/event.h>
#include <mxtls/error.h>
#include <mxtls/sts_fetch.h>

#include "delivery/delivery_drop.h"
#include "delivery/delivery_listener.h"
#include "delivery/delivery_queue.h"
#include "delivery/delivery_sched.h"
#include "delivery/delivery_tlsrpt.h"
#include "delivery/delivery_wake.h"
#include "smtp/smtp_client.h"
#include "util/util_log.h"
#include "validator/mxtls_ctx.h"

#define DAEMON_LOCK "daemon.pid"
/* Drop files moved into the queue per round, and the fallback round's period (seconds). */
#define DAEMON_PICKUP_MAX   1000
#define DAEMON_PICKUP_EVERY 10

void mxtls_queue_run_opts_init(struct mxtls_queue_run_opts *o)
{
	*o = (struct mxtls_queue_run_opts){
		.retry_min = DELIVERY_RETRY_MIN_DEFAULT,
		.retry_max = DELIVERY_RETRY_MAX_DEFAULT,
		.lifetime = DELIVERY_QUEUE_LIFETIME_DEFAULT,
		.concurrency = 100,
		.concurrency_per_domain = 20,
		.shutdown_timeout = 30,
		.sts_refresh = 3600,
		.sts_refresh_age = 43200,
	};
}

struct daemon {
	struct mxtls_queue *q;
	const struct mxtls_queue_run_opts *o;
	struct event_base *base;
	struct delivery_sched *sched;
	struct event *ev_term, *ev_int, *ev_wake, *ev_refresh, *ev_deadline, *ev_pickup;
	struct mxtls_sts_refresh_op *refresh;
	struct delivery_listener *listener;
	char queue_dir[4096];
	bool stopping, done;
};

static void log_kv(struct daemon *d, enum mxtls_log_level level, const char *event, ...)
{
	va_list ap;
	va_start(ap, event);
	util_log_kv_v(&d->q->ctx->log, level, 0, event, ap);
	va_end(ap);
}

static void notify(struct daemon *d, const char *state)
{
	if (d->o->notify != NULL)
		d->o->notify(d->o->notify_arg, state);
}

static void on_idle(void *arg)
{
	struct daemon *d = arg;
	d->done = true;
	event_base_loopbreak(d->base);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct daemon *d = arg;
	char n[24];
	snprintf(n, sizeof n, "%zu", delivery_sched_running(d->sched));
	log_kv(d, MXTLS_LOG_WARNING, "queue-stop-cut-short", "sessions", n, "action",
	       "their recipients stay queued", NULL);
	on_idle(d);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct daemon *d = arg;
	if (d->stopping)
		return;
	d->stopping = true;
	char n[24];
	snprintf(n, sizeof n, "%zu", delivery_sched_running(d->sched));
	log_kv(d, MXTLS_LOG_INFO, "queue-stopping", "signal", sig == SIGTERM ? "TERM" : "INT",
	       "sessions", n, NULL);
	notify(d, "STOPPING=1");
	if (d->refresh != NULL) {
		mxtls_sts_refresh_cancel(d->refresh);
		d->refresh = NULL;
	}
	event_del(d->ev_refresh);
	event_del(d->ev_wake);
	event_del(d->ev_pickup);
	/* Stop taking mail: a client gets connection refused and retries elsewhere or later. */
	delivery_listener_close(d->listener);
	d->listener = NULL;
	struct timeval tv = {(time_t)d->o->shutdown_timeout, 0};
	event_add(d->ev_deadline, &tv);
	delivery_sched_stop(d->sched);
}

/* Moves what unprivileged users dropped into the queue (delivery_drop_pickup.c). */
static void pickup(struct daemon *d)
{
	size_t taken = 0;
	char err[512] = "";
	if (delivery_drop_pickup(d->q, DAEMON_PICKUP_MAX, &taken, err, sizeof err) != MXTLS_OK)
		log_kv(d, MXTLS_LOG_WARNING, "maildrop-pickup-failed", "why", err, NULL);
	if (taken == DAEMON_PICKUP_MAX) /* more may wait: again from the loop */
		event_active(d->ev_pickup, EV_TIMEOUT, 0);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct daemon *d = arg;
	char buf[64];
	while (recv(fd, buf, sizeof buf, 0) > 0)
		;
	pickup(d);
	delivery_sched_kick(d->sched);
}

/* The maildrop is looked at on every wake-up and, in case a datagram was lost, every
 * DAEMON_PICKUP_EVERY seconds. */
static void on_pickup_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct daemon *d = arg;
	if (d->stopping)
		return;
	struct timeval tv = {DAEMON_PICKUP_EVERY, 0};
	event_add(d->ev_pickup, &tv);
	pickup(d);
	delivery_sched_kick(d->sched);
	/* TLS-RPT results counted in memory reach the store while the daemon idles. */
	delivery_tlsrpt_flush(d->q->ctx);
}

static void on_queued(void *arg, const char *id)
{
	(void)id;
	struct daemon *d = arg;
	delivery_sched_kick(d->sched);
}

static void on_refreshed(void *arg, size_t refreshed, size_t failed)
{
	struct daemon *d = arg;
	d->refresh = NULL;
	char a[24], b[24];
	snprintf(a, sizeof a, "%zu", refreshed);
	snprintf(b, sizeof b, "%zu", failed);
	log_kv(d, MXTLS_LOG_INFO, "sts-refreshed", "refreshed", a, "failed", b, NULL);
}

static void on_refresh_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct daemon *d = arg;
	struct timeval tv = {(time_t)d->o->sts_refresh, 0};
	event_add(d->ev_refresh, &tv);
	if (d->refresh != NULL || d->stopping)
		return;
	char err[512];
	/* RFC 8461 §3.3, §10.2: renew cached policies before they expire, a few at a time. */
	if (mxtls_sts_refresh_start(d->q->ctx, d->o->sts_refresh_age, 4, 2000, on_refreshed, d,
				    &d->refresh, err, sizeof err) != MXTLS_OK)
		log_kv(d, MXTLS_LOG_WARNING, "sts-refresh-failed", "why", err, NULL);
}

static int check_opts(const struct mxtls_queue_run_opts *o, char *err, size_t errlen)
{
	const char *bad = o->retry_min < 1                 ? "retry-min must be at least 1"
			  : o->retry_max < o->retry_min    ? "retry-max must be at least retry-min"
			  : o->lifetime < 1                ? "queue-lifetime must be at least 1"
			  : o->delay_warning < 0           ? "delay-warning must not be negative"
			  : o->concurrency < 1             ? "concurrency must be at least 1"
			  : o->concurrency_per_domain < 1  ? "concurrency-per-domain must be at least 1"
			  : o->sts_refresh < 0             ? "sts-refresh must not be negative"
			  : o->nlisten > 0 && o->once      ? "--once and --listen do not go together"
			  : o->nallow > 0 && o->nlisten == 0 ? "--allow needs --listen"
			  /* Checked here, once: deliver_start() would refuse every message with the
			   * same MXTLS_E_INVAL as a bad address, and the scheduler bounces those. */
			  : o->helo != NULL && !smtp_helo_ok(o->helo)
				  ? "helo: not a name an EHLO line can carry"
				  : NULL;
	if (bad != NULL) {
		snprintf(err, errlen, "%s", bad);
		return MXTLS_E_CONFIG;
	}
	return MXTLS_OK;
}

/* One daemon per spool: an exclusive lock on queue/daemon.pid, which holds its pid. */
static int take_lock(const char *queue_dir, int *fd_out, char *err, size_t errlen)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", queue_dir, DAEMON_LOCK);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return MXTLS_E_IO;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		char pid[32] = "";
		ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		snprintf(err, errlen, "another mxtls queue run serves this queue (pid %s)",
			 pid[0] ? pid : "unknown");
		close(fd);
		return MXTLS_E_TEMPFAIL;
	}
	char pid[32];
	int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
		/* Only informational: the lock is what counts. */
	}
	*fd_out = fd;
	return MXTLS_OK;
}

static void teardown(struct daemon *d)
{
	delivery_listener_close(d->listener);
	delivery_sched_free(d->sched);
	if (d->refresh != NULL)
		mxtls_sts_refresh_cancel(d->refresh);
	struct event *evs[] = {d->ev_term,     d->ev_int,	d->ev_wake,
			       d->ev_refresh, d->ev_deadline, d->ev_pickup};
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
		if (evs[i] != NULL)
			event_free(evs[i]);
}

int mxtls_queue_run(struct mxtls_queue *q, const struct mxtls_queue_run_opts *o, char *err,
		    size_t errlen)
{
	char scratch[1];
	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof scratch;
	}
	err[0] = '\0';
	if (q == NULL || o == NULL)
		return MXTLS_E_INVAL;
	int rc = check_opts(o, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	struct daemon d = {.q = q, .o = o};
	snprintf(d.queue_dir, sizeof d.queue_dir, "%s/queue", q->ctx->state_dir);
	int lock_fd = -1, wake_fd = -1;
	rc = take_lock(d.queue_dir, &lock_fd, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	struct delivery_dkim *dkim = NULL;
	rc = delivery_dkim_load(o->dkim_keys, o->ndkim_keys, &dkim, err, errlen);
	if (rc == MXTLS_OK)
		rc = mxtls_ctx_base(q->ctx, &d.base, err, errlen);
	if (rc == MXTLS_OK && (wake_fd = delivery_wake_bind(d.queue_dir, err, errlen)) < 0)
		rc = MXTLS_E_IO;
	struct delivery_sched_opts so = {
		.retry = {.retry_min = o->retry_min, .retry_max = o->retry_max,
			  .lifetime = o->lifetime},
		.delay_warning = o->delay_warning,
		.concurrency = o->concurrency,
		.concurrency_per_domain = o->concurrency_per_domain,
		.helo = o->helo != NULL ? o->helo : q->ctx->helo,
		.dkim = dkim,
		.once = o->once != 0,
	};
	if (rc == MXTLS_OK) {
		d.ev_term = evsignal_new(d.base, SIGTERM, on_signal, &d);
		d.ev_int = evsignal_new(d.base, SIGINT, on_signal, &d);
		d.ev_wake = event_new(d.base, wake_fd, EV_READ | EV_PERSIST, on_wake, &d);
		d.ev_refresh = evtimer_new(d.base, on_refresh_timer, &d);
		d.ev_deadline = evtimer_new(d.base, on_deadline, &d);
		d.ev_pickup = evtimer_new(d.base, on_pickup_timer, &d);
		if (d.ev_term == NULL || d.ev_int == NULL || d.ev_wake == NULL ||
		    d.ev_refresh == NULL || d.ev_deadline == NULL || d.ev_pickup == NULL)
			rc = MXTLS_E_NOMEM;
	}
	if (rc == MXTLS_OK) {
		/* Before the first look at the index: what waits in the maildrop is due too. */
		pickup(&d);
		rc = delivery_sched_new(q, d.base, &so, on_idle, &d, &d.sched, err, errlen);
	}
	if (rc == MXTLS_OK && o->nlisten > 0) {
		struct delivery_listener_opts lo = {
			.listen = o->listen,
			.nlisten = o->nlisten,
			.allow = o->allow,
			.nallow = o->nallow,
			.hostname = so.helo,
			.on_queued = on_queued,
			.arg = &d,
		};
		rc = delivery_listener_open(d.base, q, &lo, &d.listener, err, errlen);
		if (rc == MXTLS_E_IO)
			rc = MXTLS_E_CONFIG; /* an address that cannot be bound: a setting to fix */
	}
	if (rc == MXTLS_OK) {
		event_add(d.ev_term, NULL);
		event_add(d.ev_int, NULL);
		event_add(d.ev_wake, NULL);
		if (!o->once) {
			struct timeval tv = {DAEMON_PICKUP_EVERY, 0};
			event_add(d.ev_pickup, &tv);
		}
		if (o->sts_refresh > 0 && !o->once) {
			struct timeval tv = {(time_t)o->sts_refresh, 0};
			event_add(d.ev_refresh, &tv);
		}
		char pid[24];
		snprintf(pid, sizeof pid, "%ld", (long)getpid());
		log_kv(&d, MXTLS_LOG_INFO, "queue-daemon-started", "pid", pid, "queue",
		       d.queue_dir, "once", o->once ? "yes" : "no", NULL);
		notify(&d, "READY=1");
		while (!d.done && event_base_dispatch(d.base) == 0 && !d.done)
			;
		delivery_tlsrpt_flush(d.q->ctx);
		const struct delivery_sched_stats *st = delivery_sched_stats(d.sched);
		char a[24], b[24], c[24], e[24];
		snprintf(a, sizeof a, "%" PRIu64, st->delivered);
		snprintf(b, sizeof b, "%" PRIu64, st->deferred);
		snprintf(c, sizeof c, "%" PRIu64, st->bounced);
		snprintf(e, sizeof e, "%" PRIu64, st->set_aside);
		log_kv(&d, MXTLS_LOG_INFO, "queue-daemon-stopped", "delivered", a, "deferred", b,
		       "bounced", c, "set_aside", e, NULL);
		if (st->results_lost > 0) {
			snprintf(err, errlen,
				 "the results of %" PRIu64 " message(s) could not be recorded (is the "
				 "disk full?); they will be delivered again",
				 st->results_lost);
			rc = MXTLS_E_IO;
		}
	}
	teardown(&d);
	delivery_wake_unbind(d.queue_dir, wake_fd);
	delivery_dkim_free(dkim);
	close(lock_fd);
	return rc;
}
