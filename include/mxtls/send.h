/* SPDX-License-Identifier: MIT */
/* Delivering a message to its recipients' MX hosts with each domain's policy enforced. */
#ifndef MXTLS_SEND_H
#define MXTLS_SEND_H

#include <stddef.h>

#include <mxtls/context.h>
#include <mxtls/result.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MXTLS_API
#define MXTLS_API __attribute__((visibility("default")))
#endif

/* One message (all borrowed by the calls below until they return / call back). */
struct mxtls_message {
	const char *from;        /* reverse-path without <> ("" for the null sender) */
	const char *const *to;   /* forward-paths without <>, user@domain */
	size_t nto;              /* 1 to 1000 */
	const void *data;        /* the RFC 5322 message; LF or CRLF line ends */
	size_t len;
	const char *helo;        /* EHLO name; NULL: the host name */
};

/* The outcome per recipient. */
struct mxtls_delivery;

/*
 * Delivers m, running ctx's event loop until every recipient has an outcome (blocking).  Each
 * recipient domain gets its decision (<mxtls/check.h>); its usable MX hosts are tried in
 * preference order with what the decision requires.  A TLS requirement that cannot be met
 * defers the recipient: it is never bounced for a TLS reason and never sent in cleartext.
 * On success *out is set (free with mxtls_delivery_free()), whatever the outcomes.
 * Returns MXTLS_OK, MXTLS_E_INVAL (no or too many recipients, an address that is not
 * user@domain or holds a space, control character or angle bracket; reason in err),
 * MXTLS_E_SYNTAX (an empty message, or one with a NUL byte), MXTLS_E_LIMIT (larger than
 * 200 MiB), MXTLS_E_CONFIG, MXTLS_E_IO, MXTLS_E_NOMEM.
 */
MXTLS_API int mxtls_send(struct mxtls_ctx *ctx, const struct mxtls_message *m,
			 struct mxtls_delivery **out, char *err, size_t errlen);

/* The asynchronous form: cb runs once from ctx's loop with the outcomes (owned by the
 * callee).  *op (may be NULL) is valid until cb runs. */
struct mxtls_send_op;
MXTLS_API int mxtls_send_start(struct mxtls_ctx *ctx, const struct mxtls_message *m,
			       void (*cb)(void *arg, struct mxtls_delivery *dl), void *arg,
			       struct mxtls_send_op **op, char *err, size_t errlen);
/* Stops a delivery in progress; its callback is not called. */
MXTLS_API void mxtls_send_cancel(struct mxtls_send_op *op);

/* Frees dl; NULL is a no-op. */
MXTLS_API void mxtls_delivery_free(struct mxtls_delivery *dl);

/* Per recipient, in the order of m->to.  Strings are borrowed from dl; for i out of range the
 * accessors return NULL, 0 or -1. */
MXTLS_API size_t mxtls_delivery_count(const struct mxtls_delivery *dl);
MXTLS_API const char *mxtls_delivery_recipient(const struct mxtls_delivery *dl, size_t i);
/* "delivered" (2xx), "deferred" (4xx, or no acceptable server now), "bounced" (5xx, null MX,
 * no such domain). */
MXTLS_API const char *mxtls_delivery_status(const struct mxtls_delivery *dl, size_t i);
/* The MX host that answered, or the last one tried ("" when none was). */
MXTLS_API const char *mxtls_delivery_mx(const struct mxtls_delivery *dl, size_t i);
/* 1 when the message went to that host inside TLS. */
MXTLS_API int mxtls_delivery_tls(const struct mxtls_delivery *dl, size_t i);
/* That host's security (see mxtls_decision_host_security()), NULL when no host was chosen. */
MXTLS_API const char *mxtls_delivery_security(const struct mxtls_delivery *dl, size_t i);
/* The last SMTP reply for the recipient: code, RFC 3463 status ("" when none), text; and 1
 * when the reply was made up by mxtls (e.g. "451 4.7.5" when no host met the policy). */
MXTLS_API int mxtls_delivery_reply_code(const struct mxtls_delivery *dl, size_t i);
MXTLS_API const char *mxtls_delivery_reply_status(const struct mxtls_delivery *dl, size_t i);
MXTLS_API const char *mxtls_delivery_reply_text(const struct mxtls_delivery *dl, size_t i);
MXTLS_API int mxtls_delivery_reply_local(const struct mxtls_delivery *dl, size_t i);
/* For a failure with a TLS reason, its RFC 8460 result type ("starttls-not-supported");
 * NULL otherwise. */
MXTLS_API const char *mxtls_delivery_result_type(const struct mxtls_delivery *dl, size_t i);
/* One line on what happened. */
MXTLS_API const char *mxtls_delivery_detail(const struct mxtls_delivery *dl, size_t i);

#ifdef __cplusplus
}
#endif
#endif
