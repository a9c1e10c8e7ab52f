/* SPDX-License-Identifier: MIT */
/* Inside include/mxtls/reports.h: the store handle and the steps shared by its files. */
#ifndef MXTLS_OWNER_REPORTS_H
#define MXTLS_OWNER_REPORTS_H

#include <stddef.h>

#include <mxtls/reports.h>

struct tlsrpt_inbox;

struct mxtls_reports {
	struct mxtls_ctx *ctx; /* borrowed */
	struct tlsrpt_inbox *inbox;
};

/* Parses the JSON report json[0..len) and stores it with where it came from; res says what
 * became of it.  MXTLS_OK (also for a refused report), MXTLS_E_IO, MXTLS_E_NOMEM. */
int owner_reports_store_json(struct mxtls_reports *r, const char *json, size_t len,
			     const char *source, const char *origin, const char *dkim,
			     struct mxtls_ingest_result *res);

/* A mail report (RFC 8460 §5.3): its report part, its DKIM signature (owner_reports_mail.c). */
int owner_reports_ingest_mail(struct mxtls_reports *r, const char *msg, size_t len,
			      const char *source, const char *origin, unsigned flags,
			      struct mxtls_ingest_result *res);

#endif
