/*
 * cutest.h -- what every CUnit test program's main() does.
 */
#ifndef DFS_CUTEST_H
#define DFS_CUTEST_H

#include <CUnit/Basic.h>

/*
 * Registers the suites, runs them verbosely and returns the exit status:
 * 0 when every test passed and every suite set up and cleaned up, 1
 * otherwise, 2 when CUnit itself failed.  CU_basic_run_tests() reports
 * only framework errors, hence the counts.
 */
int	cutest_run(CU_SuiteInfo *suites);

#endif
