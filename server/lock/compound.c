/*
 * compound.c -- the LOCK program's op table and its COMPOUND procedure.
 *
 * Only the table and the entry point live here; the loop is lib/
 * compound.c, the handlers are op_lock.c and the waiting LOCKs wait.c.
 * A COMPOUND that changed the lock table is made durable (kv_commit)
 * before the reply is sent; so is every grant to a waiter.  The loop
 * counts every op in lock_ctx's counters, which STATS returns; a LOCK
 * that waits counts once, when it arrives.  The caller's address is
 * noted first: limits.c counts locks and waiters per client address.
 */
#include <stddef.h>

#include "dispatch.h"
#include "compound.h"
#include "kv.h"
#include "lockd.h"
#include "log.h"
#include "svcloop.h"

struct op_desc {
	const char	*name;
	dfs_stat	(*fn)(struct lock_ctx *, const lock_argop *,
			    lock_resop *);
	unsigned int	 flags;
};

#define OPF_WRITES	0x1	/* may write the lock table */
#define OPF_LASTROOM	0x2	/* small: frees, or renews a lease the
				   name server checks */

/* Log bytes one op may append, at most: a LOCK of every path it may
 * name, each as long as a path may be, plus the record's framing. */
#define LOCKD_OP_ROOM	(DFS_MAXLOCKPATHS * (DFS_MAXPATHLEN + 64) + 4096)
/* What an UNLOCK or TEST may append: a few records of one lock. */
#define LOCKD_SMALL_ROOM	(4 * (DFS_MAXPATHLEN + 64) + 4096)

static dfs_stat	op_stats(struct lock_ctx *, const lock_argop *, lock_resop *);

static const struct op_desc optab[] = {
	[LOP_ILLEGAL]	= { "ILLEGAL",	op_illegal,	0 },
	[LOP_LOCK]	= { "LOCK",	op_lock,	OPF_WRITES },
	[LOP_UNLOCK]	= { "UNLOCK",	op_unlock,	OPF_WRITES |
	    OPF_LASTROOM },
	[LOP_RENEW]	= { "RENEW",	op_renew,	OPF_WRITES },
	[LOP_TEST]	= { "TEST",	op_test,	OPF_WRITES |
	    OPF_LASTROOM },
	[LOP_STATS]	= { "STATS",	op_stats,	0 },
	[LOP_TESTTREE]	= { "TESTTREE",	op_testtree,	OPF_WRITES |
	    OPF_LASTROOM },
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

/* Returns the table slot for an op code; unknown codes get ILLEGAL. */
static lock_opnum
slot(lock_opnum op)
{
	if ((unsigned int)op >= NOPS || optab[op].fn == NULL)
		return LOP_ILLEGAL;
	return op;
}

/*
 * Before an op that may write: makes sure the disk holds what it may
 * append and a checkpoint (kv_reserve), so that a full disk refuses the
 * op instead of failing its commit, which would end the daemon.  UNLOCK
 * (it frees) and TEST (the name server's check before a change) need
 * only a little room in the log, not the checkpoint's reserve.  Returns DFS_OK, DFS_ERR_NOSPC
 * or DFS_ERR_SERVERFAULT (logged).
 */
static dfs_stat
reserve(struct lock_ctx *ctx, const struct op_desc *d)
{
	int	rc;

	if (!(d->flags & OPF_WRITES) || ctx->kv == NULL)
		return DFS_OK;
	if (d->flags & OPF_LASTROOM)
		rc = kv_reserve_log(ctx->kv, LOCKD_SMALL_ROOM);
	else
		rc = kv_reserve(ctx->kv, 2 * LOCKD_OP_ROOM);
	if (rc == -DFS_ERR_IO)
		log_warn("cannot reserve disk space for the lock log");
	return rc == 0 ? DFS_OK : rc == -DFS_ERR_NOSPC ? DFS_ERR_NOSPC :
	    DFS_ERR_SERVERFAULT;
}

/* Runs one op.  Returns its status. */
static dfs_stat
run_one(void *ctx, const void *argop, void *resop)
{
	const lock_argop	*a = argop;
	lock_resop		*r = resop;
	dfs_stat		 st;

	r->op = slot(a->op);
	if ((st = reserve(ctx, &optab[r->op])) != DFS_OK) {
		/* every arm starts with its status */
		r->lock_resop_u.lock.status = st;
		return st;
	}
	return optab[r->op].fn(ctx, a, r);
}

/* Returns the op's name, for logs. */
static const char *
opname(const void *argop)
{
	return optab[slot(((const lock_argop *)argop)->op)].name;
}

/* Returns the op's table slot (0 for unknown codes). */
static u_int
argslot(const void *argop)
{
	return (u_int)slot(((const lock_argop *)argop)->op);
}

/* Returns the name in a slot, NULL if unused. */
static const char *
slotname(u_int i)
{
	return i < NOPS ? optab[i].name : NULL;
}

/* Returns the daemon's op counters. */
static struct op_counter *
counters(void *ctx)
{
	return ((struct lock_ctx *)ctx)->counters;
}

static const struct compound lock_compound = {
	.prog = "lock",
	.argsz = sizeof(lock_argop),
	.ressz = sizeof(lock_resop),
	.resu_off = offsetof(lock_resop, lock_resop_u),
	.run_one = run_one,
	.opname = opname,
	.nslots = NOPS,
	.slot = argslot,
	.slotname = slotname,
	.counters = counters,
};

/*
 * STATS
 *
 * Returns every op's counter (name, calls, bytes) since the daemon
 * started, in op code order, this STATS included; bytes are always 0
 * here.  Changes nothing.  Errors: NOMEM.
 */
static dfs_stat
op_stats(struct lock_ctx *ctx, const lock_argop *a, lock_resop *r)
{
	(void)a;
	return compound_stats(&lock_compound, ctx, &r->lock_resop_u.stats);
}

void
compound_commit(struct lock_ctx *ctx)
{
	if (ctx->kvfail)
		fatalx("lock table write failed: durability unknown");
	if (kv_dirty(ctx->kv) && kv_commit(ctx->kv) != 0)
		fatalx("cannot commit the lock table: durability unknown");
}

/* Returns the op that may wait: the last one, if it is a LOCK. */
static const lock_argop *
wait_op(const lock_compound_args *args)
{
	u_int	n = args->ops.ops_len;

	if (n == 0 || n > DFS_MAXOPS ||
	    args->ops.ops_val[n - 1].op != LOP_LOCK)
		return NULL;
	return &args->ops.ops_val[n - 1];
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
	void		*out;
	int		 parked = 0;

	lockd->waitop = wait_op(args);
	lockd->park = 0;
	client_addr(rqstp != NULL && rqstp->rq_xprt != NULL ?
	    svc_getrpccaller(rqstp->rq_xprt) : NULL, lockd->caller,
	    sizeof(lockd->caller));
	res->status = compound_run(&lock_compound, lockd, args->ops.ops_val,
	    args->ops.ops_len, &out, &res->res.res_len);
	res->res.res_val = out;
	if (lockd->park)
		parked = wait_park(lockd, &lockd->waitop->lock_argop_u.lock,
		    res, rqstp) == 0;
	lockd->waitop = NULL;
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

/* svc_dispatch() decodes into buffers of DISPATCH_MAXSZ bytes */
_Static_assert(sizeof(lock_compound_args) <= DISPATCH_MAXSZ &&
    sizeof(lock_compound_res) <= DISPATCH_MAXSZ,
    "a COMPOUND's args or result outgrew the dispatcher's buffer");

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
