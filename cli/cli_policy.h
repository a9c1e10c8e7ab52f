/* SPDX-License-Identifier: MIT */
/* Printing an MTA-STS policy and times, shared by `sts fetch|cache` and `check`. */
#ifndef MXTLS_CLI_POLICY_H
#define MXTLS_CLI_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <mxtls/mxtls.h>

#include "cli_json.h"

/* Unix seconds as RFC 3339 UTC in buf ("-" for 0); returns buf (or "-"). */
const char *cli_when(int64_t t, char *buf, size_t cap);
/* A time member: RFC 3339 string, or null for 0. */
void cli_json_time(struct cli_json *j, const char *key, int64_t t);
/* The policy in force (or null) as the member "policy". */
void cli_json_policy(struct cli_json *j, const struct mxtls_sts_policy *p);
/* The same as "key: value" lines. */
void cli_text_policy(FILE *out, const struct mxtls_sts_policy *p);

#endif
