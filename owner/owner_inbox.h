/* SPDX-License-Identifier: MIT */
/* mxtls serve: the TLS report endpoint (RFC 8460 §5.4): one POST read, checked and stored. */
#ifndef MXTLS_OWNER_INBOX_H
#define MXTLS_OWNER_INBOX_H

#include <stddef.h>

#include <microhttpd.h>

#include "owner/owner_config.h"

/*
 * The most bytes of one upload, as sent (before any inflation).  RFC 8460 §5.2 notes that
 * receivers often cap near 10 MB, so senders keep below it; a day's aggregate report of even a
 * large sender is kilobytes to a few hundred.  The cap also bounds the memory the daemon can
 * be made to hold: at most max-connections uploads of this size at once.  Inflated, a gzip
 * report may reach TLSRPT_READ_JSON_MAX (the parser's cap), beyond which it is a bomb.
 */
#define OWNER_INBOX_BODY_MAX (10u * 1024 * 1024)

/* The store of one server, shared by its threads. */
struct owner_inbox;

/*
 * Opens (creating) c->reports_store for a server with c->reports_path; *out stays NULL when
 * there is no report endpoint.  Logs through c->log (borrowed: c must outlive the inbox).
 * Returns MXTLS_OK, MXTLS_E_CONFIG (reports-path without reports-store), MXTLS_E_IO (reason
 * in err), MXTLS_E_NOMEM.
 */
int owner_inbox_open(const struct mxtls_serve_config *c, struct owner_inbox **out, char *err,
		     size_t errlen);

/* Closes the store; NULL is a no-op. */
void owner_inbox_close(struct owner_inbox *in);

/*
 * The access handler for a request that owner_route() sent to the report endpoint, called as
 * libmicrohttpd calls its handler: first with *con_cls NULL (headers: the media type and
 * Content-Length are checked and a refusal answered before any body is read), then with each
 * piece of the body, then once with *upload_data_size 0 (the report is checked, stored, and
 * only then answered).  *con_cls holds the upload; owner_inbox_done() frees it.
 */
enum MHD_Result owner_inbox_handle(struct owner_inbox *in, struct MHD_Connection *conn,
				   const char *upload_data, size_t *upload_data_size,
				   void **con_cls);

/* Frees the upload of a finished request (libmicrohttpd's request-completed callback); a
 * *con_cls of NULL is a no-op. */
void owner_inbox_done(void **con_cls);

/* Logs a refusal at the endpoint that the router decided (status, reason), with the peer. */
void owner_inbox_log_refusal(struct owner_inbox *in, struct MHD_Connection *conn, int status,
			     const char *reason);

#endif
