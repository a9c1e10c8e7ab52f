/* SPDX-License-Identifier: MIT */
/* The policy server's log: key=value lines on stderr, one per event. */
#include "policyd/policyd_log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static enum mxtls_log_level max_level = MXTLS_LOG_INFO;

void policyd_log_set_level(enum mxtls_log_level max)
{
	max_level = max;
}

int policyd_log_enabled(enum mxtls_log_level level)
{
	return level <= max_level;
}

static bool needs_quotes(const char *v)
{
	if (v[0] == '\0')
		return true;
	for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '=' || *p == '\\')
			return true;
	return false;
}

static void put_value(FILE *f, const char *v)
{
	if (!needs_quotes(v)) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < ' ' || *p >= 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

void policyd_log(enum mxtls_log_level level, const char *event, ...)
{
	if (level > max_level)
		return;
	FILE *f = stderr;
	flockfile(f);
	fprintf(f, "level=%s event=", mxtls_log_level_name(level));
	put_value(f, event);
	va_list ap;
	va_start(ap, event);
	for (const char *k = va_arg(ap, const char *); k != NULL; k = va_arg(ap, const char *)) {
		const char *v = va_arg(ap, const char *);
		fprintf(f, " %s=", k);
		put_value(f, v != NULL ? v : "-");
	}
	va_end(ap);
	fputc('\n', f);
	funlockfile(f);
	fflush(f);
}

void policyd_log_library(void *arg, enum mxtls_log_level level, const char *line)
{
	fprintf(stderr, "level=%s %s\n", mxtls_log_level_name(level), line);
	fflush(stderr);
}
