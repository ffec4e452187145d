/*
 * sendread.c -- READ replies straight from the version file.
 *
 * Through libtirpc, a READ's bytes were copied three times in dfs-filed:
 * pread(2) into a buffer, XDR into libtirpc's record buffer, write(2)
 * into the socket.  For a COMPOUND of one READ (what clients send for
 * file data), the connection process writes the reply itself: the
 * record mark, the RPC reply header and the READ result up to its data
 * length (XDR into a small buffer), then the bytes with sendfile(2) from
 * the page cache, then the XDR padding: one record of one fragment, as
 * any ONC RPC client reads it.
 *
 * libtirpc keeps the request's xid to itself; a copy of the
 * connection's xp_ops whose recv notes it (as server/name/group.c wraps
 * its connections) tells us which xid to answer.  The connection is
 * served in blocking mode by this process alone, and libtirpc flushes
 * every reply whole, so its output buffer is empty between requests and
 * writing to the socket there is safe.
 */
#include <sys/sendfile.h>
#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "bytes.h"
#include "filed.h"
#include "log.h"

/* Room for the record mark, the reply header (24 bytes with a null
 * verifier) and a one-op COMPOUND's READ result up to its data length. */
#define SENDREAD_HDRMAX	128

static SVCXPRT			*attached;
static const struct xp_ops	*conn_ops;	/* the connection's own */
static struct xp_ops		 noting_ops;	/* conn_ops, two wrapped */
static uint32_t			 last_xid;

static bool_t
noting_recv(SVCXPRT *xprt, struct rpc_msg *msg)
{
	bool_t	ok;

	ok = conn_ops->xp_recv(xprt, msg);
	if (ok)
		last_xid = msg->rm_xid;
	return ok;
}

static void
noting_destroy(SVCXPRT *xprt)
{
	if (xprt == attached)
		attached = NULL;
	conn_ops->xp_destroy(xprt);
}

void
sendread_attach(SVCXPRT *xprt)
{
	conn_ops = xprt->xp_ops;
	noting_ops = *conn_ops;
	noting_ops.xp_recv = noting_recv;
	noting_ops.xp_destroy = noting_destroy;
	xprt->xp_ops = &noting_ops;
	attached = xprt;
}

int
sendread_ok(const SVCXPRT *xprt)
{
	return xprt != NULL && xprt == attached;
}

/* send(2) of all `len` bytes.  Returns 0 or -1 (errno set). */
static int
send_all(int sock, const char *buf, size_t len, int flags)
{
	ssize_t	n;

	while (len > 0) {
		n = send(sock, buf, len, flags | MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* sendfile(2) of `len` bytes at `off`.  Returns 0 or -1 (errno set; EIO
 * when the file ended first, which an immutable version never does). */
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

/* Encodes the record mark and the reply up to the READ's data (its
 * length included) into buf.  Returns the bytes used, or 0. */
static size_t
encode_head(char *buf, size_t cap, file_compound_res *res, u_int n,
    u_int pad)
{
	read_ok		*ok = &res->res.res_val[0].file_resop_u.read.
			    read_res_u.ok;
	struct rpc_msg	 msg;
	XDR		 x;
	u_int		 hlen;
	bool_t		 done;

	memset(&msg, 0, sizeof(msg));
	msg.rm_xid = last_xid;
	msg.rm_direction = REPLY;
	msg.rm_reply.rp_stat = MSG_ACCEPTED;
	msg.acpted_rply.ar_verf = _null_auth;
	msg.acpted_rply.ar_stat = SUCCESS;
	msg.acpted_rply.ar_results.where = (caddr_t)res;
	msg.acpted_rply.ar_results.proc = (xdrproc_t)xdr_file_compound_res;
	/* ORDER: no bytes now; the length, last, is patched below */
	ok->data.data_len = 0;
	xdrmem_create(&x, buf + 4, (u_int)cap - 4, XDR_ENCODE);
	done = xdr_replymsg(&x, &msg);
	hlen = xdr_getpos(&x);
	xdr_destroy(&x);
	ok->data.data_len = n;
	if (!done || hlen < 4)
		return 0;
	be32_put((unsigned char *)buf + 4 + hlen - 4, n);
	be32_put((unsigned char *)buf, 0x80000000u | (hlen + n + pad));
	return 4 + (size_t)hlen;
}

void
sendread(SVCXPRT *xprt, file_compound_res *res, int fd, uint64_t off)
{
	static const char	zeros[4];
	char			buf[SENDREAD_HDRMAX];
	u_int			n, pad;
	size_t			hlen;

	n = res->res.res_val[0].file_resop_u.read.read_res_u.ok.data.data_len;
	pad = (4 - n % 4) % 4;
	hlen = encode_head(buf, sizeof(buf), res, n, pad);
	if (hlen == 0) {
		log_warnx("cannot encode a READ reply");
	} else if (send_all(xprt->xp_fd, buf, hlen, MSG_MORE) == -1 ||
	    sendfile_all(xprt->xp_fd, fd, (off_t)off, n) == -1 ||
	    (pad > 0 && send_all(xprt->xp_fd, zeros, pad, 0) == -1)) {
		log_debug("cannot send a READ reply: %s", strerror(errno));
	} else
		return;
	/* half a record went out: nothing more can be sent on it */
	(void)shutdown(xprt->xp_fd, SHUT_RDWR);
}
