/* SPDX-License-Identifier: MIT */
/* Where a member keeps its state, and how the fleet's shared store is doing (mxtls store status).
 */
#ifndef MXTLS_STORE_H
#define MXTLS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MXTLS_API
#define MXTLS_API __attribute__((visibility("default")))
#endif

struct mxtls_ctx;

#define MXTLS_STORE_MEMBERS_MAX 32

/* One member of the fleet, as it last wrote itself into the shared store. */
struct mxtls_store_member {
	char name[256];    /* HOST:STATE_DIR */
	int64_t last_sync; /* Unix seconds of its last write of its cache */
	long policies;     /* the policies in its local cache then */
};

struct mxtls_store_status {
	const char *backend;   /* static: "local" (SQLite files only) or "redis" (shared-store) */
	char local_path[4096]; /* the policy cache file, or ":memory:" without a state-dir */
	long local_policies;   /* entries in it (-1 when it cannot be read) */
	char local_error[256];
	/* redis only: */
	char shared[1200]; /* the shared-store setting, password masked */
	char member[256];  /* this member's name */
	bool reachable;    /* Redis answered PING within the command timeout */
	long rtt_us;       /* the PING's round trip */
	char error[256];   /* why it is not reachable */
	long policies;     /* policies in the shared store (-1 unknown) */
	long leases;       /* fetch leases held now (-1 unknown) */
	long answers;      /* policyd answers shared, sealed (-1 unknown) */
	bool shares_answers; /* this member has shared-store-key: it gives and takes answers */
	size_t nmembers;   /* members that wrote themselves in the last week */
	struct mxtls_store_member members[MXTLS_STORE_MEMBERS_MAX];
};

/*
 * Fills *out: the backend, the local cache, and with a shared-store the Redis server's answer
 * now (at most one connect and a few bounded commands; 200 ms each by default).  Returns
 * MXTLS_OK (also when Redis is unreachable: reachable false and the reason in error),
 * MXTLS_E_CONFIG / MXTLS_E_IO (the state directory; reason in err), MXTLS_E_NOMEM.
 */
MXTLS_API int mxtls_store_status(struct mxtls_ctx *ctx, struct mxtls_store_status *out, char *err,
				 size_t errlen);

/*
 * Fleet mode: answers shared by the members (policyd's, doc/fleet.md), only when both
 * shared-store and shared-store-key are set.  Each value in Redis is sealed with the fleet's
 * key for its scope and name and carries its expiry: a value Redis altered, one written for
 * another name or scope, or one that expired, is never given to the caller (a forged one is
 * logged as fleet-answer-rejected).  A failure to share is never a decision: the caller
 * decides for itself.
 */
MXTLS_API bool mxtls_shared_answers(const struct mxtls_ctx *ctx);

/* A GET's outcome, on the context's loop: rc MXTLS_OK with the answer (borrowed for the call,
 * len bytes, no NUL) and its expiry (Unix seconds); otherwise no answer: MXTLS_E_NOTFOUND
 * (none, or expired), MXTLS_E_SYNTAX (rejected), MXTLS_E_TEMPFAIL (Redis down or slow),
 * MXTLS_E_NOMEM. */
typedef void (*mxtls_shared_answer_cb)(void *arg, int rc, const char *answer, size_t len,
				       int64_t expires);

struct mxtls_shared_get;

/* Looks up the answer for name (a domain or "[host]", at most 300 bytes) in scope (letters,
 * digits, "=._-", at most 64 bytes: what makes answers comparable, e.g. their format's
 * version).  cb runs once, on the context's loop, unless cancelled; *out (may be NULL) is the
 * handle.  Returns MXTLS_OK, MXTLS_E_INVAL (not shared, or bad names), MXTLS_E_LIMIT (too many
 * lookups queued), MXTLS_E_NOMEM. */
MXTLS_API int mxtls_shared_answer_get(struct mxtls_ctx *ctx, const char *scope, const char *name,
				      mxtls_shared_answer_cb cb, void *arg,
				      struct mxtls_shared_get **out);

/* The callback will not run; g is freed.  NULL is a no-op. */
MXTLS_API void mxtls_shared_answer_cancel(struct mxtls_shared_get *g);

/* Shares answer (len bytes, no NUL) for name in scope until expires (in the future), without
 * waiting.  Returns MXTLS_OK (queued), MXTLS_E_INVAL, MXTLS_E_LIMIT, MXTLS_E_NOMEM. */
MXTLS_API int mxtls_shared_answer_put(struct mxtls_ctx *ctx, const char *scope, const char *name,
				      const char *answer, size_t len, int64_t expires);

#ifdef __cplusplus
}
#endif

#endif
