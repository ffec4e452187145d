/*
 * compound.c -- dfs-named's op table and COMPOUND entry point.
 *
 * The loop itself is lib/compound.c's; this file maps op codes to
 * handlers and does the generic checks the table flags ask for.  What a
 * COMPOUND wrote is appended to the log at its end, and group.c holds
 * the reply until the sync that makes it durable.  The loop counts every
 * op in named_ctx's counters, which STATS returns with the log's own.
 */
#include <assert.h>
#include <stddef.h>
#include <string.h>

#include "dispatch.h"
#include "compound.h"
#include "kv.h"
#include "log.h"
#include "named.h"

#define OPF_NEED_FH	0x01	/* needs a current object */
#define OPF_MUTATES	0x02	/* may write the store */
#define OPF_LASTROOM	0x04	/* may use the last of the disk reserve */

struct op_desc {
	const char	*name;
	dfs_stat	(*fn)(struct op_ctx *, const name_argop *,
			    name_resop *);
	unsigned int	 flags;
};

static dfs_stat	op_stats(struct op_ctx *, const name_argop *, name_resop *);

static const struct op_desc optab[] = {
	[OP_ILLEGAL]	= { "ILLEGAL",	  op_illegal,	0 },
	[OP_PUTROOTFH]	= { "PUTROOTFH",  op_putrootfh,	0 },
	[OP_PUTFH]	= { "PUTFH",	  op_putfh,	0 },
	[OP_GETFH]	= { "GETFH",	  op_getfh,	OPF_NEED_FH },
	[OP_SAVEFH]	= { "SAVEFH",	  op_savefh,	OPF_NEED_FH },
	[OP_RESTOREFH]	= { "RESTOREFH",  op_restorefh,	0 },
	[OP_LOOKUP]	= { "LOOKUP",	  op_lookup,	OPF_NEED_FH },
	[OP_GETATTR]	= { "GETATTR",	  op_getattr,	OPF_NEED_FH },
	[OP_SETATTR]	= { "SETATTR",	  op_setattr,
			    OPF_NEED_FH | OPF_MUTATES },
	[OP_CREATE]	= { "CREATE",	  op_create,
			    OPF_NEED_FH | OPF_MUTATES },
	[OP_MKDIR]	= { "MKDIR",	  op_mkdir,
			    OPF_NEED_FH | OPF_MUTATES },
	[OP_REMOVE]	= { "REMOVE",	  op_remove,
			    OPF_NEED_FH | OPF_MUTATES },
	[OP_RENAME]	= { "RENAME",	  op_rename,
			    OPF_NEED_FH | OPF_MUTATES },
	[OP_READDIR]	= { "READDIR",	  op_readdir,	OPF_NEED_FH },
	[OP_LOCATE]	= { "LOCATE",	  op_locate,	OPF_NEED_FH },
	[OP_SERVERS]	= { "SERVERS",	  op_servers,	0 },
	[OP_REGISTER]	= { "REGISTER",	  op_register,
			    OPF_MUTATES | OPF_LASTROOM },
	[OP_COMMIT]	= { "COMMIT",	  op_commit,
			    OPF_NEED_FH | OPF_MUTATES },
	[OP_GETPATH]	= { "GETPATH",	  op_getpath,	OPF_NEED_FH },
	[OP_PUTLOCK]	= { "PUTLOCK",	  op_putlock,	0 },
	[OP_STATS]	= { "STATS",	  op_stats,	0 },
	[OP_SUSPECT]	= { "SUSPECT",	  op_suspect,	0 },
	[OP_TESTLOCK]	= { "TESTLOCK",	  op_testlock,	OPF_NEED_FH },
};

#define NOPS	(sizeof(optab) / sizeof(optab[0]))
#define NLOGCOUNTERS	2	/* LOG_COMMITS, LOG_SYNCS (op_stats) */
_Static_assert(NOPS + NLOGCOUNTERS <= DFS_MAXCOUNTERS,
    "one STATS reply holds every op and the log's counters");

static struct named_ctx	*named;

/* Returns the table entry for an op code; unknown codes get ILLEGAL. */
static const struct op_desc *
op_lookup_desc(name_opnum op)
{
	if ((unsigned int)op >= NOPS || optab[op].fn == NULL)
		return &optab[OP_ILLEGAL];
	return &optab[op];
}

/*
 * Before an op that may write: makes sure the disk holds what it may
 * append and a checkpoint (kv_reserve).  Namespace changes keep one
 * op's room in reserve for REGISTER, which changes only with the
 * cluster (a heartbeat writes nothing), so servers stay registered on a
 * full disk.  Returns DFS_OK, DFS_ERR_NOSPC or DFS_ERR_SERVERFAULT
 * (logged).
 */
static dfs_stat
reserve(struct op_ctx *oc, const struct op_desc *d)
{
	size_t	room = NAMED_OP_ROOM;
	int	rc;

	if (!(d->flags & OPF_MUTATES))
		return DFS_OK;
	if (!(d->flags & OPF_LASTROOM))
		room *= 2;
	rc = kv_reserve(oc->nc->kv, room);
	if (rc == -DFS_ERR_IO)
		log_warn("cannot reserve disk space for the name log");
	/* nothing was written: IO here must not make the daemon exit */
	return rc == 0 ? DFS_OK : rc == -DFS_ERR_NOSPC ? DFS_ERR_NOSPC :
	    DFS_ERR_SERVERFAULT;
}

/* Returns the op's status after the table's generic checks. */
static dfs_stat
run_one(void *ctx, const void *argop, void *resop)
{
	struct op_ctx		*oc = ctx;
	const name_argop	*arg = argop;
	name_resop		*res = resop;
	const struct op_desc	*d = op_lookup_desc(arg->op);
	dfs_stat		 st;
	int			 was_dirty;

	/* ILLEGAL is not an arm of name_resop: the default arm encodes */
	res->op = d == &optab[OP_ILLEGAL] ? OP_ILLEGAL : arg->op;
	if ((d->flags & OPF_NEED_FH) && oc->cur == 0)
		return DFS_ERR_NOFILEHANDLE;
	st = reserve(oc, d);
	if (st != DFS_OK)
		return st;
	was_dirty = kv_dirty(oc->nc->kv);
	st = d->fn(oc, arg, res);
	/* the table's flags are the truth about which ops write */
	assert((d->flags & OPF_MUTATES) || was_dirty ||
	    !kv_dirty(oc->nc->kv));
	return st;
}

/* Returns the op's name, for logs. */
static const char *
opname(const void *argop)
{
	return op_lookup_desc(((const name_argop *)argop)->op)->name;
}

/* Returns the op's table slot (0 for unknown codes). */
static u_int
slot(const void *argop)
{
	return (u_int)(op_lookup_desc(((const name_argop *)argop)->op) -
	    optab);
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
	return ((struct op_ctx *)ctx)->nc->counters;
}

static const struct compound name_compound = {
	.prog = "name",
	.argsz = sizeof(name_argop),
	.ressz = sizeof(name_resop),
	.resu_off = offsetof(name_resop, name_resop_u),
	.run_one = run_one,
	.opname = opname,
	.nslots = NOPS,
	.slot = slot,
	.slotname = slotname,
	.counters = counters,
};

/* Appends counter `name` to a STATS result.  Returns 0 or -1. */
static int
stats_add(stats_res *sr, const char *name, uint64_t calls, uint64_t bytes)
{
	dfs_counter	*v = sr->stats_res_u.counters.counters_val;
	u_int		 n = sr->stats_res_u.counters.counters_len;

	v = realloc(v, (n + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	sr->stats_res_u.counters.counters_val = v;
	memset(&v[n], 0, sizeof(v[n]));
	if ((v[n].name = strdup(name)) == NULL)
		return -1;
	v[n].calls = calls;
	v[n].bytes = bytes;
	sr->stats_res_u.counters.counters_len = n + 1;
	return 0;
}

/*
 * STATS
 *
 * Returns every op's counter (name, calls, bytes) since the daemon
 * started, in op code order, this STATS included, bytes always 0; then
 * the log's: LOG_COMMITS (changing COMPOUNDs appended to the log, and
 * the bytes appended) and LOG_SYNCS (the fdatasyncs that made them
 * durable; fewer than LOG_COMMITS when group commit shared them).
 * Changes nothing.  Errors: NOMEM.
 */
static dfs_stat
op_stats(struct op_ctx *oc, const name_argop *arg, name_resop *res)
{
	stats_res	*sr = &res->name_resop_u.stats;
	struct kv_counts kc;
	dfs_stat	 st;

	(void)arg;
	st = compound_stats(&name_compound, oc, sr);
	if (st != DFS_OK)
		return st;
	kv_counts(oc->nc->kv, &kc);
	if (stats_add(sr, "LOG_COMMITS", kc.records, kc.bytes) != 0 ||
	    stats_add(sr, "LOG_SYNCS", kc.syncs, 0) != 0) {
		xdr_free((xdrproc_t)xdr_stats_res, (char *)sr);
		memset(sr, 0, sizeof(*sr));
		return DFS_ERR_NOMEM;
	}
	return DFS_OK;
}

/* Sets the daemon state the RPC entry point works on (main, tests). */
void
named_set_ctx(struct named_ctx *nc)
{
	named = nc;
}

/* The caller's AUTH_SYS ids, else 0 (root-owned). */
static void
caller_ids(struct svc_req *rq, struct op_ctx *oc)
{
	struct authunix_parms	*au;

	if (rq == NULL || rq->rq_cred.oa_flavor != AUTH_SYS ||
	    rq->rq_clntcred == NULL)
		return;
	au = (struct authunix_parms *)rq->rq_clntcred;
	oc->uid = au->aup_uid;
	oc->gid = au->aup_gid;
}

/*
 * NAME_COMPOUND: evaluates the ops and appends what they wrote to the
 * log.  A handler returns DFS_ERR_IO only when writing the store failed;
 * then nothing of the batch may be acknowledged, so the daemon exits and
 * the next start recovers from the last commit.  Returns TRUE to reply
 * now, or FALSE when group.c holds the reply until the log sync (with
 * rq NULL, a direct call, the sync happens before returning TRUE) or
 * when the COMPOUND is parked until the lock server answers the TESTs
 * its mutations need (locks.c; svcx serves it again then).
 */
bool_t
name_compound_1_svc(name_compound_args *args, name_compound_res *res,
    struct svc_req *rq)
{
	struct op_ctx	 oc;
	void		*vals;
	u_int		 n;
	dfs_stat	 st;

	memset(&oc, 0, sizeof(oc));
	memset(res, 0, sizeof(*res));
	oc.nc = named;
	oc.rq = rq;
	caller_ids(rq, &oc);
	if (locks_ahead(&oc, args->ops.ops_val, args->ops.ops_len))
		return FALSE;	/* parked: run when the lock server answers */
	st = compound_run(&name_compound, &oc, args->ops.ops_val,
	    args->ops.ops_len, &vals, &n);
	locks_ahead_free(&oc);
	if (st == DFS_ERR_IO)
		fatalx("cannot write the name state: exiting uncommitted");
	if (kv_append(named->kv) != 0)
		fatalx("cannot append to the name log: durability unknown");
	res->status = st;
	res->res.res_val = vals;
	res->res.res_len = n;
	return group_hold(named, rq, res) ? FALSE : TRUE;
}

static bool_t
compound(void *args, void *res, struct svc_req *rq)
{
	return name_compound_1_svc(args, res, rq);
}

/* svc_dispatch() decodes into buffers of DISPATCH_MAXSZ bytes */
_Static_assert(sizeof(name_compound_args) <= DISPATCH_MAXSZ &&
    sizeof(name_compound_res) <= DISPATCH_MAXSZ,
    "a COMPOUND's args or result outgrew the dispatcher's buffer");

static const struct svc_prog name_prog = {
	(xdrproc_t)xdr_name_compound_args,
	(xdrproc_t)xdr_name_compound_res,
	compound,
};

/* The service's dispatcher (lib/dispatch.c), for daemon_listen(). */
void
dfs_name_prog_1(struct svc_req *rq, SVCXPRT *xprt)
{
	svc_dispatch(rq, xprt, &name_prog);
}
