/*
 * op_fh.c -- the handle ops (PUTROOTFH, PUTFH, GETFH, SAVEFH, RESTOREFH)
 * and the helpers every handler shares to reach the current object and
 * fill results.  (ILLEGAL is lib/compound.c's.)
 *
 * The current and saved objects are file ids in struct op_ctx; an op
 * that uses one re-reads it, so an object removed earlier in the same
 * COMPOUND answers STALE.
 */
#include <sys/socket.h>

#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "fh.h"
#include "named.h"

/*
 * Fills `host` with the numeric address the COMPOUND came from, or ""
 * when unknown (a direct call, as in the unit tests).
 */
void
caller_host(const struct op_ctx *oc, char *host, size_t len)
{
	const struct netbuf	*nb;

	host[0] = '\0';
	if (oc->rq == NULL || oc->rq->rq_xprt == NULL)
		return;
	nb = svc_getrpccaller(oc->rq->rq_xprt);
	if (nb == NULL || nb->buf == NULL || getnameinfo(nb->buf,
	    (socklen_t)nb->len, host, (socklen_t)len, NULL, 0,
	    NI_NUMERICHOST) != 0)
		host[0] = '\0';
}

/*
 * Reads the current object.  Returns 0, -DFS_ERR_STALE when it was
 * removed, or -DFS_ERR_IO.
 */
int
cur_inode(struct op_ctx *oc, struct inode *ino)
{
	int	rc = inode_get(oc->nc, oc->cur, ino);

	return rc == -DFS_ERR_NOENT ? -DFS_ERR_STALE : rc;
}

/* Same, and the object must be a directory (else -DFS_ERR_NOTDIR). */
int
cur_dir(struct op_ctx *oc, struct inode *ino)
{
	int	rc = cur_inode(oc, ino);

	if (rc == 0 && ino->type != DFS_FTYPE_DIR)
		rc = -DFS_ERR_NOTDIR;
	return rc;
}

/* Fills `out` with a malloc(3)ed handle for `id`.  Returns 0 or
 * -DFS_ERR_NOMEM. */
int
fh_make(const struct named_ctx *nc, uint64_t id, dfs_fh *out)
{
	struct fh	fh = { nc->instance, id };

	out->dfs_fh_val = malloc(FH_LEN);
	if (out->dfs_fh_val == NULL)
		return -DFS_ERR_NOMEM;
	fh_encode(&fh, nc->secret, (unsigned char *)out->dfs_fh_val);
	out->dfs_fh_len = FH_LEN;
	return 0;
}

/* Fills wire attributes.  A directory's size is its number of entries
 * and its nlink 2 + its subdirectories, as in a Unix file system. */
void
attr_fill(const struct inode *ino, dfs_attr *a)
{
	a->type = ino->type;
	a->mode = ino->mode;
	a->uid = ino->uid;
	a->gid = ino->gid;
	a->fileid = ino->id;
	a->mtime = ino->mtime;
	a->ctime = ino->ctime;
	a->vers = ino->vers;
	if (ino->type == DFS_FTYPE_DIR) {
		a->nlink = (u_int)(2 + ino->nsubdirs);
		a->size = ino->nentries;
	} else {
		a->nlink = 1;
		a->size = ino->size;
	}
}

/*
 * Fills a dfs_loc (handle, type, replica servers).  On failure `loc`
 * holds what was filled (xdr_free it).  Returns 0 or -DFS_ERR_NOMEM.
 */
int
loc_fill(const struct named_ctx *nc, const struct inode *ino, dfs_loc *loc)
{
	loc->type = ino->type;
	if (fh_make(nc, ino->id, &loc->fh) != 0)
		return -DFS_ERR_NOMEM;
	return srv_fill_ids(nc, ino->repl, ino->nrepl,
	    &loc->servers.servers_val, &loc->servers.servers_len);
}

/*
 * Opcode: PUTROOTFH
 * Changes the current object to the root directory.  Returns OK.
 */
dfs_stat
op_putrootfh(struct op_ctx *oc, const name_argop *arg, name_resop *res)
{
	(void)arg;
	(void)res;
	oc->cur = NAMED_ROOTID;
	return DFS_OK;
}

/*
 * Opcode: PUTFH fh
 * Reads the handle; changes the current object to it.  Errors:
 * BADHANDLE (wrong length, magic or tag), STALE (another instance's
 * handle, or the object was removed).
 */
dfs_stat
op_putfh(struct op_ctx *oc, const name_argop *arg, name_resop *res)
{
	const dfs_fh	*in = &arg->name_argop_u.putfh;
	struct inode	 ino;
	struct fh	 fh;
	int		 rc;

	(void)res;
	rc = fh_decode(in->dfs_fh_val, in->dfs_fh_len, oc->nc->instance,
	    oc->nc->secret, &fh);
	if (rc == 0)
		rc = inode_get(oc->nc, fh.fileid, &ino);
	if (rc == -DFS_ERR_NOENT)
		rc = -DFS_ERR_STALE;
	if (rc != 0)
		return (dfs_stat)-rc;
	oc->cur = fh.fileid;
	return DFS_OK;
}

/*
 * Opcode: GETFH
 * Reads the current object; returns its handle.  Errors: NOFILEHANDLE,
 * STALE.
 */
dfs_stat
op_getfh(struct op_ctx *oc, const name_argop *arg, name_resop *res)
{
	struct inode	ino;
	int		rc;

	(void)arg;
	rc = cur_inode(oc, &ino);
	if (rc == 0)
		rc = fh_make(oc->nc, ino.id, &res->name_resop_u.getfh.
		    getfh_res_u.fh);
	return (dfs_stat)-rc;
}

/*
 * Opcode: SAVEFH
 * Changes the saved object to the current one.  Errors: NOFILEHANDLE.
 */
dfs_stat
op_savefh(struct op_ctx *oc, const name_argop *arg, name_resop *res)
{
	(void)arg;
	(void)res;
	oc->saved = oc->cur;
	return DFS_OK;
}

/*
 * Opcode: RESTOREFH
 * Changes the current object to the saved one.  Errors: NOFILEHANDLE
 * when nothing was saved.
 */
dfs_stat
op_restorefh(struct op_ctx *oc, const name_argop *arg, name_resop *res)
{
	(void)arg;
	(void)res;
	if (oc->saved == 0)
		return DFS_ERR_NOFILEHANDLE;
	oc->cur = oc->saved;
	return DFS_OK;
}
