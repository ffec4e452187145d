/*
 * op_attr.c -- attributes: GETATTR, SETATTR, and COMMIT (a file server
 * reporting new contents: the only op that changes a file's version).
 */
#include "named.h"

#define SA_ALL	(DFS_SA_MODE | DFS_SA_UID | DFS_SA_GID | DFS_SA_MTIME)

/*
 * Opcode: GETATTR
 * Reads the current object; returns its attributes.  Errors: STALE,
 * NOFILEHANDLE.
 */
dfs_stat
op_getattr(struct op_ctx *oc, const name_argop *arg, name_resop *res)
{
	struct inode	ino;
	int		rc;

	(void)arg;
	rc = cur_inode(oc, &ino);
	if (rc != 0)
		return (dfs_stat)-rc;
	attr_fill(&ino, &res->name_resop_u.getattr.attr_res_u.attr);
	return DFS_OK;
}

/*
 * Opcode: SETATTR {mask, mode, uid, gid, mtime}
 * Changes the fields the mask names (mode masked to 07777) and ctime to
 * now; not the version, which only COMMIT moves.  Returns the new
 * attributes.  Errors: INVAL (unknown mask bits), STALE, NOFILEHANDLE;
 * LOCKED, EXPIRED, BADLOCK (the lock server's answer for the object's
 * path under the PUTLOCK id), DELAY (it did not answer), NAMETOOLONG
 * (the path, asked only when a lock server is registered, is too long).
 */
dfs_stat
op_setattr(struct op_ctx *oc, const name_argop *arg, name_resop *res)
{
	const setattr_args	*sa = &arg->name_argop_u.setattr;
	struct inode		 ino;
	int			 rc;

	if (sa->mask & ~(u_int)SA_ALL)
		return DFS_ERR_INVAL;
	rc = cur_inode(oc, &ino);
	if (rc == 0)
		rc = locks_check_inode(oc, &ino);
	if (rc != 0)
		return (dfs_stat)-rc;
	if (sa->mask & DFS_SA_MODE)
		ino.mode = sa->mode & 07777;
	if (sa->mask & DFS_SA_UID)
		ino.uid = sa->uid;
	if (sa->mask & DFS_SA_GID)
		ino.gid = sa->gid;
	if (sa->mask & DFS_SA_MTIME)
		ino.mtime = sa->mtime;
	ino.ctime = now_ns();
	rc = inode_put(oc->nc, &ino);
	if (rc != 0)
		return (dfs_stat)-rc;
	attr_fill(&ino, &res->name_resop_u.setattr.attr_res_u.attr);
	return DFS_OK;
}

/* Records that server `srvid` holds the file (if there is room). */
static void
repl_add(struct inode *ino, uint64_t srvid)
{
	uint32_t	i;

	for (i = 0; i < ino->nrepl; i++)
		if (ino->repl[i] == srvid)
			return;
	if (ino->nrepl < DFS_MAXREPLICAS)
		ino->repl[ino->nrepl++] = srvid;
}

/*
 * Opcode: COMMIT {oldvers, size, srvid}
 * Sent by a file server that made new contents durable, after PUTLOCK of
 * the writer's lock.  Reads the current file; when its version is still
 * oldvers and the lock server lets the PUTLOCK id change its path,
 * changes it to oldvers + 1, sets size, mtime = ctime = now, and records
 * srvid as holding it.  Returns the new attributes.  Errors: CHANGED
 * (the version moved), ISDIR, INVAL (srvid is not a registered file
 * server), STALE, NOFILEHANDLE; LOCKED, EXPIRED, BADLOCK, DELAY,
 * NAMETOOLONG as for SETATTR.
 */
dfs_stat
op_commit(struct op_ctx *oc, const name_argop *arg, name_resop *res)
{
	const commit_args	*ca = &arg->name_argop_u.commit;
	const struct srv	*s;
	struct inode		 ino;
	int			 rc;

	rc = cur_inode(oc, &ino);
	if (rc != 0)
		return (dfs_stat)-rc;
	if (ino.type == DFS_FTYPE_DIR)
		return DFS_ERR_ISDIR;
	s = srv_find(oc->nc, ca->srvid);
	if (s == NULL || s->kind != DFS_SRV_FILE)
		return DFS_ERR_INVAL;
	if (ino.vers != ca->oldvers)
		return DFS_ERR_CHANGED;
	if ((rc = locks_check_inode(oc, &ino)) != 0)
		return (dfs_stat)-rc;
	/* the first commit: the file is no longer provisional */
	if (ino.vers == 0 && (rc = prov_commit(oc->nc, ino.id)) != 0)
		return (dfs_stat)-rc;
	ino.vers++;
	ino.size = ca->size;
	ino.mtime = ino.ctime = now_ns();
	repl_add(&ino, ca->srvid);
	rc = inode_put(oc->nc, &ino);
	if (rc != 0)
		return (dfs_stat)-rc;
	attr_fill(&ino, &res->name_resop_u.commit.attr_res_u.attr);
	return DFS_OK;
}
