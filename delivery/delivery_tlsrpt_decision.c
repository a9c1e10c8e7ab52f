/* SPDX-License-Identifier: MIT */
/* mxtls_tlsrpt_record_decision() and mxtls_tlsrpt_record_skipped(): an embedding MTA's own
 * sessions recorded for RFC 8460 reports, the policy derived from the decision exactly as the
 * library's delivery derives it (deliver_tlsrpt_emit()). */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include <mxtls/error.h>
#include <mxtls/tlsrpt.h>

#include "delivery/delivery_tlsrpt.h"
#include "delivery/delivery_tlsrpt_result.h"
#include "validator/mxtls_decision_view.h"

struct sink {
	struct mxtls_ctx *ctx;
	int rc;
	char *err;
	size_t errlen;
};

static void to_store(void *arg, const struct tlsrpt_result *r)
{
	struct sink *s = arg;
	s->rc = delivery_tlsrpt_record(s->ctx, r, s->err, s->errlen);
}

/* Hands facts (d and sts filled in here) to the store through deliver_tlsrpt_emit(). */
static int emit(struct mxtls_ctx *ctx, const struct mxtls_decision *md,
		struct deliver_tlsrpt_facts *f, char *err, size_t errlen)
{
	f->d = mxtls_decision_inner(md);
	f->sts = mxtls_decision_sts_result(md);
	struct sink s = {.ctx = ctx, .rc = MXTLS_E_NOMEM, .err = err, .errlen = errlen};
	if (!deliver_tlsrpt_emit(f, to_store, &s))
		return MXTLS_E_NOMEM;
	return s.rc;
}

/* Text that is "" counts as unknown, as NULL does. */
static const char *known(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

int mxtls_tlsrpt_record_decision(struct mxtls_ctx *ctx, const struct mxtls_decision *md,
				 size_t host, enum mxtls_result reported, const char *sending_ip,
				 const char *receiving_ip, const char *receiving_helo,
				 const char *reason, char *err, size_t errlen)
{
	const struct decision *d = mxtls_decision_inner(md);
	if (ctx == NULL || d == NULL || host >= d->nhosts ||
	    strcmp(mxtls_result_name(reported), "unknown") == 0)
		return MXTLS_E_INVAL;
	const struct decision_host *h = &d->hosts[host];
	if (h->security == SEC_EXCLUDED || h->security == SEC_UNREACHABLE)
		return MXTLS_E_INVAL; /* never contacted: mxtls_tlsrpt_record_skipped() */
	/* RFC 8460 §4.4: receiving-ip as the report writes it, from the text given. */
	struct host_addr a = {0};
	const struct host_addr *ap = NULL;
	if (known(receiving_ip) != NULL) {
		if (inet_pton(AF_INET, receiving_ip, a.addr) == 1)
			a.family = AF_INET;
		else if (inet_pton(AF_INET6, receiving_ip, a.addr) == 1)
			a.family = AF_INET6;
		else
			return MXTLS_E_INVAL;
		ap = &a;
	}
	struct deliver_tlsrpt_facts f = {
		.h = h,
		.addr = ap,
		.result = reported,
		.reason_code = reported != MXTLS_RESULT_OK ? known(reason) : NULL,
		.local_ip = known(sending_ip),
		.helo = known(receiving_helo),
	};
	return emit(ctx, md, &f, err, errlen);
}

int mxtls_tlsrpt_record_skipped(struct mxtls_ctx *ctx, const struct mxtls_decision *md,
				size_t host, char *err, size_t errlen)
{
	const struct decision *d = mxtls_decision_inner(md);
	if (ctx == NULL || d == NULL || (host >= d->nhosts && host != MXTLS_TLSRPT_DISCOVERY))
		return MXTLS_E_INVAL;
	struct deliver_tlsrpt_facts f = {0};
	const char *code;
	if (host == MXTLS_TLSRPT_DISCOVERY) {
		if (!deliver_tlsrpt_discovery_failed(mxtls_decision_sts_result(md), &f.result,
						     &code))
			return MXTLS_E_NOTFOUND;
	} else {
		f.h = &d->hosts[host];
		if (!deliver_tlsrpt_skip(f.h, &f.result, &code))
			return MXTLS_E_NOTFOUND;
	}
	f.reason_code = known(code);
	return emit(ctx, md, &f, err, errlen);
}
