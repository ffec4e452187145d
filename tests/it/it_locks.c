/*
 * it_locks.c -- explicit locks (dfs_lock and friends) against real
 * daemons, two clients at a time.
 *
 * All or nothing on a conflict in the third of five paths; a forged id
 * refused without disturbing the holder; lease expiry, takeover and the
 * old holder's commit fenced with EXPIRED; a client that dies holding a
 * lock; FIFO order of three waiters; kill -9 of dfs-lockd while locks
 * are held.  Leases are shortened through dfs_opts.lease_ms so that
 * expiry takes a second, not a minute; those tests sleep past the lease,
 * which is the point of them.
 */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"
#include "dfs.h"
#include "harness.h"

#define SHORT_LEASE_MS	1000

static struct cluster	 cl;
static struct dfs	*a, *b;		/* two clients */

/* A new client; lease_ms 0: the lock server's default. */
static struct dfs *
client(unsigned int lease_ms)
{
	struct dfs_opts	 o = DFS_OPTS_INIT;
	struct dfs	*d;

	o.server = cl.named_spec;
	o.lease_ms = lease_ms;
	return dfs_connect(&d, &o) == 0 ? d : NULL;
}

static int
suite_init(void)
{
	if (cluster_start(&cl, 1) == -1)
		return -1;
	unsetenv("DFS_LOCKS");
	a = client(0);
	b = client(0);
	return a != NULL && b != NULL ? 0 : -1;
}

static int
suite_clean(void)
{
	dfs_disconnect(a);
	dfs_disconnect(b);
	return cluster_stop(&cl) == 0 ? 0 : -1;
}

static void
sleep_ms(unsigned int ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1)
		continue;
}



/* Locks one path; returns the status. */
static int
lock1(struct dfs *d, const char *path, int excl, unsigned int wait_ms,
    struct dfs_lock **lkp)
{
	return dfs_lock(d, &path, 1, excl, wait_ms, lkp);
}

/* LOCK of five paths with the third held elsewhere: LOCKED, the detail
 * names it, and none of the five is held afterwards. */
static void
test_locks__all_or_nothing(void)
{
	static const char *const	 five[] = { "/an1", "/an2", "/an3",
					    "/an4", "/an5" };
	static const char *const	 four[] = { "/an1", "/an2", "/an4",
					    "/an5" };
	struct dfs_lock			*held, *lk = NULL, *lk2;

	CU_ASSERT_EQUAL_FATAL(lock1(b, "/an3", 1, 0, &held), 0);
	CU_ASSERT_EQUAL(dfs_lock(a, five, 5, 1, 0, &lk), -DFS_ERR_LOCKED);
	CU_ASSERT_PTR_NULL(lk);
	CU_ASSERT_PTR_NOT_NULL(strstr(dfs_errdetail(a),
	    "locked by another client, lease ends in "));
	CU_ASSERT_PTR_NOT_NULL(strstr(dfs_errdetail(a), "(/an3)"));
	/* none of the other four was kept */
	CU_ASSERT_EQUAL_FATAL(dfs_lock(b, four, 4, 1, 0, &lk2), 0);
	CU_ASSERT_EQUAL(dfs_unlock(lk2), 0);
	CU_ASSERT_EQUAL(dfs_unlock(held), 0);
	/* and with the conflict gone, all five */
	CU_ASSERT_EQUAL_FATAL(dfs_lock(a, five, 5, 1, 0, &lk), 0);
	CU_ASSERT_EQUAL(dfs_unlock(lk), 0);
}

/* Shared locks coexist and keep an exclusive one out. */
static void
test_locks__shared(void)
{
	struct dfs_lock	*s1, *s2, *x = NULL;

	CU_ASSERT_EQUAL_FATAL(lock1(a, "/sh", 0, 0, &s1), 0);
	CU_ASSERT_EQUAL_FATAL(lock1(b, "/sh", 0, 0, &s2), 0);
	CU_ASSERT_EQUAL(lock1(b, "/sh", 1, 0, &x), -DFS_ERR_LOCKED);
	/* a shared lock allows no change, not even its holder's */
	CU_ASSERT_EQUAL(harness_put(a, "/sh", s1, "x"), -DFS_ERR_INVAL);
	CU_ASSERT_EQUAL(dfs_unlock(s1), 0);
	CU_ASSERT_EQUAL(dfs_unlock(s2), 0);
	CU_ASSERT_EQUAL(lock1(b, "/sh", 1, 0, &x), 0);
	CU_ASSERT_EQUAL(dfs_unlock(x), 0);
}

/* A lock taken with dfs_lock() covers the holder's own changes (plain
 * dfs_open, unlink, rename) and keeps everyone else's out. */
static void
test_locks__holder_changes(void)
{
	static const char *const	 two[] = { "/hc", "/hc2" };
	struct dfs_lock			*lk, *other = NULL;
	struct dfs_info			 st;
	char				 buf[64];

	CU_ASSERT_EQUAL_FATAL(dfs_lock(a, two, 2, 1, 0, &lk), 0);
	CU_ASSERT(dfs_lock_lease_ms(lk) > 0);
	CU_ASSERT_EQUAL(harness_put(a, "/hc", NULL, "mine"), 0);
	CU_ASSERT_EQUAL(harness_put(b, "/hc", NULL, "theirs"), -DFS_ERR_LOCKED);
	CU_ASSERT_EQUAL(dfs_unlink(b, "/hc"), -DFS_ERR_LOCKED);
	CU_ASSERT_EQUAL(dfs_rename(b, "/hc", "/elsewhere"), -DFS_ERR_LOCKED);
	CU_ASSERT_EQUAL(dfs_chmod(b, "/hc", 0600), -DFS_ERR_LOCKED);
	/* the holder's open did not release it */
	CU_ASSERT_EQUAL(lock1(b, "/hc", 1, 0, &other), -DFS_ERR_LOCKED);
	CU_ASSERT_EQUAL(dfs_chmod(a, "/hc", 0600), 0);
	CU_ASSERT_EQUAL(dfs_rename(a, "/hc", "/hc2"), 0);
	CU_ASSERT_EQUAL(harness_get(b, "/hc2", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "mine");
	CU_ASSERT_EQUAL(dfs_unlink(a, "/hc2"), 0);
	CU_ASSERT_EQUAL(dfs_getattr(b, "/hc2", &st), -DFS_ERR_NOENT);
	CU_ASSERT_EQUAL(dfs_lock_renew(lk), 0);
	CU_ASSERT_EQUAL(dfs_unlock(lk), 0);
	CU_ASSERT_EQUAL(dfs_unlock(NULL), 0);
}

/* A client started with $DFS_LOCKS works under that lock: its writes
 * and its unlink carry the id, and leave the lock held. */
static void
test_locks__env_lock(void)
{
	struct dfs_lock	*lk, *other = NULL;
	struct dfs	*c;
	char		 env[256], buf[64];

	CU_ASSERT_EQUAL_FATAL(lock1(a, "/env", 1, 0, &lk), 0);
	CU_ASSERT_EQUAL_FATAL(dfs_lock_export(lk, env, sizeof(env)) <
	    (int)sizeof(env), 1);
	setenv("DFS_LOCKS", env, 1);
	c = client(0);
	unsetenv("DFS_LOCKS");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(harness_put(c, "/env", NULL, "child"), 0);
	CU_ASSERT_EQUAL(harness_get(b, "/env", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "child");
	CU_ASSERT_EQUAL(dfs_unlink(b, "/env"), -DFS_ERR_LOCKED);
	CU_ASSERT_EQUAL(lock1(b, "/env", 1, 0, &other), -DFS_ERR_LOCKED);
	CU_ASSERT_EQUAL(dfs_unlink(c, "/env"), 0);
	dfs_disconnect(c);
	CU_ASSERT_EQUAL(dfs_unlock(lk), 0);
	/* a malformed $DFS_LOCKS is ignored: writes take their own lock */
	setenv("DFS_LOCKS", "nonsense", 1);
	c = client(0);
	unsetenv("DFS_LOCKS");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(harness_put(c, "/env", NULL, "own"), 0);
	dfs_disconnect(c);
}

/* A forged id (the exported nonce with one digit changed, handed over in
 * $DFS_LOCKS) is refused, and the holder's lock is untouched. */
static void
test_locks__bad_id(void)
{
	struct dfs_lock	*lk, *other = NULL;
	struct dfs_file	*f;
	struct dfs	*c;
	char		 env[256], buf[64];
	int		 rc;

	CU_ASSERT_EQUAL_FATAL(lock1(a, "/bad", 1, 0, &lk), 0);
	CU_ASSERT_EQUAL(harness_put(a, "/bad", lk, "holder"), 0);
	CU_ASSERT_EQUAL_FATAL(dfs_lock_export(lk, env, sizeof(env)) <
	    (int)sizeof(env), 1);
	env[31] = env[31] == '0' ? '1' : '0';	/* last digit of the nonce */
	setenv("DFS_LOCKS", env, 1);
	c = client(0);
	unsetenv("DFS_LOCKS");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	rc = dfs_open(c, "/bad", "w", &f);
	if (rc == 0) {
		CU_ASSERT_EQUAL(dfs_write(f, "forged", 6), 6);
		rc = dfs_close(f);
	}
	CU_ASSERT(rc == -DFS_ERR_LOCKED || rc == -DFS_ERR_BADLOCK);
	rc = dfs_unlink(c, "/bad");
	CU_ASSERT(rc == -DFS_ERR_LOCKED || rc == -DFS_ERR_BADLOCK);
	dfs_disconnect(c);
	/* the holder's lock stands: nobody else gets it, and it still
	 * renews and writes */
	CU_ASSERT_EQUAL(lock1(b, "/bad", 1, 0, &other), -DFS_ERR_LOCKED);
	CU_ASSERT_EQUAL(dfs_lock_renew(lk), 0);
	CU_ASSERT_EQUAL(harness_get(b, "/bad", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "holder");
	CU_ASSERT_EQUAL(harness_put(a, "/bad", lk, "holder 2"), 0);
	CU_ASSERT_EQUAL(harness_get(b, "/bad", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "holder 2");
	CU_ASSERT_EQUAL(dfs_unlock(lk), 0);
}

/* A's lease lapses, B takes the lock over, and A's late write is fenced
 * off with EXPIRED: B's data stands. */
static void
test_locks__expiry_takeover_fencing(void)
{
	struct dfs	*sa = client(SHORT_LEASE_MS);
	struct dfs_lock	*la, *lb;
	struct dfs_file	*f;
	char		 buf[64];

	CU_ASSERT_PTR_NOT_NULL_FATAL(sa);
	CU_ASSERT_EQUAL_FATAL(lock1(sa, "/fence", 1, 0, &la), 0);
	CU_ASSERT_EQUAL(dfs_lock_lease_ms(la), SHORT_LEASE_MS);
	CU_ASSERT_EQUAL(harness_put(sa, "/fence", la, "A1"), 0);
	sleep_ms(SHORT_LEASE_MS + 500);
	CU_ASSERT_EQUAL_FATAL(lock1(b, "/fence", 1, 0, &lb), 0);
	CU_ASSERT_EQUAL(harness_put(b, "/fence", lb, "B"), 0);
	CU_ASSERT_EQUAL_FATAL(dfs_open_locked(sa, "/fence", "w", la, &f), 0);
	CU_ASSERT_EQUAL(dfs_write(f, "A2", 2), 2);
	CU_ASSERT_EQUAL(dfs_close(f), -DFS_ERR_EXPIRED);
	CU_ASSERT_EQUAL(harness_get(a, "/fence", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "B");
	CU_ASSERT_EQUAL(dfs_lock_renew(la), -DFS_ERR_EXPIRED);
	/* its other changes are fenced too */
	CU_ASSERT_EQUAL(dfs_unlink(sa, "/fence"), -DFS_ERR_EXPIRED);
	CU_ASSERT_EQUAL(dfs_unlock(la), -DFS_ERR_EXPIRED);
	CU_ASSERT_EQUAL(dfs_unlock(lb), 0);
	dfs_disconnect(sa);
}

/* A client that dies holding a lock: it is taken over once its lease
 * has lapsed, not before. */
static void
test_locks__holder_dies(void)
{
	struct dfs_lock	*lk = NULL;
	struct dfs	*d;
	pid_t		 pid;
	int		 st;

	pid = fork();
	CU_ASSERT_NOT_EQUAL_FATAL(pid, -1);
	if (pid == 0) {
		d = client(SHORT_LEASE_MS);
		_exit(d != NULL && lock1(d, "/dies", 1, 0, &lk) == 0 ? 0 : 1);
	}
	CU_ASSERT_EQUAL_FATAL(waitpid(pid, &st, 0), pid);
	CU_ASSERT_FATAL(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CU_ASSERT_EQUAL(lock1(b, "/dies", 1, 0, &lk), -DFS_ERR_LOCKED);
	sleep_ms(SHORT_LEASE_MS + 500);
	CU_ASSERT_EQUAL_FATAL(lock1(b, "/dies", 1, 0, &lk), 0);
	CU_ASSERT_EQUAL(harness_put(b, "/dies", lk, "taken over"), 0);
	CU_ASSERT_EQUAL(dfs_unlock(lk), 0);
}

/* Child `i` of the FIFO test: waits for the lock, appends its index
 * under it, releases.  Exits 0 or 1. */
static void
fifo_child(int i)
{
	struct dfs_lock	*lk;
	struct dfs_file	*f;
	struct dfs	*d = client(0);
	char		 c = (char)('0' + i);
	int		 ok;

	ok = d != NULL && lock1(d, "/fifo", 1, 20000, &lk) == 0;
	if (ok && dfs_open_locked(d, "/fifo", "a", lk, &f) == 0)
		ok = dfs_write(f, &c, 1) == 1 && dfs_close(f) == 0;
	else
		ok = 0;
	_exit(ok && dfs_unlock(lk) == 0 ? 0 : 1);
}

/* Three waiters, queued in order while the lock is held, are granted in
 * that order once it is released. */
/* The lock server's count of LOCK calls (its STATS), or 0. */
static uint64_t
lock_calls(void)
{
	struct lock_req		 r = { .n = 0 };
	lock_compound_res	 res;
	CLIENT			*c = harness_clnt(&cl.lockd);
	stats_res		*sr;
	uint64_t		 n = 0;
	u_int			 i;

	if (c == NULL)
		return 0;
	lock_req_add(&r, LOP_STATS);
	if (lock_call(c, &r, &res) == RPC_SUCCESS && res.status == DFS_OK) {
		sr = &res.res.res_val[0].lock_resop_u.stats;
		for (i = 0; i < sr->stats_res_u.counters.counters_len; i++)
			if (strcmp(sr->stats_res_u.counters.counters_val[i].
			    name, "LOCK") == 0)
				n = sr->stats_res_u.counters.counters_val[i].
				    calls;
	}
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&res);
	clnt_destroy(c);
	return n;
}

/* Waits (10 s at most) until the lock server has seen more than `n`
 * LOCK calls: the child's request has arrived and waits in the queue. */
static void
wait_lock_calls(uint64_t n)
{
	int	i;

	for (i = 0; i < 1000 && lock_calls() <= n; i++)
		sleep_ms(10);
}

static void
test_locks__fifo_waiters(void)
{
	struct dfs_lock	*lk;
	pid_t		 pid[3];
	uint64_t	 calls;
	char		 buf[16];
	int		 i, st;

	CU_ASSERT_EQUAL_FATAL(harness_put(a, "/fifo", NULL, ""), 0);
	CU_ASSERT_EQUAL_FATAL(lock1(a, "/fifo", 1, 0, &lk), 0);
	for (i = 0; i < 3; i++) {
		calls = lock_calls();
		pid[i] = fork();
		CU_ASSERT_NOT_EQUAL_FATAL(pid[i], -1);
		if (pid[i] == 0)
			fifo_child(i);
		wait_lock_calls(calls);		/* child i is queued first */
	}
	CU_ASSERT_EQUAL(dfs_unlock(lk), 0);
	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(waitpid(pid[i], &st, 0), pid[i]);
		CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	CU_ASSERT_EQUAL(harness_get(b, "/fifo", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "012");
}

/* A wait longer than the client's RPC timeout: the call's timeout grows
 * with it, so the answer is the lock server's LOCKED, after the wait,
 * not a client-side TIMEDOUT. */
static void
test_locks__wait_outlasts_timeout(void)
{
	struct dfs_opts	 o = DFS_OPTS_INIT;
	struct dfs	*d;
	struct dfs_lock	*held, *lk = NULL;
	struct timespec	 t0, t1;
	long		 ms;

	o.server = cl.named_spec;
	o.timeout_ms = 1000;
	CU_ASSERT_EQUAL_FATAL(dfs_connect(&d, &o), 0);
	CU_ASSERT_EQUAL_FATAL(lock1(b, "/slow", 1, 0, &held), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CU_ASSERT_EQUAL(lock1(d, "/slow", 1, 2500, &lk), -DFS_ERR_LOCKED);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) /
	    1000000;
	CU_ASSERT(ms >= 2400);
	CU_ASSERT_PTR_NOT_NULL(strstr(dfs_errdetail(d), "lease ends in"));
	CU_ASSERT_EQUAL(dfs_unlock(held), 0);
	dfs_disconnect(d);
}

/* kill -9 of dfs-lockd while locks are held: after the restart the
 * holders keep their locks and ids, renew, and commit. */
static void
test_locks__lockd_kill9(void)
{
	struct dfs_lock	*la, *lb, *other = NULL;
	char		 buf[64];

	CU_ASSERT_EQUAL_FATAL(lock1(a, "/k1", 1, 0, &la), 0);
	CU_ASSERT_EQUAL_FATAL(lock1(b, "/k2", 1, 0, &lb), 0);
	CU_ASSERT_EQUAL(harness_put(a, "/k1", la, "before"), 0);
	CU_ASSERT_EQUAL_FATAL(harness_kill9(&cl.lockd), 0);
	CU_ASSERT_EQUAL_FATAL(harness_start(&cl.lockd), 0);
	CU_ASSERT_EQUAL_FATAL(cluster_wait_servers(&cl, 2), 0);
	CU_ASSERT_EQUAL(dfs_lock_renew(la), 0);
	CU_ASSERT_EQUAL(dfs_lock_renew(lb), 0);
	CU_ASSERT_EQUAL(lock1(b, "/k1", 1, 0, &other), -DFS_ERR_LOCKED);
	CU_ASSERT_EQUAL(lock1(a, "/k2", 1, 0, &other), -DFS_ERR_LOCKED);
	CU_ASSERT_EQUAL(harness_put(a, "/k1", la, "after"), 0);
	CU_ASSERT_EQUAL(harness_put(b, "/k2", lb, "after too"), 0);
	CU_ASSERT_EQUAL(harness_get(b, "/k1", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "after");
	CU_ASSERT_EQUAL(dfs_unlock(la), 0);
	CU_ASSERT_EQUAL(dfs_unlock(lb), 0);
}

static CU_TestInfo locks_tests[] = {
	{ "all_or_nothing", test_locks__all_or_nothing },
	{ "shared", test_locks__shared },
	{ "holder_changes", test_locks__holder_changes },
	{ "env_lock", test_locks__env_lock },
	{ "bad_id", test_locks__bad_id },
	{ "expiry_takeover_fencing", test_locks__expiry_takeover_fencing },
	{ "holder_dies", test_locks__holder_dies },
	{ "fifo_waiters", test_locks__fifo_waiters },
	{ "wait_outlasts_timeout", test_locks__wait_outlasts_timeout },
	{ "lockd_kill9", test_locks__lockd_kill9 },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "locks", suite_init, suite_clean, NULL, NULL, locks_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
