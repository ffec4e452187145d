/*
 * cutest.c -- what every CUnit test program's main() does.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "cutest.h"
#include "file.h"

int
cutest_run(CU_SuiteInfo *suites)
{
	unsigned int	failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	if (CU_register_suites(suites) != CUE_SUCCESS) {
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed() +
	    CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failed != 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
cutest_rmtree(const char *dir)
{
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int
cutest_copy_file(const char *src, const char *dst)
{
	char	buf[65536];
	ssize_t	n;
	int	in, out, rc = 0;

	in = open(src, O_RDONLY);
	if (in == -1)
		return -1;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (out == -1) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			rc = -1;
	if (n < 0)
		rc = -1;
	close(in);
	if (close(out) == -1)
		rc = -1;
	return rc;
}

int
cutest_crash_copy(const char *from, const char *to, const char *name)
{
	static const char *const keep[] = { "db", "log" };
	char	a[PATH_MAX], b[PATH_MAX];
	int	i, fd, rc = 0;

	for (i = 0; i < 2 && rc == 0; i++) {
		snprintf(a, sizeof(a), "%s/%s.%s", from, name, keep[i]);
		snprintf(b, sizeof(b), "%s/%s.%s", to, name, keep[i]);
		rc = cutest_copy_file(a, b);
	}
	snprintf(b, sizeof(b), "%s/%s.work", to, name);
	fd = open(b, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1 || write(fd, "garbage", 7) != 7)
		rc = -1;
	if (fd != -1)
		close(fd);
	return rc;
}

int
cutest_bind_loopback(unsigned int *port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

int
cutest_connect_loopback(unsigned int port)
{
	struct sockaddr_in	sin;
	int			fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

unsigned long long
cutest_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 +
	    (unsigned long long)ts.tv_nsec / 1000000;
}

int
cutest_read_full(int fd, void *buf, size_t n)
{
	char	*p = buf;
	ssize_t	 k;

	while (n > 0) {
		if ((k = read(fd, p, n)) <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int
cutest_write_full(int fd, const void *buf, size_t n)
{
	const char	*p = buf;
	ssize_t		 k;

	while (n > 0) {
		if ((k = write(fd, p, n)) <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Answers a NULL call of xid on fd, as any server does.  Returns 0/-1. */
static int
answer_null(int fd, uint32_t xid)
{
	unsigned char	rep[28];
	uint32_t	w[6] = { xid, REPLY, MSG_ACCEPTED, AUTH_NONE, 0,
			    SUCCESS };
	int		i;

	be32_put(rep, 0x80000000u | 24);
	for (i = 0; i < 6; i++)
		be32_put(rep + 4 + 4 * i, w[i]);
	return cutest_write_full(fd, rep, sizeof(rep));
}

int
cutest_take_file_call(int fd, void *rec, size_t cap, uint32_t *xid,
    file_compound_args *args)
{
	struct rpc_msg	call;
	unsigned char	mark[4];
	uint32_t	len;
	XDR		x;
	int		ok;

	memset(args, 0, sizeof(*args));
again:
	if (cutest_read_full(fd, mark, 4) == -1)
		return -1;
	len = be32_get(mark) & 0x7fffffffu;
	if (!(mark[0] & 0x80) || len > cap || cutest_read_full(fd, rec, len))
		return -1;
	memset(&call, 0, sizeof(call));
	xdrmem_create(&x, rec, len, XDR_DECODE);
	ok = xdr_callmsg(&x, &call) && call.rm_direction == CALL &&
	    call.rm_call.cb_prog == DFS_FILE_PROG;
	/* the client's probe of a new connection (client/conn.c) */
	if (ok && call.rm_call.cb_proc == NULLPROC && xdr_getpos(&x) == len) {
		xdr_destroy(&x);
		if (answer_null(fd, call.rm_xid) == -1)
			return -1;
		goto again;
	}
	ok = ok && call.rm_call.cb_proc == FILE_COMPOUND &&
	    xdr_file_compound_args(&x, args) && args->ops.ops_len == 1 &&
	    xdr_getpos(&x) == len;
	xdr_destroy(&x);
	*xid = call.rm_xid;
	return ok ? 0 : -1;
}
