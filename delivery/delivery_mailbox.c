/* SPDX-License-Identifier: MIT */
/* RFC 5321 Mailbox checks for envelope senders and recipients (delivery_mailbox.h). */
#include "delivery/delivery_mailbox.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

/* RFC 5321 §4.1.2: atext as in RFC 5322 §3.2.3. */
static bool is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool is_letdig(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Dot-string = Atom *("." Atom) */
static const char *check_dot_string(const char *s, size_t len)
{
	bool after_dot = true;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (after_dot)
				return "a dot at the start of the local part or two dots in a row";
			after_dot = true;
		} else if (is_atext(c)) {
			after_dot = false;
		} else if (c >= 0x80) {
			return "non-ASCII addresses (SMTPUTF8) are not supported";
		} else {
			return "a character not allowed in an unquoted local part";
		}
	}
	return after_dot ? "a dot at the end of the local part" : NULL;
}

/* Quoted-string = DQUOTE *QcontentSMTP DQUOTE; qtextSMTP = %d32-33 / %d35-91 / %d93-126;
 * quoted-pairSMTP = %d92 %d32-126 */
static const char *check_quoted(const char *s, size_t len)
{
	if (len < 2 || s[len - 1] != '"')
		return "an unterminated quoted local part";
	for (size_t i = 1; i + 1 < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\') {
			if (i + 2 >= len)
				return "a backslash at the end of a quoted local part";
			c = (unsigned char)s[++i];
			if (c < 32 || c > 126)
				return "a control or non-ASCII character in a quoted local part";
		} else if (c == '"') {
			return "a quote inside a quoted local part";
		} else if (c < 32 || c > 126) {
			return "a control or non-ASCII character in a quoted local part";
		}
	}
	return NULL;
}

/* Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str] (labels <= 63). */
static const char *check_domain(const char *s, size_t len)
{
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0)
				return "an empty label in the domain";
			if (s[i - 1] == '-')
				return "a domain label ending in a hyphen";
			label = 0;
			continue;
		}
		if (c >= 0x80)
			return "non-ASCII addresses (SMTPUTF8) are not supported";
		if (!is_letdig(c) && !(c == '-' && label > 0))
			return "a character not allowed in a domain";
		if (++label > 63)
			return "a domain label longer than 63 characters";
	}
	if (label == 0)
		return "an empty label in the domain";
	if (s[len - 1] == '-')
		return "a domain label ending in a hyphen";
	return NULL;
}

/* address-literal = "[" ( IPv4-address-literal / IPv6-address-literal /
 *                         General-address-literal ) "]" */
static const char *check_literal(const char *s, size_t len)
{
	char buf[DELIVERY_DOMAIN_MAX + 1];
	unsigned char addr[16];
	if (len < 3 || s[len - 1] != ']')
		return "an unterminated address literal";
	memcpy(buf, s + 1, len - 2);
	buf[len - 2] = '\0';
	if (strlen(buf) != len - 2)
		return "a NUL byte in an address literal";
	if (strncmp(buf, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, buf + 5, addr) == 1 ? NULL : "an invalid IPv6 literal";
	if (buf[0] >= '0' && buf[0] <= '9' && strchr(buf, ':') == NULL)
		return inet_pton(AF_INET, buf, addr) == 1 ? NULL : "an invalid IPv4 literal";
	/* General-address-literal = Standardized-tag ":" 1*dcontent */
	const char *colon = strchr(buf, ':');
	if (colon == NULL || colon == buf || colon[1] == '\0')
		return "an invalid address literal";
	for (const char *t = buf; t < colon; t++)
		if (!is_letdig((unsigned char)*t) && *t != '-')
			return "an invalid address literal tag";
	for (const char *t = colon + 1; *t != '\0'; t++)
		if (*t < 33 || *t > 126 || *t == '[' || *t == ']' || *t == '\\')
			return "an invalid character in an address literal";
	return NULL;
}

const char *delivery_mailbox_check(const char *s, size_t len)
{
	if (s == NULL || len == 0)
		return "an empty address";
	if (len > DELIVERY_MAILBOX_MAX)
		return "longer than 254 characters (RFC 5321 section 4.5.3.1.3)";
	if (memchr(s, '\0', len) != NULL)
		return "a NUL byte";
	/* The domain starts after the last '@' (a quoted local part may hold '@'). */
	const char *at = NULL;
	for (size_t i = len; i-- > 0;)
		if (s[i] == '@') {
			at = s + i;
			break;
		}
	if (at == NULL)
		return "no domain (expected local-part@domain)";
	size_t llen = (size_t)(at - s), dlen = len - llen - 1;
	if (llen == 0)
		return "an empty local part";
	if (llen > DELIVERY_LOCAL_MAX)
		return "a local part longer than 64 characters (RFC 5321 section 4.5.3.1.1)";
	if (dlen == 0)
		return "an empty domain";
	const char *why = s[0] == '"' ? check_quoted(s, llen) : check_dot_string(s, llen);
	if (why != NULL)
		return why;
	return at[1] == '[' ? check_literal(at + 1, dlen) : check_domain(at + 1, dlen);
}
