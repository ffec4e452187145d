/*
 * it_hostile.c -- hostile clients against real dfs-named and dfs-lockd.
 *
 * Raw ONC RPC over TCP, byte by byte where it matters: record marks that
 * announce more than will come, requests cut into fragments, pipelines
 * whose replies are never read, idle and slowloris connections, more
 * connections than the daemon has descriptors, oversized and malformed
 * calls.  Each case asserts that the hostile connection gets an error or
 * is closed, and that another client is served meanwhile, within a
 * bound.  The daemons run with short limits (-t, -r, -C) so that timeouts
 * are seen in seconds; every wait is a bounded poll for a condition.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../cutest.h"
#include "harness.h"

#define LAST_FRAG	0x80000000U
#define SERVED_MS	1000	/* another client's call, at most */
#define CLOSED_MS	8000	/* -t 2, -r 2: closed within this */

static char		root[256];
static struct dproc	named, lockd;

/* --- raw RPC ------------------------------------------------------------ */

/*
 * Encodes a call (AUTH_NONE) of prog/vers/proc with arguments
 * xargs(args) into buf.  Returns its length, or 0.
 */
static size_t
encode_call(char *buf, size_t cap, uint32_t xid, rpcprog_t prog,
    rpcvers_t vers, rpcproc_t proc, xdrproc_t xargs, void *args)
{
	struct rpc_msg	msg;
	XDR		x;
	size_t		n = 0;

	memset(&msg, 0, sizeof(msg));
	msg.rm_xid = xid;
	msg.rm_direction = CALL;
	msg.rm_call.cb_rpcvers = RPC_MSG_VERSION;
	msg.rm_call.cb_prog = prog;
	msg.rm_call.cb_vers = vers;
	msg.rm_call.cb_proc = proc;
	msg.rm_call.cb_cred = _null_auth;
	msg.rm_call.cb_verf = _null_auth;
	xdrmem_create(&x, buf, (u_int)cap, XDR_ENCODE);
	if (xdr_callmsg(&x, &msg) && (xargs == NULL || xargs(&x, args)))
		n = XDR_GETPOS(&x);
	xdr_destroy(&x);
	return n;
}

/* Sends body[0..n) as fragments of at most `frag` bytes.  Returns 0/-1. */
static int
send_frags(int fd, const char *body, size_t n, size_t frag)
{
	uint32_t	mark;
	size_t		off = 0, k;

	do {
		k = n - off < frag ? n - off : frag;
		mark = htonl((uint32_t)k | (off + k == n ? LAST_FRAG : 0));
		if (cutest_write_full(fd, &mark, 4) != 0 ||
		    cutest_write_full(fd, body + off, k) != 0)
			return -1;
		off += k;
	} while (off < n);
	return 0;
}

/* Waits up to ms for fd to be readable.  Returns 1 or 0. */
static int
readable(int fd, int ms)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };

	return poll(&pfd, 1, ms) == 1;
}

/* The 32-bit word at byte `off` of rec (big-endian on the wire). */
static uint32_t
word_at(const char *rec, size_t off)
{
	uint32_t	w;

	memcpy(&w, rec + off, 4);
	return ntohl(w);
}

/*
 * Reads one reply record (any fragments) within ms and reads its header
 * words: xid, REPLY, reply_stat and, when accepted, the accept_stat after
 * an empty verifier.  Returns the xid, or -1 when the connection closed
 * or nothing came in time.
 */
static long long
read_reply(int fd, int ms, enum reply_stat *rstat, enum accept_stat *astat)
{
	static char	rec[65536];
	uint32_t	mark;
	size_t		len = 0, k;

	do {
		if (!readable(fd, ms) || cutest_read_full(fd, &mark, 4) != 0)
			return -1;
		mark = ntohl(mark);
		k = mark & ~LAST_FRAG;
		if (len + k > sizeof(rec) || cutest_read_full(fd, rec + len,
		    k) != 0)
			return -1;
		len += k;
	} while ((mark & LAST_FRAG) == 0);
	if (len < 12 || word_at(rec, 4) != REPLY)
		return -1;
	*rstat = (enum reply_stat)word_at(rec, 8);
	*astat = SYSTEM_ERR;
	if (*rstat == MSG_ACCEPTED && len >= 24 && word_at(rec, 16) == 0)
		*astat = (enum accept_stat)word_at(rec, 20);
	return word_at(rec, 0);
}

/* Does the peer close fd within ms (replies read and dropped)? */
static int
closed_within(int fd, int ms)
{
	unsigned long long	end = cutest_ms() + (unsigned long long)ms;
	char			buf[65536];
	ssize_t			n;

	do {
		if (!readable(fd, cutest_ms() < end ?
		    (int)(end - cutest_ms()) : 0))
			return 0;
		n = read(fd, buf, sizeof(buf));
		if (n == 0 || (n == -1 && errno == ECONNRESET))
			return 1;
	} while (cutest_ms() < end);
	return 0;
}

/* A NULL call on a fresh connection: answered within SERVED_MS? */
static int
served(const struct dproc *d)
{
	enum reply_stat		rs;
	enum accept_stat	as;
	char			buf[256];
	size_t			n;
	int			fd, ok;

	if ((fd = cutest_connect_loopback(d->port)) == -1)
		return 0;
	n = encode_call(buf, sizeof(buf), 4242, d->rpcprog, 1, 0, NULL,
	    NULL);
	ok = n > 0 && send_frags(fd, buf, n, n) == 0 &&
	    read_reply(fd, SERVED_MS, &rs, &as) == 4242 &&
	    rs == MSG_ACCEPTED && as == SUCCESS;
	close(fd);
	return ok;
}

/* A GETATTR of / over libtirpc on a fresh connection, in time? */
static int
getattr_served(void)
{
	struct timeval		 tv = { SERVED_MS / 1000, 0 };
	name_compound_args	 args;
	name_compound_res	 res;
	name_argop		 ops[2];
	CLIENT			*c;
	int			 ok;

	if ((c = harness_clnt(&named)) == NULL)
		return 0;
	memset(ops, 0, sizeof(ops));
	ops[0].op = OP_PUTROOTFH;
	ops[1].op = OP_GETATTR;
	args.ops.ops_len = 2;
	args.ops.ops_val = ops;
	memset(&res, 0, sizeof(res));
	ok = clnt_call(c, NAME_COMPOUND, (xdrproc_t)xdr_name_compound_args,
	    (caddr_t)&args, (xdrproc_t)xdr_name_compound_res, (caddr_t)&res,
	    tv) == RPC_SUCCESS && res.status == DFS_OK;
	xdr_free((xdrproc_t)xdr_name_compound_res, (caddr_t)&res);
	clnt_destroy(c);
	return ok;
}

/* --- suite ------------------------------------------------------------- */

/* fits struct dproc's extra[8] */
static const char *const limits[] = { "-v", "-t", "2", "-r", "2", "-C", "16",
    NULL };

static int
suite_init(void)
{
	int	i;

	if (harness_mkroot(root, sizeof(root)) != 0)
		return -1;
	harness_init(&named, "dfs-named", DFS_NAME_PROG, root, "named");
	harness_init(&lockd, "dfs-lockd", DFS_LOCK_PROG, root, "lockd");
	for (i = 0; limits[i] != NULL; i++)
		named.extra[i] = lockd.extra[i] = limits[i];
	if (harness_start(&named) != 0 || harness_start(&lockd) != 0)
		return -1;
	return 0;
}

static int
suite_clean(void)
{
	int	rc = 0;

	if (harness_stop(&named) != 0 || harness_stop(&lockd) != 0) {
		harness_dump_log(&named);
		harness_dump_log(&lockd);
		rc = -1;
	}
	harness_rmtree(root);
	return rc;
}

static const struct dproc *const daemons[] = { &named, &lockd };
#define NDAEMONS	2

/* --- record marking ------------------------------------------------------ */

/* Four bytes announcing a record of 256 KiB + 4 that never comes: the
 * daemon serves others meanwhile, and drops the connection once it has
 * stalled past the stall timeout. */
static void
test_hostile__huge_mark_then_nothing(void)
{
	static const unsigned char	mark[4] = { 0x80, 0x04, 0x00, 0x04 };
	int				i, fd;

	for (i = 0; i < NDAEMONS; i++) {
		fd = cutest_connect_loopback(daemons[i]->port);
		CU_ASSERT_FATAL(fd != -1);
		CU_ASSERT(cutest_write_full(fd, mark, 4) == 0);
		CU_ASSERT(served(daemons[i]));
		CU_ASSERT(served(daemons[i]));
		CU_ASSERT(closed_within(fd, CLOSED_MS));
		close(fd);
	}
	CU_ASSERT(getattr_served());
}

/* A record mark over the daemon's request limit: closed at once, no
 * allocation of what it announces. */
static void
test_hostile__mark_over_limit(void)
{
	static const unsigned char	mark[4] = { 0xff, 0xff, 0xff, 0xf0 };
	int				i, fd;

	for (i = 0; i < NDAEMONS; i++) {
		fd = cutest_connect_loopback(daemons[i]->port);
		CU_ASSERT_FATAL(fd != -1);
		CU_ASSERT(cutest_write_full(fd, mark, 4) == 0);
		CU_ASSERT(closed_within(fd, SERVED_MS));
		close(fd);
		CU_ASSERT(served(daemons[i]));
	}
}

/* A call cut into fragments of 1, 3 and 7 bytes (RFC 5531 record
 * marking) is one call: answered once, with its xid, and the call after
 * it on the same connection too. */
static void
test_hostile__fragments(void)
{
	static const size_t	sizes[] = { 1, 3, 7 };
	enum reply_stat		rs;
	enum accept_stat	as;
	char			buf[256];
	size_t			n, k;
	int			i, fd;

	for (i = 0; i < NDAEMONS; i++) {
		fd = cutest_connect_loopback(daemons[i]->port);
		CU_ASSERT_FATAL(fd != -1);
		for (k = 0; k < 3; k++) {
			n = encode_call(buf, sizeof(buf), 100 + (uint32_t)k,
			    daemons[i]->rpcprog, 1, 0, NULL, NULL);
			CU_ASSERT_FATAL(n > 0);
			CU_ASSERT(send_frags(fd, buf, n, sizes[k]) == 0);
		}
		for (k = 0; k < 3; k++) {
			CU_ASSERT(read_reply(fd, SERVED_MS, &rs, &as) ==
			    (long long)(100 + k));
			CU_ASSERT(rs == MSG_ACCEPTED && as == SUCCESS);
		}
		close(fd);
	}
}

/* A LOCK of 20 paths of 3,819 bytes: ~76 KB, which libtirpc's client
 * sends as several fragments. */
static void
test_hostile__large_fragmented_lock(void)
{
	struct timeval		 tv = { 5, 0 };
	lock_compound_args	 args;
	lock_compound_res	 res;
	lock_argop		 op;
	dfs_path		 paths[20];
	static char		 bufs[20][3819];
	CLIENT			*c;
	int			 i, j;

	for (i = 0; i < 20; i++) {
		memset(bufs[i], 'a' + i, sizeof(bufs[i]));
		for (j = 0; j < (int)sizeof(bufs[i]) - 1; j += 200)
			bufs[i][j] = '/';
		paths[i].dfs_path_val = bufs[i];
		paths[i].dfs_path_len = sizeof(bufs[i]);
	}
	memset(&op, 0, sizeof(op));
	op.op = LOP_LOCK;
	op.lock_argop_u.lock.paths.paths_len = 20;
	op.lock_argop_u.lock.paths.paths_val = paths;
	op.lock_argop_u.lock.mode = DFS_LOCK_EXCL;
	args.ops.ops_len = 1;
	args.ops.ops_val = &op;
	memset(&res, 0, sizeof(res));
	c = harness_clnt(&lockd);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT(clnt_call(c, LOCK_COMPOUND,
	    (xdrproc_t)xdr_lock_compound_args, (caddr_t)&args,
	    (xdrproc_t)xdr_lock_compound_res, (caddr_t)&res, tv) ==
	    RPC_SUCCESS);
	CU_ASSERT(res.status == DFS_OK);
	xdr_free((xdrproc_t)xdr_lock_compound_res, (caddr_t)&res);
	clnt_destroy(c);
}

/* --- malformed calls --------------------------------------------------- */

/* RPC version 3: MSG_DENIED (RPC_MISMATCH), and the connection serves
 * the next call; a record that is no call at all closes it. */
static void
test_hostile__malformed(void)
{
	static const char	garbage[16] = "not an rpc call";
	enum reply_stat		rs;
	enum accept_stat	as;
	char			buf[256];
	size_t			n;
	uint32_t		rpcvers;
	int			fd;

	fd = cutest_connect_loopback(named.port);
	CU_ASSERT_FATAL(fd != -1);
	n = encode_call(buf, sizeof(buf), 7, DFS_NAME_PROG, 1, 0, NULL,
	    NULL);
	rpcvers = htonl(3);		/* xdr_callmsg() encodes only 2 */
	memcpy(buf + 8, &rpcvers, 4);
	CU_ASSERT(send_frags(fd, buf, n, n) == 0);
	CU_ASSERT(read_reply(fd, SERVED_MS, &rs, &as) == 7);
	CU_ASSERT(rs == MSG_DENIED);
	n = encode_call(buf, sizeof(buf), 8, DFS_NAME_PROG, 1, 0, NULL,
	    NULL);
	CU_ASSERT(send_frags(fd, buf, n, n) == 0);
	CU_ASSERT(read_reply(fd, SERVED_MS, &rs, &as) == 8);
	CU_ASSERT(rs == MSG_ACCEPTED && as == SUCCESS);
	/* another program, another version: errors, not silence */
	n = encode_call(buf, sizeof(buf), 9, DFS_LOCK_PROG, 1, 0, NULL,
	    NULL);
	CU_ASSERT(send_frags(fd, buf, n, n) == 0);
	CU_ASSERT(read_reply(fd, SERVED_MS, &rs, &as) == 9);
	CU_ASSERT(rs == MSG_ACCEPTED && as == PROG_UNAVAIL);
	n = encode_call(buf, sizeof(buf), 10, DFS_NAME_PROG, 9, 0, NULL,
	    NULL);
	CU_ASSERT(send_frags(fd, buf, n, n) == 0);
	CU_ASSERT(read_reply(fd, SERVED_MS, &rs, &as) == 10);
	CU_ASSERT(rs == MSG_ACCEPTED && as == PROG_MISMATCH);
	/* arguments that do not decode */
	n = encode_call(buf, sizeof(buf), 11, DFS_NAME_PROG, 1,
	    NAME_COMPOUND, NULL, NULL);
	memset(buf + n, 0xff, 8);
	CU_ASSERT(send_frags(fd, buf, n + 8, n + 8) == 0);
	CU_ASSERT(read_reply(fd, SERVED_MS, &rs, &as) == 11);
	CU_ASSERT(rs == MSG_ACCEPTED && as == GARBAGE_ARGS);
	CU_ASSERT(send_frags(fd, garbage, sizeof(garbage),
	    sizeof(garbage)) == 0);
	CU_ASSERT(closed_within(fd, SERVED_MS));
	close(fd);
	CU_ASSERT(getattr_served());
}

/* --- replies nobody reads ---------------------------------------------- */

/* A client pipelines 2,000 READDIRs of / and reads nothing: the daemon
 * stops reading its requests once its replies back up, serves everyone
 * else meanwhile, and drops it when it has not drained for the stall
 * timeout. */
static void
test_hostile__pipeline_unread(void)
{
	name_compound_args	args;
	name_argop		ops[2];
	char			buf[512];
	size_t			n;
	int			fd, i, fl, sent = 0;

	memset(ops, 0, sizeof(ops));
	ops[0].op = OP_PUTROOTFH;
	ops[1].op = OP_READDIR;
	ops[1].name_argop_u.readdir.count = DFS_MAXDIRENT;
	args.ops.ops_len = 2;
	args.ops.ops_val = ops;
	fd = cutest_connect_loopback(named.port);
	CU_ASSERT_FATAL(fd != -1);
	/* a small receive buffer, so the replies back up soon */
	fl = 4096;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &fl, sizeof(fl));
	fl = fcntl(fd, F_GETFL);
	(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	for (i = 0; i < 2000; i++) {
		n = encode_call(buf, sizeof(buf), (uint32_t)i, DFS_NAME_PROG,
		    1, NAME_COMPOUND, (xdrproc_t)xdr_name_compound_args,
		    &args);
		CU_ASSERT_FATAL(n > 0);
		if (send_frags(fd, buf, n, n) != 0)
			break;
		sent++;
	}
	CU_ASSERT(sent > 0);
	for (i = 0; i < 5; i++)
		CU_ASSERT(getattr_served());
	CU_ASSERT(closed_within(fd, CLOSED_MS + 2000));
	close(fd);
}

/* --- idle, slow and too many connections ------------------------------- */

/* 40 idle connections, more than -C 16: a new client is still served
 * (it takes an idle one's place), and idle ones are closed after -t. */
static void
test_hostile__idle_flood(void)
{
	int	fds[40], i, j, nclosed = 0;

	for (i = 0; i < NDAEMONS; i++) {
		for (j = 0; j < 40; j++)
			fds[j] = cutest_connect_loopback(daemons[i]->port);
		CU_ASSERT(served(daemons[i]));
		for (j = 0; j < 40; j++) {
			if (fds[j] == -1 || closed_within(fds[j], CLOSED_MS))
				nclosed++;
			if (fds[j] != -1)
				close(fds[j]);
		}
		CU_ASSERT(nclosed == 40 * (i + 1));
		CU_ASSERT(served(daemons[i]));
	}
}

/* The first still open of n descriptors, or -1. */
static int
first_open(const int *fds, int n)
{
	int	j;

	for (j = 0; j < n; j++)
		if (fds[j] != -1)
			return fds[j];
	return -1;
}

/* Slowloris: 20 connections that each send a call a byte every quarter
 * of a second, slower than the stall timeout allows.  Others are served
 * meanwhile, and each slow one is closed before its call completes. */
static void
test_hostile__slowloris(void)
{
	unsigned long long	end = cutest_ms() + 3 * CLOSED_MS;
	char			buf[256];
	size_t			n, k = 0;
	uint32_t		mark;
	int			fds[20], j, nclosed = 0;

	n = encode_call(buf, sizeof(buf), 1, DFS_NAME_PROG, 1, 0, NULL,
	    NULL);
	CU_ASSERT_FATAL(n > 20);
	mark = htonl(LAST_FRAG | (uint32_t)n);
	for (j = 0; j < 20; j++) {
		fds[j] = cutest_connect_loopback(named.port);
		CU_ASSERT_FATAL(fds[j] != -1);
		CU_ASSERT(cutest_write_full(fds[j], &mark, 4) == 0);
	}
	while (nclosed < 20 && cutest_ms() < end && k < n - 1) {
		CU_ASSERT(served(&named));
		for (j = 0; j < 20; j++) {
			if (fds[j] == -1)
				continue;
			if (closed_within(fds[j], 0)) {
				close(fds[j]);
				fds[j] = -1;
				nclosed++;
			} else
				(void)send(fds[j], buf + k, 1, MSG_NOSIGNAL);
		}
		k++;
		/* the pace of the slow clients: a quarter of a second, or
		 * less when the first of them is closed */
		if (first_open(fds, 20) != -1)
			(void)readable(first_open(fds, 20), 250);
	}
	CU_ASSERT(nclosed == 20);
	for (j = 0; j < 20; j++)
		if (fds[j] != -1)
			close(fds[j]);
}

/* A name server with 40 descriptors, and 60 clients: it keeps answering
 * new clients (the table is cut to what RLIMIT_NOFILE leaves; the rest
 * take an idle one's place or are closed), never spinning on accept. */
static void
test_hostile__few_descriptors(void)
{
	struct rlimit	old, rl;
	struct dproc	small;
	int		fds[60], j, rc;

	harness_init(&small, "dfs-named", DFS_NAME_PROG, root, "small");
	CU_ASSERT_FATAL(getrlimit(RLIMIT_NOFILE, &old) == 0);
	rl = old;
	rl.rlim_cur = 40;
	/* ORDER: the daemon inherits the limit at fork */
	CU_ASSERT_FATAL(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	rc = harness_start(&small);
	CU_ASSERT_FATAL(setrlimit(RLIMIT_NOFILE, &old) == 0);
	CU_ASSERT_FATAL(rc == 0);
	for (j = 0; j < 60; j++)
		fds[j] = cutest_connect_loopback(small.port);
	for (j = 0; j < 5; j++)
		CU_ASSERT(served(&small));
	for (j = 0; j < 60; j++)
		if (fds[j] != -1)
			close(fds[j]);
	CU_ASSERT(served(&small));
	CU_ASSERT(harness_stop(&small) == 0);
}

/* How many lines of d's log contain `what`. */
static int
log_count(const struct dproc *d, const char *what)
{
	char	 line[512];
	FILE	*fp;
	int	 n = 0;

	if ((fp = fopen(d->log, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, what) != NULL)
			n++;
	fclose(fp);
	return n;
}

/* Waits up to ms for more than n lines of d's log to contain `what`.
 * Returns 1 or 0. */
static int
logged_within(const struct dproc *d, const char *what, int n, int ms)
{
	unsigned long long	end = cutest_ms() + (unsigned long long)ms;

	while (log_count(d, what) <= n) {
		if (cutest_ms() >= end)
			return 0;
		(void)poll(NULL, 0, 50);
	}
	return 1;
}

/* A libdfs client whose connection the name server closed as idle
 * reconnects for its next call, one that cannot be retried too. */
static void
test_hostile__idle_client_reconnects(void)
{
	struct dfs_opts	 opts;
	struct dfs	*dfs;
	char		 spec[64];
	int		 n;

	snprintf(spec, sizeof(spec), "127.0.0.1:%u", named.port);
	memset(&opts, 0, sizeof(opts));
	opts.server = spec;
	CU_ASSERT_FATAL(dfs_connect(&dfs, &opts) == 0);
	CU_ASSERT(dfs_mkdir(dfs, "/idle1", 0755) == 0);
	n = log_count(&named, "closed: idle");
	CU_ASSERT(logged_within(&named, "closed: idle", n, CLOSED_MS));
	CU_ASSERT(dfs_mkdir(dfs, "/idle2", 0755) == 0);
	dfs_disconnect(dfs);
}

static CU_TestInfo hostile_tests[] = {
	{ "huge_mark_then_nothing", test_hostile__huge_mark_then_nothing },
	{ "mark_over_limit", test_hostile__mark_over_limit },
	{ "fragments", test_hostile__fragments },
	{ "large_fragmented_lock", test_hostile__large_fragmented_lock },
	{ "malformed", test_hostile__malformed },
	{ "pipeline_unread", test_hostile__pipeline_unread },
	{ "idle_flood", test_hostile__idle_flood },
	{ "slowloris", test_hostile__slowloris },
	{ "few_descriptors", test_hostile__few_descriptors },
	{ "idle_client_reconnects", test_hostile__idle_client_reconnects },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "hostile", suite_init, suite_clean, NULL, NULL, hostile_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);	/* the daemons close hostile sockets */
	return cutest_run(suites);
}
