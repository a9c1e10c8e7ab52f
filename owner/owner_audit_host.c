/* SPDX-License-Identifier: MIT */
/* `mxtls audit`, one MX host (owner/owner_audit_host.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/x509.h>
#include <mxtls/error.h>

#include "dane/dane_verify.h"
#include "owner/owner_audit_host.h"
#include "owner/owner_tlsa.h"

/* "U 1 1 hex" of the DER certificate for a record the fixes propose; "" when it cannot be
 * computed (a certificate that is not DER). */
static void assoc_text(const uint8_t *der, size_t len, unsigned usage, char *out, size_t outlen)
{
	char *t = NULL;
	snprintf(out, outlen, "%s",
		 owner_tlsa_spki(der, len, (uint8_t)usage, &t) == MXTLS_OK ? t : "");
	free(t);
}

/* How a failed check weighs for this host (CLI.md "mxtls audit"). */
struct weight {
	bool dane;        /* secure TLSA: DANE senders require TLS (and, when usable, a match) */
	bool sts_enforce; /* an enforce policy covers the host: STS senders require TLS + Web PKI */
	bool sts_testing; /* a testing policy covers it: reported, would be required */
};

/* RFC 8461 §4.2 (AUD-STS-08): the Web PKI check every MTA-STS sender makes. */
static void pkix_check(const struct audit_host_view *v, const struct weight *w, const char *addr,
		       struct dane_chain *chain, struct audit_findings *f, size_t *would_break)
{
	struct dane_verdict pv;
	dane_pkix_verify(v->pkix, chain, v->name, v->now, &pv);
	if (pv.result == MXTLS_RESULT_OK)
		return;
	const char *code = pv.result == MXTLS_RESULT_CERTIFICATE_HOST_MISMATCH
				   ? "mx-cert-name-mismatch"
			   : pv.result == MXTLS_RESULT_CERTIFICATE_EXPIRED ? "mx-cert-expired"
									   : "mx-cert-not-trusted";
	enum audit_severity sev = w->sts_enforce   ? AUDIT_ERROR
				  : w->sts_testing ? AUDIT_WARNING
						   : AUDIT_INFO;
	if (w->sts_testing)
		++*would_break;
	char fix[1200];
	snprintf(fix, sizeof fix,
		 "install a certificate from a public CA, in date, whose subjectAltName includes "
		 "%s, and send the whole chain",
		 v->name);
	audit_add(f, sev, code, v->name, fix, "%s: %s%s", addr, pv.reason,
		  w->sts_enforce   ? " (MTA-STS senders defer mail)"
		  : w->sts_testing ? " (MTA-STS senders would defer mail under enforce)"
				   : " (matters once you publish an MTA-STS policy)");
}

/* RFC 7672 §3: the chain against the host's usable secure TLSA records. */
static void dane_check(const struct audit_host_view *v, const char *addr, struct dane_chain *chain,
		       struct audit_findings *f)
{
	const struct host_dane_result *d = v->dane;
	const char *names[HOST_DANE_NAMES_MAX];
	for (size_t k = 0; k < d->nnames; k++)
		names[k] = d->names[k];
	struct dane_verdict dv;
	dane_verify(chain, d->tlsa, d->ntlsa, names, d->nnames, v->now, &dv);
	if (dv.result == MXTLS_RESULT_OK)
		return;
	char rec[200], fix[1200];
	assoc_text(chain->certs[0].der, chain->certs[0].len, 3, rec, sizeof rec);
	snprintf(fix, sizeof fix,
		 "publish _25._tcp.%s. IN TLSA %s (the key served now) next to the records there, "
		 "or serve the certificate they name",
		 d->tbd[0] ? d->tbd : v->name, rec);
	audit_add(f, AUDIT_ERROR, "tlsa-mismatch", v->name, fix, "%s: %s: DANE senders defer mail",
		  addr, dv.reason);
}

/* The sessions, address by address (AUD-STS-08, AUD-DANE-03/04). */
static size_t addr_checks(const struct audit_host_view *v, const struct weight *w,
			  struct audit_findings *f, struct dane_chain *first)
{
	size_t would_break = 0;
	bool differs = false;
	for (size_t k = 0; k < v->naddr; k++) {
		const struct mxtls_addr_probe *p = v->probe[k];
		const char *a = v->addr_text[k];
		if (p == NULL)
			continue; /* not probed in time: owner_audit.c says so */
		bool strict = w->dane || w->sts_enforce;
		enum audit_severity sev = strict ? AUDIT_ERROR : AUDIT_WARNING;
		if (!p->connected || (p->error != MXTLS_OK && p->error != MXTLS_E_TLS &&
				      !p->starttls_offered && !p->tls)) {
			audit_add(f, AUDIT_WARNING, "mx-unreachable", v->name,
				  "check that the server listens on port 25 of this address",
				  "%s: no SMTP session: %s", a, p->reason);
			continue;
		}
		if (!p->starttls_offered) {
			if (!strict && w->sts_testing)
				would_break++;
			audit_add(f, sev, "mx-starttls-missing", v->name,
				  "offer STARTTLS to every client (RFC 7672 section 2.2, RFC 8461 "
				  "section 4.2)",
				  "%s: the server does not offer STARTTLS%s", a,
				  strict ? ": senders that require TLS defer mail"
					 : ": mail goes in cleartext");
			continue;
		}
		if (!p->tls || p->chain.n == 0) {
			if (!strict && w->sts_testing)
				would_break++;
			audit_add(f, sev, "mx-tls-failed", v->name,
				  "make STARTTLS work (the server's TLS log says why)",
				  "%s: STARTTLS is offered but no TLS session came up: %s", a,
				  p->reason);
			continue;
		}
		struct dane_chain chain;
		if (dane_chain_from_der((const uint8_t *const *)p->chain.der, p->chain.len,
					p->chain.n, &chain) != MXTLS_OK) {
			audit_add(f, sev, "mx-tls-failed", v->name,
				  "serve a well-formed certificate chain",
				  "%s: the certificate chain is not DER", a);
			continue;
		}
		pkix_check(v, w, a, &chain, f, &would_break);
		if (v->dane != NULL && v->dane->state == HOST_DANE_USABLE)
			dane_check(v, a, &chain, f);
		if (first->n == 0) {
			*first = chain; /* kept for the rollover check; the caller clears it */
			continue;
		}
		if (first->certs[0].len != chain.certs[0].len ||
		    memcmp(first->certs[0].der, chain.certs[0].der, chain.certs[0].len) != 0)
			differs = true;
		dane_chain_clear(&chain);
	}
	if (differs)
		audit_add(f, AUDIT_INFO, "mx-cert-differs", v->name,
			  "serve the same certificate on every address, or make sure each one is "
			  "covered (each address is checked above)",
			  "the addresses of the host present different certificates");
	return would_break;
}

/* AUD-DANE-05 (RFC 7672 §3.1, RFC 7671 §5.2.1, §10.1): the shapes senders handle worst. */
static void shape_checks(const struct audit_host_view *v, struct audit_findings *f)
{
	const struct host_dane_result *d = v->dane;
	size_t sha512 = 0, usable = 0;
	for (size_t k = 0; k < d->ntlsa; k++) {
		const struct dane_tlsa *t = &d->tlsa[k];
		if (!t->usable)
			continue;
		usable++;
		sha512 += t->mtype == 2;
		if (t->mtype == 0)
			audit_add(f, AUDIT_INFO, "tlsa-shape", v->name,
				  "publish the SHA-256 digest instead (matching type 1)",
				  "TLSA %u %u 0 carries the whole %s: large DNS answers, and RFC "
				  "7671 "
				  "section 10.1.2 does not recommend it",
				  t->usage, t->selector, t->selector == 0 ? "certificate" : "key");
	}
	if (usable > 0 && sha512 == usable)
		audit_add(
			f, AUDIT_INFO, "tlsa-shape", v->name,
			"add the SHA-256 (matching type 1) records beside the SHA-512 ones",
			"every usable record is SHA-512 (matching type 2): RFC 7671 section 2 says "
			"SHA-256 should always be published");
}

/* AUD-DANE-01/14: what DNS says about the host. */
static bool dns_checks(const struct audit_host_view *v, struct audit_findings *f)
{
	const struct host_dane_result *d = v->dane;
	char fix[1200];
	if (d != NULL && d->tlsa_failed) {
		snprintf(
			fix, sizeof fix,
			"make the name servers of %s answer TLSA queries for _25._tcp.%s with data "
			"or NODATA, correctly signed",
			v->name, v->name);
		audit_add(f, AUDIT_ERROR,
			  v->tlsa_lookup == AUDIT_DNS_BOGUS ? "dnssec-bogus" : "dns-failure",
			  v->name, fix,
			  "the TLSA lookup failed (%s): DANE senders defer mail to this host",
			  d->reason);
		return false;
	}
	if (v->unreachable) {
		if (v->addr_lookup == AUDIT_DNS_BOGUS || v->addr_lookup == AUDIT_DNS_FAILED) {
			snprintf(fix, sizeof fix,
				 "fix the DNSSEC signatures (or the delegation) of the zone of %s",
				 v->name);
			audit_add(f, AUDIT_ERROR,
				  v->addr_lookup == AUDIT_DNS_BOGUS ? "dnssec-bogus"
								    : "dns-failure",
				  v->name, fix, "the address lookup failed: %s", v->why);
		} else {
			audit_add(f, AUDIT_WARNING, "mx-no-address", v->name,
				  "publish A/AAAA records for the host, or remove the MX record",
				  "%s", v->why);
		}
		return false;
	}
	if (v->tlsa_lookup == AUDIT_DNS_DATA && v->insecure_tlsa > 0) {
		snprintf(
			fix, sizeof fix,
			"sign the zone of %s with DNSSEC (and its parent's DS), or remove the TLSA "
			"records",
			v->name);
		audit_add(f, AUDIT_WARNING, "tlsa-insecure", v->name, fix,
			  "%zu TLSA record%s at _25._tcp.%s, but the host's addresses are not "
			  "DNSSEC-signed: senders ignore them (RFC 7672 section 2.2)",
			  v->insecure_tlsa, v->insecure_tlsa == 1 ? "" : "s", v->name);
	}
	if (d != NULL && d->state == HOST_DANE_USABLE)
		shape_checks(v, f);
	if (d != NULL && (d->state == HOST_DANE_USABLE || d->state == HOST_DANE_ENCRYPT)) {
		for (size_t k = 0; k < d->ntlsa; k++) {
			if (d->tlsa[k].usable)
				continue;
			bool all = d->state == HOST_DANE_ENCRYPT;
			audit_add(f, all ? AUDIT_WARNING : AUDIT_INFO, "tlsa-unusable", v->name,
				  all ? "publish 3 1 1 (the server's key) or 2 1 1 (its issuer's "
					"key) records (RFC 7672 section 3.1)"
				      : "remove the record",
				  "TLSA %s is unusable: %s%s", d->tlsa[k].text, d->tlsa[k].reason,
				  all ? "; no record is usable, so DANE senders require TLS but "
					"authenticate nothing"
				      : "");
		}
	}
	return true;
}

size_t audit_host(const struct audit_host_view *v, struct audit_findings *f)
{
	if (!dns_checks(v, f))
		return 0;
	struct weight w = {
		.dane = v->dane != NULL &&
			(v->dane->state == HOST_DANE_USABLE || v->dane->state == HOST_DANE_ENCRYPT),
		.sts_enforce = v->sts == AUDIT_STS_ENFORCE && v->covered,
		.sts_testing = v->sts == AUDIT_STS_TESTING && v->covered,
	};
	struct dane_chain first = {0};
	size_t would_break = addr_checks(v, &w, f, &first);
	if (first.n > 0 && v->dane != NULL && v->dane->state == HOST_DANE_USABLE)
		audit_tlsa_rollover(v->dane->tbd[0] ? v->dane->tbd : v->name, v->dane->tlsa,
				    v->dane->ntlsa, &first, v->now, f);
	dane_chain_clear(&first);
	return would_break;
}

/* Whether the leaf was issued by a CA (not self-issued) for a short life, so that a renewal
 * tool replaces it every few weeks; *days receives its whole lifetime. */
static bool short_lived_ca_issued(struct dane_chain *chain, long long *days)
{
	gnutls_x509_crt_t leaf = dane_chain_cert(chain, 0);
	if (leaf == NULL)
		return false;
	time_t from = gnutls_x509_crt_get_activation_time(leaf);
	time_t to = gnutls_x509_crt_get_expiration_time(leaf);
	if (from == (time_t)-1 || to == (time_t)-1 || to < from)
		return false;
	*days = ((long long)to - (long long)from) / 86400;
	bool self_issued = gnutls_x509_crt_check_issuer(leaf, leaf) != 0;
	return !self_issued && (long long)to - (long long)from <= AUDIT_SHORT_LIVED_SECONDS;
}

void audit_tlsa_rollover(const char *host, const struct dane_tlsa *set, size_t n,
			 struct dane_chain *chain, int64_t now, struct audit_findings *f)
{
	(void)now;
	if (chain->n == 0)
		return;
	const uint8_t *der = chain->certs[0].der;
	size_t len = chain->certs[0].len;
	size_t spare = 0, pin_cert = 0, pin_key = 0;
	for (size_t k = 0; k < n; k++) {
		const struct dane_tlsa *t = &set[k];
		if (!t->usable)
			continue;
		/* A DANE-TA record survives renewals by the same CA (RFC 7671 §8.4). */
		if (t->usage == 2)
			return;
		if (!dane_cert_matches(der, len, t))
			spare++; /* a next key or certificate published ahead: a rollover in hand */
		else if (t->selector == 0)
			pin_cert++;
		else
			pin_key++;
	}
	if (spare > 0 || pin_cert + pin_key == 0)
		return;
	char key[200], issuer[200] = "", fix[1200];
	assoc_text(der, len, 3, key, sizeof key);
	if (chain->n > 1)
		assoc_text(chain->certs[1].der, chain->certs[1].len, 2, issuer, sizeof issuer);
	long long days = 0;
	if (pin_key == 0) {
		/* Only 3 0 x: the certificate itself, which every renewal replaces. */
		snprintf(fix, sizeof fix,
			 "add _25._tcp.%s. IN TLSA %s (the key, which a renewal can keep)%s%s%s "
			 "now, at least two TTLs before the next renewal",
			 host, key, issuer[0] ? " or " : "", issuer[0] ? issuer : "",
			 issuer[0] ? " (the issuer's key)" : "");
		audit_add(f, AUDIT_WARNING, "tlsa-rollover-risk", host, fix,
			  "the TLSA records name only the certificate in use (3 0 x): the next "
			  "renewal breaks DANE delivery until the records are changed");
		return;
	}
	if (!short_lived_ca_issued(chain, &days))
		return;
	if (issuer[0])
		snprintf(fix, sizeof fix,
			 "add _25._tcp.%s. IN TLSA %s (the issuing CA's key, which renewals keep), "
			 "or publish the next key's 3 1 1 two TTLs before each renewal, or renew "
			 "with "
			 "the same key (certbot --reuse-key)",
			 host, issuer);
	else
		snprintf(
			fix, sizeof fix,
			"publish the next key's 3 1 1 at _25._tcp.%s two TTLs before each renewal, "
			"or renew with the same key (certbot --reuse-key); send the issuer "
			"certificate too, so that a 2 1 1 record can pin it",
			host);
	audit_add(f, AUDIT_WARNING, "tlsa-rollover-risk", host, fix,
		  "the TLSA records pin only the key of a %lld-day CA-issued certificate (3 1 x): "
		  "if the renewal makes a new key, DANE senders defer mail",
		  days);
}
