/* SPDX-License-Identifier: MIT */
/* The findings of `mxtls audit`: severity, stable code, the record or host, what and how to fix. */
#ifndef MXTLS_OWNER_AUDIT_FINDING_H
#define MXTLS_OWNER_AUDIT_FINDING_H

#include <stdbool.h>
#include <stddef.h>

/* CLI.md "mxtls audit": error = a strict sender would defer (or silently drop the protection);
 * warning = works today, breaks or weakens on a foreseeable change; info = for the record. */
enum audit_severity {
	AUDIT_ERROR = 0,
	AUDIT_WARNING = 1,
	AUDIT_INFO = 2,
};

struct audit_finding {
	enum audit_severity severity;
	const char *code; /* static: one of CLI.md's stable codes, or a newer one */
	char *host;       /* owned; NULL for the domain as a whole */
	char *message;    /* owned, one line */
	char *fix;        /* owned, "" when there is nothing to do */
};

struct audit_findings {
	struct audit_finding *item;
	size_t n, cap;
	bool nomem; /* a finding could not be kept: the list is incomplete */
};

/* "error", "warning", "info". */
const char *audit_severity_name(enum audit_severity s);

/* Appends a finding; host and fix are copied (NULL host: domain-wide; NULL fix: ""), the
 * message is formatted.  On memory exhaustion the finding is dropped and f->nomem set. */
void audit_add(struct audit_findings *f, enum audit_severity severity, const char *code,
	       const char *host, const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Orders errors first, then warnings, then info, keeping the order of the checks within each
 * severity. */
void audit_findings_sort(struct audit_findings *f);

/* How many findings of severity s; whether one with code (and host, when not NULL) exists. */
size_t audit_findings_count(const struct audit_findings *f, enum audit_severity s);
bool audit_findings_has(const struct audit_findings *f, const char *code, const char *host);

/* Frees every finding and empties f. */
void audit_findings_clear(struct audit_findings *f);

#endif
