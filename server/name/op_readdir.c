/*
 * op_readdir.c -- READDIR: cookie-paged listing (see dirent.c).
 */
#include "named.h"

/*
 * Opcode: READDIR {cookie, count}
 * Reads the current directory's entry list from after `cookie` (0: the
 * start); returns up to `count` entries (0 or more than DFS_MAXDIRENT
 * means DFS_MAXDIRENT), each with the cookie to resume after it, and eof
 * when the list ends.  Changes nothing.  Errors: BADCOOKIE (the cookie's
 * entry is gone, or never existed), NOTDIR, STALE, NOFILEHANDLE.
 */
dfs_stat
op_readdir(struct op_ctx *oc, const name_argop *arg, name_resop *res)
{
	const readdir_args	*ra = &arg->name_argop_u.readdir;
	readdir_ok		*ok;
	struct inode		 dir;
	u_int			 count = ra->count;
	int			 rc;

	ok = &res->name_resop_u.readdir.readdir_res_u.ok;
	if (count == 0 || count > DFS_MAXDIRENT)
		count = DFS_MAXDIRENT;
	rc = cur_dir(oc, &dir);
	if (rc == 0)
		rc = dirent_page(oc->nc, &dir, ra->cookie, count, ok);
	if (rc != 0)
		xdr_free((xdrproc_t)xdr_readdir_ok, (char *)ok);
	return (dfs_stat)-rc;
}
