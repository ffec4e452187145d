/*
 * t_rpcc.c -- lib/rpcc.c: HOST[:PORT] parsing, clnt_stat mapping, and
 * connections that fail or time out quickly instead of hanging.
 *
 * No server runs here: a closed port is one we bound and closed, and a
 * peer that never answers is a socket that listens but never reads.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "dfs_types.h"
#include "rpcc.h"

#define TEST_PROG	0x3fffff01u

struct parse_case {
	const char	*spec;
	size_t		 hostlen;	/* 0: 256 */
	int		 rc;
	const char	*host;
	unsigned int	 port;
};

static const struct parse_case parse_cases[] = {
	{ "host",		0, 0,	"host",		0 },
	{ "host:2049",		0, 0,	"host",		2049 },
	{ "10.0.0.1:1",		0, 0,	"10.0.0.1",	1 },
	{ "host:65535",		0, 0,	"host",		65535 },
	{ "[::1]:2049",		0, 0,	"::1",		2049 },
	{ "[::1]",		0, 0,	"::1",		0 },
	{ "[fe80::1%eth0]:9",	0, 0,	"fe80::1%eth0",	9 },
	{ "fe80::1",		0, 0,	"fe80::1",	0 },
	{ "::1",		0, 0,	"::1",		0 },
	{ "",			0, -DFS_ERR_INVAL, NULL, 0 },
	{ ":80",		0, -DFS_ERR_INVAL, NULL, 0 },
	{ "host:",		0, -DFS_ERR_INVAL, NULL, 0 },
	{ "host:0",		0, -DFS_ERR_INVAL, NULL, 0 },
	{ "host:65536",		0, -DFS_ERR_INVAL, NULL, 0 },
	{ "host:99999999999999999999", 0, -DFS_ERR_INVAL, NULL, 0 },
	{ "host:12ab",		0, -DFS_ERR_INVAL, NULL, 0 },
	{ "host:-1",		0, -DFS_ERR_INVAL, NULL, 0 },
	{ "host:+80",		0, -DFS_ERR_INVAL, NULL, 0 },
	{ "host: 80",		0, -DFS_ERR_INVAL, NULL, 0 },
	{ "[]:80",		0, -DFS_ERR_INVAL, NULL, 0 },
	{ "[::1",		0, -DFS_ERR_INVAL, NULL, 0 },
	{ "[::1]80",		0, -DFS_ERR_INVAL, NULL, 0 },
	{ "[::1]:",		0, -DFS_ERR_INVAL, NULL, 0 },
	{ "[::1]:0",		0, -DFS_ERR_INVAL, NULL, 0 },
	/* the host must fit with its NUL */
	{ "abcdefg",		8, 0,	"abcdefg",	0 },
	{ "abcdefgh",		8, -DFS_ERR_INVAL, NULL, 0 },
	{ "abcdefgh:80",	8, -DFS_ERR_INVAL, NULL, 0 },
	{ "[abcdefgh]:80",	8, -DFS_ERR_INVAL, NULL, 0 },
};

static void
test_rpcc__parse(void)
{
	const struct parse_case	*c;
	char			 host[256];
	unsigned int		 port;
	size_t			 i, hl;
	int			 rc;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		c = &parse_cases[i];
		hl = c->hostlen ? c->hostlen : sizeof(host);
		snprintf(host, sizeof(host), "untouched");
		port = 777;
		rc = rpcc_parse(c->spec, host, hl, &port);
		if (rc != c->rc)
			fprintf(stderr, "\n'%s': got %d, want %d\n", c->spec,
			    rc, c->rc);
		CU_ASSERT_EQUAL(rc, c->rc);
		if (rc != 0 || c->rc != 0)
			continue;
		CU_ASSERT_STRING_EQUAL(host, c->host);
		CU_ASSERT_EQUAL(port, c->port);
	}
}

/* A host longer than DFS_MAXHOSTLEN into a buffer of that size. */
static void
test_rpcc__parse_long_host(void)
{
	char		spec[DFS_MAXHOSTLEN + 8], host[DFS_MAXHOSTLEN + 1];
	unsigned int	port;

	memset(spec, 'h', DFS_MAXHOSTLEN);
	memcpy(spec + DFS_MAXHOSTLEN, ":1", 3);
	CU_ASSERT_EQUAL(rpcc_parse(spec, host, sizeof(host), &port), 0);
	CU_ASSERT_EQUAL(strlen(host), DFS_MAXHOSTLEN);
	memset(spec, 'h', DFS_MAXHOSTLEN + 1);
	memcpy(spec + DFS_MAXHOSTLEN + 1, ":1", 3);
	CU_ASSERT_EQUAL(rpcc_parse(spec, host, sizeof(host), &port),
	    -DFS_ERR_INVAL);
}

struct error_case {
	enum clnt_stat	st;
	int		rc;
};

static const struct error_case error_cases[] = {
	{ RPC_TIMEDOUT,			-DFS_ERR_TIMEDOUT },
	{ RPC_PROGUNAVAIL,		-DFS_ERR_PROTO },
	{ RPC_PROGVERSMISMATCH,		-DFS_ERR_PROTO },
	{ RPC_PROCUNAVAIL,		-DFS_ERR_PROTO },
	{ RPC_CANTDECODERES,		-DFS_ERR_PROTO },
	{ RPC_VERSMISMATCH,		-DFS_ERR_PROTO },
	{ RPC_PROGNOTREGISTERED,	-DFS_ERR_PROTO },
	{ RPC_CANTSEND,			-DFS_ERR_RPC },
	{ RPC_CANTRECV,			-DFS_ERR_RPC },
	{ RPC_CANTENCODEARGS,		-DFS_ERR_RPC },
	{ RPC_SYSTEMERROR,		-DFS_ERR_RPC },
	{ RPC_UNKNOWNHOST,		-DFS_ERR_RPC },
	{ RPC_PMAPFAILURE,		-DFS_ERR_RPC },
	{ RPC_FAILED,			-DFS_ERR_RPC },
};

static void
test_rpcc__error(void)
{
	size_t	i;

	for (i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++)
		CU_ASSERT_EQUAL(rpcc_error(error_cases[i].st),
		    error_cases[i].rc);
}


/* Returns milliseconds since an arbitrary start. */
static long
now_ms(void)
{
	struct timeval	tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec * 1000L + tv.tv_usec / 1000;
}

static void
test_rpcc__connect_refused(void)
{
	CLIENT		*clnt;
	char		 err[256] = "";
	unsigned int	 port;
	long		 t0;
	int		 fd;

	fd = cutest_bind_loopback(&port);
	CU_ASSERT_FATAL(fd != -1);
	close(fd);
	t0 = now_ms();
	/* refused at once, not after the (long) connect timeout; the
	 * bound leaves room for a loaded machine */
	clnt = rpcc_connect("127.0.0.1", port, TEST_PROG, 1, 60000, 0, err,
	    sizeof(err));
	CU_ASSERT_PTR_NULL(clnt);
	CU_ASSERT(now_ms() - t0 < 20000);
	CU_ASSERT(strlen(err) > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "127.0.0.1"));
	if (clnt != NULL)
		clnt_destroy(clnt);
}

/* A peer that accepts (the kernel does, from the backlog) but never
 * answers: the connection succeeds and the call times out on time. */
static void
test_rpcc__call_times_out(void)
{
	struct timeval	 tv = { 60, 0 };
	enum clnt_stat	 st;
	CLIENT		*clnt;
	char		 err[256] = "";
	unsigned int	 port;
	long		 t0, dt;
	int		 fd;

	fd = cutest_bind_loopback(&port);
	CU_ASSERT_FATAL(fd != -1);
	CU_ASSERT_FATAL(listen(fd, 4) == 0);
	clnt = rpcc_connect("127.0.0.1", port, TEST_PROG, 1, 300, 65536, err,
	    sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(clnt);
	if (clnt == NULL) {
		fprintf(stderr, "\n%s\n", err);
		close(fd);
		return;
	}
	t0 = now_ms();
	/* the per-call timeout is ignored: CLSET_TIMEOUT was set */
	st = clnt_call(clnt, 0, XDR_VOID, NULL, XDR_VOID, NULL, tv);
	dt = now_ms() - t0;
	CU_ASSERT_EQUAL(st, RPC_TIMEDOUT);
	CU_ASSERT_EQUAL(rpcc_error(st), -DFS_ERR_TIMEDOUT);
	/* the connection's 300 ms, not the call's 60 s, with room for a
	 * loaded machine */
	CU_ASSERT(dt >= 250 && dt < 20000);
	clnt_destroy(clnt);
	close(fd);
}

static CU_TestInfo rpcc_tests[] = {
	{ "parse",		test_rpcc__parse },
	{ "parse_long_host",	test_rpcc__parse_long_host },
	{ "error",		test_rpcc__error },
	{ "connect_refused",	test_rpcc__connect_refused },
	{ "call_times_out",	test_rpcc__call_times_out },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "rpcc", NULL, NULL, NULL, NULL, rpcc_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
