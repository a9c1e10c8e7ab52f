/* SPDX-License-Identifier: MIT */
/* The findings list of `mxtls audit` (owner/owner_audit_finding.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "owner/owner_audit_finding.h"

const char *audit_severity_name(enum audit_severity s)
{
	switch (s) {
	case AUDIT_ERROR:
		return "error";
	case AUDIT_WARNING:
		return "warning";
	default:
		return "info";
	}
}

void audit_add(struct audit_findings *f, enum audit_severity severity, const char *code,
	       const char *host, const char *fix, const char *fmt, ...)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct audit_finding *item = realloc(f->item, cap * sizeof *item);
		if (item == NULL) {
			f->nomem = true;
			return;
		}
		f->item = item;
		f->cap = cap;
	}
	struct audit_finding *a = &f->item[f->n];
	*a = (struct audit_finding){.severity = severity, .code = code};
	va_list ap;
	va_start(ap, fmt);
	int len = vasprintf(&a->message, fmt, ap);
	va_end(ap);
	if (len < 0)
		a->message = NULL;
	a->host = host != NULL ? strdup(host) : NULL;
	a->fix = strdup(fix != NULL ? fix : "");
	if (a->message == NULL || a->fix == NULL || (host != NULL && a->host == NULL)) {
		free(a->message);
		free(a->host);
		free(a->fix);
		f->nomem = true;
		return;
	}
	f->n++;
}

void audit_findings_sort(struct audit_findings *f)
{
	/* Insertion sort: stable, and a domain has tens of findings, not thousands. */
	for (size_t i = 1; i < f->n; i++) {
		struct audit_finding x = f->item[i];
		size_t k = i;
		while (k > 0 && f->item[k - 1].severity > x.severity) {
			f->item[k] = f->item[k - 1];
			k--;
		}
		f->item[k] = x;
	}
}

size_t audit_findings_count(const struct audit_findings *f, enum audit_severity s)
{
	size_t c = 0;
	for (size_t i = 0; i < f->n; i++)
		c += f->item[i].severity == s;
	return c;
}

bool audit_findings_has(const struct audit_findings *f, const char *code, const char *host)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct audit_finding *a = &f->item[i];
		if (strcmp(a->code, code) == 0 &&
		    (host == NULL || (a->host != NULL && strcmp(a->host, host) == 0)))
			return true;
	}
	return false;
}

void audit_findings_clear(struct audit_findings *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->item[i].host);
		free(f->item[i].message);
		free(f->item[i].fix);
	}
	free(f->item);
	*f = (struct audit_findings){0};
}
