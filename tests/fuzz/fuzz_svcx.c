/*
 * fuzz_svcx.c -- libFuzzer target of lib/svcx.c, the connection layer of
 * dfs-named and dfs-lockd: one input is the whole byte stream a client
 * sends on one TCP connection (record marks, fragments, call headers,
 * credentials, arguments, any number of calls).
 *
 * svcx serves a listening socket on 127.0.0.1 in this process.  For each
 * input a client connects, writes the input, shuts its side down and
 * reads every reply, while the loop here runs svcx as svcloop.c does.
 * The dispatcher is lib/dispatch.c's with a NAME program whose COMPOUND
 * answers at once or, for an odd number of ops, holds its reply
 * (svcx_hold) and answers at the end of the round, as group commit
 * does; the evaluators themselves are fuzz_named's job.
 *
 * Findings besides sanitizer reports: svcx must close the connection
 * once its client hung up, within ROUNDS_MAX rounds (a connection it
 * neither serves nor closes is the stall of issue 17 item 1), and
 * leave no connection behind.  The record limit is small (MAXREC) so
 * that inputs of libFuzzer's size reach it.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dispatch.h"
#include "fuzz.h"
#include "name.h"
#include "svcx.h"

#define MAXREC		16384
#define ROUNDS_MAX	2000
#define HELD_MAX	64

static struct {
	struct sockaddr_in	 addr;
	struct pollfd		*pfd;
	size_t			 pfdcap;
	struct svcx_held	*held[HELD_MAX];
	unsigned int		 nheld;
} st;

/* NAME COMPOUND stand-in: an empty OK reply, held when ops are odd. */
static bool_t
compound(void *args, void *res, struct svc_req *rq)
{
	name_compound_args	*a = args;
	struct svcx_held	*h;

	((name_compound_res *)res)->status = DFS_OK;
	if (a->ops.ops_len % 2 == 0 || st.nheld == HELD_MAX)
		return TRUE;
	if ((h = svcx_hold(rq)) == NULL)
		return TRUE;
	st.held[st.nheld++] = h;
	return FALSE;
}

static const struct svc_prog prog = {
	(xdrproc_t)xdr_name_compound_args,
	(xdrproc_t)xdr_name_compound_res,
	compound,
};

static void
dispatch(struct svc_req *rq, SVCXPRT *xprt)
{
	svc_dispatch(rq, xprt, &prog);
}

/* Answers the held replies, a closed connection's too (dropped). */
static void
answer_held(void)
{
	name_compound_res	res;

	memset(&res, 0, sizeof(res));
	while (st.nheld > 0)
		(void)svcx_reply_held(st.held[--st.nheld],
		    (xdrproc_t)xdr_name_compound_res, &res);
}

/* One round of the daemon's loop, waiting at most `ms`. */
static void
round_once(int ms)
{
	int	n = svcx_pollset(&st.pfd, &st.pfdcap, 0);

	if (n < 0)
		abort();
	if (poll(st.pfd, (nfds_t)n, ms) < 0 && errno != EINTR)
		abort();
	svcx_run(st.pfd, n);
	answer_held();
}

/* Reads what the server sent.  Returns 1 once it closed, else 0. */
static int
drain(int fd)
{
	char	buf[65536];
	ssize_t	n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n == 0)
		return 1;
	return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

/* Writes what the socket takes of data[*off..size). */
static void
feed(int fd, const uint8_t *data, size_t size, size_t *off)
{
	ssize_t	n;

	if (*off == size)
		return;
	n = write(fd, data + *off, size - *off);
	if (n > 0)
		*off += (size_t)n;
	else if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK)
		*off = size;	/* the server closed: the rest is moot */
}

/* Returns a client connected to svcx, non-blocking. */
static int
client(void)
{
	int	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd == -1 || (connect(fd, (struct sockaddr *)&st.addr,
	    sizeof(st.addr)) == -1 && errno != EINPROGRESS))
		abort();
	return fd;
}

/* Serves one input; aborts when svcx keeps a hung-up connection. */
static void
serve_stream(const uint8_t *data, size_t size)
{
	size_t	off = 0;
	int	fd = client(), closed = 0, shut = 0, r;

	for (r = 0; r < ROUNDS_MAX && !closed; r++) {
		feed(fd, data, size, &off);
		if (off == size && !shut) {
			(void)shutdown(fd, SHUT_WR);
			shut = 1;
		}
		round_once(shut ? 1 : 0);
		closed = drain(fd);
	}
	close(fd);
	for (r = 0; r < ROUNDS_MAX && svcx_nconns() > 0; r++)
		round_once(1);
	if (!closed || svcx_nconns() > 0) {
		fprintf(stderr, "fuzz_svcx: connection not closed after its "
		    "client hung up (%u left)\n", svcx_nconns());
		abort();
	}
}

/* Listens on 127.0.0.1, any port, and hands the socket to svcx. */
static void
listen_init(void)
{
	struct svcx_limits	lim;
	socklen_t		len = sizeof(st.addr);
	int			lfd;

	memset(&st.addr, 0, sizeof(st.addr));
	st.addr.sin_family = AF_INET;
	st.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&lim, 0, sizeof(lim));
	lim.maxrec = MAXREC;
	if (lfd == -1 || bind(lfd, (struct sockaddr *)&st.addr,
	    sizeof(st.addr)) == -1 || listen(lfd, 16) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&st.addr, &len) == -1 ||
	    svcx_init(lfd, DFS_NAME_PROG, DFS_NAME_VERS, dispatch, &lim) != 0)
		abort();
}

/* --- seeds: streams as clients send them, and as attackers do --- */

/* Appends to a growing buffer; aborts when out of memory. */
struct buf {
	unsigned char	*p;
	size_t		 len;
};

static void
put(struct buf *b, const void *p, size_t n)
{
	if ((b->p = realloc(b->p, b->len + n)) == NULL)
		abort();
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
put_mark(struct buf *b, uint32_t len, int last)
{
	uint32_t	m = htonl(len | (last ? 0x80000000U : 0));

	put(b, &m, 4);
}

/* Encodes a call (AUTH_SYS credentials) of `proc` with `args`. */
static void
call(struct buf *rec, uint32_t xid, rpcprog_t p, rpcvers_t v,
    rpcproc_t proc, name_compound_args *args)
{
	static gid_t	 gids[] = { 100 };
	struct authsys_parms au = { 1700000000, (char *)"fuzz", 1000, 1000,
	    1, gids };
	char		 cred[400], out[8192];
	struct rpc_msg	 msg;
	XDR		 x;

	xdrmem_create(&x, cred, sizeof(cred), XDR_ENCODE);
	if (!xdr_authunix_parms(&x, &au))
		abort();
	memset(&msg, 0, sizeof(msg));
	msg.rm_xid = xid;
	msg.rm_direction = CALL;
	msg.rm_call.cb_rpcvers = RPC_MSG_VERSION;
	msg.rm_call.cb_prog = p;
	msg.rm_call.cb_vers = v;
	msg.rm_call.cb_proc = proc;
	msg.rm_call.cb_cred.oa_flavor = AUTH_SYS;
	msg.rm_call.cb_cred.oa_base = cred;
	msg.rm_call.cb_cred.oa_length = xdr_getpos(&x);
	msg.rm_call.cb_verf = _null_auth;
	xdr_destroy(&x);
	xdrmem_create(&x, out, sizeof(out), XDR_ENCODE);
	if (!xdr_callmsg(&x, &msg) || (args != NULL &&
	    !xdr_name_compound_args(&x, args)))
		abort();
	rec->len = 0;
	put(rec, out, xdr_getpos(&x));
	xdr_destroy(&x);
}

/* Appends `rec` as `nfrag` fragments (at least one byte each). */
static void
put_record(struct buf *b, const struct buf *rec, size_t nfrag)
{
	size_t	off = 0, n, i;

	for (i = 0; i < nfrag; i++) {
		n = i + 1 == nfrag ? rec->len - off : rec->len / nfrag;
		put_mark(b, (uint32_t)n, i + 1 == nfrag);
		put(b, rec->p + off, n);
		off += n;
	}
}

static void
write_file(const char *dir, const char *name, struct buf *b)
{
	char	 path[4096];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "w")) == NULL ||
	    fwrite(b->p, 1, b->len, fp) != b->len || fclose(fp) != 0)
		abort();
	b->len = 0;
}

/* PUTROOTFH, LOOKUP "d/f", GETATTR: three ops (held, odd). */
static void
lookup_args(name_compound_args *a, name_argop *ops)
{
	memset(ops, 0, 3 * sizeof(*ops));
	ops[0].op = OP_PUTROOTFH;
	ops[1].op = OP_LOOKUP;
	FUZZ_BYTES(ops[1].name_argop_u.lookup.dfs_path, "d/f");
	ops[2].op = OP_GETATTR;
	a->ops.ops_len = 3;
	a->ops.ops_val = ops;
}

static void
seeds_calls(const char *dir, struct buf *b, struct buf *rec)
{
	name_compound_args	a;
	name_argop		ops[3];

	lookup_args(&a, ops);
	call(rec, 1, DFS_NAME_PROG, DFS_NAME_VERS, 0, NULL);
	put_record(b, rec, 1);
	write_file(dir, "null", b);
	call(rec, 2, DFS_NAME_PROG, DFS_NAME_VERS, 1, &a);
	put_record(b, rec, 1);
	write_file(dir, "compound", b);
	put_record(b, rec, 5);
	write_file(dir, "compound-fragments", b);
	put_record(b, rec, 1);
	a.ops.ops_len = 2;
	call(rec, 3, DFS_NAME_PROG, DFS_NAME_VERS, 1, &a);
	put_record(b, rec, 2);
	call(rec, 4, DFS_NAME_PROG, DFS_NAME_VERS, 0, NULL);
	put_record(b, rec, 1);
	write_file(dir, "pipelined", b);
}

static void
seeds_errors(const char *dir, struct buf *b, struct buf *rec)
{
	static const unsigned char huge[] = { 0x80, 0x04, 0x00, 0x04 };
	static const unsigned char junk[] = { 0, 0, 0, 99, 0, 0, 0, 1 };
	uint32_t	w;

	put(b, huge, sizeof(huge));
	write_file(dir, "huge-mark", b);
	call(rec, 5, DFS_NAME_PROG, DFS_NAME_VERS, 7, NULL);
	put_record(b, rec, 1);
	call(rec, 6, DFS_NAME_PROG + 1, DFS_NAME_VERS, 0, NULL);
	put_record(b, rec, 1);
	call(rec, 7, DFS_NAME_PROG, DFS_NAME_VERS + 1, 0, NULL);
	put_record(b, rec, 1);
	write_file(dir, "noproc-noprog-progvers", b);
	call(rec, 8, DFS_NAME_PROG, DFS_NAME_VERS, 1, NULL);
	put(rec, junk, sizeof(junk));
	put_record(b, rec, 1);
	write_file(dir, "garbage-args", b);
	call(rec, 9, DFS_NAME_PROG, DFS_NAME_VERS, 0, NULL);
	w = htonl(3);			/* RPC version 3 */
	memcpy(rec->p + 8, &w, 4);
	put_record(b, rec, 1);
	w = htonl(REPLY);		/* not a call */
	memcpy(rec->p + 4, &w, 4);
	put_record(b, rec, 1);
	write_file(dir, "rpcvers-reply", b);
}

/* DFS_FUZZ_SEEDS mode: writes the seed corpus and exits. */
static void
write_seeds(const char *dir)
{
	struct buf	b = { NULL, 0 }, rec = { NULL, 0 };

	seeds_calls(dir, &b, &rec);
	seeds_errors(dir, &b, &rec);
	free(b.p);
	free(rec.p);
	exit(0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (fuzz_seed_dir() != NULL)
		write_seeds(fuzz_seed_dir());
	listen_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	serve_stream(data, size);
	return 0;
}
