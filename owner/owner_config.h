/* SPDX-License-Identifier: MIT */
/* mxtls serve: the settings (struct mxtls_serve_config), parsed from key = value pairs. */
#ifndef MXTLS_OWNER_CONFIG_H
#define MXTLS_OWNER_CONFIG_H

#include <stddef.h>

#include <mxtls/log.h>
#include <mxtls/serve.h>

/* One --cert DOMAIN:CERT:KEY. All owned. */
struct owner_cert_spec {
	char *domain; /* lower-case, no trailing dot */
	char *cert;
	char *key;
};

/* Caps on what one process may be asked to serve. */
#define OWNER_CONFIG_LISTEN_MAX 16
#define OWNER_CONFIG_CERTS_MAX  4096

struct mxtls_serve_config {
	char *listen[OWNER_CONFIG_LISTEN_MAX]; /* owned "HOST:PORT" */
	size_t nlisten;
	char *policy_dir;              /* owned */
	struct owner_cert_spec *certs; /* owned, ncerts */
	size_t ncerts;
	unsigned timeout;             /* seconds idle */
	unsigned max_connection_time; /* seconds since accept */
	unsigned max_connections;
	unsigned max_per_ip;
	size_t max_header_bytes;
	char *reports_path;  /* owned; NULL: no report endpoint */
	char *reports_store; /* owned; the SQLite file of received reports */
	/* Where the daemon's log lines go (mxtls_serve_config_set_log()); NULL: nowhere. */
	void (*log)(void *arg, enum mxtls_log_level level, const char *line);
	void *log_arg;
};

/* A deep copy of c; NULL when out of memory. */
struct mxtls_serve_config *owner_config_dup(const struct mxtls_serve_config *c);

#endif
