/*
 * compound.c -- the FILE program's op table and COMPOUND entry point.
 *
 * Only the table and the glue to lib/compound.c live here; each op is in
 * its own op_<name>.c.  The per-COMPOUND context carries the stage made
 * by the last STAGE, which stage id 0 in WRITE, COMMIT and ABORT means.
 * The loop counts every op, and the bytes READ and WRITE move, in the
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

struct op_desc {
	const char	*name;
	dfs_stat	(*fn)(struct op_ctx *, const file_argop *,
			    file_resop *);
};

/* Returns DFS_ERR_OP_ILLEGAL: the op code is not one we know. */
static dfs_stat
op_illegal(struct op_ctx *oc, const file_argop *a, file_resop *r)
{
	(void)oc;
	(void)a;
	(void)r;
	return DFS_ERR_OP_ILLEGAL;
}

static dfs_stat	op_stats(struct op_ctx *, const file_argop *, file_resop *);

static const struct op_desc optab[] = {
	[FOP_ILLEGAL] = { "ILLEGAL", op_illegal },
	[FOP_READ]    = { "READ",    op_read },
	[FOP_STAGE]   = { "STAGE",   op_stage },
	[FOP_WRITE]   = { "WRITE",   op_write },
	[FOP_COMMIT]  = { "COMMIT",  op_commit },
	[FOP_GETATTR] = { "GETATTR", op_getattr },
	[FOP_REMOVE]  = { "REMOVE",  op_remove },
	[FOP_ABORT]   = { "ABORT",   op_abort },
	[FOP_STATS]   = { "STATS",   op_stats },
	[FOP_SETSIZE] = { "SETSIZE", op_setsize },
	[FOP_PUT]     = { "PUT",     op_put },
};

#define NOPS	(sizeof(optab) / sizeof(optab[0]))
_Static_assert(NOPS * sizeof(struct op_counter) <= FILED_COUNTERS_SIZE,
    "the shared counters and one STATS reply hold every op");

/* The daemon's context, set once in main(). */
static struct filed_ctx	*the_ctx;

/* Returns the table entry for an op code; unknown codes map to slot 0. */
static const struct op_desc *
lookup(const file_argop *a)
{
	if ((unsigned int)a->op >= NOPS || optab[a->op].fn == NULL)
		return &optab[FOP_ILLEGAL];
	return &optab[a->op];
}

/* Runs one op.  Returns its status. */
static dfs_stat
run_one(void *ctx, const void *argop, void *resop)
{
	const file_argop	*a = argop;
	file_resop		*r = resop;
	const struct op_desc	*d = lookup(a);

	/* FOP_ILLEGAL selects the reply's default arm */
	r->op = d == &optab[FOP_ILLEGAL] ? FOP_ILLEGAL : a->op;
	return d->fn(ctx, a, r);
}

/* Returns the op's name, for logs. */
static const char *
opname(const void *argop)
{
	return lookup(argop)->name;
}

/* Returns the op's table slot (0 for unknown codes). */
static u_int
slot(const void *argop)
{
	return (u_int)(lookup(argop) - optab);
}

/* Returns the name in a slot, NULL if unused. */
static const char *
slotname(u_int i)
{
	return i < NOPS ? optab[i].name : NULL;
}

/* Returns the server's shared op counters (NULL: none). */
static struct op_counter *
counters(void *ctx)
{
	return ((struct op_ctx *)ctx)->fc->counters;
}

/* Returns the file data a successful READ, WRITE or PUT (its files
 * committed) moved, else 0. */
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
	.prog = "file",
	.argsz = sizeof(file_argop),
	.ressz = sizeof(file_resop),
	.resu_off = offsetof(file_resop, file_resop_u),
	.run_one = run_one,
	.opname = opname,
	.nslots = NOPS,
	.slot = slot,
	.slotname = slotname,
	.counters = counters,
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
	return compound_stats(&file_compound, oc, &r->file_resop_u.stats);
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
	memset(res, 0, sizeof(*res));
	res->status = compound_run(&file_compound, oc, args->ops.ops_val,
	    args->ops.ops_len, &out, &res->res.res_len);
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

/* svc_dispatch() decodes into buffers of DISPATCH_MAXSZ bytes */
_Static_assert(sizeof(file_compound_args) <= DISPATCH_MAXSZ &&
    sizeof(file_compound_res) <= DISPATCH_MAXSZ,
    "a COMPOUND's args or result outgrew the dispatcher's buffer");

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
