/* SPDX-License-Identifier: MIT */
/* Log dispatch: key=value lines to a caller-set callback (ARCHITECTURE.md convention 10). */
#include "util/util_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mxtls/error.h>

const char *mxtls_log_level_name(enum mxtls_log_level level)
{
	switch (level) {
	case MXTLS_LOG_ERROR:
		return "error";
	case MXTLS_LOG_WARNING:
		return "warning";
	case MXTLS_LOG_INFO:
		return "info";
	case MXTLS_LOG_DEBUG:
		return "debug";
	}
	return "unknown";
}

bool util_log_enabled(const struct util_log *log, enum mxtls_log_level level)
{
	return log != NULL && log->fn != NULL && level <= log->max;
}

static bool is_bare(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '=';
}

int util_log_append_value(struct util_buf *b, const char *v, size_t n)
{
	bool bare = n > 0;
	for (size_t i = 0; i < n && bare; i++)
		bare = is_bare((unsigned char)v[i]);
	if (bare)
		return util_buf_append(b, v, n);

	/* Quoted form: build it completely, then append, so a failure appends nothing. */
	size_t start = b->len;
	int rc = util_buf_append_byte(b, '"');
	for (size_t i = 0; i < n && rc == MXTLS_OK; i++) {
		unsigned char c = (unsigned char)v[i];
		switch (c) {
		case '"':
			rc = util_buf_append_str(b, "\\\"");
			break;
		case '\\':
			rc = util_buf_append_str(b, "\\\\");
			break;
		case '\n':
			rc = util_buf_append_str(b, "\\n");
			break;
		case '\r':
			rc = util_buf_append_str(b, "\\r");
			break;
		case '\t':
			rc = util_buf_append_str(b, "\\t");
			break;
		default:
			if (c < 0x20 || c >= 0x7f)
				rc = util_buf_appendf(b, "\\x%02x", c);
			else
				rc = util_buf_append_byte(b, c);
		}
	}
	if (rc == MXTLS_OK)
		rc = util_buf_append_byte(b, '"');
	if (rc != MXTLS_OK) {
		b->len = start;
		if (b->data != NULL)
			b->data[start] = '\0';
	}
	return rc;
}

void util_log_kv(const struct util_log *log, enum mxtls_log_level level, uint64_t id,
		 const char *event, ...)
{
	va_list ap;
	va_start(ap, event);
	util_log_kv_v(log, level, id, event, ap);
	va_end(ap);
}

void util_log_kv_v(const struct util_log *log, enum mxtls_log_level level, uint64_t id,
		   const char *event, va_list ap)
{
	if (!util_log_enabled(log, level))
		return;
	struct util_buf b;
	util_buf_init(&b, UTIL_LOG_LINE_MAX);
	int rc = util_buf_appendf(&b, "id=%llu event=", (unsigned long long)id);
	if (rc == MXTLS_OK)
		rc = util_log_append_value(&b, event, strlen(event));

	for (const char *key = va_arg(ap, const char *); key != NULL && rc == MXTLS_OK;
	     key = va_arg(ap, const char *)) {
		const char *value = va_arg(ap, const char *);
		if (value == NULL)
			value = "-";
		rc = util_buf_appendf(&b, " %s=", key);
		if (rc == MXTLS_OK)
			rc = util_log_append_value(&b, value, strlen(value));
	}

	if (rc == MXTLS_OK) {
		log->fn(log->arg, level, b.data);
	} else {
		/* A line is never cut short: say that it was dropped and why, within a fixed size. */
		char fallback[160];
		snprintf(fallback, sizeof fallback, "id=%llu event=log-line-dropped reason=%s",
			 (unsigned long long)id, rc == MXTLS_E_LIMIT ? "too-long" : "out-of-memory");
		log->fn(log->arg, level, fallback);
	}
	util_buf_free(&b);
}
