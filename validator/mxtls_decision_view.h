/* SPDX-License-Identifier: MIT */
/* Inside the public struct mxtls_decision (include/mxtls/check.h), for the library's other
 * modules: the TLS-RPT API of delivery/ derives a session's policy from the decision itself. */
#ifndef MXTLS_VALIDATOR_DECISION_VIEW_H
#define MXTLS_VALIDATOR_DECISION_VIEW_H

#include <mxtls/check.h>

#include "validator/decision.h"
#include "validator/sts_resolve.h"

/* The decision md wraps (borrowed); its sts member is always NULL: the discovery was moved
 * out, see mxtls_decision_sts_result(). */
const struct decision *mxtls_decision_inner(const struct mxtls_decision *md);

/* The domain's MTA-STS discovery (borrowed; source STS_SOURCE_NONE when it could not run). */
const struct sts_resolve_result *mxtls_decision_sts_result(const struct mxtls_decision *md);

#endif
