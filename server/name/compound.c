/*
 * compound.c -- dfs-named's op table and COMPOUND entry point.
 *
 * The evaluator is lib/compound.c's; this file holds the op table, the
 * name program's own check of the flags (a current object for
 * OPF_NEED_FH) and the entry point.  What a COMPOUND wrote is appended
 * to the log at its end, and group.c holds the reply until the sync that
 * makes it durable.  The evaluator counts every op in named_ctx's
 * counters, which STATS returns with the log's own.
 */
#include <stddef.h>
#include <string.h>

#include "dispatch.h"
#include "compound.h"
#include "kv.h"
#include "log.h"
#include "named.h"

COMPOUND_TABLE(name);

static dfs_stat	op_stats(struct op_ctx *, const name_argop *, name_resop *);

static const struct op_desc optab[] = {
	[OP_ILLEGAL]	= OP("ILLEGAL",	  NULL,		0),
	[OP_PUTROOTFH]	= OP("PUTROOTFH", op_putrootfh,	0),
	[OP_PUTFH]	= OP("PUTFH",	  op_putfh,	0),
	[OP_GETFH]	= OP("GETFH",	  op_getfh,	OPF_NEED_FH),
	[OP_SAVEFH]	= OP("SAVEFH",	  op_savefh,	OPF_NEED_FH),
	[OP_RESTOREFH]	= OP("RESTOREFH", op_restorefh,	0),
	[OP_LOOKUP]	= OP("LOOKUP",	  op_lookup,	OPF_NEED_FH),
	[OP_GETATTR]	= OP("GETATTR",	  op_getattr,	OPF_NEED_FH),
	[OP_SETATTR]	= OP("SETATTR",	  op_setattr,	OPF_NEED_FH |
							    OPF_MUTATES),
	[OP_CREATE]	= OP("CREATE",	  op_create,	OPF_NEED_FH |
							    OPF_MUTATES),
	[OP_MKDIR]	= OP("MKDIR",	  op_mkdir,	OPF_NEED_FH |
							    OPF_MUTATES),
	[OP_REMOVE]	= OP("REMOVE",	  op_remove,	OPF_NEED_FH |
							    OPF_MUTATES),
	[OP_RENAME]	= OP("RENAME",	  op_rename,	OPF_NEED_FH |
							    OPF_MUTATES),
	[OP_READDIR]	= OP("READDIR",	  op_readdir,	OPF_NEED_FH),
	[OP_LOCATE]	= OP("LOCATE",	  op_locate,	OPF_NEED_FH),
	[OP_SERVERS]	= OP("SERVERS",	  op_servers,	0),
	[OP_REGISTER]	= OP("REGISTER",  op_register,	OPF_MUTATES |
							    OPF_LASTROOM),
	[OP_COMMIT]	= OP("COMMIT",	  op_commit,	OPF_NEED_FH |
							    OPF_MUTATES),
	[OP_GETPATH]	= OP("GETPATH",	  op_getpath,	OPF_NEED_FH),
	[OP_PUTLOCK]	= OP("PUTLOCK",	  op_putlock,	0),
	[OP_STATS]	= OP("STATS",	  op_stats,	0),
	[OP_SUSPECT]	= OP("SUSPECT",	  op_suspect,	0),
	[OP_TESTLOCK]	= OP("TESTLOCK",  op_testlock,	OPF_NEED_FH),
};

#define NOPS	(sizeof(optab) / sizeof(optab[0]))
#define NLOGCOUNTERS	2	/* LOG_COMMITS, LOG_SYNCS (op_stats) */
_Static_assert(NOPS + NLOGCOUNTERS <= DFS_MAXCOUNTERS,
    "one STATS reply holds every op and the log's counters");

static struct named_ctx	*named;

/* The name program's own check of an op's flags: OPF_NEED_FH.  Returns
 * DFS_OK or DFS_ERR_NOFILEHANDLE. */
static dfs_stat
check(struct op_ctx *oc, const void *argop, unsigned int flags)
{
	(void)argop;
	if ((flags & OPF_NEED_FH) && oc->cur == 0)
		return DFS_ERR_NOFILEHANDLE;
	return DFS_OK;
}

/* A changing op reserves twice NAMED_OP_ROOM (its log bytes and the
 * checkpoint's); REGISTER (OPF_LASTROOM) may take the last of it, which
 * changes only with the cluster (a heartbeat writes nothing), so servers
 * stay registered on a full disk. */
static const struct compound name_compound = {
	COMPOUND_PROG(name, optab),
	.check = check,
	.room = NAMED_OP_ROOM,
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
	st = compound_stats(&name_compound, oc->cs.counters, sr);
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
	oc.cs.counters = named->counters;
	oc.cs.kv = named->kv;
	caller_ids(rq, &oc);
	if (locks_ahead(&oc, args->ops.ops_val, args->ops.ops_len))
		return FALSE;	/* parked: run when the lock server answers */
	st = compound_run(&name_compound, &oc, &oc.cs, args->ops.ops_val,
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
