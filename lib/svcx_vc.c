/*
 * svcx_vc.c -- the svcx module's calls on libtirpc's own stream
 * transports (svc_vc), and the calls of svcx.h that work on both kinds
 * of transport.
 *
 * dfs-filed's workers serve a connection with svc_fd_create() and
 * svc_getreq_common(), in blocking mode, one process per connection.
 * libtirpc keeps a request's xid to itself, so svcx_vc_attach() gives
 * the transport a copy of its xp_ops whose recv notes it (and whose
 * destroy frees the copy): a reply svcx writes itself, such as one
 * whose body comes from a file, carries it.  Writing to the socket is
 * safe between libtirpc's replies: svc_vc flushes each one whole
 * before the dispatcher returns, and the process serves nothing else.
 * The assumptions, and the libtirpc version they were checked against,
 * are listed in svcx.h.
 */
#include <sys/sendfile.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bytes.h"
#include "log.h"
#include "svcx.h"
#include "svcx_impl.h"

/* An attached transport: its ops are `ops`, a copy of `orig` with recv
 * and destroy wrapped. */
struct vcx {
	struct xp_ops		 ops;
	const struct xp_ops	*orig;
	uint64_t		 id;
	uint32_t		 xid;		/* of the request last read */
	struct vcx		*next;		/* attached, of this process */
};

static uint64_t		 last_id;
static struct vcx	*attached;

static bool_t	vc_recv(SVCXPRT *, struct rpc_msg *);

uint64_t
svcx_next_id(void)
{
	return ++last_id;
}

/* Returns xprt's attachment, or NULL when it has none. */
static struct vcx *
vcx_of(SVCXPRT *xprt)
{
	if (xprt == NULL || xprt->xp_ops == NULL ||
	    xprt->xp_ops->xp_recv != vc_recv)
		return NULL;
	return (struct vcx *)(void *)((char *)(uintptr_t)xprt->xp_ops -
	    offsetof(struct vcx, ops));
}

static bool_t
vc_recv(SVCXPRT *xprt, struct rpc_msg *msg)
{
	struct vcx	*v = vcx_of(xprt);
	bool_t		 ok;

	ok = v->orig->xp_recv(xprt, msg);
	if (ok)
		v->xid = msg->rm_xid;
	return ok;
}

static void
vc_destroy(SVCXPRT *xprt)
{
	struct vcx	*v = vcx_of(xprt), **pp;

	for (pp = &attached; *pp != v; pp = &(*pp)->next)
		;
	*pp = v->next;
	/* ORDER: libtirpc's destroy sees its own ops; ours go after it */
	xprt->xp_ops = v->orig;
	v->orig->xp_destroy(xprt);
	free(v);
}

int
svcx_vc_attach(SVCXPRT *xprt)
{
	struct vcx	*v;

	if (vcx_of(xprt) != NULL)
		return 0;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return -1;
	v->orig = xprt->xp_ops;
	v->ops = *v->orig;
	v->ops.xp_recv = vc_recv;
	v->ops.xp_destroy = vc_destroy;
	v->id = svcx_next_id();
	v->next = attached;
	attached = v;
	xprt->xp_ops = &v->ops;
	return 0;
}

uint64_t
svcx_conn_id(SVCXPRT *xprt)
{
	struct vcx	*v;
	uint64_t	 id;

	if (xprt != NULL && svcx_own_id(xprt, &id) == 0)
		return id;
	v = vcx_of(xprt);
	return v != NULL ? v->id : 0;
}

int
svcx_alive(SVCXPRT *xprt)
{
	int	rc;

	if (xprt == NULL)
		return 0;
	if ((rc = svcx_own_alive(xprt)) != -1)
		return rc;
	return vcx_of(xprt) != NULL && SVC_STAT(xprt) != XPRT_DIED;
}

int
svcx_conn_open(uint64_t id)
{
	struct vcx	*v;

	if (id == 0)
		return 0;
	for (v = attached; v != NULL; v = v->next)
		if (v->id == id)
			return 1;
	return svcx_own_open(id);
}

int
svcx_can_reply_fd(SVCXPRT *xprt)
{
	if (xprt == NULL || xprt->xp_verf.oa_flavor == RPCSEC_GSS)
		return 0;
	return svcx_own_alive(xprt) != -1 || vcx_of(xprt) != NULL;
}

/* --- replies from a file ---------------------------------------------- */

void
svcx_fd_msg(struct rpc_msg *msg, SVCXPRT *xprt, uint32_t xid,
    xdrproc_t xres, void *res)
{
	memset(msg, 0, sizeof(*msg));
	msg->rm_xid = xid;
	msg->rm_direction = REPLY;
	msg->rm_reply.rp_stat = MSG_ACCEPTED;
	msg->acpted_rply.ar_verf = xprt->xp_verf;
	msg->acpted_rply.ar_stat = SUCCESS;
	msg->acpted_rply.ar_results.where = (caddr_t)res;
	msg->acpted_rply.ar_results.proc = xres;
}

int
svcx_fd_patch(unsigned char *rec, size_t n, u_int len)
{
	u_int	pad = (4 - len % 4) % 4;

	/* the mark, the xid, REPLY, MSG_ACCEPTED... and the opaque's 0 */
	if (n < 4 + 24 + 4 || be32_get(rec + n - 4) != 0)
		return -1;
	be32_put(rec + n - 4, len);
	be32_put(rec, SVCX_LAST_FRAG | (uint32_t)(n - 4 + len + pad));
	return (int)pad;
}

/* send(2) of all `len` bytes.  Returns 0 or -1 (errno set). */
static int
send_all(int sock, const void *buf, size_t len, int flags)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = send(sock, p, len, flags | MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* sendfile(2) of `len` bytes at `off`.  Returns 0 or -1 (errno set; EIO
 * when the file ended first). */
static int
sendfile_all(int sock, int fd, off_t off, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = sendfile(sock, fd, &off, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		len -= (size_t)n;
	}
	return 0;
}

/* svcx_reply_fd() on an attached transport: one record of one fragment,
 * its head from a small buffer, its body with sendfile(2). */
static int
vc_reply_fd(SVCXPRT *xprt, struct vcx *v, xdrproc_t xres, void *res,
    int fd, off_t off, u_int len)
{
	static const char	zeros[4];
	unsigned char		buf[4 + SVCX_FD_HDRMAX];
	struct rpc_msg		msg;
	XDR			x;
	bool_t			ok;
	u_int			n = 0;
	int			pad = -1;

	svcx_fd_msg(&msg, xprt, v->xid, xres, res);
	xdrmem_create(&x, (char *)buf + 4, SVCX_FD_HDRMAX, XDR_ENCODE);
	ok = xdr_replymsg(&x, &msg);
	if (ok) {
		n = 4 + xdr_getpos(&x);
		pad = svcx_fd_patch(buf, n, len);
	}
	xdr_destroy(&x);
	if (pad == -1)
		log_warnx("cannot encode a reply");
	else if (send_all(xprt->xp_fd, buf, n, MSG_MORE) == -1 ||
	    sendfile_all(xprt->xp_fd, fd, off, len) == -1 ||
	    (pad > 0 && send_all(xprt->xp_fd, zeros, (size_t)pad, 0) == -1))
		log_debug("cannot send a reply: %s", strerror(errno));
	else
		return 1;
	/* part of a record may have gone out: nothing more can follow */
	(void)shutdown(xprt->xp_fd, SHUT_RDWR);
	return 0;
}

int
svcx_reply_fd(SVCXPRT *xprt, xdrproc_t xres, void *res, int fd, off_t off,
    u_int len)
{
	struct vcx	*v;
	int		 rc;

	if ((rc = svcx_own_reply_fd(xprt, xres, res, fd, off, len)) != -1)
		return rc;
	if ((v = vcx_of(xprt)) == NULL)
		return 0;
	return vc_reply_fd(xprt, v, xres, res, fd, off, len);
}
