/* SPDX-License-Identifier: MIT */
/* Test helper: runs mxtls_queue_pickup() once over STATE_DIR's maildrop through the public API
 * (as the delivery daemon will on start, wake-up and timer), logging to stderr.
 * Usage: queue_pickup STATE_DIR [MAX].  Prints "taken N"; exit 0, or 75 (the queue cannot take
 * messages now), 78 (cannot open the queue). */
#include <stdio.h>
#include <stdlib.h>

#include <mxtls/config.h>
#include <mxtls/context.h>
#include <mxtls/error.h>
#include <mxtls/log.h>
#include <mxtls/queue.h>

static void log_line(void *arg, enum mxtls_log_level level, const char *line)
{
	(void)arg;
	fprintf(stderr, "%s: %s\n", mxtls_log_level_name(level), line);
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: queue_pickup STATE_DIR [MAX]\n");
		return 64;
	}
	size_t max = argc == 3 ? strtoul(argv[2], NULL, 10) : 1000;
	struct mxtls_config *cfg;
	struct mxtls_ctx *ctx;
	char err[1024] = "";
	if (mxtls_config_new(&cfg) != MXTLS_OK ||
	    mxtls_config_set(cfg, "state-dir", argv[1], err, sizeof err) != MXTLS_OK ||
	    mxtls_ctx_new(cfg, &ctx, err, sizeof err) != MXTLS_OK) {
		fprintf(stderr, "queue_pickup: %s\n", err);
		return 78;
	}
	mxtls_config_free(cfg);
	mxtls_ctx_set_log(ctx, MXTLS_LOG_INFO, log_line, NULL);
	struct mxtls_queue *q;
	if (mxtls_queue_open(ctx, 0, &q, err, sizeof err) != MXTLS_OK) {
		fprintf(stderr, "queue_pickup: %s\n", err);
		mxtls_ctx_free(ctx);
		return 78;
	}
	size_t taken = 0;
	int rc = mxtls_queue_pickup(q, max, &taken, err, sizeof err);
	printf("taken %zu\n", taken);
	if (rc != MXTLS_OK)
		fprintf(stderr, "queue_pickup: %s\n", err[0] ? err : mxtls_strerror(rc));
	mxtls_queue_close(q);
	mxtls_ctx_free(ctx);
	return rc == MXTLS_OK ? 0 : 75;
}
