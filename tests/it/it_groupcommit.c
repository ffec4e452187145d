/*
 * it_groupcommit.c -- dfs-named's group commit against the real daemon
 * over TCP: concurrent writers share log syncs, nothing acknowledged is
 * lost to kill -9, and pipelined or abandoned requests get their own
 * replies (or none) while replies are held for a sync.
 *
 * Writers are forked processes, each with a connection of its own, so
 * their requests reach the daemon's poll loop together as separate
 * clients' would.  Sharing is read from the daemon's STATS counters
 * (LOG_COMMITS, LOG_SYNCS), never from timings.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "harness.h"

#define NWRITERS	4
#define NMKDIRS		150		/* per writer, shared_syncs */
#define MAXCRASH	100000		/* per writer: never reached */
#define KILL_AFTER_MS	300

static char		root[256];
static struct dproc	named;

static int
suite_init(void)
{
	if (harness_mkroot(root, sizeof(root)) != 0)
		return -1;
	harness_init(&named, "dfs-named", DFS_NAME_PROG, root, "named");
	return harness_start(&named) == 0 ? 0 : -1;
}

static int
suite_clean(void)
{
	int	st = harness_stop(&named);

	if (st != 0)
		harness_dump_log(&named);
	if (getenv("DFS_KEEP") == NULL)
		harness_rmtree(root);
	return st == 0 ? 0 : -1;
}

static void
sleep_ms(unsigned int ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* MKDIR /dir/name over c.  Returns the status, DFS_ERR_RPC when no
 * reply came. */
static dfs_stat
mkdir_at(CLIENT *c, const char *dir, const char *name)
{
	struct name_req		r = { .n = 0 };
	name_compound_res	res;
	dfs_stat		st;

	name_req_add(&r, OP_PUTROOTFH);
	if (dir != NULL)
		name_req_lookup(&r, dir);
	name_req_mkdir(&r, name);
	if (name_call(c, &r, &res) != RPC_SUCCESS)
		return DFS_ERR_RPC;
	st = res.status;
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return st;
}

/* LOOKUP of relative `path` over c.  Returns the status. */
static dfs_stat
lookup_at(CLIENT *c, const char *path)
{
	struct name_req		r = { .n = 0 };
	name_compound_res	res;
	dfs_stat		st;

	name_req_add(&r, OP_PUTROOTFH);
	name_req_lookup(&r, path);
	if (name_call(c, &r, &res) != RPC_SUCCESS)
		return DFS_ERR_RPC;
	st = res.status;
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return st;
}

/* The daemon's LOG_COMMITS and LOG_SYNCS.  Returns 0 or -1. */
static int
log_counts(uint64_t *commits, uint64_t *syncs)
{
	struct name_req		 r = { .n = 0 };
	name_compound_res	 res;
	const stats_res		*sr;
	CLIENT			*c;
	u_int			 i;
	int			 found = 0;

	if ((c = harness_clnt(&named)) == NULL)
		return -1;
	name_req_add(&r, OP_STATS);
	if (name_call(c, &r, &res) == RPC_SUCCESS && res.status == DFS_OK) {
		sr = &res.res.res_val[0].name_resop_u.stats;
		for (i = 0; i < sr->stats_res_u.counters.counters_len; i++) {
			const dfs_counter *v =
			    &sr->stats_res_u.counters.counters_val[i];

			if (strcmp(v->name, "LOG_COMMITS") == 0) {
				*commits = v->calls;
				found++;
			} else if (strcmp(v->name, "LOG_SYNCS") == 0) {
				*syncs = v->calls;
				found++;
			}
		}
	}
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	clnt_destroy(c);
	return found == 2 ? 0 : -1;
}

/*
 * Forks NWRITERS writers; each connects, waits for the start (the `go`
 * pipe closing) and runs fn(its connection, its number, arg), whose
 * return is its exit status.  Starts them together; returns how many
 * exited 0.
 */
static int
run_writers(int (*fn)(CLIENT *, int, void *), void *arg, pid_t *pids)
{
	int	go[2], i, st, ok = 0;
	char	c;

	CU_ASSERT_FATAL(pipe(go) == 0);
	fflush(NULL);
	for (i = 0; i < NWRITERS; i++) {
		pids[i] = fork();
		CU_ASSERT_FATAL(pids[i] != -1);
		if (pids[i] == 0) {
			CLIENT	*cl = harness_clnt(&named);

			close(go[1]);
			if (cl == NULL || read(go[0], &c, 1) != 0)
				_exit(2);
			st = fn(cl, i, arg);
			clnt_destroy(cl);
			_exit(st);
		}
	}
	close(go[0]);
	close(go[1]);			/* go */
	for (i = 0; i < NWRITERS; i++)
		if (waitpid(pids[i], &st, 0) == pids[i] && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0)
			ok++;
	return ok;
}

/* --- writers share syncs --- */

static int
write_dirs(CLIENT *c, int w, void *arg)
{
	char	name[32];
	int	i;

	(void)arg;
	for (i = 0; i < NMKDIRS; i++) {
		snprintf(name, sizeof(name), "w%d-%d", w, i);
		if (mkdir_at(c, "gc", name) != DFS_OK)
			return 1;
	}
	return 0;
}

/*
 * NWRITERS clients MKDIR at once: every MKDIR is its own log record,
 * and the daemon made them durable with fewer fdatasyncs than records.
 */
static void
test_groupcommit__shared_syncs(void)
{
	uint64_t	commits0, syncs0, commits, syncs;
	pid_t		pids[NWRITERS];
	CLIENT		*c;
	char		path[64];
	int		w, i, missing = 0;

	c = harness_clnt(&named);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(mkdir_at(c, NULL, "gc"), DFS_OK);
	CU_ASSERT_FATAL(log_counts(&commits0, &syncs0) == 0);
	CU_ASSERT_EQUAL(run_writers(write_dirs, NULL, pids), NWRITERS);
	CU_ASSERT_FATAL(log_counts(&commits, &syncs) == 0);
	commits -= commits0;
	syncs -= syncs0;
	printf("\n    %d writers: %llu changing COMPOUNDs, %llu log syncs\n",
	    NWRITERS, (unsigned long long)commits,
	    (unsigned long long)syncs);
	CU_ASSERT(commits == NWRITERS * NMKDIRS);
	CU_ASSERT(syncs > 0);
	CU_ASSERT(syncs < commits);
	for (w = 0; w < NWRITERS; w++)
		for (i = 0; i < NMKDIRS; i++) {
			snprintf(path, sizeof(path), "gc/w%d-%d", w, i);
			if (lookup_at(c, path) != DFS_OK)
				missing++;
		}
	CU_ASSERT_EQUAL(missing, 0);
	clnt_destroy(c);
}

/* --- kill -9 under concurrent writers --- */

/* Each writer records, in its own file, every MKDIR acknowledged. */
static int
write_until_killed(CLIENT *c, int w, void *arg)
{
	char		name[32], path[512];
	uint32_t	i;
	int		fd;

	snprintf(path, sizeof(path), "%s/acked.%d", (const char *)arg, w);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1)
		return 1;
	for (i = 0; i < MAXCRASH; i++) {
		snprintf(name, sizeof(name), "w%d-%u", w, i);
		if (mkdir_at(c, "kc", name) != DFS_OK)
			break;
		/* ORDER: only after the reply arrived */
		if (write(fd, &i, sizeof(i)) != (ssize_t)sizeof(i))
			return 1;
	}
	close(fd);
	return i < MAXCRASH ? 0 : 1;	/* the kill really hit */
}

/* Returns how many acknowledged MKDIRs of writer w are missing, and
 * adds how many there were to *acked. */
static int
check_acked(CLIENT *c, int w, int *acked)
{
	char		path[512];
	uint32_t	i;
	int		fd, lost = 0;

	snprintf(path, sizeof(path), "%s/acked.%d", root, w);
	fd = open(path, O_RDONLY);
	CU_ASSERT_FATAL(fd != -1);
	while (read(fd, &i, sizeof(i)) == (ssize_t)sizeof(i)) {
		snprintf(path, sizeof(path), "kc/w%d-%u", w, i);
		if (lookup_at(c, path) != DFS_OK)
			lost++;
		(*acked)++;
	}
	close(fd);
	return lost;
}

/*
 * NWRITERS clients MKDIR until the daemon is killed with SIGKILL; after
 * a restart on the same state every acknowledged directory is there.
 */
static void
test_groupcommit__kill9(void)
{
	pid_t	pids[NWRITERS], killer;
	CLIENT	*c;
	int	w, acked = 0, lost = 0;

	c = harness_clnt(&named);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(mkdir_at(c, NULL, "kc"), DFS_OK);
	clnt_destroy(c);
	killer = fork();
	CU_ASSERT_FATAL(killer != -1);
	if (killer == 0) {
		sleep_ms(KILL_AFTER_MS);
		kill(named.pid, SIGKILL);
		_exit(0);
	}
	CU_ASSERT_EQUAL(run_writers(write_until_killed, root, pids),
	    NWRITERS);
	waitpid(killer, NULL, 0);
	CU_ASSERT_EQUAL(harness_kill9(&named), 0);	/* reap it */
	CU_ASSERT_EQUAL_FATAL(harness_start(&named), 0);
	c = harness_clnt(&named);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	for (w = 0; w < NWRITERS; w++)
		lost += check_acked(c, w, &acked);
	printf("\n    %d acknowledged MKDIRs from %d writers, %d lost\n",
	    acked, NWRITERS, lost);
	CU_ASSERT(acked > 0);
	CU_ASSERT_EQUAL(lost, 0);
	clnt_destroy(c);
}

/* --- raw connections: pipelining and hanging up --- */


/* Encodes a COMPOUND [PUTROOTFH, MKDIR name] call with `xid` as one
 * record (marker included) at buf.  Returns its length, or 0. */
static size_t
encode_mkdir(char *buf, size_t cap, uint32_t xid, const char *name)
{
	struct name_req		r = { .n = 0 };
	name_compound_args	args;
	struct rpc_msg		m;
	XDR			x;
	uint32_t		mark;
	size_t			len = 0;

	name_req_add(&r, OP_PUTROOTFH);
	name_req_mkdir(&r, name);
	args.ops.ops_len = r.n;
	args.ops.ops_val = r.ops;
	memset(&m, 0, sizeof(m));
	m.rm_xid = xid;
	m.rm_direction = CALL;
	m.rm_call.cb_rpcvers = RPC_MSG_VERSION;
	m.rm_call.cb_prog = DFS_NAME_PROG;
	m.rm_call.cb_vers = DFS_NAME_VERS;
	m.rm_call.cb_proc = NAME_COMPOUND;
	m.rm_call.cb_cred = _null_auth;
	m.rm_call.cb_verf = _null_auth;
	xdrmem_create(&x, buf + 4, (u_int)(cap - 4), XDR_ENCODE);
	if (xdr_callmsg(&x, &m) &&
	    xdr_name_compound_args(&x, &args)) {
		len = xdr_getpos(&x);
		mark = htonl(0x80000000u | (uint32_t)len);
		memcpy(buf, &mark, 4);
		len += 4;
	}
	xdr_destroy(&x);
	return len;
}

/* Reads exactly n bytes within 5 s.  Returns 0 or -1. */
static int
read_full(int fd, char *buf, size_t n)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	ssize_t		got;

	while (n > 0) {
		if (poll(&pfd, 1, 5000) != 1)
			return -1;
		got = read(fd, buf, n);
		if (got <= 0)
			return -1;
		buf += got;
		n -= (size_t)got;
	}
	return 0;
}

/* Reads one reply record.  Returns its xid and stores the COMPOUND's
 * status in *st, or returns 0 on any failure. */
static uint32_t
read_reply(int fd, dfs_stat *st)
{
	static char		buf[65536];
	name_compound_res	res;
	struct rpc_msg		m;
	uint32_t		mark, len, xid = 0;
	XDR			x;

	if (read_full(fd, (char *)&mark, 4) != 0)
		return 0;
	len = ntohl(mark) & 0x7fffffffu;
	if (!(ntohl(mark) & 0x80000000u) || len > sizeof(buf) ||
	    read_full(fd, buf, len) != 0)
		return 0;
	memset(&m, 0, sizeof(m));
	memset(&res, 0, sizeof(res));
	m.acpted_rply.ar_verf = _null_auth;
	m.acpted_rply.ar_results.where = (caddr_t)&res;
	m.acpted_rply.ar_results.proc = (xdrproc_t)xdr_name_compound_res;
	xdrmem_create(&x, buf, len, XDR_DECODE);
	if (xdr_replymsg(&x, &m) && m.rm_reply.rp_stat == MSG_ACCEPTED &&
	    m.acpted_rply.ar_stat == SUCCESS) {
		xid = m.rm_xid;
		*st = res.status;
	}
	xdr_destroy(&x);
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return xid;
}

/*
 * Two changing requests in one write: the first one's reply is held
 * for the sync when the second arrives.  Each gets its own reply, in
 * order, with its own xid.
 */
static void
test_groupcommit__pipelined(void)
{
	char		buf[4096];
	size_t		n1, n2;
	dfs_stat	st1 = DFS_ERR_IO, st2 = DFS_ERR_IO;
	uint32_t	x1, x2;
	CLIENT		*c;
	int		fd;

	fd = cutest_connect_loopback(named.port);
	CU_ASSERT_FATAL(fd != -1);
	n1 = encode_mkdir(buf, sizeof(buf), 0x1001, "pipe1");
	n2 = encode_mkdir(buf + n1, sizeof(buf) - n1, 0x1002, "pipe2");
	CU_ASSERT_FATAL(n1 > 0 && n2 > 0);
	CU_ASSERT_FATAL(write(fd, buf, n1 + n2) == (ssize_t)(n1 + n2));
	x1 = read_reply(fd, &st1);
	x2 = read_reply(fd, &st2);
	CU_ASSERT_EQUAL(x1, 0x1001);
	CU_ASSERT_EQUAL(x2, 0x1002);
	CU_ASSERT_EQUAL(st1, DFS_OK);
	CU_ASSERT_EQUAL(st2, DFS_OK);
	close(fd);
	c = harness_clnt(&named);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(lookup_at(c, "pipe1"), DFS_OK);
	CU_ASSERT_EQUAL(lookup_at(c, "pipe2"), DFS_OK);
	clnt_destroy(c);
}

/*
 * Clients that hang up right after sending a change, before its held
 * reply could go: the daemon keeps serving, and the change is made
 * durable all the same.
 */
static void
test_groupcommit__hangup(void)
{
	char	buf[4096], name[32];
	size_t	n;
	CLIENT	*c;
	int	fd, i, found = 0;

	for (i = 0; i < 20; i++) {
		fd = cutest_connect_loopback(named.port);
		CU_ASSERT_FATAL(fd != -1);
		snprintf(name, sizeof(name), "hup%d", i);
		n = encode_mkdir(buf, sizeof(buf), 0x2000 + (uint32_t)i,
		    name);
		CU_ASSERT_FATAL(n > 0);
		CU_ASSERT(write(fd, buf, n) == (ssize_t)n);
		close(fd);
	}
	c = harness_clnt(&named);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	/* the daemon reads a request before it sees the hang-up, but may
	 * take a round or two to get there */
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "hup%d", i);
		if (lookup_at(c, name) == DFS_OK)
			found++;
	}
	CU_ASSERT(mkdir_at(c, NULL, "after-hangups") == DFS_OK);
	clnt_destroy(c);
	printf("\n    %d of 20 abandoned MKDIRs applied\n", found);
}

static CU_TestInfo groupcommit_tests[] = {
	{ "shared_syncs", test_groupcommit__shared_syncs },
	{ "kill9", test_groupcommit__kill9 },
	{ "pipelined", test_groupcommit__pipelined },
	{ "hangup", test_groupcommit__hangup },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "groupcommit", suite_init, suite_clean, NULL, NULL,
	    groupcommit_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
