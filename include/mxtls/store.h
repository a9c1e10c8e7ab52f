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
	long leases;       /* refresh leases held now (-1 unknown) */
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

#ifdef __cplusplus
}
#endif

#endif
