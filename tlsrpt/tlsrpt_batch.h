/* SPDX-License-Identifier: MIT */
/* Session results counted in memory and written to the store in one transaction (a batch):
 * recording one result costs a hash lookup instead of an SQLite commit. */
#ifndef MXTLS_TLSRPT_BATCH_H
#define MXTLS_TLSRPT_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "tlsrpt/tlsrpt_store.h"

/* The most distinct results held; one more is refused (MXTLS_E_LIMIT) until a flush. */
#define TLSRPT_BATCH_DISTINCT_MAX 4096

struct tlsrpt_batch;

/* A new, empty batch.  MXTLS_OK or MXTLS_E_NOMEM. */
int tlsrpt_batch_new(struct tlsrpt_batch **out);
/* Frees b and what it holds (unflushed counts are lost); NULL is a no-op. */
void tlsrpt_batch_free(struct tlsrpt_batch *b);

/*
 * Counts one session of r on day: the same result (every field equal, as the store groups
 * them) adds to its counter, a new one is copied.  The checks of tlsrpt_store_record() that
 * need no database run here (MXTLS_E_INVAL: no domain or result type, an unknown type;
 * MXTLS_E_LIMIT: a field, string or list over the store's caps, or TLSRPT_BATCH_DISTINCT_MAX
 * distinct results held), so that a flush does not fail on one bad result.  MXTLS_OK,
 * MXTLS_E_NOMEM.
 */
int tlsrpt_batch_add(struct tlsrpt_batch *b, int64_t day, const struct tlsrpt_result *r);

/* Sessions counted and not yet flushed. */
uint64_t tlsrpt_batch_pending(const struct tlsrpt_batch *b);

/*
 * Writes everything counted to s in one transaction (tlsrpt_store_record_many()) and empties
 * the batch.  On failure the counts stay, to be tried again.  MXTLS_OK (also when empty), or
 * the store's error with the reason in err.
 */
int tlsrpt_batch_flush(struct tlsrpt_batch *b, struct tlsrpt_store *s, char *err,
		       size_t errlen);

#endif
