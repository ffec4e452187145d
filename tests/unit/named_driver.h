/*
 * named_driver.h -- what the dfs-named unit tests use to build and run a
 * NAME COMPOUND against name_compound_1_svc() without RPC: B() starts
 * one, add() appends an op, go() runs it; the reply is R.  Included by
 * one test file each (static state, one COMPOUND at a time).
 */
#ifndef DFS_NAMED_DRIVER_H
#define DFS_NAMED_DRIVER_H

#include <string.h>

#include <CUnit/Basic.h>

#include "../../server/name/named.h"

static name_argop		ops[DFS_XDR_MAXOPS];
static u_int			nops;
static name_compound_res	R;

/* Starts a new COMPOUND, releasing the last reply. */
static void
B(void)
{
	xdr_free((xdrproc_t)xdr_name_compound_res, (char *)&R);
	memset(&R, 0, sizeof(R));
	memset(ops, 0, sizeof(ops));
	nops = 0;
}

static name_argop *
add(name_opnum op)
{
	ops[nops].op = op;
	return &ops[nops++];
}

/* Runs the ops added since B(); returns the COMPOUND's status. */
static dfs_stat
go(void)
{
	name_compound_args	args;

	args.ops.ops_len = nops;
	args.ops.ops_val = ops;
	CU_ASSERT(name_compound_1_svc(&args, &R, NULL) == TRUE);
	return R.status;
}

#endif
