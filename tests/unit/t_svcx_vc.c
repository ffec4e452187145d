/*
 * t_svcx_vc.c -- svcx on libtirpc's own stream transports (svcx_vc.c),
 * over a real TCP connection.
 *
 * svcx_vc_attach() wraps a transport's xp_ops and svcx_reply_fd()
 * writes to its socket between libtirpc's replies (lib/svcx.h lists
 * the assumptions).  These tests fail if a libtirpc release breaks any
 * of them: the fields svcx reads must be where <rpc/svc.h> puts them,
 * svc_getreq_common() must call the wrapped recv (or the reply would
 * carry the wrong xid), a reply from a file must be one well-formed
 * record for every length mod 4, and libtirpc's own next reply must
 * follow it on the stream.  The transport is served in this process, as
 * a dfs-filed worker serves its connection.
 */
#include <sys/socket.h>

#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rpc/rpc.h>
#include <rpc/svc_mt.h>

#include "../cutest.h"
#include "rpcc.h"
#include "svcx.h"

#define PROG		0x3fff0002
#define PROC_PLAIN	1
#define PROC_FILE	2
#define LAST_FRAG	0x80000000U
#define FILE_LEN	70001

/* The result of PROC_FILE: a tag, then bytes (last, as svcx needs). */
struct fres {
	u_int	 tag;
	u_int	 len;
	char	*val;
};

static bool_t
xdr_fres(XDR *x, struct fres *r)
{
	return xdr_u_int(x, &r->tag) &&
	    xdr_bytes(x, &r->val, &r->len, FILE_LEN);
}

static int	 srv = -1, cli = -1, filefd = -1;
static SVCXPRT	*xprt;
static char	 content[FILE_LEN];
static struct {
	u_int	off, len;
	int	rc;
} want;

/* PROC_FILE answers want.len bytes at want.off of the file through
 * svcx; anything else gets an empty reply through libtirpc. */
static void
dispatch(struct svc_req *rq, SVCXPRT *x)
{
	struct fres	r = { 0x5eed, 0, NULL };

	if (rq->rq_proc != PROC_FILE || !svcx_can_reply_fd(x)) {
		(void)svc_sendreply(x, XDR_VOID, NULL);
		return;
	}
	want.rc = svcx_reply_fd(x, (xdrproc_t)xdr_fres, &r, filefd,
	    (off_t)want.off, want.len);
}

/* Sends a call of proc with AUTH_SYS credentials. */
static void
call(uint32_t xid, rpcproc_t proc)
{
	struct rpc_msg	 msg;
	AUTH		*auth = authunix_create_default();
	char		 buf[1024];
	uint32_t	 mark;
	XDR		 x;

	CU_ASSERT_PTR_NOT_NULL_FATAL(auth);
	memset(&msg, 0, sizeof(msg));
	msg.rm_xid = xid;
	msg.rm_direction = CALL;
	msg.rm_call.cb_rpcvers = RPC_MSG_VERSION;
	msg.rm_call.cb_prog = PROG;
	msg.rm_call.cb_vers = 1;
	msg.rm_call.cb_proc = proc;
	msg.rm_call.cb_cred = auth->ah_cred;
	msg.rm_call.cb_verf = _null_auth;
	xdrmem_create(&x, buf + 4, sizeof(buf) - 4, XDR_ENCODE);
	CU_ASSERT_FATAL(xdr_callmsg(&x, &msg));
	mark = htonl(LAST_FRAG | XDR_GETPOS(&x));
	memcpy(buf, &mark, 4);
	CU_ASSERT_FATAL(cutest_write_full(cli, buf, 4 + XDR_GETPOS(&x)) ==
	    0);
	xdr_destroy(&x);
	auth_destroy(auth);
}

/* Reads one reply record (one fragment) into a malloc(3)ed buffer.
 * Returns it with its length in *n, or NULL. */
static char *
read_record(u_int *n)
{
	uint32_t	 mark;
	char		*rec;

	if (cutest_read_full(cli, &mark, 4) != 0)
		return NULL;
	mark = ntohl(mark);
	CU_ASSERT((mark & LAST_FRAG) != 0);
	*n = mark & ~LAST_FRAG;
	if (*n > 2 * FILE_LEN || (rec = malloc(*n + 1)) == NULL)
		return NULL;
	if (cutest_read_full(cli, rec, *n) != 0) {
		free(rec);
		return NULL;
	}
	return rec;
}

/* Decodes a reply record: its xid, and its results with xres.  Returns
 * 0 when it is an accepted, successful reply that decodes whole. */
static int
decode(char *rec, u_int n, uint32_t *xid, xdrproc_t xres, void *res)
{
	struct rpc_msg	msg;
	XDR		x;
	int		ok;

	memset(&msg, 0, sizeof(msg));
	msg.acpted_rply.ar_verf = _null_auth;
	msg.acpted_rply.ar_results.where = res;
	msg.acpted_rply.ar_results.proc = xres;
	xdrmem_create(&x, rec, n, XDR_DECODE);
	ok = xdr_replymsg(&x, &msg) && msg.rm_reply.rp_stat == MSG_ACCEPTED &&
	    msg.acpted_rply.ar_stat == SUCCESS && XDR_GETPOS(&x) == n;
	*xid = msg.rm_xid;
	xdr_destroy(&x);
	return ok ? 0 : -1;
}

static int
suite_init(void)
{
	char		path[] = "/tmp/t_svcx_vc.XXXXXX";
	unsigned int	port;
	int		lfd, i;

	for (i = 0; i < FILE_LEN; i++)
		content[i] = (char)(i * 7 + 3);
	if ((filefd = mkstemp(path)) == -1)
		return -1;
	(void)unlink(path);
	if (cutest_write_full(filefd, content, FILE_LEN) != 0)
		return -1;
	lfd = cutest_bind_loopback(&port);
	if (lfd == -1 || listen(lfd, 4) == -1 ||
	    (cli = cutest_connect_loopback(port)) == -1 ||
	    (srv = accept(lfd, NULL, NULL)) == -1)
		return -1;
	close(lfd);
	xprt = svc_fd_create(srv, 0, 0);
	if (xprt == NULL || !svc_reg(xprt, PROG, 1, dispatch, NULL))
		return -1;
	return 0;
}

static int
suite_clean(void)
{
	svc_unreg(PROG, 1);
	if (xprt != NULL)
		SVC_DESTROY(xprt);	/* closes srv */
	close(cli);
	close(filefd);
	return 0;
}

/* What svcx reads of a libtirpc transport is where <rpc/svc.h> and
 * <rpc/svc_mt.h> say, and filled in. */
static void
test_svcx_vc__layout(void)
{
	const struct xp_ops	*ops = xprt->xp_ops;

	CU_ASSERT_EQUAL(xprt->xp_fd, srv);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
	CU_ASSERT_PTR_NOT_NULL(ops->xp_recv);
	CU_ASSERT_PTR_NOT_NULL(ops->xp_stat);
	CU_ASSERT_PTR_NOT_NULL(ops->xp_reply);
	CU_ASSERT_PTR_NOT_NULL(ops->xp_destroy);
	CU_ASSERT_PTR_NOT_NULL(xprt->xp_p1);		/* svc_vc's own */
	CU_ASSERT_PTR_NOT_NULL(xprt->xp_p3);		/* SVCXPRT_EXT */
	CU_ASSERT_EQUAL(svcx_conn_id(xprt), 0);		/* not attached */
	CU_ASSERT_FALSE(svcx_can_reply_fd(xprt));
	CU_ASSERT_EQUAL_FATAL(svcx_vc_attach(xprt), 0);
	CU_ASSERT(xprt->xp_ops != ops);
	CU_ASSERT(xprt->xp_ops->xp_reply == ops->xp_reply);
	CU_ASSERT(svcx_conn_id(xprt) != 0);
	CU_ASSERT_EQUAL_FATAL(svcx_vc_attach(xprt), 0);	/* once is enough */
	CU_ASSERT(svcx_alive(xprt));
}

/* A reply from the file is one record with the request's xid, the
 * tag and the file's bytes, for every length mod 4 and both ends; the
 * plain reply that follows each comes whole with its own xid. */
static void
test_svcx_vc__reply_fd(void)
{
	static const u_int	cases[][2] = {
		{ 0, FILE_LEN }, { 0, 0 }, { 1, 1 }, { 5, 2 }, { 7, 3 },
		{ 9, 4 }, { 1234, 65536 }, { FILE_LEN - 5, 5 },
	};
	struct fres	 r;
	uint32_t	 xid;
	u_int		 i, n;
	char		*rec;

	CU_ASSERT_EQUAL_FATAL(svcx_conn_id(xprt) != 0, 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		want.off = cases[i][0];
		want.len = cases[i][1];
		want.rc = -1;
		call(0xab000000 + i, PROC_FILE);
		svc_getreq_common(srv);
		CU_ASSERT_EQUAL(want.rc, 1);
		rec = read_record(&n);
		CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
		memset(&r, 0, sizeof(r));
		CU_ASSERT_EQUAL(decode(rec, n, &xid, (xdrproc_t)xdr_fres, &r),
		    0);
		CU_ASSERT_EQUAL(xid, 0xab000000 + i);
		CU_ASSERT_EQUAL(r.tag, 0x5eed);
		CU_ASSERT(r.len == want.len && (want.len == 0 ||
		    memcmp(r.val, content + want.off, want.len) == 0));
		xdr_free((xdrproc_t)xdr_fres, (char *)&r);
		free(rec);
		call(0xcd000000 + i, PROC_PLAIN);
		svc_getreq_common(srv);
		rec = read_record(&n);
		CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
		CU_ASSERT_EQUAL(decode(rec, n, &xid, XDR_VOID, NULL), 0);
		CU_ASSERT_EQUAL(xid, 0xcd000000 + i);
		free(rec);
	}
}

/* Two attached transports have different ids, open while the
 * transport lives, and a new one never gets an old one's. */
static void
test_svcx_vc__ids(void)
{
	SVCXPRT		*x;
	uint64_t	 seen[4];
	int		 i, j, sv[2];

	for (i = 0; i < 4; i++) {
		CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
		x = svc_fd_create(sv[0], 0, 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(x);
		CU_ASSERT_EQUAL_FATAL(svcx_vc_attach(x), 0);
		seen[i] = svcx_conn_id(x);
		CU_ASSERT(seen[i] != 0 && seen[i] != svcx_conn_id(xprt));
		for (j = 0; j < i; j++)
			CU_ASSERT(seen[j] != seen[i]);
		CU_ASSERT(svcx_conn_open(seen[i]));
		SVC_DESTROY(x);		/* frees the attachment, closes sv[0] */
		CU_ASSERT_FALSE(svcx_conn_open(seen[i]));
		close(sv[1]);
	}
	CU_ASSERT(svcx_conn_open(svcx_conn_id(xprt)));
	CU_ASSERT_FALSE(svcx_conn_open(0));
}

/* A client that hangs up: libtirpc destroys the transport as it serves
 * it, and svcx, asked by id, says the connection is gone. */
static void
test_svcx_vc__hangup(void)
{
	SVCXPRT		*x;
	uint64_t	 id;
	int		 sv[2];

	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	x = svc_fd_create(sv[0], 0, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_EQUAL_FATAL(svcx_vc_attach(x), 0);
	id = svcx_conn_id(x);
	CU_ASSERT(svcx_conn_open(id));
	close(sv[1]);
	svc_getreq_common(sv[0]);	/* reads the end: destroys x */
	CU_ASSERT_FALSE(svcx_conn_open(id));
}

/* A file shorter than the reply says: the reply fails, and the
 * connection is shut down, since part of the record went out.  Last:
 * the suite's connection ends here. */
static void
test_svcx_vc__file_ends_first(void)
{
	u_int	 n;
	char	*rec;

	want.off = FILE_LEN - 5;
	want.len = 10;
	want.rc = -1;
	call(0xef000000, PROC_FILE);
	svc_getreq_common(srv);
	CU_ASSERT_EQUAL(want.rc, 0);
	rec = read_record(&n);
	CU_ASSERT_PTR_NULL(rec);
	free(rec);
}

static CU_TestInfo svcx_vc_tests[] = {
	{ "layout", test_svcx_vc__layout },
	{ "reply_fd", test_svcx_vc__reply_fd },
	{ "ids", test_svcx_vc__ids },
	{ "hangup", test_svcx_vc__hangup },
	{ "file_ends_first", test_svcx_vc__file_ends_first },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "svcx_vc", suite_init, suite_clean, NULL, NULL, svcx_vc_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
