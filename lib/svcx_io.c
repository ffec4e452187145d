/*
 * svcx_io.c -- the bytes of svcx's own connections: reading requests
 * and joining their fragments into records, serving a record through
 * libtirpc's authentication and the program's dispatcher, the SVCXPRT
 * ops the dispatcher replies through, and queuing and writing replies,
 * all without blocking.
 *
 * The bounds that drive it (svcx.c tells why): a connection's input
 * buffer grows with the bytes that arrive, never with what a record
 * mark announces, up to the record limit plus a little; at most
 * SVCX_BATCH records of a connection are served per round; past
 * SVCX_OUT_LOWAT unread reply bytes its requests are not read any more.
 */
#include <sys/socket.h>

#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rpc/rpc.h>
#include <rpc/svc_auth.h>

#include "log.h"
#include "rpcc.h"
#include "svcloop.h"
#include "svcx.h"
#include "svcx_impl.h"

static bool_t	x_recv(SVCXPRT *, struct rpc_msg *);
static enum xprt_stat x_stat(SVCXPRT *);
static bool_t	x_getargs(SVCXPRT *, xdrproc_t, void *);
static bool_t	x_reply(SVCXPRT *, struct rpc_msg *);
static bool_t	x_freeargs(SVCXPRT *, xdrproc_t, void *);
static void	x_destroy(SVCXPRT *);
static bool_t	x_control(SVCXPRT *, const u_int, void *);

const struct xp_ops	sx_conn_ops = { x_recv, x_stat, x_getargs,
    x_reply, x_freeargs, x_destroy };
const struct xp_ops2	sx_conn_ops2 = { x_control };

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
		sx_conn_close(c, "cannot send");
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
	mark = htonl(SVCX_LAST_FRAG | XDR_GETPOS(&x));
	memcpy(sx.scratch, &mark, 4);
	xdr_destroy(&x);
	return 4 + (ntohl(mark) & ~SVCX_LAST_FRAG);
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
	struct conn	*c = sx_conn_of(xprt);

	return c == NULL || c->fd == -1 ? XPRT_DIED : XPRT_IDLE;
}

static bool_t
x_getargs(SVCXPRT *xprt, xdrproc_t xargs, void *where)
{
	struct conn	*c = sx_conn_of(xprt);
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
	struct conn	*c = sx_conn_of(xprt);
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
		sx_conn_close(c, "out of memory for a reply");
		return FALSE;
	}
	(void)conn_flush(c);
	return TRUE;
}

static void
x_destroy(SVCXPRT *xprt)
{
	struct conn	*c = sx_conn_of(xprt);

	if (c != NULL)
		sx_conn_close(c, "destroyed");
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
int
sx_parse(struct conn *c)
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
			c->frag_left = mark & ~SVCX_LAST_FRAG;
			c->last_frag = (mark & SVCX_LAST_FRAG) != 0;
			c->in_frag = 1;
			if (c->rec_len + c->frag_left > sx.lim.maxrec) {
				sx_conn_close(c, "request over the size limit");
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
void
sx_consume(struct conn *c)
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
			return 0;	/* full: sx_parse() makes room */
		if ((p = realloc(c->in, cap)) == NULL) {
			sx_conn_close(c, "out of memory for a request");
			return -1;
		}
		c->in = p;
		c->incap = cap;
	}
	n = read(c->fd, c->in + c->inlen, c->incap - c->inlen > SVCX_READ_MAX ?
	    SVCX_READ_MAX : c->incap - c->inlen);
	if (n == 0) {
		sx_conn_close(c, "client hung up");
		return -1;
	}
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		sx_conn_close(c, "cannot read");
		return -1;
	}
	if (c->inlen == 0)
		c->rec_start = now_ms();
	c->inlen += (size_t)n;
	c->last = now_ms();
	return sx_parse(c);
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
void
sx_serve_record(struct conn *c)
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
		sx_conn_close(c, "not an RPC call");
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
		sx_serve_record(c);
		if (c->fd == -1)
			return -1;
		if (c->parked)
			break;	/* served again by svcx_resume() */
		sx_consume(c);
		if (sx_parse(c) != 0)
			return -1;
	}
	return 0;
}

/* --- a connection's round --------------------------------------------- */

/* Handles one connection's events: write, read, serve.  c is held by a
 * reference meanwhile. */
void
sx_conn_events(struct conn *c, short revents)
{
	c->refs++;
	if ((revents & POLLOUT) != 0)
		(void)conn_flush(c);
	if (c->fd != -1 && (revents & (POLLIN | POLLHUP | POLLERR)) != 0)
		(void)conn_read(c);
	if (c->fd != -1)
		(void)serve(c);
	sx_conn_unref(c);
}

/* --- replies from a file (svcx_impl.h) -------------------------------- */

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
	struct conn	*c = sx_conn_of(xprt);
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
		sx_conn_close(c, "cannot queue a reply from a file");
		return 0;
	}
	(void)conn_flush(c);
	return 1;
}
