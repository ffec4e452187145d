/*
 * name.c -- path operations: stat, mkdir, rmdir, unlink, rename, chmod.
 *
 * Each is one COMPOUND to the name server that walks from the root
 * (PUTROOTFH, LOOKUP "a/b") and acts, so a path operation costs one
 * round trip; unlink and rename add a best-effort call to the file
 * servers to drop data no name refers to any more.  Those that change a
 * path start with lock_putlock(), so a change to a path this client
 * holds locked names its lock.
 */
#include <string.h>

#include "client.h"
#include "path.h"

int
name_check(const char *path)
{
	return path_check_abs(path, strlen(path));
}

int
name_split(const char *path, char *buf, const char **parent,
    const char **base)
{
	char	*slash;

	if (strlen(path) >= PATH_MAX || strcmp(path, "/") == 0)
		return -DFS_ERR_INVAL;
	strcpy(buf, path + 1);
	slash = strrchr(buf, '/');
	if (slash == NULL) {
		*parent = "";
		*base = buf;
	} else {
		*slash = '\0';
		*parent = buf;
		*base = slash + 1;
	}
	return 0;
}

void
name_walk(struct name_req *r, const char *path)
{
	name_req_add(r, OP_PUTROOTFH);
	while (*path == '/')
		path++;
	if (*path != '\0')
		name_req_lookup(r, path);
}

static void
attr_to_stat(const dfs_attr *a, struct dfs_info *st)
{
	st->type = a->type;
	st->mode = a->mode;
	st->uid = a->uid;
	st->gid = a->gid;
	st->nlink = a->nlink;
	st->size = a->size;
	st->fileid = a->fileid;
	st->mtime_ns = a->mtime;
	st->ctime_ns = a->ctime;
	st->version = a->vers;
}

int
dfs_getattr(struct dfs *dfs, const char *path, struct dfs_info *st)
{
	struct name_req		r = { .n = 0 };
	name_compound_res	res;
	int			rc;

	dfs->detail[0] = '\0';
	rc = name_check(path);
	if (rc != 0)
		return rc;
	name_walk(&r, path);
	name_req_add(&r, OP_GETATTR);
	rc = conn_name(dfs, &r, &res, 1);
	if (rc == 0)
		attr_to_stat(&res.res.res_val[r.n - 1].name_resop_u.getattr.
		    attr_res_u.attr, st);
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return rc;
}

static int
setattr(struct dfs *dfs, const char *path, const setattr_args *sa)
{
	struct name_req		r = { .n = 0 };
	name_compound_res	res;
	int			rc;

	dfs->detail[0] = '\0';
	rc = name_check(path);
	if (rc != 0)
		return rc;
	lock_putlock(dfs, &r, NULL, path, NULL);
	name_walk(&r, path);
	name_req_add(&r, OP_SETATTR)->name_argop_u.setattr = *sa;
	rc = conn_name(dfs, &r, &res, 1);
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return rc;
}

int
dfs_chmod(struct dfs *dfs, const char *path, unsigned int mode)
{
	setattr_args	sa = { .mask = DFS_SA_MODE, .mode = mode & 07777 };

	return setattr(dfs, path, &sa);
}

int
dfs_utime(struct dfs *dfs, const char *path, int64_t mtime_ns)
{
	setattr_args	sa = { .mask = DFS_SA_MTIME, .mtime = mtime_ns };

	return setattr(dfs, path, &sa);
}

int
dfs_mkdir(struct dfs *dfs, const char *path, unsigned int mode)
{
	struct name_req		 r = { .n = 0 };
	name_compound_res	 res;
	char			 buf[PATH_MAX];
	const char		*parent, *base;
	int			 rc;

	dfs->detail[0] = '\0';
	rc = name_check(path);
	if (rc == 0)
		rc = name_split(path, buf, &parent, &base);
	if (rc != 0)
		return rc == -DFS_ERR_INVAL && strcmp(path, "/") == 0 ?
		    -DFS_ERR_EXIST : rc;
	lock_putlock(dfs, &r, NULL, path, NULL);
	name_walk(&r, parent);
	name_req_mkdir(&r, base);
	r.ops[r.n - 1].name_argop_u.mkdir.mode = mode & 07777;
	rc = conn_name(dfs, &r, &res, 0);
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return rc;
}

void
name_drop_data(struct dfs *dfs, const dfs_loc *loc)
{
	struct file_req		r;
	file_compound_res	res;
	u_int			i;

	if (loc->type != DFS_FTYPE_REG)
		return;
	for (i = 0; i < loc->servers.servers_len; i++) {
		if (!loc->servers.servers_val[i].live)
			continue;
		r.n = 0;
		file_req_add(&r, FOP_REMOVE)->file_argop_u.remove = loc->fh;
		(void)conn_file(dfs, &loc->servers.servers_val[i], &r, &res, 0);
		xdr_free((xdrproc_t)xdr_file_compound_res, (char *)&res);
	}
}

/*
 * REMOVE of `path` if its type is `want`: one round trip to check the
 * type, one to remove.  Returns 0, -DFS_ERR_ISDIR / -DFS_ERR_NOTDIR on a
 * type mismatch, or the failure.
 */
static int
remove_typed(struct dfs *dfs, const char *path, int want)
{
	struct name_req		 r = { .n = 0 };
	name_compound_res	 res;
	struct dfs_info		 st;
	char			 buf[PATH_MAX];
	const char		*parent, *base;
	int			 rc;

	dfs->detail[0] = '\0';
	rc = dfs_getattr(dfs, path, &st);
	if (rc != 0)
		return rc;
	if (st.type != want)
		return want == DFS_FTYPE_DIR ? -DFS_ERR_NOTDIR : -DFS_ERR_ISDIR;
	rc = name_split(path, buf, &parent, &base);
	if (rc != 0)
		return -DFS_ERR_PERM;		/* the root */
	lock_putlock(dfs, &r, NULL, path, NULL);
	name_walk(&r, parent);
	name_req_add(&r, OP_REMOVE)->name_argop_u.remove = mkname(base);
	rc = conn_name(dfs, &r, &res, 0);
	if (rc == 0)
		name_drop_data(dfs, &res.res.res_val[r.n - 1].name_resop_u.
		    remove.remove_res_u.removed);
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return rc;
}

int
dfs_rmdir(struct dfs *dfs, const char *path)
{
	return remove_typed(dfs, path, DFS_FTYPE_DIR);
}

int
dfs_unlink(struct dfs *dfs, const char *path)
{
	return remove_typed(dfs, path, DFS_FTYPE_REG);
}

int
dfs_rename(struct dfs *dfs, const char *from, const char *to)
{
	struct name_req		 r = { .n = 0 };
	name_compound_res	 res;
	rename_res		*rr;
	char			 fbuf[PATH_MAX], tbuf[PATH_MAX];
	const char		*fparent, *fbase, *tparent, *tbase;
	int			 rc;

	dfs->detail[0] = '\0';
	if ((rc = name_check(from)) != 0 || (rc = name_check(to)) != 0)
		return rc;
	if (name_split(from, fbuf, &fparent, &fbase) != 0 ||
	    name_split(to, tbuf, &tparent, &tbase) != 0)
		return -DFS_ERR_INVAL;
	lock_putlock(dfs, &r, NULL, from, to);
	name_walk(&r, fparent);
	name_req_add(&r, OP_SAVEFH);
	name_walk(&r, tparent);
	name_req_add(&r, OP_RENAME)->name_argop_u.rename = (rename_args){
	    mkname(fbase), mkname(tbase) };
	rc = conn_name(dfs, &r, &res, 0);
	if (rc == 0) {
		rr = &res.res.res_val[r.n - 1].name_resop_u.rename;
		if (rr->rename_res_u.replaced.replaced_len == 1)
			name_drop_data(dfs,
			    &rr->rename_res_u.replaced.replaced_val[0]);
	}
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return rc;
}
