/*
 * it_named_register.c -- where servers say they are (issue 17, item 9),
 * in a network namespace of the test's own.
 *
 * The test enters a new network namespace (unshare(2); root only, else
 * it is skipped, exit 77) whose loopback interface also carries
 * ADDR, an address that is not a loopback one, so the name server can
 * be reached from a non-loopback address without any real network:
 * nothing outside the namespace can reach its daemons.  Checked:
 *  - a REGISTER from ADDR advertising 127.0.0.1 is refused (INVAL), the
 *    same from the loopback, or advertising ADDR, is accepted;
 *  - a server listening on a wildcard address advertises the address
 *    its connection to the name server has now, not the first one;
 *  - dfs-lockd that would advertise 127.0.0.1 to a name server at ADDR
 *    refuses to start, saying why; on a wildcard address it starts and
 *    advertises ADDR.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "harness.h"
#include "peer.h"
#include "registrar.h"

#define ADDR	"10.77.0.2"

static char		root[256];
static struct dproc	named;

static int
suite_init(void)
{
	if (harness_mkroot(root, sizeof(root)) != 0)
		return -1;
	harness_init(&named, "dfs-named", DFS_NAME_PROG, root, "named");
	/* the namespace's own addresses only: 127.0.0.1 and ADDR */
	named.extra[0] = "-b";
	named.extra[1] = "0.0.0.0";
	named.extra[2] = "-H";
	named.extra[3] = "200";
	return harness_start(&named) == 0 ? 0 : -1;
}

static int
suite_clean(void)
{
	int	st = harness_stop(&named);

	if (st != 0)
		harness_dump_log(&named);
	if (getenv("DFS_KEEP") == NULL)
		harness_rmtree(root);
	return st == 0 ? 0 : -1;
}

/* A client of the name server whose connection comes from `src`. */
static CLIENT *
clnt_from(const char *src)
{
	struct sockaddr_in	 sa;
	struct netbuf		 nb;
	struct timeval		 tv = { 5, 0 };
	CLIENT			*c;
	int			 fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd == -1)
		return NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	inet_pton(AF_INET, src, &sa.sin_addr);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		goto fail;
	sa.sin_port = htons((uint16_t)named.port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		goto fail;
	nb.buf = &sa;
	nb.len = nb.maxlen = sizeof(sa);
	c = clnt_vc_create(fd, &nb, DFS_NAME_PROG, DFS_NAME_VERS, 0, 0);
	if (c == NULL)
		goto fail;
	clnt_control(c, CLSET_FD_CLOSE, NULL);
	clnt_control(c, CLSET_TIMEOUT, (char *)&tv);
	return c;
fail:
	close(fd);
	return NULL;
}

/* REGISTER a file server advertising host:port over c.  Returns the
 * status, DFS_ERR_RPC without reply. */
static dfs_stat
register_as(CLIENT *c, const char *host, unsigned int port)
{
	name_compound_res	 res;
	struct name_req		 r = { .n = 0 };
	register_args		*ra;
	dfs_stat		 st;

	ra = &name_req_add(&r, OP_REGISTER)->name_argop_u.reg;
	ra->kind = DFS_SRV_FILE;
	ra->host = (char *)host;
	ra->port = port;
	if (name_call(c, &r, &res) != RPC_SUCCESS)
		return DFS_ERR_RPC;
	st = res.status;
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return st;
}

/* The host the name server lists for server `id`, copied into host
 * ("" when it is not listed).  Returns 0 or -1 (no answer). */
static int
listed_host(uint64_t id, char *host, size_t len)
{
	name_compound_res	 res;
	struct name_req		 r = { .n = 0 };
	CLIENT			*c = harness_clnt(&named);
	const dfs_server	*s;
	u_int			 i, n;
	int			 rc = -1;

	host[0] = '\0';
	if (c == NULL)
		return -1;
	name_req_add(&r, OP_SERVERS);
	if (name_call(c, &r, &res) == RPC_SUCCESS && res.status == DFS_OK) {
		n = res.res.res_val[0].name_resop_u.servers.servers_res_u.
		    servers.servers_len;
		s = res.res.res_val[0].name_resop_u.servers.servers_res_u.
		    servers.servers_val;
		for (i = 0; i < n; i++)
			if (s[i].id == id)
				snprintf(host, len, "%s", s[i].host);
		rc = 0;
	}
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	clnt_destroy(c);
	return rc;
}

/* The name server refuses loopback advertised from a non-loopback
 * address, and accepts it from the loopback. */
static void
test_register__loopback_from_afar(void)
{
	CLIENT	*far, *near;

	far = clnt_from(ADDR);
	near = clnt_from("127.0.0.1");
	CU_ASSERT_FATAL(far != NULL && near != NULL);
	CU_ASSERT_EQUAL(register_as(far, "127.0.0.1", 4001), DFS_ERR_INVAL);
	CU_ASSERT_EQUAL(register_as(far, "::1", 4001), DFS_ERR_INVAL);
	CU_ASSERT_EQUAL(register_as(far, "localhost", 4001), DFS_ERR_INVAL);
	CU_ASSERT_EQUAL(register_as(far, ADDR, 4001), DFS_OK);
	CU_ASSERT_EQUAL(register_as(near, "127.0.0.1", 4002), DFS_OK);
	clnt_destroy(far);
	clnt_destroy(near);
}

/*
 * A registrar on a wildcard address advertises the local address of its
 * connection as it is at each REGISTER: here the way to the name server
 * changes from the loopback to ADDR, as a renumbered host's would.
 */
static void
test_register__wildcard_current(void)
{
	struct registrar	reg;
	struct peer		np;
	char			dir[300], host[DFS_MAXHOSTLEN + 1];

	snprintf(dir, sizeof(dir), "%s/reg", root);
	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0700), 0);
	peer_init_addr(&np, "127.0.0.1", named.port, DFS_NAME_PROG,
	    DFS_NAME_VERS, 5000);
	CU_ASSERT_EQUAL_FATAL(registrar_init(&reg, &np, DFS_SRV_FILE, dir,
	    "0.0.0.0", 4003, NULL, 0), 0);
	CU_ASSERT_EQUAL_FATAL(registrar_register(&reg), 0);
	CU_ASSERT_EQUAL(listed_host(reg.id, host, sizeof(host)), 0);
	CU_ASSERT_STRING_EQUAL(host, "127.0.0.1");
	/* the old way is gone; the next REGISTER goes the new one */
	peer_close(&np);
	snprintf(np.host, sizeof(np.host), "%s", ADDR);
	CU_ASSERT_EQUAL(registrar_register(&reg), 0);
	CU_ASSERT_EQUAL(listed_host(reg.id, host, sizeof(host)), 0);
	CU_ASSERT_STRING_EQUAL(host, ADDR);
	peer_close(&np);
}

/* Returns 1 if file `path` contains `s`. */
static int
file_has(const char *path, const char *s)
{
	char	buf[8192];
	size_t	n;
	FILE	*fp = fopen(path, "r");

	if (fp == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return strstr(buf, s) != NULL;
}

/* Returns the id of a live lock server advertising `host`, or 0; waits
 * for one at most 5 s (it registers as it starts). */
static uint64_t
wait_lockd(const char *host)
{
	struct timespec	 ts = { 0, 20 * 1000000L };
	char		 h[DFS_MAXHOSTLEN + 1];
	uint64_t	 id;
	int		 i;

	for (i = 0; i < 250; i++) {
		for (id = 1; id < 16; id++)
			if (listed_host(id, h, sizeof(h)) == 0 &&
			    strcmp(h, host) == 0)
				return id;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* dfs-lockd on 127.0.0.1 told of a name server at ADDR refuses to
 * start and says why; on a wildcard address it advertises ADDR. */
static void
test_register__lockd_refuses_loopback(void)
{
	struct dproc	lockd;
	char		spec[64];

	snprintf(spec, sizeof(spec), "%s:%u", ADDR, named.port);
	harness_init(&lockd, "dfs-lockd", DFS_LOCK_PROG, root, "lockd");
	lockd.extra[0] = "-s";
	lockd.extra[1] = spec;
	fprintf(stderr, "(a refused start and its log follow)\n");
	if (harness_start(&lockd) == 0) {
		CU_FAIL("dfs-lockd started advertising 127.0.0.1");
		(void)harness_stop(&lockd);
	}
	CU_ASSERT(file_has(lockd.log, "refusing to advertise a loopback"));
	CU_ASSERT(file_has(lockd.log, "start with -b"));
	harness_init(&lockd, "dfs-lockd", DFS_LOCK_PROG, root, "lockd2");
	lockd.extra[0] = "-s";
	lockd.extra[1] = spec;
	lockd.extra[2] = "-b";
	lockd.extra[3] = "0.0.0.0";
	CU_ASSERT_EQUAL_FATAL(harness_start(&lockd), 0);
	CU_ASSERT(wait_lockd(ADDR) != 0);
	CU_ASSERT_EQUAL(harness_stop(&lockd), 0);
}

static CU_TestInfo register_tests[] = {
	{ "loopback_from_afar", test_register__loopback_from_afar },
	{ "wildcard_current", test_register__wildcard_current },
	{ "lockd_refuses_loopback", test_register__lockd_refuses_loopback },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "named_register", suite_init, suite_clean, NULL, NULL,
	    register_tests },
	CU_SUITE_INFO_NULL,
};

/* Enters a network namespace of our own with ADDR on its loopback.
 * Returns 0, or -1 with the reason on stdout. */
static int
enter_netns(void)
{
	if (unshare(CLONE_NEWNET) == -1) {
		printf("skipped: cannot make a network namespace: %s\n",
		    strerror(errno));
		return -1;
	}
	if (system("ip link set lo up && ip addr add " ADDR "/32 dev lo") !=
	    0) {
		printf("skipped: cannot configure the namespace with ip(8)\n");
		return -1;
	}
	return 0;
}

int
main(void)
{
	if (enter_netns() != 0)
		return 77;
	return cutest_run(suites);
}
