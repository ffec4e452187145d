/*
 * op_abort.c -- FOP_ABORT: drop a stage.
 */
#include <errno.h>
#include <unistd.h>

#include "filed.h"

/*
 * ABORT(fh, stage)
 *
 * Unlinks the stage (id 0: the one the last STAGE of this COMPOUND
 * made).  Committed versions are untouched.  Errors: BADHANDLE, INVAL
 * (stage 0 and no STAGE before), STALE (no such stage of this file), IO.
 */
dfs_stat
op_abort(struct op_ctx *oc, const file_argop *a, file_resop *r)
{
	const stageref	*sr = &a->file_argop_u.abort;
	char		 hex[FH_HEXLEN + 1];
	uint64_t	 id;
	int		 rc;

	(void)r;
	if ((rc = store_fh(&sr->fh, hex)) != 0 ||
	    (rc = store_stage_id(oc, sr->stage, &id)) != 0 ||
	    (rc = store_stage_drop(oc->fc, hex, id)) != 0)
		return (dfs_stat)-rc;
	if (id == oc->stage)
		oc->stage = 0;
	return DFS_OK;
}
