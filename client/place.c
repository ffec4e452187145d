/*
 * place.c -- a new file whose file server cannot be reached: placed
 * again on another one, or its name taken back.
 *
 * CREATE names a file (version 0, no data) and places it on a file
 * server before a byte is stored, and dfs-cp(1) promises all or
 * nothing: a new file whose upload fails must not stay behind empty.
 * Two things keep that promise:
 *
 *  - When the first request of an upload (the one that makes the stage)
 *    fails in transport, the server is the problem, not the file: the
 *    client reports it to the name server (SUSPECT, which steers
 *    placement away from it for a while) and moves the name to another
 *    server with REMOVE and CREATE in one COMPOUND, then tries once more.
 *    A dead server that the heartbeats have not shown yet thus costs a
 *    new file one failed connect, not the upload.
 *  - When the upload fails for good (or is abandoned, dfs_abort()), the
 *    name this client created is removed, if it still is that version-0
 *    file: under the writer's exclusive lock no one else can have
 *    changed it; without one (dfs_put(), no lock server) the check
 *    before the REMOVE leaves a round trip's window.
 *
 * A client that dies between CREATE and its first commit still leaves
 * the empty name; that needs the name server (a never-committed file
 * CREATEd for an upload made invisible and swept), not the client.
 */
#include <string.h>

#include "client.h"

int
place_transport(int rc)
{
	return rc == -DFS_ERR_RPC || rc == -DFS_ERR_TIMEDOUT;
}

int
place_again(struct dfs *dfs, const dfs_lockid *lock, const char *path,
    uint64_t srvid, name_compound_res *res)
{
	struct name_req	 r = { .n = 0 };
	char		 buf[PATH_MAX];
	const char	*parent, *base;
	int		 rc;

	memset(res, 0, sizeof(*res));
	if (name_split(path, buf, &parent, &base) != 0)
		return -DFS_ERR_INVAL;
	lock_putlock(dfs, &r, lock, path, NULL);
	name_req_add(&r, OP_SUSPECT)->name_argop_u.suspect = srvid;
	name_walk(&r, parent);
	name_req_add(&r, OP_REMOVE)->name_argop_u.remove = mkname(base);
	name_req_create(&r, base, 1);
	name_req_add(&r, OP_GETFH);
	name_req_add(&r, OP_GETATTR);
	name_req_add(&r, OP_LOCATE);
	rc = conn_name(dfs, &r, res, 0);
	if (rc == 0 && (res->res.res_len != r.n ||
	    !res->res.res_val[r.n - 4].name_resop_u.create.create_res_u.ok.
	    created))
		rc = -DFS_ERR_SERVERFAULT;
	return rc;
}

/* Returns 1 when `path` is still the version-0 file `fh`, else 0. */
static int
still_new(struct dfs *dfs, const char *path, const dfs_fh *fh)
{
	struct name_req		 r = { .n = 0 };
	name_compound_res	 res;
	const dfs_fh		*cur;
	int			 same = 0;

	name_walk(&r, path);
	name_req_add(&r, OP_GETFH);
	name_req_add(&r, OP_GETATTR);
	if (conn_name(dfs, &r, &res, 1) == 0 && res.res.res_len == r.n) {
		cur = &res.res.res_val[r.n - 2].name_resop_u.getfh.
		    getfh_res_u.fh;
		same = cur->dfs_fh_len == fh->dfs_fh_len &&
		    memcmp(cur->dfs_fh_val, fh->dfs_fh_val,
		    fh->dfs_fh_len) == 0 &&
		    res.res.res_val[r.n - 1].name_resop_u.getattr.attr_res_u.
		    attr.vers == 0;
	}
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	return same;
}

void
place_undo(struct dfs *dfs, const dfs_lockid *lock, const char *path,
    const dfs_fh *fh)
{
	struct name_req		 r = { .n = 0 };
	name_compound_res	 res;
	char			 buf[PATH_MAX], detail[sizeof(dfs->detail)];
	const char		*parent, *base;

	if (name_split(path, buf, &parent, &base) != 0)
		return;
	memcpy(detail, dfs->detail, sizeof(detail));
	if (still_new(dfs, path, fh)) {
		lock_putlock(dfs, &r, lock, path, NULL);
		name_walk(&r, parent);
		name_req_add(&r, OP_REMOVE)->name_argop_u.remove = mkname(base);
		(void)conn_name(dfs, &r, &res, 0);
		xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&res);
	}
	memcpy(dfs->detail, detail, sizeof(detail));
}
