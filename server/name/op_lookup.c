/*
 * op_lookup.c -- walking names to objects (LOOKUP) and back (GETPATH).
 */
#include <stdlib.h>

#include "named.h"
#include "path.h"

/*
 * Opcode: LOOKUP "a/b/c"
 * Reads the current directory and each component's entry; changes the
 * current object to the last one (unchanged on failure).  Errors: INVAL
 * or NAMETOOLONG (bad path: empty, leading '/', "", ".", "..", NUL),
 * NOTDIR (the current object or a middle component is not a directory),
 * NOENT (a component is missing), STALE, NOFILEHANDLE.
 */
dfs_stat
op_lookup(struct op_ctx *oc, const name_argop *arg, name_resop *res)
{
	const dfs_path	*p = &arg->name_argop_u.lookup;
	struct inode	 ino;
	struct dentry	 de;
	const char	*comp;
	size_t		 pos = 0, clen;
	int		 rc;

	(void)res;
	rc = path_check_rel(p->dfs_path_val, p->dfs_path_len);
	if (rc == 0)
		rc = cur_inode(oc, &ino);
	while (rc == 0 && path_next(p->dfs_path_val, p->dfs_path_len, &pos,
	    &comp, &clen)) {
		if (ino.type != DFS_FTYPE_DIR)
			rc = -DFS_ERR_NOTDIR;
		else
			rc = dirent_get(oc->nc, ino.id, comp, clen, &de);
		if (rc == 0)
			rc = inode_get(oc->nc, de.child, &ino);
	}
	if (rc != 0)
		return (dfs_stat)-rc;
	oc->cur = ino.id;
	return DFS_OK;
}

/*
 * Opcode: GETPATH
 * Reads the current object and its ancestors; returns its absolute path
 * ("/" for the root).  Errors: NAMETOOLONG (deeper than DFS_MAXPATHLEN
 * after renames), STALE, NOFILEHANDLE.
 */
dfs_stat
op_getpath(struct op_ctx *oc, const name_argop *arg, name_resop *res)
{
	dfs_path	*out = &res->name_resop_u.getpath.path_res_u.path;
	struct inode	 ino;
	char		*path;
	size_t		 len;
	int		 rc;

	(void)arg;
	rc = cur_inode(oc, &ino);
	if (rc == 0)
		rc = inode_path(oc->nc, &ino, &path, &len);
	if (rc != 0)
		return (dfs_stat)-rc;
	out->dfs_path_val = path;
	out->dfs_path_len = (u_int)len;
	return DFS_OK;
}
