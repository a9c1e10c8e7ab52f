/* SPDX-License-Identifier: MIT */
/* The DANE verdict: DANE-EE matching and DANE-TA chain building (RFC 7672 §3.1, §3.2). */
#include "dane/dane_verify.h"

#include <string.h>

/* The failure of one TA candidate; worse-ranked failures lose to better-ranked ones. */
struct ta_failure {
	enum mxtls_result result;
	const char *reason;
};

/* Failures ranked by how much they tell the operator (a TA did match, so say what broke). */
static int rank(enum mxtls_result r)
{
	switch (r) {
	case MXTLS_RESULT_CERTIFICATE_EXPIRED:
		return 3;
	case MXTLS_RESULT_CERTIFICATE_HOST_MISMATCH:
		return 2;
	case MXTLS_RESULT_CERTIFICATE_NOT_TRUSTED:
		return 1;
	default:
		return 0;
	}
}

static void note_failure(struct ta_failure *best, enum mxtls_result r, const char *reason)
{
	if (best->reason == NULL || rank(r) > rank(best->result)) {
		best->result = r;
		best->reason = reason;
	}
}

/* An anchor: a certificate (presented, or carried by a `2 0 0` record) or a bare key. */
struct anchor {
	gnutls_x509_crt_t cert; /* borrowed, or NULL for a bare key */
	gnutls_pubkey_t key;    /* owned */
	size_t chain_index;     /* index in the presented chain; chain->n when not presented */
};

/* Is certificate i of chain issued by the anchor (name chaining when the anchor is a
 * certificate, then the signature)?  A certificate that does not parse is not. */
static bool anchor_issued(const struct anchor *a, struct dane_chain *chain, size_t i)
{
	gnutls_x509_crt_t cert = dane_chain_cert(chain, i);
	if (cert == NULL)
		return false;
	if (a->cert != NULL && !gnutls_x509_crt_check_issuer(cert, a->cert))
		return false;
	return dane_cert_signed_by(cert, chain->certs[i].der, chain->certs[i].len, a->key);
}

/* Did certificate `issuer` of chain (parsed) sign certificate `child` (parsed)? */
static bool link_signed(struct dane_chain *chain, size_t child, gnutls_x509_crt_t issuer)
{
	gnutls_pubkey_t key;
	if (gnutls_pubkey_init(&key) < 0)
		return false;
	bool ok = gnutls_pubkey_import_x509(key, issuer, 0) >= 0 &&
		  dane_cert_signed_by(dane_chain_cert(chain, child), chain->certs[child].der,
				      chain->certs[child].len, key);
	gnutls_pubkey_deinit(key);
	return ok;
}

/*
 * Builds a path leaf -> ... -> anchor through the presented certificates (any order after the
 * leaf), then checks dates below the anchor and the leaf's name.  The certificates are parsed
 * as they are needed; one that does not parse cannot be a link.  Returns true on success; on
 * failure records why in *fail.
 */
static bool verify_path(struct dane_chain *chain, const struct anchor *a,
			const char *const *names, size_t nnames, int64_t now, size_t *depth,
			struct ta_failure *fail)
{
	size_t path[DANE_PATH_MAX]; /* indexes into chain, from the leaf up */
	bool used[DANE_CHAIN_MAX] = {false};
	size_t len = 0;
	gnutls_x509_crt_t leaf = dane_chain_cert(chain, 0);
	if (leaf == NULL) {
		note_failure(fail, MXTLS_RESULT_CERTIFICATE_NOT_TRUSTED,
			     "the leaf certificate does not parse");
		return false;
	}
	size_t cur = 0;
	used[0] = true;
	for (;;) {
		path[len++] = cur;
		if (anchor_issued(a, chain, cur))
			break;
		if (len == DANE_PATH_MAX) {
			note_failure(fail, MXTLS_RESULT_CERTIFICATE_NOT_TRUSTED,
				     "the path to the trust anchor is too long");
			return false;
		}
		/* The next link: an unused presented CA certificate that issued cur.  The anchor's
		 * own position ends the search: nothing above it is needed. */
		size_t next = chain->n; /* none yet */
		gnutls_x509_crt_t cur_crt = dane_chain_cert(chain, cur);
		for (size_t i = 1; i < chain->n && next == chain->n; i++) {
			if (used[i] || i == a->chain_index)
				continue;
			gnutls_x509_crt_t cand = dane_chain_cert(chain, i);
			if (cand == NULL || !gnutls_x509_crt_check_issuer(cur_crt, cand) ||
			    !link_signed(chain, cur, cand))
				continue;
			if (!dane_cert_is_ca(cand)) {
				note_failure(fail, MXTLS_RESULT_CERTIFICATE_NOT_TRUSTED,
					     "an intermediate certificate is not a CA");
				return false;
			}
			used[i] = true;
			next = i;
		}
		if (next == chain->n) {
			note_failure(fail, MXTLS_RESULT_CERTIFICATE_NOT_TRUSTED,
				     "no valid path from the leaf to the trust anchor");
			return false;
		}
		cur = next;
	}
	/* RFC 7672 §3.2.2 + decision D12: below the anchor, every certificate must be valid now.
	 * The anchor's own dates are not checked (its authority comes from DNSSEC). */
	for (size_t i = 0; i < len; i++) {
		int d = dane_cert_date_check(dane_chain_cert(chain, path[i]), now);
		if (d != 0) {
			note_failure(fail, MXTLS_RESULT_CERTIFICATE_EXPIRED,
				     i == 0 ? (d < 0 ? "the leaf certificate is not yet valid"
						     : "the leaf certificate has expired")
					    : (d < 0 ? "an intermediate certificate is not yet valid"
						     : "an intermediate certificate has expired"));
			return false;
		}
	}
	/* RFC 5280 §6.1: below the anchor, no unknown critical extension; each CA's path length
	 * and name constraints hold for what it issued (the anchor's own constraints too, as
	 * RFC 7671 §5.2.1 asks for Cert(0) anchors). */
	for (size_t i = 0; i < len; i++) {
		if (dane_cert_has_unknown_critical(dane_chain_cert(chain, path[i]))) {
			note_failure(fail, MXTLS_RESULT_CERTIFICATE_NOT_TRUSTED,
				     "a certificate carries an unknown critical extension");
			return false;
		}
	}
	for (size_t i = 1; i <= len; i++) {
		gnutls_x509_crt_t ca = i < len ? dane_chain_cert(chain, path[i]) : a->cert;
		if (ca == NULL)
			break; /* a bare-key anchor carries no constraints */
		int pathlen = dane_cert_path_len(ca);
		/* path[1..i-1] are the intermediates below ca (self-issued ones are not exempted:
		 * stricter, and SMTP chains have none). */
		if (pathlen >= 0 && (int)(i - 1) > pathlen) {
			note_failure(fail, MXTLS_RESULT_CERTIFICATE_NOT_TRUSTED,
				     "a CA's path length constraint is exceeded");
			return false;
		}
		if (!dane_cert_names_permitted(ca, leaf)) {
			note_failure(fail, MXTLS_RESULT_CERTIFICATE_NOT_TRUSTED,
				     "the leaf's names violate a CA's name constraints");
			return false;
		}
	}
	/* RFC 7672 §3.2.3: DANE-TA requires a name check against the reference identifiers. */
	if (!dane_cert_name_matches(leaf, names, nnames)) {
		note_failure(fail, MXTLS_RESULT_CERTIFICATE_HOST_MISMATCH,
			     "the leaf certificate matches no reference identifier");
		return false;
	}
	*depth = len;
	return true;
}

/* Tries one DANE-TA record: every anchor it designates.  True when one authenticates. */
static bool try_ta(struct dane_chain *chain, const struct dane_tlsa *t, const char *const *names,
		   size_t nnames, int64_t now, size_t *depth, bool *any_match,
		   struct ta_failure *fail)
{
	/* Presented certificates other than the leaf (RFC 7672 §3.1.2), matched on their DER;
	 * only a match is parsed. */
	for (size_t i = 1; i < chain->n; i++) {
		if (!dane_cert_matches(chain->certs[i].der, chain->certs[i].len, t))
			continue;
		*any_match = true;
		struct anchor a = {.cert = dane_chain_cert(chain, i), .chain_index = i};
		if (a.cert == NULL) {
			/* Its digest matches, but without its name and key it anchors nothing. */
			note_failure(fail, MXTLS_RESULT_CERTIFICATE_NOT_TRUSTED,
				     "the certificate that matches the record does not parse");
			continue;
		}
		if (gnutls_pubkey_init(&a.key) < 0)
			continue;
		bool ok = gnutls_pubkey_import_x509(a.key, a.cert, 0) >= 0 &&
			  verify_path(chain, &a, names, nnames, now, depth, fail);
		gnutls_pubkey_deinit(a.key);
		if (ok)
			return true;
	}
	if (t->mtype != DANE_MTYPE_FULL)
		return false;
	/* RFC 7671 §5.2.2, §5.2.3: a Full(0) record carries the anchor itself, which the server
	 * may then omit from its chain. */
	struct anchor a = {.chain_index = chain->n};
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d = {t->data, (unsigned int)t->len};
	if (gnutls_pubkey_init(&a.key) < 0)
		return false;
	bool ok = false;
	if (t->selector == DANE_SELECTOR_CERT) {
		if (gnutls_x509_crt_init(&crt) >= 0 &&
		    gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) >= 0 &&
		    gnutls_pubkey_import_x509(a.key, crt, 0) >= 0) {
			a.cert = crt;
			ok = true;
		}
	} else {
		ok = gnutls_pubkey_import(a.key, &d, GNUTLS_X509_FMT_DER) >= 0;
	}
	/* A bare anchor counts as matching when it issued some presented certificate. */
	if (ok) {
		bool issued_any = false;
		for (size_t i = 0; i < chain->n && !issued_any; i++)
			issued_any = anchor_issued(&a, chain, i);
		ok = issued_any;
		if (issued_any) {
			*any_match = true;
			ok = verify_path(chain, &a, names, nnames, now, depth, fail);
		}
	}
	gnutls_pubkey_deinit(a.key);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	return ok;
}

void dane_verify(struct dane_chain *chain, const struct dane_tlsa *set, size_t n,
		 const char *const *names, size_t nnames, int64_t now, struct dane_verdict *out)
{
	memset(out, 0, sizeof *out);
	out->matched = -1;
	for (size_t i = 0; i < n; i++)
		out->usable += set[i].usable;
	if (out->usable == 0) {
		out->result = MXTLS_RESULT_TLSA_INVALID;
		out->reason = "no usable TLSA records";
		return;
	}
	if (chain == NULL || chain->n == 0) {
		out->result = MXTLS_RESULT_VALIDATION_FAILURE;
		out->reason = "no certificate presented";
		return;
	}
	/* DANE-EE first: cheapest, and a pass needs nothing else (RFC 7672 §3.1.1), not even an
	 * X.509 parse of the leaf: the match is on its DER. */
	for (size_t i = 0; i < n; i++) {
		if (set[i].usable && set[i].usage == DANE_USAGE_DANE_EE &&
		    dane_cert_matches(chain->certs[0].der, chain->certs[0].len, &set[i])) {
			out->result = MXTLS_RESULT_OK;
			out->reason = "DANE-EE: the leaf matches";
			out->matched = (int)i;
			out->depth = 1;
			return;
		}
	}
	struct ta_failure fail = {MXTLS_RESULT_TLSA_INVALID, NULL};
	bool any_match = false;
	for (size_t i = 0; i < n; i++) {
		if (!set[i].usable || set[i].usage != DANE_USAGE_DANE_TA)
			continue;
		size_t depth = 0;
		if (try_ta(chain, &set[i], names, nnames, now, &depth, &any_match, &fail)) {
			out->result = MXTLS_RESULT_OK;
			out->reason = "DANE-TA: the chain leads to a matching trust anchor";
			out->matched = (int)i;
			out->depth = depth;
			return;
		}
	}
	if (any_match && fail.reason != NULL) {
		out->result = fail.result;
		out->reason = fail.reason;
		return;
	}
	out->result = MXTLS_RESULT_TLSA_INVALID;
	out->reason = "no TLSA record matches the presented certificates";
}
