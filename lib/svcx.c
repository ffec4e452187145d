/*
 * svcx.c -- the connection layer of dfs's event-loop daemons.
 *
 * Why not libtirpc's: its non-blocking record reader (svc_vc with
 * RPC_SVC_CONNMAXREC_SET, libtirpc 1.3.3) takes the first fragment of a
 * record for the whole record, sizes its buffer from what the record
 * mark announces and then spins on EAGAIN until the rest arrives, and
 * writes replies with blocking writes: a client that pipelines requests
 * and reads no reply stalls the whole loop.  It has no idle timeout, and
 * out of descriptors it spins on accept(2).  Here:
 *
 * - Input.  A connection's buffer holds what was read; fragments are
 *   joined in place as they complete (their marks cut out), so the
 *   record being assembled is always in[0..rec_len).  The buffer grows
 *   with the bytes that arrive, never with what a mark announces, up to
 *   the record limit plus a little; a record over the limit closes the
 *   connection (nothing can be answered without reading it).
 * - Dispatch.  A complete record is decoded from memory: call header,
 *   _authenticate() (libtirpc's, so every flavour it knows works), the
 *   program's dispatcher.  At most SVCX_BATCH records of a connection
 *   per round, so one client's pipeline cannot starve the others.
 * - Output.  A reply is encoded into a scratch buffer and appended to
 *   the connection's queue, then written as far as the socket takes it.
 *   Past SVCX_OUT_LOWAT queued bytes the connection's requests are not
 *   read any more until its client drains the queue, so unread replies
 *   are bounded by SVCX_OUT_LOWAT plus one reply.
 * - Time.  Idle (nothing buffered, owed or queued) for idle_ms: closed.
 *   A request begun and not completed within stall_ms, or queued replies
 *   that make no progress for stall_ms: closed (slowloris, unread
 *   replies).
 * - Room.  At most maxconns connections (cut to RLIMIT_NOFILE) and
 *   maxperaddr from one address; a new connection past either takes the
 *   place of the longest-idle one it competes with, or is closed if all
 *   are busy.  A spare descriptor lets accept(2) shed a connection even
 *   when the process has no descriptor left.
 *
 * A connection lives as long as its socket or any reference: the round
 * dispatching it and each held reply.  A closed connection whose held
 * replies are still referenced stays, marked dead, until they are
 * dropped, so a hold never points at freed or reused memory.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rpc/rpc.h>
#include <rpc/svc_auth.h>
#include <rpc/svc_mt.h>

#include "log.h"
#include "rpcc.h"
#include "svcloop.h"
#include "svcx.h"
#include "svcx_impl.h"

#define SVCX_BATCH		32		/* records per connection per round */
#define SVCX_INBUF_MIN		4096
#define SVCX_INBUF_KEEP		65536		/* larger is freed when empty */
#define SVCX_OUT_LOWAT		(256 * 1024)	/* stop reading past this */
#define SVCX_READ_MAX		(256 * 1024)	/* one read(2), at most */
#define SVCX_PAUSE_MS		100		/* no descriptor to accept with */
#define SVCX_FD_RESERVE		32		/* descriptors kept for the rest */
#define SVCX_CRED_AREA		(2 * MAX_AUTH_BYTES + 1024)
#define LAST_FRAG		0x80000000U

struct conn {
	SVCXPRT			 xprt;		/* first: xp_p1 points back */
	SVCXPRT_EXT		 ext;		/* xp_p3: _authenticate()'s */
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	int			 fd;		/* -1 once closed */
	unsigned int		 refs;		/* round + held replies */
	unsigned int		 nheld;
	/* input */
	unsigned char		*in;
	size_t			 incap, inlen;
	size_t			 rec_len;	/* joined record bytes */
	size_t			 pos;		/* next raw byte to parse */
	size_t			 frag_left;
	int			 in_frag, last_frag;
	int			 ready;		/* a whole record is buffered */
	int			 parked;	/* ... and waits for svcx_resume() */
	void			*resume_data;	/* for svcx_resumed() */
	unsigned long long	 rec_start;	/* first byte of a request */
	/* the request being served */
	XDR			 xdrs;
	uint32_t		 xid;
	/* output */
	unsigned char		*out;
	size_t			 outcap, outlen, outoff;
	unsigned long long	 last;		/* last progress either way */
};

struct svcx_held {
	struct conn	*c;
	uint32_t	 xid;
	int		 park;		/* svcx_park()'s, not svcx_hold()'s */
};

static struct {
	int			  lfd, spare;
	rpcprog_t		  prog;
	rpcvers_t		  vers;
	void			(*dispatch)(struct svc_req *, SVCXPRT *);
	struct svcx_limits	  lim;
	struct conn		**conns;	/* open ones, dense */
	unsigned int		  nconns;
	unsigned long long	  pause_until;	/* accept(2) again then */
	unsigned char		 *scratch;	/* reply encoding */
	size_t			  scratchcap;
} sx = { .lfd = -1, .spare = -1 };

static bool_t	x_recv(SVCXPRT *, struct rpc_msg *);
static enum xprt_stat x_stat(SVCXPRT *);
static bool_t	x_getargs(SVCXPRT *, xdrproc_t, void *);
static bool_t	x_reply(SVCXPRT *, struct rpc_msg *);
static bool_t	x_freeargs(SVCXPRT *, xdrproc_t, void *);
static void	x_destroy(SVCXPRT *);
static bool_t	x_control(SVCXPRT *, const u_int, void *);

static const struct xp_ops	conn_ops = { x_recv, x_stat, x_getargs,
    x_reply, x_freeargs, x_destroy };
static const struct xp_ops2	conn_ops2 = { x_control };

static void	conn_close(struct conn *c, const char *why);

/* --- connections ------------------------------------------------------ */

static struct conn *
conn_of(SVCXPRT *xprt)
{
	return xprt->xp_ops == &conn_ops ? xprt->xp_p1 : NULL;
}

static void
conn_unref(struct conn *c)
{
	if (--c->refs > 0 || c->fd != -1)
		return;
	free(c->in);
	free(c->out);
	free(c);
}

/* Nothing buffered, owed or queued: the connection may be reaped. */
static int
conn_idle(const struct conn *c)
{
	return c->inlen == 0 && c->nheld == 0 && c->outlen == c->outoff;
}

static int
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		    &((const struct sockaddr_in6 *)b)->sin6_addr,
		    sizeof(struct in6_addr)) == 0;
	return 1;
}

static struct conn *
conn_new(int fd, const struct sockaddr_storage *ss, socklen_t len)
{
	struct conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->fd = fd;
	c->refs = 1;
	c->addr = *ss;
	c->addrlen = len;
	c->last = now_ms();
	c->xprt.xp_fd = fd;
	c->xprt.xp_ops = &conn_ops;
	c->xprt.xp_ops2 = &conn_ops2;
	c->xprt.xp_p1 = c;
	c->xprt.xp_p3 = &c->ext;
	c->xprt.xp_netid = (char *)"tcp";
	c->xprt.xp_rtaddr.buf = &c->addr;
	c->xprt.xp_rtaddr.len = len;
	c->xprt.xp_rtaddr.maxlen = sizeof(c->addr);
	c->xprt.xp_addrlen = (int)len;
	if (len <= sizeof(c->xprt.xp_raddr))
		memcpy(&c->xprt.xp_raddr, ss, len);
	return c;
}

/*
 * Picks the connection a newcomer from `ss` replaces: the longest-idle
 * one of its address when that address is at its limit, else the
 * longest-idle of all when the table is full.  Returns it, NULL when
 * there is room, or (struct conn *)-1 when there is none and nothing
 * idle to give up.
 */
static struct conn *
victim(const struct sockaddr_storage *ss)
{
	struct conn	*c, *best = NULL, *best_addr = NULL;
	unsigned int	 i, naddr = 0;

	for (i = 0; i < sx.nconns; i++) {
		c = sx.conns[i];
		if (same_addr(&c->addr, ss)) {
			naddr++;
			if (conn_idle(c) && (best_addr == NULL ||
			    c->last < best_addr->last))
				best_addr = c;
		}
		if (conn_idle(c) && (best == NULL || c->last < best->last))
			best = c;
	}
	if (naddr >= sx.lim.maxperaddr)
		return best_addr != NULL ? best_addr : (struct conn *)-1;
	if (sx.nconns >= sx.lim.maxconns)
		return best != NULL ? best : (struct conn *)-1;
	return NULL;
}

/* accept(2) when the process is out of descriptors: the spare one makes
 * room to take the connection off the backlog and close it, so the
 * listener does not stay readable for ever.  Returns 1 when one was
 * shed, 0 when no descriptor could be freed for it. */
static int
shed_one(void)
{
	int	fd;

	if (sx.spare == -1)
		return 0;
	close(sx.spare);
	fd = accept4(sx.lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd != -1)
		close(fd);
	sx.spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	log_warnx("out of descriptors: a new connection was closed");
	return fd != -1;
}

/* Takes one connection off the backlog.  Returns 1 if there may be
 * more, 0 when the backlog is empty. */
static int
accept_one(void)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct conn		*c, *v;
	int			 fd, one = 1;

	fd = accept4(sx.lfd, (struct sockaddr *)&ss, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if ((errno == EMFILE || errno == ENFILE) && !shed_one()) {
			/* not even the spare: listen again a little later */
			sx.pause_until = now_ms() + SVCX_PAUSE_MS;
			return 0;
		}
		if (errno == EMFILE || errno == ENFILE)
			return 1;
		return errno == EINTR || errno == ECONNABORTED;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	v = victim(&ss);
	if (v == (struct conn *)-1) {
		log_debug("connection refused: every slot is busy");
		close(fd);
		return 1;
	}
	if (v != NULL)
		conn_close(v, "its place taken by a new connection");
	if ((c = conn_new(fd, &ss, len)) == NULL) {
		close(fd);
		return 1;
	}
	sx.conns[sx.nconns++] = c;
	return 1;
}

/* Closes c's socket and takes it out of the table; the struct goes with
 * its last reference. */
static void
conn_close(struct conn *c, const char *why)
{
	unsigned int	i;

	if (c->fd == -1)
		return;
	log_debug("connection %d closed: %s", c->fd, why);
	close(c->fd);
	c->fd = -1;
	for (i = 0; i < sx.nconns; i++)
		if (sx.conns[i] == c) {
			sx.conns[i] = sx.conns[--sx.nconns];
			break;
		}
	conn_unref(c);
}

/* --- output ----------------------------------------------------------- */

/* Writes what the socket takes.  Returns 0, or -1 when c was closed. */
static int
conn_flush(struct conn *c)
{
	ssize_t	n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			c->outoff += (size_t)n;
			c->last = now_ms();
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		conn_close(c, "cannot send");
		return -1;
	}
	c->outoff = c->outlen = 0;
	if (c->outcap > SVCX_INBUF_KEEP) {
		free(c->out);
		c->out = NULL;
		c->outcap = 0;
	}
	return 0;
}

/* Appends n bytes to c's queue.  Returns 0 or -1 (memory). */
static int
out_append(struct conn *c, const void *p, size_t n)
{
	unsigned char	*q;
	size_t		 cap;

	if (c->outoff > 0 && c->outlen + n > c->outcap) {
		memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
		c->outlen -= c->outoff;
		c->outoff = 0;
	}
	if (c->outlen + n > c->outcap) {
		cap = c->outcap ? c->outcap : SVCX_INBUF_MIN;
		while (cap < c->outlen + n)
			cap *= 2;
		if ((q = realloc(c->out, cap)) == NULL)
			return -1;
		c->out = q;
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, p, n);
	c->outlen += n;
	return 0;
}

/*
 * Encodes reply `msg` (xid already set) into sx.scratch after a 4-byte
 * record mark, growing the scratch up to the record limit.  Returns the
 * record's length, or 0 when it cannot be encoded.
 */
static size_t
encode_reply(struct conn *c, struct rpc_msg *msg, xdrproc_t xres,
    void *where)
{
	SVCAUTH		*auth = &SVC_XP_AUTH(&c->xprt);
	XDR		 x;
	size_t		 cap = sx.scratchcap ? sx.scratchcap : 65536;
	unsigned char	*p;
	uint32_t	 mark;
	bool_t		 ok;

	for (;;) {
		if (cap > sx.scratchcap) {
			if ((p = realloc(sx.scratch, cap)) == NULL)
				return 0;
			sx.scratch = p;
			sx.scratchcap = cap;
		}
		xdrmem_create(&x, (char *)sx.scratch + 4,
		    (u_int)(sx.scratchcap - 4), XDR_ENCODE);
		ok = xdr_replymsg(&x, msg);
		if (ok && xres != NULL)
			ok = auth->svc_ah_ops != NULL ?
			    SVCAUTH_WRAP(auth, &x, xres, where) :
			    xres(&x, where);
		if (ok)
			break;
		xdr_destroy(&x);
		/* a failed encode is a full buffer, or a value that cannot
		 * be encoded at any size: stop at a bound */
		if (cap >= 4 * (sx.lim.maxrec + 65536))
			return 0;
		cap *= 2;
	}
	mark = htonl(LAST_FRAG | XDR_GETPOS(&x));
	memcpy(sx.scratch, &mark, 4);
	xdr_destroy(&x);
	return 4 + (ntohl(mark) & ~LAST_FRAG);
}

/* --- the SVCXPRT's ops ------------------------------------------------ */

static bool_t
x_recv(SVCXPRT *xprt, struct rpc_msg *msg)
{
	(void)xprt;
	(void)msg;
	return FALSE;		/* svcx reads; nothing calls this */
}

static enum xprt_stat
x_stat(SVCXPRT *xprt)
{
	struct conn	*c = conn_of(xprt);

	return c == NULL || c->fd == -1 ? XPRT_DIED : XPRT_IDLE;
}

static bool_t
x_getargs(SVCXPRT *xprt, xdrproc_t xargs, void *where)
{
	struct conn	*c = conn_of(xprt);
	SVCAUTH		*auth;

	if (c == NULL)
		return FALSE;
	auth = &SVC_XP_AUTH(xprt);
	if (auth->svc_ah_ops != NULL)
		return SVCAUTH_UNWRAP(auth, &c->xdrs, xargs, where);
	return xargs(&c->xdrs, where);
}

static bool_t
x_freeargs(SVCXPRT *xprt, xdrproc_t xargs, void *where)
{
	XDR	x;

	(void)xprt;
	x.x_op = XDR_FREE;
	return xargs(&x, where);
}

/*
 * Queues a reply with the xid of the request being served (or of the
 * held one svcx_reply_held() put in c->xid) and writes what the socket
 * takes.  Returns TRUE when queued.
 */
static bool_t
x_reply(SVCXPRT *xprt, struct rpc_msg *msg)
{
	struct conn	*c = conn_of(xprt);
	xdrproc_t	 xres = NULL;
	void		*where = NULL;
	size_t		 n;

	if (c == NULL || c->fd == -1)
		return FALSE;
	if (msg->rm_reply.rp_stat == MSG_ACCEPTED &&
	    msg->rm_reply.rp_acpt.ar_stat == SUCCESS) {
		xres = msg->acpted_rply.ar_results.proc;
		where = msg->acpted_rply.ar_results.where;
		msg->acpted_rply.ar_results.proc = XDR_VOID;
		msg->acpted_rply.ar_results.where = NULL;
	}
	msg->rm_xid = c->xid;
	n = encode_reply(c, msg, xres, where);
	if (n == 0) {
		log_warnx("cannot encode a reply");
		return FALSE;
	}
	if (out_append(c, sx.scratch, n) != 0) {
		conn_close(c, "out of memory for a reply");
		return FALSE;
	}
	(void)conn_flush(c);
	return TRUE;
}

static void
x_destroy(SVCXPRT *xprt)
{
	struct conn	*c = conn_of(xprt);

	if (c != NULL)
		conn_close(c, "destroyed");
}

static bool_t
x_control(SVCXPRT *xprt, const u_int rq, void *in)
{
	(void)xprt;
	(void)rq;
	(void)in;
	return FALSE;
}

/* --- input ------------------------------------------------------------ */

/*
 * Joins what was read into the record: cuts out fragment marks and moves
 * fragment bytes down to in[rec_len].  Sets c->ready when a whole record
 * is there.  Returns 0, or -1 when the record breaks the limit (c is
 * then closed).
 */
static int
parse(struct conn *c)
{
	uint32_t	mark;
	size_t		n;

	while (!c->ready) {
		if (!c->in_frag) {
			if (c->inlen - c->pos < 4)
				return 0;
			memcpy(&mark, c->in + c->pos, 4);
			mark = ntohl(mark);
			c->pos += 4;
			c->frag_left = mark & ~LAST_FRAG;
			c->last_frag = (mark & LAST_FRAG) != 0;
			c->in_frag = 1;
			if (c->rec_len + c->frag_left > sx.lim.maxrec) {
				conn_close(c, "request over the size limit");
				return -1;
			}
		}
		n = c->inlen - c->pos;
		if (n > c->frag_left)
			n = c->frag_left;
		if (n > 0 && c->pos != c->rec_len)
			memmove(c->in + c->rec_len, c->in + c->pos, n);
		c->rec_len += n;
		c->pos += n;
		c->frag_left -= n;
		if (c->frag_left > 0)
			return 0;
		c->in_frag = 0;
		if (c->last_frag)
			c->ready = 1;
	}
	return 0;
}

/* Drops the served record from c's buffer, keeping what follows it. */
static void
consume(struct conn *c)
{
	memmove(c->in, c->in + c->pos, c->inlen - c->pos);
	c->inlen -= c->pos;
	c->pos = c->rec_len = 0;
	c->ready = 0;
	c->rec_start = c->inlen > 0 ? now_ms() : 0;
	if (c->inlen == 0 && c->incap > SVCX_INBUF_KEEP) {
		free(c->in);
		c->in = NULL;
		c->incap = 0;
	}
}

/* Reads what is there, at most SVCX_READ_MAX.  Returns 0, or -1 when c
 * was closed (hang-up, error). */
static int
conn_read(struct conn *c)
{
	size_t		 maxcap = sx.lim.maxrec + 2 * SVCX_INBUF_MIN, cap;
	unsigned char	*p;
	ssize_t		 n;

	if (c->inlen == c->incap && c->pos > c->rec_len) {
		/* the marks cut out of the record leave a gap: close it */
		memmove(c->in + c->rec_len, c->in + c->pos, c->inlen - c->pos);
		c->inlen -= c->pos - c->rec_len;
		c->pos = c->rec_len;
	}
	if (c->inlen == c->incap) {
		cap = c->incap ? c->incap * 2 : SVCX_INBUF_MIN;
		if (cap > maxcap)
			cap = maxcap;
		if (cap == c->incap)
			return 0;	/* full: parse() makes room */
		if ((p = realloc(c->in, cap)) == NULL) {
			conn_close(c, "out of memory for a request");
			return -1;
		}
		c->in = p;
		c->incap = cap;
	}
	n = read(c->fd, c->in + c->inlen, c->incap - c->inlen > SVCX_READ_MAX ?
	    SVCX_READ_MAX : c->incap - c->inlen);
	if (n == 0) {
		conn_close(c, "client hung up");
		return -1;
	}
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		conn_close(c, "cannot read");
		return -1;
	}
	if (c->inlen == 0)
		c->rec_start = now_ms();
	c->inlen += (size_t)n;
	c->last = now_ms();
	return parse(c);
}

/* Answers a call of another RPC version than 2 (RFC 5531 RPC_MISMATCH). */
static void
reply_rpc_mismatch(struct conn *c)
{
	struct rpc_msg	rply;

	memset(&rply, 0, sizeof(rply));
	rply.rm_direction = REPLY;
	rply.rm_reply.rp_stat = MSG_DENIED;
	rply.rjcted_rply.rj_stat = RPC_MISMATCH;
	rply.rjcted_rply.rj_vers.low = RPC_MSG_VERSION;
	rply.rjcted_rply.rj_vers.high = RPC_MSG_VERSION;
	(void)x_reply(&c->xprt, &rply);
}

/*
 * Serves the record in c->in[0..rec_len): header, authentication, the
 * dispatcher (as svc_getreq_common() would).  A record that is not a
 * call closes the connection: there is no xid to answer.
 */
static void
serve_record(struct conn *c)
{
	char		cred[SVCX_CRED_AREA];
	struct rpc_msg	msg;
	struct svc_req	r;
	enum auth_stat	why;
	uint32_t	word[3];

	if (c->rec_len >= 12) {
		memcpy(word, c->in, sizeof(word));
		if (ntohl(word[1]) == CALL && ntohl(word[2]) !=
		    RPC_MSG_VERSION) {
			c->xid = ntohl(word[0]);
			reply_rpc_mismatch(c);
			return;
		}
	}
	memset(&msg, 0, sizeof(msg));
	msg.rm_call.cb_cred.oa_base = cred;
	msg.rm_call.cb_verf.oa_base = &cred[MAX_AUTH_BYTES];
	xdrmem_create(&c->xdrs, (char *)c->in, (u_int)c->rec_len, XDR_DECODE);
	if (!xdr_callmsg(&c->xdrs, &msg) || msg.rm_direction != CALL) {
		conn_close(c, "not an RPC call");
		return;
	}
	c->xid = msg.rm_xid;
	memset(&r, 0, sizeof(r));
	r.rq_xprt = &c->xprt;
	r.rq_prog = msg.rm_call.cb_prog;
	r.rq_vers = msg.rm_call.cb_vers;
	r.rq_proc = msg.rm_call.cb_proc;
	r.rq_cred = msg.rm_call.cb_cred;
	r.rq_clntcred = &cred[2 * MAX_AUTH_BYTES];
	c->xprt.xp_verf = _null_auth;
	memset(&c->ext, 0, sizeof(c->ext));
	if ((why = _authenticate(&r, &msg)) != AUTH_OK)
		svcerr_auth(&c->xprt, why);
	else if (r.rq_prog != sx.prog)
		svcerr_noprog(&c->xprt);
	else if (r.rq_vers != sx.vers)
		svcerr_progvers(&c->xprt, sx.vers, sx.vers);
	else
		sx.dispatch(&r, &c->xprt);
	xdr_destroy(&c->xdrs);
}

/* Serves up to SVCX_BATCH whole records of c while its unread replies
 * stay under SVCX_OUT_LOWAT.  Returns 0, or -1 when c was closed. */
static int
serve(struct conn *c)
{
	int	n;

	for (n = 0; n < SVCX_BATCH && c->ready && !c->parked &&
	    c->outlen - c->outoff <= SVCX_OUT_LOWAT; n++) {
		serve_record(c);
		if (c->fd == -1)
			return -1;
		if (c->parked)
			break;	/* served again by svcx_resume() */
		consume(c);
		if (parse(c) != 0)
			return -1;
	}
	return 0;
}

/* Closes c if its time is up. */
static void
expire(struct conn *c, unsigned long long now)
{
	if (c->nheld > 0)
		return;
	if (c->outlen > c->outoff) {
		if (now - c->last >= sx.lim.stall_ms)
			conn_close(c, "its client reads no replies");
	} else if (c->inlen > 0) {
		if (now - c->rec_start >= sx.lim.stall_ms)
			conn_close(c, "request not completed in time");
	} else if (now - c->last >= sx.lim.idle_ms)
		conn_close(c, "idle");
}

/* When c's time is up, in ms from now (0: already); -1: never. */
static long long
deadline(const struct conn *c, unsigned long long now)
{
	unsigned long long	at;

	if (c->nheld > 0)
		return -1;
	if (c->outlen > c->outoff)
		at = c->last + sx.lim.stall_ms;
	else if (c->inlen > 0)
		at = c->rec_start + sx.lim.stall_ms;
	else
		at = c->last + sx.lim.idle_ms;
	return at > now ? (long long)(at - now) : 0;
}

/* --- the loop's interface --------------------------------------------- */

int
svcx_init(int lfd, rpcprog_t prog, rpcvers_t vers,
    void (*dispatch)(struct svc_req *, SVCXPRT *),
    const struct svcx_limits *lim)
{
	struct rlimit	rl;
	int		fl;

	sx.lfd = lfd;
	sx.prog = prog;
	sx.vers = vers;
	sx.dispatch = dispatch;
	sx.lim = *lim;
	if (sx.lim.maxconns == 0)
		sx.lim.maxconns = SVCX_MAXCONNS;
	if (sx.lim.maxperaddr == 0)
		sx.lim.maxperaddr = sx.lim.maxconns;
	if (sx.lim.idle_ms == 0)
		sx.lim.idle_ms = SVCX_IDLE_MS;
	if (sx.lim.stall_ms == 0)
		sx.lim.stall_ms = SVCX_STALL_MS;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		if (rl.rlim_cur <= SVCX_FD_RESERVE + 1)
			sx.lim.maxconns = 1;
		else if (rl.rlim_cur - SVCX_FD_RESERVE < sx.lim.maxconns)
			sx.lim.maxconns = (unsigned int)(rl.rlim_cur -
			    SVCX_FD_RESERVE);
	}
	sx.conns = calloc(sx.lim.maxconns, sizeof(*sx.conns));
	fl = fcntl(lfd, F_GETFL);
	if (sx.conns == NULL || fl == -1 ||
	    fcntl(lfd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	sx.spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return 0;
}

void
svcx_release(void)
{
	while (sx.nconns > 0)
		conn_close(sx.conns[sx.nconns - 1], "shutting down");
	free(sx.conns);
	sx.conns = NULL;
	free(sx.scratch);
	sx.scratch = NULL;
	sx.scratchcap = 0;
	if (sx.spare != -1)
		close(sx.spare);
	sx.spare = -1;
	sx.lfd = -1;
}

unsigned int
svcx_nconns(void)
{
	return sx.nconns;
}

int
svcx_pollset(struct pollfd **pfd, size_t *cap, size_t at)
{
	struct pollfd	*p;
	struct conn	*c;
	size_t		 need = at + 1 + sx.nconns;
	unsigned int	 i;

	if (sx.lfd == -1)
		return 0;
	if (need > *cap) {
		if ((p = realloc(*pfd, need * sizeof(*p))) == NULL)
			return -1;
		*pfd = p;
		*cap = need;
	}
	p = *pfd + at;
	p[0].fd = sx.lfd;
	p[0].events = now_ms() >= sx.pause_until ? POLLIN : 0;
	p[0].revents = 0;
	for (i = 0; i < sx.nconns; i++) {
		c = sx.conns[i];
		p[1 + i].fd = c->fd;
		p[1 + i].events = 0;
		p[1 + i].revents = 0;
		/* a client with unread replies is not read from */
		if (c->outlen - c->outoff <= SVCX_OUT_LOWAT && !c->ready)
			p[1 + i].events |= POLLIN;
		if (c->outlen > c->outoff)
			p[1 + i].events |= POLLOUT;
	}
	return (int)(1 + sx.nconns);
}

int
svcx_timeout(void)
{
	unsigned long long	now = now_ms();
	long long		t, best = -1;
	unsigned int		i;

	if (sx.pause_until > now)
		best = (long long)(sx.pause_until - now);
	for (i = 0; i < sx.nconns; i++) {
		if (sx.conns[i]->ready && !sx.conns[i]->parked &&
		    sx.conns[i]->outlen - sx.conns[i]->outoff <=
		    SVCX_OUT_LOWAT)
			return 0;
		t = deadline(sx.conns[i], now);
		if (t >= 0 && (best < 0 || t < best))
			best = t;
	}
	return best > INT32_MAX ? INT32_MAX : (int)best;
}

/* Handles one connection's events: write, read, serve.  c is held by a
 * reference meanwhile. */
static void
conn_events(struct conn *c, short revents)
{
	c->refs++;
	if ((revents & POLLOUT) != 0)
		(void)conn_flush(c);
	if (c->fd != -1 && (revents & (POLLIN | POLLHUP | POLLERR)) != 0)
		(void)conn_read(c);
	if (c->fd != -1)
		(void)serve(c);
	conn_unref(c);
}

void
svcx_run(const struct pollfd *pfd, int n)
{
	struct conn		**snap;
	unsigned long long	  now;
	unsigned int		  i, m;

	if (n <= 0)
		return;
	/* the table changes as connections close: work on a copy, each
	 * entry referenced, so none is freed under us */
	m = (unsigned int)n - 1;
	snap = m > 0 ? malloc(m * sizeof(*snap)) : NULL;
	if (m > 0 && snap == NULL)
		return;
	for (i = 0; i < m; i++) {
		snap[i] = sx.conns[i];
		snap[i]->refs++;
	}
	for (i = 0; i < m; i++) {
		if (snap[i]->fd != -1 && (pfd[1 + i].revents != 0 ||
		    (snap[i]->ready && !snap[i]->parked)))
			conn_events(snap[i], pfd[1 + i].revents);
	}
	now = now_ms();
	for (i = 0; i < m; i++) {
		if (snap[i]->fd != -1)
			expire(snap[i], now);
		conn_unref(snap[i]);
	}
	free(snap);
	if ((pfd[0].revents & POLLIN) != 0)
		for (i = 0; i < 64 && accept_one(); i++)
			;
}

/* --- held replies ----------------------------------------------------- */

struct svcx_held *
svcx_hold(struct svc_req *rq)
{
	struct svcx_held	*h;
	struct conn		*c;

	if (rq == NULL || rq->rq_xprt == NULL ||
	    (c = conn_of(rq->rq_xprt)) == NULL || c->fd == -1)
		return NULL;
	if ((h = malloc(sizeof(*h))) == NULL)
		return NULL;
	h->c = c;
	h->xid = c->xid;
	h->park = 0;
	c->refs++;
	c->nheld++;
	return h;
}

/* --- parked requests -------------------------------------------------- */

struct svcx_held *
svcx_park(struct svc_req *rq)
{
	struct svcx_held	*h;

	if ((h = svcx_hold(rq)) == NULL)
		return NULL;
	h->park = 1;
	h->c->parked = 1;
	return h;
}

void *
svcx_resumed(struct svc_req *rq)
{
	struct conn	*c;
	void		*data;

	if (rq == NULL || rq->rq_xprt == NULL ||
	    (c = conn_of(rq->rq_xprt)) == NULL)
		return NULL;
	data = c->resume_data;
	c->resume_data = NULL;
	return data;
}

int
svcx_resume(struct svcx_held *h, void *data)
{
	struct conn	*c = h->c;
	int		 served = 0;

	c->refs++;
	if (c->fd != -1 && c->parked) {
		c->parked = 0;
		c->resume_data = data;
		serve_record(c);
		served = c->resume_data == NULL;
		c->resume_data = NULL;
		/* served for good unless parked again; what follows it is
		 * served by the loop's next round */
		if (c->fd != -1 && !c->parked) {
			consume(c);
			(void)parse(c);
		}
	}
	h->park = 0;
	svcx_drop_held(h);
	conn_unref(c);
	return served;
}

int
svcx_held_alive(const struct svcx_held *h)
{
	return h->c->fd != -1;
}

const SVCXPRT *
svcx_held_xprt(const struct svcx_held *h)
{
	return &h->c->xprt;
}

void
svcx_drop_held(struct svcx_held *h)
{
	if (h == NULL)
		return;
	if (h->park)
		h->c->parked = 0;	/* served again next round */
	h->c->nheld--;
	h->c->last = now_ms();
	conn_unref(h->c);
	free(h);
}

int
svcx_reply_held(struct svcx_held *h, xdrproc_t xres, void *res)
{
	struct conn	*c = h->c;
	uint32_t	 xid = c->xid;
	int		 ok = 0;

	if (c->fd != -1) {
		/* ORDER: x_reply() answers with c->xid */
		c->xid = h->xid;
		ok = svc_sendreply(&c->xprt, xres, res);
		c->xid = xid;
	}
	svcx_drop_held(h);
	return ok;
}

/* --- svcx.h's calls on any transport: this half (svcx_impl.h) --------- */

/* xp_p2 keeps a connection's id: svcx's connections leave it unused */
_Static_assert(sizeof(void *) >= sizeof(uint64_t),
    "a connection id does not fit xp_p2");

int
svcx_own_id(SVCXPRT *xprt, uint64_t *id)
{
	if (conn_of(xprt) == NULL)
		return -1;
	/* given at the first ask, so conn_new() need not know of it */
	if (xprt->xp_p2 == NULL)
		xprt->xp_p2 = (void *)(uintptr_t)svcx_next_id();
	*id = (uint64_t)(uintptr_t)xprt->xp_p2;
	return 0;
}

int
svcx_own_alive(SVCXPRT *xprt)
{
	struct conn	*c = conn_of(xprt);

	return c == NULL ? -1 : c->fd != -1;
}

int
svcx_own_open(uint64_t id)
{
	unsigned int	i;

	/* a closed connection leaves the table, even while held */
	for (i = 0; i < sx.nconns; i++)
		if ((uint64_t)(uintptr_t)sx.conns[i]->xprt.xp_p2 == id)
			return 1;
	return 0;
}

/* Appends `len` bytes of file fd at `off`, and `pad` zeros, to c's
 * queue.  Returns 0, or -1 (the file ended or failed; memory). */
static int
out_append_fd(struct conn *c, int fd, off_t off, u_int len, int pad)
{
	static const char	zeros[4];
	char			buf[65536];
	ssize_t			n;

	while (len > 0) {
		n = pread(fd, buf, len < sizeof(buf) ? len : sizeof(buf), off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0 || out_append(c, buf, (size_t)n) != 0)
			return -1;
		off += n;
		len -= (u_int)n;
	}
	return pad > 0 ? out_append(c, zeros, (size_t)pad) : 0;
}

/*
 * svcx_reply_fd() on a connection of svcx's: the head is encoded as any
 * reply (x_reply()), then the file's bytes are read into the queue,
 * which is written without blocking as usual.
 */
int
svcx_own_reply_fd(SVCXPRT *xprt, xdrproc_t xres, void *res, int fd,
    off_t off, u_int len)
{
	struct conn	*c = conn_of(xprt);
	struct rpc_msg	 msg;
	size_t		 n;
	int		 pad;

	if (c == NULL)
		return -1;
	if (c->fd == -1)
		return 0;
	/* ORDER: encode_reply() adds the results after the header */
	svcx_fd_msg(&msg, xprt, c->xid, XDR_VOID, NULL);
	n = encode_reply(c, &msg, xres, res);
	pad = n > 0 && n - 4 <= SVCX_FD_HDRMAX ?
	    svcx_fd_patch(sx.scratch, n, len) : -1;
	if (pad == -1) {
		log_warnx("cannot encode a reply");
		return 0;
	}
	if (out_append(c, sx.scratch, n) != 0 ||
	    out_append_fd(c, fd, off, len, pad) != 0) {
		conn_close(c, "cannot queue a reply from a file");
		return 0;
	}
	(void)conn_flush(c);
	return 1;
}
