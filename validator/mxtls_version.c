/* SPDX-License-Identifier: MIT */
/* mxtls_version(): the release this library was built from. */
#include <mxtls/mxtls.h>

#include "mxtls_build.h"

const char *mxtls_version(void)
{
	return MXTLS_VERSION;
}
