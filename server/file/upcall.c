/*
 * upcall.c -- dfs-filed's calls to the name server and the lock server.
 *
 * A worker blocks in these calls (bounded by FILED_*_TIMEOUT_MS) while
 * its siblings keep serving.  A call that got no answer is reported as
 * -DFS_ERR_DELAY ("retry shortly"): client-local codes are never sent.
 * The lock server's address comes from the name server (OP_SERVERS) and
 * is cached for FILED_LOCKD_RECHECK_MS.
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
upcall_getattr(struct filed_ctx *fc, const dfs_fh *fh, dfs_attr *attr,
    char **path)
{
	name_argop		 ops[3];
	name_compound_res	 res;
	const dfs_path		*p;
	u_int			 nops = path != NULL ? 3 : 2;
	int			 rc;

	put_fh(&ops[0], fh);
	memset(&ops[1], 0, sizeof(ops[1]) * 2);
	ops[1].op = OP_GETATTR;
	ops[2].op = OP_GETPATH;
	if (named_call(fc, ops, nops, &res, 1) != 0)
		return -DFS_ERR_DELAY;
	rc = reply_status(&res, nops);
	if (rc == 0) {
		*attr = res.res.res_val[1].name_resop_u.getattr.attr_res_u.attr;
		if (path != NULL) {
			p = &res.res.res_val[2].name_resop_u.getpath.path_res_u.
			    path;
			*path = strndup(p->dfs_path_val, p->dfs_path_len);
			if (*path == NULL)
				rc = -DFS_ERR_NOMEM;
		}
	}
	xdr_free((xdrproc_t)xdr_name_compound_res, &res);
	return rc;
}

int
upcall_commit(struct filed_ctx *fc, const dfs_fh *fh, uint64_t oldvers,
    uint64_t size, uint64_t srvid, dfs_attr *attr)
{
	name_argop		ops[2];
	name_compound_res	res;
	int			rc;

	put_fh(&ops[0], fh);
	memset(&ops[1], 0, sizeof(ops[1]));
	ops[1].op = OP_COMMIT;
	ops[1].name_argop_u.commit.oldvers = oldvers;
	ops[1].name_argop_u.commit.size = size;
	ops[1].name_argop_u.commit.srvid = srvid;
	/* not idempotent: a retry after a lost reply would answer CHANGED */
	if (named_call(fc, ops, 2, &res, 0) != 0)
		return -DFS_ERR_RPC;
	rc = reply_status(&res, 2);
	if (rc == 0)
		*attr = res.res.res_val[1].name_resop_u.commit.attr_res_u.attr;
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

/* Picks the lock server from a SERVERS reply: the live one with the
 * highest id (the latest registration), else any.  Returns it or NULL. */
static const dfs_server *
pick_lockd(const servers_res *sr)
{
	const dfs_server	*s, *best = NULL;
	u_int			 i;

	for (i = 0; i < sr->servers_res_u.servers.servers_len; i++) {
		s = &sr->servers_res_u.servers.servers_val[i];
		if (s->kind != DFS_SRV_LOCK)
			continue;
		if (best == NULL || (s->live && !best->live) ||
		    (s->live == best->live && s->id > best->id))
			best = s;
	}
	return best;
}

/* Refreshes fc->lockd from the name server when the cache is old.
 * Returns 0 or -DFS_ERR_DELAY. */
static int
lockd_refresh(struct filed_ctx *fc)
{
	name_argop		 op;
	name_compound_res	 res;
	const dfs_server	*s;
	int			 rc;

	if (fc->lockd_checked_ms != 0 &&
	    now_ms() - fc->lockd_checked_ms < FILED_LOCKD_RECHECK_MS)
		return 0;
	memset(&op, 0, sizeof(op));
	op.op = OP_SERVERS;
	if (named_call(fc, &op, 1, &res, 1) != 0)
		return -DFS_ERR_DELAY;
	if ((rc = reply_status(&res, 1)) == 0) {
		s = pick_lockd(&res.res.res_val[0].name_resop_u.servers);
		if (s == NULL || strcmp(s->host, fc->lockd.host) != 0 ||
		    s->port != fc->lockd.port)
			peer_close(&fc->lockd);
		fc->lockd_known = s != NULL;
		if (s != NULL && fc->lockd.clnt == NULL)
			peer_init_addr(&fc->lockd, s->host, s->port,
			    DFS_LOCK_PROG, DFS_LOCK_VERS,
			    FILED_LOCKD_TIMEOUT_MS);
		fc->lockd_checked_ms = now_ms();
	}
	xdr_free((xdrproc_t)xdr_name_compound_res, &res);
	return rc == 0 ? 0 : -DFS_ERR_DELAY;
}

int
upcall_locktest(struct filed_ctx *fc, const char *path,
    const dfs_lockid *id)
{
	lock_compound_args	args;
	lock_compound_res	res;
	lock_argop		op;
	int			rc;

	if ((rc = lockd_refresh(fc)) != 0 || !fc->lockd_known)
		return rc;
	memset(&op, 0, sizeof(op));
	op.op = LOP_TEST;
	op.lock_argop_u.test.path.dfs_path_val = (char *)path;
	op.lock_argop_u.test.path.dfs_path_len = (u_int)strlen(path);
	op.lock_argop_u.test.id = *id;
	op.lock_argop_u.test.mode = DFS_LOCK_EXCL;
	args.ops.ops_len = 1;
	args.ops.ops_val = &op;
	memset(&res, 0, sizeof(res));
	if ((rc = peer_lock(&fc->lockd, &args, &res, 1)) != 0) {
		log_warnx("lock server %s port %u: %s%s%s", fc->lockd.host,
		    fc->lockd.port, dfs_strerror(rc),
		    fc->lockd.err[0] ? ": " : "", fc->lockd.err);
		fc->lockd_checked_ms = 0;	/* it may have moved */
		return -DFS_ERR_DELAY;
	}
	rc = res.status == DFS_OK ? 0 : -(int)res.status;
	xdr_free((xdrproc_t)xdr_lock_compound_res, &res);
	return rc;
}
