/*
 * locks.c -- lock enforcement: asking the lock server before a mutation.
 *
 * The name server holds no lock state; dfs-lockd does.  Before CREATE
 * (when it creates), MKDIR, SETATTR, REMOVE and RENAME change anything,
 * the handler asks the registered lock server TEST(absolute path, the
 * COMPOUND's PUTLOCK id or all zero, EXCL), as a file server does before
 * a COMMIT, and LOCKED, EXPIRED or BADLOCK become the op's result.  With
 * no lock server registered nothing is checked; with one registered that
 * does not answer, the op is DELAY, never silently unchecked: a lock
 * server restarting after kill -9 is exactly when fencing matters.
 *
 * dfs-named is a single-threaded loop, so a TEST stalls every other
 * client while it runs.  That is bounded by NAMED_LOCKD_TIMEOUT_MS per
 * attempt, and made only for mutations that passed their own checks
 * (NOENT, EXIST, NOTEMPTY... cost no RPC).  It cannot deadlock: the lock
 * server's registrar (its REGISTER heartbeats to us) runs in a thread of
 * its own, so dfs-lockd never waits on us while we wait on it.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "named.h"
#include "status.h"

/*
 * Returns the lock server to ask, or NULL when none is registered.
 * There is at most one (a registration replaces any other), and it is
 * asked even when its heartbeats are late: skipping the check then would
 * drop enforcement exactly while the lock server restarts.
 */
static const struct srv *
locks_server(const struct named_ctx *nc)
{
	unsigned int	i;

	for (i = 0; i < nc->nsrvs; i++)
		if (nc->srvs[i]->kind == DFS_SRV_LOCK)
			return nc->srvs[i];
	return NULL;
}

/* Points nc->lockd at `s`, dropping a connection to an older address. */
static void
locks_repoint(struct named_ctx *nc, const struct srv *s)
{
	if (strcmp(nc->lockd.host, s->host) == 0 && nc->lockd.port == s->port)
		return;
	peer_close(&nc->lockd);
	peer_init_addr(&nc->lockd, s->host, s->port, DFS_LOCK_PROG,
	    DFS_LOCK_VERS, NAMED_LOCKD_TIMEOUT_MS);
}

/*
 * Sends TEST and stores the lock server's status in *st.  A cached
 * connection that fails fast (the lock server restarted) is retried once
 * on a new one; a timeout is not, so one check stalls the loop for at
 * most about two timeouts (connect and call).  Returns 0 or the
 * transport error from peer_lock().
 */
static int
locks_call(struct named_ctx *nc, lock_argop *op, dfs_stat *st)
{
	lock_compound_args	args;
	lock_compound_res	res;
	int			cached, rc;

	args.ops.ops_len = 1;
	args.ops.ops_val = op;
	do {
		cached = nc->lockd.clnt != NULL;
		memset(&res, 0, sizeof(res));
		rc = peer_lock(&nc->lockd, &args, &res, 0);
	} while (rc == -DFS_ERR_RPC && cached);
	if (rc != 0)
		return rc;
	*st = res.status;
	xdr_free((xdrproc_t)xdr_lock_compound_res, (char *)&res);
	return 0;
}

/*
 * May the COMPOUND's lock holder change absolute `path` (len bytes)?
 * Returns 0 (yes, or no lock server is registered), -DFS_ERR_LOCKED,
 * -DFS_ERR_EXPIRED (the PUTLOCK id was taken over), -DFS_ERR_BADLOCK
 * (unknown id, path free), -DFS_ERR_DELAY (the lock server did not
 * answer) or -DFS_ERR_SERVERFAULT (it answered something else, logged).
 */
int
locks_check(struct op_ctx *oc, const char *path, size_t len)
{
	struct named_ctx	*nc = oc->nc;
	const struct srv	*s = locks_server(nc);
	lock_argop		 op;
	dfs_stat		 st = DFS_OK;
	int			 rc;

	if (s == NULL)
		return 0;
	locks_repoint(nc, s);
	memset(&op, 0, sizeof(op));
	op.op = LOP_TEST;
	op.lock_argop_u.test.path.dfs_path_val = (char *)path;
	op.lock_argop_u.test.path.dfs_path_len = (u_int)len;
	op.lock_argop_u.test.id = oc->lock;
	op.lock_argop_u.test.mode = DFS_LOCK_EXCL;
	rc = locks_call(nc, &op, &st);
	if (rc != 0) {
		log_warnx("lock server %s port %u: %s%s%s", nc->lockd.host,
		    nc->lockd.port, dfs_strerror(rc),
		    nc->lockd.err[0] ? ": " : "", nc->lockd.err);
		return -DFS_ERR_DELAY;
	}
	switch (st) {
	case DFS_OK:
		return 0;
	case DFS_ERR_LOCKED:
	case DFS_ERR_EXPIRED:
	case DFS_ERR_BADLOCK:
		log_debug("lock server refused '%.*s': %s", (int)len, path,
		    dfs_statname(st));
		return -(int)st;
	default:
		log_warnx("lock server TEST of '%.*s': unexpected %s",
		    (int)len, path, dfs_statname(st));
		return -DFS_ERR_SERVERFAULT;
	}
}

/*
 * locks_check() of `dir`/`name`; builds the path only when a lock server
 * is registered.  Returns locks_check()'s codes, or -DFS_ERR_NAMETOOLONG,
 * -DFS_ERR_NOMEM, -DFS_ERR_IO from building the path.
 */
int
locks_check_child(struct op_ctx *oc, const struct inode *dir,
    const char *name, size_t len)
{
	char	*path;
	size_t	 plen;
	int	 rc;

	if (locks_server(oc->nc) == NULL)
		return 0;
	rc = inode_child_path(oc->nc, dir, name, len, &path, &plen);
	if (rc != 0)
		return rc;
	rc = locks_check(oc, path, plen);
	free(path);
	return rc;
}

/* locks_check() of object `ino`'s path.  Same returns. */
int
locks_check_inode(struct op_ctx *oc, const struct inode *ino)
{
	char	*path;
	size_t	 plen;
	int	 rc;

	if (locks_server(oc->nc) == NULL)
		return 0;
	rc = inode_path(oc->nc, ino, &path, &plen);
	if (rc != 0)
		return rc;
	rc = locks_check(oc, path, plen);
	free(path);
	return rc;
}

/*
 * Opcode: PUTLOCK id
 * Changes the lock id the COMPOUND's later mutations are checked under
 * (all zero: none).  Reads nothing and checks nothing here: a bad id is
 * found by the lock server when a mutation is tested.  Returns OK.
 */
dfs_stat
op_putlock(struct op_ctx *oc, const name_argop *arg, name_resop *res)
{
	(void)res;
	oc->lock = arg->name_argop_u.putlock;
	return DFS_OK;
}
