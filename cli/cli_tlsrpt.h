/* SPDX-License-Identifier: MIT */
/* What the tlsrpt commands share. */
#ifndef MXTLS_CLI_TLSRPT_H
#define MXTLS_CLI_TLSRPT_H

#include <stdio.h>

#include <mxtls/mxtls.h>

/* The exit code for an error rc of mxtls_tlsrpt_report() / mxtls_tlsrpt_send(): 64 a bad
 * argument, 78 a setting, 75 the store, a directory or another send run (worth another
 * try), 70 anything else (no memory, a bug). */
int cli_tlsrpt_exit(int rc);

/* The summary s (of the last days) as one self-contained HTML page on out.  0, or -1 when
 * writing failed. */
int cli_tlsrpt_html(FILE *out, const struct mxtls_report_summary *s, unsigned days);

#endif
