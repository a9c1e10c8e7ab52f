/* SPDX-License-Identifier: MIT */
/* Whether a libunbound set-up can validate DNSSEC at all, and which zone its trust anchor is. */
#ifndef MXTLS_DNS_ANCHOR_H
#define MXTLS_DNS_ANCHOR_H

#include <stddef.h>

struct ub_ctx;

/*
 * Checks the configuration already loaded into ub (ub_ctx_config()) before any lookup: a
 * set-up without a trust anchor, or whose module-config leaves out the validator, answers
 * every lookup "insecure", which would turn DANE off without an error (RFC 7672 §2.1.1 needs
 * validated answers).  conf_name (borrowed) names the file in messages.
 *
 * On MXTLS_OK, zone (zonelen bytes) receives the zone whose validation proves the set-up
 * works: "." when an anchor is for the root (or its zone cannot be read from the anchor, as
 * for trusted-keys-file), else the first anchored zone, lower case, without its final dot.
 * Returns MXTLS_E_CONFIG with the reason in err: no trust anchor, no validator module, or an
 * anchor file that cannot be read.
 */
int dns_anchor_zone(struct ub_ctx *ub, const char *conf_name, char *zone, size_t zonelen, char *err,
		    size_t errlen);

/*
 * The same check for a configuration file on its own (a throw-away libunbound context), for
 * callers that must refuse a set-up before they create their resolver.  Returns MXTLS_OK,
 * MXTLS_E_CONFIG (reason in err: also a file libunbound cannot load), MXTLS_E_NOMEM.
 */
int dns_anchor_check_file(const char *unbound_conf, char *err, size_t errlen);

#endif
