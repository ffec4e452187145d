/*
 * compound.c -- the FILE program's op table and COMPOUND entry point.
 *
 * Only the table and the entry point live here: the evaluator is lib/
 * compound.c, each op is in its own op_<name>.c.  The per-COMPOUND
 * context carries the stage made by the last STAGE, which stage id 0 in
 * WRITE, COMMIT and ABORT means.  The loop counts every op, and the bytes
 * the OPF_DATA ops (READ, WRITE, PUT) move, in the
 * counters all connection processes share (filed_ctx); STATS returns
 * them.
 */
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <rpc/rpc.h>

#include "dispatch.h"
#include "compound.h"
#include "filed.h"
#include "svcloop.h"

COMPOUND_TABLE(file);

static dfs_stat	op_stats(struct op_ctx *, const file_argop *, file_resop *);

static const struct op_desc optab[] = {
	[FOP_ILLEGAL] = OP("ILLEGAL", NULL,	  0),
	[FOP_READ]    = OP("READ",    op_read,	  OPF_DATA),
	[FOP_STAGE]   = OP("STAGE",   op_stage,	  0),
	[FOP_WRITE]   = OP("WRITE",   op_write,	  OPF_DATA),
	[FOP_COMMIT]  = OP("COMMIT",  op_commit,  0),
	[FOP_GETATTR] = OP("GETATTR", op_getattr, 0),
	[FOP_REMOVE]  = OP("REMOVE",  op_remove,  0),
	[FOP_ABORT]   = OP("ABORT",   op_abort,	  0),
	[FOP_STATS]   = OP("STATS",   op_stats,	  0),
	[FOP_SETSIZE] = OP("SETSIZE", op_setsize, 0),
	[FOP_PUT]     = OP("PUT",     op_put,	  OPF_DATA),
};

#define NOPS	(sizeof(optab) / sizeof(optab[0]))
_Static_assert(NOPS * sizeof(struct op_counter) <= FILED_COUNTERS_SIZE,
    "the shared counters and one STATS reply hold every op");

/* The daemon's context, set once in main(). */
static struct filed_ctx	*the_ctx;

/* Returns the file data a successful OPF_DATA op moved: READ's, WRITE's,
 * PUT's (of its files committed). */
static uint64_t
opbytes(const void *argop, const void *resop)
{
	const file_argop	*a = argop;
	const file_resop	*r = resop;
	const put_res		*pr = &r->file_resop_u.put;
	uint64_t		 n = 0;
	u_int			 i;

	switch (r->op) {
	case FOP_READ:
		return r->file_resop_u.read.read_res_u.ok.data.data_len;
	case FOP_WRITE:
		return r->file_resop_u.write.write_res_u.count;
	case FOP_PUT:
		for (i = 0; i < pr->put_res_u.files.files_len; i++)
			if (pr->put_res_u.files.files_val[i].status == DFS_OK)
				n += a->file_argop_u.put.files.files_val[i].
				    data.data_len;
		return n;
	default:
		return 0;
	}
}

static const struct compound file_compound = {
	COMPOUND_PROG(file, optab),
	.opbytes = opbytes,
};

/*
 * STATS
 *
 * Returns every op's counter (name, calls, bytes) since the server
 * started, summed over all its connection processes, in op code order,
 * this STATS included; bytes are the file data READ returned and WRITE
 * wrote.  Changes nothing.  Errors: NOMEM.
 */
static dfs_stat
op_stats(struct op_ctx *oc, const file_argop *a, file_resop *r)
{
	(void)a;
	return compound_stats(&file_compound, oc->cs.counters,
	    &r->file_resop_u.stats);
}

void
filed_set_ctx(struct filed_ctx *fc)
{
	the_ctx = fc;
}

void
filed_deadline(struct filed_ctx *fc, int on)
{
	if (fc->deadline != NULL)
		__atomic_store_n(fc->deadline, on ? now_ms() + fc->request_ms :
		    0, __ATOMIC_RELAXED);
}

/* filed_compound(); with `zc`, a READ may leave its bytes in the file
 * (oc->rfd). */
static void
run(struct op_ctx *oc, struct filed_ctx *fc, const file_compound_args *args,
    file_compound_res *res, int zc)
{
	void	*out;

	memset(oc, 0, sizeof(*oc));
	oc->fc = fc;
	oc->zc = zc;
	oc->rfd = -1;
	oc->cs.counters = fc->counters;
	memset(res, 0, sizeof(*res));
	res->status = compound_run(&file_compound, oc, &oc->cs,
	    args->ops.ops_val, args->ops.ops_len, &out, &res->res.res_len);
	res->res.res_val = out;
}

void
filed_compound(struct filed_ctx *fc, const file_compound_args *args,
    file_compound_res *res)
{
	struct op_ctx	oc;

	run(&oc, fc, args, res, 0);
}

/*
 * Evaluates a COMPOUND and replies.  A lone READ on a connection
 * sendread.c serves is answered from the file with sendfile(2) (then
 * FALSE: the reply is sent); anything else goes through libtirpc.
 */
bool_t
file_compound_1_svc(file_compound_args *args, file_compound_res *res,
    struct svc_req *rq)
{
	struct op_ctx	oc;
	int		zc;

	zc = args->ops.ops_len == 1 && args->ops.ops_val[0].op == FOP_READ &&
	    sendread_ok(rq->rq_xprt);
	/* ORDER: the ops' time is the disk's and the name server's, which
	 * have timeouts of their own; the reply's is the client's */
	filed_deadline(the_ctx, 0);
	run(&oc, the_ctx, args, res, zc);
	filed_deadline(the_ctx, 1);
	if (oc.rfd == -1)
		return TRUE;
	sendread(rq->rq_xprt, res, oc.rfd, oc.roff);
	close(oc.rfd);
	return FALSE;
}

static bool_t
compound(void *args, void *res, struct svc_req *rq)
{
	return file_compound_1_svc(args, res, rq);
}

static const struct svc_prog file_prog = {
	(xdrproc_t)xdr_file_compound_args_bounded,
	(xdrproc_t)xdr_file_compound_res,
	compound,
};

/* The service's dispatcher (lib/dispatch.c), for daemon_listen(). */
void
dfs_file_prog_1(struct svc_req *rq, SVCXPRT *xprt)
{
	svc_dispatch(rq, xprt, &file_prog);
}
