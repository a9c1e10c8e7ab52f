/* SPDX-License-Identifier: MIT */
/* Shared main() for the Check unit-test binaries: runs one suite, reports TAP on stdout. */
#ifndef MXTLS_TEST_MAIN_H
#define MXTLS_TEST_MAIN_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * A private directory for a test case's files: test_tmp_setup() makes it under $TMPDIR (else
 * /tmp) and test_tmp_teardown() removes it with everything in it.  Register them with
 * tcase_add_unchecked_fixture(): they run in the test runner itself, so the directory goes even
 * when a test fails (a failing test's own process ends without cleaning up).  Tests make their
 * files and directories below test_tmp_root.
 */
static char test_tmp_root[512];

static inline void test_tmp_setup(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(test_tmp_root, sizeof test_tmp_root, "%s/mxtls-unit.XXXXXX",
		 t != NULL && t[0] != '\0' ? t : "/tmp");
	if (mkdtemp(test_tmp_root) == NULL)
		test_tmp_root[0] = '\0';
}

static inline int test_tmp_remove_one(const char *path, const struct stat *sb, int flag,
				      struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void test_tmp_teardown(void)
{
	if (test_tmp_root[0] != '\0')
		nftw(test_tmp_root, test_tmp_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

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
