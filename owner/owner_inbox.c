/* SPDX-License-Identifier: MIT */
/* mxtls serve: the TLS report endpoint (RFC 8460 §5.4): uploads read under a cap, inflated
 * under a cap, parsed, and stored once in the report store before the answer. */
#include "owner/owner_inbox.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <mxtls/error.h>

#include "owner/owner_route.h"
#include "tlsrpt/tlsrpt_inbox.h"
#include "tlsrpt/tlsrpt_read.h"
#include "util/util_buf.h"
#include "util/util_log.h"

/* How long a sender should wait before it tries again after a 503 (RFC 9110 §10.2.3). */
#define RETRY_AFTER_SECONDS "300"

struct owner_inbox {
	struct tlsrpt_inbox *store; /* one SQLite connection, used under lock */
	pthread_mutex_t lock;
	struct util_log log;
};

/* One report upload: from its headers to the request-completed callback. */
struct upload {
	int type;             /* OWNER_ROUTE_TYPE_* */
	struct util_buf body; /* as sent, at most OWNER_INBOX_BODY_MAX */
	bool over;            /* the body went past the cap: the rest is dropped */
	int over_rc;          /* MXTLS_E_LIMIT or MXTLS_E_NOMEM */
	bool answered;
	char peer[INET6_ADDRSTRLEN + 1];
};

int owner_inbox_open(const struct mxtls_serve_config *c, struct owner_inbox **out, char *err,
		     size_t errlen)
{
	if (c->reports_path == NULL)
		return MXTLS_OK;
	if (c->reports_store == NULL) {
		snprintf(err, errlen, "reports-path %s: reports-store FILE is needed too",
			 c->reports_path);
		return MXTLS_E_CONFIG;
	}
	struct owner_inbox *in = calloc(1, sizeof *in);
	if (in == NULL)
		return MXTLS_E_NOMEM;
	char why[400] = "";
	int rc = tlsrpt_inbox_open(c->reports_store, true, &in->store, why, sizeof why);
	if (rc != MXTLS_OK) {
		if (rc != MXTLS_E_NOMEM) {
			snprintf(err, errlen, "reports-store %s: %s", c->reports_store,
				 why[0] != '\0' ? why : mxtls_strerror(rc));
			rc = MXTLS_E_IO;
		}
		free(in);
		return rc;
	}
	pthread_mutex_init(&in->lock, NULL);
	in->log.fn = c->log;
	in->log.arg = c->log_arg;
	in->log.max = MXTLS_LOG_INFO;
	*out = in;
	return MXTLS_OK;
}

void owner_inbox_close(struct owner_inbox *in)
{
	if (in == NULL)
		return;
	tlsrpt_inbox_close(in->store);
	pthread_mutex_destroy(&in->lock);
	free(in);
}

/* The client's address, numeric ("-" when unknown). */
static void peer_of(struct MHD_Connection *conn, char *out, size_t outlen)
{
	snprintf(out, outlen, "-");
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		return;
	const struct sockaddr *sa = ci->client_addr;
	socklen_t len = sa->sa_family == AF_INET6  ? sizeof(struct sockaddr_in6)
			: sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
						   : 0;
	if (len == 0 || getnameinfo(sa, len, out, (socklen_t)outlen, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(out, outlen, "-");
}

/* One line of text for a reply body: control bytes become spaces, at most 300 bytes. */
static void one_line(char *s)
{
	size_t i = 0;
	for (; s[i] != '\0' && i < 300; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = ' ';
	s[i] = '\0';
}

static enum MHD_Result answer(struct MHD_Connection *conn, int status, const char *text)
{
	char body[512];
	snprintf(body, sizeof body, "%s\n", text);
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	enum MHD_Result ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	if (ok == MHD_YES && status == MHD_HTTP_SERVICE_UNAVAILABLE)
		ok = MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, RETRY_AFTER_SECONDS);
	if (ok == MHD_YES)
		ok = MHD_queue_response(conn, (unsigned)status, r);
	MHD_destroy_response(r);
	return ok;
}

static void log_refusal(struct owner_inbox *in, const char *peer, int status, const char *reason)
{
	char st[8];
	snprintf(st, sizeof st, "%d", status);
	util_log_kv(&in->log, status >= 500 ? MXTLS_LOG_ERROR : MXTLS_LOG_WARNING, 0,
		    "report-refused", "peer", peer, "status", st, "reason", reason, NULL);
}

/* Logs and answers a refusal. */
static enum MHD_Result refuse(struct owner_inbox *in, struct MHD_Connection *conn, const char *peer,
			      int status, const char *reason)
{
	log_refusal(in, peer, status, reason);
	return answer(conn, status, reason);
}

void owner_inbox_log_refusal(struct owner_inbox *in, struct MHD_Connection *conn, int status,
			     const char *reason)
{
	if (in == NULL)
		return;
	char peer[INET6_ADDRSTRLEN + 1];
	peer_of(conn, peer, sizeof peer);
	log_refusal(in, peer, status, reason);
}

/* The headers: RFC 8460 §5.4's two media types; a declared length over the cap is refused
 * before a byte of the body is read (libmicrohttpd then closes the connection). */
static enum MHD_Result begin(struct owner_inbox *in, struct MHD_Connection *conn, void **con_cls)
{
	char peer[INET6_ADDRSTRLEN + 1];
	peer_of(conn, peer, sizeof peer);
	const char *ct =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	int type = owner_route_report_type(ct, ct != NULL ? strlen(ct) : 0);
	if (type == 0)
		return refuse(in, conn, peer, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
			      "unsupported media type: application/tlsrpt+gzip or "
			      "application/tlsrpt+json expected");
	const char *cl =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(cl, &end, 10);
		if (cl[0] < '0' || cl[0] > '9' || *end != '\0' || errno != 0 ||
		    n > OWNER_INBOX_BODY_MAX) {
			char why[120];
			snprintf(why, sizeof why, "payload too large: the limit is %u bytes",
				 OWNER_INBOX_BODY_MAX);
			return refuse(in, conn, peer, MHD_HTTP_CONTENT_TOO_LARGE, why);
		}
	}
	struct upload *up = calloc(1, sizeof *up);
	if (up == NULL)
		return refuse(in, conn, peer, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
	up->type = type;
	util_buf_init(&up->body, OWNER_INBOX_BODY_MAX);
	memcpy(up->peer, peer, sizeof peer);
	*con_cls = up;
	return MHD_YES;
}

/* The whole body is in: inflate (capped), parse, store; the answer only after the commit. */
static enum MHD_Result finish(struct owner_inbox *in, struct MHD_Connection *conn,
			      struct upload *up)
{
	const char *json = up->body.data != NULL ? up->body.data : "";
	size_t jlen = up->body.len;
	char *inflated = NULL;
	char why[400] = "";
	int rc;
	if (up->type == OWNER_ROUTE_TYPE_GZIP) {
		rc = tlsrpt_read_gunzip((const unsigned char *)json, jlen, TLSRPT_READ_JSON_MAX,
					&inflated, &jlen);
		if (rc == MXTLS_E_LIMIT) {
			snprintf(why, sizeof why,
				 "payload too large: the report inflates past %u bytes",
				 TLSRPT_READ_JSON_MAX);
			return refuse(in, conn, up->peer, MHD_HTTP_CONTENT_TOO_LARGE, why);
		}
		if (rc == MXTLS_E_NOMEM)
			return refuse(in, conn, up->peer, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "out of memory");
		if (rc != MXTLS_OK)
			return refuse(in, conn, up->peer, MHD_HTTP_BAD_REQUEST,
				      "not gzip: corrupt, truncated or with trailing data");
		json = inflated;
	}
	struct tlsrpt_read_report rep;
	rc = tlsrpt_read_parse(json, jlen, &rep, why, sizeof why);
	if (rc != MXTLS_OK) {
		char line[480];
		int status = rc == MXTLS_E_NOMEM   ? MHD_HTTP_SERVICE_UNAVAILABLE
			     : rc == MXTLS_E_LIMIT ? MHD_HTTP_CONTENT_TOO_LARGE
						   : MHD_HTTP_BAD_REQUEST;
		snprintf(line, sizeof line, "%s: %s",
			 rc == MXTLS_E_NOMEM   ? "out of memory"
			 : rc == MXTLS_E_LIMIT ? "over a limit of the report reader"
					       : "not a TLS report",
			 why[0] != '\0' ? why : mxtls_strerror(rc));
		one_line(line);
		free(inflated);
		return refuse(in, conn, up->peer, status, line);
	}
	struct tlsrpt_inbox_origin o = {
		.source = "https",
		.where = up->peer,
		.dkim = "",
		.received_at = (int64_t)time(NULL),
	};
	bool dup = false;
	char err[400] = "";
	/* One connection to SQLite for every thread; the commit (synchronous=FULL) has returned
	 * before the answer says "stored". */
	pthread_mutex_lock(&in->lock);
	rc = tlsrpt_inbox_put(in->store, &rep, json, jlen, &o, &dup, err, sizeof err);
	pthread_mutex_unlock(&in->lock);
	free(inflated);
	char text[480];
	enum MHD_Result ret;
	if (rc != MXTLS_OK) {
		/* RFC 8460 §5.4: anything but a 2xx and the sender tries again later. */
		snprintf(text, sizeof text, "not stored now, try again later: %s",
			 err[0] != '\0' ? err : mxtls_strerror(rc));
		one_line(text);
		ret = refuse(in, conn, up->peer, MHD_HTTP_SERVICE_UNAVAILABLE, text);
	} else {
		/* RFC 8460 §4.4: report-id is unique per organisation, so the pair names the
		 * report; a second upload is answered with a 2xx (the sender is done) and not
		 * stored again. */
		int status = dup ? MHD_HTTP_OK : MHD_HTTP_CREATED;
		snprintf(text, sizeof text, "%s: organization-name \"%s\" report-id \"%s\"",
			 dup ? "already stored" : "stored", rep.organization_name, rep.report_id);
		one_line(text);
		char st[8];
		snprintf(st, sizeof st, "%d", status);
		util_log_kv(&in->log, MXTLS_LOG_INFO, 0, dup ? "report-duplicate" : "report-stored",
			    "peer", up->peer, "status", st, "organization", rep.organization_name,
			    "report_id", rep.report_id, NULL);
		ret = answer(conn, status, text);
	}
	tlsrpt_read_clear(&rep);
	return ret;
}

enum MHD_Result owner_inbox_handle(struct owner_inbox *in, struct MHD_Connection *conn,
				   const char *upload_data, size_t *upload_data_size,
				   void **con_cls)
{
	if (*con_cls == NULL)
		return begin(in, conn, con_cls);
	struct upload *up = *con_cls;
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (up->over)
			return MHD_YES;
		int rc = util_buf_append(&up->body, upload_data, n);
		if (rc != MXTLS_OK) {
			/* Over the cap without a Content-Length (chunked): nothing more is kept.
			 * libmicrohttpd 0.9.75 takes no answer before the body has been read, so
			 * the rest is read and dropped, then refused; a sender that goes on for
			 * ever is cut at max-connection-time. */
			up->over = true;
			up->over_rc = rc;
			util_buf_free(&up->body);
		}
		return MHD_YES;
	}
	if (up->answered)
		return MHD_YES;
	up->answered = true;
	if (up->over) {
		if (up->over_rc == MXTLS_E_NOMEM)
			return refuse(in, conn, up->peer, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "out of memory");
		char why[120];
		snprintf(why, sizeof why, "payload too large: the limit is %u bytes",
			 OWNER_INBOX_BODY_MAX);
		return refuse(in, conn, up->peer, MHD_HTTP_CONTENT_TOO_LARGE, why);
	}
	return finish(in, conn, up);
}

void owner_inbox_done(void **con_cls)
{
	struct upload *up = *con_cls;
	if (up == NULL)
		return;
	util_buf_free(&up->body);
	free(up);
	*con_cls = NULL;
}
