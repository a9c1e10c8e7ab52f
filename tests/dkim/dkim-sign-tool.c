/* SPDX-License-Identifier: MIT */
/* Test driver: signs the message on stdin with dkim_sign() and prints the DKIM-Signature field.
 * Usage: dkim-sign-tool KEY.pem DOMAIN SELECTOR UNIX-TIME < message > field
 * (used by verify-dkim.py, which checks the signatures with python3-dkim). */
#include <stdio.h>
#include <stdlib.h>

#include <mxtls/error.h>

#include "dkim/dkim_sign.h"

static char *slurp(FILE *f, size_t max, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);
	while (b != NULL) {
		size_t r = fread(b + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
		if (n == cap) {
			if (cap >= max) {
				free(b);
				return NULL;
			}
			char *nb = realloc(b, cap * 2);
			if (nb == NULL)
				free(b);
			b = nb;
			cap *= 2;
		}
	}
	*len = n;
	return b;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: %s KEY.pem DOMAIN SELECTOR UNIX-TIME < message\n", argv[0]);
		return 2;
	}
	FILE *kf = fopen(argv[1], "rb");
	if (kf == NULL) {
		perror(argv[1]);
		return 1;
	}
	size_t klen = 0, mlen = 0;
	char *pem = slurp(kf, DKIM_KEY_PEM_MAX, &klen);
	fclose(kf);
	char *msg = slurp(stdin, DKIM_MESSAGE_MAX, &mlen);
	if (pem == NULL || msg == NULL) {
		fprintf(stderr, "cannot read the key or the message\n");
		return 1;
	}
	struct dkim_key *k = NULL;
	int rc = dkim_key_load_pem(pem, klen, &k);
	free(pem);
	if (rc != MXTLS_OK) {
		fprintf(stderr, "%s: %s\n", argv[1], mxtls_strerror(rc));
		free(msg);
		return 1;
	}
	struct dkim_sign_params p = {argv[2], argv[3], strtoll(argv[4], NULL, 10), NULL};
	char *out = NULL;
	size_t olen = 0;
	rc = dkim_sign(k, &p, msg, mlen, &out, &olen);
	dkim_key_free(k);
	free(msg);
	if (rc != MXTLS_OK) {
		fprintf(stderr, "dkim_sign: %s\n", mxtls_strerror(rc));
		return 1;
	}
	fwrite(out, 1, olen, stdout);
	free(out);
	return 0;
}
