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
 *
 * Counters (the STATS op, like nfsstat): a program that sets `counters`
 * gets one struct op_counter per slot of its op table, in memory it owns
 * and indexes by slot (= op code; slot 0 counts unknown codes).  Before
 * an op runs, compound_run() adds one to its slot's calls, so a STATS
 * reply includes itself; after a successful op it adds what `opbytes`
 * says the op moved (file data: READ and WRITE on a file server).
 * Updates are relaxed atomic adds, so the counters may live in memory
 * several processes share (dfs-filed's MAP_SHARED mapping); STATS reads
 * them with atomic loads, each value exact, the set not one snapshot.
 */
#ifndef DFS_COMPOUND_H
#define DFS_COMPOUND_H

#include <stddef.h>
#include <stdint.h>
#include <rpc/rpc.h>

#include "dfs_types.h"

/* One op's counts since the daemon started. */
struct op_counter {
	uint64_t	calls;		/* evaluated, failed ones too */
	uint64_t	bytes;		/* file data moved */
};

struct compound {
	const char	*prog;		/* "name", "lock", "file": for logs */
	size_t		 argsz;		/* sizeof(name_argop) */
	size_t		 ressz;		/* sizeof(name_resop) */
	size_t		 resu_off;	/* offsetof(name_resop, name_resop_u) */
	/* Returns the op's status; `res` is zeroed on entry. */
	dfs_stat	(*run_one)(void *ctx, const void *argop, void *resop);
	/* Returns the op's name, for logs. */
	const char	*(*opname)(const void *argop);

	/* Counting: all NULL/0 for none. */
	u_int		 nslots;	/* op table size, <= DFS_MAXCOUNTERS */
	/* Returns the op's table slot: its code, 0 for unknown codes. */
	u_int		(*slot)(const void *argop);
	/* Returns the slot's op name, NULL for an unused slot. */
	const char	*(*slotname)(u_int slot);
	/* Returns ctx's nslots counters, or NULL: do not count. */
	struct op_counter *(*counters)(void *ctx);
	/* Returns the file data bytes a successful op moved; NULL: 0. */
	uint64_t	(*opbytes)(const void *argop, const void *resop);
};

/*
 * Evaluates `nops` ops at `ops`.  Stores a calloc(3)ed array of results in
 * *res and their number in *nres (xdr_free of the reply releases it).
 * Returns the status of the last op evaluated: DFS_OK when all succeeded.
 * Never fails itself: out of memory is DFS_ERR_RESOURCE with no results.
 */
dfs_stat	compound_run(const struct compound *c, void *ctx,
		    const void *ops, u_int nops, void **res, u_int *nres);

/*
 * The STATS op's body: fills `res` with every used slot's counter but
 * ILLEGAL's (name, calls, bytes), in table order, never-called ops
 * included.  The names are malloc(3)ed (xdr_free of the reply releases
 * them).  Returns DFS_OK or DFS_ERR_NOMEM (res then holds nothing).
 */
dfs_stat	compound_stats(const struct compound *c, void *ctx,
		    stats_res *res);

#endif
