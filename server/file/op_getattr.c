/*
 * op_getattr.c -- FOP_GETATTR: what this server holds of a file.
 */
#include "filed.h"

/*
 * GETATTR(fh)
 *
 * Reads the data directory: the newest version of the file this server
 * holds and its size; vers 0 and size 0 when it holds none.  Changes
 * nothing.  Errors: BADHANDLE, IO, DELAY (versions kept changing under
 * us).
 */
dfs_stat
op_getattr(struct op_ctx *oc, const file_argop *a, file_resop *r)
{
	fattr	*fa = &r->file_resop_u.getattr.fattr_res_u.attr;
	char	 hex[FH_HEXLEN + 1];
	int	 rc;

	if ((rc = store_fh(&a->file_argop_u.getattr, hex)) != 0)
		return (dfs_stat)-rc;
	rc = store_newest(oc->fc, hex, &fa->vers, &fa->size);
	return (dfs_stat)-rc;
}
