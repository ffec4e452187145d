/*
 * compound.c -- the LOCK program's op table and its COMPOUND procedure.
 *
 * Only the table and the entry point live here; the loop is lib/
 * compound.c, the handlers are op_lock.c and the waiting LOCKs wait.c.
 * A COMPOUND that changed the lock table is made durable (kv_commit)
 * before the reply is sent; so is every grant to a waiter.  The loop
 * counts every op in lock_ctx's counters, which STATS returns; a LOCK
 * that waits counts once, when it arrives.  Each COMPOUND gets a struct
 * op_ctx holding the caller's address (limits.c counts locks and waiters
 * per client address) and whether its last op, a LOCK, is to wait.
 */
#include <stddef.h>
#include <string.h>

#include "dispatch.h"
#include "compound.h"
#include "kv.h"
#include "lockd.h"
#include "log.h"
#include "svcloop.h"

COMPOUND_TABLE(lock);

/* Log bytes one op may append, at most: a LOCK of every path it may
 * name, each as long as a path may be, plus the record's framing. */
#define LOCKD_OP_ROOM	(DFS_MAXLOCKPATHS * (DFS_MAXPATHLEN + 64) + 4096)
/* What an UNLOCK or TEST may append: a few records of one lock. */
#define LOCKD_SMALL_ROOM	(4 * (DFS_MAXPATHLEN + 64) + 4096)

static dfs_stat	op_stats(struct op_ctx *, const lock_argop *, lock_resop *);

/* UNLOCK frees and TEST is the name server's check before a change:
 * both go on when the checkpoint's reserve cannot be had (OPF_LOGROOM). */
static const struct op_desc optab[] = {
	[LOP_ILLEGAL]	= OP("ILLEGAL",	 NULL,		0),
	[LOP_LOCK]	= OP("LOCK",	 op_lock,	OPF_MUTATES |
	    OPF_MAY_WAIT),
	[LOP_UNLOCK]	= OP("UNLOCK",	 op_unlock,	OPF_MUTATES |
	    OPF_LOGROOM),
	[LOP_RENEW]	= OP("RENEW",	 op_renew,	OPF_MUTATES),
	[LOP_TEST]	= OP("TEST",	 op_test,	OPF_MUTATES |
	    OPF_LOGROOM),
	[LOP_STATS]	= OP("STATS",	 op_stats,	0),
	[LOP_TESTTREE]	= OP("TESTTREE", op_testtree,	OPF_MUTATES |
	    OPF_LOGROOM),
};

#define NOPS	(sizeof(optab) / sizeof(optab[0]))
_Static_assert(NOPS <= DFS_MAXCOUNTERS, "one STATS reply holds every op");

/* The daemon's state: set by main() (or a test) before any RPC. */
static struct lock_ctx	*lockd;

void
compound_setctx(struct lock_ctx *ctx)
{
	lockd = ctx;
}

static const struct compound lock_compound = {
	COMPOUND_PROG(lock, optab),
	.room = LOCKD_OP_ROOM,
	.logroom = LOCKD_SMALL_ROOM,
};

/*
 * STATS
 *
 * Returns every op's counter (name, calls, bytes) since the daemon
 * started, in op code order, this STATS included; bytes are always 0
 * here.  Changes nothing.  Errors: NOMEM.
 */
static dfs_stat
op_stats(struct op_ctx *oc, const lock_argop *a, lock_resop *r)
{
	(void)a;
	return compound_stats(&lock_compound, oc->cs.counters,
	    &r->lock_resop_u.stats);
}

void
compound_commit(struct lock_ctx *ctx)
{
	if (ctx->kvfail)
		fatalx("lock table write failed: durability unknown");
	if (kv_dirty(ctx->kv) && kv_commit(ctx->kv) != 0)
		fatalx("cannot commit the lock table: durability unknown");
}

/*
 * Evaluates a COMPOUND, hands the locks it released to the waiters that
 * can now have them and makes every change durable.  Returns TRUE, or
 * FALSE (no reply now) when its last op, a LOCK, was parked (wait.c).
 * Exits when durability is unknown.
 */
bool_t
lock_compound_1_svc(lock_compound_args *args, lock_compound_res *res,
    struct svc_req *rqstp)
{
	unsigned long	 released = lockd->nreleased;
	struct op_ctx	 oc;
	void		*out;
	int		 parked = 0;

	memset(&oc, 0, sizeof(oc));
	oc.lc = lockd;
	oc.cs.counters = lockd->counters;
	oc.cs.kv = lockd->kv;
	client_addr(rqstp != NULL && rqstp->rq_xprt != NULL ?
	    svc_getrpccaller(rqstp->rq_xprt) : NULL, oc.caller,
	    sizeof(oc.caller));
	res->status = compound_run(&lock_compound, &oc, &oc.cs,
	    args->ops.ops_val, args->ops.ops_len, &out, &res->res.res_len);
	res->res.res_val = out;
	/* only the last op may wait (OPF_MAY_WAIT) */
	if (oc.park)
		parked = wait_park(lockd, oc.caller, &args->ops.ops_val[
		    args->ops.ops_len - 1].lock_argop_u.lock, res, rqstp) == 0;
	if (lockd->nwaiters > 0 && lockd->nreleased != released)
		(void)wait_pass(lockd, now_ms());
	/* ORDER: durable before any reply (invariant 6) */
	compound_commit(lockd);
	wait_answer(lockd);
	return !parked;
}

static bool_t
compound(void *args, void *res, struct svc_req *rq)
{
	return lock_compound_1_svc(args, res, rq);
}

static const struct svc_prog lock_prog = {
	(xdrproc_t)xdr_lock_compound_args,
	(xdrproc_t)xdr_lock_compound_res,
	compound,
};

/* The service's dispatcher (lib/dispatch.c), for daemon_listen(). */
void
dfs_lock_prog_1(struct svc_req *rq, SVCXPRT *xprt)
{
	/* a client that sends a new request gave up its waiting one */
	if (lockd->nwaiters > 0)
		wait_drop_xprt(lockd, xprt);
	svc_dispatch(rq, xprt, &lock_prog);
}
