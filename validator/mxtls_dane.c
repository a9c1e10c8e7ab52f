/* SPDX-License-Identifier: MIT */
/* The public offline DANE API: mxtls_dane_verify_pem() and mxtls_dane_tlsa_from_pem(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/dane.h>
#include <mxtls/error.h>
#include <mxtls/mxtls.h>

#include "dane/dane_cert.h"
#include "dane/dane_tlsa.h"
#include "dane/dane_verify.h"
#include "util/util_dnsname.h"
#include "util/util_log.h"
#include "validator/mxtls_ctx.h"

/* The most records accepted in one RRset (a DNS message could not carry many more). */
#define DANE_RRSET_MAX 256

struct mxtls_dane_check {
	struct dane_verdict verdict;
	struct dane_tlsa *records; /* owned, n of them */
	size_t n;
};

void mxtls_dane_check_free(struct mxtls_dane_check *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		dane_tlsa_clear(&c->records[i]);
	free(c->records);
	free(c);
}

int mxtls_dane_verify_pem(struct mxtls_ctx *ctx, const char *pem, size_t len, const char *host,
			  const char *nexthop, const char *const *tlsa, size_t ntlsa, int64_t at,
			  struct mxtls_dane_check **out)
{
	if (ctx == NULL || pem == NULL || host == NULL || (tlsa == NULL && ntlsa > 0) || out == NULL)
		return MXTLS_E_INVAL;
	if (ntlsa > DANE_RRSET_MAX)
		return MXTLS_E_LIMIT;
	struct dane_chain chain;
	int rc = dane_chain_from_pem(pem, len, &chain);
	if (rc != MXTLS_OK)
		return rc;
	struct mxtls_dane_check *c = calloc(1, sizeof *c);
	if (c == NULL || (ntlsa > 0 && (c->records = calloc(ntlsa, sizeof *c->records)) == NULL)) {
		free(c);
		dane_chain_clear(&chain);
		return MXTLS_E_NOMEM;
	}
	for (size_t i = 0; i < ntlsa && rc == MXTLS_OK; i++) {
		rc = dane_tlsa_from_text(tlsa[i], strlen(tlsa[i]), &c->records[i]);
		if (rc == MXTLS_OK)
			c->n++;
	}
	if (rc != MXTLS_OK) {
		mxtls_dane_check_free(c);
		dane_chain_clear(&chain);
		return rc;
	}
	dane_tlsa_select(c->records, c->n);
	/* RFC 7672 §3.2.2: the TLSA base domain, plus the next-hop domain when given. */
	const char *names[2] = {host, nexthop};
	dane_verify(&chain, c->records, c->n, names, nexthop != NULL ? 2 : 1, at, &c->verdict);
	dane_chain_clear(&chain);

	uint64_t id = mxtls_ctx_decision_id(ctx);
	char usable[24];
	snprintf(usable, sizeof usable, "%zu", c->verdict.usable);
	util_log_kv(&ctx->log, MXTLS_LOG_INFO, id, "dane-verify", "host", host, "result",
		    mxtls_result_name(c->verdict.result), "usable", usable, "matched",
		    c->verdict.matched >= 0 ? c->records[c->verdict.matched].text : NULL, "reason",
		    c->verdict.reason, NULL);
	*out = c;
	return MXTLS_OK;
}

enum mxtls_result mxtls_dane_check_result(const struct mxtls_dane_check *c)
{
	return c->verdict.result;
}

const char *mxtls_dane_check_reason(const struct mxtls_dane_check *c)
{
	return c->verdict.reason;
}

int mxtls_dane_check_matched(const struct mxtls_dane_check *c)
{
	return c->verdict.matched;
}

size_t mxtls_dane_check_records(const struct mxtls_dane_check *c)
{
	return c->n;
}

size_t mxtls_dane_check_usable(const struct mxtls_dane_check *c)
{
	return c->verdict.usable;
}

const char *mxtls_dane_check_record_text(const struct mxtls_dane_check *c, size_t i)
{
	return i < c->n ? c->records[i].text : NULL;
}

const char *mxtls_dane_check_record_problem(const struct mxtls_dane_check *c, size_t i)
{
	return i < c->n && !c->records[i].usable ? c->records[i].reason : NULL;
}

int mxtls_dane_tlsa_from_pem(const char *pem, size_t len, int usage, int selector, int mtype,
			     char **out)
{
	if (pem == NULL || out == NULL || usage < 0 || usage > 3 || selector < 0 || selector > 1 ||
	    mtype < 0 || mtype > 2)
		return MXTLS_E_INVAL;
	struct dane_chain chain;
	int rc = dane_chain_from_pem(pem, len, &chain);
	if (rc != MXTLS_OK)
		return rc == MXTLS_E_LIMIT ? MXTLS_E_SYNTAX : rc;
	uint8_t *data = NULL;
	size_t n = 0;
	/* The first certificate must parse as X.509, although the record is computed from its
	 * DER: a record is not published for a certificate that is not one. */
	if (dane_chain_cert(&chain, 0) == NULL)
		rc = MXTLS_E_SYNTAX;
	else
		rc = dane_cert_association(chain.certs[0].der, chain.certs[0].len, (uint8_t)selector,
					   (uint8_t)mtype, &data, &n);
	dane_chain_clear(&chain);
	if (rc != MXTLS_OK)
		return rc;
	/* The record's canonical text is what dane_tlsa produces for the same rdata. */
	uint8_t *rdata = malloc(3 + n);
	if (rdata == NULL) {
		free(data);
		return MXTLS_E_NOMEM;
	}
	rdata[0] = (uint8_t)usage;
	rdata[1] = (uint8_t)selector;
	rdata[2] = (uint8_t)mtype;
	memcpy(rdata + 3, data, n);
	free(data);
	struct dane_tlsa t;
	rc = dane_tlsa_from_rdata(rdata, 3 + n, &t);
	free(rdata);
	if (rc != MXTLS_OK)
		return rc;
	*out = t.text; /* handed over: mxtls_free() is free() */
	t.text = NULL;
	dane_tlsa_clear(&t);
	return rc;
}
