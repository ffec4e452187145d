/*
 * it_prov.c -- a new file whose upload never commits is swept by the
 * name server (prov.c): a client that crashed between CREATE and the
 * first COMMIT leaves no name behind, while a committed file and one
 * whose writer still holds its lock are kept.
 *
 * dfs-named runs with a sweep age of 1 s (-U 1) and ticks every 200 ms;
 * a removal is awaited for at most 30 s, polling every 20 ms, so load
 * cannot fail the test.  The crashed client is a raw CREATE that is
 * never followed by a COMMIT; the name server is killed with SIGKILL
 * before the sweep (the index must survive) and after it (the removal
 * must).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "harness.h"

#define AWAIT_MS	30000

static struct cluster	cl;

/* The cluster, its name server restarted with a short sweep age. */
static int
suite_init(void)
{
	if (cluster_start(&cl, 1) != 0)
		return -1;
	if (harness_stop(&cl.named) != 0)
		goto fail;
	cl.named.extra[2] = "-U";
	cl.named.extra[3] = "1";
	if (harness_start(&cl.named) != 0 || cluster_wait_servers(&cl, 2) != 0)
		goto fail;
	return 0;
fail:
	cluster_dump_logs(&cl);
	(void)cluster_stop(&cl);
	return -1;
}

static int
suite_clean(void)
{
	return cluster_stop(&cl) == 0 ? 0 : -1;
}

static void
pause_ms(unsigned int ms)
{
	struct timespec	ts = { 0, (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* The status of LOOKUP path (relative to the root) and GETATTR, or of
 * PUTFH fh and GETATTR; DFS_ERR_RPC when no reply came. */
static dfs_stat
lookup_status(const char *path, const dfs_fh *fh)
{
	struct name_req		r = { .n = 0 };
	name_compound_res	res;
	CLIENT			*c;
	dfs_stat		st = DFS_ERR_RPC;

	if ((c = harness_clnt(&cl.named)) == NULL)
		return st;
	if (fh != NULL)
		name_req_putfh(&r, fh);
	else {
		name_req_add(&r, OP_PUTROOTFH);
		name_req_lookup(&r, path);
	}
	name_req_add(&r, OP_GETATTR);
	if (name_call(c, &r, &res) == RPC_SUCCESS) {
		st = res.status;
		xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	}
	clnt_destroy(c);
	return st;
}

/* A crashed uploader: CREATE name in the root, no lock, no COMMIT ever.
 * Returns the status; *fh is the new file's handle on success. */
static dfs_stat
create_raw(const char *name, dfs_fh *fh)
{
	struct name_req		r = { .n = 0 };
	name_compound_res	res;
	CLIENT			*c;
	dfs_stat		st = DFS_ERR_RPC;

	if ((c = harness_clnt(&cl.named)) == NULL)
		return st;
	name_req_add(&r, OP_PUTROOTFH);
	name_req_create(&r, name, 1);
	name_req_add(&r, OP_GETFH);
	if (name_call(c, &r, &res) == RPC_SUCCESS) {
		st = res.status;
		if (st == DFS_OK)
			fh_copy(fh, &res.res.res_val[2].name_resop_u.getfh.
			    getfh_res_u.fh);
		xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	}
	clnt_destroy(c);
	return st;
}

/* Waits, AWAIT_MS at most, until LOOKUP path answers NOENT.  Returns 0
 * or -1. */
static int
await_gone(const char *path)
{
	unsigned long long	deadline = cutest_ms() + AWAIT_MS;

	while (lookup_status(path, NULL) != DFS_ERR_NOENT) {
		if (cutest_ms() > deadline)
			return -1;
		pause_ms(20);
	}
	return 0;
}

/* COMMIT of version 0 of fh, as a file server would send it after the
 * upload.  Returns the status or DFS_ERR_RPC. */
static dfs_stat
commit_raw(const dfs_fh *fh)
{
	struct name_req		r = { .n = 0 };
	name_compound_res	res;
	commit_args		*ca;
	CLIENT			*c;
	dfs_stat		st = DFS_ERR_RPC;

	if ((c = harness_clnt(&cl.named)) == NULL)
		return st;
	name_req_putfh(&r, fh);
	ca = &name_req_add(&r, OP_COMMIT)->name_argop_u.commit;
	ca->oldvers = 0;
	ca->size = 0;
	ca->srvid = 1;
	if (name_call(c, &r, &res) == RPC_SUCCESS) {
		st = res.status;
		xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	}
	clnt_destroy(c);
	return st;
}

static struct dfs *
client(void)
{
	struct dfs_opts	 o = DFS_OPTS_INIT;
	struct dfs	*d = NULL;

	o.server = cl.named_spec;
	o.no_cache = 1;
	CU_ASSERT_EQUAL_FATAL(dfs_connect(&d, &o), 0);
	return d;
}

/* A writer that holds its lock keeps its new file however long the
 * upload takes, and commits it; a crashed one's file created after it
 * is swept meanwhile, which shows the sweep ran past the writer's age. */
static void
test_prov__writer_keeps_its_file(void)
{
	struct dfs	*d = client();
	struct dfs_file	*f = NULL;
	char		 buf[64];
	dfs_fh		 fh;

	CU_ASSERT_EQUAL_FATAL(dfs_open(d, "/writing", "w", &f), 0);
	CU_ASSERT_EQUAL(dfs_write(f, "still here", 10), 10);
	CU_ASSERT_EQUAL_FATAL(create_raw("crashed1", &fh), DFS_OK);
	CU_ASSERT_EQUAL(await_gone("crashed1"), 0);
	CU_ASSERT_EQUAL(lookup_status("writing", NULL), DFS_OK);
	CU_ASSERT_EQUAL(dfs_close(f), 0);
	CU_ASSERT_EQUAL(harness_get(d, "/writing", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "still here");
	free(fh.dfs_fh_val);
	dfs_disconnect(d);
}

/* A crashed uploader's file is swept, across kill -9 of the name server
 * before and after the sweep; a committed file stays; the late COMMIT
 * answers STALE. */
static void
test_prov__crashed_upload_swept(void)
{
	struct dfs	*d = client();
	char		 buf[64];
	dfs_fh		 fh;

	CU_ASSERT_EQUAL_FATAL(harness_put(d, "/kept", NULL, "committed"), 0);
	dfs_disconnect(d);
	CU_ASSERT_EQUAL_FATAL(create_raw("crashed2", &fh), DFS_OK);
	/* ORDER: killed before its age is reached, so the index is what
	 * the restarted server sweeps from */
	CU_ASSERT_EQUAL(harness_kill9(&cl.named), 0);
	CU_ASSERT_EQUAL_FATAL(harness_start(&cl.named), 0);
	CU_ASSERT_EQUAL(await_gone("crashed2"), 0);
	CU_ASSERT_EQUAL(harness_kill9(&cl.named), 0);
	CU_ASSERT_EQUAL_FATAL(harness_start(&cl.named), 0);
	CU_ASSERT_EQUAL(lookup_status("crashed2", NULL), DFS_ERR_NOENT);
	CU_ASSERT_EQUAL(lookup_status(NULL, &fh), DFS_ERR_STALE);
	CU_ASSERT_EQUAL(commit_raw(&fh), DFS_ERR_STALE);
	CU_ASSERT_EQUAL(lookup_status("kept", NULL), DFS_OK);
	CU_ASSERT_EQUAL_FATAL(cluster_wait_servers(&cl, 2), 0);
	d = client();
	CU_ASSERT_EQUAL(harness_get(d, "/kept", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "committed");
	dfs_disconnect(d);
	free(fh.dfs_fh_val);
}

static CU_TestInfo prov_tests[] = {
	{ "writer_keeps_its_file", test_prov__writer_keeps_its_file },
	{ "crashed_upload_swept", test_prov__crashed_upload_swept },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "prov", suite_init, suite_clean, NULL, NULL, prov_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
