/* SPDX-License-Identifier: MIT */
/* mxtls_tlsrpt_*: the public TLS-RPT API, joining the context (state directory, clock,
 * settings) to tlsrpt/ (store and report builder) and writing the report files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mxtls/error.h>
#include <mxtls/tlsrpt.h>

#include "delivery/delivery_tlsrpt.h"
#include "tlsrpt/tlsrpt_batch.h"
#include "tlsrpt/tlsrpt_report.h"
#include "tlsrpt/tlsrpt_store.h"
#include "util/util_dnsname.h"
#include "util/util_errmsg.h"
#include "validator/mxtls_ctx.h"

/*
 * What the context keeps for TLS-RPT (ctx->tlsrpt): the store, and the delivery agent's
 * results counted in memory (tlsrpt_batch.c: one commit per session cost 11 % of a
 * one-message session's CPU), written at most RECORD_FLUSH_SECONDS after the first of them,
 * before anything reads the store in this process, and when the context is freed.  A crash
 * loses what is not written yet: counters, never mail.
 */
#define RECORD_FLUSH_SECONDS 1.0
#define RECORD_FLUSH_SESSIONS 10000

struct rpt_state {
	struct tlsrpt_store *st;
	struct tlsrpt_batch *batch;
	struct timespec since; /* when the batch got its first result (CLOCK_MONOTONIC) */
	const struct util_log *log; /* the context's, which outlives this */
};

static double seconds_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* Writes the counted results; a failure is logged and the counts kept for the next try. */
static int flush(struct mxtls_ctx *ctx, struct rpt_state *rs, char *err, size_t errlen)
{
	if (rs->batch == NULL || tlsrpt_batch_pending(rs->batch) == 0)
		return MXTLS_OK;
	char e[256] = "";
	int rc = tlsrpt_batch_flush(rs->batch, rs->st, e, sizeof e);
	if (rc != MXTLS_OK) {
		/* The counts stay; the next try comes a second later, not with every session
		 * (a full disk must not cost each delivery a failing transaction). */
		clock_gettime(CLOCK_MONOTONIC, &rs->since);
		util_log_kv(&ctx->log, MXTLS_LOG_WARNING, 0, "tlsrpt-record-failed", "why",
			    e[0] != '\0' ? e : mxtls_strerror(rc), NULL);
		if (err != NULL)
			util_errmsg(err, errlen, "%s", e);
	}
	return rc;
}

static void close_store(void *p)
{
	struct rpt_state *rs = p;
	if (rs->batch != NULL && tlsrpt_batch_pending(rs->batch) > 0) {
		char e[256] = "";
		if (tlsrpt_batch_flush(rs->batch, rs->st, e, sizeof e) != MXTLS_OK)
			util_log_kv(rs->log, MXTLS_LOG_WARNING, 0, "tlsrpt-record-failed", "why", e,
				    "lost", "yes", NULL);
	}
	tlsrpt_batch_free(rs->batch);
	tlsrpt_store_close(rs->st);
	free(rs);
}

/* The context's TLS-RPT state with its store, opened (create: created, with the state
 * directory) on first use and kept open.  MXTLS_E_NOTFOUND: no store yet. */
static int state_of(struct mxtls_ctx *ctx, bool create, struct rpt_state **out, char *err,
		    size_t errlen)
{
	if (ctx->tlsrpt != NULL) {
		*out = ctx->tlsrpt;
		return MXTLS_OK;
	}
	if (ctx->state_dir == NULL) {
		if (!create)
			return MXTLS_E_NOTFOUND;
		util_errmsg(err, errlen, "no state-dir: TLS-RPT results cannot be kept");
		return MXTLS_E_CONFIG;
	}
	if (create && mkdir(ctx->state_dir, 0700) != 0 && errno != EEXIST) {
		util_errmsg(err, errlen, "state-dir %s: %s", ctx->state_dir, strerror(errno));
		return MXTLS_E_IO;
	}
	char path[4096];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", ctx->state_dir, TLSRPT_STORE_FILE) >=
	    sizeof path) {
		util_errmsg(err, errlen, "state-dir: path too long");
		return MXTLS_E_CONFIG;
	}
	struct rpt_state *rs = calloc(1, sizeof *rs);
	if (rs == NULL)
		return MXTLS_E_NOMEM;
	int rc = tlsrpt_store_open(path, create, &rs->st, err, errlen);
	if (rc != MXTLS_OK) {
		free(rs);
		return rc;
	}
	rs->log = &ctx->log;
	ctx->tlsrpt = rs;
	ctx->tlsrpt_close = close_store;
	*out = rs;
	return MXTLS_OK;
}

/* The store, for those who read or write it directly: the counted results are written
 * first, so that they see them. */
static int store_of(struct mxtls_ctx *ctx, bool create, struct tlsrpt_store **out, char *err,
		    size_t errlen)
{
	struct rpt_state *rs;
	int rc = state_of(ctx, create, &rs, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	flush(ctx, rs, NULL, 0);
	*out = rs->st;
	return MXTLS_OK;
}

/* The UTC day of ctx's clock. */
static int64_t today(const struct mxtls_ctx *ctx)
{
	int64_t now = mxtls_ctx_now(ctx);
	return now >= 0 ? now / TLSRPT_DAY_SECONDS : -1;
}

static int record(struct mxtls_ctx *ctx, int64_t day, const struct tlsrpt_result *r, char *err,
		  size_t errlen)
{
	struct tlsrpt_store *st;
	int rc = store_of(ctx, true, &st, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	return tlsrpt_store_record(st, day, r, err, errlen);
}

int delivery_tlsrpt_record(struct mxtls_ctx *ctx, const struct tlsrpt_result *r, char *err,
			   size_t errlen)
{
	int64_t day = today(ctx);
	return day < 0 ? MXTLS_E_INVAL : record(ctx, day, r, err, errlen);
}

void mxtls_tlsrpt_session_init(struct mxtls_tlsrpt_session *s)
{
	memset(s, 0, sizeof *s);
	s->policy_type = MXTLS_TLSRPT_NO_POLICY;
	s->result = MXTLS_RESULT_OK;
}

int mxtls_tlsrpt_record(struct mxtls_ctx *ctx, const struct mxtls_tlsrpt_session *s, char *err,
			size_t errlen)
{
	if (ctx == NULL || s == NULL || s->policy_domain == NULL)
		return MXTLS_E_INVAL;
	/* The public enum and tlsrpt/'s have the same values (RFC 8460 §4.4 policy-type). */
	enum tlsrpt_policy_type type;
	switch (s->policy_type) {
	case MXTLS_TLSRPT_TLSA:
		type = TLSRPT_POLICY_TLSA;
		break;
	case MXTLS_TLSRPT_STS:
		type = TLSRPT_POLICY_STS;
		break;
	case MXTLS_TLSRPT_NO_POLICY:
		type = TLSRPT_POLICY_NONE;
		break;
	default:
		return MXTLS_E_INVAL;
	}
	const char *result = mxtls_result_name(s->result);
	if (strcmp(result, "unknown") == 0)
		return MXTLS_E_INVAL;
	int64_t day = today(ctx);
	if (day < 0)
		return MXTLS_E_INVAL;
	struct tlsrpt_failure f = {
		.result_type = result,
		.sending_mta_ip = s->sending_mta_ip,
		.receiving_mx_hostname = s->receiving_mx_hostname,
		.receiving_mx_helo = s->receiving_mx_helo,
		.receiving_ip = s->receiving_ip,
		.additional_information = s->additional_information,
		.failure_reason_code = s->failure_reason_code,
	};
	struct tlsrpt_result r = {
		.type = type,
		.domain = s->policy_domain,
		.strings = s->policy_strings,
		.nstrings = s->npolicy_strings,
		.mx = s->mx_hosts,
		.nmx = s->nmx_hosts,
		.failure = s->result == MXTLS_RESULT_OK ? NULL : &f,
	};
	return record(ctx, day, &r, err, errlen);
}

void delivery_tlsrpt_recorder(void *arg, const struct tlsrpt_result *r)
{
	struct mxtls_ctx *ctx = arg;
	char err[256] = "";
	int64_t day = today(ctx);
	struct rpt_state *rs = NULL;
	int rc = day < 0 ? MXTLS_E_INVAL : state_of(ctx, true, &rs, err, sizeof err);
	if (rc == MXTLS_OK && rs->batch == NULL)
		rc = tlsrpt_batch_new(&rs->batch);
	if (rc == MXTLS_OK) {
		if (tlsrpt_batch_pending(rs->batch) == 0)
			clock_gettime(CLOCK_MONOTONIC, &rs->since);
		rc = tlsrpt_batch_add(rs->batch, day, r);
		if (rc == MXTLS_E_LIMIT && flush(ctx, rs, NULL, 0) == MXTLS_OK)
			rc = tlsrpt_batch_add(rs->batch, day, r); /* the distinct results were full */
	}
	if (rc != MXTLS_OK) {
		util_log_kv(&ctx->log, MXTLS_LOG_WARNING, 0, "tlsrpt-record-failed", "domain",
			    r->domain, "why", err[0] != '\0' ? err : mxtls_strerror(rc), NULL);
		return;
	}
	if (tlsrpt_batch_pending(rs->batch) >= RECORD_FLUSH_SESSIONS ||
	    seconds_since(&rs->since) >= RECORD_FLUSH_SECONDS)
		flush(ctx, rs, NULL, 0);
}

void delivery_tlsrpt_flush(struct mxtls_ctx *ctx)
{
	if (ctx->tlsrpt != NULL)
		flush(ctx, ctx->tlsrpt, NULL, 0);
}

void mxtls_tlsrpt_paths_free(char **paths, size_t npaths)
{
	tlsrpt_strings_free(paths, npaths);
}

/* Writes (data, len) to dir/name through a temporary file and rename(): a reader sees the
 * whole report or none. */
int delivery_tlsrpt_write_file(const char *dir, const char *name, const void *data, size_t len,
			       char **path_out, char *err, size_t errlen)
{
	char path[4096], tmp[4200];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
		util_errmsg(err, errlen, "%s: path too long", dir);
		return MXTLS_E_IO;
	}
	snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		util_errmsg(err, errlen, "%s: %s", tmp, strerror(errno));
		return MXTLS_E_IO;
	}
	const char *p = data;
	size_t left = len;
	while (left > 0) {
		ssize_t w = write(fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			util_errmsg(err, errlen, "%s: %s", tmp, w < 0 ? strerror(errno) : "short write");
			close(fd);
			unlink(tmp);
			return MXTLS_E_IO;
		}
		p += w;
		left -= (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		util_errmsg(err, errlen, "%s: %s", tmp, strerror(errno));
		unlink(tmp);
		return MXTLS_E_IO;
	}
	if (rename(tmp, path) != 0) {
		util_errmsg(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return MXTLS_E_IO;
	}
	if (path_out == NULL)
		return MXTLS_OK;
	*path_out = strdup(path);
	return *path_out != NULL ? MXTLS_OK : MXTLS_E_NOMEM;
}

void delivery_tlsrpt_built_clear(struct delivery_tlsrpt_built *b)
{
	free(b->json);
	free(b->gz);
	memset(b, 0, sizeof *b);
}

int delivery_tlsrpt_build_day(struct mxtls_ctx *ctx, const struct tlsrpt_day *d, int64_t day,
			      const char *domain, const char *submitter,
			      struct delivery_tlsrpt_built *b, char *err, size_t errlen)
{
	memset(b, 0, sizeof *b);
	if (d->npolicies == 0)
		return MXTLS_OK; /* b->json NULL: nothing to report */
	for (size_t i = 0; i < d->npolicies; i++)
		b->failures += d->policies[i].failures;
	struct tlsrpt_report_in in = {
		.organization = ctx->tlsrpt_organization,
		.contact = ctx->tlsrpt_contact,
		.submitter = submitter,
		.day = day,
		.policies = d->policies,
		.npolicies = d->npolicies,
	};
	int rc = tlsrpt_report_json(&in, &b->json, &b->jlen);
	if (rc == MXTLS_OK)
		rc = tlsrpt_report_gzip(b->json, b->jlen, &b->gz, &b->gzlen);
	if (rc == MXTLS_OK)
		rc = tlsrpt_report_filename(submitter, domain, day, b->name, sizeof b->name);
	if (rc == MXTLS_OK)
		rc = tlsrpt_report_id_of(b->json, b->jlen, b->report_id, sizeof b->report_id);
	if (rc != MXTLS_OK) {
		util_errmsg(err, errlen, "report for %s: %s", domain, mxtls_strerror(rc));
		delivery_tlsrpt_built_clear(b);
	}
	return rc;
}

int delivery_tlsrpt_build(struct mxtls_ctx *ctx, struct tlsrpt_store *st, int64_t day,
			  const char *domain, const char *submitter,
			  struct delivery_tlsrpt_built *b, char *err, size_t errlen)
{
	memset(b, 0, sizeof *b);
	struct tlsrpt_day *d = NULL;
	int rc = tlsrpt_store_load(st, day, domain, &d, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	rc = delivery_tlsrpt_build_day(ctx, d, day, domain, submitter, b, err, errlen);
	tlsrpt_day_free(d);
	return rc;
}

/* One domain's report: built, compressed, written; its path appended to paths. */
static int report_one(struct mxtls_ctx *ctx, struct tlsrpt_store *st, int64_t day,
		      const char *domain, const char *submitter, const char *dir, char **path,
		      char *err, size_t errlen)
{
	struct delivery_tlsrpt_built b;
	int rc = delivery_tlsrpt_build(ctx, st, day, domain, submitter, &b, err, errlen);
	if (rc != MXTLS_OK || b.json == NULL)
		return rc; /* an error, or nothing to report (*path untouched) */
	/* The directory only when there is something to put in it. */
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		util_errmsg(err, errlen, "%s: %s", dir, strerror(errno));
		rc = MXTLS_E_IO;
	} else {
		rc = delivery_tlsrpt_write_file(dir, b.name, b.gz, b.gzlen, path, err, errlen);
	}
	delivery_tlsrpt_built_clear(&b);
	return rc;
}

int delivery_tlsrpt_settings(struct mxtls_ctx *ctx, char submitter[256], char *err,
			     size_t errlen)
{
	if (ctx->tlsrpt_organization == NULL || ctx->tlsrpt_contact == NULL) {
		util_errmsg(err, errlen,
		    "%s is not set: a report needs tlsrpt-organization and "
		    "tlsrpt-contact",
		    ctx->tlsrpt_organization == NULL ? "tlsrpt-organization" : "tlsrpt-contact");
		return MXTLS_E_CONFIG;
	}
	/* RFC 8460 §5.1: the sender in the file name is the domain of contact-info, unless
	 * tlsrpt-submitter names the reporting domain. */
	const char *sub = ctx->tlsrpt_submitter != NULL ? ctx->tlsrpt_submitter
							: strrchr(ctx->tlsrpt_contact, '@') + 1;
	if (!util_dnsname_canon(sub, strlen(sub), submitter, 256)) {
		util_errmsg(err, errlen, "tlsrpt-submitter '%s' is not a domain name", sub);
		return MXTLS_E_CONFIG;
	}
	return MXTLS_OK;
}

int delivery_tlsrpt_store(struct mxtls_ctx *ctx, bool create, struct tlsrpt_store **out,
			  char *err, size_t errlen)
{
	return store_of(ctx, create, out, err, errlen);
}

int mxtls_tlsrpt_report(struct mxtls_ctx *ctx, const char *day, const char *domain, const char *dir,
			char ***paths, size_t *npaths, char *err, size_t errlen)
{
	if (ctx == NULL || day == NULL || dir == NULL || paths == NULL || npaths == NULL)
		return MXTLS_E_INVAL;
	int64_t dn;
	if (tlsrpt_day_parse(day, &dn) != MXTLS_OK) {
		util_errmsg(err, errlen, "'%s' is not a day YYYY-MM-DD", day);
		return MXTLS_E_INVAL;
	}
	char only[256];
	if (domain != NULL && !util_dnsname_canon(domain, strlen(domain), only, sizeof only)) {
		util_errmsg(err, errlen, "'%s' is not a domain name", domain);
		return MXTLS_E_INVAL;
	}
	char submitter[256];
	int rc = delivery_tlsrpt_settings(ctx, submitter, err, errlen);
	if (rc != MXTLS_OK)
		return rc;
	struct tlsrpt_store *st;
	rc = store_of(ctx, false, &st, err, errlen);
	if (rc == MXTLS_E_NOTFOUND) {
		*paths = NULL;
		*npaths = 0;
		return MXTLS_OK; /* nothing was ever recorded */
	}
	if (rc != MXTLS_OK)
		return rc;
	char **domains = NULL;
	size_t ndomains = 0;
	if (domain != NULL) {
		domains = malloc(sizeof *domains);
		if (domains == NULL || (domains[0] = strdup(only)) == NULL) {
			free(domains);
			return MXTLS_E_NOMEM;
		}
		ndomains = 1;
	} else if ((rc = tlsrpt_store_domains(st, dn, &domains, &ndomains, err, errlen)) !=
		   MXTLS_OK) {
		return rc;
	}
	char **out = ndomains > 0 ? calloc(ndomains, sizeof *out) : NULL;
	size_t n = 0;
	if (ndomains > 0 && out == NULL)
		rc = MXTLS_E_NOMEM;
	for (size_t i = 0; i < ndomains && rc == MXTLS_OK; i++) {
		char *path = NULL;
		rc = report_one(ctx, st, dn, domains[i], submitter, dir, &path, err, errlen);
		if (path != NULL)
			out[n++] = path;
	}
	tlsrpt_strings_free(domains, ndomains);
	if (rc != MXTLS_OK) {
		tlsrpt_strings_free(out, n);
		return rc;
	}
	if (n == 0) {
		free(out);
		out = NULL;
	}
	*paths = out;
	*npaths = n;
	return MXTLS_OK;
}

int mxtls_tlsrpt_prune(struct mxtls_ctx *ctx, unsigned keep_days, char *err, size_t errlen)
{
	if (ctx == NULL || keep_days == 0)
		return MXTLS_E_INVAL;
	struct tlsrpt_store *st;
	int rc = store_of(ctx, false, &st, err, errlen);
	if (rc == MXTLS_E_NOTFOUND)
		return MXTLS_OK;
	if (rc != MXTLS_OK)
		return rc;
	return tlsrpt_store_prune(st, today(ctx) - (int64_t)keep_days + 1, NULL, err, errlen);
}
