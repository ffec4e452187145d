/*
 * upcall.c -- dfs-filed's calls to the name server.
 *
 * A worker blocks in these calls (bounded by FILED_NAMED_TIMEOUT_MS)
 * while its siblings keep serving.  A call that got no answer is
 * reported as -DFS_ERR_DELAY ("retry shortly"): client-local codes are
 * never sent.  The writer's lock is checked by the name server's COMMIT
 * (it asks the lock server), so dfs-filed never calls the lock server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filed.h"
#include "log.h"
#include "status.h"
#include "svcloop.h"

/* Sends `nops` ops to the name server.  Returns 0 with *res filled (free
 * it with xdr_free), or the peer_call error, logged. */
static int
named_call(struct filed_ctx *fc, name_argop *ops, u_int nops,
    name_compound_res *res, int idempotent)
{
	name_compound_args	args;
	int			rc;

	args.ops.ops_len = nops;
	args.ops.ops_val = ops;
	memset(res, 0, sizeof(*res));
	rc = peer_name(&fc->named, &args, res, idempotent);
	if (rc != 0)
		log_warnx("name server %s: %s%s%s", fc->named.host,
		    dfs_strerror(rc), fc->named.err[0] ? ": " : "",
		    fc->named.err);
	return rc;
}

/* Returns the reply's status as 0 or a negative dfs_stat, checking that
 * all `nops` results are there. */
static int
reply_status(const name_compound_res *res, u_int nops)
{
	if (res->status != DFS_OK)
		return -(int)res->status;
	return res->res.res_len == nops ? 0 : -DFS_ERR_SERVERFAULT;
}

static void
put_fh(name_argop *op, const dfs_fh *fh)
{
	memset(op, 0, sizeof(*op));
	op->op = OP_PUTFH;
	op->name_argop_u.putfh = *fh;
}

int
upcall_connect(struct filed_ctx *fc)
{
	int	rc;

	if ((rc = peer_connect(&fc->named)) != 0)
		log_warnx("name server %s: %s%s%s", fc->named.host,
		    dfs_strerror(rc), fc->named.err[0] ? ": " : "",
		    fc->named.err);
	return rc;
}

int
upcall_getattr(struct filed_ctx *fc, const dfs_fh *fh, dfs_attr *attr)
{
	name_argop		 ops[2];
	name_compound_res	 res;
	int			 rc;

	put_fh(&ops[0], fh);
	memset(&ops[1], 0, sizeof(ops[1]));
	ops[1].op = OP_GETATTR;
	if (named_call(fc, ops, 2, &res, 1) != 0)
		return -DFS_ERR_DELAY;
	rc = reply_status(&res, 2);
	if (rc == 0)
		*attr = res.res.res_val[1].name_resop_u.getattr.attr_res_u.attr;
	xdr_free((xdrproc_t)xdr_name_compound_res, &res);
	return rc;
}

int
upcall_commit(struct filed_ctx *fc, const dfs_fh *fh, const dfs_lockid *lock,
    uint64_t oldvers, uint64_t size, uint64_t srvid, dfs_attr *attr)
{
	name_argop		ops[3];
	name_compound_res	res;
	int			rc;

	put_fh(&ops[0], fh);
	memset(&ops[1], 0, sizeof(ops[1]) * 2);
	ops[1].op = OP_PUTLOCK;
	ops[1].name_argop_u.putlock = *lock;
	ops[2].op = OP_COMMIT;
	ops[2].name_argop_u.commit.oldvers = oldvers;
	ops[2].name_argop_u.commit.size = size;
	ops[2].name_argop_u.commit.srvid = srvid;
	/* not idempotent: a retry after a lost reply would answer CHANGED */
	if ((rc = named_call(fc, ops, 3, &res, 0)) != 0)
		return rc == -DFS_ERR_TIMEDOUT ? rc : -DFS_ERR_RPC;
	rc = reply_status(&res, 3);
	if (rc == 0)
		*attr = res.res.res_val[2].name_resop_u.commit.attr_res_u.attr;
	xdr_free((xdrproc_t)xdr_name_compound_res, &res);
	return rc;
}

int
upcall_exists(struct filed_ctx *fc, const dfs_fh *fh)
{
	name_argop		op;
	name_compound_res	res;
	int			rc;

	put_fh(&op, fh);
	if (named_call(fc, &op, 1, &res, 1) != 0)
		return -DFS_ERR_DELAY;
	rc = reply_status(&res, 1);
	xdr_free((xdrproc_t)xdr_name_compound_res, &res);
	return rc;
}
