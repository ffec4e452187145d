/*
 * op_remove.c -- REMOVE, and the unlinking RENAME shares with it.
 */
#include "named.h"
#include "path.h"

/*
 * Removes `child`'s entry from `dir` (in memory; the caller writes the
 * directory) and deletes the object, so its handle answers STALE.
 * Returns 0 or -DFS_ERR_IO.
 */
int
entry_unlink(struct named_ctx *nc, struct inode *dir,
    const struct inode *child)
{
	int	rc;

	rc = dirent_remove(nc, dir, child->name, child->namelen);
	if (rc == 0)
		rc = inode_del(nc, child->id);
	return rc == -DFS_ERR_NOENT ? -DFS_ERR_IO : rc;
}

/*
 * Checks that `victim` may be removed or replaced: a directory must be
 * empty.  Returns 0 or -DFS_ERR_NOTEMPTY.
 */
int
entry_removable(const struct inode *victim)
{
	if (victim->type == DFS_FTYPE_DIR && victim->nentries > 0)
		return -DFS_ERR_NOTEMPTY;
	return 0;
}

/*
 * Opcode: REMOVE name
 * Reads the current directory and the named object; removes the entry
 * and the object (a file, or an empty directory) and updates the
 * directory's times, version and link count.  Returns the object's
 * dfs_loc so the caller can tell its file servers to drop the data.
 * Errors: INVAL, NAMETOOLONG (bad name), NOTDIR, NOENT, NOTEMPTY,
 * STALE, NOFILEHANDLE; LOCKED, EXPIRED, BADLOCK (the lock server's
 * answer for the object's path under the PUTLOCK id; for a directory,
 * for any locked path at or below it), DELAY (it did not answer).  The
 * root has no name, so cannot be removed.
 */
dfs_stat
op_remove(struct op_ctx *oc, const name_argop *arg, name_resop *res)
{
	const dfs_name	*nm = &arg->name_argop_u.remove;
	dfs_loc		*loc = &res->name_resop_u.remove.remove_res_u.removed;
	struct inode	 dir, ino;
	struct dentry	 de;
	int		 rc;

	rc = path_check_name(nm->dfs_name_val, nm->dfs_name_len);
	if (rc == 0)
		rc = cur_dir(oc, &dir);
	if (rc == 0)
		rc = dirent_get(oc->nc, dir.id, nm->dfs_name_val,
		    nm->dfs_name_len, &de);
	if (rc == 0)
		rc = inode_get(oc->nc, de.child, &ino);
	if (rc == 0)
		rc = entry_removable(&ino);
	if (rc == 0)
		rc = locks_check_entry(oc, &dir, nm->dfs_name_val,
		    nm->dfs_name_len, ino.type == DFS_FTYPE_DIR);
	if (rc == 0)
		rc = loc_fill(oc->nc, &ino, loc);
	if (rc == 0)
		rc = entry_unlink(oc->nc, &dir, &ino);
	if (rc == 0) {
		inode_touch(&dir, now_ns());
		rc = inode_put(oc->nc, &dir);
	}
	if (rc != 0)
		xdr_free((xdrproc_t)xdr_dfs_loc, (char *)loc);
	return (dfs_stat)-rc;
}
