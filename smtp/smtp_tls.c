/* SPDX-License-Identifier: MIT */
/* The client side of one TLS session over a non-blocking socket (GnuTLS), for STARTTLS. */
#include "smtp/smtp_tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include <mxtls/error.h>

/* RFC 7671 §3 (DANE-49): TLS 1.2 or 1.3 only; GnuTLS' NORMAL set holds no anonymous suites
 * (RFC 7672 §8.2, DANE-50). */
#define SMTP_TLS_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct smtp_tls {
	gnutls_session_t session;
	gnutls_certificate_credentials_t cred;
};

int smtp_tls_new(int fd, const char *sni, struct smtp_tls **out, const char **why)
{
	struct smtp_tls *t = calloc(1, sizeof *t);
	if (t == NULL)
		return MXTLS_E_NOMEM;
	int rc = gnutls_certificate_allocate_credentials(&t->cred);
	if (rc < 0)
		goto fail;
	/* GNUTLS_NO_SIGNAL: a write to a peer that reset the connection must be an error, not a
	 * SIGPIPE that ends the caller's process (convention 10: the library never exits). */
	rc = gnutls_init(&t->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
	if (rc < 0) {
		t->session = NULL;
		goto fail;
	}
	rc = gnutls_priority_set_direct(t->session, SMTP_TLS_PRIORITY, NULL);
	if (rc >= 0)
		rc = gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE, t->cred);
	/* RFC 7672 §8.1 (DANE-48), RFC 8461 §7.1 (STS-47): SNI is always sent when a name is
	 * known. */
	if (rc >= 0 && sni != NULL && sni[0] != '\0')
		rc = gnutls_server_name_set(t->session, GNUTLS_NAME_DNS, sni, strlen(sni));
	if (rc < 0)
		goto fail;
	gnutls_transport_set_int(t->session, fd);
	gnutls_handshake_set_timeout(t->session, 0); /* the caller's timers bound every step */
	*out = t;
	return MXTLS_OK;
fail:
	if (why != NULL)
		*why = gnutls_strerror(rc);
	smtp_tls_free(t);
	return rc == GNUTLS_E_MEMORY_ERROR ? MXTLS_E_NOMEM : MXTLS_E_TLS;
}

/* Maps a GnuTLS return code of a non-blocking call to a step outcome. */
static enum smtp_io step(struct smtp_tls *t, int rc, const char **why)
{
	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
		return gnutls_record_get_direction(t->session) == 1 ? SMTP_IO_WANT_WRITE
								    : SMTP_IO_WANT_READ;
	if (rc == 0 || rc == GNUTLS_E_PREMATURE_TERMINATION) {
		if (why != NULL)
			*why = "the server closed the TLS session";
		return SMTP_IO_EOF;
	}
	if (rc < 0 && !gnutls_error_is_fatal(rc)) {
		/* A warning alert or a rehandshake request: ignored, try again. */
		return gnutls_record_get_direction(t->session) == 1 ? SMTP_IO_WANT_WRITE
								    : SMTP_IO_WANT_READ;
	}
	if (why != NULL)
		*why = gnutls_strerror(rc);
	return SMTP_IO_ERROR;
}

enum smtp_io smtp_tls_handshake(struct smtp_tls *t, const char **why)
{
	int rc = gnutls_handshake(t->session);
	if (rc == GNUTLS_E_SUCCESS)
		return SMTP_IO_DONE;
	if (rc == 0)
		rc = GNUTLS_E_INTERNAL_ERROR;
	enum smtp_io io = step(t, rc, why);
	return io == SMTP_IO_EOF ? SMTP_IO_ERROR : io;
}

enum smtp_io smtp_tls_recv(struct smtp_tls *t, uint8_t *buf, size_t cap, size_t *got,
			   const char **why)
{
	ssize_t n = gnutls_record_recv(t->session, buf, cap);
	if (n > 0) {
		*got = (size_t)n;
		return SMTP_IO_DONE;
	}
	return step(t, (int)n, why);
}

enum smtp_io smtp_tls_send(struct smtp_tls *t, const uint8_t *buf, size_t len, size_t *sent,
			   const char **why)
{
	ssize_t n = gnutls_record_send(t->session, buf, len);
	if (n > 0) {
		*sent = (size_t)n;
		return SMTP_IO_DONE;
	}
	enum smtp_io io = step(t, n == 0 ? GNUTLS_E_INTERNAL_ERROR : (int)n, why);
	return io == SMTP_IO_EOF ? SMTP_IO_ERROR : io;
}

size_t smtp_tls_peer_chain(struct smtp_tls *t, const uint8_t **der, size_t *len, size_t max)
{
	unsigned int n = 0;
	const gnutls_datum_t *certs = gnutls_certificate_get_peers(t->session, &n);
	if (certs == NULL)
		return 0;
	size_t k = 0;
	for (; k < n && k < max; k++) {
		der[k] = certs[k].data;
		len[k] = certs[k].size;
	}
	return n;
}

void smtp_tls_describe(struct smtp_tls *t, char *version, size_t vlen, char *suite, size_t slen)
{
	const char *v = gnutls_protocol_get_name(gnutls_protocol_get_version(t->session));
	/* "TLS1.3" in GnuTLS' spelling; "TLSv1.3" as OpenSSL, Python and mail logs write it. */
	if (v != NULL && strncmp(v, "TLS", 3) == 0)
		snprintf(version, vlen, "TLSv%s", v + 3);
	else
		snprintf(version, vlen, "%s", v != NULL ? v : "");
	char *desc = gnutls_session_get_desc(t->session);
	snprintf(suite, slen, "%s", desc != NULL ? desc : "");
	gnutls_free(desc);
}

void smtp_tls_close_notify(struct smtp_tls *t)
{
	if (t != NULL && t->session != NULL)
		(void)gnutls_bye(t->session, GNUTLS_SHUT_WR);
}

void smtp_tls_free(struct smtp_tls *t)
{
	if (t == NULL)
		return;
	if (t->session != NULL)
		gnutls_deinit(t->session);
	if (t->cred != NULL)
		gnutls_certificate_free_credentials(t->cred);
	free(t);
}
