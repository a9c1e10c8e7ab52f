/* SPDX-License-Identifier: MIT */
/* The TLS-RPT pieces of the public API that the delivery agent uses inside the library. */
#ifndef MXTLS_DELIVERY_TLSRPT_H
#define MXTLS_DELIVERY_TLSRPT_H

#include "tlsrpt/tlsrpt_store.h"

/*
 * A deliver_req.tlsrpt recorder: records r in the store of the mxtls_ctx arg under the
 * current UTC day of its clock.  A failure to record is logged (tlsrpt-record-failed), never
 * a reason to stop a delivery: the counters are reports, not mail.
 */
void delivery_tlsrpt_recorder(void *ctx, const struct tlsrpt_result *r);

#endif
