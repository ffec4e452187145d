/*
 * it_named_stall.c -- a lock server that accepts connections and never
 * answers must not stall dfs-named for everyone (issue 17, item 3).
 *
 * The test is the lock server: it listens on 127.0.0.1, registers itself
 * with a real dfs-named by REGISTER, reads every call and, while muted,
 * answers none.  One thread sends mutations (MKDIR), each of which
 * needs a TEST from it; meanwhile the main thread times GETATTRs on a
 * connection of its own.  Every GETATTR must be answered within
 * GETATTR_MAX_MS (the mutations wait for their TESTs parked, never
 * stalling the loop), every mutation must be refused DELAY (never done
 * unchecked), and only about one mutation per breaker period may wait
 * for the lock-server timeout: the others fail fast.  Then libdfs must ride
 * out the DELAYs: a dfs_mkdir() made while the lock server is mute
 * succeeds once it answers again.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "harness.h"
#include "rpcc.h"

#define RUN_MS		2500	/* about two breaker periods and a half */
/* A GETATTR is answered from memory at once; before the TESTs were asked
 * without waiting, one behind a mutation waited ~100 ms for the mute
 * lock server (valgrind is slower everywhere). */
#define GETATTR_MAX_MS	(getenv("DFS_VALGRIND") ? 300ULL : 50ULL)
#define SLOW_MS		50	/* a mutation that waited for the TEST */

static char		root[256];
static struct dproc	named;

/*
 * The fake lock server, a libtirpc service in a thread of its own.
 * While `mute`, it reads every call and never answers one (as a hung or
 * hostile lock server would), counting them in `heard`; else it answers
 * NULL, and every TEST or TESTTREE with OK.
 */
static struct {
	pthread_t	 thr;
	int		 fd;
	unsigned int	 port;
	SVCXPRT		*xprt;
	volatile int	 stop;
	pthread_mutex_t	 mu;
	int		 mute;		/* under mu */
	unsigned int	 heard;		/* under mu */
} fake = { .fd = -1, .mu = PTHREAD_MUTEX_INITIALIZER, .mute = 1 };

/* Answers each op of `args` OK (TEST and TESTTREE only), or holds its
 * tongue while muted. */
static void
fake_dispatch(struct svc_req *rq, SVCXPRT *xprt)
{
	lock_compound_args	args;
	lock_compound_res	res;
	lock_resop		r[DFS_MAXOPS];
	u_int			i;
	int			mute;

	memset(&args, 0, sizeof(args));
	if (rq->rq_proc == LOCK_NULL || !svc_getargs(xprt,
	    (xdrproc_t)xdr_lock_compound_args, (char *)&args)) {
		if (rq->rq_proc == LOCK_NULL)
			(void)svc_sendreply(xprt, XDR_VOID, NULL);
		else
			svcerr_decode(xprt);
		return;
	}
	pthread_mutex_lock(&fake.mu);
	mute = fake.mute;
	fake.heard += mute;
	pthread_mutex_unlock(&fake.mu);
	memset(r, 0, sizeof(r));
	memset(&res, 0, sizeof(res));
	for (i = 0; i < args.ops.ops_len && i < DFS_MAXOPS; i++) {
		r[i].op = args.ops.ops_val[i].op == LOP_TESTTREE ?
		    LOP_TESTTREE : LOP_TEST;
		r[i].lock_resop_u.test.status = DFS_OK;
	}
	res.res.res_len = i;
	res.res.res_val = r;
	if (!mute)
		(void)svc_sendreply(xprt, (xdrproc_t)xdr_lock_compound_res,
		    (char *)&res);
	(void)svc_freeargs(xprt, (xdrproc_t)xdr_lock_compound_args,
	    (char *)&args);
}

static void *
fake_run(void *arg)
{
	struct pollfd	pfd[64];
	int		i, n, nready;

	(void)arg;
	while (!fake.stop) {
		n = svc_max_pollfd < 64 ? svc_max_pollfd : 64;
		for (i = 0; i < n; i++)
			pfd[i] = svc_pollfd[i];
		nready = poll(pfd, (nfds_t)n, 20);
		if (nready > 0)
			svc_getreq_poll(pfd, nready);
	}
	return NULL;
}

/* Starts the fake lock server, muted.  Returns 0 or -1. */
static int
fake_start(void)
{
	fake.fd = cutest_bind_loopback(&fake.port);
	if (fake.fd == -1 || listen(fake.fd, 64) == -1)
		return -1;
	/* no netconfig: svc_reg() leaves rpcbind alone */
	fake.xprt = svc_tli_create(fake.fd, NULL, NULL, 0, 0);
	if (fake.xprt == NULL || !svc_reg(fake.xprt, DFS_LOCK_PROG,
	    DFS_LOCK_VERS, fake_dispatch, NULL))
		return -1;
	return pthread_create(&fake.thr, NULL, fake_run, NULL) == 0 ? 0 : -1;
}

static void
fake_stop(void)
{
	if (fake.xprt == NULL)
		return;
	fake.stop = 1;
	pthread_join(fake.thr, NULL);
	svc_destroy(fake.xprt);		/* closes fake.fd */
	fake.xprt = NULL;
}

static void
fake_mute(int mute)
{
	pthread_mutex_lock(&fake.mu);
	fake.mute = mute;
	fake.heard = 0;
	pthread_mutex_unlock(&fake.mu);
}

static unsigned int
fake_heard(void)
{
	unsigned int	n;

	pthread_mutex_lock(&fake.mu);
	n = fake.heard;
	pthread_mutex_unlock(&fake.mu);
	return n;
}

/* The mutator thread's tallies. */
static struct {
	pthread_t	 thr;
	CLIENT		*c;
	volatile int	 stop;
	unsigned int	 calls, delays, others, slow;
} mut;


static int
suite_init(void)
{
	if (harness_mkroot(root, sizeof(root)) != 0)
		return -1;
	harness_init(&named, "dfs-named", DFS_NAME_PROG, root, "named");
	if (harness_start(&named) != 0)
		return -1;
	return fake_start();
}

static int
suite_clean(void)
{
	int	st;

	st = harness_stop(&named);
	fake_stop();
	if (st != 0)
		harness_dump_log(&named);
	if (getenv("DFS_KEEP") == NULL)
		harness_rmtree(root);
	return st == 0 ? 0 : -1;
}

/* Sends r over c.  Returns the COMPOUND's status, DFS_ERR_RPC when no
 * reply came. */
static dfs_stat
send_req(CLIENT *c, struct name_req *r)
{
	name_compound_res	res;
	dfs_stat		st;

	if (name_call(c, r, &res) != RPC_SUCCESS)
		return DFS_ERR_RPC;
	st = res.status;
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return st;
}

static dfs_stat
n_mkdir(CLIENT *c, const char *dir, const char *name)
{
	struct name_req	r = { .n = 0 };

	name_req_add(&r, OP_PUTROOTFH);
	if (dir[0] != '\0')
		name_req_lookup(&r, dir);
	name_req_mkdir(&r, name);
	return send_req(c, &r);
}

static dfs_stat
n_getattr(CLIENT *c, const char *path)
{
	struct name_req	r = { .n = 0 };

	name_req_add(&r, OP_PUTROOTFH);
	name_req_lookup(&r, path);
	name_req_add(&r, OP_GETATTR);
	return send_req(c, &r);
}

/* REGISTER the silent server as the lock server.  Returns the status. */
static dfs_stat
register_mute(CLIENT *c)
{
	struct name_req	 r = { .n = 0 };
	register_args	*ra;

	ra = &name_req_add(&r, OP_REGISTER)->name_argop_u.reg;
	ra->kind = DFS_SRV_LOCK;
	ra->host = "127.0.0.1";
	ra->port = fake.port;
	return send_req(c, &r);
}

/* Sends MKDIRs, one every few ms, until told to stop. */
static void *
mut_run(void *arg)
{
	struct timespec		 pace = { 0, 5 * 1000000L };
	unsigned long long	 t0;
	char			 name[32];
	dfs_stat		 st;

	(void)arg;
	while (!mut.stop) {
		snprintf(name, sizeof(name), "m%u", mut.calls);
		t0 = cutest_ms();
		st = n_mkdir(mut.c, "s", name);
		if (cutest_ms() - t0 >= SLOW_MS)
			mut.slow++;
		mut.calls++;
		if (st == DFS_ERR_DELAY)
			mut.delays++;
		else
			mut.others++;
		nanosleep(&pace, NULL);
	}
	return NULL;
}

/*
 * GETATTRs stay fast while mutations wait on a lock server that never
 * answers; the mutations are DELAY, and most of them fail fast.
 */
static void
test_named_stall__mute_lockd(void)
{
	CLIENT			*c;
	struct timespec		 pace = { 0, 2 * 1000000L };
	unsigned long long	 start, t0, dt, worst = 0;
	unsigned int		 n = 0, bad = 0;

	c = harness_clnt(&named);
	mut.c = harness_clnt(&named);
	CU_ASSERT_FATAL(c != NULL && mut.c != NULL);
	CU_ASSERT_EQUAL_FATAL(n_mkdir(c, "", "s"), DFS_OK);
	CU_ASSERT_EQUAL_FATAL(register_mute(c), DFS_OK);
	CU_ASSERT_FATAL(pthread_create(&mut.thr, NULL, mut_run, NULL) == 0);
	start = cutest_ms();
	while (cutest_ms() - start < RUN_MS) {
		t0 = cutest_ms();
		if (n_getattr(c, "s") != DFS_OK)
			bad++;
		dt = cutest_ms() - t0;
		if (dt > worst)
			worst = dt;
		n++;
		nanosleep(&pace, NULL);
	}
	mut.stop = 1;
	pthread_join(mut.thr, NULL);
	fprintf(stderr, "%u GETATTRs, slowest %llu ms; %u MKDIRs: %u DELAY, "
	    "%u other, %u slow\n", n, worst, mut.calls, mut.delays,
	    mut.others, mut.slow);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(worst < GETATTR_MAX_MS);
	CU_ASSERT(mut.calls >= 10);
	CU_ASSERT_EQUAL(mut.others, 0);
	/* one timeout per breaker period (1 s), and some slack for load */
	CU_ASSERT(mut.slow <= RUN_MS / 1000 + 3);
	/* the namespace is unchanged: no MKDIR went through unchecked */
	CU_ASSERT_EQUAL(n_getattr(c, "s/m0"), DFS_ERR_NOENT);
	clnt_destroy(mut.c);
	clnt_destroy(c);
}

/* dfs_mkdir() in a thread of its own: its status and how long. */
static struct {
	pthread_t	 thr;
	struct dfs	*dfs;
	int		 rc;
	volatile int	 done;
} mk;

static void *
mk_run(void *arg)
{
	(void)arg;
	mk.rc = dfs_mkdir(mk.dfs, "/s/late", 0755);
	mk.done = 1;
	return NULL;
}

/* Waits at most `ms` for *flag, or for the fake to have heard a call
 * when flag is NULL.  Returns 1 when it happened. */
static int
await(volatile int *flag, unsigned int ms)
{
	struct timespec		ts = { 0, 5 * 1000000L };
	unsigned long long	end = cutest_ms() + ms;

	while (cutest_ms() < end) {
		if (flag != NULL ? *flag != 0 : fake_heard() > 0)
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/*
 * libdfs sends a request the name server answered DELAY again after a
 * short backoff: a dfs_mkdir() made while the lock server does not
 * answer succeeds once it answers again, within libdfs's 5 s.
 */
static void
test_named_stall__libdfs_retries_delay(void)
{
	struct dfs_opts	 o = DFS_OPTS_INIT;
	char		 server[64];
	CLIENT		*c;

	snprintf(server, sizeof(server), "127.0.0.1:%u", named.port);
	o.server = server;
	o.no_cache = 1;
	CU_ASSERT_EQUAL_FATAL(dfs_connect(&mk.dfs, &o), 0);
	fake_mute(1);
	CU_ASSERT_FATAL(pthread_create(&mk.thr, NULL, mk_run, NULL) == 0);
	/* ORDER: the name server asked and got no answer before the lock
	 * server answers again: so the MKDIR was DELAY at least once */
	CU_ASSERT(await(NULL, 5000));
	fake_mute(0);
	CU_ASSERT(await(&mk.done, 10000));
	pthread_join(mk.thr, NULL);
	CU_ASSERT_EQUAL(mk.rc, 0);
	if (mk.rc != 0)
		fprintf(stderr, "dfs_mkdir: %s\n", dfs_strerror(mk.rc));
	dfs_disconnect(mk.dfs);
	c = harness_clnt(&named);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(n_getattr(c, "s/late"), DFS_OK);
	clnt_destroy(c);
}

static CU_TestInfo named_stall_tests[] = {
	{ "mute_lockd", test_named_stall__mute_lockd },
	{ "libdfs_retries_delay", test_named_stall__libdfs_retries_delay },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "named_stall", suite_init, suite_clean, NULL, NULL,
	    named_stall_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
