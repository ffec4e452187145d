/*
 * it_lockauth.c -- one lock authority (invariant 8), with real daemons.
 *
 * Two dfs-lockd registering with one dfs-named used to take turns as
 * "the" lock server every heartbeat, and two clients then held one
 * exclusive lock.  Here the second one must stand by (STANDBY to every
 * LOCK, a clear line in its log) while the first is live, and after the
 * first dies it may take over only once every lease the first granted
 * has run out: a client that took and renewed a lock at the first never
 * overlaps one granted by the second.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"
#include "harness.h"
#include "svcloop.h"

#define LEASE_MS	1000	/* the first lock server's --max-lease */

struct pair {
	char		root[256];
	char		spec[64];
	struct dproc	named, a, b;
};

/* Prepares lock server d (-s to the pair's name server) with state in
 * root/name and its longest lease LEASE_MS. */
static void
lockd_init(struct pair *p, struct dproc *d, const char *name)
{
	harness_init(d, "dfs-lockd", DFS_LOCK_PROG, p->root, name);
	d->extra[0] = "-s";
	d->extra[1] = p->spec;
	d->extra[2] = "--max-lease";
	d->extra[3] = "1";
}

/* Starts the name server and lock server a, then b.  Returns 0 or -1. */
static int
pair_start(struct pair *p)
{
	memset(p, 0, sizeof(*p));
	if (harness_mkroot(p->root, sizeof(p->root)) == -1)
		return -1;
	harness_init(&p->named, "dfs-named", DFS_NAME_PROG, p->root, "named");
	p->named.extra[0] = "-H";
	p->named.extra[1] = "200";
	if (harness_start(&p->named) == -1)
		return -1;
	snprintf(p->spec, sizeof(p->spec), "127.0.0.1:%u", p->named.port);
	lockd_init(p, &p->a, "lockd-a");
	lockd_init(p, &p->b, "lockd-b");
	if (harness_start(&p->a) == -1 || harness_start(&p->b) == -1)
		return -1;
	return 0;
}

/* Stops what runs, each asserted to exit 0, and removes the root. */
static void
pair_stop(struct pair *p)
{
	struct dproc	*d[] = { &p->b, &p->a, &p->named };
	size_t		 i;
	int		 st;

	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		if (d[i]->pid <= 0)
			continue;
		st = harness_stop(d[i]);
		CU_ASSERT(st == 0);
		if (st != 0 || CU_get_number_of_failures() > 0)
			harness_dump_log(d[i]);
	}
	if (getenv("DFS_KEEP") == NULL)
		harness_rmtree(p->root);
}

/* Returns 1 once d's log holds `text`, polling for at most 5 s. */
static int
log_says(const struct dproc *d, const char *text)
{
	char	buf[8192];
	size_t	n;
	FILE	*fp;
	int	i;

	for (i = 0; i < 250; i++) {
		if ((fp = fopen(d->log, "r")) != NULL) {
			n = fread(buf, 1, sizeof(buf) - 1, fp);
			fclose(fp);
			buf[n] = '\0';
			if (strstr(buf, text) != NULL)
				return 1;
		}
		usleep(20 * 1000);
	}
	return 0;
}

/* The lock servers the name server lists: how many, and the port of
 * the last.  Returns the count, or -1. */
static int
lock_servers(struct pair *p, unsigned int *port)
{
	name_compound_res	 res;
	const servers_res	*sr;
	const dfs_server	*sv;
	u_int			 i;
	int			 n = -1;

	if ((sr = harness_servers(&p->named, &res)) != NULL)
		for (i = 0, n = 0; i < sr->servers_res_u.servers.servers_len;
		    i++) {
			sv = &sr->servers_res_u.servers.servers_val[i];
			if (sv->kind != DFS_SRV_LOCK)
				continue;
			n++;
			*port = sv->port;
		}
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return n;
}

/* RENEW of id over lc.  Returns the status, DFS_ERR_RPC on no reply. */
static dfs_stat
renew(CLIENT *lc, const dfs_lockid *id)
{
	struct lock_req		 r = { .n = 0 };
	lock_compound_res	 res;
	dfs_stat		 st;

	lock_req_add(&r, LOP_RENEW)->lock_argop_u.renew = *id;
	memset(&res, 0, sizeof(res));
	if (lock_call(lc, &r, &res) != RPC_SUCCESS)
		return DFS_ERR_RPC;
	st = res.status;
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&res);
	return st;
}

/*
 * The second lock server stands by: its log says why, it answers
 * STANDBY to every LOCK over many heartbeats while the first grants,
 * and the name server lists the first only.
 */
static void
test_lockauth__second_refused(void)
{
	struct pair	p;
	CLIENT		*ca = NULL, *cb = NULL;
	dfs_lockid	id;
	unsigned int	port = 0;
	int		i, bad = 0;

	CU_ASSERT_FATAL(pair_start(&p) == 0 || (pair_stop(&p), 0));
	CU_ASSERT(log_says(&p.b, "another lock server is the authority"));
	ca = harness_clnt(&p.a);
	cb = harness_clnt(&p.b);
	CU_ASSERT_FATAL(ca != NULL && cb != NULL);
	CU_ASSERT(harness_lock(ca, "/x", DFS_LOCK_EXCL, 0, &id) == DFS_OK);
	/* 2 s: ten heartbeats of each, which used to swap the authority */
	for (i = 0; i < 40; i++) {
		if (harness_lock(cb, "/x", DFS_LOCK_EXCL, 0, &id) !=
		    DFS_ERR_STANDBY ||
		    harness_lock(cb, "/y", DFS_LOCK_SHARED, 0, &id) !=
		    DFS_ERR_STANDBY ||
		    lock_servers(&p, &port) != 1 || port != p.a.port)
			bad++;
		usleep(50 * 1000);
	}
	CU_ASSERT(bad == 0);
	CU_ASSERT(harness_lock(ca, "/y", DFS_LOCK_EXCL, 0, &id) == DFS_OK);
	clnt_destroy(ca);
	clnt_destroy(cb);
	pair_stop(&p);
}

/*
 * After the first lock server is killed, the second takes over, but not
 * before the lease of the lock a client kept renewing at the first ran
 * out; the restarted first one is then refused.
 */
static void
test_lockauth__takeover_waits(void)
{
	struct pair		 p;
	CLIENT			*ca, *cb;
	dfs_lockid		 id;
	unsigned long long	 last = 0, t, end, got = 0;
	unsigned int		 port = 0;
	dfs_stat		 st;
	int			 i;

	CU_ASSERT_FATAL(pair_start(&p) == 0 || (pair_stop(&p), 0));
	ca = harness_clnt(&p.a);
	cb = harness_clnt(&p.b);
	CU_ASSERT_FATAL(ca != NULL && cb != NULL);
	CU_ASSERT_FATAL(harness_lock(ca, "/t", DFS_LOCK_EXCL, 60000, &id) ==
	    DFS_OK);
	for (i = 0; i < 10; i++) {
		t = now_ms();
		if (renew(ca, &id) == DFS_OK)
			last = t;
		usleep(50 * 1000);
	}
	CU_ASSERT_FATAL(last != 0);
	clnt_destroy(ca);
	CU_ASSERT(harness_kill9(&p.a) == 0);
	end = now_ms() + 20000;
	do {
		st = harness_lock(cb, "/t", DFS_LOCK_EXCL, 0, &id);
		if (st == DFS_OK)
			got = now_ms();
		else if (st != DFS_ERR_STANDBY)
			break;
		else
			usleep(50 * 1000);
	} while (got == 0 && now_ms() < end);
	CU_ASSERT_FATAL(got != 0);
	/* the lock renewed at the first lock server was held, at least,
	 * until LEASE_MS after the last RENEW was sent */
	CU_ASSERT(got >= last + LEASE_MS);
	CU_ASSERT(lock_servers(&p, &port) == 1 && port == p.b.port);
	/* the old authority comes back: it stands by */
	CU_ASSERT_FATAL(harness_start(&p.a) == 0);
	ca = harness_clnt(&p.a);
	CU_ASSERT_FATAL(ca != NULL);
	CU_ASSERT(harness_lock(ca, "/u", DFS_LOCK_EXCL, 0, &id) ==
	    DFS_ERR_STANDBY);
	CU_ASSERT(harness_lock(cb, "/u", DFS_LOCK_EXCL, 0, &id) == DFS_OK);
	clnt_destroy(ca);
	clnt_destroy(cb);
	pair_stop(&p);
}

static CU_TestInfo lockauth_tests[] = {
	{ "second_refused",	test_lockauth__second_refused },
	{ "takeover_waits",	test_lockauth__takeover_waits },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "lockauth", NULL, NULL, NULL, NULL, lockauth_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return cutest_run(suites);
}
