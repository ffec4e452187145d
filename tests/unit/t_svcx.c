/*
 * t_svcx.c -- svcx's contract with libtirpc, over real sockets.
 *
 * svcx hands dispatchers an SVCXPRT of its own and lets libtirpc's
 * _authenticate() fill in the credentials through xp_p3 (SVCXPRT_EXT,
 * <rpc/svc_mt.h>); replies go out through svc_sendreply() and the
 * SVCAUTH wrap that _authenticate() chose.  These tests fail if a
 * libtirpc release changes any of that: AUTH_SYS credentials must reach
 * the dispatcher intact, the wrap must be set, and a held reply must
 * carry its own request's xid; a reply from a file must be one
 * well-formed record, and connection ids must never repeat.  The loop
 * runs in this process, driven
 * round by round; the client is a raw socket.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rpc/rpc.h>
#include <rpc/svc_mt.h>

#include "../cutest.h"
#include "rpcc.h"
#include "svcx.h"

#define PROG		0x3fff0001
#define PROC_HOLD	2
#define PROC_FILE	3
#define FILE_LEN	70001
#define LAST_FRAG	0x80000000U

static int			 lfd = -1;
static unsigned int		 port;
static struct svcx_held		*held;
static struct {
	int		called;
	uint32_t	flavor, uid, ngids;
	int		wrap_set;
	uint64_t	id;		/* svcx_conn_id() */
	int		alive;
} seen;
static int			 filefd = -1;
static char			 content[FILE_LEN];
static u_int			 want_off, want_len;

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

/* The program: 0 NULL, 1 checks the credentials, 2 holds its reply, 3
 * answers want_len bytes of the file at want_off through svcx. */
static void
dispatch(struct svc_req *rq, SVCXPRT *xprt)
{
	struct authunix_parms	*au;
	struct fres		 r = { 0x5eed, 0, NULL };

	seen.called++;
	seen.id = svcx_conn_id(xprt);
	seen.alive = svcx_alive(xprt);
	seen.flavor = rq->rq_cred.oa_flavor;
	seen.wrap_set = SVC_XP_AUTH(xprt).svc_ah_ops != NULL;
	if (rq->rq_cred.oa_flavor == AUTH_SYS) {
		au = (struct authunix_parms *)rq->rq_clntcred;
		seen.uid = au->aup_uid;
		seen.ngids = au->aup_len;
	}
	if (rq->rq_proc == PROC_HOLD) {
		held = svcx_hold(rq);
		return;
	}
	if (rq->rq_proc == PROC_FILE && svcx_can_reply_fd(xprt)) {
		(void)svcx_reply_fd(xprt, (xdrproc_t)xdr_fres, &r, filefd,
		    (off_t)want_off, want_len);
		return;
	}
	(void)svc_sendreply(xprt, XDR_VOID, NULL);
}

/* One round of the loop, waiting up to ms for events. */
static void
round_once(int ms)
{
	static struct pollfd	*pfd;
	static size_t		 cap;
	int			 n;

	n = svcx_pollset(&pfd, &cap, 0);
	CU_ASSERT_FATAL(n > 0);
	(void)poll(pfd, (nfds_t)n, ms);
	svcx_run(pfd, n);
}

static int
client(void)
{
	struct sockaddr_in	sin;
	int			fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sin,
	    sizeof(sin)) == -1)
		return -1;
	round_once(100);	/* accept */
	return fd;
}

/* Sends a call of proc with credentials `auth` (NULL: AUTH_NONE). */
static void
call(int fd, uint32_t xid, rpcproc_t proc, AUTH *auth)
{
	struct rpc_msg	msg;
	char		buf[1024];
	uint32_t	mark;
	XDR		x;

	memset(&msg, 0, sizeof(msg));
	msg.rm_xid = xid;
	msg.rm_direction = CALL;
	msg.rm_call.cb_rpcvers = RPC_MSG_VERSION;
	msg.rm_call.cb_prog = PROG;
	msg.rm_call.cb_vers = 1;
	msg.rm_call.cb_proc = proc;
	msg.rm_call.cb_cred = auth != NULL ? auth->ah_cred : _null_auth;
	msg.rm_call.cb_verf = _null_auth;
	xdrmem_create(&x, buf + 4, sizeof(buf) - 4, XDR_ENCODE);
	CU_ASSERT_FATAL(xdr_callmsg(&x, &msg));
	mark = htonl(LAST_FRAG | XDR_GETPOS(&x));
	memcpy(buf, &mark, 4);
	CU_ASSERT_FATAL(cutest_write_full(fd, buf, 4 + XDR_GETPOS(&x)) ==
	    0);
	xdr_destroy(&x);
}

/* Runs rounds until a reply is readable on fd (at most 2 s), reads it
 * and returns its xid, or -1. */
static long long
reply_xid(int fd)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	uint32_t	mark, xid;
	char		rest[256];
	int		i;

	for (i = 0; i < 100 && poll(&pfd, 1, 0) == 0; i++)
		round_once(20);
	if (cutest_read_full(fd, &mark, 4) != 0)
		return -1;
	mark = ntohl(mark) & ~LAST_FRAG;
	if (mark < 4 || mark > sizeof(rest) ||
	    cutest_read_full(fd, rest, mark) != 0)
		return -1;
	memcpy(&xid, rest, 4);
	return ntohl(xid);
}

/* Reads n bytes of fd into buf, running the loop's rounds meanwhile
 * (it writes a large reply in pieces), for at most 2 s.  Returns 0 or
 * -1. */
static int
read_looping(int fd, char *buf, size_t n)
{
	ssize_t	got;
	int	i;

	for (i = 0; i < 100 && n > 0; ) {
		got = recv(fd, buf, n, MSG_DONTWAIT);
		if (got == 0 || (got == -1 && errno != EAGAIN))
			return -1;
		if (got > 0) {
			buf += got;
			n -= (size_t)got;
			continue;
		}
		round_once(20);
		i++;
	}
	return n == 0 ? 0 : -1;
}

/* Reads one reply record (one fragment) into a malloc(3)ed buffer.
 * Returns it with its length in *n, or NULL. */
static char *
reply_record(int fd, u_int *n)
{
	uint32_t	 mark;
	char		*rec;

	if (read_looping(fd, (char *)&mark, 4) != 0)
		return NULL;
	*n = ntohl(mark) & ~LAST_FRAG;
	if (*n > 2 * FILE_LEN || (rec = malloc(*n + 1)) == NULL)
		return NULL;
	if (read_looping(fd, rec, *n) != 0) {
		free(rec);
		return NULL;
	}
	return rec;
}

/* Makes the file PROC_FILE answers from. */
static int
file_init(void)
{
	char	path[] = "/tmp/t_svcx.XXXXXX";
	int	i;

	for (i = 0; i < FILE_LEN; i++)
		content[i] = (char)(i * 7 + 3);
	if ((filefd = mkstemp(path)) == -1)
		return -1;
	(void)unlink(path);
	return cutest_write_full(filefd, content, FILE_LEN);
}

static int
suite_init(void)
{
	struct svcx_limits	lim = { 65536, 8, 8, 60000, 2000 };

	if (file_init() != 0)
		return -1;
	lfd = cutest_bind_loopback(&port);
	if (lfd == -1 || listen(lfd, 16) == -1)
		return -1;
	return svcx_init(lfd, PROG, 1, dispatch, &lim);
}

static int
suite_clean(void)
{
	svcx_release();
	close(lfd);
	close(filefd);
	return 0;
}

/* AUTH_SYS reaches the dispatcher decoded, through SVCXPRT_EXT, and
 * _authenticate() set the wrap svcx encodes replies with. */
static void
test_svcx__auth_sys(void)
{
	gid_t	 gids[3] = { 10, 20, 30 };
	AUTH	*auth;
	int	 fd;

	auth = authunix_create((char *)"t_svcx", 1234, 5678, 3, gids);
	CU_ASSERT_FATAL(auth != NULL);
	fd = client();
	CU_ASSERT_FATAL(fd != -1);
	memset(&seen, 0, sizeof(seen));
	call(fd, 77, 1, auth);
	CU_ASSERT(reply_xid(fd) == 77);
	CU_ASSERT(seen.called == 1 && seen.flavor == AUTH_SYS);
	CU_ASSERT(seen.uid == 1234 && seen.ngids == 3);
	CU_ASSERT(seen.wrap_set);
	auth_destroy(auth);
	close(fd);
}

/* A held reply goes out later with its own xid, after the replies of
 * calls that came behind it. */
static void
test_svcx__held_keeps_xid(void)
{
	int	fd;

	fd = client();
	CU_ASSERT_FATAL(fd != -1);
	held = NULL;
	call(fd, 500, PROC_HOLD, NULL);
	call(fd, 501, 0, NULL);
	CU_ASSERT(reply_xid(fd) == 501);
	CU_ASSERT_FATAL(held != NULL);
	CU_ASSERT(svcx_held_alive(held));
	CU_ASSERT(svcx_reply_held(held, XDR_VOID, NULL) == 1);
	CU_ASSERT(reply_xid(fd) == 500);
	close(fd);
}

/* The client of a held reply goes away: the hold outlives the
 * connection, tells it is gone, and sending it is dropped. */
static void
test_svcx__held_after_close(void)
{
	unsigned int	n0;
	int		fd, i;

	fd = client();
	CU_ASSERT_FATAL(fd != -1);
	held = NULL;
	call(fd, 600, PROC_HOLD, NULL);
	for (i = 0; i < 50 && held == NULL; i++)
		round_once(20);
	CU_ASSERT_FATAL(held != NULL);
	n0 = svcx_nconns();
	close(fd);
	for (i = 0; i < 50 && svcx_nconns() == n0; i++)
		round_once(20);
	CU_ASSERT(svcx_nconns() == n0 - 1);
	CU_ASSERT(!svcx_held_alive(held));
	CU_ASSERT(svcx_reply_held(held, XDR_VOID, NULL) == 0);
}

/* Each connection has its own id, the same for all its requests, and
 * a later connection never gets an earlier one's. */
static void
test_svcx__conn_ids(void)
{
	uint64_t	a, b;
	int		fa, fb, i;

	fa = client();
	fb = client();
	CU_ASSERT_FATAL(fa != -1 && fb != -1);
	call(fa, 700, 0, NULL);
	CU_ASSERT(reply_xid(fa) == 700);
	a = seen.id;
	CU_ASSERT(a != 0 && seen.alive == 1);
	call(fb, 701, 0, NULL);
	CU_ASSERT(reply_xid(fb) == 701);
	b = seen.id;
	CU_ASSERT(b != 0 && b != a);
	call(fa, 702, 0, NULL);
	CU_ASSERT(reply_xid(fa) == 702);
	CU_ASSERT(seen.id == a);
	close(fa);
	close(fb);
	fa = client();
	CU_ASSERT_FATAL(fa != -1);
	call(fa, 703, 0, NULL);
	CU_ASSERT(reply_xid(fa) == 703);
	CU_ASSERT(seen.id != a && seen.id != b && seen.id != 0);
	CU_ASSERT(svcx_conn_open(seen.id));
	b = seen.id;
	close(fa);
	for (i = 0; i < 50 && svcx_conn_open(b); i++)
		round_once(20);
	CU_ASSERT_FALSE(svcx_conn_open(a));
	CU_ASSERT_FALSE(svcx_conn_open(b));
}

/* A reply from the file is one record with the request's xid, the tag
 * and the file's bytes, for every length mod 4; the plain reply that
 * follows each comes whole with its own xid. */
static void
test_svcx__reply_fd(void)
{
	static const u_int	cases[][2] = {
		{ 0, FILE_LEN }, { 0, 0 }, { 1, 1 }, { 5, 2 }, { 7, 3 },
		{ 9, 4 }, { 1234, 65536 }, { FILE_LEN - 5, 5 },
	};
	struct rpc_msg	 msg;
	struct fres	 r;
	XDR		 x;
	u_int		 i, n;
	char		*rec;
	int		 fd;

	fd = client();
	CU_ASSERT_FATAL(fd != -1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		want_off = cases[i][0];
		want_len = cases[i][1];
		call(fd, 800 + i, PROC_FILE, NULL);
		rec = reply_record(fd, &n);
		CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
		memset(&msg, 0, sizeof(msg));
		memset(&r, 0, sizeof(r));
		msg.acpted_rply.ar_verf = _null_auth;
		msg.acpted_rply.ar_results.where = (caddr_t)&r;
		msg.acpted_rply.ar_results.proc = (xdrproc_t)xdr_fres;
		xdrmem_create(&x, rec, n, XDR_DECODE);
		CU_ASSERT(xdr_replymsg(&x, &msg) && XDR_GETPOS(&x) == n);
		CU_ASSERT(msg.rm_xid == 800 + i && r.tag == 0x5eed);
		CU_ASSERT(r.len == want_len && (want_len == 0 ||
		    memcmp(r.val, content + want_off, want_len) == 0));
		xdr_destroy(&x);
		xdr_free((xdrproc_t)xdr_fres, (char *)&r);
		free(rec);
		call(fd, 900 + i, 0, NULL);
		CU_ASSERT(reply_xid(fd) == 900 + i);
	}
	close(fd);
}

/*
 * Connections in the middle of a request (slowloris clients) fill the
 * table: a newcomer takes the place of the one whose request has been
 * incomplete longest, and is served; the others stay.  (Before, it was
 * refused until the stall timeout closed one.)
 */
static void
test_svcx__slow_senders_yield(void)
{
	unsigned long long	 t;
	uint32_t		 mark = htonl(LAST_FRAG | 40);
	char			 c;
	int			 fds[8], fd, i;

	for (i = 0; i < 50 && svcx_nconns() > 0; i++)
		round_once(20);
	CU_ASSERT_FATAL(svcx_nconns() == 0);
	for (i = 0; i < 8; i++) {
		fds[i] = client();
		CU_ASSERT_FATAL(fds[i] != -1);
		CU_ASSERT(cutest_write_full(fds[i], &mark, 4) == 0);
		CU_ASSERT(cutest_write_full(fds[i], "x", 1) == 0);
		round_once(20);		/* read: its request has begun */
		/* each begun in a millisecond of its own (svcx's clock) */
		for (t = cutest_ms(); cutest_ms() <= t + 1; )
			round_once(1);
	}
	CU_ASSERT_FATAL(svcx_nconns() == 8);
	fd = client();
	CU_ASSERT_FATAL(fd != -1);
	call(fd, 900, 0, NULL);
	CU_ASSERT(reply_xid(fd) == 900);
	CU_ASSERT(recv(fds[0], &c, 1, MSG_DONTWAIT) == 0);	/* closed */
	for (i = 1; i < 8; i++)
		CU_ASSERT(recv(fds[i], &c, 1, MSG_DONTWAIT) == -1 &&
		    errno == EAGAIN);
	for (i = 0; i < 8; i++)
		close(fds[i]);
	close(fd);
}

static CU_TestInfo svcx_tests[] = {
	{ "auth_sys", test_svcx__auth_sys },
	{ "held_keeps_xid", test_svcx__held_keeps_xid },
	{ "held_after_close", test_svcx__held_after_close },
	{ "conn_ids", test_svcx__conn_ids },
	{ "reply_fd", test_svcx__reply_fd },
	{ "slow_senders_yield", test_svcx__slow_senders_yield },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "svcx", suite_init, suite_clean, NULL, NULL, svcx_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
