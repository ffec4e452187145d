/*
 * t_lockd_wait.c -- dfs-lockd's waiting LOCK requests, driven through
 * lock_compound_1_svc() and wait_tick() with an injected clock.
 *
 * Connections are fakes (struct conn): the waiters' wait_io is a stub
 * that records each reply, so a test sees which requests were answered,
 * in which order and with what.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cutest.h"

#include "kv.h"
#include "svcloop.h"
#include "../../server/lock/lockd.h"

/* --- fake connections --- */

struct conn {
	SVCXPRT		x;		/* first: waiters point here */
	int		gone;		/* the client went away */
	int		nreplies;
	int		seq;		/* late replies: 1, 2, .. */
	dfs_stat	status;		/* the COMPOUND's */
	u_int		nres;
	dfs_stat	st[4];		/* each op's */
	dfs_lockid	id;		/* the last LOCK's, if granted */
	char		dpath[64];	/* its denial, if LOCKED */
	u_int		remaining;
	dfs_lockmode	dmode;
	u_int		lease;		/* the last LOCK's, if granted */
	struct sockaddr_in sin;		/* the client's address, if set */
};

static int	replies;		/* replies sent so far */
static int	alive_calls;		/* stub_alive() calls so far */

/* Makes c a connection from `ip` (a client address for the limits). */
static void
conn_from(struct conn *c, const char *ip)
{
	memset(c, 0, sizeof(*c));
	c->sin.sin_family = AF_INET;
	c->sin.sin_port = htons(1000);
	CU_ASSERT_FATAL(inet_pton(AF_INET, ip, &c->sin.sin_addr) == 1);
	c->x.xp_rtaddr.buf = &c->sin;
	c->x.xp_rtaddr.len = c->x.xp_rtaddr.maxlen = sizeof(c->sin);
}

static int
stub_bind(struct waiter *w, struct svc_req *rq)
{
	if (rq == NULL)
		return -1;
	w->conn = (uintptr_t)rq->rq_xprt;
	return 0;
}

static int
stub_alive(const struct waiter *w)
{
	alive_calls++;
	return !((const struct conn *)(uintptr_t)w->conn)->gone;
}

/* Records a reply in c: statuses, and the last op's (a LOCK's) result. */
static void
record(struct conn *c, const lock_compound_res *res)
{
	const lock_res	*r;
	u_int		 i;

	c->nreplies++;
	c->status = res->status;
	c->nres = res->res.res_len;
	for (i = 0; i < c->nres && i < 4; i++)
		c->st[i] = res->res.res_val[i].lock_resop_u.lock.status;
	if (c->nres == 0 || res->res.res_val[c->nres - 1].op != LOP_LOCK)
		return;
	r = &res->res.res_val[c->nres - 1].lock_resop_u.lock;
	if (r->status == DFS_OK) {
		c->id = r->lock_res_u.ok.id;
		c->lease = r->lock_res_u.ok.lease_ms;
	}
	if (r->status == DFS_ERR_LOCKED) {
		memcpy(c->dpath, r->lock_res_u.denied.path.dfs_path_val,
		    r->lock_res_u.denied.path.dfs_path_len);
		c->dpath[r->lock_res_u.denied.path.dfs_path_len] = '\0';
		c->remaining = r->lock_res_u.denied.remaining_ms;
		c->dmode = r->lock_res_u.denied.mode;
	}
}

/* A late reply: recorded, and numbered in the order sent. */
static void
stub_reply(struct waiter *w)
{
	struct conn	*c = (struct conn *)(uintptr_t)w->conn;

	CU_ASSERT(w->res.res.res_len > 0);
	record(c, &w->res);
	c->seq = ++replies;
}

static const struct wait_io stub_io = { stub_bind, stub_alive, stub_reply };

/* --- fixture --- */

struct fx {
	char		dir[64];
	struct lock_ctx	ctx;
};

static void
fx_open_dir(struct fx *f)
{
	char	err[256];

	memset(&f->ctx, 0, sizeof(f->ctx));
	f->ctx.default_lease_ms = 60000;
	f->ctx.wio = &stub_io;
	CU_ASSERT_FATAL(kv_open(&f->ctx.kv, f->dir, "lockd", err,
	    sizeof(err)) == 0);
	CU_ASSERT_FATAL(table_load(&f->ctx, err, sizeof(err)) == 0);
	compound_setctx(&f->ctx);
	replies = 0;
}

static void
fx_open(struct fx *f)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/t_lockd_wait.XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(f->dir) != NULL);
	fx_open_dir(f);
}

static void
fx_close_state(struct fx *f)
{
	wait_release(&f->ctx);
	table_release(&f->ctx);
	kv_close(f->ctx.kv);
}

static void
fx_close(struct fx *f)
{
	fx_close_state(f);
	CU_ASSERT(cutest_rmtree(f->dir) == 0);
}

/* --- requests --- */

static dfs_path
P(const char *s)
{
	dfs_path	p;

	p.dfs_path_val = (char *)s;
	p.dfs_path_len = (u_int)strlen(s);
	return p;
}

static void
lock_op(lock_argop *op, dfs_path *paths, u_int n, dfs_lockmode mode,
    u_int lease, u_int wait)
{
	memset(op, 0, sizeof(*op));
	op->op = LOP_LOCK;
	op->lock_argop_u.lock.paths.paths_val = paths;
	op->lock_argop_u.lock.paths.paths_len = n;
	op->lock_argop_u.lock.mode = mode;
	op->lock_argop_u.lock.lease_ms = lease;
	op->lock_argop_u.lock.wait_ms = wait;
}

/*
 * Sends a COMPOUND on connection c.  Returns 1 if it was answered at
 * once (recorded in c as a stub reply would be), 0 if it was parked.
 */
static int
submit(struct conn *c, lock_argop *ops, u_int n)
{
	lock_compound_args	args;
	lock_compound_res	res;
	struct svc_req		rq;

	memset(&rq, 0, sizeof(rq));
	rq.rq_xprt = &c->x;
	memset(&res, 0, sizeof(res));
	args.ops.ops_val = ops;
	args.ops.ops_len = n;
	if (!lock_compound_1_svc(&args, &res, &rq)) {
		CU_ASSERT(res.res.res_len == 0 && res.res.res_val == NULL);
		return 0;
	}
	record(c, &res);
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&res);
	return 1;
}

/* LOCK of one path on c.  Returns 1 if answered at once, 0 if parked. */
static int
lock1(struct conn *c, const char *path, dfs_lockmode mode, u_int lease,
    u_int wait)
{
	dfs_path	p = P(path);
	lock_argop	op;

	lock_op(&op, &p, 1, mode, lease, wait);
	return submit(c, &op, 1);
}

/* UNLOCK (LOP_UNLOCK) or RENEW (LOP_RENEW) of id; returns its status. */
static dfs_stat
id_op(lock_opnum which, dfs_lockid id)
{
	struct conn	c;
	lock_argop	op;

	memset(&c, 0, sizeof(c));
	memset(&op, 0, sizeof(op));
	op.op = which;
	if (which == LOP_UNLOCK)
		op.lock_argop_u.unlock = id;
	else
		op.lock_argop_u.renew = id;
	CU_ASSERT_FATAL(submit(&c, &op, 1) == 1);
	return c.status;
}

static dfs_stat
test1(const char *path, dfs_lockid id, dfs_lockmode mode)
{
	struct conn	c;
	lock_argop	op;

	memset(&c, 0, sizeof(c));
	memset(&op, 0, sizeof(op));
	op.op = LOP_TEST;
	op.lock_argop_u.test.path = P(path);
	op.lock_argop_u.test.id = id;
	op.lock_argop_u.test.mode = mode;
	CU_ASSERT_FATAL(submit(&c, &op, 1) == 1);
	return c.status;
}

static const dfs_lockid NOBODY = { 0, 0 };

/* A waiting LOCK of the held "/g" with no request to bind to (stub_bind
 * refuses); returns its status. */
static dfs_stat
lock_now_or_never(void)
{
	lock_compound_args	args;
	lock_compound_res	res;
	dfs_path		p = P("/g");
	lock_argop		op;
	dfs_stat		st;

	lock_op(&op, &p, 1, DFS_LOCK_EXCL, 0, 5000);
	memset(&res, 0, sizeof(res));
	args.ops.ops_val = &op;
	args.ops.ops_len = 1;
	CU_ASSERT_FATAL(lock_compound_1_svc(&args, &res, NULL) == TRUE);
	st = res.status;
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&res);
	return st;
}

/* --- cases --- */

/* A waiter is granted (durably) as soon as the holder unlocks. */
static void
test_lockd_wait__granted_on_unlock(void)
{
	struct fx	f;
	struct conn	a, b;

	fx_open(&f);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	CU_ASSERT(lock1(&a, "/w", DFS_LOCK_EXCL, 0, 0) == 1);
	CU_ASSERT_FATAL(a.status == DFS_OK);
	CU_ASSERT(lock1(&b, "/w", DFS_LOCK_EXCL, 0, 5000) == 0);
	CU_ASSERT(f.ctx.nwaiters == 1 && b.nreplies == 0);
	/* nothing changes while the holder holds */
	wait_tick(&f.ctx, now_ms());
	CU_ASSERT(b.nreplies == 0);
	CU_ASSERT(id_op(LOP_UNLOCK, a.id) == DFS_OK);
	CU_ASSERT_FATAL(b.nreplies == 1);
	CU_ASSERT(b.status == DFS_OK && b.nres == 1);
	CU_ASSERT(b.id.instance == f.ctx.instance && b.id.nonce != 0);
	CU_ASSERT(f.ctx.nwaiters == 0);
	CU_ASSERT(kv_dirty(f.ctx.kv) == 0);
	CU_ASSERT(test1("/w", b.id, DFS_LOCK_EXCL) == DFS_OK);
	CU_ASSERT(test1("/w", NOBODY, DFS_LOCK_SHARED) == DFS_ERR_LOCKED);
	/* the grant survives a restart */
	fx_close_state(&f);
	fx_open_dir(&f);
	CU_ASSERT(test1("/w", b.id, DFS_LOCK_EXCL) == DFS_OK);
	fx_close(&f);
}

/* Three exclusive waiters are granted one after the other, in arrival
 * order; two shared waiters behind an exclusive lock together. */
static void
test_lockd_wait__fifo(void)
{
	struct fx	f;
	struct conn	a, w[3], s[2];
	int		i;

	fx_open(&f);
	memset(&a, 0, sizeof(a));
	memset(w, 0, sizeof(w));
	CU_ASSERT(lock1(&a, "/f", DFS_LOCK_EXCL, 0, 0) == 1);
	for (i = 0; i < 3; i++)
		CU_ASSERT(lock1(&w[i], "/f", DFS_LOCK_EXCL, 0, 5000) == 0);
	CU_ASSERT(f.ctx.nwaiters == 3);
	CU_ASSERT(id_op(LOP_UNLOCK, a.id) == DFS_OK);
	for (i = 0; i < 3; i++) {
		CU_ASSERT_FATAL(w[i].nreplies == 1 && w[i].status == DFS_OK);
		CU_ASSERT(w[i].seq == i + 1);
		if (i < 2)
			CU_ASSERT(w[i + 1].nreplies == 0);
		CU_ASSERT(test1("/f", w[i].id, DFS_LOCK_EXCL) == DFS_OK);
		CU_ASSERT(id_op(LOP_UNLOCK, w[i].id) == DFS_OK);
	}
	CU_ASSERT(f.ctx.nwaiters == 0);
	memset(s, 0, sizeof(s));
	CU_ASSERT(lock1(&a, "/s", DFS_LOCK_EXCL, 0, 0) == 1);
	CU_ASSERT(lock1(&s[0], "/s", DFS_LOCK_SHARED, 0, 5000) == 0);
	CU_ASSERT(lock1(&s[1], "/s", DFS_LOCK_SHARED, 0, 5000) == 0);
	CU_ASSERT(id_op(LOP_UNLOCK, a.id) == DFS_OK);
	CU_ASSERT(s[0].status == DFS_OK && s[1].status == DFS_OK);
	CU_ASSERT(s[0].seq < s[1].seq);
	fx_close(&f);
}

/* A waiter whose time is up gets LOCKED with the conflict's denial. */
static void
test_lockd_wait__timeout(void)
{
	struct fx		f;
	struct conn		a, b;
	unsigned long long	t0;

	fx_open(&f);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	CU_ASSERT(lock1(&a, "/t", DFS_LOCK_EXCL, 60000, 0) == 1);
	t0 = now_ms();
	CU_ASSERT(lock1(&b, "/t", DFS_LOCK_SHARED, 0, 100) == 0);
	wait_tick(&f.ctx, t0 + 50);
	CU_ASSERT(b.nreplies == 0 && f.ctx.nwaiters == 1);
	wait_tick(&f.ctx, t0 + 1000);
	CU_ASSERT_FATAL(b.nreplies == 1);
	CU_ASSERT(b.status == DFS_ERR_LOCKED && b.nres == 1);
	CU_ASSERT_STRING_EQUAL(b.dpath, "/t");
	CU_ASSERT(b.dmode == DFS_LOCK_EXCL);
	CU_ASSERT(b.remaining > 50000 && b.remaining <= 59000);
	CU_ASSERT(f.ctx.nwaiters == 0);
	CU_ASSERT(test1("/t", a.id, DFS_LOCK_EXCL) == DFS_OK);
	fx_close(&f);
}

/* A conflict whose lease lapses is revoked for the waiter (courtesy
 * expiry); its id answers EXPIRED from then on. */
static void
test_lockd_wait__lapsed_revoked(void)
{
	struct fx		f;
	struct conn		a, b;
	unsigned long long	t0 = now_ms();

	fx_open(&f);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	CU_ASSERT(lock1(&a, "/l", DFS_LOCK_EXCL, 100, 0) == 1);
	CU_ASSERT(lock1(&b, "/l", DFS_LOCK_EXCL, 0, 5000) == 0);
	wait_tick(&f.ctx, t0 + 50);
	CU_ASSERT(b.nreplies == 0);
	wait_tick(&f.ctx, now_ms() + 200);
	CU_ASSERT_FATAL(b.nreplies == 1);
	CU_ASSERT(b.status == DFS_OK);
	CU_ASSERT(kv_dirty(f.ctx.kv) == 0);
	CU_ASSERT(id_op(LOP_RENEW, a.id) == DFS_ERR_EXPIRED);
	CU_ASSERT(test1("/l", a.id, DFS_LOCK_EXCL) == DFS_ERR_EXPIRED);
	CU_ASSERT(test1("/l", b.id, DFS_LOCK_EXCL) == DFS_OK);
	fx_close(&f);
}

/*
 * A new request does not overtake an earlier waiter that names one of its
 * paths in a conflicting mode: /j is free, but a waiter wants it (and
 * /k, which is held).
 */
static void
test_lockd_wait__no_jump(void)
{
	struct fx	f;
	struct conn	a, w, n, q, s;
	dfs_path	jk[2] = { P("/j"), P("/k") };
	lock_argop	op;

	fx_open(&f);
	memset(&a, 0, sizeof(a));
	memset(&w, 0, sizeof(w));
	memset(&n, 0, sizeof(n));
	memset(&q, 0, sizeof(q));
	memset(&s, 0, sizeof(s));
	CU_ASSERT(lock1(&a, "/k", DFS_LOCK_EXCL, 0, 0) == 1);
	lock_op(&op, jk, 2, DFS_LOCK_EXCL, 0, 5000);
	CU_ASSERT(submit(&w, &op, 1) == 0);
	/* not waiting: LOCKED, naming the path and the waiter's wait */
	CU_ASSERT(lock1(&n, "/j", DFS_LOCK_SHARED, 0, 0) == 1);
	CU_ASSERT(n.status == DFS_ERR_LOCKED);
	CU_ASSERT_STRING_EQUAL(n.dpath, "/j");
	CU_ASSERT(n.dmode == DFS_LOCK_EXCL);
	CU_ASSERT(n.remaining > 0 && n.remaining <= 5000);
	CU_ASSERT(f.ctx.nlocks == 1);
	/* waiting: queues behind it, and TEST is not affected */
	CU_ASSERT(lock1(&q, "/j", DFS_LOCK_EXCL, 0, 5000) == 0);
	CU_ASSERT(test1("/j", NOBODY, DFS_LOCK_EXCL) == DFS_OK);
	CU_ASSERT(id_op(LOP_UNLOCK, a.id) == DFS_OK);
	CU_ASSERT(w.nreplies == 1 && w.status == DFS_OK);
	CU_ASSERT(q.nreplies == 0);
	CU_ASSERT(id_op(LOP_UNLOCK, w.id) == DFS_OK);
	CU_ASSERT(q.nreplies == 1 && q.status == DFS_OK);
	/* a shared request does not queue behind a shared waiter */
	CU_ASSERT(id_op(LOP_UNLOCK, q.id) == DFS_OK);
	CU_ASSERT(lock1(&a, "/k", DFS_LOCK_EXCL, 0, 0) == 1);
	memset(&w, 0, sizeof(w));
	lock_op(&op, jk, 2, DFS_LOCK_SHARED, 0, 5000);
	CU_ASSERT(submit(&w, &op, 1) == 0);
	CU_ASSERT(lock1(&s, "/j", DFS_LOCK_SHARED, 0, 0) == 1);
	CU_ASSERT(s.status == DFS_OK);
	CU_ASSERT(lock1(&n, "/j", DFS_LOCK_EXCL, 0, 0) == 1);
	CU_ASSERT(n.status == DFS_ERR_LOCKED);
	fx_close(&f);
}

/* wait_ms over five minutes is INVAL, wherever the LOCK is. */
static void
test_lockd_wait__wait_too_long(void)
{
	struct fx	f;
	struct conn	a, b;
	dfs_path	p = P("/x");
	lock_argop	ops[2];

	fx_open(&f);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	CU_ASSERT(lock1(&b, "/x", DFS_LOCK_EXCL, 0, LOCKD_MAX_WAIT_MS + 1) ==
	    1);
	CU_ASSERT(b.status == DFS_ERR_INVAL);
	CU_ASSERT(lock1(&b, "/x", DFS_LOCK_EXCL, 0, UINT_MAX) == 1);
	CU_ASSERT(b.status == DFS_ERR_INVAL);
	lock_op(&ops[0], &p, 1, DFS_LOCK_EXCL, 0, LOCKD_MAX_WAIT_MS + 1);
	ops[1] = ops[0];
	ops[1].lock_argop_u.lock.wait_ms = 0;
	CU_ASSERT(submit(&b, ops, 2) == 1);
	CU_ASSERT(b.status == DFS_ERR_INVAL && b.nres == 1);
	CU_ASSERT(f.ctx.nlocks == 0);
	/* the limit itself is fine */
	CU_ASSERT(lock1(&a, "/x", DFS_LOCK_EXCL, 0, LOCKD_MAX_WAIT_MS) == 1);
	CU_ASSERT(a.status == DFS_OK);
	CU_ASSERT(lock1(&b, "/x", DFS_LOCK_EXCL, 0, LOCKD_MAX_WAIT_MS) == 0);
	CU_ASSERT(f.ctx.nwaiters == 1);
	fx_close(&f);
}

/* A LOCK that is not the last op does not wait; the last one does, and
 * the earlier ops' results come with its late reply. */
static void
test_lockd_wait__not_last(void)
{
	struct fx	f;
	struct conn	a, b;
	dfs_path	held = P("/n"), other = P("/o");
	lock_argop	ops[2];

	fx_open(&f);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	CU_ASSERT(lock1(&a, "/n", DFS_LOCK_EXCL, 0, 0) == 1);
	lock_op(&ops[0], &held, 1, DFS_LOCK_EXCL, 0, 5000);
	memset(&ops[1], 0, sizeof(ops[1]));
	ops[1].op = LOP_TEST;
	ops[1].lock_argop_u.test.path = other;
	ops[1].lock_argop_u.test.mode = DFS_LOCK_SHARED;
	CU_ASSERT(submit(&b, ops, 2) == 1);
	CU_ASSERT(b.status == DFS_ERR_LOCKED && b.nres == 1);
	CU_ASSERT_STRING_EQUAL(b.dpath, "/n");
	CU_ASSERT(f.ctx.nwaiters == 0);
	/* [LOCK /o, LOCK /n wait]: the second waits, the first stands */
	lock_op(&ops[0], &other, 1, DFS_LOCK_EXCL, 0, 5000);
	lock_op(&ops[1], &held, 1, DFS_LOCK_EXCL, 0, 5000);
	memset(&b, 0, sizeof(b));
	CU_ASSERT(submit(&b, ops, 2) == 0);
	CU_ASSERT(f.ctx.nlocks == 2 && kv_dirty(f.ctx.kv) == 0);
	CU_ASSERT(id_op(LOP_UNLOCK, a.id) == DFS_OK);
	CU_ASSERT_FATAL(b.nreplies == 1);
	CU_ASSERT(b.status == DFS_OK && b.nres == 2);
	CU_ASSERT(b.st[0] == DFS_OK && b.st[1] == DFS_OK);
	CU_ASSERT(test1("/n", b.id, DFS_LOCK_EXCL) == DFS_OK);
	fx_close(&f);
}

/* A waiter whose client went away is dropped unanswered at the next
 * event (no tick looks before one) and blocks no one; one whose
 * connection carries a new request is dropped at once. */
static void
test_lockd_wait__gone(void)
{
	struct fx	f;
	struct conn	a, w1, w2, w3;

	fx_open(&f);
	memset(&a, 0, sizeof(a));
	memset(&w1, 0, sizeof(w1));
	memset(&w2, 0, sizeof(w2));
	memset(&w3, 0, sizeof(w3));
	CU_ASSERT(lock1(&a, "/g", DFS_LOCK_EXCL, 0, 0) == 1);
	CU_ASSERT(lock1(&w1, "/g", DFS_LOCK_EXCL, 0, 5000) == 0);
	CU_ASSERT(lock1(&w2, "/g", DFS_LOCK_EXCL, 0, 5000) == 0);
	CU_ASSERT(lock1(&w3, "/g", DFS_LOCK_EXCL, 0, 5000) == 0);
	w1.gone = 1;
	wait_tick(&f.ctx, now_ms());
	CU_ASSERT(f.ctx.nwaiters == 3 && w1.nreplies == 0);
	wait_drop_conn(&f.ctx, (uintptr_t)&w2.x);
	CU_ASSERT(f.ctx.nwaiters == 2);
	CU_ASSERT(id_op(LOP_UNLOCK, a.id) == DFS_OK);
	CU_ASSERT(w1.nreplies == 0 && w2.nreplies == 0);
	CU_ASSERT(w3.nreplies == 1 && w3.status == DFS_OK);
	/* without a connection to answer on later, the answer is now */
	CU_ASSERT(lock_now_or_never() == DFS_ERR_LOCKED);
	CU_ASSERT(f.ctx.nwaiters == 0);
	fx_close(&f);
}

/* All or nothing: a waiter for two paths is granted only when both are
 * free, and a later waiter for one of them stays behind it. */
static void
test_lockd_wait__all_or_nothing(void)
{
	struct fx	f;
	struct conn	a, b, w, v;
	dfs_path	two[2] = { P("/p1"), P("/p2") };
	lock_argop	op;

	fx_open(&f);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&w, 0, sizeof(w));
	memset(&v, 0, sizeof(v));
	CU_ASSERT(lock1(&a, "/p1", DFS_LOCK_EXCL, 0, 0) == 1);
	CU_ASSERT(lock1(&b, "/p2", DFS_LOCK_EXCL, 0, 0) == 1);
	lock_op(&op, two, 2, DFS_LOCK_EXCL, 0, 5000);
	CU_ASSERT(submit(&w, &op, 1) == 0);
	CU_ASSERT(lock1(&v, "/p1", DFS_LOCK_SHARED, 0, 5000) == 0);
	CU_ASSERT(id_op(LOP_UNLOCK, a.id) == DFS_OK);
	CU_ASSERT(w.nreplies == 0 && v.nreplies == 0);
	CU_ASSERT(table_path(&f.ctx, "/p1", 3) == NULL);
	CU_ASSERT(id_op(LOP_UNLOCK, b.id) == DFS_OK);
	CU_ASSERT(w.nreplies == 1 && w.status == DFS_OK);
	CU_ASSERT(v.nreplies == 0);
	CU_ASSERT(id_op(LOP_UNLOCK, w.id) == DFS_OK);
	CU_ASSERT(v.nreplies == 1 && v.status == DFS_OK);
	fx_close(&f);
}

/*
 * Waiters cost nothing between events: ticks before the earliest wake
 * (the end of the holder's lease or of a wait) do not even look at the
 * waiters; the first tick after it answers them all.
 */
static void
test_lockd_wait__idle_ticks_free(void)
{
	struct fx		f;
	struct conn		a, w[100];
	unsigned long long	t0;
	int			i;

	fx_open(&f);
	memset(&a, 0, sizeof(a));
	memset(w, 0, sizeof(w));
	CU_ASSERT(lock1(&a, "/i", DFS_LOCK_EXCL, 60000, 0) == 1);
	t0 = now_ms();
	for (i = 0; i < 100; i++)
		CU_ASSERT(lock1(&w[i], "/i", DFS_LOCK_EXCL, 0, 5000) == 0);
	alive_calls = 0;
	for (i = 0; i < 90; i++)
		wait_tick(&f.ctx, t0 + 50 * (unsigned long long)i);
	CU_ASSERT(alive_calls == 0 && replies == 0);
	CU_ASSERT(f.ctx.nwaiters == 100);
	wait_tick(&f.ctx, t0 + 6000);
	CU_ASSERT(replies == 100 && f.ctx.nwaiters == 0);
	for (i = 0; i < 100; i++)
		CU_ASSERT(w[i].nreplies == 1 &&
		    w[i].status == DFS_ERR_LOCKED);
	fx_close(&f);
}

/*
 * Waiting LOCKs are limited per client address and in total: one over
 * is answered LIMIT at once, other clients keep waiting and are served;
 * a waiter whose client left makes room.
 */
static void
test_lockd_wait__limits(void)
{
	struct fx	f;
	struct conn	a, x[3], y[3];
	int		i;

	fx_open(&f);
	f.ctx.lim.client_waiters = 2;
	f.ctx.lim.max_waiters = 3;
	conn_from(&a, "127.0.0.1");
	for (i = 0; i < 3; i++) {
		conn_from(&x[i], "127.0.0.2");
		conn_from(&y[i], "127.0.0.3");
	}
	CU_ASSERT(lock1(&a, "/q", DFS_LOCK_EXCL, 0, 0) == 1);
	CU_ASSERT(lock1(&x[0], "/q", DFS_LOCK_EXCL, 0, 5000) == 0);
	CU_ASSERT(lock1(&x[1], "/q", DFS_LOCK_EXCL, 0, 5000) == 0);
	/* x's third: its own limit; y's first still waits */
	CU_ASSERT(lock1(&x[2], "/q", DFS_LOCK_EXCL, 0, 5000) == 1);
	CU_ASSERT(x[2].status == DFS_ERR_LIMIT && x[2].nres == 1);
	CU_ASSERT(lock1(&y[0], "/q", DFS_LOCK_EXCL, 0, 5000) == 0);
	/* y's second: the total */
	CU_ASSERT(lock1(&y[1], "/q", DFS_LOCK_EXCL, 0, 5000) == 1);
	CU_ASSERT(y[1].status == DFS_ERR_LIMIT);
	CU_ASSERT(f.ctx.nwaiters == 3);
	/* a client that left makes room */
	x[0].gone = 1;
	CU_ASSERT(lock1(&y[2], "/q", DFS_LOCK_EXCL, 0, 5000) == 0);
	CU_ASSERT(f.ctx.nwaiters == 3 && x[0].nreplies == 0);
	CU_ASSERT(id_op(LOP_UNLOCK, a.id) == DFS_OK);
	CU_ASSERT(x[1].nreplies == 1 && x[1].status == DFS_OK);
	CU_ASSERT(y[0].nreplies == 0 && y[2].nreplies == 0);
	fx_close(&f);
}

/* Waits until now_ms() has passed t (a lease of a few ms to lapse). */
static void
await_ms(unsigned long long t)
{
	unsigned long long	end = now_ms() + 1000;

	while (now_ms() <= t && now_ms() < end)
		;
	CU_ASSERT_FATAL(now_ms() > t);
}

/* LOCK of two paths p0, p1 on c.  Returns the COMPOUND's status. */
static dfs_stat
lock2(struct conn *c, const char *p0, const char *p1, u_int lease)
{
	dfs_path	p[2] = { P(p0), P(p1) };
	lock_argop	op;

	lock_op(&op, p, 2, DFS_LOCK_EXCL, lease, 0);
	CU_ASSERT_FATAL(submit(c, &op, 1) == 1);
	return c->status;
}

/*
 * Locked paths are limited per client address and in total: a LOCK over
 * either is LIMIT and changes nothing, other clients are served, the
 * counts survive a restart, and lapsed locks are revoked to make room.
 */
static void
test_lockd_wait__path_limits(void)
{
	struct fx		f;
	struct conn		x, y;
	dfs_lockid		x1;
	unsigned long long	t;

	fx_open(&f);
	f.ctx.lim.client_paths = 3;
	f.ctx.lim.max_paths = 5;
	conn_from(&x, "127.0.0.2");
	conn_from(&y, "127.0.0.3");
	CU_ASSERT(lock2(&x, "/a", "/b", 0) == DFS_OK);
	x1 = x.id;
	CU_ASSERT(lock2(&x, "/c", "/d", 0) == DFS_ERR_LIMIT);
	CU_ASSERT(test1("/c", NOBODY, DFS_LOCK_EXCL) == DFS_OK);
	CU_ASSERT(lock1(&x, "/c", DFS_LOCK_EXCL, 0, 0) == 1);
	CU_ASSERT(x.status == DFS_OK);
	CU_ASSERT(lock2(&y, "/e", "/f", 0) == DFS_OK);
	CU_ASSERT(lock1(&y, "/g", DFS_LOCK_EXCL, 0, 0) == 1);
	CU_ASSERT(y.status == DFS_ERR_LIMIT);
	CU_ASSERT(f.ctx.npaths == 5);
	/* a restart keeps who holds what */
	fx_close_state(&f);
	fx_open_dir(&f);
	f.ctx.lim.client_paths = 3;
	f.ctx.lim.max_paths = 5;
	CU_ASSERT(f.ctx.npaths == 5);
	CU_ASSERT(lock1(&x, "/h", DFS_LOCK_EXCL, 0, 0) == 1);
	CU_ASSERT(x.status == DFS_ERR_LIMIT);
	CU_ASSERT(id_op(LOP_UNLOCK, x1) == DFS_OK);
	CU_ASSERT(lock1(&y, "/g", DFS_LOCK_EXCL, 0, 0) == 1);
	CU_ASSERT(y.status == DFS_OK);
	/* y at its limit; its lapsed lock is revoked to make room */
	CU_ASSERT(lock1(&y, "/s", DFS_LOCK_EXCL, 0, 0) == 1);
	CU_ASSERT(y.status == DFS_ERR_LIMIT);
	f.ctx.lim.client_paths = 4;
	t = now_ms();
	CU_ASSERT(lock1(&y, "/s", DFS_LOCK_EXCL, 2, 0) == 1);
	CU_ASSERT_FATAL(y.status == DFS_OK);
	x1 = y.id;
	await_ms(t + 3);
	CU_ASSERT(lock1(&y, "/t", DFS_LOCK_EXCL, 0, 0) == 1);
	CU_ASSERT(y.status == DFS_OK);
	CU_ASSERT(id_op(LOP_RENEW, x1) == DFS_ERR_EXPIRED);
	/* a client's only lock, lapsed, revoked by its own new request */
	f.ctx.lim.max_paths = 100;
	conn_from(&x, "127.0.0.4");
	t = now_ms();
	CU_ASSERT(lock1(&x, "/o", DFS_LOCK_EXCL, 2, 0) == 1);
	CU_ASSERT_FATAL(x.status == DFS_OK);
	x1 = x.id;
	await_ms(t + 3);
	CU_ASSERT(lock1(&x, "/o", DFS_LOCK_EXCL, 0, 0) == 1);
	CU_ASSERT(x.status == DFS_OK);
	CU_ASSERT(id_op(LOP_RENEW, x1) == DFS_ERR_EXPIRED);
	CU_ASSERT(id_op(LOP_UNLOCK, x.id) == DFS_OK);
	fx_close(&f);
}

/* A lease over the maximum is clamped, the default one too. */
static void
test_lockd_wait__max_lease(void)
{
	struct fx	f;
	struct conn	c;

	fx_open(&f);
	f.ctx.lim.max_lease_ms = 1000;
	memset(&c, 0, sizeof(c));
	CU_ASSERT(lock1(&c, "/m1", DFS_LOCK_EXCL, 5000, 0) == 1);
	CU_ASSERT(c.status == DFS_OK && c.lease == 1000);
	CU_ASSERT(lock1(&c, "/m2", DFS_LOCK_EXCL, 0, 0) == 1);
	CU_ASSERT(c.status == DFS_OK && c.lease == 1000);
	CU_ASSERT(lock1(&c, "/m3", DFS_LOCK_EXCL, 500, 0) == 1);
	CU_ASSERT(c.status == DFS_OK && c.lease == 500);
	fx_close(&f);
}

/*
 * A lock server the name server does not (or no longer) confirm grants,
 * renews and tests nothing (STANDBY), and answers its waiters so; it
 * still releases; confirmed again, it serves.
 */
static void
test_lockd_wait__standby(void)
{
	struct fx	f;
	struct conn	a, b, w;

	fx_open(&f);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&w, 0, sizeof(w));
	f.ctx.fenced = 1;
	atomic_store(&f.ctx.auth_until, now_ms() + 60000);
	CU_ASSERT(lock1(&a, "/sb", DFS_LOCK_EXCL, 0, 0) == 1);
	CU_ASSERT_FATAL(a.status == DFS_OK);
	CU_ASSERT(lock1(&w, "/sb", DFS_LOCK_EXCL, 0, 5000) == 0);
	atomic_store(&f.ctx.auth_until, now_ms());
	CU_ASSERT(lock1(&b, "/other", DFS_LOCK_EXCL, 0, 0) == 1);
	CU_ASSERT(b.status == DFS_ERR_STANDBY);
	CU_ASSERT(id_op(LOP_RENEW, a.id) == DFS_ERR_STANDBY);
	CU_ASSERT(test1("/sb", a.id, DFS_LOCK_EXCL) == DFS_ERR_STANDBY);
	CU_ASSERT(id_op(LOP_UNLOCK, a.id) == DFS_OK);
	CU_ASSERT(w.nreplies == 1 && w.status == DFS_ERR_STANDBY);
	atomic_store(&f.ctx.auth_until, now_ms() + 60000);
	CU_ASSERT(lock1(&b, "/other", DFS_LOCK_EXCL, 0, 0) == 1);
	CU_ASSERT(b.status == DFS_OK);
	fx_close(&f);
}

static CU_TestInfo wait_tests[] = {
	{ "granted_on_unlock",	test_lockd_wait__granted_on_unlock },
	{ "fifo",		test_lockd_wait__fifo },
	{ "timeout",		test_lockd_wait__timeout },
	{ "lapsed_revoked",	test_lockd_wait__lapsed_revoked },
	{ "no_jump",		test_lockd_wait__no_jump },
	{ "wait_too_long",	test_lockd_wait__wait_too_long },
	{ "not_last",		test_lockd_wait__not_last },
	{ "gone",		test_lockd_wait__gone },
	{ "all_or_nothing",	test_lockd_wait__all_or_nothing },
	{ "idle_ticks_free",	test_lockd_wait__idle_ticks_free },
	{ "limits",		test_lockd_wait__limits },
	{ "path_limits",	test_lockd_wait__path_limits },
	{ "max_lease",		test_lockd_wait__max_lease },
	{ "standby",		test_lockd_wait__standby },
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{ "lockd_wait", NULL, NULL, NULL, NULL, wait_tests },
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return cutest_run(suites);
}
