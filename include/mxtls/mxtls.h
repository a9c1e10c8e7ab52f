/* SPDX-License-Identifier: MIT */
/* The mxtls public API: include this one header. */
#ifndef MXTLS_MXTLS_H
#define MXTLS_MXTLS_H

#include <mxtls/audit.h>
#include <mxtls/check.h>
#include <mxtls/config.h>
#include <mxtls/context.h>
#include <mxtls/dane.h>
#include <mxtls/error.h>
#include <mxtls/log.h>
#include <mxtls/publish.h>
#include <mxtls/queue.h>
#include <mxtls/reports.h>
#include <mxtls/result.h>
#include <mxtls/send.h>
#include <mxtls/serve.h>
#include <mxtls/store.h>
#include <mxtls/sts.h>
#include <mxtls/sts_fetch.h>
#include <mxtls/tlsrpt.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, e.g. "0.1.0".  Static string. */
MXTLS_API const char *mxtls_version(void);

/* Frees memory the library handed to the caller where a prototype says so; NULL is a no-op. */
MXTLS_API void mxtls_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
