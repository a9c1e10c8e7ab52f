/* SPDX-License-Identifier: MIT */
/* The client side of one TLS session over a non-blocking socket (GnuTLS), for STARTTLS. */
#ifndef MXTLS_SMTP_TLS_H
#define MXTLS_SMTP_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a non-blocking TLS step came to. */
enum smtp_io {
	SMTP_IO_DONE = 0,       /* finished (handshake complete, or *done bytes moved) */
	SMTP_IO_WANT_READ = 1,  /* call again when the socket is readable */
	SMTP_IO_WANT_WRITE = 2, /* call again when the socket is writable */
	SMTP_IO_EOF = 3,        /* the peer closed the session */
	SMTP_IO_ERROR = 4,      /* a fatal TLS error: the session is unusable (*why says which) */
};

struct smtp_tls;

/*
 * A client session on the connected socket fd (borrowed: never closed here).  RFC 7672 §8.1
 * and RFC 8461 §7.1: sni (borrowed; copied) is sent as the server name; NULL sends none.
 * RFC 7671 §3 / DANE-49: TLS 1.2 is the minimum.  RFC 7672 §8.2 / DANE-50: GnuTLS' NORMAL
 * (non-anonymous) suites.  No certificate is checked here: the caller authenticates the peer
 * chain after the handshake (smtp_tls_peer_chain()), as the validator decides.
 * On success *out is set (free with smtp_tls_free()).  Returns MXTLS_OK, MXTLS_E_NOMEM,
 * MXTLS_E_TLS (GnuTLS refused the settings; *why set).
 */
int smtp_tls_new(int fd, const char *sni, struct smtp_tls **out, const char **why);

/* One step of the handshake. */
enum smtp_io smtp_tls_handshake(struct smtp_tls *t, const char **why);

/* Reads up to cap decrypted bytes into buf; *got is set on SMTP_IO_DONE. */
enum smtp_io smtp_tls_recv(struct smtp_tls *t, uint8_t *buf, size_t cap, size_t *got,
			   const char **why);

/* Writes (part of) buf; *sent is set on SMTP_IO_DONE.  After SMTP_IO_WANT_*, the same bytes
 * must be offered again (GnuTLS keeps the record it began). */
enum smtp_io smtp_tls_send(struct smtp_tls *t, const uint8_t *buf, size_t len, size_t *sent,
			   const char **why);

/*
 * The certificates the server presented, leaf first: up to max pointers to DER (borrowed,
 * valid until smtp_tls_free()) with their lengths.  Returns how many there are (0 when none).
 */
size_t smtp_tls_peer_chain(struct smtp_tls *t, const uint8_t **der, size_t *len, size_t max);

/* The negotiated protocol ("TLSv1.3") and a description of the suite, NUL-terminated and
 * truncated to their buffers. */
void smtp_tls_describe(struct smtp_tls *t, char *version, size_t vlen, char *suite, size_t slen);

/* Sends close_notify without waiting for the peer's (best effort, never blocks). */
void smtp_tls_close_notify(struct smtp_tls *t);

/* Frees t; NULL is a no-op.  The socket stays open. */
void smtp_tls_free(struct smtp_tls *t);

#endif
