/*
 * it_locklimits.c -- dfs-lockd's limits, with raw LOCK COMPOUNDs from
 * several client addresses (127.0.0.2, .3, ... all reach the loopback
 * server) against a real daemon started with small limits.
 *
 * Over a limit a LOCK gets LIMIT and changes nothing, and the other
 * clients keep being served.  Waiting LOCKs run in child processes,
 * since their calls block until answered; the test knows one is parked
 * when the server's LOCK counter (STATS) has counted it.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"
#include "harness.h"

static char		root[256];
static struct dproc	lockd;

static int
suite_init(void)
{
	if (harness_mkroot(root, sizeof(root)) == -1)
		return -1;
	harness_init(&lockd, "dfs-lockd", DFS_LOCK_PROG, root, "lockd");
	lockd.extra[0] = "--client-paths=3";
	lockd.extra[1] = "--max-paths=5";
	lockd.extra[2] = "--client-waiters=1";
	lockd.extra[3] = "--max-waiters=2";
	return harness_start(&lockd);
}

static int
suite_clean(void)
{
	int	st = harness_stop(&lockd);

	if (st != 0 || CU_get_number_of_failures() > 0)
		harness_dump_log(&lockd);
	if (getenv("DFS_KEEP") == NULL)
		harness_rmtree(root);
	return st == 0 ? 0 : -1;
}

/* A connection to the lock server from source address `src`.  Returns
 * the CLIENT, or NULL. */
static CLIENT *
clnt_from(const char *src)
{
	struct sockaddr_in	 me, srv;
	struct netbuf		 nb;
	CLIENT			*c;
	int			 fd;

	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	if (inet_pton(AF_INET, src, &me.sin_addr) != 1)
		return NULL;
	srv = me;
	srv.sin_port = htons((uint16_t)lockd.port);
	inet_pton(AF_INET, "127.0.0.1", &srv.sin_addr);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return NULL;
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) == -1 ||
	    connect(fd, (struct sockaddr *)&srv, sizeof(srv)) == -1) {
		close(fd);
		return NULL;
	}
	nb.buf = &srv;
	nb.len = nb.maxlen = sizeof(srv);
	c = clnt_vc_create(fd, &nb, DFS_LOCK_PROG, DFS_LOCK_VERS, 0, 0);
	if (c == NULL) {
		close(fd);
		return NULL;
	}
	clnt_control(c, CLSET_FD_CLOSE, NULL);
	return c;
}

/* LOCK of paths p[0..n) from c, waiting up to wait_ms.  Returns the
 * status, DFS_ERR_RPC when no reply came; *id if granted. */
static dfs_stat
lock_raw(CLIENT *c, const char *const *p, u_int n, unsigned int wait_ms,
    dfs_lockid *id)
{
	struct timeval		 tv = { 20, 0 };
	lock_compound_args	 args;
	lock_compound_res	 res;
	lock_argop		 op;
	dfs_path		 paths[4];
	dfs_stat		 st;
	u_int			 i;

	memset(&op, 0, sizeof(op));
	op.op = LOP_LOCK;
	for (i = 0; i < n; i++) {
		paths[i].dfs_path_val = (char *)p[i];
		paths[i].dfs_path_len = (u_int)strlen(p[i]);
	}
	op.lock_argop_u.lock.paths.paths_val = paths;
	op.lock_argop_u.lock.paths.paths_len = n;
	op.lock_argop_u.lock.mode = DFS_LOCK_EXCL;
	op.lock_argop_u.lock.wait_ms = wait_ms;
	args.ops.ops_len = 1;
	args.ops.ops_val = &op;
	memset(&res, 0, sizeof(res));
	if (clnt_call(c, LOCK_COMPOUND, (xdrproc_t)xdr_lock_compound_args,
	    (char *)&args, (xdrproc_t)xdr_lock_compound_res, (char *)&res,
	    tv) != RPC_SUCCESS)
		return DFS_ERR_RPC;
	st = res.status;
	if (st == DFS_OK && id != NULL)
		*id = res.res.res_val[0].lock_resop_u.lock.lock_res_u.ok.id;
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&res);
	return st;
}

/* UNLOCK of id from c.  Returns the status. */
static dfs_stat
unlock_raw(CLIENT *c, const dfs_lockid *id)
{
	struct lock_req		 r = { .n = 0 };
	lock_compound_res	 res;
	dfs_stat		 st;

	lock_req_add(&r, LOP_UNLOCK)->lock_argop_u.unlock = *id;
	if (lock_call(c, &r, &res) != RPC_SUCCESS)
		return DFS_ERR_RPC;
	st = res.status;
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&res);
	return st;
}

/* Returns 1 if a new client at `src` is served (TEST of a free path). */
static int
served(const char *src)
{
	static const dfs_lockid	 nobody;
	CLIENT			*c = clnt_from(src);
	int			 ok;

	if (c == NULL)
		return 0;
	ok = harness_locktest(c, "/free", &nobody, DFS_LOCK_EXCL) == DFS_OK;
	clnt_destroy(c);
	return ok;
}

/* LOCK of one path.  Returns its status; *id if granted. */
static dfs_stat
lock1(CLIENT *c, const char *path, unsigned int wait_ms, dfs_lockid *id)
{
	const char	*p[1] = { path };

	return lock_raw(c, p, 1, wait_ms, id);
}

/* Locked paths: per client address and in total. */
static void
test_locklimits__paths(void)
{
	const char	*ab[] = { "/a", "/b" }, *cd[] = { "/c", "/d" },
			*ef[] = { "/e", "/f" };
	CLIENT		*x, *x2, *y;
	dfs_lockid	 xab, xc, yef, id;

	x = clnt_from("127.0.0.2");
	x2 = clnt_from("127.0.0.2");
	y = clnt_from("127.0.0.3");
	CU_ASSERT_FATAL(x != NULL && x2 != NULL && y != NULL);
	CU_ASSERT(lock_raw(x, ab, 2, 0, &xab) == DFS_OK);
	/* one address, however many connections */
	CU_ASSERT(lock_raw(x2, cd, 2, 0, &id) == DFS_ERR_LIMIT);
	CU_ASSERT(lock1(x2, "/c", 0, &xc) == DFS_OK);
	CU_ASSERT(lock1(x, "/d", 0, &id) == DFS_ERR_LIMIT);
	CU_ASSERT(served("127.0.0.9"));
	CU_ASSERT(lock_raw(y, ef, 2, 0, &yef) == DFS_OK);
	/* the total */
	CU_ASSERT(lock1(y, "/g", 0, &id) == DFS_ERR_LIMIT);
	CU_ASSERT(served("127.0.0.9"));
	CU_ASSERT(unlock_raw(x, &xab) == DFS_OK);
	CU_ASSERT(lock1(y, "/g", 0, &id) == DFS_OK);
	CU_ASSERT(unlock_raw(y, &id) == DFS_OK);
	CU_ASSERT(unlock_raw(y, &yef) == DFS_OK);
	CU_ASSERT(unlock_raw(x, &xc) == DFS_OK);
	clnt_destroy(x);
	clnt_destroy(x2);
	clnt_destroy(y);
}

/* The server's LOCK counter (STATS), or -1. */
static long
lock_calls(void)
{
	struct lock_req		 r = { .n = 0 };
	lock_compound_res	 res;
	stats_res		*sr;
	CLIENT			*c = clnt_from("127.0.0.1");
	long			 n = -1;
	u_int			 i;

	if (c == NULL)
		return -1;
	lock_req_add(&r, LOP_STATS);
	if (lock_call(c, &r, &res) == RPC_SUCCESS && res.status == DFS_OK) {
		sr = &res.res.res_val[0].lock_resop_u.stats;
		for (i = 0; i < sr->stats_res_u.counters.counters_len; i++)
			if (strcmp(sr->stats_res_u.counters.counters_val[i].
			    name, "LOCK") == 0)
				n = (long)sr->stats_res_u.counters.
				    counters_val[i].calls;
	}
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&res);
	clnt_destroy(c);
	return n;
}

/* Waits until the LOCK counter reaches n, at most 5 s.  Returns 0/-1. */
static int
await_lock_calls(long n)
{
	int	i;

	for (i = 0; i < 250; i++) {
		if (lock_calls() >= n)
			return 0;
		usleep(20 * 1000);
	}
	return -1;
}

/* Forks a waiting LOCK of `path` from `src`; the child exits 0 when it
 * was granted (and unlocks), 1 otherwise.  Returns its pid. */
static pid_t
waiter(const char *src, const char *path)
{
	CLIENT		*c;
	dfs_lockid	 id;
	pid_t		 pid = fork();
	int		 ok;

	if (pid != 0)
		return pid;
	c = clnt_from(src);
	ok = c != NULL && lock1(c, path, 10000, &id) == DFS_OK &&
	    unlock_raw(c, &id) == DFS_OK;
	/* under valgrind a leak would change the exit status */
	if (c != NULL)
		clnt_destroy(c);
	_exit(ok ? 0 : 1);
}

/* Returns 1 if child pid exited 0 within 15 s (else kills it). */
static int
granted(pid_t pid)
{
	int	st, i;

	for (i = 0; i < 750; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) && WEXITSTATUS(st) == 0;
		usleep(20 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return 0;
}

/* The waiters test's own connections: file-scope, so the waiter
 * children forked while they are open still reach them (valgrind
 * checks each child's leaks at its exit). */
static CLIENT	*h, *c;

/* Waiting LOCKs: per client address and in total. */
static void
test_locklimits__waiters(void)
{
	dfs_lockid	 hid, id;
	pid_t		 a, b;
	long		 n;

	h = clnt_from("127.0.0.2");
	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT_FATAL(lock1(h, "/w", 0, &hid) == DFS_OK);
	CU_ASSERT_FATAL((n = lock_calls()) > 0);
	a = waiter("127.0.0.3", "/w");
	CU_ASSERT_FATAL(await_lock_calls(n + 1) == 0);
	/* a second waiter from .3: its own limit */
	c = clnt_from("127.0.0.3");
	CU_ASSERT(c != NULL && lock1(c, "/w", 10000, &id) == DFS_ERR_LIMIT);
	b = waiter("127.0.0.4", "/w");
	CU_ASSERT_FATAL(await_lock_calls(n + 3) == 0);
	/* a third one: the total */
	CU_ASSERT(lock1(h, "/w2", 0, &id) == DFS_OK);
	if (c != NULL)
		clnt_destroy(c);
	c = clnt_from("127.0.0.5");
	CU_ASSERT(c != NULL && lock1(c, "/w2", 10000, &id) == DFS_ERR_LIMIT);
	CU_ASSERT(served("127.0.0.9"));
	/* the waiters are served in turn once the holder unlocks */
	CU_ASSERT(unlock_raw(h, &hid) == DFS_OK);
	CU_ASSERT(granted(a));
	CU_ASSERT(granted(b));
	if (c != NULL)
		clnt_destroy(c);
	clnt_destroy(h);
}

static CU_TestInfo limits_tests[] = {
	{ "paths",	test_locklimits__paths },
	{ "waiters",	test_locklimits__waiters },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "locklimits", suite_init, suite_clean, NULL, NULL, limits_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return cutest_run(suites);
}
