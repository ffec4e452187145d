/*
 * compound.h -- the COMPOUND loop all three programs share.
 *
 * Ops are evaluated in order and evaluation stops at the first op that
 * fails; the reply holds the results up to and including it (RFC 7530
 * section 14.2: not a transaction).  A request with more than DFS_MAXOPS
 * ops is answered DFS_ERR_RESOURCE with no results.
 *
 * Each program supplies run_one(), which looks the op up in its own
 * const table (slot 0 ILLEGAL; out-of-range codes map to it), sets the
 * result's op, and returns the handler's status; compound_run() stores
 * that status in the result, so handlers only fill their success body.
 */
#ifndef DFS_COMPOUND_H
#define DFS_COMPOUND_H

#include <stddef.h>
#include <rpc/rpc.h>

#include "dfs_types.h"

struct compound {
	const char	*prog;		/* "name", "lock", "file": for logs */
	size_t		 argsz;		/* sizeof(name_argop) */
	size_t		 ressz;		/* sizeof(name_resop) */
	size_t		 resu_off;	/* offsetof(name_resop, name_resop_u) */
	/* Returns the op's status; `res` is zeroed on entry. */
	dfs_stat	(*run_one)(void *ctx, const void *argop, void *resop);
	/* Returns the op's name, for logs. */
	const char	*(*opname)(const void *argop);
};

/*
 * Evaluates `nops` ops at `ops`.  Stores a calloc(3)ed array of results in
 * *res and their number in *nres (xdr_free of the reply releases it).
 * Returns the status of the last op evaluated: DFS_OK when all succeeded.
 * Never fails itself: out of memory is DFS_ERR_RESOURCE with no results.
 */
dfs_stat	compound_run(const struct compound *c, void *ctx,
		    const void *ops, u_int nops, void **res, u_int *nres);

#endif
