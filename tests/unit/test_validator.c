/* SPDX-License-Identifier: MIT */
/* Unit tests for validator/: the configuration loader and the library context. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mxtls/mxtls.h>

#include "test_main.h"
#include "validator/decision.h"
#include "validator/mx_lookup.h"
#include "validator/mxtls_ctx.h"

/* ---- mxtls_config_load_buffer: hostile and broken files first ---- */

static const struct load_case {
	const char *text;
	size_t len; /* 0: strlen(text) */
	int rc;
	const char *err;       /* expected error message (exact) when rc != MXTLS_OK */
	const char *ca_file;   /* expected value after a successful load (NULL: unset) */
	const char *state_dir;
} load_cases[] = {
	{"ca-file = /a\nbogus = 1\n", 0, MXTLS_E_CONFIG, "t.conf:2: unknown setting 'bogus'", NULL,
	 NULL},
	{"ca-file = /a\nca-file = /b\n", 0, MXTLS_E_CONFIG,
	 "t.conf:2: duplicate setting 'ca-file' (first set on line 1)", NULL, NULL},
	{"# c\n\nca-file /a\n", 0, MXTLS_E_CONFIG, "t.conf:3: expected 'key = value'", NULL, NULL},
	{"ca-file =\n", 0, MXTLS_E_CONFIG, "t.conf:1: missing value after '='", NULL, NULL},
	{"Ca-File = /a\n", 0, MXTLS_E_CONFIG,
	 "t.conf:1: invalid key: use lower-case letters, digits and '-'",
	 NULL, NULL},
	{"ca-file = /a\rb\n", 0, MXTLS_E_CONFIG, "t.conf:1: NUL byte or bare carriage return", NULL, NULL},
	{"ca-file = /a\0b\n", 15, MXTLS_E_CONFIG, "t.conf:1: NUL byte or bare carriage return", NULL, NULL},
	{"sts-timeout = 0\n", 0, MXTLS_E_CONFIG,
	 "t.conf:1: sts-timeout: '0' is not a number of seconds from 1 to 300", NULL, NULL},
	{"sts-timeout = 5s\n", 0, MXTLS_E_CONFIG,
	 "t.conf:1: sts-timeout: '5s' is not a number of seconds from 1 to 300", NULL, NULL},
	{"sts-timeout = 301\n", 0, MXTLS_E_CONFIG,
	 "t.conf:1: sts-timeout: '301' is not a number of seconds from 1 to 300", NULL, NULL},
	{"sts-timeout = 300\n", 0, MXTLS_OK, NULL, NULL, NULL},
	{"", 0, MXTLS_OK, NULL, NULL, NULL},
	{"  # only a comment\n", 0, MXTLS_OK, NULL, NULL, NULL},
	{"ca-file = /etc/x.pem # not a comment\r\nstate-dir=/s", 0, MXTLS_OK, NULL,
	 "/etc/x.pem # not a comment", "/s"},
	{"\tstate-dir\t=\t/var/lib/x  \n", 0, MXTLS_OK, NULL, NULL, "/var/lib/x"},
};

START_TEST(config_load)
{
	const struct load_case *c = &load_cases[_i];
	struct mxtls_config *cfg = NULL;
	ck_assert_int_eq(mxtls_config_new(&cfg), MXTLS_OK);
	char err[256] = "";
	size_t len = c->len != 0 ? c->len : strlen(c->text);
	int rc = mxtls_config_load_buffer(cfg, "t.conf", c->text, len, NULL, err, sizeof err);
	ck_assert_int_eq(rc, c->rc);
	if (rc != MXTLS_OK) {
		ck_assert_str_eq(err, c->err);
		/* All-or-nothing: nothing of a failed file is applied. */
		ck_assert_ptr_null(mxtls_config_get(cfg, "ca-file"));
	} else {
		const char *ca = mxtls_config_get(cfg, "ca-file");
		const char *sd = mxtls_config_get(cfg, "state-dir");
		if (c->ca_file == NULL)
			ck_assert_ptr_null(ca);
		else
			ck_assert_str_eq(ca, c->ca_file);
		if (c->state_dir == NULL)
			ck_assert_ptr_null(sd);
		else
			ck_assert_str_eq(sd, c->state_dir);
	}
	mxtls_config_free(cfg);
}
END_TEST

START_TEST(config_failed_load_keeps_earlier_values)
{
	struct mxtls_config *cfg = NULL;
	ck_assert_int_eq(mxtls_config_new(&cfg), MXTLS_OK);
	ck_assert_int_eq(mxtls_config_set(cfg, "ca-file", "/before", NULL, 0), MXTLS_OK);
	const char bad[] = "ca-file = /after\nnope = 1\n";
	char err[128];
	ck_assert_int_eq(mxtls_config_load_buffer(cfg, "f", bad, sizeof bad - 1, NULL, err, sizeof err),
			 MXTLS_E_CONFIG);
	ck_assert_str_eq(mxtls_config_get(cfg, "ca-file"), "/before");
	mxtls_config_free(cfg);
}
END_TEST

static int app_accepts_colour(void *arg, const char *key, const char *value, char *err,
			      size_t errlen)
{
	int *calls = arg;
	(*calls)++;
	if (strcmp(key, "colour") != 0)
		return MXTLS_E_NOTFOUND;
	if (strcmp(value, "red") != 0) {
		snprintf(err, errlen, "colour: only red");
		return MXTLS_E_CONFIG;
	}
	return MXTLS_OK;
}

START_TEST(config_app_keys)
{
	struct mxtls_config *cfg = NULL;
	ck_assert_int_eq(mxtls_config_new(&cfg), MXTLS_OK);
	int calls = 0;
	struct mxtls_config_app app = {.key = app_accepts_colour, .arg = &calls};
	char err[128];
	const char ok[] = "colour = red\nca-file = /x\n";
	ck_assert_int_eq(mxtls_config_load_buffer(cfg, "f", ok, sizeof ok - 1, &app, err, sizeof err),
			 MXTLS_OK);
	ck_assert_int_eq(calls, 1); /* library keys never reach the application */
	const char bad[] = "colour = blue\n";
	ck_assert_int_eq(mxtls_config_load_buffer(cfg, "f", bad, sizeof bad - 1, &app, err, sizeof err),
			 MXTLS_E_CONFIG);
	ck_assert_str_eq(err, "f:1: colour: only red");
	mxtls_config_free(cfg);
}
END_TEST

START_TEST(config_set_rejects)
{
	struct mxtls_config *cfg = NULL;
	ck_assert_int_eq(mxtls_config_new(&cfg), MXTLS_OK);
	char err[128];
	ck_assert_int_eq(mxtls_config_set(cfg, "no-such-key", "x", err, sizeof err), MXTLS_E_NOTFOUND);
	ck_assert_str_eq(err, "unknown setting 'no-such-key'");
	ck_assert_int_eq(mxtls_config_set(cfg, "ca-file", "", err, sizeof err), MXTLS_E_CONFIG);
	ck_assert_str_eq(err, "ca-file: empty value");
	ck_assert_int_eq(mxtls_config_set(NULL, "ca-file", "x", NULL, 0), MXTLS_E_INVAL);
	mxtls_config_free(NULL); /* a no-op */
	mxtls_config_free(cfg);
}
END_TEST

/* The TLS-RPT report settings (RFC 8460 §4.4 organization-name and contact-info, §5.1 sender):
 * refused values first, then accepted ones. */
static const struct tlsrpt_setting_case {
	const char *key, *value;
	int rc;
} tlsrpt_setting_cases[] = {
	{"tlsrpt-organization", "", MXTLS_E_CONFIG},
	{"tlsrpt-organization", "Org\nInjected: header", MXTLS_E_CONFIG},
	{"tlsrpt-organization", "Org\x7f", MXTLS_E_CONFIG},
	{"tlsrpt-organization",
	 "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"
	 "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"
	 "01234567890123456789012345678901234567890123456789012345678901234567890123456789",
	 MXTLS_E_CONFIG},
	{"tlsrpt-contact", "nobody", MXTLS_E_CONFIG},
	{"tlsrpt-contact", "@example.net", MXTLS_E_CONFIG},
	{"tlsrpt-contact", "a@", MXTLS_E_CONFIG},
	{"tlsrpt-contact", "a b@example.net", MXTLS_E_CONFIG},
	{"tlsrpt-contact", "\"a\"@example.net", MXTLS_E_CONFIG},
	{"tlsrpt-contact", "a@b@example.net", MXTLS_E_CONFIG},
	{"tlsrpt-contact", "<a@example.net>", MXTLS_E_CONFIG},
	{"tlsrpt-contact", "a@example.net.", MXTLS_E_CONFIG},
	{"tlsrpt-contact", "a@exa mple.net", MXTLS_E_CONFIG},
	{"tlsrpt-submitter", "not a host", MXTLS_E_CONFIG},
	{"tlsrpt-submitter", "a!b.example", MXTLS_E_CONFIG},
	{"tlsrpt-submitter", "example.net.", MXTLS_E_CONFIG},
	{"tlsrpt-submitter", "caf\xc3\xa9.example", MXTLS_E_CONFIG},
	{"tlsrpt-organization", "Sender Org \"Mail\" \xc3\xa9", MXTLS_OK},
	{"tlsrpt-contact", "smtp-tls-reporting@example.net", MXTLS_OK},
	{"tlsrpt-contact", "a.b+c@xn--bcher-kva.example", MXTLS_OK},
	{"tlsrpt-submitter", "mail.example.net", MXTLS_OK},
};

START_TEST(config_tlsrpt_settings)
{
	const struct tlsrpt_setting_case *c = &tlsrpt_setting_cases[_i];
	struct mxtls_config *cfg = NULL;
	ck_assert_int_eq(mxtls_config_new(&cfg), MXTLS_OK);
	char err[512] = "";
	int rc = mxtls_config_set(cfg, c->key, c->value, err, sizeof err);
	ck_assert_msg(rc == c->rc, "%s = '%s': rc %d, expected %d (%s)", c->key, c->value, rc, c->rc,
		      err);
	if (rc == MXTLS_OK)
		ck_assert_str_eq(mxtls_config_get(cfg, c->key), c->value);
	else
		ck_assert_ptr_null(mxtls_config_get(cfg, c->key)); /* cfg unchanged */
	mxtls_config_free(cfg);
}
END_TEST

START_TEST(config_file_errors)
{
	struct mxtls_config *cfg = NULL;
	ck_assert_int_eq(mxtls_config_new(&cfg), MXTLS_OK);
	char err[256];
	ck_assert_int_eq(mxtls_config_load_file(cfg, "/nonexistent/mxtls.conf", NULL, err, sizeof err),
			 MXTLS_E_IO);
	ck_assert_str_eq(err, "/nonexistent/mxtls.conf: No such file or directory");

	/* A file over the 1 MiB cap is refused, never half-read. */
	char path[600];
	snprintf(path, sizeof path, "%s/config-XXXXXX", test_tmp_root);
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	char line[1024];
	memset(line, '#', sizeof line - 1);
	line[sizeof line - 1] = '\n';
	for (int i = 0; i < 1025; i++)
		ck_assert_int_eq(write(fd, line, sizeof line), (int)sizeof line);
	close(fd);
	ck_assert_int_eq(mxtls_config_load_file(cfg, path, NULL, err, sizeof err), MXTLS_E_LIMIT);
	ck_assert_ptr_nonnull(strstr(err, "larger than 1048576 bytes"));
	unlink(path);
	mxtls_config_free(cfg);
}
END_TEST

/* ---- mxtls_ctx_new: files named by the settings are checked at start-up ---- */

START_TEST(ctx_checks_files)
{
	struct mxtls_config *cfg = NULL;
	struct mxtls_ctx *ctx = NULL;
	char err[256];
	ck_assert_int_eq(mxtls_config_new(&cfg), MXTLS_OK);
	ck_assert_int_eq(mxtls_config_set(cfg, "ca-file", "/nonexistent.pem", NULL, 0), MXTLS_OK);
	ck_assert_int_eq(mxtls_ctx_new(cfg, &ctx, err, sizeof err), MXTLS_E_CONFIG);
	ck_assert_ptr_null(ctx); /* all-or-nothing */
	ck_assert_str_eq(err, "ca-file /nonexistent.pem: cannot read: No such file or directory");

	ck_assert_int_eq(mxtls_config_set(cfg, "ca-file", "/tmp", NULL, 0), MXTLS_OK);
	ck_assert_int_eq(mxtls_ctx_new(cfg, &ctx, err, sizeof err), MXTLS_E_CONFIG);
	ck_assert_str_eq(err, "ca-file /tmp: is a directory");

	ck_assert_int_eq(mxtls_config_set(cfg, "ca-file", "/dev/null", NULL, 0), MXTLS_OK);
	ck_assert_int_eq(mxtls_config_set(cfg, "state-dir", "/dev/null", NULL, 0), MXTLS_OK);
	ck_assert_int_eq(mxtls_ctx_new(cfg, &ctx, err, sizeof err), MXTLS_E_CONFIG);
	ck_assert_str_eq(err, "state-dir /dev/null: not a directory");

	/* A state directory that does not exist yet is fine: it is created on first use. */
	ck_assert_int_eq(mxtls_config_set(cfg, "state-dir", "/nonexistent/state", NULL, 0), MXTLS_OK);
	ck_assert_int_eq(mxtls_ctx_new(cfg, &ctx, err, sizeof err), MXTLS_OK);
	mxtls_config_free(cfg); /* the context keeps its own copies */
	ck_assert_str_eq(ctx->state_dir, "/nonexistent/state");
	mxtls_ctx_free(ctx);
	mxtls_ctx_free(NULL);
}
END_TEST

/* A file named in a configuration file that turns out unusable names that file and line. */
START_TEST(ctx_names_config_line)
{
	struct mxtls_config *cfg = NULL;
	struct mxtls_ctx *ctx = NULL;
	char err[512];
	static const char text[] = "# mxtls\nca-file = /dev/null\nunbound-conf = /nonexistent/u.conf\n";
	ck_assert_int_eq(mxtls_config_new(&cfg), MXTLS_OK);
	ck_assert_int_eq(mxtls_config_load_buffer(cfg, "/etc/mxtls/mxtls.conf", text,
						  sizeof text - 1, NULL, err, sizeof err),
			 MXTLS_OK);
	ck_assert_int_eq(mxtls_ctx_new(cfg, &ctx, err, sizeof err), MXTLS_E_CONFIG);
	ck_assert_ptr_null(ctx);
	ck_assert_str_eq(err, "/etc/mxtls/mxtls.conf:3: unbound-conf /nonexistent/u.conf: cannot "
			      "read: No such file or directory");
	/* A later load keeps the earlier value's origin. */
	static const char more[] = "state-dir = /dev/null\n";
	ck_assert_int_eq(mxtls_config_load_buffer(cfg, "second.conf", more, sizeof more - 1, NULL,
						  err, sizeof err),
			 MXTLS_OK);
	ck_assert_int_eq(mxtls_ctx_new(cfg, &ctx, err, sizeof err), MXTLS_E_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "/etc/mxtls/mxtls.conf:3: unbound-conf"));
	/* A value set afterwards (the command line) has none. */
	ck_assert_int_eq(mxtls_config_set(cfg, "unbound-conf", "/nonexistent/v.conf", NULL, 0),
			 MXTLS_OK);
	ck_assert_int_eq(mxtls_ctx_new(cfg, &ctx, err, sizeof err), MXTLS_E_CONFIG);
	ck_assert_str_eq(err, "unbound-conf /nonexistent/v.conf: cannot read: No such file or "
			      "directory");
	mxtls_config_free(cfg);

	ck_assert_int_eq(mxtls_config_new(&cfg), MXTLS_OK);
	ck_assert_int_eq(mxtls_config_load_buffer(cfg, "second.conf", more, sizeof more - 1, NULL,
						  err, sizeof err),
			 MXTLS_OK);
	ck_assert_int_eq(mxtls_ctx_new(cfg, &ctx, err, sizeof err), MXTLS_E_CONFIG);
	ck_assert_str_eq(err, "second.conf:1: state-dir /dev/null: not a directory");
	mxtls_config_free(cfg);
}
END_TEST

static int64_t pinned_clock(void *arg)
{
	return *(const int64_t *)arg;
}

struct captured {
	int calls;
	char line[512];
};

static void capture(void *arg, enum mxtls_log_level level, const char *line)
{
	struct captured *c = arg;
	c->calls++;
	snprintf(c->line, sizeof c->line, "%s %s", mxtls_log_level_name(level), line);
}

START_TEST(ctx_clock_and_log)
{
	struct mxtls_config *cfg = NULL;
	struct mxtls_ctx *ctx = NULL;
	ck_assert_int_eq(mxtls_config_new(&cfg), MXTLS_OK);
	ck_assert_int_eq(mxtls_ctx_new(cfg, &ctx, NULL, 0), MXTLS_OK);
	mxtls_config_free(cfg);
	int64_t t = 1767225600; /* 2026-01-01T00:00:00Z */
	mxtls_ctx_set_clock(ctx, pinned_clock, &t);
	ck_assert_int_eq(mxtls_ctx_now(ctx), 1767225600);
	mxtls_ctx_set_clock(ctx, NULL, NULL);
	ck_assert_int_gt(mxtls_ctx_now(ctx), 1767225600); /* the system clock again */

	/* A new context is silent; after set_log it speaks up to the chosen level. */
	struct captured cap = {0};
	util_log_kv(&ctx->log, MXTLS_LOG_ERROR, 1, "x", NULL);
	mxtls_ctx_set_log(ctx, MXTLS_LOG_INFO, capture, &cap);
	uint64_t id = mxtls_ctx_decision_id(ctx);
	ck_assert_uint_eq(id, 1);
	util_log_kv(&ctx->log, MXTLS_LOG_DEBUG, id, "dropped", NULL);
	util_log_kv(&ctx->log, MXTLS_LOG_INFO, id, "lookup", "domain", "example.test", NULL);
	ck_assert_int_eq(cap.calls, 1);
	ck_assert_str_eq(cap.line, "info id=1 event=lookup domain=example.test");
	mxtls_ctx_free(ctx);
}
END_TEST

/* ---- mx_lookup_from_answer: RFC 7672 §2.2.1 without a network ---- */

/* Builds an answer from MX rdata given as "pref name" strings ("." is the root). */
static struct dns_answer *mx_answer(enum dns_outcome o, enum dns_security sec, const char *const *mx,
				    size_t n)
{
	struct dns_answer *a = calloc(1, sizeof *a);
	ck_assert_ptr_nonnull(a);
	a->outcome = o;
	a->security = sec;
	a->type = DNS_TYPE_MX;
	strcpy(a->qname, "example.test");
	strcpy(a->canonname, "example.test");
	a->ttl = 300;
	a->n = n;
	a->rdata = calloc(n + 1, sizeof *a->rdata);
	a->rdlen = calloc(n + 1, sizeof *a->rdlen);
	for (size_t i = 0; i < n; i++) {
		unsigned pref;
		char name[256];
		ck_assert_int_eq(sscanf(mx[i], "%u %255s", &pref, name), 2);
		uint8_t *w = calloc(1, 300);
		size_t len = 0;
		w[len++] = (uint8_t)(pref >> 8);
		w[len++] = (uint8_t)pref;
		for (char *lab = strtok(name, "."); lab != NULL; lab = strtok(NULL, ".")) {
			w[len++] = (uint8_t)strlen(lab);
			memcpy(w + len, lab, strlen(lab));
			len += strlen(lab);
		}
		w[len++] = 0;
		a->rdata[i] = w;
		a->rdlen[i] = len;
	}
	return a;
}

static const struct mx_unit_case {
	enum dns_outcome outcome;
	enum dns_security sec;
	const char *mx[4];
	size_t n;
	enum mx_lookup_status status;
	const char *hosts;
} mx_unit_cases[] = {
	/* Lookup errors: tempfail, never the domain's A record (RFC 7672 §2.1.2). */
	{DNS_ERR_SERVFAIL, DNS_INSECURE, {NULL}, 0, MX_LOOKUP_TEMPFAIL, ""},
	{DNS_ERR_TIMEOUT, DNS_INSECURE, {NULL}, 0, MX_LOOKUP_TEMPFAIL, ""},
	{DNS_ERR_BOGUS, DNS_BOGUS, {NULL}, 0, MX_LOOKUP_TEMPFAIL, ""},
	{DNS_ERR_MALFORMED, DNS_INSECURE, {NULL}, 0, MX_LOOKUP_TEMPFAIL, ""},
	{DNS_NXDOMAIN, DNS_SECURE, {NULL}, 0, MX_LOOKUP_NXDOMAIN, ""},
	/* RFC 7505 null MX, also with a non-zero preference or twice. */
	{DNS_DATA, DNS_SECURE, {"0 ."}, 1, MX_LOOKUP_NULL_MX, ""},
	{DNS_DATA, DNS_SECURE, {"10 .", "0 ."}, 2, MX_LOOKUP_NULL_MX, ""},
	/* A "." among real hosts is ignored (RFC 7505 §4.3 leaves it undefined). */
	{DNS_DATA, DNS_SECURE, {"0 .", "10 mx.example.test"}, 2, MX_LOOKUP_OK,
	 "10 mx.example.test"},
	/* Sorting is stable for equal preferences. */
	{DNS_DATA, DNS_SECURE, {"20 b.test", "10 c.test", "20 a.test", "5 d.test"}, 4, MX_LOOKUP_OK,
	 "5 d.test,10 c.test,20 b.test,20 a.test"},
	{DNS_DATA, DNS_INSECURE, {"10 192.0.2.1"}, 1, MX_LOOKUP_OK, "10 192.0.2.1!"},
	{DNS_NODATA, DNS_SECURE, {NULL}, 0, MX_LOOKUP_OK, "0 example.test"},
};

static void mx_hosts_text(const struct mx_lookup_result *r, char *buf, size_t cap)
{
	buf[0] = '\0';
	for (size_t i = 0; i < r->n; i++) {
		size_t len = strlen(buf);
		snprintf(buf + len, cap - len, "%s%u %s%s", i ? "," : "", r->hosts[i].preference,
			 r->hosts[i].name, r->hosts[i].ip_literal ? "!" : "");
	}
}

START_TEST(mx_from_answer)
{
	const struct mx_unit_case *c = &mx_unit_cases[_i];
	struct dns_answer *a = mx_answer(c->outcome, c->sec, c->mx, c->n);
	struct mx_lookup_result r;
	mx_lookup_from_answer(a, &r);
	ck_assert_msg(r.status == c->status, "case %d: %s (%s)", _i,
		      mx_lookup_status_name(r.status), r.reason);
	ck_assert_int_eq(r.secure, c->sec == DNS_SECURE);
	ck_assert_int_eq(r.implicit, c->outcome == DNS_NODATA);
	ck_assert_int_eq(r.reason[0] == '\0', c->status == MX_LOOKUP_OK);
	char buf[512];
	mx_hosts_text(&r, buf, sizeof buf);
	ck_assert_str_eq(buf, c->hosts);
	dns_answer_free(a);
}
END_TEST

/* A truncated MX record in a secure answer is a lookup error, not a shorter MX list. */
START_TEST(mx_malformed_record)
{
	const char *mx[] = {"10 a.test", "20 b.test"};
	struct dns_answer *a = mx_answer(DNS_DATA, DNS_SECURE, mx, 2);
	a->rdlen[1] -= 2;
	struct mx_lookup_result r;
	mx_lookup_from_answer(a, &r);
	ck_assert_int_eq(r.status, MX_LOOKUP_TEMPFAIL);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_str_eq(r.reason, "malformed MX record in the answer for example.test");
	dns_answer_free(a);
}
END_TEST

/* More hosts than MX_LOOKUP_HOSTS_MAX: the most preferred ones are kept, in order. */
START_TEST(mx_too_many_hosts)
{
	enum { N = MX_LOOKUP_HOSTS_MAX + 8 };
	char text[N][32];
	const char *mx[N];
	for (int i = 0; i < N; i++) {
		snprintf(text[i], sizeof text[i], "%d h%d.test", N - i, i);
		mx[i] = text[i];
	}
	struct dns_answer *a = mx_answer(DNS_DATA, DNS_SECURE, mx, N);
	struct mx_lookup_result r;
	mx_lookup_from_answer(a, &r);
	ck_assert_int_eq(r.status, MX_LOOKUP_OK);
	ck_assert_uint_eq(r.n, MX_LOOKUP_HOSTS_MAX);
	for (size_t i = 0; i < r.n; i++)
		ck_assert_uint_eq(r.hosts[i].preference, i + 1);
	ck_assert_str_eq(r.hosts[0].name, "h39.test");
	dns_answer_free(a);
}
END_TEST

/* ---- decision_classify: every row of decision D1 and the domain modes ---- */

/* One MX host of a classification case: its DANE state (or -1 for "no result at all"). */
struct cls_host {
	const char *name;
	int dane;                /* enum host_dane_state, or -1 */
	const char *tbd;         /* for DANE states */
	const char *security;    /* expected */
	bool tls_required, dane_auth, pkix_auth, report_only;
	const char *sni;         /* expected */
};

static const struct cls_case {
	const char *what;
	enum mx_lookup_status mx;
	int sts_mode;            /* 0: no policy in force, else enum sts_mode */
	const char *patterns[3]; /* the policy's mx patterns */
	struct cls_host hosts[3];
	const char *mode;        /* expected domain mode */
} cls_cases[] = {
	{"MX lookup error: defer (DANE-05)", MX_LOOKUP_TEMPFAIL, 0, {NULL}, {{NULL}}, "tempfail"},
	{"null MX: undeliverable", MX_LOOKUP_NULL_MX, 0, {NULL}, {{NULL}}, "undeliverable"},
	{"NXDOMAIN: undeliverable", MX_LOOKUP_NXDOMAIN, STS_MODE_ENFORCE, {"*.x.test"}, {{NULL}},
	 "undeliverable"},
	{"usable TLSA: dane, SNI = TBD (DANE-09, DANE-48)", MX_LOOKUP_OK, 0, {NULL},
	 {{"mail.x.test", HOST_DANE_USABLE, "mx.provider.test", "dane", true, true, false, false,
	   "mx.provider.test"}},
	 "dane"},
	{"D1: DANE host not in an enforce policy is still used, DANE alone", MX_LOOKUP_OK,
	 STS_MODE_ENFORCE, {"other.x.test"},
	 {{"mx1.x.test", HOST_DANE_USABLE, "mx1.x.test", "dane", true, true, false, false,
	   "mx1.x.test"}},
	 "dane"},
	{"D1: DANE host in an enforce policy gets no PKIX check", MX_LOOKUP_OK, STS_MODE_ENFORCE,
	 {"mx1.x.test"},
	 {{"mx1.x.test", HOST_DANE_USABLE, "mx1.x.test", "dane", true, true, false, false,
	   "mx1.x.test"}},
	 "dane"},
	{"all-unusable TLSA: encrypt (DANE-10)", MX_LOOKUP_OK, 0, {NULL},
	 {{"mx1.x.test", HOST_DANE_ENCRYPT, "mx1.x.test", "dane-encrypt", true, false, false,
	   false, "mx1.x.test"}},
	 "dane"},
	{"D1: encrypt + enforce listing the host: PKIX on top", MX_LOOKUP_OK, STS_MODE_ENFORCE,
	 {"mx1.x.test"},
	 {{"mx1.x.test", HOST_DANE_ENCRYPT, "mx1.x.test", "dane-encrypt", true, false, true, false,
	   "mx1.x.test"}},
	 "dane"},
	{"D1: encrypt + enforce not listing the host: excluded", MX_LOOKUP_OK, STS_MODE_ENFORCE,
	 {"mx9.x.test"},
	 {{"mx1.x.test", HOST_DANE_ENCRYPT, "mx1.x.test", "excluded", false, false, false, false,
	   "mx1.x.test"}},
	 "mta-sts-enforce"},
	{"encrypt + testing: PKIX reported only", MX_LOOKUP_OK, STS_MODE_TESTING, {"mx1.x.test"},
	 {{"mx1.x.test", HOST_DANE_ENCRYPT, "mx1.x.test", "dane-encrypt", true, false, true, true,
	   "mx1.x.test"}},
	 "dane"},
	{"enforce, host listed: mta-sts, SNI = MX name (STS-47)", MX_LOOKUP_OK, STS_MODE_ENFORCE,
	 {"mx1.x.test"},
	 {{"mx1.x.test", HOST_DANE_NONE, "", "mta-sts", true, false, true, false, "mx1.x.test"},
	  {"mx2.x.test", HOST_DANE_NONE, "", "excluded", false, false, false, false,
	   "mx2.x.test"}},
	 "mta-sts-enforce"},
	{"enforce wildcard covers one label only (STS-45)", MX_LOOKUP_OK, STS_MODE_ENFORCE,
	 {"*.x.test"},
	 {{"mx1.x.test", HOST_DANE_NONE, "", "mta-sts", true, false, true, false, "mx1.x.test"},
	  {"a.b.x.test", HOST_DANE_NONE, "", "excluded", false, false, false, false,
	   "a.b.x.test"},
	  {"x.test", HOST_DANE_NONE, "", "excluded", false, false, false, false, "x.test"}},
	 "mta-sts-enforce"},
	{"D2: implicit MX host is the domain, matched as such", MX_LOOKUP_OK, STS_MODE_ENFORCE,
	 {"x.test"},
	 {{"x.test", HOST_DANE_NONE, "", "mta-sts", true, false, true, false, "x.test"}},
	 "mta-sts-enforce"},
	{"testing: checked, never enforced (STS-52)", MX_LOOKUP_OK, STS_MODE_TESTING,
	 {"mx1.x.test"},
	 {{"mx1.x.test", HOST_DANE_NONE, "", "mta-sts-testing", false, false, true, true,
	   "mx1.x.test"},
	  {"mx2.x.test", HOST_DANE_NONE, "", "mta-sts-testing", false, false, true, true,
	   "mx2.x.test"}},
	 "mta-sts-testing"},
	{"policy mode none = no policy (STS-53)", MX_LOOKUP_OK, STS_MODE_NONE, {NULL},
	 {{"mx1.x.test", HOST_DANE_NONE, "", "opportunistic", false, false, false, false,
	   "mx1.x.test"}},
	 "opportunistic"},
	{"nothing: opportunistic", MX_LOOKUP_OK, 0, {NULL},
	 {{"mx1.x.test", HOST_DANE_NONE, "", "opportunistic", false, false, false, false,
	   "mx1.x.test"}},
	 "opportunistic"},
	{"a failed host is skipped, the rest decide the mode (DANE-06)", MX_LOOKUP_OK, 0, {NULL},
	 {{"mx1.x.test", HOST_DANE_UNREACHABLE, "", "unreachable", false, false, false, false,
	   "mx1.x.test"},
	  {"mx2.x.test", HOST_DANE_USABLE, "mx2.x.test", "dane", true, true, false, false,
	   "mx2.x.test"},
	  {"mx3.x.test", -1, "", "unreachable", false, false, false, false, "mx3.x.test"}},
	 "dane"},
	{"partial DANE without STS is not a DANE domain", MX_LOOKUP_OK, 0, {NULL},
	 {{"mx1.x.test", HOST_DANE_USABLE, "mx1.x.test", "dane", true, true, false, false,
	   "mx1.x.test"},
	  {"mx2.x.test", HOST_DANE_NONE, "", "opportunistic", false, false, false, false,
	   "mx2.x.test"}},
	 "opportunistic"},
	{"partial DANE with enforce: every host protected", MX_LOOKUP_OK, STS_MODE_ENFORCE,
	 {"mx2.x.test"},
	 {{"mx1.x.test", HOST_DANE_USABLE, "mx1.x.test", "dane", true, true, false, false,
	   "mx1.x.test"},
	  {"mx2.x.test", HOST_DANE_NONE, "", "mta-sts", true, false, true, false, "mx2.x.test"}},
	 "mta-sts-enforce"},
	{"every host unreachable: defer (DANE-07)", MX_LOOKUP_OK, STS_MODE_ENFORCE, {"*.x.test"},
	 {{"mx1.x.test", HOST_DANE_UNREACHABLE, "", "unreachable", false, false, false, false,
	   "mx1.x.test"}},
	 "tempfail"},
};

START_TEST(decision_classify_rows)
{
	const struct cls_case *c = &cls_cases[_i];
	struct decision *d = calloc(1, sizeof *d);
	ck_assert_ptr_nonnull(d);
	snprintf(d->domain, sizeof d->domain, "x.test");
	d->mx.status = c->mx;
	snprintf(d->mx.reason, sizeof d->mx.reason, "why");
	d->sts = calloc(1, sizeof *d->sts);
	ck_assert_ptr_nonnull(d->sts);
	if (c->sts_mode != 0) {
		d->sts->source = STS_SOURCE_NETWORK;
		d->sts->policy.mode = (enum sts_mode)c->sts_mode;
		d->sts->policy.mx = calloc(3, sizeof(char *));
		for (size_t k = 0; k < 3 && c->patterns[k] != NULL; k++)
			d->sts->policy.mx[d->sts->policy.nmx++] = strdup(c->patterns[k]);
	}
	for (size_t i = 0; i < 3 && c->hosts[i].name != NULL; i++) {
		struct decision_host *h = &d->hosts[d->nhosts++];
		h->preference = (uint16_t)(10 * (i + 1));
		snprintf(h->name, sizeof h->name, "%s", c->hosts[i].name);
		if (c->hosts[i].dane >= 0) {
			h->dane = calloc(1, sizeof *h->dane);
			h->dane->state = (enum host_dane_state)c->hosts[i].dane;
			h->dane->naddrs = 1;
			snprintf(h->dane->tbd, sizeof h->dane->tbd, "%s", c->hosts[i].tbd);
			snprintf(h->dane->reason, sizeof h->dane->reason, "r");
		}
	}
	decision_classify(d);
	ck_assert_msg(strcmp(decision_mode_name(d->mode), c->mode) == 0, "%s: mode %s, want %s",
		      c->what, decision_mode_name(d->mode), c->mode);
	for (size_t i = 0; i < d->nhosts; i++) {
		const struct cls_host *w = &c->hosts[i];
		const struct decision_host *h = &d->hosts[i];
		ck_assert_msg(strcmp(decision_security_name(h->security), w->security) == 0,
			      "%s: host %s is %s, want %s", c->what, w->name,
			      decision_security_name(h->security), w->security);
		ck_assert_msg(h->tls_required == w->tls_required && h->dane_auth == w->dane_auth &&
				      h->pkix_auth == w->pkix_auth &&
				      h->report_only == w->report_only,
			      "%s: host %s requirements tls=%d dane=%d pkix=%d report=%d", c->what,
			      w->name, h->tls_required, h->dane_auth, h->pkix_auth, h->report_only);
		ck_assert_str_eq(h->sni, w->sni);
		ck_assert_str_ne(h->why, "");
	}
	decision_free(d);
}
END_TEST

/* A discovery that never finished is "unknown", never "no policy": defer. */
START_TEST(decision_without_sts_result_defers)
{
	struct decision *d = calloc(1, sizeof *d);
	ck_assert_ptr_nonnull(d);
	d->mx.status = MX_LOOKUP_OK;
	d->nhosts = 1;
	snprintf(d->hosts[0].name, sizeof d->hosts[0].name, "mx1.x.test");
	d->hosts[0].dane = calloc(1, sizeof *d->hosts[0].dane);
	ck_assert_ptr_nonnull(d->hosts[0].dane);
	d->hosts[0].dane->state = HOST_DANE_NONE;
	d->hosts[0].dane->naddrs = 1;
	decision_classify(d);
	ck_assert_str_eq(decision_mode_name(d->mode), "tempfail");
	decision_free(d);
}
END_TEST

static Suite *validator_suite(void)
{
	Suite *s = suite_create("validator");
	TCase *tc = tcase_create("config");
	tcase_add_unchecked_fixture(tc, test_tmp_setup, test_tmp_teardown);
	tcase_add_loop_test(tc, config_load, 0, ARRAY_LEN(load_cases));
	tcase_add_test(tc, config_failed_load_keeps_earlier_values);
	tcase_add_test(tc, config_app_keys);
	tcase_add_test(tc, config_set_rejects);
	tcase_add_loop_test(tc, config_tlsrpt_settings, 0, ARRAY_LEN(tlsrpt_setting_cases));
	tcase_add_test(tc, config_file_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("ctx");
	tcase_add_test(tc, ctx_checks_files);
	tcase_add_test(tc, ctx_names_config_line);
	tcase_add_test(tc, ctx_clock_and_log);
	suite_add_tcase(s, tc);
	tc = tcase_create("mx");
	tcase_add_loop_test(tc, mx_from_answer, 0, ARRAY_LEN(mx_unit_cases));
	tcase_add_test(tc, mx_malformed_record);
	tcase_add_test(tc, mx_too_many_hosts);
	suite_add_tcase(s, tc);
	tc = tcase_create("decision");
	tcase_add_loop_test(tc, decision_classify_rows, 0, ARRAY_LEN(cls_cases));
	tcase_add_test(tc, decision_without_sts_result_defers);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(validator_suite)
