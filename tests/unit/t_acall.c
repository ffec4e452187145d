/*
 * t_acall.c -- lib/acall.c against a scripted server on 127.0.0.1.
 *
 * The server is the test itself: it accepts acall's connection, reads
 * the call record, and answers as the case needs (in fragments, late,
 * too large, never).  The client side runs the loop a daemon would:
 * acall_pollfd(), poll(2), acall_run(), until the call has ended.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "acall.h"
#include "dfs_types.h"

#define PROG	0x20646699
#define VERS	1

static int		lfd = -1;
static unsigned int	port;

/* What one call ended with. */
static struct {
	int		ended;
	int		rc;
	u_int		value;
	char		err[160];
} got;

static void
done(void *arg, int rc, void *res, const char *err)
{
	(void)arg;
	got.ended++;
	got.rc = rc;
	got.value = res != NULL ? *(u_int *)res : 0;
	snprintf(got.err, sizeof(got.err), "%s", err);
}

static int
suite_init(void)
{
	signal(SIGPIPE, SIG_IGN);	/* replies to a closed connection */
	if ((lfd = cutest_bind_loopback(&port)) == -1 || listen(lfd, 8) != 0)
		return -1;
	return 0;
}

static int
suite_clean(void)
{
	if (lfd != -1)
		close(lfd);
	return 0;
}

/* Runs a's loop until the call ended or `ms` passed. */
static void
run_until_ended(struct acall *a, unsigned int ms)
{
	unsigned long long	end = cutest_ms() + ms;
	struct pollfd		p;
	int			t;

	while (!got.ended && cutest_ms() < end) {
		acall_pollfd(a, &p);
		t = acall_timeout(a);
		if (t < 0 || t > 50)
			t = 50;
		(void)poll(&p, p.fd == -1 ? 0 : 1, t);
		acall_run(a, p.fd == -1 ? 0 : p.revents);
	}
}

/* Sends a call of proc 1 with one u_int argument (7). */
static int
send_call(struct acall *a, unsigned int timeout_ms)
{
	u_int	arg = 7;

	memset(&got, 0, sizeof(got));
	return acall_send(a, 1, (xdrproc_t)xdr_u_int, &arg,
	    (xdrproc_t)xdr_u_int, sizeof(u_int), timeout_ms, done, NULL);
}

/* Accepts acall's connection (the loop must have run to connect) and
 * reads one call record.  Returns the socket and the call's xid. */
static int
serve_accept(struct acall *a, uint32_t *xid)
{
	unsigned char	 buf[4096];
	struct pollfd	 p;
	uint32_t	 mark, len;
	int		 fd = -1, i;

	for (i = 0; i < 100 && fd == -1; i++) {
		acall_pollfd(a, &p);
		(void)poll(&p, 1, 10);
		acall_run(a, p.revents);
		p.fd = lfd;
		p.events = POLLIN;
		if (poll(&p, 1, 10) == 1)
			fd = accept(lfd, NULL, NULL);
	}
	if (fd == -1)
		return -1;
	/* the call is written once connected: run the loop until it is */
	for (i = 0; i < 100; i++) {
		acall_pollfd(a, &p);
		(void)poll(&p, 1, 10);
		acall_run(a, p.revents);
		p.fd = fd;
		p.events = POLLIN;
		if (poll(&p, 1, 10) == 1)
			break;
	}
	if (cutest_read_full(fd, &mark, 4) != 0)
		goto fail;
	len = ntohl(mark) & 0x7fffffffU;
	if (len < 4 || len > sizeof(buf) || cutest_read_full(fd, buf, len) != 0)
		goto fail;
	memcpy(xid, buf, 4);
	return fd;
fail:
	close(fd);
	return -1;
}

/* The reply to xid (network order) with result `value`, as record
 * fragments of at most `frag` bytes each (0: one fragment).  Returns 0,
 * or -1 when the client has gone. */
static int
reply(int fd, uint32_t xid, u_int value, size_t frag)
{
	uint32_t	body[7], mark;
	size_t		len = sizeof(body), off, n;

	body[0] = xid;
	body[1] = htonl(REPLY);
	body[2] = htonl(MSG_ACCEPTED);
	body[3] = htonl(AUTH_NONE);	/* verifier: flavour, length 0 */
	body[4] = 0;
	body[5] = htonl(SUCCESS);
	body[6] = htonl(value);
	if (frag == 0)
		frag = len;
	for (off = 0; off < len; off += n) {
		n = len - off < frag ? len - off : frag;
		mark = htonl((uint32_t)n | (off + n == len ? 0x80000000U : 0));
		if (cutest_write_full(fd, &mark, 4) != 0 ||
		    cutest_write_full(fd, (char *)body + off, n) != 0)
			return -1;
	}
	return 0;
}

/* A reply in fragments of 4 bytes is joined and decoded. */
static void
test_acall__fragments(void)
{
	struct acall	*a = acall_new(PROG, VERS, 4096);
	uint32_t	 xid;
	int		 fd;

	CU_ASSERT_FATAL(a != NULL);
	acall_target(a, "127.0.0.1", port);
	CU_ASSERT_FATAL(send_call(a, 5000) == 0);
	CU_ASSERT_FATAL((fd = serve_accept(a, &xid)) != -1);
	CU_ASSERT(reply(fd, xid, 42, 4) == 0);
	run_until_ended(a, 5000);
	CU_ASSERT_EQUAL(got.ended, 1);
	CU_ASSERT_EQUAL(got.rc, 0);
	CU_ASSERT_EQUAL(got.value, 42);
	CU_ASSERT_EQUAL(acall_pending(a), 0);
	close(fd);
	acall_free(a);
}

/* No reply: TIMEDOUT at the deadline; the late reply is then no one's,
 * and the next call gets a connection of its own. */
static void
test_acall__timeout_then_late_reply(void)
{
	struct acall		*a = acall_new(PROG, VERS, 4096);
	unsigned long long	 t0;
	uint32_t		 xid, xid2;
	int			 fd, fd2;

	CU_ASSERT_FATAL(a != NULL);
	acall_target(a, "127.0.0.1", port);
	t0 = cutest_ms();
	CU_ASSERT_FATAL(send_call(a, 200) == 0);
	CU_ASSERT_FATAL((fd = serve_accept(a, &xid)) != -1);
	run_until_ended(a, 5000);
	CU_ASSERT_EQUAL(got.rc, -DFS_ERR_TIMEDOUT);
	CU_ASSERT(cutest_ms() - t0 >= 200);
	CU_ASSERT(strstr(got.err, "no answer") != NULL);
	(void)reply(fd, xid, 1, 0);	/* too late: acall closed it */
	CU_ASSERT_FATAL(send_call(a, 5000) == 0);
	CU_ASSERT_FATAL((fd2 = serve_accept(a, &xid2)) != -1);
	CU_ASSERT(xid2 != xid);
	CU_ASSERT(reply(fd2, xid2, 9, 0) == 0);
	run_until_ended(a, 5000);
	CU_ASSERT_EQUAL(got.rc, 0);
	CU_ASSERT_EQUAL(got.value, 9);
	close(fd);
	close(fd2);
	acall_free(a);
}

/* A reply over the limit breaks the connection: RPC, not a crash. */
static void
test_acall__reply_too_large(void)
{
	struct acall	*a = acall_new(PROG, VERS, 16);
	uint32_t	 xid;
	int		 fd;

	CU_ASSERT_FATAL(a != NULL);
	acall_target(a, "127.0.0.1", port);
	CU_ASSERT_FATAL(send_call(a, 5000) == 0);
	CU_ASSERT_FATAL((fd = serve_accept(a, &xid)) != -1);
	CU_ASSERT(reply(fd, xid, 42, 0) == 0);	/* 28 bytes */
	run_until_ended(a, 5000);
	CU_ASSERT_EQUAL(got.rc, -DFS_ERR_RPC);
	close(fd);
	acall_free(a);
}

/* A server that is not there is known at once, with its cause. */
static void
test_acall__refused(void)
{
	struct acall	*a = acall_new(PROG, VERS, 4096);
	unsigned int	 dead;
	int		 fd;

	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT_FATAL((fd = cutest_bind_loopback(&dead)) != -1);
	close(fd);			/* a port nobody listens on */
	acall_target(a, "127.0.0.1", dead);
	CU_ASSERT_FATAL(send_call(a, 5000) == 0);
	run_until_ended(a, 2000);
	CU_ASSERT_EQUAL(got.rc, -DFS_ERR_RPC);
	CU_ASSERT(strstr(got.err, "refused") != NULL);
	acall_free(a);
	/* a name, not an address, is refused before anything is sent */
	a = acall_new(PROG, VERS, 4096);
	CU_ASSERT_FATAL(a != NULL);
	acall_target(a, "localhost", port);
	CU_ASSERT(send_call(a, 5000) < 0);
	CU_ASSERT_EQUAL(got.ended, 0);
	acall_free(a);
}

static CU_TestInfo acall_tests[] = {
	{ "fragments", test_acall__fragments },
	{ "timeout_then_late_reply", test_acall__timeout_then_late_reply },
	{ "reply_too_large", test_acall__reply_too_large },
	{ "refused", test_acall__refused },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "acall", suite_init, suite_clean, NULL, NULL, acall_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
