/*
 * it_named_stall.c -- a lock server that accepts connections and never
 * answers must not stall dfs-named for everyone (issue 17, item 3).
 *
 * The test is the lock server: it listens on 127.0.0.1, registers itself
 * with a real dfs-named by REGISTER, accepts every connection and never
 * reads or answers.  One thread sends mutations (MKDIR), each of which
 * needs a TEST from it; meanwhile the main thread times GETATTRs on a
 * connection of its own.  Every GETATTR must be answered within
 * GETATTR_MAX_MS, every mutation must be refused DELAY (never done
 * unchecked), and only about one mutation per breaker period may take
 * the lock-server timeout: the others fail fast.
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

#define RUN_MS		2500	/* about two breaker periods and a half */
#define GETATTR_MAX_MS	300
#define SLOW_MS		50	/* a mutation that waited for the TEST */
#define MAXCONNS	256

static char		root[256];
static struct dproc	named;

/* The silent lock server: accepts, holds, never answers. */
static struct {
	pthread_t	 thr;
	int		 lfd;
	unsigned int	 port;
	int		 fds[MAXCONNS];
	int		 nfds;
	volatile int	 stop;
} mute = { .lfd = -1 };

/* The mutator thread's tallies. */
static struct {
	pthread_t	 thr;
	CLIENT		*c;
	volatile int	 stop;
	unsigned int	 calls, delays, others, slow;
} mut;

static unsigned long long
ms_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 +
	    (unsigned long long)ts.tv_nsec / 1000000;
}

static void *
mute_run(void *arg)
{
	struct pollfd	pfd;
	int		fd;

	(void)arg;
	pfd.fd = mute.lfd;
	pfd.events = POLLIN;
	while (!mute.stop) {
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		fd = accept(mute.lfd, NULL, NULL);
		if (fd == -1)
			continue;
		if (mute.nfds < MAXCONNS)
			mute.fds[mute.nfds++] = fd;
		else
			close(fd);
	}
	return NULL;
}

/* Starts the silent lock server.  Returns 0 or -1. */
static int
mute_start(void)
{
	mute.lfd = cutest_bind_loopback(&mute.port);
	if (mute.lfd == -1 || listen(mute.lfd, 64) == -1)
		return -1;
	return pthread_create(&mute.thr, NULL, mute_run, NULL) == 0 ? 0 : -1;
}

static void
mute_stop(void)
{
	int	i;

	if (mute.lfd == -1)
		return;
	mute.stop = 1;
	pthread_join(mute.thr, NULL);
	for (i = 0; i < mute.nfds; i++)
		close(mute.fds[i]);
	close(mute.lfd);
	mute.lfd = -1;
}

static int
suite_init(void)
{
	if (harness_mkroot(root, sizeof(root)) != 0)
		return -1;
	harness_init(&named, "dfs-named", DFS_NAME_PROG, root, "named");
	if (harness_start(&named) != 0)
		return -1;
	return mute_start();
}

static int
suite_clean(void)
{
	int	st;

	mute_stop();
	st = harness_stop(&named);
	if (st != 0)
		harness_dump_log(&named);
	if (getenv("DFS_KEEP") == NULL)
		harness_rmtree(root);
	return st == 0 ? 0 : -1;
}

/* Sends r over c.  Returns the COMPOUND's status, DFS_ERR_RPC when no
 * reply came. */
static dfs_stat
send_req(CLIENT *c, struct nreq *r)
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
	struct nreq	r = { .n = 0 };

	nreq_add(&r, OP_PUTROOTFH);
	if (dir[0] != '\0')
		nreq_lookup(&r, dir);
	nreq_mkdir(&r, name);
	return send_req(c, &r);
}

static dfs_stat
n_getattr(CLIENT *c, const char *path)
{
	struct nreq	r = { .n = 0 };

	nreq_add(&r, OP_PUTROOTFH);
	nreq_lookup(&r, path);
	nreq_add(&r, OP_GETATTR);
	return send_req(c, &r);
}

/* REGISTER the silent server as the lock server.  Returns the status. */
static dfs_stat
register_mute(CLIENT *c)
{
	struct nreq	 r = { .n = 0 };
	register_args	*ra;

	ra = &nreq_add(&r, OP_REGISTER)->name_argop_u.reg;
	ra->kind = DFS_SRV_LOCK;
	ra->host = "127.0.0.1";
	ra->port = mute.port;
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
		t0 = ms_now();
		st = n_mkdir(mut.c, "s", name);
		if (ms_now() - t0 >= SLOW_MS)
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
	start = ms_now();
	while (ms_now() - start < RUN_MS) {
		t0 = ms_now();
		if (n_getattr(c, "s") != DFS_OK)
			bad++;
		dt = ms_now() - t0;
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

static CU_TestInfo named_stall_tests[] = {
	{ "mute_lockd", test_named_stall__mute_lockd },
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
