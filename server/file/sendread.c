/*
 * sendread.c -- READ replies straight from the version file.
 *
 * Through libtirpc, a READ's bytes were copied three times in dfs-filed:
 * pread(2) into a buffer, XDR into libtirpc's record buffer, write(2)
 * into the socket.  For a COMPOUND of one READ (what clients send for
 * file data), the worker has svcx send the reply instead
 * (svcx_reply_fd(), lib/svcx.h): the reply header and the READ result
 * up to its data, then the bytes with sendfile(2) from the page cache,
 * in one record, as any ONC RPC client reads it.  The READ's data is
 * the last thing in a one-op COMPOUND's result, as svcx requires.
 */
#include "filed.h"
#include "svcx.h"

int
sendread_ok(SVCXPRT *xprt)
{
	return svcx_can_reply_fd(xprt);
}

void
sendread(SVCXPRT *xprt, file_compound_res *res, int fd, uint64_t off)
{
	read_ok	*ok = &res->res.res_val[0].file_resop_u.read.read_res_u.ok;
	u_int	 n = ok->data.data_len;

	/* ORDER: svcx sends the bytes in place of an empty opaque */
	ok->data.data_len = 0;
	(void)svcx_reply_fd(xprt, (xdrproc_t)xdr_file_compound_res, res, fd,
	    (off_t)off, n);
	ok->data.data_len = n;
}
