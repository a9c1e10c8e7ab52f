/* SPDX-License-Identifier: MIT */
/* The public API from an application's own libevent loop: decisions at once, then verify. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <mxtls/mxtls.h>

static int failures, count;

static void check(int ok, const char *what, const char *diag)
{
	count++;
	printf("%s %d - %s\n", ok ? "ok" : "not ok", count, what);
	if (!ok) {
		failures++;
		if (diag != NULL && diag[0] != '\0')
			printf("# %s\n", diag);
	}
}

struct slot {
	const char *domain;
	struct mxtls_decision *d;
	int err;
	int done;
};

static int pending;

static void on_decided(void *arg, struct mxtls_decision *d, int err)
{
	struct slot *s = arg;
	s->d = d;
	s->err = err;
	s->done = 1;
	pending--;
}

/* The certificates of a PEM file as DER (gnutls_free each), leaf first. */
static size_t load_chain(const char *path, gnutls_datum_t *der, size_t max)
{
	gnutls_datum_t pem;
	if (gnutls_load_file(path, &pem) < 0)
		return 0;
	gnutls_x509_crt_t *crts = NULL;
	unsigned int n = 0;
	if (gnutls_x509_crt_list_import2(&crts, &n, &pem, GNUTLS_X509_FMT_PEM, 0) < 0)
		n = 0;
	size_t k = 0;
	for (unsigned i = 0; i < n; i++) {
		if (k < max && gnutls_x509_crt_export2(crts[i], GNUTLS_X509_FMT_DER, &der[k]) >= 0)
			k++;
		gnutls_x509_crt_deinit(crts[i]);
	}
	gnutls_free(crts);
	gnutls_free(pem.data);
	return k;
}

/* Verifies the chain in PKI_DIR/smtp/<file> for host 0 of d; returns the result name. */
static const char *verify_file(struct mxtls_ctx *ctx, const struct mxtls_decision *d,
			       const char *file, const char **reported)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/smtp/%s", getenv("MXTLS_TEST_PKI_DIR"), file);
	gnutls_datum_t der[8];
	size_t n = load_chain(path, der, 8);
	const unsigned char *p[8];
	size_t len[8];
	for (size_t i = 0; i < n; i++) {
		p[i] = der[i].data;
		len[i] = der[i].size;
	}
	enum mxtls_result r = MXTLS_RESULT_OK, rep = MXTLS_RESULT_OK;
	char reason[256];
	int rc = mxtls_decision_verify(ctx, d, 0, p, len, n, &r, &rep, reason, sizeof reason);
	for (size_t i = 0; i < n; i++)
		gnutls_free(der[i].data);
	if (reported != NULL)
		*reported = mxtls_result_name(rep);
	return rc == MXTLS_OK && n > 0 ? mxtls_result_name(r) : "error";
}

int main(void)
{
	struct mxtls_config *cfg;
	struct mxtls_ctx *ctx;
	char err[512];
	char state[] = "/tmp/mxtls-api-async.XXXXXX";
	if (mkdtemp(state) == NULL || mxtls_config_new(&cfg) != MXTLS_OK)
		return 1;
	if (mxtls_config_set(cfg, "unbound-conf", getenv("MXTLS_TEST_UNBOUND_CONF"), err,
			     sizeof err) != MXTLS_OK ||
	    mxtls_config_set(cfg, "ca-file", getenv("MXTLS_TEST_CA_FILE"), err, sizeof err) !=
		    MXTLS_OK ||
	    mxtls_config_set(cfg, "state-dir", state, err, sizeof err) != MXTLS_OK ||
	    mxtls_ctx_new(cfg, &ctx, err, sizeof err) != MXTLS_OK) {
		fprintf(stderr, "set-up: %s\n", err);
		return 1;
	}
	mxtls_config_free(cfg);

	/* The application's loop, handed to the library before any lookup. */
	struct event_base *base = event_base_new();
	check(mxtls_ctx_set_event_base(ctx, base) == MXTLS_OK, "set_event_base accepted", NULL);
	check(mxtls_ctx_set_event_base(ctx, base) == MXTLS_E_INVAL,
	      "set_event_base refused a second time", NULL);

	struct slot slots[] = {{.domain = "dane-ee.mail.test"}, {.domain = "enforce.sts.test"},
			       {.domain = "testing.sts.test"}, {.domain = "plain.test"},
			       {.domain = "nx.mail.test"}};
	const char *modes[] = {"dane", "mta-sts-enforce", "mta-sts-testing", "opportunistic",
			       "undeliverable"};
	size_t ns = sizeof slots / sizeof slots[0];
	for (size_t i = 0; i < ns; i++) {
		int rc = mxtls_decide_start(ctx, slots[i].domain, on_decided, &slots[i], NULL, err,
					    sizeof err);
		check(rc == MXTLS_OK, "decide_start", err);
		if (rc == MXTLS_OK)
			pending++;
	}
	check(pending == (int)ns && !slots[0].done, "no callback runs inside decide_start", NULL);
	/* One cancelled decision: its callback must never run. */
	struct slot cancelled = {.domain = "dane-ta.mail.test"};
	struct mxtls_decide_op *op = NULL;
	check(mxtls_decide_start(ctx, cancelled.domain, on_decided, &cancelled, &op, err,
				 sizeof err) == MXTLS_OK,
	      "decide_start (to be cancelled)", err);
	mxtls_decide_cancel(op);
	while (pending > 0)
		event_base_loop(base, EVLOOP_ONCE);
	for (size_t i = 0; i < ns; i++) {
		char what[160], diag[256];
		snprintf(what, sizeof what, "%s decided on the application's loop: mode %s",
			 slots[i].domain, modes[i]);
		snprintf(diag, sizeof diag, "err %d mode %s", slots[i].err,
			 slots[i].d != NULL ? mxtls_decision_mode(slots[i].d) : "-");
		check(slots[i].err == MXTLS_OK && slots[i].d != NULL &&
			      strcmp(mxtls_decision_mode(slots[i].d), modes[i]) == 0,
		      what, diag);
	}
	check(!cancelled.done, "a cancelled decision never calls back", NULL);

	/* verify with the chains the test network's servers present (tests/net/smtp-pki.sh). */
	const char *rep = NULL;
	if (slots[0].d != NULL) {
		check(strcmp(verify_file(ctx, slots[0].d, "mx1.dane-ee.mail.test.pem", NULL), "ok") ==
			      0,
		      "dane-ee: the served self-signed chain authenticates (3 1 1)", NULL);
		check(strcmp(verify_file(ctx, slots[0].d, "mx1.plain.test.pem", NULL),
			     "tlsa-invalid") == 0,
		      "dane-ee: another server's chain is refused: tlsa-invalid", NULL);
	}
	if (slots[1].d != NULL) {
		check(strcmp(verify_file(ctx, slots[1].d, "mx1.enforce.sts.test.pem", NULL), "ok") ==
			      0,
		      "enforce: the web-valid chain for mx1 passes", NULL);
		check(strcmp(verify_file(ctx, slots[1].d, "mx1.stsbadcert.sts.test.pem", NULL),
			     "certificate-not-trusted") == 0,
		      "enforce: a self-signed chain: certificate-not-trusted", NULL);
		check(strcmp(verify_file(ctx, slots[1].d, "mx1.stswild.sts.test.pem", NULL),
			     "certificate-host-mismatch") == 0,
		      "enforce: a trusted chain for another name: certificate-host-mismatch", NULL);
	}
	if (slots[2].d != NULL) {
		const char *r = verify_file(ctx, slots[2].d, "mx1.stswild.sts.test.pem", &rep);
		check(strcmp(r, "ok") == 0 && strcmp(rep, "certificate-host-mismatch") == 0,
		      "testing: a wrong name is reported, not enforced", r);
	}
	if (slots[3].d != NULL)
		check(strcmp(verify_file(ctx, slots[3].d, "mx1.dane-ee.mail.test.pem", NULL), "ok") ==
			      0,
		      "opportunistic: any chain is accepted", NULL);
	if (slots[4].d != NULL) {
		enum mxtls_result r;
		char reason[128];
		check(mxtls_decision_verify(ctx, slots[4].d, 0, NULL, NULL, 0, &r, NULL, reason,
					    sizeof reason) == MXTLS_E_INVAL,
		      "verify on a domain without hosts: MXTLS_E_INVAL", NULL);
	}
	for (size_t i = 0; i < ns; i++)
		mxtls_decision_free(slots[i].d);
	mxtls_ctx_free(ctx);
	event_base_free(base); /* the application's: freed after the context */
	printf("1..%d\n", count);
	return failures == 0 ? 0 : 1;
}
