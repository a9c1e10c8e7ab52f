/* SPDX-License-Identifier: MIT */
/* Unit tests for the pure judgement of `mxtls audit`: owner/owner_audit_sts.c (the _mta-sts
 * record, the policy host's fetch result, the policy) and the TLSA rollover check of
 * owner/owner_audit_host.c, on the certificates of vectors/dane (provenance in its README).
 * Each case lists exactly the findings expected.  Hostile input first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "dane/dane_cert.h"
#include "dane/dane_tlsa.h"
#include "owner/owner_audit_finding.h"
#include "owner/owner_audit_host.h"
#include "owner/owner_audit_sts.h"
#include "test_main.h"

#define T0 1796000000 /* 2026-11-30T00:53:20Z */

/* "sev:code" of every finding, in order, joined by spaces. */
static void summary(const struct audit_findings *f, char *out, size_t len)
{
	out[0] = '\0';
	for (size_t i = 0; i < f->n; i++) {
		size_t used = strlen(out);
		snprintf(out + used, len - used, "%s%s:%s", i ? " " : "",
			 audit_severity_name(f->item[i].severity), f->item[i].code);
	}
}

/* ---- MTA-STS ---- */

#define CRLF_ENFORCE                                                                               \
	"version: STSv1\r\nmode: enforce\r\nmx: mx1.example.test\r\nmax_age: 1209600\r\n"

static const struct sts_case {
	const char *name;
	const char *txt_state, *txt, *txt_reason;
	bool fetched;
	enum mxtls_result fetch_result;
	const char *fetch_error;
	bool changed_same_id;
	const char *body;
	bool every_host_dane;
	const char *expect;      /* summary() of the findings */
	int mode;                /* enum audit_sts_mode */
	bool covered0, covered1; /* mx1.example.test, mx2.example.test */
} sts_cases[] = {
	/* hostile: a state nobody knows, a record with a control character, a policy that
	 * smuggles a second mode line, a body that does not parse although the fetch said ok */
	{"unknown txt state", "weird", "v=STSv1; id=1", "?", false, 0, NULL, false, NULL, false,
	 "error:sts-txt-invalid", AUDIT_STS_NONE, false, false},
	{"record with a control character", "invalid", "v=STSv1; id=a\x01", "bad id", false, 0,
	 NULL, false, NULL, false, "error:sts-txt-invalid", AUDIT_STS_NONE, false, false},
	{"second mode line is only a warning, the first counts", "valid", "v=STSv1; id=1", NULL,
	 true, MXTLS_RESULT_OK, NULL, false,
	 "version: STSv1\r\nmode: enforce\r\nmode: none\r\nmx: mx1.example.test\r\nmx: "
	 "mx2.example.test\r\nmax_age: 1209600\r\n",
	 false, "warning:sts-policy-lint", AUDIT_STS_ENFORCE, true, true},
	{"fetch ok but body garbage", "valid", "v=STSv1; id=1", NULL, true, MXTLS_RESULT_OK, NULL,
	 false, "<html>", false, "", AUDIT_STS_NONE, false, false},
	/* the record */
	{"no record, hosts without DANE", "absent", NULL, NULL, false, 0, NULL, false, NULL, false,
	 "warning:sts-txt-missing", AUDIT_STS_NONE, false, false},
	{"no record, every host DANE", "absent", NULL, NULL, false, 0, NULL, false, NULL, true,
	 "info:sts-txt-missing", AUDIT_STS_NONE, false, false},
	{"two records", "multiple", NULL, NULL, false, 0, NULL, false, NULL, false,
	 "error:sts-txt-multiple", AUDIT_STS_NONE, false, false},
	{"lookup failed", "error", NULL, "SERVFAIL", false, 0, NULL, false, NULL, false,
	 "error:dns-failure", AUDIT_STS_NONE, false, false},
	{"space before the semicolon", "valid", "v=STSv1 ; id=1", NULL, true, MXTLS_RESULT_OK, NULL,
	 false, CRLF_ENFORCE, false, "warning:sts-txt-lint error:sts-mx-not-covered",
	 AUDIT_STS_ENFORCE, true, false},
	/* the policy host */
	{"policy host certificate", "valid", "v=STSv1; id=1", NULL, true,
	 MXTLS_RESULT_STS_WEBPKI_INVALID, "certificate not trusted", false, NULL, false,
	 "error:sts-policy-host-cert", AUDIT_STS_NONE, false, false},
	{"policy host 404", "valid", "v=STSv1; id=1", NULL, true,
	 MXTLS_RESULT_STS_POLICY_FETCH_ERROR, "HTTP 404", false, NULL, false,
	 "error:sts-policy-fetch", AUDIT_STS_NONE, false, false},
	{"policy not fetched", "valid", "v=STSv1; id=1", NULL, false, 0, NULL, false, NULL, false,
	 "error:sts-policy-fetch", AUDIT_STS_NONE, false, false},
	{"policy invalid", "valid", "v=STSv1; id=1", NULL, true, MXTLS_RESULT_STS_POLICY_INVALID,
	 "line 2: unknown mode", false, NULL, false, "error:sts-policy-invalid", AUDIT_STS_NONE,
	 false, false},
	{"body changed under the same id", "valid", "v=STSv1; id=1", NULL, true, MXTLS_RESULT_OK,
	 NULL, true,
	 "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.test\r\nmx: mx2.example.test\r\n"
	 "max_age: 1209600\r\n",
	 false, "error:sts-id-unchanged", AUDIT_STS_ENFORCE, true, true},
	/* the policy */
	{"enforce, one host not covered", "valid", "v=STSv1; id=1", NULL, true, MXTLS_RESULT_OK,
	 NULL, false, CRLF_ENFORCE, false, "error:sts-mx-not-covered", AUDIT_STS_ENFORCE, true,
	 false},
	{"testing, one host not covered", "valid", "v=STSv1; id=1", NULL, true, MXTLS_RESULT_OK,
	 NULL, false,
	 "version: STSv1\r\nmode: testing\r\nmx: mx1.example.test\r\nmax_age: 1209600\r\n", false,
	 "warning:sts-mx-not-covered", AUDIT_STS_TESTING, true, false},
	{"wildcard covers both, LF only, one day", "valid", "v=STSv1; id=1", NULL, true,
	 MXTLS_RESULT_OK, NULL, false,
	 "version: STSv1\nmode: enforce\nmx: *.example.test\nmax_age: 86400\n", false,
	 "info:sts-policy-lint warning:sts-max-age info:sts-mx-wildcard", AUDIT_STS_ENFORCE, true,
	 true},
	{"mode none with a short max_age is the opt-out", "valid", "v=STSv1; id=1", NULL, true,
	 MXTLS_RESULT_OK, NULL, false, "version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n", false,
	 "", AUDIT_STS_NONE, false, false},
	{"all well", "valid", "v=STSv1; id=20261130", NULL, true, MXTLS_RESULT_OK, NULL, false,
	 "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.test\r\nmx: mx2.example.test\r\n"
	 "max_age: 1209600\r\n",
	 false, "", AUDIT_STS_ENFORCE, true, true},
};

START_TEST(sts_view)
{
	const struct sts_case *c = &sts_cases[_i];
	const char *mx[] = {"mx1.example.test", "mx2.example.test"};
	struct audit_sts_view v = {
		.domain = "example.test",
		.txt_state = c->txt_state,
		.txt = c->txt,
		.txt_reason = c->txt_reason,
		.fetched = c->fetched,
		.fetch_result = c->fetch_result,
		.fetch_error = c->fetch_error,
		.changed_same_id = c->changed_same_id,
		.body = c->body,
		.body_len = c->body != NULL ? strlen(c->body) : 0,
		.mx_hosts = mx,
		.nmx = 2,
		.every_host_dane = c->every_host_dane,
		.now = T0,
	};
	struct audit_findings f = {0};
	bool covered[2] = {true, true};
	enum audit_sts_mode m = audit_sts(&v, &f, covered);
	char got[1024];
	summary(&f, got, sizeof got);
	ck_assert_msg(strcmp(got, c->expect) == 0, "%s: got \"%s\", want \"%s\"", c->name, got,
		      c->expect);
	ck_assert_msg((int)m == c->mode, "%s: mode %d, want %d", c->name, (int)m, c->mode);
	ck_assert_msg(covered[0] == c->covered0 && covered[1] == c->covered1, "%s: covered %d %d",
		      c->name, covered[0], covered[1]);
	/* Every finding says what to do, except the info ones which may not. */
	for (size_t i = 0; i < f.n; i++)
		ck_assert_msg(f.item[i].severity == AUDIT_INFO || f.item[i].fix[0] != '\0',
			      "%s: %s without a fix", c->name, f.item[i].code);
	audit_findings_clear(&f);
}
END_TEST

/* The not-covered fix names the host and a new id built from the clock. */
START_TEST(sts_fix_text)
{
	const char *mx[] = {"mx1.example.test", "mx2.example.test"};
	struct audit_sts_view v = {.domain = "example.test",
				   .txt_state = "valid",
				   .txt = "v=STSv1; id=1",
				   .fetched = true,
				   .fetch_result = MXTLS_RESULT_OK,
				   .body = CRLF_ENFORCE,
				   .body_len = strlen(CRLF_ENFORCE),
				   .mx_hosts = mx,
				   .nmx = 2,
				   .now = T0};
	struct audit_findings f = {0};
	audit_sts(&v, &f, NULL);
	ck_assert_uint_eq(f.n, 1);
	ck_assert_str_eq(f.item[0].host, "mx2.example.test");
	ck_assert_str_eq(
		f.item[0].fix,
		"add the line \"mx: mx2.example.test\" to the policy file, then change "
		"the record to _mta-sts.example.test. IN TXT \"v=STSv1; id=20261130005320\"");
	audit_findings_clear(&f);
}
END_TEST

START_TEST(readiness)
{
	struct audit_findings f = {0};
	audit_sts_readiness("example.test", &f, 0);
	audit_sts_readiness("example.test", &f, 2);
	char got[256];
	summary(&f, got, sizeof got);
	ck_assert_str_eq(got, "info:sts-ready-for-enforce info:sts-not-ready");
	ck_assert_str_eq(f.item[1].message,
			 "mode testing: 2 findings would stop mail under enforce");
	audit_findings_clear(&f);
}
END_TEST

/* ---- the findings list ---- */

START_TEST(findings_order)
{
	struct audit_findings f = {0};
	audit_add(&f, AUDIT_INFO, "i1", NULL, NULL, "a");
	audit_add(&f, AUDIT_ERROR, "e1", "h", "fix", "b %d", 1);
	audit_add(&f, AUDIT_WARNING, "w1", NULL, NULL, "c");
	audit_add(&f, AUDIT_ERROR, "e2", NULL, NULL, "d");
	audit_findings_sort(&f);
	char got[256];
	summary(&f, got, sizeof got);
	ck_assert_str_eq(got, "error:e1 error:e2 warning:w1 info:i1");
	ck_assert_str_eq(f.item[0].message, "b 1");
	ck_assert_str_eq(f.item[3].fix, "");
	ck_assert_ptr_null(f.item[1].host);
	ck_assert_uint_eq(audit_findings_count(&f, AUDIT_ERROR), 2);
	ck_assert(audit_findings_has(&f, "e1", "h"));
	ck_assert(!audit_findings_has(&f, "e1", "other"));
	audit_findings_clear(&f);
	ck_assert_uint_eq(f.n, 0);
}
END_TEST

/* ---- TLSA rollover (AUD-DANE-10) ---- */

enum rec_of { LEAF, ISSUER, OTHER };

static const struct rollover_case {
	const char *name;
	const char *chain; /* vectors/dane/chains/NAME.pem, or certs/ when leaf_only */
	bool leaf_only;
	struct {
		unsigned usage, selector;
		enum rec_of of;
	} rec[3];
	size_t nrec;
	bool risk;
	const char *fix_has; /* a piece of the fix, when risk */
} rollover_cases[] = {
	/* hostile: records that match nothing are the mismatch check's business, not this one's */
	{"no record matches", "short", false, {{3, 1, OTHER}}, 1, false, NULL},
	{"3 0 1 of a long-lived certificate still breaks at renewal",
	 "std",
	 false,
	 {{3, 0, LEAF}},
	 1,
	 true,
	 "3 1 1 "},
	{"3 0 1 of a short-lived certificate", "short", false, {{3, 0, LEAF}}, 1, true, "2 1 1 "},
	{"3 1 1 of a 181-day CA-issued certificate",
	 "short",
	 false,
	 {{3, 1, LEAF}},
	 1,
	 true,
	 "IN TLSA 2 1 1 "},
	{"3 1 1 of a 181-day certificate sent without its issuer",
	 "leaf-short",
	 true,
	 {{3, 1, LEAF}},
	 1,
	 true,
	 "send the issuer certificate too"},
	{"3 1 1 of a four-year CA-issued certificate",
	 "std",
	 false,
	 {{3, 1, LEAF}},
	 1,
	 false,
	 NULL},
	{"3 1 1 of a self-signed certificate", "selfsigned", false, {{3, 1, LEAF}}, 1, false, NULL},
	{"next key published ahead", "short", false, {{3, 1, LEAF}, {3, 1, OTHER}}, 2, false, NULL},
	{"issuer pinned too", "short", false, {{3, 1, LEAF}, {2, 1, ISSUER}}, 2, false, NULL},
};

static char *read_vector(const char *rel)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/dane/%s", VECTORS_DIR, rel);
	FILE *fp = fopen(path, "rb");
	ck_assert_msg(fp != NULL, "%s", path);
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return buf;
}

static void record(struct dane_tlsa *t, unsigned usage, unsigned selector,
		   const struct dane_chain *c, size_t cert)
{
	uint8_t *data = NULL;
	size_t n = 0;
	ck_assert_int_eq(dane_cert_association(c->certs[cert].der, c->certs[cert].len,
					       (uint8_t)selector, 1, &data, &n),
			 MXTLS_OK);
	uint8_t rdata[3 + 64];
	rdata[0] = (uint8_t)usage;
	rdata[1] = (uint8_t)selector;
	rdata[2] = 1;
	memcpy(rdata + 3, data, n);
	free(data);
	ck_assert_int_eq(dane_tlsa_from_rdata(rdata, 3 + n, t), MXTLS_OK);
	ck_assert(t->usable);
}

START_TEST(rollover)
{
	const struct rollover_case *c = &rollover_cases[_i];
	char rel[128];
	snprintf(rel, sizeof rel, "%s/%s.pem", c->leaf_only ? "certs" : "chains", c->chain);
	const char *pem = read_vector(rel);
	struct dane_chain chain, other;
	ck_assert_int_eq(dane_chain_from_pem(pem, strlen(pem), &chain), MXTLS_OK);
	pem = read_vector("certs/leaf-unrelated.pem");
	ck_assert_int_eq(dane_chain_from_pem(pem, strlen(pem), &other), MXTLS_OK);
	struct dane_tlsa set[3];
	for (size_t k = 0; k < c->nrec; k++) {
		const struct dane_chain *src = c->rec[k].of == OTHER ? &other : &chain;
		record(&set[k], c->rec[k].usage, c->rec[k].selector, src,
		       c->rec[k].of == ISSUER ? 1 : 0);
	}
	struct audit_findings f = {0};
	audit_tlsa_rollover("mx.example.test", set, c->nrec, &chain, T0, &f);
	ck_assert_msg(f.n == (c->risk ? 1u : 0u), "%s: %zu findings", c->name, f.n);
	if (c->risk) {
		ck_assert_str_eq(f.item[0].code, "tlsa-rollover-risk");
		ck_assert_int_eq(f.item[0].severity, AUDIT_WARNING);
		ck_assert_msg(strstr(f.item[0].fix, c->fix_has) != NULL, "%s: fix \"%s\"", c->name,
			      f.item[0].fix);
	}
	audit_findings_clear(&f);
	for (size_t k = 0; k < c->nrec; k++)
		dane_tlsa_clear(&set[k]);
	dane_chain_clear(&chain);
	dane_chain_clear(&other);
}
END_TEST

/* The 2 1 1 the fix proposes is the issuer's SPKI digest, exactly. */
START_TEST(rollover_issuer_record)
{
	const char *pem = read_vector("chains/short.pem");
	struct dane_chain chain;
	ck_assert_int_eq(dane_chain_from_pem(pem, strlen(pem), &chain), MXTLS_OK);
	struct dane_tlsa leaf, issuer;
	record(&leaf, 3, 1, &chain, 0);
	record(&issuer, 2, 1, &chain, 1);
	struct audit_findings f = {0};
	audit_tlsa_rollover("mx.example.test", &leaf, 1, &chain, T0, &f);
	ck_assert_uint_eq(f.n, 1);
	char want[256];
	snprintf(want, sizeof want, "IN TLSA %s (the issuing CA's key", issuer.text);
	ck_assert_msg(strstr(f.item[0].fix, want) != NULL, "fix \"%s\"", f.item[0].fix);
	ck_assert_msg(strstr(f.item[0].message, "181-day") != NULL, "%s", f.item[0].message);
	audit_findings_clear(&f);
	dane_tlsa_clear(&leaf);
	dane_tlsa_clear(&issuer);
	dane_chain_clear(&chain);
}
END_TEST

static Suite *owner_audit_suite(void)
{
	Suite *s = suite_create("owner_audit");
	TCase *tc = tcase_create("sts");
	tcase_add_loop_test(tc, sts_view, 0, ARRAY_LEN(sts_cases));
	tcase_add_test(tc, sts_fix_text);
	tcase_add_test(tc, readiness);
	suite_add_tcase(s, tc);
	tc = tcase_create("findings");
	tcase_add_test(tc, findings_order);
	suite_add_tcase(s, tc);
	tc = tcase_create("rollover");
	tcase_add_loop_test(tc, rollover, 0, ARRAY_LEN(rollover_cases));
	tcase_add_test(tc, rollover_issuer_record);
	suite_add_tcase(s, tc);
	return s;
}

MXTLS_TEST_MAIN(owner_audit_suite)
