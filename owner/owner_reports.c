/* SPDX-License-Identifier: MIT */
/* Received TLS reports (include/mxtls/reports.h): the store, and one input read and stored.
 * The mail path (MIME, DKIM) is owner_reports_mail.c; the summary owner_reports_summary.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>
#include <mxtls/reports.h>

#include "owner/owner_reports.h"
#include "tlsrpt/tlsrpt_inbox.h"
#include "tlsrpt/tlsrpt_read.h"
#include "util/util_errmsg.h"
#include "validator/mxtls_ctx.h"

int mxtls_reports_open(struct mxtls_ctx *ctx, int create, struct mxtls_reports **out, char *err,
		       size_t errlen)
{
	if (ctx == NULL || out == NULL)
		return MXTLS_E_INVAL;
	if (ctx->state_dir == NULL) {
		util_errmsg(err, errlen, "no state directory: the report store lives there");
		return MXTLS_E_CONFIG;
	}
	struct mxtls_reports *r = calloc(1, sizeof *r);
	if (r == NULL)
		return MXTLS_E_NOMEM;
	r->ctx = ctx;
	char path[4200];
	snprintf(path, sizeof path, "%s/reports.sqlite", ctx->state_dir);
	int rc = tlsrpt_inbox_open(path, create != 0, &r->inbox, err, errlen);
	if (rc != MXTLS_OK) {
		if (rc == MXTLS_E_NOTFOUND)
			util_errmsg(err, errlen, "no report store at %s (nothing ingested yet)",
				    path);
		free(r);
		return rc;
	}
	*out = r;
	return MXTLS_OK;
}

void mxtls_reports_close(struct mxtls_reports *r)
{
	if (r == NULL)
		return;
	tlsrpt_inbox_close(r->inbox);
	free(r);
}

/* RFC 1952 §2.3.1: a gzip member starts 1f 8b. */
static bool is_gzip(const unsigned char *p, size_t n)
{
	return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/* A JSON report starts with "{" after white space (RFC 8259 §2); a message with a header. */
static bool is_json(const unsigned char *p, size_t n)
{
	size_t i = 0;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i < n && p[i] == '{';
}

int owner_reports_store_json(struct mxtls_reports *r, const char *json, size_t len,
			     const char *source, const char *origin, const char *dkim,
			     struct mxtls_ingest_result *res)
{
	struct tlsrpt_read_report rep;
	char why[400] = "";
	int rc = tlsrpt_read_parse(json, len, &rep, why, sizeof why);
	if (rc == MXTLS_E_NOMEM)
		return rc;
	if (rc != MXTLS_OK) {
		res->status = MXTLS_INGEST_REFUSED;
		snprintf(res->why, sizeof res->why, "%s: %s",
			 rc == MXTLS_E_LIMIT ? "over a limit" : "not a TLS report", why);
		return MXTLS_OK;
	}
	snprintf(res->organization, sizeof res->organization, "%s", rep.organization_name);
	snprintf(res->report_id, sizeof res->report_id, "%s", rep.report_id);
	struct tlsrpt_inbox_origin o = {.source = source,
					.where = origin,
					.dkim = dkim != NULL ? dkim : "",
					.received_at = mxtls_ctx_now(r->ctx)};
	bool dup = false;
	char err[512] = "";
	rc = tlsrpt_inbox_put(r->inbox, &rep, json, len, &o, &dup, err, sizeof err);
	tlsrpt_read_clear(&rep);
	if (rc != MXTLS_OK) {
		snprintf(res->why, sizeof res->why, "%s", err[0] ? err : mxtls_strerror(rc));
		return rc;
	}
	res->status = dup ? MXTLS_INGEST_DUPLICATE : MXTLS_INGEST_STORED;
	return MXTLS_OK;
}

int mxtls_reports_ingest(struct mxtls_reports *r, const void *data, size_t len, const char *source,
			 const char *origin, unsigned flags, struct mxtls_ingest_result *res)
{
	if (r == NULL || (data == NULL && len > 0) || res == NULL ||
	    (flags & ~MXTLS_INGEST_ACCEPT_UNSIGNED) != 0)
		return MXTLS_E_INVAL;
	memset(res, 0, sizeof *res);
	res->status = MXTLS_INGEST_REFUSED;
	const unsigned char *p = data;
	if (source == NULL)
		source = "file";
	if (origin == NULL)
		origin = "";
	if (is_gzip(p, len)) {
		snprintf(res->kind, sizeof res->kind, "gzip");
		char *json = NULL;
		size_t jlen = 0;
		int rc = tlsrpt_read_gunzip(p, len, TLSRPT_READ_JSON_MAX, &json, &jlen);
		if (rc == MXTLS_E_NOMEM)
			return rc;
		if (rc != MXTLS_OK) {
			snprintf(res->why, sizeof res->why, "%s",
				 rc == MXTLS_E_LIMIT
					 ? "the gzip data inflates past the limit (16 MiB)"
					 : "the gzip data is corrupt or truncated");
			return MXTLS_OK;
		}
		rc = owner_reports_store_json(r, json, jlen, source, origin, NULL, res);
		free(json);
		return rc;
	}
	if (is_json(p, len)) {
		snprintf(res->kind, sizeof res->kind, "json");
		return owner_reports_store_json(r, data, len, source, origin, NULL, res);
	}
	snprintf(res->kind, sizeof res->kind, "mail");
	return owner_reports_ingest_mail(r, data, len, source, origin, flags, res);
}
