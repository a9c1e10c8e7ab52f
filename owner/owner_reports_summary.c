/* SPDX-License-Identifier: MIT */
/* The summary of received TLS reports for a domain (include/mxtls/reports.h): the last N UTC
 * days and, for "what changed", the N days before them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mxtls/error.h>
#include <mxtls/reports.h>

#include "owner/owner_reports.h"
#include "tlsrpt/tlsrpt_inbox.h"
#include "util/util_dnsname.h"
#include "validator/mxtls_ctx.h"

#define SUMMARY_DAY 86400

struct mxtls_report_summary {
	char domain[256];
	struct tlsrpt_inbox_summary now, before;
	char (*day)[11]; /* "YYYY-MM-DD" per now.days[] */
};

int mxtls_reports_summary(struct mxtls_reports *r, const char *domain, unsigned days,
			  struct mxtls_report_summary **out, char *err, size_t errlen)
{
	if (r == NULL || domain == NULL || out == NULL || days == 0 || days > 3660)
		return MXTLS_E_INVAL;
	struct mxtls_report_summary *s = calloc(1, sizeof *s);
	if (s == NULL)
		return MXTLS_E_NOMEM;
	if (!util_dnsname_canon(domain, strlen(domain), s->domain, sizeof s->domain)) {
		snprintf(err, errlen, "not a domain name: %s", domain);
		free(s);
		return MXTLS_E_INVAL;
	}
	int64_t now = mxtls_ctx_now(r->ctx);
	int64_t today = now - ((now % SUMMARY_DAY) + SUMMARY_DAY) % SUMMARY_DAY;
	int64_t from = today - (int64_t)(days - 1) * SUMMARY_DAY;
	int64_t to = today + SUMMARY_DAY;
	int rc = tlsrpt_inbox_summary(r->inbox, s->domain, from, to, &s->now, err, errlen);
	if (rc == MXTLS_OK)
		rc = tlsrpt_inbox_summary(r->inbox, s->domain, from - (int64_t)days * SUMMARY_DAY,
					  from, &s->before, err, errlen);
	if (rc == MXTLS_OK && (s->day = calloc(s->now.ndays + 1, sizeof *s->day)) == NULL)
		rc = MXTLS_E_NOMEM;
	for (size_t i = 0; rc == MXTLS_OK && i < s->now.ndays; i++) {
		time_t t = (time_t)s->now.days[i].day;
		struct tm tm;
		if (gmtime_r(&t, &tm) == NULL ||
		    strftime(s->day[i], sizeof s->day[i], "%Y-%m-%d", &tm) == 0)
			snprintf(s->day[i], sizeof s->day[i], "?");
	}
	if (rc != MXTLS_OK) {
		mxtls_report_summary_free(s);
		return rc;
	}
	*out = s;
	return MXTLS_OK;
}

void mxtls_report_summary_free(struct mxtls_report_summary *s)
{
	if (s == NULL)
		return;
	tlsrpt_inbox_summary_clear(&s->now);
	tlsrpt_inbox_summary_clear(&s->before);
	free(s->day);
	free(s);
}

const char *mxtls_report_summary_domain(const struct mxtls_report_summary *s)
{
	return s != NULL ? s->domain : NULL;
}

uint64_t mxtls_report_summary_reports(const struct mxtls_report_summary *s)
{
	return s != NULL ? s->now.reports : 0;
}

uint64_t mxtls_report_summary_sessions(const struct mxtls_report_summary *s)
{
	return s != NULL ? s->now.sessions : 0;
}

uint64_t mxtls_report_summary_failures(const struct mxtls_report_summary *s)
{
	return s != NULL ? s->now.failures : 0;
}

uint64_t mxtls_report_summary_previous_sessions(const struct mxtls_report_summary *s)
{
	return s != NULL ? s->before.sessions : 0;
}

uint64_t mxtls_report_summary_previous_failures(const struct mxtls_report_summary *s)
{
	return s != NULL ? s->before.failures : 0;
}

static const struct tlsrpt_inbox_day *day(const struct mxtls_report_summary *s, size_t i)
{
	return s != NULL && i < s->now.ndays ? &s->now.days[i] : NULL;
}

size_t mxtls_report_summary_day_count(const struct mxtls_report_summary *s)
{
	return s != NULL ? s->now.ndays : 0;
}

const char *mxtls_report_summary_day(const struct mxtls_report_summary *s, size_t i)
{
	return day(s, i) != NULL ? s->day[i] : NULL;
}

uint64_t mxtls_report_summary_day_sessions(const struct mxtls_report_summary *s, size_t i)
{
	return day(s, i) != NULL ? day(s, i)->sessions : 0;
}

uint64_t mxtls_report_summary_day_failures(const struct mxtls_report_summary *s, size_t i)
{
	return day(s, i) != NULL ? day(s, i)->failures : 0;
}

size_t mxtls_report_summary_day_org_count(const struct mxtls_report_summary *s, size_t i)
{
	return day(s, i) != NULL ? day(s, i)->norgs : 0;
}

const char *mxtls_report_summary_day_org(const struct mxtls_report_summary *s, size_t i, size_t k)
{
	return day(s, i) != NULL && k < day(s, i)->norgs ? day(s, i)->orgs[k] : NULL;
}

size_t mxtls_report_summary_day_result_count(const struct mxtls_report_summary *s, size_t i)
{
	return day(s, i) != NULL ? day(s, i)->nby_result : 0;
}

static const char *count_at(const struct tlsrpt_inbox_count *v, size_t n, size_t k, uint64_t *out)
{
	if (k >= n) {
		if (out != NULL)
			*out = 0;
		return NULL;
	}
	if (out != NULL)
		*out = v[k].n;
	return v[k].name;
}

const char *mxtls_report_summary_day_result(const struct mxtls_report_summary *s, size_t i,
					    size_t k, uint64_t *n)
{
	const struct tlsrpt_inbox_day *d = day(s, i);
	return count_at(d != NULL ? d->by_result : NULL, d != NULL ? d->nby_result : 0, k, n);
}

static const struct tlsrpt_inbox_mx *mx(const struct mxtls_report_summary *s, size_t i)
{
	return s != NULL && i < s->now.nmx ? &s->now.mx[i] : NULL;
}

size_t mxtls_report_summary_mx_count(const struct mxtls_report_summary *s)
{
	return s != NULL ? s->now.nmx : 0;
}

const char *mxtls_report_summary_mx(const struct mxtls_report_summary *s, size_t i)
{
	return mx(s, i) != NULL ? mx(s, i)->mx : NULL;
}

uint64_t mxtls_report_summary_mx_failures(const struct mxtls_report_summary *s, size_t i)
{
	return mx(s, i) != NULL ? mx(s, i)->failures : 0;
}

size_t mxtls_report_summary_mx_result_count(const struct mxtls_report_summary *s, size_t i)
{
	return mx(s, i) != NULL ? mx(s, i)->nby_result : 0;
}

const char *mxtls_report_summary_mx_result(const struct mxtls_report_summary *s, size_t i, size_t k,
					   uint64_t *n)
{
	const struct tlsrpt_inbox_mx *m = mx(s, i);
	return count_at(m != NULL ? m->by_result : NULL, m != NULL ? m->nby_result : 0, k, n);
}

size_t mxtls_report_summary_mx_ip_count(const struct mxtls_report_summary *s, size_t i)
{
	return mx(s, i) != NULL ? mx(s, i)->nsending_ips : 0;
}

const char *mxtls_report_summary_mx_ip(const struct mxtls_report_summary *s, size_t i, size_t k)
{
	return mx(s, i) != NULL && k < mx(s, i)->nsending_ips ? mx(s, i)->sending_ips[k] : NULL;
}

size_t mxtls_report_summary_org_count(const struct mxtls_report_summary *s)
{
	return s != NULL ? s->now.norgs : 0;
}

const char *mxtls_report_summary_org(const struct mxtls_report_summary *s, size_t i,
				     uint64_t *reports)
{
	return count_at(s != NULL ? s->now.orgs : NULL, s != NULL ? s->now.norgs : 0, i, reports);
}
