/*
 * namecall.c -- dfs-filed's calls to the name server.
 *
 * A worker blocks in these calls (bounded by FILED_NAMED_TIMEOUT_MS)
 * while its siblings keep serving.  A call that got no answer is
 * reported as -DFS_ERR_DELAY ("retry shortly"): client-local codes are
 * never sent.  The writer's lock is checked by the name server (it asks
 * the lock server) at STAGE (TESTLOCK) and at COMMIT, so dfs-filed never
 * calls the lock server.
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
namecall_connect(struct filed_ctx *fc)
{
	int	rc;

	if ((rc = peer_connect(&fc->named)) != 0)
		log_warnx("name server %s: %s%s%s", fc->named.host,
		    dfs_strerror(rc), fc->named.err[0] ? ": " : "",
		    fc->named.err);
	return rc;
}

int
namecall_getattr(struct filed_ctx *fc, const dfs_fh *fh, dfs_attr *attr)
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
namecall_commit(struct filed_ctx *fc, const dfs_fh *fh, const dfs_lockid *lock,
    uint64_t oldvers, uint64_t size, uint64_t srvid, dfs_attr *attr)
{
	struct namecommit	uc = { .fh = fh, .lock = lock,
				    .oldvers = oldvers, .size = size };
	int			rc;

	if ((rc = namecall_commit_many(fc, &uc, 1, srvid)) < 0)
		return rc;
	if (uc.status == 0)
		*attr = uc.attr;
	return uc.status;
}

/* Appends [PUTFH, PUTLOCK (unless `lock` is the one in force), COMMIT]
 * for `uc` at ops[*nops].  Returns the COMMIT's index. */
static u_int
add_commit(name_argop *ops, u_int *nops, const struct namecommit *uc,
    const dfs_lockid **lock, uint64_t srvid)
{
	name_argop	*op;

	put_fh(&ops[(*nops)++], uc->fh);
	if (*lock == NULL || memcmp(*lock, uc->lock, sizeof(**lock)) != 0) {
		op = &ops[(*nops)++];
		memset(op, 0, sizeof(*op));
		op->op = OP_PUTLOCK;
		op->name_argop_u.putlock = *uc->lock;
		*lock = uc->lock;
	}
	op = &ops[*nops];
	memset(op, 0, sizeof(*op));
	op->op = OP_COMMIT;
	op->name_argop_u.commit.oldvers = uc->oldvers;
	op->name_argop_u.commit.size = uc->size;
	op->name_argop_u.commit.srvid = srvid;
	return (*nops)++;
}

int
namecall_commit_many(struct filed_ctx *fc, struct namecommit *uc, u_int n,
    uint64_t srvid)
{
	name_argop		 ops[DFS_MAXOPS];
	u_int			 last[DFS_MAXOPS / 2], nops = 0, k, i;
	const dfs_lockid	*lock = NULL;
	name_compound_res	 res;
	const name_resop	*r;
	int			 rc;

	/* at most 3 ops a file */
	for (k = 0; k < n && nops + 3 <= DFS_MAXOPS; k++)
		last[k] = add_commit(ops, &nops, &uc[k], &lock, srvid);
	/* not idempotent: a retry after a lost reply would answer CHANGED */
	if ((rc = named_call(fc, ops, nops, &res, 0)) != 0)
		return rc == -DFS_ERR_TIMEDOUT ? rc : -DFS_ERR_RPC;
	/* the files whose COMMIT came back, and the one it stopped at */
	for (i = 0; i < k; i++) {
		if (res.res.res_len <= last[i]) {
			/* stopped at this file's PUTFH or PUTLOCK */
			uc[i].status = res.status != DFS_OK ?
			    -(int)res.status : -DFS_ERR_SERVERFAULT;
			break;
		}
		r = &res.res.res_val[last[i]];
		uc[i].status = r->op == OP_COMMIT ?
		    -(int)r->name_resop_u.commit.status : -DFS_ERR_SERVERFAULT;
		if (uc[i].status != 0)
			break;
		uc[i].attr = r->name_resop_u.commit.attr_res_u.attr;
	}
	xdr_free((xdrproc_t)xdr_name_compound_res, &res);
	return (int)(i < k ? i + 1 : k);
}

int
namecall_exists(struct filed_ctx *fc, const dfs_fh *fh)
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

int
namecall_may_write(struct filed_ctx *fc, const dfs_fh *fh,
    const dfs_lockid *lock)
{
	name_argop		ops[3];
	name_compound_res	res;
	int			rc;

	memset(ops, 0, sizeof(ops));
	ops[0].op = OP_PUTLOCK;
	ops[0].name_argop_u.putlock = *lock;
	put_fh(&ops[1], fh);
	ops[2].op = OP_TESTLOCK;
	if (named_call(fc, ops, 3, &res, 1) != 0)
		return -DFS_ERR_DELAY;
	rc = reply_status(&res, 3);
	xdr_free((xdrproc_t)xdr_name_compound_res, &res);
	return rc;
}
