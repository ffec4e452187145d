/*
 * compound.h -- the COMPOUND evaluator all three daemons share: the op
 * table's shape, the op flags and what the evaluator does for each.
 *
 * Ops are evaluated in order and evaluation stops at the first op that
 * fails; the reply holds the results up to and including it (RFC 7530
 * section 14.2: not a transaction).  A request with more than DFS_MAXOPS
 * ops is answered DFS_ERR_RESOURCE with no results.
 *
 * Each daemon supplies only its op table (struct op_desc, indexed by op
 * code: COMPOUND_TABLE), a struct compound naming it, and a per-COMPOUND
 * context, its own `struct op_ctx`, which holds a struct compound_state
 * and is what every handler gets.  For each op, compound_run():
 *
 *   1. finds its table slot: its code, or 0 (ILLEGAL) for a code the
 *      table does not name; an ILLEGAL op is answered OP_ILLEGAL (slot
 *      0's handler is never called) and sets the result's op to 0;
 *   2. counts the call (below), so a STATS reply includes itself;
 *   3. runs the program's check() of the op and its flags (dfs-named: a
 *      current object for OPF_NEED_FH);
 *   4. for OPF_MUTATES, reserves disk room in the context's store for
 *      what the op may append (kv_reserve), so a full disk refuses the
 *      op instead of failing its commit;
 *   5. calls the handler, and stores its status in the result, so a
 *      handler only fills its success (or denial) body.
 *
 * Adding a COMPOUND op is one case in the program's .x file (its code
 * and its argument and result arms), one line in the table in the
 * daemon's compound.c, `[OP_FOO] = OP("FOO", op_foo, flags),`, and one
 * handler file, server/<daemon>/op_foo.c, with its prototype in the
 * daemon's header.  The counters, STATS, the logs and the generic checks
 * all come from the table.  Only code that must know an arm's type names
 * op codes besides: dfs-filed's decoder (fargs.c bounds file data before
 * allocating it, so it lists every arm: a FILE op with arguments needs
 * its line there too) and its opbytes() for an OPF_DATA op;
 * dfs-named's locks_ahead() (locks.c) for the ops whose locks it asks
 * ahead, an optimization that stops at an op it does not know.
 *
 * Counters (the STATS op, like nfsstat): a context whose state has
 * `counters` gets one struct op_counter per slot of its op table, in
 * memory it owns and indexes by slot (= op code; slot 0 counts unknown
 * codes).  Before an op runs, compound_run() adds one to its slot's
 * calls; after a successful OPF_DATA op it adds the file data the op
 * moved (opbytes()).  Updates are relaxed atomic adds, so the counters
 * may live in memory several processes share (dfs-filed's MAP_SHARED
 * mapping); STATS reads them with atomic loads, each value exact, the
 * set not one snapshot.
 */
#ifndef DFS_COMPOUND_H
#define DFS_COMPOUND_H

#include <stddef.h>
#include <stdint.h>
#include <rpc/rpc.h>

#include "dfs_types.h"
#include "dispatch.h"

struct kv;
struct op_ctx;		/* each daemon's own: named.h, lockd.h, filed.h */

/*
 * Op flags: what the evaluator does around an op.
 */
/* Needs a current object: else NOFILEHANDLE (dfs-named's check()). */
#define OPF_NEED_FH	0x01
/* May change the store: disk room is reserved before it runs, twice
 * struct compound's `room` (what it may append, and the checkpoint's
 * share); an op without it must leave the store as it found it. */
#define OPF_MUTATES	0x02
/* With OPF_MUTATES: may use the last of the reserve, `room` once (a
 * server's REGISTER on a full disk). */
#define OPF_LASTROOM	0x04
/* With OPF_MUTATES: a small change that must go on when the checkpoint's
 * reserve cannot be had (UNLOCK, TEST): `logroom` in the log only. */
#define OPF_LOGROOM	0x08
/* May wait for other clients (LOCK), and does only as the last op of
 * its COMPOUND: compound_state's may_wait says so. */
#define OPF_MAY_WAIT	0x10
/* Moves file data (READ, WRITE, PUT): its bytes are counted. */
#define OPF_DATA	0x20

/* One op's counts since the daemon started. */
struct op_counter {
	uint64_t	calls;		/* evaluated, failed ones too */
	uint64_t	bytes;		/* file data moved */
};

/* What the evaluator reads of an op, whatever the program. */
struct op_info {
	const char	*name;		/* NULL: no such op (ILLEGAL) */
	unsigned int	 flags;		/* OPF_* */
};

/*
 * COMPOUND_TABLE(pfx) declares, in a daemon's compound.c, what its op
 * table needs, for the program whose rpcgen types are pfx_argop,
 * pfx_resop, pfx_compound_args and pfx_compound_res (pfx: name, lock,
 * file):
 *
 *  - `struct op_desc`, one entry of the table: the op's name and flags,
 *    then its handler, typed for the program's ops.  A handler returns
 *    the op's status and fills the result's body (zeroed on entry).
 *    Tables are written with OP(): `[OP_LOOKUP] = OP("LOOKUP",
 *    op_lookup, OPF_NEED_FH),`; slot 0 is `OP("ILLEGAL", NULL, 0)`.
 *  - op_call(), for struct compound's `call`: the one line that knows
 *    the handler's type, which lib/compound.c cannot (a call through a
 *    pointer of another function type would be undefined).
 *  - compile-time checks of what compound_run() assumes of the types:
 *    an argop and a resop start with their op code, an unsigned int's
 *    worth; a COMPOUND's arguments and result fit lib/dispatch.c's
 *    buffers (DISPATCH_MAXSZ).
 *
 * COMPOUND_PROG(pfx, tab) then fills the struct compound fields that
 * follow from the types and the table.
 */
#define COMPOUND_TABLE(pfx)						\
struct op_desc {							\
	struct op_info	 info;		/* ORDER: first (op_info()) */	\
	dfs_stat	(*fn)(struct op_ctx *, const pfx##_argop *,	\
			    pfx##_resop *);				\
};									\
static dfs_stat								\
op_call(const void *desc, struct op_ctx *oc, const void *argop,		\
    void *resop)							\
{									\
	return ((const struct op_desc *)desc)->fn(oc, argop, resop);	\
}									\
_Static_assert(offsetof(pfx##_argop, op) == 0 &&			\
    offsetof(pfx##_resop, op) == 0 &&					\
    sizeof(((pfx##_argop *)0)->op) == sizeof(u_int) &&			\
    sizeof(((pfx##_resop *)0)->op) == sizeof(u_int),			\
    "an op and its result start with the op code");			\
_Static_assert(sizeof(pfx##_compound_args) <= DISPATCH_MAXSZ &&		\
    sizeof(pfx##_compound_res) <= DISPATCH_MAXSZ,			\
    "a COMPOUND's args or result outgrew the dispatcher's buffer")

#define OP(name, fn, flags)	{ { (name), (flags) }, (fn) }

#define COMPOUND_PROG(pfx, tab)						\
	.prog = #pfx,							\
	.argsz = sizeof(pfx##_argop),					\
	.ressz = sizeof(pfx##_resop),					\
	.resu_off = offsetof(pfx##_resop, pfx##_resop_u),		\
	.optab = (tab),							\
	.descsz = sizeof((tab)[0]),					\
	.nops = sizeof(tab) / sizeof((tab)[0]),				\
	.call = op_call

/* A program: its table and what differs between programs. */
struct compound {
	const char	*prog;		/* "name", "lock", "file": for logs */
	size_t		 argsz;		/* sizeof(name_argop) */
	size_t		 ressz;		/* sizeof(name_resop) */
	size_t		 resu_off;	/* offsetof(name_resop, name_resop_u) */
	const void	*optab;		/* struct op_desc [nops] */
	size_t		 descsz;	/* sizeof(struct op_desc) */
	u_int		 nops;		/* <= DFS_MAXCOUNTERS */
	/* Calls desc's handler (op_call).  Returns its status. */
	dfs_stat	(*call)(const void *desc, struct op_ctx *oc,
			    const void *argop, void *resop);
	/* The program's own checks of op `argop` by its flags, before it
	 * runs (NULL: none).  Returns DFS_OK, or the status that refuses
	 * the op. */
	dfs_stat	(*check)(struct op_ctx *oc, const void *argop,
			    unsigned int flags);
	/* Returns the file data bytes a successful OPF_DATA op moved. */
	uint64_t	(*opbytes)(const void *argop, const void *resop);
	size_t		 room;		/* OPF_MUTATES: log bytes an op may
					   append, at most */
	size_t		 logroom;	/* OPF_LOGROOM: the same, small */
};

/* The evaluator's part of a per-COMPOUND context. */
struct compound_state {
	/* set by the daemon before compound_run() */
	struct op_counter *counters;	/* nops of them; NULL: none */
	struct kv	*kv;		/* OPF_MUTATES reserves here; NULL:
					   no store */
	/* set by compound_run() for each op it runs */
	u_int		 nops;		/* ops in the COMPOUND */
	u_int		 i;		/* the one running */
	int		 may_wait;	/* it is OPF_MAY_WAIT and the last */
};

/*
 * Evaluates `nops` ops at `ops` with the context `oc` (handlers get it)
 * whose evaluator state is `cs`.  Stores a calloc(3)ed array of results
 * in *res and their number in *nres (xdr_free of the reply releases it).
 * Returns the status of the last op evaluated: DFS_OK when all
 * succeeded.  Never fails itself: out of memory is DFS_ERR_RESOURCE with
 * no results.
 */
dfs_stat	compound_run(const struct compound *c, struct op_ctx *oc,
		    struct compound_state *cs, const void *ops, u_int nops,
		    void **res, u_int *nres);

/*
 * The STATS op's body: fills `res` with every named slot's counter in
 * `cnt` (c->nops of them, NULL: all zero) but ILLEGAL's (name, calls,
 * bytes), in table order, never-called ops included.  The names are
 * malloc(3)ed (xdr_free of the reply releases them).  Returns DFS_OK or
 * DFS_ERR_NOMEM (res then holds nothing).
 */
dfs_stat	compound_stats(const struct compound *c,
		    const struct op_counter *cnt, stats_res *res);

#endif
