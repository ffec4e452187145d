/*
 * request.c -- building and sending COMPOUNDs, op by op.
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "request.h"

name_argop *
name_req_add(struct name_req *r, name_opnum op)
{
	name_argop	*a = &r->ops[r->n++];

	memset(a, 0, sizeof(*a));
	a->op = op;
	return a;
}

file_argop *
file_req_add(struct file_req *r, file_opnum op)
{
	file_argop	*a = &r->ops[r->n++];

	memset(a, 0, sizeof(*a));
	a->op = op;
	return a;
}

lock_argop *
lock_req_add(struct lock_req *r, lock_opnum op)
{
	lock_argop	*a = &r->ops[r->n++];

	memset(a, 0, sizeof(*a));
	a->op = op;
	return a;
}

dfs_path
mkpath(const char *s)
{
	dfs_path	p;

	p.dfs_path_val = (char *)s;
	p.dfs_path_len = (u_int)strlen(s);
	return p;
}

dfs_name
mkname(const char *s)
{
	dfs_name	n;

	n.dfs_name_val = (char *)s;
	n.dfs_name_len = (u_int)strlen(s);
	return n;
}

void
name_req_lookup(struct name_req *r, const char *path)
{
	name_req_add(r, OP_LOOKUP)->name_argop_u.lookup = mkpath(path);
}

void
name_req_create(struct name_req *r, const char *name, int excl)
{
	create_args	*c = &name_req_add(r, OP_CREATE)->name_argop_u.create;

	c->name = mkname(name);
	c->mode = 0644;
	c->exclusive = excl;
}

void
name_req_mkdir(struct name_req *r, const char *name)
{
	mkdir_args	*m = &name_req_add(r, OP_MKDIR)->name_argop_u.mkdir;

	m->name = mkname(name);
	m->mode = 0755;
}

void
name_req_putfh(struct name_req *r, const dfs_fh *fh)
{
	name_req_add(r, OP_PUTFH)->name_argop_u.putfh = *fh;
}

void
fh_copy(dfs_fh *dst, const dfs_fh *src)
{
	dst->dfs_fh_len = src->dfs_fh_len;
	dst->dfs_fh_val = malloc(src->dfs_fh_len ? src->dfs_fh_len : 1);
	memcpy(dst->dfs_fh_val, src->dfs_fh_val, src->dfs_fh_len);
}

/* The COMPOUND of any program: res zeroed, then one call, framed by
 * rawrpc.c (a server that falls silent is known in seconds). */
static enum clnt_stat
compound_call(CLIENT *c, rpcproc_t proc, xdrproc_t xargs, void *args,
    xdrproc_t xres, void *res, size_t ressize)
{
	memset(res, 0, ressize);
	return raw_call(c, proc, xargs, args, xres, res, NULL);
}

enum clnt_stat
name_call(CLIENT *c, struct name_req *r, name_compound_res *res)
{
	name_compound_args	args = { { r->n, r->ops } };

	return compound_call(c, NAME_COMPOUND,
	    (xdrproc_t)xdr_name_compound_args, &args,
	    (xdrproc_t)xdr_name_compound_res, res, sizeof(*res));
}

enum clnt_stat
file_call(CLIENT *c, struct file_req *r, file_compound_res *res)
{
	file_compound_args	args = { { r->n, r->ops } };

	return compound_call(c, FILE_COMPOUND,
	    (xdrproc_t)xdr_file_compound_args, &args,
	    (xdrproc_t)xdr_file_compound_res, res, sizeof(*res));
}

enum clnt_stat
lock_call(CLIENT *c, struct lock_req *r, lock_compound_res *res)
{
	lock_compound_args	args = { { r->n, r->ops } };

	return compound_call(c, LOCK_COMPOUND,
	    (xdrproc_t)xdr_lock_compound_args, &args,
	    (xdrproc_t)xdr_lock_compound_res, res, sizeof(*res));
}
