/*
 * t_status.c -- lib/status.c: a message and a name for every dfs_stat.
 *
 * The table below lists every enumerator of enum dfs_stat in
 * proto/dfs_types.x; a new status needs a row here and one in status.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "dfs_types.h"
#include "status.h"

struct stat_case {
	int		 code;
	const char	*name;		/* the enumerator without DFS_ERR_ */
	int		 err;		/* the errno it equals, or 0 */
};

#define E(x, e)	{ DFS_ERR_##x, #x, e }

static const struct stat_case cases[] = {
	{ DFS_OK, "OK", 0 },
	E(PERM, EPERM),
	E(NOENT, ENOENT),
	E(IO, EIO),
	E(NOMEM, ENOMEM),
	E(ACCES, EACCES),
	E(EXIST, EEXIST),
	E(XDEV, EXDEV),
	E(NOTDIR, ENOTDIR),
	E(ISDIR, EISDIR),
	E(INVAL, EINVAL),
	E(FBIG, EFBIG),
	E(NOSPC, ENOSPC),
	E(ROFS, EROFS),
	E(NAMETOOLONG, ENAMETOOLONG),
	E(NOTEMPTY, ENOTEMPTY),
	E(NOTSUPP, EOPNOTSUPP),
	E(STALE, 0),
	E(LOCKED, 0),
	E(BADHANDLE, 0),
	E(EXPIRED, 0),
	E(GRACE, 0),
	E(RESOURCE, 0),
	E(OP_ILLEGAL, 0),
	E(BADLOCK, 0),
	E(NOFILEHANDLE, 0),
	E(BADCOOKIE, 0),
	E(NOSERVER, 0),
	E(DELAY, 0),
	E(SERVERFAULT, 0),
	E(CHANGED, 0),
	E(LIMIT, 0),
	E(STANDBY, 0),
	E(RPC, 0),
	E(TIMEDOUT, 0),
	E(PROTO, 0),
};

#define NCASES	(sizeof(cases) / sizeof(cases[0]))

static void
test_status__every_code_known(void)
{
	const char	*msg, *name;
	size_t		 i;

	for (i = 0; i < NCASES; i++) {
		msg = dfs_strerror(cases[i].code);
		name = dfs_statname(cases[i].code);
		CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
		CU_ASSERT_PTR_NOT_NULL_FATAL(name);
		if (strcmp(msg, "Unknown error") == 0 ||
		    strcmp(name, cases[i].name) != 0)
			fprintf(stderr, "\n%d: '%s' '%s'\n", cases[i].code,
			    name, msg);
		CU_ASSERT_STRING_NOT_EQUAL(msg, "Unknown error");
		CU_ASSERT(strlen(msg) > 0);
		CU_ASSERT_STRING_NOT_EQUAL(name, "UNKNOWN");
		CU_ASSERT_STRING_EQUAL(name, cases[i].name);
	}
}

/* Statuses that are errno values read exactly as strerror(3) has it;
 * the others do not pass for an errno message. */
static void
test_status__errno_text(void)
{
	size_t	i;

	for (i = 0; i < NCASES; i++) {
		if (cases[i].err == 0)
			continue;
		CU_ASSERT_EQUAL(cases[i].code, cases[i].err);
		CU_ASSERT_STRING_EQUAL(dfs_strerror(cases[i].code),
		    strerror(cases[i].err));
	}
}

/* Two codes never share a message or a name. */
static void
test_status__distinct(void)
{
	size_t	i, j;

	for (i = 0; i < NCASES; i++)
		for (j = i + 1; j < NCASES; j++) {
			CU_ASSERT_STRING_NOT_EQUAL(
			    dfs_strerror(cases[i].code),
			    dfs_strerror(cases[j].code));
			CU_ASSERT_STRING_NOT_EQUAL(
			    dfs_statname(cases[i].code),
			    dfs_statname(cases[j].code));
		}
}

static void
test_status__either_sign(void)
{
	size_t	i;

	for (i = 0; i < NCASES; i++) {
		CU_ASSERT_STRING_EQUAL(dfs_strerror(-cases[i].code),
		    dfs_strerror(cases[i].code));
		CU_ASSERT_STRING_EQUAL(dfs_statname(-cases[i].code),
		    dfs_statname(cases[i].code));
	}
}

static void
test_status__unknown(void)
{
	static const int	 unknown[] = { 3, 4, 10000, 10015, 20000,
	    20004, 4242, -4242, INT_MAX, INT_MIN, INT_MIN + 1 };
	size_t			 i;

	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		CU_ASSERT_STRING_EQUAL(dfs_strerror(unknown[i]),
		    "Unknown error");
		CU_ASSERT_STRING_EQUAL(dfs_statname(unknown[i]), "UNKNOWN");
	}
}

static CU_TestInfo status_tests[] = {
	{ "every_code_known",	test_status__every_code_known },
	{ "errno_text",		test_status__errno_text },
	{ "distinct",		test_status__distinct },
	{ "either_sign",	test_status__either_sign },
	{ "unknown",		test_status__unknown },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "status", NULL, NULL, NULL, NULL, status_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
