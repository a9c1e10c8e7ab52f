/* SPDX-License-Identifier: MIT */
/* Printing an MTA-STS policy and times, shared by `sts fetch|cache` and `check`. */
#include "cli_policy.h"

#include <inttypes.h>
#include <time.h>

/* Unix seconds as RFC 3339 UTC ("-" for 0). */
const char *cli_when(int64_t t, char *buf, size_t cap)
{
	if (t == 0)
		return "-";
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, cap, "%" PRId64, t);
	return buf;
}

void cli_json_time(struct cli_json *j, const char *key, int64_t t)
{
	char buf[32];
	if (t == 0)
		cli_json_null(j, key);
	else
		cli_json_string(j, key, cli_when(t, buf, sizeof buf));
}

/* The policy in force (or null) as a JSON object member "policy". */
void cli_json_policy(struct cli_json *j, const struct mxtls_sts_policy *p)
{
	if (mxtls_sts_policy_mode(p) == NULL) {
		cli_json_null(j, "policy");
		return;
	}
	size_t len;
	const char *text = mxtls_sts_policy_text(p, &len);
	cli_json_object_begin(j, "policy");
	cli_json_string(j, "id", mxtls_sts_policy_id(p));
	cli_json_string(j, "mode", mxtls_sts_policy_mode(p));
	cli_json_int(j, "max_age", mxtls_sts_policy_max_age(p));
	cli_json_array_begin(j, "mx");
	for (size_t i = 0; i < mxtls_sts_policy_mx_count(p); i++)
		cli_json_string(j, NULL, mxtls_sts_policy_mx(p, i));
	cli_json_array_end(j);
	cli_json_time(j, "fetched_at", mxtls_sts_policy_fetched_at(p));
	cli_json_time(j, "expires_at", mxtls_sts_policy_expires_at(p));
	cli_json_time(j, "last_checked", mxtls_sts_policy_last_checked(p));
	cli_json_string(j, "last_error", mxtls_sts_policy_last_error(p));
	cli_json_string_n(j, "text", text, len);
	cli_json_object_end(j);
}

void cli_text_policy(FILE *out, const struct mxtls_sts_policy *p)
{
	char b1[32];
	if (mxtls_sts_policy_mode(p) == NULL) {
		fprintf(out, "policy: none\n");
		return;
	}
	fprintf(out, "id: %s\nmode: %s\nmax_age: %" PRId64 "\n", mxtls_sts_policy_id(p),
		mxtls_sts_policy_mode(p), mxtls_sts_policy_max_age(p));
	for (size_t i = 0; i < mxtls_sts_policy_mx_count(p); i++)
		fprintf(out, "mx: %s\n", mxtls_sts_policy_mx(p, i));
	fprintf(out, "fetched: %s\n", cli_when(mxtls_sts_policy_fetched_at(p), b1, sizeof b1));
	fprintf(out, "expires: %s\n", cli_when(mxtls_sts_policy_expires_at(p), b1, sizeof b1));
	fprintf(out, "last checked: %s\n", cli_when(mxtls_sts_policy_last_checked(p), b1, sizeof b1));
	if (mxtls_sts_policy_last_error(p) != NULL)
		fprintf(out, "last error: %s\n", mxtls_sts_policy_last_error(p));
}

