/* SPDX-License-Identifier: MIT */
/* mxtls_free(): releases memory the library handed out. */
#include <stdlib.h>

#include <mxtls/mxtls.h>

void mxtls_free(void *p)
{
	free(p);
}
