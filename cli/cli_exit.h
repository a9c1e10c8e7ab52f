/* SPDX-License-Identifier: MIT */
/* Exit codes of the mxtls command (sysexits values, CLI.md). */
#ifndef MXTLS_CLI_EXIT_H
#define MXTLS_CLI_EXIT_H

enum cli_exit {
	EXIT_OK = 0,          /* delivered / authenticated / valid */
	EXIT_NEGATIVE = 1,    /* a negative verdict: not authenticated / policy invalid */
	EXIT_USAGE = 64,      /* bad command line */
	EXIT_DATAERR = 65,    /* bad input data */
	EXIT_UNAVAILABLE = 69, /* permanent delivery failure */
	EXIT_SOFTWARE = 70,   /* an internal error (a bug in mxtls) */
	EXIT_TEMPFAIL = 75,   /* temporary failure: try again later */
	EXIT_CONFIG = 78,     /* configuration error */
};

#endif
