/*
 * it_rpcbind.c -- the three daemons on the real rpcbind.
 *
 * Started without -N, each registers its program; `rpcinfo -p` lists all
 * three and `rpcinfo -t 127.0.0.1 PROG 1` answers for each.  The lock and
 * file servers are given the name server as a bare host (-s 127.0.0.1),
 * so they find its port through rpcbind too.  After SIGTERM, each exits 0
 * and nothing of ours is left registered.
 *
 * Skips (exit 77) when no rpcbind answers, or when dfs programs are
 * already registered (a local cluster is running: we would take over its
 * registrations).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "harness.h"

static const char *progs[3] = { "543450625", "543450626", "543450627" };

static char		 root[256];
static struct dproc	 named, lockd, filed;

/* Runs a shell command; returns its output (static) or NULL. */
static const char *
run(const char *cmd)
{
	static char	out[65536];
	size_t		n;
	FILE		*fp;

	fp = popen(cmd, "r");
	if (fp == NULL)
		return NULL;
	n = fread(out, 1, sizeof(out) - 1, fp);
	out[n] = '\0';
	return pclose(fp) == 0 ? out : NULL;
}

/* Counts our programs in `rpcinfo -p` output. */
static int
registered(void)
{
	const char	*out = run("rpcinfo -p 127.0.0.1 2>&1");
	int		 i, n = 0;

	if (out == NULL)
		return -1;
	for (i = 0; i < 3; i++)
		n += strstr(out, progs[i]) != NULL;
	return n;
}

static int
suite_init(void)
{
	if (harness_mkroot(root, sizeof(root)) == -1)
		return -1;
	harness_init(&named, "dfs-named", DFS_NAME_PROG, root, "named");
	harness_init(&lockd, "dfs-lockd", DFS_LOCK_PROG, root, "lockd");
	harness_init(&filed, "dfs-filed", DFS_FILE_PROG, root, "filed");
	named.rpcbind = lockd.rpcbind = filed.rpcbind = 1;
	named.extra[0] = "-H";
	named.extra[1] = "200";
	lockd.extra[0] = filed.extra[0] = "-s";
	lockd.extra[1] = filed.extra[1] = "127.0.0.1";
	return 0;
}

static int
suite_clean(void)
{
	harness_stop(&filed);
	harness_stop(&lockd);
	harness_stop(&named);
	harness_rmtree(root);
	return 0;
}

static void
test_rpcbind__register_and_answer(void)
{
	struct cluster	c;
	char		cmd[128];
	int		i;

	CU_ASSERT_EQUAL_FATAL(harness_start(&named), 0);
	CU_ASSERT_EQUAL_FATAL(harness_start(&lockd), 0);
	CU_ASSERT_EQUAL_FATAL(harness_start(&filed), 0);
	CU_ASSERT_EQUAL(registered(), 3);
	for (i = 0; i < 3; i++) {
		snprintf(cmd, sizeof(cmd), "rpcinfo -t 127.0.0.1 %s 1",
		    progs[i]);
		CU_ASSERT_PTR_NOT_NULL(run(cmd));
	}
	/* the servers found the name server through rpcbind */
	memset(&c, 0, sizeof(c));
	c.named = named;
	CU_ASSERT_EQUAL(cluster_wait_servers(&c, 2), 0);
}

static void
test_rpcbind__unregister_on_sigterm(void)
{
	CU_ASSERT_EQUAL(harness_stop(&filed), 0);
	CU_ASSERT_EQUAL(harness_stop(&lockd), 0);
	CU_ASSERT_EQUAL(harness_stop(&named), 0);
	CU_ASSERT_EQUAL(registered(), 0);
}

static CU_TestInfo rpcbind_tests[] = {
	{ "register_and_answer", test_rpcbind__register_and_answer },
	{ "unregister_on_sigterm", test_rpcbind__unregister_on_sigterm },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "rpcbind", suite_init, suite_clean, NULL, NULL, rpcbind_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	int	n = registered();

	if (n < 0) {
		printf("it_rpcbind: skipped: no rpcbind answers on "
		    "127.0.0.1 (rpcinfo -p failed)\n");
		return 77;
	}
	if (n > 0) {
		printf("it_rpcbind: skipped: dfs programs are already "
		    "registered with rpcbind (a cluster is running)\n");
		return 77;
	}
	return cutest_run(suites);
}
