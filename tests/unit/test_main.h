/* SPDX-License-Identifier: MIT */
/* Shared main() for the Check unit-test binaries: runs one suite, reports TAP on stdout. */
#ifndef MXTLS_TEST_MAIN_H
#define MXTLS_TEST_MAIN_H

#include <check.h>
#include <stdlib.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Defines main() running the suite returned by make_suite(). */
#define MXTLS_TEST_MAIN(make_suite)                                   \
	int main(void)                                                  \
	{                                                               \
		SRunner *sr = srunner_create(make_suite());              \
		srunner_set_tap(sr, "-");                                \
		srunner_run_all(sr, CK_SILENT);                          \
		int failed = srunner_ntests_failed(sr);                  \
		srunner_free(sr);                                        \
		return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;        \
	}

#endif
