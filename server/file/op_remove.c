/*
 * op_remove.c -- FOP_REMOVE: drop a removed file's data.
 */
#include "filed.h"

/*
 * REMOVE(fh)
 *
 * Asks the name server about the handle first ([PUTFH]): only a file it
 * answers STALE for (removed) loses its data here, so a stray or forged
 * REMOVE cannot destroy a live file.  Then, under the handle's commit
 * lock, unlinks every version and every stage of it.  Errors: BADHANDLE,
 * EXIST (the name server still knows the file), DELAY (the name server
 * did not answer), IO, or the name server's own refusal.
 */
dfs_stat
op_remove(struct op_ctx *oc, const file_argop *a, file_resop *r)
{
	const dfs_fh	*fh = &a->file_argop_u.remove;
	char		 hex[FH_HEXLEN + 1];
	int		 rc;

	(void)r;
	if ((rc = store_fh(fh, hex)) != 0)
		return (dfs_stat)-rc;
	rc = namecall_exists(oc->fc, fh);
	if (rc == 0)
		return DFS_ERR_EXIST;
	if (rc != -DFS_ERR_STALE)
		return (dfs_stat)-rc;
	if ((rc = store_lock(oc->fc, hex)) != 0)
		return (dfs_stat)-rc;
	rc = store_remove_all(oc->fc, hex);
	store_unlock(oc->fc, hex);
	return (dfs_stat)-rc;
}
