/* SPDX-License-Identifier: MIT */
/* The shared-store setting: where a fleet's Redis is (redis://HOST:PORT/DB or unix:PATH). */
#ifndef MXTLS_STORE_URI_H
#define MXTLS_STORE_URI_H

#include <stddef.h>

#define STORE_URI_MAX      1024
#define STORE_PASSWORD_MAX 512

/* A parsed shared-store value. */
struct store_uri {
	char host[256]; /* TCP: a host name or an IP address (IPv6 without brackets); "" for unix */
	unsigned port;  /* TCP: 1..65535, default 6379 */
	char path[108]; /* unix: the socket's path (sun_path's size); "" for TCP */
	unsigned db;    /* SELECT DB: 0..15 by default configuration, any 0..65535 accepted */
	char password[STORE_PASSWORD_MAX]; /* AUTH; "" for none */
};

/*
 * Parses the shared-store setting (CLI.md):
 *   redis://[:PASSWORD@]HOST[:PORT][/DB]     HOST a name, an IPv4 address or [IPv6]
 *   unix:PATH[?db=DB]                        PATH absolute
 * A password in the value is percent-decoded (RFC 3986 §2.1) and must not hold a NUL or a
 * control character; shared-store-password is the other way to give one (not in the value
 * itself, which appears in logs and `mxtls store status` with the password masked).  Every
 * field is checked; on error the reason is written to err and MXTLS_E_CONFIG returned, *out
 * unspecified.  Returns MXTLS_OK.
 */
int store_uri_parse(const char *s, struct store_uri *out, char *err, size_t errlen);

/* The value for display: redis://HOST:PORT/DB or unix:PATH?db=DB, the password never shown
 * (":***@" when there is one).  Always NUL-terminates out. */
void store_uri_display(const struct store_uri *u, char *out, size_t cap);

#endif
