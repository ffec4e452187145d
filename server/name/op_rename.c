/*
 * op_rename.c -- RENAME: a metadata operation, O(1) in the size of what
 * moves (a moved directory's descendants are not touched) and atomic
 * (one kv batch).  The object keeps its file id, so its handle stays
 * valid.
 */
#include <stdlib.h>
#include <string.h>

#include "named.h"
#include "path.h"

struct rn {
	struct inode	sdir;		/* source directory (saved) */
	struct inode	tdir;		/* target directory (current) */
	struct inode	src;		/* the object that moves */
	struct inode	victim;		/* what the target name held */
	int		has_victim;
	int		same_dir;
	int		noop;
};

/* Checks the target name's current holder, if any.  Returns 0,
 * -DFS_ERR_ISDIR, -DFS_ERR_NOTDIR, -DFS_ERR_NOTEMPTY or -DFS_ERR_IO. */
static int
rename_check_victim(struct op_ctx *oc, const dfs_name *nn, struct rn *r)
{
	struct dentry	de;
	int		rc;

	rc = dirent_get(oc->nc, r->tdir.id, nn->dfs_name_val,
	    nn->dfs_name_len, &de);
	if (rc == -DFS_ERR_NOENT)
		return 0;
	if (rc == 0)
		rc = inode_get(oc->nc, de.child, &r->victim);
	if (rc != 0)
		return rc;
	r->has_victim = 1;
	if (r->src.type == DFS_FTYPE_REG && r->victim.type == DFS_FTYPE_DIR)
		return -DFS_ERR_ISDIR;
	if (r->src.type == DFS_FTYPE_DIR && r->victim.type == DFS_FTYPE_REG)
		return -DFS_ERR_NOTDIR;
	return entry_removable(&r->victim);
}

/*
 * Validates a RENAME before anything is written.  Returns 0 (r->noop
 * set when the rename is onto itself), or a negative dfs_stat.
 */
static int
rename_check(struct op_ctx *oc, const rename_args *ra, struct rn *r)
{
	const dfs_name	*on = &ra->oldname, *nn = &ra->newname;
	struct dentry	 de;
	int		 rc;

	if (oc->saved == 0)
		return -DFS_ERR_NOFILEHANDLE;
	rc = path_check_name(on->dfs_name_val, on->dfs_name_len);
	if (rc == 0)
		rc = path_check_name(nn->dfs_name_val, nn->dfs_name_len);
	if (rc == 0)
		rc = cur_dir(oc, &r->tdir);
	if (rc == 0)
		rc = inode_get(oc->nc, oc->saved, &r->sdir);
	if (rc == -DFS_ERR_NOENT)
		return -DFS_ERR_STALE;
	if (rc == 0 && r->sdir.type != DFS_FTYPE_DIR)
		rc = -DFS_ERR_NOTDIR;
	if (rc == 0)
		rc = dirent_get(oc->nc, r->sdir.id, on->dfs_name_val,
		    on->dfs_name_len, &de);
	if (rc == 0)
		rc = inode_get(oc->nc, de.child, &r->src);
	if (rc != 0)
		return rc;
	r->same_dir = r->sdir.id == r->tdir.id;
	if (r->same_dir && on->dfs_name_len == nn->dfs_name_len &&
	    memcmp(on->dfs_name_val, nn->dfs_name_val, on->dfs_name_len) == 0) {
		r->noop = 1;
		return 0;
	}
	/* a directory cannot move into itself or below itself */
	if (r->src.type == DFS_FTYPE_DIR) {
		rc = inode_is_below(oc->nc, r->tdir.id, r->src.id);
		if (rc != 0)
			return rc == 1 ? -DFS_ERR_INVAL : rc;
	}
	return rename_check_victim(oc, nn, r);
}

/*
 * Asks the lock server about both names a validated RENAME changes: the
 * source path and the target path (whether or not it exists yet).  A
 * directory moves every path below it, out of the source and into the
 * target, so then both are asked with everything below them.  Returns 0
 * or locks_check_entry()'s errors.
 */
static int
rename_locks(struct op_ctx *oc, const rename_args *ra, const struct rn *r)
{
	int	tree = r->src.type == DFS_FTYPE_DIR;
	int	rc;

	rc = locks_check_entry(oc, &r->sdir, ra->oldname.dfs_name_val,
	    ra->oldname.dfs_name_len, tree);
	if (rc == 0)
		rc = locks_check_entry(oc, &r->tdir, ra->newname.dfs_name_val,
		    ra->newname.dfs_name_len, tree);
	return rc;
}

/* Fills the result's `replaced` with the victim.  Returns 0 or
 * -DFS_ERR_NOMEM. */
static int
rename_fill(struct op_ctx *oc, struct rn *r, rename_res *rr)
{
	dfs_loc	*loc;

	if (!r->has_victim)
		return 0;
	loc = calloc(1, sizeof(*loc));
	if (loc == NULL)
		return -DFS_ERR_NOMEM;
	rr->rename_res_u.replaced.replaced_val = loc;
	rr->rename_res_u.replaced.replaced_len = 1;
	return loc_fill(oc->nc, &r->victim, loc);
}

/* Performs a validated RENAME.  Returns 0 or -DFS_ERR_IO. */
static int
rename_apply(struct op_ctx *oc, const rename_args *ra, struct rn *r)
{
	const dfs_name	*nn = &ra->newname;
	struct inode	*td = r->same_dir ? &r->sdir : &r->tdir;
	int64_t		 now = now_ns();
	int		 rc = 0;

	if (r->has_victim)
		rc = entry_unlink(oc->nc, td, &r->victim);
	if (rc == 0)
		rc = dirent_remove(oc->nc, &r->sdir, r->src.name,
		    r->src.namelen);
	if (rc == 0)
		rc = dirent_add(oc->nc, td, nn->dfs_name_val, nn->dfs_name_len,
		    r->src.id, r->src.type);
	if (rc != 0)
		return -DFS_ERR_IO;
	inode_setname(&r->src, td->id, nn->dfs_name_val, nn->dfs_name_len);
	r->src.ctime = now;
	inode_touch(&r->sdir, now);
	if (!r->same_dir)
		inode_touch(td, now);
	rc = inode_put(oc->nc, &r->src);
	if (rc == 0)
		rc = inode_put(oc->nc, &r->sdir);
	if (rc == 0 && !r->same_dir)
		rc = inode_put(oc->nc, td);
	return rc;
}

/*
 * Opcode: RENAME {oldname, newname}
 * Moves saved-directory/oldname to current-directory/newname.  Reads
 * both directories, the source and the target name; changes the
 * entries, the object's parent and name and ctime, both directories'
 * times, versions and link counts.  A file replaces a file and a
 * directory an empty directory; the replaced object is deleted and
 * returned (dfs_loc) so its data can be dropped.  Renaming onto itself
 * changes nothing.  Errors: NOFILEHANDLE (no current or saved object),
 * INVAL, NAMETOOLONG (bad names), INVAL (a directory into itself or its
 * subtree), NOTDIR (a handle is not a directory; a directory onto a
 * file), ISDIR (a file onto a directory), NOTEMPTY (onto a non-empty
 * directory), NOENT (no oldname), STALE; after those checks, LOCKED,
 * EXPIRED, BADLOCK (the lock server's answer for the source or the
 * target path under the PUTLOCK id; moving a directory, for any locked
 * path at or below either), DELAY (it did not answer).
 */
dfs_stat
op_rename(struct op_ctx *oc, const name_argop *arg, name_resop *res)
{
	const rename_args	*ra = &arg->name_argop_u.rename;
	rename_res		*rr = &res->name_resop_u.rename;
	struct rn		*r;
	int			 rc;

	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return DFS_ERR_NOMEM;
	rc = rename_check(oc, ra, r);
	if (rc == 0 && !r->noop)
		rc = rename_locks(oc, ra, r);
	if (rc == 0 && !r->noop)
		rc = rename_fill(oc, r, rr);
	if (rc == 0 && !r->noop)
		rc = rename_apply(oc, ra, r);
	if (rc != 0)
		xdr_free((xdrproc_t)xdr_rename_res, (char *)rr);
	free(r);
	return (dfs_stat)-rc;
}
