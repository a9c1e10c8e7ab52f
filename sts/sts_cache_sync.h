/* SPDX-License-Identifier: MIT */
/* The cache worker's fleet side: what each request does in Redis after the local file (internal).
 */
#ifndef MXTLS_STS_CACHE_SYNC_H
#define MXTLS_STS_CACHE_SYNC_H

#include <stdbool.h>

#include "sts/sts_cache_worker.h"

/* Runs op's fleet part after its local part (worker thread, without c->mu). */
void sts_cache_sync_after(struct sts_cache *c, struct sts_cache_op *op);

/* True when a re-sync page is waiting (worker thread). */
bool sts_cache_sync_pending(const struct sts_cache *c);

/* Copies one page of the local file into Redis (worker thread, without c->mu). */
void sts_cache_sync_page(struct sts_cache *c);

#endif
