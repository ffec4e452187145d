/*
 * t_rawrpc.c -- raw_read_call() and raw_write_call() (client/rawrpc.c)
 * against a scripted server, and the raw xids' contract with libtirpc.
 *
 * A thread on 127.0.0.1 accepts one connection per test, reads one call
 * record, checks it decodes as a FILE COMPOUND of one READ or one WRITE
 * (whose fields and data it keeps), and answers
 * with the reply bytes the test built, cut into record fragments where
 * the test says (or not at all, or half of them), so that every branch
 * of the reply parser is reached without a dfs-filed.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "bytes.h"
#include "client.h"
#include "rpcc.h"

#define CAP		8192		/* the caller's buffer */
#define TIMEOUT_MS	300

/* What the server does with the next call. */
static struct {
	unsigned char	 reply[3 * CAP];
	size_t		 len;
	size_t		 cuts[8];	/* fragment ends, ascending */
	int		 ncuts;
	int		 silent;	/* answer nothing */
	size_t		 stop_at;	/* 0, or close after this many bytes */
	uint32_t	 xid_delta;	/* answer another xid */
	/* what it saw */
	uint32_t	 xid;
	read_args	 got;
	write_args	 wgot;		/* data in wdata */
	char		 wdata[CAP];
	int		 decoded;
} sc;

static int	lfd = -1;
static unsigned	port;

/* Reads the call record and decodes it into sc. */
static void
take_call(int fd)
{
	static unsigned char	 rec[2 * CAP];
	const write_args	*wa;
	file_compound_args	 args;
	uint32_t		 xid;

	if (cutest_take_file_call(fd, rec, sizeof(rec), &xid, &args) == 0) {
		sc.xid = xid;
		wa = &args.ops.ops_val[0].file_argop_u.write;
		if (args.ops.ops_val[0].op == FOP_READ) {
			sc.got = args.ops.ops_val[0].file_argop_u.read;
			sc.got.fh.dfs_fh_val = NULL;
			sc.decoded = 1;
		} else if (args.ops.ops_val[0].op == FOP_WRITE &&
		    wa->data.data_len <= CAP) {
			sc.wgot = *wa;
			sc.wgot.fh.dfs_fh_val = NULL;
			sc.wgot.data.data_val = NULL;
			memcpy(sc.wdata, wa->data.data_val, wa->data.data_len);
			sc.decoded = 1;
		}
	}
	xdr_free((xdrproc_t)xdr_file_compound_args, (char *)&args);
}

/* Sends sc.reply (xid patched) in fragments cut at sc.cuts. */
static void
answer(int fd)
{
	unsigned char	mark[4];
	size_t		from = 0, to, sent = 0;
	int		i;

	be32_put(sc.reply, sc.xid + sc.xid_delta);
	for (i = 0; i <= sc.ncuts; i++) {
		to = i < sc.ncuts ? sc.cuts[i] : sc.len;
		be32_put(mark, (uint32_t)(to - from) |
		    (i == sc.ncuts ? 0x80000000u : 0));
		if (sc.stop_at != 0 && sent + 4 + (to - from) > sc.stop_at) {
			(void)write(fd, mark, 4);
			(void)write(fd, sc.reply + from, (to - from) / 2);
			return;
		}
		if (write(fd, mark, 4) != 4 ||
		    write(fd, sc.reply + from, to - from) !=
		    (ssize_t)(to - from))
			return;
		sent += 4 + (to - from);
		from = to;
	}
}

static void *
server(void *arg)
{
	int	fd;

	(void)arg;
	if ((fd = accept(lfd, NULL, NULL)) == -1)
		return NULL;
	take_call(fd);
	if (sc.silent)
		usleep(2 * TIMEOUT_MS * 1000);
	else
		answer(fd);
	usleep(50 * 1000);	/* let the client read before the close */
	close(fd);
	return NULL;
}

/* Reply bytes: accepted (accept_stat), then, for SUCCESS, the COMPOUND
 * status, `nres` results of op `op` with status `opst`, eof and `dlen`
 * bytes (pattern) (a WRITE: `dlen` as its count) plus `extra` trailing
 * bytes.  The xid is patched when sent. */
static void
build(uint32_t accept, dfs_stat st, uint32_t nres, uint32_t op,
    dfs_stat opst, uint32_t dlen, uint32_t extra)
{
	unsigned char	*p = sc.reply;
	uint32_t	 i, j;

	memset(&sc, 0, sizeof(sc));
#define PUT(v)	do { be32_put(p, (v)); p += 4; } while (0)
	PUT(0);			/* xid, patched */
	PUT(REPLY);
	PUT(MSG_ACCEPTED);
	PUT(AUTH_NONE);
	PUT(0);
	PUT(accept);
	if (accept == SUCCESS) {
		PUT(st);
		PUT(nres);
		for (i = 0; i < nres; i++) {
			PUT(op);
			PUT(opst);
			if (opst == DFS_OK && op == FOP_WRITE) {
				PUT(dlen);
			} else if (opst == DFS_OK) {
				PUT(1);	/* eof */
				PUT(dlen);
				for (j = 0; j < dlen; j++)
					*p++ = (unsigned char)(j * 13 + 1);
				while ((p - sc.reply) % 4)
					*p++ = 0;
			}
		}
	}
	for (i = 0; i < extra; i++)
		*p++ = 0;
#undef PUT
	sc.len = (size_t)(p - sc.reply);
}

/* Starts the scripted server's thread (*t) and connects to it. */
static CLIENT *
script_start(pthread_t *t)
{
	CLIENT	*c;
	char	 err[256];

	CU_ASSERT_FATAL(pthread_create(t, NULL, server, NULL) == 0);
	c = rpcc_connect("127.0.0.1", port, DFS_FILE_PROG, DFS_FILE_VERS,
	    TIMEOUT_MS, 0, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	return c;
}

/* Hangs up and waits for the server's thread. */
static void
script_end(CLIENT *c, pthread_t t)
{
	clnt_destroy(c);
	pthread_join(t, NULL);
}

/* Runs one raw_read_call against the script; returns its clnt_stat. */
static enum clnt_stat
go(char *buf, u_int *len, dfs_stat *status)
{
	unsigned char	 fhb[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	read_args	 ra;
	pthread_t	 t;
	CLIENT		*c;
	enum clnt_stat	 st;

	c = script_start(&t);
	memset(&ra, 0, sizeof(ra));
	ra.fh.dfs_fh_len = sizeof(fhb);
	ra.fh.dfs_fh_val = (char *)fhb;
	ra.vers = 3;
	ra.offset = 12345;
	ra.count = CAP;
	st = raw_read_call(c, 777, &ra, TIMEOUT_MS, buf, len, status, NULL);
	script_end(c, t);
	CU_ASSERT(sc.decoded);
	CU_ASSERT_EQUAL(sc.xid, 777);
	CU_ASSERT(sc.got.vers == 3 && sc.got.offset == 12345 &&
	    sc.got.count == CAP);
	return st;
}

/* Whether buf holds the first n bytes of build()'s pattern. */
static int
pattern(const char *buf, u_int n)
{
	u_int	i;

	for (i = 0; i < n; i++)
		if ((unsigned char)buf[i] != (unsigned char)(i * 13 + 1))
			return 0;
	return 1;
}

static char	buf[CAP];

/* Runs one raw_write_call of the first n bytes of build()'s pattern
 * against the script; returns its clnt_stat. */
static enum clnt_stat
gow(u_int n, u_int *count, dfs_stat *status)
{
	unsigned char	 fhb[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	write_args	 wa;
	pthread_t	 t;
	CLIENT		*c;
	enum clnt_stat	 st;
	u_int		 i;

	for (i = 0; i < n; i++)
		buf[i] = (char)(i * 13 + 1);
	c = script_start(&t);
	memset(&wa, 0, sizeof(wa));
	wa.fh.dfs_fh_len = sizeof(fhb);
	wa.fh.dfs_fh_val = (char *)fhb;
	wa.stage = 0x1122334455667788ULL;
	wa.offset = 3ULL << 32;
	wa.data.data_len = n;
	wa.data.data_val = buf;
	st = raw_write_call(c, 778, &wa, TIMEOUT_MS, count, status, NULL);
	script_end(c, t);
	CU_ASSERT(sc.decoded);
	CU_ASSERT_EQUAL(sc.xid, 778);
	CU_ASSERT(sc.wgot.stage == wa.stage && sc.wgot.offset == wa.offset &&
	    sc.wgot.fh.dfs_fh_len == sizeof(fhb));
	CU_ASSERT_EQUAL(sc.wgot.data.data_len, n);
	CU_ASSERT(pattern(sc.wdata, n));
	return st;
}

/* A WRITE's data arrives whole, padded, as a COMPOUND the server
 * decodes; its count and statuses come back. */
static void
test_rawrpc__write(void)
{
	static const u_int	 lens[] = { 1, 3, 4, 4099, CAP };
	u_int			 count, i;
	dfs_stat		 status;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		build(SUCCESS, DFS_OK, 1, FOP_WRITE, DFS_OK, lens[i], 0);
		CU_ASSERT_EQUAL(gow(lens[i], &count, &status), RPC_SUCCESS);
		CU_ASSERT_EQUAL(status, DFS_OK);
		CU_ASSERT_EQUAL(count, lens[i]);
	}
	build(SUCCESS, DFS_ERR_STALE, 1, FOP_WRITE, DFS_ERR_STALE, 0, 0);
	CU_ASSERT_EQUAL(gow(16, &count, &status), RPC_SUCCESS);
	CU_ASSERT_EQUAL(status, DFS_ERR_STALE);
	CU_ASSERT_EQUAL(count, 0);
	build(SUCCESS, DFS_ERR_BADHANDLE, 0, 0, DFS_OK, 0, 0);
	CU_ASSERT_EQUAL(gow(16, &count, &status), RPC_SUCCESS);
	CU_ASSERT_EQUAL(status, DFS_ERR_BADHANDLE);
	/* not ours, not a WRITE's, or more than it */
	build(SUCCESS, DFS_OK, 1, FOP_WRITE, DFS_OK, 16, 0);
	sc.xid_delta = 1;
	CU_ASSERT_EQUAL(gow(16, &count, &status), RPC_CANTDECODERES);
	build(SUCCESS, DFS_OK, 1, FOP_READ, DFS_OK, 16, 0);
	CU_ASSERT_EQUAL(gow(16, &count, &status), RPC_CANTDECODERES);
	build(SUCCESS, DFS_OK, 1, FOP_WRITE, DFS_OK, 16, 4);
	CU_ASSERT_EQUAL(gow(16, &count, &status), RPC_CANTDECODERES);
	build(SUCCESS, DFS_OK, 1, FOP_WRITE, DFS_OK, 16, 0);
	sc.silent = 1;
	CU_ASSERT_EQUAL(gow(16, &count, &status), RPC_TIMEDOUT);
}

static void
test_rawrpc__data(void)
{
	static const u_int	 lens[] = { 0, 1, 3, 4, 4099, CAP };
	u_int			 len, i;
	dfs_stat		 status;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		build(SUCCESS, DFS_OK, 1, FOP_READ, DFS_OK, lens[i], 0);
		memset(buf, 0, sizeof(buf));
		CU_ASSERT_EQUAL(go(buf, &len, &status), RPC_SUCCESS);
		CU_ASSERT_EQUAL(status, DFS_OK);
		CU_ASSERT_EQUAL(len, lens[i]);
		CU_ASSERT(pattern(buf, lens[i]));
	}
}

/* The same reply cut into fragments anywhere: in the header, in a
 * word, in the data. */
static void
test_rawrpc__fragments(void)
{
	static const size_t	 cuts[] = { 1, 3, 10, 29, 41, 50, 1000, 4000 };
	u_int			 len;
	dfs_stat		 status;

	build(SUCCESS, DFS_OK, 1, FOP_READ, DFS_OK, 4099, 0);
	memcpy(sc.cuts, cuts, sizeof(cuts));
	sc.ncuts = 8;
	memset(buf, 0, sizeof(buf));
	CU_ASSERT_EQUAL(go(buf, &len, &status), RPC_SUCCESS);
	CU_ASSERT_EQUAL(status, DFS_OK);
	CU_ASSERT_EQUAL(len, 4099);
	CU_ASSERT(pattern(buf, 4099));
}

/* The op's error, and the COMPOUND's with no result, are statuses. */
static void
test_rawrpc__statuses(void)
{
	u_int		len;
	dfs_stat	status;

	build(SUCCESS, DFS_ERR_STALE, 1, FOP_READ, DFS_ERR_STALE, 0, 0);
	CU_ASSERT_EQUAL(go(buf, &len, &status), RPC_SUCCESS);
	CU_ASSERT_EQUAL(status, DFS_ERR_STALE);
	CU_ASSERT_EQUAL(len, 0);
	build(SUCCESS, DFS_ERR_BADHANDLE, 0, 0, DFS_OK, 0, 0);
	CU_ASSERT_EQUAL(go(buf, &len, &status), RPC_SUCCESS);
	CU_ASSERT_EQUAL(status, DFS_ERR_BADHANDLE);
	build(SUCCESS, DFS_OK, 0, 0, DFS_OK, 0, 0);
	CU_ASSERT_EQUAL(go(buf, &len, &status), RPC_SUCCESS);
	CU_ASSERT_EQUAL(status, DFS_ERR_SERVERFAULT);
	build(GARBAGE_ARGS, DFS_OK, 0, 0, DFS_OK, 0, 0);
	CU_ASSERT_EQUAL(go(buf, &len, &status), RPC_CANTDECODEARGS);
	build(PROC_UNAVAIL, DFS_OK, 0, 0, DFS_OK, 0, 0);
	CU_ASSERT_EQUAL(go(buf, &len, &status), RPC_PROCUNAVAIL);
}

/* Replies that are not ours or not what we asked for never fill the
 * buffer past its end and fail the call. */
static void
test_rawrpc__refused(void)
{
	u_int		len;
	dfs_stat	status;

	build(SUCCESS, DFS_OK, 1, FOP_READ, DFS_OK, 16, 0);
	sc.xid_delta = 1;
	CU_ASSERT_EQUAL(go(buf, &len, &status), RPC_CANTDECODERES);
	build(SUCCESS, DFS_OK, 1, FOP_READ, DFS_OK, CAP + 4, 0);
	CU_ASSERT_EQUAL(go(buf, &len, &status), RPC_CANTDECODERES);
	build(SUCCESS, DFS_OK, 1, FOP_WRITE, DFS_OK, 16, 0);
	CU_ASSERT_EQUAL(go(buf, &len, &status), RPC_CANTDECODERES);
	build(SUCCESS, DFS_OK, 2, FOP_READ, DFS_OK, 16, 0);
	CU_ASSERT_EQUAL(go(buf, &len, &status), RPC_CANTDECODERES);
	build(SUCCESS, DFS_OK, 1, FOP_READ, DFS_OK, 16, 8);
	CU_ASSERT_EQUAL(go(buf, &len, &status), RPC_CANTDECODERES);
}

/* A server that says nothing times out; one that hangs up halfway is a
 * receive failure. */
static void
test_rawrpc__silent_and_cut(void)
{
	struct timespec	a, b;
	u_int		len;
	dfs_stat	status;
	long		ms;

	build(SUCCESS, DFS_OK, 1, FOP_READ, DFS_OK, 16, 0);
	sc.silent = 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	CU_ASSERT_EQUAL(go(buf, &len, &status), RPC_TIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	CU_ASSERT(ms >= TIMEOUT_MS - 20);
	build(SUCCESS, DFS_OK, 1, FOP_READ, DFS_OK, 4099, 0);
	sc.stop_at = 2000;
	CU_ASSERT_EQUAL(go(buf, &len, &status), RPC_CANTRECV);
}

/*
 * The xid contract with libtirpc (rawrpc.c's top comment): the raw
 * xids taken over from a CLIENT are the ones clnt_vc's next calls would
 * have used, and once given back, clnt_call() goes on with the one
 * after them, in clnt_vc's own order.  Nobody answers here: the call
 * times out, and CLGET_XID tells which xid it was sent with.  If this
 * fails, libtirpc changed how it numbers calls, and raw calls could
 * share an xid with libtirpc's own.
 */
static void
test_rawrpc__xid_contract(void)
{
	struct timeval	 tv = { 0, 50 * 1000 };
	struct raw_xids	 xids;
	uint32_t	 last = 0, x1, x2, now = 0;
	char		 err[256];
	CLIENT		*c;
	int		 fd;

	c = rpcc_connect("127.0.0.1", port, DFS_FILE_PROG, DFS_FILE_VERS,
	    TIMEOUT_MS, 0, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	fd = accept(lfd, NULL, NULL);	/* not left for the next test */
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(clnt_control(c, CLGET_XID, (char *)&last));
	raw_xids_take(&xids, c);
	x1 = raw_xids_next(&xids);
	x2 = raw_xids_next(&xids);
	raw_xids_give(&xids, c);
	/* clnt_vc steps the xid word down as stored, in network order */
	CU_ASSERT_EQUAL(x1, ntohl(htonl(last) - 1));
	CU_ASSERT_EQUAL(x2, ntohl(htonl(x1) - 1));
	CU_ASSERT(x1 != last && x2 != x1);
	CU_ASSERT(clnt_control(c, CLGET_XID, (char *)&now) && now == x2);
	(void)clnt_control(c, CLSET_TIMEOUT, (char *)&tv);
	CU_ASSERT_EQUAL(clnt_call(c, NULLPROC, XDR_VOID, NULL, XDR_VOID, NULL,
	    tv), RPC_TIMEDOUT);
	CU_ASSERT(clnt_control(c, CLGET_XID, (char *)&now) &&
	    now == ntohl(htonl(x2) - 1));
	clnt_destroy(c);
	close(fd);
}

static int
suite_init(void)
{
	struct sockaddr_in	sin;
	socklen_t		sl = sizeof(sin);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 4) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &sl) == -1)
		return -1;
	port = ntohs(sin.sin_port);
	return 0;
}

static int
suite_clean(void)
{
	close(lfd);
	return 0;
}

static CU_TestInfo rawrpc_tests[] = {
	{ "data",		test_rawrpc__data },
	{ "fragments",		test_rawrpc__fragments },
	{ "statuses",		test_rawrpc__statuses },
	{ "refused",		test_rawrpc__refused },
	{ "silent_and_cut",	test_rawrpc__silent_and_cut },
	{ "write",		test_rawrpc__write },
	{ "xid_contract",	test_rawrpc__xid_contract },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "rawrpc", suite_init, suite_clean, NULL, NULL, rawrpc_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
