/*
 * fargs.c -- the FILE COMPOUND's argument decoder, with file.x's bound on
 * the data of one COMPOUND.
 *
 * file.x allows at most DFS_MAXDATA bytes of file data in one COMPOUND,
 * but the generated decoder checks each WRITE's and each PUT entry's
 * data alone: a COMPOUND of 62 WRITEs of DFS_MAXDATA decoded into
 * 248 MiB.  libtirpc cannot stop it either: a connection served in
 * blocking mode (worker.c says why) reads a record's fragments as the
 * decoder asks for them and has no record size limit at all (the limit
 * daemon_listen() sets applies to non-blocking connections only).
 *
 * So the data is counted here, before it is allocated: every opaque of
 * file data takes its length from one budget of DFS_MAXDATA for the
 * whole COMPOUND, and a length beyond what is left fails the decode
 * (the client gets GARBAGE_ARGS) without reading or allocating it.
 * Every other part of a request is bounded by file.x's own limits
 * (handles, DFS_XDR_MAXOPS ops, DFS_MAXPUT files), so one request's
 * memory stays below DFS_MAXDATA plus a few hundred KiB.
 *
 * Arms without file data decode through rpcgen's routines; encoding and
 * freeing are rpcgen's.  The unit tests check that this decoder and
 * rpcgen's agree on every op.
 */
#include <stdlib.h>

#include <rpc/rpc.h>

#include "filed.h"

/* Bytes of file data the COMPOUND being decoded may still carry.  A
 * worker decodes one request at a time. */
static u_int	budget;

/* The arms without file data: rpcgen's decoders, by op (NULL: void). */
static const xdrproc_t	plain_arm[] = {
	[FOP_READ]	= (xdrproc_t)xdr_read_args,
	[FOP_STAGE]	= (xdrproc_t)xdr_stage_args,
	[FOP_COMMIT]	= (xdrproc_t)xdr_commit_file_args,
	[FOP_GETATTR]	= (xdrproc_t)xdr_dfs_fh,
	[FOP_REMOVE]	= (xdrproc_t)xdr_dfs_fh,
	[FOP_ABORT]	= (xdrproc_t)xdr_stageref,
	[FOP_SETSIZE]	= (xdrproc_t)xdr_setsize_args,
};

/*
 * Decodes an opaque of file data (xdr_bytes' wire form), taking its
 * length from the budget first.  Returns FALSE for a length beyond the
 * budget (nothing allocated), no memory or a short stream.
 */
static bool_t
data_bounded(XDR *x, char **val, u_int *len)
{
	if (!xdr_u_int(x, len) || *len > budget)
		return FALSE;
	budget -= *len;
	if (*len == 0)
		return TRUE;
	if ((*val = malloc(*len)) == NULL)
		return FALSE;
	return xdr_opaque(x, *val, *len);
}

static bool_t
write_bounded(XDR *x, write_args *w)
{
	return xdr_dfs_fh(x, &w->fh) && xdr_u_quad_t(x, &w->stage) &&
	    xdr_u_quad_t(x, &w->offset) &&
	    data_bounded(x, &w->data.data_val, &w->data.data_len);
}

static bool_t
put_entry_bounded(XDR *x, put_entry *e)
{
	return xdr_dfs_fh(x, &e->fh) && xdr_dfs_lockid(x, &e->lock) &&
	    xdr_u_quad_t(x, &e->base) &&
	    data_bounded(x, &e->data.data_val, &e->data.data_len);
}

/* One op, as xdr_file_argop() but with the data counted.  Returns
 * FALSE when it does not decode or the data is over budget. */
static bool_t
argop_bounded(XDR *x, file_argop *a)
{
	put_args	*p = &a->file_argop_u.put;
	xdrproc_t	 arm;

	if (!xdr_file_opnum(x, &a->op))
		return FALSE;
	switch (a->op) {
	case FOP_WRITE:
		return write_bounded(x, &a->file_argop_u.write);
	case FOP_PUT:
		return xdr_array(x, (char **)&p->files.files_val,
		    &p->files.files_len, DFS_MAXPUT, sizeof(put_entry),
		    (xdrproc_t)put_entry_bounded);
	default:
		if ((unsigned int)a->op >= sizeof(plain_arm) /
		    sizeof(plain_arm[0]) || (arm = plain_arm[a->op]) == NULL)
			return TRUE;
		return arm(x, &a->file_argop_u);
	}
}

bool_t
xdr_file_compound_args_bounded(XDR *x, file_compound_args *args)
{
	if (x->x_op != XDR_DECODE)
		return xdr_file_compound_args(x, args);
	budget = DFS_MAXDATA;
	return xdr_array(x, (char **)&args->ops.ops_val, &args->ops.ops_len,
	    DFS_XDR_MAXOPS, sizeof(file_argop), (xdrproc_t)argop_bounded);
}
