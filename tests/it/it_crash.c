/*
 * it_crash.c -- kill -9 each daemon mid-workload; nothing acknowledged
 * may be lost (DESIGN.md invariant 6).
 *
 * A workload runs against one daemon while a thread sends it SIGKILL
 * once KILL_AFTER_OPS of its operations were acknowledged.  Every
 * operation whose reply arrived is recorded; the first failed call ends
 * the workload.  The daemon is then restarted on the same state
 * directory and port, and every recorded create, rename, lock and commit
 * must still be there, with the same handles and lock ids.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "harness.h"

#define MAXWORK		4096
#define KILL_AFTER_OPS	100	/* acknowledged before the kill */
#define KILL_LATEST_MS	20000

static struct cluster	cl;

static int
suite_init(void)
{
	return cluster_start(&cl, 1) == 0 ? 0 : -1;
}

static int
suite_clean(void)
{
	return cluster_stop(&cl) == 0 ? 0 : -1;
}

/*
 * The killer: a thread that SIGKILLs a daemon once the workload has had
 * KILL_AFTER_OPS operations acknowledged, so the kill lands in the middle
 * of the workload however loaded the machine is (a kill after a fixed
 * time could come before the first acknowledgement).  A workload that
 * stops early does not keep it waiting past KILL_LATEST_MS.
 */
struct killer {
	pthread_t	 thr;
	pid_t		 pid;
	int		*acked;		/* written by the workload */
};

static void *
killer_run(void *arg)
{
	struct killer		*k = arg;
	struct timespec		 nap = { 0, 1000000L };
	unsigned long long	 end = cutest_ms() + KILL_LATEST_MS;

	while (__atomic_load_n(k->acked, __ATOMIC_ACQUIRE) < KILL_AFTER_OPS &&
	    cutest_ms() < end)
		nanosleep(&nap, NULL);
	(void)kill(k->pid, SIGKILL);
	return NULL;
}

/* Starts a killer of `pid` watching *acked. */
static void
kill_after(struct killer *k, pid_t pid, int *acked)
{
	k->pid = pid;
	k->acked = acked;
	__atomic_store_n(acked, 0, __ATOMIC_RELEASE);
	CU_ASSERT_FATAL(pthread_create(&k->thr, NULL, killer_run, k) == 0);
}

/* One more operation acknowledged. */
static void
acked_one(int *acked)
{
	__atomic_add_fetch(acked, 1, __ATOMIC_RELEASE);
}

/* After the workload: join the killer, reap the daemon, restart it. */
static void
restart(struct dproc *d, struct killer *k)
{
	pthread_join(k->thr, NULL);
	CU_ASSERT_EQUAL(harness_kill9(d), 0);
	CU_ASSERT_EQUAL_FATAL(harness_start(d), 0);
}

/* CREATE /dir/name; returns 1 if acknowledged (handle copied). */
static int
try_create(CLIENT *c, const char *dir, const char *name, dfs_fh *fh)
{
	struct name_req		r = { .n = 0 };
	name_compound_res	res;
	int			ok;

	name_req_add(&r, OP_PUTROOTFH);
	name_req_lookup(&r, dir);
	name_req_create(&r, name, 1);
	name_req_add(&r, OP_GETFH);
	if (name_call(c, &r, &res) != RPC_SUCCESS)
		return 0;
	ok = res.status == DFS_OK;
	if (ok)
		fh_copy(fh, &res.res.res_val[3].name_resop_u.getfh.getfh_res_u.
		    fh);
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return ok;
}

/* RENAME /dir/from -> /dir/to; returns 1 if acknowledged. */
static int
try_rename(CLIENT *c, const char *dir, const char *from, const char *to)
{
	struct name_req		r = { .n = 0 };
	name_compound_res	res;
	rename_args		*ra;
	int			ok;

	name_req_add(&r, OP_PUTROOTFH);
	name_req_lookup(&r, dir);
	name_req_add(&r, OP_SAVEFH);
	ra = &name_req_add(&r, OP_RENAME)->name_argop_u.rename;
	ra->oldname.dfs_name_val = (char *)from;
	ra->oldname.dfs_name_len = (u_int)strlen(from);
	ra->newname.dfs_name_val = (char *)to;
	ra->newname.dfs_name_len = (u_int)strlen(to);
	if (name_call(c, &r, &res) != RPC_SUCCESS)
		return 0;
	ok = res.status == DFS_OK;
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return ok;
}

/* Status of PUTFH fh + LOOKUP-free GETATTR, or of LOOKUP path. */
static dfs_stat
lookup_status(CLIENT *c, const char *path, const dfs_fh *fh)
{
	struct name_req		r = { .n = 0 };
	name_compound_res	res;
	dfs_stat		st;

	if (fh != NULL)
		name_req_putfh(&r, fh);
	else {
		name_req_add(&r, OP_PUTROOTFH);
		name_req_lookup(&r, path);
	}
	name_req_add(&r, OP_GETATTR);
	if (name_call(c, &r, &res) != RPC_SUCCESS)
		return DFS_ERR_RPC;
	st = res.status;
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return st;
}

/* renamed[i]: 1 acknowledged, 0 not tried, -1 sent but unanswered (the
 * kill hit it: it may or may not have happened, either is correct). */
struct named_work {
	dfs_fh		fh[MAXWORK];
	int		renamed[MAXWORK];
	int		n;
};

/* Checks that file i is under the right name: f<i>, r<i> after an
 * acknowledged rename, exactly one of them after an unanswered one. */
static int
named_as_expected(CLIENT *c, int i, int renamed)
{
	char	f[32], r[32];
	int	has_f, has_r;

	snprintf(f, sizeof(f), "nc/f%d", i);
	snprintf(r, sizeof(r), "nc/r%d", i);
	has_f = lookup_status(c, f, NULL) == DFS_OK;
	has_r = lookup_status(c, r, NULL) == DFS_OK;
	if (renamed < 0)
		return has_f != has_r;
	return renamed ? has_r && !has_f : has_f && !has_r;
}

static void
test_crash__named(void)
{
	static struct named_work	w;
	struct name_req			r = { .n = 0 };
	name_compound_res		res;
	CLIENT				*c;
	char				name[32], to[32];
	struct killer			killer;
	static int			acked;
	int				i, lost = 0;

	c = harness_clnt(&cl.named);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	name_req_add(&r, OP_PUTROOTFH);
	name_req_mkdir(&r, "nc");
	CU_ASSERT_EQUAL_FATAL(name_call(c, &r, &res), RPC_SUCCESS);
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	kill_after(&killer, cl.named.pid, &acked);
	for (w.n = 0; w.n < MAXWORK; w.n++) {
		snprintf(name, sizeof(name), "f%d", w.n);
		snprintf(to, sizeof(to), "r%d", w.n);
		if (!try_create(c, "nc", name, &w.fh[w.n]))
			break;
		acked_one(&acked);
		if (w.n % 2 == 0) {
			if (!try_rename(c, "nc", name, to)) {
				/* the create was acknowledged */
				w.renamed[w.n++] = -1;
				break;
			}
			w.renamed[w.n] = 1;
		}
	}
	clnt_destroy(c);
	CU_ASSERT(w.n > 0);
	CU_ASSERT(w.n < MAXWORK);	/* the kill really hit mid-workload */
	restart(&cl.named, &killer);
	c = harness_clnt(&cl.named);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	for (i = 0; i < w.n; i++) {
		if (lookup_status(c, NULL, &w.fh[i]) != DFS_OK ||
		    !named_as_expected(c, i, w.renamed[i]))
			lost++;
		free(w.fh[i].dfs_fh_val);
	}
	printf("\n    named: %d acknowledged creates, %d lost\n", w.n, lost);
	CU_ASSERT_EQUAL(lost, 0);
	clnt_destroy(c);
	/* the lock and file servers find the restarted name server again */
	CU_ASSERT_EQUAL(cluster_wait_servers(&cl, 2), 0);
}



static void
test_crash__lockd(void)
{
	static dfs_lockid	ids[MAXWORK];
	static const dfs_lockid	nobody;
	CLIENT			*c;
	char			path[32];
	struct killer		killer;
	static int		acked;
	int			i, n, lost = 0;

	c = harness_clnt(&cl.lockd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	kill_after(&killer, cl.lockd.pid, &acked);
	for (n = 0; n < MAXWORK; n++) {
		snprintf(path, sizeof(path), "/lk/%d", n);
		if (harness_lock(c, path, DFS_LOCK_EXCL, 0, &ids[n]) != DFS_OK)
			break;
		acked_one(&acked);
	}
	clnt_destroy(c);
	CU_ASSERT(n > 0 && n < MAXWORK);
	restart(&cl.lockd, &killer);
	c = harness_clnt(&cl.lockd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/lk/%d", i);
		if (harness_locktest(c, path, &ids[i],
		    DFS_LOCK_EXCL) != DFS_OK ||
		    harness_locktest(c, path, &nobody,
		    DFS_LOCK_EXCL) != DFS_ERR_LOCKED)
			lost++;
	}
	printf("\n    lockd: %d acknowledged locks, %d lost\n", n, lost);
	CU_ASSERT_EQUAL(lost, 0);
	clnt_destroy(c);
}

/* STAGE+WRITE+COMMIT of `data`; returns 1 with *vers if acknowledged. */
static int
try_commit(CLIENT *c, const dfs_fh *fh, const char *data, uint64_t *vers)
{
	struct file_req		 r = { .n = 0 };
	file_compound_res	 res;
	file_argop		*a;
	int			 ok;

	file_req_add(&r, FOP_STAGE)->file_argop_u.stage.fh = *fh;
	a = file_req_add(&r, FOP_WRITE);
	a->file_argop_u.write.fh = *fh;
	a->file_argop_u.write.data.data_val = (char *)data;
	a->file_argop_u.write.data.data_len = (u_int)strlen(data);
	a = file_req_add(&r, FOP_COMMIT);
	a->file_argop_u.commit.fh = *fh;
	a->file_argop_u.commit.base = DFS_VERS_ANY;
	if (file_call(c, &r, &res) != RPC_SUCCESS)
		return 0;
	ok = res.status == DFS_OK;
	if (ok)
		*vers = res.res.res_val[2].file_resop_u.commit.fcommit_res_u.
		    attr.vers;
	xdr_free((xdrproc_t)xdr_file_compound_res, (char *)&res);
	return ok;
}

static int
read_matches(CLIENT *c, const dfs_fh *fh, uint64_t vers, const char *want)
{
	struct file_req		 r = { .n = 0 };
	file_compound_res	 res;
	read_args		*ra;
	read_ok			*ok;
	int			 match = 0;

	ra = &file_req_add(&r, FOP_READ)->file_argop_u.read;
	ra->fh = *fh;
	ra->vers = vers;
	ra->count = 4096;
	if (file_call(c, &r, &res) != RPC_SUCCESS)
		return 0;
	if (res.status == DFS_OK) {
		ok = &res.res.res_val[0].file_resop_u.read.read_res_u.ok;
		match = ok->data.data_len == strlen(want) &&
		    memcmp(ok->data.data_val, want, strlen(want)) == 0;
	}
	xdr_free((xdrproc_t)xdr_file_compound_res, (char *)&res);
	return match;
}

static void
test_crash__filed(void)
{
	static dfs_fh		fh[MAXWORK];
	static uint64_t		vers[MAXWORK];
	struct name_req		r = { .n = 0 };
	name_compound_res	res;
	CLIENT			*nc, *fc;
	char			name[32], data[64];
	struct killer		killer;
	static int		acked;
	int			i, n, lost = 0;

	nc = harness_clnt(&cl.named);
	fc = harness_clnt(&cl.filed[0]);
	CU_ASSERT_FATAL(nc != NULL && fc != NULL);
	name_req_add(&r, OP_PUTROOTFH);
	name_req_mkdir(&r, "fc");
	CU_ASSERT_EQUAL_FATAL(name_call(nc, &r, &res), RPC_SUCCESS);
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	kill_after(&killer, cl.filed[0].pid, &acked);
	for (n = 0; n < MAXWORK; n++) {
		snprintf(name, sizeof(name), "f%d", n);
		snprintf(data, sizeof(data), "contents of file %d", n);
		if (!try_create(nc, "fc", name, &fh[n]))
			break;
		if (!try_commit(fc, &fh[n], data, &vers[n])) {
			free(fh[n].dfs_fh_val);
			break;
		}
		acked_one(&acked);
	}
	clnt_destroy(fc);
	CU_ASSERT(n > 0 && n < MAXWORK);
	restart(&cl.filed[0], &killer);
	fc = harness_clnt(&cl.filed[0]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fc);
	for (i = 0; i < n; i++) {
		snprintf(data, sizeof(data), "contents of file %d", i);
		if (!read_matches(fc, &fh[i], vers[i], data))
			lost++;
		free(fh[i].dfs_fh_val);
	}
	printf("\n    filed: %d acknowledged commits, %d lost\n", n, lost);
	CU_ASSERT_EQUAL(lost, 0);
	clnt_destroy(fc);
	clnt_destroy(nc);
}

static CU_TestInfo crash_tests[] = {
	{ "named", test_crash__named },
	{ "lockd", test_crash__lockd },
	{ "filed", test_crash__filed },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "crash", suite_init, suite_clean, NULL, NULL, crash_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
