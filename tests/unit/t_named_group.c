/*
 * t_named_group.c -- dfs-named's group commit (server/name/group.c),
 * driven through name_compound_1_svc() with a stub transport: each fake
 * connection is a struct svc_req, and the stub records, for every reply
 * it is asked to send, whether the store still had undurable changes
 * and how many log syncs had happened.  The invariant under test: no
 * reply leaves while a change it may reflect is not durable, and one
 * sync covers every change of a round.  A second suite runs group.c's
 * own libtirpc transport over a fake SVCXPRT, to check what it does
 * when libtirpc reads a new request on, or destroys, a connection whose
 * reply is held.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "kv.h"
#include "../../server/name/named.h"
#include "named_driver.h"

#define NCONN	8
#define MAXSENT	64

static struct {
	char			dir[64];
	struct kv		*kv;
	struct named_ctx	nc;
} fx;

/* The stub transport: what was sent, and when. */
static struct {
	struct svc_req	conn[NCONN];	/* one fake connection each */
	int		held[NCONN];	/* replies held per connection */
	int		bind_fails;
	int		nsent, nunbound;
	int		sent_conn[MAXSENT];
	dfs_stat	sent_status[MAXSENT];
	int		sent_pending[MAXSENT];	/* kv_pending() at send */
	uint64_t	sent_syncs[MAXSENT];	/* log syncs at send */
} io;

static int
conn_index(const void *conn)
{
	return (int)((const struct svc_req *)conn - io.conn);
}

static int
stub_bind(struct held *h, struct svc_req *rq)
{
	if (io.bind_fails)
		return -1;
	h->conn = rq;
	io.held[conn_index(rq)]++;
	return 0;
}

static void
stub_send(struct held *h)
{
	struct kv_counts	kc;
	int			i = io.nsent++;

	CU_ASSERT_FATAL(i < MAXSENT);
	kv_counts(fx.kv, &kc);
	io.sent_conn[i] = conn_index(h->conn);
	io.sent_status[i] = h->res.status;
	io.sent_pending[i] = kv_pending(fx.kv);
	io.sent_syncs[i] = kc.syncs;
	io.held[conn_index(h->conn)]--;
}

static void
stub_unbind(struct held *h)
{
	io.nunbound++;
	io.held[conn_index(h->conn)]--;
}

static const struct group_io stub_io = { stub_bind, stub_send,
    stub_unbind };

static void
fx_open(const char *dir)
{
	char	err[256];

	CU_ASSERT_FATAL(kv_open(&fx.kv, dir, "named", err, sizeof(err)) == 0);
	CU_ASSERT_FATAL(named_init(&fx.nc, fx.kv, NAMED_HB_DEFAULT, err,
	    sizeof(err)) == 0);
	fx.nc.group.io = &stub_io;
	named_set_ctx(&fx.nc);
}

static void
fx_close(void)
{
	named_release(&fx.nc);
	kv_close(fx.kv);
	fx.kv = NULL;
}

static void
test_setup(void)
{
	memset(&io, 0, sizeof(io));
	strcpy(fx.dir, "/tmp/t_named_group.XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(fx.dir) != NULL);
	fx_open(fx.dir);
}

static void
test_teardown(void)
{
	B();
	if (fx.kv != NULL)
		fx_close();
	cutest_rmtree(fx.dir);
}

static uint64_t
syncs(void)
{
	struct kv_counts	kc;

	kv_counts(fx.kv, &kc);
	return kc.syncs;
}

static uint64_t
records(void)
{
	struct kv_counts	kc;

	kv_counts(fx.kv, &kc);
	return kc.records;
}

/*
 * Runs the ops added since B() as a request on connection `c` (-1: a
 * direct call, rq NULL).  Returns what name_compound_1_svc() returned:
 * TRUE, reply now (R holds it), or FALSE, held (R is empty).
 */
static bool_t
run_on(int c)
{
	name_compound_args	args;

	if (c < 0) {
		(void)go();		/* asserts TRUE */
		return TRUE;
	}
	args.ops.ops_len = nops;
	args.ops.ops_val = ops;
	return name_compound_1_svc(&args, &R, &io.conn[c]);
}

static bool_t
mkdir_on(int c, const char *name)
{
	name_argop	*a;

	B();
	add(OP_PUTROOTFH);
	a = add(OP_MKDIR);
	a->name_argop_u.mkdir.name.dfs_name_val = (char *)name;
	a->name_argop_u.mkdir.name.dfs_name_len = (u_int)strlen(name);
	a->name_argop_u.mkdir.mode = 0755;
	return run_on(c);
}

static bool_t
getattr_on(int c, const char *path)
{
	B();
	add(OP_PUTROOTFH);
	if (path != NULL)
		add(OP_LOOKUP)->name_argop_u.lookup = (dfs_path){
		    (u_int)strlen(path), (char *)path };
	add(OP_GETATTR);
	return run_on(c);
}

/* Every reply sent so far went out with nothing pending, after sync
 * number `after` or a later one. */
static void
assert_all_sent_durable(uint64_t after)
{
	int	i;

	for (i = 0; i < io.nsent; i++) {
		CU_ASSERT(io.sent_pending[i] == 0);
		CU_ASSERT(io.sent_syncs[i] > after);
	}
}

/* --- tests --- */

/* With nothing pending a read is answered at once: no hold, no sync. */
static void
test_group__read_goes_at_once(void)
{
	uint64_t	s0 = syncs();

	CU_ASSERT(getattr_on(0, NULL) == TRUE);
	CU_ASSERT(R.status == DFS_OK && R.res.res_len == 2);
	CU_ASSERT(fx.nc.group.nheld == 0);
	CU_ASSERT(syncs() == s0);
}

/* A change is held until the sync; so is a read after it (it may show
 * the change), on another connection. */
static void
test_group__change_held_until_sync(void)
{
	uint64_t	s0 = syncs();

	CU_ASSERT(mkdir_on(0, "d") == FALSE);
	CU_ASSERT(R.res.res_len == 0);		/* moved into the queue */
	CU_ASSERT(kv_pending(fx.kv));
	CU_ASSERT(getattr_on(1, "d") == FALSE);
	CU_ASSERT(fx.nc.group.nheld == 2);
	CU_ASSERT(io.nsent == 0 && syncs() == s0);
	group_flush(&fx.nc);
	CU_ASSERT_FATAL(io.nsent == 2);
	CU_ASSERT(io.sent_conn[0] == 0 && io.sent_conn[1] == 1);
	CU_ASSERT(io.sent_status[0] == DFS_OK && io.sent_status[1] ==
	    DFS_OK);
	assert_all_sent_durable(s0);
	CU_ASSERT(syncs() == s0 + 1);
	CU_ASSERT(!kv_pending(fx.kv) && fx.nc.group.nheld == 0);
	CU_ASSERT(io.held[0] == 0 && io.held[1] == 0);
}

/* Changes from every connection of a round share one sync; each is a
 * log record of its own. */
static void
test_group__one_sync_per_round(void)
{
	uint64_t	s0 = syncs(), r0 = records();
	char		name[32];
	int		c, round;

	for (round = 0; round < 3; round++) {
		for (c = 0; c < NCONN; c++) {
			snprintf(name, sizeof(name), "r%dc%d", round, c);
			CU_ASSERT(mkdir_on(c, name) == FALSE);
		}
		CU_ASSERT(fx.nc.group.nheld == NCONN);
		group_flush(&fx.nc);
		CU_ASSERT(syncs() == s0 + (uint64_t)round + 1);
	}
	CU_ASSERT(records() == r0 + 3 * NCONN);
	CU_ASSERT(io.nsent == 3 * NCONN);
	assert_all_sent_durable(s0);
	/* a flush with nothing pending syncs nothing */
	group_flush(&fx.nc);
	CU_ASSERT(syncs() == s0 + 3);
}

/* A COMPOUND that fails before writing changes nothing: answered at
 * once when nothing else is pending. */
static void
test_group__failed_change_goes_at_once(void)
{
	uint64_t	s0;

	CU_ASSERT(mkdir_on(-1, "d") == TRUE);
	s0 = syncs();
	CU_ASSERT(mkdir_on(0, "d") == TRUE);
	CU_ASSERT(R.status == DFS_ERR_EXIST);
	CU_ASSERT(fx.nc.group.nheld == 0 && syncs() == s0);
}

/* A direct call (no connection) is durable when it returns. */
static void
test_group__direct_call_syncs(void)
{
	uint64_t	s0 = syncs();

	CU_ASSERT(mkdir_on(-1, "d") == TRUE);
	CU_ASSERT(R.status == DFS_OK);
	CU_ASSERT(!kv_pending(fx.kv));
	CU_ASSERT(syncs() == s0 + 1);
}

/* A reply that cannot be held goes at once, synced first. */
static void
test_group__bind_failure_syncs(void)
{
	uint64_t	s0 = syncs();

	io.bind_fails = 1;
	CU_ASSERT(mkdir_on(0, "d") == TRUE);
	CU_ASSERT(R.status == DFS_OK);
	CU_ASSERT(!kv_pending(fx.kv) && syncs() == s0 + 1);
	CU_ASSERT(fx.nc.group.nheld == 0);
}

/* Shutdown frees held replies unsent. */
static void
test_group__release(void)
{
	CU_ASSERT(mkdir_on(0, "a") == FALSE);
	CU_ASSERT(mkdir_on(1, "b") == FALSE);
	group_release(&fx.nc);
	CU_ASSERT(io.nsent == 0 && io.nunbound == 2);
	CU_ASSERT(fx.nc.group.nheld == 0 && fx.nc.group.head == NULL);
}

/* Returns the calls of STATS counter `name` in R, or UINT64_MAX. */
static uint64_t
stat_calls(const char *name)
{
	const stats_res	*st;
	u_int		 i;

	CU_ASSERT_FATAL(R.res.res_len == 1);
	st = &R.res.res_val[0].name_resop_u.stats;
	for (i = 0; i < st->stats_res_u.counters.counters_len; i++)
		if (strcmp(st->stats_res_u.counters.counters_val[i].name,
		    name) == 0)
			return st->stats_res_u.counters.counters_val[i].calls;
	return UINT64_MAX;
}

/* STATS shows the sharing: more log records than syncs. */
static void
test_group__stats(void)
{
	uint64_t	commits0, syncs0;
	char		name[32];
	int		c;

	B();
	add(OP_STATS);
	CU_ASSERT_FATAL(run_on(0) == TRUE);
	commits0 = stat_calls("LOG_COMMITS");
	syncs0 = stat_calls("LOG_SYNCS");
	CU_ASSERT(commits0 != UINT64_MAX && syncs0 != UINT64_MAX);
	for (c = 0; c < NCONN; c++) {
		snprintf(name, sizeof(name), "s%d", c);
		CU_ASSERT(mkdir_on(c, name) == FALSE);
	}
	group_flush(&fx.nc);
	B();
	add(OP_STATS);
	CU_ASSERT_FATAL(run_on(0) == TRUE);
	CU_ASSERT(stat_calls("LOG_COMMITS") == commits0 + NCONN);
	CU_ASSERT(stat_calls("LOG_SYNCS") == syncs0 + 1);
}

/* What a flush acknowledged is there after a kill -9. */
static void
test_group__crash_after_flush(void)
{
	char	crashdir[64], name[32];
	int	c;

	for (c = 0; c < NCONN; c++) {
		snprintf(name, sizeof(name), "k%d", c);
		CU_ASSERT(mkdir_on(c, name) == FALSE);
	}
	group_flush(&fx.nc);
	CU_ASSERT_FATAL(io.nsent == NCONN);
	B();
	strcpy(crashdir, "/tmp/t_named_group_crash.XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(crashdir) != NULL);
	CU_ASSERT_FATAL(cutest_crash_copy(fx.dir, crashdir, "named") == 0);
	fx_close();
	fx_open(crashdir);
	for (c = 0; c < NCONN; c++) {
		snprintf(name, sizeof(name), "k%d", c);
		CU_ASSERT(getattr_on(-1, name) == TRUE && R.status == DFS_OK);
	}
	B();
	fx_close();
	cutest_rmtree(crashdir);
	fx_open(fx.dir);
}

/* --- the libtirpc side, over a fake connection --- */

/* A fake SVCXPRT whose ops record what libtirpc would have done. */
static struct {
	SVCXPRT		xprt;
	struct svc_req	rq;
	int		nrecv, ndestroy, nreply;
	int		pending_at_reply;
} fake;

static bool_t
fake_recv(SVCXPRT *xprt, struct rpc_msg *msg)
{
	(void)xprt;
	(void)msg;
	fake.nrecv++;
	return FALSE;
}

static enum xprt_stat
fake_stat(SVCXPRT *xprt)
{
	(void)xprt;
	return XPRT_IDLE;
}

static bool_t
fake_args(SVCXPRT *xprt, xdrproc_t proc, void *p)
{
	(void)xprt;
	(void)proc;
	(void)p;
	return TRUE;
}

static bool_t
fake_reply(SVCXPRT *xprt, struct rpc_msg *msg)
{
	(void)xprt;
	(void)msg;
	fake.nreply++;
	fake.pending_at_reply = kv_pending(fx.kv);
	return TRUE;
}

static void
fake_destroy(SVCXPRT *xprt)
{
	(void)xprt;
	fake.ndestroy++;
}

static const struct xp_ops fake_ops = { fake_recv, fake_stat, fake_args,
    fake_reply, fake_args, fake_destroy };

static void
tirpc_setup(void)
{
	test_setup();
	fx.nc.group.io = NULL;		/* group.c's svcx transport */
	memset(&fake, 0, sizeof(fake));
	fake.xprt.xp_ops = &fake_ops;
	fake.rq.rq_xprt = &fake.xprt;
}

static bool_t
mkdir_fake(const char *name)
{
	name_compound_args	args;
	name_argop		*a;

	B();
	add(OP_PUTROOTFH);
	a = add(OP_MKDIR);
	a->name_argop_u.mkdir.name.dfs_name_val = (char *)name;
	a->name_argop_u.mkdir.name.dfs_name_len = (u_int)strlen(name);
	a->name_argop_u.mkdir.mode = 0755;
	args.ops.ops_len = nops;
	args.ops.ops_val = ops;
	return name_compound_1_svc(&args, &R, &fake.rq);
}

/* A request that did not come through svcx cannot be held: the change
 * is synced and the dispatcher replies at once.  (Held replies over real
 * connections are tests/unit/t_svcx.c's.) */
static void
test_tirpc__foreign_xprt_syncs(void)
{
	CU_ASSERT(mkdir_fake("a") == TRUE);
	CU_ASSERT(!kv_pending(fx.kv));
	CU_ASSERT(fx.nc.group.nheld == 0);
	CU_ASSERT(fake.nreply == 0);	/* the dispatcher's to send */
}

static CU_TestInfo tirpc_tests[] = {
	{ "foreign_xprt_syncs", test_tirpc__foreign_xprt_syncs },
	CU_TEST_INFO_NULL,
};

static CU_TestInfo group_tests[] = {
	{ "read_goes_at_once", test_group__read_goes_at_once },
	{ "change_held_until_sync", test_group__change_held_until_sync },
	{ "one_sync_per_round", test_group__one_sync_per_round },
	{ "failed_change_goes_at_once",
	    test_group__failed_change_goes_at_once },
	{ "direct_call_syncs", test_group__direct_call_syncs },
	{ "bind_failure_syncs", test_group__bind_failure_syncs },
	{ "release", test_group__release },
	{ "stats", test_group__stats },
	{ "crash_after_flush", test_group__crash_after_flush },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "group", NULL, NULL, test_setup, test_teardown, group_tests },
	{ "tirpc", NULL, NULL, tirpc_setup, test_teardown, tirpc_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
