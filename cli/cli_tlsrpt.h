/* SPDX-License-Identifier: MIT */
/* What the tlsrpt commands share. */
#ifndef MXTLS_CLI_TLSRPT_H
#define MXTLS_CLI_TLSRPT_H

/* The exit code for an error rc of mxtls_tlsrpt_report() / mxtls_tlsrpt_send(): 64 a bad
 * argument, 78 a setting, 75 the store, a directory or another send run (worth another
 * try), 70 anything else (no memory, a bug). */
int cli_tlsrpt_exit(int rc);

#endif
