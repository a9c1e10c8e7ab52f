/* SPDX-License-Identifier: MIT */
/* Internal layout of struct mxtls_sts_policy (include/mxtls/sts_fetch.h), shared by the
 * discovery API and the decision API. */
#ifndef MXTLS_VALIDATOR_STS_POLICY_VIEW_H
#define MXTLS_VALIDATOR_STS_POLICY_VIEW_H

#include <stdbool.h>

#include <mxtls/sts_fetch.h>

#include "validator/sts_resolve.h"

struct mxtls_sts_policy {
	struct sts_resolve_result r;
	bool cache_only; /* read from the cache, no discovery: no TXT or fetch information */
};

#endif
