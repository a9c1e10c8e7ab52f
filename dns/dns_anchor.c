/* SPDX-License-Identifier: MIT */
/* Whether a libunbound set-up can validate DNSSEC at all, and which zone its trust anchor is. */
#include "dns/dns_anchor.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>
#include <unbound.h>

#include "util/util_dnsname.h"
#include "dns/dns_rdata.h"

/* libunbound's options that hold trust anchors (unbound.conf(5)): inline records, then files. */
static const char *const inline_option = "trust-anchor";
static const char *const file_options[] = {"trust-anchor-file", "auto-trust-anchor-file",
					   "trusted-keys-file"};

/* The option's value ("" when unset); libunbound joins list entries with newlines.  NULL
 * when memory ran out. */
static char *option(struct ub_ctx *ub, const char *name)
{
	char *s = NULL;
	if (ub_ctx_get_option(ub, name, &s) != 0 || s == NULL) {
		free(s);
		return strdup("");
	}
	return s;
}

/* The first token of text (up to whitespace) as a canonical zone name into zone; false when it
 * is not a domain name (a BIND-style "trusted-keys {" line, say). */
static bool zone_of(const char *text, char *zone, size_t zonelen)
{
	size_t n = strcspn(text, " \t\r\n");
	if (n == 1 && text[0] == '.') {
		snprintf(zone, zonelen, ".");
		return true;
	}
	return n > 0 && util_dnsname_canon(text, n, zone, zonelen);
}

/* The owner of the first record of an anchor file (zone-file format).  Returns 1 found, 0 not
 * a zone-file record (the root is then assumed), -1 unreadable (errno set). */
static int file_zone(const char *path, char *zone, size_t zonelen)
{
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return -1;
	char line[4096];
	int found = 0;
	while (fgets(line, sizeof line, f) != NULL) {
		/* Comments, directives ($ORIGIN, $TTL), continuation and empty lines. */
		if (line[0] == ';' || line[0] == '$' || line[0] == ' ' || line[0] == '\t' ||
		    line[0] == '\n' || line[0] == '\r' || line[0] == '#')
			continue;
		/* BIND's "trusted-keys { ... };" and "trust-anchors { ... };" are not records. */
		found = strchr(line, '{') == NULL && zone_of(line, zone, zonelen) ? 1 : 0;
		break;
	}
	fclose(f);
	return found;
}

int dns_anchor_zone(struct ub_ctx *ub, const char *conf_name, char *zone, size_t zonelen, char *err,
		    size_t errlen)
{
	char *modules = option(ub, "module-config");
	if (modules == NULL)
		return MXTLS_E_NOMEM;
	/* An empty value is libunbound's default, "validator iterator". */
	bool validator = modules[0] == '\0' || strstr(modules, "validator") != NULL;
	if (!validator) {
		snprintf(err, errlen,
			 "unbound-conf %s: module-config \"%s\" has no validator: no answer could "
			 "be "
			 "DNSSEC-validated and DANE would be off",
			 conf_name, modules);
		free(modules);
		return MXTLS_E_CONFIG;
	}
	free(modules);

	bool any = false, root = false, named = false;
	char first[DNS_NAME_TEXT_MAX] = "";
	char *inl = option(ub, inline_option);
	if (inl == NULL)
		return MXTLS_E_NOMEM;
	for (char *p = inl; *p != '\0';) {
		size_t n = strcspn(p, "\n");
		char z[DNS_NAME_TEXT_MAX];
		if (n > 0) {
			any = true;
			if (zone_of(p, z, sizeof z)) {
				root = root || strcmp(z, ".") == 0;
				if (!named)
					snprintf(first, sizeof first, "%s", z);
				named = true;
			}
		}
		p += n + (p[n] == '\n');
	}
	free(inl);
	int rc = MXTLS_OK;
	for (size_t o = 0; rc == MXTLS_OK && o < sizeof file_options / sizeof file_options[0];
	     o++) {
		char *files = option(ub, file_options[o]);
		if (files == NULL)
			return MXTLS_E_NOMEM;
		for (char *p = files; rc == MXTLS_OK && *p != '\0';) {
			size_t n = strcspn(p, "\n");
			bool last = p[n] == '\0';
			p[n] = '\0';
			if (n > 0) {
				any = true;
				char z[DNS_NAME_TEXT_MAX];
				int found = file_zone(p, z, sizeof z);
				if (found < 0) {
					snprintf(err, errlen, "unbound-conf %s: %s %s: %s",
						 conf_name, file_options[o], p, strerror(errno));
					rc = MXTLS_E_CONFIG;
				} else if (found == 0 || strcmp(z, ".") == 0) {
					root = true;
				} else if (!named) {
					snprintf(first, sizeof first, "%s", z);
					named = true;
				}
			}
			p += n + !last;
		}
		free(files);
	}
	if (rc != MXTLS_OK)
		return rc;
	if (!any) {
		snprintf(err, errlen,
			 "unbound-conf %s: no DNSSEC trust anchor (trust-anchor-file, "
			 "auto-trust-anchor-file, trust-anchor or trusted-keys-file): every answer "
			 "would be insecure and DANE would be off",
			 conf_name);
		return MXTLS_E_CONFIG;
	}
	snprintf(zone, zonelen, "%s", root || !named ? "." : first);
	return MXTLS_OK;
}

int dns_anchor_check_file(const char *unbound_conf, char *err, size_t errlen)
{
	struct ub_ctx *ub = ub_ctx_create();
	if (ub == NULL)
		return MXTLS_E_NOMEM;
	int rc = ub_ctx_config(ub, unbound_conf);
	if (rc != 0) {
		snprintf(err, errlen, "unbound-conf %s: %s", unbound_conf, ub_strerror(rc));
		ub_ctx_delete(ub);
		return MXTLS_E_CONFIG;
	}
	char zone[DNS_NAME_TEXT_MAX];
	rc = dns_anchor_zone(ub, unbound_conf, zone, sizeof zone, err, errlen);
	ub_ctx_delete(ub);
	return rc;
}
