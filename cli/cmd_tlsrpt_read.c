/* SPDX-License-Identifier: MIT */
/* The reading side of TLS reporting (RFC 8460), for the domain owner:
 *   mxtls tlsrpt ingest [--accept-unsigned] PATH ...   reports into STATE_DIR/reports.sqlite
 *   mxtls tlsrpt summary DOMAIN [--days N]             what senders reported
 *   mxtls tlsrpt ready DOMAIN                          may the policy move to enforce? */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_env.h"
#include "cli_exit.h"
#include "cli_io.h"
#include "cli_json.h"
#include "cli_tlsrpt.h"

/* The largest input read: a mail report carries the gzip'd JSON in base64 (4/3 of it). */
#define INGEST_FILE_MAX (32u * 1024 * 1024)
/* The most files read from one directory (a Maildir folder): more is refused, not cut. */
#define INGEST_DIR_MAX 100000

enum { O_ACCEPT_UNSIGNED, O_DAYS, O_HTML, O_MIN_ORGS, O_MIN_DAYS, O_NO_AUDIT, O_EXPLAIN };

struct ingest_run {
	struct cli_env *env;
	struct mxtls_reports *store;
	unsigned flags;
	struct cli_json j;
	size_t stored, duplicates, refused, unreadable, retry;
	int failed; /* the store itself failed: stop */
};

static void one(struct ingest_run *run, const char *path)
{
	char *data = NULL;
	size_t len = 0;
	char err[512];
	struct mxtls_ingest_result res = {.status = MXTLS_INGEST_REFUSED};
	if (cli_read_file(path, INGEST_FILE_MAX, &data, &len, err, sizeof err) != 0) {
		run->unreadable++;
		snprintf(res.why, sizeof res.why, "%s", err);
	} else {
		int rc =
			mxtls_reports_ingest(run->store, data, len, "file", path, run->flags, &res);
		if (rc != MXTLS_OK) {
			cli_errorf(run->env, "%s: %s", path,
				   res.why[0] ? res.why : mxtls_strerror(rc));
			run->failed = 1;
			free(data);
			return;
		}
		run->stored += res.status == MXTLS_INGEST_STORED;
		run->duplicates += res.status == MXTLS_INGEST_DUPLICATE;
		run->refused += res.status == MXTLS_INGEST_REFUSED;
		run->retry += res.status == MXTLS_INGEST_RETRY;
	}
	free(data);
	static const char *const names[] = {"stored", "duplicate", "refused", "retry"};
	const char *status = names[res.status];
	if (run->env->json) {
		cli_json_object_begin(&run->j, NULL);
		cli_json_string(&run->j, "path", path);
		cli_json_string(&run->j, "status", status);
		cli_json_string(&run->j, "kind", res.kind[0] ? res.kind : NULL);
		cli_json_string(&run->j, "organization",
				res.organization[0] ? res.organization : NULL);
		cli_json_string(&run->j, "report_id", res.report_id[0] ? res.report_id : NULL);
		cli_json_string(&run->j, "dkim", res.dkim[0] ? res.dkim : NULL);
		cli_json_string(&run->j, "why", res.why[0] ? res.why : NULL);
		cli_json_object_end(&run->j);
		return;
	}
	fprintf(run->env->out, "%-9s %s", status, path);
	if (res.organization[0])
		fprintf(run->env->out, ": %s %s", res.organization, res.report_id);
	if (res.dkim[0])
		fprintf(run->env->out, " (DKIM %s)", res.dkim);
	if (res.why[0])
		fprintf(run->env->out, ": %s", res.why);
	fputc('\n', run->env->out);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files of dir, by name (a Maildir's new/ and cur/ are such directories). */
static void directory(struct ingest_run *run, const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		cli_errorf(run->env, "%s: %s", dir, strerror(errno));
		run->unreadable++;
		return;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && !run->failed) {
		if (e->d_name[0] == '.')
			continue; /* ., .., and Maildir's dot files */
		char path[4096];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (n == INGEST_DIR_MAX) {
			cli_errorf(run->env, "%s: more than %d files; none read", dir,
				   INGEST_DIR_MAX);
			run->failed = 1;
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof *nn);
			if (nn == NULL) {
				run->failed = 1;
				break;
			}
			names = nn;
		}
		if ((names[n] = strdup(path)) == NULL) {
			run->failed = 1;
			break;
		}
		n++;
	}
	closedir(d);
	if (n > 1) /* qsort() takes no NULL array, which an empty directory leaves */
		qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n; i++) {
		if (!run->failed)
			one(run, names[i]);
		free(names[i]);
	}
	free(names);
}

static void path_arg(struct ingest_run *run, const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		cli_errorf(run->env, "%s: %s", path, strerror(errno));
		run->unreadable++;
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		one(run, path);
		return;
	}
	/* A Maildir (new/, cur/, tmp/): the delivered messages; tmp/ is being written. */
	char sub[4096];
	snprintf(sub, sizeof sub, "%s/cur", path);
	struct stat sst;
	bool maildir = stat(sub, &sst) == 0 && S_ISDIR(sst.st_mode);
	snprintf(sub, sizeof sub, "%s/new", path);
	maildir = maildir && stat(sub, &sst) == 0 && S_ISDIR(sst.st_mode);
	if (!maildir) {
		directory(run, path);
		return;
	}
	directory(run, sub);
	snprintf(sub, sizeof sub, "%s/cur", path);
	directory(run, sub);
}

static int run_ingest(struct cli_env *env)
{
	if (env->npos == 0) {
		cli_errorf(
			env,
			"tlsrpt ingest takes at least one PATH (a file, a directory, a Maildir)");
		return EXIT_USAGE;
	}
	struct ingest_run run = {.env = env};
	for (size_t i = 0; i < env->ngiven; i++)
		if (env->given[i].id == O_ACCEPT_UNSIGNED)
			run.flags |= MXTLS_INGEST_ACCEPT_UNSIGNED;
	struct mxtls_ctx *ctx = NULL;
	int ex = cli_open_ctx(env, &ctx);
	char err[512] = "";
	if (ex == EXIT_OK) {
		int rc = mxtls_reports_open(ctx, 1, &run.store, err, sizeof err);
		if (rc != MXTLS_OK) {
			cli_errorf(env, "%s", err[0] ? err : mxtls_strerror(rc));
			ex = rc == MXTLS_E_CONFIG ? EXIT_CONFIG : EXIT_TEMPFAIL;
		}
	}
	if (ex == EXIT_OK) {
		if (env->json) {
			cli_json_init(&run.j, env->out);
			cli_json_object_begin(&run.j, NULL);
			cli_json_array_begin(&run.j, "items");
		}
		for (size_t i = 0; i < env->npos && !run.failed; i++)
			path_arg(&run, env->pos[i]);
		if (env->json) {
			cli_json_array_end(&run.j);
			cli_json_int(&run.j, "stored", (int64_t)run.stored);
			cli_json_int(&run.j, "duplicates", (int64_t)run.duplicates);
			cli_json_int(&run.j, "refused", (int64_t)(run.refused + run.unreadable));
			cli_json_int(&run.j, "retry", (int64_t)run.retry);
			cli_json_object_end(&run.j);
			fputc('\n', env->out);
		} else {
			fprintf(env->out, "%zu stored, %zu duplicates, %zu refused, %zu to retry\n",
				run.stored, run.duplicates, run.refused + run.unreadable,
				run.retry);
		}
		/* 75 when another try may store something (the store, a DKIM key lookup): a
		 * caller that removes refused inputs must keep those. */
		ex = run.failed || run.retry > 0        ? EXIT_TEMPFAIL
		     : run.refused + run.unreadable > 0 ? EXIT_DATAERR
							: EXIT_OK;
	}
	mxtls_reports_close(run.store);
	mxtls_ctx_free(ctx);
	return ex;
}

static const struct cli_opt ingest_options[] = {
	{"accept-unsigned", 0, CLI_FLAG, O_ACCEPT_UNSIGNED, NULL,
	 "store mail reports whose DKIM signature is missing or does not verify (files you vouch "
	 "for)"},
	{NULL, 0, 0, 0, NULL, NULL},
};

const struct cli_command cli_cmd_tlsrpt_ingest = {
	.name = "tlsrpt ingest",
	.usage = "[--accept-unsigned] PATH ...",
	.summary = "store received TLS reports (.json, .json.gz, mail, Maildir) for summary/ready",
	.details =
		"Each PATH is a file, a directory of files, or a Maildir (new/ and cur/). A file\n"
		"is a JSON report, a gzip'd one, or a mail message with the report attached\n"
		"(RFC 8460 5.3), told apart by its bytes. A mail report is stored only when a\n"
		"DKIM signature of its submitter's domain verifies (the key's s= allowing\n"
		"tlsrpt, looked up with DNSSEC validation), unless --accept-unsigned. A report\n"
		"already stored (same organisation and report-id) is not stored again.\n"
		"Reports go to STATE_DIR/reports.sqlite. One line per input; exit 0 every input\n"
		"stored or a duplicate, 65 some refused (each says why), 75 the store failed\n"
		"or a DKIM key could not be looked up now (status retry: try those again).",
	.options = ingest_options,
	.run = run_ingest,
};

/* ---- summary ------------------------------------------------------------------------------ */

static int parse_count(struct cli_env *env, const char *opt, const char *v, unsigned max,
		       unsigned *out)
{
	char *end = NULL;
	errno = 0;
	unsigned long n = strtoul(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < 1 || n > max || v[0] == '-') {
		cli_errorf(env, "--%s takes 1 to %u, not '%s'", opt, max, v);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

static int open_store(struct cli_env *env, struct mxtls_ctx **ctx, struct mxtls_reports **store)
{
	int ex = cli_open_ctx_readonly(env, ctx);
	if (ex != EXIT_OK)
		return ex;
	char err[512] = "";
	int rc = mxtls_reports_open(*ctx, 0, store, err, sizeof err);
	if (rc == MXTLS_OK)
		return EXIT_OK;
	cli_errorf(env, "%s", err[0] ? err : mxtls_strerror(rc));
	return rc == MXTLS_E_CONFIG     ? EXIT_CONFIG
	       : rc == MXTLS_E_NOTFOUND ? EXIT_TEMPFAIL
					: EXIT_TEMPFAIL;
}

static void results_json(struct cli_json *j, const struct mxtls_report_summary *s, size_t i,
			 bool mx)
{
	cli_json_object_begin(j, "by_result");
	size_t n = mx ? mxtls_report_summary_mx_result_count(s, i)
		      : mxtls_report_summary_day_result_count(s, i);
	for (size_t k = 0; k < n; k++) {
		uint64_t c = 0;
		const char *name = mx ? mxtls_report_summary_mx_result(s, i, k, &c)
				      : mxtls_report_summary_day_result(s, i, k, &c);
		cli_json_int(j, name, (int64_t)c);
	}
	cli_json_object_end(j);
}

static void summary_json(FILE *out, const struct mxtls_report_summary *s, unsigned days)
{
	struct cli_json j;
	cli_json_init(&j, out);
	cli_json_object_begin(&j, NULL);
	cli_json_string(&j, "domain", mxtls_report_summary_domain(s));
	cli_json_int(&j, "period_days", days);
	cli_json_int(&j, "reports", (int64_t)mxtls_report_summary_reports(s));
	cli_json_int(&j, "sessions", (int64_t)mxtls_report_summary_sessions(s));
	cli_json_int(&j, "failures", (int64_t)mxtls_report_summary_failures(s));
	cli_json_object_begin(&j, "previous");
	cli_json_int(&j, "sessions", (int64_t)mxtls_report_summary_previous_sessions(s));
	cli_json_int(&j, "failures", (int64_t)mxtls_report_summary_previous_failures(s));
	cli_json_object_end(&j);
	cli_json_array_begin(&j, "organizations");
	for (size_t i = 0; i < mxtls_report_summary_org_count(s); i++) {
		uint64_t n = 0;
		const char *org = mxtls_report_summary_org(s, i, &n);
		cli_json_object_begin(&j, NULL);
		cli_json_string(&j, "name", org);
		cli_json_int(&j, "reports", (int64_t)n);
		cli_json_object_end(&j);
	}
	cli_json_array_end(&j);
	cli_json_array_begin(&j, "days");
	for (size_t i = 0; i < mxtls_report_summary_day_count(s); i++) {
		cli_json_object_begin(&j, NULL);
		cli_json_string(&j, "day", mxtls_report_summary_day(s, i));
		cli_json_array_begin(&j, "organizations");
		for (size_t k = 0; k < mxtls_report_summary_day_org_count(s, i); k++)
			cli_json_string(&j, NULL, mxtls_report_summary_day_org(s, i, k));
		cli_json_array_end(&j);
		cli_json_int(&j, "sessions", (int64_t)mxtls_report_summary_day_sessions(s, i));
		cli_json_int(&j, "failures", (int64_t)mxtls_report_summary_day_failures(s, i));
		results_json(&j, s, i, false);
		cli_json_object_end(&j);
	}
	cli_json_array_end(&j);
	cli_json_array_begin(&j, "by_mx");
	for (size_t i = 0; i < mxtls_report_summary_mx_count(s); i++) {
		cli_json_object_begin(&j, NULL);
		const char *mx = mxtls_report_summary_mx(s, i);
		cli_json_string(&j, "mx", mx[0] ? mx : NULL);
		cli_json_int(&j, "failures", (int64_t)mxtls_report_summary_mx_failures(s, i));
		results_json(&j, s, i, true);
		cli_json_array_begin(&j, "sending_ips");
		for (size_t k = 0; k < mxtls_report_summary_mx_ip_count(s, i); k++)
			cli_json_string(&j, NULL, mxtls_report_summary_mx_ip(s, i, k));
		cli_json_array_end(&j);
		cli_json_object_end(&j);
	}
	cli_json_array_end(&j);
	cli_json_object_end(&j);
	fputc('\n', out);
}

static void percent(FILE *out, uint64_t part, uint64_t whole)
{
	if (whole == 0)
		fprintf(out, "-");
	else
		fprintf(out, "%.2f %%", 100.0 * (double)part / (double)whole);
}

static void summary_text(FILE *out, const struct mxtls_report_summary *s, unsigned days)
{
	fprintf(out, "TLS reports about %s, the last %u day%s\n", mxtls_report_summary_domain(s),
		days, days == 1 ? "" : "s");
	fprintf(out, "  %llu report%s from %zu organisation%s: %llu sessions, %llu failed (",
		(unsigned long long)mxtls_report_summary_reports(s),
		mxtls_report_summary_reports(s) == 1 ? "" : "s", mxtls_report_summary_org_count(s),
		mxtls_report_summary_org_count(s) == 1 ? "" : "s",
		(unsigned long long)mxtls_report_summary_sessions(s),
		(unsigned long long)mxtls_report_summary_failures(s));
	percent(out, mxtls_report_summary_failures(s), mxtls_report_summary_sessions(s));
	fprintf(out, ")\n  the %u day%s before: %llu sessions, %llu failed (", days,
		days == 1 ? "" : "s", (unsigned long long)mxtls_report_summary_previous_sessions(s),
		(unsigned long long)mxtls_report_summary_previous_failures(s));
	percent(out, mxtls_report_summary_previous_failures(s),
		mxtls_report_summary_previous_sessions(s));
	fprintf(out, ")\n\n%-10s %10s %8s  %s\n", "day", "sessions", "failed",
		"organisations; failed sessions by result type");
	for (size_t i = 0; i < mxtls_report_summary_day_count(s); i++) {
		fprintf(out, "%-10s %10llu %8llu  ", mxtls_report_summary_day(s, i),
			(unsigned long long)mxtls_report_summary_day_sessions(s, i),
			(unsigned long long)mxtls_report_summary_day_failures(s, i));
		for (size_t k = 0; k < mxtls_report_summary_day_org_count(s, i); k++)
			fprintf(out, "%s%s", k ? ", " : "", mxtls_report_summary_day_org(s, i, k));
		for (size_t k = 0; k < mxtls_report_summary_day_result_count(s, i); k++) {
			uint64_t n = 0;
			const char *r = mxtls_report_summary_day_result(s, i, k, &n);
			fprintf(out, "%s%s %llu", k ? ", " : "; ", r, (unsigned long long)n);
		}
		fputc('\n', out);
	}
	if (mxtls_report_summary_mx_count(s) == 0)
		return;
	fprintf(out, "\n%-30s %8s  %s\n", "MX host", "failed", "by result type; from");
	for (size_t i = 0; i < mxtls_report_summary_mx_count(s); i++) {
		const char *mx = mxtls_report_summary_mx(s, i);
		fprintf(out, "%-30s %8llu  ", mx[0] ? mx : "(none named)",
			(unsigned long long)mxtls_report_summary_mx_failures(s, i));
		for (size_t k = 0; k < mxtls_report_summary_mx_result_count(s, i); k++) {
			uint64_t n = 0;
			const char *r = mxtls_report_summary_mx_result(s, i, k, &n);
			fprintf(out, "%s%s %llu", k ? ", " : "", r, (unsigned long long)n);
		}
		for (size_t k = 0; k < mxtls_report_summary_mx_ip_count(s, i); k++)
			fprintf(out, "%s%s", k ? ", " : "; ", mxtls_report_summary_mx_ip(s, i, k));
		fputc('\n', out);
	}
}

/* The page is made in memory, then written whole (cli_write_file()). */
static int write_html(struct cli_env *env, const char *path, const struct mxtls_report_summary *s,
		      unsigned days)
{
	char *page = NULL, err[4400];
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);
	bool ok = f != NULL && cli_tlsrpt_html(f, s, days) == 0;
	if (f != NULL)
		ok = fclose(f) == 0 && ok;
	if (!ok) {
		cli_errorf(env, "cannot make the page: out of memory");
		free(page);
		return EXIT_SOFTWARE;
	}
	int rc = cli_write_file(path, page, len, err, sizeof err);
	free(page);
	if (rc == 0)
		return EXIT_OK;
	cli_errorf(env, "%s", err);
	return EXIT_CONFIG;
}

static int run_summary(struct cli_env *env)
{
	if (env->npos != 1) {
		cli_errorf(env, "tlsrpt summary takes one DOMAIN");
		return EXIT_USAGE;
	}
	unsigned days = 14;
	const char *html = NULL;
	for (size_t i = 0; i < env->ngiven; i++) {
		if (env->given[i].id == O_DAYS &&
		    parse_count(env, "days", env->given[i].value, 3660, &days) != 0)
			return EXIT_USAGE;
		if (env->given[i].id == O_HTML)
			html = env->given[i].value;
	}
	struct mxtls_ctx *ctx = NULL;
	struct mxtls_reports *store = NULL;
	int ex = open_store(env, &ctx, &store);
	struct mxtls_report_summary *s = NULL;
	if (ex == EXIT_OK) {
		char err[512] = "";
		int rc = mxtls_reports_summary(store, env->pos[0], days, &s, err, sizeof err);
		if (rc != MXTLS_OK) {
			cli_errorf(env, "%s", err[0] ? err : mxtls_strerror(rc));
			ex = rc == MXTLS_E_INVAL ? EXIT_USAGE : EXIT_TEMPFAIL;
		}
	}
	if (ex == EXIT_OK && html != NULL)
		ex = write_html(env, html, s, days);
	if (ex == EXIT_OK) {
		if (env->json)
			summary_json(env->out, s, days);
		else
			summary_text(env->out, s, days);
	}
	mxtls_report_summary_free(s);
	mxtls_reports_close(store);
	mxtls_ctx_free(ctx);
	return ex;
}

static const struct cli_opt summary_options[] = {
	{"days", 0, CLI_VALUE, O_DAYS, "N",
	 "the last N UTC days, today included (default 14); the N days before are compared"},
	{"html", 0, CLI_VALUE, O_HTML, "FILE",
	 "also write the summary as one self-contained HTML page with a chart per day"},
	{NULL, 0, 0, 0, NULL, NULL},
};

const struct cli_command cli_cmd_tlsrpt_summary = {
	.name = "tlsrpt summary",
	.usage = "DOMAIN [--days N] [--html FILE]",
	.summary = "what senders' TLS reports say about DOMAIN: per day, organisation, MX host",
	.details = "Reads STATE_DIR/reports.sqlite (filled by tlsrpt ingest and mxtls serve\n"
		   "--reports-path). Counts the reports whose policy domain is DOMAIN or a name\n"
		   "below it (a DANE policy names the MX host), by the day their range starts:\n"
		   "sessions and failed sessions per day with the reporting organisations and\n"
		   "the failures by result type; then the failures per MX host with the sending\n"
		   "addresses; and the totals of the period before, for what changed.\n"
		   "Exit 0, 64 bad arguments, 75 no report store yet.",
	.options = summary_options,
	.run = run_summary,
};

/* ---- ready ---------------------------------------------------------------------------------- */

static int run_ready(struct cli_env *env)
{
	if (env->npos != 1) {
		cli_errorf(env, "tlsrpt ready takes one DOMAIN");
		return EXIT_USAGE;
	}
	struct mxtls_ready_req req = {.domain = env->pos[0]};
	const char **explained = calloc(env->ngiven + 1, sizeof *explained);
	if (explained == NULL)
		return EXIT_SOFTWARE;
	req.explained = explained;
	for (size_t i = 0; i < env->ngiven; i++) {
		const char *v = env->given[i].value;
		bool bad = (env->given[i].id == O_MIN_ORGS &&
			    parse_count(env, "min-orgs", v, 1000, &req.min_orgs) != 0) ||
			   (env->given[i].id == O_MIN_DAYS &&
			    parse_count(env, "min-days", v, 366, &req.min_days) != 0);
		if (!bad && env->given[i].id == O_EXPLAIN) {
			bad = v[0] == '\0' || v[0] == '@' || strchr(v, ' ') != NULL;
			if (bad)
				cli_errorf(env,
					   "--explain takes RESULT-TYPE or RESULT-TYPE@MX-HOST, "
					   "not '%s'",
					   v);
			else
				explained[req.nexplained++] = v;
		}
		if (bad) {
			free(explained);
			return EXIT_USAGE;
		}
		if (env->given[i].id == O_NO_AUDIT)
			req.no_audit = 1;
	}
	struct mxtls_ctx *ctx = NULL;
	struct mxtls_reports *store = NULL;
	int ex = open_store(env, &ctx, &store);
	struct mxtls_ready *v = NULL;
	if (ex == EXIT_OK) {
		char err[512] = "";
		int rc = mxtls_reports_ready(store, &req, &v, err, sizeof err);
		if (rc != MXTLS_OK) {
			cli_errorf(env, "%s", err[0] ? err : mxtls_strerror(rc));
			ex = rc == MXTLS_E_INVAL ? EXIT_USAGE : EXIT_TEMPFAIL;
		}
	}
	if (ex == EXIT_OK) {
		const char *verdict = mxtls_ready_verdict(v);
		if (env->json) {
			struct cli_json j;
			cli_json_init(&j, env->out);
			cli_json_object_begin(&j, NULL);
			cli_json_string(&j, "domain", env->pos[0]);
			cli_json_string(&j, "verdict", verdict);
			cli_json_int(&j, "organizations", mxtls_ready_orgs(v));
			cli_json_int(&j, "days", mxtls_ready_days(v));
			cli_json_string(&j, "audit", mxtls_ready_audit(v));
			cli_json_array_begin(&j, "reasons");
			for (size_t i = 0; i < mxtls_ready_reason_count(v); i++) {
				cli_json_object_begin(&j, NULL);
				cli_json_string(&j, "kind", mxtls_ready_reason_kind(v, i));
				cli_json_string(&j, "text", mxtls_ready_reason(v, i));
				cli_json_object_end(&j);
			}
			cli_json_array_end(&j);
			cli_json_object_end(&j);
			fputc('\n', env->out);
		} else {
			fprintf(env->out,
				"%s: %s (%u organisation%s, reports for %u day%s, audit %s)\n",
				env->pos[0],
				strcmp(verdict, "ready") == 0       ? "enforce is safe"
				: strcmp(verdict, "not-ready") == 0 ? "not ready for enforce"
								    : "not enough data yet",
				mxtls_ready_orgs(v), mxtls_ready_orgs(v) == 1 ? "" : "s",
				mxtls_ready_days(v), mxtls_ready_days(v) == 1 ? "" : "s",
				mxtls_ready_audit(v));
			for (size_t i = 0; i < mxtls_ready_reason_count(v); i++)
				fprintf(env->out, "  %-8s %s\n", mxtls_ready_reason_kind(v, i),
					mxtls_ready_reason(v, i));
		}
		ex = strcmp(verdict, "ready") == 0       ? EXIT_OK
		     : strcmp(verdict, "not-ready") == 0 ? EXIT_NEGATIVE
							 : EXIT_TEMPFAIL;
	}
	mxtls_ready_free(v);
	mxtls_reports_close(store);
	mxtls_ctx_free(ctx);
	free(explained);
	return ex;
}

static const struct cli_opt ready_options[] = {
	{"min-orgs", 0, CLI_VALUE, O_MIN_ORGS, "K",
	 "organisations that must have reported (default 3)"},
	{"min-days", 0, CLI_VALUE, O_MIN_DAYS, "D",
	 "days of reports needed, and the window whose failures count (default 14)"},
	{"no-audit", 0, CLI_FLAG, O_NO_AUDIT, NULL, "judge by the reports alone"},
	{"explain", 0, CLI_VALUE, O_EXPLAIN, "TYPE[@HOST]",
	 "failures of this result type (at this MX host) are explained: noted, not blocking "
	 "(repeatable)"},
	{NULL, 0, 0, 0, NULL, NULL},
};

const struct cli_command cli_cmd_tlsrpt_ready = {
	.name = "tlsrpt ready",
	.usage = "DOMAIN [--min-orgs K] [--min-days D] [--no-audit] [--explain TYPE[@HOST]]...",
	.summary = "say whether DOMAIN's MTA-STS policy can move from testing to enforce",
	.details = "Ready only when at least K organisations reported over the last D days, the\n"
		   "first report is D days old, none of those reports has a failure the domain\n"
		   "causes (certificate-*, starttls-not-supported, sts-*, validation-failure at\n"
		   "its own MX hosts) that --explain does not name, and a live mxtls audit\n"
		   "finds no error. Otherwise lists what blocks it, worst first, with hosts and\n"
		   "reporters. Exit 0 ready, 1 not\n"
		   "ready, 64 bad arguments, 75 not enough data (nothing blocks, but reports are\n"
		   "missing or the audit could not run; failures always make it 1).",
	.options = ready_options,
	.run = run_ready,
};
