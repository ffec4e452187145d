/*
 * it_hostile_filed.c -- dfs-filed against clients that would lock
 * others out or hold its resources: idle and slowloris floods, a
 * COMPOUND with more data than file.x allows, uploads abandoned or cut
 * short by a killed worker, stages of handles the name server never
 * issued.
 *
 * A slowloris must hold no worker: the file server lends a connection
 * to a worker only once its request is ready to serve, so more
 * trickling clients than workers leave honest clients served at once.
 *
 * One cluster for the suite, its file server started with few workers
 * and short timeouts (FILED_* below).  Hostile connections come from
 * loopback addresses of their own (127.0.0.2 ...), so that the
 * per-address limit they meet is theirs, not the well-behaved client's
 * (127.0.0.1).  Every wait is for a condition, with a deadline.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"
#include "harness.h"
#include "fh.h"

#define NWORKERS	4
#define FILED_IDLE_S	3
#define FILED_REQUEST_S	3
#define FILED_PER_ADDR	20
#define MAXSOCK		64

static struct cluster	c;
static struct dproc	*filed = &c.filed[0];
static char		optw[4][16];

static unsigned long long
ms_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 +
	    (unsigned long long)ts.tv_nsec / 1000000;
}

static int
suite_init(void)
{
	if (cluster_start(&c, 0) == -1)
		return -1;
	/* one word per option: extra[] has room for 7 */
	snprintf(optw[0], sizeof(optw[0]), "-w%d", NWORKERS);
	snprintf(optw[1], sizeof(optw[1]), "-t%d", FILED_IDLE_S);
	snprintf(optw[2], sizeof(optw[2]), "-r%d", FILED_REQUEST_S);
	snprintf(optw[3], sizeof(optw[3]), "-a%d", FILED_PER_ADDR);
	harness_init(filed, "dfs-filed", DFS_FILE_PROG, c.root, "filed0");
	c.nfiled = 1;
	filed->extra[0] = "-s";
	filed->extra[1] = c.named_spec;
	filed->extra[2] = optw[0];
	filed->extra[3] = optw[1];
	filed->extra[4] = optw[2];
	filed->extra[5] = optw[3];
	if (harness_start(filed) == -1 || cluster_wait_servers(&c, 2) == -1) {
		cluster_dump_logs(&c);
		(void)cluster_stop(&c);
		return -1;
	}
	return 0;
}

static int
suite_clean(void)
{
	return cluster_stop(&c) == 0 ? 0 : -1;
}

/* A TCP connection to the file server from loopback address `src`.
 * Returns the socket or -1. */
static int
connect_from(const char *src)
{
	struct sockaddr_in	sin;
	int			fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, src, &sin.sin_addr);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		goto fail;
	sin.sin_port = htons((uint16_t)filed->port);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/* Sends the start of a record and stalls: a record mark announcing 100
 * bytes, then 10 of them.  Returns 0 or -1. */
static int
slowloris(int fd)
{
	static const unsigned char	part[14] = { 0x80, 0, 0, 100 };

	return cutest_write_full(fd, part, sizeof(part));
}

/* Encodes a record mark announcing `len` bytes (one fragment) and a
 * call header of procedure `proc` of the file program into buf (cap
 * bytes).  Returns the bytes encoded, or 0. */
static size_t
call_start(unsigned char *buf, size_t cap, uint32_t len, uint32_t proc)
{
	struct rpc_msg	msg;
	XDR		xdrs;
	uint32_t	mark = htonl(0x80000000U | len);
	size_t		n;

	memset(&msg, 0, sizeof(msg));
	msg.rm_xid = 1;
	msg.rm_direction = CALL;
	msg.rm_call.cb_rpcvers = RPC_MSG_VERSION;
	msg.rm_call.cb_prog = DFS_FILE_PROG;
	msg.rm_call.cb_vers = DFS_FILE_VERS;
	msg.rm_call.cb_proc = proc;
	msg.rm_call.cb_cred = _null_auth;
	msg.rm_call.cb_verf = _null_auth;
	memcpy(buf, &mark, 4);
	xdrmem_create(&xdrs, (char *)buf + 4, (u_int)cap - 4, XDR_ENCODE);
	n = xdr_callmsg(&xdrs, &msg) ? 4 + xdr_getpos(&xdrs) : 0;
	xdr_destroy(&xdrs);
	return n;
}

/*
 * Sends the start of a large call and stalls: a record mark announcing
 * 1 MiB, a COMPOUND call header, then zeros up to 64 KiB, enough for the
 * server to take the request as streaming and lend it to a worker (which
 * answers and then waits for the rest of the record).  Returns 0 or -1.
 */
static int
stall_large(int fd)
{
	static unsigned char	part[64 * 1024];

	if (call_start(part, sizeof(part), 1U << 20, FILE_COMPOUND) == 0)
		return -1;
	return cutest_write_full(fd, part, sizeof(part));
}

/* Waits up to `ms` for the server to close fd.  Returns 1 if it did. */
static int
closed_within(int fd, int ms)
{
	unsigned long long	end = ms_now() + (unsigned long long)ms;
	struct pollfd		pfd;
	char			buf[256];
	ssize_t			n;

	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (ms_now() >= end || poll(&pfd, 1, (int)(end - ms_now())) <= 0)
			return 0;
		n = read(fd, buf, sizeof(buf));
		if (n == 0 || (n == -1 && errno == ECONNRESET))
			return 1;
	}
}

static void
close_all(int *fds, int n)
{
	while (n-- > 0)
		if (fds[n] != -1)
			close(fds[n]);
}

/* A STATS call on a new connection from 127.0.0.1.  Returns the
 * milliseconds it took, or -1 when it failed. */
static long
timed_stats(void)
{
	unsigned long long	 t0 = ms_now();
	file_compound_args	 args;
	file_compound_res	 res;
	file_argop		 op;
	struct timeval		 tv = { 10, 0 };
	enum clnt_stat		 st;
	CLIENT			*fc;

	if ((fc = harness_clnt(filed)) == NULL)
		return -1;
	memset(&op, 0, sizeof(op));
	op.op = FOP_STATS;
	args.ops.ops_len = 1;
	args.ops.ops_val = &op;
	memset(&res, 0, sizeof(res));
	st = clnt_call(fc, FILE_COMPOUND, (xdrproc_t)xdr_file_compound_args,
	    (caddr_t)&args, (xdrproc_t)xdr_file_compound_res, (caddr_t)&res,
	    tv);
	if (st == RPC_SUCCESS)
		xdr_free((xdrproc_t)xdr_file_compound_res, (caddr_t)&res);
	clnt_destroy(fc);
	return st == RPC_SUCCESS && res.status == DFS_OK ?
	    (long)(ms_now() - t0) : -1;
}

/*
 * More idle connections than workers, and slowloris connections holding
 * all workers but two: a new client is still served at once (well
 * before the slowloris connections are cut at FILED_REQUEST_S).
 */
static void
test_hostile_filed__idle_and_slowloris_flood(void)
{
	int	fds[MAXSOCK], i, n = 0;
	long	ms;

	for (i = 0; i < NWORKERS + 10; i++)
		fds[n++] = connect_from("127.0.0.2");
	for (i = 0; i < NWORKERS - 2; i++) {
		fds[n] = connect_from("127.0.0.2");
		CU_ASSERT(fds[n] != -1 && slowloris(fds[n]) == 0);
		n++;
	}
	for (i = 0; i < n; i++)
		CU_ASSERT_FATAL(fds[i] != -1);
	ms = timed_stats();
	CU_ASSERT(ms >= 0 && ms < FILED_REQUEST_S * 1000 / 2);
	if (ms < 0 || ms >= FILED_REQUEST_S * 1000 / 2)
		fprintf(stderr, "STATS behind the flood: %ld ms\n", ms);
	/* and once more, on another connection, all still open */
	CU_ASSERT(timed_stats() >= 0);
	close_all(fds, n);
}

/* A connection without a request is closed after the idle timeout, not
 * before; a slowloris is closed after the request timeout. */
static void
test_hostile_filed__timeouts(void)
{
	struct pollfd	pfd;
	int		idle, slow;

	idle = connect_from("127.0.0.3");
	slow = connect_from("127.0.0.3");
	CU_ASSERT_FATAL(idle != -1 && slow != -1);
	CU_ASSERT(slowloris(slow) == 0);
	pfd.fd = idle;
	pfd.events = POLLIN;
	CU_ASSERT(poll(&pfd, 1, FILED_IDLE_S * 1000 / 2) == 0);
	CU_ASSERT(closed_within(slow, (FILED_REQUEST_S + 5) * 1000));
	CU_ASSERT(closed_within(idle, (FILED_IDLE_S + 5) * 1000));
	close(idle);
	close(slow);
	CU_ASSERT(timed_stats() >= 0);
}

/* An address holds at most FILED_PER_ADDR connections: one more is
 * closed at once, those it has stay open, other addresses are served. */
static void
test_hostile_filed__per_address_limit(void)
{
	struct pollfd	pfd[MAXSOCK];
	int		fds[MAXSOCK], extra, i;

	for (i = 0; i < FILED_PER_ADDR; i++) {
		fds[i] = connect_from("127.0.0.4");
		CU_ASSERT_FATAL(fds[i] != -1);
	}
	extra = connect_from("127.0.0.4");
	CU_ASSERT_FATAL(extra != -1);
	CU_ASSERT(closed_within(extra, 5000));
	close(extra);
	for (i = 0; i < FILED_PER_ADDR; i++) {
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
	}
	CU_ASSERT(poll(pfd, FILED_PER_ADDR, 0) == 0);
	CU_ASSERT(timed_stats() >= 0);
	close_all(fds, FILED_PER_ADDR);
}

/* The largest VmHWM (peak resident KiB) of dfs-filed's workers. */
static long
workers_peak_kib(void)
{
	char		 path[300], line[256];
	struct dirent	*de;
	DIR		*dp;
	FILE		*fp;
	long		 ppid, hwm, peak = 0;

	if ((dp = opendir("/proc")) == NULL)
		return -1;
	while ((de = readdir(dp)) != NULL) {
		snprintf(path, sizeof(path), "/proc/%s/status", de->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		ppid = hwm = -1;
		while (fgets(line, sizeof(line), fp) != NULL) {
			sscanf(line, "PPid: %ld", &ppid);
			sscanf(line, "VmHWM: %ld", &hwm);
		}
		fclose(fp);
		if (ppid == filed->pid && hwm > peak)
			peak = hwm;
	}
	closedir(dp);
	return peak;
}

/* A handle the file server parses (the name server never issued it:
 * nothing here needs it to). */
static void
make_fh(dfs_fh *fh, unsigned char *raw, uint64_t fileid)
{
	struct fh	f = { 0x99, fileid };

	fh_encode(&f, 3, raw);
	fh->dfs_fh_len = FH_LEN;
	fh->dfs_fh_val = (char *)raw;
}

#define NBIG		32
/* record buffers (2 x DFS_MAXDATA), one WRITE's data, the rest, with
 * room for AddressSanitizer's; decoded whole, NBIG WRITEs take 128 MiB */
#define PEAK_MAX_KIB	(12 * DFS_MAXDATA / 1024)

/*
 * One COMPOUND of NBIG WRITEs of DFS_MAXDATA (128 MiB) is refused
 * (GARBAGE_ARGS) without the worker's memory growing past one
 * request's worth, and the server keeps serving.  (Under valgrind the
 * workers' memory is memcheck's too: not checked then.)
 */
static void
test_hostile_filed__oversized_compound(void)
{
	file_compound_args	 args;
	file_compound_res	 res;
	file_argop		 ops[NBIG];
	unsigned char		 raw[FH_LEN];
	struct timeval		 tv = { 60, 0 };
	enum clnt_stat		 st;
	CLIENT			*fc;
	char			*data;
	long			 peak;
	int			 i;

	data = calloc(1, DFS_MAXDATA);
	CU_ASSERT_FATAL(data != NULL);
	memset(ops, 0, sizeof(ops));
	for (i = 0; i < NBIG; i++) {
		ops[i].op = FOP_WRITE;
		make_fh(&ops[i].file_argop_u.write.fh, raw, 1);
		ops[i].file_argop_u.write.stage = 1;
		ops[i].file_argop_u.write.offset =
		    (uint64_t)i * DFS_MAXDATA;
		ops[i].file_argop_u.write.data.data_len = DFS_MAXDATA;
		ops[i].file_argop_u.write.data.data_val = data;
	}
	args.ops.ops_len = NBIG;
	args.ops.ops_val = ops;
	fc = harness_clnt(filed);
	CU_ASSERT_FATAL(fc != NULL);
	memset(&res, 0, sizeof(res));
	st = clnt_call(fc, FILE_COMPOUND, (xdrproc_t)xdr_file_compound_args,
	    (caddr_t)&args, (xdrproc_t)xdr_file_compound_res, (caddr_t)&res,
	    tv);
	CU_ASSERT(st == RPC_CANTDECODEARGS);
	if (st == RPC_SUCCESS)
		xdr_free((xdrproc_t)xdr_file_compound_res, (caddr_t)&res);
	clnt_destroy(fc);
	free(data);
	peak = workers_peak_kib();
	if (getenv("DFS_VALGRIND") == NULL)
		CU_ASSERT(peak > 0 && peak < PEAK_MAX_KIB);
	if (peak >= PEAK_MAX_KIB)
		fprintf(stderr, "worker peak: %ld KiB\n", peak);
	CU_ASSERT(timed_stats() >= 0);
}

/* How many stage files the file server holds. */
static int
count_stages(void)
{
	char		 top[600], sub[900];
	struct dirent	*de, *de2;
	DIR		*dp, *dp2;
	int		 n = 0;

	snprintf(top, sizeof(top), "%s/stage", filed->dir);
	if ((dp = opendir(top)) == NULL)
		return 0;
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", top, de->d_name);
		if ((dp2 = opendir(sub)) == NULL)
			continue;
		while ((de2 = readdir(dp2)) != NULL)
			n += de2->d_name[0] != '.';
		closedir(dp2);
	}
	closedir(dp);
	return n;
}

/* Waits up to `ms` for no stage to be left.  Returns 1 if none is. */
static int
stages_gone_within(int ms)
{
	unsigned long long	end = ms_now() + (unsigned long long)ms;

	while (count_stages() != 0) {
		if (ms_now() >= end)
			return 0;
		usleep(20000);
	}
	return 1;
}

/* Creates /name on the name server and stores a copy of its handle. */
static void
create_file(const char *name, dfs_fh *fh)
{
	struct name_req		 r = { .n = 0 };
	name_compound_res	 res;
	CLIENT			*nc;

	nc = harness_clnt(&c.named);
	CU_ASSERT_FATAL(nc != NULL);
	name_req_add(&r, OP_PUTROOTFH);
	name_req_create(&r, name, 1);
	name_req_add(&r, OP_GETFH);
	CU_ASSERT_EQUAL_FATAL(name_call(nc, &r, &res), RPC_SUCCESS);
	CU_ASSERT_EQUAL_FATAL(res.status, DFS_OK);
	fh_copy(fh, &res.res.res_val[2].name_resop_u.getfh.getfh_res_u.fh);
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	clnt_destroy(nc);
}

/* STAGE + WRITE("partial") of fh on fc, no COMMIT.  Returns the
 * status. */
static dfs_stat
stage_and_write(CLIENT *fc, const dfs_fh *fh)
{
	file_compound_args	 args;
	file_compound_res	 res;
	file_argop		 ops[2];
	struct timeval		 tv = { 10, 0 };
	dfs_stat		 rc = DFS_ERR_RPC;

	memset(ops, 0, sizeof(ops));
	ops[0].op = FOP_STAGE;
	ops[0].file_argop_u.stage.fh = *fh;
	ops[1].op = FOP_WRITE;
	ops[1].file_argop_u.write.fh = ops[0].file_argop_u.stage.fh;
	ops[1].file_argop_u.write.data.data_len = 7;
	ops[1].file_argop_u.write.data.data_val = "partial";
	args.ops.ops_len = 2;
	args.ops.ops_val = ops;
	memset(&res, 0, sizeof(res));
	if (clnt_call(fc, FILE_COMPOUND, (xdrproc_t)xdr_file_compound_args,
	    (caddr_t)&args, (xdrproc_t)xdr_file_compound_res, (caddr_t)&res,
	    tv) == RPC_SUCCESS) {
		rc = res.status;
		xdr_free((xdrproc_t)xdr_file_compound_res, (caddr_t)&res);
	}
	return rc;
}

/* An upload whose connection closes without COMMIT leaves no stage. */
static void
test_hostile_filed__abandoned_stage_swept(void)
{
	CLIENT	*fc;
	dfs_fh	 fh;

	create_file("abandoned", &fh);
	CU_ASSERT_FATAL(stages_gone_within(5000));
	fc = harness_clnt(filed);
	CU_ASSERT_FATAL(fc != NULL);
	CU_ASSERT(stage_and_write(fc, &fh) == DFS_OK);
	CU_ASSERT(count_stages() == 1);
	clnt_destroy(fc);
	CU_ASSERT(stages_gone_within(5000));
	xdr_free((xdrproc_t)xdr_dfs_fh, (char *)&fh);
}

/* A handle the name server never issued gets no stage. */
static void
test_hostile_filed__forged_handle_no_stage(void)
{
	unsigned char	 raw[FH_LEN];
	dfs_fh		 fh;
	dfs_stat	 st;
	CLIENT		*fc;

	make_fh(&fh, raw, 12345);
	fc = harness_clnt(filed);
	CU_ASSERT_FATAL(fc != NULL);
	st = stage_and_write(fc, &fh);
	CU_ASSERT(st == DFS_ERR_STALE || st == DFS_ERR_BADHANDLE);
	CU_ASSERT(count_stages() == 0);
	clnt_destroy(fc);
}

/* The inode of the file server's socket of our connection fd, from
 * /proc/net/tcp.  Returns it or 0. */
static unsigned long
server_inode(int fd)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	unsigned long		ino, found = 0;
	unsigned int		lport, rport;
	char			line[512];
	FILE			*fp;

	if (getsockname(fd, (struct sockaddr *)&sin, &len) == -1 ||
	    (fp = fopen("/proc/net/tcp", "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, " %*d: %*x:%x %*x:%x %*x %*s %*s %*s %*d %*d "
		    "%lu", &lport, &rport, &ino) == 3 &&
		    lport == filed->port && rport == ntohs(sin.sin_port))
			found = ino;
	fclose(fp);
	return found;
}

/* Does process `pid` hold socket inode `ino`? */
static int
holds(const char *pid, unsigned long ino)
{
	char		 dir[300], path[600], link[64], want[64];
	struct dirent	*de;
	DIR		*dp;
	ssize_t		 n;
	int		 yes = 0;

	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	snprintf(want, sizeof(want), "socket:[%lu]", ino);
	if ((dp = opendir(dir)) == NULL)
		return 0;
	while (!yes && (de = readdir(dp)) != NULL) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			yes = strcmp(link, want) == 0;
		}
	}
	closedir(dp);
	return yes;
}

/* The worker (a child of the file server but the supervisor's socket)
 * that holds socket inode `ino`, or -1. */
static pid_t
worker_holding(unsigned long ino)
{
	char		 path[300], line[256];
	struct dirent	*de;
	DIR		*dp;
	FILE		*fp;
	long		 ppid;
	pid_t		 pid = -1;

	if ((dp = opendir("/proc")) == NULL)
		return -1;
	while (pid == -1 && (de = readdir(dp)) != NULL) {
		snprintf(path, sizeof(path), "/proc/%s/status", de->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		ppid = -1;
		while (fgets(line, sizeof(line), fp) != NULL)
			sscanf(line, "PPid: %ld", &ppid);
		fclose(fp);
		if (ppid == filed->pid && holds(de->d_name, ino))
			pid = atoi(de->d_name);
	}
	closedir(dp);
	return pid;
}

/* Waits up to 5 s for a worker to be lent our connection fd.  Returns
 * its pid or -1. */
static pid_t
await_lent(int fd)
{
	unsigned long long	end = ms_now() + 5000;
	unsigned long		ino = server_inode(fd);
	pid_t			pid;

	while (ino != 0 && (pid = worker_holding(ino)) == -1) {
		if (ms_now() >= end)
			return -1;
		usleep(20000);
	}
	return ino != 0 ? pid : -1;
}

/*
 * A worker killed while it serves the connection that made a stage:
 * the supervisor closes that connection and sweeps the stage, and the
 * server goes on serving.
 */
static void
test_hostile_filed__killed_worker_stage_swept(void)
{
	CLIENT	*fc;
	dfs_fh	 fh;
	pid_t	 pid;
	int	 fd;

	create_file("killed", &fh);
	CU_ASSERT_FATAL(stages_gone_within(5000));
	fc = harness_clnt(filed);
	CU_ASSERT_FATAL(fc != NULL);
	CU_ASSERT(stage_and_write(fc, &fh) == DFS_OK);
	CU_ASSERT(count_stages() == 1);
	/* a worker blocks reading the rest of a large request on it */
	CU_ASSERT_FATAL(clnt_control(fc, CLGET_FD, (char *)&fd));
	CU_ASSERT(stall_large(fd) == 0);
	CU_ASSERT_FATAL((pid = await_lent(fd)) > 0);
	CU_ASSERT(kill(pid, SIGKILL) == 0);
	CU_ASSERT(stages_gone_within(FILED_REQUEST_S * 1000 / 2));
	clnt_destroy(fc);
	CU_ASSERT(timed_stats() >= 0);
	xdr_free((xdrproc_t)xdr_dfs_fh, (char *)&fh);
}

#define NSLOW		(2 * NWORKERS)
#define PROMPT_MS	1500	/* an honest call, on a loaded machine */

/* A new connection's STAGE + WRITE of fh (an upload, left to be swept
 * when the connection closes).  Returns the milliseconds it took, or -1
 * when it failed. */
static long
timed_upload(const dfs_fh *fh)
{
	unsigned long long	 t0 = ms_now();
	CLIENT			*fc;
	dfs_stat		 st;

	if ((fc = harness_clnt(filed)) == NULL)
		return -1;
	st = stage_and_write(fc, fh);
	clnt_destroy(fc);
	return st == DFS_OK ? (long)(ms_now() - t0) : -1;
}

/* One round of the trickle: a byte more to every slowloris still open;
 * notes when the server closed one (closed[i], ms after t0).  Waits up
 * to `ms` for a close.  Returns how many are still open. */
static int
trickle(int *fds, long *closed, unsigned long long t0, int ms)
{
	struct pollfd	pfd[NSLOW];
	char		buf[64];
	ssize_t		n;
	int		i, open = 0;

	for (i = 0; i < NSLOW; i++) {
		pfd[i].fd = closed[i] < 0 ? fds[i] : -1;
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
		if (closed[i] < 0)
			(void)send(fds[i], "x", 1, MSG_NOSIGNAL);
	}
	(void)poll(pfd, NSLOW, ms);
	for (i = 0; i < NSLOW; i++) {
		if (pfd[i].fd != -1 && pfd[i].revents != 0) {
			n = recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT);
			if (n == 0 || (n == -1 && errno != EAGAIN))
				closed[i] = (long)(ms_now() - t0);
		}
		open += closed[i] < 0;
	}
	return open;
}

/* Is every honest call in the flood prompt?  ms[] from timed_*(). */
static void
assert_prompt(const char *what, long ms)
{
	CU_ASSERT(ms >= 0 && ms < PROMPT_MS);
	if (ms < 0 || ms >= PROMPT_MS)
		fprintf(stderr, "%s behind the slowloris flood: %ld ms\n",
		    what, ms);
}

/* Starts slowloris `i`: a record mark announcing 200 bytes and one of
 * them; every other one first sends a whole NULL call in the same
 * write, which a server that lends a connection as soon as one request
 * is whole would read along with the start of the next.  Returns 0 or
 * -1. */
static int
slowloris_start(int fd, int i)
{
	static const unsigned char	part[5] = { 0x80, 0, 0, 200, 0 };
	unsigned char			buf[128];
	size_t				n = 0;

	if (i % 2 == 1)
		n = call_start(buf, sizeof(buf), 40, FILE_NULL);
	if (i % 2 == 1 && n != 44)
		return -1;
	memcpy(buf + n, part, sizeof(part));
	return cutest_write_full(fd, buf, n + sizeof(part));
}

/*
 * Twice as many slowloris connections as workers, each announcing a
 * 200-byte record and sending it a byte at a time: honest STATS and
 * uploads are served at once all along, and each slowloris is closed
 * about FILED_REQUEST_S after its request began, not before.
 */
static void
test_hostile_filed__slowloris_holds_no_worker(void)
{
	unsigned long long	t0, end;
	long			closed[NSLOW];
	int			fds[NSLOW], i, open = NSLOW;
	dfs_fh			fh;

	create_file("honest", &fh);
	CU_ASSERT_FATAL(stages_gone_within(5000));
	for (i = 0; i < NSLOW; i++) {
		fds[i] = connect_from("127.0.0.5");
		CU_ASSERT_FATAL(fds[i] != -1);
		CU_ASSERT(slowloris_start(fds[i], i) == 0);
		closed[i] = -1;
	}
	t0 = ms_now();
	end = t0 + (FILED_REQUEST_S + 5) * 1000;
	while (open > 0 && ms_now() < end) {
		if (ms_now() - t0 < (FILED_REQUEST_S - 1) * 1000) {
			assert_prompt("STATS", timed_stats());
			assert_prompt("upload", timed_upload(&fh));
		}
		open = trickle(fds, closed, t0, 200);
	}
	for (i = 0; i < NSLOW; i++) {
		CU_ASSERT(closed[i] >= (FILED_REQUEST_S - 1) * 1000 &&
		    closed[i] <= (FILED_REQUEST_S + 3) * 1000);
		if (closed[i] < (FILED_REQUEST_S - 1) * 1000 ||
		    closed[i] > (FILED_REQUEST_S + 3) * 1000)
			fprintf(stderr, "slowloris %d closed at %ld ms\n", i,
			    closed[i]);
	}
	close_all(fds, NSLOW);
	CU_ASSERT(stages_gone_within(5000));
	xdr_free((xdrproc_t)xdr_dfs_fh, (char *)&fh);
}

static CU_TestInfo hostile_tests[] = {
	{ "idle_and_slowloris_flood",
	    test_hostile_filed__idle_and_slowloris_flood },
	{ "timeouts", test_hostile_filed__timeouts },
	{ "slowloris_holds_no_worker",
	    test_hostile_filed__slowloris_holds_no_worker },
	{ "per_address_limit", test_hostile_filed__per_address_limit },
	{ "oversized_compound", test_hostile_filed__oversized_compound },
	{ "abandoned_stage_swept", test_hostile_filed__abandoned_stage_swept },
	{ "forged_handle_no_stage",
	    test_hostile_filed__forged_handle_no_stage },
	{ "killed_worker_stage_swept",
	    test_hostile_filed__killed_worker_stage_swept },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "hostile_filed", suite_init, suite_clean, NULL, NULL,
	    hostile_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return cutest_run(suites);
}
