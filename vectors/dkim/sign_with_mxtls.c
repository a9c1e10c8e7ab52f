/* SPDX-License-Identifier: MIT */
/* Writes msgs/mxtls-*.eml: stdin signed by mxtls's own dkim_sign() (see README.md).  Not built
 * by meson: cc -I../.. -I../../include sign_with_mxtls.c ../../build/dkim/libmxtls_dkim.a
 * ../../build/util/libmxtls_util.a -lgnutls */
#include <stdio.h>
#include <stdlib.h>

#include <mxtls/error.h>

#include "dkim/dkim_sign.h"

int main(int argc, char **argv)
{
	if (argc != 5)
		return 2;
	static char pem[DKIM_KEY_PEM_MAX], msg[1 << 20];
	FILE *f = fopen(argv[1], "rb");
	if (f == NULL)
		return 1;
	size_t pl = fread(pem, 1, sizeof pem, f);
	fclose(f);
	size_t ml = fread(msg, 1, sizeof msg, stdin);
	struct dkim_key *k = NULL;
	if (dkim_key_load_pem(pem, pl, &k) != MXTLS_OK)
		return 1;
	struct dkim_sign_params p = {argv[2], argv[3], strtoll(argv[4], NULL, 10), NULL};
	char *out = NULL;
	size_t len = 0;
	if (dkim_sign(k, &p, msg, ml, &out, &len) != MXTLS_OK)
		return 1;
	fwrite(out, 1, len, stdout);
	fwrite(msg, 1, ml, stdout);
	free(out);
	dkim_key_free(k);
	return 0;
}
