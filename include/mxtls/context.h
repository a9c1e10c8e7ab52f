/* SPDX-License-Identifier: MIT */
/* The library context: validated settings plus the injected logger and clock. */
#ifndef MXTLS_CONTEXT_H
#define MXTLS_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include <mxtls/config.h>
#include <mxtls/log.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MXTLS_API
#define MXTLS_API __attribute__((visibility("default")))
#endif

struct mxtls_ctx;

/*
 * Creates a context from cfg (borrowed; its values are copied, cfg may be freed afterwards).
 * Files named by the settings must be readable now: a missing --unbound-conf or --ca-file is a
 * configuration error at start-up, not a surprise at the first delivery.  On success *out is
 * set; caller frees with mxtls_ctx_free().  Returns MXTLS_OK, MXTLS_E_CONFIG (reason in err),
 * MXTLS_E_NOMEM.  A new context logs nothing and uses the system clock.
 */
MXTLS_API int mxtls_ctx_new(const struct mxtls_config *cfg, struct mxtls_ctx **out, char *err,
			    size_t errlen);

/* Frees ctx; mxtls_ctx_free(NULL) is a no-op. */
MXTLS_API void mxtls_ctx_free(struct mxtls_ctx *ctx);

/*
 * Sends log lines up to and including max_level to fn(arg, level, line).  fn NULL silences
 * the library.  fn is called on the thread that drives the context; line is borrowed.
 */
MXTLS_API void mxtls_ctx_set_log(struct mxtls_ctx *ctx, enum mxtls_log_level max_level,
				 void (*fn)(void *arg, enum mxtls_log_level level, const char *line),
				 void *arg);

/*
 * Replaces the wall clock (Unix seconds) used for policy expiry and certificate validity.
 * now NULL restores the system clock.  Tests pin time with this.
 */
MXTLS_API void mxtls_ctx_set_clock(struct mxtls_ctx *ctx, int64_t (*now)(void *arg), void *arg);

/*
 * Makes ctx run its lookups, policy fetches and SMTP sessions on the application's libevent 2
 * loop: event_base is a `struct event_base *` (borrowed: the application owns it, runs it and
 * frees it after ctx).  Without this call ctx creates a loop of its own, which the blocking
 * functions run.  Must come before the first lookup; returns MXTLS_OK, or MXTLS_E_INVAL when
 * event_base is NULL or ctx already has a loop.
 */
MXTLS_API int mxtls_ctx_set_event_base(struct mxtls_ctx *ctx, void *event_base);

/* The current time of ctx's clock, in Unix seconds. */
MXTLS_API int64_t mxtls_ctx_now(const struct mxtls_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
