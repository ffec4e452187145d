/*
 * it_servers.c -- registration, heartbeats and placement.
 *
 * Two file servers: filed0 declares the subtree /a, filed1 declares
 * nothing (serves anything).  New files under /a go to filed0, others to
 * filed1.  A stopped server misses its heartbeats, is listed as down and
 * is no longer handed out: /a files then go to filed1; with no file
 * server left, CREATE answers NOSERVER.  A restarted server registers
 * again under its old id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "harness.h"

static struct cluster	 cl;
static CLIENT		*nc;

static int
suite_init(void)
{
	static const char *const prefixes[] = { "/a", NULL };

	if (cluster_start_with(&cl, 2, prefixes) == -1)
		return -1;
	nc = harness_clnt(&cl.named);
	return nc != NULL ? 0 : -1;
}

static int
suite_clean(void)
{
	if (nc != NULL)
		clnt_destroy(nc);
	return cluster_stop(&cl) == 0 ? 0 : -1;
}

/* Creates /dir/name; returns the status and the port of the (first)
 * file server it was placed on. */
static dfs_stat
place(const char *dir, const char *name, unsigned int *port)
{
	struct name_req		 r = { .n = 0 };
	name_compound_res	 res;
	create_ok		*ok;
	dfs_stat		 st;

	name_req_add(&r, OP_PUTROOTFH);
	if (dir != NULL)
		name_req_lookup(&r, dir);
	name_req_create(&r, name, 1);
	CU_ASSERT_EQUAL_FATAL(name_call(nc, &r, &res), RPC_SUCCESS);
	st = res.status;
	*port = 0;
	if (st == DFS_OK) {
		ok = &res.res.res_val[r.n - 1].name_resop_u.create.
		    create_res_u.ok;
		CU_ASSERT_EQUAL(ok->servers.servers_len, 1);
		if (ok->servers.servers_len > 0)
			*port = ok->servers.servers_val[0].port;
	}
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return st;
}

/* Waits until exactly `n` servers are live (at most 5 s). */
static int
wait_live_exactly(int n)
{
	struct timespec	ts = { 0, 20 * 1000000L };
	int		i;

	for (i = 0; i < 250; i++) {
		if (cluster_live(&cl) == n)
			return 0;
		nanosleep(&ts, NULL);
	}
	return -1;
}

static void
test_servers__longest_prefix_placement(void)
{
	struct name_req		r = { .n = 0 };
	name_compound_res	res;
	unsigned int		port;

	name_req_add(&r, OP_PUTROOTFH);
	name_req_mkdir(&r, "a");
	CU_ASSERT_EQUAL_FATAL(name_call(nc, &r, &res), RPC_SUCCESS);
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	CU_ASSERT_EQUAL(place("a", "x", &port), DFS_OK);
	CU_ASSERT_EQUAL(port, cl.filed[0].port);
	CU_ASSERT_EQUAL(place(NULL, "y", &port), DFS_OK);
	CU_ASSERT_EQUAL(port, cl.filed[1].port);
}

static void
test_servers__down_server_not_handed_out(void)
{
	unsigned int	port;

	CU_ASSERT_EQUAL(harness_stop(&cl.filed[0]), 0);
	CU_ASSERT_EQUAL(wait_live_exactly(2), 0);	/* lockd + filed1 */
	CU_ASSERT_EQUAL(place("a", "z", &port), DFS_OK);
	CU_ASSERT_EQUAL(port, cl.filed[1].port);
	CU_ASSERT_EQUAL(harness_stop(&cl.filed[1]), 0);
	CU_ASSERT_EQUAL(wait_live_exactly(1), 0);
	CU_ASSERT_EQUAL(place(NULL, "w", &port), DFS_ERR_NOSERVER);
}

static void
test_servers__restart_keeps_identity(void)
{
	unsigned int	port;

	CU_ASSERT_EQUAL_FATAL(harness_start(&cl.filed[0]), 0);
	CU_ASSERT_EQUAL(cluster_wait_servers(&cl, 2), 0);
	CU_ASSERT_EQUAL(place("a", "again", &port), DFS_OK);
	CU_ASSERT_EQUAL(port, cl.filed[0].port);
	CU_ASSERT_EQUAL_FATAL(harness_start(&cl.filed[1]), 0);
	CU_ASSERT_EQUAL(cluster_wait_servers(&cl, 3), 0);
}

static CU_TestInfo servers_tests[] = {
	{ "longest_prefix_placement",
	    test_servers__longest_prefix_placement },
	{ "down_server_not_handed_out",
	    test_servers__down_server_not_handed_out },
	{ "restart_keeps_identity", test_servers__restart_keeps_identity },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "servers", suite_init, suite_clean, NULL, NULL, servers_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
