/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: mxtls serve's request router and host-name parser (owner/owner_route.c).
 * The input is four fields split at LF: method, Host header, path, SNI name; a missing fourth
 * field means no SNI, a lone "-" as second field means no Host header.  Each input is routed
 * twice: without a report endpoint and with the one at REPORTS_PATH; the method field is also
 * read as a Content-Type header. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "owner/owner_route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPORTS_PATH "/tlsrpt"

static int lower_ldh(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

/* Invariants of owner_route_domain(): a lower-case LDH name without empty labels that maps to
 * itself again. */
static int domain_of(const char *p, size_t n, int allow_port, char *out)
{
	int len = owner_route_domain(p, n, allow_port, out, OWNER_ROUTE_DOMAIN_MAX + 1);
	if (len < 0)
		return len;
	if (len == 0 || len > OWNER_ROUTE_DOMAIN_MAX || strlen(out) != (size_t)len ||
	    !lower_ldh(out, (size_t)len) || out[0] == '.' || out[len - 1] == '.' ||
	    strstr(out, "..") != NULL)
		__builtin_trap();
	char again[OWNER_ROUTE_DOMAIN_MAX + 16], back[OWNER_ROUTE_DOMAIN_MAX + 1];
	int m = snprintf(again, sizeof again, "MTA-STS.%s.", out);
	if (owner_route_domain(again, (size_t)m, 0, back, sizeof back) != len ||
	    strcmp(back, out) != 0)
		__builtin_trap();
	return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *f[4] = {NULL, NULL, NULL, NULL};
	size_t flen[4] = {0, 0, 0, 0};
	size_t nf = 0, start = 0;
	for (size_t i = 0; i <= size && nf < 4; i++) {
		if (i == size || (data[i] == '\n' && nf < 3)) {
			f[nf] = (const char *)data + start;
			flen[nf] = i - start;
			nf++;
			start = i + 1;
		}
	}
	if (nf < 3)
		return 0;
	char host[OWNER_ROUTE_DOMAIN_MAX + 1], sni[OWNER_ROUTE_DOMAIN_MAX + 1];
	int hn = domain_of(f[1], flen[1], 1, host);
	int sn = nf == 4 ? domain_of(f[3], flen[3], 0, sni) : -1;
	int no_host = flen[1] == 1 && f[1][0] == '-';
	struct owner_request req = {
		.method = f[0],
		.method_len = flen[0],
		.host = no_host ? NULL : f[1],
		.host_len = no_host ? 0 : flen[1],
		.path = f[2],
		.path_len = flen[2],
		.sni_domain = sn >= 0 ? sni : NULL,
		.sni_len = sn >= 0 ? (size_t)sn : 0,
	};
	const char *allow = NULL;
	int status = owner_route(&req, &allow);
	int same = hn >= 0 && sn >= 0 && hn == sn && memcmp(host, sni, (size_t)hn) == 0;
	int path_ok =
		flen[2] == strlen(OWNER_ROUTE_PATH) && memcmp(f[2], OWNER_ROUTE_PATH, flen[2]) == 0;
	int method_ok = (flen[0] == 3 && memcmp(f[0], "GET", 3) == 0) ||
			(flen[0] == 4 && memcmp(f[0], "HEAD", 4) == 0);
	int want = no_host ? 400 : !same ? 421 : !path_ok ? 404 : !method_ok ? 405 : 200;
	if (status != want || (status == 405) != (allow != NULL))
		__builtin_trap();
	/* With a report endpoint: only a POST to exactly its path goes to the report handler,
	 * and only on a host the SNI chose; every other request is routed as before. */
	req.reports_path = REPORTS_PATH;
	req.reports_path_len = strlen(REPORTS_PATH);
	allow = NULL;
	status = owner_route(&req, &allow);
	int at_reports =
		flen[2] == strlen(REPORTS_PATH) && memcmp(f[2], REPORTS_PATH, flen[2]) == 0;
	int post = flen[0] == 4 && memcmp(f[0], "POST", 4) == 0;
	if (no_host || !same || !at_reports)
		; /* want is unchanged */
	else
		want = post ? OWNER_ROUTE_REPORT : 405;
	if (status != want || (status == 405) != (allow != NULL) ||
	    (status == 405 && at_reports && same && !no_host && strcmp(allow, "POST") != 0))
		__builtin_trap();
	/* The media type: only the two report types, whatever the case and the parameters. */
	int type = owner_route_report_type(f[0], flen[0]);
	if (type != 0 && type != OWNER_ROUTE_TYPE_GZIP && type != OWNER_ROUTE_TYPE_JSON)
		__builtin_trap();
	if (type != 0 && memchr(f[0], '\0', flen[0]) != NULL &&
	    (size_t)((const char *)memchr(f[0], '\0', flen[0]) - f[0]) < 23)
		__builtin_trap(); /* a NUL inside the type itself is never accepted */
	return 0;
}
