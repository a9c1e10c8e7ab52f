/* SPDX-License-Identifier: MIT */
/* Internal layout of struct mxtls_ctx, shared by the validator's files. */
#ifndef MXTLS_VALIDATOR_CTX_H
#define MXTLS_VALIDATOR_CTX_H

#include <stdbool.h>
#include <stdint.h>

#include <mxtls/context.h>

#include <stddef.h>

#include "smtp/smtp_client.h"
#include "store/store_uri.h"
#include "util/util_clock.h"
#include "util/util_log.h"

struct event_base;
struct dns_resolver;
struct sts_fetcher;
struct http_client;
struct sts_cache;
struct dane_pkix;

struct mxtls_ctx {
	char *unbound_conf; /* owned; NULL: built-in resolver set-up */
	char *ca_file;      /* owned; NULL: the system trust store */
	char *state_dir;    /* owned; NULL: no persistent state (the cache lives in memory) */
	unsigned sts_timeout_ms; /* total time for one policy fetch */
	/* shared-store (fleet mode, doc/fleet.md): owned, NULL when this member is alone. */
	struct store_uri *shared;
	/* shared-store-key: the fleet's secret that seals shared answers (store/store_seal.h);
	 * owned, NULL when unset (answers are then not shared). */
	unsigned char *shared_key;
	size_t shared_key_len;
	struct smtp_timeouts timeouts; /* SMTP client steps (connect-timeout, smtp-timeout) */
	char helo[256];          /* default EHLO name */
	/* RFC 8460 report settings (tlsrpt-organization, -contact, -submitter); owned, NULL when
	 * unset. */
	char *tlsrpt_organization, *tlsrpt_contact, *tlsrpt_submitter;
	bool tlsrpt_failures_only; /* tlsrpt-send = failures: no report for a day without one */
	unsigned tlsrpt_keep_days; /* tlsrpt-keep-days (default 30): results kept this long */
	/* The TLS-RPT store, opened on first use by delivery/delivery_tlsrpt.c; freed with the
	 * context through tlsrpt_close (the validator does not know its type). */
	void *tlsrpt;
	void (*tlsrpt_close)(void *tlsrpt);
	struct util_log log;
	struct util_clock clock;
	uint64_t next_id; /* per-decision ids for log lines */
	/* Created on first use (validator/mxtls_runtime.c), freed with the context. */
	struct event_base *base;
	bool base_borrowed; /* the application's loop (mxtls_ctx_set_event_base()) */
	struct dns_resolver *resolver;
	struct sts_fetcher *fetcher;
	struct http_client *http; /* TLS report uploads (validator/report_io.c) */
	struct sts_cache *cache;
	struct dane_pkix *pkix;
	struct store_worker *answers; /* fleet answers (validator/mxtls_shared_answer.c) */
};

/* This member's name in a fleet (doc/fleet.md): HOST:STATE_DIR, or HOST:pidPID without a state
 * directory.  Always NUL-terminates out. */
void mxtls_ctx_member_name(const struct mxtls_ctx *ctx, char *out, size_t cap);

/* A fresh decision id (never 0). */
uint64_t mxtls_ctx_decision_id(struct mxtls_ctx *ctx);

/*
 * The context's event loop, resolver, policy fetcher and policy cache, created on first use
 * (borrowed: the context owns them).  Each returns MXTLS_OK with *out set, or an error with
 * the reason in err: MXTLS_E_CONFIG (unusable --unbound-conf, trust anchor, state directory),
 * MXTLS_E_IO (the cache database cannot be opened), MXTLS_E_NOMEM.
 */
int mxtls_ctx_base(struct mxtls_ctx *ctx, struct event_base **out, char *err, size_t errlen);
int mxtls_ctx_resolver(struct mxtls_ctx *ctx, struct dns_resolver **out, char *err,
		       size_t errlen);
int mxtls_ctx_fetcher(struct mxtls_ctx *ctx, struct sts_fetcher **out, char *err, size_t errlen);
int mxtls_ctx_cache(struct mxtls_ctx *ctx, struct sts_cache **out, char *err, size_t errlen);
/* The resolver, fetcher and cache a decision needs, all three (as the functions above). */
int mxtls_ctx_lookups(struct mxtls_ctx *ctx, struct dns_resolver **r, struct sts_fetcher **f,
		      struct sts_cache **c, char *err, size_t errlen);
/* The Web PKI roots (--ca-file, else the system store), for MX certificates under MTA-STS. */
int mxtls_ctx_pkix(struct mxtls_ctx *ctx, struct dane_pkix **out, char *err, size_t errlen);

/* The HTTPS client for uploads (TLS reports, the audit's POST to a collector), on the
 * context's loop; MXTLS_E_NOMEM when it cannot be made. */
int mxtls_ctx_http(struct mxtls_ctx *ctx, struct http_client **out, char *err, size_t errlen);

/* Runs the context's loop until *done turns true (set by a callback).  Returns MXTLS_OK, or
 * MXTLS_E_INTERNAL with the reason in err when the loop fails. */
int mxtls_ctx_wait(struct mxtls_ctx *ctx, const bool *done, char *err, size_t errlen);
/* Frees what the functions above created. */
void mxtls_ctx_runtime_free(struct mxtls_ctx *ctx);

#endif
