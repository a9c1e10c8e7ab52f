/* SPDX-License-Identifier: MIT */
/* Test driver: builds a fixed RFC 8460 mail report (tlsrpt_report_json/_gzip, tlsrpt_mail_build)
 * and prints it, DKIM-signed with dkim_sign() over the default fields plus TLS-Report-Domain and
 * TLS-Report-Submitter (RFC 8460 §3, §5.3).  Usage: tlsrpt-mail-tool KEY.pem SELECTOR UNIX-TIME
 * (d= is the submitter domain, mail.example.com); with KEY.pem "-" the message is printed
 * unsigned.  Used by check-mail-dkim.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mxtls/error.h>

#include "dkim/dkim_sign.h"
#include "tlsrpt/tlsrpt_mail.h"
#include "tlsrpt/tlsrpt_report.h"

static int report(uint8_t **gz, size_t *gzlen)
{
	static const char *const strings[] = {"version: STSv1", "mode: enforce",
					      "mx: mx.example.net", "max_age: 604800"};
	static const char *const mx[] = {"mx.example.net"};
	static const struct tlsrpt_failure fail = {.result_type = "certificate-expired",
						   .sending_mta_ip = "192.0.2.1",
						   .receiving_mx_hostname = "mx.example.net",
						   .receiving_ip = "198.51.100.7",
						   .count = 2};
	struct tlsrpt_policy p = {.type = TLSRPT_POLICY_STS,
				  .domain = "example.net",
				  .strings = strings,
				  .nstrings = 4,
				  .mx = mx,
				  .nmx = 1,
				  .successes = 10,
				  .failures = 2,
				  .details = &fail,
				  .ndetails = 1};
	struct tlsrpt_report_in in = {.organization = "Example Mail",
				      .contact = "tlsrpt@mail.example.com",
				      .report_id = "2026-12-05.1@mail.example.com",
				      .day = 20792,
				      .policies = &p,
				      .npolicies = 1};
	char *json = NULL;
	size_t jlen = 0;
	int rc = tlsrpt_report_json(&in, &json, &jlen);
	if (rc == MXTLS_OK)
		rc = tlsrpt_report_gzip(json, jlen, gz, gzlen);
	free(json);
	return rc;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *b = malloc(DKIM_KEY_PEM_MAX);
	*len = b != NULL ? fread(b, 1, DKIM_KEY_PEM_MAX, f) : 0;
	fclose(f);
	return b;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s KEY.pem|- SELECTOR UNIX-TIME\n", argv[0]);
		return 2;
	}
	uint8_t *gz = NULL;
	size_t gzlen = 0;
	int rc = report(&gz, &gzlen);
	if (rc != MXTLS_OK) {
		fprintf(stderr, "report: %s\n", mxtls_strerror(rc));
		return 1;
	}
	char fname[256];
	tlsrpt_report_filename("mail.example.com", "example.net", 20792, fname, sizeof fname);
	struct tlsrpt_mail_in in = {
		.policy_domain = "example.net",
		.submitter = "mail.example.com",
		.from = "tlsrpt@mail.example.com",
		.to = "tlsrpt-reports@example.net",
		.date = strtoll(argv[3], NULL, 10),
		.day = 20792,
		.message_id = "2026-12-05.1.mxtls@mail.example.com",
		.report_id = "2026-12-05.1@mail.example.com",
		.boundary = "=_mxtls_report_boundary",
		.filename = fname,
		.report = gz,
		.report_len = gzlen,
	};
	char *msg = NULL;
	size_t mlen = 0;
	rc = tlsrpt_mail_build(&in, &msg, &mlen);
	free(gz);
	if (rc != MXTLS_OK) {
		fprintf(stderr, "tlsrpt_mail_build: %s\n", mxtls_strerror(rc));
		return 1;
	}
	if (strcmp(argv[1], "-") != 0) {
		size_t klen = 0;
		char *pem = slurp(argv[1], &klen);
		struct dkim_key *k = NULL;
		rc = pem != NULL ? dkim_key_load_pem(pem, klen, &k) : MXTLS_E_IO;
		free(pem);
		/* RFC 8460 §5.3: the two TLS-Report fields SHOULD be signed */
		const char *headers[32];
		size_t n = 0;
		while (dkim_sign_default_headers[n] != NULL && n < 29) {
			headers[n] = dkim_sign_default_headers[n];
			n++;
		}
		headers[n++] = "TLS-Report-Domain";
		headers[n++] = "TLS-Report-Submitter";
		headers[n] = NULL;
		struct dkim_sign_params p = {"mail.example.com", argv[2], in.date, headers};
		char *field = NULL;
		size_t flen = 0;
		if (rc == MXTLS_OK)
			rc = dkim_sign(k, &p, msg, mlen, &field, &flen);
		dkim_key_free(k);
		if (rc != MXTLS_OK) {
			fprintf(stderr, "signing: %s\n", mxtls_strerror(rc));
			free(msg);
			return 1;
		}
		fwrite(field, 1, flen, stdout);
		free(field);
	}
	fwrite(msg, 1, mlen, stdout);
	free(msg);
	return 0;
}
