/*
 * op_create.c -- making objects: CREATE (regular file, placed on a file
 * server) and MKDIR.  Both validate everything, then ask the lock server
 * (locks.c), before the first write.  SUSPECT, a client's report that
 * steers CREATE's placement away from a file server it cannot reach,
 * lives here too.
 */
#include <stdlib.h>

#include "named.h"
#include "path.h"

/*
 * Links the new object `ino` as `name` in `dir` and writes both (the
 * directory with new times and version).  Returns 0 or -DFS_ERR_IO.
 */
static int
link_new(struct named_ctx *nc, struct inode *dir, struct inode *ino,
    const char *name, size_t len)
{
	int	rc;

	inode_setname(ino, dir->id, name, len);
	rc = inode_put(nc, ino);
	if (rc == 0)
		rc = dirent_add(nc, dir, name, len, ino->id, ino->type);
	inode_touch(dir, ino->ctime);
	if (rc == 0)
		rc = inode_put(nc, dir);
	return rc;
}

/* Fills CREATE's result for file `ino`.  Returns 0 or -DFS_ERR_NOMEM
 * (with the result's storage released). */
static int
create_fill(struct op_ctx *oc, const struct inode *ino, int created,
    name_resop *res)
{
	create_ok	*ok = &res->name_resop_u.create.create_res_u.ok;
	int		 rc;

	attr_fill(ino, &ok->attr);
	ok->created = created;
	rc = srv_fill_ids(oc->nc, ino->repl, ino->nrepl,
	    &ok->servers.servers_val, &ok->servers.servers_len);
	if (rc != 0)
		xdr_free((xdrproc_t)xdr_create_ok, (char *)ok);
	return rc;
}

/*
 * CREATE of a taken name: a non-exclusive CREATE of a file opens it.
 * Returns 0, -DFS_ERR_EXIST, -DFS_ERR_ISDIR, -DFS_ERR_NOMEM or
 * -DFS_ERR_IO.
 */
static int
create_open(struct op_ctx *oc, const create_args *ca, const struct dentry *de,
    name_resop *res)
{
	struct inode	ino;
	int		rc;

	if (ca->exclusive)
		return -DFS_ERR_EXIST;
	if (de->type == DFS_FTYPE_DIR)
		return -DFS_ERR_ISDIR;
	rc = inode_get(oc->nc, de->child, &ino);
	if (rc == 0)
		rc = create_fill(oc, &ino, 0, res);
	if (rc == 0)
		oc->cur = ino.id;
	return rc;
}

/*
 * Opcode: CREATE {name, mode, exclusive}
 * Reads the current directory.  When the name is free: places the file
 * on a live file server (longest declared prefix wins), creates it with
 * version 0 and size 0, adds the entry, updates the directory's times and
 * version; the file is provisional until its first COMMIT (prov.c).  When the name is a file and not exclusive: opens it
 * (created = false).  Either way the current object becomes the file.
 * Errors: INVAL, NAMETOOLONG (bad name, or the path gets too long),
 * NOTDIR, EXIST (exclusive and taken), ISDIR (the name is a directory),
 * NOSERVER (no live file server serves the path), STALE, NOFILEHANDLE;
 * when it would create: LOCKED, EXPIRED, BADLOCK (the lock server's
 * answer for the new path under the PUTLOCK id), DELAY (a lock server is
 * registered but did not answer).  Opening an existing file asks no one.
 */
dfs_stat
op_create(struct op_ctx *oc, const name_argop *arg, name_resop *res)
{
	const create_args	*ca = &arg->name_argop_u.create;
	const char		*name = ca->name.dfs_name_val;
	size_t			 len = ca->name.dfs_name_len;
	struct inode		 dir, ino;
	struct dentry		 de;
	uint64_t		 srvid;
	char			*path;
	size_t			 plen;
	int			 rc;

	rc = path_check_name(name, len);
	if (rc == 0)
		rc = cur_dir(oc, &dir);
	if (rc == 0)
		rc = dirent_get(oc->nc, dir.id, name, len, &de);
	if (rc == 0)
		return (dfs_stat)-create_open(oc, ca, &de, res);
	if (rc != -DFS_ERR_NOENT)
		return (dfs_stat)-rc;
	rc = inode_child_path(oc->nc, &dir, name, len, &path, &plen);
	if (rc != 0)
		return (dfs_stat)-rc;
	rc = srv_place(oc->nc, path, plen, &srvid);
	if (rc == 0)
		rc = locks_check(oc, path, plen);
	free(path);
	if (rc == 0)
		rc = inode_new(oc->nc, &ino, DFS_FTYPE_REG, ca->mode, oc->uid,
		    oc->gid);
	if (rc != 0)
		return (dfs_stat)-rc;
	ino.repl[ino.nrepl++] = srvid;
	rc = link_new(oc->nc, &dir, &ino, name, len);
	if (rc == 0)
		rc = prov_add(oc->nc, ino.id, ino.ctime);
	if (rc == 0)
		rc = create_fill(oc, &ino, 1, res);
	if (rc == 0)
		oc->cur = ino.id;
	return (dfs_stat)-rc;
}

/*
 * Opcode: MKDIR {name, mode}
 * Reads the current directory; creates an empty directory there, adds
 * the entry, updates the parent's times, version and link count.  The
 * current object becomes the new directory; returns its attributes.
 * Errors: INVAL, NAMETOOLONG, NOTDIR, EXIST (name taken), STALE,
 * NOFILEHANDLE, and LOCKED, EXPIRED, BADLOCK, DELAY as for CREATE.
 */
dfs_stat
op_mkdir(struct op_ctx *oc, const name_argop *arg, name_resop *res)
{
	const mkdir_args	*ma = &arg->name_argop_u.mkdir;
	const char		*name = ma->name.dfs_name_val;
	size_t			 len = ma->name.dfs_name_len;
	struct inode		 dir, ino;
	struct dentry		 de;
	char			*path;
	size_t			 plen;
	int			 rc;

	rc = path_check_name(name, len);
	if (rc == 0)
		rc = cur_dir(oc, &dir);
	if (rc == 0) {
		rc = dirent_get(oc->nc, dir.id, name, len, &de);
		if (rc == 0)
			rc = -DFS_ERR_EXIST;
		else if (rc == -DFS_ERR_NOENT)
			rc = inode_child_path(oc->nc, &dir, name, len, &path,
			    &plen);
	}
	if (rc != 0)
		return (dfs_stat)-rc;
	rc = locks_check(oc, path, plen);
	free(path);
	if (rc == 0)
		rc = inode_new(oc->nc, &ino, DFS_FTYPE_DIR, ma->mode, oc->uid,
		    oc->gid);
	if (rc == 0)
		rc = link_new(oc->nc, &dir, &ino, name, len);
	if (rc != 0)
		return (dfs_stat)-rc;
	attr_fill(&ino, &res->name_resop_u.mkdir.attr_res_u.attr);
	oc->cur = ino.id;
	return DFS_OK;
}

/*
 * Opcode: SUSPECT {server id}
 * A client could not reach this file server (the first upload of a file
 * CREATE placed there failed in transport).  Until its heartbeats would
 * have told (SRV_SUSPECT_MS at least), CREATE places new files on other
 * live servers when there are any.  Changes no stored state; an unknown
 * id or a lock server is ignored.  Errors: none.
 */
dfs_stat
op_suspect(struct op_ctx *oc, const name_argop *arg, name_resop *res)
{
	(void)res;
	srv_mark_suspect(oc->nc, arg->name_argop_u.suspect);
	return DFS_OK;
}
