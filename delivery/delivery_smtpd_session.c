/* SPDX-License-Identifier: MIT */
/* The submission listener's SMTP session (delivery_smtpd_session.h): order, caps, DATA. */
#include "delivery/delivery_smtpd_session.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "delivery/delivery_smtpd_cmd.h"

/* Replies (RFC 5321 §4.2, RFC 3463 enhanced codes). */
#define R_OK          "250 2.0.0 Ok"
#define R_MAIL_OK     "250 2.1.0 Ok"
#define R_RCPT_OK     "250 2.1.5 Ok"
#define R_DATA_GO     "354 End data with <CR><LF>.<CR><LF>"
#define R_BYE         "221 2.0.0 Bye"
#define R_HELP        "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP"
#define R_VRFY        "252 2.0.0 Cannot VRFY user; send mail and it will be delivered"
#define R_NEED_HELO   "503 5.5.1 Send EHLO first"
#define R_NESTED      "503 5.5.1 Sender already given"
#define R_NEED_MAIL   "503 5.5.1 Need MAIL before RCPT"
#define R_NEED_MAIL_D "503 5.5.1 Need MAIL before DATA"
#define R_NO_RCPT     "554 5.5.1 No valid recipients"
#define R_TOO_MANY    "452 4.5.3 Too many recipients"
#define R_SIZE        "552 5.3.4 Message size exceeds fixed maximum message size"
#define R_CRLF        "500 5.5.2 Syntax error: a command must end with CRLF"
#define R_LONG        "500 5.5.2 Line too long"
#define R_BARE        "554 5.5.2 Bare CR or LF in the message; use CRLF line ends"
#define R_NUL         "554 5.6.0 NUL byte in the message"
#define R_ERRORS      "421 4.7.0 Too many errors"
#define R_LOCAL       "451 4.3.0 Local error in processing"
#define R_STORAGE     "452 4.3.1 Insufficient system storage"

struct delivery_smtpd_session {
	char hostname[DELIVERY_SMTPD_HELO_MAX + 1];
	size_t max_message, max_rcpt;
	bool greeted; /* EHLO or HELO seen */
	bool esmtp;   /* EHLO (ESMTP parameters allowed) */
	unsigned errors;
	bool closed;
	/* The transaction (RFC 5321 §3.3): MAIL seen, its sender and parameters, recipients. */
	bool in_mail;
	char sender[DELIVERY_SMTPD_PATH_MAX];
	bool smtputf8, requiretls;
	char **rcpt; /* owned, nrcpt strings (capacity rcpt_cap) */
	size_t nrcpt, rcpt_cap;
	/* DATA: content being read. */
	bool in_data;
	bool bol;      /* at the start of a line: a dot there is special */
	bool overflow; /* over max_message: read to the end, then refused */
	bool nul;      /* a NUL byte: refused at the end */
	bool nomem;
	struct util_buf msg;
};

struct delivery_smtpd_session *delivery_smtpd_session_new(const char *hostname, size_t max_message,
							  size_t max_rcpt)
{
	if (hostname == NULL || hostname[0] == '\0' || strlen(hostname) > DELIVERY_SMTPD_HELO_MAX ||
	    strpbrk(hostname, "\r\n") != NULL)
		return NULL;
	struct delivery_smtpd_session *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	strcpy(s->hostname, hostname);
	s->max_message = max_message;
	s->max_rcpt = max_rcpt;
	util_buf_init(&s->msg, max_message);
	return s;
}

/* Forgets the transaction (RSET, EHLO, after the final reply to DATA). */
static void reset_transaction(struct delivery_smtpd_session *s)
{
	for (size_t i = 0; i < s->nrcpt; i++)
		free(s->rcpt[i]);
	s->nrcpt = 0;
	s->in_mail = s->in_data = false;
	s->sender[0] = '\0';
	s->smtputf8 = s->requiretls = false;
	s->overflow = s->nul = s->nomem = false;
	/* The storage goes too: an idle connection must not hold a large message's memory. */
	util_buf_free(&s->msg);
}

void delivery_smtpd_session_free(struct delivery_smtpd_session *s)
{
	if (s == NULL)
		return;
	reset_transaction(s);
	free(s->rcpt);
	free(s);
}

/* Appends "text CRLF"; a reply that cannot be written ends the session. */
static void reply(struct delivery_smtpd_session *s, struct util_buf *out, const char *text)
{
	if (util_buf_append_str(out, text) != MXTLS_OK ||
	    util_buf_append(out, "\r\n", 2) != MXTLS_OK)
		s->closed = true;
}

/* An error reply; the DELIVERY_SMTPD_ERRORS_MAX-th also ends the session. */
static void error(struct delivery_smtpd_session *s, struct util_buf *out, const char *text)
{
	reply(s, out, text);
	if (++s->errors >= DELIVERY_SMTPD_ERRORS_MAX) {
		reply(s, out, R_ERRORS);
		s->closed = true;
	}
}

int delivery_smtpd_session_greeting(struct delivery_smtpd_session *s, struct util_buf *out)
{
	/* RFC 5321 §4.2: 220 <domain> ...; "ESMTP" tells the client EHLO is understood. */
	int rc = util_buf_appendf(out, "220 %s ESMTP mxtls\r\n", s->hostname);
	if (rc != MXTLS_OK)
		s->closed = true;
	return rc;
}

/* RFC 5321 §4.1.1.1 EHLO reply: the extensions offered (RFC 2920 PIPELINING, RFC 1870 SIZE,
 * RFC 6152 8BITMIME, RFC 6531 SMTPUTF8, RFC 2034 ENHANCEDSTATUSCODES).  Not REQUIRETLS: RFC
 * 8689 offers it on TLS sessions only (see the header). */
static void ehlo_reply(struct delivery_smtpd_session *s, struct util_buf *out)
{
	if (util_buf_appendf(out,
			     "250-%s\r\n250-PIPELINING\r\n250-SIZE %zu\r\n250-8BITMIME\r\n"
			     "250-SMTPUTF8\r\n250 ENHANCEDSTATUSCODES\r\n",
			     s->hostname, s->max_message) != MXTLS_OK)
		s->closed = true;
}

/* Adds a recipient unless it is there already (one delivery per address). */
static bool add_rcpt(struct delivery_smtpd_session *s, const char *addr, size_t len)
{
	for (size_t i = 0; i < s->nrcpt; i++)
		if (strcmp(s->rcpt[i], addr) == 0)
			return true;
	if (s->nrcpt == s->rcpt_cap) {
		size_t cap = s->rcpt_cap ? s->rcpt_cap * 2 : 8;
		char **r = realloc(s->rcpt, cap * sizeof *r);
		if (r == NULL)
			return false;
		s->rcpt = r;
		s->rcpt_cap = cap;
	}
	char *copy = malloc(len + 1);
	if (copy == NULL)
		return false;
	memcpy(copy, addr, len + 1);
	s->rcpt[s->nrcpt++] = copy;
	return true;
}

/* One command line (without its CRLF). */
static void command(struct delivery_smtpd_session *s, const char *line, size_t len,
		    struct util_buf *out)
{
	struct delivery_smtpd_cmd c;
	const char *why = delivery_smtpd_cmd_parse(line, len, s->esmtp, s->smtputf8, &c);
	/* RFC 5321 §4.1.4 order: a MAIL, RCPT or DATA out of order says so whatever its
	 * arguments; with PIPELINING (RFC 2920 §3.1) this is what a client whose MAIL failed
	 * sees for the RCPTs and the DATA it sent behind it. */
	switch (c.verb) {
	case DELIVERY_SMTPD_MAIL:
		if (!s->greeted) {
			error(s, out, R_NEED_HELO);
			return;
		}
		if (s->in_mail) {
			error(s, out, R_NESTED);
			return;
		}
		break;
	case DELIVERY_SMTPD_RCPT:
		if (!s->in_mail) {
			error(s, out, R_NEED_MAIL);
			return;
		}
		break;
	case DELIVERY_SMTPD_DATA:
		if (!s->in_mail) {
			error(s, out, R_NEED_MAIL_D);
			return;
		}
		break;
	default:
		break;
	}
	if (why != NULL) {
		error(s, out, why);
		return;
	}
	switch (c.verb) {
	case DELIVERY_SMTPD_EHLO:
	case DELIVERY_SMTPD_HELO:
		/* RFC 5321 §4.1.4: EHLO again is like RSET. */
		reset_transaction(s);
		s->greeted = true;
		s->esmtp = c.verb == DELIVERY_SMTPD_EHLO;
		if (s->esmtp)
			ehlo_reply(s, out);
		else if (util_buf_appendf(out, "250 %s\r\n", s->hostname) != MXTLS_OK)
			s->closed = true;
		return;
	case DELIVERY_SMTPD_MAIL:
		/* RFC 1870 §6: a declared size over the limit is refused at MAIL. */
		if (c.has_size && c.size > s->max_message) {
			error(s, out, R_SIZE);
			return;
		}
		s->in_mail = true;
		memcpy(s->sender, c.path, c.path_len + 1);
		s->smtputf8 = c.smtputf8;
		s->requiretls = c.requiretls; /* RFC 8689 §4: kept with the message */
		{
			reply(s, out, R_MAIL_OK);
			return;
		}
	case DELIVERY_SMTPD_RCPT:
		/* RFC 5321 §4.5.3.1.10: 452 for recipients beyond the limit; the client sends
		 * them again in another transaction. */
		if (s->nrcpt >= s->max_rcpt) {
			error(s, out, R_TOO_MANY);
			return;
		}
		if (!add_rcpt(s, c.path, c.path_len)) {
			error(s, out, R_LOCAL);
			return;
		}
		{
			reply(s, out, R_RCPT_OK);
			return;
		}
	case DELIVERY_SMTPD_DATA:
		/* RFC 2920 §3.1: without a valid recipient DATA fails (never 354). */
		if (s->nrcpt == 0) {
			error(s, out, R_NO_RCPT);
			return;
		}
		s->in_data = true;
		s->bol = true;
		util_buf_init(&s->msg, s->max_message);
		{
			reply(s, out, R_DATA_GO);
			return;
		}
	case DELIVERY_SMTPD_RSET:
		reset_transaction(s);
		{
			reply(s, out, R_OK);
			return;
		}
	case DELIVERY_SMTPD_NOOP: {
		reply(s, out, R_OK);
		return;
	}
	case DELIVERY_SMTPD_HELP: {
		reply(s, out, R_HELP);
		return;
	}
	case DELIVERY_SMTPD_VRFY:
		/* RFC 5321 §3.5.3: 252 when the address is not verified. */
		{
			reply(s, out, R_VRFY);
			return;
		}
	case DELIVERY_SMTPD_QUIT:
		reply(s, out, R_BYE);
		s->closed = true;
		return;
	case DELIVERY_SMTPD_STARTTLS:
	case DELIVERY_SMTPD_UNKNOWN:
		break; /* the parser has refused these */
	}
}

/* Stores n content bytes unless the message is refused already. */
static void store(struct delivery_smtpd_session *s, const char *p, size_t n)
{
	if (s->overflow || s->nomem || n == 0)
		return;
	if (memchr(p, '\0', n) != NULL)
		s->nul = true;
	int rc = util_buf_append(&s->msg, p, n);
	if (rc == MXTLS_E_LIMIT) {
		/* Fail closed: the message is refused at its end, never truncated; what is
		 * read meanwhile is not kept. */
		s->overflow = true;
		util_buf_free(&s->msg);
	} else if (rc != MXTLS_OK) {
		s->nomem = true;
		util_buf_free(&s->msg);
	}
}

enum scan {
	SCAN_MORE, /* everything usable taken; wait for more bytes */
	SCAN_END,  /* end of data seen */
	SCAN_BARE, /* a bare CR or LF */
};

/*
 * DATA content from data[*pos, len): RFC 5321 §4.5.2 transparency (a leading dot is removed
 * from each line; CRLF "." CRLF ends the data), bare CR/LF refused (see the header).  Takes
 * every byte it can decide on; a CR at the very end, or a dot at the start of a line with too
 * few bytes after it, waits for the next bytes.
 */
static enum scan scan_data(struct delivery_smtpd_session *s, const char *data, size_t len,
			   size_t *pos)
{
	size_t i = *pos;
	while (i < len) {
		if (s->bol && data[i] == '.') {
			if (len - i < 2)
				break;
			if (data[i + 1] == '\r') {
				if (len - i < 3)
					break;
				if (data[i + 2] == '\n') {
					*pos = i + 3;
					return SCAN_END;
				}
			}
			i++; /* the stuffed dot */
		}
		s->bol = false;
		/* A run of ordinary bytes. */
		size_t j = i;
		while (j < len && data[j] != '\r' && data[j] != '\n')
			j++;
		store(s, data + i, j - i);
		i = j;
		if (i == len)
			break;
		if (data[i] == '\n') {
			*pos = i;
			return SCAN_BARE;
		}
		if (len - i < 2)
			break; /* a CR: is it followed by LF? */
		if (data[i + 1] != '\n') {
			*pos = i;
			return SCAN_BARE;
		}
		store(s, "\r\n", 2);
		i += 2;
		s->bol = true;
	}
	*pos = i;
	return SCAN_MORE;
}

enum delivery_smtpd_action delivery_smtpd_session_input(struct delivery_smtpd_session *s,
							const char *data, size_t len, size_t *used,
							struct util_buf *out)
{
	size_t pos = 0;
	enum delivery_smtpd_action act = DELIVERY_SMTPD_MORE;
	while (!s->closed && pos < len) {
		if (s->in_data) {
			enum scan r = scan_data(s, data, len, &pos);
			if (r == SCAN_MORE)
				break;
			if (r == SCAN_BARE) {
				reply(s, out, R_BARE);
				reset_transaction(s);
				s->closed = true;
				break;
			}
			s->in_data = false;
			if (s->overflow || s->nul || s->nomem) {
				error(s, out, s->overflow ? R_SIZE : s->nul ? R_NUL : R_LOCAL);
				reset_transaction(s);
				continue;
			}
			act = DELIVERY_SMTPD_ENQUEUE;
			break;
		}
		/* A command line: its LF within the first DELIVERY_SMTPD_LINE_MAX octets. */
		size_t avail = len - pos;
		size_t look = avail < DELIVERY_SMTPD_LINE_MAX ? avail : DELIVERY_SMTPD_LINE_MAX;
		const char *lf = memchr(data + pos, '\n', look);
		if (lf == NULL) {
			if (avail >= DELIVERY_SMTPD_LINE_MAX) {
				/* Fail closed: where the next command starts is unknown. */
				reply(s, out, R_LONG);
				s->closed = true;
			}
			break;
		}
		size_t n = (size_t)(lf - (data + pos));
		const char *line = data + pos;
		pos += n + 1;
		if (n == 0 || line[n - 1] != '\r') {
			error(s, out, R_CRLF);
			continue;
		}
		command(s, line, n - 1, out);
	}
	*used = pos;
	if (s->closed)
		return DELIVERY_SMTPD_CLOSE;
	return act;
}

const char *delivery_smtpd_session_sender(const struct delivery_smtpd_session *s)
{
	return s->sender;
}

const char *const *delivery_smtpd_session_rcpts(const struct delivery_smtpd_session *s, size_t *n)
{
	*n = s->nrcpt;
	return (const char *const *)s->rcpt;
}

bool delivery_smtpd_session_requiretls(const struct delivery_smtpd_session *s)
{
	return s->requiretls;
}

const char *delivery_smtpd_session_message(const struct delivery_smtpd_session *s, size_t *len)
{
	*len = s->msg.len;
	return s->msg.data != NULL ? s->msg.data : "";
}

void delivery_smtpd_session_queued(struct delivery_smtpd_session *s, int rc, const char *id,
				   struct util_buf *out)
{
	if (rc == MXTLS_OK) {
		if (util_buf_appendf(out, "250 2.0.0 Ok: queued as %s\r\n", id) != MXTLS_OK)
			s->closed = true;
	} else if (rc == MXTLS_E_IO) {
		error(s, out, R_STORAGE); /* RFC 5321 §4.2.5: 452, try again later */
	} else if (rc == MXTLS_E_LIMIT) {
		error(s, out, R_SIZE);
	} else {
		error(s, out, R_LOCAL);
	}
	reset_transaction(s);
}
