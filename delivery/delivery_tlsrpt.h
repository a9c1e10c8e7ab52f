/* SPDX-License-Identifier: MIT */
/* The TLS-RPT pieces of the public API that the delivery agent uses inside the library. */
#ifndef MXTLS_DELIVERY_TLSRPT_H
#define MXTLS_DELIVERY_TLSRPT_H

#include <stdbool.h>
#include <stdint.h>

#include "tlsrpt/tlsrpt_store.h"

/*
 * A deliver_req.tlsrpt recorder: counts r for the store of the mxtls_ctx arg under the
 * current UTC day of its clock (in memory first: delivery_tlsrpt_flush()).  A failure to record is logged (tlsrpt-record-failed), never
 * a reason to stop a delivery: the counters are reports, not mail.
 */
void delivery_tlsrpt_recorder(void *ctx, const struct tlsrpt_result *r);

struct mxtls_ctx;

/* Writes what delivery_tlsrpt_recorder() counted in memory (it does so itself at most a
 * second after the first result, on the next result; the daemon calls this on its timer so
 * that an idle daemon's counts reach the store too).  Failures are logged. */
void delivery_tlsrpt_flush(struct mxtls_ctx *ctx);

/* Records r at once (one transaction, not counted in memory: the public API's callers hear
 * of a failure) under the current UTC day of ctx's clock, in ctx's store (created when
 * missing).  The returns of mxtls_tlsrpt_record(). */
int delivery_tlsrpt_record(struct mxtls_ctx *ctx, const struct tlsrpt_result *r, char *err,
			   size_t errlen);

/* The reporting domain (tlsrpt-submitter, else the domain of tlsrpt-contact) into submitter,
 * after checking that tlsrpt-organization and tlsrpt-contact are set.  MXTLS_OK or
 * MXTLS_E_CONFIG (reason in err). */
int delivery_tlsrpt_settings(struct mxtls_ctx *ctx, char submitter[256], char *err,
			     size_t errlen);

/* ctx's TLS-RPT store, opened on first use (create: made with the state directory).
 * MXTLS_OK, MXTLS_E_NOTFOUND (no store and create false), MXTLS_E_CONFIG, MXTLS_E_IO. */
int delivery_tlsrpt_store(struct mxtls_ctx *ctx, bool create, struct tlsrpt_store **out,
			  char *err, size_t errlen);

/* One day's report for one policy domain, as bytes. */
struct delivery_tlsrpt_built {
	char *json;             /* owned; NULL: the day has no results for the domain */
	size_t jlen;
	uint8_t *gz;            /* owned: the gzip of json */
	size_t gzlen;
	char name[700];         /* the RFC 8460 §5.1 file name */
	char report_id[600];    /* its report-id */
	uint64_t failures;      /* failed sessions in it */
};

/* Builds it from the store (tlsrpt_report.c), with the context's settings.  MXTLS_OK (b->json
 * NULL when there is nothing to report), or an error with the reason in err. */
int delivery_tlsrpt_build(struct mxtls_ctx *ctx, struct tlsrpt_store *st, int64_t day,
			  const char *domain, const char *submitter,
			  struct delivery_tlsrpt_built *b, char *err, size_t errlen);
void delivery_tlsrpt_built_clear(struct delivery_tlsrpt_built *b);

/* Writes data to dir/name durably (a temporary file, fsync, rename); *path_out (may be NULL)
 * the path written (caller frees).  MXTLS_OK, MXTLS_E_IO (reason in err), MXTLS_E_NOMEM. */
int delivery_tlsrpt_write_file(const char *dir, const char *name, const void *data, size_t len,
			       char **path_out, char *err, size_t errlen);

/* The same from aggregates already loaded or merged (fleet mode: delivery_tlsrpt_fleet.c). */
struct tlsrpt_day;
int delivery_tlsrpt_build_day(struct mxtls_ctx *ctx, const struct tlsrpt_day *d, int64_t day,
			      const char *domain, const char *submitter,
			      struct delivery_tlsrpt_built *b, char *err, size_t errlen);

#endif
