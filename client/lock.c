/*
 * lock.c -- the locks libdfs takes for writers.
 *
 * dfs_open() for writing takes an exclusive lock on the path and
 * dfs_close() releases it; while the file is open the lease is renewed
 * whenever a third of it has passed and the application calls into the
 * library.  A cluster without a lock server writes unlocked.
 */
#include <string.h>

#include "client.h"

int
lock_is_zero(const dfs_lockid *id)
{
	return id->instance == 0 && id->nonce == 0;
}

int
lock_take(struct dfs *dfs, const char *path, dfs_lockid *id,
    unsigned int *lease_ms)
{
	struct lreq		 r = { .n = 0 };
	lock_compound_res	 res;
	lock_args		*la;
	dfs_path		 p = mkpath(path);
	lock_denied		*den;
	int			 rc;

	memset(id, 0, sizeof(*id));
	*lease_ms = 0;
	la = &lreq_add(&r, LOP_LOCK)->lock_argop_u.lock;
	la->paths.paths_len = 1;
	la->paths.paths_val = &p;
	la->mode = DFS_LOCK_EXCL;
	rc = conn_lock(dfs, &r, &res, 0);
	if (rc == 0) {
		*id = res.res.res_val[0].lock_resop_u.lock.lock_res_u.ok.id;
		*lease_ms = res.res.res_val[0].lock_resop_u.lock.lock_res_u.ok.
		    lease_ms;
	} else if (rc == -DFS_ERR_LOCKED && res.res.res_len == 1) {
		den = &res.res.res_val[0].lock_resop_u.lock.lock_res_u.denied;
		conn_detail(dfs, "locked by another client, lease ends in "
		    "%u s", (den->remaining_ms + 999) / 1000);
	} else if (rc == -DFS_ERR_NOSERVER)
		rc = 0;
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&res);
	return rc;
}

static int
lock_op(struct dfs *dfs, lock_opnum op, const dfs_lockid *id)
{
	struct lreq		r = { .n = 0 };
	lock_compound_res	res;
	lock_argop		*a;
	int			rc;

	if (lock_is_zero(id))
		return 0;
	a = lreq_add(&r, op);
	if (op == LOP_RENEW)
		a->lock_argop_u.renew = *id;
	else
		a->lock_argop_u.unlock = *id;
	rc = conn_lock(dfs, &r, &res, 1);
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&res);
	return rc;
}

int
lock_renew(struct dfs *dfs, const dfs_lockid *id)
{
	return lock_op(dfs, LOP_RENEW, id);
}

int
lock_release(struct dfs *dfs, const dfs_lockid *id)
{
	return lock_op(dfs, LOP_UNLOCK, id);
}
