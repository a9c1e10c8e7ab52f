/* SPDX-License-Identifier: MIT */
/*
 * casefile.h: the one reader of vectors/dane/cases.txt in C, shared by unit-dane
 * (tests/unit/test_dane.c) and the differential-test drivers dane_openssl.c and dane_libdane.c.
 * Header-only (static functions) so each driver stays a single `cc` invocation.
 *
 * File format (one keyword per line, '#' comments and blank lines ignored):
 *   case <name> / chain <path> / host <name> / nexthop <domain> / at <RFC 3339 UTC> /
 *   tlsa <U S M HEX> (repeatable) / expect <...> / usable <n> / note <text> / end
 */
#ifndef MXTLS_DIFF_CASEFILE_H
#define MXTLS_DIFF_CASEFILE_H

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct dcase {
	char *name;
	char *chain; /* path relative to the vectors directory */
	char *host;
	char *nexthop; /* NULL when absent */
	char *at;
	time_t when;
	char **tlsa; /* raw text after "tlsa " */
	size_t ntlsa;
	char *expect;
	long usable; /* the "usable" count, -1 when absent */
	int line;    /* line number of the "case" keyword */
};

/* Called per case; fn may take over what c owns by copying *c and zeroing it. */
typedef void (*dcase_fn)(struct dcase *c, void *arg);

static void dcase_clear(struct dcase *c)
{
	size_t i;

	free(c->name);
	free(c->chain);
	free(c->host);
	free(c->nexthop);
	free(c->at);
	free(c->expect);
	for (i = 0; i < c->ntlsa; i++)
		free(c->tlsa[i]);
	free(c->tlsa);
	memset(c, 0, sizeof(*c));
}

/* "YYYY-MM-DDTHH:MM:SSZ" (also accepts a lower-case t/z) -> seconds since the epoch */
static int dcase_parse_time(const char *s, time_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, se, n = 0;
	char t, z;

	if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d:%2d%c%n", &y, &mo, &d, &t, &h, &mi, &se, &z, &n) != 8)
		return -1;
	if ((t != 'T' && t != 't') || (z != 'Z' && z != 'z') || s[n] != '\0')
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*out = timegm(&tm);
	return 0;
}

static char *dcase_strdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL) {
		perror("strdup");
		exit(2);
	}
	return p;
}

static int dcase_hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int dcase_parse_u8(const char *s, size_t len, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (len == 0 || len > 3)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 255)
		return -1;
	*out = v;
	return 0;
}

/*
 * Parses "U S M HEX" (the hex may be split by white space, as in DNS presentation format).
 * Returns 0 and a malloc'd *data (may be zero-length only if allow_empty) or -1 when the text
 * does not have that shape: fewer than four fields, a field that is not a number 0..255, or
 * association data that is not an even number of hex digits.
 */
__attribute__((unused)) static int dcase_parse_tlsa(const char *s, unsigned *u, unsigned *sel, unsigned *m,
			    unsigned char **data, size_t *dlen)
{
	unsigned *nums[3] = { u, sel, m };
	const char *p = s;
	unsigned char *buf;
	size_t nhex = 0, i, k;
	int hi = -1;

	for (i = 0; i < 3; i++) {
		const char *b;

		while (isspace((unsigned char)*p))
			p++;
		b = p;
		while (*p != '\0' && !isspace((unsigned char)*p))
			p++;
		if (dcase_parse_u8(b, (size_t)(p - b), nums[i]) != 0)
			return -1;
	}
	for (k = 0; p[k] != '\0'; k++) {
		if (isspace((unsigned char)p[k]))
			continue;
		if (dcase_hexval((unsigned char)p[k]) < 0)
			return -1;
		nhex++;
	}
	if (nhex == 0 || nhex % 2 != 0)
		return -1;
	buf = malloc(nhex / 2);
	if (buf == NULL) {
		perror("malloc");
		exit(2);
	}
	for (k = 0, i = 0; p[k] != '\0'; k++) {
		int v;

		if (isspace((unsigned char)p[k]))
			continue;
		v = dcase_hexval((unsigned char)p[k]);
		if (hi < 0) {
			hi = v;
		} else {
			buf[i++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	*data = buf;
	*dlen = nhex / 2;
	return 0;
}

/*
 * Calls fn for every complete case in the file.  Returns the number of cases, or -1 on a
 * read or syntax error (reported on stderr).
 */
static int dcase_foreach(const char *path, dcase_fn fn, void *arg)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	struct dcase c;
	int in_case = 0, lineno = 0, count = 0, rc = 0;

	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	memset(&c, 0, sizeof(c));
	while ((len = getline(&line, &cap, f)) >= 0) {
		char *key = line, *val;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		val = strchr(line, ' ');
		if (val != NULL)
			*val++ = '\0';
		else
			val = line + len;

		if (strcmp(key, "case") == 0) {
			if (in_case) {
				fprintf(stderr, "%s:%d: case inside case %s\n", path, lineno, c.name);
				rc = -1;
				break;
			}
			in_case = 1;
			c.name = dcase_strdup(val);
			c.usable = -1;
			c.line = lineno;
			continue;
		}
		if (!in_case) {
			fprintf(stderr, "%s:%d: '%s' outside a case\n", path, lineno, key);
			rc = -1;
			break;
		}
		if (strcmp(key, "chain") == 0) {
			free(c.chain);
			c.chain = dcase_strdup(val);
		} else if (strcmp(key, "host") == 0) {
			free(c.host);
			c.host = dcase_strdup(val);
		} else if (strcmp(key, "nexthop") == 0) {
			free(c.nexthop);
			c.nexthop = dcase_strdup(val);
		} else if (strcmp(key, "at") == 0) {
			free(c.at);
			c.at = dcase_strdup(val);
			if (dcase_parse_time(val, &c.when) != 0) {
				fprintf(stderr, "%s:%d: bad time '%s'\n", path, lineno, val);
				rc = -1;
				break;
			}
		} else if (strcmp(key, "tlsa") == 0) {
			char **n = realloc(c.tlsa, (c.ntlsa + 1) * sizeof(*n));

			if (n == NULL) {
				perror("realloc");
				exit(2);
			}
			c.tlsa = n;
			c.tlsa[c.ntlsa++] = dcase_strdup(val);
		} else if (strcmp(key, "expect") == 0) {
			free(c.expect);
			c.expect = dcase_strdup(val);
		} else if (strcmp(key, "usable") == 0) {
			char *end;
			c.usable = strtol(val, &end, 10);
			if (*val == '\0' || *end != '\0' || c.usable < 0) {
				fprintf(stderr, "%s:%d: bad usable count '%s'\n", path, lineno, val);
				rc = -1;
				break;
			}
		} else if (strcmp(key, "note") == 0) {
			/* documentation only */
		} else if (strcmp(key, "end") == 0) {
			if (c.chain == NULL || c.host == NULL || c.at == NULL) {
				fprintf(stderr, "%s:%d: case %s lacks chain, host or at\n", path,
					lineno, c.name);
				rc = -1;
				break;
			}
			fn(&c, arg);
			count++;
			dcase_clear(&c);
			in_case = 0;
		} else {
			fprintf(stderr, "%s:%d: unknown keyword '%s'\n", path, lineno, key);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && in_case) {
		fprintf(stderr, "%s: case %s has no 'end'\n", path, c.name);
		rc = -1;
	}
	if (rc == 0 && ferror(f)) {
		fprintf(stderr, "%s: read error\n", path);
		rc = -1;
	}
	dcase_clear(&c);
	free(line);
	fclose(f);
	return rc < 0 ? -1 : count;
}

/* vecdir + "/" + rel, malloc'd */
__attribute__((unused)) static char *dcase_path(const char *vecdir, const char *rel)
{
	size_t n = strlen(vecdir) + strlen(rel) + 2;
	char *p = malloc(n);

	if (p == NULL) {
		perror("malloc");
		exit(2);
	}
	snprintf(p, n, "%s/%s", vecdir, rel);
	return p;
}

#endif
