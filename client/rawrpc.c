/*
 * rawrpc.c -- raw record framing: READ and WRITE calls written to and
 * read from a CLIENT's socket by hand, and the chunk buffers they fill.
 *
 * Through clnt_call(), a READ reply is read into libtirpc's record
 * buffer and copied from there into the chunk: one user-space copy of
 * every byte downloaded, the largest item of a download's profile.  So
 * raw_read_call() speaks ONC RPC on the CLIENT's socket itself (RFC
 * 5531: the call message, and record marking on TCP, section 11): it
 * writes the call as one record, reads the reply header and the READ
 * result up to its data length in small pieces, then reads the data
 * with recv(2) straight into the buffer.  raw_write_call() is the same
 * for a WRITE, whose data clnt_call() would copy into the record buffer
 * before sending: the call's header is encoded with the data left empty,
 * its length patched in (the opaque is the last item of a COMPOUND of
 * one WRITE), and the data is sent from the caller's buffer with
 * sendmsg(2).  raw_read_send() and raw_read_recv() are the two halves
 * of a READ, for a caller that keeps several in flight on one
 * connection (readahead.c): the server answers a connection's calls in
 * order, and the bytes read past one reply (struct raw_in) are the
 * start of the next.  raw_call() frames any other call (every COMPOUND
 * of libdfs: request.c) the same way, the reply read whole and decoded
 * by the program's XDR routine.  Nothing else in the client builds or
 * parses record marks.
 *
 * Every raw call waits without blocking and notes each byte moved: a
 * server silent for RAW_QUIET_MS is asked on a new connection whether
 * it still answers (rpcc_alive()), and one that does not fails the call
 * then (sock_wait()), so a stopped server costs seconds, not the call's
 * time limit, which a server at work is still given.
 *
 * Anything but an accepted reply to our xid holding exactly one result
 * of the op sent (or none, with the COMPOUND's error) is a decode
 * failure, and the caller drops the connection: a server can never
 * write past the buffer, and a stream we failed to follow is never read
 * again.
 *
 * The contract with libtirpc (checked against Debian 12's libtirpc
 * 1.3.3; tests/unit/t_rawrpc.c fails if it stops holding):
 *
 *  - The CLIENT is a connection-oriented one (clnt_vc, made by
 *    rpcc_connect()).  CLGET_FD gives its socket; its auth is AUTH_NONE
 *    or AUTH_SYS, whose credential and verifier (cl_auth->ah_cred,
 *    ah_verf) are sent as they are, the same in every call.
 *  - Between two clnt_call()s, clnt_vc holds no bytes of the stream:
 *    it reads a reply's record to its end and sends a call whole.  So a
 *    raw call may run between two clnt_call()s on the same CLIENT, as
 *    long as it too leaves nothing in flight (a caller that cannot, after
 *    a failure or with READs still queued, destroys the CLIENT instead).
 *  - xids: clnt_vc keeps the last xid in its call header and steps it
 *    down once per call (see raw_xids_take() for how, which is not what
 *    CLSET_XID's comment in libtirpc says); CLGET_XID reads it and
 *    CLSET_XID writes it.  Raw calls go on with that same sequence: a
 *    caller takes it from the CLIENT when it starts using the connection
 *    raw (raw_xids_take()), numbers its calls from it (raw_xids_next(),
 *    no system call), and gives it back before libtirpc calls on the
 *    connection again (raw_xids_give()).  So raw calls and libtirpc's own
 *    never share an xid on a connection, and a late reply can never be
 *    taken for another call's.
 *  - The record buffers of the CLIENT are never touched, so it stays fit
 *    for clnt_call() and clnt_destroy().
 *
 * chunks_alloc() gives readahead.c and parallel.c their chunk buffers
 * with their pages in place: a malloc'd 1 MiB is mapped on first touch,
 * one page fault per 4 KiB as the first replies are read into it, which
 * on a VM is a noticeable part of a download (docs/BENCHMARKS.md);
 * MAP_POPULATE maps them in the one call.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "client.h"
#include "rpcc.h"

#define RAW_CALLMAX	1024	/* a call record: header and one READ */
#define RAW_VERFMAX	400	/* RFC 5531: opaque_auth body, at most */

/*
 * Waits until r->fd is ready for `events`, and notes any progress: at
 * most until r's deadline (RPC_TIMEDOUT, r->waited_ms the whole time
 * limit).  A server that has sent or taken nothing for RAW_QUIET_MS may
 * be at work (a disk) or stopped (SIGSTOP, hung: the kernel still
 * acknowledges), which the stream cannot tell; so it is asked on a new
 * connection whether it still answers (rpcc_alive()), and one that does
 * not fails the call now (RPC_TIMEDOUT, r->waited_ms RAW_QUIET_MS), not
 * at the end of the long time limit.  Returns RPC_SUCCESS when ready.
 */
static enum clnt_stat
sock_wait(struct raw_in *r, short events)
{
	struct pollfd		 pfd = { r->fd, events, 0 };
	uint64_t		 now, quiet;
	char			 why[160];
	int			 rc, ms;

	for (;;) {
		now = mono_ms();
		if (now >= r->deadline_ms) {
			r->waited_ms = r->timeout_ms;
			return RPC_TIMEDOUT;
		}
		quiet = r->heard_ms + RAW_QUIET_MS;
		if (now >= quiet) {
			if (rpcc_alive(r->fd, r->prog, r->vers, DFS_PROBE_MS,
			    why, sizeof(why)) != 0) {
				r->waited_ms = RAW_QUIET_MS;
				return RPC_TIMEDOUT;
			}
			r->heard_ms = mono_ms();	/* alive: at work */
			continue;
		}
		ms = (int)((quiet < r->deadline_ms ? quiet : r->deadline_ms) -
		    now);
		rc = poll(&pfd, 1, ms);
		if (rc == -1 && errno != EINTR)
			return events == POLLIN ? RPC_CANTRECV : RPC_CANTSEND;
		if (rc == 1)
			return RPC_SUCCESS;
	}
}

/* One recv(2) of up to n bytes, waiting (sock_wait) only when none is
 * there.  Returns the count, or 0 with *st set. */
static size_t
sock_recv(struct raw_in *r, char *p, size_t n, enum clnt_stat *st)
{
	ssize_t		got;

	for (;;) {
		got = recv(r->fd, p, n, MSG_DONTWAIT);
		if (got > 0) {
			r->heard_ms = mono_ms();
			return (size_t)got;
		}
		if (got == 0 || (errno != EINTR && errno != EAGAIN &&
		    errno != EWOULDBLOCK)) {
			*st = RPC_CANTRECV;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if ((*st = sock_wait(r, POLLIN)) != RPC_SUCCESS)
			return 0;
	}
}

/*
 * Exactly n bytes from the stream.  Small reads (the header's items) go
 * through r->ahead; a large one (the data) takes what was read ahead and
 * reads the rest straight into buf, never past it.  What r->ahead holds
 * past a reply is the start of the next one (a READ sent ahead), and
 * stays there for it; after raw_read_call()'s one call there is none.
 */
static enum clnt_stat
sock_read(struct raw_in *r, void *buf, size_t n)
{
	enum clnt_stat	 st = RPC_SUCCESS;
	char		*p = buf;
	size_t		 k;

	while (n > 0) {
		if (r->apos < r->alen) {
			k = r->alen - r->apos < n ? r->alen - r->apos : n;
			memcpy(p, r->ahead + r->apos, k);
			r->apos += k;
		} else if (n < sizeof(r->ahead)) {
			r->apos = 0;
			r->alen = sock_recv(r, r->ahead, sizeof(r->ahead), &st);
			if (r->alen == 0)
				return st;
			continue;
		} else if ((k = sock_recv(r, p, n, &st)) == 0)
			return st;
		p += k;
		n -= k;
	}
	return RPC_SUCCESS;
}

/* The next n bytes of the record's payload, across fragment headers. */
static enum clnt_stat
rin_get(struct raw_in *r, void *buf, size_t n)
{
	unsigned char	 mark[4];
	char		*p = buf;
	enum clnt_stat	 st;
	size_t		 k;

	while (n > 0) {
		if (r->left == 0) {
			if (r->last)
				return RPC_CANTDECODERES;  /* ended early */
			if ((st = sock_read(r, mark, 4)) != RPC_SUCCESS)
				return st;
			r->last = (mark[0] & 0x80) != 0;
			r->left = be32_get(mark) & 0x7fffffffu;
			continue;
		}
		k = n < r->left ? n : r->left;
		if ((st = sock_read(r, p, k)) != RPC_SUCCESS)
			return st;
		p += k;
		n -= k;
		r->left -= (uint32_t)k;
	}
	return RPC_SUCCESS;
}

/* One XDR unsigned int of the record. */
static enum clnt_stat
rin_u32(struct raw_in *r, uint32_t *v)
{
	unsigned char	b[4];
	enum clnt_stat	st;

	if ((st = rin_get(r, b, 4)) == RPC_SUCCESS)
		*v = be32_get(b);
	return st;
}

/* Sends all of iov[0..n) (adjusting it).  Returns RPC_SUCCESS or
 * RPC_CANTSEND. */
static enum clnt_stat
send_all(struct raw_in *r, struct iovec *iov, int n)
{
	struct msghdr	m;
	enum clnt_stat	st;
	ssize_t		w;

	memset(&m, 0, sizeof(m));
	m.msg_iov = iov;
	m.msg_iovlen = (size_t)n;
	while (m.msg_iovlen > 0) {
		w = sendmsg(r->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((st = sock_wait(r, POLLOUT)) != RPC_SUCCESS)
				return st;
			continue;
		}
		if (w <= 0)
			return RPC_CANTSEND;
		r->heard_ms = mono_ms();	/* the server takes data */
		while (m.msg_iovlen > 0 && (size_t)w >= m.msg_iov->iov_len) {
			w -= (ssize_t)m.msg_iov->iov_len;
			m.msg_iov++;
			m.msg_iovlen--;
		}
		if (m.msg_iovlen > 0) {
			m.msg_iov->iov_base = (char *)m.msg_iov->iov_base + w;
			m.msg_iov->iov_len -= (size_t)w;
		}
	}
	return RPC_SUCCESS;
}

/* The header of call xid of proc: r's program and version, c's
 * credential and verifier (the same in every call, AUTH_NONE or
 * AUTH_SYS). */
static void
call_msg(struct rpc_msg *call, CLIENT *c, const struct raw_in *r,
    uint32_t xid, rpcproc_t proc)
{
	memset(call, 0, sizeof(*call));
	call->rm_xid = xid;
	call->rm_direction = CALL;
	call->rm_call.cb_rpcvers = RPC_MSG_VERSION;
	call->rm_call.cb_prog = r->prog;
	call->rm_call.cb_vers = r->vers;
	call->rm_call.cb_proc = proc;
	call->rm_call.cb_cred = c->cl_auth->ah_cred;
	call->rm_call.cb_verf = c->cl_auth->ah_verf;
}

/*
 * Writes a call record: the header and `args`, then `dlen` bytes of
 * `data` and their XDR padding.  With dlen > 0, args must end with an
 * opaque encoded empty (a WRITE's data, whose length is patched in here)
 * and data holds its bytes.  Returns RPC_SUCCESS or a failure.
 */
static enum clnt_stat
send_call(CLIENT *c, struct raw_in *r, uint32_t xid,
    file_compound_args *args, const char *data, u_int dlen)
{
	static const char pad[4];
	char		 buf[RAW_CALLMAX];
	struct rpc_msg	 call;
	struct iovec	 iov[3];
	XDR		 x;
	u_int		 len;
	bool_t		 ok;

	call_msg(&call, c, r, xid, FILE_COMPOUND);
	xdrmem_create(&x, buf + 4, sizeof(buf) - 4, XDR_ENCODE);
	ok = xdr_callmsg(&x, &call) && xdr_file_compound_args(&x, args);
	len = xdr_getpos(&x);
	xdr_destroy(&x);
	if (!ok || (dlen > 0 && be32_get((unsigned char *)buf + len) != 0))
		return RPC_CANTENCODEARGS;
	if (dlen > 0)
		be32_put((unsigned char *)buf + len, dlen);
	iov[0].iov_base = buf;
	iov[0].iov_len = 4 + (size_t)len;
	iov[1].iov_base = (char *)data;
	iov[1].iov_len = dlen;
	iov[2].iov_base = (char *)pad;
	iov[2].iov_len = (4 - dlen % 4) % 4;
	be32_put((unsigned char *)buf, 0x80000000u |
	    (len + dlen + (u_int)iov[2].iov_len));
	return send_all(r, iov, dlen > 0 ? 3 : 1);
}

/* An accepted reply's status as clnt_call() would say it. */
static enum clnt_stat
accept_stat(uint32_t accept)
{
	switch (accept) {
	case SUCCESS:
		return RPC_SUCCESS;
	case PROG_UNAVAIL:
		return RPC_PROGUNAVAIL;
	case PROG_MISMATCH:
		return RPC_PROGVERSMISMATCH;
	case PROC_UNAVAIL:
		return RPC_PROCUNAVAIL;
	case GARBAGE_ARGS:
		return RPC_CANTDECODEARGS;
	default:
		return RPC_SYSTEMERROR;
	}
}

/* Reads an accepted reply's header up to its results.  Returns
 * RPC_SUCCESS or the failure the reply says (or a decode failure). */
static enum clnt_stat
read_header(struct raw_in *r, uint32_t xid)
{
	char		verf[RAW_VERFMAX + 3];
	uint32_t	w[5], accept;
	enum clnt_stat	st;
	int		i;

	for (i = 0; i < 5; i++)
		if ((st = rin_u32(r, &w[i])) != RPC_SUCCESS)
			return st;
	/* xid, REPLY, MSG_ACCEPTED, verifier flavor and length */
	if (w[0] != xid || w[1] != REPLY)
		return RPC_CANTDECODERES;
	if (w[2] != MSG_ACCEPTED)
		return RPC_AUTHERROR;	/* MSG_DENIED: auth or version */
	if (w[4] > RAW_VERFMAX)
		return RPC_CANTDECODERES;
	if ((st = rin_get(r, verf, (w[4] + 3) & ~3u)) != RPC_SUCCESS ||
	    (st = rin_u32(r, &accept)) != RPC_SUCCESS)
		return st;
	return accept_stat(accept);
}

/*
 * Reads the COMPOUND's status and its one result's op (which must be
 * `op`) and status.  Sets *status: the op's, or with no result the
 * COMPOUND's.  Returns RPC_SUCCESS (*body set when the op's OK result
 * follows) or a decode failure.
 */
static enum clnt_stat
read_op(struct raw_in *r, uint32_t op, dfs_stat *status, int *body)
{
	uint32_t	st, n, got;
	enum clnt_stat	cs;

	*body = 0;
	if ((cs = rin_u32(r, &st)) != RPC_SUCCESS ||
	    (cs = rin_u32(r, &n)) != RPC_SUCCESS)
		return cs;
	if (n == 0) {
		*status = st != DFS_OK ? (dfs_stat)st : DFS_ERR_SERVERFAULT;
		return RPC_SUCCESS;
	}
	if (n != 1 || (cs = rin_u32(r, &got)) != RPC_SUCCESS ||
	    (cs = rin_u32(r, &st)) != RPC_SUCCESS)
		return n != 1 ? RPC_CANTDECODERES : cs;
	if (got != op)
		return RPC_CANTDECODERES;
	*status = (dfs_stat)st;
	*body = st == DFS_OK;
	return RPC_SUCCESS;
}

/* Reads the COMPOUND's results: one READ, its data into buf.  Returns
 * RPC_SUCCESS (with *status and, for OK, *len) or a decode failure. */
static enum clnt_stat
read_result(struct raw_in *r, char *buf, u_int cap, u_int *len,
    dfs_stat *status)
{
	char		pad[4];
	uint32_t	eof, dlen;
	enum clnt_stat	cs;
	int		body;

	if ((cs = read_op(r, FOP_READ, status, &body)) != RPC_SUCCESS ||
	    !body)
		return cs;
	if ((cs = rin_u32(r, &eof)) != RPC_SUCCESS ||
	    (cs = rin_u32(r, &dlen)) != RPC_SUCCESS)
		return cs;
	if (eof > 1 || dlen > cap)
		return RPC_CANTDECODERES;
	if ((cs = rin_get(r, buf, dlen)) != RPC_SUCCESS ||
	    (cs = rin_get(r, pad, (4 - dlen % 4) % 4)) != RPC_SUCCESS)
		return cs;
	*len = dlen;
	return RPC_SUCCESS;
}

/* Starts a call's time: its limit (the deadline), no progress yet; a new
 * record. */
static void
rin_start(struct raw_in *r, unsigned int timeout_ms)
{
	r->heard_ms = mono_ms();
	r->deadline_ms = r->heard_ms + timeout_ms;
	r->timeout_ms = timeout_ms;
	r->waited_ms = 0;
	r->left = 0;
	r->last = 0;
}

/* Whether the reply's record ended where its results did. */
static enum clnt_stat
rin_end(const struct raw_in *r)
{
	return r->last && r->left == 0 ? RPC_SUCCESS : RPC_CANTDECODERES;
}

void
raw_in_init(struct raw_in *r, int fd)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
}

/* Starts r on c's connection.  Returns 0, or -1 when c has no socket. */
static int
conn_in(CLIENT *c, struct raw_in *r)
{
	int	fd;

	if (!clnt_control(c, CLGET_FD, (char *)&fd))
		return -1;
	raw_in_init(r, fd);
	if (!clnt_control(c, CLGET_PROG, (char *)&r->prog) ||
	    !clnt_control(c, CLGET_VERS, (char *)&r->vers))
		return -1;
	return 0;
}

__thread unsigned int	raw_waited_ms;

/* A raw call's end: st, and how long it waited when it timed out. */
static enum clnt_stat
ended(const struct raw_in *r, enum clnt_stat st, unsigned int *waited_ms)
{
	raw_waited_ms = st == RPC_TIMEDOUT ? r->waited_ms : 0;
	if (waited_ms != NULL)
		*waited_ms = r->waited_ms;
	return st;
}

enum clnt_stat
raw_read_send(CLIENT *c, uint32_t xid, const read_args *ra)
{
	file_argop		 op;
	file_compound_args	 args = { { 1, &op } };
	struct raw_in		 r;

	if (conn_in(c, &r) != 0)
		return RPC_FAILED;
	memset(&op, 0, sizeof(op));
	op.op = FOP_READ;
	op.file_argop_u.read = *ra;
	/* a READ's call is small: the socket takes it at once, unless the
	 * server has stopped reading its calls */
	rin_start(&r, DFS_DEFAULT_TIMEOUT_MS);
	return send_call(c, &r, xid, &args, NULL, 0);
}

enum clnt_stat
raw_read_recv(struct raw_in *r, uint32_t xid, unsigned int timeout_ms,
    char *buf, u_int cap, u_int *len, dfs_stat *status)
{
	enum clnt_stat	st;

	rin_start(r, timeout_ms);
	*len = 0;
	*status = DFS_OK;
	if ((st = read_header(r, xid)) != RPC_SUCCESS ||
	    (st = read_result(r, buf, cap, len, status)) != RPC_SUCCESS)
		return st;
	return rin_end(r);
}

/* raw_read_call() with its time kept in r. */
static enum clnt_stat
read_call(CLIENT *c, struct raw_in *r, uint32_t xid, const read_args *ra,
    unsigned int timeout_ms, char *buf, u_int *len, dfs_stat *status)
{
	enum clnt_stat	st;

	if ((st = raw_read_send(c, xid, ra)) != RPC_SUCCESS ||
	    (st = raw_read_recv(r, xid, timeout_ms, buf, ra->count, len,
	    status)) != RPC_SUCCESS)
		return st;
	/* one call, one reply: anything more is not ours to read */
	return r->apos == r->alen ? RPC_SUCCESS : RPC_CANTDECODERES;
}

enum clnt_stat
raw_read_call(CLIENT *c, uint32_t xid, const read_args *ra,
    unsigned int timeout_ms, char *buf, u_int *len, dfs_stat *status,
    unsigned int *waited_ms)
{
	struct raw_in	r;

	if (conn_in(c, &r) != 0)
		return RPC_FAILED;
	return ended(&r, read_call(c, &r, xid, ra, timeout_ms, buf, len,
	    status), waited_ms);
}

/* raw_write_call() with its time kept in r. */
static enum clnt_stat
write_call(CLIENT *c, struct raw_in *r, uint32_t xid, const write_args *wa,
    unsigned int timeout_ms, u_int *count, dfs_stat *status)
{
	file_argop		 op;
	file_compound_args	 args = { { 1, &op } };
	uint32_t		 n;
	enum clnt_stat		 st;
	int			 body;

	memset(&op, 0, sizeof(op));
	op.op = FOP_WRITE;
	op.file_argop_u.write = *wa;
	op.file_argop_u.write.data.data_len = 0;	/* sent from wa */
	rin_start(r, timeout_ms);
	if ((st = send_call(c, r, xid, &args, wa->data.data_val,
	    wa->data.data_len)) != RPC_SUCCESS)
		return st;
	rin_start(r, timeout_ms);
	*count = 0;
	if ((st = read_header(r, xid)) != RPC_SUCCESS ||
	    (st = read_op(r, FOP_WRITE, status, &body)) != RPC_SUCCESS)
		return st;
	if (body && (st = rin_u32(r, &n)) != RPC_SUCCESS)
		return st;
	if (body)
		*count = n;
	if ((st = rin_end(r)) != RPC_SUCCESS)
		return st;
	return r->apos == r->alen ? RPC_SUCCESS : RPC_CANTDECODERES;
}

enum clnt_stat
raw_write_call(CLIENT *c, uint32_t xid, const write_args *wa,
    unsigned int timeout_ms, u_int *count, dfs_stat *status,
    unsigned int *waited_ms)
{
	struct raw_in	r;

	if (conn_in(c, &r) != 0)
		return RPC_FAILED;
	return ended(&r, write_call(c, &r, xid, wa, timeout_ms, count,
	    status), waited_ms);
}

/*
 * clnt_vc_call() decrements the xid word of its call header as it is
 * stored, in network byte order, and sends that: on a little-endian
 * host its xids step down by 2^24, with borrows.  CLGET_XID gives the
 * word in host order; CLSET_XID(v) stores v + 1.  So the next xid is the
 * stored word minus one, and storing the last one sent (CLSET_XID of it
 * minus one) is what clnt_vc_call() itself would have left.
 */
void
raw_xids_take(struct raw_xids *x, CLIENT *c)
{
	uint32_t	last = 0;

	(void)clnt_control(c, CLGET_XID, (char *)&last);
	x->word = htonl(last);
}

uint32_t
raw_xids_next(struct raw_xids *x)
{
	return ntohl(--x->word);
}

void
raw_xids_give(const struct raw_xids *x, CLIENT *c)
{
	uint32_t	set = ntohl(x->word) - 1;

	(void)clnt_control(c, CLSET_XID, (char *)&set);
}

char *
chunks_alloc(size_t n, size_t len)
{
	void	*p;

	p = mmap(NULL, n * len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void
chunks_free(char *p, size_t n, size_t len)
{
	if (p != NULL)
		(void)munmap(p, n * len);
}

/* --- any call ---------------------------------------------------------- */

/* The time limit of a call on a CLIENT that has none (clnt_call()'s
 * argument, as request.c gave it). */
#define RAW_CALL_MS	25000
/* Replies larger than this are not read (a READDIR's is far smaller). */
#define RAW_REPLYMAX	(16u << 20)

/* Sends proc(args) of r's program as one record.  Returns RPC_SUCCESS
 * or a failure. */
static enum clnt_stat
send_any(CLIENT *c, struct raw_in *r, uint32_t xid, rpcproc_t proc,
    xdrproc_t xargs, void *args)
{
	struct rpc_msg	 call;
	struct iovec	 iov;
	unsigned long	 len;
	enum clnt_stat	 st;
	char		*buf;
	XDR		 x;
	bool_t		 ok;

	call_msg(&call, c, r, xid, proc);
	len = xdr_sizeof((xdrproc_t)xdr_callmsg, &call) + xdr_sizeof(xargs,
	    args);
	if (len == 0 || len > RAW_REPLYMAX || (buf = malloc(4 + len)) == NULL)
		return RPC_CANTENCODEARGS;
	xdrmem_create(&x, buf + 4, (u_int)len, XDR_ENCODE);
	ok = xdr_callmsg(&x, &call) && xargs(&x, args);
	xdr_destroy(&x);
	st = RPC_CANTENCODEARGS;
	if (ok) {
		be32_put((unsigned char *)buf, 0x80000000u | (uint32_t)len);
		iov.iov_base = buf;
		iov.iov_len = 4 + len;
		st = send_all(r, &iov, 1);
	}
	free(buf);
	return st;
}

/* Reads the next whole reply record into *buf (malloc'd), its length
 * into *len.  Returns RPC_SUCCESS or a failure. */
static enum clnt_stat
read_record(struct raw_in *r, char **buf, size_t *len)
{
	unsigned char	 m[4];
	uint32_t	 mark, n;
	enum clnt_stat	 st;
	char		*p;

	*buf = NULL;
	*len = 0;
	do {
		if ((st = sock_read(r, m, 4)) != RPC_SUCCESS)
			return st;
		mark = be32_get(m);
		n = mark & 0x7fffffffu;
		if (*len + n > RAW_REPLYMAX ||
		    (p = realloc(*buf, *len + n + 1)) == NULL)
			return RPC_CANTDECODERES;
		*buf = p;
		if ((st = sock_read(r, *buf + *len, n)) != RPC_SUCCESS)
			return st;
		*len += n;
	} while ((mark & 0x80000000u) == 0);
	return RPC_SUCCESS;
}

/* What an accepted or denied reply that is not a success means, as
 * clnt_call() would say it. */
static enum clnt_stat
reply_stat(const struct rpc_msg *m)
{
	if (m->rm_reply.rp_stat != MSG_ACCEPTED)
		return m->rjcted_rply.rj_stat == AUTH_ERROR ? RPC_AUTHERROR :
		    RPC_VERSMISMATCH;
	return accept_stat(m->acpted_rply.ar_stat);
}

/* raw_call() with its time kept in r: the reply to xid, decoded. */
static enum clnt_stat
any_call(CLIENT *c, struct raw_in *r, uint32_t xid, rpcproc_t proc,
    xdrproc_t xargs, void *args, xdrproc_t xres, void *res)
{
	struct rpc_msg	 m;
	char		 verf[RAW_VERFMAX];
	enum clnt_stat	 st;
	size_t		 len;
	char		*buf;
	XDR		 x;
	bool_t		 ok;

	if ((st = send_any(c, r, xid, proc, xargs, args)) != RPC_SUCCESS)
		return st;
	for (;;) {
		if ((st = read_record(r, &buf, &len)) != RPC_SUCCESS) {
			free(buf);
			return st;
		}
		/* a reply to an earlier call that gave up is skipped */
		if (len >= 4 && be32_get((unsigned char *)buf) == xid)
			break;
		free(buf);
	}
	memset(&m, 0, sizeof(m));
	m.acpted_rply.ar_verf.oa_base = verf;
	m.acpted_rply.ar_results.where = res;
	m.acpted_rply.ar_results.proc = xres;
	xdrmem_create(&x, buf, (u_int)len, XDR_DECODE);
	ok = xdr_replymsg(&x, &m) && m.rm_direction == REPLY;
	xdr_destroy(&x);
	free(buf);
	if (!ok)
		return RPC_CANTDECODERES;
	/* one call, one reply: anything more is not ours to read */
	if ((st = reply_stat(&m)) == RPC_SUCCESS && r->apos != r->alen)
		st = RPC_CANTDECODERES;
	return st;
}

enum clnt_stat
raw_call(CLIENT *c, rpcproc_t proc, xdrproc_t xargs, void *args,
    xdrproc_t xres, void *res, unsigned int *waited_ms)
{
	struct raw_xids	xids;
	struct timeval	tv;
	struct raw_in	r;
	enum clnt_stat	st;
	unsigned int	ms;

	if (conn_in(c, &r) != 0 ||
	    !clnt_control(c, CLGET_TIMEOUT, (char *)&tv))
		return RPC_FAILED;
	/* a CLIENT never given a timeout (clnt_vc_create() of a test's
	 * own socket) says 0, and clnt_call() would take its argument */
	ms = (unsigned int)(tv.tv_sec * 1000 + tv.tv_usec / 1000);
	rin_start(&r, ms != 0 ? ms : RAW_CALL_MS);
	/* ORDER: the xid continues libtirpc's sequence, which then goes
	 * on after it (the module's top comment) */
	raw_xids_take(&xids, c);
	st = any_call(c, &r, raw_xids_next(&xids), proc, xargs, args, xres,
	    res);
	raw_xids_give(&xids, c);
	return ended(&r, st, waited_ms);
}
